"""Each fault class of delivered files, through the real Dagster ingestion assets into a real DuckDB file:
what loads, what is excluded, what is quarantined and why, and what stops the run."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.pipelines.survey_fixtures import failure_message, ingest, table

SURVEY_MAPPING = """
source_id: {sid}
domain: survey
title: test survey
format: csv
encoding: {encoding}
delimiter: auto
header_style: plain
unit_of_analysis: household
files:
  - path: "*.csv"
    wave_id: "2025-01"
respondent_id: hh_id
governorate: {{column: governorate}}
stratum: {{column: stratum}}
psu: {{column: cluster}}
weight: {{column: weight}}
hoh_sex: {{column: head_sex, recode: {{M: male, F: female}}}}
interview_date: {{column: date}}
consent: {{column: consent, include: ["yes"]}}
weight_note: test
design_note: test
questions:
  water_service_rating: {{column: water_rating, recode: {{"1": excellent, "2": good, "3": adequate, "4": poor, "5": very_poor, "8": dont_know}}}}
  water_piped_hours_per_day: {{column: hours}}
"""
HEADER = "hh_id,governorate,stratum,cluster,weight,head_sex,date,consent,water_rating,hours,respondent_name\n"
GOOD_ROWS = [
    "h1,Baghdad,s1,c1,1.5,M,2025-01-03,yes,1,6,A B",
    "h2,بغداد,s1,c1,1.5,F,2025-01-03,yes,4,٨,C D",
    "h3,Ninawa,s2,c2,2,M,2025-01-04,yes,8,,E F",
]


def make_survey(root: Path, sid: str, rows: list[str], encoding: str = "utf-8", data_encoding: str | None = None) -> Path:
    folder = root / "surveys" / sid
    folder.mkdir(parents=True)
    (folder / "source.yaml").write_text(textwrap.dedent(SURVEY_MAPPING.format(sid=sid, encoding=encoding)), encoding="utf-8")
    (folder / "data.csv").write_bytes((HEADER + "\n".join(rows) + "\n").encode(data_encoding or "utf-8"))
    return folder


def test_clean_file_loads_with_arabic_names_and_digits(tmp_path):
    make_survey(tmp_path / "in", "s_clean", GOOD_ROWS)
    wh = tmp_path / "wh.duckdb"
    assert ingest(tmp_path / "in", wh).success
    resp = table(wh, "SELECT respondent_id, governorate_pcode, hoh_sex, weight FROM raw.survey_respondents ORDER BY 1")
    assert resp.rows() == [("h1", "IQG08", "male", 1.5), ("h2", "IQG08", "female", 1.5), ("h3", "IQG15", "male", 2.0)]
    ans = table(wh, "SELECT respondent_id, question_id, answer_code, answer_numeric FROM raw.survey_answers ORDER BY 1, 2")
    assert ans.rows() == [
        ("h1", "water_piped_hours_per_day", None, 6.0), ("h1", "water_service_rating", "excellent", None),
        ("h2", "water_piped_hours_per_day", None, 8.0),  # Arabic-Indic ٨
        ("h2", "water_service_rating", "poor", None),
        ("h3", "water_piped_hours_per_day", None, None), ("h3", "water_service_rating", "dont_know", None),
    ]
    # the name-like column is dropped before the warehouse and reported
    assert table(wh, "SELECT column_name, reason FROM audit.dropped_columns").rows() == [
        ("respondent_name", "name/phone/position-like column name")
    ]
    assert table(wh, "SELECT rows_read, rows_loaded, rows_excluded, rows_quarantined FROM audit.file_registry").rows() == [(3, 3, 0, 0)]


@pytest.mark.parametrize(
    ("bad_row", "column", "reason_part"),
    [
        ("h9,Bagdad City,s1,c1,1,M,2025-01-03,yes,2,5,X", "governorate", "unknown governorate 'Bagdad City'"),
        ("h9,Baghdad,s1,c1,1,M,2025-01-03,yes,7,5,X", "water_rating", "not on the scale of canonical question water_service_rating"),
        ("h9,Baghdad,s1,c1,1,M,2025-01-03,yes,2,30,X", "hours", "outside the valid range 0–24"),
        ("h9,Baghdad,s1,c1,1,M,2025-01-03,yes,2,1,,0,X", None, None),  # see below: ragged row is a file error
        ("h9,Baghdad,s1,c1,1,X,2025-01-03,yes,2,5,X", "head_sex", "not in the mapping's recode for hoh_sex"),
        ("h9,Baghdad,s1,c1,1,M,03/01/2025,yes,2,5,X", "date", "not a valid ISO date"),
        ("h9,Baghdad,s1,,1,M,2025-01-03,yes,2,5,X", "cluster", "psu is blank"),
        ("h9,Baghdad,s1,c1,1,M,2025-01-03,yes,2,5.5,X", "hours", "not a whole number"),
    ],
)
def test_bad_cell_quarantines_the_row_and_names_it(tmp_path, bad_row, column, reason_part):
    make_survey(tmp_path / "in", "s_bad", GOOD_ROWS + [bad_row])
    wh = tmp_path / "wh.duckdb"
    result = ingest(tmp_path / "in", wh)
    if column is None:
        # "1,,0" split by the delimiter gives an extra field: the file is malformed, the run stops naming it
        assert not result.success
        assert "data.csv" in failure_message(result)
        return
    assert result.success, failure_message(result)
    quarantine = table(wh, "SELECT file_name, row_number, column_name, value, reason FROM audit.quarantine")
    assert quarantine.height == 1, quarantine
    file_name, row_number, col, _value, reason = quarantine.row(0)
    assert (file_name, row_number, col) == ("data.csv", 4, column)
    assert reason_part in reason
    acc = table(wh, "SELECT rows_read, rows_loaded, rows_excluded, rows_quarantined FROM audit.file_registry").row(0)
    assert acc == (4, 3, 0, 1)
    assert "h9" not in table(wh, "SELECT respondent_id FROM raw.survey_respondents")["respondent_id"].to_list()


def test_unknown_governorate_suggests_closest_spellings(tmp_path):
    make_survey(tmp_path / "in", "s_gov", GOOD_ROWS + ["h9,Bagdadh Jadida,s1,c1,1,M,2025-01-03,yes,2,5,X"])
    wh = tmp_path / "wh.duckdb"
    assert ingest(tmp_path / "in", wh).success
    reason = table(wh, "SELECT reason FROM audit.quarantine").item()
    assert "IQG08" in reason  # Baghdad suggested


def test_no_consent_is_excluded_with_reason(tmp_path):
    make_survey(tmp_path / "in", "s_consent", GOOD_ROWS + ["h9,Baghdad,s1,c1,1,M,2025-01-03,no,,,X"])
    wh = tmp_path / "wh.duckdb"
    assert ingest(tmp_path / "in", wh).success
    assert table(wh, "SELECT row_number, reason FROM audit.exclusions").rows() == [(4, "no consent (consent = 'no')")]
    assert table(wh, "SELECT rows_read, rows_loaded, rows_excluded, rows_quarantined FROM audit.file_registry").row(0) == (4, 3, 1, 0)


# "1,,0" must not become 10, nor a decimal comma "1,2" become 12: like a missing or non-positive weight,
# the run stops naming the file and the row
@pytest.mark.parametrize("weight", ["0", "-1", "", "abc", '"1,,0"', '"1,2"', "1.2.3"])
def test_bad_weight_stops_the_run_naming_file_and_row(tmp_path, weight):
    make_survey(tmp_path / "in", "s_w", GOOD_ROWS + [f"h9,Baghdad,s1,c1,{weight},M,2025-01-03,yes,2,5,X"])
    result = ingest(tmp_path / "in", tmp_path / "wh.duckdb")
    assert not result.success
    msg = failure_message(result)
    assert "data.csv" in msg and "row 4" in msg and "weight" in msg


def test_missing_mapped_column_stops_the_run(tmp_path):
    folder = make_survey(tmp_path / "in", "s_cols", GOOD_ROWS)
    text = (folder / "data.csv").read_text().replace("cluster", "clust", 1)  # a design column
    (folder / "data.csv").write_text(text)
    result = ingest(tmp_path / "in", tmp_path / "wh.duckdb")
    assert not result.success
    assert "data.csv" in failure_message(result) and "cluster" in failure_message(result)


def test_windows_1256_file_fails_loudly_as_utf8_and_loads_when_declared(tmp_path):
    rows = ["h1,بغداد,s1,c1,1,M,2025-01-03,yes,1,6,X", "h2,نينوى,s1,c1,1,F,2025-01-03,yes,2,5,X"]
    make_survey(tmp_path / "a", "s_enc", rows, encoding="utf-8", data_encoding="cp1256")
    result = ingest(tmp_path / "a", tmp_path / "a.duckdb")
    assert not result.success
    msg = failure_message(result)
    assert "not valid utf-8" in msg and "offset" in msg and "cp1256" in msg
    make_survey(tmp_path / "b", "s_enc", rows, encoding="cp1256", data_encoding="cp1256")
    wh = tmp_path / "b.duckdb"
    assert ingest(tmp_path / "b", wh).success
    assert table(wh, "SELECT governorate_pcode FROM raw.survey_respondents ORDER BY respondent_id")["governorate_pcode"].to_list() == ["IQG08", "IQG15"]


def test_folder_without_mapping_is_skipped_and_reported(tmp_path):
    make_survey(tmp_path / "in", "s_ok", GOOD_ROWS)
    (tmp_path / "in" / "surveys" / "unmapped_firm").mkdir()
    (tmp_path / "in" / "surveys" / "unmapped_firm" / "export.csv").write_text("a,b\n1,2\n")
    wh = tmp_path / "wh.duckdb"
    assert ingest(tmp_path / "in", wh).success
    skipped = table(wh, "SELECT source_id, reason FROM audit.skipped_sources")
    assert skipped["source_id"].to_list() == ["unmapped_firm"]
    assert "no mapping" in skipped["reason"].item()


BUDGET_MAPPING = """
source_id: b_test
domain: budget
title: test budget
allow_empty: true  # a one-line file whose line may be quarantined
format: csv
files: [{path: "*.csv"}]
governorate: {column: gov}
fiscal_year: {column: year}
sector: {constant: all}
budget_scope: {constant: capital}
currency: IQD
amount_unit: IQD million
unit_multiplier: 1000000
allocation_original: allocation
expenditure: spent
"""


@pytest.mark.parametrize(
    ("line", "outcome"),
    [
        ('Baghdad,2023,"1,250.5",900', (1250.5, 900.0)),
        ("Baghdad,٢٠٢٣,١٢٥٠٫٥,٩٠٠", (1250.5, 900.0)),  # Arabic-Indic digits and decimal separator
        ('Baghdad,2023,"1,,0",900', "allocation_original: '1,,0' is not a number"),
        ("Baghdad,2023,-5,900", "negative amount not allowed"),
        ("Baghdad,2023,n/a,900", "'n/a' is not a number"),
        ("Atlantis,2023,10,9", "unknown governorate 'Atlantis'"),
    ],
)
def test_budget_amounts_are_parsed_strictly(tmp_path, line, outcome):
    folder = tmp_path / "in" / "budget" / "b_test"
    folder.mkdir(parents=True)
    (folder / "source.yaml").write_text(BUDGET_MAPPING)
    (folder / "lines.csv").write_text("gov,year,allocation,spent\n" + line + "\n", encoding="utf-8")
    wh = tmp_path / "wh.duckdb"
    assert ingest(tmp_path / "in", wh).success
    if isinstance(outcome, tuple):
        assert table(wh, "SELECT allocation_original, expenditure FROM raw.budget_lines").rows() == [outcome]
        assert table(wh, "SELECT count(*) FROM audit.quarantine").item() == 0
    else:
        assert table(wh, "SELECT count(*) FROM raw.budget_lines").item() == 0
        q = table(wh, "SELECT row_number, reason FROM audit.quarantine")
        assert q["row_number"].to_list() == [1] and outcome in q["reason"].item()
    acc = table(wh, "SELECT rows_read, rows_loaded + rows_excluded + rows_quarantined FROM audit.file_registry").row(0)
    assert acc == (1, 1)


def test_short_row_stops_the_run_naming_it_without_values(tmp_path):
    make_survey(tmp_path / "in", "s_short", GOOD_ROWS + ["h9,Baghdad,s1,c1,1,M,2025-01-03,yes"])
    result = ingest(tmp_path / "in", tmp_path / "wh.duckdb")
    assert not result.success
    msg = failure_message(result)
    assert "data row 4" in msg and "has 8 fields, expected 11" in msg
    assert "Baghdad" not in msg  # no cell values in messages (they may be personal data)


def test_impossible_calendar_date_is_quarantined_not_nulled(tmp_path):
    make_survey(tmp_path / "in", "s_date", GOOD_ROWS + ["h9,Baghdad,s1,c1,1,M,2025-02-30,yes,2,5,X"])
    wh = tmp_path / "wh.duckdb"
    assert ingest(tmp_path / "in", wh).success
    assert table(wh, "SELECT row_number, column_name, value FROM audit.quarantine").rows() == [(4, "date", "2025-02-30")]
    assert table(wh, "SELECT count(*) FROM raw.survey_respondents WHERE interview_date IS NULL").item() == 0


def test_personal_looking_columns_are_dropped(tmp_path):
    folder = make_survey(tmp_path / "in", "s_pii", GOOD_ROWS)
    text = (folder / "data.csv").read_text().splitlines()
    extra = ["_geolocation", "phone1", "respondent_mobile2", "whatsapp", "NameOfRespondent", "اسم_المستجيب", "hotel_rating"]
    text[0] += "," + ",".join(extra)
    text[1:] = [line + ',"[36.0, 43.0]",0770,0771,0772,Ali,علي,3' for line in text[1:]]
    (folder / "data.csv").write_text("\n".join(text) + "\n")
    wh = tmp_path / "wh.duckdb"
    assert ingest(tmp_path / "in", wh).success
    dropped = set(table(wh, "SELECT column_name FROM audit.dropped_columns")["column_name"])
    assert dropped == {"respondent_name", *extra} - {"hotel_rating"}
    stored = set(table(wh, "SELECT DISTINCT field_name FROM raw.survey_submissions")["field_name"])
    assert "hotel_rating" in stored and not (stored & dropped)
    values = set(table(wh, "SELECT DISTINCT value_text FROM raw.survey_submissions")["value_text"])
    assert not values & {"Ali", "علي", "0770", "[36.0, 43.0]"}


def test_repeated_budget_line_is_quarantined_not_summed(tmp_path):
    folder = tmp_path / "in" / "budget" / "b_test"
    folder.mkdir(parents=True)
    (folder / "source.yaml").write_text(BUDGET_MAPPING)
    (folder / "lines.csv").write_text("gov,year,allocation,spent\nAnbar,2009,112,70\nBasra,2009,5,1\nAl-Anbar,2009,112,70\n")
    wh = tmp_path / "wh.duckdb"
    assert ingest(tmp_path / "in", wh).success
    assert table(wh, "SELECT sum(allocation_original) FROM raw.budget_lines WHERE governorate_pcode = 'IQG01'").item() == 112
    q = table(wh, "SELECT row_number, reason FROM audit.quarantine")
    assert q["row_number"].to_list() == [3] and "already at row 1" in q["reason"].item()


def test_weight_in_scientific_notation_loads(tmp_path):
    make_survey(tmp_path / "in", "s_sci", GOOD_ROWS + ["h9,Baghdad,s1,c1,1.5e+03,M,2025-01-03,yes,2,5,X"])
    wh = tmp_path / "wh.duckdb"
    assert ingest(tmp_path / "in", wh).success
    assert table(wh, "SELECT weight FROM raw.survey_respondents WHERE respondent_id = 'h9'").item() == 1500.0


def test_question_absent_from_one_file_is_not_asked_there_not_fatal(tmp_path):
    """A later form version dropped `hours`: its respondents were not asked, the other file still answers it.
    (A column that no file of the source has is a mapping typo and stops the run: see
    test_survey_privacy_and_mistakes.)"""
    folder = make_survey(tmp_path / "in", "s_noq", GOOD_ROWS[:2])
    header = HEADER.strip().split(",")
    drop = header.index("hours")
    cells = GOOD_ROWS[2].split(",")
    (folder / "data_v2.csv").write_text(",".join(h for i, h in enumerate(header) if i != drop) + "\n"
                                        + ",".join(v for i, v in enumerate(cells) if i != drop) + "\n")
    mapping = (folder / "source.yaml").read_text().replace(
        '  - path: "*.csv"\n    wave_id: "2025-01"\n',
        '  - {path: data.csv, wave_id: "2025-01", part: v1}\n  - {path: data_v2.csv, wave_id: "2025-01", part: v2}\n')
    assert "part: v2" in mapping
    (folder / "source.yaml").write_text(mapping)
    wh = tmp_path / "wh.duckdb"
    assert ingest(tmp_path / "in", wh).success
    asked = table(wh, "SELECT respondent_id, question_id FROM raw.survey_answers ORDER BY 1, 2").rows()
    assert asked == [("h1", "water_piped_hours_per_day"), ("h1", "water_service_rating"),
                     ("h2", "water_piped_hours_per_day"), ("h2", "water_service_rating"),
                     ("h3", "water_service_rating")]
    note = table(wh, "SELECT file_name, note FROM audit.source_notes WHERE note LIKE '%not asked%'").row(0)
    assert note[0] == "data_v2.csv" and "water_piped_hours_per_day" in note[1]
    assert table(wh, "SELECT file_name, rows_loaded FROM audit.file_registry ORDER BY 1").rows() == [
        ("data.csv", 2), ("data_v2.csv", 1)]
