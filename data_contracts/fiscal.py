"""Fiscal reference tables: exchange rates, consumer prices, fiscal years and budget sectors.

Data and sources: ``data_contracts/reference/README.md`` ("Fiscal reference tables"). Each loader reads
its CSV from ``reference/``, checks it with a pandera (polars) model and returns a polars frame; a table
that fails its checks raises :class:`pandera.errors.SchemaError` (e.g. a year listed twice).

Public API: :func:`exchange_rates`, :func:`cpi`, :func:`fiscal_years`, :func:`budget_sectors`,
:func:`survey_sector_codes`, the models :class:`ExchangeRates`, :class:`Cpi`, :class:`FiscalYears`,
:class:`BudgetSectors` and :data:`BUDGET_SECTOR_CODES`.
"""

from __future__ import annotations

from pathlib import Path

import pandera.polars as pa
import polars as pl

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"

#: Canonical ``raw.budget_lines.sector`` codes (docs/budget-workbooks.md).
BUDGET_SECTOR_CODES = [
    "water_sanitation", "electricity", "health", "education", "municipal_waste", "roads_transport", "other", "all",
]


class ExchangeRates(pa.DataFrameModel):
    """``exchange_rates.csv``: one official IQD per USD rate per calendar (= fiscal) year."""

    year: int = pa.Field(ge=1990, le=2100, unique=True)
    iqd_per_usd: float = pa.Field(gt=0)
    basis: str = pa.Field(isin=["annual_average", "rate_in_force", "days_weighted_average"])
    source: str = pa.Field(nullable=False, str_length={"min_value": 1})
    note: str = pa.Field(nullable=True)

    class Config:
        strict = True


class Cpi(pa.DataFrameModel):
    """``cpi.csv``: consumer price index by year, one base for the whole column."""

    year: int = pa.Field(ge=1990, le=2100, unique=True)
    cpi: float = pa.Field(gt=0)
    base: str = pa.Field(nullable=False)
    inflation_pct: float = pa.Field(nullable=True)
    status: str = pa.Field(isin=["published", "estimate", "projection"])
    source: str = pa.Field(nullable=False, str_length={"min_value": 1})
    note: str = pa.Field(nullable=True)

    class Config:
        strict = True

    @pa.dataframe_check
    def one_base(cls, data) -> bool:
        return data.lazyframe.select(pl.col("base").n_unique() == 1)


class FiscalYears(pa.DataFrameModel):
    """``fiscal_years.csv``: whether a federal budget law governed the year (NULL = not known yet)."""

    fiscal_year: int = pa.Field(ge=1990, le=2100, unique=True)
    budget_law: bool = pa.Field(nullable=True)
    law: str = pa.Field(nullable=True)
    source: str = pa.Field(nullable=True)
    note: str = pa.Field(nullable=True)

    class Config:
        strict = True


class BudgetSectors(pa.DataFrameModel):
    """``budget_sectors.csv``: budget sector codes, names and the question-bank sectors they match."""

    sector: str = pa.Field(isin=BUDGET_SECTOR_CODES, unique=True)
    name_en: str = pa.Field(nullable=False)
    name_ar: str = pa.Field(nullable=False)
    survey_sectors: str = pa.Field(nullable=True)
    sort_order: int = pa.Field(ge=1, unique=True)
    note: str = pa.Field(nullable=True)

    class Config:
        strict = True


def _read(name: str, schema: dict[str, pl.DataType], path: Path | None) -> pl.DataFrame:
    return pl.read_csv(path or REFERENCE_DIR / name, schema_overrides=schema, infer_schema_length=0)


def exchange_rates(path: Path | None = None) -> pl.DataFrame:
    """Official IQD per USD by year (``basis`` says annual average, rate in force or days-weighted average)."""
    frame = _read("exchange_rates.csv", {"year": pl.Int64, "iqd_per_usd": pl.Float64}, path)
    return ExchangeRates.validate(frame)


def cpi(path: Path | None = None) -> pl.DataFrame:
    """Consumer price index by year (``status``: published, estimate or projection)."""
    frame = _read("cpi.csv", {"year": pl.Int64, "cpi": pl.Float64, "inflation_pct": pl.Float64}, path)
    return Cpi.validate(frame)


def fiscal_years(path: Path | None = None) -> pl.DataFrame:
    """Fiscal years with the budget law flag (2014, 2020, 2022: none)."""
    frame = _read("fiscal_years.csv", {"fiscal_year": pl.Int64}, path).with_columns(
        pl.col("budget_law").str.to_lowercase().replace_strict({"true": True, "false": False}, default=None,
                                                                return_dtype=pl.Boolean)
    )
    return FiscalYears.validate(frame)


def budget_sectors(path: Path | None = None) -> pl.DataFrame:
    """Budget sectors; ``survey_sectors`` is a space-separated list of question-bank sectors (may be empty)."""
    frame = _read("budget_sectors.csv", {"sort_order": pl.Int64}, path)
    return BudgetSectors.validate(frame)


def survey_sector_codes(frame: pl.DataFrame | None = None) -> dict[str, list[str]]:
    """Budget sector → the question-bank sectors it matches (``[]`` for other / all)."""
    frame = budget_sectors() if frame is None else frame
    return {r["sector"]: (r["survey_sectors"] or "").split() for r in frame.iter_rows(named=True)}
