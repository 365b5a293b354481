"""Distance from each interview's GPS point to its sampled point, computed while the file is read, before
GPS columns are dropped as personal data: only a distance band and a flag leave this module, never a
coordinate (docs/cleaning.md, "GPS distance").

Distance: haversine great-circle distance on a sphere of radius 6,371,008.8 m (the IUGG mean Earth radius),
in metres; accurate to about 0.5 % against the ellipsoid, ample for bands of hundreds of metres.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from data_contracts.mapping import SurveyMapping
from pipelines.ingest.common import FatalSourceError
from pipelines.readers.delimited import read_delimited

EARTH_RADIUS_M = 6_371_008.8
BAND_SCHEMA = {"__row": pl.UInt32, "band": pl.String, "far": pl.Boolean}


def haversine_m(lat1: pl.Expr, lon1: pl.Expr, lat2: pl.Expr, lon2: pl.Expr) -> pl.Expr:
    """Great-circle distance in metres between points given in decimal degrees."""
    p1, p2 = lat1.radians(), lat2.radians()
    dlat, dlon = (lat2 - lat1).radians(), (lon2 - lon1).radians()
    a = (dlat / 2).sin() ** 2 + p1.cos() * p2.cos() * (dlon / 2).sin() ** 2
    return 2 * EARTH_RADIUS_M * a.sqrt().arcsin()


def band_label(bands: list[float]) -> pl.Expr:
    """``__metres`` → a band label (``0–100 m``, …, ``over 5000 m``; ``no GPS point`` when missing)."""
    edges = sorted(bands)
    m = pl.col("__metres")
    expr = pl.when(m.is_null()).then(pl.lit("no GPS point or no sampled point"))
    low = 0.0
    for edge in edges:
        expr = expr.when(m < edge).then(pl.lit(f"{low:g}–{edge:g} m"))
        low = edge
    return expr.otherwise(pl.lit(f"over {low:g} m"))


def _float(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)


def gps_bands(frame: pl.DataFrame, mapping: SurveyMapping, folder: Path, file_name: str) -> pl.DataFrame | None:
    """Band and flag per row of one delivered file (shape :data:`BAND_SCHEMA`, keyed by ``__row``), or None
    when the mapping has no GPS check.

    Raises:
        FatalSourceError: the sample-points file is missing or lacks a named column, or the export lacks
            the GPS or sample-key column (file named).
    """
    gps = mapping.cleaning.gps
    if gps is None:
        return None
    spec = gps.sample
    path = folder / spec.path
    if not path.is_file():
        raise FatalSourceError(f"{mapping.source_id}: cleaning.gps sample points {spec.path} not found next to the export")
    points = read_delimited(path, encoding="utf-8", delimiter=spec.delimiter).frame
    missing = [c for c in (spec.key_column, spec.latitude_column, spec.longitude_column) if c not in points.columns]
    if missing:
        raise FatalSourceError(f"{path.name}: sample points have no column(s) {missing}; they have {points.columns}")
    needed = [spec.data_column] + ([gps.column] if gps.column else [gps.latitude_column, gps.longitude_column])
    absent = [c for c in needed if c not in frame.columns]
    if absent:
        raise FatalSourceError(f"{file_name}: cleaning.gps names column(s) {absent}, which the file does not have")
    if gps.column:
        parts = pl.col(gps.column).cast(pl.String).str.strip_chars().str.split(" ")
        lat, lon = _float(parts.list.get(0, null_on_oob=True)), _float(parts.list.get(1, null_on_oob=True))
    else:
        lat, lon = _float(pl.col(gps.latitude_column)), _float(pl.col(gps.longitude_column))
    sample = points.select(pl.col(spec.key_column).cast(pl.String).str.strip_chars().alias("__key"),
                           _float(pl.col(spec.latitude_column)).alias("__slat"),
                           _float(pl.col(spec.longitude_column)).alias("__slon")).unique("__key", keep="first")
    rows = frame.select("__row", pl.col(spec.data_column).cast(pl.String).str.strip_chars().alias("__key"),
                        lat.alias("__lat"), lon.alias("__lon"))
    joined = rows.join(sample, on="__key", how="left", maintain_order="left").with_columns(
        haversine_m(pl.col("__lat"), pl.col("__lon"), pl.col("__slat"), pl.col("__slon")).alias("__metres"))
    return joined.select(
        pl.col("__row").cast(pl.UInt32), band_label(gps.bands_metres).alias("band"),
        (pl.col("__metres") > gps.max_metres).fill_null(False).alias("far"),
    )
