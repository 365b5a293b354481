"""Reviewed cleaning logs applied by the real ingestion assets into a real DuckDB file, one fixture per log
rule: change_response (checked against the form), blank_response, remove_survey (row accounting),
no_action, stale and unknown lines, values compared as the question's type, repeated and conflicting lines,
select_multiple split columns kept in step, the audit trail and the log's hash per wave. Every expected
value is written in the test."""

from __future__ import annotations

import hashlib

import openpyxl
import pytest

from tests.pipelines.survey_fixtures import (
    accounts,
    exclusions,
    failure_message,
    ingest,
    kobo_csv,
    loaded,
    submission,
    table,
    write_source,
)

HEADER = "uuid,question,issue,old_value,change_type,new_value\n"


def _rows():
    return [submission("u1", hours="6"), submission("u2", hours="12", water="poor"),
            submission("u3", hours="1000", problems="cuts"), submission("u4", consent="no")]


def landing(tmp_path, log: str | bytes | None, name: str = "cleaning_log.csv", rows=None):
    folder = write_source(tmp_path / "in", "k", {"export.csv": kobo_csv(rows or _rows())})
    if log is not None:
        (folder / name).write_bytes(log if isinstance(log, bytes) else log.encode("utf-8"))
    return folder


def run(tmp_path, log, name: str = "cleaning_log.csv", ok: bool = True, rows=None):
    landing(tmp_path, log, name, rows)
    wh = tmp_path / "wh.duckdb"
    result = ingest(tmp_path / "in", wh)
    if ok:
        assert result.success, failure_message(result)
        return wh
    assert not result.success
    return failure_message(result)


def changes(wh):
    return table(wh, "SELECT respondent_id, question, old_value, new_value, change_type, issue, log_file, log_line "
                     "FROM audit.cleaning_changes ORDER BY log_line, question").rows()


def test_change_and_blank_response_set_values_and_are_audited(tmp_path):
    log = HEADER + ("u3,hours,outlier,1000,change_response,10\n"
                    "u2,water,typo,poor,change_response,adequate\n"
                    "u1,hours,not asked,,blank_response,\n")
    wh = run(tmp_path, log)
    assert loaded(wh) == [("u1", "IQG08", "good", None), ("u2", "IQG08", "adequate", 12.0), ("u3", "IQG08", "good", 10.0)]
    assert changes(wh) == [
        ("u3", "hours", "1000", "10", "change_response", "outlier", "cleaning_log.csv", 2),
        ("u2", "water", "poor", "adequate", "change_response", "typo", "cleaning_log.csv", 3),
        ("u1", "hours", "6", None, "blank_response", "not asked", "cleaning_log.csv", 4),  # empty old_value: found value
    ]
    # the raw file is unchanged: the delivered value is still in the archive, the change only in the warehouse
    sha = hashlib.sha256(log.encode()).hexdigest()
    assert table(wh, "SELECT wave_id, log_file, log_sha256, lines, changes, removed FROM audit.cleaning_logs").rows() == [
        ("2025-03", "cleaning_log.csv", sha, 3, 3, 0)]
    assert table(wh, "SELECT cleaning_log_sha256s FROM raw.survey_sources").item() == sha
    path = table(wh, "SELECT archive_path FROM audit.cleaning_logs").item()
    assert (wh.parent / path).read_bytes() == log.encode()


def test_remove_survey_is_an_exclusion_and_accounting_holds(tmp_path):
    wh = run(tmp_path, HEADER + "u2,,interview shorter than 25 minutes,,remove_survey,\n")
    assert [r[0] for r in loaded(wh)] == ["u1"]
    # read 4 = loaded 1 + excluded 2 (u4 without consent, u2 removed) + quarantined 1 (u3: 1000 hours a day)
    assert accounts(wh) == [("export.csv", 4, 1, 2, 1)]
    assert exclusions(wh) == [
        ("export.csv", None, 2, "removed by cleaning log cleaning_log.csv line 2: interview shorter than 25 minutes"),
        ("export.csv", None, 4, "no consent (consent = 'no')"),
    ]
    assert changes(wh) == [("u2", None, None, None, "remove_survey", "interview shorter than 25 minutes",
                            "cleaning_log.csv", 2)]


def test_no_action_changes_nothing(tmp_path):
    wh = run(tmp_path, HEADER + "u3,hours,outlier,1000,no_action,\nu1,,duration,31.5 minutes,no_action,\n")
    assert [r[0] for r in loaded(wh)] == ["u1", "u2"]  # u3 stays as delivered: quarantined, 1000 hours a day
    assert table(wh, "SELECT row_number, column_name, value FROM audit.quarantine").rows() == [(3, "hours", "1000")]
    assert changes(wh) == []
    assert table(wh, "SELECT lines, changes, removed, no_action FROM audit.cleaning_logs").rows() == [(2, 0, 0, 2)]


@pytest.mark.parametrize(("line", "expected"), [
    ("u3,hours,outlier,999,change_response,10",
     "cleaning log cleaning_log.csv line 2 (uuid 'u3'): old_value '999' does not match the data: hours is '1000'"),
    ("u9,hours,outlier,,change_response,10",
     "cleaning log cleaning_log.csv line 2 (uuid 'u9'): no interview has this uuid"),
    ("u3,hourz,outlier,,change_response,10",
     "cleaning log cleaning_log.csv line 2 (uuid 'u3'): question 'hourz' is not a column of export.csv"),
    ("u2,water,typo,,change_response,superb",
     "line 2 (uuid 'u2'): new_value refused: 'superb' is not a choice of water (list 'rating'"),
    ("u2,hours,typo,,change_response,6.5",
     "line 2 (uuid 'u2'): new_value refused: '6.5' is not a whole number (hours is an integer question)"),
    ("u2,hh_name,typo,,change_response,Ali",
     "line 2 (uuid 'u2'): question 'hh_name' is personal data, dropped before loading"),
    ("u2,hours,typo,,,10", "line 2 (uuid 'u2'): change_type None is not one of change_response"),
    ("u2,,typo,,change_response,10", "line 2 (uuid 'u2'): change_response needs the question it changes"),
])
def test_a_refused_line_stops_the_run_naming_file_and_line(tmp_path, line, expected):
    message = run(tmp_path, HEADER + line + "\n", ok=False)
    assert expected in message


def test_a_value_outside_the_forms_constraint_is_refused(tmp_path):
    folder = landing(tmp_path, HEADER + "u2,hours,typo,12,change_response,30\n")
    wb = openpyxl.load_workbook(folder / "form.xlsx")
    ws = wb["survey"]
    ws.cell(row=1, column=5, value="constraint")
    for r in range(2, ws.max_row + 1):
        if ws.cell(row=r, column=2).value == "hours":
            ws.cell(row=r, column=5, value=". >= 0 and . <= 24")
    wb.save(folder / "form.xlsx")
    result = ingest(tmp_path / "in", tmp_path / "wh.duckdb")
    assert not result.success
    assert ("cleaning log cleaning_log.csv line 2 (uuid 'u2'): new_value refused: '30' breaks the form's constraint "
            "on hours: . >= 0 and . <= 24") in failure_message(result)


def test_values_compare_as_the_questions_type(tmp_path):
    rows = [submission("u1", hours="1000000"), submission("u2", problems="cuts dirty"), submission("u3")]
    log = HEADER + ('u1,hours,outlier,"1,000,000.00",change_response,24\n'
                    "u2,problems/dirty,typo,TRUE,change_response,FALSE\n"
                    "u3,start,date typo,2025-03-02T06:15:00Z,no_action,\n")
    wh = run(tmp_path, log, rows=rows)
    assert loaded(wh)[0] == ("u1", "IQG08", "good", 24.0)
    # the split column and the space-separated answer stay in step: both audited, with the same log line
    assert changes(wh) == [
        ("u1", "hours", "1000000", "24", "change_response", "outlier", "cleaning_log.csv", 2),
        ("u2", "problems", "cuts dirty", "cuts", "change_response", "kept in step with problems/dirty (typo)",
         "cleaning_log.csv", 3),
        ("u2", "problems/dirty", "1", "0", "change_response", "typo", "cleaning_log.csv", 3),
    ]
    assert table(wh, "SELECT choice_code, is_selected FROM raw.survey_multi_select WHERE respondent_id = 'u2' "
                     "ORDER BY choice_code").rows() == [("cuts", True), ("dirty", False), ("low_pressure", False)]


def test_a_repeated_line_applies_once_and_conflicting_lines_are_refused(tmp_path):
    line = "u3,hours,outlier,1000,change_response,10\n"
    wh = run(tmp_path / "a", HEADER + line + line)
    assert [c[:4] for c in changes(wh)] == [("u3", "hours", "1000", "10")]
    message = run(tmp_path / "b", HEADER + line + "u3,hours,outlier,1000,change_response,12\n", ok=False)
    assert ("cleaning log cleaning_log.csv line 3 (uuid 'u3'): cleaning_log.csv line 2 sets 'hours' of the same uuid "
            "to '10' (change_response); this line to '12'") in message


def test_logs_apply_in_order_and_xlsx_logs_with_r_names_are_read(tmp_path):
    folder = landing(tmp_path, HEADER + "u3,hours,outlier,1000,change_response,10\n", name="cleaning_log_1.csv")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["X_uuid", "questions", "issue", "old_value", "change_type", "new_value", "enumerator"])
    ws.append(["u3", "hours", "second look", 10, "change_response", 11, "7"])  # numbers typed as numbers in Excel
    ws.append(["u1", None, "pilot", None, "remove_survey", None, "7"])
    wb.save(folder / "cleaning_log_2.xlsx")
    wh = tmp_path / "wh.duckdb"
    result = ingest(tmp_path / "in", wh)
    assert result.success, failure_message(result)
    assert loaded(wh) == [("u2", "IQG08", "poor", 12.0), ("u3", "IQG08", "good", 11.0)]
    assert [(c[0], c[1], c[2], c[3], c[6], c[7]) for c in changes(wh)] == [
        ("u3", "hours", "1000", "10", "cleaning_log_1.csv", 2),
        ("u3", "hours", "10", "11", "cleaning_log_2.xlsx", 2),
        ("u1", None, None, None, "cleaning_log_2.xlsx", 3),
    ]
    # both logs are delivered files the run applied, not unmapped data files
    outcomes = table(wh, "SELECT file_name, outcome FROM audit.file_deliveries WHERE file_name LIKE 'cleaning%'").rows()
    assert outcomes == []


def test_applying_twice_changes_nothing_and_removing_the_log_restores_the_data(tmp_path):
    before = run(tmp_path / "none", None)
    original = loaded(before)
    folder = landing(tmp_path / "with", HEADER + "u3,hours,outlier,1000,change_response,10\n"
                                              "u2,,pilot,,remove_survey,\n")
    wh = tmp_path / "with" / "wh.duckdb"
    assert ingest(tmp_path / "with" / "in", wh).success
    cleaned = loaded(wh)
    assert cleaned == [("u1", "IQG08", "good", 6.0), ("u3", "IQG08", "good", 10.0)]
    assert ingest(tmp_path / "with" / "in", wh).success  # the same log again: the same data, the same audit
    assert loaded(wh) == cleaned
    assert len(changes(wh)) == 2
    (folder / "cleaning_log.csv").unlink()
    assert ingest(tmp_path / "with" / "in", wh).success
    assert loaded(wh) == original
    assert changes(wh) == []
    assert table(wh, "SELECT cleaning_log_sha256s FROM raw.survey_sources").item() is None


def test_a_changed_log_launches_a_run_of_its_wave_and_an_applied_one_nothing(tmp_path):
    from pipelines.sensors import landing_requests

    log = HEADER + "u3,hours,outlier,1000,change_response,10\n"
    wh = run(tmp_path, log)
    root = tmp_path / "in"
    requests, _, cursor = landing_requests(root, wh, {})
    assert requests == []  # the export and the log applied are both known to the published snapshot
    (root / "surveys" / "k" / "cleaning_log.csv").write_text(log + "u1,hours,typo,6,change_response,7\n", encoding="utf-8")
    requests, _, _ = landing_requests(root, wh, cursor)
    assert [(r.partition_key, r.tags["mizan/file"]) for r in requests] == [("k/2025-03", "cleaning_log.csv")]


def test_r_and_kobo_group_spellings_of_questions_are_understood(tmp_path):
    log = HEADER + ("u1,X.U.FEFF.start,date checked,2025-03-02T09:15:00.000+03:00,no_action,\n"
                    "u2,household/hours,group path as Kobo writes it,12,change_response,11\n"
                    "u3,household.problems.cuts,group path as R writes it,TRUE,change_response,FALSE\n")
    wh = run(tmp_path, log, rows=[submission("u1"), submission("u2", hours="12"), submission("u3", problems="cuts")])
    assert [c[:4] for c in changes(wh)] == [("u2", "hours", "12", "11"), ("u3", "problems", "cuts", None),
                                            ("u3", "problems/cuts", "1", "0")]


def test_a_new_log_makes_an_approved_wave_provisional_again(tmp_path):
    from pipelines.status import approve_wave

    wh = run(tmp_path, None)
    approve_wave(wh, "k", "2025-03", "m&e lead", "checked")
    status = "SELECT approval_status FROM audit.wave_approval_status"
    assert table(pub_current(wh), status).item() == "approved"
    (tmp_path / "in" / "surveys" / "k" / "cleaning_log.csv").write_text(
        HEADER + "u2,,pilot,,remove_survey,\n", encoding="utf-8")
    assert ingest(tmp_path / "in", wh).success
    assert table(pub_current(wh), status).item() == "provisional (files changed since approval)"
    approve_wave(wh, "k", "2025-03", "m&e lead", "log reviewed")
    assert table(pub_current(wh), status).item() == "approved"


def pub_current(wh):
    from pipelines import publish as pub

    return pub.current_snapshot(wh)
