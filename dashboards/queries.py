"""Read-only queries against the mizan warehouse (plain Python, no Streamlit).

Every function takes the warehouse path first, opens a short-lived read-only DuckDB
connection, runs exactly one query, closes the connection and returns a polars DataFrame.
No connection outlives a call: the pipeline is the only writer of the file and a reader
holding it open would block the next run (see DESIGN.md, "Known pitfalls").

Privacy: for suppressed cells (``is_suppressed`` true, or unknown) every statistic derived from
the answers is replaced by NULL here: the estimate, its standard error and confidence interval,
and also ``ci_method``, ``degrees_of_freedom``, ``n_effective``, ``design_effect``,
``excluded_share`` and ``is_unreliable``. Those look harmless but are not: the CI method switches
to Clopper-Pearson and the design effect is NULL exactly when p̂ is 0 or 1, so they would reveal
the hidden estimate. Only identifiers, ``n_unweighted``, ``is_suppressed`` and
``suppression_reason`` are kept, so nothing above this layer (pages, charts, CSV downloads) can
show or imply a suppressed value.

Snapshots: the warehouse path the user configures is a *pointer* (a symlink replaced atomically by
each published run, see ``pipelines/publish.py``). The dashboard resolves it once per page render and
passes the concrete, immutable snapshot file to every function here, so one page never mixes two runs.
A plain file at the pointer path (a warehouse from before snapshots) is its own snapshot.

Wave approval: every query that returns estimates or waves carries ``approval_status`` (``approved``,
``provisional``, ``provisional (approval revoked)``, ``provisional (files changed since approval)``)
and ``is_approved`` from ``audit.wave_approval_status``; a warehouse without that view (or one that
cannot be read) makes every wave ``provisional`` / false.

The Streamlit-cached wrappers live in ``dashboards/data.py``; this module must stay usable from
tests, benchmarks and notebooks without a Streamlit runtime.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from dashboards.tables import parse_time
from pipelines import publish

PathLike = str | os.PathLike[str]

#: Tables each page needs (schema-qualified).
SERVICE_TABLES = (
    "marts.fct_service_indicators",
    "marts.dim_indicator",
    "marts.dim_governorate",
    "marts.dim_wave",
)
BUDGET_TABLES = ("marts.fct_budget_execution", "marts.dim_governorate")
AUDIT_TABLES = (
    "audit.run_log",
    "audit.file_registry",
    "audit.file_deliveries",
    "audit.quarantine",
    "audit.exclusions",
    "audit.dropped_columns",
    "audit.skipped_sources",
)

#: approval_status of a wave nobody approved (and of every wave of a warehouse without approvals).
PROVISIONAL = "provisional"
APPROVED = "approved"

# Suppressed unless the warehouse says explicitly that the cell is publishable.
_SUPPRESSED = "(f.is_suppressed IS DISTINCT FROM false)"

#: Columns of marts.fct_service_indicators derived from the answers: NULL for suppressed cells.
#: (is_unreliable is blanked too, see service_estimates.)
DERIVED_COLUMNS = (
    "estimate",
    "std_error",
    "ci_lower",
    "ci_upper",
    "ci_method",
    "degrees_of_freedom",
    "n_effective",
    "design_effect",
    "excluded_share",
)


class WarehouseNotFound(FileNotFoundError):
    """The warehouse file does not exist."""


# --------------------------------------------------------------------------------------
# plumbing
# --------------------------------------------------------------------------------------
SqlBuilder = Callable[[duckdb.DuckDBPyConnection], str]


def _fetch(
    path: PathLike, sql: str | SqlBuilder, params: Sequence[Any] | None = None
) -> pl.DataFrame:
    """Open read-only, run one query, close. Raises WarehouseNotFound / duckdb.Error.

    ``sql`` may be a function of the (open) connection, for queries that adapt to an older
    warehouse lacking an optional column (see ``_column_or_null``).
    """
    p = Path(path)
    if not p.is_file():
        # duckdb.connect(read_only=True) on a missing file raises too, but say it plainly and
        # never create an empty database file by accident.
        raise WarehouseNotFound(f"no warehouse file at {p}")
    try:
        con = duckdb.connect(str(p), read_only=True)
    except duckdb.IOException:
        if not p.exists():  # pruned between the check and the open
            raise WarehouseNotFound(f"no warehouse file at {p} (it was removed)") from None
        raise
    try:
        # A missing table must be an error, never a Python variable of the same name (DuckDB's
        # replacement scan would otherwise read e.g. the function ``file_deliveries``).
        con.execute("SET python_enable_replacements = false")
        text = sql(con) if callable(sql) else sql
        return con.sql(text, params=list(params) if params else None).pl()
    finally:
        con.close()


def _column_or_null(
    con: duckdb.DuckDBPyConnection, table: str, column: str, alias: str, sql_type: str = "VARCHAR"
) -> str:
    """``alias.column`` when ``table`` (``schema.name``) has that column, else a typed NULL
    (an older warehouse without the column)."""
    schema, name = table.split(".", 1)
    found = con.execute(
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? AND column_name = ?",
        [schema, name, column],
    ).fetchone()
    return f"{alias}.{column}" if found and found[0] else f"CAST(NULL AS {sql_type})"


def _where(filters: Iterable[tuple[str, Any]]) -> tuple[str, list[Any]]:
    """Build ``WHERE a = ? AND b = ?`` for the filters whose value is not None."""
    clauses, params = [], []
    for column, value in filters:
        if value is None:
            continue
        clauses.append(f"{column} = ?")
        params.append(value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


_APPROVAL_OPTIONAL = {
    "last_action": "VARCHAR", "decided_by": "VARCHAR", "decided_at": "TIMESTAMP", "note": "VARCHAR",
}


def _approval_relation(con: duckdb.DuckDBPyConnection) -> str:
    """SQL of a relation with one row per survey wave: ``source_id, wave_id, is_approved,
    approval_status, last_action, decided_by, decided_at, note`` from ``audit.wave_approval_status``.

    A warehouse without the view, or whose view cannot be read (a table it depends on is missing),
    gives an empty relation of the same shape: every wave then joins to NULL, which the callers
    turn into ``provisional`` / false.
    """
    empty = (
        "SELECT CAST(NULL AS VARCHAR) AS source_id, CAST(NULL AS VARCHAR) AS wave_id, "
        "CAST(NULL AS BOOLEAN) AS is_approved, CAST(NULL AS VARCHAR) AS approval_status, "
        "CAST(NULL AS VARCHAR) AS last_action, CAST(NULL AS VARCHAR) AS decided_by, CAST(NULL AS TIMESTAMP) AS decided_at, "
        "CAST(NULL AS VARCHAR) AS note WHERE false"
    )
    try:
        con.execute(
            "SELECT source_id, wave_id, is_approved, approval_status FROM audit.wave_approval_status LIMIT 0"
        )
    except duckdb.Error:
        return empty
    extra = ", ".join(
        f"CAST({_column_or_null(con, 'audit.wave_approval_status', c, 'a', t)} AS {t}) AS {c}"
        for c, t in _APPROVAL_OPTIONAL.items()
    )
    return f"""
        SELECT a.source_id, a.wave_id, a.is_approved, a.approval_status, {extra}
        FROM audit.wave_approval_status a
        QUALIFY row_number() OVER (PARTITION BY a.source_id, a.wave_id
                                   ORDER BY a.is_approved DESC NULLS LAST) = 1
    """


#: The approval columns every estimate / wave query adds (``ap`` = the _approval_relation).
_APPROVAL_COLUMNS = (
    "coalesce(ap.is_approved, false) AS is_approved, "
    f"coalesce(ap.approval_status, '{PROVISIONAL}') AS approval_status"
)


def snapshot_version(path: PathLike) -> str | None:
    """A string that changes whenever the file at ``path`` changes; part of every cache key.

    ``"<mtime ns>-<size>"`` of the file, plus ``"+sha<SHA-256>"`` from the sidecar of a published
    snapshot (immutable, so path + SHA-256 identify its content) and ``"+wal<mtime>-<size>"`` of a
    ``.wal`` file when one exists (a warehouse from before snapshots, written in place). None when
    there is no file. Never used as data.
    """
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return None
    version = f"{st.st_mtime_ns}-{st.st_size}"
    sha = publish.snapshot_meta(p).get("sha256")
    if sha:
        version += f"+sha{sha}"
    wal = p.with_name(p.name + ".wal")
    try:
        wst = wal.stat()
        version += f"+wal{wst.st_mtime_ns}-{wst.st_size}"
    except OSError:
        pass
    return version


SNAPSHOT_IDENTITY_SCHEMA: dict[str, pl.DataType] = {
    "snapshot_name": pl.String(),
    "run_id": pl.String(),
    "published_at": pl.Datetime("us"),
    "kind": pl.String(),
    "sha256": pl.String(),
    "origin": pl.String(),
    "data_run_id": pl.String(),
    "data_published_at": pl.Datetime("us"),
}


def snapshot_identity(path: PathLike) -> pl.DataFrame:
    """Which run's data the snapshot file at ``path`` holds: one row.

    Columns (``SNAPSHOT_IDENTITY_SCHEMA``): ``snapshot_name`` (the name the pipeline gave the
    snapshot in ``audit.snapshot``, as in ``audit.run_log.snapshot``; else the file name),
    ``run_id``, ``published_at`` (naive UTC), ``kind`` (``run`` | ``approval``), ``sha256``,
    ``data_run_id`` / ``data_published_at`` (the run whose data the file holds: for an approval's
    snapshot, the data run before it; else the snapshot's own run), and
    ``origin`` saying where run id and time come from: ``sidecar`` (``<snapshot>.json``), else
    ``audit.snapshot`` (the table every published snapshot holds), else ``file mtime`` (an old
    warehouse: ``run_id`` NULL, ``published_at`` = the file's modification time).

    Raises:
        WarehouseNotFound: no file at ``path``.
        duckdb.Error: the file cannot be read.
    """
    p = Path(path)
    if not p.is_file():
        raise WarehouseNotFound(f"no warehouse file at {p}")
    row: dict[str, Any] = dict.fromkeys(SNAPSHOT_IDENTITY_SCHEMA)
    row["snapshot_name"] = p.name
    meta = publish.snapshot_meta(p)
    if meta.get("run_id") and parse_time(meta.get("published_at")):
        row.update(
            run_id=str(meta["run_id"]), published_at=parse_time(meta["published_at"]),
            kind=meta.get("kind"), sha256=meta.get("sha256"), origin="sidecar",
            data_run_id=str(meta.get("data_run_id") or meta["run_id"]),
            data_published_at=parse_time(meta.get("data_published_at")) or parse_time(meta["published_at"]),
        )
    try:
        own = _fetch(
            p,
            "SELECT run_id, published_at, snapshot_name, kind FROM audit.snapshot "
            "ORDER BY published_at DESC NULLS LAST LIMIT 1",
        )
    except duckdb.CatalogException:  # no audit.snapshot: a warehouse from before snapshots
        own = pl.DataFrame()
    if own.height:
        r = own.row(0, named=True)
        row["snapshot_name"] = r["snapshot_name"] or row["snapshot_name"]
        if row["origin"] is None and r["run_id"]:
            row.update(
                run_id=str(r["run_id"]), published_at=parse_time(r["published_at"]), kind=r["kind"],
                origin="audit.snapshot",
            )
    if row["published_at"] is None:
        mtime = dt.datetime.fromtimestamp(p.stat().st_mtime, tz=dt.UTC).replace(tzinfo=None)
        row.update(published_at=mtime, origin="file mtime")
    if row["data_run_id"] is None:
        row.update(data_run_id=row["run_id"], data_published_at=row["published_at"])
    return pl.DataFrame([row], schema=SNAPSHOT_IDENTITY_SCHEMA)


# --------------------------------------------------------------------------------------
# catalogue
# --------------------------------------------------------------------------------------
def warehouse_tables(path: PathLike) -> pl.DataFrame:
    """Every table and view of the warehouse: ``table_schema, table_name, qualified_name``."""
    return _fetch(
        path,
        """
        SELECT table_schema, table_name, table_schema || '.' || table_name AS qualified_name
        FROM information_schema.tables
        ORDER BY table_schema, table_name
        """,
    )


def missing_tables(path: PathLike, required: Iterable[str]) -> list[str]:
    """The subset of ``required`` (``schema.table``) that the warehouse lacks."""
    present = set(warehouse_tables(path)["qualified_name"].to_list())
    return [t for t in required if t not in present]


# --------------------------------------------------------------------------------------
# dimensions
# --------------------------------------------------------------------------------------
def governorates(path: PathLike) -> pl.DataFrame:
    """``marts.dim_governorate`` (all columns), ordered by English name."""
    return _fetch(path, "SELECT * FROM marts.dim_governorate ORDER BY name_en, governorate_pcode")


_DIM_INDICATOR_LATEST = """
    SELECT * FROM marts.dim_indicator
    QUALIFY row_number() OVER (PARTITION BY indicator_id ORDER BY version DESC NULLS LAST) = 1
"""


def indicators(path: PathLike) -> pl.DataFrame:
    """``marts.dim_indicator`` (reference-sheet fields), latest version of each indicator."""
    return _fetch(path, f"SELECT * FROM ({_DIM_INDICATOR_LATEST}) ORDER BY sector, name_en")


def waves(path: PathLike) -> pl.DataFrame:
    """``marts.dim_wave`` (all its columns) ordered by source and fieldwork start, plus:
    ``coverage`` (always present; NULL = governorate-wide, and for a warehouse that predates the
    column), ``is_approved``, ``approval_status`` and the latest decision on the wave:
    ``approval_action`` (``approve`` | ``revoke``), ``approval_by``, ``approval_at``,
    ``approval_note`` (NULL when nobody decided)."""

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        return f"""
        WITH ap AS ({_approval_relation(con)})
        SELECT w.*, {_APPROVAL_COLUMNS},
               ap.last_action AS approval_action, ap.decided_by AS approval_by,
               ap.decided_at AS approval_at, ap.note AS approval_note
        FROM marts.dim_wave w
        LEFT JOIN ap ON ap.source_id = w.source_id AND ap.wave_id = w.wave_id
        ORDER BY w.source_id, w.fieldwork_start NULLS LAST, w.wave_id
        """

    df = _fetch(path, sql)
    if "coverage" not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.String).alias("coverage"))
    return df


def indicator_options(path: PathLike) -> pl.DataFrame:
    """What can be explored: one row per indicator x source x wave x disaggregation.

    Columns: indicator_id, name_en, sector, source_id, wave_id, wave_title, fieldwork_start,
    disaggregation, is_synthetic, n_cells, n_published (cells not suppressed), is_approved,
    approval_status (of the wave).
    """

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        return f"""
        WITH ap AS ({_approval_relation(con)})
        SELECT f.indicator_id, any_value(i.name_en) AS name_en, any_value(i.sector) AS sector,
               f.source_id, f.wave_id, any_value(w.title) AS wave_title,
               any_value(w.fieldwork_start) AS fieldwork_start, f.disaggregation,
               coalesce(bool_or(coalesce(w.is_synthetic, f.is_synthetic)), false) AS is_synthetic,
               count(*) AS n_cells,
               count(*) FILTER (WHERE NOT {_SUPPRESSED}) AS n_published,
               coalesce(bool_or(ap.is_approved), false) AS is_approved,
               coalesce(any_value(ap.approval_status), '{PROVISIONAL}') AS approval_status
        FROM marts.fct_service_indicators f
        LEFT JOIN ({_DIM_INDICATOR_LATEST}) i USING (indicator_id)
        LEFT JOIN marts.dim_wave w USING (source_id, wave_id)
        LEFT JOIN ap ON ap.source_id = f.source_id AND ap.wave_id = f.wave_id
        GROUP BY f.indicator_id, f.source_id, f.wave_id, f.disaggregation
        ORDER BY any_value(i.sector), any_value(i.name_en), f.indicator_id, f.source_id,
                 any_value(w.fieldwork_start) DESC NULLS LAST, f.wave_id DESC,
                 (f.disaggregation <> 'all'), f.disaggregation
        """

    return _fetch(path, sql)


# --------------------------------------------------------------------------------------
# service indicators
# --------------------------------------------------------------------------------------
def _blank_if_suppressed(column: str) -> str:
    return f"CASE WHEN {_SUPPRESSED} THEN NULL ELSE f.{column} END AS {column}"


def service_estimates(
    path: PathLike,
    indicator_id: str | None = None,
    source_id: str | None = None,
    wave_id: str | None = None,
    disaggregation: str | None = None,
    governorate_pcode: str | None = None,
) -> pl.DataFrame:
    """Cells of ``marts.fct_service_indicators`` with suppressed values blanked.

    For rows with ``is_suppressed`` true (or NULL) every statistic derived from the answers is
    NULL: ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``, ``ci_method``,
    ``degrees_of_freedom``, ``n_effective``, ``design_effect``, ``excluded_share`` and
    ``is_unreliable``; only identifiers, ``n_unweighted``, ``is_suppressed`` (true) and
    ``suppression_reason`` remain. Adds governorate names (``name_en``, ``name_ar``; the p-code
    when the governorate is not in ``dim_governorate``), the indicator's ``indicator_name``,
    ``indicator_type``, ``unit``, ``direction``, and the wave's ``wave_title``,
    ``fieldwork_start``, ``wave_order`` (1 = first wave of the source) and ``coverage`` (NULL =
    governorate-wide; e.g. "Tal Afar city only (...)"; NULL when the warehouse predates it), and
    the wave's ``is_approved`` / ``approval_status`` (see the module docstring).
    """
    where, params = _where(
        [
            ("f.indicator_id", indicator_id),
            ("f.source_id", source_id),
            ("f.wave_id", wave_id),
            ("f.disaggregation", disaggregation),
            ("f.governorate_pcode", governorate_pcode),
        ]
    )
    derived = ",\n               ".join(_blank_if_suppressed(c) for c in DERIVED_COLUMNS)

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        coverage = _column_or_null(con, "marts.dim_wave", "coverage", "w")
        return f"""
        WITH wv AS (
            SELECT w.source_id, w.wave_id, w.title AS wave_title, w.fieldwork_start,
                   w.is_synthetic AS wave_is_synthetic, {coverage} AS coverage,
                   row_number() OVER (PARTITION BY w.source_id
                                      ORDER BY w.fieldwork_start NULLS LAST, w.wave_id) AS wave_order
            FROM marts.dim_wave w
        ),
        ap AS ({_approval_relation(con)})
        SELECT f.indicator_id,
               coalesce(i.name_en, f.indicator_id) AS indicator_name,
               i.indicator_type, i.unit, i.direction,
               f.source_id, f.wave_id, wv.wave_title, wv.fieldwork_start, wv.wave_order,
               wv.coverage,
               f.governorate_pcode,
               coalesce(g.name_en, f.governorate_pcode) AS name_en,
               g.name_ar,
               f.disaggregation, f.disaggregation_value,
               {derived},
               f.n_unweighted,
               {_SUPPRESSED} AS is_suppressed,
               f.suppression_reason,
               CASE WHEN {_SUPPRESSED} THEN NULL
                    ELSE coalesce(f.is_unreliable, false) END AS is_unreliable,
               coalesce(wv.wave_is_synthetic, f.is_synthetic, false) AS is_synthetic,
               {_APPROVAL_COLUMNS}
        FROM marts.fct_service_indicators f
        LEFT JOIN ({_DIM_INDICATOR_LATEST}) i USING (indicator_id)
        LEFT JOIN marts.dim_governorate g USING (governorate_pcode)
        LEFT JOIN wv ON wv.source_id = f.source_id AND wv.wave_id = f.wave_id
        LEFT JOIN ap ON ap.source_id = f.source_id AND ap.wave_id = f.wave_id
        {where}
        ORDER BY f.indicator_id, f.source_id, wv.wave_order NULLS LAST, f.wave_id,
                 coalesce(g.name_en, f.governorate_pcode), f.disaggregation,
                 f.disaggregation_value
        """

    return _fetch(path, sql, params)


def headline_summary(path: PathLike, approved_only: bool = False) -> pl.DataFrame:
    """For each indicator and source, its latest wave **with a published estimate**, summarised
    across governorates. With ``approved_only`` only approved waves count (the latest *approved*
    wave with a published estimate; a source without one has no row).

    National estimates do not exist (estimates are per governorate), so this is the spread of
    governorate estimates, disaggregation ``all`` only, suppressed cells left out. A wave in
    which no cell was published (e.g. the question was not asked, every cell "no answers in
    domain") is never the headline wave; when no wave of the source has a published estimate,
    the latest wave is returned with ``has_published`` false and no estimates.

    Columns: indicator_id, indicator_name, name_ar, sector, indicator_type, unit, direction,
    source_id, wave_id, wave_title, coverage (NULL = governorate-wide), n_waves (waves of the
    source with a published estimate of the indicator; approved ones only with ``approved_only``),
    has_published, is_synthetic, is_approved, approval_status (of the headline wave),
    n_governorates (with a published estimate), n_suppressed, n_unreliable, median_estimate,
    min_estimate, max_estimate, and — only when exactly one governorate has a published
    estimate — single_governorate_pcode, single_name_en, single_name_ar, single_estimate,
    single_ci_lower, single_ci_upper (else NULL).
    """

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        coverage = _column_or_null(con, "marts.dim_wave", "coverage", "w")
        approved = "AND coalesce(ap.is_approved, false)" if approved_only else ""
        return f"""
        WITH ap AS ({_approval_relation(con)}),
        est AS (
            SELECT f.indicator_id, f.source_id, f.wave_id, f.governorate_pcode, f.is_synthetic,
                   {_SUPPRESSED} AS supp,
                   coalesce(f.is_unreliable, false) AS unrel,
                   CASE WHEN {_SUPPRESSED} THEN NULL ELSE f.estimate END AS estimate,
                   CASE WHEN {_SUPPRESSED} THEN NULL ELSE f.ci_lower END AS ci_lower,
                   CASE WHEN {_SUPPRESSED} THEN NULL ELSE f.ci_upper END AS ci_upper
            FROM marts.fct_service_indicators f
            LEFT JOIN ap ON ap.source_id = f.source_id AND ap.wave_id = f.wave_id
            WHERE f.disaggregation = 'all' {approved}
        ),
        wv AS (
            SELECT w.source_id, w.wave_id, w.fieldwork_start, w.title AS wave_title,
                   w.is_synthetic AS wave_is_synthetic, {coverage} AS coverage
            FROM marts.dim_wave w
        ),
        iw AS (
            SELECT e.indicator_id, e.source_id, e.wave_id,
                   any_value(wv.fieldwork_start) AS fieldwork_start,
                   any_value(wv.wave_title) AS wave_title,
                   any_value(wv.wave_is_synthetic) AS wave_is_synthetic,
                   any_value(wv.coverage) AS coverage,
                   count(*) FILTER (WHERE e.estimate IS NOT NULL) > 0 AS has_published
            FROM est e LEFT JOIN wv USING (source_id, wave_id)
            GROUP BY e.indicator_id, e.source_id, e.wave_id
        ),
        latest AS (
            SELECT *,
                   count(*) FILTER (WHERE has_published)
                       OVER (PARTITION BY indicator_id, source_id) AS n_waves
            FROM iw
            QUALIFY row_number() OVER (PARTITION BY indicator_id, source_id
                                       ORDER BY has_published DESC,
                                                fieldwork_start DESC NULLS LAST,
                                                wave_id DESC) = 1
        ),
        agg AS (
            SELECT l.indicator_id, l.source_id, l.wave_id,
                   any_value(l.wave_title) AS wave_title,
                   any_value(l.coverage) AS coverage,
                   any_value(l.n_waves) AS n_waves,
                   any_value(l.has_published) AS has_published,
                   coalesce(bool_or(coalesce(l.wave_is_synthetic, e.is_synthetic)), false)
                       AS is_synthetic,
                   count(DISTINCT e.governorate_pcode) FILTER (WHERE e.estimate IS NOT NULL)
                       AS n_governorates,
                   count(*) FILTER (WHERE e.supp) AS n_suppressed,
                   count(*) FILTER (WHERE e.unrel AND NOT e.supp) AS n_unreliable,
                   median(e.estimate) AS median_estimate,
                   min(e.estimate) AS min_estimate,
                   max(e.estimate) AS max_estimate,
                   any_value(e.governorate_pcode) FILTER (WHERE e.estimate IS NOT NULL) AS one_pcode,
                   any_value(e.estimate) FILTER (WHERE e.estimate IS NOT NULL) AS one_estimate,
                   any_value(e.ci_lower) FILTER (WHERE e.estimate IS NOT NULL) AS one_ci_lower,
                   any_value(e.ci_upper) FILTER (WHERE e.estimate IS NOT NULL) AS one_ci_upper
            FROM latest l
            JOIN est e USING (indicator_id, source_id, wave_id)
            GROUP BY l.indicator_id, l.source_id, l.wave_id
        )
        SELECT a.indicator_id,
               coalesce(i.name_en, a.indicator_id) AS indicator_name,
               i.name_ar, i.sector, i.indicator_type, i.unit, i.direction,
               a.source_id, a.wave_id, a.wave_title, a.coverage, a.n_waves, a.has_published,
               a.is_synthetic, {_APPROVAL_COLUMNS}, a.n_governorates, a.n_suppressed, a.n_unreliable,
               a.median_estimate, a.min_estimate, a.max_estimate,
               CASE WHEN a.n_governorates = 1 THEN a.one_pcode END AS single_governorate_pcode,
               CASE WHEN a.n_governorates = 1 THEN coalesce(g.name_en, a.one_pcode) END
                   AS single_name_en,
               CASE WHEN a.n_governorates = 1 THEN g.name_ar END AS single_name_ar,
               CASE WHEN a.n_governorates = 1 THEN a.one_estimate END AS single_estimate,
               CASE WHEN a.n_governorates = 1 THEN a.one_ci_lower END AS single_ci_lower,
               CASE WHEN a.n_governorates = 1 THEN a.one_ci_upper END AS single_ci_upper
        FROM agg a
        LEFT JOIN ({_DIM_INDICATOR_LATEST}) i USING (indicator_id)
        LEFT JOIN marts.dim_governorate g ON g.governorate_pcode = a.one_pcode
        LEFT JOIN ap ON ap.source_id = a.source_id AND ap.wave_id = a.wave_id
        ORDER BY i.sector, indicator_name, a.source_id
        """

    return _fetch(path, sql)


# --------------------------------------------------------------------------------------
# budget
# --------------------------------------------------------------------------------------
BUDGET_COLUMNS: dict[str, pl.DataType] = {
    "governorate_pcode": pl.String(),
    "fiscal_year": pl.Int64(),
    "source_id": pl.String(),
    "budget_scope": pl.String(),
    "allocation": pl.Float64(),
    "expenditure": pl.Float64(),
    "execution_rate": pl.Float64(),
    "execution_rate_source": pl.String(),
    "currency": pl.String(),
    "unit": pl.String(),
    "as_of": pl.Date(),
    "is_synthetic": pl.Boolean(),
    "name_en": pl.String(),
    "name_ar": pl.String(),
}


def budget_execution(
    path: PathLike, source_id: str | None = None, budget_scope: str | None = None
) -> pl.DataFrame:
    """``marts.fct_budget_execution`` with governorate names; execution_rate is a fraction.

    Columns listed in ``BUDGET_COLUMNS`` are always present (NULL when the warehouse lacks
    one, e.g. an older build without ``execution_rate_source`` or ``as_of``). ``as_of`` is the
    date year-to-date figures refer to (e.g. 2009-10-13 for SIGIR 2009).
    """
    where, params = _where([("b.source_id", source_id), ("b.budget_scope", budget_scope)])
    df = _fetch(
        path,
        f"""
        SELECT b.*, coalesce(g.name_en, b.governorate_pcode) AS name_en, g.name_ar
        FROM marts.fct_budget_execution b
        LEFT JOIN marts.dim_governorate g ON g.governorate_pcode = b.governorate_pcode
        {where}
        ORDER BY b.source_id, b.budget_scope, coalesce(g.name_en, b.governorate_pcode),
                 b.fiscal_year
        """,
        params,
    )
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in BUDGET_COLUMNS.items() if c not in df.columns]
    return df.with_columns(missing) if missing else df


# --------------------------------------------------------------------------------------
# audit
# --------------------------------------------------------------------------------------
#: Columns of ``run_log`` (and of journal entries, see ``tables.run_history``) with their types.
RUN_LOG_COLUMNS: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "kind": pl.String(),
    "started_at": pl.Datetime("us"),
    "finished_at": pl.Datetime("us"),
    "duration_seconds": pl.Int64(),
    "status": pl.String(),
    "data_dir": pl.String(),
    "files_json": pl.String(),
    "rows_read": pl.Int64(),
    "rows_loaded": pl.Int64(),
    "rows_excluded": pl.Int64(),
    "rows_quarantined": pl.Int64(),
    "tests_passed": pl.Int64(),
    "tests_failed": pl.Int64(),
    "snapshot": pl.String(),
    "message": pl.String(),
    "summary_json": pl.String(),
}
_RUN_LOG_SQL_TYPES = {
    "kind": "VARCHAR", "data_dir": "VARCHAR", "files_json": "VARCHAR", "rows_read": "BIGINT",
    "rows_loaded": "BIGINT", "rows_excluded": "BIGINT", "rows_quarantined": "BIGINT",
    "tests_passed": "BIGINT", "tests_failed": "BIGINT", "snapshot": "VARCHAR", "message": "VARCHAR",
    "summary_json": "VARCHAR",
}


def run_log(path: PathLike, limit: int = 20) -> pl.DataFrame:
    """The snapshot's ``audit.run_log``, latest first (by finish, else start time), at most ``limit``.

    Columns ``RUN_LOG_COLUMNS``: run_id, kind ('run' | 'approval'), started_at, finished_at,
    duration_seconds, status ('published' | 'failed' | 'did not finish'; older warehouses wrote
    e.g. 'success'), data_dir, files_json (JSON list of {source_id, file_name, file_sha256,
    outcome, supersedes_sha256}), rows_read, rows_loaded, rows_excluded, rows_quarantined,
    tests_passed, tests_failed, snapshot (file name), message (why a run failed), summary_json.
    A column an older warehouse lacks is NULL.
    """

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        cols = ",\n               ".join(
            f"CAST({_column_or_null(con, 'audit.run_log', c, 'r', t)} AS {t}) AS {c}"
            for c, t in _RUN_LOG_SQL_TYPES.items()
        )
        return f"""
        SELECT r.run_id,
               TRY_CAST(r.started_at AS TIMESTAMP) AS started_at,
               TRY_CAST(r.finished_at AS TIMESTAMP) AS finished_at,
               date_diff('second', TRY_CAST(r.started_at AS TIMESTAMP),
                         TRY_CAST(r.finished_at AS TIMESTAMP)) AS duration_seconds,
               r.status,
               {cols}
        FROM audit.run_log r
        ORDER BY coalesce(TRY_CAST(r.finished_at AS TIMESTAMP), TRY_CAST(r.started_at AS TIMESTAMP))
                     DESC NULLS LAST, r.run_id DESC
        LIMIT ?
        """

    df = _fetch(path, sql, [int(limit)])
    return df.select(pl.col(c).cast(t) for c, t in RUN_LOG_COLUMNS.items())


#: Columns of audit.file_registry the dashboard reads, with their SQL types (NULL when absent).
_REGISTRY_COLUMNS = {
    "run_id": "VARCHAR", "domain": "VARCHAR", "source_id": "VARCHAR", "file_name": "VARCHAR",
    "file_path": "VARCHAR", "archive_path": "VARCHAR", "file_sha256": "VARCHAR", "file_bytes": "BIGINT",
    "unit": "VARCHAR", "status": "VARCHAR", "superseded_by": "VARCHAR", "superseded_at": "TIMESTAMP",
    "registered_at": "TIMESTAMP", "loaded_at": "TIMESTAMP", "rows_read": "BIGINT", "rows_loaded": "BIGINT",
    "rows_excluded": "BIGINT", "rows_quarantined": "BIGINT", "rows_superseded": "BIGINT",
}


def file_registry(path: PathLike, run_id: str | None = None) -> pl.DataFrame:
    """Registered files, newest first, with the row-accounting check.

    One row per distinct file (by SHA-256; an older warehouse has one row per run and file).
    Columns: run_id (the last run that read the file), domain, source_id, file_name, file_path,
    archive_path, file_sha256, file_bytes, unit (survey wave, or budget units), status ('active' |
    'partly superseded' | 'superseded'; NULL in older warehouses), superseded_by (SHA-256),
    superseded_at, registered_at, loaded_at, rows_read, rows_loaded, rows_excluded,
    rows_quarantined, rows_superseded, plus ``rows_unaccounted`` = rows_read - (rows_loaded +
    rows_excluded + rows_quarantined) and ``accounting_ok`` (rows_unaccounted = 0). ``run_id``
    filters on the last run that read the file.
    """
    where, params = _where([("r.run_id", run_id)])

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        cols = ", ".join(
            f"CAST({_column_or_null(con, 'audit.file_registry', c, 'r', t)} AS {t}) AS {c}"
            for c, t in _REGISTRY_COLUMNS.items()
        )
        return f"""
        SELECT *,
               rows_read - (coalesce(rows_loaded, 0) + coalesce(rows_excluded, 0)
                            + coalesce(rows_quarantined, 0)) AS rows_unaccounted,
               coalesce(rows_read = coalesce(rows_loaded, 0) + coalesce(rows_excluded, 0)
                                    + coalesce(rows_quarantined, 0), false) AS accounting_ok
        FROM (SELECT {cols} FROM audit.file_registry r {where})
        ORDER BY coalesce(loaded_at, registered_at) DESC NULLS LAST, source_id, file_name
        """

    return _fetch(path, sql, params)


def file_deliveries(path: PathLike, run_id: str | None = None) -> pl.DataFrame:
    """What became of each file seen in the landing folder by one run (``audit.file_deliveries``):
    that of ``run_id``, else of the latest run that saw any file.

    Columns: run_id, seen_at, domain, source_id, file_name, file_path, file_sha256, outcome (e.g.
    'new', 'unchanged: already registered', 'same content as X …: loaded once', 'new, corrects an
    earlier delivery: supersedes …'), supersedes_sha256 (the file it replaces, or NULL). Ordered by
    domain, source and file name.
    """
    chosen = "?" if run_id is not None else (
        "(SELECT run_id FROM audit.file_deliveries ORDER BY seen_at DESC NULLS LAST, run_id DESC LIMIT 1)"
    )
    return _fetch(
        path,
        f"""
        SELECT run_id, seen_at, domain, source_id, file_name, file_path, file_sha256, outcome,
               supersedes_sha256
        FROM audit.file_deliveries
        WHERE run_id = {chosen}
        ORDER BY domain, source_id, file_name, file_sha256
        """,
        [run_id] if run_id is not None else None,
    )


def quarantine_by_reason(path: PathLike, run_id: str | None = None) -> pl.DataFrame:
    """Quarantined cells grouped by source, column and reason: n_rows (distinct file rows)
    and n_cells, most frequent first."""
    where, params = _where([("run_id", run_id)])
    return _fetch(
        path,
        f"""
        SELECT source_id, column_name, reason,
               count(DISTINCT (file_sha256, row_number)) AS n_rows,
               count(*) AS n_cells
        FROM audit.quarantine
        {where}
        GROUP BY source_id, column_name, reason
        ORDER BY n_rows DESC, n_cells DESC, source_id, column_name, reason
        """,
        params,
    )


def quarantine_sample(path: PathLike, run_id: str | None = None, limit: int = 200) -> pl.DataFrame:
    """Up to ``limit`` quarantined cells, in file order."""
    where, params = _where([("run_id", run_id)])
    return _fetch(
        path,
        f"""
        SELECT run_id, source_id, file_name, row_number, column_name, value, reason, file_sha256
        FROM audit.quarantine
        {where}
        ORDER BY source_id, file_name, row_number, column_name
        LIMIT ?
        """,
        [*params, int(limit)],
    )


def exclusions_by_reason(path: PathLike, run_id: str | None = None) -> pl.DataFrame:
    """Excluded rows (e.g. no consent) grouped by source and reason: n_rows, n_files."""
    where, params = _where([("run_id", run_id)])
    return _fetch(
        path,
        f"""
        SELECT source_id, reason, count(*) AS n_rows, count(DISTINCT file_sha256) AS n_files
        FROM audit.exclusions
        {where}
        GROUP BY source_id, reason
        ORDER BY n_rows DESC, source_id, reason
        """,
        params,
    )


def dropped_columns(path: PathLike) -> pl.DataFrame:
    """Personal-data columns that were never loaded."""
    return _fetch(
        path,
        """
        SELECT source_id, file_name, column_name, reason
        FROM audit.dropped_columns
        ORDER BY source_id, file_name, column_name
        """,
    )


def skipped_sources(path: PathLike, run_id: str | None = None) -> pl.DataFrame:
    """Sources found in the landing folder but skipped (e.g. no mapping file)."""
    where, params = _where([("run_id", run_id)])
    return _fetch(
        path,
        f"SELECT run_id, path, reason FROM audit.skipped_sources {where} ORDER BY run_id DESC, path",
        params,
    )


#: Query functions the cached layer may call by name.
QUERIES = {
    f.__name__: f
    for f in (
        warehouse_tables,
        snapshot_identity,
        governorates,
        indicators,
        waves,
        indicator_options,
        service_estimates,
        headline_summary,
        budget_execution,
        run_log,
        file_registry,
        file_deliveries,
        quarantine_by_reason,
        quarantine_sample,
        exclusions_by_reason,
        dropped_columns,
        skipped_sources,
    )
}
