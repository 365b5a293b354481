"""Formatting and table shaping for the dashboard (pure polars, no Streamlit).

Display tables carry formatted strings (percentages with one decimal, hours with one decimal);
CSV exports carry raw numbers. Both blank the estimate, SE and CI of suppressed cells again,
whatever the input says (the query layer already does; this is belt and braces).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import polars as pl

SUPPRESSION_RULE = (
    "Suppression rule: an estimate is **suppressed** (not shown) when its unweighted n < 30 or "
    "its effective n < 30; it is flagged **unreliable** when its 95% confidence interval is "
    "30 percentage points wide or more, or wider than 130 % of the estimate (NCHS 2017 style)."
)
SYNTHETIC_LABEL = "SYNTHETIC demo data"
REAL_LABEL = "real data"
NO_DATA = "no data"
NOT_COVERED = "no estimate for this governorate"
NO_BUDGET_LAW_YEARS = {2014: "no budget law", 2022: "no budget law"}
DASH = "–"

_UNIT_SUFFIX = {"hours/day": " h/day", "hours": " h", "hours per day": " h/day"}
_DIRECTION = {"higher_is_better": "↑ higher is better", "lower_is_better": "↓ lower is better"}
_DISAGG_VALUE = {"male": "male-headed households", "female": "female-headed households"}
_MASKED = ("estimate", "std_error", "ci_lower", "ci_upper")


# --------------------------------------------------------------------------------------
# scalars
# --------------------------------------------------------------------------------------
def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def is_proportion(indicator_type: str | None, unit: str | None = None) -> bool:
    """Proportions are stored as fractions and shown as percentages."""
    return (indicator_type or "").lower() == "proportion" or (unit or "").lower() in {
        "proportion",
        "share",
        "fraction",
    }


def unit_suffix(unit: str | None) -> str:
    if not unit or unit.lower() in {"proportion", "share", "fraction"}:
        return ""
    return _UNIT_SUFFIX.get(unit.lower(), f" {unit}")


def fmt_pct(fraction: Any, decimals: int = 1) -> str:
    """0.4213 -> '42.1%'."""
    return DASH if _missing(fraction) else f"{fraction * 100:.{decimals}f}%"


def fmt_value(v: Any, indicator_type: str | None, unit: str | None = None) -> str:
    """An estimate in its unit: proportions as percentages, means with one decimal."""
    if _missing(v):
        return DASH
    if is_proportion(indicator_type, unit):
        return fmt_pct(v)
    return f"{v:.1f}{unit_suffix(unit)}"


def fmt_ci(lo: Any, hi: Any, indicator_type: str | None, unit: str | None = None) -> str:
    """'35.0–49.3%' or '13.1–15.5 h/day'."""
    if _missing(lo) or _missing(hi):
        return DASH
    if is_proportion(indicator_type, unit):
        return f"{lo * 100:.1f}–{hi * 100:.1f}%"
    return f"{lo:.1f}–{hi:.1f}{unit_suffix(unit)}"


def fmt_se(se: Any, indicator_type: str | None, unit: str | None = None) -> str:
    """Standard error: percentage points for proportions, the unit for means."""
    if _missing(se):
        return DASH
    if is_proportion(indicator_type, unit):
        return f"{se * 100:.1f} pts"
    return f"{se:.1f}{unit_suffix(unit)}"


def fmt_number(v: Any, decimals: int = 1) -> str:
    """Thousands separators, fixed decimals; '–' for missing."""
    return DASH if _missing(v) else f"{v:,.{decimals}f}"


def fmt_amount(v: Any) -> str:
    """Budget amounts: '202.2 bn', '45.3 m', '120.0' (the unit column says in what)."""
    if _missing(v):
        return DASH
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:,.1f} bn"
    if a >= 1e6:
        return f"{v / 1e6:,.1f} m"
    return f"{v:,.1f}"


def status_label(is_suppressed: Any, reason: Any, is_unreliable: Any) -> str:
    if is_suppressed or is_suppressed is None:
        return f"suppressed ({reason})" if reason else "suppressed"
    if is_unreliable:
        return "⚠ unreliable (wide CI)"
    return "ok"


def data_label(is_synthetic: Any) -> str:
    return SYNTHETIC_LABEL if is_synthetic else REAL_LABEL


def gov_label(name_en: Any, name_ar: Any = None) -> str:
    """'Baghdad · بغداد' (English first; Arabic when known)."""
    name_en = name_en or ""
    return f"{name_en} · {name_ar}" if name_ar else str(name_en)


def direction_label(direction: Any) -> str:
    return _DIRECTION.get(direction or "", direction or DASH)


def disaggregation_label(disaggregation: Any, value: Any) -> str:
    if disaggregation in (None, "all") or value in (None, "all"):
        return "all"
    return _DISAGG_VALUE.get(str(value), f"{disaggregation} = {value}")


def to_text(v: Any) -> str:
    """Reference-sheet field to text (lists joined with commas)."""
    if v is None:
        return DASH
    if isinstance(v, pl.Series):
        v = v.to_list()
    if isinstance(v, list | tuple):
        return ", ".join(str(x) for x in v) if v else DASH
    return str(v)


# --------------------------------------------------------------------------------------
# frames
# --------------------------------------------------------------------------------------
def mask_suppressed(df: pl.DataFrame) -> pl.DataFrame:
    """NULL estimate, SE and CI wherever ``is_suppressed`` is not False."""
    if "is_suppressed" not in df.columns:
        return df
    hidden = pl.col("is_suppressed").fill_null(True)
    return df.with_columns(
        [pl.when(hidden).then(None).otherwise(pl.col(c)).alias(c) for c in _MASKED if c in df.columns]
    )


def _rows(df: pl.DataFrame) -> Iterable[dict[str, Any]]:
    return df.iter_rows(named=True)


def estimates_display(df: pl.DataFrame) -> pl.DataFrame:
    """Explorer table: one row per governorate (x disaggregation value), formatted."""
    df = mask_suppressed(df)
    out = []
    for r in _rows(df):
        kind, unit = r.get("indicator_type"), r.get("unit")
        out.append(
            {
                "Governorate": r.get("name_en") or r.get("governorate_pcode"),
                "Arabic name": r.get("name_ar") or "",
                "Group": disaggregation_label(r.get("disaggregation"), r.get("disaggregation_value")),
                "Estimate": (
                    status_label(True, r.get("suppression_reason"), False)
                    if r["is_suppressed"]
                    else fmt_value(r["estimate"], kind, unit)
                ),
                "95% CI": fmt_ci(r["ci_lower"], r["ci_upper"], kind, unit),
                "SE": fmt_se(r["std_error"], kind, unit),
                "n": r.get("n_unweighted"),
                "n eff.": fmt_number(r.get("n_effective"), 1),
                "Design effect": fmt_number(r.get("design_effect"), 2),
                "Excluded share": fmt_pct(r.get("excluded_share")),
                "Status": status_label(
                    r["is_suppressed"], r.get("suppression_reason"), r.get("is_unreliable")
                ),
                "Data": data_label(r.get("is_synthetic")),
                "P-code": r.get("governorate_pcode"),
            }
        )
    schema = {
        "Governorate": pl.String, "Arabic name": pl.String, "Group": pl.String,
        "Estimate": pl.String, "95% CI": pl.String, "SE": pl.String, "n": pl.Int64,
        "n eff.": pl.String, "Design effect": pl.String, "Excluded share": pl.String,
        "Status": pl.String, "Data": pl.String, "P-code": pl.String,
    }
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


EXPORT_COLUMNS = [
    "indicator_id", "indicator_name", "unit", "source_id", "wave_id", "data",
    "governorate_pcode", "name_en", "name_ar", "disaggregation", "disaggregation_value",
    "estimate", "ci_lower", "ci_upper", "std_error", "ci_method", "degrees_of_freedom",
    "n_unweighted", "n_effective", "design_effect", "excluded_share",
    "is_suppressed", "suppression_reason", "is_unreliable", "status",
]


def estimates_export(df: pl.DataFrame) -> pl.DataFrame:
    """CSV export of explorer rows: raw numbers (proportions as fractions), suppressed blank."""
    df = mask_suppressed(df)
    status = [
        status_label(r["is_suppressed"], r.get("suppression_reason"), r.get("is_unreliable"))
        for r in _rows(df)
    ]
    df = df.with_columns(
        pl.Series("status", status, dtype=pl.String),
        pl.col("is_synthetic").map_elements(data_label, return_dtype=pl.String).alias("data")
        if "is_synthetic" in df.columns
        else pl.lit(None, dtype=pl.String).alias("data"),
    )
    return df.select([c for c in EXPORT_COLUMNS if c in df.columns])


def to_csv_bytes(df: pl.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark so spreadsheet programs read Arabic names correctly."""
    return ("\ufeff" + df.write_csv()).encode("utf-8")


def headline_display(summary: pl.DataFrame) -> pl.DataFrame:
    """Overview: one row per indicator x source (latest wave)."""
    out = []
    for r in _rows(summary):
        kind, unit = r.get("indicator_type"), r.get("unit")
        flags = []
        if r.get("n_unreliable"):
            flags.append(f"{r['n_unreliable']} unreliable")
        if r.get("n_suppressed"):
            flags.append(f"{r['n_suppressed']} suppressed")
        rng = (
            DASH
            if _missing(r.get("min_estimate"))
            else f"{fmt_value(r['min_estimate'], kind, unit)} to {fmt_value(r['max_estimate'], kind, unit)}"
        )
        out.append(
            {
                "Indicator": r.get("indicator_name"),
                "Source · wave": f"{r['source_id']} · {r['wave_id']}",
                "Data": data_label(r.get("is_synthetic")),
                "Governorates with an estimate": r.get("n_governorates"),
                "Median across governorates": fmt_value(r.get("median_estimate"), kind, unit),
                "Range (lowest to highest)": rng,
                "Flags": ", ".join(flags) if flags else DASH,
                "Direction": direction_label(r.get("direction")),
                "Waves": r.get("n_waves"),
            }
        )
    schema = {
        "Indicator": pl.String, "Source · wave": pl.String, "Data": pl.String,
        "Governorates with an estimate": pl.Int64, "Median across governorates": pl.String,
        "Range (lowest to highest)": pl.String, "Flags": pl.String, "Direction": pl.String,
        "Waves": pl.Int64,
    }
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


def governorate_snapshot(summary: pl.DataFrame, estimates: pl.DataFrame, pcode: str) -> pl.DataFrame:
    """Overview: the chosen governorate's estimate for each headline (latest-wave) row."""
    est = mask_suppressed(estimates.filter(pl.col("governorate_pcode") == pcode))
    by_key = {(r["indicator_id"], r["source_id"], r["wave_id"]): r for r in _rows(est)}
    out = []
    for s in _rows(summary):
        kind, unit = s.get("indicator_type"), s.get("unit")
        r = by_key.get((s["indicator_id"], s["source_id"], s["wave_id"]))
        if r is None:
            estimate, ci, status = DASH, DASH, NOT_COVERED
        else:
            estimate = (
                status_label(True, r.get("suppression_reason"), False)
                if r["is_suppressed"]
                else fmt_value(r["estimate"], kind, unit)
            )
            ci = fmt_ci(r["ci_lower"], r["ci_upper"], kind, unit)
            status = status_label(r["is_suppressed"], r.get("suppression_reason"), r.get("is_unreliable"))
        out.append(
            {
                "Indicator": s.get("indicator_name"),
                "Source · wave": f"{s['source_id']} · {s['wave_id']}",
                "Data": data_label(s.get("is_synthetic")),
                "Estimate": estimate,
                "95% CI": ci,
                "Status": status,
                "Median across governorates": fmt_value(s.get("median_estimate"), kind, unit),
            }
        )
    schema = dict.fromkeys(
        ["Indicator", "Source · wave", "Data", "Estimate", "95% CI", "Status", "Median across governorates"],
        pl.String,
    )
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


def wave_medians(estimates: pl.DataFrame) -> pl.DataFrame:
    """Median of published governorate estimates per indicator x source x wave."""
    est = mask_suppressed(estimates)
    return (
        est.filter(pl.col("estimate").is_not_null())
        .group_by("indicator_id", "source_id", "wave_id")
        .agg(
            pl.col("estimate").median().alias("median_estimate"),
            pl.col("governorate_pcode").n_unique().alias("n_governorates"),
        )
    )


# --------------------------------------------------------------------------------------
# budget
# --------------------------------------------------------------------------------------
def budget_matrix(df: pl.DataFrame) -> dict[str, Any]:
    """Governorate x fiscal-year grid of execution rates (percent), None where no data.

    Years run from the first to the last year present, so a year inside the range without
    figures shows as a gap ('no data', or 'no budget law' for 2014 and 2022), never as zero.
    Returns dict(governorates=[labels], years=[int], z=[[pct|None]], text=[[str]]).
    """
    if df.is_empty():
        return {"governorates": [], "years": [], "z": [], "text": []}
    years = list(range(int(df["fiscal_year"].min()), int(df["fiscal_year"].max()) + 1))
    govs = (
        df.select("governorate_pcode", "name_en", "name_ar")
        .unique("governorate_pcode")
        .sort("name_en", "governorate_pcode")
    )
    cells: dict[tuple[str, int], dict[str, Any]] = {}
    for r in _rows(df):
        cells[(r["governorate_pcode"], int(r["fiscal_year"]))] = r
    z, text, labels = [], [], []
    for g in _rows(govs):
        labels.append(gov_label(g["name_en"], g["name_ar"]))
        zrow, trow = [], []
        for y in years:
            r = cells.get((g["governorate_pcode"], y))
            if r is None:
                zrow.append(None)
                trow.append(NO_BUDGET_LAW_YEARS.get(y, NO_DATA))
            elif _missing(r.get("execution_rate")):
                zrow.append(None)
                trow.append("no rate")
            else:
                zrow.append(round(r["execution_rate"] * 100, 1))
                trow.append(fmt_pct(r["execution_rate"]))
        z.append(zrow)
        text.append(trow)
    return {"governorates": labels, "years": years, "z": z, "text": text}


def budget_pivot(matrix: dict[str, Any]) -> pl.DataFrame:
    """The matrix as a text table (an accessible alternative to the heatmap)."""
    if not matrix["years"]:
        return pl.DataFrame()
    data = {"Governorate": matrix["governorates"]}
    for j, y in enumerate(matrix["years"]):
        data[str(y)] = [row[j] for row in matrix["text"]]
    return pl.DataFrame(data)


def budget_display(df: pl.DataFrame) -> pl.DataFrame:
    out = []
    for r in _rows(df):
        src = r.get("execution_rate_source")
        out.append(
            {
                "Governorate": r.get("name_en") or r.get("governorate_pcode"),
                "Arabic name": r.get("name_ar") or "",
                "Fiscal year": r.get("fiscal_year"),
                "Source": r.get("source_id"),
                "Scope": r.get("budget_scope"),
                "Allocation": fmt_amount(r.get("allocation")),
                "Expenditure": fmt_amount(r.get("expenditure")),
                "Execution rate": fmt_pct(r.get("execution_rate")),
                "Rate is": src if src else DASH,
                "Currency": r.get("currency"),
                "Unit": r.get("unit"),
                "Data": data_label(r.get("is_synthetic")),
            }
        )
    schema = {
        "Governorate": pl.String, "Arabic name": pl.String, "Fiscal year": pl.Int64,
        "Source": pl.String, "Scope": pl.String, "Allocation": pl.String,
        "Expenditure": pl.String, "Execution rate": pl.String, "Rate is": pl.String,
        "Currency": pl.String, "Unit": pl.String, "Data": pl.String,
    }
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


# --------------------------------------------------------------------------------------
# audit
# --------------------------------------------------------------------------------------
def accounting_label(ok: Any, unaccounted: Any) -> str:
    if ok:
        return "✓ balanced"
    if _missing(unaccounted):
        return "✗ cannot check (missing counts)"
    return f"✗ {unaccounted:+d} row(s) unaccounted"


def file_registry_display(df: pl.DataFrame) -> pl.DataFrame:
    checks = [accounting_label(r["accounting_ok"], r["rows_unaccounted"]) for r in _rows(df)]
    return df.select(
        pl.col("run_id").alias("Run"),
        pl.col("source_id").alias("Source"),
        pl.col("file_name").alias("File"),
        pl.col("file_sha256").alias("SHA-256"),
        pl.col("file_bytes").alias("Bytes"),
        pl.col("loaded_at").alias("Loaded at"),
        pl.col("rows_read").alias("Read"),
        pl.col("rows_loaded").alias("Loaded"),
        pl.col("rows_excluded").alias("Excluded"),
        pl.col("rows_quarantined").alias("Quarantined"),
    ).with_columns(pl.Series("Read = loaded + excluded + quarantined", checks, dtype=pl.String))
