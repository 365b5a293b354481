"""Publishing under stress, with the real pipeline (``mizan run`` in a separate process, dbt included):

- 16 reader threads run the dashboard's own query functions while the pipeline publishes 5 times: no
  error, and every read sees one complete snapshot (its row counts equal that snapshot's run log);
- the pipeline is killed with SIGKILL in each phase of a run (with its working copy made, while dbt builds,
  while it publishes): the current snapshot still opens, passes the integrity check and is the last good
  one; the next run succeeds;
- a dbt test failure (a bad budget line that passes the contracts) publishes nothing and says why.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from dashboards import queries
from pipelines.cli import RunFailed, run_pipeline
from pipelines.publish import (
    Layout,
    current_snapshot,
    list_snapshots,
    read_journal,
    snapshot_meta,
    verify_snapshot,
)
from tests.pipelines.test_deliveries import MAPPING
from tests.pipelines.test_ingest_faults import BUDGET_MAPPING

REPO = Path(__file__).resolve().parents[2]
SURVEY = MAPPING  # two waves, A and B, of a small household survey
#: the test budget with a sector column (so an 'all' line can clash with sector lines)
BUDGET = BUDGET_MAPPING.replace("source_id: b_test", "source_id: b_sectors").replace(
    "sector: {constant: all}", "sector: {column: sector}")
GOVS = ["Basra", "Anbar", "Ninawa", "Erbil"]


def survey_rows(n: int, seed: int = 0) -> str:
    lines = ["hh_id,governorate,stratum,cluster,weight,water_rating"]
    for i in range(n):
        gov = GOVS[i % len(GOVS)]
        lines.append(f"h{i},{gov},{gov}-s{i % 2},{gov}-c{i % 6},{1 + (i + seed) % 3},{1 + (i * 7 + seed) % 5}")
    return "\n".join(lines) + "\n"


def landing(root: Path, n: int = 160) -> Path:
    s = root / "surveys" / "s_waves"
    b = root / "budget" / "b_sectors"
    s.mkdir(parents=True, exist_ok=True)
    b.mkdir(parents=True, exist_ok=True)
    (s / "source.yaml").write_text(SURVEY, encoding="utf-8")
    (b / "source.yaml").write_text(BUDGET, encoding="utf-8")
    (s / "wave_a.csv").write_text(survey_rows(n), encoding="utf-8")
    (s / "wave_b.csv").write_text(survey_rows(n, seed=1), encoding="utf-8")
    (b / "lines.csv").write_text(
        "gov,year,sector,allocation,spent\nBasra,2023,health,100,50\nBasra,2023,education,80,70\nAnbar,2023,health,20,5\n",
        encoding="utf-8",
    )
    return root


def cli_run(data_dir: Path, warehouse: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run", "--data-dir", str(data_dir), "--warehouse", str(warehouse), *extra],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def own_record(snapshot: Path) -> dict:
    """The snapshot's own run-log row (its run id from audit.snapshot)."""
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        row = con.execute(
            "SELECT l.run_id, l.table_rows_json FROM audit.run_log l JOIN audit.snapshot s USING (run_id)"
        ).fetchone()
    finally:
        con.close()
    return {"run_id": row[0], "table_rows": json.loads(row[1])}


def test_sixteen_readers_while_the_pipeline_publishes_five_times(published_copy):
    root, wh = published_copy  # a first snapshot (one published run) so readers have something to read from the start
    done = threading.Event()
    errors: list[str] = []
    seen: dict[str, int] = {}
    reads = [0]
    lock = threading.Lock()

    def reader() -> None:
        # Linux schedules threads, not processes: 16 busy readers took 16/17 of the CPU their process group
        # (the pytest workers) gets, and a pipeline run in the other worker beside this test ran 7 times
        # slower. At the lowest priority the readers keep reading, in whatever CPU time the publisher and
        # the other worker leave (over a thousand reads in a full parallel suite; the test asserts > 100).
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        while not done.is_set():
            try:
                snap = current_snapshot(wh)  # resolve once per "page"; every query of it reads this file
                estimates = queries.service_estimates(snap)
                budget = queries.budget_execution(snap)
                record = own_record(snap)
                expected = record["table_rows"]
                if estimates.height != expected["marts.fct_service_indicators"]:
                    errors.append(f"{snap}: {estimates.height} estimates, run log says {expected['marts.fct_service_indicators']}")
                if budget.height != expected["marts.fct_budget_execution"]:
                    errors.append(f"{snap}: {budget.height} budget rows, run log says {expected['marts.fct_budget_execution']}")
                if snapshot_meta(snap)["run_id"] != record["run_id"]:
                    errors.append(f"{snap}: sidecar and audit.snapshot disagree")
                with lock:
                    seen[record["run_id"]] = estimates.height
                    reads[0] += 1
            except Exception as exc:  # every exception is a failure of the test
                errors.append(f"{type(exc).__name__}: {exc}")
            # a page view, then a short pause: 16 readers in a tight loop would starve the 2-core machine
            # (and every other test on it) without testing anything more
            time.sleep(0.05)

    threads = [threading.Thread(target=reader, daemon=True) for _ in range(16)]
    for t in threads:
        t.start()
    try:
        for i in range(5):
            # each delivery corrects wave A with a different number of respondents: every snapshot differs
            (root / "surveys" / "s_waves" / f"wave_a_v{i}.csv").write_text(survey_rows(120 + 40 * i, seed=i), encoding="utf-8")
            proc = cli_run(root, wh)
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            (root / "surveys" / "s_waves" / f"wave_a_v{i}.csv").unlink()  # delivered: archived, stays loaded
    finally:
        done.set()
        for t in threads:
            t.join(timeout=60)
    assert errors == []
    published = [j for j in read_journal(wh) if j["status"] == "published"]
    assert len(published) == 6
    assert len(seen) >= 3, f"readers saw only {len(seen)} snapshots in {reads[0]} reads: the test did not overlap"
    assert reads[0] > 100
    # the default keeps 5 snapshots; the 6th (first) was pruned
    assert len(list_snapshots(wh)) == 5


def _children(pid: int) -> list[tuple[int, str]]:
    """``(pid, command line)`` of the processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append((int(d.name), (d / "cmdline").read_bytes().replace(b"\0", b" ").decode()))
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
    return out


def _dbt_nodes_started(run_pid: int) -> int:
    """How many nodes the run's ``dbt build`` child has started (its dbt.log); 0 before dbt runs."""
    for pid, cmdline in _children(run_pid):
        if " build" not in cmdline or "dbt" not in cmdline:
            continue
        try:
            env = dict(v.split("=", 1) for v in Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0") if "=" in v)
            log = Path(f"/proc/{pid}/cwd").resolve() / env["DBT_LOG_PATH"] / "dbt.log"  # the path may be relative
            return log.read_text(errors="replace").count(" START ")  # one line per node started
        except (OSError, KeyError):
            return 0
    return 0


def test_sigkill_in_each_phase_of_a_run_never_breaks_the_published_snapshot(published_copy):
    """The run is killed on events of its own, not after a guessed time: (1) as soon as its working copy
    exists (lock held, snapshot copied), (2) while dbt writes the working file (30 nodes started), (3) as
    soon as publishing has created the new snapshot's folder (before or after the pointer swap: the
    checks below hold either way). Every trial must find the run still running when it is killed."""
    root, wh = published_copy
    layout = Layout.of(wh)
    good = current_snapshot(wh)
    good_sha = verify_snapshot(good)["sha256"]

    def new_entries(folder: Path, before: set[str]) -> set[str]:
        return {p.name for p in folder.iterdir()} - before if folder.is_dir() else set()

    phases = {
        "working copy made": lambda: any((layout.building_dir / d / wh.name).exists()
                                         for d in new_entries(layout.building_dir, building_before)),
        "dbt building": lambda: _dbt_nodes_started(proc.pid) >= 30,
        "publishing": lambda: new_entries(layout.snapshots_dir, snapshots_before) != set(),
    }
    killed = []
    for i, (phase, reached) in enumerate(phases.items()):
        (root / "surveys" / "s_waves" / f"wave_b_fix{i}.csv").write_text(survey_rows(100 + i, seed=5 + i), encoding="utf-8")
        building_before = new_entries(layout.building_dir, set())  # a killed run's leftover is not this run's copy
        snapshots_before = new_entries(layout.snapshots_dir, set())
        proc = cli_run(root, wh)
        deadline = time.monotonic() + 300
        while proc.poll() is None and not reached() and time.monotonic() < deadline:
            time.sleep(0.002)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            killed.append(phase)
        _, err = proc.communicate(timeout=60)
        assert phase in killed, f"the run was not killed while {phase}: it ended first (exit {proc.returncode}) {err[-2000:]}"
        now = current_snapshot(wh)
        check = verify_snapshot(now)  # opens, every table readable, bytes equal the published SHA-256
        if now == good:
            assert check["sha256"] == good_sha
        else:  # the run got as far as swapping the pointer: a complete, newer snapshot is the last good one
            assert phase == "publishing"
            assert snapshot_meta(now)["run_id"] != snapshot_meta(good)["run_id"]
            good, good_sha = now, check["sha256"]
        (root / "surveys" / "s_waves" / f"wave_b_fix{i}.csv").unlink()
    assert killed == list(phases), "the trials must interrupt runs, not watch them finish"
    # the next run succeeds, clears the killed runs' working files, and journals them as unfinished
    summary = run_pipeline(root, wh)
    assert summary["status"] == "published"
    assert verify_snapshot(current_snapshot(wh))["run_id"] == summary["run_id"]
    assert list(Layout.of(wh).building_dir.iterdir()) == []
    assert any(j["status"] == "did not finish" for j in read_journal(wh))


def test_dbt_test_failure_publishes_nothing_and_says_why(published_copy):
    root, wh = published_copy  # one published run
    before = current_snapshot(wh)
    before_sha = verify_snapshot(before)["sha256"]
    # a corrected budget file adds an 'all sectors' line to a cell that has sector lines: it passes the
    # pandera contract (each line is valid) but fails the dbt test that forbids double counting
    (root / "budget" / "b_sectors" / "lines_corrected.csv").write_text(
        "gov,year,sector,allocation,spent\nBasra,2023,health,100,50\nBasra,2023,all,300,200\n", encoding="utf-8")
    with pytest.raises(RunFailed) as exc:
        run_pipeline(root, wh)
    assert "assert_budget_cells_do_not_mix_all_and_sectors" in str(exc.value)
    assert "stays live" in str(exc.value)
    assert current_snapshot(wh) == before and verify_snapshot(before)["sha256"] == before_sha
    last = read_journal(wh)[-1]
    assert last["status"] == "failed" and "assert_budget_cells_do_not_mix_all_and_sectors" in last["message"]
    assert last["tests_failed"] >= 1 and last["snapshot"] is None
    # `mizan status` says it too
    status = subprocess.run([sys.executable, "-m", "pipelines.cli", "status", "--json", "--warehouse", str(wh)],
                            cwd=REPO, capture_output=True, text=True)
    body = json.loads(status.stdout)
    assert body["snapshot"]["path"] == str(before)
    assert body["runs_since_snapshot"][-1]["status"] == "failed"
