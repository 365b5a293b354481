"""Survey inputs that used to get through or fail unclearly: an infinite weight or number, an impossible time
of day, an interview dated years away from its wave, a PSU code in two strata, a recoded interview date, a
source of which no row loads, a mapping with a key twice, a codebook in the mapping's encoding, and the run
summary's count of quarantined rows across files. Real ingestion assets, real DuckDB file; expected
outcomes written out."""

from __future__ import annotations

import datetime as dt
import textwrap

from pipelines.cli import collect_summary, format_summary
from tests.pipelines.survey_fixtures import (
    MAPPING,
    failure_message,
    ingest,
    kobo_csv,
    quarantine,
    submission,
    table,
    write_form,
    write_source,
)


def _run(tmp_path, rows, form_extra=(), extra="xlsform: form.xlsx", mapping=None):
    folder = write_source(tmp_path / "in", "k", {"export.csv": kobo_csv(rows)}, extra=extra, mapping=mapping)
    write_form(folder / "form.xlsx", extra_survey=list(form_extra))
    wh = tmp_path / "wh.duckdb"
    return ingest(tmp_path / "in", wh), wh


def _start(day: str) -> str:
    return f"{day}T09:15:00.000+03:00"


def test_an_infinite_weight_stops_the_run_naming_file_and_row(tmp_path):
    result, _ = _run(tmp_path, [submission("u1"), submission("u2", weight="1e999")])
    assert not result.success
    assert "export.csv: 1 row(s) with missing, zero, negative, infinite or unreadable weight: row 2 (1e999)" \
        in failure_message(result)


def test_a_number_that_overflows_is_quarantined_not_stored_as_infinity(tmp_path):
    form = [("decimal", "distance_km", "Distance to the water point", "المسافة")]
    rows = [submission("u1", distance_km="2.5"), submission("u2", distance_km="1e999")]
    result, wh = _run(tmp_path, rows, form_extra=form)
    assert result.success, failure_message(result)
    assert quarantine(wh) == [("export.csv", None, 2, "distance_km", "1e999",
                               "a number too large to store (it overflows to infinity)")]
    assert table(wh, "SELECT count(*) FROM raw.survey_submissions WHERE isinf(value_numeric)").item() == 0


def test_an_impossible_time_of_day_is_quarantined(tmp_path):
    rows = [submission("u1"), submission("u2", start="2024-03-02T25:61:00+03:00")]
    result, wh = _run(tmp_path, rows)
    assert result.success, failure_message(result)
    q = quarantine(wh)
    assert {(r[2], r[3], r[4]) for r in q} == {(2, "start", "2024-03-02T25:61:00+03:00")}
    assert ("not a valid ISO timestamp (XLSForm start; a real calendar day and time of day, hours 00-23, "
            "minutes 00-59)") in {r[5] for r in q}
    assert table(wh, "SELECT respondent_id FROM raw.survey_respondents").rows() == [("u1",)]


def test_interview_dates_outside_the_fieldwork_window_are_quarantined(tmp_path):
    rows = [submission(f"u{i}", start=_start(f"2025-03-0{i}")) for i in range(1, 6)]
    rows += [submission("u6", start=_start("2031-03-02")), submission("u7", start=_start("2019-03-02"))]
    result, wh = _run(tmp_path, rows)
    assert result.success, failure_message(result)
    today = dt.date.today().isoformat()
    assert [(r[2], r[3], r[5]) for r in quarantine(wh)] == [
        (6, "start", f"interview date after the run date ({today}): a device clock or a typed year gone wrong"),
        (7, "start", "interview date more than 366 days from the file's median interview date (2025-03-03): "
                     "outside the wave's fieldwork"),
    ]
    assert table(wh, "SELECT fieldwork_start::VARCHAR, fieldwork_end::VARCHAR FROM raw.survey_sources").rows() == [
        ("2025-03-01", "2025-03-05")]


def test_a_psu_code_in_two_strata_stops_the_run_naming_the_rows(tmp_path):
    rows = [submission("u1", stratum="s1", cluster="c1"), submission("u2", stratum="s1", cluster="c1"),
            submission("u3", stratum="s2", cluster="c1"), submission("u4", stratum="s2", cluster="c2")]
    result, _ = _run(tmp_path, rows)
    assert not result.success
    assert ("k: 1 PSU code(s) appear in more than one stratum: wave 2025-03 PSU 'c1' in stratum 's1' "
            "(export.csv: row(s) 1, 2); wave 2025-03 PSU 'c1' in stratum 's2' (export.csv: row(s) 3)") \
        in failure_message(result)


PLAIN = """
source_id: k
domain: survey
title: plain file with visit dates
format: csv
{extra}
files: [{{path: data.csv, wave_id: "2025"}}]
respondent_id: id
governorate: {{column: gov}}
stratum: {{column: gov}}
psu: {{per_respondent: true}}
weight: {{constant: 1}}
interview_date: {{column: visit, recode: {{"unknown": null, "15/03/2025": "2025-03-15"}}}}
consent: {{column: consent, include: ["yes"]}}
weight_note: equal
design_note: test
questions:
  water_service_rating: {{column: rating}}
"""


def _plain(tmp_path, lines: list[str], extra: str = "", mapping: str | None = None):
    folder = tmp_path / "in" / "surveys" / "k"
    folder.mkdir(parents=True)
    (folder / "source.yaml").write_text(mapping or PLAIN.format(extra=extra), encoding="utf-8")
    (folder / "data.csv").write_text("id,gov,visit,consent,rating\n" + "\n".join(lines) + "\n", encoding="utf-8")
    wh = tmp_path / "wh.duckdb"
    return ingest(tmp_path / "in", wh), wh, folder


def test_interview_date_honours_its_recode(tmp_path):
    result, wh, _ = _plain(tmp_path, ["a,Basra,2025-03-14,yes,good", "b,Basra,15/03/2025,yes,poor",
                                      "c,Basra,unknown,yes,good", "d,Basra,16/03/2025,yes,good"])
    assert result.success, failure_message(result)
    assert table(wh, "SELECT respondent_id, interview_date::VARCHAR FROM raw.survey_respondents ORDER BY 1").rows() \
        == [("a", "2025-03-14"), ("b", "2025-03-15"), ("c", None)]
    assert [(r[2], r[3], r[4]) for r in quarantine(wh)] == [(4, "visit", "16/03/2025")]


def test_a_source_of_which_no_row_loads_stops_the_run_unless_the_mapping_allows_it(tmp_path):
    lines = ["a,Basra,2025-03-14,no,good", "b,Basra,2025-03-15,no,poor"]
    result, _, _ = _plain(tmp_path / "strict", lines)
    assert not result.success
    assert ("source k: no row loaded from its 1 file(s) (read 2, excluded 2, quarantined 0; see the reasons below): "
            "the warehouse is not replaced; if an empty delivery is expected, set allow_empty: true") \
        in failure_message(result)
    result, wh, _ = _plain(tmp_path / "allowed", lines, extra="allow_empty: true")
    assert result.success, failure_message(result)
    assert table(wh, "SELECT rows_read, rows_loaded, rows_excluded FROM audit.file_registry").rows() == [(2, 0, 2)]


def test_a_mapping_with_a_key_twice_is_refused_naming_the_key_and_lines(tmp_path):
    text = PLAIN.format(extra="").replace("weight_note: equal\n", "weight_note: equal\nweight_note: design\n")
    result, _, _ = _plain(tmp_path, ["a,Basra,2025-03-14,yes,good"], mapping=text)
    assert not result.success
    assert "key 'weight_note' appears twice in the same mapping (line 15 and line 16)" in failure_message(result)


def test_the_codebook_is_read_in_the_mappings_encoding(tmp_path):
    folder = tmp_path / "in" / "surveys" / "k"
    folder.mkdir(parents=True)
    text = PLAIN.format(extra="encoding: cp1256\ncodebook: codebook.csv").replace(
        "interview_date: {column: visit, recode: {\"unknown\": null, \"15/03/2025\": \"2025-03-15\"}}\n", "")
    (folder / "source.yaml").write_text(text, encoding="utf-8")
    (folder / "codebook.csv").write_bytes(
        "variable,type,label_en,label_ar,values\nrating,select_one,Water,تقييم المياه,good=Good; poor=Poor\n"
        .encode("cp1256"))
    (folder / "data.csv").write_bytes("id,gov,visit,consent,rating\nا1,البصرة,2025-03-14,yes,good\n".encode("cp1256"))
    wh = tmp_path / "wh.duckdb"
    result = ingest(tmp_path / "in", wh)
    assert result.success, failure_message(result)
    assert table(wh, "SELECT label_ar FROM raw.survey_form_labels WHERE item_type = 'question' AND field_name = "
                     "'rating'").rows() == [("تقييم المياه",)]


def test_the_summary_counts_quarantined_rows_of_every_file(tmp_path):
    bad = [submission("u1"), submission("u2", water="superb")]
    two_waves = MAPPING.format(sid="k", fmt="kobo_csv", extra="xlsform: form.xlsx", glob="export_a.csv",
                               id_col="_uuid").replace('    wave_id: "2025-03"\n', '    wave_id: "2025-03"\n'
                                                       '  - path: "export_b.csv"\n    wave_id: "2025-09"\n')
    folder = write_source(tmp_path / "in", "k", {"export_a.csv": kobo_csv(bad),
                                                 "export_b.csv": kobo_csv([submission("v1"), submission("v2", water="superb")])},
                          mapping=two_waves)
    write_form(folder / "form.xlsx")
    wh = tmp_path / "wh.duckdb"
    result = ingest(tmp_path / "in", wh)
    assert result.success, failure_message(result)
    summary = collect_summary(wh, "no-run")
    assert {(r["column_name"], r["n_rows"]) for r in summary["quarantine_by_reason"]} == {("water", 2)}
    text = format_summary({**summary, "status": "published"})
    assert "  k/export_a.csv: 1 row(s)\n  k/export_b.csv: 1 row(s)" in text
    assert textwrap.dedent("""\
        rows quarantined, by reason (audit.quarantine):
          k: 2 row(s), column water""") in text
