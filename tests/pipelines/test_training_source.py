"""The training source through the real pipeline: mapping, personal columns dropped, quarantine and row
accounting, completion, and the paired knowledge-gain CI against a hand computation."""

from __future__ import annotations

import csv
import gc

import duckdb
import pytest

from tests.shared_builds import once_per_session

MAPPING = """source_id: hand_training
domain: training
title: hand-made training records
citation: written by tests/pipelines/test_training_source.py
is_synthetic: true
files:
  - path: "*.csv"
columns:
  participant_id: Code
  track: Course
  cohort: Cohort
  cohort_start: Start
  institution: Institution
  level_of_government: Level
  sex: Sex
  pre_test: Pre
  post_test: Post
sessions: [S1, S2, S3, S4]
track_recode: {"Fiscal federalism": fiscal_federalism, "Resilience": resilience}
level_recode: {Federal: federal, KRG: krg, Governorate: governorate}
sex_recode: {F: female, M: male}
institutions: {"Ministry of Finance": federal, "KRG Ministry of Planning": krg}
completion_threshold_pct: 80
"""
HEADER = ["Code", "Name", "Phone", "Email", "Course", "Cohort", "Start", "Institution", "Level", "Sex",
          "S1", "S2", "S3", "S4", "Pre", "Post"]
ROWS = [
    # attendance 100 -> completes; gain 15
    ["P1", "Layla Secret", "+964 770 111 2222", "layla@secret.example", "Fiscal federalism", "FF-A", "2025-01-10",
     "Baghdad", "Governorate", "F", "100", "100", "100", "100", "40", "55"],
    # attendance 75 -> does not complete; gain 10
    ["P2", "Omar Secret", "+964 770 333 4444", "omar@secret.example", "Fiscal federalism", "FF-A", "2025-01-10",
     "Ministry of Finance", "Federal", "M", "100", "50", "100", "50", "50", "60"],
    # attendance 93.75 -> completes; gain 20
    ["P3", "Sara Secret", "+964 750 555 6666", "sara@secret.example", "Fiscal federalism", "FF-A", "2025-01-10",
     "Erbil", "Governorate", "F", "100", "100", "75", "100", "30", "50"],
    # gain 5
    ["P4", "Ali Secret", "+964 780 777 8888", "ali@secret.example", "Fiscal federalism", "FF-B", "2025-06-01",
     "Basra", "Governorate", "M", "100", "100", "100", "100", "60", "65"],
    # P1 again in the same track -> quarantined
    ["P1", "Layla Secret", "+964 770 111 2222", "layla@secret.example", "Fiscal federalism", "FF-B", "2025-06-01",
     "Baghdad", "Governorate", "F", "100", "100", "100", "100", "45", "70"],
    # attendance 120 % -> quarantined
    ["P5", "Huda Secret", "+964 771 999 0000", "huda@secret.example", "Fiscal federalism", "FF-B", "2025-06-01",
     "Ninewa", "Governorate", "F", "100", "120", "100", "100", "50", "70"],
    # blank row -> excluded
    [""] * 16,
    # post-test without pre-test -> loaded, flagged, no gain
    ["P7", "Nasir Secret", "+964 750 121 3434", "nasir@secret.example", "Resilience", "RS-A", "2025-03-01",
     "KRG Ministry of Planning", "KRG", "M", "100", "100", "100", "100", "", "70"],
]
SECRETS = ["Secret", "+964", "example"]


@pytest.fixture(scope="module")
def training_run(tmp_path_factory) -> dict:
    from pipelines.cli import run_pipeline

    def build(folder):
        src = folder / "landing" / "training" / "hand_training"
        src.mkdir(parents=True)
        (src / "source.yaml").write_text(MAPPING, encoding="utf-8")
        with (src / "participants.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(HEADER)
            w.writerows(ROWS)
        warehouse = folder / "wh" / "mizan.duckdb"
        summary = run_pipeline(folder / "landing", warehouse)
        gc.collect()
        return {"warehouse": warehouse, "summary": summary}

    return once_per_session(tmp_path_factory, "hand_training", build)


def _rows(warehouse, sql):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_row_accounting_and_quarantine(training_run):
    wh = training_run["warehouse"]
    assert _rows(wh, "SELECT rows_read, rows_loaded, rows_excluded, rows_quarantined FROM audit.file_registry "
                     "WHERE domain = 'training'") == [(8, 5, 1, 2)]
    quarantined = _rows(wh, "SELECT row_number, column_name, value, reason FROM audit.quarantine "
                            "WHERE domain = 'training' ORDER BY row_number")
    assert [(r[0], r[1], r[2]) for r in quarantined] == [(5, "participant_id", "P1"), (6, "S2", "120")]
    assert "already registered in cohort FF-A" in quarantined[0][3] and "row 1" in quarantined[0][3]
    assert "outside 0-100" in quarantined[1][3]
    assert _rows(wh, "SELECT flag, row_number, respondent_id FROM audit.review_flags WHERE domain = 'training'") == [
        ("post_test_without_pre_test", 8, "P7")]
    assert _rows(wh, "SELECT row_number FROM audit.exclusions WHERE domain = 'training'") == [(7,)]


def test_names_phones_and_emails_never_reach_the_warehouse(training_run):
    wh = training_run["warehouse"]
    assert sorted(r[0] for r in _rows(wh, "SELECT column_name FROM audit.dropped_columns WHERE domain = 'training'")) == [
        "Email", "Name", "Phone"]
    with duckdb.connect(str(wh), read_only=True) as con:
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                             "WHERE table_type = 'BASE TABLE'").fetchall()
        for schema, table in tables:
            text = con.execute(f'SELECT string_agg(CAST(t AS VARCHAR), \'|\') FROM "{schema}"."{table}" AS t').fetchone()[0] or ""
            for secret in SECRETS:
                assert secret not in text, f"{schema}.{table} holds {secret!r}"


def test_completion_and_outputs(training_run):
    wh = training_run["warehouse"]
    got = _rows(wh, "SELECT participant_id, attendance_pct, is_completed, knowledge_gain FROM staging.stg_training__participants "
                    "ORDER BY participant_id")
    assert got == [("P1", 100.0, True, 15.0), ("P2", 75.0, False, 10.0), ("P3", 93.75, True, 20.0),
                   ("P4", 100.0, True, 5.0), ("P7", 100.0, True, None)]
    assert _rows(wh, "SELECT area_code, level_of_government, sex, n_trained, n_completed FROM marts.fct_training_outputs "
                     "WHERE track = 'fiscal_federalism' AND cohort = 'FF-A' ORDER BY area_code") == [
        ("IQG08", "governorate", "female", 1, 1), ("IQG11", "governorate", "female", 1, 1), ("federal", "federal", "male", 1, 0)]


def test_paired_knowledge_gain_ci_matches_a_hand_computation(training_run):
    # gains 15, 10, 20, 5: mean 12.5, sd sqrt(125/3) = 6.454972243679028, se = sd / 2,
    # t(0.975, 3) = 3.182446305284 (tables), CI 12.5 -+ 10.271301283802604
    (row,) = _rows(training_run["warehouse"],
                   "SELECT n_trained, n_completed, n_women, share_women, n_paired, mean_knowledge_gain, sd_knowledge_gain, "
                   "knowledge_gain_ci_lower, knowledge_gain_ci_upper FROM marts.fct_training_cohorts "
                   "WHERE track = 'fiscal_federalism' AND cohort = 'all'")
    n_trained, n_completed, n_women, share_women, n_paired, mean, sd, lo, hi = row
    assert (n_trained, n_completed, n_women, n_paired) == (4, 3, 2, 4)
    assert share_women == pytest.approx(0.5)
    assert mean == pytest.approx(12.5, abs=1e-12)
    assert sd == pytest.approx(6.454972243679028, abs=1e-12)
    assert lo == pytest.approx(2.228698716197396, abs=1e-9)
    assert hi == pytest.approx(22.771301283802604, abs=1e-9)
    (res,) = _rows(training_run["warehouse"], "SELECT n_trained, n_paired, n_post_without_pre, knowledge_gain_ci_lower "
                                              "FROM marts.fct_training_cohorts WHERE track = 'resilience' AND cohort = 'all'")
    assert res == (1, 0, 1, None)
