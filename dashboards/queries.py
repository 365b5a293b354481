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

The Streamlit-cached wrappers live in ``dashboards/data.py``; this module must stay usable from
tests, benchmarks and notebooks without a Streamlit runtime.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

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
    "audit.quarantine",
    "audit.exclusions",
    "audit.dropped_columns",
    "audit.skipped_sources",
)

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
    con = duckdb.connect(str(p), read_only=True)
    try:
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


def snapshot_version(path: PathLike) -> str | None:
    """A string that changes whenever the warehouse file is rebuilt or swapped.

    Modification time (ns) and size of the file, plus those of its ``.wal`` file when one
    exists. None when there is no file. Used as part of the cache key, never as data.
    """
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return None
    version = f"{st.st_mtime_ns}-{st.st_size}"
    wal = p.with_name(p.name + ".wal")
    try:
        wst = wal.stat()
        version += f"+wal{wst.st_mtime_ns}-{wst.st_size}"
    except OSError:
        pass
    return version


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
    """``marts.dim_wave`` ordered by source and fieldwork start; ``coverage`` is always present
    (NULL = governorate-wide, and for a warehouse that predates the column)."""
    df = _fetch(
        path,
        "SELECT * FROM marts.dim_wave ORDER BY source_id, fieldwork_start NULLS LAST, wave_id",
    )
    if "coverage" not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.String).alias("coverage"))
    return df


def indicator_options(path: PathLike) -> pl.DataFrame:
    """What can be explored: one row per indicator x source x wave x disaggregation.

    Columns: indicator_id, name_en, sector, source_id, wave_id, wave_title, fieldwork_start,
    disaggregation, is_synthetic, n_cells, n_published (cells not suppressed).
    """
    return _fetch(
        path,
        f"""
        SELECT f.indicator_id, any_value(i.name_en) AS name_en, any_value(i.sector) AS sector,
               f.source_id, f.wave_id, any_value(w.title) AS wave_title,
               any_value(w.fieldwork_start) AS fieldwork_start, f.disaggregation,
               coalesce(bool_or(coalesce(w.is_synthetic, f.is_synthetic)), false) AS is_synthetic,
               count(*) AS n_cells,
               count(*) FILTER (WHERE NOT {_SUPPRESSED}) AS n_published
        FROM marts.fct_service_indicators f
        LEFT JOIN ({_DIM_INDICATOR_LATEST}) i USING (indicator_id)
        LEFT JOIN marts.dim_wave w USING (source_id, wave_id)
        GROUP BY f.indicator_id, f.source_id, f.wave_id, f.disaggregation
        ORDER BY any_value(i.sector), any_value(i.name_en), f.indicator_id, f.source_id,
                 any_value(w.fieldwork_start) DESC NULLS LAST, f.wave_id DESC,
                 (f.disaggregation <> 'all'), f.disaggregation
        """,
    )


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
    governorate-wide; e.g. "Tal Afar city only (...)"; NULL when the warehouse predates it).
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
        )
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
               coalesce(wv.wave_is_synthetic, f.is_synthetic, false) AS is_synthetic
        FROM marts.fct_service_indicators f
        LEFT JOIN ({_DIM_INDICATOR_LATEST}) i USING (indicator_id)
        LEFT JOIN marts.dim_governorate g USING (governorate_pcode)
        LEFT JOIN wv ON wv.source_id = f.source_id AND wv.wave_id = f.wave_id
        {where}
        ORDER BY f.indicator_id, f.source_id, wv.wave_order NULLS LAST, f.wave_id,
                 coalesce(g.name_en, f.governorate_pcode), f.disaggregation,
                 f.disaggregation_value
        """

    return _fetch(path, sql, params)


def headline_summary(path: PathLike) -> pl.DataFrame:
    """For each indicator and source, its latest wave **with a published estimate**, summarised
    across governorates.

    National estimates do not exist (estimates are per governorate), so this is the spread of
    governorate estimates, disaggregation ``all`` only, suppressed cells left out. A wave in
    which no cell was published (e.g. the question was not asked, every cell "no answers in
    domain") is never the headline wave; when no wave of the source has a published estimate,
    the latest wave is returned with ``has_published`` false and no estimates.

    Columns: indicator_id, indicator_name, name_ar, sector, indicator_type, unit, direction,
    source_id, wave_id, wave_title, coverage (NULL = governorate-wide), n_waves (waves of the
    source with a published estimate of the indicator), has_published, is_synthetic,
    n_governorates (with a published estimate), n_suppressed, n_unreliable, median_estimate,
    min_estimate, max_estimate, and — only when exactly one governorate has a published
    estimate — single_governorate_pcode, single_name_en, single_name_ar, single_estimate,
    single_ci_lower, single_ci_upper (else NULL).
    """

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        coverage = _column_or_null(con, "marts.dim_wave", "coverage", "w")
        return f"""
        WITH est AS (
            SELECT f.indicator_id, f.source_id, f.wave_id, f.governorate_pcode, f.is_synthetic,
                   {_SUPPRESSED} AS supp,
                   coalesce(f.is_unreliable, false) AS unrel,
                   CASE WHEN {_SUPPRESSED} THEN NULL ELSE f.estimate END AS estimate,
                   CASE WHEN {_SUPPRESSED} THEN NULL ELSE f.ci_lower END AS ci_lower,
                   CASE WHEN {_SUPPRESSED} THEN NULL ELSE f.ci_upper END AS ci_upper
            FROM marts.fct_service_indicators f
            WHERE f.disaggregation = 'all'
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
               a.is_synthetic, a.n_governorates, a.n_suppressed, a.n_unreliable,
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
def run_log(path: PathLike, limit: int = 20) -> pl.DataFrame:
    """Latest runs first: run_id, started_at, finished_at, duration_seconds, status, data_dir,
    summary_json."""
    return _fetch(
        path,
        """
        SELECT run_id, started_at, finished_at,
               date_diff('second', TRY_CAST(started_at AS TIMESTAMP),
                         TRY_CAST(finished_at AS TIMESTAMP)) AS duration_seconds,
               status, data_dir, summary_json
        FROM audit.run_log
        ORDER BY started_at DESC NULLS LAST, run_id DESC
        LIMIT ?
        """,
        [int(limit)],
    )


def file_registry(path: PathLike, run_id: str | None = None) -> pl.DataFrame:
    """Files loaded, newest first, with the row-accounting check.

    Adds ``rows_unaccounted`` = rows_read - (rows_loaded + rows_excluded + rows_quarantined)
    and ``accounting_ok`` (rows_unaccounted = 0).
    """
    where, params = _where([("run_id", run_id)])
    return _fetch(
        path,
        f"""
        SELECT run_id, source_id, file_name, file_path, file_sha256, file_bytes, loaded_at,
               rows_read, rows_loaded, rows_excluded, rows_quarantined,
               rows_read - (coalesce(rows_loaded, 0) + coalesce(rows_excluded, 0)
                            + coalesce(rows_quarantined, 0)) AS rows_unaccounted,
               coalesce(rows_read = coalesce(rows_loaded, 0) + coalesce(rows_excluded, 0)
                                    + coalesce(rows_quarantined, 0), false) AS accounting_ok
        FROM audit.file_registry
        {where}
        ORDER BY loaded_at DESC NULLS LAST, source_id, file_name
        """,
        params,
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
        governorates,
        indicators,
        waves,
        indicator_options,
        service_estimates,
        headline_summary,
        budget_execution,
        run_log,
        file_registry,
        quarantine_by_reason,
        quarantine_sample,
        exclusions_by_reason,
        dropped_columns,
        skipped_sources,
    )
}
