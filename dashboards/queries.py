"""Read-only queries against the mizan warehouse (plain Python, no Streamlit).

Every function takes the warehouse path first, opens a short-lived read-only DuckDB
connection, runs exactly one query, closes the connection and returns a polars DataFrame.
No connection outlives a call: the pipeline is the only writer of the file and a reader
holding it open would block the next run (docs/publishing.md, "What a reader sees").

Privacy: for suppressed cells (``is_suppressed`` true, or unknown) every statistic derived from
the answers is replaced by NULL here: the estimate, its standard error and confidence interval,
and also ``ci_method``, ``degrees_of_freedom``, ``n_effective``, ``design_effect``,
``excluded_share``, ``is_unreliable`` and the domain's design facts (``weight_ratio_max_median``,
``has_extreme_weights``, ``n_psu``, ``n_singleton_strata``). Those look harmless but are not: the
CI method switches to Clopper-Pearson and the design effect is NULL exactly when p̂ is 0 or 1, so
they would reveal the hidden estimate. Only identifiers, ``n_unweighted``, ``is_suppressed``,
``suppression_reason`` and the wave's ``single_psu_rule`` are kept, so nothing above this layer
(pages, charts, CSV downloads) can show or imply a suppressed value. The same holds for the answer
distributions (``response_distribution``: a distribution with any suppressed share is hidden
whole) and for changes between waves (``indicator_changes``: a pair with a suppressed side, in the
mart's flag or in either wave's cell, carries no number at all, only the reason).

Areas: ``governorate_pcode`` is a governorate, or ``IQ`` for a national estimate (Iraq as a whole;
``marts.dim_governorate.area_level`` = ``national``). Every estimate query returns ``area_level``
(``governorate`` | ``national``; for a warehouse without the column, ``IQ`` is national) so that a
national row is never counted, ranked or listed as a governorate.

Estimation rules: ``estimation_rules`` returns the snapshot's ``marts.dim_estimation_rules`` (the
thresholds and ``rule_text``, the sentence every screen and download prints), or, for a warehouse
that predates the table, the rule the dashboard used to print (``tables.SUPPRESSION_RULE``).

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

from dashboards.tables import SUPPRESSION_RULE, parse_time
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

#: Audit tables of newer builds (Kobo semantics): the Data quality page shows their sections only
#: when the snapshot has them.
REVIEW_TABLES = ("audit.review_flags", "audit.repeat_group_accounts")
#: Estimates of waves delivered on a source's own scale (newer builds; absent = every estimate on the
#: question bank's scale).
SCALE_TABLE = "marts.dim_indicator_wave_scale"

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
#: Design facts of a cell's domain (newer builds; NULL when the warehouse lacks them): NULL for
#: suppressed cells too. The weight ratio describes the answering respondents of the domain.
DESIGN_COLUMNS: dict[str, str] = {
    "n_psu": "INTEGER",
    "n_singleton_strata": "INTEGER",
    "weight_ratio_max_median": "DOUBLE",
    "has_extreme_weights": "BOOLEAN",
}

#: The p-code of national estimates (COD-AB ADM0) and the two area levels of dim_governorate.
NATIONAL_PCODE = "IQ"
NATIONAL = "national"
GOVERNORATE = "governorate"


#: marts.dim_estimation_rules (the rules a snapshot was built with) and their SQL types.
ESTIMATION_RULE_COLUMNS: dict[str, str] = {
    "confidence_level": "DOUBLE",
    "suppression_min_n": "INTEGER",
    "suppression_min_n_eff": "DOUBLE",
    "unreliable_ci_width": "DOUBLE",
    "unreliable_relative_width": "DOUBLE",
    "default_single_psu_rule": "VARCHAR",
    "extreme_weight_ratio": "DOUBLE",
    "rule_text": "VARCHAR",
}
_POLARS_TYPES: dict[str, Any] = {
    "DOUBLE": pl.Float64, "INTEGER": pl.Int32, "BIGINT": pl.Int64, "VARCHAR": pl.String,
    "BOOLEAN": pl.Boolean, "DATE": pl.Date, "TIMESTAMP": pl.Datetime("us"),
}
#: The rules of a warehouse from before marts.dim_estimation_rules: the thresholds hard-coded
#: then, and the sentence the dashboard printed then.
FALLBACK_RULES: dict[str, Any] = {
    "confidence_level": 0.95,
    "suppression_min_n": 30,
    "suppression_min_n_eff": 30.0,
    "unreliable_ci_width": 0.30,
    "unreliable_relative_width": 1.30,
    "default_single_psu_rule": "skip",
    "extreme_weight_ratio": 10.0,
    "rule_text": SUPPRESSION_RULE,
}


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


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return not _column_or_null(con, table, column, "x").startswith("CAST(NULL")


def _wave_order(con: duckdb.DuckDBPyConnection, alias: str) -> str:
    """The order of a wave within its source (1 = first) for rows of ``marts.dim_wave`` as ``alias``:
    ``dim_wave.wave_order`` (fieldwork start, then the wave id read naturally: '9' before '10'), or for an
    older warehouse without it the same by fieldwork start then wave id as text (a window expression)."""
    if _has_column(con, "marts.dim_wave", "wave_order"):
        return f"{alias}.wave_order"
    return (f"row_number() OVER (PARTITION BY {alias}.source_id "
            f"ORDER BY {alias}.fieldwork_start NULLS LAST, {alias}.wave_id)")


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """True when ``table`` (``schema.name``) exists in the open warehouse."""
    schema, name = table.split(".", 1)
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(found and found[0])


def _empty_relation(columns: dict[str, str]) -> str:
    """SQL of an empty relation with these columns (name -> SQL type)."""
    cols = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in columns.items())
    return f"SELECT {cols} WHERE false"


def _scale_relation(con: duckdb.DuckDBPyConnection) -> str:
    """SQL of ``indicator_id, source_id, wave_id, scale_note`` from ``marts.dim_indicator_wave_scale``
    (estimates of a wave delivered on a source's own scale, e.g. "4-point scale, top box (source codes
    1, 2)"); an empty relation for a warehouse that predates the mart."""
    if not _has_table(con, SCALE_TABLE):
        return _empty_relation({"indicator_id": "VARCHAR", "source_id": "VARCHAR", "wave_id": "VARCHAR",
                                "scale_note": "VARCHAR"})
    return f"SELECT indicator_id, source_id, wave_id, any_value(scale_note) AS scale_note FROM {SCALE_TABLE} GROUP BY ALL"


def _sector_columns(con: duckdb.DuckDBPyConnection, alias: str) -> str:
    """``sector_name, sector_order, sector_name_ar`` of ``marts.dim_indicator`` as ``alias``: the question
    bank's display names (English, Arabic) and order, or, for a warehouse that predates them, the sector id
    turned into words (the Arabic name then the English one) and no order."""
    name = _column_or_null(con, "marts.dim_indicator", "sector_name", alias)
    name_ar = _column_or_null(con, "marts.dim_indicator", "sector_name_ar", alias)
    order = _column_or_null(con, "marts.dim_indicator", "sector_order", alias, "INTEGER")
    fallback = f"upper({alias}.sector[1]) || replace({alias}.sector[2:], '_', ' ')"
    return (f"coalesce({name}, {fallback}) AS sector_name, CAST({order} AS INTEGER) AS sector_order, "
            f"coalesce({name_ar}, {name}, {fallback}) AS sector_name_ar")


def _area_level(con: duckdb.DuckDBPyConnection, g_alias: str, pcode: str) -> str:
    """SQL for the area level of ``pcode`` (``governorate`` | ``national``): from
    ``dim_governorate.area_level`` (alias ``g_alias``), else IQ is national (older warehouses)."""
    fallback = f"CASE WHEN {pcode} = '{NATIONAL_PCODE}' THEN '{NATIONAL}' ELSE '{GOVERNORATE}' END"
    col = _column_or_null(con, "marts.dim_governorate", "area_level", g_alias)
    return fallback if col.startswith("CAST(NULL") else f"coalesce({col}, {fallback})"


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
    """``marts.dim_governorate`` (all columns) ordered by English name, with ``area_level``
    always present (``governorate`` | ``national``; IQ is national in a warehouse without the
    column). Callers that list governorates keep ``area_level == 'governorate'``."""

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        level = _area_level(con, "g", "g.governorate_pcode")
        keep = "g.* EXCLUDE (area_level)" if _has_column(con, "marts.dim_governorate", "area_level") else "g.*"
        return f"""
        SELECT {keep}, {level} AS area_level
        FROM marts.dim_governorate g
        ORDER BY g.name_en, g.governorate_pcode
        """

    return _fetch(path, sql)


def estimation_rules(path: PathLike) -> pl.DataFrame:
    """The estimation rules of this snapshot: one row of ``marts.dim_estimation_rules``
    (``ESTIMATION_RULE_COLUMNS``: confidence_level, suppression_min_n, suppression_min_n_eff,
    unreliable_ci_width, unreliable_relative_width, default_single_psu_rule, extreme_weight_ratio,
    rule_text) plus ``origin``: ``snapshot``, or ``fallback`` for a warehouse that predates the
    table (then the thresholds are the defaults of that time and ``rule_text`` is
    ``tables.SUPPRESSION_RULE``, the sentence the dashboard printed then)."""

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        if not _has_table(con, "marts.dim_estimation_rules"):
            return _empty_relation(ESTIMATION_RULE_COLUMNS)
        cols = ", ".join(
            f"CAST({_column_or_null(con, 'marts.dim_estimation_rules', c, 'r', t)} AS {t}) AS {c}"
            for c, t in ESTIMATION_RULE_COLUMNS.items()
        )
        return f"SELECT {cols} FROM marts.dim_estimation_rules r WHERE r.rule_text IS NOT NULL LIMIT 1"

    df = _fetch(path, sql)
    if df.height:
        return df.with_columns(pl.lit("snapshot").alias("origin"))
    return pl.DataFrame([{**FALLBACK_RULES, "origin": "fallback"}]).cast(
        {c: _POLARS_TYPES[t] for c, t in ESTIMATION_RULE_COLUMNS.items()}
    )


_DIM_INDICATOR_LATEST = """
    SELECT * FROM marts.dim_indicator
    QUALIFY row_number() OVER (PARTITION BY indicator_id ORDER BY version DESC NULLS LAST) = 1
"""


def indicators(path: PathLike) -> pl.DataFrame:
    """``marts.dim_indicator`` (reference-sheet fields), latest version of each indicator, with
    ``sector_name`` (the question bank's display name, e.g. "Roads and transport"; for a warehouse
    that predates it, the sector id in words) and ``sector_order`` (NULL then), ordered by sector."""

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        return f"SELECT * FROM ({_indicator_relation(con)}) ORDER BY sector_order NULLS LAST, sector, name_en"

    return _fetch(path, sql)


def _indicator_relation(con: duckdb.DuckDBPyConnection) -> str:
    """SQL of the latest version of each ``marts.dim_indicator`` row with ``sector_name`` and
    ``sector_order`` always present (see ``_sector_columns``)."""
    have = [c for c in ("sector_name", "sector_order", "sector_name_ar") if _has_column(con, "marts.dim_indicator", c)]
    star = f"i.* EXCLUDE ({', '.join(have)})" if have else "i.*"
    return f"SELECT {star}, {_sector_columns(con, 'i')} FROM ({_DIM_INDICATOR_LATEST}) i"


def waves(path: PathLike) -> pl.DataFrame:
    """``marts.dim_wave`` (all its columns) ordered by source and fieldwork start, plus:
    ``coverage`` and the design columns of ``WAVE_DESIGN_COLUMNS`` (always present; NULL for a
    warehouse that predates them; coverage NULL = governorate-wide), ``is_approved``, ``approval_status`` and the latest decision on the wave:
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
        ORDER BY w.source_id, {_wave_order(con, "w")}, w.wave_id
        """

    df = _fetch(path, sql)
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in WAVE_DESIGN_COLUMNS.items() if c not in df.columns]
    return df.with_columns(missing) if missing else df


#: Columns of marts.dim_wave the dashboard reads beyond the basics (NULL when an older warehouse
#: lacks them): coverage, and the design the variance used (docs/methodology.md).
WAVE_DESIGN_COLUMNS: dict[str, Any] = {
    "coverage": pl.String,
    "n_strata": pl.Int64,
    "n_psu": pl.Int64,
    "degrees_of_freedom": pl.Int64,
    "n_singleton_strata": pl.Int64,
    "single_psu_rule": pl.String,
    "n_strata_delivered": pl.Int64,
    "n_singleton_strata_delivered": pl.Int64,
    "weight_method": pl.String,
    "post_stratify": pl.String,
    "weight_min": pl.Float64,
    "weight_median": pl.Float64,
    "weight_max": pl.Float64,
    "weight_ratio_max_median": pl.Float64,
    "has_extreme_weights": pl.Boolean,
    "n_effective": pl.Float64,
    "has_national_estimates": pl.Boolean,
}


def indicator_options(path: PathLike) -> pl.DataFrame:
    """What can be explored: one row per indicator x source x wave x disaggregation, for the
    service indicators (``marts.fct_service_indicators``) and the answer distributions
    (``marts.fct_response_distribution``, when the warehouse has it).

    Columns: indicator_id, name_en, sector, indicator_type (``proportion`` | ``mean`` |
    ``distribution``; NULL when the indicator is not in dim_indicator), source_id, wave_id,
    wave_title, fieldwork_start, disaggregation, is_synthetic, n_cells (areas x groups; answers
    not counted), n_published (cells, or distributions, not suppressed), is_approved,
    approval_status (of the wave).
    """

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        cells = """
            SELECT indicator_id, source_id, wave_id, governorate_pcode, disaggregation,
                   disaggregation_value, is_synthetic, (is_suppressed IS DISTINCT FROM false) AS supp
            FROM marts.fct_service_indicators
        """
        if _has_table(con, "marts.fct_response_distribution"):
            # one "cell" per distribution (area x group): hidden when any share is
            cells += """
            UNION ALL
            SELECT indicator_id, source_id, wave_id, governorate_pcode, disaggregation,
                   disaggregation_value, bool_or(is_synthetic),
                   bool_or(is_suppressed IS DISTINCT FROM false)
            FROM marts.fct_response_distribution
            GROUP BY ALL
            """
        return f"""
        WITH ap AS ({_approval_relation(con)}),
        f AS ({cells})
        SELECT f.indicator_id, any_value(i.name_en) AS name_en, any_value(i.sector) AS sector,
               any_value(i.sector_name) AS sector_name, any_value(i.sector_order) AS sector_order,
               any_value(i.sector_name_ar) AS sector_name_ar, any_value(i.indicator_type) AS indicator_type,
               f.source_id, f.wave_id, any_value(w.title) AS wave_title,
               any_value(w.fieldwork_start) AS fieldwork_start, f.disaggregation,
               coalesce(bool_or(coalesce(w.is_synthetic, f.is_synthetic)), false) AS is_synthetic,
               count(*) AS n_cells,
               count(*) FILTER (WHERE NOT f.supp) AS n_published,
               coalesce(bool_or(ap.is_approved), false) AS is_approved,
               coalesce(any_value(ap.approval_status), '{PROVISIONAL}') AS approval_status
        FROM f
        LEFT JOIN ({_indicator_relation(con)}) i USING (indicator_id)
        LEFT JOIN marts.dim_wave w USING (source_id, wave_id)
        LEFT JOIN ap ON ap.source_id = f.source_id AND ap.wave_id = f.wave_id
        GROUP BY f.indicator_id, f.source_id, f.wave_id, f.disaggregation
        ORDER BY any_value(i.sector_order) NULLS LAST, any_value(i.sector), any_value(i.name_en), f.indicator_id,
                 f.source_id,
                 any_value(w.fieldwork_start) DESC NULLS LAST,
                 any_value({_column_or_null(con, "marts.dim_wave", "wave_order", "w", "INTEGER")}) DESC NULLS LAST,
                 f.wave_id DESC,
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
    ``suppression_reason`` remain; the design facts of ``DESIGN_COLUMNS`` (PSUs, single-PSU strata,
    max/median weight ratio, extreme-weight flag) are NULL for them too, and for a warehouse that
    predates them; ``single_psu_rule`` (the wave's rule) is kept. Adds governorate names
    (``name_en``, ``name_ar``; the p-code when the area is not in ``dim_governorate``),
    ``area_level`` (``governorate`` | ``national``; national rows, IQ, come first in each
    wave), the indicator's ``indicator_name``,
    ``indicator_type``, ``unit``, ``direction``, and the wave's ``wave_title``,
    ``fieldwork_start``, ``wave_order`` (1 = first wave of the source) and ``coverage`` (NULL =
    governorate-wide; e.g. "Tal Afar city only (...)"; NULL when the warehouse predates it),
    ``scale_note`` (the wave delivered the question on a scale of its own, e.g. "4-point scale, top
    box (source codes 1, 2)", ``marts.dim_indicator_wave_scale``; NULL = the question bank's scale, or
    a warehouse that predates the mart; a fact of the wave, kept for suppressed cells too), and
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
        design = ",\n               ".join(
            f"CASE WHEN {_SUPPRESSED} THEN NULL ELSE "
            f"CAST({_column_or_null(con, 'marts.fct_service_indicators', c, 'f', t)} AS {t}) END AS {c}"
            for c, t in DESIGN_COLUMNS.items()
        )
        psu_rule = _column_or_null(con, "marts.fct_service_indicators", "single_psu_rule", "f")
        level = _area_level(con, "g", "f.governorate_pcode")
        return f"""
        WITH wv AS (
            SELECT w.source_id, w.wave_id, w.title AS wave_title, w.fieldwork_start,
                   w.is_synthetic AS wave_is_synthetic, {coverage} AS coverage,
                   {_wave_order(con, "w")} AS wave_order
            FROM marts.dim_wave w
        ),
        ap AS ({_approval_relation(con)}),
        sc AS ({_scale_relation(con)})
        SELECT f.indicator_id,
               coalesce(i.name_en, f.indicator_id) AS indicator_name,
               i.indicator_type, i.unit, i.direction,
               f.source_id, f.wave_id, wv.wave_title, wv.fieldwork_start, wv.wave_order,
               wv.coverage, sc.scale_note,
               f.governorate_pcode,
               coalesce(g.name_en, f.governorate_pcode) AS name_en,
               g.name_ar,
               {level} AS area_level,
               f.disaggregation, f.disaggregation_value,
               {derived},
               {design},
               {psu_rule} AS single_psu_rule,
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
        LEFT JOIN sc ON sc.indicator_id = f.indicator_id AND sc.source_id = f.source_id AND sc.wave_id = f.wave_id
        {where}
        ORDER BY f.indicator_id, f.source_id, wv.wave_order NULLS LAST, f.wave_id,
                 ({level} = '{NATIONAL}') DESC, coalesce(g.name_en, f.governorate_pcode),
                 f.disaggregation, f.disaggregation_value
        """

    return _fetch(path, sql, params)


def headline_summary(path: PathLike, approved_only: bool = False) -> pl.DataFrame:
    """For each indicator and source, its latest wave **with a published estimate**, summarised
    across governorates, with the national estimate when the wave has one. With
    ``approved_only`` only approved waves count (the latest *approved* wave with a published
    estimate; a source without one has no row).

    Disaggregation ``all`` only, suppressed cells left out. The spread (median, range, count) is
    over **governorates only**: a national row (IQ, ``area_level`` national) is never counted as
    a governorate; it is returned beside them (``national_*``). A wave in which no cell was
    published (e.g. the question was not asked, every cell "no answers in domain") is never the
    headline wave; when no wave of the source has a published estimate, the latest wave is
    returned with ``has_published`` false and no estimates.

    Rows are ordered by sector (the question bank's order), then indicator name and source.

    Columns: indicator_id, indicator_name, name_ar, sector, sector_name (display name), sector_order,
    sector_name_ar (the Arabic display name),
    indicator_type, unit, direction, source_id, wave_id, wave_title, coverage (NULL =
    governorate-wide), scale_note (the headline wave's own scale, NULL = the question bank's; see
    ``service_estimates``), n_waves (waves of the
    source with a published estimate of the indicator; approved ones only with ``approved_only``),
    has_published, is_synthetic, is_approved, approval_status (of the headline wave),
    n_governorates (governorates with a published estimate), n_suppressed, n_unreliable
    (governorate cells), median_estimate, min_estimate, max_estimate, and — only when exactly one
    governorate has a published estimate — single_governorate_pcode, single_name_en,
    single_name_ar, single_estimate, single_ci_lower, single_ci_upper (else NULL); the national
    cell of the wave: has_national (a national cell exists), national_is_suppressed,
    national_suppression_reason, national_estimate, national_ci_lower, national_ci_upper,
    national_is_unreliable (NULL numbers when suppressed or absent).
    """

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        coverage = _column_or_null(con, "marts.dim_wave", "coverage", "w")
        approved = "AND coalesce(ap.is_approved, false)" if approved_only else ""
        level = _area_level(con, "g", "f.governorate_pcode")
        return f"""
        WITH ap AS ({_approval_relation(con)}),
        sc AS ({_scale_relation(con)}),
        est AS (
            SELECT f.indicator_id, f.source_id, f.wave_id, f.governorate_pcode, f.is_synthetic,
                   {level} = '{NATIONAL}' AS is_national,
                   {_SUPPRESSED} AS supp,
                   f.suppression_reason,
                   coalesce(f.is_unreliable, false) AS unrel,
                   CASE WHEN {_SUPPRESSED} THEN NULL ELSE f.estimate END AS estimate,
                   CASE WHEN {_SUPPRESSED} THEN NULL ELSE f.ci_lower END AS ci_lower,
                   CASE WHEN {_SUPPRESSED} THEN NULL ELSE f.ci_upper END AS ci_upper
            FROM marts.fct_service_indicators f
            LEFT JOIN marts.dim_governorate g USING (governorate_pcode)
            LEFT JOIN ap ON ap.source_id = f.source_id AND ap.wave_id = f.wave_id
            WHERE f.disaggregation = 'all' {approved}
        ),
        wv AS (
            SELECT w.source_id, w.wave_id, w.fieldwork_start, w.title AS wave_title,
                   w.is_synthetic AS wave_is_synthetic, {coverage} AS coverage,
                   {_wave_order(con, "w")} AS wave_order
            FROM marts.dim_wave w
        ),
        iw AS (
            SELECT e.indicator_id, e.source_id, e.wave_id,
                   any_value(wv.fieldwork_start) AS fieldwork_start,
                   any_value(wv.wave_order) AS wave_order,
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
                                                wave_order DESC NULLS LAST,
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
                   count(DISTINCT e.governorate_pcode)
                       FILTER (WHERE e.estimate IS NOT NULL AND NOT e.is_national) AS n_governorates,
                   count(*) FILTER (WHERE e.supp AND NOT e.is_national) AS n_suppressed,
                   count(*) FILTER (WHERE e.unrel AND NOT e.supp AND NOT e.is_national) AS n_unreliable,
                   median(e.estimate) FILTER (WHERE NOT e.is_national) AS median_estimate,
                   min(e.estimate) FILTER (WHERE NOT e.is_national) AS min_estimate,
                   max(e.estimate) FILTER (WHERE NOT e.is_national) AS max_estimate,
                   any_value(e.governorate_pcode)
                       FILTER (WHERE e.estimate IS NOT NULL AND NOT e.is_national) AS one_pcode,
                   any_value(e.estimate)
                       FILTER (WHERE e.estimate IS NOT NULL AND NOT e.is_national) AS one_estimate,
                   any_value(e.ci_lower)
                       FILTER (WHERE e.estimate IS NOT NULL AND NOT e.is_national) AS one_ci_lower,
                   any_value(e.ci_upper)
                       FILTER (WHERE e.estimate IS NOT NULL AND NOT e.is_national) AS one_ci_upper,
                   count(*) FILTER (WHERE e.is_national) > 0 AS has_national,
                   bool_or(e.supp) FILTER (WHERE e.is_national) AS national_is_suppressed,
                   any_value(e.suppression_reason)
                       FILTER (WHERE e.is_national AND e.supp) AS national_suppression_reason,
                   any_value(e.estimate) FILTER (WHERE e.is_national) AS national_estimate,
                   any_value(e.ci_lower) FILTER (WHERE e.is_national) AS national_ci_lower,
                   any_value(e.ci_upper) FILTER (WHERE e.is_national) AS national_ci_upper,
                   bool_or(e.unrel AND NOT e.supp) FILTER (WHERE e.is_national) AS national_is_unreliable
            FROM latest l
            JOIN est e USING (indicator_id, source_id, wave_id)
            GROUP BY l.indicator_id, l.source_id, l.wave_id
        )
        SELECT a.indicator_id,
               coalesce(i.name_en, a.indicator_id) AS indicator_name,
               i.name_ar, i.sector, i.sector_name, i.sector_order, i.sector_name_ar, i.indicator_type, i.unit,
               i.direction,
               a.source_id, a.wave_id, a.wave_title, a.coverage, sc.scale_note, a.n_waves, a.has_published,
               a.is_synthetic, {_APPROVAL_COLUMNS}, a.n_governorates, a.n_suppressed, a.n_unreliable,
               a.median_estimate, a.min_estimate, a.max_estimate,
               CASE WHEN a.n_governorates = 1 THEN a.one_pcode END AS single_governorate_pcode,
               CASE WHEN a.n_governorates = 1 THEN coalesce(g.name_en, a.one_pcode) END
                   AS single_name_en,
               CASE WHEN a.n_governorates = 1 THEN g.name_ar END AS single_name_ar,
               CASE WHEN a.n_governorates = 1 THEN a.one_estimate END AS single_estimate,
               CASE WHEN a.n_governorates = 1 THEN a.one_ci_lower END AS single_ci_lower,
               CASE WHEN a.n_governorates = 1 THEN a.one_ci_upper END AS single_ci_upper,
               a.has_national,
               a.national_is_suppressed, a.national_suppression_reason,
               a.national_estimate, a.national_ci_lower, a.national_ci_upper,
               a.national_is_unreliable
        FROM agg a
        LEFT JOIN ({_indicator_relation(con)}) i USING (indicator_id)
        LEFT JOIN marts.dim_governorate g ON g.governorate_pcode = a.one_pcode
        LEFT JOIN ap ON ap.source_id = a.source_id AND ap.wave_id = a.wave_id
        LEFT JOIN sc ON sc.indicator_id = a.indicator_id AND sc.source_id = a.source_id AND sc.wave_id = a.wave_id
        ORDER BY i.sector_order NULLS LAST, i.sector, indicator_name, a.source_id
        """

    return _fetch(path, sql)


# --------------------------------------------------------------------------------------
# change between waves, answer distributions
# --------------------------------------------------------------------------------------
#: Columns of ``indicator_changes`` (SQL types of the empty result for a warehouse without
#: marts.fct_indicator_change).
CHANGE_COLUMNS: dict[str, str] = {
    "indicator_id": "VARCHAR", "indicator_name": "VARCHAR", "indicator_type": "VARCHAR",
    "unit": "VARCHAR", "direction": "VARCHAR", "source_id": "VARCHAR", "wave_from": "VARCHAR",
    "wave_to": "VARCHAR", "wave_to_order": "BIGINT", "governorate_pcode": "VARCHAR",
    "name_en": "VARCHAR", "name_ar": "VARCHAR", "area_level": "VARCHAR", "coverage": "VARCHAR",
    "disaggregation": "VARCHAR", "disaggregation_value": "VARCHAR", "is_comparable": "BOOLEAN",
    "not_comparable_reason": "VARCHAR", "estimate_from": "DOUBLE", "estimate_to": "DOUBLE",
    "difference": "DOUBLE", "std_error": "DOUBLE", "degrees_of_freedom": "INTEGER",
    "ci_lower": "DOUBLE", "ci_upper": "DOUBLE", "is_significant": "BOOLEAN",
    "is_synthetic": "BOOLEAN", "is_approved_from": "BOOLEAN", "approval_status_from": "VARCHAR",
    "is_approved_to": "BOOLEAN", "approval_status_to": "VARCHAR", "is_approved": "BOOLEAN",
}
#: The numbers of a change: NULL unless the pair is comparable (both cells published).
CHANGE_NUMBERS = (
    "estimate_from", "estimate_to", "difference", "std_error", "degrees_of_freedom", "ci_lower",
    "ci_upper", "is_significant",
)


def indicator_changes(
    path: PathLike,
    indicator_id: str | None = None,
    source_id: str | None = None,
    wave_to: str | None = None,
    disaggregation: str | None = None,
    governorate_pcode: str | None = None,
) -> pl.DataFrame:
    """``marts.fct_indicator_change`` (change between consecutive waves of a source) with names,
    indicator type / unit / direction, ``area_level``, the later wave's order (``wave_to_order``,
    1 = first wave of the source) and coverage, and the approval of both waves
    (``is_approved_from`` / ``approval_status_from``, ``..._to``; ``is_approved`` = both).

    Privacy: a pair is comparable (``is_comparable``) only when the mart gives no
    ``not_comparable_reason`` **and** both waves' cells in ``marts.fct_service_indicators`` are
    published (``is_suppressed`` false) **and** it has a difference and an interval; otherwise every
    number (``CHANGE_NUMBERS``) is NULL and ``not_comparable_reason`` says why ("suppressed in
    2024", "suppressed in both waves", "no standard error"). Columns: ``CHANGE_COLUMNS``; empty
    for a warehouse without the mart. National rows (IQ) come first in each wave pair.
    """
    where, params = _where(
        [
            ("c.indicator_id", indicator_id),
            ("c.source_id", source_id),
            ("c.wave_to", wave_to),
            ("c.disaggregation", disaggregation),
            ("c.governorate_pcode", governorate_pcode),
        ]
    )

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        if not _has_table(con, "marts.fct_indicator_change"):
            return _empty_relation(CHANGE_COLUMNS)
        coverage = _column_or_null(con, "marts.dim_wave", "coverage", "w")
        level = _area_level(con, "g", "c.governorate_pcode")
        sf = "(sf.is_suppressed IS DISTINCT FROM false)"
        st = "(st.is_suppressed IS DISTINCT FROM false)"
        reason = f"""coalesce(
                   c.not_comparable_reason,
                   CASE WHEN {sf} AND {st} THEN 'suppressed in both waves'
                        WHEN {sf} THEN 'suppressed in ' || c.wave_from
                        WHEN {st} THEN 'suppressed in ' || c.wave_to END,
                   CASE WHEN c.difference IS NULL OR c.ci_lower IS NULL OR c.ci_upper IS NULL
                             OR c.is_significant IS NULL THEN 'no standard error' END)"""
        numbers = ",\n               ".join(
            f"CASE WHEN {reason} IS NULL THEN c.{col} END AS {col}" for col in CHANGE_NUMBERS
        )
        return f"""
        WITH ap AS ({_approval_relation(con)}),
        wv AS (
            SELECT w.source_id, w.wave_id, w.is_synthetic AS wave_is_synthetic, {coverage} AS coverage,
                   {_wave_order(con, "w")} AS wave_order
            FROM marts.dim_wave w
        )
        SELECT c.indicator_id,
               coalesce(i.name_en, c.indicator_id) AS indicator_name,
               i.indicator_type, i.unit, i.direction,
               c.source_id, c.wave_from, c.wave_to, wt.wave_order AS wave_to_order,
               c.governorate_pcode,
               coalesce(g.name_en, c.governorate_pcode) AS name_en, g.name_ar,
               {level} AS area_level,
               wt.coverage,
               c.disaggregation, c.disaggregation_value,
               {reason} IS NULL AS is_comparable,
               {reason} AS not_comparable_reason,
               {numbers},
               coalesce(wt.wave_is_synthetic, c.is_synthetic, false)
                   OR coalesce(wf.wave_is_synthetic, false) AS is_synthetic,
               coalesce(apf.is_approved, false) AS is_approved_from,
               coalesce(apf.approval_status, '{PROVISIONAL}') AS approval_status_from,
               coalesce(apt.is_approved, false) AS is_approved_to,
               coalesce(apt.approval_status, '{PROVISIONAL}') AS approval_status_to,
               coalesce(apf.is_approved, false) AND coalesce(apt.is_approved, false) AS is_approved
        FROM marts.fct_indicator_change c
        LEFT JOIN marts.fct_service_indicators sf
            ON sf.indicator_id = c.indicator_id AND sf.source_id = c.source_id
           AND sf.wave_id = c.wave_from AND sf.governorate_pcode = c.governorate_pcode
           AND sf.disaggregation = c.disaggregation AND sf.disaggregation_value = c.disaggregation_value
        LEFT JOIN marts.fct_service_indicators st
            ON st.indicator_id = c.indicator_id AND st.source_id = c.source_id
           AND st.wave_id = c.wave_to AND st.governorate_pcode = c.governorate_pcode
           AND st.disaggregation = c.disaggregation AND st.disaggregation_value = c.disaggregation_value
        LEFT JOIN ({_DIM_INDICATOR_LATEST}) i ON i.indicator_id = c.indicator_id
        LEFT JOIN marts.dim_governorate g ON g.governorate_pcode = c.governorate_pcode
        LEFT JOIN wv wt ON wt.source_id = c.source_id AND wt.wave_id = c.wave_to
        LEFT JOIN wv wf ON wf.source_id = c.source_id AND wf.wave_id = c.wave_from
        LEFT JOIN ap apf ON apf.source_id = c.source_id AND apf.wave_id = c.wave_from
        LEFT JOIN ap apt ON apt.source_id = c.source_id AND apt.wave_id = c.wave_to
        {where}
        ORDER BY c.indicator_id, c.source_id, wt.wave_order NULLS LAST, c.wave_to,
                 ({level} = '{NATIONAL}') DESC, coalesce(g.name_en, c.governorate_pcode),
                 c.disaggregation, c.disaggregation_value
        """

    df = _fetch(path, sql, params)
    return df.select(
        pl.col(c).cast(_POLARS_TYPES[t]) if c in df.columns else pl.lit(None, dtype=_POLARS_TYPES[t]).alias(c)
        for c, t in CHANGE_COLUMNS.items()
    )


#: Columns of ``response_distribution``.
DISTRIBUTION_COLUMNS: dict[str, str] = {
    "indicator_id": "VARCHAR", "indicator_name": "VARCHAR", "question_id": "VARCHAR",
    "source_id": "VARCHAR", "wave_id": "VARCHAR", "wave_title": "VARCHAR",
    "governorate_pcode": "VARCHAR", "name_en": "VARCHAR", "name_ar": "VARCHAR",
    "area_level": "VARCHAR", "coverage": "VARCHAR", "disaggregation": "VARCHAR",
    "disaggregation_value": "VARCHAR", "choice_code": "VARCHAR", "choice_order": "INTEGER",
    "estimate": "DOUBLE", "std_error": "DOUBLE", "ci_lower": "DOUBLE", "ci_upper": "DOUBLE",
    "ci_method": "VARCHAR", "degrees_of_freedom": "INTEGER", "n_effective": "DOUBLE",
    "design_effect": "DOUBLE", "excluded_share": "DOUBLE", "single_psu_rule": "VARCHAR",
    "n_unweighted": "INTEGER", "is_suppressed": "BOOLEAN", "suppression_reason": "VARCHAR",
    "is_unreliable": "BOOLEAN", "is_synthetic": "BOOLEAN", "is_approved": "BOOLEAN",
    "approval_status": "VARCHAR",
}


def response_distribution(
    path: PathLike,
    indicator_id: str | None = None,
    source_id: str | None = None,
    wave_id: str | None = None,
    disaggregation: str | None = None,
) -> pl.DataFrame:
    """``marts.fct_response_distribution``: one row per area x group x answer (``choice_code``,
    ``choice_order`` = position on the question's scale, 1 = first/best), with area names,
    ``area_level``, coverage and the wave's approval.

    Privacy: a distribution (area x group) is suppressed **whole** when any of its shares is
    suppressed or of unknown status: then every row of it has ``is_suppressed`` true, the first
    reason given, and NULL for every statistic derived from the answers (estimate, SE, CI,
    ci_method, degrees_of_freedom, n_effective, design_effect, excluded_share, is_unreliable);
    ``n_unweighted`` (the domain's answers) is kept. Columns: ``DISTRIBUTION_COLUMNS``; empty for a
    warehouse without the mart. National rows first, then governorates by name, answers in scale
    order.
    """
    where, params = _where(
        [
            ("d.indicator_id", indicator_id),
            ("d.source_id", source_id),
            ("d.wave_id", wave_id),
            ("d.disaggregation", disaggregation),
        ]
    )

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        if not _has_table(con, "marts.fct_response_distribution"):
            return _empty_relation(DISTRIBUTION_COLUMNS)
        coverage = _column_or_null(con, "marts.dim_wave", "coverage", "w")
        level = _area_level(con, "g", "d.governorate_pcode")
        psu_rule = _column_or_null(con, "marts.fct_response_distribution", "single_psu_rule", "d")
        hidden = "d.domain_hidden"
        derived = ",\n               ".join(
            f"CASE WHEN {hidden} THEN NULL ELSE d.{c} END AS {c}"
            for c in ("estimate", "std_error", "ci_lower", "ci_upper", "ci_method", "degrees_of_freedom",
                      "n_effective", "design_effect", "excluded_share")
        )
        return f"""
        WITH ap AS ({_approval_relation(con)}),
        d AS (
            SELECT *,
                   bool_or(is_suppressed IS DISTINCT FROM false) OVER dom AS domain_hidden,
                   min(suppression_reason) OVER dom AS domain_reason
            FROM marts.fct_response_distribution
            WINDOW dom AS (PARTITION BY indicator_id, source_id, wave_id, governorate_pcode,
                           disaggregation, disaggregation_value)
        ),
        wv AS (
            SELECT w.source_id, w.wave_id, w.title AS wave_title, w.is_synthetic AS wave_is_synthetic,
                   {coverage} AS coverage
            FROM marts.dim_wave w
        )
        SELECT d.indicator_id, coalesce(i.name_en, d.indicator_id) AS indicator_name, i.question_id,
               d.source_id, d.wave_id, wv.wave_title,
               d.governorate_pcode, coalesce(g.name_en, d.governorate_pcode) AS name_en, g.name_ar,
               {level} AS area_level, wv.coverage,
               d.disaggregation, d.disaggregation_value, d.choice_code, d.choice_order,
               {derived},
               {psu_rule} AS single_psu_rule,
               d.n_unweighted,
               {hidden} AS is_suppressed,
               CASE WHEN {hidden} THEN coalesce(d.domain_reason, 'suppressed') END AS suppression_reason,
               CASE WHEN {hidden} THEN NULL ELSE coalesce(d.is_unreliable, false) END AS is_unreliable,
               coalesce(wv.wave_is_synthetic, d.is_synthetic, false) AS is_synthetic,
               {_APPROVAL_COLUMNS}
        FROM d
        LEFT JOIN ({_DIM_INDICATOR_LATEST}) i ON i.indicator_id = d.indicator_id
        LEFT JOIN marts.dim_governorate g ON g.governorate_pcode = d.governorate_pcode
        LEFT JOIN wv ON wv.source_id = d.source_id AND wv.wave_id = d.wave_id
        LEFT JOIN ap ON ap.source_id = d.source_id AND ap.wave_id = d.wave_id
        {where}
        ORDER BY d.indicator_id, d.source_id, d.wave_id, ({level} = '{NATIONAL}') DESC,
                 coalesce(g.name_en, d.governorate_pcode), d.disaggregation, d.disaggregation_value,
                 d.choice_order NULLS LAST, d.choice_code
        """

    df = _fetch(path, sql, params)
    return df.select(
        pl.col(c).cast(_POLARS_TYPES[t]) if c in df.columns else pl.lit(None, dtype=_POLARS_TYPES[t]).alias(c)
        for c, t in DISTRIBUTION_COLUMNS.items()
    )


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
    # budget per capita (newer builds; NULL for an older warehouse): amounts in IQD, USD and constant IQD of the CPI
    # base year, per capita, execution against the revised allocation, partial coverage, budget law
    "allocation_revised": pl.Float64(),
    "allocation_iqd": pl.Float64(),
    "allocation_revised_iqd": pl.Float64(),
    "expenditure_iqd": pl.Float64(),
    "allocation_usd": pl.Float64(),
    "allocation_revised_usd": pl.Float64(),
    "expenditure_usd": pl.Float64(),
    "allocation_iqd_real": pl.Float64(),
    "allocation_revised_iqd_real": pl.Float64(),
    "expenditure_iqd_real": pl.Float64(),
    "population": pl.Float64(),
    "population_method": pl.String(),
    "allocation_iqd_per_capita": pl.Float64(),
    "expenditure_iqd_per_capita": pl.Float64(),
    "allocation_usd_per_capita": pl.Float64(),
    "expenditure_usd_per_capita": pl.Float64(),
    "allocation_iqd_real_per_capita": pl.Float64(),
    "expenditure_iqd_real_per_capita": pl.Float64(),
    "execution_rate_revised": pl.Float64(),
    "period_months": pl.Int64(),
    "coverage": pl.String(),
    "is_partial": pl.Boolean(),
    "budget_law": pl.Boolean(),
}
#: Columns of marts.fct_budget_execution that only builds with per-capita amounts have: the page
#: shows its per-capita section only when the snapshot has all of them.
BUDGET_PER_CAPITA_COLUMNS = (
    "allocation_iqd_per_capita", "expenditure_iqd_per_capita", "allocation_usd_per_capita",
    "expenditure_usd_per_capita", "allocation_iqd_real_per_capita", "expenditure_iqd_real_per_capita",
    "execution_rate_revised", "is_partial", "budget_law", "population",
)
FISCAL_YEAR_TABLE = "marts.dim_fiscal_year"
PEFA_TABLE = "marts.fct_budget_pefa"
SERVICE_SPENDING_TABLE = "marts.fct_service_vs_spending"


def table_columns(path: PathLike, table: str = "marts.fct_budget_execution") -> pl.DataFrame:
    """The columns of ``table`` (``schema.name``) in the snapshot: ``column_name, data_type`` in table
    order; empty when the table does not exist (an older warehouse)."""
    schema, name = table.split(".", 1)
    return _fetch(
        path,
        """
        SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
        """,
        [schema, name],
    )


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


#: marts.dim_fiscal_year and its SQL types.
FISCAL_YEAR_COLUMNS: dict[str, str] = {
    "fiscal_year": "INTEGER",
    "budget_law": "BOOLEAN",
    "budget_law_name": "VARCHAR",
    "budget_law_note": "VARCHAR",
    "iqd_per_usd": "DOUBLE",
    "exchange_rate_basis": "VARCHAR",
    "cpi": "DOUBLE",
    "cpi_status": "VARCHAR",
    "cpi_base_year": "INTEGER",
    "cpi_deflator": "DOUBLE",
    "n_budget_lines": "INTEGER",
}


def fiscal_years(path: PathLike) -> pl.DataFrame:
    """``marts.dim_fiscal_year``: one row per fiscal year with ``budget_law`` (false for 2014, 2020, 2022:
    no federal budget law; NULL = not known), the law's name and note, the official IQD per USD rate, the
    CPI, ``cpi_base_year`` (dbt var) and ``cpi_deflator`` = CPI_t / CPI_base (constant IQD = nominal /
    deflator), and ``n_budget_lines``. Columns ``FISCAL_YEAR_COLUMNS``; empty for a warehouse that predates
    the table (the page then falls back to ``tables.NO_BUDGET_LAW_YEARS``)."""

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        if not _has_table(con, FISCAL_YEAR_TABLE):
            return _empty_relation(FISCAL_YEAR_COLUMNS)
        cols = ", ".join(
            f"CAST({_column_or_null(con, FISCAL_YEAR_TABLE, c, 'y', t)} AS {t}) AS {c}"
            for c, t in FISCAL_YEAR_COLUMNS.items()
        )
        return f"SELECT {cols} FROM {FISCAL_YEAR_TABLE} y ORDER BY y.fiscal_year"

    df = _fetch(path, sql)
    return df.select(pl.col(c).cast(_POLARS_TYPES[t]) for c, t in FISCAL_YEAR_COLUMNS.items())


#: Columns of ``budget_pefa`` (marts.fct_budget_pefa plus governorate names) and their SQL types.
PEFA_COLUMNS: dict[str, str] = {
    "governorate_pcode": "VARCHAR",
    "fiscal_year": "INTEGER",
    "source_id": "VARCHAR",
    "n_lines": "INTEGER",
    "n_composition_lines": "INTEGER",
    "allocation_original_iqd": "DOUBLE",
    "allocation_revised_iqd": "DOUBLE",
    "expenditure_iqd": "DOUBLE",
    "allocation_original_iqd_real": "DOUBLE",
    "expenditure_iqd_real": "DOUBLE",
    "pefa_pi1_outturn": "DOUBLE",
    "pefa_pi2_composition_variance": "DOUBLE",
    "capital_share_expenditure": "DOUBLE",
    "capital_share_allocation": "DOUBLE",
    "population": "DOUBLE",
    "allocation_share": "DOUBLE",
    "population_share": "DOUBLE",
    "allocation_to_population_share_ratio": "DOUBLE",
    "real_change_expenditure_yoy": "DOUBLE",
    "real_change_allocation_yoy": "DOUBLE",
    "yoy_not_comparable_reason": "VARCHAR",
    "budget_law": "BOOLEAN",
    "is_partial": "BOOLEAN",
    "coverage": "VARCHAR",
    "is_synthetic": "BOOLEAN",
}


def budget_pefa(path: PathLike, source_id: str | None = None) -> pl.DataFrame:
    """``marts.fct_budget_pefa`` (PEFA PI-1 outturn, PI-2 composition variance, capital shares, allocation
    share over population share, real year-on-year change with ``yoy_not_comparable_reason``), one row per
    governorate x fiscal year x budget source, with ``name_en`` / ``name_ar``; ordered by source, English
    name, year. Columns ``PEFA_COLUMNS`` (a column an older build lacks is NULL); empty, with the same
    columns, for a warehouse that predates the table (the page checks ``PEFA_TABLE`` to say so)."""
    where, params = _where([("p.source_id", source_id)])

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        if not _has_table(con, PEFA_TABLE):  # the filter still takes its parameter
            empty = {**PEFA_COLUMNS, "name_en": "VARCHAR", "name_ar": "VARCHAR"}
            return f"SELECT * FROM ({_empty_relation(empty)}) p {where}"
        cols = ", ".join(
            f"CAST({_column_or_null(con, PEFA_TABLE, c, 'p', t)} AS {t}) AS {c}" for c, t in PEFA_COLUMNS.items()
        )
        return f"""
        SELECT {cols}, coalesce(g.name_en, p.governorate_pcode) AS name_en, g.name_ar
        FROM {PEFA_TABLE} p
        LEFT JOIN marts.dim_governorate g ON g.governorate_pcode = p.governorate_pcode
        {where}
        ORDER BY p.source_id, coalesce(g.name_en, p.governorate_pcode), p.fiscal_year
        """

    df = _fetch(path, sql, params)
    return df.with_columns(pl.col(c).cast(_POLARS_TYPES[t]) for c, t in PEFA_COLUMNS.items())


#: Columns of ``service_vs_spending`` and their SQL types.
SERVICE_SPENDING_COLUMNS: dict[str, str] = {
    "governorate_pcode": "VARCHAR",
    "name_en": "VARCHAR",
    "name_ar": "VARCHAR",
    "fiscal_year": "INTEGER",
    "budget_source_id": "VARCHAR",
    "sector": "VARCHAR",
    "sector_name": "VARCHAR",
    "population": "DOUBLE",
    "allocation_iqd_per_capita": "DOUBLE",
    "expenditure_iqd_per_capita": "DOUBLE",
    "allocation_iqd_real_per_capita": "DOUBLE",
    "expenditure_iqd_real_per_capita": "DOUBLE",
    "cpi_base_year": "INTEGER",
    "is_partial": "BOOLEAN",
    "budget_law": "BOOLEAN",
    "indicator_id": "VARCHAR",
    "indicator_name": "VARCHAR",
    "indicator_type": "VARCHAR",
    "indicator_unit": "VARCHAR",
    "direction": "VARCHAR",
    "survey_sector": "VARCHAR",
    "survey_source_id": "VARCHAR",
    "wave_id": "VARCHAR",
    "fieldwork_midpoint": "DATE",
    "coverage": "VARCHAR",
    "estimate": "DOUBLE",
    "std_error": "DOUBLE",
    "ci_lower": "DOUBLE",
    "ci_upper": "DOUBLE",
    "n_unweighted": "BIGINT",
    "is_suppressed": "BOOLEAN",
    "suppression_reason": "VARCHAR",
    "is_unreliable": "BOOLEAN",
    "is_synthetic": "BOOLEAN",
    "is_approved": "BOOLEAN",
    "approval_status": "VARCHAR",
}


def service_vs_spending(path: PathLike) -> pl.DataFrame:
    """``marts.fct_service_vs_spending``: sector spending per capita beside the matching service indicator
    of the same governorate, sector and fiscal year (the wave's fieldwork midpoint falls in the fiscal year).

    **Suppression in SQL:** for a cell whose ``is_suppressed`` is true or unknown, ``estimate``,
    ``std_error``, ``ci_lower``, ``ci_upper`` and ``is_unreliable`` are NULL (the mart already blanks the
    first four); only identifiers, ``n_unweighted``, ``is_suppressed`` and ``suppression_reason`` remain.

    Adds governorate names, the indicator's ``indicator_type`` and ``direction``, the survey wave's
    ``coverage`` (NULL = governorate-wide) and approval (``is_approved``, ``approval_status``), and
    ``allocation_iqd_real_per_capita`` = ``allocation_iqd_per_capita`` / ``dim_fiscal_year.cpi_deflator``
    (constant IQD of ``cpi_base_year``; the mart carries expenditure only), NULL without a deflator.
    Columns ``SERVICE_SPENDING_COLUMNS``; empty, with the same columns, for a warehouse that predates the
    mart (the page checks ``SERVICE_SPENDING_TABLE`` to say so)."""

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        if not _has_table(con, SERVICE_SPENDING_TABLE):
            return _empty_relation(SERVICE_SPENDING_COLUMNS)
        def col(c: str, t: str) -> str:
            return f"CAST({_column_or_null(con, SERVICE_SPENDING_TABLE, c, 's', t)} AS {t})"

        supp = f"({col('is_suppressed', 'BOOLEAN')} IS DISTINCT FROM false)"
        has_fy = _has_table(con, FISCAL_YEAR_TABLE)
        deflator = "fy.cpi_deflator" if has_fy and _has_column(con, FISCAL_YEAR_TABLE, "cpi_deflator") else "CAST(NULL AS DOUBLE)"
        base = "fy.cpi_base_year" if has_fy and _has_column(con, FISCAL_YEAR_TABLE, "cpi_base_year") else "CAST(NULL AS INTEGER)"
        fy_join = (f"LEFT JOIN {FISCAL_YEAR_TABLE} fy ON fy.fiscal_year = s.fiscal_year" if has_fy else "")
        coverage = _column_or_null(con, "marts.dim_wave", "coverage", "w")
        plain = [
            "governorate_pcode", "fiscal_year", "budget_source_id", "sector", "sector_name", "population",
            "allocation_iqd_per_capita", "expenditure_iqd_per_capita", "expenditure_iqd_real_per_capita",
            "is_partial", "budget_law", "indicator_id", "indicator_name", "indicator_unit", "survey_sector",
            "survey_source_id", "wave_id", "fieldwork_midpoint", "n_unweighted", "suppression_reason",
        ]
        cols = ",\n               ".join(f"{col(c, SERVICE_SPENDING_COLUMNS[c])} AS {c}" for c in plain)
        blanked = ",\n               ".join(
            f"CASE WHEN {supp} THEN NULL ELSE {col(c, SERVICE_SPENDING_COLUMNS[c])} END AS {c}"
            for c in ("estimate", "std_error", "ci_lower", "ci_upper", "is_unreliable")
        )
        return f"""
        WITH ap AS ({_approval_relation(con)})
        SELECT {cols},
               {blanked},
               {supp} AS is_suppressed,
               coalesce({col('is_synthetic', 'BOOLEAN')}, false) AS is_synthetic,
               s.allocation_iqd_per_capita / {deflator} AS allocation_iqd_real_per_capita,
               CAST({base} AS INTEGER) AS cpi_base_year,
               coalesce(g.name_en, s.governorate_pcode) AS name_en, g.name_ar,
               i.indicator_type, i.direction,
               {coverage} AS coverage,
               {_APPROVAL_COLUMNS}
        FROM {SERVICE_SPENDING_TABLE} s
        LEFT JOIN marts.dim_governorate g ON g.governorate_pcode = s.governorate_pcode
        LEFT JOIN ({_DIM_INDICATOR_LATEST}) i ON i.indicator_id = s.indicator_id
        LEFT JOIN marts.dim_wave w ON w.source_id = s.survey_source_id AND w.wave_id = s.wave_id
        LEFT JOIN ap ON ap.source_id = s.survey_source_id AND ap.wave_id = s.wave_id
        {fy_join}
        ORDER BY s.sector, s.indicator_id, s.fiscal_year, s.budget_source_id, s.survey_source_id, s.wave_id,
                 coalesce(g.name_en, s.governorate_pcode)
        """

    df = _fetch(path, sql)
    return df.select(pl.col(c).cast(_POLARS_TYPES[t]) for c, t in SERVICE_SPENDING_COLUMNS.items())


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


#: Columns of ``review_flags`` (audit.review_flags) with their SQL types.
REVIEW_FLAG_COLUMNS: dict[str, str] = {
    "run_id": "VARCHAR", "source_id": "VARCHAR", "wave_id": "VARCHAR", "flag": "VARCHAR",
    "file_name": "VARCHAR", "row_number": "INTEGER", "respondent_id": "VARCHAR", "other_file_name": "VARCHAR",
    "other_row_number": "INTEGER", "other_respondent_id": "VARCHAR", "similarity": "DOUBLE",
    "fields_compared": "INTEGER", "detail": "VARCHAR",
}


def review_flags(path: PathLike, run_id: str | None = None) -> pl.DataFrame:
    """Loaded submissions flagged for a person to review (``audit.review_flags``): one row per flagged
    pair, e.g. ``soft_duplicate``: two interviews of one enumerator with nearly identical answers.

    Columns ``REVIEW_FLAG_COLUMNS``: where the pair is (file, data row and submission id of each),
    ``similarity`` (share of the answered fields the two have in common, 0-1), ``fields_compared`` and
    ``detail`` (the rule and the enumerator code). No answers and no personal data: ingestion dropped
    personal columns before comparing, and the table holds none. Ordered by source, wave, file and row.
    Empty (same columns) for a warehouse that predates the table.
    """
    where, params = _where([("run_id", run_id)])

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        if not _has_table(con, "audit.review_flags"):  # the filter still takes its parameter
            return f"SELECT * FROM ({_empty_relation(REVIEW_FLAG_COLUMNS)}) {where}"
        cols = ", ".join(f"CAST({_column_or_null(con, 'audit.review_flags', c, 'r', t)} AS {t}) AS {c}"
                         for c, t in REVIEW_FLAG_COLUMNS.items())
        return f"""
        SELECT {cols} FROM audit.review_flags r {where}
        ORDER BY source_id, wave_id, flag, file_name, row_number, other_file_name, other_row_number
        """

    df = _fetch(path, sql, params)
    return df.select(pl.col(c).cast(_POLARS_TYPES[t]) for c, t in REVIEW_FLAG_COLUMNS.items())


#: Columns of ``repeat_group_accounts`` (audit.repeat_group_accounts plus the accounting check).
REPEAT_GROUP_COLUMNS: dict[str, str] = {
    "run_id": "VARCHAR", "source_id": "VARCHAR", "file_name": "VARCHAR", "file_sha256": "VARCHAR",
    "repeat_group": "VARCHAR", "sheet_name": "VARCHAR", "rows_read": "BIGINT", "rows_loaded": "BIGINT",
    "rows_excluded": "BIGINT", "rows_quarantined": "BIGINT", "rows_unaccounted": "BIGINT",
    "accounting_ok": "BOOLEAN",
}


def repeat_group_accounts(path: PathLike, run_id: str | None = None) -> pl.DataFrame:
    """Row accounting of repeat groups (``audit.repeat_group_accounts``): one row per repeat group of a
    delivered file (a Kobo XLSX sheet, an ODK Central repeat CSV), with ``rows_unaccounted`` = rows_read
    - (loaded + excluded + quarantined) and ``accounting_ok``. Columns ``REPEAT_GROUP_COLUMNS``; empty
    for a warehouse that predates the table."""
    where, params = _where([("run_id", run_id)])

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        if not _has_table(con, "audit.repeat_group_accounts"):  # the filter still takes its parameter
            return f"SELECT * FROM ({_empty_relation(REPEAT_GROUP_COLUMNS)}) {where}"
        return f"""
        SELECT run_id, source_id, file_name, file_sha256, repeat_group, sheet_name,
               rows_read, rows_loaded, rows_excluded, rows_quarantined,
               rows_read - (coalesce(rows_loaded, 0) + coalesce(rows_excluded, 0)
                            + coalesce(rows_quarantined, 0)) AS rows_unaccounted,
               coalesce(rows_read = coalesce(rows_loaded, 0) + coalesce(rows_excluded, 0)
                                    + coalesce(rows_quarantined, 0), false) AS accounting_ok
        FROM audit.repeat_group_accounts {where}
        ORDER BY source_id, file_name, repeat_group
        """

    df = _fetch(path, sql, params)
    return df.select(pl.col(c).cast(_POLARS_TYPES[t]) for c, t in REPEAT_GROUP_COLUMNS.items())


#: Columns of ``cleaning_changes`` (audit.cleaning_changes) with their SQL types.
CLEANING_CHANGE_COLUMNS: dict[str, str] = {
    "source_id": "VARCHAR", "wave_id": "VARCHAR", "respondent_id": "VARCHAR", "question": "VARCHAR",
    "old_value": "VARCHAR", "new_value": "VARCHAR", "change_type": "VARCHAR", "issue": "VARCHAR",
    "log_file": "VARCHAR", "log_sha256": "VARCHAR", "log_line": "INTEGER",
}


def cleaning_changes(path: PathLike, run_id: str | None = None) -> pl.DataFrame:
    """Every change a reviewed cleaning log made (``audit.cleaning_changes``): one row per changed cell or
    removed interview, with the log file, its SHA-256 and line. Columns ``CLEANING_CHANGE_COLUMNS``, ordered
    by source, wave, log file and line; empty for a warehouse that predates the table. Personal columns
    cannot be changed by a log (ingestion refuses such lines), so none appear here."""
    where, params = _where([("run_id", run_id)])

    def sql(con: duckdb.DuckDBPyConnection) -> str:
        if not _has_table(con, "audit.cleaning_changes"):  # the filter still takes its parameter
            return f"SELECT * FROM ({_empty_relation(CLEANING_CHANGE_COLUMNS | {'run_id': 'VARCHAR'})}) {where}"
        return f"""
        SELECT {", ".join(CLEANING_CHANGE_COLUMNS)} FROM audit.cleaning_changes {where}
        ORDER BY source_id, wave_id, log_file, log_line, question
        """

    df = _fetch(path, sql, params)
    return df.select(pl.col(c).cast(_POLARS_TYPES[t]) for c, t in CLEANING_CHANGE_COLUMNS.items())


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
        estimation_rules,
        service_estimates,
        headline_summary,
        indicator_changes,
        response_distribution,
        budget_execution,
        table_columns,
        fiscal_years,
        budget_pefa,
        service_vs_spending,
        run_log,
        file_registry,
        file_deliveries,
        quarantine_by_reason,
        quarantine_sample,
        exclusions_by_reason,
        dropped_columns,
        skipped_sources,
        review_flags,
        repeat_group_accounts,
        cleaning_changes,
    )
}

# The committee home page's queries read the reporting models (dashboards/reporting.py).
from dashboards import reporting as _reporting  # noqa: E402  (it imports this module's helpers)

QUERIES.update(_reporting.QUERIES)
