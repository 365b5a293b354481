"""Shared pieces of ingestion: per-row problems, row accounting, fatal errors, source discovery."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from typing import Any

import polars as pl

from data_contracts.personal_data import RedactingError

from data_contracts.governorates import UnknownGovernorateError, resolve_governorate
from data_contracts.mapping import Mapping, MappingError, find_mapping, load_mapping

QUARANTINE_SCHEMA = {
    "source_id": pl.String,
    "file_name": pl.String,
    "file_sha256": pl.String,
    "row_number": pl.Int64,
    "column_name": pl.String,
    "value": pl.String,
    "reason": pl.String,
    "sheet_name": pl.String,
}
EXCLUSION_SCHEMA = {
    "source_id": pl.String,
    "file_name": pl.String,
    "file_sha256": pl.String,
    "row_number": pl.Int64,
    "reason": pl.String,
    "sheet_name": pl.String,
}
DROPPED_SCHEMA = {"source_id": pl.String, "file_name": pl.String, "column_name": pl.String, "reason": pl.String}


@lru_cache(maxsize=4096)
def resolve_governorate_name(value: str) -> tuple[str | None, str | None]:
    """``(p-code, None)`` for a known spelling, ``(None, reason with the closest spellings)`` otherwise.

    The quarantine-friendly form of :func:`data_contracts.governorates.resolve_governorate`; cached here
    because an unknown name raises there, and exceptions are not cached.
    """
    try:
        return resolve_governorate(value), None
    except UnknownGovernorateError as exc:
        return None, str(exc)


class FatalSourceError(RedactingError, RuntimeError):
    """A problem that stops the run (e.g. missing or non-positive weights): names file and rows."""


@dataclass
class FileAccount:
    """Row accounting of one delivered file: rows_read = rows_loaded + rows_excluded + rows_quarantined."""

    source_id: str
    file_name: str
    file_path: str
    file_sha256: str
    file_bytes: int
    rows_read: int
    rows_loaded: int
    rows_excluded: int
    rows_quarantined: int

    def balanced(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_excluded + self.rows_quarantined


@dataclass
class RepeatAccount:
    """Row accounting of one repeat group of one delivered file (a Kobo XLSX sheet or an ODK Central repeat
    CSV): rows_read = rows_loaded + rows_excluded (their submission was excluded) + rows_quarantined
    (orphans, failing cells, or their submission was quarantined)."""

    source_id: str
    file_name: str
    file_sha256: str
    repeat_group: str
    sheet_name: str
    rows_read: int
    rows_loaded: int
    rows_excluded: int
    rows_quarantined: int

    def balanced(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_excluded + self.rows_quarantined


@dataclass
class SourceResult:
    """What ingesting one source produced: raw tables (name → frame), audit frames and accounts."""

    source_id: str
    domain: str
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    files: list[FileAccount] = field(default_factory=list)
    quarantine: list[pl.DataFrame] = field(default_factory=list)
    exclusions: list[pl.DataFrame] = field(default_factory=list)
    dropped_columns: list[pl.DataFrame] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)  # {file_name, note}: things a reader of the run must know
    repeat_accounts: list[RepeatAccount] = field(default_factory=list)
    review_flags: list[pl.DataFrame] = field(default_factory=list)  # rows for audit.review_flags
    reconciliation: list[pl.DataFrame] = field(default_factory=list)  # rows for audit.budget_reconciliation
    wave_plan: Any = None  # survey: the pipelines.ingest.waves.WavePlan this result follows (None: whole source)
    allow_empty: bool = False  # the mapping's allow_empty: loading no row of the source is not a failure
    cleaning_changes: list[pl.DataFrame] = field(default_factory=list)  # rows for audit.cleaning_changes
    cleaning_logs: list[pl.DataFrame] = field(default_factory=list)  # rows for audit.cleaning_logs

    def frame(self, kind: str) -> pl.DataFrame:
        schema = {"quarantine": QUARANTINE_SCHEMA, "exclusions": EXCLUSION_SCHEMA, "dropped_columns": DROPPED_SCHEMA}[kind]
        parts = [p.select(list(schema)).cast(schema) for p in getattr(self, kind) if p.height]
        return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


class Problems:
    """Collects failing cells of one file (or of one sheet of it: ``sheet``, a repeat group's rows):
    ``add_frame(rows, column, reason)`` with row numbers."""

    def __init__(self, source_id: str, file_name: str, sha256: str, sheet: str | None = None):
        self.source_id, self.file_name, self.sha256, self.sheet = source_id, file_name, sha256, sheet
        self._parts: list[pl.DataFrame] = []

    def add_frame(self, failing: pl.DataFrame, column: str, reason: str | pl.Expr) -> None:
        """Record failing rows: ``failing`` has ``__row`` and the offending ``column``."""
        if failing.height == 0:
            return
        reason_expr = reason if isinstance(reason, pl.Expr) else pl.lit(reason)
        self._parts.append(
            failing.select(
                pl.lit(self.source_id).alias("source_id"),
                pl.lit(self.file_name).alias("file_name"),
                pl.lit(self.sha256).alias("file_sha256"),
                pl.col("__row").cast(pl.Int64).alias("row_number"),
                pl.lit(column).alias("column_name"),
                pl.col(column).cast(pl.String).alias("value") if column in failing.columns else pl.lit(None, pl.String).alias("value"),
                reason_expr.cast(pl.String).alias("reason"),
                pl.lit(self.sheet, pl.String).alias("sheet_name"),
            )
        )

    def add_rows(self, rows: list[tuple[int, str, str | None, str]]) -> None:
        """Record failing cells given as ``(row_number, column, value, reason)`` tuples."""
        if rows:
            self._parts.append(
                pl.DataFrame(
                    {
                        "source_id": [self.source_id] * len(rows),
                        "file_name": [self.file_name] * len(rows),
                        "file_sha256": [self.sha256] * len(rows),
                        "row_number": [r[0] for r in rows],
                        "column_name": [r[1] for r in rows],
                        "value": [r[2] for r in rows],
                        "reason": [r[3] for r in rows],
                        "sheet_name": [self.sheet] * len(rows),
                    },
                    schema=QUARANTINE_SCHEMA,
                )
            )

    def frame(self) -> pl.DataFrame:
        parts = [p.cast(QUARANTINE_SCHEMA) for p in self._parts]
        return pl.concat(parts) if parts else pl.DataFrame(schema=QUARANTINE_SCHEMA)

    def rows(self) -> set[int]:
        f = self.frame()
        return set(f["row_number"].to_list())


@dataclass(frozen=True)
class DiscoveredSource:
    """A source found in the landing folder: ``mapping`` is None when no mapping file exists."""

    source_id: str
    domain: str
    path: Path
    mapping_path: Path | None


def discover_sources(data_dir: Path) -> list[DiscoveredSource]:
    """Find sources under ``data_dir/surveys``, ``data_dir/budget`` and ``data_dir/training``.

    A folder ``<domain>/<source_id>/`` is a source; so is a file placed directly in ``<domain>/``
    (source id = file name without extension). Hidden entries and README files are ignored.

    Raises:
        FatalSourceError: ``data_dir`` does not exist or holds neither ``surveys/`` nor ``budget/``.
    """
    if not data_dir.is_dir():
        raise FatalSourceError(f"data directory {data_dir} does not exist")
    found: list[DiscoveredSource] = []
    folders = {"surveys": "survey", "budget": "budget", "training": "training"}  # folder -> domain
    domains = [d for d in folders if (data_dir / d).is_dir()]
    if not domains:
        raise FatalSourceError(f"{data_dir} has neither a surveys/ nor a budget/ folder (see README: landing layout)")
    for domain_dir in domains:
        for entry in sorted((data_dir / domain_dir).iterdir()):
            if entry.name.startswith((".", "_")) or entry.name.lower().startswith("readme"):
                continue
            source_id = entry.name if entry.is_dir() else entry.stem
            found.append(
                DiscoveredSource(
                    source_id=source_id,
                    domain=folders[domain_dir],
                    path=entry,
                    mapping_path=find_mapping(entry, source_id),
                )
            )
    return found


def load_source_mapping(src: DiscoveredSource) -> Mapping:
    """Load a discovered source's mapping and check it fits where the source was found.

    Raises:
        MappingError: invalid mapping, or its source_id/domain disagrees with the landing folder.
    """
    assert src.mapping_path is not None
    mapping = load_mapping(src.mapping_path)
    if mapping.source_id != src.source_id:
        raise MappingError(f"{src.mapping_path}: source_id {mapping.source_id!r} but the folder is {src.source_id!r}")
    if mapping.domain != src.domain:
        folder = {"survey": "surveys", "budget": "budget", "training": "training"}[src.domain]
        raise MappingError(f"{src.mapping_path}: domain {mapping.domain!r} but found under {folder}/")
    return mapping


def source_files(src: DiscoveredSource, patterns: list[str]) -> list[Path]:
    """Files of a source matching its mapping's globs (a file-source matches itself)."""
    if src.path.is_file():
        return [src.path]
    out: list[Path] = []
    for pat in patterns:
        out += sorted(p for p in src.path.glob(pat) if p.is_file())
    return out
