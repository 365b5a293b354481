"""Build a ``raw`` schema (docs/architecture.md) with data made in the test, and run dbt on it.

Reusable by any test that needs a warehouse: ``create_raw_schema`` + ``insert_rows`` write the tables,
``simulate_cluster_survey`` makes a stratified cluster sample with unequal weights, item non-response and
"don't know" answers, ``build_test_warehouse`` writes the standard test data set, ``run_dbt`` runs the
real dbt project (``dbt_project/``) against a warehouse file in a subprocess.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import duckdb
import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

# Column contracts of the raw tables, as in docs/architecture.md (reference tables as loaded by
# pipelines/assets/ingest.py).
RAW_DDL: dict[str, str] = {
    "survey_respondents": """
        source_id VARCHAR, wave_id VARCHAR, file_name VARCHAR, file_sha256 VARCHAR, row_number INTEGER,
        respondent_id VARCHAR, governorate_pcode VARCHAR, district_pcode VARCHAR, stratum VARCHAR,
        psu VARCHAR, weight DOUBLE, hoh_sex VARCHAR, urban_rural VARCHAR, interview_date DATE,
        is_synthetic BOOLEAN""",
    "survey_answers": """
        source_id VARCHAR, wave_id VARCHAR, file_sha256 VARCHAR, row_number INTEGER, respondent_id VARCHAR,
        question_id VARCHAR, answer_code VARCHAR, answer_numeric DOUBLE, answer_source VARCHAR,
        source_scale VARCHAR""",
    "question_bank": """
        question_id VARCHAR, sector VARCHAR, label_en VARCHAR, label_ar VARCHAR, answer_type VARCHAR,
        choice_codes VARCHAR[], nonresponse_codes VARCHAR[], min_value DOUBLE, max_value DOUBLE,
        unit VARCHAR, top_box_codes VARCHAR[], bottom_box_codes VARCHAR[]""",
    "indicator_registry": """
        indicator_id VARCHAR, version VARCHAR, sector VARCHAR, name_en VARCHAR, name_ar VARCHAR,
        definition VARCHAR, numerator VARCHAR, denominator VARCHAR, unit VARCHAR, indicator_type VARCHAR,
        question_id VARCHAR, success_codes VARCHAR[], disaggregations VARCHAR[], ci_method VARCHAR,
        direction VARCHAR, source_questions VARCHAR, estimation_method VARCHAR, suppression_rule VARCHAR,
        universe VARCHAR, sector_name VARCHAR, sector_order INTEGER, indicator_order INTEGER, sector_name_ar VARCHAR""",
    "survey_sources": """
        source_id VARCHAR, wave_id VARCHAR, title VARCHAR, unit_of_analysis VARCHAR, weight_note VARCHAR,
        design_note VARCHAR, citation VARCHAR, coverage VARCHAR, is_synthetic BOOLEAN, fieldwork_start DATE,
        fieldwork_end DATE, single_psu_rule VARCHAR, strata_combine_json VARCHAR, weight_method VARCHAR,
        post_stratify VARCHAR, cleaning_log_sha256s VARCHAR""",
    "survey_respondent_attributes": """
        source_id VARCHAR, wave_id VARCHAR, file_sha256 VARCHAR, row_number INTEGER, respondent_id VARCHAR,
        attribute VARCHAR, value VARCHAR""",
    "budget_lines": """
        source_id VARCHAR, file_name VARCHAR, file_sha256 VARCHAR, row_number INTEGER,
        governorate_pcode VARCHAR, governorate_name_source VARCHAR, fiscal_year INTEGER, sector VARCHAR,
        budget_scope VARCHAR, allocation_original DOUBLE, allocation_revised DOUBLE, expenditure DOUBLE,
        execution_pct_published DOUBLE, currency VARCHAR, amount_unit VARCHAR, unit_multiplier DOUBLE,
        as_of DATE, is_synthetic BOOLEAN, sheet_name VARCHAR, chapter VARCHAR, item_label VARCHAR,
        funding_stream VARCHAR, period_months INTEGER""",
    "budget_sources": """
        source_id VARCHAR, title VARCHAR, citation VARCHAR, is_synthetic BOOLEAN, coverage VARCHAR,
        coverage_note VARCHAR""",
    "ref_governorates": """
        governorate_pcode VARCHAR, name_en VARCHAR, name_en_short VARCHAR, name_ar VARCHAR, name_ckb VARCHAR,
        name_kmr VARCHAR, region VARCHAR, iso3166_2 VARCHAR, adm1_pcode_ocha2014 VARCHAR, capital VARCHAR,
        cod_ab_parent_pcode VARCHAR, cod_ab_note VARCHAR""",
    "ref_population": """
        governorate_pcode VARCHAR, year INTEGER, population DOUBLE, method VARCHAR, source VARCHAR""",
    "ref_exchange_rates": "year INTEGER, iqd_per_usd DOUBLE, basis VARCHAR, source VARCHAR, note VARCHAR",
    "ref_cpi": """
        year INTEGER, cpi DOUBLE, base VARCHAR, inflation_pct DOUBLE, status VARCHAR, source VARCHAR, note VARCHAR""",
    "ref_fiscal_years": "fiscal_year INTEGER, budget_law BOOLEAN, law VARCHAR, source VARCHAR, note VARCHAR",
    "ref_budget_sectors": """
        sector VARCHAR, name_en VARCHAR, name_ar VARCHAR, survey_sectors VARCHAR, sort_order INTEGER, note VARCHAR""",
}

RATING_5 = ["excellent", "good", "adequate", "poor", "very_poor"]
YES_NO = ["yes", "no"]
NONRESPONSE = ["dont_know", "prefer_not_answer"]

QUESTIONS: list[dict[str, Any]] = [
    {"question_id": "water_service_rating", "sector": "water", "label_en": "Water service rating",
     "label_ar": "تقييم خدمة المياه", "answer_type": "select_one", "choice_codes": RATING_5,
     "nonresponse_codes": NONRESPONSE, "min_value": None, "max_value": None, "unit": None},
    {"question_id": "water_problem_main_source", "sector": "water", "label_en": "Problem with main water source",
     "label_ar": "مشكلة في المصدر الرئيسي للمياه", "answer_type": "select_one", "choice_codes": YES_NO,
     "nonresponse_codes": NONRESPONSE, "min_value": None, "max_value": None, "unit": None},
    {"question_id": "water_piped_hours_per_day", "sector": "water", "label_en": "Hours of piped water per day",
     "label_ar": "ساعات توفر المياه", "answer_type": "integer", "choice_codes": [],
     "nonresponse_codes": [], "min_value": 0.0, "max_value": 24.0, "unit": "hours/day"},
]


def _indicator(indicator_id: str, question_id: str, indicator_type: str, success_codes: list[str],
               disaggregations: list[str], ci_method: str, unit: str = "proportion") -> dict[str, Any]:
    return {
        "indicator_id": indicator_id, "version": "1.0", "sector": "water", "name_en": indicator_id,
        "name_ar": indicator_id, "definition": f"test indicator {indicator_id}", "numerator": "n",
        "denominator": "d", "unit": unit, "indicator_type": indicator_type, "question_id": question_id,
        "success_codes": success_codes, "disaggregations": disaggregations, "ci_method": ci_method,
        "direction": "higher_is_better", "source_questions": question_id,
        "estimation_method": "Taylor linearisation", "suppression_rule": "n < 30 or n_eff < 30",
        "universe": "households",
    }


INDICATORS: list[dict[str, Any]] = [
    _indicator("water_service_good", "water_service_rating", "proportion", ["excellent", "good"], ["all", "hoh_sex"], "logit"),
    _indicator("water_service_poor", "water_service_rating", "proportion", ["poor", "very_poor"],
               ["all", "hoh_sex", "displacement_status"], "logit"),
    _indicator("water_problem_reported", "water_problem_main_source", "proportion", ["yes"], ["all"], "logit"),
    _indicator("water_problem_reported_wald", "water_problem_main_source", "proportion", ["yes"], ["all"], "t"),
    _indicator("water_problem_reported_kg", "water_problem_main_source", "proportion", ["yes"], ["all", "urban_rural"],
               "korn_graubard"),
    _indicator("water_piped_hours_mean", "water_piped_hours_per_day", "mean", [], ["all", "hoh_sex"], "t", unit="hours/day"),
    _indicator("water_service_distribution", "water_service_rating", "distribution", [], ["all", "hoh_sex"], "logit",
               unit="share"),
]
INDICATORS_BY_ID = {i["indicator_id"]: i for i in INDICATORS}

GOVERNORATES = [
    ("IQG01", "Al-Anbar"), ("IQG02", "Al-Basrah"), ("IQG03", "Al-Muthanna"), ("IQG04", "Al-Najaf"),
    ("IQG05", "Al-Qadissiya"), ("IQG06", "Al-Sulaymaniyah"), ("IQG07", "Babil"), ("IQG08", "Baghdad"),
    ("IQG09", "Diyala"), ("IQG10", "Duhok"), ("IQG11", "Erbil"), ("IQG12", "Kerbala"), ("IQG13", "Kirkuk"),
    ("IQG14", "Maysan"), ("IQG15", "Ninewa"), ("IQG16", "Salah Al-Din"), ("IQG17", "Thi-Qar"),
    ("IQG18", "Wassit"), ("IQG19", "Halabja"),
]


def create_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ``raw`` schema and its tables (empty) as docs/architecture.md defines them."""
    from pipelines.warehouse import RAW_DDL as PIPELINE_RAW_DDL

    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for table, cols in RAW_DDL.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS raw.{table} ({cols})")
    # every other raw table (training records, results framework, survey wave loads) as the pipeline
    # defines it, left empty
    for table, cols in PIPELINE_RAW_DDL.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS raw.{table} ({cols})")


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Iterable[dict[str, Any]]) -> int:
    """Append dict rows to ``raw.<table>`` matching columns by name (missing columns are NULL)."""
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return 0
    con.register("__rows", frame)
    try:
        cols = ", ".join(f'"{c}"' for c in frame.columns)
        con.execute(f"INSERT INTO raw.{table} ({cols}) SELECT {cols} FROM __rows")
    finally:
        con.unregister("__rows")
    return len(frame)


@dataclass
class Survey:
    """One survey wave: respondent rows and long answer rows, in the raw tables' shape."""

    source_id: str
    wave_id: str
    respondents: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    #: columns of raw.survey_sources beyond the defaults (single_psu_rule, strata_combine_json, post_stratify)
    source_extra: dict[str, Any] = field(default_factory=dict)

    def source_row(self, **extra: Any) -> dict[str, Any]:
        row = {"source_id": self.source_id, "wave_id": self.wave_id, "title": f"test survey {self.source_id}",
               "unit_of_analysis": "household", "weight_note": "test weights", "design_note": "test design",
               "is_synthetic": True, "fieldwork_start": "2024-03-01", "fieldwork_end": "2024-03-20",
               **self.source_extra}
        row.update(extra)
        return row

    def write(self, con: duckdb.DuckDBPyConnection) -> None:
        """Respondents (attributes beyond the raw columns, e.g. displacement_status, go to the long
        raw.survey_respondent_attributes), answers and the source row."""
        raw_columns = set(respondent_row("s", "w", "r", "IQG01", "h", "p", 1.0))
        insert_rows(con, "survey_respondents", [{k: v for k, v in r.items() if k in raw_columns} for r in self.respondents])
        insert_rows(con, "survey_respondent_attributes", [
            {"source_id": r["source_id"], "wave_id": r["wave_id"], "file_sha256": r["file_sha256"],
             "row_number": r["row_number"], "respondent_id": r["respondent_id"], "attribute": k, "value": v}
            for r in self.respondents for k, v in r.items() if k not in raw_columns and v is not None])
        insert_rows(con, "survey_answers", self.answers)
        insert_rows(con, "survey_sources", [self.source_row()])


def respondent_row(source_id: str, wave_id: str, respondent_id: str, governorate_pcode: str, stratum: str,
                   psu: str, weight: float, hoh_sex: str | None = None, row_number: int = 1,
                   urban_rural: str | None = None) -> dict[str, Any]:
    return {"source_id": source_id, "wave_id": wave_id, "file_name": f"{source_id}.csv",
            "file_sha256": "0" * 64, "row_number": row_number, "respondent_id": respondent_id,
            "governorate_pcode": governorate_pcode, "district_pcode": None, "stratum": stratum, "psu": psu,
            "weight": float(weight), "hoh_sex": hoh_sex, "urban_rural": urban_rural,
            "interview_date": "2024-03-05", "is_synthetic": True}


def answer_row(source_id: str, wave_id: str, respondent_id: str, question_id: str, answer_code: str | None = None,
               answer_numeric: float | None = None, row_number: int = 1) -> dict[str, Any]:
    return {"source_id": source_id, "wave_id": wave_id, "file_sha256": "0" * 64, "row_number": row_number,
            "respondent_id": respondent_id, "question_id": question_id, "answer_code": answer_code,
            "answer_numeric": answer_numeric}


def simulate_cluster_survey(source_id: str, wave_id: str = "2024-03", seed: int = 20240301,
                            design: dict[str, tuple[str, int]] | None = None) -> Survey:
    """A stratified two-stage cluster sample with unequal weights.

    ``design`` maps stratum -> (governorate p-code, number of PSUs); the default has five strata in two
    governorates, one of them a single-PSU stratum. Each PSU has 6-12 households, a PSU effect that
    correlates answers within clusters, a PSU base weight times a household factor, hoh_sex
    (about 25 % female, 3 % unknown), and per question: skipped answers (NULL), "don't know" /
    "prefer not to answer", households with no answer row at all, and a numeric question (0-24 hours).
    """
    rng = np.random.default_rng(seed)
    design = design or {
        "ninewa_urban": ("IQG15", 6),
        "ninewa_rural": ("IQG15", 4),
        "baghdad_urban": ("IQG08", 5),
        "baghdad_rural": ("IQG08", 1),   # singleton stratum: contributes no variance
        "baghdad_peri": ("IQG08", 3),
    }
    survey = Survey(source_id, wave_id)
    row = 0
    for stratum, (gov, n_psu) in design.items():
        for k in range(n_psu):
            psu = f"{stratum}-psu{k + 1}"
            effect = rng.normal(0.0, 0.8)
            base_weight = rng.uniform(20.0, 200.0)
            for _ in range(int(rng.integers(6, 13))):
                row += 1
                rid = f"{source_id}-r{row:04d}"
                u = rng.uniform()
                hoh = None if u < 0.03 else ("female" if u < 0.28 else "male")
                weight = base_weight * rng.uniform(0.5, 1.5)
                respondent = respondent_row(source_id, wave_id, rid, gov, stratum, psu, weight, hoh, row,
                                            "urban" if "urban" in stratum else "rural")
                d = rng.uniform()  # displacement status: a declared attribute (three groups, one small)
                respondent["displacement_status"] = (
                    None if d < 0.02 else "returnee" if d < 0.08 else "idp" if d < 0.30 else "non_displaced")
                survey.respondents.append(respondent)
                # rating: latent quality shifted by the PSU effect (and a little by hoh_sex)
                latent = effect + rng.normal(0.0, 1.0) + (0.3 if hoh == "female" else 0.0)
                code = RATING_5[int(np.clip(np.digitize(latent, [-1.2, -0.4, 0.4, 1.2]), 0, 4))]
                v = rng.uniform()
                if v < 0.03:
                    pass                                         # no answer row at all
                else:
                    if v < 0.10:
                        code_out = None                          # skipped by the form
                    elif v < 0.15:
                        code_out = "dont_know"
                    elif v < 0.17:
                        code_out = "prefer_not_answer"
                    else:
                        code_out = code
                    survey.answers.append(answer_row(source_id, wave_id, rid, "water_service_rating", code_out, row_number=row))
                # yes/no problem
                p_yes = 1.0 / (1.0 + math.exp(-(0.2 - effect)))
                w = rng.uniform()
                yn = "dont_know" if w < 0.04 else ("yes" if rng.uniform() < p_yes else "no")
                survey.answers.append(answer_row(source_id, wave_id, rid, "water_problem_main_source", yn, row_number=row))
                # hours of piped water
                if rng.uniform() < 0.10:
                    hours = None
                else:
                    hours = float(np.clip(np.round(12 + 4 * effect + rng.normal(0.0, 3.0)), 0, 24))
                survey.answers.append(answer_row(source_id, wave_id, rid, "water_piped_hours_per_day", None, hours, row_number=row))
    return survey


def scaled_copy(survey: Survey, source_id: str, factor: float, **source_extra: Any) -> Survey:
    """The same survey under another source id with every weight multiplied by ``factor`` (and
    ``source_extra`` columns of raw.survey_sources, e.g. another single_psu_rule)."""
    out = Survey(source_id, survey.wave_id, source_extra=dict(source_extra))
    for r in survey.respondents:
        out.respondents.append({**r, "source_id": source_id, "weight": r["weight"] * factor})
    for a in survey.answers:
        out.answers.append({**a, "source_id": source_id})
    return out


# The case computed by hand in test_dbt_engine_hand.py (same numbers as the dbt unit test
# `survey_engine_hand_computed`): strata A (a1, a2), C (c1, c2), B (b1: single PSU).
HAND_CASE = [
    # respondent, stratum, psu, weight, hoh_sex, water_service_rating
    ("r1", "A", "a1", 2.0, "female", "good"),
    ("r2", "A", "a1", 1.0, "female", "poor"),
    ("r3", "C", "c1", 2.0, "female", "adequate"),
    ("r4", "C", "c1", 4.0, "female", "dont_know"),
    ("r5", "C", "c2", 2.0, "female", "excellent"),
    ("r6", "B", "b1", 1.0, "female", "good"),
    ("r7", "A", "a2", 8.0, "male", "very_poor"),
]


def hand_survey(source_id: str = "hand_case", wave_id: str = "w1") -> Survey:
    s = Survey(source_id, wave_id)
    for i, (rid, stratum, psu, w, sex, code) in enumerate(HAND_CASE, start=1):
        s.respondents.append(respondent_row(source_id, wave_id, rid, "IQG01", stratum, psu, w, sex, i))
        s.answers.append(answer_row(source_id, wave_id, rid, "water_service_rating", code, row_number=i))
    return s


def boundary_survey(source_id: str = "boundary_case", wave_id: str = "w1") -> Survey:
    """Everybody in IQG01 reports a problem (p = 1), nobody in IQG02 (p = 0); hoh_sex unknown."""
    rng = np.random.default_rng(7)
    s = Survey(source_id, wave_id)
    row = 0
    for gov, answer in (("IQG01", "yes"), ("IQG02", "no")):
        for stratum in ("s1", "s2"):
            for k in range(4):
                psu = f"{gov}-{stratum}-p{k}"
                for _ in range(6):
                    row += 1
                    rid = f"b{row:03d}"
                    s.respondents.append(respondent_row(source_id, wave_id, rid, gov, f"{gov}-{stratum}", psu,
                                                        rng.uniform(9.0, 11.0), None, row))
                    s.answers.append(answer_row(source_id, wave_id, rid, "water_problem_main_source", answer, row_number=row))
    return s


def df_zero_survey(source_id: str = "df_zero_case", wave_id: str = "w1") -> Survey:
    """Three strata with one PSU each: #PSU - #strata = 0, so no variance and no CI."""
    s = Survey(source_id, wave_id)
    row = 0
    for h in range(3):
        for _ in range(15):
            row += 1
            rid = f"d{row:03d}"
            s.respondents.append(respondent_row(source_id, wave_id, rid, "IQG08", f"h{h}", f"h{h}-p1", 10.0 + h, None, row))
            s.answers.append(answer_row(source_id, wave_id, rid, "water_problem_main_source",
                                        "yes" if row % 3 == 0 else "no", row_number=row))
    return s


def skewed_weights_survey(source_id: str = "skewed_case", wave_id: str = "w1") -> Survey:
    """40 answers (n >= 30) but one weight dominates: Kish n_eff ~ 1.1 < 30. Plus a domain (IQG14) whose
    only household skipped the question."""
    s = Survey(source_id, wave_id)
    for row in range(1, 41):
        rid = f"k{row:03d}"
        w = 1000.0 if row == 1 else 1.0
        s.respondents.append(respondent_row(source_id, wave_id, rid, "IQG13", "all", f"p{(row - 1) // 5}", w, None, row))
        s.answers.append(answer_row(source_id, wave_id, rid, "water_problem_main_source",
                                    "yes" if row % 2 == 0 else "no", row_number=row))
    # one household in another governorate that skipped the question: a domain with no answers
    s.respondents.append(respondent_row(source_id, wave_id, "k041", "IQG14", "all", "p99", 1.0, None, 41))
    s.answers.append(answer_row(source_id, wave_id, "k041", "water_problem_main_source", None, row_number=41))
    return s


def national_survey(source_id: str = "sim_national", wave_id: str = "2024-03", seed: int = 20240302,
                    **source_extra: Any) -> Survey:
    """A survey of all 19 governorates (so national estimates, area IQ, exist): per governorate strata
    urban and rural of 2 PSUs x 10 households with a governorate-specific base weight (unequal across
    governorates, so post-stratification to population changes national estimates); Halabja (IQG19) has one
    stratum of 2 PSUs x 6 households, so its estimates are suppressed (n < 30). Questions: the yes/no problem
    (about 4 % don't know) and the water rating."""
    rng = np.random.default_rng(seed)
    survey = Survey(source_id, wave_id, source_extra=dict(source_extra))
    row = 0
    for g, (gov, _) in enumerate(GOVERNORATES):
        base = rng.uniform(20.0, 400.0)
        level = rng.normal(0.0, 0.7)
        strata = [("urban", 2, 10)] if gov == "IQG19" else [("urban", 2, 10), ("rural", 2, 10)]
        for kind, n_psu, size in strata:
            if gov == "IQG19":
                size = 6
            for k in range(n_psu):
                effect = level + rng.normal(0.0, 0.5)
                for _ in range(size):
                    row += 1
                    rid = f"{source_id}-n{row:05d}"
                    hoh = "female" if rng.uniform() < 0.3 else "male"
                    survey.respondents.append(respondent_row(
                        source_id, wave_id, rid, gov, f"{gov}-{kind}", f"{gov}-{kind}-{k}",
                        base * rng.uniform(0.8, 1.25), hoh, row, kind))
                    p_yes = 1.0 / (1.0 + math.exp(-(0.3 - effect)))
                    yn = "dont_know" if rng.uniform() < 0.04 else ("yes" if rng.uniform() < p_yes else "no")
                    survey.answers.append(answer_row(source_id, wave_id, rid, "water_problem_main_source", yn,
                                                     row_number=row))
                    latent = effect + rng.normal(0.0, 1.0)
                    code = RATING_5[int(np.clip(np.digitize(latent, [-1.2, -0.4, 0.4, 1.2]), 0, 4))]
                    survey.answers.append(answer_row(source_id, wave_id, rid, "water_service_rating", code,
                                                     row_number=row))
    return survey


#: Strata the `combine` rule test names explicitly (the automatic choice would be baghdad_peri)
EXPLICIT_COMBINE = {"baghdad_rural": "baghdad_urban"}


def population(pcode: str, year: int) -> float:
    """The test population of a governorate (raw.ref_population): unequal, so post-stratification matters."""
    i = [p for p, _ in GOVERNORATES].index(pcode)
    return 1e6 + 1e5 * i + 1e3 * (year - 2020)


BUDGET_LINES: list[dict[str, Any]] = [
    # published percent only (SIGIR 2009 style): 70 % of a 112 USD million capital budget
    {"source_id": "budget_pct_alloc", "governorate_pcode": "IQG01", "governorate_name_source": "Anbar",
     "fiscal_year": 2009, "sector": "all", "budget_scope": "capital", "allocation_original": 112.0,
     "execution_pct_published": 70.0, "currency": "USD", "amount_unit": "USD million", "unit_multiplier": 1e6},
    # published percent, no amounts (SIGIR 2008 style)
    {"source_id": "budget_pct_only", "governorate_pcode": "IQG15", "governorate_name_source": "Ninewa",
     "fiscal_year": 2008, "sector": "all", "budget_scope": "total", "execution_pct_published": 7.0,
     "currency": "USD", "amount_unit": "USD million", "unit_multiplier": 1e6},
    # sector lines with allocation and expenditure: summed, rate computed = 125 / 150
    {"source_id": "budget_lines_demo", "governorate_pcode": "IQG08", "governorate_name_source": "بغداد",
     "fiscal_year": 2021, "sector": "water_sanitation", "budget_scope": "capital", "allocation_original": 100.0,
     "allocation_revised": 110.0, "expenditure": 80.0, "currency": "IQD", "amount_unit": "IQD billion",
     "unit_multiplier": 1e9},
    {"source_id": "budget_lines_demo", "governorate_pcode": "IQG08", "governorate_name_source": "بغداد",
     "fiscal_year": 2021, "sector": "health", "budget_scope": "capital", "allocation_original": 50.0,
     "allocation_revised": 40.0, "expenditure": 45.0, "currency": "IQD", "amount_unit": "IQD billion",
     "unit_multiplier": 1e9},
]

# Fiscal indicators (issue 6), hand-computed in tests/dbt/test_fiscal_marts.py. Kerbala 2021 in IQD million,
# three lines (A expenditure, B original allocation): sum(B) = 200, sum(A) = 180.
_PEFA = {"source_id": "budget_pefa_hand", "governorate_name_source": "كربلاء", "currency": "IQD",
         "amount_unit": "IQD million", "unit_multiplier": 1e6}
PEFA_LINES: list[dict[str, Any]] = [
    {**_PEFA, "governorate_pcode": "IQG12", "fiscal_year": 2021, "sector": "water_sanitation", "budget_scope": "capital",
     "funding_stream": "regions_development", "allocation_original": 100.0, "allocation_revised": 90.0, "expenditure": 80.0},
    {**_PEFA, "governorate_pcode": "IQG12", "fiscal_year": 2021, "sector": "health", "budget_scope": "operating",
     "funding_stream": "federal_ministries", "allocation_original": 50.0, "allocation_revised": 55.0, "expenditure": 60.0},
    {**_PEFA, "governorate_pcode": "IQG12", "fiscal_year": 2021, "sector": "education", "budget_scope": "capital",
     "funding_stream": "regions_development", "allocation_original": 50.0, "allocation_revised": 50.0, "expenditure": 40.0},
    # Najaf, same source and year: one line, for the allocation-to-population share ratio
    {**_PEFA, "governorate_pcode": "IQG04", "governorate_name_source": "النجف", "fiscal_year": 2021, "sector": "other",
     "budget_scope": "operating", "funding_stream": "own_revenue", "allocation_original": 100.0, "expenditure": 100.0},
    # 2022 had no budget law, 2023 follows it: no real change for 2023
    {**_PEFA, "governorate_pcode": "IQG12", "fiscal_year": 2022, "sector": "water_sanitation", "budget_scope": "capital",
     "funding_stream": "regions_development", "allocation_original": 100.0, "expenditure": 90.0},
    {**_PEFA, "governorate_pcode": "IQG12", "fiscal_year": 2023, "sector": "water_sanitation", "budget_scope": "capital",
     "funding_stream": "regions_development", "allocation_original": 100.0, "expenditure": 95.0},
    # water spending in 2024, the year of the test survey waves (fct_service_vs_spending); Halabja's survey
    # cells are suppressed (24 respondents)
    {"source_id": "budget_sector_2024", "governorate_pcode": "IQG15", "governorate_name_source": "Ninewa",
     "fiscal_year": 2024, "sector": "water_sanitation", "budget_scope": "capital", "allocation_original": 60.0,
     "expenditure": 50.0, "currency": "IQD", "amount_unit": "IQD billion", "unit_multiplier": 1e9},
    {"source_id": "budget_sector_2024", "governorate_pcode": "IQG19", "governorate_name_source": "Halabja",
     "fiscal_year": 2024, "sector": "water_sanitation", "budget_scope": "capital", "allocation_original": 6.0,
     "expenditure": 5.0, "currency": "IQD", "amount_unit": "IQD billion", "unit_multiplier": 1e9},
    # a partial source (January-July 2025, Eco Iraq style), declared partial in raw.budget_sources
    {"source_id": "budget_partial_hand", "governorate_pcode": "IQG12", "governorate_name_source": "Karbala",
     "fiscal_year": 2025, "sector": "all", "budget_scope": "total", "expenditure": 350.0, "currency": "IQD",
     "amount_unit": "IQD billion", "unit_multiplier": 1e9, "period_months": 7},
]
BUDGET_SOURCES: list[dict[str, Any]] = [
    {"source_id": "budget_pefa_hand", "title": "hand-computed PEFA case", "is_synthetic": True, "coverage": "complete"},
    {"source_id": "budget_partial_hand", "title": "partial spending Jan-Jul 2025", "is_synthetic": True,
     "coverage": "partial", "coverage_note": "January-July 2025"},
]


def build_test_warehouse(path: Path) -> dict[str, Survey]:
    """Write the standard test data set into a new DuckDB file at ``path``; return the surveys by source."""
    sim = simulate_cluster_survey("sim_hh_2024")
    surveys = {
        "sim_hh_2024": sim,
        "sim_hh_2024_x37": scaled_copy(sim, "sim_hh_2024_x37", 37.25),
        "hand_case": hand_survey(),
        "boundary_case": boundary_survey(),
        "df_zero_case": df_zero_survey(),
        "skewed_case": skewed_weights_survey(),
        # the same sample under the other single-PSU rules (samplics SinglePSUEst.certainty / .combine)
        "sim_hh_2024_certainty": scaled_copy(sim, "sim_hh_2024_certainty", 1.0, single_psu_rule="certainty_units"),
        "sim_hh_2024_combine": scaled_copy(sim, "sim_hh_2024_combine", 1.0, single_psu_rule="combine",
                                           strata_combine_json=json.dumps(EXPLICIT_COMBINE)),
        "sim_hh_2024_autocombine": scaled_copy(sim, "sim_hh_2024_autocombine", 1.0, single_psu_rule="combine"),
        "sim_national": national_survey(),
        "sim_national_ps": national_survey("sim_national_ps", post_stratify="governorate_population"),
    }
    con = duckdb.connect(str(path))
    try:
        create_raw_schema(con)
        for s in surveys.values():
            s.write(con)
        insert_rows(con, "question_bank", QUESTIONS)
        insert_rows(con, "indicator_registry", INDICATORS)
        insert_rows(con, "ref_governorates", [
            {"governorate_pcode": p, "name_en": n, "name_ar": n, "region": "Federal", "capital": n,
             "cod_ab_parent_pcode": "IQG06" if p == "IQG19" else p} for p, n in GOVERNORATES])
        insert_rows(con, "ref_population", [
            {"governorate_pcode": p, "year": y, "population": population(p, y), "method": "published", "source": "test"}
            for p, _ in GOVERNORATES for y in (2020, 2021, 2022, 2023, 2024, 2025)])
        from data_contracts import fiscal  # the real reference tables, as the ingestion loads them

        for table, frame in (("ref_exchange_rates", fiscal.exchange_rates()), ("ref_cpi", fiscal.cpi()),
                             ("ref_fiscal_years", fiscal.fiscal_years()), ("ref_budget_sectors", fiscal.budget_sectors())):
            insert_rows(con, table, frame.to_dicts())
        insert_rows(con, "budget_sources", BUDGET_SOURCES)
        budget = []
        for i, line in enumerate(BUDGET_LINES + PEFA_LINES, start=1):
            budget.append({"file_name": f"{line['source_id']}.csv", "file_sha256": "f" * 64, "row_number": i,
                           "is_synthetic": True, "as_of": None, **line})
        insert_rows(con, "budget_lines", budget)
    finally:
        con.close()
    return surveys


@dataclass
class DbtResult:
    returncode: int
    output: str


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(args: list[str], warehouse: Path, work_dir: Path) -> DbtResult:
    """Run ``dbt <args>`` on dbt_project/ against ``warehouse`` in a subprocess (absolute paths;
    target and logs under ``work_dir`` so concurrent runs never share dbt_project/target)."""
    env = {**os.environ, "MIZAN_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "DO_NOT_TRACK": "1"}
    cmd = [dbt_executable(), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
           "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs")]
    proc = subprocess.run(cmd, env=env, cwd=str(work_dir), capture_output=True, text=True, timeout=600)
    return DbtResult(proc.returncode, proc.stdout + proc.stderr)
