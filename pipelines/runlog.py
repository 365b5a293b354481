"""Run records: one row of ``audit.run_log`` (and one line of the journal) per run.

A record says what a run read (files with their SHA-256 and what became of each delivery), the rows read,
loaded, excluded and quarantined, the dbt tests passed and failed, the snapshot it published (or why it
did not), and row counts of the main tables (so a reader can check it sees one complete snapshot).
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from data_contracts.personal_data import redact_obj, redact_text

from pipelines import publish as pub
from pipelines.publish import utcnow
from pipelines.warehouse import table_exists

#: Tables whose row counts every record carries (``table_rows_json``).
COUNTED_TABLES = (
    "raw.survey_respondents", "raw.budget_lines", "marts.fct_service_indicators", "marts.fct_budget_execution",
)
RUN_LOG_COLUMNS = (
    "run_id", "kind", "started_at", "finished_at", "status", "data_dir", "files_json", "rows_read", "rows_loaded",
    "rows_excluded", "rows_quarantined", "tests_passed", "tests_failed", "snapshot", "message", "table_rows_json",
    "summary_json",
)


def table_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row counts of :data:`COUNTED_TABLES` (absent tables omitted)."""
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED_TABLES if table_exists(con, t)}


def record_from(con: duckdb.DuckDBPyConnection, run_id: str, started_at, data_dir: str | None, status: str,
                message: str | None = None, snapshot: str | None = None, kind: str = "run") -> dict:
    """The run's record, read from the warehouse connection it wrote (working file or snapshot)."""
    files, sums, tests = [], {"rows_read": 0, "rows_loaded": 0, "rows_excluded": 0, "rows_quarantined": 0}, {}
    if table_exists(con, "audit.file_deliveries"):
        cur = con.execute(
            "SELECT d.source_id, d.file_name, d.file_sha256, d.outcome, d.supersedes_sha256 FROM audit.file_deliveries d "
            "WHERE d.run_id = ? ORDER BY d.domain, d.source_id, d.file_name", [run_id])
        files = [dict(zip(("source_id", "file_name", "file_sha256", "outcome", "supersedes_sha256"), r)) for r in cur.fetchall()]
    if table_exists(con, "audit.file_registry"):
        row = con.execute(
            "SELECT coalesce(sum(rows_read), 0), coalesce(sum(rows_loaded), 0), coalesce(sum(rows_excluded), 0), "
            "coalesce(sum(rows_quarantined), 0) FROM audit.file_registry WHERE run_id = ?", [run_id]).fetchone()
        sums = dict(zip(sums, (int(v) for v in row)))
    if table_exists(con, "audit.dbt_results"):
        tests = dict(con.execute(
            "SELECT CASE WHEN status IN ('fail', 'error') THEN 'failed' ELSE status END, count(*) FROM audit.dbt_results "
            "WHERE run_id = ? AND resource_type = 'test' GROUP BY 1", [run_id]).fetchall())
    return {
        "run_id": run_id, "kind": kind, "started_at": started_at, "finished_at": utcnow(), "status": status,
        "data_dir": data_dir, "files_json": json.dumps(files), **sums,
        "tests_passed": int(tests.get("pass", 0)), "tests_failed": int(tests.get("failed", 0)),
        "snapshot": snapshot, "message": message, "table_rows_json": json.dumps(table_rows(con), sort_keys=True),
        "summary_json": json.dumps(_reasons(con), default=str),
    }


def _reasons(con: duckdb.DuckDBPyConnection) -> dict:
    """Quarantined and excluded rows by source and reason, and sources skipped (the state this run left)."""
    out = {}
    for key, table, sql in (
        ("quarantine_by_reason", "audit.quarantine",
         "SELECT source_id, reason, count(DISTINCT (file_sha256, row_number)) FROM audit.quarantine GROUP BY ALL ORDER BY ALL"),
        ("exclusions_by_reason", "audit.exclusions",
         "SELECT source_id, reason, count(*) FROM audit.exclusions GROUP BY ALL ORDER BY ALL"),
        ("skipped_sources", "audit.skipped_sources", "SELECT source_id, reason, 1 FROM audit.skipped_sources ORDER BY ALL"),
    ):
        if table_exists(con, table):
            out[key] = [{"source_id": r[0], "reason": r[1], "rows": r[2]} for r in con.execute(sql).fetchall()]
    return out


def failed_record(working: Path, run_id: str, started_at, data_dir: str | None, failures: list[str]) -> dict:
    """The record of a failed run, read from its (unpublished) working file when it still opens."""
    message = "; ".join(failures) or "the run failed before publishing"
    try:
        con = duckdb.connect(str(working), read_only=True)
    except (duckdb.Error, OSError):
        con = None
    if con is None:
        return {"run_id": run_id, "kind": "run", "started_at": started_at, "finished_at": utcnow(),
                "status": "failed", "data_dir": data_dir, "message": message}
    try:
        return record_from(con, run_id, started_at, data_dir, "failed", message=message)
    finally:
        con.close()


def failure_messages(events, limit: int = 2000) -> list[str]:
    """``step: message`` for every STEP_FAILURE among Dagster ``events`` (each message cut at ``limit``
    characters, so a runaway message, or data inside it, never floods a log)."""
    out = []
    for ev in events:
        if ev.event_type_value != "STEP_FAILURE":
            continue
        data = ev.step_failure_data
        desc = (data.user_failure_data.description if data.user_failure_data else None) or (
            data.error.message.strip() if data.error else "unknown error")
        desc = redact_text(desc)
        if len(desc) > limit:
            desc = desc[:limit] + " … (truncated; see the step log)"
        out.append(f"{ev.step_key}: {desc}")
    return out


def step_failures(instance, dagster_run_id: str) -> list[str]:
    """:func:`failure_messages` of a finished Dagster run, read from the instance's event log."""
    import dagster as dg

    records = instance.all_logs(dagster_run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    return failure_messages(r.dagster_event for r in records)


@contextlib.contextmanager
def writing_run(
    layout: pub.Layout, run_id: str, started_at, data_dir: str | None, failures: Callable[[], list[str]],
    lock_timeout_s: float = pub.DEFAULT_LOCK_TIMEOUT_S, on_wait: Callable[[str], None] | None = None,
) -> Iterator[tuple[Path, list[str]]]:
    """The writer's side of one run, the same for ``mizan run``, a run launched from the Dagster UI and a
    sensor's run: hold the warehouse's writer lock (waiting up to ``lock_timeout_s``), make the working
    file (a copy of the current snapshot, repairing and journalling what a killed run left), and on the way
    out journal a run that did not publish — with ``failures()``, the step errors, as its message — remove
    its working file and release the lock.

    Yields:
        ``(working file, repair notes)``.

    Raises:
        pipelines.publish.WriterBusy: another run held the lock for ``lock_timeout_s``.
        pipelines.publish.WarehouseDamaged: the current snapshot cannot be used (journalled as a failed run).
        OSError: the warehouse's folder cannot be written.
    """
    with pub.writer_lock(layout, run_id, lock_timeout_s, on_wait=on_wait):
        try:
            working, repairs = pub.begin_writing(layout, run_id)
        except pub.WarehouseDamaged as exc:
            pub.append_journal(layout, {"run_id": run_id, "kind": "run", "started_at": started_at, "finished_at": utcnow(),
                                        "status": "failed", "data_dir": data_dir, "message": str(exc)})
            raise
        try:
            yield working, repairs
        finally:
            if working.exists():  # never published: the run failed (publishing moves the file away)
                pub.append_journal(layout, failed_record(working, run_id, started_at, data_dir, failures()))
            shutil.rmtree(working.parent, ignore_errors=True)


def insert_run_log(con: duckdb.DuckDBPyConnection, records: list[dict]) -> None:
    """Append records (journal lines or fresh records) to ``audit.run_log``."""
    sql = f"INSERT INTO audit.run_log ({', '.join(RUN_LOG_COLUMNS)}) VALUES ({', '.join('?' for _ in RUN_LOG_COLUMNS)})"
    for r in records:
        values = [redact_obj(r.get(c)) for c in RUN_LOG_COLUMNS]
        con.execute(sql, [v.isoformat() if hasattr(v, "isoformat") else v for v in values])


def publish_run(
    layout: pub.Layout, run_id: str, started_at, data_dir: str | None, keep: int = pub.DEFAULT_KEEP_SNAPSHOTS,
    kind: str = "run", message: str | None = None,
) -> dict:
    """Publish the run's working file with its record: runs journalled since the current snapshot (failed
    ones included) and this run's own record go into ``audit.run_log``; then the journal gets the record.

    Returns:
        The snapshot's sidecar plus ``record`` (pipelines.publish.publish).
    """
    from pipelines.warehouse import ensure_schema

    journal = pub.read_journal(layout.pointer)

    def on_publish(con, name, published_at):
        ensure_schema(con)
        known = {r[0] for r in con.execute("SELECT run_id FROM audit.run_log").fetchall()}
        earlier = [j for j in journal if j.get("run_id") not in known and j.get("run_id") != run_id]
        record = record_from(con, run_id, started_at, data_dir, "published", message=message, snapshot=name, kind=kind)
        insert_run_log(con, [*earlier, record])
        return record

    meta = pub.publish(layout, layout.working(run_id), run_id, kind=kind, keep=keep, on_publish=on_publish)
    pub.append_journal(layout, meta["record"])
    return meta
