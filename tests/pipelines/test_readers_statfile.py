"""SPSS/Stata reader: values as canonical text, codebook from metadata, strict and located decoding, mojibake guard.

Fixtures are real files written by pyreadstat (and pandas for a Stata ``float``). pyreadstat writes UTF-8
only, so Windows-1256 and Windows-1252 files are made by writing ASCII placeholders of the same byte length
and replacing their bytes in the written file (each placeholder must occur exactly once).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyreadstat
import pytest

from pipelines.readers.delimited import FileReadError
from pipelines.readers.statfile import read_statfile
from pipelines.readers.text import check_not_mojibake
from pipelines.readers.xlsform import Question

BASRA, NINAWA, GOVERNORATE, YES_AR, NO_AR = "البصرة", "نينوى", "المحافظة", "نعم", "لا"


def _patch(path: Path, replacements: dict[str, bytes]) -> None:
    """Replace each ASCII placeholder's bytes in the file by bytes of the same length, once each."""
    data = path.read_bytes()
    for placeholder, new in replacements.items():
        old = placeholder.encode("ascii")
        assert len(old) == len(new), placeholder
        assert data.count(old) == 1, f"{placeholder} occurs {data.count(old)} times"
        data = data.replace(old, new)
    path.write_bytes(data)


def _ph(letter: str, text: str, encoding: str) -> tuple[str, bytes]:
    """An ASCII placeholder as long as ``text`` encoded, and those bytes."""
    raw = text.encode(encoding)
    return letter * len(raw), raw


# --- SPSS: values, codebook ---------------------------------------------------------------------------


@pytest.fixture
def survey_sav(tmp_path) -> Path:
    df = pd.DataFrame({
        "id": ["00123", "04567", "00009"],
        "gov": [1.0, 99.0, np.nan],
        "hh_size": [3.0, 98.0, 97.0],
        "spend": [250.0, -9.0, np.nan],
        "income": [0.1, 1.5e-05, 1250.0],
        "sex": ["m", "f", ""],
        "ref": [123.0, 45.0, 6.0],
        "visit": [dt.date(2024, 3, 1), None, dt.date(1999, 12, 31)],
        "ts": [dt.datetime(2024, 3, 1, 9, 30, 15), dt.datetime(2024, 3, 1, 9, 30, 15, 500000), None],
        "dur": [dt.time(8, 5, 0), None, dt.time(23, 59, 59)],
        "name_ar": ["بغداد", "  ", "أربيل"],
    })
    path = tmp_path / "wave3.sav"
    pyreadstat.write_sav(
        df, str(path), file_label="Wave 3",
        column_labels={"gov": "Governorate", "hh_size": "Household size", "name_ar": "اسم المحافظة"},
        variable_value_labels={
            "gov": {1: "Baghdad", 2: "Basra", 99: "Don't know"},
            "spend": {-9: "Refused"},
            "sex": {"m": "Male", "f": "Female"},
        },
        missing_ranges={"gov": [99], "hh_size": [{"lo": 97, "hi": 99}, -9], "spend": [-9]},
        variable_format={"gov": "F8.0", "hh_size": "F8.0", "spend": "F8.0", "income": "F10.2", "ref": "N5"},
    )
    return path


def test_sav_values_are_canonical_text(survey_sav):
    f = read_statfile(survey_sav)
    assert f.encoding == "utf-8"  # pyreadstat's files declare UTF-8
    assert f.file_label == "Wave 3"
    assert f.frame.columns == ["id", "gov", "hh_size", "spend", "income", "sex", "ref", "visit", "ts", "dur", "name_ar"]
    assert set(f.frame.schema.values()) == {pl.String}
    assert f.frame.rows() == [
        ("00123", "1", "3", "250", "0.1", "m", "00123", "2024-03-01", "2024-03-01T09:30:15", "08:05:00", "بغداد"),
        ("04567", "99", "98", "-9", "1.5e-05", "f", "00045", None, "2024-03-01T09:30:15.5", None, None),
        ("00009", None, "97", None, "1250", None, "00006", "1999-12-31", None, "23:59:59", "أربيل"),
    ]


def test_sav_codebook_types_labels_choices_and_missing_codes(survey_sav):
    form = read_statfile(survey_sav).codebook
    assert form.path == survey_sav
    q = form.questions
    assert list(q) == ["id", "gov", "hh_size", "spend", "income", "sex", "ref", "visit", "ts", "dur", "name_ar"]
    assert q["gov"] == Question("gov", "select_one", "labels0", "Governorate", None, None, ("99",))
    # a range (97 THRU 99) lists the values the file holds in it, then the discrete value
    assert q["hh_size"] == Question("hh_size", "integer", None, "Household size", None, None, ("97", "98", "-9"))
    # labels only on a missing code: stays an integer, keeps its labels
    assert q["spend"] == Question("spend", "integer", "labels1", None, None, None, ("-9",))
    assert q["sex"] == Question("sex", "select_one", "labels2", None, None, None, ())
    assert [(n, q[n].type) for n in ("id", "income", "ref", "visit", "ts", "dur", "name_ar")] == [
        ("id", "text"), ("income", "decimal"), ("ref", "integer"), ("visit", "date"), ("ts", "datetime"),
        ("dur", "time"), ("name_ar", "text"),
    ]
    assert q["name_ar"].label_en == "اسم المحافظة" and q["name_ar"].label_ar is None
    assert form.choices == {
        "labels0": {"1": ("Baghdad", None), "2": ("Basra", None), "99": ("Don't know", None)},
        "labels1": {"-9": ("Refused", None)},
        "labels2": {"m": ("Male", None), "f": ("Female", None)},
    }
    assert form.choice_codes("gov") == ["1", "2", "99"]


def test_sav_labels_in_the_arabic_slot(survey_sav):
    form = read_statfile(survey_sav, label_language="ar").codebook
    assert (form.questions["gov"].label_en, form.questions["gov"].label_ar) == (None, "Governorate")
    assert form.choices["labels0"]["99"] == (None, "Don't know")


def test_zsav_reads_like_sav(tmp_path):
    df = pd.DataFrame({"id": ["007", "010"], "n": [1.0, 2.5]})
    path = tmp_path / "wave.zsav"
    pyreadstat.write_sav(df, str(path), compress=True)
    f = read_statfile(path)
    assert f.frame.rows() == [("007", "1"), ("010", "2.5")]
    assert f.size_bytes == len(path.read_bytes())
    assert f.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


# --- Stata: values, codebook ---------------------------------------------------------------------------


@pytest.fixture
def survey_dta(tmp_path) -> Path:
    df = pd.DataFrame({
        "id": ["00123", "04567", "00009"],
        "gov": pd.Series([1, "a", 2], dtype=object),  # "a": Stata's extended missing .a
        "age": [34.0, np.nan, -3.0],
        "income": [0.1, 1.5e-05, 1250.0],
        "visit": [dt.date(2024, 3, 1), None, dt.date(1999, 12, 31)],
        "ts": [dt.datetime(2024, 3, 1, 9, 30, 15, 123000), dt.datetime(2024, 3, 1, 9, 30, 15), None],
        "month": [770.0, 0.0, np.nan],  # %tm: months since 1960m1
        "name_ar": ["بغداد", "", "أربيل"],
    })
    path = tmp_path / "wave3.dta"
    pyreadstat.write_dta(
        df, str(path), file_label="Wave 3",
        column_labels={"gov": "Governorate", "name_ar": "اسم المحافظة"},
        variable_value_labels={"gov": {1: "Baghdad", 2: "Basra", "a": "Don't know"}},
        missing_user_values={"gov": ["a"]},
        variable_format={"age": "%9.0f", "month": "%tm"},
    )
    return path


def test_dta_values_are_canonical_text(survey_dta):
    f = read_statfile(survey_dta)
    assert f.encoding == "utf-8"  # dta 118+ is UTF-8
    assert f.file_label == "Wave 3"
    assert f.frame.rows() == [
        ("00123", "1", "34", "0.1", "2024-03-01", "2024-03-01T09:30:15.123", "2024-03-01", "بغداد"),
        ("04567", ".a", None, "1.5e-05", None, "2024-03-01T09:30:15", "1960-01-01", None),
        ("00009", "2", "-3", "1250", "1999-12-31", None, None, "أربيل"),
    ]


def test_dta_codebook(survey_dta):
    form = read_statfile(survey_dta, label_language="ar").codebook
    q = form.questions
    assert q["gov"] == Question("gov", "select_one", "gov0", None, "Governorate", None, (".a",))
    assert [(n, q[n].type) for n in q] == [
        ("id", "text"), ("gov", "select_one"),
        ("age", "integer"),  # double shown %9.0f
        ("income", "decimal"),  # double shown %10.0g: %g says nothing about decimals
        ("visit", "date"), ("ts", "datetime"), ("month", "date"), ("name_ar", "text"),
    ]
    assert q["name_ar"].label_ar == "اسم المحافظة" and q["name_ar"].label_en is None
    assert form.choices == {"gov0": {"1": (None, "Baghdad"), "2": (None, "Basra"), ".a": (None, "Don't know")}}


def test_dta_storage_types_decide_integer_and_float32_text(tmp_path):
    # pandas writes int8/int32 as byte/long and float32 as float (pyreadstat widens them)
    path = tmp_path / "pandas.dta"
    pd.DataFrame({
        "kids": np.array([0, 2, 11], dtype=np.int8),
        "share": np.array([0.1, 0.25, np.nan], dtype=np.float32),
        "big": np.array([7, 100000, -5], dtype=np.int32),
    }).to_stata(path, write_index=False, version=118)
    f = read_statfile(path)
    assert f.frame.rows() == [("0", "0.1", "7"), ("2", "0.25", "100000"), ("11", None, "-5")]
    assert [q.type for q in f.codebook.questions.values()] == ["integer", "decimal", "integer"]


# --- encodings ------------------------------------------------------------------------------------------


@pytest.fixture
def cp1256_sav(tmp_path) -> Path:
    """Arabic in Windows-1256: values in rows 2 and 3 of ``gov``, labels of ``yes``; the file declares UTF-8."""
    basra, ninawa = _ph("J", BASRA, "cp1256"), _ph("K", NINAWA, "cp1256")
    label, yes, no = _ph("W", GOVERNORATE, "cp1256"), _ph("Z", YES_AR, "cp1256"), _ph("V", NO_AR, "cp1256")
    df = pd.DataFrame({"id": ["00123", "00124", "00125"], "gov": ["Erbil", basra[0], ninawa[0]],
                       "yes": [1.0, 2.0, 1.0]})
    path = tmp_path / "arabic.sav"
    pyreadstat.write_sav(df, str(path), column_labels={"yes": label[0]},
                         variable_value_labels={"yes": {1: yes[0], 2: no[0]}}, variable_format={"yes": "F1.0"})
    _patch(path, dict([basra, ninawa, label, yes, no]))
    return path


def test_cp1256_declared_gives_the_arabic_text(cp1256_sav):
    f = read_statfile(cp1256_sav, encoding="cp1256", label_language="ar")
    assert f.encoding == "cp1256"
    assert f.frame.rows() == [("00123", "Erbil", "1"), ("00124", "البصرة", "2"), ("00125", "نينوى", "1")]
    assert f.codebook.questions["yes"] == Question("yes", "select_one", "labels0", None, "المحافظة", None, ())
    assert f.codebook.choices == {"labels0": {"1": (None, "نعم"), "2": (None, "لا")}}


def test_cp1256_read_as_declared_utf8_fails_with_variable_row_bytes_and_advice(cp1256_sav):
    with pytest.raises(FileReadError) as err:
        read_statfile(cp1256_sav)
    msg = str(err.value)
    assert msg.startswith("arabic.sav: variable 'gov', data row 2: bytes b'\\xc7\\xe1\\xc8\\xd5' are not valid utf-8")
    assert "(2 rows of this variable fail)" in msg
    offset = cp1256_sav.read_bytes().index(BASRA.encode("cp1256"))
    assert f"at byte offset {offset} of the file" in msg
    assert "encoding: cp1256" in msg


def test_cp1256_read_as_declared_utf8_also_fails_explicitly(cp1256_sav):
    with pytest.raises(FileReadError, match=r"variable 'gov', data row 2: .*not valid utf-8 \(the encoding declared"):
        read_statfile(cp1256_sav, encoding="utf-8")


def test_cp1256_read_as_cp1252_is_stopped_by_the_mojibake_guard(cp1256_sav):
    with pytest.raises(FileReadError) as err:
        read_statfile(cp1256_sav, encoding="cp1252")
    msg = str(err.value)
    assert msg.startswith("arabic.sav: variable 'gov', data row 2: text decoded as cp1252 is not what the file means")
    assert "'ÇáÈÕ'" in msg and "encoding: cp1256" in msg


def test_cp1256_labels_are_located(tmp_path):
    label, yes = _ph("W", GOVERNORATE, "cp1256"), _ph("Z", YES_AR, "cp1256")
    path = tmp_path / "labels.sav"
    pyreadstat.write_sav(pd.DataFrame({"yes": [1.0]}), str(path), column_labels={"yes": label[0]})
    _patch(path, dict([label]))
    with pytest.raises(FileReadError, match=r"^labels\.sav: the variable label of 'yes': bytes b'\\xc7\\xe1\\xe3\\xcd' "
                                            r"are not valid utf-8 .*at byte offset \d+ of the file.*encoding: cp1256"):
        read_statfile(path)
    path2 = tmp_path / "value_labels.sav"
    pyreadstat.write_sav(pd.DataFrame({"yes": [1.0]}), str(path2), variable_value_labels={"yes": {1: yes[0]}})
    _patch(path2, dict([yes]))
    with pytest.raises(FileReadError, match=r"^value_labels\.sav: the value label of code 1 in label set 'labels0': "
                                            r"bytes b'\\xe4\\xda\\xe3' are not valid utf-8"):
        read_statfile(path2)


def test_french_names_in_cp1252_pass_the_guard(tmp_path):
    names = ["François Dupré", "Zoë Ñúñez", "José Müller"]
    placeholders = [_ph(c, n, "cp1252") for c, n in zip("JKW", names)]
    path = tmp_path / "french.sav"
    pyreadstat.write_sav(pd.DataFrame({"name": [p[0] for p in placeholders]}), str(path))
    _patch(path, dict(placeholders))
    f = read_statfile(path, encoding="cp1252")
    assert f.frame["name"].to_list() == ["François Dupré", "Zoë Ñúñez", "José Müller"]
    with pytest.raises(FileReadError, match=r"variable 'name', data row 1: bytes b'\\xe7ois' are not valid utf-8"):
        read_statfile(path)  # the file still declares UTF-8


def test_dta_cp1256_in_a_utf8_release_and_in_an_undeclared_old_release(tmp_path):
    for version, release in ((15, "utf-8"), (13, None)):
        basra = _ph("J", BASRA, "cp1256")
        path = tmp_path / f"v{version}.dta"
        pyreadstat.write_dta(pd.DataFrame({"id": ["1", "2"], "gov": ["Erbil", basra[0]]}), str(path), version=version)
        _patch(path, dict([basra]))
        with pytest.raises(FileReadError) as err:
            read_statfile(path)
        msg = str(err.value)
        assert msg.startswith(f"v{version}.dta: variable 'gov', data row 2: bytes b'\\xc7\\xe1\\xc8\\xd5' are not valid")
        assert "encoding: cp1256" in msg
        if release is None:
            assert "not valid ascii (a Stata dta 117 file, from before Stata 14 made files UTF-8, declares no encoding" in msg
        assert read_statfile(path, encoding="cp1256").frame["gov"].to_list() == ["Erbil", "البصرة"]


def test_stata_strl_that_is_not_utf8_is_located(tmp_path):
    # pyreadstat decodes strL (long string) values as UTF-8 whatever the encoding: say so, with the place
    basra = _ph("J", BASRA, "cp1256")
    path = tmp_path / "strl.dta"
    pyreadstat.write_dta(pd.DataFrame({"n": [1.0, 2.0], "note": ["x" * 3000, basra[0]]}), str(path))
    _patch(path, dict([basra]))
    with pytest.raises(FileReadError, match=r"^strl\.dta: variable 'note', data row 2 \(a long string, Stata strL\), "
                                            r"at byte offset \d+ of the file: bytes b'\\xc7\\xe1\\xc8\\xd5' are not "
                                            r"valid UTF-8.*strL values as UTF-8"):
        read_statfile(path, encoding="cp1256")


def test_utf8_strl_is_read(tmp_path):
    path = tmp_path / "strl_ok.dta"
    pyreadstat.write_dta(pd.DataFrame({"note": ["x" * 3000, "البصرة"]}), str(path))
    assert read_statfile(path).frame["note"].to_list() == ["x" * 3000, "البصرة"]


# --- the mojibake guard on its own ----------------------------------------------------------------------


def test_guard_passes_real_names_in_latin_scripts_and_arabic():
    check_not_mojibake(
        ["François Dupré", "Müller", "Küçük", "Çağlar Işık", "São João", "Þórður", "Ñúñez", "żółć", None, "البصرة"],
        where="x.csv: column 'name'", encoding="cp1252",
    )
    check_not_mojibake(["Éric Gaël", "crème brûlée"], where="x.csv: column 'name'", encoding="utf-8")


@pytest.mark.parametrize(
    ("value", "encoding", "reason"),
    [
        ("ÇáÈÕÑÉ", "cp1252", "6-letter word made only of accented Latin letters"),  # البصرة via cp1252
        ("Basra Úáí", "iso8859-1", "3-letter word"),  # علي via Latin-1
        ("ÇáÈÕÑÉ", "utf-8", "garbled before it was saved as UTF-8"),  # already mojibake when saved
        ("Ø§Ù„Ø¨ØµØ±Ø©", "cp1252", "UTF-8 text read as cp1252"),  # UTF-8 البصرة via cp1252
        ("ط§ظ„ط¨طµط±ط©", "cp1256", "UTF-8 text read as cp1256"),  # UTF-8 البصرة via cp1256
        ("\x81abc", "iso8859-1", "control character U+0081"),
    ],
)
def test_guard_stops_mis_decoded_text_with_its_row(value, encoding, reason):
    with pytest.raises(FileReadError) as err:
        check_not_mojibake(["ok", None, value], where="x.csv: column 'gov'", encoding=encoding)
    assert str(err.value).startswith(f"x.csv: column 'gov', data row 3: text decoded as {encoding} is not")
    assert reason in str(err.value)


def test_guard_on_a_label_names_no_row():
    with pytest.raises(FileReadError, match=r"^f\.sav: the file label: text decoded as cp1252"):
        check_not_mojibake(["ÇáÈÕÑÉ"], where="f.sav: the file label", encoding="cp1252", first_row=None)


# --- unreadable files -----------------------------------------------------------------------------------


def test_wrong_extension(tmp_path):
    path = tmp_path / "wave3.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(FileReadError, match=r"^wave3\.csv: not an SPSS or Stata file \(extension '\.csv'"):
        read_statfile(path)


@pytest.mark.parametrize("name", ["garbage.sav", "garbage.zsav", "garbage.dta"])
def test_garbage_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"this is not a statistics file\x00\x01" * 20)
    with pytest.raises(FileReadError, match=rf"^{name.replace('.', r'[.]')}: cannot be read as an? (SPSS|Stata) file"):
        read_statfile(path)


def test_truncated_files(survey_sav, survey_dta, tmp_path):
    for good in (survey_sav, survey_dta):
        cut = tmp_path / f"cut{good.suffix}"
        cut.write_bytes(good.read_bytes()[: len(good.read_bytes()) * 2 // 3])
        with pytest.raises(FileReadError, match=rf"^cut\{good.suffix}: cannot be read as an? (SPSS|Stata) file"):
            read_statfile(cut)


def test_missing_file_and_unknown_encoding(tmp_path, survey_sav):
    with pytest.raises(FileReadError, match=r"^absent\.sav: file not found"):
        read_statfile(tmp_path / "absent.sav")
    with pytest.raises(FileReadError, match=r"^wave3\.sav: unknown encoding 'klingon'"):
        read_statfile(survey_sav, encoding="klingon")
    with pytest.raises(ValueError, match="label_language"):
        read_statfile(survey_sav, label_language="fr")
