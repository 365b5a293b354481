"""Publishing: immutable warehouse snapshots behind an atomically replaced pointer, one writer at a time.

Layout next to the warehouse path ``W`` (default ``./warehouse/mizan.duckdb``; ``stem`` = ``mizan``)::

    W                               the pointer: a symlink to the current snapshot (replaced atomically)
    <stem>.snapshots/<UTC time>-<run8>/<name of W>          immutable snapshots (mode 0444)
    <stem>.snapshots/<UTC time>-<run8>/<name of W>.json     sidecar: run id, publish time, SHA-256, bytes
    <stem>.building/<run id>/<name of W>   the working file of the run in progress (only the writer opens it)
    <stem>.runs.jsonl               journal: one JSON line per finished run (published or failed)
    <stem>.lock                     the writer lock (``fcntl.flock``), held for a whole run
    archive/<domain>/<source>/<sha256>/<file name>          every delivered file, read-only
    logs/                           step logs of each run

Readers (the dashboard, ``mizan status``) resolve the pointer once and open that snapshot read-only with
short-lived connections; a snapshot is never written after it is published, so a reader always sees
one complete run. A run copies the current snapshot into its working file (history carries over),
writes there, and publishes only when every step passed; a failed or killed run leaves the pointer
on the last good snapshot. Design and failure analysis: docs/publishing.md.

Every snapshot and working file keeps the pointer's file name: DuckDB names a database's catalog after the
file's stem and dbt-duckdb writes that catalog into its views, so a renamed file would break them.

Nothing here imports Dagster: the CLI, the Dagster assets and the dashboard share it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import duckdb

from data_contracts.personal_data import redact_obj
from pipelines.readers.delimited import sha256_of
from pipelines.warehouse import memory_limit

DEFAULT_KEEP_SNAPSHOTS = 5
DEFAULT_LOCK_TIMEOUT_S = 1800.0


class PublishError(RuntimeError):
    """Publishing could not complete; the pointer still names the last good snapshot."""


class WriterBusy(RuntimeError):
    """Another process holds the writer lock (names its pid and run id) for longer than the timeout."""


class WarehouseDamaged(PublishError):
    """The warehouse path cannot be used safely as it is (says why and what to do)."""


class SnapshotCorrupt(RuntimeError):
    """A snapshot does not match its recorded SHA-256, or does not open."""


def utcnow() -> dt.datetime:
    """Naive UTC (the warehouse stores UTC without an offset)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_run_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Layout:
    """Where everything of one warehouse lives; see the module docstring."""

    pointer: Path

    @classmethod
    def of(cls, warehouse: str | Path) -> "Layout":
        return cls(Path(os.path.abspath(Path(warehouse).expanduser())))

    @property
    def root(self) -> Path:
        return self.pointer.parent

    @property
    def stem(self) -> str:
        return self.pointer.stem

    @property
    def snapshots_dir(self) -> Path:
        return self.root / f"{self.stem}.snapshots"

    @property
    def building_dir(self) -> Path:
        return self.root / f"{self.stem}.building"

    @property
    def journal(self) -> Path:
        return self.root / f"{self.stem}.runs.jsonl"

    @property
    def lock_path(self) -> Path:
        return self.root / f"{self.stem}.lock"

    @property
    def archive_dir(self) -> Path:
        return self.root / "archive"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    def working(self, run_id: str) -> Path:
        return self.building_dir / run_id / self.pointer.name


# ----------------------------------------------------------------------------------------------
# reading side
# ----------------------------------------------------------------------------------------------
def current_snapshot(warehouse: str | Path) -> Path | None:
    """The snapshot file the pointer names now (resolved once: use this path for a whole page or read).

    A plain file at the pointer path (a warehouse written before snapshots existed) is its own snapshot.
    None when there is no warehouse yet or the pointer dangles.
    """
    pointer = Layout.of(warehouse).pointer
    try:
        target = Path(os.path.realpath(pointer))
    except OSError:
        return None
    return target if target.is_file() else None


def snapshot_meta(snapshot: str | Path) -> dict:
    """The sidecar of a snapshot: ``run_id``, ``published_at`` (ISO, UTC), ``sha256``, ``bytes``, ``kind``,
    and ``data_run_id`` / ``data_published_at``: the run whose data it holds (an approval's snapshot holds
    the data of the run before it).

    Empty when the snapshot has no sidecar (a warehouse file from before snapshots).
    """
    side = Path(str(snapshot) + ".json")
    try:
        return json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def verify_snapshot(snapshot: str | Path) -> dict:
    """Integrity check of one snapshot: its bytes hash to the recorded SHA-256, it opens read-only,
    every table can be counted, and it names itself (``audit.snapshot``) with the sidecar's run id.

    Returns:
        ``{"run_id", "sha256", "tables": {schema.table: rows}}``.

    Raises:
        SnapshotCorrupt: hash mismatch, missing sidecar, or DuckDB cannot read it.
    """
    path = Path(snapshot)
    meta = snapshot_meta(path)
    if not meta:
        raise SnapshotCorrupt(f"{path}: no sidecar {path.name}.json with its SHA-256")
    digest = sha256_of(path)
    if digest != meta.get("sha256"):
        raise SnapshotCorrupt(f"{path}: SHA-256 {digest[:12]}… differs from the published {str(meta.get('sha256'))[:12]}…")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise SnapshotCorrupt(f"{path}: does not open: {exc}") from None
    try:
        tables = {}
        for schema, name, kind in con.execute(
            "SELECT table_schema, table_name, table_type FROM information_schema.tables ORDER BY 1, 2"
        ).fetchall():
            tables[f"{schema}.{name}"] = con.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchone()[0]
        own = con.execute("SELECT run_id FROM audit.snapshot").fetchall()
    except duckdb.Error as exc:
        raise SnapshotCorrupt(f"{path}: a table cannot be read: {exc}") from None
    finally:
        con.close()
    if [r[0] for r in own] != [meta.get("run_id")]:
        raise SnapshotCorrupt(f"{path}: audit.snapshot names run {own}, the sidecar {meta.get('run_id')}")
    return {"run_id": meta["run_id"], "sha256": digest, "tables": tables}


def read_journal(warehouse: str | Path) -> list[dict]:
    """Every finished run and approval, oldest first (the journal survives failed runs; snapshots
    hold the same rows up to their own run in ``audit.run_log``). A torn last line (a writer killed
    mid-append) is skipped."""
    out = []
    try:
        text = Layout.of(warehouse).journal.read_text(encoding="utf-8")
    except OSError:
        return []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            out.append(json.loads(line))
    return out


def list_snapshots(warehouse: str | Path) -> list[Path]:
    """Published snapshot files (oldest first; names sort by publish time)."""
    layout = Layout.of(warehouse)
    d = layout.snapshots_dir
    return sorted(p for p in d.glob(f"*/{layout.pointer.name}") if p.is_file()) if d.is_dir() else []


# ----------------------------------------------------------------------------------------------
# writing side (the one writer)
# ----------------------------------------------------------------------------------------------
@contextlib.contextmanager
def writer_lock(layout: Layout, run_id: str, timeout_s: float = DEFAULT_LOCK_TIMEOUT_S, on_wait=None) -> Iterator[None]:
    """Hold the warehouse's writer lock for the block; wait up to ``timeout_s`` for another writer.

    The lock is an ``flock`` on ``<stem>.lock``: the kernel releases it when the holder exits, even by
    SIGKILL, so a killed run never leaves the warehouse locked.

    Raises:
        WriterBusy: the lock is still held after ``timeout_s`` (names the holder's pid and run id).
    """
    layout.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(layout.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "unknown"
                if time.monotonic() >= deadline:
                    raise WriterBusy(
                        f"another mizan run holds the warehouse {layout.pointer} ({holder}); "
                        f"waited {timeout_s:.0f} s. DuckDB allows one writer: wait for it to finish"
                    ) from None
                if on_wait and not told:
                    on_wait(holder)
                    told = True
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, run {run_id}, since {utcnow():%Y-%m-%d %H:%M:%S} UTC".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _swap_pointer(layout: Layout, target: Path) -> None:
    """Point the warehouse path at ``target`` with one atomic rename of a fresh symlink."""
    link_tmp = layout.root / f".{layout.pointer.name}.{uuid.uuid4().hex[:8]}.tmp"
    link_tmp.unlink(missing_ok=True)
    os.symlink(os.path.relpath(target, layout.root), link_tmp)
    os.replace(link_tmp, layout.pointer)  # the publish: readers now resolve the new snapshot
    _fsync_dir(layout.root)


def _adopt_plain_file(layout: Layout) -> str | None:
    """A plain DuckDB file at the warehouse path (a mizan warehouse from before snapshots) becomes the
    first snapshot: its write-ahead log is checkpointed into it, then it is published like a run.

    Raises:
        WarehouseDamaged: the file is not a mizan warehouse (it is left untouched).
    """
    p = layout.pointer
    if p.is_symlink() or not p.is_file():
        return None
    try:
        con = duckdb.connect(str(p))
    except duckdb.Error as exc:
        raise WarehouseDamaged(f"{p} is not a DuckDB file mizan can open ({exc}); choose another --warehouse") from None
    try:
        is_mizan = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'audit' AND table_name = 'file_registry'"
        ).fetchone()[0]
        if not is_mizan:
            raise WarehouseDamaged(
                f"{p} is a DuckDB file but not a mizan warehouse (no audit.file_registry); it was left untouched: "
                "choose another --warehouse"
            )
        con.execute("CHECKPOINT")
    finally:
        con.close()
    meta = publish(layout, p, new_run_id(), kind="adopted", keep=10**6)
    return f"the plain warehouse file {p} (from before snapshots) was kept as snapshot {meta['snapshot']}"


def ensure_current(layout: Layout) -> tuple[Path | None, list[str]]:
    """The snapshot a writer starts from, repairing what can be repaired (call with the writer lock held).

    - a plain mizan warehouse file at the warehouse path is adopted as the first snapshot;
    - a missing or dangling pointer is restored to the newest snapshot that passes :func:`verify_snapshot`.

    Returns:
        The current snapshot (None for a new warehouse) and notes on what was repaired.

    Raises:
        WarehouseDamaged: the path is a non-mizan DuckDB file, or every published snapshot is gone or damaged
            while the journal lists published runs (starting empty would silently lose the file registry,
            approvals and history).
    """
    notes = [n for n in [_adopt_plain_file(layout)] if n]
    current = current_snapshot(layout.pointer)
    if current is not None:
        return current, notes
    for candidate in reversed(list_snapshots(layout.pointer)):
        try:
            verify_snapshot(candidate)
        except SnapshotCorrupt:
            continue
        _swap_pointer(layout, candidate)
        note = f"the warehouse path {layout.pointer} named no snapshot; restored to the newest intact one, {candidate}"
        journal = read_journal(layout.pointer)
        ids = [j.get("run_id") for j in journal]
        base = snapshot_meta(candidate).get("run_id")
        later = [j for j in journal[ids.index(base) + 1:] if j.get("status") == "published"] if base in ids else []
        if later:
            note += ("; LOST with the deleted snapshot(s), published after it: " + ", ".join(
                f"{j.get('kind') or 'run'} {str(j.get('run_id'))[:8]} ({(j.get('message') or '').strip() or 'data run'})"
                for j in later) + ". Approvals among them must be given again; data runs are redone by this run")
        notes.append(note)
        return candidate, notes
    published = [j for j in read_journal(layout.pointer) if j.get("status") == "published"]
    if published:
        raise WarehouseDamaged(
            f"{layout.pointer} names no snapshot and no intact snapshot is left in {layout.snapshots_dir}, though "
            f"{layout.journal.name} lists {len(published)} published run(s). Starting from an empty warehouse would "
            f"lose the file registry, approvals and history: restore a snapshot folder into {layout.snapshots_dir}, "
            f"or move {layout.journal} aside to start a new warehouse on purpose."
        )
    return None, notes


def prepare_working(layout: Layout, run_id: str) -> tuple[Path, list[str], list[str]]:
    """Create the run's working file: a writable copy of the current snapshot (or nothing yet).

    Call with the writer lock held. Leftovers of earlier runs in ``<stem>.building/`` are removed
    (no other writer can be using them); their run ids are returned so the caller can journal them
    as runs that did not finish (a killed process leaves exactly this trace).

    Returns:
        ``(working file, run ids of abandoned working files, repair notes of ensure_current)``.

    Raises:
        WarehouseDamaged: see :func:`ensure_current`.
    """
    current, notes = ensure_current(layout)
    layout.building_dir.mkdir(parents=True, exist_ok=True)
    stale = []
    for leftover in layout.building_dir.iterdir():
        if leftover.is_dir():
            stale.append(leftover.name)
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    working = layout.working(run_id)
    working.parent.mkdir(parents=True)
    if current is not None:
        tmp = working.with_name(working.name + ".copy")
        shutil.copyfile(current, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, working)
    return working, [s for s in stale if s != run_id], notes


def begin_writing(layout: Layout, run_id: str) -> tuple[Path, list[str]]:
    """:func:`prepare_working`, journalling abandoned runs and repairs.

    Returns:
        The working file, and the repair notes (for the caller to show).
    """
    working, stale, notes = prepare_working(layout, run_id)
    for stale_id in stale:
        append_journal(layout, unfinished_record(stale_id))
    for note in notes:
        append_journal(layout, repair_record(note))
    return working, notes


def repair_record(note: str) -> dict:
    """The journal entry of a repair made by :func:`ensure_current`."""
    return {"run_id": new_run_id(), "kind": "repair", "status": "repaired", "finished_at": utcnow().isoformat(timespec="seconds"),
            "message": note}


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(
    layout: Layout, working: Path, run_id: str, kind: str = "run", keep: int = DEFAULT_KEEP_SNAPSHOTS, on_publish=None,
) -> dict:
    """Publish the working file as the new current snapshot; prune to the last ``keep`` snapshots.

    Steps (each safe to be killed after): the working file names itself in ``audit.snapshot`` and is
    checkpointed and closed; it is renamed into ``<stem>.snapshots/`` (same filesystem), made read-only
    and fsynced, with a sidecar holding its SHA-256; a new symlink replaces the pointer with one
    ``rename`` (atomic). Killed before that rename, the pointer still names the previous snapshot and
    the orphan is pruned later.

    ``on_publish(con, snapshot_name, published_at)`` runs on the working file just before it is closed
    (the run log row naming its own snapshot goes in there); its return value is ``meta["record"]``.

    Returns:
        The sidecar: ``run_id``, ``published_at``, ``snapshot`` (path), ``sha256``, ``bytes``, ``kind``
        (plus ``record``, not stored in the sidecar).

    Raises:
        PublishError: the working file is missing or the folder cannot be written.
    """
    if not working.is_file():
        raise PublishError(f"working file {working} is missing: nothing to publish")
    published_at = utcnow()
    # which data run the content comes from: an approval changes approvals only, not the data
    base = snapshot_meta(current_snapshot(layout.pointer) or "") if kind == "approval" else {}
    data_origin = {
        "data_run_id": base.get("data_run_id") or base.get("run_id") or run_id,
        "data_published_at": base.get("data_published_at") or base.get("published_at") or published_at.isoformat(timespec="seconds"),
    }
    name = f"{published_at:%Y%m%dT%H%M%S%fZ}-{run_id[:8]}"
    (layout.snapshots_dir / name).mkdir(parents=True)
    target = layout.snapshots_dir / name / layout.pointer.name
    con = duckdb.connect(str(working))
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS audit")
        con.execute("CREATE OR REPLACE TABLE audit.snapshot (run_id VARCHAR, published_at TIMESTAMP, snapshot_name VARCHAR, kind VARCHAR)")
        con.execute("INSERT INTO audit.snapshot VALUES (?, ?, ?, ?)", [run_id, published_at, name, kind])
        record = on_publish(con, name, published_at) if on_publish else None
        con.execute("CHECKPOINT")
    finally:
        con.close()
    wal = working.with_name(working.name + ".wal")
    if wal.exists():
        raise PublishError(f"{working}: a write-ahead log remained after checkpoint; not publishing")
    compact(working)
    with working.open("rb+") as fh:
        os.fsync(fh.fileno())
    digest = sha256_of(working)
    os.replace(working, target)
    os.chmod(target, 0o444)
    if working.parent.parent == layout.building_dir:  # the run's own folder (never the warehouse folder)
        shutil.rmtree(working.parent, ignore_errors=True)
    meta = {
        "run_id": run_id, "kind": kind, "published_at": published_at.isoformat(timespec="seconds"),
        "snapshot": str(target), "sha256": digest, "bytes": target.stat().st_size, **data_origin,
    }
    side = target.with_name(target.name + ".json")
    tmp_side = side.with_name(side.name + ".tmp")
    tmp_side.write_text(json.dumps(meta, indent=1), encoding="utf-8")
    os.replace(tmp_side, side)
    os.chmod(side, 0o444)
    _fsync_dir(target.parent)
    _fsync_dir(layout.snapshots_dir)
    _swap_pointer(layout, target)
    prune(layout, keep)
    return {**meta, "record": record}


#: Rewrite a working file before publishing when more than this share of its blocks is free: each run
#: replaces tables in a copy of the last snapshot, and DuckDB reuses freed blocks only partly, so without it
#: a snapshot carried its predecessors' free space from run to run.
COMPACT_FREE_SHARE = 0.2


def compact(working: Path, free_share: float = COMPACT_FREE_SHARE) -> bool:
    """Copy ``working`` into a fresh file of the same name (``COPY FROM DATABASE``: no free blocks) and put
    it in its place, when more than ``free_share`` of its blocks are free. Returns whether it did.

    The copy keeps the file name: DuckDB names the catalog after it, and dbt's views name the catalog."""
    con = duckdb.connect(str(working), read_only=True)
    try:
        total, free = con.execute("SELECT total_blocks, free_blocks FROM pragma_database_size()").fetchone()
    finally:
        con.close()
    if not total or free / total <= free_share:
        return False
    fresh_dir = working.parent / "compact"
    shutil.rmtree(fresh_dir, ignore_errors=True)
    fresh_dir.mkdir()
    fresh = fresh_dir / working.name
    con = duckdb.connect(config={"memory_limit": memory_limit(), "temp_directory": str(fresh_dir / "spill")})
    try:
        con.execute(f"ATTACH '{working}' AS src (READ_ONLY)")
        con.execute(f"ATTACH '{fresh}' AS dst")
        con.execute("COPY FROM DATABASE src TO dst")
        con.execute("DETACH dst")
    finally:
        con.close()
    os.replace(fresh, working)
    shutil.rmtree(fresh_dir, ignore_errors=True)
    return True


def prune(layout: Layout, keep: int = DEFAULT_KEEP_SNAPSHOTS) -> list[Path]:
    """Delete all but the newest ``keep`` published snapshots (never the current one) and orphans:
    snapshots newer than the current one that the pointer never named (a run killed mid-publish).

    A reader that resolved a pruned snapshot just before it went keeps reading it (Linux keeps an open
    file until it is closed); one that had not opened it yet gets a clear error and re-resolves.
    """
    current = current_snapshot(layout.pointer)
    keep = max(1, keep)
    snaps = list_snapshots(layout.pointer)
    if current is None or current not in snaps:
        return []
    idx = snaps.index(current)
    older, orphans = snaps[:idx], snaps[idx + 1:]
    doomed = orphans + older[: max(0, len(older) - (keep - 1))]
    for p in doomed:
        shutil.rmtree(p.parent, ignore_errors=True)
    return doomed


def append_journal(layout: Layout, entry: dict) -> None:
    """Append one run's record to the journal (one ``write`` of one line, then fsync)."""
    layout.root.mkdir(parents=True, exist_ok=True)
    def iso(value):  # one time format in the journal: ISO 8601, seconds, UTC without offset
        return value.isoformat(timespec="seconds") if isinstance(value, dt.datetime) else str(value)

    # the one writer of the journal: every text in it (messages, summaries) redacted of personal data
    line = (json.dumps(redact_obj(entry), default=iso, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(layout.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def unfinished_record(run_id: str) -> dict:
    """The journal entry of a run whose working file was found abandoned (the process was killed)."""
    return {
        "run_id": run_id, "kind": "run", "status": "did not finish", "finished_at": utcnow().isoformat(timespec="seconds"),
        "message": "the run stopped before publishing (process killed or crashed); its working file was removed, "
                   "the published snapshot was not touched",
    }
