"""Formatting and table shaping for the dashboard (pure polars, no Streamlit).

Display tables carry formatted strings (percentages with one decimal, hours with one decimal);
CSV exports carry raw numbers. Both blank every answer-derived statistic of suppressed cells
again (estimate, SE, CI, CI method, degrees of freedom, effective n, design effect, excluded
share, unreliable flag, and the domain's PSUs / single-PSU strata / weight ratio / extreme-weight
flag), whatever the input says (the query layer already does; this is belt and braces). The same
holds for a change between waves with a suppressed side (no number, only the reason) and for a
suppressed answer distribution (no share at all). Every table and export of estimates carries the
wave's approval status ("approved", or a label starting with "provisional"), and every CSV of
estimates the snapshot's estimation rules in a column ``estimation_rules``.

National estimates (``governorate_pcode`` IQ, ``area_level`` national) are labelled
"Iraq (national)" and kept apart from the governorates: never in a median, range or count of
governorates (``split_national``, ``wave_medians``, ``budget_matrix``).

Changes between waves are worded by ``change_text``: "no significant change (95% CI −x to +y
points)" unless the interval excludes zero, "rose/fell by x points (95% CI …)" when it does.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl

#: The rule printed for a warehouse that predates ``marts.dim_estimation_rules`` (the rule of that
#: time). A snapshot that has the table states its own rule (``queries.estimation_rules``), on screen
#: and in a CSV column ``estimation_rules``.
SUPPRESSION_RULE = (
    "Suppression rule: an estimate is suppressed (not shown) when its unweighted n < 30 or "
    "its effective n < 30; it is flagged unreliable when its 95% confidence interval is "
    "30 percentage points wide or more, or wider than 130% of the estimate (NCHS 2017 style)."
)
#: Label of national estimates (IQ) wherever areas are listed.
NATIONAL_LABEL = "Iraq (national)"
NATIONAL_PCODE = "IQ"
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
#: Breakdowns (``disaggregation``) as people say them; others: snake_case -> words.
DISAGGREGATION_LABELS = {
    "all": "None (all respondents)",
    "hoh_sex": "Sex of household head",
    "urban_rural": "Urban / rural",
    "displacement_status": "Displacement status: IDP / returnee / not displaced",
    "district": "District",
}
#: Groups (``disaggregation_value``) as people say them, per breakdown; others: words.
_DISAGG_VALUE = {
    "hoh_sex": {"male": "male-headed households", "female": "female-headed households"},
    "urban_rural": {"urban": "urban", "rural": "rural"},
    "displacement_status": {
        "non_displaced": "not displaced", "idp": "IDPs (internally displaced)", "returnee": "returnees",
    },
}
#: CI methods (``ci_method``) as the tables and the design box name them.
CI_METHOD_LABELS = {
    "logit": "logit",
    "korn_graubard": "Korn–Graubard",
    "t": "t",
    "clopper_pearson_neff": "Clopper–Pearson (estimate 0 or 100 %)",
}
#: Single-PSU rules (``single_psu_rule``): short label, and what it does.
SINGLE_PSU_LABELS = {"skip": "skip", "certainty_units": "certainty units", "combine": "combine"}
SINGLE_PSU_MEANING = {
    "skip": "a stratum with a single PSU contributes no variance",
    "certainty_units": "the PSU of a single-PSU stratum is taken with certainty: its respondents act as the PSUs",
    "combine": "a single-PSU stratum is collapsed into a neighbouring stratum",
}
WEIGHT_METHOD_LABELS = {
    "delivered": "delivered with the data",
    "constant": "equal weights",
    "sample_frame": "from the sample frame (N_h / n_h)",
}
POST_STRATIFY_LABELS = {"none": "none", "governorate_population": "to governorate population"}
#: Answer codes of the question bank (``choice_code``) as readable English; others: words.
CHOICE_LABELS = {
    "excellent": "Excellent", "good": "Good", "adequate": "Adequate", "poor": "Poor",
    "very_poor": "Very poor", "all_or_nearly_all": "All or nearly all", "most": "Most",
    "less_than_half": "Less than half", "less_than_quarter": "Less than a quarter", "none": "None",
    "yes": "Yes", "no": "No", "dont_know": "Don't know", "refused": "Refused",
}
#: Design facts of a cell's domain: blank for suppressed cells too (see queries.DESIGN_COLUMNS).
DESIGN_COLUMNS = ("n_psu", "n_singleton_strata", "weight_ratio_max_median", "has_extreme_weights")
#: Everything derived from the answers: blank for suppressed cells. Only identifiers,
#: n_unweighted, is_suppressed, suppression_reason and the wave's single_psu_rule survive (see
#: queries.service_estimates).
_MASKED = (
    "estimate", "std_error", "ci_lower", "ci_upper", "ci_method", "degrees_of_freedom",
    "n_effective", "design_effect", "excluded_share", "is_unreliable", *DESIGN_COLUMNS,
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
    """'Baghdad · بغداد' (English first; Arabic when known); on an Arabic page the Arabic name alone."""
    from dashboards.i18n import current_language

    name_en = name_en or ""
    if name_ar and current_language() == "ar":
        return str(name_ar)
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


def sector_label(sector_name: Any, sector: Any = None) -> str:
    """The sector's display name (question bank ``sectors:``, ``dim_indicator.sector_name``), else its
    id in words ('local_government' -> 'Local government'), else a dash."""
    if not _missing(sector_name) and str(sector_name).strip():
        return str(sector_name)
    return words(sector)


def scale_label(scale_note: Any) -> str:
    """'4-point scale, top box (source codes 1, 2)' for an estimate from a wave on a declared scale
    (``marts.dim_indicator_wave_scale``); '' for the question bank's own scale."""
    return "" if _missing(scale_note) else str(scale_note)


def words(code: Any) -> str:
    """'less_than_half' -> 'Less than half' (snake_case code to words, first letter upper)."""
    text = "" if _missing(code) else re.sub(r"[_\s]+", " ", str(code)).strip()
    return text[:1].upper() + text[1:] if text else DASH


def disaggregation_name(disaggregation: Any) -> str:
    """The breakdown picker's label: 'Sex of household head', 'Urban / rural', …; others as words."""
    if _missing(disaggregation):
        return DISAGGREGATION_LABELS["all"]
    return DISAGGREGATION_LABELS.get(str(disaggregation), words(disaggregation))


def disaggregation_label(disaggregation: Any, value: Any) -> str:
    """One group of a breakdown: 'female-headed households', 'IDPs (internally displaced)',
    'urban'; 'District: IQG15D001'; an unknown breakdown 'Camp type: formal camp'."""
    if disaggregation in (None, "all") or value in (None, "all"):
        return "all"
    known = _DISAGG_VALUE.get(str(disaggregation), {})
    if str(value) in known:
        return known[str(value)]
    if disaggregation == "district":
        return f"District: {value}"
    return f"{disaggregation_name(disaggregation)}: {words(value).lower() if '_' in str(value) else value}"


def ci_method_label(method: Any) -> str:
    return DASH if _missing(method) else CI_METHOD_LABELS.get(str(method), words(method))


def single_psu_label(rule: Any) -> str:
    return DASH if _missing(rule) else SINGLE_PSU_LABELS.get(str(rule), words(rule).lower())


def choice_label(code: Any) -> str:
    """An answer code of the question bank as English ('very_poor' -> 'Very poor')."""
    return DASH if _missing(code) else CHOICE_LABELS.get(str(code), words(code))


def is_national(r: dict[str, Any]) -> bool:
    """A national row (IQ): ``area_level`` 'national', or the IQ p-code when the level is unknown."""
    level = r.get("area_level")
    if not _missing(level):
        return str(level) == "national"
    return r.get("governorate_pcode") == NATIONAL_PCODE


def area_name(r: dict[str, Any]) -> str:
    """The area of a row as listed: 'Iraq (national)' for a national row, else the governorate's
    English name with the part it covers ('Ninewa — Tal Afar city only')."""
    if is_national(r):
        name = r.get("name_en")
        return NATIONAL_LABEL if _missing(name) or name == NATIONAL_PCODE else str(name)
    return area_label(r.get("name_en") or r.get("governorate_pcode"), r.get("coverage"))


def national_expr(df: pl.DataFrame) -> pl.Expr:
    """Polars expression: the row is national (see ``is_national``)."""
    if "area_level" in df.columns:
        return pl.when(pl.col("area_level").is_not_null()).then(pl.col("area_level") == "national").otherwise(
            pl.col("governorate_pcode") == NATIONAL_PCODE
        )
    return pl.col("governorate_pcode") == NATIONAL_PCODE


def split_national(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(governorate rows, national rows) of an estimate frame."""
    if df.is_empty():
        return df, df
    flag = national_expr(df)
    return df.filter(~flag), df.filter(flag)


def fmt_weight(v: Any) -> str:
    """A survey weight or a weight ratio: '1,587.6', '114.4'."""
    if _missing(v):
        return DASH
    return f"{v:,.1f}" if abs(v) >= 10 else f"{v:,.2f}"


def extreme_weights_label(flag: Any, ratio: Any, threshold: Any = None) -> str:
    """'⚠ extreme weights (max/median 114.4 > 10)', 'no (max/median 2.0)', '–' when unknown."""
    if _missing(flag) and _missing(ratio):
        return DASH
    limit = "" if _missing(threshold) else f" > {threshold:g}"
    if flag:
        return f"⚠ extreme weights (max/median {fmt_weight(ratio)}{limit})"
    return f"no (max/median {fmt_weight(ratio)})" if not _missing(ratio) else "no"


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
    """Explorer table: one row per area (x disaggregation value), formatted, national rows
    ('Iraq (national)') first as given by the query; 'Approval' is 'approved' or a
    'provisional …' label. 'CI method', 'Single-PSU rule', 'PSUs' and 'Extreme weights' state
    the design behind each estimate (all blank for a suppressed row except the wave's rule); 'Scale'
    names the wave's own scale when it has one (blank = the question bank's scale)."""
    df = mask_suppressed(df)
    out = []
    for r in _rows(df):
        kind, unit = r.get("indicator_type"), r.get("unit")
        out.append(
            {
                "Area": area_name(r),
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
                "CI method": ci_method_label(r.get("ci_method")),
                "Scale": scale_label(r.get("scale_note")),
                "Single-PSU rule": single_psu_label(r.get("single_psu_rule")),
                "PSUs": r.get("n_psu"),
                "Extreme weights": extreme_weights_label(
                    r.get("has_extreme_weights"), r.get("weight_ratio_max_median")
                ),
                "Status": status_label(
                    r["is_suppressed"], r.get("suppression_reason"), r.get("is_unreliable")
                ),
                "Data": data_label(r.get("is_synthetic")),
                "Approval": approval_label(r.get("approval_status"), r.get("is_approved", False)),
                "P-code": r.get("governorate_pcode"),
            }
        )
    schema = {
        "Area": pl.String, "Arabic name": pl.String, "Group": pl.String,
        "Estimate": pl.String, "95% CI": pl.String, "SE": pl.String, "n": pl.Int64,
        "n eff.": pl.String, "Design effect": pl.String, "Excluded share": pl.String,
        "CI method": pl.String, "Scale": pl.String, "Single-PSU rule": pl.String, "PSUs": pl.Int64,
        "Extreme weights": pl.String, "Status": pl.String, "Data": pl.String, "Approval": pl.String,
        "P-code": pl.String,
    }
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


EXPORT_COLUMNS = [
    "indicator_id", "indicator_name", "unit", "source_id", "wave_id", "data", "approval_status",
    "governorate_pcode", "name_en", "name_ar", "area_level", "coverage", "scale_note", "disaggregation",
    "disaggregation_value", "estimate", "ci_lower", "ci_upper", "std_error", "ci_method",
    "degrees_of_freedom", "n_unweighted", "n_effective", "design_effect", "excluded_share",
    "single_psu_rule", "n_psu", "n_singleton_strata", "weight_ratio_max_median", "has_extreme_weights",
    "is_suppressed", "suppression_reason", "is_unreliable", "status", "estimation_rules",
]


def _with_rules(df: pl.DataFrame, rules_text: str | None) -> pl.DataFrame:
    """The ``estimation_rules`` column: the snapshot's rule sentence on every row."""
    return df.with_columns(pl.lit(rules_text or SUPPRESSION_RULE, dtype=pl.String).alias("estimation_rules"))


def _with_area_level(df: pl.DataFrame) -> pl.DataFrame:
    level = pl.when(national_expr(df)).then(pl.lit("national")).otherwise(pl.lit("governorate"))
    return df.with_columns(level.alias("area_level"))


def estimates_export(df: pl.DataFrame, rules_text: str | None = None) -> pl.DataFrame:
    """CSV export of explorer rows (``EXPORT_COLUMNS``): raw numbers (proportions as fractions);
    every answer-derived statistic of a suppressed row is blank (design facts of its domain too).
    ``area_level`` is 'national' for Iraq as a whole (IQ), else 'governorate'; ``coverage`` is
    blank for governorate-wide sources; ``scale_note`` is blank unless the wave answered on a scale
    of its own; ``approval_status`` is 'approved' or a 'provisional …'
    label; ``estimation_rules`` repeats on every row the rules the numbers were made with
    (``rules_text``, the snapshot's ``dim_estimation_rules.rule_text``)."""
    df = mask_suppressed(df)
    for col, dtype in (("coverage", pl.String), ("scale_note", pl.String), ("single_psu_rule", pl.String)):
        if col not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=dtype).alias(col))
    df = _with_area_level(df)
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
    df = _with_rules(df, rules_text)
    return df.select([c for c in EXPORT_COLUMNS if c in df.columns])


def to_csv_bytes(df: pl.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark so spreadsheet programs read Arabic names correctly."""
    return ("\ufeff" + df.write_csv()).encode("utf-8")


def _is_single_area(r: dict[str, Any]) -> bool:
    """A headline that must not be called a median across governorates: fewer than two
    governorates with a published estimate, or a source covering only part of a governorate."""
    return (r.get("n_governorates") or 0) < 2 or bool(coverage_short(r.get("coverage")))


def _national_published(r: dict[str, Any]) -> bool:
    return bool(r.get("has_national")) and not r.get("national_is_suppressed") and not _missing(
        r.get("national_estimate")
    )


def _spread_text(r: dict[str, Any]) -> str:
    """'median 31.5%, range 10.4% to 53.4% (19 governorates)'; '–' for fewer than two
    governorate-wide estimates."""
    kind, unit = r.get("indicator_type"), r.get("unit")
    n = r.get("n_governorates") or 0
    if n < 2 or coverage_short(r.get("coverage")):
        return DASH
    return (
        f"median {fmt_value(r.get('median_estimate'), kind, unit)}, range "
        f"{fmt_value(r.get('min_estimate'), kind, unit)} to {fmt_value(r.get('max_estimate'), kind, unit)} "
        f"({n} governorates)"
    )


def headline_cells(r: dict[str, Any]) -> dict[str, str]:
    """The headline of one headline_summary row: 'Headline', 'Headline is', 'Range or 95% CI',
    'Across governorates'.

    A wave with a published national estimate (a survey that reached every governorate): that
    design-based estimate with its 95% CI; the median and range of governorates stay as context
    ('Across governorates'). Otherwise, several governorate-wide estimates: their median and
    range. One governorate (or a source covering only part of one): that estimate itself with its
    95% CI, named by its area ('Ninewa — Tal Afar city only'), never 'median across governorates'.
    """
    kind, unit = r.get("indicator_type"), r.get("unit")
    n = r.get("n_governorates") or 0
    short = coverage_short(r.get("coverage"))
    if _national_published(r):
        ci = fmt_ci(r.get("national_ci_lower"), r.get("national_ci_upper"), kind, unit)
        return {
            "Headline": fmt_value(r.get("national_estimate"), kind, unit),
            "Headline is": "design-based national estimate for Iraq",
            "Range or 95% CI": DASH if ci == DASH else f"{ci} (95% CI)",
            "Across governorates": _spread_text(r),
        }
    if r.get("has_published") is False or n == 0:
        return {
            "Headline": DASH,
            "Headline is": "no published estimate in any wave (all cells suppressed)",
            "Range or 95% CI": DASH,
            "Across governorates": DASH,
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
            "Across governorates": DASH,
        }
    rng = f"{fmt_value(r.get('min_estimate'), kind, unit)} to {fmt_value(r.get('max_estimate'), kind, unit)}"
    what = f"median of {n} governorate estimates"
    if short:
        what += f" (each covers only part of its governorate: {short})"
    return {
        "Headline": fmt_value(r.get("median_estimate"), kind, unit),
        "Headline is": what,
        "Range or 95% CI": f"{rng} (range)",
        "Across governorates": DASH,
    }


def headline_display(summary: pl.DataFrame) -> pl.DataFrame:
    """Overview: one row per indicator x source (latest wave with a published estimate), in the
    summary's order (by sector); 'Sector' is the question bank's display name; the 'Approval' column
    labels a provisional headline wave. 'Governorates with an estimate' counts governorates only
    (never the national estimate). 'Scale' says when the headline wave answered on a scale of its own
    ('4-point scale, top box (source codes 1, 2)'); blank = the question bank's scale."""
    out = []
    for r in _rows(summary):
        flags = []
        if r.get("n_unreliable"):
            flags.append(f"{r['n_unreliable']} unreliable")
        if r.get("n_suppressed"):
            flags.append(f"{r['n_suppressed']} suppressed")
        if r.get("has_national") and r.get("national_is_suppressed"):
            reason = r.get("national_suppression_reason")
            flags.append("national estimate suppressed" + (f" ({reason})" if reason else ""))
        elif _national_published(r) and r.get("national_is_unreliable"):
            flags.append("national estimate unreliable (wide CI)")
        cells = headline_cells(r)
        out.append(
            {
                "Sector": sector_label(r.get("sector_name"), r.get("sector")),
                "Indicator": r.get("indicator_name"),
                "Source · wave": f"{r['source_id']} · {r['wave_id']}",
                "Data": data_label(r.get("is_synthetic")),
                "Approval": approval_label(r.get("approval_status"), r.get("is_approved", False)),
                "Coverage": coverage_short(r.get("coverage")) or "governorate-wide",
                "Governorates with an estimate": r.get("n_governorates"),
                "Headline": cells["Headline"],
                "Headline is": cells["Headline is"],
                "Scale": scale_label(r.get("scale_note")),
                "Range or 95% CI": cells["Range or 95% CI"],
                "Across governorates": cells["Across governorates"],
                "Flags": ", ".join(flags) if flags else DASH,
                "Direction": direction_label(r.get("direction")),
                "Waves": r.get("n_waves"),
            }
        )
    schema = {
        "Sector": pl.String, "Indicator": pl.String, "Source · wave": pl.String, "Data": pl.String,
        "Approval": pl.String, "Coverage": pl.String, "Governorates with an estimate": pl.Int64,
        "Headline": pl.String, "Headline is": pl.String, "Scale": pl.String, "Range or 95% CI": pl.String,
        "Across governorates": pl.String, "Flags": pl.String, "Direction": pl.String, "Waves": pl.Int64,
    }
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


def _national_cell(s: dict[str, Any]) -> str:
    """The national estimate of a headline row for the governorate table: '32.3% (30.5–34.2%)'."""
    kind, unit = s.get("indicator_type"), s.get("unit")
    if not s.get("has_national"):
        return "n/a (no national estimate)"
    if s.get("national_is_suppressed") or _missing(s.get("national_estimate")):
        reason = s.get("national_suppression_reason")
        return f"suppressed ({reason})" if reason else "suppressed"
    ci = fmt_ci(s.get("national_ci_lower"), s.get("national_ci_upper"), kind, unit)
    return fmt_value(s.get("national_estimate"), kind, unit) + ("" if ci == DASH else f" ({ci})")


def governorate_snapshot(summary: pl.DataFrame, estimates: pl.DataFrame, pcode: str) -> pl.DataFrame:
    """Overview: the chosen governorate's estimate for each headline (latest-wave) row, beside
    the median across governorates and the national estimate of the same wave.

    'Area' names what the estimate covers ('Ninewa — Tal Afar city only' for a city survey).
    'Median across governorates' is 'n/a' when the source has fewer than two governorate-wide
    estimates (a median of one area is not a median across governorates); 'Iraq (national)' is
    the national estimate with its 95% CI, or why there is none.
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
                "Scale": scale_label(s.get("scale_note")),
                "Status": status,
                "Median across governorates": median,
                NATIONAL_LABEL: _national_cell(s),
            }
        )
    schema = dict.fromkeys(
        ["Indicator", "Source · wave", "Data", "Approval", "Area", "Estimate", "95% CI", "Scale", "Status",
         "Median across governorates", NATIONAL_LABEL],
        pl.String,
    )
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


def wave_medians(estimates: pl.DataFrame) -> pl.DataFrame:
    """Median of published **governorate** estimates (never the national one) per indicator x
    source x wave."""
    est, _ = split_national(mask_suppressed(estimates))
    return (
        est.filter(pl.col("estimate").is_not_null())
        .group_by("indicator_id", "source_id", "wave_id")
        .agg(
            pl.col("estimate").median().alias("median_estimate"),
            pl.col("governorate_pcode").n_unique().alias("n_governorates"),
        )
    )


# --------------------------------------------------------------------------------------
# change between waves
# --------------------------------------------------------------------------------------
MINUS = "\u2212"
CHANGE_NOT_SIGNIFICANT = "no significant change"


def _signed(v: float, decimals: int = 1) -> str:
    """'+4.0', '−3.5', '0.0'; a value that rounds to 0 keeps its sign ('+0.0', '−0.0')."""
    text = f"{abs(v):.{decimals}f}"
    if v > 0:
        return "+" + text
    if v < 0:
        return MINUS + text
    return text


def change_unit(kind: Any, unit: Any) -> tuple[float, str]:
    """(scale, unit word) of a difference: percentage points for proportions, the unit for means."""
    if is_proportion(kind, unit):
        return 100.0, "points"
    return 1.0, unit_suffix(unit).strip() or "units"


def change_ci_text(r: dict[str, Any]) -> str:
    """'95% CI −6.1 to −1.0 points' ('–' when not comparable)."""
    if not r.get("is_comparable", True) or _missing(r.get("ci_lower")) or _missing(r.get("ci_upper")):
        return DASH
    scale, word = change_unit(r.get("indicator_type"), r.get("unit"))
    return f"{_signed(r['ci_lower'] * scale)} to {_signed(r['ci_upper'] * scale)} {word}"


def change_text(r: dict[str, Any]) -> str:
    """How a screen words one change between waves (the issue's rule: never call a change that is
    not significant a change).

    Not comparable (a side suppressed, or no standard error): 'no comparison: <reason>', no
    number. Not significant: 'no significant change (95% CI −3.5 to +1.2 points)', never a
    direction. Significant: 'rose by 4.0 points (95% CI +0.1 to +7.9)', with ' — an improvement'
    / ' — a deterioration' when the indicator has a direction of good change. Proportions in
    percentage points, means in their unit.
    """
    if not r.get("is_comparable", True) or _missing(r.get("difference")) or r.get("is_significant") is None:
        reason = r.get("not_comparable_reason") or "not comparable"
        return f"no comparison: {reason}"
    scale, word = change_unit(r.get("indicator_type"), r.get("unit"))
    ci = f"{_signed(r['ci_lower'] * scale)} to {_signed(r['ci_upper'] * scale)}"
    if not r["is_significant"]:
        return f"{CHANGE_NOT_SIGNIFICANT} (95% CI {ci} {word})"
    diff = r["difference"]
    verb = "rose" if diff > 0 else "fell"
    text = f"{verb} by {abs(diff) * scale:.1f} {word} (95% CI {ci})"
    direction = r.get("direction")
    if direction in ("higher_is_better", "lower_is_better"):
        good = (diff > 0) == (direction == "higher_is_better")
        text += " — an improvement" if good else " — a deterioration"
    return text


def significance_label(r: dict[str, Any]) -> str:
    if not r.get("is_comparable", True) or r.get("is_significant") is None:
        return DASH
    return "yes" if r["is_significant"] else "no"


def change_approval_label(r: dict[str, Any]) -> str:
    """'approved' when both waves are; else 'provisional (2025 not approved)' (names each wave that
    is not approved, with its status: '2024 not approved (approval revoked)')."""
    parts = []
    for side in ("from", "to"):
        if r.get(f"is_approved_{side}") is True:
            continue
        label = approval_label(r.get(f"approval_status_{side}"), False)
        detail = label[len(PROVISIONAL_LABEL):].strip()
        parts.append(f"{r.get(f'wave_{side}')} not approved" + (f" {detail}" if detail else ""))
    return APPROVED_LABEL if not parts else f"{PROVISIONAL_LABEL} ({'; '.join(parts)})"


def _masked_change(r: dict[str, Any]) -> dict[str, Any]:
    """A change row with its numbers blanked unless comparable (belt and braces: the query does it)."""
    if r.get("is_comparable") is True and not _missing(r.get("difference")):
        return r
    return {**r, **dict.fromkeys(
        ("estimate_from", "estimate_to", "difference", "std_error", "degrees_of_freedom", "ci_lower",
         "ci_upper", "is_significant")), "is_comparable": False}


def latest_changes(changes: pl.DataFrame, keys: pl.DataFrame, pcode: str | None,
                   approved_only: bool) -> pl.DataFrame:
    """Overview: for each indicator x source of ``keys`` (headline rows), the change between its two
    latest waves (the latest pair in ``changes``; with ``approved_only`` the latest pair whose both
    waves are approved) for the governorate ``pcode`` and for the national level. Governorate row
    first, then Iraq (national)."""
    if changes.is_empty() or keys.is_empty():
        return changes.clear()
    areas = [NATIONAL_PCODE] if pcode is None else [pcode, NATIONAL_PCODE]
    df = changes.join(keys.select("indicator_id", "source_id").unique(), on=["indicator_id", "source_id"])
    df = df.filter(pl.col("governorate_pcode").is_in(areas) & (pl.col("disaggregation") == "all"))
    if approved_only:
        df = df.filter(pl.col("is_approved"))
    if df.is_empty():
        return df
    latest = df.group_by("indicator_id", "source_id").agg(pl.col("wave_to_order").max().alias("_latest"))
    df = df.join(latest, on=["indicator_id", "source_id"]).filter(
        pl.col("wave_to_order") == pl.col("_latest")
    ).drop("_latest")
    return df.with_columns(national_expr(df).alias("_nat")).sort(
        "indicator_name", "source_id", "_nat"
    ).drop("_nat")


def changes_display(df: pl.DataFrame, overview: bool = False) -> pl.DataFrame:
    """A table of changes between waves, worded by ``change_text`` (no number for a pair with a
    suppressed side, no direction for a change that is not significant).

    Overview (``overview=True``): Indicator, Source, Waves, Data, Approval, Area, Earlier, Later,
    Change. Explorer: Area, Group, Waves, Earlier, Later, Change, 'Difference, 95% CI', SE, df,
    'Significant (95%)', Status, Data, Approval, P-code.
    """
    out = []
    for r in _rows(df):
        r = _masked_change(r)
        kind, unit = r.get("indicator_type"), r.get("unit")
        row = {
            "Area": area_name(r),
            "Group": disaggregation_label(r.get("disaggregation"), r.get("disaggregation_value")),
            "Waves": f"{r.get('wave_from')} → {r.get('wave_to')}",
            "Earlier": fmt_value(r.get("estimate_from"), kind, unit),
            "Later": fmt_value(r.get("estimate_to"), kind, unit),
            "Change": change_text(r),
        }
        if overview:
            out.append({
                "Indicator": r.get("indicator_name"), "Source": r.get("source_id"), "Waves": row["Waves"],
                "Data": data_label(r.get("is_synthetic")), "Approval": change_approval_label(r),
                "Area": row["Area"], "Earlier": row["Earlier"], "Later": row["Later"], "Change": row["Change"],
            })
            continue
        se = r.get("std_error")
        out.append({
            **row,
            "Difference, 95% CI": change_ci_text(r),
            "SE": DASH if _missing(se) else fmt_se(se, kind, unit),
            "df": r.get("degrees_of_freedom"),
            "Significant (95%)": significance_label(r),
            "Data": data_label(r.get("is_synthetic")),
            "Approval": change_approval_label(r),
            "P-code": r.get("governorate_pcode"),
        })
    if overview:
        schema = dict.fromkeys(
            ["Indicator", "Source", "Waves", "Data", "Approval", "Area", "Earlier", "Later", "Change"], pl.String
        )
    else:
        schema = {
            "Area": pl.String, "Group": pl.String, "Waves": pl.String, "Earlier": pl.String, "Later": pl.String,
            "Change": pl.String, "Difference, 95% CI": pl.String, "SE": pl.String, "df": pl.Int64,
            "Significant (95%)": pl.String, "Data": pl.String, "Approval": pl.String, "P-code": pl.String,
        }
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


CHANGE_EXPORT_COLUMNS = [
    "indicator_id", "indicator_name", "unit", "source_id", "wave_from", "wave_to", "data",
    "approval_status", "governorate_pcode", "name_en", "area_level", "coverage", "disaggregation",
    "disaggregation_value", "estimate_from", "estimate_to", "difference", "std_error",
    "degrees_of_freedom", "ci_lower", "ci_upper", "is_significant", "not_comparable_reason",
    "change", "estimation_rules",
]


def changes_export(df: pl.DataFrame, rules_text: str | None = None) -> pl.DataFrame:
    """CSV of changes (``CHANGE_EXPORT_COLUMNS``): raw numbers (proportions as fractions:
    0.05 = 5 points), blank for a pair that is not comparable (``not_comparable_reason`` says
    why); ``change`` is the sentence the screen shows; ``approval_status`` 'approved' only when
    both waves are; ``estimation_rules`` on every row."""
    rows = [_masked_change(r) for r in _rows(df)]
    out = []
    for r in rows:
        out.append({
            **{c: r.get(c) for c in CHANGE_EXPORT_COLUMNS if c in r},
            "area_level": "national" if is_national(r) else "governorate",
            "data": data_label(r.get("is_synthetic")),
            "approval_status": change_approval_label(r),
            "change": change_text(r),
        })
    schema = {
        "indicator_id": pl.String, "indicator_name": pl.String, "unit": pl.String, "source_id": pl.String,
        "wave_from": pl.String, "wave_to": pl.String, "data": pl.String, "approval_status": pl.String,
        "governorate_pcode": pl.String, "name_en": pl.String, "area_level": pl.String, "coverage": pl.String,
        "disaggregation": pl.String, "disaggregation_value": pl.String, "estimate_from": pl.Float64,
        "estimate_to": pl.Float64, "difference": pl.Float64, "std_error": pl.Float64,
        "degrees_of_freedom": pl.Int64, "ci_lower": pl.Float64, "ci_upper": pl.Float64,
        "is_significant": pl.Boolean, "not_comparable_reason": pl.String, "change": pl.String,
    }
    frame = pl.DataFrame(
        [{c: r.get(c) for c in schema} for r in out], schema=schema, orient="row"
    ) if out else pl.DataFrame(schema=schema)
    return _with_rules(frame, rules_text).select(CHANGE_EXPORT_COLUMNS)


# --------------------------------------------------------------------------------------
# answer distributions
# --------------------------------------------------------------------------------------
_DOMAIN = ["governorate_pcode", "disaggregation", "disaggregation_value"]


def distribution_domains(df: pl.DataFrame) -> list[dict[str, Any]]:
    """One dict per area x group of a ``queries.response_distribution`` frame, in its order:
    the area's identifiers and names, ``is_suppressed``, ``suppression_reason``, ``n_unweighted``,
    and ``shares`` (rows in scale order; empty for a suppressed distribution — hidden whole)."""
    out: dict[tuple, dict[str, Any]] = {}
    for r in _rows(df):
        key = tuple(r.get(c) for c in _DOMAIN)
        d = out.get(key)
        if d is None:
            d = out[key] = {**{k: r.get(k) for k in (
                "governorate_pcode", "name_en", "name_ar", "area_level", "coverage", "disaggregation",
                "disaggregation_value", "is_synthetic", "approval_status", "is_approved", "n_unweighted",
            )}, "is_suppressed": False, "suppression_reason": None, "shares": []}
        if r.get("is_suppressed") is not False:
            d["is_suppressed"] = True
            d["suppression_reason"] = d["suppression_reason"] or r.get("suppression_reason")
        d["shares"].append(r)
    for d in out.values():
        if d["is_suppressed"]:
            d["shares"] = []  # a distribution is hidden whole: no share at all
        else:
            d["shares"].sort(key=lambda s: (s.get("choice_order") is None, s.get("choice_order") or 0))
    return list(out.values())


def distribution_choices(df: pl.DataFrame) -> list[tuple[str, int | None]]:
    """The answer codes of a distribution frame in scale order: [(choice_code, choice_order)]."""
    if df.is_empty():
        return []
    pairs = df.select("choice_code", "choice_order").unique().sort("choice_order", "choice_code", nulls_last=True)
    return [(c, o) for c, o in pairs.iter_rows()]


def distribution_display(df: pl.DataFrame) -> pl.DataFrame:
    """Explorer table of an answer distribution: one row per area x group x answer (Share and its
    95% CI); a suppressed distribution is one row, 'all answers', with no share at all."""
    out = []
    for d in distribution_domains(df):
        base = {
            "Area": area_name(d),
            "Arabic name": d.get("name_ar") or "",
            "Group": disaggregation_label(d.get("disaggregation"), d.get("disaggregation_value")),
        }
        tail = {"Data": data_label(d.get("is_synthetic")),
                "Approval": approval_label(d.get("approval_status"), d.get("is_approved", False)),
                "P-code": d.get("governorate_pcode")}
        if d["is_suppressed"]:
            status = status_label(True, d.get("suppression_reason"), False)
            out.append({**base, "Answer": "all answers", "Share": status, "95% CI": DASH,
                        "n": d.get("n_unweighted"), "Status": status, **tail})
            continue
        for sh in d["shares"]:
            out.append({
                **base,
                "Answer": choice_label(sh.get("choice_code")),
                "Share": fmt_pct(sh.get("estimate")),
                "95% CI": fmt_ci(sh.get("ci_lower"), sh.get("ci_upper"), "proportion"),
                "n": sh.get("n_unweighted"),
                "Status": status_label(False, None, sh.get("is_unreliable")),
                **tail,
            })
    schema = {
        "Area": pl.String, "Arabic name": pl.String, "Group": pl.String, "Answer": pl.String,
        "Share": pl.String, "95% CI": pl.String, "n": pl.Int64, "Status": pl.String, "Data": pl.String,
        "Approval": pl.String, "P-code": pl.String,
    }
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


DISTRIBUTION_EXPORT_COLUMNS = [
    "indicator_id", "indicator_name", "source_id", "wave_id", "data", "approval_status",
    "governorate_pcode", "name_en", "name_ar", "area_level", "coverage", "disaggregation",
    "disaggregation_value", "choice_order", "choice_code", "choice_label", "estimate", "ci_lower",
    "ci_upper", "std_error", "ci_method", "degrees_of_freedom", "n_unweighted", "n_effective",
    "design_effect", "excluded_share", "single_psu_rule", "is_suppressed", "suppression_reason",
    "is_unreliable", "status", "estimation_rules",
]


def distribution_export(df: pl.DataFrame, rules_text: str | None = None) -> pl.DataFrame:
    """CSV of an answer distribution (``DISTRIBUTION_EXPORT_COLUMNS``): one row per area x group x
    answer with the share as a fraction and its CI; a suppressed distribution is **one** row with
    no answer code and no statistic (identifiers, n, status and reason only)."""
    out = []
    first = next(iter(_rows(df.head(1))), {})
    for d in distribution_domains(df):
        shares = d["shares"] or [None]
        for sh in shares:
            row = {k: d.get(k) for k in ("governorate_pcode", "name_en", "name_ar", "coverage", "disaggregation",
                                         "disaggregation_value", "n_unweighted")}
            row.update(
                indicator_id=first.get("indicator_id"), indicator_name=first.get("indicator_name"),
                source_id=first.get("source_id"), wave_id=first.get("wave_id"),
                data=data_label(d.get("is_synthetic")),
                approval_status=approval_label(d.get("approval_status"), d.get("is_approved", False)),
                area_level="national" if is_national(d) else "governorate",
                is_suppressed=d["is_suppressed"],
                suppression_reason=d.get("suppression_reason") if d["is_suppressed"] else None,
            )
            if sh is None:
                row.update(choice_label="all answers (suppressed)",
                           status=status_label(True, d.get("suppression_reason"), False))
            else:
                row.update({k: sh.get(k) for k in (
                    "choice_order", "choice_code", "estimate", "ci_lower", "ci_upper", "std_error", "ci_method",
                    "degrees_of_freedom", "n_unweighted", "n_effective", "design_effect", "excluded_share",
                    "single_psu_rule", "is_unreliable")})
                row.update(choice_label=choice_label(sh.get("choice_code")),
                           status=status_label(False, None, sh.get("is_unreliable")))
            out.append(row)
    schema = {
        "indicator_id": pl.String, "indicator_name": pl.String, "source_id": pl.String, "wave_id": pl.String,
        "data": pl.String, "approval_status": pl.String, "governorate_pcode": pl.String, "name_en": pl.String,
        "name_ar": pl.String, "area_level": pl.String, "coverage": pl.String, "disaggregation": pl.String,
        "disaggregation_value": pl.String, "choice_order": pl.Int64, "choice_code": pl.String,
        "choice_label": pl.String, "estimate": pl.Float64, "ci_lower": pl.Float64, "ci_upper": pl.Float64,
        "std_error": pl.Float64, "ci_method": pl.String, "degrees_of_freedom": pl.Int64,
        "n_unweighted": pl.Int64, "n_effective": pl.Float64, "design_effect": pl.Float64,
        "excluded_share": pl.Float64, "single_psu_rule": pl.String, "is_suppressed": pl.Boolean,
        "suppression_reason": pl.String, "is_unreliable": pl.Boolean, "status": pl.String,
    }
    frame = pl.DataFrame([{c: r.get(c) for c in schema} for r in out], schema=schema, orient="row") \
        if out else pl.DataFrame(schema=schema)
    return _with_rules(frame, rules_text).select(DISTRIBUTION_EXPORT_COLUMNS)


# --------------------------------------------------------------------------------------
# survey designs (Data quality)
# --------------------------------------------------------------------------------------
def designs_display(waves: pl.DataFrame, extreme_ratio: Any = None) -> pl.DataFrame:
    """``queries.waves`` as the Data quality page's "Survey designs" table: one row per wave with
    the strata as delivered and the single-PSU strata with the rule applied, variance strata /
    PSUs / df, weight method, post-stratification, min / median / max weight, max/median ratio
    and the extreme-weights flag (threshold ``extreme_ratio``, the snapshot's rule)."""
    out = []
    for w in _rows(waves):
        rule = w.get("single_psu_rule")
        singles = w.get("n_singleton_strata_delivered")
        out.append({
            "Source": w.get("source_id"),
            "Wave": w.get("wave_id"),
            "Data": data_label(w.get("is_synthetic")),
            "Respondents": w.get("n_respondents"),
            "Strata delivered": w.get("n_strata_delivered"),
            "Single-PSU strata delivered": singles,
            "Single-PSU rule": single_psu_label(rule),
            "Variance strata": w.get("n_strata"),
            "Single-PSU strata left": w.get("n_singleton_strata"),
            "PSUs": w.get("n_psu"),
            "df": w.get("degrees_of_freedom"),
            "Weight method": DASH if _missing(w.get("weight_method"))
            else WEIGHT_METHOD_LABELS.get(str(w["weight_method"]), words(w["weight_method"]).lower()),
            "Post-stratification": DASH if _missing(w.get("post_stratify"))
            else POST_STRATIFY_LABELS.get(str(w["post_stratify"]), words(w["post_stratify"]).lower()),
            "Weight min": fmt_weight(w.get("weight_min")),
            "Weight median": fmt_weight(w.get("weight_median")),
            "Weight max": fmt_weight(w.get("weight_max")),
            "Max / median": fmt_weight(w.get("weight_ratio_max_median")),
            "Extreme weights": extreme_weights_label(
                w.get("has_extreme_weights"), w.get("weight_ratio_max_median"), extreme_ratio
            ),
            "Effective n (Kish)": fmt_number(w.get("n_effective"), 1),
            "National estimates": DASH if w.get("has_national_estimates") is None
            else ("yes" if w["has_national_estimates"] else "no"),
        })
    schema = {
        "Source": pl.String, "Wave": pl.String, "Data": pl.String, "Respondents": pl.Int64,
        "Strata delivered": pl.Int64, "Single-PSU strata delivered": pl.Int64, "Single-PSU rule": pl.String,
        "Variance strata": pl.Int64, "Single-PSU strata left": pl.Int64, "PSUs": pl.Int64, "df": pl.Int64,
        "Weight method": pl.String, "Post-stratification": pl.String, "Weight min": pl.String,
        "Weight median": pl.String, "Weight max": pl.String, "Max / median": pl.String,
        "Extreme weights": pl.String, "Effective n (Kish)": pl.String, "National estimates": pl.String,
    }
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


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


NO_BUDGET_LAW = "no budget law"
PARTIAL = "partial"


def no_law_years(fiscal: pl.DataFrame | None) -> set[int]:
    """Fiscal years without a federal budget law: those of ``marts.dim_fiscal_year`` whose ``budget_law`` is
    false; for a warehouse that predates the table (``fiscal`` empty or None), ``NO_BUDGET_LAW_YEARS``."""
    if fiscal is None or fiscal.is_empty() or "budget_law" not in fiscal.columns:
        return set(NO_BUDGET_LAW_YEARS)
    return {int(y) for y in fiscal.filter(pl.col("budget_law") == False)["fiscal_year"].to_list()}  # noqa: E712


def budget_law_label(budget_law: Any, year: Any = None, no_law: set[int] | None = None) -> str:
    """'budget law', 'no budget law', or 'not known' (NULL). ``year`` in ``no_law`` reads 'no budget law'
    when the row carries no flag (an older warehouse)."""
    if budget_law is False or (budget_law is None and year is not None and no_law and int(year) in no_law):
        return NO_BUDGET_LAW
    if budget_law is True:
        return "budget law"
    return "not known"


def partial_label(is_partial: Any, period_months: Any = None, coverage: Any = None) -> str:
    """'partial (7 months)', 'partial' (a partial source: not every governorate or item), or 'full year'
    ('–' when the warehouse does not say)."""
    if is_partial:
        months = None if _missing(period_months) else int(period_months)
        return f"{PARTIAL} ({months} months)" if months and months < 12 else PARTIAL
    if is_partial is None:
        return DASH
    return "full year"


def budget_matrix(
    df: pl.DataFrame,
    governorates: pl.DataFrame | None = None,
    *,
    value_col: str = "execution_rate",
    fmt: Any = None,
    scale: float = 100.0,
    no_law: set[int] | None = None,
) -> dict[str, Any]:
    """Governorate x fiscal-year grid of ``value_col`` (execution rates in percent by default), None where
    no data.

    Years run from the first to the last year present, so a year inside the range without
    figures shows as a gap ('no data', or 'no budget law' for a year without a federal budget law:
    ``no_law``, from ``marts.dim_fiscal_year``; by default 2014, 2020 and 2022), never as
    zero. A year without a budget law that does have figures says so beside the value
    ("70.0% · no budget law"), and so does a partial figure ("45.0% (partial)", the hover naming the
    months covered): such a figure is not a whole year. ``governorates`` (e.g. marts.dim_governorate:
    governorate_pcode, name_en, name_ar; its national row, IQ, is left out) adds a row for every
    governorate the source does not cover at all, labelled 'not reported' in every year (grey, never
    zero). ``fmt`` formats a value (default: percent of a fraction), ``scale`` turns it into the
    heatmap's z. Returns dict(governorates=[labels], years=[int], z=[[value|None]], text=[[str]],
    hover=[[str]]); hover adds the as-of date of year-to-date figures.
    """
    fmt = fmt or fmt_pct
    no_law = set(NO_BUDGET_LAW_YEARS) if no_law is None else no_law
    if df.is_empty():
        return {"governorates": [], "years": [], "z": [], "text": [], "hover": []}
    years = list(range(int(df["fiscal_year"].min()), int(df["fiscal_year"].max()) + 1))
    govs = df.select("governorate_pcode", "name_en", "name_ar")
    if governorates is not None and not governorates.is_empty():
        governorates, _ = split_national(governorates)  # Iraq as a whole is not a governorate row
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
                trow.append(NO_BUDGET_LAW if y in no_law else NO_DATA)
                hrow.append(trow[-1])
                continue
            as_of = _fmt_date(r.get("as_of"))
            suffix = f" (year to date, as of {as_of})" if as_of else ""
            value = r.get(value_col)
            if _missing(value):
                zrow.append(None)
                trow.append(NO_RATE if value_col == "execution_rate" else NO_DATA)
            else:
                zrow.append(round(value * scale, 6 if scale == 1 else 1))
                trow.append(fmt(value))
            hover_text = trow[-1]
            if r.get("is_partial"):
                trow[-1] += f" ({PARTIAL})"
                hover_text = f"{trow[-1]}: {partial_label(True, r.get('period_months'))} — not a whole year"
            if budget_law_label(r.get("budget_law"), y, no_law) == NO_BUDGET_LAW:
                trow[-1] += f" · {NO_BUDGET_LAW}"
                hover_text += f" · {NO_BUDGET_LAW}"
            hrow.append(hover_text + suffix)
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


def budget_display(df: pl.DataFrame, no_law: set[int] | None = None) -> pl.DataFrame:
    """Every budget row, formatted. 'As of': the date year-to-date figures refer to. Currency
    and unit are '–' for rows without any amount (only a published rate). 'Budget law': 'no budget law'
    for a year without one (``no_law``, or the row's ``budget_law``); 'Coverage': 'partial (7 months)' /
    'full year' ('–' when the warehouse does not say)."""
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
                "Budget law": budget_law_label(r.get("budget_law"), r.get("fiscal_year"), no_law),
                "Coverage": partial_label(r.get("is_partial"), r.get("period_months"), r.get("coverage")),
                "Data": data_label(r.get("is_synthetic")),
            }
        )
    schema = {
        "Governorate": pl.String, "Arabic name": pl.String, "Fiscal year": pl.Int64,
        "As of": pl.String, "Source": pl.String, "Scope": pl.String, "Allocation": pl.String,
        "Expenditure": pl.String, "Execution rate": pl.String, "Rate is": pl.String,
        "Currency": pl.String, "Unit": pl.String, "Budget law": pl.String, "Coverage": pl.String,
        "Data": pl.String,
    }
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


#: Per-capita measures of ``marts.fct_budget_execution``: (measure, currency) -> column.
PER_CAPITA_COLUMNS = {
    ("expenditure", "IQD"): "expenditure_iqd_per_capita",
    ("expenditure", "USD"): "expenditure_usd_per_capita",
    ("expenditure", "constant IQD"): "expenditure_iqd_real_per_capita",
    ("allocation", "IQD"): "allocation_iqd_per_capita",
    ("allocation", "USD"): "allocation_usd_per_capita",
    ("allocation", "constant IQD"): "allocation_iqd_real_per_capita",
}


def currency_label(currency: str, cpi_base_year: Any = None) -> str:
    """'IQD', 'USD', or 'constant IQD of 2023' (the CPI base year)."""
    from dashboards.i18n import _

    if currency == "constant IQD":
        return _("constant IQD of {year}").format(year=cpi_base_year) if not _missing(cpi_base_year) else _(
            "constant IQD")
    return _(currency)


def fmt_per_capita(v: Any, currency: str = "IQD") -> str:
    """A per-capita amount: IQD without decimals ('12,345'), USD with two ('10.52')."""
    if _missing(v):
        return DASH
    return f"{v:,.2f}" if currency == "USD" else f"{v:,.0f}"


def execution_compare_display(df: pl.DataFrame, no_law: set[int] | None = None) -> pl.DataFrame:
    """Execution against the original allocation (PEFA PI-1) and against the revised allocation, one row
    per governorate and fiscal year of one source and scope, with the budget law and coverage (partial
    figures are labelled, never compared as a whole year)."""
    out = []
    for r in _rows(df.sort("name_en", "fiscal_year")):
        partial = " (partial)" if r.get("is_partial") else ""
        rate, revised = r.get("execution_rate"), r.get("execution_rate_revised")
        out.append({
            "Governorate": gov_label(r.get("name_en") or r.get("governorate_pcode"), r.get("name_ar")),
            "Fiscal year": r.get("fiscal_year"),
            "Budget law": budget_law_label(r.get("budget_law"), r.get("fiscal_year"), no_law),
            "Coverage": partial_label(r.get("is_partial"), r.get("period_months"), r.get("coverage")),
            "Executed / original allocation (PI-1)": fmt_pct(rate) + (partial if not _missing(rate) else ""),
            "Executed / revised allocation": fmt_pct(revised) + (partial if not _missing(revised) else ""),
            "Data": data_label(r.get("is_synthetic")),
        })
    schema = {c: pl.String for c in ("Governorate", "Budget law", "Coverage", "Executed / original allocation (PI-1)",
                                     "Executed / revised allocation", "Data")}
    schema = {"Governorate": pl.String, "Fiscal year": pl.Int64, **schema}
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


def fmt_ratio(v: Any) -> str:
    """A ratio with two decimals ('0.89'); '–' when missing."""
    return DASH if _missing(v) else f"{v:.2f}"


def fmt_change(v: Any) -> str:
    """A relative change in percent with its sign ('+12.5%', '−3.0%')."""
    if _missing(v):
        return DASH
    return f"{'+' if v >= 0 else MINUS}{abs(v) * 100:.1f}%"


PARTIAL_NOT_COMPUTED = "not computed: partial source"
PEFA_DISPLAY_COLUMNS = [
    "Governorate", "Fiscal year", "Budget law", "Coverage", "PI-1 outturn", "PI-2 composition variance",
    "Capital share of expenditure", "Capital share of allocation", "Allocation share / population share",
    "Real change in expenditure", "Real change in allocation", "Data",
]


def pefa_display(df: pl.DataFrame, no_law: set[int] | None = None) -> pl.DataFrame:
    """``marts.fct_budget_pefa`` formatted: PI-1 and PI-2 and the capital shares as percentages with one
    decimal, the allocation-to-population ratio with two decimals, real year-on-year changes as signed
    percentages — or, when the mart says they are not comparable, its reason ("not comparable: no budget
    law in 2022") instead of a number. A partial row says "partial" in Coverage and beside its PI-1, and
    shows no capital share and no allocation/population ratio ("not computed: partial source"): a partial
    source may list only one economic type for a governorate, and the other is not reported, not zero."""
    out = []
    for r in _rows(df):
        partial = bool(r.get("is_partial"))
        reason = r.get("yoy_not_comparable_reason")

        def change(v: Any) -> str:
            if not _missing(v):
                return fmt_change(v)
            return f"not comparable: {reason}" if reason else DASH

        ratio = r.get("allocation_to_population_share_ratio")
        pi1 = fmt_pct(r.get("pefa_pi1_outturn"))
        out.append({
            "Governorate": gov_label(r.get("name_en") or r.get("governorate_pcode"), r.get("name_ar")),
            "Fiscal year": r.get("fiscal_year"),
            "Budget law": budget_law_label(r.get("budget_law"), r.get("fiscal_year"), no_law),
            "Coverage": partial_label(r.get("is_partial"), None, r.get("coverage")),
            "PI-1 outturn": pi1 + (" (partial)" if partial and pi1 != DASH else ""),
            "PI-2 composition variance": fmt_pct(r.get("pefa_pi2_composition_variance")),
            # a partial source that lists only one economic type for a governorate would read as 0 % or
            # 100 % capital: the other type is not reported, not zero
            "Capital share of expenditure": (
                PARTIAL_NOT_COMPUTED if partial else fmt_pct(r.get("capital_share_expenditure"))
            ),
            "Capital share of allocation": (
                PARTIAL_NOT_COMPUTED if partial else fmt_pct(r.get("capital_share_allocation"))
            ),
            "Allocation share / population share": (
                fmt_ratio(ratio) if not _missing(ratio) else (PARTIAL_NOT_COMPUTED if partial else DASH)
            ),
            "Real change in expenditure": change(r.get("real_change_expenditure_yoy")),
            "Real change in allocation": change(r.get("real_change_allocation_yoy")),
            "Data": data_label(r.get("is_synthetic")),
        })
    schema = {c: (pl.Int64 if c == "Fiscal year" else pl.String) for c in PEFA_DISPLAY_COLUMNS}
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


def pefa_export(df: pl.DataFrame) -> pl.DataFrame:
    """The PEFA rows for a CSV: raw numbers (fractions), the not-comparable reason, and ``data``
    (SYNTHETIC demo data / real data) and ``coverage_label`` (partial …) on every row."""
    return df.with_columns(
        pl.col("is_synthetic").map_elements(data_label, return_dtype=pl.String).alias("data"),
        pl.col("is_partial").map_elements(lambda v: partial_label(v), return_dtype=pl.String, skip_nulls=False)
        .alias("coverage_label"),
    )


#: Spending measures of ``marts.fct_service_vs_spending``: (measure, currency) -> column.
SPENDING_COLUMNS = {
    ("expenditure", "IQD"): "expenditure_iqd_per_capita",
    ("expenditure", "constant IQD"): "expenditure_iqd_real_per_capita",
    ("allocation", "IQD"): "allocation_iqd_per_capita",
    ("allocation", "constant IQD"): "allocation_iqd_real_per_capita",
}
#: Columns of the service-vs-spending CSV (suppressed rows: identifiers, n, status and reason only).
SPENDING_EXPORT_COLUMNS = [
    "governorate_pcode", "name_en", "name_ar", "fiscal_year", "budget_source_id", "sector", "sector_name",
    "population", "allocation_iqd_per_capita", "expenditure_iqd_per_capita", "allocation_iqd_real_per_capita",
    "expenditure_iqd_real_per_capita", "cpi_base_year", "budget_law", "is_partial", "indicator_id",
    "indicator_name", "indicator_type", "indicator_unit", "survey_source_id", "wave_id", "fieldwork_midpoint",
    "coverage", "estimate", "std_error", "ci_lower", "ci_upper", "n_unweighted", "is_suppressed",
    "suppression_reason", "is_unreliable", "status", "approval_status", "data",
]
_SPENDING_MASKED = ("estimate", "std_error", "ci_lower", "ci_upper", "is_unreliable")


def mask_spending_suppressed(df: pl.DataFrame) -> pl.DataFrame:
    """Blank the estimate, SE, CI and unreliable flag of every suppressed (or unknown) row again."""
    supp = pl.col("is_suppressed").fill_null(True)
    return df.with_columns(
        pl.when(supp).then(None).otherwise(pl.col(c)).alias(c) for c in _SPENDING_MASKED if c in df.columns
    )


def spending_export(df: pl.DataFrame) -> pl.DataFrame:
    """The service-vs-spending rows for a CSV: raw numbers, suppressed rows without estimate, SE, CI or
    unreliable flag; ``status`` (ok / unreliable / suppressed (reason)), ``approval_status`` and ``data``."""
    df = mask_spending_suppressed(df)
    df = df.with_columns(
        pl.struct("is_suppressed", "suppression_reason", "is_unreliable")
        .map_elements(lambda r: status_label(r["is_suppressed"], r["suppression_reason"], r["is_unreliable"]),
                      return_dtype=pl.String).alias("status"),
        pl.struct("approval_status", "is_approved")
        .map_elements(lambda r: approval_label(r["approval_status"], r["is_approved"]), return_dtype=pl.String)
        .alias("approval_status"),
        pl.col("is_synthetic").map_elements(data_label, return_dtype=pl.String).alias("data"),
    )
    return df.select([c for c in SPENDING_EXPORT_COLUMNS if c in df.columns])


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


FLAG_LABELS = {"soft_duplicate": "soft duplicate (near-identical interviews of one enumerator)"}


def _submission(file_name: Any, row: Any) -> str:
    return DASH if _missing(row) else f"{file_name} · row {row}"


def review_flags_display(df: pl.DataFrame) -> pl.DataFrame:
    """``queries.review_flags`` for the Data quality page: one row per flagged pair — source, wave,
    flag in words, each submission as 'file · row N' with its id, similarity as a percentage of the
    answered fields, the number of fields compared and the detail (rule and enumerator code). No
    answers, no personal data."""
    out = [
        {
            "Source": r.get("source_id"),
            "Wave": r.get("wave_id"),
            "Flag": FLAG_LABELS.get(r.get("flag") or "", words(r.get("flag"))),
            "Submission": _submission(r.get("file_name"), r.get("row_number")),
            "Id": r.get("respondent_id"),
            "Other submission": _submission(r.get("other_file_name"), r.get("other_row_number")),
            "Other id": r.get("other_respondent_id"),
            "Similarity": fmt_pct(r.get("similarity")),
            "Fields compared": r.get("fields_compared"),
            "Detail": r.get("detail") or DASH,
        }
        for r in _rows(df)
    ]
    schema = {"Source": pl.String, "Wave": pl.String, "Flag": pl.String, "Submission": pl.String, "Id": pl.String,
              "Other submission": pl.String, "Other id": pl.String, "Similarity": pl.String,
              "Fields compared": pl.Int64, "Detail": pl.String}
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)


def repeat_groups_display(df: pl.DataFrame) -> pl.DataFrame:
    """``queries.repeat_group_accounts`` formatted: per repeat group of a delivered file, rows read,
    loaded, excluded (with their submission) and quarantined, and whether they balance."""
    checks = [accounting_label(r["accounting_ok"], r["rows_unaccounted"]) for r in _rows(df)]
    return df.select(
        pl.col("source_id").alias("Source"),
        pl.col("file_name").alias("File"),
        pl.col("repeat_group").alias("Repeat group"),
        pl.col("sheet_name").alias("Sheet or file"),
        pl.col("rows_read").alias("Read"),
        pl.col("rows_loaded").alias("Loaded"),
        pl.col("rows_excluded").alias("Excluded"),
        pl.col("rows_quarantined").alias("Quarantined"),
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
