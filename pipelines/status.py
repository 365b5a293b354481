"""``mizan status`` and ``mizan approve``: what the dashboard shows now, and the M&E lead's wave approval.

An approval is a decision about data, so it is published like data: ``approve_wave`` takes the writer
lock, copies the current snapshot, records the decision in ``audit.wave_approvals`` with the SHA-256 of
the wave's files, and publishes a new snapshot (kind ``approval``). A wave is approved while its files
are the ones approved; a corrected file makes it provisional again (view ``audit.wave_approval_status``).
"""

from __future__ import annotations

import getpass
import json
import shutil
from pathlib import Path

import duckdb

from pipelines import publish as pub
from pipelines.warehouse import fetch_dicts, table_exists


class ApprovalError(ValueError):
    """The wave to approve does not exist in the current snapshot (lists the waves that do)."""


def warehouse_status(warehouse: Path) -> dict:
    """The current snapshot (path, run id, publish time, SHA-256), the snapshots kept, the runs journalled
    after it (a failed run shows here), and every survey wave with its approval.

    Shape: ``{"warehouse", "snapshot": {path, run_id, kind, published_at, sha256, bytes} | None,
    "snapshots": [paths], "waves": [{source_id, wave_id, approval_status, is_approved, decided_by,
    decided_at, note}], "last_run": journal entry | None, "runs_since_snapshot": [journal entries]}``.
    """
    snapshot = pub.current_snapshot(warehouse)
    out: dict = {"warehouse": str(warehouse), "snapshot": None, "snapshots": [str(p) for p in pub.list_snapshots(warehouse)],
                 "waves": [], "last_run": None, "runs_since_snapshot": []}
    journal = pub.read_journal(warehouse)
    out["last_run"] = journal[-1] if journal else None
    if snapshot is None:
        kept = pub.list_snapshots(warehouse)
        published = [j for j in journal if j.get("status") == "published"]
        layout = pub.Layout.of(warehouse)
        if kept:
            out["problem"] = (f"{warehouse} names no snapshot, but {len(kept)} snapshot(s) exist in "
                              f"{layout.snapshots_dir}; the next run (or approval) restores the newest intact one")
        elif published:
            out["problem"] = (f"{warehouse} names no snapshot and none is left in {layout.snapshots_dir}, though "
                              f"{layout.journal.name} lists {len(published)} published run(s); runs will refuse to start "
                              "empty: restore a snapshot folder, or move the journal aside to start a new warehouse")
        else:
            out["runs_since_snapshot"] = journal  # failed first runs of a new warehouse
        return out
    meta = pub.snapshot_meta(snapshot)
    with duckdb.connect(str(snapshot), read_only=True) as con:
        if not meta and table_exists(con, "audit.snapshot"):
            meta = fetch_dicts(con, "SELECT run_id, kind, published_at FROM audit.snapshot")[0]
        if table_exists(con, "audit.wave_approval_status"):
            out["waves"] = fetch_dicts(
                con, "SELECT source_id, wave_id, approval_status, is_approved, decided_by, decided_at, note "
                "FROM audit.wave_approval_status ORDER BY source_id, wave_id")
    out["snapshot"] = {"path": str(snapshot), **{k: meta.get(k) for k in ("run_id", "kind", "published_at", "sha256", "bytes")}}
    out["snapshot"]["data_run_id"] = meta.get("data_run_id") or meta.get("run_id")
    out["snapshot"]["data_published_at"] = meta.get("data_published_at") or meta.get("published_at")
    run_ids = [j.get("run_id") for j in journal]
    if meta.get("run_id") in run_ids:
        out["runs_since_snapshot"] = journal[run_ids.index(meta["run_id"]) + 1:]
    data_runs = [j for j in journal if (j.get("kind") or "run") == "run"]
    out["last_data_run"] = data_runs[-1] if data_runs else None
    return json.loads(json.dumps(out, default=str))


def format_status(status: dict) -> str:
    """``warehouse_status`` as text for the terminal."""
    lines = [f"warehouse: {status['warehouse']}"]
    snap = status["snapshot"]
    if status.get("problem"):
        lines.append(f"PROBLEM: {status['problem']}")
    elif snap is None:
        lines.append("no published snapshot yet: run `mizan run --data-dir DIR` (or `mizan demo`)")
    elif not snap.get("published_at"):
        lines += [f"current snapshot: {snap['path']}",
                  "  a warehouse file from before snapshots: the next run keeps it as the first snapshot"]
    else:
        lines += [
            f"current snapshot: {snap['path']}",
            f"  run {snap['run_id']} ({snap.get('kind') or 'run'}), published {snap['published_at']} UTC, "
            f"sha256 {str(snap.get('sha256'))[:12]}…",
        ]
        if snap.get("data_run_id") and snap["data_run_id"] != snap["run_id"]:
            lines.append(f"  data from run {snap['data_run_id']}, published {snap['data_published_at']} UTC")
        lines.append(f"snapshots kept: {len(status['snapshots'])}")
    for r in status["runs_since_snapshot"]:
        lines.append(f"LATER RUN {r.get('run_id')} {r.get('status')} at {r.get('finished_at')}: {r.get('message') or ''}".rstrip(": "))
    last = status.get("last_data_run")
    if last and last.get("status") != "published" and last not in status["runs_since_snapshot"]:
        lines.append(f"LAST DATA RUN {last.get('run_id')} {last.get('status')} at {last.get('finished_at')}: "
                     f"{last.get('message') or ''}; the data shown are those of the last run that published")
    if status["waves"]:
        lines.append("survey waves:")
        for w in status["waves"]:
            by = (f" (last decision: {w.get('last_action') or 'approve'} by {w['decided_by']} at "
                  f"{str(w['decided_at'])[:19]} UTC)") if w.get("decided_by") else ""
            note = f" ({w['note']})" if w.get("note") else ""
            lines.append(f"  {w['source_id']} / {w['wave_id']}: {w['approval_status']}{by}{note}")
    return "\n".join(lines)


def approve_wave(
    warehouse: Path, source_id: str, wave_id: str, decided_by: str | None = None, note: str | None = None,
    revoke: bool = False, keep: int = pub.DEFAULT_KEEP_SNAPSHOTS, lock_timeout_s: float = 60.0,
) -> dict:
    """Record an approval (or its revocation) of one survey wave and publish it as a new snapshot.

    Returns:
        The new snapshot's sidecar plus ``record`` (its run-log row).

    Raises:
        ApprovalError: no published snapshot, or the wave is not in it (the message lists known waves).
        pipelines.publish.WarehouseDamaged: the warehouse folder cannot be repaired (see ensure_current).
        pipelines.publish.WriterBusy: a run holds the writer lock for longer than ``lock_timeout_s``.
    """
    from pipelines.runlog import publish_run
    from pipelines.warehouse import ensure_schema

    layout = pub.Layout.of(warehouse)
    run_id, started = pub.new_run_id(), pub.utcnow()
    decided_by = decided_by or getpass.getuser()
    with pub.writer_lock(layout, run_id, lock_timeout_s):
        working, _ = pub.begin_writing(layout, run_id)  # restores a missing pointer first, like a run
        try:
            if not working.exists():
                raise ApprovalError(f"no published snapshot at {warehouse}: run the pipeline first")
            with duckdb.connect(str(working)) as con:
                ensure_schema(con)
                waves = [(r[0], r[1]) for r in con.execute(
                    "SELECT DISTINCT source_id, wave_id FROM raw.survey_sources ORDER BY 1, 2").fetchall()]
                if (source_id, wave_id) not in waves:
                    known = ", ".join(f"{s} / {w}" for s, w in waves) or "none"
                    raise ApprovalError(f"no survey wave {source_id} / {wave_id} in the current snapshot; waves: {known}")
                if revoke and not con.execute(
                    "SELECT count(*) FROM audit.wave_approval_status WHERE source_id = ? AND wave_id = ? AND last_action = 'approve'",
                    [source_id, wave_id]).fetchone()[0]:
                    raise ApprovalError(f"{source_id} / {wave_id} has no approval to revoke")
                shas = con.execute(  # its files and the cleaning logs applied to it
                    "SELECT max(file_sha256s) FROM audit.wave_inputs WHERE source_id = ? AND wave_id = ?", [source_id, wave_id]
                ).fetchone()[0]
                if shas is None:
                    raise ApprovalError(f"{source_id} / {wave_id} has no active registered file to approve")
                con.execute(
                    "INSERT INTO audit.wave_approvals VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [source_id, wave_id, "revoke" if revoke else "approve", decided_by, pub.utcnow(), note, shas, run_id],
                )
            action = "revoked approval of" if revoke else "approved"
            return publish_run(layout, run_id, started, None, keep=keep, kind="approval",
                               message=f"{decided_by} {action} {source_id} / {wave_id}" + (f": {note}" if note else ""))
        finally:
            if working.exists():  # not published (the wave was unknown): drop the copy
                shutil.rmtree(working.parent, ignore_errors=True)
