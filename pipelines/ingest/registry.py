"""The file registry: every delivered file registered once by SHA-256, archived read-only, superseded by a
corrected delivery of the same source and unit.

Rules (docs/publishing.md, "Deliveries"):

- A file is identified by the SHA-256 of its bytes. The same bytes delivered again, under any name, are
  recorded as a delivery (``audit.file_deliveries``) but registered and loaded once.
- A new file is copied to ``<warehouse folder>/archive/<domain>/<source>/<sha256>/<name>`` (mode 0444);
  loads read the archived copy, so a landing folder cleaned up later loses nothing.
- **Survey**: the unit is the wave (from the mapping's ``files:`` entry the name matches). A new file for a
  wave that already has a registered file supersedes it: the old file's rows leave ``raw``; the registry
  keeps both, the old one marked ``superseded`` with ``superseded_by``.
- **Budget**: the unit is the fiscal year of each loaded line (or fiscal year × governorate when the
  mapping says ``supersede_by: fiscal_year_governorate``, for files per governorate). Lines of an older
  file whose unit appears in a newer file of the same source leave ``raw`` (``rows_superseded``), so a
  corrected file for a year can also drop a line; the older file is ``partly superseded`` or, when none of
  its lines is left, ``superseded``.
- Two *new* files of one source in one run that claim the same unit are ambiguous: the run stops and names
  both (remove one, or give them distinct waves in the mapping).
- A file already superseded that is delivered again is not loaded again (its outcome says so).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines.ingest.common import DiscoveredSource, FatalSourceError, source_files
from pipelines.readers.delimited import sha256_of

#: Extensions of delivered data files (others, e.g. a PDF report, are not data and not reported).
DATA_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xls", ".sav", ".dta", ".json"}

REGISTRY_COLUMNS = [
    "file_sha256", "domain", "source_id", "file_name", "file_path", "archive_path", "file_bytes", "unit",
    "registered_seq", "registered_at", "registered_run_id", "status", "superseded_by", "superseded_at", "run_id",
    "loaded_at", "rows_read", "rows_loaded", "rows_excluded", "rows_quarantined", "rows_superseded",
]


@dataclass
class Registered:
    """One registry row (see ``audit.file_registry`` in docs/architecture.md)."""

    file_sha256: str
    domain: str
    source_id: str
    file_name: str
    file_path: str
    archive_path: str
    file_bytes: int
    unit: str | None
    registered_seq: int
    registered_at: dt.datetime
    registered_run_id: str
    status: str = "active"
    superseded_by: str | None = None
    superseded_at: dt.datetime | None = None
    run_id: str | None = None
    loaded_at: dt.datetime | None = None
    rows_read: int | None = None
    rows_loaded: int | None = None
    rows_excluded: int | None = None
    rows_quarantined: int | None = None
    rows_superseded: int | None = None
    is_new: bool = False

    def row(self) -> dict:
        return {c: getattr(self, c) for c in REGISTRY_COLUMNS}


def archive_file(archive_dir: Path, domain: str, source_id: str, path: Path, sha: str) -> Path:
    """Copy ``path`` into the archive (atomic rename of a temporary copy; read-only) and return the archived
    copy. An archived copy with the right hash is reused.

    Raises:
        FatalSourceError: the file changed while it was being copied.
    """
    dest = archive_dir / domain / source_id / sha / path.name
    if dest.is_file() and sha256_of(dest) == sha:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    shutil.copyfile(path, tmp)
    if sha256_of(tmp) != sha:
        tmp.unlink(missing_ok=True)
        raise FatalSourceError(f"{path}: the file changed while it was being archived; deliver it again")
    os.chmod(tmp, 0o444)
    os.replace(tmp, dest)
    return dest


class Registry:
    """The registry of one domain inside a run, backed by the run's working warehouse connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, domain: str, archive_dir: Path, run_id: str, now: dt.datetime):
        """``archive_dir`` is ``<warehouse folder>/archive``; registry rows store archive paths relative to
        the warehouse folder, so a warehouse folder that is moved or copied keeps reading its own archive."""
        self.con, self.domain, self.archive_dir, self.run_id, self.now = con, domain, archive_dir, run_id, now
        self.root = archive_dir.parent
        self.landing_copies: dict[str, Path] = {}  # sha -> a landing file with those bytes, seen this run
        frame = con.execute(  # rows of warehouses from before the registry (no registered_seq) are replaced
            f"SELECT {', '.join(REGISTRY_COLUMNS)} FROM audit.file_registry WHERE registered_seq IS NOT NULL"
        ).pl()
        self.files: dict[str, Registered] = {r["file_sha256"]: Registered(**r) for r in frame.iter_rows(named=True)}
        self.next_seq = max((f.registered_seq or 0 for f in self.files.values()), default=0) + 1
        self.deliveries: list[dict] = []

    def _deliver(self, src_id: str, path: Path, sha: str, outcome: str, supersedes: str | None = None) -> dict:
        d = {"run_id": self.run_id, "seen_at": self.now, "domain": self.domain, "source_id": src_id,
             "file_name": path.name, "file_path": str(path), "file_sha256": sha, "outcome": outcome,
             "supersedes_sha256": supersedes}
        self.deliveries.append(d)
        return d

    def register_source(
        self, src: DiscoveredSource, patterns: list[str], unit_of=None, companions: set[str] = frozenset()
    ) -> list[Registered]:
        """Register the landing files of one source; return the files to load (archived copies).

        ``unit_of(path) -> str`` gives a survey file's wave; budget units come from its rows
        (:meth:`supersede_budget_rows`).

        Raises:
            FatalSourceError: no file matches the mapping, a file cannot be archived, or two new files
                of this run claim the same wave.
        """
        paths = source_files(src, patterns)
        if not paths:
            raise FatalSourceError(f"{src.source_id}: no file matches {patterns} in {src.path}")
        if src.path.is_dir():  # a delivered data file the mapping does not name is reported, never ignored silently
            for other in sorted(p for p in src.path.iterdir() if p.is_file() and p not in paths):
                if other.suffix.lower() in DATA_SUFFIXES and not other.name.startswith((".", "_")) \
                        and other.name not in companions:
                    self._deliver(src.source_id, other, sha256_of(other),
                                  f"matches no files: entry of the mapping {patterns}: not loaded")
        seen_now: dict[str, Path] = {}
        for path in paths:
            sha = sha256_of(path)
            self.landing_copies.setdefault(sha, path)
            known = self.files.get(sha)
            if sha in seen_now:
                self._deliver(src.source_id, path, sha, f"same content as {seen_now[sha].name} in this delivery: loaded once")
                continue
            seen_now[sha] = path
            if known is not None and known.source_id != src.source_id:
                raise FatalSourceError(
                    f"{path}: the same file (SHA-256 {sha[:12]}…) is already registered for source {known.source_id}"
                    f" as {known.file_name}; one file belongs to one source"
                )
            if known is not None:
                if unit_of:  # the wave comes from the mapping as it is now (a renamed wave follows the mapping)
                    known.unit = unit_of(Path(known.file_name)) or known.unit
                if known.status == "superseded":
                    by = self.files.get(str(known.superseded_by))
                    outcome = (f"superseded earlier by {by.file_name if by else ''} ({str(known.superseded_by)[:12]}…): "
                               "not loaded (to go back to this file, see docs/publishing.md)")
                elif known.file_name == path.name:
                    outcome = "unchanged: already registered"
                else:
                    outcome = f"same content as {known.file_name} (registered {known.registered_at:%Y-%m-%d %H:%M}): loaded once"
                self._deliver(src.source_id, path, sha, outcome)
                continue
            archived = archive_file(self.archive_dir, self.domain, src.source_id, path, sha)
            self.files[sha] = Registered(
                file_sha256=sha, domain=self.domain, source_id=src.source_id, file_name=path.name,
                file_path=str(path), archive_path=str(archived.relative_to(self.root)), file_bytes=path.stat().st_size,
                unit=unit_of(path) if unit_of else None, registered_seq=self.next_seq, registered_at=self.now,
                registered_run_id=self.run_id, is_new=True,
            )
            self.next_seq += 1
            self._deliver(src.source_id, path, sha, "new: registered and archived")
        if unit_of:
            for f in self.files.values():  # files not in the landing folder this time follow the mapping too
                if f.source_id == src.source_id:
                    f.unit = unit_of(Path(f.file_name)) or f.unit  # a name no pattern matches keeps its wave
            self._supersede_by_unit(src.source_id)
        return self.active(src.source_id)

    def archived(self, f: Registered) -> Path:
        """The archived copy of a registered file to read; re-archived from the landing folder when the
        archive lost it.

        Raises:
            FatalSourceError: the archived copy is gone and no landing file has those bytes.
        """
        path = self.root / f.archive_path
        if path.is_file():
            return path
        if f.file_sha256 in self.landing_copies:
            return archive_file(self.archive_dir, self.domain, f.source_id, self.landing_copies[f.file_sha256], f.file_sha256)
        raise FatalSourceError(
            f"{f.source_id}: the archived copy of {f.file_name} (SHA-256 {f.file_sha256[:12]}…) is missing at {path} and "
            "the landing folder has no file with those bytes: restore the archive folder, or deliver the file again"
        )

    def active(self, source_id: str) -> list[Registered]:
        """Files of a source that still have rows to load, in registration order."""
        return sorted(
            (f for f in self.files.values() if f.source_id == source_id and f.status != "superseded"),
            key=lambda f: f.registered_seq,
        )

    def _supersede_by_unit(self, source_id: str) -> None:
        by_unit: dict[str, list[Registered]] = {}
        for f in self.active(source_id):
            by_unit.setdefault(f.unit or "", []).append(f)
        for unit, files in by_unit.items():
            if len(files) < 2:
                continue
            new = [f for f in files if f.is_new]
            if len(new) > 1:
                wave, _, part = unit.partition("#")
                raise FatalSourceError(
                    f"{source_id}: {len(new)} new files for wave {wave!r}{f' part {part!r}' if part else ''} in one "
                    "delivery: " + ", ".join(f"{f.file_name} (SHA-256 {f.file_sha256[:12]}…)" for f in new)
                    + "; a corrected file replaces the earlier one: keep one, map them to distinct waves, or, when "
                    "together they make the wave (e.g. one export per form version), give each its files: entry "
                    "with its own part"
                )
            winner = files[-1]
            for old in files[:-1]:
                self._mark_superseded(old, winner)

    def _mark_superseded(self, old: Registered, winner: Registered, partly: bool = False) -> None:
        old.status = "partly superseded" if partly else "superseded"
        old.superseded_by, old.superseded_at = winner.file_sha256, self.now
        for d in self.deliveries:
            if d["file_sha256"] == winner.file_sha256 and d["outcome"].startswith("new"):
                d["outcome"] = f"new, corrects an earlier delivery: supersedes {old.file_name} ({old.file_sha256[:12]}…)"
                d["supersedes_sha256"] = old.file_sha256
            elif d["file_sha256"] == old.file_sha256 and not partly:  # the old file (or a copy) is still in the folder
                d["outcome"] = f"superseded now by {winner.file_name} ({winner.file_sha256[:12]}…): not loaded"

    def supersede_budget_rows(self, source_id: str, lines: pl.DataFrame, by: str = "fiscal_year") -> pl.DataFrame:
        """Keep, per unit (fiscal year, or fiscal year × governorate when ``by`` says so), the lines of the
        newest file that has that unit.

        Returns the kept lines; records ``rows_superseded`` and the status of each older file.

        Raises:
            FatalSourceError: two new files of this run both carry lines for one unit.
        """
        if lines.height == 0:
            return lines
        seq = {f.file_sha256: f.registered_seq for f in self.active(source_id)}
        ranked = lines.with_columns(pl.col("file_sha256").replace_strict(seq, default=0).alias("__seq"))
        unit = ["fiscal_year"] if by == "fiscal_year" else ["fiscal_year", "governorate_pcode"]
        newest = ranked.group_by(unit).agg(
            pl.col("__seq").max().alias("__max"), pl.col("file_sha256").unique().alias("__files")
        )
        new_shas = {f.file_sha256 for f in self.active(source_id) if f.is_new}
        clash = newest.filter(pl.col("__files").list.eval(pl.element().is_in(list(new_shas))).list.sum() > 1)
        if clash.height:
            r = clash.row(0, named=True)
            names = [self.files[s].file_name for s in r["__files"] if s in new_shas]
            where = f" for {r['governorate_pcode']}" if "governorate_pcode" in r else ""
            raise FatalSourceError(
                f"{source_id}: new files {', '.join(names)} both hold fiscal year {r['fiscal_year']}{where}; a corrected "
                "file replaces an earlier one: deliver one of them (or set supersede_by: fiscal_year_governorate "
                "for files per governorate)"
            )
        joined = ranked.join(newest.select(*unit, "__max"), on=unit)
        kept = joined.filter(pl.col("__seq") == pl.col("__max"))
        dropped = joined.filter(pl.col("__seq") != pl.col("__max"))
        by_seq = {f.registered_seq: f for f in self.active(source_id)}
        for f in self.active(source_id):
            gone = dropped.filter(pl.col("file_sha256") == f.file_sha256)
            f.rows_superseded = gone.height
            if gone.height:
                winner = by_seq[int(gone["__max"].max())]
                left = kept.filter(pl.col("file_sha256") == f.file_sha256).height
                self._mark_superseded(f, winner, partly=left > 0)
        return kept.drop("__seq", "__max")

    def record_loads(self, accounts) -> None:
        """Store a run's row accounting on the files it read."""
        for acc in accounts:
            f = self.files.get(acc.file_sha256)
            if f is None:
                continue
            f.run_id, f.loaded_at = self.run_id, self.now
            f.rows_read, f.rows_loaded = acc.rows_read, acc.rows_loaded
            f.rows_excluded, f.rows_quarantined = acc.rows_excluded, acc.rows_quarantined
            if f.rows_superseded is None:
                f.rows_superseded = 0

    def write(self) -> None:
        """Replace this domain's registry rows and append this run's deliveries (inside the caller's
        transaction)."""
        from pipelines.warehouse import insert_frame

        self.con.execute("DELETE FROM audit.file_registry WHERE domain = ?", [self.domain])
        rows = [f.row() for f in self.files.values() if f.domain == self.domain]
        schema = {c: pl.String for c in REGISTRY_COLUMNS} | {
            "file_bytes": pl.Int64, "registered_seq": pl.Int64, "registered_at": pl.Datetime, "superseded_at": pl.Datetime,
            "loaded_at": pl.Datetime, "rows_read": pl.Int64, "rows_loaded": pl.Int64, "rows_excluded": pl.Int64,
            "rows_quarantined": pl.Int64, "rows_superseded": pl.Int64,
        }
        insert_frame(self.con, "audit.file_registry", pl.DataFrame(rows, schema=schema))
        self.con.execute("DELETE FROM audit.file_deliveries WHERE run_id = ? AND domain = ?", [self.run_id, self.domain])
        if self.deliveries:
            insert_frame(self.con, "audit.file_deliveries", pl.DataFrame(self.deliveries, schema={
                "run_id": pl.String, "seen_at": pl.Datetime, "domain": pl.String, "source_id": pl.String,
                "file_name": pl.String, "file_path": pl.String, "file_sha256": pl.String, "outcome": pl.String,
                "supersedes_sha256": pl.String,
            }))


def wave_of(patterns: list[tuple[str, str | None]] | list[tuple[str, str | None, str | None]]):
    """``unit_of`` for a survey mapping: the wave of the first ``files:`` entry a name matches, as
    ``<wave>#<part>`` when the entry names a part (several files that together make one wave: a newer file
    supersedes only the earlier file of its part); None when no entry matches (the caller keeps the wave it
    had). :func:`wave_of_unit` gives the wave back."""
    def unit(path: Path) -> str | None:
        for entry in patterns:
            pat, wave, part = (*entry, None)[:3]
            if fnmatch.fnmatch(path.name, pat):
                return f"{wave}#{part}" if part else wave
        return None
    return unit


def wave_of_unit(unit: str | None) -> str | None:
    """The wave of a survey file's registry unit (``2024`` or ``2024#v2`` → ``2024``)."""
    return unit.split("#", 1)[0] if unit is not None else None
