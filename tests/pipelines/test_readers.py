"""Readers: strict decoding, delimiter and BOM handling, XLSForm typing, R-mangled Kobo headers."""

from __future__ import annotations


import pytest

from pipelines.readers.delimited import FileReadError, read_delimited
from pipelines.readers.xlsform import kobo_header_names, r_make_names, read_xlsform


def test_semicolon_bom_and_quoted_empty_cells(tmp_path):
    p = tmp_path / "kobo.csv"
    p.write_bytes(b'\xef\xbb\xbf"start";"q1";"q2"\r\n"2024-01-01";"";"a;b"\r\n')
    f = read_delimited(p)
    assert f.delimiter == ";" and f.had_bom
    assert f.frame.columns == ["start", "q1", "q2"]
    assert f.frame.row(0) == ("2024-01-01", None, "a;b")  # blank is NULL, a quoted ';' stays text


def test_values_stay_text_with_leading_zeros(tmp_path):
    p = tmp_path / "ids.csv"
    p.write_text("id,n\n007,1.50\n")
    assert read_delimited(p).frame.row(0) == ("007", "1.50")


def test_undeclared_encoding_fails_with_offset(tmp_path):
    p = tmp_path / "ar.csv"
    p.write_bytes("name\nبغداد\n".encode("cp1256"))
    with pytest.raises(FileReadError, match=r"offset 5 are not valid utf-8.*cp1256"):
        read_delimited(p)
    assert read_delimited(p, encoding="cp1256").frame.row(0) == ("بغداد",)


@pytest.mark.parametrize(
    ("content", "message"),
    [("a,a\n1,2\n", "duplicate column names"), ("a,,c\n1,2,3\n", "empty column name"), ("", "empty")],
)
def test_malformed_headers(tmp_path, content, message):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(FileReadError, match=message):
        read_delimited(p)


def test_ragged_row_is_an_error(tmp_path):
    p = tmp_path / "ragged.csv"
    p.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(FileReadError, match="ragged.csv"):
        read_delimited(p)


def test_r_make_names_matches_r():
    # values as R's make.names() gives them
    assert r_make_names("_uuid") == "X_uuid"
    assert r_make_names("water_sources/piped") == "water_sources.piped"
    assert r_make_names("Q1.9 IDPs") == "Q1.9.IDPs"
    assert r_make_names("1st") == "X1st"


def test_talafar_headers_traced_back_to_kobo_names(shared_data):
    form = read_xlsform(shared_data / "surveys/talafar_water_2021/xlsform.xlsx")
    header = read_delimited(shared_data / "surveys/talafar_water_2021/export.csv").frame.columns
    names = kobo_header_names(header, form, "r_make_names")
    assert names["X.U.FEFF.start"] == "start"
    assert names["X_uuid"] == "_uuid"
    assert names["water_sources.piped"] == "water_sources/piped"
    assert form.questions["level_service"].type == "select_one"
    assert form.choice_codes("level_service") == ["excellent", "good", "adequate", "poor", "very_poor", "prefer_not_answer"]
    assert form.questions["hours_available_piped"].type == "integer"
    assert form.choices["level_service"]["good"] == ("Good", "جيد")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("1,2\n3\n", r"data row 2 \(line 3\) has 1 fields, expected 2"),
        ("1,2\n3,4,5\n", r"data row 2 \(line 3\) has 3 fields, expected 2"),
        ('1,"x"y"\n', r"malformed ',' -delimited text at line 2|malformed ','-delimited text at line 2"),
    ],
)
def test_structural_errors_name_the_row_and_never_quote_values(tmp_path, body, message):
    p = tmp_path / "broken.csv"
    p.write_text("a,b\n" + body.replace("x", "SECRET NAME"))
    with pytest.raises(FileReadError, match=message) as exc:
        read_delimited(p)
    assert "SECRET" not in str(exc.value)


@pytest.mark.parametrize(("encoding", "text", "named"), [
    ("cp1256", "name\nبغداد\nالبصرة\n", "cp1256"),
    ("cp1252", "id,name\nJosé,1\nFrançois,2\n", "cp1252"),
    ("utf-16", "id,name\nبغداد,1\n", "utf_16"),
])
def test_an_undeclared_encoding_is_named_from_the_bytes(tmp_path, encoding, text, named):
    p = tmp_path / "f.csv"
    p.write_bytes(text.encode(encoding))
    with pytest.raises(FileReadError) as err:
        read_delimited(p)
    assert f"they look like {named}" in str(err.value) and f"e.g. encoding: {named}" in str(err.value)
