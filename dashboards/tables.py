"""Formatting and table shaping for the dashboard (pure polars, no Streamlit).

Display tables carry formatted strings (percentages with one decimal, hours with one decimal);
CSV exports carry raw numbers. Both blank every answer-derived statistic of suppressed cells
again (estimate, SE, CI, CI method, degrees of freedom, effective n, design effect, excluded
share, unreliable flag), whatever the input says (the query layer already does; this is belt and
braces). Every table and export of estimates carries the wave's approval status ("approved", or
a label starting with "provisional").
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Sequence
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
NOT_REPORTED = "not reported"
NO_RATE = "no rate"
#: Years in which Iraq passed no federal budget law.
NO_BUDGET_LAW_YEARS = {2014: "no budget law", 2020: "no budget law", 2022: "no budget law"}
NO_AMOUNTS = "execution rate as published; no amounts"
DASH = "–"
APPROVED_LABEL = "approved"
PROVISIONAL_LABEL = "provisional"
#: How the M&E lead approves a wave (shown wherever provisional waves are hidden or labelled).
APPROVE_COMMAND = "mizan approve --source S --wave W --by NAME"

_UNIT_SUFFIX = {"hours/day": " h/day", "hours": " h", "hours per day": " h/day"}
_DIRECTION = {"higher_is_better": "↑ higher is better", "lower_is_better": "↓ lower is better"}
_DISAGG_VALUE = {"male": "male-headed households", "female": "female-headed households"}
#: Everything derived from the answers: blank for suppressed cells. Only identifiers,
#: n_unweighted, is_suppressed and suppression_reason survive (see queries.service_estimates).
_MASKED = (
    "estimate", "std_error", "ci_lower", "ci_upper", "ci_method", "degrees_of_freedom",
    "n_effective", "design_effect", "excluded_share", "is_unreliable",
)


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
    """Standard error: percentage points for proportions, the unit for means.

    One decimal; a non-zero SE that would round to 0.0 shows as '<0.1 pts' (never '0.0 pts').
    """
    if _missing(se):
        return DASH
    proportion = is_proportion(indicator_type, unit)
    value = se * 100 if proportion else se
    suffix = " pts" if proportion else unit_suffix(unit)
    if value == 0:
        return f"0{suffix}"
    if abs(value) < 0.05 or f"{abs(value):.1f}" == "0.0":
        return f"<0.1{suffix}"
    return f"{value:.1f}{suffix}"


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


def approval_label(approval_status: Any, is_approved: Any = None) -> str:
    """'approved' only for an approved wave; otherwise the status, which always starts with
    'provisional' ('provisional', 'provisional (approval revoked)', …)."""
    if is_approved is True or (is_approved is None and approval_status == APPROVED_LABEL):
        return APPROVED_LABEL
    text = "" if _missing(approval_status) else str(approval_status).strip()
    if not text or text == APPROVED_LABEL:  # inconsistent input: never call it approved
        return PROVISIONAL_LABEL
    return text if text.startswith(PROVISIONAL_LABEL) else f"{PROVISIONAL_LABEL} ({text})"


def wave_label(wave_id: Any, is_approved: Any) -> str:
    """A wave on a chart axis: '2024-01', or '2024-01 (provisional)' when it is not approved."""
    return str(wave_id) if is_approved is True else f"{wave_id} ({PROVISIONAL_LABEL})"


def gov_label(name_en: Any, name_ar: Any = None) -> str:
    """'Baghdad · بغداد' (English first; Arabic when known)."""
    name_en = name_en or ""
    return f"{name_en} · {name_ar}" if name_ar else str(name_en)


def coverage_short(coverage: Any) -> str:
    """'Tal Afar city only (a city in Ninewa), not the whole governorate' -> 'Tal Afar city only'.

    '' for NULL coverage (governorate-wide)."""
    if _missing(coverage) or not str(coverage).strip():
        return ""
    text = str(coverage).strip()
    short = re.split(r"\s*[(,;]", text, maxsplit=1)[0].strip()
    return short or text


def area_label(name_en: Any, coverage: Any = None) -> str:
    """The area an estimate covers: 'Ninewa', or 'Ninewa — Tal Afar city only' when the source
    covers only part of the governorate."""
    short = coverage_short(coverage)
    name = "" if name_en is None else str(name_en)
    return f"{name} — {short}" if short else name


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
    """NULL every answer-derived statistic (estimate, SE, CI, CI method, degrees of freedom,
    effective n, design effect, excluded share, unreliable flag) wherever ``is_suppressed`` is
    not False."""
    if "is_suppressed" not in df.columns:
        return df
    hidden = pl.col("is_suppressed").fill_null(True)
    return df.with_columns(
        [pl.when(hidden).then(None).otherwise(pl.col(c)).alias(c) for c in _MASKED if c in df.columns]
    ).with_columns(hidden.alias("is_suppressed"))


def _rows(df: pl.DataFrame) -> Iterable[dict[str, Any]]:
    return df.iter_rows(named=True)


def estimates_display(df: pl.DataFrame) -> pl.DataFrame:
    """Explorer table: one row per governorate (x disaggregation value), formatted; 'Approval'
    is 'approved' or a 'provisional …' label."""
    df = mask_suppressed(df)
    out = []
    for r in _rows(df):
        kind, unit = r.get("indicator_type"), r.get("unit")
        out.append(
            {
                "Governorate": area_label(
                    r.get("name_en") or r.get("governorate_pcode"), r.get("coverage")
                ),
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
                "Approval": approval_label(r.get("approval_status"), r.get("is_approved", False)),
                "P-code": r.get("governorate_pcode"),
            }
        )
    schema = {
        "Governorate": pl.String, "Arabic name": pl.String, "Group": pl.String,
        "Estimate": pl.String, "95% CI": pl.String, "SE": pl.String, "n": pl.Int64,
        "n eff.": pl.String, "Design effect": pl.String, "Excluded share": pl.String,
        "Status": pl.String, "Data": pl.String, "Approval": pl.String, "P-code": pl.String,
    }
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


EXPORT_COLUMNS = [
    "indicator_id", "indicator_name", "unit", "source_id", "wave_id", "data", "approval_status",
    "governorate_pcode", "name_en", "name_ar", "coverage", "disaggregation", "disaggregation_value",
    "estimate", "ci_lower", "ci_upper", "std_error", "ci_method", "degrees_of_freedom",
    "n_unweighted", "n_effective", "design_effect", "excluded_share",
    "is_suppressed", "suppression_reason", "is_unreliable", "status",
]


def estimates_export(df: pl.DataFrame) -> pl.DataFrame:
    """CSV export of explorer rows (``EXPORT_COLUMNS``): raw numbers (proportions as fractions);
    every answer-derived statistic of a suppressed row is blank. ``coverage`` is blank for
    governorate-wide sources; ``approval_status`` is 'approved' or a 'provisional …' label."""
    df = mask_suppressed(df)
    if "coverage" not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.String).alias("coverage"))
    approval = [
        approval_label(r.get("approval_status"), r.get("is_approved", False)) for r in _rows(df)
    ]
    df = df.with_columns(pl.Series("approval_status", approval, dtype=pl.String))
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


def _is_single_area(r: dict[str, Any]) -> bool:
    """A headline that must not be called a median across governorates: fewer than two
    governorates with a published estimate, or a source covering only part of a governorate."""
    return (r.get("n_governorates") or 0) < 2 or bool(coverage_short(r.get("coverage")))


def headline_cells(r: dict[str, Any]) -> dict[str, str]:
    """The headline of one headline_summary row: 'Headline', 'Headline is', 'Range or 95% CI'.

    Several governorate-wide estimates: their median and range. One governorate (or a source
    covering only part of one): that estimate itself with its 95% CI, named by its area
    ('Ninewa — Tal Afar city only'), never 'median across governorates'.
    """
    kind, unit = r.get("indicator_type"), r.get("unit")
    n = r.get("n_governorates") or 0
    short = coverage_short(r.get("coverage"))
    if r.get("has_published") is False or n == 0:
        return {
            "Headline": DASH,
            "Headline is": "no published estimate in any wave (all cells suppressed)",
            "Range or 95% CI": DASH,
        }
    if n == 1:
        area = area_label(r.get("single_name_en") or r.get("single_governorate_pcode"), r.get("coverage"))
        what = f"estimate for {area}"
        if not short:
            what += " (the only governorate with a published estimate)"
        ci = fmt_ci(r.get("single_ci_lower"), r.get("single_ci_upper"), kind, unit)
        return {
            "Headline": fmt_value(r.get("single_estimate"), kind, unit),
            "Headline is": what,
            "Range or 95% CI": DASH if ci == DASH else f"{ci} (95% CI)",
        }
    rng = f"{fmt_value(r.get('min_estimate'), kind, unit)} to {fmt_value(r.get('max_estimate'), kind, unit)}"
    what = f"median of {n} governorate estimates"
    if short:
        what += f" (each covers only part of its governorate: {short})"
    return {
        "Headline": fmt_value(r.get("median_estimate"), kind, unit),
        "Headline is": what,
        "Range or 95% CI": f"{rng} (range)",
    }


def headline_display(summary: pl.DataFrame) -> pl.DataFrame:
    """Overview: one row per indicator x source (latest wave with a published estimate); the
    'Approval' column labels a provisional headline wave."""
    out = []
    for r in _rows(summary):
        flags = []
        if r.get("n_unreliable"):
            flags.append(f"{r['n_unreliable']} unreliable")
        if r.get("n_suppressed"):
            flags.append(f"{r['n_suppressed']} suppressed")
        out.append(
            {
                "Indicator": r.get("indicator_name"),
                "Source · wave": f"{r['source_id']} · {r['wave_id']}",
                "Data": data_label(r.get("is_synthetic")),
                "Approval": approval_label(r.get("approval_status"), r.get("is_approved", False)),
                "Coverage": coverage_short(r.get("coverage")) or "governorate-wide",
                "Governorates with an estimate": r.get("n_governorates"),
                **headline_cells(r),
                "Flags": ", ".join(flags) if flags else DASH,
                "Direction": direction_label(r.get("direction")),
                "Waves": r.get("n_waves"),
            }
        )
    schema = {
        "Indicator": pl.String, "Source · wave": pl.String, "Data": pl.String, "Approval": pl.String,
        "Coverage": pl.String, "Governorates with an estimate": pl.Int64, "Headline": pl.String,
        "Headline is": pl.String, "Range or 95% CI": pl.String, "Flags": pl.String,
        "Direction": pl.String, "Waves": pl.Int64,
    }
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


def governorate_snapshot(summary: pl.DataFrame, estimates: pl.DataFrame, pcode: str) -> pl.DataFrame:
    """Overview: the chosen governorate's estimate for each headline (latest-wave) row.

    'Area' names what the estimate covers ('Ninewa — Tal Afar city only' for a city survey).
    'Median across governorates' is 'n/a' when the source has fewer than two governorate-wide
    estimates (a median of one area is not a median across governorates).
    """
    est = mask_suppressed(estimates.filter(pl.col("governorate_pcode") == pcode))
    by_key = {(r["indicator_id"], r["source_id"], r["wave_id"]): r for r in _rows(est)}
    out = []
    for s in _rows(summary):
        kind, unit = s.get("indicator_type"), s.get("unit")
        r = by_key.get((s["indicator_id"], s["source_id"], s["wave_id"]))
        if r is None:
            area, estimate, ci, status = DASH, DASH, DASH, NOT_COVERED
        else:
            area = area_label(r.get("name_en") or pcode, r.get("coverage", s.get("coverage")))
            estimate = (
                status_label(True, r.get("suppression_reason"), False)
                if r["is_suppressed"]
                else fmt_value(r["estimate"], kind, unit)
            )
            ci = fmt_ci(r["ci_lower"], r["ci_upper"], kind, unit)
            status = status_label(r["is_suppressed"], r.get("suppression_reason"), r.get("is_unreliable"))
        if _is_single_area(s):
            median = "n/a (one area only)" if (s.get("n_governorates") or 0) < 2 else (
                f"n/a (not governorate-wide: {coverage_short(s.get('coverage'))})"
            )
        else:
            median = fmt_value(s.get("median_estimate"), kind, unit)
        out.append(
            {
                "Indicator": s.get("indicator_name"),
                "Source · wave": f"{s['source_id']} · {s['wave_id']}",
                "Data": data_label(s.get("is_synthetic")),
                "Approval": approval_label(s.get("approval_status"), s.get("is_approved", False)),
                "Area": area,
                "Estimate": estimate,
                "95% CI": ci,
                "Status": status,
                "Median across governorates": median,
            }
        )
    schema = dict.fromkeys(
        ["Indicator", "Source · wave", "Data", "Approval", "Area", "Estimate", "95% CI", "Status",
         "Median across governorates"],
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
def _fmt_date(v: Any) -> str:
    return "" if _missing(v) else str(v)


def _has_amounts(r: dict[str, Any]) -> bool:
    return any(not _missing(r.get(c)) for c in ("allocation", "expenditure", "allocation_revised"))


def budget_has_amounts(df: pl.DataFrame) -> bool:
    """True when any row has an allocation or expenditure (else the source publishes only a
    rate, e.g. SIGIR 2008, and no unit may be claimed)."""
    cols = [c for c in ("allocation", "expenditure", "allocation_revised") if c in df.columns]
    return bool(cols) and any(df[c].null_count() < df.height for c in cols)


def budget_as_of(df: pl.DataFrame) -> list[tuple[int, str]]:
    """Distinct (fiscal_year, as_of date) pairs present, sorted: the figures are year-to-date
    at that date, not full-year."""
    if "as_of" not in df.columns or df.is_empty():
        return []
    pairs = df.select("fiscal_year", "as_of").drop_nulls().unique().sort("fiscal_year", "as_of")
    return [(int(y), _fmt_date(d)) for y, d in pairs.iter_rows()]


def budget_matrix(df: pl.DataFrame, governorates: pl.DataFrame | None = None) -> dict[str, Any]:
    """Governorate x fiscal-year grid of execution rates (percent), None where no data.

    Years run from the first to the last year present, so a year inside the range without
    figures shows as a gap ('no data', or 'no budget law' for 2014, 2020 and 2022), never as
    zero. ``governorates`` (e.g. marts.dim_governorate: governorate_pcode, name_en, name_ar)
    adds a row for every governorate the source does not cover at all, labelled 'not reported'
    in every year (grey, never zero). Returns dict(governorates=[labels], years=[int],
    z=[[pct|None]], text=[[str]], hover=[[str]]); hover adds the as-of date of year-to-date
    figures.
    """
    if df.is_empty():
        return {"governorates": [], "years": [], "z": [], "text": [], "hover": []}
    years = list(range(int(df["fiscal_year"].min()), int(df["fiscal_year"].max()) + 1))
    govs = df.select("governorate_pcode", "name_en", "name_ar")
    if governorates is not None and not governorates.is_empty():
        extra = governorates.select(
            pl.col("governorate_pcode").cast(pl.String),
            pl.col("name_en").cast(pl.String),
            pl.col("name_ar").cast(pl.String) if "name_ar" in governorates.columns
            else pl.lit(None, dtype=pl.String).alias("name_ar"),
        )
        govs = pl.concat([govs.cast({"name_en": pl.String, "name_ar": pl.String}), extra])
    govs = govs.unique("governorate_pcode", keep="first").sort("name_en", "governorate_pcode")
    reported = set(df["governorate_pcode"].to_list())
    cells: dict[tuple[str, int], dict[str, Any]] = {}
    for r in _rows(df):
        cells[(r["governorate_pcode"], int(r["fiscal_year"]))] = r
    z, text, hover, labels = [], [], [], []
    for g in _rows(govs):
        labels.append(gov_label(g["name_en"] or g["governorate_pcode"], g["name_ar"]))
        zrow, trow, hrow = [], [], []
        for y in years:
            r = cells.get((g["governorate_pcode"], y))
            if g["governorate_pcode"] not in reported:
                zrow.append(None)
                trow.append(NOT_REPORTED)
                hrow.append(f"{NOT_REPORTED}: this source does not cover the governorate")
                continue
            if r is None:
                zrow.append(None)
                trow.append(NO_BUDGET_LAW_YEARS.get(y, NO_DATA))
                hrow.append(trow[-1])
                continue
            as_of = _fmt_date(r.get("as_of"))
            suffix = f" (year to date, as of {as_of})" if as_of else ""
            if _missing(r.get("execution_rate")):
                zrow.append(None)
                trow.append(NO_RATE)
            else:
                zrow.append(round(r["execution_rate"] * 100, 1))
                trow.append(fmt_pct(r["execution_rate"]))
            hrow.append(trow[-1] + suffix)
        z.append(zrow)
        text.append(trow)
        hover.append(hrow)
    return {"governorates": labels, "years": years, "z": z, "text": text, "hover": hover}


def budget_pivot(matrix: dict[str, Any]) -> pl.DataFrame:
    """The matrix as a text table (an accessible alternative to the heatmap)."""
    if not matrix["years"]:
        return pl.DataFrame()
    data = {"Governorate": matrix["governorates"]}
    for j, y in enumerate(matrix["years"]):
        data[str(y)] = [row[j] for row in matrix["text"]]
    return pl.DataFrame(data)


def budget_display(df: pl.DataFrame) -> pl.DataFrame:
    """Every budget row, formatted. 'As of': the date year-to-date figures refer to. Currency
    and unit are '–' for rows without any amount (only a published rate)."""
    out = []
    for r in _rows(df):
        src = r.get("execution_rate_source")
        amounts = _has_amounts(r)
        out.append(
            {
                "Governorate": r.get("name_en") or r.get("governorate_pcode"),
                "Arabic name": r.get("name_ar") or "",
                "Fiscal year": r.get("fiscal_year"),
                "As of": _fmt_date(r.get("as_of")) or DASH,
                "Source": r.get("source_id"),
                "Scope": r.get("budget_scope"),
                "Allocation": fmt_amount(r.get("allocation")),
                "Expenditure": fmt_amount(r.get("expenditure")),
                "Execution rate": fmt_pct(r.get("execution_rate")),
                "Rate is": src if src else DASH,
                "Currency": r.get("currency") if amounts else DASH,
                "Unit": r.get("unit") if amounts else DASH,
                "Data": data_label(r.get("is_synthetic")),
            }
        )
    schema = {
        "Governorate": pl.String, "Arabic name": pl.String, "Fiscal year": pl.Int64,
        "As of": pl.String, "Source": pl.String, "Scope": pl.String, "Allocation": pl.String,
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


def short_sha(sha: Any, n: int = 8) -> str:
    """The first ``n`` hex digits of a SHA-256 ('' for none)."""
    return "" if _missing(sha) or not str(sha) else str(sha)[:n]


def file_registry_display(df: pl.DataFrame) -> pl.DataFrame:
    """``queries.file_registry`` formatted: one row per registered file with its status ('active',
    'partly superseded', 'superseded'; '–' in older warehouses), what superseded it (short
    SHA-256), its unit (survey wave), archive path and row accounting."""
    checks = [accounting_label(r["accounting_ok"], r["rows_unaccounted"]) for r in _rows(df)]
    return df.select(
        pl.col("source_id").alias("Source"),
        pl.col("file_name").alias("File"),
        pl.col("unit").alias("Unit"),
        pl.col("status").fill_null(DASH).alias("Status"),
        pl.col("superseded_by").map_elements(short_sha, return_dtype=pl.String).alias("Superseded by"),
        pl.col("file_sha256").alias("SHA-256"),
        pl.col("file_bytes").alias("Bytes"),
        pl.col("registered_at").alias("Registered at"),
        pl.col("run_id").alias("Last run"),
        pl.col("loaded_at").alias("Loaded at"),
        pl.col("rows_read").alias("Read"),
        pl.col("rows_loaded").alias("Loaded"),
        pl.col("rows_excluded").alias("Excluded"),
        pl.col("rows_quarantined").alias("Quarantined"),
        pl.col("rows_superseded").alias("Superseded rows"),
        pl.col("archive_path").alias("Archive path"),
    ).with_columns(pl.Series("Read = loaded + excluded + quarantined", checks, dtype=pl.String))


def deliveries_display(df: pl.DataFrame) -> pl.DataFrame:
    """``queries.file_deliveries`` formatted: what became of each file a run saw."""
    return df.select(
        pl.col("seen_at").alias("Seen at"),
        pl.col("domain").alias("Domain"),
        pl.col("source_id").alias("Source"),
        pl.col("file_name").alias("File"),
        pl.col("file_sha256").map_elements(short_sha, return_dtype=pl.String).alias("SHA-256"),
        pl.col("outcome").alias("Outcome"),
        pl.col("supersedes_sha256").map_elements(short_sha, return_dtype=pl.String).alias("Supersedes"),
        pl.col("file_path").alias("Path"),
    )


# --------------------------------------------------------------------------------------
# run history (snapshot run log + journal)
# --------------------------------------------------------------------------------------
#: Run statuses that mean the run's data were published.
OK_STATUSES = {"published", "success", "succeeded", "ok"}
RECORDED_SNAPSHOT = "this snapshot"
RECORDED_JOURNAL = "journal only (after this snapshot)"

_HISTORY_SCHEMA: dict[str, Any] = {
    "run_id": pl.String, "kind": pl.String, "started_at": pl.Datetime("us"),
    "finished_at": pl.Datetime("us"), "duration_seconds": pl.Int64, "status": pl.String,
    "data_dir": pl.String, "files_json": pl.String, "rows_read": pl.Int64, "rows_loaded": pl.Int64,
    "rows_excluded": pl.Int64, "rows_quarantined": pl.Int64, "tests_passed": pl.Int64,
    "tests_failed": pl.Int64, "snapshot": pl.String, "message": pl.String, "summary_json": pl.String,
}


def parse_time(value: Any) -> dt.datetime | None:
    """ISO text ('2024-05-01T10:04:00', '2024-05-01 10:04:00.123', trailing 'Z' or offset) or a
    datetime, as naive UTC; None when absent or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        out = value
    elif isinstance(value, dt.date):
        out = dt.datetime(value.year, value.month, value.day)
    else:
        try:
            out = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if out.tzinfo is not None:
        out = out.astimezone(dt.UTC).replace(tzinfo=None)
    return out


def fmt_time(value: Any) -> str:
    """'2024-05-01 10:04:00' (UTC, seconds); '–' when unknown."""
    t = parse_time(value)
    return DASH if t is None else t.strftime("%Y-%m-%d %H:%M:%S")


def _int(v: Any) -> int | None:
    try:
        return None if _missing(v) else int(v)
    except (TypeError, ValueError):
        return None


def _journal_row(entry: dict[str, Any]) -> dict[str, Any]:
    """A journal entry (keys of audit.run_log; times as ISO text; files_json as JSON text or a
    list) in the shape of ``queries.run_log``."""
    started, finished = parse_time(entry.get("started_at")), parse_time(entry.get("finished_at"))
    files = entry.get("files_json")
    if files is not None and not isinstance(files, str):
        files = json.dumps(files, default=str)
    summary = entry.get("summary_json")
    if summary is not None and not isinstance(summary, str):
        summary = json.dumps(summary, default=str)
    row = {
        "run_id": None if entry.get("run_id") is None else str(entry["run_id"]),
        "kind": entry.get("kind"), "started_at": started, "finished_at": finished,
        "duration_seconds": int((finished - started).total_seconds()) if started and finished else None,
        "status": entry.get("status"), "data_dir": entry.get("data_dir"), "files_json": files,
        "snapshot": entry.get("snapshot"), "message": entry.get("message"), "summary_json": summary,
    }
    for c in ("rows_read", "rows_loaded", "rows_excluded", "rows_quarantined", "tests_passed", "tests_failed"):
        row[c] = _int(entry.get(c))
    return row


def run_history(run_log: pl.DataFrame, journal: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """Every run known to the dashboard, newest first: the snapshot's ``audit.run_log``
    (``queries.run_log``) plus the journal entries whose run id it lacks (runs after this snapshot,
    typically failed ones that never published).

    Columns: those of ``queries.RUN_LOG_COLUMNS`` plus ``recorded_in`` ('this snapshot' |
    'journal only (after this snapshot)'). Order: finish time (else start time) descending; a
    journal entry without any time counts as the newest (the journal is appended in order).
    """
    if run_log.width == 0:
        base = pl.DataFrame(schema=_HISTORY_SCHEMA)
    else:
        base = run_log.select([pl.col(c).cast(t) if c in run_log.columns else pl.lit(None, dtype=t).alias(c)
                               for c, t in _HISTORY_SCHEMA.items()])
    known = set(base["run_id"].drop_nulls().to_list())
    extra = [_journal_row(e) for e in journal if e.get("run_id") is not None and str(e["run_id"]) not in known]
    # the same run twice in the journal (never expected): keep its last line
    extra = list({r["run_id"]: r for r in extra}.values())
    journal_df = pl.DataFrame(extra, schema=_HISTORY_SCHEMA, orient="row") if extra else pl.DataFrame(schema=_HISTORY_SCHEMA)
    order = {r["run_id"]: i for i, r in enumerate(extra)}
    out = pl.concat([
        base.with_columns(pl.lit(RECORDED_SNAPSHOT).alias("recorded_in"), pl.lit(-1, dtype=pl.Int64).alias("__seq")),
        journal_df.with_columns(
            pl.lit(RECORDED_JOURNAL).alias("recorded_in"),
            pl.col("run_id").replace_strict(order, default=-1, return_dtype=pl.Int64).alias("__seq"),
        ),
    ])
    when = pl.coalesce("finished_at", "started_at")
    return (
        out.with_columns(when.is_null().alias("__undated"), when.alias("__when"))
        .sort(["__undated", "__when", "__seq"], descending=True, nulls_last=True)
        .drop("__undated", "__when", "__seq")
    )


def files_summary(files_json: Any) -> str:
    """'3: 1a2b3c4d, 5e6f7a8b, 9c0d1e2f' (count and short SHA-256 of the files a run saw);
    '–' when the run recorded none (or its record predates file lists)."""
    if _missing(files_json) or files_json == "":
        return DASH
    try:
        files = json.loads(files_json) if isinstance(files_json, str) else files_json
    except ValueError:
        return DASH
    if not isinstance(files, list):
        return DASH
    shas = [short_sha(f.get("file_sha256")) if isinstance(f, dict) else short_sha(f) for f in files]
    shas = [s for s in shas if s]
    return f"{len(files)}: {', '.join(shas)}" if shas else str(len(files))


def run_history_display(history: pl.DataFrame) -> pl.DataFrame:
    """``run_history`` formatted for the Data quality page: time (finish, else start; UTC), kind,
    status, files (count + short hashes), rows read / loaded / quarantined, tests passed /
    failed, snapshot, message, run id and where the record comes from."""
    out = []
    for r in _rows(history):
        out.append(
            {
                "Time (UTC)": fmt_time(r.get("finished_at") or r.get("started_at")),
                "Kind": r.get("kind") or "run",
                "Status": r.get("status") or DASH,
                "Files": files_summary(r.get("files_json")),
                "Read": r.get("rows_read"),
                "Loaded": r.get("rows_loaded"),
                "Quarantined": r.get("rows_quarantined"),
                "Tests passed": r.get("tests_passed"),
                "Tests failed": r.get("tests_failed"),
                "Snapshot": r.get("snapshot") or DASH,
                "Message": r.get("message") or "",
                "Run": r.get("run_id"),
                "Recorded in": r.get("recorded_in"),
            }
        )
    schema = {
        "Time (UTC)": pl.String, "Kind": pl.String, "Status": pl.String, "Files": pl.String,
        "Read": pl.Int64, "Loaded": pl.Int64, "Quarantined": pl.Int64, "Tests passed": pl.Int64,
        "Tests failed": pl.Int64, "Snapshot": pl.String, "Message": pl.String, "Run": pl.String,
        "Recorded in": pl.String,
    }
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


def failed_after_snapshot(journal: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest *data run* of the journal (approvals and repairs skipped) when it did not publish,
    else None. An approval published after a failed run does not hide the failure: the data on
    screen are still those of the last run that published. Returns the entry as given (keys of
    audit.run_log). The journal holds every run in order, so nothing else is needed.
    """
    runs = [j for j in journal if str(j.get("kind") or "run") == "run"]
    if not runs:
        return None
    last = runs[-1]
    if str(last.get("status") or "").lower() in OK_STATUSES:
        return None
    return dict(last)
