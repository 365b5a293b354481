"""What the committee brief and the dashboard's Results framework page read: the published snapshot only,
read-only, one short connection.

- :func:`snapshot_identity`: name, data run and publish time of the snapshot the pointer names
  (:func:`identify` for a snapshot file).
- :func:`progress`: ``marts.fct_indicator_progress`` with governorate names and each survey wave's approval;
  a row whose wave is provisional keeps its target but loses its actual, CI, percent and status (status_note
  ``provisional wave left out``) unless ``include_provisional``. Suppressed rows never carry a number (the
  mart blanks them; this module checks it again).
- :func:`scorecard`: per indicator and area, the latest period (up to ``period``) with a status.
- :func:`training_cohorts`, :func:`budget_headline`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines import publish as pub

NATIONAL = "IQ"
PROVISIONAL_NOTE = "provisional wave left out"


class BriefDataError(RuntimeError):
    """No published snapshot, or one without the results framework tables (names the path and the fix)."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    name: str
    run_id: str | None
    published_at: str | None


def snapshot_identity(warehouse: Path) -> Snapshot:
    """The snapshot the warehouse pointer names now.

    Raises:
        BriefDataError: no snapshot published at ``warehouse``.
    """
    snap = pub.current_snapshot(warehouse)
    if snap is None:
        raise BriefDataError(f"no published snapshot at {warehouse}: run `mizan run --data-dir DIR` or `mizan demo` first")
    return identify(snap)


def identify(snap: Path) -> Snapshot:
    """Name, data run and publish time of one snapshot file (its sidecar, else its ``audit.snapshot``)."""
    meta = pub.snapshot_meta(snap)
    name, run_id, published = snap.name, meta.get("data_run_id") or meta.get("run_id"), meta.get("data_published_at") or meta.get("published_at")
    with duckdb.connect(str(snap), read_only=True) as con:
        try:
            row = con.execute("SELECT snapshot_name, run_id, published_at FROM audit.snapshot "
                              "ORDER BY published_at DESC LIMIT 1").fetchone()
        except duckdb.Error:
            row = None
    if row:
        name = row[0] or name
        run_id = run_id or row[1]
        published = published or str(row[2])
    return Snapshot(snap, name, run_id, str(published)[:19].replace("T", " ") if published else None)


def _query(snapshot: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(snapshot), read_only=True) as con:
        try:
            return con.execute(sql).pl()
        except duckdb.CatalogException as exc:
            raise BriefDataError(f"{snapshot}: {exc}; rebuild the warehouse with this version of mizan (`mizan run`)") from None


def _approvals(snapshot: Path) -> pl.DataFrame:
    try:
        return _query(snapshot, "SELECT source_id, wave_id, bool_or(is_approved) AS is_approved "
                                "FROM audit.wave_approval_status GROUP BY ALL")
    except BriefDataError:  # no approvals recorded: every wave is provisional
        return pl.DataFrame(schema={"source_id": pl.String, "wave_id": pl.String, "is_approved": pl.Boolean})


def progress(snapshot: Path, include_provisional: bool = False) -> pl.DataFrame:
    """Every progress row (grain indicator x area x period) with ``governorate_name_en/_ar``,
    ``is_approved`` (survey waves; NULL for budget and training) and ``is_provisional``.

    Raises:
        BriefDataError: the snapshot has no ``marts.fct_indicator_progress``.
    """
    rows = _query(snapshot, """
        SELECT p.*, g.name_en AS governorate_name_en, g.name_ar AS governorate_name_ar
        FROM marts.fct_indicator_progress p
        LEFT JOIN marts.dim_governorate g USING (governorate_pcode)
        ORDER BY p.sort_order, p.governorate_pcode, p.period
    """)
    rows = rows.join(_approvals(snapshot), on=["source_id", "wave_id"], how="left").with_columns(
        (pl.col("wave_id").is_not_null() & ~pl.col("is_approved").fill_null(False)).alias("is_provisional"))
    leaked = rows.filter(pl.col("is_suppressed") & (pl.col("actual").is_not_null() | pl.col("status").is_not_null()))
    if leaked.height:  # the mart guarantees this; a reader must never show a suppressed number anyway
        raise BriefDataError(f"{snapshot}: suppressed progress rows carry numbers ({leaked.height}); not shown")
    if not include_provisional:
        blank = pl.col("is_provisional")
        rows = rows.with_columns(
            *[pl.when(blank).then(None).otherwise(pl.col(c)).alias(c)
              for c in ("actual", "ci_lower", "ci_upper", "pct_of_distance", "status")],
            pl.when(blank).then(pl.lit(PROVISIONAL_NOTE)).otherwise(pl.col("status_note")).alias("status_note"),
        )
    return rows


def scorecard(rows: pl.DataFrame, period: str | None = None) -> pl.DataFrame:
    """Per indicator x area: the latest period up to ``period`` with an actual (and its status); else the
    latest whose wave was left out as provisional (so the reader sees why there is no number); else the
    latest with a target. Same columns as :func:`progress`."""
    if period is not None:
        rows = rows.filter(pl.col("period") <= period)
    ranked = rows.with_columns(
        pl.when(pl.col("actual").is_not_null()).then(2)
        .when(pl.col("status_note") == PROVISIONAL_NOTE).then(1).otherwise(0).alias("_has"))
    return (ranked.sort(["_has", "period"], descending=True)
            .unique(subset=["indicator_id", "governorate_pcode"], keep="first", maintain_order=True)
            .sort(["sort_order", "governorate_pcode"]).drop("_has"))


def training_cohorts(snapshot: Path) -> pl.DataFrame:
    """``marts.fct_training_cohorts``: track x cohort rows, per-track and overall totals."""
    return _query(snapshot, "SELECT * FROM marts.fct_training_cohorts ORDER BY track = 'all', track, cohort = 'all', cohort")


def training_outputs(snapshot: Path) -> pl.DataFrame:
    """``marts.fct_training_outputs`` with the governorate's names (NULL for federal / KRG institutions)."""
    return _query(snapshot, """
        SELECT o.*, g.name_en AS governorate_name_en, g.name_ar AS governorate_name_ar
        FROM marts.fct_training_outputs o LEFT JOIN marts.dim_governorate g USING (governorate_pcode)
        ORDER BY track, cohort, area_code, level_of_government, sex
    """)


def budget_headline(rows: pl.DataFrame, period: str | None = None) -> pl.DataFrame:
    """National budget execution rows of the framework (kind ``budget``), every period with an actual."""
    out = rows.filter((pl.col("kind") == "budget") & (pl.col("governorate_pcode") == NATIONAL) & pl.col("actual").is_not_null())
    return out.filter(pl.col("period") <= period) if period else out


def framework_entry(snapshot: Path, indicator_id: str) -> dict | None:
    """The results-framework entry of one indicator (versions, baseline, responsible unit, targets as text),
    or None when the indicator is not in the framework or the snapshot predates it."""
    try:
        rows = _query(snapshot, "SELECT * FROM raw.results_framework_indicators").filter(pl.col("indicator_id") == indicator_id)
        targets = _query(snapshot, "SELECT * FROM raw.results_framework_targets").filter(pl.col("indicator_id") == indicator_id)
    except BriefDataError:
        return None
    if rows.height == 0:
        return None
    entry = rows.row(0, named=True)
    entry["targets_text"] = "; ".join(
        f"{r['period']} {r['governorate_pcode']}: {r['target_value']:g}" for r in targets.sort("period", "governorate_pcode").iter_rows(named=True))
    return entry

