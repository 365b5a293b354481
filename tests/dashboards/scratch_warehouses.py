"""Small hand-written warehouses for the dashboard tests, published as snapshots (the fixtures
are in conftest.py).

``scratch_warehouse`` has every table the dashboard reads (marts.* and audit.*), created with
SQL, with planted cases: suppressed cells with distinctive values (0.123456, 0.654321 and
23.456789 hours) that must never reach the screen, unreliable cells, a synthetic source with two
waves, a real source with one, budget years with no data, a file whose row accounting does not
balance, a superseded survey file, and an empty audit.exclusions table.

The ``audit`` and ``raw`` tables (and the ``audit.wave_approval_status`` view) are created by the
pipeline's own ``pipelines.warehouse.ensure_schema``; every wave is approved unless a builder says
otherwise. ``scratch_warehouse`` and ``sparse_warehouse`` are *pointer* paths: the file was
published with ``pipelines.publish.publish`` into a scratch layout (symlink -> immutable snapshot
with a sidecar, and a journal with the runs of its ``audit.run_log``). ``legacy_warehouse`` is a
plain file with the audit tables of a warehouse from before snapshots and approvals (no
``audit.wave_approval_status``, no ``audit.file_deliveries``, run log and file registry in their
old shapes).

``publish_scratch(pointer, run_id, **build_kwargs)`` builds a warehouse and publishes it behind
``pointer`` (a second call moves the pointer to a new snapshot).

``marts.dim_wave.coverage`` is set for the Tal Afar source only ("Tal Afar city only …"), and
the SIGIR 2009 budget rows carry ``as_of`` 2009-10-13.

The marts are those of the current engine: ``dim_governorate.area_level`` with the national row IQ
("Iraq (national)") and national estimates of ``demo_services`` (both waves); the design columns of
``dim_wave`` and ``fct_service_indicators``; ``dim_estimation_rules`` (thresholds from
``build_warehouse(rules=...)``, default 30 / 30 / 30 points / 130 %); ``fct_indicator_change``
(demo_services 2023-01 -> 2024-01: significant and non-significant changes, and a pair suppressed in
2023-01 that *carries planted numbers*, which the dashboard must not show); and
``fct_response_distribution`` (the answer distribution of the water rating, 2024-01: a suppressed
distribution with planted shares, and one where a single share is flagged suppressed, which must be
hidden whole). Planted values that must never reach a screen or a CSV: ``SUPPRESSED_VALUES`` and
``SUPPRESSED_EXTRA``. ``legacy_warehouse`` keeps the old marts (none of this), for the fallbacks.

``dim_indicator`` carries the question bank's ``sector_name`` / ``sector_order``;
``marts.dim_indicator_wave_scale`` says that demo_services 2023-01 rated water on 4 points
(``SCALE_NOTE``); ``audit.review_flags`` holds one soft-duplicate pair and
``audit.repeat_group_accounts`` two repeat groups, one of which does not balance
(``REVIEW_FLAGS``, ``REPEAT_GROUP_ACCOUNTS``). The legacy warehouse has none of these.

``sparse_warehouse`` has the same tables but no budget rows, no hoh_sex disaggregation, one
wave per source and empty quarantine / dropped-columns / skipped-sources / review-flag /
repeat-group tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from pipelines import publish
from pipelines.warehouse import SCHEMA_VERSION, ensure_schema

# Distinctive values of suppressed cells: the tests assert these never appear anywhere.
SUPPRESSED_VALUES = {
    # (indicator_id, source_id, wave_id, governorate_pcode, disaggregation_value):
    #     (estimate, std_error, ci_lower, ci_upper)
    ("water_service_good", "demo_services", "2023-01", "IQG02", "all"): (0.123456, 0.022222, 0.081111, 0.171111),
    ("water_service_good", "demo_services", "2024-01", "IQG15", "female"): (0.654321, 0.099999, 0.437777, 0.822222),
    ("water_piped_hours_mean", "demo_services", "2024-01", "IQG02", "all"): (23.456789, 1.818181, 19.876543, 27.037035),
}


#: More planted values of hidden cells: the weight ratio of suppressed cells, the numbers a
#: change row with a suppressed side carries in the scratch mart, and the shares of suppressed
#: distributions. None may appear anywhere (raw, scaled to %, or formatted).
SUPPRESSED_WEIGHT_RATIO = 87.654321
PLANTED_CHANGE = {"difference": 0.456544, "std_error": 0.045678, "ci_lower": 0.366111, "ci_upper": 0.546977}
PLANTED_SHARES = {
    "IQG02": (0.101010, 0.212121, 0.313131, 0.242424, 0.131314),  # suppressed whole
    "IQG11": (0.171717, 0.282828, 0.191919, 0.252525, 0.101011),  # one share flagged: hidden whole
}
SUPPRESSED_EXTRA = (
    SUPPRESSED_WEIGHT_RATIO, *PLANTED_CHANGE.values(), *(v for vs in PLANTED_SHARES.values() for v in vs),
)
#: The rule thresholds of the default scratch snapshot (those of dbt_project.yml).
DEFAULT_RULES = {"min_n": 30, "min_n_eff": 30, "ci_width": 0.30, "relative_width": 1.30,
                 "single_psu": "skip", "extreme_ratio": 10.0}


def rule_text(min_n: int = 30, min_n_eff: float = 30, ci_width: float = 0.30, relative_width: float = 1.30,
              **_: Any) -> str:
    """The sentence marts.dim_estimation_rules.rule_text carries (as the dbt model writes it)."""
    return (
        f"Suppression rule: an estimate is suppressed (not shown) when its unweighted n < {min_n} or its "
        f"effective n < {min_n_eff:g}, when no sampling variance can be estimated, or to protect another "
        "suppressed cell (complementary suppression); it is flagged unreliable when its 95% confidence "
        f"interval is {round(ci_width * 100)} percentage points wide or more, or wider than "
        f"{round(relative_width * 100)}% of the estimate (NCHS 2017 style)."
    )


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


#: The marts of a warehouse from before national estimates, rules, changes and distributions.
OLD_SCHEMA_SQL = """
CREATE SCHEMA marts;

CREATE TABLE marts.dim_governorate (
    governorate_pcode VARCHAR, name_en VARCHAR, name_ar VARCHAR, name_ckb VARCHAR,
    region VARCHAR, capital VARCHAR
);
CREATE TABLE marts.dim_indicator (
    indicator_id VARCHAR, version VARCHAR, sector VARCHAR, name_en VARCHAR, name_ar VARCHAR,
    definition VARCHAR, numerator VARCHAR, denominator VARCHAR, unit VARCHAR,
    indicator_type VARCHAR, question_id VARCHAR, source_questions VARCHAR,
    estimation_method VARCHAR, ci_method VARCHAR, suppression_rule VARCHAR, universe VARCHAR,
    direction VARCHAR, disaggregations VARCHAR[]
);
CREATE TABLE marts.dim_wave (
    source_id VARCHAR, wave_id VARCHAR, title VARCHAR, is_synthetic BOOLEAN,
    fieldwork_start DATE, fieldwork_end DATE, n_respondents INTEGER, n_strata INTEGER,
    n_psu INTEGER, degrees_of_freedom INTEGER, unit_of_analysis VARCHAR, weight_note VARCHAR,
    design_note VARCHAR, coverage VARCHAR
);
CREATE TABLE marts.fct_service_indicators (
    indicator_id VARCHAR, source_id VARCHAR, wave_id VARCHAR, governorate_pcode VARCHAR,
    disaggregation VARCHAR, disaggregation_value VARCHAR, estimate DOUBLE, std_error DOUBLE,
    ci_lower DOUBLE, ci_upper DOUBLE, ci_method VARCHAR, degrees_of_freedom INTEGER,
    n_unweighted INTEGER, n_effective DOUBLE, design_effect DOUBLE, excluded_share DOUBLE,
    is_suppressed BOOLEAN, suppression_reason VARCHAR, is_unreliable BOOLEAN,
    is_synthetic BOOLEAN
);
CREATE TABLE marts.fct_budget_execution (
    governorate_pcode VARCHAR, fiscal_year INTEGER, source_id VARCHAR, budget_scope VARCHAR,
    allocation DOUBLE, expenditure DOUBLE, execution_rate DOUBLE, execution_rate_source VARCHAR,
    currency VARCHAR, unit VARCHAR, is_synthetic BOOLEAN, as_of DATE
);
"""

#: The marts of the current engine (columns the dashboard reads; docs/architecture.md).
SCHEMA_SQL = """
CREATE SCHEMA marts;

CREATE TABLE marts.dim_governorate (
    governorate_pcode VARCHAR, area_level VARCHAR, name_en VARCHAR, name_ar VARCHAR, name_ckb VARCHAR,
    region VARCHAR, capital VARCHAR
);
CREATE TABLE marts.dim_indicator (
    indicator_id VARCHAR, version VARCHAR, sector VARCHAR, name_en VARCHAR, name_ar VARCHAR,
    definition VARCHAR, numerator VARCHAR, denominator VARCHAR, unit VARCHAR,
    indicator_type VARCHAR, question_id VARCHAR, source_questions VARCHAR,
    estimation_method VARCHAR, ci_method VARCHAR, suppression_rule VARCHAR, universe VARCHAR,
    direction VARCHAR, disaggregations VARCHAR[]
);
CREATE TABLE marts.dim_wave (
    source_id VARCHAR, wave_id VARCHAR, title VARCHAR, is_synthetic BOOLEAN,
    fieldwork_start DATE, fieldwork_end DATE, n_respondents INTEGER, n_strata INTEGER,
    n_psu INTEGER, degrees_of_freedom INTEGER, unit_of_analysis VARCHAR, weight_note VARCHAR,
    design_note VARCHAR, coverage VARCHAR,
    n_singleton_strata INTEGER, single_psu_rule VARCHAR, n_strata_delivered INTEGER,
    n_singleton_strata_delivered INTEGER, weight_method VARCHAR, post_stratify VARCHAR,
    weight_min DOUBLE, weight_median DOUBLE, weight_max DOUBLE, weight_ratio_max_median DOUBLE,
    has_extreme_weights BOOLEAN, n_effective DOUBLE, has_national_estimates BOOLEAN
);
CREATE TABLE marts.fct_service_indicators (
    indicator_id VARCHAR, source_id VARCHAR, wave_id VARCHAR, governorate_pcode VARCHAR,
    disaggregation VARCHAR, disaggregation_value VARCHAR, estimate DOUBLE, std_error DOUBLE,
    ci_lower DOUBLE, ci_upper DOUBLE, ci_method VARCHAR, degrees_of_freedom INTEGER,
    n_unweighted INTEGER, n_effective DOUBLE, design_effect DOUBLE, excluded_share DOUBLE,
    is_suppressed BOOLEAN, suppression_reason VARCHAR, is_unreliable BOOLEAN,
    is_synthetic BOOLEAN,
    n_psu INTEGER, n_singleton_strata INTEGER, single_psu_rule VARCHAR,
    weight_ratio_max_median DOUBLE, has_extreme_weights BOOLEAN
);
CREATE TABLE marts.fct_budget_execution (
    governorate_pcode VARCHAR, fiscal_year INTEGER, source_id VARCHAR, budget_scope VARCHAR,
    allocation DOUBLE, expenditure DOUBLE, execution_rate DOUBLE, execution_rate_source VARCHAR,
    currency VARCHAR, unit VARCHAR, is_synthetic BOOLEAN, as_of DATE
);
CREATE TABLE marts.dim_estimation_rules (
    confidence_level DOUBLE, suppression_min_n INTEGER, suppression_min_n_eff DOUBLE,
    unreliable_ci_width DOUBLE, unreliable_relative_width DOUBLE, default_single_psu_rule VARCHAR,
    extreme_weight_ratio DOUBLE, rule_text VARCHAR
);
CREATE TABLE marts.fct_indicator_change (
    indicator_id VARCHAR, source_id VARCHAR, wave_from VARCHAR, wave_to VARCHAR,
    governorate_pcode VARCHAR, disaggregation VARCHAR, disaggregation_value VARCHAR,
    estimate_from DOUBLE, estimate_to DOUBLE, difference DOUBLE, std_error DOUBLE,
    degrees_of_freedom INTEGER, ci_lower DOUBLE, ci_upper DOUBLE, is_significant BOOLEAN,
    not_comparable_reason VARCHAR, is_synthetic BOOLEAN
);
CREATE TABLE marts.fct_response_distribution (
    indicator_id VARCHAR, source_id VARCHAR, wave_id VARCHAR, governorate_pcode VARCHAR,
    disaggregation VARCHAR, disaggregation_value VARCHAR, choice_code VARCHAR, choice_order INTEGER,
    estimate DOUBLE, std_error DOUBLE, ci_lower DOUBLE, ci_upper DOUBLE, ci_method VARCHAR,
    degrees_of_freedom INTEGER, n_unweighted INTEGER, n_effective DOUBLE, design_effect DOUBLE,
    excluded_share DOUBLE, single_psu_rule VARCHAR, is_suppressed BOOLEAN, suppression_reason VARCHAR,
    is_unreliable BOOLEAN, is_synthetic BOOLEAN
);
"""
SCALE_SQL = """
CREATE TABLE marts.dim_indicator_wave_scale (
    indicator_id VARCHAR, source_id VARCHAR, wave_id VARCHAR, question_id VARCHAR, scale_points INTEGER,
    scale_box VARCHAR, source_codes VARCHAR, source_scale VARCHAR, scale_note VARCHAR
);
"""
#: The 20 columns of marts.fct_service_indicators common to old and new warehouses (tests that
#: plant a cell name them, so the insert works on both).
FCT_COLUMNS = (
    "indicator_id, source_id, wave_id, governorate_pcode, disaggregation, disaggregation_value, "
    "estimate, std_error, ci_lower, ci_upper, ci_method, degrees_of_freedom, n_unweighted, n_effective, "
    "design_effect, excluded_share, is_suppressed, suppression_reason, is_unreliable, is_synthetic"
)


#: The audit tables of a warehouse from before snapshots, file registry by SHA-256 and approvals.
LEGACY_AUDIT_SQL = """
CREATE SCHEMA audit;
CREATE TABLE audit.run_log (
    run_id VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR,
    data_dir VARCHAR, summary_json VARCHAR
);
CREATE TABLE audit.file_registry (
    run_id VARCHAR, source_id VARCHAR, file_name VARCHAR, file_path VARCHAR,
    file_sha256 VARCHAR, file_bytes BIGINT, loaded_at TIMESTAMP, rows_read INTEGER,
    rows_loaded INTEGER, rows_excluded INTEGER, rows_quarantined INTEGER
);
CREATE TABLE audit.quarantine (
    run_id VARCHAR, source_id VARCHAR, file_name VARCHAR, file_sha256 VARCHAR,
    row_number INTEGER, column_name VARCHAR, value VARCHAR, reason VARCHAR
);
CREATE TABLE audit.exclusions (
    run_id VARCHAR, source_id VARCHAR, file_name VARCHAR, file_sha256 VARCHAR,
    row_number INTEGER, reason VARCHAR
);
CREATE TABLE audit.dropped_columns (
    source_id VARCHAR, file_name VARCHAR, column_name VARCHAR, reason VARCHAR
);
CREATE TABLE audit.skipped_sources (run_id VARCHAR, path VARCHAR, reason VARCHAR);
"""

GOVERNORATES = [
    ("IQG02", "Al-Basrah", "البصرة", "بەسرە", "Federal", "Basra"),
    ("IQG08", "Baghdad", "بغداد", "بەغدا", "Federal", "Baghdad"),
    ("IQG11", "Erbil", "اربيل", "هەولێر", "Kurdistan Region", "Erbil"),
    ("IQG15", "Ninewa", "نينوى", "نەینەوا", "Federal", "Mosul"),
]

_SUPPRESSION_RULE = (
    "Suppressed (not shown) when unweighted n < 30 or Kish effective n < 30. Flagged unreliable "
    "when the 95% CI is 30 percentage points wide or more, or its width exceeds 130% of the estimate."
)
INDICATORS = [
    (
        "water_service_good", "1.0", "water",
        "Municipal water service rated good or excellent",
        "نسبة الأسر التي تقيّم خدمة مياه البلدية بجيدة أو ممتازة",
        "Share of households rating the municipal water supply good or excellent, of those who answered.",
        'Households answering "good" or "excellent" (weighted).',
        "Households giving a substantive rating; don't know / refused excluded.",
        "proportion", "proportion", "water_service_rating", "water_service_rating",
        "Weighted ratio p = sum(w*y)/sum(w); Taylor linearisation, PSUs within strata.",
        "logit", _SUPPRESSION_RULE, "Households asked the question.", "higher_is_better",
        ["all", "hoh_sex"],
    ),
    (
        "water_piped_hours_mean", "1.0", "water",
        "Mean hours of piped water per day",
        "متوسط ساعات توفر المياه من الشبكة في اليوم",
        "Mean number of hours per day that piped water is available, among households using piped water.",
        "Weighted sum of reported hours per day.",
        "Weighted number of households reporting hours (0-24).",
        "hours/day", "mean", "water_piped_hours_per_day", "water_piped_hours_per_day",
        "Weighted mean; Taylor linearisation, PSUs within strata.",
        "t", _SUPPRESSION_RULE, "Households using piped water.", "higher_is_better",
        ["all"],
    ),
]

#: The answer distribution of the water rating (indicator type distribution: no rows in
#: fct_service_indicators, rows in fct_response_distribution).
DISTRIBUTION_INDICATOR = (
    "water_service_rating_distribution", "1.0", "water",
    "Rating of municipal water service (all answers)",
    "تقييم خدمة مياه البلدية (جميع الإجابات)",
    "Distribution of households' ratings of the municipal water supply, of those who answered.",
    "Households giving each answer (weighted).",
    "Households giving a substantive rating.",
    "proportion", "distribution", "water_service_rating", "water_service_rating",
    "Weighted share of each answer; Taylor linearisation, PSUs within strata.",
    "logit", _SUPPRESSION_RULE, "Households asked the question.", None, ["all"],
)
WATER_RATING_CODES = ("excellent", "good", "adequate", "poor", "very_poor")
#: The national row of dim_governorate (new marts only).
NATIONAL_AREA = ("IQ", "national", "Iraq (national)", "العراق (على المستوى الوطني)", "عێراق", None, "Baghdad")

#: marts.dim_wave.coverage of the Tal Afar source (NULL = governorate-wide for the others).
TALAFAR_COVERAGE = "Tal Afar city only (a city in Ninewa), not the whole governorate"

WAVES = [
    ("demo_services", "2023-01", "Demo services survey, wave 1", True, "2023-01-10", "2023-02-05",
     1600, 8, 64, 56, "household", "design weights", "stratified two-stage", None),
    ("demo_services", "2024-01", "Demo services survey, wave 2", True, "2024-01-08", "2024-02-01",
     1610, 8, 64, 56, "household", "design weights", "stratified two-stage", None),
    ("talafar_water_2021", "2021-07", "Tal Afar municipal water survey", False, "2021-07-01",
     "2021-07-31", 632, 6, 632, 626, "household", "derived from sample frame", "stratified by neighbourhood",
     TALAFAR_COVERAGE),
]


#: The design columns of dim_wave (new marts): n_singleton_strata, single_psu_rule,
#: n_strata_delivered, n_singleton_strata_delivered, weight_method, post_stratify, weight_min,
#: weight_median, weight_max, weight_ratio_max_median, has_extreme_weights, n_effective,
#: has_national_estimates. Wave 2024-01 has extreme weights and the certainty_units rule.
WAVE_DESIGN = {
    ("demo_services", "2023-01"): (1, "skip", 8, 1, "delivered", "none", 50.0, 400.0, 2000.0, 5.0, False, 1250.0, True),
    ("demo_services", "2024-01"): (0, "certainty_units", 8, 1, "sample_frame", "governorate_population",
                                   40.0, 320.0, 4000.0, 12.5, True, 1100.0, True),
    ("talafar_water_2021", "2021-07"): (1, "skip", 42, 1, "constant", "none", 1.0, 1.0, 1.0, 1.0, False, 632.0, False),
}


def _cell(ind, src, wave, gov, disagg, value, est, se, lo, hi, n, neff, deff, excl,
          supp=False, reason=None, unrel=False, synth=True, ci_method="logit", df=56):
    return (ind, src, wave, gov, disagg, value, est, se, lo, hi, ci_method, df, n, neff, deff,
            excl, supp, reason, unrel, synth)


def _national_rows(*, hoh_sex: bool, second_wave: bool) -> list[tuple]:
    """National cells (IQ) of demo_services: the surveys reached every governorate (new marts)."""
    W, H = "water_service_good", "water_piped_hours_mean"
    rows = []
    if second_wave:
        rows.append(_cell(W, "demo_services", "2023-01", "IQ", "all", "all", 0.560, 0.010, 0.540, 0.580,
                          1250, 980.0, 1.28, 0.030))
    rows += [
        _cell(W, "demo_services", "2024-01", "IQ", "all", "all", 0.600, 0.011, 0.578, 0.621, 1265, 990.0, 1.30, 0.026),
        _cell(H, "demo_services", "2024-01", "IQ", "all", "all", 13.10, 0.40, 12.30, 13.90, 1000, 800.0, 1.22, 0.012,
              ci_method="t"),
    ]
    if hoh_sex:
        rows += [
            _cell(W, "demo_services", "2024-01", "IQ", "hoh_sex", "male", 0.605, 0.012, 0.581, 0.628, 1000, 790.0, 1.29, 0.020),
            _cell(W, "demo_services", "2024-01", "IQ", "hoh_sex", "female", 0.590, 0.025, 0.540, 0.638, 265, 200.0, 1.31, 0.030),
        ]
    return rows


def _design_facts(cell: tuple) -> tuple:
    """n_psu, n_singleton_strata, single_psu_rule, weight_ratio_max_median, has_extreme_weights of a
    cell (new marts): a suppressed cell carries the planted ratio SUPPRESSED_WEIGHT_RATIO."""
    rule = WAVE_DESIGN[(cell[1], cell[2])][1]
    if cell[16]:
        return (max(1, cell[12] // 12), 0, rule, SUPPRESSED_WEIGHT_RATIO, True)
    ratio = 12.5 if cell[2] == "2024-01" and cell[3] == "IQ" else 3.25
    return (max(1, cell[12] // 12), 0, rule, ratio, ratio > 10)


def _changes() -> list[tuple]:
    """marts.fct_indicator_change, water_service_good demo_services 2023-01 -> 2024-01 ('all'):
    national and Erbil significant, Baghdad and Ninewa not; Basrah suppressed in 2023-01 — with
    planted numbers (the real mart leaves them NULL), which must never be shown."""
    W, S = "water_service_good", "demo_services"

    def row(gov, frm, to, diff, se, lo, hi, sig):
        return (W, S, "2023-01", "2024-01", gov, "all", "all", frm, to, diff, se, 56, lo, hi, sig, None, True)

    return [
        row("IQ", 0.560, 0.600, 0.040, 0.0149, 0.0102, 0.0698, True),
        row("IQG08", 0.610, 0.660, 0.050, 0.0410, -0.0321, 0.1321, False),
        row("IQG15", 0.480, 0.520, 0.040, 0.0482, -0.0566, 0.1366, False),
        row("IQG11", 0.350, 0.770, 0.420, 0.1140, 0.1916, 0.6484, True),
        (W, S, "2023-01", "2024-01", "IQG02", "all", "all",
         SUPPRESSED_VALUES[(W, S, "2023-01", "IQG02", "all")][0], 0.580, PLANTED_CHANGE["difference"],
         PLANTED_CHANGE["std_error"], 56, PLANTED_CHANGE["ci_lower"], PLANTED_CHANGE["ci_upper"], True,
         "suppressed in 2023-01", True),
    ]


#: Published shares of the water-rating distribution, 2024-01 ('all'), excellent .. very poor.
PUBLISHED_SHARES = {
    "IQ": (0.150, 0.450, 0.200, 0.120, 0.080),
    "IQG08": (0.180, 0.480, 0.160, 0.110, 0.070),
    "IQG15": (0.120, 0.400, 0.230, 0.150, 0.100),
}


def _distribution_rows() -> list[tuple]:
    """marts.fct_response_distribution rows (see PUBLISHED_SHARES and PLANTED_SHARES)."""
    out = []
    for gov, shares in [*PUBLISHED_SHARES.items(), *PLANTED_SHARES.items()]:
        n = {"IQ": 1265, "IQG08": 410, "IQG15": 395, "IQG02": 18, "IQG11": 250}[gov]
        for order, (code, share) in enumerate(zip(WATER_RATING_CODES, shares, strict=True), start=1):
            supp = gov == "IQG02" or (gov == "IQG11" and code == "poor")
            reason = ("n < 30" if gov == "IQG02" else "complementary suppression: planted") if supp else None
            out.append((
                "water_service_rating_distribution", "demo_services", "2024-01", gov, "all", "all", code, order,
                share, 0.02, max(share - 0.04, 0.0), min(share + 0.04, 1.0), "logit", 56, n, n * 0.8, 1.2, 0.02,
                "certainty_units", supp, reason, False, True,
            ))
    return out


def _service_rows(*, hoh_sex: bool, second_wave: bool) -> list[tuple]:
    W, H = "water_service_good", "water_piped_hours_mean"
    rows = []
    if second_wave:
        rows += [
            _cell(W, "demo_services", "2023-01", "IQG08", "all", "all", 0.610, 0.030, 0.549, 0.668, 400, 310.5, 1.29, 0.021),
            _cell(W, "demo_services", "2023-01", "IQG15", "all", "all", 0.480, 0.035, 0.412, 0.549, 380, 290.2, 1.31, 0.034),
            _cell(W, "demo_services", "2023-01", "IQG02", "all", "all",
                  *SUPPRESSED_VALUES[(W, "demo_services", "2023-01", "IQG02", "all")],
                  12, 9.2, 1.30, 0.05, supp=True, reason="n < 30"),
            _cell(W, "demo_services", "2023-01", "IQG11", "all", "all", 0.350, 0.110, 0.152, 0.614, 60, 41.0, 1.46, 0.08, unrel=True),
        ]
    rows += [
        _cell(W, "demo_services", "2024-01", "IQG08", "all", "all", 0.660, 0.028, 0.603, 0.713, 410, 322.0, 1.27, 0.019),
        _cell(W, "demo_services", "2024-01", "IQG15", "all", "all", 0.520, 0.033, 0.455, 0.584, 395, 301.7, 1.31, 0.030),
        _cell(W, "demo_services", "2024-01", "IQG02", "all", "all", 0.580, 0.040, 0.500, 0.656, 210, 160.4, 1.31, 0.044),
        _cell(W, "demo_services", "2024-01", "IQG11", "all", "all", 0.770, 0.030, 0.706, 0.823, 250, 199.9, 1.25, 0.012),
        _cell(H, "demo_services", "2024-01", "IQG08", "all", "all", 14.25, 0.60, 13.05, 15.45, 300, 240.0, 1.25, 0.010, ci_method="t"),
        _cell(H, "demo_services", "2024-01", "IQG15", "all", "all", 9.75, 0.80, 8.15, 11.35, 280, 221.0, 1.27, 0.020, ci_method="t"),
        _cell(H, "demo_services", "2024-01", "IQG11", "all", "all", 18.20, 0.50, 17.20, 19.20, 200, 170.0, 1.18, 0.015, ci_method="t"),
        _cell(H, "demo_services", "2024-01", "IQG02", "all", "all",
              *SUPPRESSED_VALUES[(H, "demo_services", "2024-01", "IQG02", "all")],
              20, 14.1, 1.42, 0.06, supp=True, reason="n < 30; effective n < 30", ci_method="t"),
        _cell(W, "talafar_water_2021", "2021-07", "IQG15", "all", "all", 0.444, 0.025, 0.396, 0.493, 632, 540.3, 1.17, 0.061,
              synth=False, df=626),
    ]
    if hoh_sex:
        rows += [
            _cell(W, "demo_services", "2024-01", "IQG08", "hoh_sex", "male", 0.670, 0.030, 0.609, 0.726, 300, 236.0, 1.27, 0.018),
            _cell(W, "demo_services", "2024-01", "IQG08", "hoh_sex", "female", 0.620, 0.060, 0.498, 0.728, 110, 86.0, 1.28, 0.025),
            _cell(W, "demo_services", "2024-01", "IQG15", "hoh_sex", "male", 0.530, 0.036, 0.459, 0.600, 370, 282.0, 1.31, 0.029),
            _cell(W, "demo_services", "2024-01", "IQG15", "hoh_sex", "female",
                  *SUPPRESSED_VALUES[(W, "demo_services", "2024-01", "IQG15", "female")],
                  25, 19.0, 1.32, 0.04, supp=True, reason="n < 30"),
        ]
    return rows


BUDGET_ROWS = [
    # real source: capital budgets in USD million, execution rates as published; the 2009
    # figures are year to date at 2009-10-13 (as_of); covers Baghdad and Ninewa only
    ("IQG08", 2007, "sigir_provincial_capital", "capital", 100.0, 45.0, 0.45, "published", "USD", "USD million", False, None),
    ("IQG08", 2009, "sigir_provincial_capital", "capital", 120.0, 90.0, 0.75, "published", "USD", "USD million", False, "2009-10-13"),
    ("IQG15", 2007, "sigir_provincial_capital", "capital", 50.0, 20.0, 0.40, "published", "USD", "USD million", False, None),
    ("IQG15", 2008, "sigir_provincial_capital", "capital", 60.0, 33.0, 0.55, "published", "USD", "USD million", False, None),
    ("IQG15", 2009, "sigir_provincial_capital", "capital", 70.0, 49.0, 0.70, "published", "USD", "USD million", False, "2009-10-13"),
    # synthetic source: totals in IQD billion, rates computed; 2022 had no budget law
    ("IQG08", 2021, "demo_budget", "total", 500.0, 350.0, 0.70, "computed", "IQD", "IQD billion", True, None),
    ("IQG08", 2023, "demo_budget", "total", 520.0, 416.0, 0.80, "computed", "IQD", "IQD billion", True, None),
    ("IQG11", 2021, "demo_budget", "total", 200.0, 150.0, 0.75, "computed", "IQD", "IQD billion", True, None),
    ("IQG11", 2023, "demo_budget", "total", 210.0, None, None, None, "IQD", "IQD billion", True, None),
]

SHA_2023, SHA_2024, SHA_TALAFAR, SHA_BUDGET = (
    _sha("demo_2023.csv"), _sha("demo_2024.csv"), _sha("talafar export.csv"), _sha("demo_budget.csv"),
)
#: the first delivery of wave 2024-01, replaced by a corrected file (demo_2024.csv) in SCRATCH_RUN_ID
SHA_2024_V0 = _sha("demo_2024_v0.csv")
#: the run that published the scratch snapshot (run-001 published earlier, run-002 failed)
SCRATCH_RUN_ID = "5c7e2a90-1b3d-4f6a-8e2c-9d0b1a2c3e4f"
APPROVER = "Layla Hassan"
LANDING = "/data/landing"


def _files_json(*files: tuple[str, str, str, str, str | None]) -> str:
    keys = ("source_id", "file_name", "file_sha256", "outcome", "supersedes_sha256")
    return json.dumps([dict(zip(keys, f, strict=True)) for f in files])


#: audit.run_log rows written before the snapshot's own run (which on_publish adds).
RUN_LOG = [
    {
        "run_id": "run-001", "kind": "run", "started_at": "2024-05-01 10:00:00",
        "finished_at": "2024-05-01 10:04:30", "status": "published", "data_dir": LANDING,
        "files_json": _files_json(
            ("demo_services", "demo_2023.csv", SHA_2023, "new", None),
            ("demo_services", "demo_2024_v0.csv", SHA_2024_V0, "new", None),
            ("talafar_water_2021", "export.csv", SHA_TALAFAR, "new", None),
        ),
        "rows_read": 1440, "rows_loaded": 1437, "rows_excluded": 0, "rows_quarantined": 3,
        "tests_passed": 41, "tests_failed": 0, "snapshot": "20240501T100430000000Z-run-001",
        "summary_json": '{"sources_loaded": 3, "files": 3}',
    },
    {
        "run_id": "run-002", "kind": "run", "started_at": "2024-05-02 09:00:00",
        "finished_at": "2024-05-02 09:01:00", "status": "failed", "data_dir": LANDING,
        "files_json": _files_json(("demo_budget", "demo_budget.csv", SHA_BUDGET, "new", None)),
        "rows_read": 10, "rows_loaded": 8, "rows_excluded": 0, "rows_quarantined": 1,
        "tests_passed": 40, "tests_failed": 1,
        "message": "dbt test not_null_fct_budget_execution_allocation failed (1 row)",
    },
]
#: the run log row of the run that publishes the scratch snapshot (times and snapshot name added
#: when it is published)
OWN_RUN = {
    "kind": "run", "status": "published", "data_dir": LANDING,
    "files_json": _files_json(
        ("demo_services", "demo_2023.csv", SHA_2023, "unchanged: already registered", None),
        ("demo_services", "demo_2024.csv", SHA_2024,
         f"new, corrects an earlier delivery: supersedes demo_2024_v0.csv ({SHA_2024_V0[:12]}…)", SHA_2024_V0),
        ("talafar_water_2021", "export.csv", SHA_TALAFAR, "unchanged: already registered", None),
        ("demo_budget", "demo_budget.csv", SHA_BUDGET, "new", None),
    ),
    "rows_read": 420, "rows_loaded": 418, "rows_excluded": 0, "rows_quarantined": 1,
    "tests_passed": 42, "tests_failed": 0,
}
FILE_REGISTRY = [
    {"file_sha256": SHA_2023, "domain": "survey", "source_id": "demo_services", "file_name": "demo_2023.csv",
     "file_path": f"{LANDING}/surveys/demo_services/demo_2023.csv",
     "archive_path": f"archive/survey/demo_services/{SHA_2023}/demo_2023.csv", "file_bytes": 120_000,
     "unit": "2023-01", "registered_at": "2024-05-01 10:01:00", "status": "active", "run_id": "run-001",
     "loaded_at": "2024-05-01 10:01:00", "rows_read": 403, "rows_loaded": 400, "rows_excluded": 0,
     "rows_quarantined": 3, "rows_superseded": 0},
    {"file_sha256": SHA_2024_V0, "domain": "survey", "source_id": "demo_services", "file_name": "demo_2024_v0.csv",
     "file_path": f"{LANDING}/surveys/demo_services/demo_2024_v0.csv",
     "archive_path": f"archive/survey/demo_services/{SHA_2024_V0}/demo_2024_v0.csv", "file_bytes": 119_000,
     "unit": "2024-01", "registered_at": "2024-05-01 10:02:00", "status": "superseded",
     "superseded_by": SHA_2024, "superseded_at": "2024-05-03 09:00:10", "run_id": "run-001",
     "loaded_at": "2024-05-01 10:02:00", "rows_read": 405, "rows_loaded": 405, "rows_excluded": 0,
     "rows_quarantined": 0, "rows_superseded": 405},
    {"file_sha256": SHA_TALAFAR, "domain": "survey", "source_id": "talafar_water_2021", "file_name": "export.csv",
     "file_path": f"{LANDING}/surveys/talafar_water_2021/export.csv",
     "archive_path": f"archive/survey/talafar_water_2021/{SHA_TALAFAR}/export.csv", "file_bytes": 1_100_000,
     "unit": "2021-07", "registered_at": "2024-05-01 10:03:00", "status": "active", "run_id": "run-001",
     "loaded_at": "2024-05-01 10:03:00", "rows_read": 632, "rows_loaded": 632, "rows_excluded": 0,
     "rows_quarantined": 0, "rows_superseded": 0},
    {"file_sha256": SHA_2024, "domain": "survey", "source_id": "demo_services", "file_name": "demo_2024.csv",
     "file_path": f"{LANDING}/surveys/demo_services/demo_2024.csv",
     "archive_path": f"archive/survey/demo_services/{SHA_2024}/demo_2024.csv", "file_bytes": 121_000,
     "unit": "2024-01", "registered_at": "2024-05-03 09:00:10", "status": "active", "run_id": SCRATCH_RUN_ID,
     "loaded_at": "2024-05-03 09:00:10", "rows_read": 410, "rows_loaded": 410, "rows_excluded": 0,
     "rows_quarantined": 0, "rows_superseded": 0},
    # does not balance: 10 read, 8 + 0 + 1 accounted for
    {"file_sha256": SHA_BUDGET, "domain": "budget", "source_id": "demo_budget", "file_name": "demo_budget.csv",
     "file_path": f"{LANDING}/budget/demo_budget.csv",
     "archive_path": f"archive/budget/demo_budget/{SHA_BUDGET}/demo_budget.csv", "file_bytes": 2_000,
     "unit": "2021–2023 × 2 governorates", "registered_at": "2024-05-03 09:00:30", "status": "active",
     "run_id": SCRATCH_RUN_ID, "loaded_at": "2024-05-03 09:00:30", "rows_read": 10, "rows_loaded": 8,
     "rows_excluded": 0, "rows_quarantined": 1, "rows_superseded": 0},
]
FILE_DELIVERIES = [
    *(
        {"run_id": "run-001", "seen_at": "2024-05-01 10:00:05", "domain": "survey", "source_id": src,
         "file_name": name, "file_path": f"{LANDING}/surveys/{src}/{name}", "file_sha256": sha, "outcome": "new"}
        for src, name, sha in [("demo_services", "demo_2023.csv", SHA_2023),
                               ("demo_services", "demo_2024_v0.csv", SHA_2024_V0),
                               ("talafar_water_2021", "export.csv", SHA_TALAFAR)]
    ),
    {"run_id": SCRATCH_RUN_ID, "seen_at": "2024-05-03 09:00:05", "domain": "survey", "source_id": "demo_services",
     "file_name": "demo_2023.csv", "file_path": f"{LANDING}/surveys/demo_services/demo_2023.csv",
     "file_sha256": SHA_2023, "outcome": "unchanged: already registered"},
    {"run_id": SCRATCH_RUN_ID, "seen_at": "2024-05-03 09:00:05", "domain": "survey", "source_id": "demo_services",
     "file_name": "demo_2024.csv", "file_path": f"{LANDING}/surveys/demo_services/demo_2024.csv",
     "file_sha256": SHA_2024, "supersedes_sha256": SHA_2024_V0,
     "outcome": f"new, corrects an earlier delivery: supersedes demo_2024_v0.csv ({SHA_2024_V0[:12]}…)"},
    {"run_id": SCRATCH_RUN_ID, "seen_at": "2024-05-03 09:00:05", "domain": "survey",
     "source_id": "talafar_water_2021", "file_name": "export (copy).csv",
     "file_path": f"{LANDING}/surveys/talafar_water_2021/export (copy).csv", "file_sha256": SHA_TALAFAR,
     "outcome": "same content as export.csv (registered 2024-05-01 10:03): loaded once"},
    {"run_id": SCRATCH_RUN_ID, "seen_at": "2024-05-03 09:00:05", "domain": "budget", "source_id": "demo_budget",
     "file_name": "demo_budget.csv", "file_path": f"{LANDING}/budget/demo_budget.csv", "file_sha256": SHA_BUDGET,
     "outcome": "new"},
]
QUARANTINE = [
    ("run-001", "survey", "demo_services", "demo_2023.csv", SHA_2023, 5, "weight", "0", "weight must be > 0"),
    ("run-001", "survey", "demo_services", "demo_2023.csv", SHA_2023, 9, "weight", "-1", "weight must be > 0"),
    ("run-001", "survey", "demo_services", "demo_2023.csv", SHA_2023, 17, "governorate", "Atlantis", "unknown governorate"),
    ("run-001", "survey", "demo_services", "demo_2023.csv", SHA_2023, 17, "weight", "0", "weight must be > 0"),
    (SCRATCH_RUN_ID, "budget", "demo_budget", "demo_budget.csv", SHA_BUDGET, 4, "allocation", "1,,0", "not a number"),
]
DROPPED_COLUMNS = [
    ("run-001", "survey", "talafar_water_2021", "export.csv", "phone_number", "personal data"),
    ("run-001", "survey", "talafar_water_2021", "export.csv", "respondent_name", "personal data"),
]
SKIPPED = [("run-001", "survey", "unknown_firm_2022", "/data/landing/surveys/unknown_firm_2022", "no mapping file")]
#: audit.review_flags: one soft-duplicate pair of the scratch run (ids and rows only, as the pipeline writes).
REVIEW_FLAGS = [
    {"run_id": SCRATCH_RUN_ID, "domain": "survey", "source_id": "demo_services", "wave_id": "2024-01",
     "flag": "soft_duplicate", "file_name": "demo_2024.csv", "row_number": 41, "respondent_id": "uuid-0041",
     "other_file_name": "demo_2024.csv", "other_row_number": 57, "other_respondent_id": "uuid-0057",
     "similarity": 0.962264, "fields_compared": 26,
     "detail": "same enumerator (enumerator = 'E07'); 96.2% of the 26 fields answered by either are identical: the "
               "same household interviewed twice, or an interview copied? Both are loaded; check with the survey firm"},
]
#: audit.repeat_group_accounts: a balanced household roster and a group that does not balance.
REPEAT_GROUP_ACCOUNTS = [
    {"run_id": SCRATCH_RUN_ID, "domain": "survey", "source_id": "demo_services", "file_name": "demo_2024.csv",
     "file_sha256": SHA_2024, "repeat_group": "members", "sheet_name": "demo_2024.csv [members]",
     "rows_read": 1312, "rows_loaded": 1301, "rows_excluded": 7, "rows_quarantined": 4},
    {"run_id": SCRATCH_RUN_ID, "domain": "survey", "source_id": "demo_services", "file_name": "demo_2024.csv",
     "file_sha256": SHA_2024, "repeat_group": "water_points", "sheet_name": "demo_2024.csv [water_points]",
     "rows_read": 90, "rows_loaded": 85, "rows_excluded": 2, "rows_quarantined": 1},
]
#: marts.dim_indicator_wave_scale: wave 2023-01 of demo_services rated water on 4 points.
SCALE_NOTE = "4-point scale, top box (source codes 1, 2)"
WAVE_SCALES = [
    ("water_service_good", "demo_services", "2023-01", "water_service_rating", 4, "top_box", "1, 2",
     "4-point: top box ['1', '2'], middle [], bottom box ['3', '4']", SCALE_NOTE),
]

#: The files each wave's approval was given for (the view compares them with the active files).
WAVE_FILES = {
    ("demo_services", "2023-01"): SHA_2023,
    ("demo_services", "2024-01"): SHA_2024,
    ("talafar_water_2021", "2021-07"): SHA_TALAFAR,
}
#: Approval decisions a builder can plant per wave: approved; approved then revoked; approved for
#: files that have since changed; never decided.
APPROVE, REVOKE, STALE, UNDECIDED = "approve", "revoke", "stale", "undecided"

# ---- the old shapes (legacy_warehouse) ------------------------------------------------------
LEGACY_RUN_LOG = [
    ("run-001", "2024-05-01 10:00:00", "2024-05-01 10:04:30", "success", "/data/landing",
     '{"sources_loaded": 3, "files": 3}'),
    ("run-002", "2024-05-02 09:00:00", "2024-05-02 09:01:00", "failed", "/data/landing",
     '{"error": "contract failed for demo_budget"}'),
]
LEGACY_FILE_REGISTRY = [
    ("run-001", "demo_services", "demo_2023.csv", "/data/landing/surveys/demo_services/demo_2023.csv",
     SHA_2023, 120_000, "2024-05-01 10:01:00", 403, 400, 0, 3),
    ("run-001", "demo_services", "demo_2024.csv", "/data/landing/surveys/demo_services/demo_2024.csv",
     SHA_2024, 121_000, "2024-05-01 10:02:00", 410, 410, 0, 0),
    ("run-001", "talafar_water_2021", "export.csv", "/data/landing/surveys/talafar_water_2021/export.csv",
     SHA_TALAFAR, 1_100_000, "2024-05-01 10:03:00", 632, 632, 0, 0),
    ("run-002", "demo_budget", "demo_budget.csv", "/data/landing/budget/demo_budget.csv",
     SHA_BUDGET, 2_000, "2024-05-02 09:00:30", 10, 8, 0, 1),
]


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    """INSERT rows given as dicts, by column name (other columns NULL)."""
    for row in rows:
        cols = list(row)
        con.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
            [row[c] for c in cols],
        )


def _approvals(waves: list[tuple], decisions: Mapping[tuple[str, str], str]) -> list[dict[str, Any]]:
    out = []
    for w in waves:
        key = (w[0], w[1])
        decision = decisions.get(key, APPROVE)
        if decision == UNDECIDED:
            continue
        files = SHA_2024_V0 if decision == STALE else WAVE_FILES[key]
        out.append({"source_id": key[0], "wave_id": key[1], "action": "approve", "decided_by": APPROVER,
                    "decided_at": "2024-05-03 12:00:00", "note": "reviewed with the field team",
                    "file_sha256s": files, "run_id": "approval-" + key[1]})
        if decision == REVOKE:
            out.append({"source_id": key[0], "wave_id": key[1], "action": "revoke", "decided_by": APPROVER,
                        "decided_at": "2024-05-04 08:00:00", "note": "weights under review",
                        "file_sha256s": files, "run_id": "revoke-" + key[1]})
    return out


# --------------------------------------------------------------------------------------
# issue 6 marts (``build_warehouse(fiscal=True)``): dim_fiscal_year, the per-capita / partial / budget-law
# columns of fct_budget_execution, fct_budget_pefa and fct_service_vs_spending
# --------------------------------------------------------------------------------------
#: The CPI base year of the fiscal scratch build.
FISCAL_CPI_BASE = 2023
#: Years without a federal budget law in the fiscal scratch dim_fiscal_year.
FISCAL_NO_LAW = (2014, 2020, 2022)
#: A partial budget source (7 months of 2023, Baghdad only): "not reported" elsewhere, never zero.
PARTIAL_SOURCE = "ecoiraq_2023_partial"
#: Planted numbers of a suppressed cell of fct_service_vs_spending (Basrah, water, FY2023): the mart keeps
#: them here on purpose, the dashboard must never show or export them.
SPENDING_SUPPRESSED = (0.123456, 0.022222, 0.081111, 0.171111)

FISCAL_SQL = """
CREATE TABLE marts.dim_fiscal_year (
    fiscal_year INTEGER, budget_law BOOLEAN, budget_law_name VARCHAR, budget_law_note VARCHAR,
    iqd_per_usd DOUBLE, exchange_rate_basis VARCHAR, cpi DOUBLE, cpi_index_base VARCHAR, cpi_status VARCHAR,
    cpi_base_year INTEGER, cpi_deflator DOUBLE, n_budget_lines INTEGER
);
ALTER TABLE marts.fct_budget_execution ADD COLUMN allocation_revised DOUBLE;
ALTER TABLE marts.fct_budget_execution ADD COLUMN allocation_iqd DOUBLE;
ALTER TABLE marts.fct_budget_execution ADD COLUMN expenditure_iqd DOUBLE;
ALTER TABLE marts.fct_budget_execution ADD COLUMN allocation_usd DOUBLE;
ALTER TABLE marts.fct_budget_execution ADD COLUMN expenditure_usd DOUBLE;
ALTER TABLE marts.fct_budget_execution ADD COLUMN allocation_iqd_real DOUBLE;
ALTER TABLE marts.fct_budget_execution ADD COLUMN expenditure_iqd_real DOUBLE;
ALTER TABLE marts.fct_budget_execution ADD COLUMN population DOUBLE;
ALTER TABLE marts.fct_budget_execution ADD COLUMN population_method VARCHAR;
ALTER TABLE marts.fct_budget_execution ADD COLUMN allocation_iqd_per_capita DOUBLE;
ALTER TABLE marts.fct_budget_execution ADD COLUMN expenditure_iqd_per_capita DOUBLE;
ALTER TABLE marts.fct_budget_execution ADD COLUMN allocation_usd_per_capita DOUBLE;
ALTER TABLE marts.fct_budget_execution ADD COLUMN expenditure_usd_per_capita DOUBLE;
ALTER TABLE marts.fct_budget_execution ADD COLUMN allocation_iqd_real_per_capita DOUBLE;
ALTER TABLE marts.fct_budget_execution ADD COLUMN expenditure_iqd_real_per_capita DOUBLE;
ALTER TABLE marts.fct_budget_execution ADD COLUMN execution_rate_revised DOUBLE;
ALTER TABLE marts.fct_budget_execution ADD COLUMN period_months INTEGER;
ALTER TABLE marts.fct_budget_execution ADD COLUMN coverage VARCHAR;
ALTER TABLE marts.fct_budget_execution ADD COLUMN is_partial BOOLEAN;
ALTER TABLE marts.fct_budget_execution ADD COLUMN budget_law BOOLEAN;
CREATE TABLE marts.fct_budget_pefa (
    governorate_pcode VARCHAR, fiscal_year INTEGER, source_id VARCHAR, n_lines INTEGER,
    n_composition_lines INTEGER, allocation_original_iqd DOUBLE, allocation_revised_iqd DOUBLE,
    expenditure_iqd DOUBLE, allocation_original_iqd_real DOUBLE, expenditure_iqd_real DOUBLE,
    pefa_pi1_outturn DOUBLE, pefa_pi2_composition_variance DOUBLE, capital_share_expenditure DOUBLE,
    capital_share_allocation DOUBLE, population DOUBLE, allocation_share DOUBLE, population_share DOUBLE,
    allocation_to_population_share_ratio DOUBLE, real_change_expenditure_yoy DOUBLE,
    real_change_allocation_yoy DOUBLE, yoy_not_comparable_reason VARCHAR, budget_law BOOLEAN,
    is_partial BOOLEAN, coverage VARCHAR, is_synthetic BOOLEAN
);
CREATE TABLE marts.fct_service_vs_spending (
    governorate_pcode VARCHAR, fiscal_year INTEGER, budget_source_id VARCHAR, sector VARCHAR,
    sector_name VARCHAR, allocation_iqd DOUBLE, expenditure_iqd DOUBLE, expenditure_iqd_real DOUBLE,
    population DOUBLE, allocation_iqd_per_capita DOUBLE, expenditure_iqd_per_capita DOUBLE,
    expenditure_iqd_real_per_capita DOUBLE, is_partial BOOLEAN, budget_law BOOLEAN, indicator_id VARCHAR,
    indicator_name VARCHAR, indicator_unit VARCHAR, survey_sector VARCHAR, survey_source_id VARCHAR,
    wave_id VARCHAR, fieldwork_midpoint DATE, estimate DOUBLE, std_error DOUBLE, ci_lower DOUBLE,
    ci_upper DOUBLE, n_unweighted BIGINT, is_suppressed BOOLEAN, suppression_reason VARCHAR,
    is_unreliable BOOLEAN, is_synthetic BOOLEAN
);
"""


def _fiscal_marts(con: duckdb.DuckDBPyConnection) -> None:
    """The issue-6 marts on top of the scratch budget rows (values written by hand)."""
    con.execute(FISCAL_SQL)
    deflators = {2021: 0.9, 2022: 0.95, 2023: 1.0, 2024: 1.05}
    con.executemany(
        "INSERT INTO marts.dim_fiscal_year VALUES (?, ?, ?, ?, 1300.0, 'rate_in_force', ?, '2010=100', "
        "'published', ?, ?, 0)",
        [(y, y not in FISCAL_NO_LAW, "none" if y in FISCAL_NO_LAW else f"Budget law {y}", None,
          100.0 * deflators.get(y, 1.0), FISCAL_CPI_BASE, deflators.get(y, 1.0)) for y in range(2007, 2026)],
    )
    con.execute(
        "UPDATE marts.fct_budget_execution SET budget_law = fiscal_year NOT IN (2014, 2020, 2022), "
        "is_partial = false, coverage = 'complete'"
    )
    # demo_budget (IQD billion): per capita with 8 m people in Baghdad, 4 m in Erbil
    pop = {"IQG08": 8_000_000.0, "IQG11": 4_000_000.0}
    for g, y, revised in [("IQG08", 2021, 437.5), ("IQG08", 2023, 520.0), ("IQG11", 2021, 200.0),
                          ("IQG11", 2023, None)]:
        con.execute(
            """
            UPDATE marts.fct_budget_execution SET
                allocation_revised = ?, population = ?, population_method = 'published',
                allocation_iqd = allocation * 1e9, expenditure_iqd = expenditure * 1e9,
                allocation_usd = allocation * 1e9 / 1300, expenditure_usd = expenditure * 1e9 / 1300,
                allocation_iqd_real = allocation * 1e9 / ?, expenditure_iqd_real = expenditure * 1e9 / ?,
                allocation_iqd_per_capita = allocation * 1e9 / ?, expenditure_iqd_per_capita = expenditure * 1e9 / ?,
                allocation_usd_per_capita = allocation * 1e9 / 1300 / ?,
                expenditure_usd_per_capita = expenditure * 1e9 / 1300 / ?,
                allocation_iqd_real_per_capita = allocation * 1e9 / ? / ?,
                expenditure_iqd_real_per_capita = expenditure * 1e9 / ? / ?,
                execution_rate_revised = expenditure / ?
            WHERE source_id = 'demo_budget' AND governorate_pcode = ? AND fiscal_year = ?
            """,
            [revised, pop[g], deflators[y], deflators[y], pop[g], pop[g], pop[g], pop[g],
             deflators[y], pop[g], deflators[y], pop[g], revised, g, y],
        )
    # the partial source: 7 months of 2023 spending, Baghdad only, no allocation
    con.execute(
        f"""
        INSERT INTO marts.fct_budget_execution (governorate_pcode, fiscal_year, source_id, budget_scope, allocation,
            expenditure, execution_rate, execution_rate_source, currency, unit, is_synthetic, as_of, expenditure_iqd,
            expenditure_usd, expenditure_iqd_real, population, population_method, expenditure_iqd_per_capita,
            expenditure_usd_per_capita, expenditure_iqd_real_per_capita, period_months, coverage, is_partial,
            budget_law)
        VALUES ('IQG08', 2023, '{PARTIAL_SOURCE}', 'capital', NULL, 100.0, NULL, NULL, 'IQD', 'IQD billion', false,
            NULL, 100e9, 100e9 / 1300, 100e9, 8000000.0, 'published', 12500.0, 12500.0 / 1300, 12500.0, 7,
            'partial', true, true)
        """
    )
    pefa = [
        # g, year, source, pi1, pi2, cap_exp, cap_alloc, ratio, real_exp, real_alloc, reason, law, partial, coverage, synthetic
        ("IQG08", 2021, "demo_budget", 0.7, 0.1375, 0.4125, 0.45, 1.1875, None, None, "no data for 2020", True,
         False, "complete", True),
        ("IQG08", 2023, "demo_budget", 0.8, 0.0625, 0.3333, 0.375, 1.2063, None, None, "no budget law in 2022",
         True, False, "complete", True),
        ("IQG08", 2024, "demo_budget", 0.9125, 0.0, 0.5, 0.5, 1.15, -0.0375, 0.0525, None, True, False,
         "complete", True),
        ("IQG11", 2021, "demo_budget", 0.75, 0.2, 0.6, 0.55, 0.625, None, None, "no data for 2020", True, False,
         "complete", True),
        ("IQG08", 2023, PARTIAL_SOURCE, None, None, 1.0, None, None, None, None, "no data for 2022", True, True,
         "partial", False),
    ]
    con.executemany(
        "INSERT INTO marts.fct_budget_pefa (governorate_pcode, fiscal_year, source_id, pefa_pi1_outturn, "
        "pefa_pi2_composition_variance, capital_share_expenditure, capital_share_allocation, "
        "allocation_to_population_share_ratio, real_change_expenditure_yoy, real_change_allocation_yoy, "
        "yoy_not_comparable_reason, budget_law, is_partial, coverage, is_synthetic) "
        "VALUES (" + ", ".join("?" * 15) + ")",
        pefa,
    )
    est, se, lo, hi = SPENDING_SUPPRESSED
    svs = [
        # g, budget source, alloc pc, exp pc, exp real pc, partial, estimate, se, lo, hi, n, suppressed, reason, unreliable, synthetic
        ("IQG08", "demo_budget", 65000.0, 52000.0, 52000.0, False, 0.61, 0.03, 0.55, 0.67, 400, False, None, False, True),
        ("IQG11", "demo_budget", 52500.0, 37500.0, 37500.0, False, 0.48, 0.09, 0.30, 0.66, 60, False, None, True, True),
        ("IQG02", "demo_budget", 30000.0, 21000.0, 21000.0, False, est, se, lo, hi, 22, True, "n < 30", None, True),
        ("IQG08", PARTIAL_SOURCE, None, 12500.0, 12500.0, True, 0.61, 0.03, 0.55, 0.67, 400, False, None, False, True),
    ]
    con.executemany(
        "INSERT INTO marts.fct_service_vs_spending (governorate_pcode, fiscal_year, budget_source_id, sector, "
        "sector_name, population, allocation_iqd_per_capita, expenditure_iqd_per_capita, "
        "expenditure_iqd_real_per_capita, is_partial, budget_law, indicator_id, indicator_name, indicator_unit, "
        "survey_sector, survey_source_id, wave_id, fieldwork_midpoint, estimate, std_error, ci_lower, ci_upper, "
        "n_unweighted, is_suppressed, suppression_reason, is_unreliable, is_synthetic) "
        "VALUES (?, 2023, ?, 'water_sanitation', 'Water and sanitation', 1000000.0, ?, ?, ?, ?, true, "
        "'water_service_good', 'Municipal water service rated good or excellent', 'proportion', 'water', "
        "'demo_services', '2023-01', DATE '2023-02-15', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        svs,
    )


def build_warehouse(path: Path, *, budget: bool = True, hoh_sex: bool = True,
                    second_wave: bool = True, audit_rows: bool = True, legacy: bool = False,
                    approvals: Mapping[tuple[str, str], str] | None = None,
                    estimate_shift: float = 0.0, rules: Mapping[str, Any] | None = None,
                    fiscal: bool = False) -> Path:
    """Write a small warehouse to ``path`` (a new file) and close it.

    ``approvals``: (source_id, wave_id) -> APPROVE | REVOKE | STALE | UNDECIDED (default: every
    wave approved). ``legacy``: a warehouse from before snapshots — the audit tables of that time
    (old run log and file registry, no deliveries, no approvals) and the old marts (no national
    rows, rules, changes, distributions or design columns). ``estimate_shift`` is added to every
    published (not suppressed) estimate, CI bound included, so two builds are told apart.
    ``rules``: thresholds of marts.dim_estimation_rules (keys of ``DEFAULT_RULES``), written with
    the matching ``rule_text``. ``fiscal``: add the issue-6 marts (``_fiscal_marts``: dim_fiscal_year,
    per-capita / partial / budget-law columns of fct_budget_execution with a partial source,
    fct_budget_pefa, fct_service_vs_spending with a planted suppressed cell).
    """
    con = duckdb.connect(str(path))
    try:
        con.execute(OLD_SCHEMA_SQL if legacy else SCHEMA_SQL)
        waves = WAVES if second_wave else [w for w in WAVES if w[1] != "2023-01"]
        cells = _service_rows(hoh_sex=hoh_sex, second_wave=second_wave)
        if not legacy:
            cells = _national_rows(hoh_sex=hoh_sex, second_wave=second_wave) + cells
        if estimate_shift:
            cells = [
                c if c[16] else (*c[:6], round(c[6] + estimate_shift, 6), c[7], round(c[8] + estimate_shift, 6),
                                 round(c[9] + estimate_shift, 6), *c[10:])
                for c in cells
            ]
        if legacy:
            con.executemany("INSERT INTO marts.dim_governorate VALUES (?, ?, ?, ?, ?, ?)", GOVERNORATES)
            con.executemany("INSERT INTO marts.dim_indicator VALUES (" + ", ".join("?" * 18) + ")", INDICATORS)
            con.executemany("INSERT INTO marts.dim_wave VALUES (" + ", ".join("?" * 14) + ")", waves)
            con.executemany("INSERT INTO marts.fct_service_indicators VALUES (" + ", ".join("?" * 20) + ")", cells)
        else:
            con.executemany(
                "INSERT INTO marts.dim_governorate VALUES (?, ?, ?, ?, ?, ?, ?)",
                [NATIONAL_AREA, *((g[0], "governorate", *g[1:]) for g in GOVERNORATES)],
            )
            con.executemany("INSERT INTO marts.dim_indicator VALUES (" + ", ".join("?" * 18) + ")",
                            [*INDICATORS, DISTRIBUTION_INDICATOR])
            con.executemany("INSERT INTO marts.dim_wave VALUES (" + ", ".join("?" * 27) + ")",
                            [(*w, *WAVE_DESIGN[(w[0], w[1])]) for w in waves])
            con.executemany("INSERT INTO marts.fct_service_indicators VALUES (" + ", ".join("?" * 25) + ")",
                            [(*c, *_design_facts(c)) for c in cells])
            r = {**DEFAULT_RULES, **(rules or {})}
            con.execute(
                "INSERT INTO marts.dim_estimation_rules VALUES (0.95, ?, ?, ?, ?, ?, ?, ?)",
                [r["min_n"], r["min_n_eff"], r["ci_width"], r["relative_width"], r["single_psu"],
                 r["extreme_ratio"], rule_text(**r)],
            )
            if second_wave:
                con.executemany("INSERT INTO marts.fct_indicator_change VALUES (" + ", ".join("?" * 17) + ")",
                                _changes())
            con.executemany("INSERT INTO marts.fct_response_distribution VALUES (" + ", ".join("?" * 23) + ")",
                            _distribution_rows())
            # sector display names (question bank) and a wave on a declared 4-point scale
            con.execute("ALTER TABLE marts.dim_indicator ADD COLUMN sector_name VARCHAR")
            con.execute("ALTER TABLE marts.dim_indicator ADD COLUMN sector_order INTEGER")
            con.execute("UPDATE marts.dim_indicator SET sector_name = 'Water', sector_order = 1 WHERE sector = 'water'")
            con.execute(SCALE_SQL)
            con.executemany("INSERT INTO marts.dim_indicator_wave_scale VALUES (" + ", ".join("?" * 9) + ")",
                            WAVE_SCALES)
        if budget:
            con.executemany(
                "INSERT INTO marts.fct_budget_execution VALUES (" + ", ".join("?" * 12) + ")",
                BUDGET_ROWS,
            )
        if fiscal:
            _fiscal_marts(con)
        if legacy:
            _legacy_audit(con, audit_rows)
        else:
            _audit(con, waves, audit_rows, approvals or {})
            _reporting_layer(con)
        # audit.exclusions stays empty on purpose
    finally:
        con.close()
    return path


def _audit(con: duckdb.DuckDBPyConnection, waves: list[tuple], audit_rows: bool,
           approvals: Mapping[tuple[str, str], str]) -> None:
    """The audit and raw tables of the pipeline (``ensure_schema``), with the scratch runs, files,
    deliveries, approvals and (``audit_rows``) quarantine / dropped columns / skipped sources."""
    ensure_schema(con)
    _insert(con, "raw.survey_sources", [
        {"source_id": w[0], "wave_id": w[1], "title": w[2], "is_synthetic": w[3], "fieldwork_start": w[4],
         "fieldwork_end": w[5], "coverage": w[13]}
        for w in waves
    ])
    _insert(con, "audit.run_log", RUN_LOG)
    _insert(con, "audit.file_registry", FILE_REGISTRY)
    _insert(con, "audit.file_deliveries", FILE_DELIVERIES)
    _insert(con, "audit.wave_approvals", _approvals(waves, approvals))
    if audit_rows:
        con.executemany("INSERT INTO audit.quarantine (run_id, domain, source_id, file_name, file_sha256, row_number, "
                        "column_name, value, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", QUARANTINE)
        con.executemany(
            "INSERT INTO audit.dropped_columns (run_id, domain, source_id, file_name, column_name, reason) "
            "VALUES (?, ?, ?, ?, ?, ?)", DROPPED_COLUMNS,
        )
        con.executemany("INSERT INTO audit.skipped_sources VALUES (?, ?, ?, ?, ?)", SKIPPED)
        _insert(con, "audit.review_flags", REVIEW_FLAGS)
        _insert(con, "audit.repeat_group_accounts", REPEAT_GROUP_ACCOUNTS)


REPORTING_MODELS = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "reporting"


def _reporting_layer(con: duckdb.DuckDBPyConnection) -> None:
    """What a current build has beyond the marts above: ``dim_wave.wave_order``, ``dim_indicator.indicator_order``,
    the reporting models (their own dbt SQL, each ``ref`` read as the scratch table) and the schema version the
    pipeline records after a dbt build."""
    con.execute("ALTER TABLE marts.dim_wave ADD COLUMN wave_order INTEGER")
    con.execute("""UPDATE marts.dim_wave w SET wave_order = o.k FROM (
                       SELECT source_id, wave_id, row_number() OVER (PARTITION BY source_id ORDER BY fieldwork_start
                       NULLS LAST, wave_id) AS k FROM marts.dim_wave) o
                   WHERE o.source_id = w.source_id AND o.wave_id = w.wave_id""")
    con.execute("ALTER TABLE marts.dim_indicator ADD COLUMN indicator_order INTEGER")
    con.execute("""UPDATE marts.dim_indicator i SET indicator_order = o.k FROM (
                       SELECT indicator_id, row_number() OVER (ORDER BY indicator_id) AS k FROM marts.dim_indicator) o
                   WHERE o.indicator_id = i.indicator_id""")
    con.execute("CREATE SCHEMA IF NOT EXISTS reporting")
    for name in ("rpt_governorate_estimates", "rpt_sector_headlines"):
        sql = re.sub(r"\{\{\s*ref\('(\w+)'\)\s*\}\}",
                     lambda m: f"{'reporting' if m[1].startswith('rpt_') else 'marts'}.{m[1]}",
                     (REPORTING_MODELS / f"{name}.sql").read_text(encoding="utf-8"))
        con.execute(f"CREATE TABLE reporting.{name} AS {sql}")
    con.execute("INSERT INTO audit.schema_version VALUES (?, ?, now()::TIMESTAMP)", [SCHEMA_VERSION, SCRATCH_RUN_ID])


def _legacy_audit(con: duckdb.DuckDBPyConnection, audit_rows: bool) -> None:
    con.execute(LEGACY_AUDIT_SQL)
    con.executemany("INSERT INTO audit.run_log VALUES (?, ?, ?, ?, ?, ?)", LEGACY_RUN_LOG)
    con.executemany(
        "INSERT INTO audit.file_registry VALUES (" + ", ".join("?" * 11) + ")", LEGACY_FILE_REGISTRY
    )
    if audit_rows:
        con.executemany("INSERT INTO audit.quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [(q[0], *q[2:]) for q in QUARANTINE])
        con.executemany("INSERT INTO audit.dropped_columns VALUES (?, ?, ?, ?)", [d[2:] for d in DROPPED_COLUMNS])
        con.executemany("INSERT INTO audit.skipped_sources VALUES (?, ?, ?)",
                        [(k[0], k[3], k[4]) for k in SKIPPED])


def _journal_line(record: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in record.items()}


def publish_scratch(pointer: Path, run_id: str = SCRATCH_RUN_ID, *, keep: int = 5, **build: Any) -> dict[str, Any]:
    """Build a scratch warehouse (``build_warehouse(**build)``) and publish it behind ``pointer``
    as the pipeline does: the run's own ``audit.run_log`` row is written while publishing (with
    the snapshot's name), and the journal gets the runs of the run log it lacks plus this one.

    Returns the sidecar (``run_id``, ``published_at``, ``snapshot``, ``sha256``, ``bytes``,
    ``kind``, ``record``).
    """
    layout = publish.Layout.of(pointer)
    working = layout.working(run_id)  # where a run builds; publish moves it into place
    working.parent.mkdir(parents=True, exist_ok=True)
    working.unlink(missing_ok=True)
    build_warehouse(working, **build)
    legacy = bool(build.get("legacy"))

    journal = publish.read_journal(pointer)

    def on_publish(con, name, published_at):
        record = {**OWN_RUN, "run_id": run_id, "started_at": published_at - dt.timedelta(minutes=4),
                  "finished_at": published_at, "snapshot": name}
        if not legacy:  # as the pipeline does: journal entries the run log lacks, then this run
            known = {r[0] for r in con.execute("SELECT run_id FROM audit.run_log").fetchall()}
            cols = {r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'audit' AND table_name = 'run_log'").fetchall()}
            earlier = [{k: v for k, v in e.items() if k in cols} for e in journal if e.get("run_id") not in known]
            _insert(con, "audit.run_log", [*earlier, record])
        return record

    meta = publish.publish(layout, working, run_id, keep=keep, on_publish=on_publish)
    journaled = {e.get("run_id") for e in publish.read_journal(pointer)}
    for entry in [*([] if legacy else RUN_LOG), meta["record"]]:
        if entry["run_id"] not in journaled:
            publish.append_journal(layout, _journal_line(entry))
    return meta
