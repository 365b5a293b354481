"""Every delivered survey format loads through a mapping file alone, with the same result: Kobo CSV
(`;`/`,`, BOM or not, XML values or labels in English or Arabic), Kobo XLSX with a repeat group, ODK
Central zip, SPSS and Stata with value labels and a declared encoding, plain CSV/XLSX with a codebook.
Each test runs the real ingestion assets into a real DuckDB file; expected values are written out here."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pandas as pd
import pyreadstat
import pytest

from tests.pipelines.survey_fixtures import (
    accounts,
    exclusions,
    failure_message,
    ingest,
    kobo_csv,
    label_export,
    loaded,
    quarantine,
    submission,
    table,
    write_source,
)

ROWS = [
    submission("u1", gov="baghdad", water="good", hours="6"),
    submission("u2", gov="basra", water="very_poor", problems="low_pressure", hours="٢٠"),  # Arabic-Indic 20
    submission("u3", gov="erbil", water="dont_know", problems=None, hours=None),  # skipped problems and hours
    submission("u4", consent="no", water="", problems=None, hours=None),
]
#: what every format of ROWS loads: (respondent, p-code, water code, hours)
EXPECTED = [("u1", "IQG08", "good", 6.0), ("u2", "IQG02", "very_poor", 20.0), ("u3", "IQG11", "dont_know", None)]


@pytest.mark.parametrize(("delimiter", "bom"), [(";", True), (",", False), (",", True), ("\t", False)])
def test_kobo_csv_with_any_delimiter_and_bom_loads_the_same(tmp_path, delimiter, bom):
    write_source(tmp_path / "in", "k_csv", {"export.csv": kobo_csv(ROWS, delimiter=delimiter, bom=bom)})
    wh = tmp_path / "wh.duckdb"
    assert ingest(tmp_path / "in", wh).success, failure_message(ingest(tmp_path / "in", tmp_path / "x.duckdb"))
    assert loaded(wh) == EXPECTED
    assert accounts(wh) == [("export.csv", 4, 3, 1, 0)]
    assert exclusions(wh) == [("export.csv", None, 4, "no consent (consent = 'no')")]
    # select_multiple: split columns give chosen (True), not chosen (False), skipped (NULL)
    multi = table(wh, "SELECT respondent_id, choice_code, is_selected FROM raw.survey_multi_select ORDER BY 1, 2").rows()
    assert multi == [("u1", "cuts", True), ("u1", "dirty", True), ("u1", "low_pressure", False),
                     ("u2", "cuts", False), ("u2", "dirty", False), ("u2", "low_pressure", True),
                     ("u3", "cuts", None), ("u3", "dirty", None), ("u3", "low_pressure", None)]
    # personal data: the name, the GPS point and Kobo's split GPS columns never reach the warehouse
    dropped = set(table(wh, "SELECT column_name FROM audit.dropped_columns")["column_name"])
    assert dropped == {"hh_name", "gps", "_gps_latitude", "_gps_longitude", "_gps_altitude", "_gps_precision"}
    assert "Ahmad Ali" not in set(table(wh, "SELECT value_text FROM raw.survey_submissions")["value_text"])


@pytest.mark.parametrize("language", ["en", "ar"])
def test_kobo_labels_export_is_decoded_back_through_the_xlsform(tmp_path, language):
    extra = f"xlsform: form.xlsx\nheaders: labels\nvalues: labels\nlabel_language: {language}"
    write_source(tmp_path / "in", "k_labels", {"export.csv": label_export(ROWS, language)}, extra=extra)
    wh = tmp_path / "wh.duckdb"
    result = ingest(tmp_path / "in", wh)
    assert result.success, failure_message(result)
    assert loaded(wh) == EXPECTED
    multi = table(wh, "SELECT respondent_id, choice_code FROM raw.survey_multi_select WHERE is_selected ORDER BY 1, 2").rows()
    assert multi == [("u1", "cuts"), ("u1", "dirty"), ("u2", "low_pressure")]


def test_a_label_the_form_does_not_know_is_quarantined_with_its_value(tmp_path):
    data = label_export(ROWS, "en").replace(b"Very poor", b"Terrible")
    write_source(tmp_path / "in", "k_labels", {"export.csv": data},
                 extra="xlsform: form.xlsx\nheaders: labels\nvalues: labels")
    wh = tmp_path / "wh.duckdb"
    assert ingest(tmp_path / "in", wh).success
    # one quarantine row per failed check of the cell: the form's choice list, the canonical scale
    assert [q[2:5] for q in quarantine(wh)] == [(2, "water", "Terrible")] * 2
    assert sorted(q[5].split(" (")[0] for q in quarantine(wh)) == [
        "answer not on the scale of canonical question water_service_rating", "not a choice of list 'rating'"]


def _kobo_xlsx(path, rows: list[dict], members: list[tuple]) -> None:
    wb = openpyxl.Workbook()
    main = wb.active
    main.title = "household survey"
    cols = list(rows[0]) 
    main.append(cols)
    for i, r in enumerate(rows, start=1):
        main.append([int(r[c]) if c in ("enumerator",) else (str(i) if c == "_index" else r[c]) for c in cols])
    rep = wb.create_sheet("members")
    rep.append(["member_age", "member_sex", "_index", "_parent_table_name", "_parent_index", "_submission__uuid"])
    for m in members:
        rep.append(list(m))
    wb.save(path)


def test_kobo_xlsx_main_sheet_and_repeat_group_with_an_orphan(tmp_path):
    members = [
        (34, "male", 1, "household survey", 1, "u1"),
        (31, "female", 2, "household survey", 1, "u1"),
        (9, "female", 3, "household survey", 2, "u2"),
        (40, "male", 4, "household survey", 4, "u4"),     # parent u4 did not consent: excluded with it
        (12, "male", 5, "household survey", 9, "u9"),     # no submission with _index 9: orphan
        (15, "unknown", 6, "household survey", 2, "u2"),  # not a choice of list sex: quarantined
    ]
    folder = tmp_path / "in" / "surveys" / "k_xlsx"
    folder.mkdir(parents=True)
    _kobo_xlsx(folder / "export.xlsx", ROWS, members)
    extra = "xlsform: form.xlsx\nrepeats:\n  members: {sheet: members}"
    write_source(tmp_path / "in", "k_xlsx", {}, fmt="kobo_xlsx", glob="export*.xlsx", extra=extra)
    wh = tmp_path / "wh.duckdb"
    result = ingest(tmp_path / "in", wh)
    assert result.success, failure_message(result)
    assert loaded(wh) == EXPECTED
    assert accounts(wh) == [("export.xlsx", 4, 3, 1, 0)]
    assert table(wh, "SELECT repeat_group, sheet_name, rows_read, rows_loaded, rows_excluded, rows_quarantined "
                     "FROM audit.repeat_group_accounts").rows() == [("members", "export.xlsx [members]", 6, 3, 1, 2)]
    assert [q[1:4] for q in quarantine(wh)] == [("export.xlsx [members]", 5, "_parent_index"),
                                               ("export.xlsx [members]", 6, "member_sex")]
    assert "orphan row of repeat group 'members'" in quarantine(wh)[0][5]
    assert exclusions(wh)[-1] == ("export.xlsx", "export.xlsx [members]", 4, "its submission (main row) was excluded")
    rows = table(wh, "SELECT respondent_id, row_number, parent_row_number, field_name, value_text, value_numeric "
                     "FROM raw.survey_repeat_rows WHERE field_name IN ('member_age', 'member_sex') ORDER BY 2, 4").rows()
    assert rows == [("u1", 1, 1, "member_age", "34", 34.0), ("u1", 1, 1, "member_sex", "male", None),
                    ("u1", 2, 1, "member_age", "31", 31.0), ("u1", 2, 1, "member_sex", "female", None),
                    ("u2", 3, 2, "member_age", "9", 9.0), ("u2", 3, 2, "member_sex", "female", None)]


def _central_csv(rows: list[dict]) -> bytes:
    cols = ["SubmissionDate", "start", "today", "hh-enumerator", "consent", "hh-gov", "hh-stratum", "hh-cluster",
            "hh-weight", "hh-hh_name", "hh-gps-Latitude", "hh-gps-Longitude", "hh-gps-Altitude", "hh-gps-Accuracy",
            "svc-water", "svc-problems", "svc-hours", "meta-instanceID", "KEY", "ReviewState"]
    review = {"u2": "rejected", "u3": "hasIssues"}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow(["2025-03-03T07:00:00.000Z", r["start"], r["today"], r["enumerator"], r["consent"], r["gov"],
                    r["stratum"], r["cluster"], r["weight"], r["hh_name"], "36.19", "44.01", "300", "5", r["water"],
                    r["problems"], r["hours"], f"uuid:{r['_uuid']}", f"uuid:{r['_uuid']}", review.get(r["_uuid"], "")])
    return buf.getvalue().encode("utf-8")


def test_odk_central_zip_with_group_paths_review_state_and_a_repeat_file(tmp_path):
    members = "member_age,member_sex,PARENT_KEY,KEY\n34,male,uuid:u1,uuid:u1/members[1]\n" \
              "9,female,uuid:u2,uuid:u2/members[1]\n5,male,uuid:u7,uuid:u7/members[1]\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hh_form.csv", _central_csv(ROWS))
        z.writestr("hh_form-members.csv", members)
    extra = "xlsform: form.xlsx\nrepeats:\n  members: {path: \"*-members.csv\"}"
    write_source(tmp_path / "in", "central", {"export.zip": buf.getvalue()}, fmt="odk_central_csv",
                 glob="export*.zip", extra=extra, id_col="KEY")
    wh = tmp_path / "wh.duckdb"
    result = ingest(tmp_path / "in", wh)
    assert result.success, failure_message(result)
    # rejected u2 excluded by default; hasIssues (on hold) loads
    assert [r[:3] for r in loaded(wh)] == [("uuid:u1", "IQG08", "good"), ("uuid:u3", "IQG11", "dont_know")]
    assert exclusions(wh)[:2] == [("export.zip", None, 2, "review status not_approved (ReviewState = 'rejected')"),
                                  ("export.zip", None, 4, "no consent (consent = 'no')")]
    assert accounts(wh) == [("export.zip", 4, 2, 2, 0)]
    dropped = set(table(wh, "SELECT column_name FROM audit.dropped_columns")["column_name"])
    assert dropped == {"hh_name", "_gps_latitude", "_gps_longitude", "_gps_altitude", "_gps_precision"}
    assert table(wh, "SELECT rows_read, rows_loaded, rows_excluded, rows_quarantined FROM audit.repeat_group_accounts"
                 ).rows() == [(3, 1, 1, 1)]


SAV_LABELS = {"gov": {1: "Baghdad", 2: "Basrah", 3: "Erbil"},
              "water": {1: "Excellent", 2: "Good", 3: "Adequate", 4: "Poor", 5: "Very poor", 9: "Don't know"}}
STAT_MAPPING = """
source_id: {sid}
domain: survey
title: firm B survey
format: {fmt}
{encoding}
files: [{{path: "wave*.{ext}", wave_id: "2025-R1"}}]
respondent_id: hh_id
governorate: {{column: region, recode: {{"بغداد": Baghdad, "البصرة": Basra, "أربيل": Erbil}}}}
stratum: {{column: region}}
psu: {{column: ea}}
weight: {{column: wt}}
weight_note: test
design_note: test
questions:
  water_service_rating:
    column: water
    recode: {{"1": excellent, "2": good, "3": adequate, "4": poor, "5": very_poor, "9": dont_know}}
  water_piped_hours_per_day:
    column: hours
    recode: {{"99": dont_know}}     # a numeric question's "don't know" code
"""
ARABIC = ["بغداد", "البصرة", "أربيل"]


def _stat_file(path, fmt: str, cp1256: bool) -> None:
    """hh_id with leading zeros, region text in Arabic, ea, wt, water (value labels, 9 user-missing), hours
    (99 = don't know). With ``cp1256`` the Arabic is written as Windows-1256 bytes in a file that declares
    UTF-8 (placeholders of the same byte length, replaced after writing)."""
    placeholders = ["AAAAA", "BBBBBB", "CCCCC"]
    assert [len(a.encode("cp1256")) for a in ARABIC] == [len(p) for p in placeholders]
    region = placeholders if cp1256 else ARABIC
    df = pd.DataFrame({"hh_id": ["00101", "00102", "00103"], "region": region, "ea": ["e1", "e2", "e3"],
                       "wt": [1.5, 2.0, 0.5], "water": [2.0, 9.0, 5.0], "hours": [6.0, 99.0, 24.0]})
    labels = {"water": SAV_LABELS["water"]}
    if fmt == "spss":
        pyreadstat.write_sav(df, path, variable_value_labels=labels, missing_ranges={"water": [9], "hours": [99]},
                             column_labels=["id", "region", "enumeration area", "weight", "water rating", "hours"])
    else:
        pyreadstat.write_dta(df, path, variable_value_labels=labels)
    if cp1256:
        data = path.read_bytes()
        for p, a in zip(placeholders, ARABIC):
            assert data.count(p.encode()) == 1
            data = data.replace(p.encode(), a.encode("cp1256"))
        path.write_bytes(data)


@pytest.mark.parametrize(("fmt", "ext"), [("spss", "sav"), ("stata", "dta")])
def test_spss_and_stata_with_value_labels_load(tmp_path, fmt, ext):
    folder = tmp_path / "in" / "surveys" / "firm_b"
    folder.mkdir(parents=True)
    _stat_file(folder / f"wave1.{ext}", fmt, cp1256=False)
    (folder / "source.yaml").write_text(STAT_MAPPING.format(sid="firm_b", fmt=fmt, ext=ext, encoding=""), encoding="utf-8")
    wh = tmp_path / "wh.duckdb"
    result = ingest(tmp_path / "in", wh)
    assert result.success, failure_message(result)
    assert loaded(wh) == [("00101", "IQG08", "good", 6.0), ("00102", "IQG02", "dont_know", None),
                          ("00103", "IQG11", "very_poor", 24.0)]
    # 99 is the hours question's "don't know": stored as nonresponse, not as 99 hours
    assert table(wh, "SELECT answer_code, answer_numeric, answer_source FROM raw.survey_answers WHERE respondent_id = "
                     "'00102' AND question_id = 'water_piped_hours_per_day'").rows() == [("dont_know", None, "99")]
    labels = table(wh, "SELECT choice_code, label_en FROM raw.survey_form_labels WHERE field_name = 'water' "
                       "AND item_type = 'choice' ORDER BY 1").rows()
    assert labels == [("1", "Excellent"), ("2", "Good"), ("3", "Adequate"), ("4", "Poor"), ("5", "Very poor"),
                      ("9", "Don't know")]


def test_spss_in_windows_1256_fails_loudly_unless_declared(tmp_path):
    def run(encoding_line: str, name: str):
        folder = tmp_path / name / "surveys" / "firm_b"
        folder.mkdir(parents=True)
        _stat_file(folder / "wave1.sav", "spss", cp1256=True)
        (folder / "source.yaml").write_text(STAT_MAPPING.format(sid="firm_b", fmt="spss", ext="sav",
                                                                encoding=encoding_line), encoding="utf-8")
        wh = tmp_path / f"{name}.duckdb"
        return ingest(tmp_path / name, wh), wh

    result, _ = run("", "undeclared")
    assert not result.success
    msg = failure_message(result)
    assert "wave1.sav" in msg and "'region'" in msg and "row 1" in msg and "cp1256" in msg
    result, _ = run("encoding: cp1252", "latin")  # decodes without error, as mojibake: refused
    assert not result.success and "cp1256" in failure_message(result)
    result, wh = run("encoding: cp1256", "declared")
    assert result.success, failure_message(result)
    assert [r[1] for r in loaded(wh)] == ["IQG08", "IQG02", "IQG11"]


CODEBOOK = """variable,type,label_en,label_ar,values,missing
hh,text,Household id,رقم الأسرة,,
province,text,Governorate,المحافظة,,
psu,text,Cluster,العنقود,,
w,decimal,Weight,الوزن,,
q_water,select_one,Water service rating,تقييم خدمة المياه,1=Excellent; 2=Good; 3=Adequate; 4=Poor; 5=Very poor; 9=Don't know,9
q_hours,integer,Hours per day,ساعات يوميا,,
"""
PLAIN_MAPPING = """
source_id: plain
domain: survey
title: plain file with a codebook
format: {fmt}
codebook: codebook.csv
files: [{{path: "data.{ext}", wave_id: "2025"}}]
respondent_id: hh
governorate: {{column: province}}
stratum: {{column: province}}
psu: {{column: psu}}
weight: {{column: w}}
weight_note: test
design_note: test
questions:
  water_service_rating:
    column: q_water
    recode: {{"1": excellent, "2": good, "3": adequate, "4": poor, "5": very_poor, "9": dont_know}}
  water_piped_hours_per_day: {{column: q_hours}}
"""


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_plain_file_typed_by_its_codebook(tmp_path, ext):
    folder = tmp_path / "in" / "surveys" / "plain"
    folder.mkdir(parents=True)
    (folder / "codebook.csv").write_text(CODEBOOK, encoding="utf-8")
    rows = [["hh", "province", "psu", "w", "q_water", "q_hours"], ["007", "Baghdad", "p1", "1", "1", "4"],
            ["008", "Basra", "p2", "2", "7", "5"], ["009", "Erbil", "p3", "1", "2", "x"]]
    if ext == "csv":
        (folder / "data.csv").write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    else:
        wb = openpyxl.Workbook()
        for r in rows:
            wb.active.append(r)
        wb.save(folder / "data.xlsx")
    (folder / "source.yaml").write_text(PLAIN_MAPPING.format(fmt=ext, ext=ext), encoding="utf-8")
    wh = tmp_path / "wh.duckdb"
    result = ingest(tmp_path / "in", wh)
    assert result.success, failure_message(result)
    assert loaded(wh) == [("007", "IQG08", "excellent", 4.0)]  # leading zeros kept
    # each bad cell fails the codebook's type and the canonical question's scale: one row per check
    assert [q[2:5] for q in quarantine(wh)] == [(2, "q_water", "7")] * 2 + [(3, "q_hours", "x")] * 2
    reasons = [q[5] for q in quarantine(wh)]
    assert any("not a choice of list 'q_water'" in r for r in reasons)
    assert any("not a whole number (XLSForm integer)" in r for r in reasons)
    assert accounts(wh) == [(f"data.{ext}", 3, 1, 0, 2)]
