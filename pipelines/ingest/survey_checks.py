"""Checks of a survey wave as a whole, beyond its cells: interview dates against the wave's fieldwork, and
PSU codes against the strata (the design the variance estimator will see)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from data_contracts.mapping import SurveyMapping
from pipelines.ingest.common import FatalSourceError, Problems

#: An interview date farther than this from the median interview date of its file is outside the wave's
#: fieldwork (a device clock or a typed year gone wrong) and is quarantined; so is a date after the run.
FIELDWORK_WINDOW_DAYS = 366


def check_fieldwork_window(df: pl.DataFrame, dates: pl.Expr, column: str, problems: Problems) -> None:
    """Quarantine interview dates after the run date, or farther than :data:`FIELDWORK_WINDOW_DAYS` from
    the median interview date of the file (docs/mapping-files.md, "interview_date"): one wrong clock must
    not move the wave's fieldwork period (and its place among the waves) by years."""
    today = dt.date.today()
    days = df.select(dates.alias("__d"))["__d"]
    past = days.filter(days <= today).cast(pl.Int32)
    if past.len() == 0:
        median = None
    else:
        median = dt.date(1970, 1, 1) + dt.timedelta(days=round(past.median()))
    future = df.with_columns(dates.alias("__d")).filter(pl.col("__d") > today)
    problems.add_frame(future, column, f"interview date after the run date ({today.isoformat()}): a device clock or a "
                                       "typed year gone wrong")
    if median is not None:
        far = df.with_columns(dates.alias("__d")).filter(
            (pl.col("__d") <= today) & ((pl.col("__d") - pl.lit(median)).dt.total_days().abs() > FIELDWORK_WINDOW_DAYS))
        problems.add_frame(far, column, f"interview date more than {FIELDWORK_WINDOW_DAYS} days from the file's median "
                                        f"interview date ({median.isoformat()}): outside the wave's fieldwork")


def check_psu_strata(respondents: pl.DataFrame, mapping: SurveyMapping) -> None:
    """A PSU code belongs to one stratum per wave: the same code in two strata would be one cluster to the
    variance estimator's PSU count but two to its strata, changing the degrees of freedom and the
    single-PSU strata without a word.

    Raises:
        FatalSourceError: naming the PSU, its strata and up to 5 rows (file: rows) in each.
    """
    if mapping.psu.column is None or respondents.height == 0:
        return
    shared = respondents.group_by("wave_id", "psu").agg(pl.col("stratum").n_unique().alias("n")).filter(pl.col("n") > 1)
    if shared.height == 0:
        return
    rows = respondents.join(shared.select("wave_id", "psu"), on=["wave_id", "psu"]).group_by(
        "wave_id", "psu", "stratum").agg(pl.col("file_name").first(), pl.col("row_number").sort().head(5),
                                         pl.len().alias("n")).sort("wave_id", "psu", "stratum")
    shown = "; ".join(
        f"wave {w} PSU {p!r} in stratum {s!r} ({f}: row(s) {', '.join(map(str, r))}{', …' if n > len(r) else ''})"
        for w, p, s, f, r, n in rows.head(10).iter_rows())
    raise FatalSourceError(
        f"{mapping.source_id}: {shared.height} PSU code(s) appear in more than one stratum: {shown}. A PSU is "
        f"sampled within one stratum: if the codes are numbered within each stratum, deliver a PSU column that is "
        f"unique across strata (e.g. stratum and PSU joined)")
