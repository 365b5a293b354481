"""Faults a newcomer found by trying to break survey onboarding (issue 5 review): personal data hiding in
number fields, numeric SPSS variables, camelCase device ids and innocuous column names; a labels export whose
form gives two choices one label; a blank start; a mapping typo in a question column or the enumerator
column. Real ingestion assets, real DuckDB file; expected outcomes written out."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pyreadstat

from tests.pipelines.survey_fixtures import (
    failure_message,
    ingest,
    kobo_csv,
    label_export,
    submission,
    table,
    write_form,
    write_source,
)


def _run(tmp_path, rows, extra="xlsform: form.xlsx", form_extra=(), choices_extra=(), files=None, mapping=None):
    folder = write_source(tmp_path / "in", "k", files or {"export.csv": kobo_csv(rows)}, extra=extra, mapping=mapping)
    write_form(folder / "form.xlsx", extra_survey=list(form_extra), extra_choices=list(choices_extra))
    wh = tmp_path / "wh.duckdb"
    return ingest(tmp_path / "in", wh), wh


def _stored_values(wh) -> set[str]:
    return set(table(wh, "SELECT value_text FROM raw.survey_submissions WHERE value_text IS NOT NULL")["value_text"])


def test_phone_and_position_in_number_fields_are_dropped(tmp_path):
    form = [("integer", "respondent_phone", "Phone", "الهاتف"), ("decimal", "hh_lat", "Latitude", "خط العرض"),
            ("decimal", "hh_lon", "Longitude", "خط الطول"), ("integer", "num_names", "Names listed", "عدد الأسماء")]
    rows = [submission(f"u{i}", respondent_phone=f"770123400{i}", hh_lat=f"33.00{i}7", hh_lon=f"44.00{i}3",
                       num_names=str(i), DeviceID=f"collect:dev{i}") for i in range(1, 4)]
    result, wh = _run(tmp_path, rows, form_extra=form)
    assert result.success, failure_message(result)
    dropped = dict(table(wh, "SELECT column_name, reason FROM audit.dropped_columns").rows())
    assert dropped["respondent_phone"] == dropped["hh_lat"] == dropped["hh_lon"] == \
        "phone/position-like column name (a number field)"
    assert dropped["DeviceID"] == "XLSForm device/contact metadata"
    assert "num_names" not in dropped  # a count, not a name: number fields are not judged by "name"
    stored = _stored_values(wh)
    assert not stored & {"7701234001", "33.0017", "44.0013", "collect:dev1"}
    assert {"1", "2", "3"} <= stored


def test_free_text_columns_holding_gps_points_or_phone_numbers_are_dropped_whatever_their_name(tmp_path):
    form = [("text", "loc", "Where", "أين"), ("text", "contact", "Contact", "تواصل"), ("text", "remarks", "Remarks", "ملاحظات")]
    rows = [submission(f"u{i}", loc=f"33.30{i},44.36{i}", contact=f"0770 12{i} 456{i}", remarks=f"ok {i}")
            for i in range(1, 5)]
    result, wh = _run(tmp_path, rows, form_extra=form)
    assert result.success, failure_message(result)
    dropped = dict(table(wh, "SELECT column_name, reason FROM audit.dropped_columns").rows())
    assert dropped["loc"] == "values look like GPS coordinates (100% of 4 answers)"
    assert dropped["contact"] == "values look like phone numbers (100% of 4 answers)"
    assert "remarks" not in dropped
    stored = _stored_values(wh)
    assert not any(v.startswith(("33.30", "0770")) for v in stored) and "ok 1" in stored


STAT = """
source_id: k
domain: survey
title: SPSS with contact variables
format: spss
files: [{path: "wave*.sav", wave_id: "2025-R1"}]
respondent_id: hh_id
governorate: {column: gov, via: label_en}
stratum: {column: gov}
psu: {column: ea}
weight: {column: wt}
weight_note: test
design_note: test
questions:
  water_piped_hours_per_day: {column: hours}
"""


def test_numeric_spss_variables_named_as_phone_or_position_are_dropped(tmp_path):
    folder = tmp_path / "in" / "surveys" / "k"
    folder.mkdir(parents=True)
    df = pd.DataFrame({"hh_id": ["001", "002", "003"], "gov": [1.0, 2.0, 1.0], "ea": ["e1", "e2", "e3"],
                       "wt": [1.0, 2.0, 1.5], "hours": [6.0, 12.0, 24.0], "mobile": [7701230001.0, 7701230002.0, 7701230003.0],
                       "latitude": [33.101, 33.102, 33.103], "longitude": [44.201, 44.202, 44.203]})
    pyreadstat.write_sav(df, folder / "wave1.sav", variable_value_labels={"gov": {1: "Baghdad", 2: "Basrah"}})
    (folder / "source.yaml").write_text(STAT, encoding="utf-8")
    wh = tmp_path / "wh.duckdb"
    result = ingest(tmp_path / "in", wh)
    assert result.success, failure_message(result)
    assert set(table(wh, "SELECT column_name FROM audit.dropped_columns")["column_name"]) == {"mobile", "latitude", "longitude"}
    fields = set(table(wh, "SELECT DISTINCT field_name FROM raw.survey_submissions")["field_name"])
    assert not fields & {"mobile", "latitude", "longitude"} and "hours" in fields


def test_a_label_two_choices_share_stops_a_labels_export(tmp_path):
    # the Arabic translation gives "adequate" the label of "good": an answer "جيد" cannot be decoded
    folder = tmp_path / "in" / "surveys" / "k"
    rows = [submission("u1", water="good"), submission("u2", water="poor")]
    data = label_export(rows, "ar")
    write_source(tmp_path / "in", "k", {"export.csv": data},
                 extra="xlsform: form.xlsx\nheaders: labels\nvalues: labels\nlabel_language: ar")
    wb = openpyxl.load_workbook(folder / "form.xlsx")
    for row in wb["choices"].iter_rows(min_row=2):
        if row[0].value == "rating" and row[1].value == "adequate":
            row[3].value = "جيد"
    wb.save(folder / "form.xlsx")
    result = ingest(tmp_path / "in", tmp_path / "wh.duckdb")
    assert not result.success
    assert ("export.csv: column 'water': 1 answer(s) read 'جيد', the ar label of 2 choices of list 'rating' "
            "(good, adequate): a labels export cannot say which was chosen") in failure_message(result)


def test_a_blank_start_takes_the_interview_date_from_today(tmp_path):
    rows = [submission("u1"), submission("u2", start="", today="2025-03-05"), submission("u3", start="", today="")]
    result, wh = _run(tmp_path, rows)
    assert result.success, failure_message(result)
    assert table(wh, "SELECT respondent_id, interview_date::VARCHAR FROM raw.survey_respondents ORDER BY 1").rows() == [
        ("u1", "2025-03-02"), ("u2", "2025-03-05"), ("u3", None)]
    notes = table(wh, "SELECT note FROM audit.source_notes")["note"].to_list()
    assert "2 row(s) with a blank start: interview date taken from today; 1 row(s) left without an interview date" in notes


def test_a_question_column_no_file_has_is_a_mapping_mistake(tmp_path):
    rows = [submission("u1")]
    folder = write_source(tmp_path / "in", "k", {"export.csv": kobo_csv(rows)})
    text = (folder / "source.yaml").read_text(encoding="utf-8").replace("{column: hours}", "{column: huors}")
    (folder / "source.yaml").write_text(text, encoding="utf-8")
    result = ingest(tmp_path / "in", tmp_path / "wh.duckdb")
    assert not result.success
    assert ("k: question water_piped_hours_per_day maps column 'huors', which no file of the source has "
            "(closest: hours)") in failure_message(result)


def test_an_enumerator_column_no_file_has_stops_the_run(tmp_path):
    rows = [submission("u1")]
    result, _ = _run(tmp_path, rows, extra="xlsform: form.xlsx\nduplicates: {enumerator: enumerater}")
    assert not result.success
    assert "duplicates.enumerator names column 'enumerater', which no file of the source has (closest: enumerator)" \
        in failure_message(result)
