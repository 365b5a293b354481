"""`mizan run` as a whole: the warehouse is replaced only by a run that passed; failures are named."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import RunFailed, collect_summary, format_summary, main, run_pipeline
from pipelines.publish import Layout, read_journal
from tests.shared_builds import once_per_session

MAPPING = """
source_id: small
domain: survey
title: small test survey
format: csv
files: [{path: data.csv, wave_id: "2025"}]
respondent_id: id
governorate: {column: gov}
stratum: {column: stratum}
psu: {per_respondent: true}
weight: {column: w}
weight_note: test
design_note: test
questions:
  water_problem_main_source: {column: problem}
"""


def landing(root, weights: list[str]):
    folder = root / "surveys" / "small"
    folder.mkdir(parents=True)
    (folder / "source.yaml").write_text(textwrap.dedent(MAPPING))
    rows = [f"r{i},{'Baghdad' if i % 2 else 'Basra'},s{i % 3},{w},{'yes' if i % 4 == 0 else 'no'}" for i, w in enumerate(weights)]
    (folder / "data.csv").write_text("id,gov,stratum,w,problem\n" + "\n".join(rows) + "\n")
    return root


def fingerprint(path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            t: con.execute(f"SELECT count(*), md5(string_agg(x::VARCHAR, '|' ORDER BY x::VARCHAR)) FROM {t} x").fetchone()
            for t in ("raw.survey_respondents", "audit.file_registry", "marts.fct_service_indicators")
        }
    finally:
        con.close()


def test_failed_run_leaves_the_last_good_warehouse(tmp_path):
    warehouse = tmp_path / "wh" / "mizan.duckdb"
    good = run_pipeline(landing(tmp_path / "good", ["1.5"] * 80), warehouse)
    assert good["status"] == "published"
    before = fingerprint(warehouse)
    assert before["raw.survey_respondents"][0] == 80
    with pytest.raises(RunFailed) as exc:
        run_pipeline(landing(tmp_path / "bad", ["1.5"] * 79 + ["0"]), warehouse)
    assert "data.csv" in str(exc.value) and "row 80" in str(exc.value) and "stays live" in str(exc.value)
    assert fingerprint(warehouse) == before
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        log = con.execute("SELECT status FROM audit.run_log ORDER BY started_at").fetchall()
    finally:
        con.close()
    assert log == [("published",)]  # the snapshot is immutable: the failure is in the journal
    journal = read_journal(warehouse)
    assert [j["status"] for j in journal] == ["published", "failed"]
    assert "row 80" in journal[-1]["message"] and journal[-1]["snapshot"] is None
    assert list(Layout.of(warehouse).building_dir.iterdir()) == []


def test_cli_names_a_missing_folder_and_exits_1(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--data-dir", str(tmp_path / "nope"), "--warehouse",
         str(tmp_path / "w.duckdb")], capture_output=True, text=True,
    )
    assert proc.returncode == 1
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_dashboard_refuses_a_missing_warehouse(tmp_path, capsys):
    assert main(["dashboard", "--warehouse", str(tmp_path / "none.duckdb")]) == 1
    assert "no warehouse at" in capsys.readouterr().err


LONELY_MAPPING = """
source_id: lonely
domain: survey
title: single-PSU strata
format: csv
files: [{path: export.csv, wave_id: "2025"}]
respondent_id: id
governorate: {column: gov}
stratum: {column: stratum}
psu: {column: psu}
weight: {constant: 1}
weight_note: equal
design_note: Najaf sampled in one PSU of its own stratum
questions:
  water_service_rating: {column: rating}
"""


def write_lonely(root) -> None:
    """Source ``lonely``: Basra in 4 PSUs of one stratum; Najaf in one PSU of its own stratum, 25 of 40 good."""
    folder = root / "surveys" / "lonely"
    folder.mkdir(parents=True)
    (folder / "source.yaml").write_text(LONELY_MAPPING)
    rows = [f"b{i},Basra,bas,p{i % 4},{'good' if i % 3 == 0 else 'poor'}" for i in range(40)]
    rows += [f"n{i},Najaf,naj,n1,{'good' if i < 25 else 'poor'}" for i in range(40)]
    (folder / "export.csv").write_text("id,gov,stratum,psu,rating\n" + "\n".join(rows) + "\n")


@pytest.fixture(scope="session")
def lonely_and_undated(tmp_path_factory) -> tuple[dict, Path]:
    """The sources of the next two tests (``lonely``, ``undated``) in one landing folder, loaded by one
    ``mizan run`` for both (and every xdist worker): ``(run summary, warehouse)``. Each test reads only its
    own source's rows and lines: the sources share no source_id, and every estimate, suppression margin and
    change is computed per source."""

    def build(folder: Path) -> tuple[dict, Path]:
        write_lonely(folder / "in")
        write_undated(folder / "in")
        return run_pipeline(folder / "in", folder / "wh.duckdb"), folder / "wh.duckdb"

    return once_per_session(tmp_path_factory, "cli_lonely_and_undated", build)


def test_domain_inside_single_psu_strata_is_suppressed_not_fatal(lonely_and_undated):
    summary, warehouse = lonely_and_undated
    assert summary["status"] == "published"
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        najaf = con.execute(
            "SELECT estimate, std_error, ci_lower, ci_upper, is_suppressed, suppression_reason FROM marts.fct_service_indicators "
            "WHERE source_id = 'lonely' AND indicator_id = 'water_service_good' AND governorate_pcode = 'IQG04'").fetchone()
        basra = con.execute(
            "SELECT estimate, is_suppressed FROM marts.fct_service_indicators "
            "WHERE source_id = 'lonely' AND indicator_id = 'water_service_good' AND governorate_pcode = 'IQG02'").fetchone()
    finally:
        con.close()
    # 25 of 40 good, but all in one PSU of a one-PSU stratum: no variance can be estimated
    assert najaf[0] == pytest.approx(25 / 40) and najaf[1] == 0
    assert najaf[2] is None and najaf[3] is None
    assert najaf[4] is True and najaf[5].startswith("no sampling variance")
    assert basra == (pytest.approx(14 / 40), False)  # i % 3 == 0 for 14 of 0..39


UNDATED_MAPPING = """
source_id: undated
domain: survey
title: two waves without fieldwork dates
format: csv
files:
  - {path: w9.csv, wave_id: "9"}
  - {path: w10.csv, wave_id: "10"}
respondent_id: id
governorate: {column: gov}
stratum: {column: gov}
psu: {column: psu}
weight: {constant: 1}
disaggregations:
  age_group: {column: age}
weight_note: equal
design_note: two clusters of 30 households per governorate
questions:
  water_problem_main_source: {column: problem}
"""


def write_undated(root) -> None:
    """Source ``undated``: waves 9 and 10 without dates, 3 PSUs of 20 households in Basra and in Najaf."""
    folder = root / "surveys" / "undated"
    folder.mkdir(parents=True)
    (folder / "source.yaml").write_text(UNDATED_MAPPING)
    for wave, share in (("9", 0.2), ("10", 0.8)):
        # 3 PSUs of 20; household 9 of the first PSU also says yes, so PSUs differ (a variance to estimate)
        rows = [f"{wave}-{g}{i},{g},{g}{i // 20},{'old' if i % 3 else 'young'},"
                f"{'yes' if (i % 10) < share * 10 or i == 9 else 'no'}" for g in ("Basra", "Najaf") for i in range(60)]
        (folder / f"w{wave}.csv").write_text("id,gov,psu,age,problem\n" + "\n".join(rows) + "\n")


def test_waves_without_dates_are_ordered_by_number_and_the_run_says_so(lonely_and_undated):
    """Waves 9 and 10 (no interview dates): '10' sorts before '9' as text, but wave 10 follows wave 9; the
    problem share rises from 13/60 to 49/60, and the change says so. The declared age_group is used by no
    indicator: the summary warns instead of dropping it silently."""
    summary, warehouse = lonely_and_undated
    assert summary["status"] == "published"
    text = format_summary(summary)
    assert ("undated: wave(s) 9, 10 have no fieldwork dates, so the waves are put in order by their ids (9 → 10)"
            in text)
    assert "undated: 240 respondent(s) carry age_group, but no indicator is broken down by it" in text
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        change = con.execute(
            "SELECT wave_from, wave_to, estimate_from, estimate_to, is_significant FROM marts.fct_indicator_change "
            "WHERE source_id = 'undated' AND indicator_id = 'water_problem_reported' AND governorate_pcode = 'IQG02' "
            "AND disaggregation = 'all'"
        ).fetchall()
    finally:
        con.close()
    assert change == [("9", "10", pytest.approx(13 / 60, rel=1e-12), pytest.approx(49 / 60, rel=1e-12), True)]


def test_summary_of_a_build_that_stopped_before_dim_wave(tmp_path):
    """dbt can fail before marts.dim_wave is built while other marts remain: the summary is still written
    (so the failed test is named) and simply has no design lines."""
    path = tmp_path / "partial.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts; CREATE TABLE marts.dim_estimation_rules (rule_text VARCHAR)")
    con.execute("INSERT INTO marts.dim_estimation_rules VALUES ('the rule')")
    con.close()
    summary = collect_summary(path, "run-x")
    assert summary["designs"] == [] and summary["rules"] == [{"rule_text": "the rule"}]
    assert "the rule" in format_summary({**summary, "status": "failed"})


def test_a_mizan_run_is_recorded_in_the_dagster_home_it_is_given(tmp_path, monkeypatch):
    """With ``$DAGSTER_HOME`` set, `mizan run` goes through that instance: the UI's run history lists it,
    tagged with mizan's run id, with the dbt and ingestion steps it ran."""
    import dagster as dg

    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((Path("pipelines") / "dagster_home" / "dagster.yaml").read_text())
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    summary = run_pipeline(landing(tmp_path / "landing", ["1.5"] * 60), tmp_path / "wh" / "mizan.duckdb")
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert [r.run_id for r in runs] == [summary["dagster_run_id"]]
        assert runs[0].tags["mizan/run_id"] == summary["run_id"]
        assert runs[0].status == dg.DagsterRunStatus.SUCCESS
        materialized = {k.to_user_string() for k in instance.get_asset_keys()}
    assert {"marts/fct_service_indicators", "raw/survey_respondents"} <= materialized
