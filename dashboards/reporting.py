"""Queries of the committee home page against the reporting models (plain Python, no Streamlit).

The home page reads only ``reporting.rpt_*`` (dbt_project/models/reporting): suppression is applied there,
once, in SQL — a suppressed cell has status ``suppressed``, its reason and n, and NULL estimate, SE, CI and
reliability flag — and dbt tests it. These functions add what is decided after the build: wave approval
(``audit.wave_approval_status``, joined when the snapshot is read). Each opens the snapshot read-only, runs
one query and closes it (``queries._fetch``); the cached, access-checked layer is ``dashboards/data.py``.

They rely on the snapshot's schema version (``schema_version``, compared once by ``ui.check_warehouse``)
instead of checking columns one by one: a snapshot built before the reporting models is refused whole.
"""

from __future__ import annotations

import importlib
import os

import polars as pl

from pipelines.warehouse import SCHEMA_VERSION

PathLike = str | os.PathLike[str]


class _Queries:
    """``dashboards.queries``, imported on first use: it registers this module's queries in its own
    ``QUERIES`` when imported, so importing it here at import time would be circular."""

    def __getattr__(self, name: str):
        return getattr(importlib.import_module("dashboards.queries"), name)


queries = _Queries()

#: The reporting models the home page reads.
ESTIMATES_TABLE = "reporting.rpt_governorate_estimates"
HEADLINES_TABLE = "reporting.rpt_sector_headlines"
REPORTING_TABLES = (ESTIMATES_TABLE, HEADLINES_TABLE)
#: The schema version of a snapshot that records none (built before versions were recorded).
UNRECORDED_SCHEMA_VERSION = 1
#: The schema version this dashboard needs (one definition: pipelines.warehouse.SCHEMA_VERSION).
REQUIRED_SCHEMA_VERSION = SCHEMA_VERSION


def _approval(alias: str, wave_column: str = "wave_id") -> str:
    return (f"LEFT JOIN ({{approval}}) AS {alias} ON {alias}.source_id = r.source_id "
            f"AND {alias}.wave_id = r.{wave_column}")


def _with_approval(sql: str, con) -> str:
    return sql.replace("{approval}", queries._approval_relation(con))


def schema_version(path: PathLike) -> pl.DataFrame:
    """One row, ``schema_version`` (Int32): the version recorded by the dbt build that made the snapshot
    (``audit.schema_version``), or ``UNRECORDED_SCHEMA_VERSION`` when the snapshot records none."""
    def sql(con) -> str:
        if not queries._has_table(con, "audit.schema_version"):
            return f"SELECT CAST({UNRECORDED_SCHEMA_VERSION} AS INTEGER) AS schema_version"
        return (f"SELECT CAST(coalesce(max(schema_version), {UNRECORDED_SCHEMA_VERSION}) AS INTEGER) "
                "AS schema_version FROM audit.schema_version")
    return queries._fetch(path, sql)


def home_indicators(path: PathLike, approved_only: bool = False) -> pl.DataFrame:
    """The indicators the home page offers: one row per indicator x source x wave of
    ``rpt_governorate_estimates`` with at least one governorate or national cell, with
    ``indicator_id, indicator_name_en, indicator_name_ar, sector, sector_name, sector_order,
    indicator_order, source_id, wave_id, wave_order, fieldwork_start, has_national_estimates, coverage,
    n_published`` (cells with an estimate), ``is_synthetic, is_approved, approval_status``; ordered by sector,
    indicator, source and wave. ``approved_only`` keeps approved waves."""
    def sql(con) -> str:
        return _with_approval(f"""
            SELECT r.indicator_id, any_value(r.indicator_name_en) AS indicator_name_en,
                   any_value(r.indicator_name_ar) AS indicator_name_ar, any_value(r.sector) AS sector,
                   any_value(r.sector_name) AS sector_name, any_value(r.sector_order) AS sector_order,
                   any_value(r.indicator_order) AS indicator_order, r.source_id, r.wave_id,
                   any_value(r.wave_order) AS wave_order, any_value(r.fieldwork_start) AS fieldwork_start,
                   bool_or(r.has_national_estimates) AS has_national_estimates, any_value(r.coverage) AS coverage,
                   count(r.estimate) AS n_published, bool_or(r.is_synthetic) AS is_synthetic,
                   coalesce(any_value(ap.is_approved), false) AS is_approved,
                   coalesce(any_value(ap.approval_status), '{queries.PROVISIONAL}') AS approval_status
            FROM {ESTIMATES_TABLE} r {_approval('ap')}
            GROUP BY r.indicator_id, r.source_id, r.wave_id
            HAVING {'coalesce(any_value(ap.is_approved), false)' if approved_only else 'true'}
            ORDER BY sector_order NULLS LAST, indicator_order NULLS LAST, r.indicator_id, r.source_id, wave_order
        """, con)
    return queries._fetch(path, sql)


def home_estimates(path: PathLike, indicator_id: str | None = None, approved_only: bool = False) -> pl.DataFrame:
    """Every area of every wave of one indicator (``None``: of every indicator): the rows of
    ``rpt_governorate_estimates`` (its columns, suppression applied: a suppressed cell has no estimate, SE or
    CI) plus ``is_approved, approval_status``; ordered by source, wave and area (national first).
    ``approved_only`` keeps approved waves."""
    def sql(con) -> str:
        return _with_approval(f"""
            SELECT r.*, coalesce(ap.is_approved, false) AS is_approved,
                   coalesce(ap.approval_status, '{queries.PROVISIONAL}') AS approval_status
            FROM {ESTIMATES_TABLE} r {_approval('ap')}
            WHERE (r.indicator_id = ? OR ? IS NULL) {'AND coalesce(ap.is_approved, false)' if approved_only else ''}
            ORDER BY r.indicator_id, r.source_id, r.wave_order, r.area_level DESC, r.governorate_pcode
        """, con)
    return queries._fetch(path, sql, [indicator_id, indicator_id])


def sector_headlines(path: PathLike, approved_only: bool = False) -> pl.DataFrame:
    """One headline per sector that has one: the first indicator of the sector (``indicator_order``, the
    order of data_contracts/indicators.yaml) with a published national estimate in the latest wave
    (fieldwork start, then the source's wave order) among the waves read (``approved_only``: approved ones).

    Columns: those of ``rpt_sector_headlines`` (estimate and CI as fractions for proportions, the unit for
    means; change since the previous wave with its CI and ``change_is_significant``) plus ``is_approved,
    approval_status`` of the wave and ``previous_is_approved``. When the previous wave is not among the waves
    read (not approved for ``approved_only``) the change columns are NULL. Ordered by sector."""
    def sql(con) -> str:
        visible = "coalesce(ap.is_approved, false)" if approved_only else "true"
        prev_visible = "coalesce(pp.is_approved, false)" if approved_only else "true"
        change = lambda c: f"CASE WHEN {prev_visible} THEN r.{c} END AS {c}"  # noqa: E731
        return _with_approval(f"""
            WITH candidates AS (
                SELECT r.* EXCLUDE (change, change_ci_lower, change_ci_upper, change_is_significant,
                                    change_not_comparable_reason, previous_wave_id),
                       {change('previous_wave_id')}, {change('change')}, {change('change_ci_lower')},
                       {change('change_ci_upper')}, {change('change_is_significant')},
                       {change('change_not_comparable_reason')},
                       coalesce(ap.is_approved, false) AS is_approved,
                       coalesce(ap.approval_status, '{queries.PROVISIONAL}') AS approval_status,
                       CASE WHEN r.previous_wave_id IS NOT NULL THEN coalesce(pp.is_approved, false) END
                           AS previous_is_approved
                FROM {HEADLINES_TABLE} r {_approval('ap')} {_approval('pp', 'previous_wave_id')}
                WHERE r.status <> 'suppressed' AND {visible}
            ), ranked AS (
                SELECT *, row_number() OVER (
                    PARTITION BY sector
                    ORDER BY fieldwork_start DESC NULLS LAST, wave_order DESC, indicator_order NULLS LAST,
                             indicator_id, source_id) AS pick
                FROM candidates
            )
            SELECT * EXCLUDE (pick) FROM ranked WHERE pick = 1 ORDER BY sector_order NULLS LAST, sector
        """, con)
    return queries._fetch(path, sql)


#: Query functions registered with the cached layer (``queries.QUERIES``).
QUERIES = {f.__name__: f for f in (schema_version, home_indicators, home_estimates, sector_headlines)}
