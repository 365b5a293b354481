"""The landing-folder sensor and partitioned runs, wave approval, and ``mizan status``, on real runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from pipelines.assets.landing import survey_waves
from pipelines.cli import RunFailed, main, run_pipeline
from pipelines.definitions import build_resources, defs
from pipelines.jobs import WAREHOUSE_ASSETS
from pipelines.publish import current_snapshot, read_journal, snapshot_meta
from pipelines.sensors import landing_folder_sensor, landing_requests
from pipelines.status import ApprovalError, approve_wave, format_status, warehouse_status
from tests.pipelines.test_publishing import landing, survey_rows

REPO = Path(__file__).resolve().parents[2]


def test_sensor_requests_one_run_per_new_content_and_nothing_for_loaded_files(tmp_path, published_copy):
    root, wh = published_copy  # a landing folder (survey waves A and B, one budget file), one published run
    # an empty warehouse: every file is new; waves get their own partition, the budget its fiscal-year range
    requests, waves, cursor = landing_requests(root, tmp_path / "none" / "mizan.duckdb", {})
    assert sorted((r.job_name, r.partition_key) for r in requests) == [
        ("mizan_budget_year_run", None), ("mizan_survey_wave_run", "s_waves/A"), ("mizan_survey_wave_run", "s_waves/B")]
    budget = next(r for r in requests if r.job_name == "mizan_budget_year_run")
    assert budget.tags["dagster/asset_partition_range_start"] == "2023" == budget.tags["dagster/asset_partition_range_end"]
    assert waves == ["s_waves/A", "s_waves/B"] and len(cursor) == 3
    # the loaded warehouse already holds these files: turning the sensor on launches nothing
    assert landing_requests(root, wh, {})[0] == []
    # unchanged files are not even re-hashed on the next tick; a corrected wave B launches one run
    (root / "surveys" / "s_waves" / "wave_b_fix.csv").write_text(survey_rows(90, seed=9), encoding="utf-8")
    try:
        requests, waves, _ = landing_requests(root, wh, cursor)
        assert [(r.partition_key, r.tags["mizan/file"]) for r in requests] == [("s_waves/B", "wave_b_fix.csv")]
    finally:
        (root / "surveys" / "s_waves" / "wave_b_fix.csv").unlink()


def test_the_dagster_sensor_adds_the_wave_partition_and_the_partitioned_run_publishes(tmp_path):
    root, wh = landing(tmp_path / "landing"), tmp_path / "wh" / "mizan.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    resources = build_resources(str(root), str(wh))
    with dg.build_sensor_context(instance=instance, resources={"paths": resources["paths"]}) as ctx:
        result = landing_folder_sensor(ctx)
    assert {r.partition_key for r in result.run_requests} == {"s_waves/A", "s_waves/B", None}
    assert result.dynamic_partitions_requests[0].partition_keys == ["s_waves/A", "s_waves/B"]
    instance.add_dynamic_partitions(survey_waves.name, ["s_waves/A", "s_waves/B"])
    local = dg.Definitions(assets=defs.assets, jobs=defs.jobs, sensors=defs.sensors, resources=resources,
                           executor=dg.in_process_executor)
    job = local.resolve_job_def("mizan_survey_wave_run")
    run = job.execute_in_process(partition_key="s_waves/A", instance=instance, raise_on_error=False)
    assert run.success
    files = run.asset_materializations_for_node("landing__survey_wave_files")[0].metadata["files"].value
    assert [(f["file"], f["already_in_warehouse"]) for f in files] == [("wave_a.csv", False)]
    snapshot = current_snapshot(wh)
    assert snapshot is not None and read_journal(wh)[-1]["status"] == "published"
    # the lock was taken and released by the resource: a second writer gets it immediately
    assert run_pipeline(root, wh, lock_timeout_s=5)["status"] == "published"


def test_approval_is_published_follows_the_files_and_status_reports_it(published_copy, capsys):
    root, wh = published_copy  # one published run
    with pytest.raises(ApprovalError, match="s_waves / A, s_waves / B"):
        approve_wave(wh, "s_waves", "C", "lead")
    before = current_snapshot(wh)
    data_run = snapshot_meta(before)["run_id"]
    meta = approve_wave(wh, "s_waves", "A", "M&E lead", "checked against field reports")
    assert current_snapshot(wh) != before and snapshot_meta(current_snapshot(wh))["kind"] == "approval"
    # the approval's snapshot holds the data of the run before it, and says so
    assert snapshot_meta(current_snapshot(wh))["data_run_id"] == data_run
    assert warehouse_status(wh)["snapshot"]["data_run_id"] == data_run
    with pytest.raises(ApprovalError, match="no approval to revoke"):
        approve_wave(wh, "s_waves", "B", "lead", revoke=True)
    waves = {w["wave_id"]: w for w in warehouse_status(wh)["waves"]}
    assert waves["A"]["approval_status"] == "approved" and waves["A"]["decided_by"] == "M&E lead"
    assert waves["B"]["approval_status"] == "provisional"
    assert meta["record"]["kind"] == "approval" and "approved s_waves / A" in meta["record"]["message"]
    # a corrected file for wave A: its approval no longer holds
    (root / "surveys" / "s_waves" / "wave_a_fix.csv").write_text(survey_rows(70, seed=3), encoding="utf-8")
    run_pipeline(root, wh)
    waves = {w["wave_id"]: w for w in warehouse_status(wh)["waves"]}
    assert waves["A"]["approval_status"] == "provisional (files changed since approval)" and not waves["A"]["is_approved"]
    approve_wave(wh, "s_waves", "A", "M&E lead")
    # a failed data run followed by an approval: the failure is still reported
    bad = root / "budget" / "b_sectors" / "lines_bad.csv"
    bad.write_text("gov,year,sector,allocation,spent\nBasra,2023,health,1,1\nBasra,2023,all,3,2\n", encoding="utf-8")
    with pytest.raises(RunFailed):
        run_pipeline(root, wh)
    bad.unlink()
    approve_wave(wh, "s_waves", "A", "M&E lead", "re-opened", revoke=True)
    status = warehouse_status(wh)
    assert status["last_data_run"]["status"] == "failed"
    assert "LAST DATA RUN" in format_status(status) and "failed" in format_status(status)
    assert {w["wave_id"]: w["approval_status"] for w in warehouse_status(wh)["waves"]}["A"] == "provisional (approval revoked)"
    # the CLI: same default --warehouse handling, JSON names the current snapshot
    assert main(["status", "--json", "--warehouse", str(wh)]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["snapshot"]["path"] == str(current_snapshot(wh))
    assert body["snapshot"]["run_id"] == snapshot_meta(current_snapshot(wh))["run_id"]
    assert main(["approve", "--source", "s_waves", "--wave", "Z", "--warehouse", str(wh)]) == 1
    assert "no survey wave s_waves / Z" in capsys.readouterr().err


def test_status_without_a_warehouse_says_what_to_do(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "status", "--warehouse", str(tmp_path / "w.duckdb")],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 1 and "no published snapshot yet" in proc.stdout and "Traceback" not in proc.stderr


def test_dev_instance_allows_one_warehouse_run_at_a_time(tmp_path):
    config = yaml.safe_load((REPO / "pipelines" / "dagster_home" / "dagster.yaml").read_text())
    assert config["concurrency"]["pools"] == {"granularity": "run", "default_limit": 1}
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
    finally:
        instance.dispose()
    # every asset that writes the warehouse is in the pool (the landing records only read)
    writers = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and next(iter(a.keys)).path[0] != "landing"]
    assert len(writers) == len(WAREHOUSE_ASSETS)
    assert {op.pool for a in writers for op in a.node_def.iterate_op_defs()} == {"mizan_warehouse"}
