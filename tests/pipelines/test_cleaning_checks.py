"""Cleaning checks on a landing folder (``mizan clean check``), one fixture per check with the expected log
lines written in the test; the expression grammar's refusals; GPS kept out of every output; and the real Tal
Afar export, whose short interviews and pilot interviews are counted here independently with plain Python."""

from __future__ import annotations

import csv
import datetime as dt
import math
import textwrap

import openpyxl
import polars as pl
import pytest

from pipelines.cleaning.expressions import ExpressionError, compile_expression
from pipelines.cleaning.run import check_source
from pipelines.cli import main
from tests.pipelines.survey_fixtures import (
    failure_message,
    ingest,
    kobo_csv,
    submission,
    table,
    write_form,
    write_source,
)


def checked(tmp_path, rows, cleaning: str, extra_survey=(), files=None):
    extra = "xlsform: form.xlsx\ncleaning:\n" + textwrap.indent(textwrap.dedent(cleaning).strip(), "  ")
    folder = write_source(tmp_path / "in", "k", {"export.csv": kobo_csv(rows), **(files or {})}, extra=extra)
    write_form(folder / "form.xlsx", extra_survey=list(extra_survey))
    return check_source(tmp_path / "in", "k")


def lines_of(log: pl.DataFrame, check_prefix: str) -> list[tuple]:
    return log.filter(pl.col("check").str.starts_with(check_prefix)).select(
        "uuid", "question", "issue", "old_value").sort("uuid", "question").rows()


ONLY = """
duration: null
outliers: null
other_specify: null
duplicates: null
"""


def test_duration_below_minimum_above_maximum_and_negative(tmp_path):
    rows = [submission("u1", end="2025-03-02T09:25:00.000+03:00"),  # 10 minutes
            submission("u2", end="2025-03-02T09:45:00.000+03:00"),  # 30 minutes
            submission("u3", end="2025-03-02T12:35:00.000+03:00"),  # 200 minutes
            submission("u4", end="2025-03-02T08:15:00.000+03:00")]  # ends an hour before it starts
    log, _ = checked(tmp_path, rows, "duration: {min_minutes: 25, max_minutes: 120}\noutliers: null\n"
                                      "other_specify: null\nduplicates: null")
    assert lines_of(log, "duration") == [
        ("u1", "", "interview shorter than 25 minutes", "10.0 minutes"),
        ("u3", "", "interview longer than 120 minutes", "200.0 minutes"),
        ("u4", "", "interview ends before it starts (end before start)", "-60.0 minutes"),
    ]
    assert log.columns == ["uuid", "question", "issue", "old_value", "change_type", "new_value", "check",
                           "enumerator", "wave_id", "file_name"]
    assert log["change_type"].null_count() == log.height and log["new_value"].null_count() == log.height


def test_fieldwork_window_and_pilots(tmp_path):
    rows = [submission("u1", start="2025-03-01T10:00:00+03:00"),  # first day of data collection: a pilot
            submission("u2", start="2025-03-02T10:00:00+03:00"),
            submission("u3", start="2025-03-20T10:00:00+03:00"),  # after fieldwork ended
            submission("u4", start="2025-03-05T10:00:00+03:00", _submission_time="2025-03-04T07:00:00")]
    log, _ = checked(tmp_path, rows, ONLY + "fieldwork: {end: 2025-03-15, first_day_is_pilot: true}")
    assert lines_of(log, "fieldwork") == [
        ("u1", "", "pilot interview: dated on the data-collection start day (2025-03-01)", "2025-03-01T10:00:00+03:00"),
        ("u3", "", "interview dated after fieldwork ended (2025-03-15)", "2025-03-20T10:00:00+03:00"),
        # received on 2025-03-03 (the fixture's _submission_time), dated later
        ("u3", "", "interview starts after the server received it (device clock wrong?)", "2025-03-20T10:00:00+03:00"),
        ("u4", "", "interview starts after the server received it (device clock wrong?)", "2025-03-05T10:00:00+03:00"),
    ]


HOURS = [4, 5, 5, 6, 6, 6, 7, 7, 8, 8, 23]


def test_outliers_iqr_and_modified_z(tmp_path):
    rows = [submission(f"u{i:02d}", hours=str(h)) for i, h in enumerate(HOURS, start=1)]
    # sorted hours: Q1 = 5.5, Q3 = 7.5 (linear), IQR = 2, fences 2.5 and 10.5: only 23
    log, _ = checked(tmp_path, rows, "duration: null\nother_specify: null\nduplicates: null\n"
                                     "outliers: {all_numeric: false, questions: {hours: {method: iqr}}}")
    assert lines_of(log, "outlier") == [("u11", "hours", "outlier (outside Q1 − 1.5·IQR … Q3 + 1.5·IQR)", "23")]
    # median 6, MAD 1: modified z of 23 = 0.6745 × 17 = 11.5 > 3.5; of 4 = 1.35
    log, _ = checked(tmp_path / "z", rows, "duration: null\nother_specify: null\nduplicates: null\n"
                                           "outliers: {all_numeric: false, questions: {hours: {method: modified_z}}}")
    assert lines_of(log, "outlier") == [("u11", "hours", "outlier (modified z-score beyond ±3.5)", "23")]


def test_outliers_on_a_log_scale_within_groups(tmp_path):
    spend = [1000, 1200, 1500, 2000, 2500, 3000, 4000, 5000, 8000, 10000, 1000000]
    rows = [submission(f"a{i:02d}", spend=str(v), stratum="s1") for i, v in enumerate(spend, start=1)]
    rows += [submission(f"b{i:02d}", spend=str(v * 100), stratum="s2") for i, v in enumerate(spend[:10], start=1)]
    y = sorted(math.log1p(v) for v in spend)  # stratum s1, by hand: linear quartiles at positions 2.5 and 7.5
    q1, q3 = (y[2] + y[3]) / 2, (y[7] + y[8]) / 2
    expected = [f"a{i:02d}" for i, v in enumerate(spend, start=1)
                if not q1 - 1.5 * (q3 - q1) <= math.log1p(v) <= q3 + 1.5 * (q3 - q1)]
    assert expected == ["a11"]
    log, _ = checked(tmp_path, rows, "duration: null\nother_specify: null\nduplicates: null\noutliers: "
                                     "{all_numeric: false, questions: {spend: {method: log_iqr, by: stratum}}}",
                     extra_survey=[("decimal", "spend", "Spend on water", "الإنفاق على المياه")])
    # s2's values are 100 times s1's: pooled, 1,000,000 would sit inside; s2 (10 answers) is checked on its own
    assert lines_of(log, "outlier") == [
        ("a11", "spend", "outlier (outside Q1 − 1.5·IQR … Q3 + 1.5·IQR on a log scale within stratum)", "1000000")]


def test_other_specify_answers_are_listed_and_personal_values_withheld(tmp_path):
    rows = [submission("u1", water_other="tanker from the neighbour"), submission("u2", water_other=""),
            submission("u3", water_other="0770 123 4567")]
    log, _ = checked(tmp_path, rows, "duration: null\noutliers: null\nduplicates: null",
                     extra_survey=[("text", "water_other", "Other source, specify", "مصدر آخر")])
    assert lines_of(log, "other_specify") == [
        ("u1", "water_other", "\"other, specify\" answer: recode into an existing choice?", "tanker from the neighbour"),
        ("u3", "water_other", "\"other, specify\" answer: recode into an existing choice?",
         "[withheld: looks like personal data]"),
    ]
    text = log.write_csv()
    assert "Ahmad Ali" not in text and "36.19" not in text  # the name and the GPS point never reach a log


def test_logical_checks_from_the_mapping(tmp_path):
    rows = [submission("u1", hours="22", water="very_poor"), submission("u2", hours="22", water="good"),
            submission("u3", hours="2", water="very_poor"), submission("u4", hours="", water="very_poor")]
    log, _ = checked(tmp_path, rows, ONLY + textwrap.dedent("""
        logical:
          - name: many_hours_yet_very_poor
            expression: "hours >= 20 & water == 'very_poor'"
            issue: Water most of the day yet rated very poor
    """))
    assert lines_of(log, "logical") == [
        ("u1", "hours", "Water most of the day yet rated very poor", "22"),
        ("u1", "water", "Water most of the day yet rated very poor", "very_poor"),
    ]


def test_a_logical_check_outside_the_grammar_is_refused(tmp_path):
    with pytest.raises(ExpressionError, match=r"function __import__\(\) is not supported"):
        checked(tmp_path, [submission("u1")], ONLY + "logical: [{name: x, expression: \"__import__('os')\", issue: x}]")


@pytest.mark.parametrize(("text", "message"), [
    ("hours.__class__ > 1", "'hours.__class__' at position 0 is not a question"),
    ("hours ** 2 > 1", "unexpected '*'"),
    ("regex(hours, '1')", "function regex() is not supported"),
    ("hours", "must be a comparison or a condition"),
    ("hours > 1; import os", "cannot read"),
])
def test_expression_grammar_refuses_what_it_does_not_know(text, message):
    with pytest.raises(ExpressionError) as err:
        compile_expression(text, {"hours": "hours"})
    assert message in str(err.value)


def test_expressions_compare_numbers_as_numbers_and_read_select_multiple(tmp_path):
    frame = pl.DataFrame({"hours": ["1,000", "9", None], "probs": ["cuts dirty", "cuts", None]})
    expr, used = compile_expression("hours > 10 or (selected(probs, 'dirty') and count-selected(probs) = 2)",
                                    {"hours": "hours", "probs": "probs"})
    assert used == ["hours", "probs"]
    assert frame.select(expr.alias("x"))["x"].to_list() == [True, False, None]


def _gps_files():
    return {"points.csv": b"point_id,lat,lon\nP1,36.19,44.01\nP2,36.20,44.01\n"}


GPS = ONLY + "gps: {column: gps, sample: {path: points.csv, key_column: point_id, data_column: point, " \
             "latitude_column: lat, longitude_column: lon}, max_metres: 500}"


def test_gps_distance_to_the_sampled_point_gives_a_band_never_a_coordinate(tmp_path):
    rows = [submission("u1", point="P1"), submission("u2", point="P2")]  # both at 36.19 44.01
    log, _ = checked(tmp_path, rows, GPS, files=_gps_files())
    # u2 is 0.01° of latitude from P2: 6,371,008.8 m × 0.01 × π/180 = 1,112 m
    assert lines_of(log, "gps") == [
        ("u2", "", "interview point farther than 500 m from its sampled point", "1000–5000 m")]
    assert "36.19" not in log.write_csv() and "44.01" not in log.write_csv()


def test_gps_flag_and_band_are_stored_during_ingestion_without_coordinates(tmp_path):
    rows = [submission("u1", point="P1"), submission("u2", point="P2")]
    extra = "xlsform: form.xlsx\ncleaning:\n" + textwrap.indent(GPS.strip(), "  ")
    write_source(tmp_path / "in", "k", {"export.csv": kobo_csv(rows), **_gps_files()}, extra=extra)
    wh = tmp_path / "wh.duckdb"
    result = ingest(tmp_path / "in", wh)
    assert result.success, failure_message(result)
    assert table(wh, "SELECT flag, respondent_id, detail FROM audit.review_flags").rows() == [
        ("far_from_sampled_point", "u2", "interview point 1000–5000 m from its sampled point (threshold 500 m)")]
    stored = table(wh, "SELECT string_agg(value_text, ' ') FROM raw.survey_submissions").item()
    assert "36.19" not in stored and "44.01" not in stored
    assert table(wh, "SELECT count(*) FROM raw.survey_submissions WHERE field_name LIKE '%gps%'").item() == 0


def test_near_duplicates_are_listed_with_their_similarity(tmp_path):
    many = {f"q{i}": str(i % 3) for i in range(20)}
    rows = [submission("u1", enumerator="7", **many), submission("u2", enumerator="7", hours="5", **many),
            submission("u3", enumerator="8", **many)]
    log, _ = checked(tmp_path, rows, "duration: null\noutliers: null\nother_specify: null\nenumerator: enumerator")
    # 23 fields answered by both (water, problems, hours, q0..q19), 22 identical: 2 × 22 / 46 = 0.9565
    assert lines_of(log, "near_duplicate") == [
        ("u1", "", "near-duplicate of u2 (same enumerator; 95.7% of 23 answered fields identical)", "0.9565"),
        ("u2", "", "near-duplicate of u1 (same enumerator; 95.7% of 23 answered fields identical)", "0.9565"),
    ]


def test_enumerator_quality(tmp_path):
    rows = [submission("u1", enumerator="7", end="2025-03-02T09:45:00.000+03:00", water="dont_know"),
            submission("u2", enumerator="7", end="2025-03-02T10:15:00.000+03:00"),
            submission("u3", enumerator="7", start="2025-03-03T09:15:00.000+03:00", end="2025-03-03T09:25:00.000+03:00"),
            submission("u4", enumerator="8", end="2025-03-02T10:15:00.000+03:00")]
    _, quality = checked(tmp_path, rows, "duration: {min_minutes: 15}\noutliers: null\nother_specify: null\n"
                                         "duplicates: null\nenumerator: enumerator")
    # enumerator 7: 3 interviews on 2 days; durations 30, 60, 10 -> median 30; answered coded fields per
    # interview: enumerator, consent, gov, weight, water, problems, hours = 7, one "dont_know" in 21; u3 flagged
    assert quality.rows() == [("7", 3, 2, 1.5, 30.0, round(1 / 21, 4), round(1 / 3, 4), "2025-03"),
                              ("8", 1, 1, 1.0, 60.0, 0.0, 0.0, "2025-03")]


def test_decisions_already_delivered_are_copied_into_a_new_check_log(tmp_path):
    rows = [submission("u1", end="2025-03-02T09:25:00.000+03:00"), submission("u2", end="2025-03-02T09:20:00.000+03:00")]
    folder = write_source(tmp_path / "in", "k", {"export.csv": kobo_csv(rows)},
                          extra="xlsform: form.xlsx\ncleaning: {outliers: null, other_specify: null, duplicates: null}")
    (folder / "cleaning_log.csv").write_text(
        "uuid,question,issue,old_value,change_type,new_value\n"
        "u1,,interview shorter than 15 minutes,10.0 minutes,remove_survey,\n", encoding="utf-8")
    log, _ = check_source(tmp_path / "in", "k")
    assert log.select("uuid", "change_type").sort("uuid").rows() == [("u1", "remove_survey"), ("u2", None)]


def test_cli_writes_the_log_in_the_cleaningtools_layout(tmp_path, capsys):
    rows = [submission("u1", end="2025-03-02T09:25:00.000+03:00"), submission("u2", end="2025-03-02T10:15:00.000+03:00")]
    write_source(tmp_path / "in", "k", {"export.csv": kobo_csv(rows)}, extra="xlsform: form.xlsx")
    out = tmp_path / "review" / "log.xlsx"
    assert main(["clean", "check", "--data-dir", str(tmp_path / "in"), "--source", "k", "--out", str(out)]) == 0
    ws = openpyxl.load_workbook(out)["cleaning_log"]
    values = list(ws.iter_rows(values_only=True))
    assert values[0] == ("uuid", "question", "issue", "old_value", "change_type", "new_value", "check", "enumerator",
                         "wave_id", "file_name")
    assert values[1] == ("u1", None, "interview shorter than 15 minutes", "10.0 minutes", None, None, "duration", "7",
                         "2025-03", "export.csv")
    assert "duration                      1 line(s)" in capsys.readouterr().out
    assert main(["clean", "check", "--data-dir", str(tmp_path / "in"), "--source", "k", "--out",
                 str(tmp_path / "log.txt")]) == 2


def test_real_tal_afar_short_interviews_and_pilots(shared_data, tmp_path):
    folder = shared_data / "surveys" / "talafar_water_2021"
    # independently: minutes between the raw start and end columns, with the standard library only
    with (folder / "export.csv").open(encoding="utf-8", newline="") as f:
        raw = list(csv.DictReader(f))
    starts = {r["X_uuid"]: dt.datetime.fromisoformat(r["X.U.FEFF.start"]) for r in raw}
    minutes = {u: (dt.datetime.fromisoformat(r["end"]) - starts[u]).total_seconds() / 60 for u, r in
               ((r["X_uuid"], r) for r in raw)}
    short = sorted(u for u, m in minutes.items() if m < 25)
    first_day = min(s.date() for s in starts.values())
    pilots = sorted(u for u, s in starts.items() if s.date() == first_day)
    assert len(short) >= 1 and len(pilots) >= 1

    landing = tmp_path / "in" / "surveys"
    landing.mkdir(parents=True)
    (landing / "talafar_water_2021").symlink_to(folder)
    log, quality = check_source(tmp_path / "in", "talafar_water_2021")
    found = log.filter(pl.col("issue") == "interview shorter than 25 minutes")["uuid"].sort().to_list()
    assert found == short
    found = log.filter(pl.col("issue").str.starts_with("pilot interview"))["uuid"].sort().to_list()
    assert found == pilots
    assert quality["interviews"].sum() == len(raw)
    assert "deviceid" not in log["question"].to_list()
