"""Fixtures for the dashboard tests: small hand-written warehouses.

``scratch_warehouse`` has every table the dashboard reads (marts.* and audit.*), created with
SQL, with planted cases: suppressed cells with distinctive values (0.123456, 0.654321 and
23.456789 hours) that must never reach the screen, unreliable cells, a synthetic source with two
waves, a real source with one, budget years with no data, a file whose row accounting does not
balance, and an empty audit.exclusions table.

``marts.dim_wave.coverage`` is set for the Tal Afar source only ("Tal Afar city only …"), and
the SIGIR 2009 budget rows carry ``as_of`` 2009-10-13.

``sparse_warehouse`` has the same tables but no budget rows, no hoh_sex disaggregation, one
wave per source and empty quarantine / dropped-columns / skipped-sources tables.

The pipeline-built ``demo_warehouse`` / ``real_warehouse`` fixtures come from tests/conftest.py
(added with the pipeline); the dashboard tests skip those cases until they exist.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

# Distinctive values of suppressed cells: the tests assert these never appear anywhere.
SUPPRESSED_VALUES = {
    # (indicator_id, source_id, wave_id, governorate_pcode, disaggregation_value):
    #     (estimate, std_error, ci_lower, ci_upper)
    ("water_service_good", "demo_services", "2023-01", "IQG02", "all"): (0.123456, 0.022222, 0.081111, 0.171111),
    ("water_service_good", "demo_services", "2024-01", "IQG15", "female"): (0.654321, 0.099999, 0.437777, 0.822222),
    ("water_piped_hours_mean", "demo_services", "2024-01", "IQG02", "all"): (23.456789, 1.818181, 19.876543, 27.037035),
}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


SCHEMA_SQL = """
CREATE SCHEMA marts;
CREATE SCHEMA audit;

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
    n_psus INTEGER, degrees_of_freedom INTEGER, unit_of_analysis VARCHAR, weight_note VARCHAR,
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


def _cell(ind, src, wave, gov, disagg, value, est, se, lo, hi, n, neff, deff, excl,
          supp=False, reason=None, unrel=False, synth=True, ci_method="logit", df=56):
    return (ind, src, wave, gov, disagg, value, est, se, lo, hi, ci_method, df, n, neff, deff,
            excl, supp, reason, unrel, synth)


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
RUN_LOG = [
    ("run-001", "2024-05-01 10:00:00", "2024-05-01 10:04:30", "success", "/data/landing",
     '{"sources_loaded": 3, "files": 3}'),
    ("run-002", "2024-05-02 09:00:00", "2024-05-02 09:01:00", "failed", "/data/landing",
     '{"error": "contract failed for demo_budget"}'),
]
FILE_REGISTRY = [
    ("run-001", "demo_services", "demo_2023.csv", "/data/landing/surveys/demo_services/demo_2023.csv",
     SHA_2023, 120_000, "2024-05-01 10:01:00", 403, 400, 0, 3),
    ("run-001", "demo_services", "demo_2024.csv", "/data/landing/surveys/demo_services/demo_2024.csv",
     SHA_2024, 121_000, "2024-05-01 10:02:00", 410, 410, 0, 0),
    ("run-001", "talafar_water_2021", "export.csv", "/data/landing/surveys/talafar_water_2021/export.csv",
     SHA_TALAFAR, 1_100_000, "2024-05-01 10:03:00", 632, 632, 0, 0),
    # does not balance: 10 read, 8 + 0 + 1 accounted for
    ("run-002", "demo_budget", "demo_budget.csv", "/data/landing/budget/demo_budget.csv",
     SHA_BUDGET, 2_000, "2024-05-02 09:00:30", 10, 8, 0, 1),
]
QUARANTINE = [
    ("run-001", "demo_services", "demo_2023.csv", SHA_2023, 5, "weight", "0", "weight must be > 0"),
    ("run-001", "demo_services", "demo_2023.csv", SHA_2023, 9, "weight", "-1", "weight must be > 0"),
    ("run-001", "demo_services", "demo_2023.csv", SHA_2023, 17, "governorate", "Atlantis", "unknown governorate"),
    ("run-001", "demo_services", "demo_2023.csv", SHA_2023, 17, "weight", "0", "weight must be > 0"),
    ("run-002", "demo_budget", "demo_budget.csv", SHA_BUDGET, 4, "allocation", "1,,0", "not a number"),
]
DROPPED_COLUMNS = [
    ("talafar_water_2021", "export.csv", "phone_number", "personal data"),
    ("talafar_water_2021", "export.csv", "respondent_name", "personal data"),
]
SKIPPED = [("run-001", "/data/landing/surveys/unknown_firm_2022", "no mapping file")]


def build_warehouse(path: Path, *, budget: bool = True, hoh_sex: bool = True,
                    second_wave: bool = True, audit_rows: bool = True) -> Path:
    """Write a small warehouse to ``path`` (a new file) and close it."""
    con = duckdb.connect(str(path))
    try:
        con.execute(SCHEMA_SQL)
        con.executemany("INSERT INTO marts.dim_governorate VALUES (?, ?, ?, ?, ?, ?)", GOVERNORATES)
        con.executemany(
            "INSERT INTO marts.dim_indicator VALUES (" + ", ".join("?" * 18) + ")", INDICATORS
        )
        waves = WAVES if second_wave else [w for w in WAVES if w[1] != "2023-01"]
        con.executemany("INSERT INTO marts.dim_wave VALUES (" + ", ".join("?" * 14) + ")", waves)
        con.executemany(
            "INSERT INTO marts.fct_service_indicators VALUES (" + ", ".join("?" * 20) + ")",
            _service_rows(hoh_sex=hoh_sex, second_wave=second_wave),
        )
        if budget:
            con.executemany(
                "INSERT INTO marts.fct_budget_execution VALUES (" + ", ".join("?" * 12) + ")",
                BUDGET_ROWS,
            )
        con.executemany("INSERT INTO audit.run_log VALUES (?, ?, ?, ?, ?, ?)", RUN_LOG)
        con.executemany(
            "INSERT INTO audit.file_registry VALUES (" + ", ".join("?" * 11) + ")", FILE_REGISTRY
        )
        if audit_rows:
            con.executemany("INSERT INTO audit.quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?)", QUARANTINE)
            con.executemany("INSERT INTO audit.dropped_columns VALUES (?, ?, ?, ?)", DROPPED_COLUMNS)
            con.executemany("INSERT INTO audit.skipped_sources VALUES (?, ?, ?)", SKIPPED)
        # audit.exclusions stays empty on purpose
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def scratch_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small warehouse with every table the dashboard reads (see module docstring)."""
    return build_warehouse(tmp_path_factory.mktemp("scratch_wh") / "mizan.duckdb")


@pytest.fixture(scope="session")
def sparse_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All tables present, but no budget rows, no hoh_sex cells, one wave per source and no
    quarantine / dropped columns / skipped sources."""
    return build_warehouse(
        tmp_path_factory.mktemp("sparse_wh") / "mizan.duckdb",
        budget=False, hoh_sex=False, second_wave=False, audit_rows=False,
    )


@pytest.fixture(scope="session")
def scratch_suppressed_values() -> dict[tuple[str, str, str, str, str], tuple[float, float, float, float]]:
    """The planted suppressed cells of the scratch warehouse: (estimate, SE, CI lower, CI upper)."""
    return dict(SUPPRESSED_VALUES)


@pytest.fixture()
def scratch_warehouse_copy(scratch_warehouse: Path, tmp_path: Path) -> Path:
    """A private copy of the scratch warehouse that a test may rewrite."""
    target = tmp_path / "mizan.duckdb"
    target.write_bytes(scratch_warehouse.read_bytes())
    return target
