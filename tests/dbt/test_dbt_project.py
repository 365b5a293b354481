"""The dbt project itself: parses without a database, seed of t quantiles, raw-table contract."""

from __future__ import annotations

import csv
import json
import re

import pytest
from scipy import stats

import raw_fixtures

SEED = raw_fixtures.DBT_PROJECT_DIR / "seeds" / "t_quantiles.csv"


def test_dbt_parse_needs_no_database(tmp_path):
    """CI runs `dbt parse` first: it must not open (or create) the warehouse."""
    warehouse = tmp_path / "nowhere" / "never.duckdb"
    result = raw_fixtures.run_dbt(["parse"], warehouse, tmp_path)
    assert result.returncode == 0, result.output[-4000:]
    assert not warehouse.exists() and not warehouse.parent.exists()
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    sources = {n["name"]: n for n in manifest["sources"].values()}
    assert set(sources) == {"survey_respondents", "survey_answers", "survey_respondent_attributes",
                            "question_bank", "indicator_registry",
                            "survey_sources", "survey_wave_loads", "budget_lines", "ref_governorates", "ref_population",
                            "budget_sources", "ref_exchange_rates", "ref_cpi", "ref_fiscal_years",
                            "ref_budget_sectors", "training_participants", "training_attendance", "training_sources",
                            "results_framework_results", "results_framework_indicators", "results_framework_targets"}
    for name, node in sources.items():
        assert node["meta"]["dagster"]["asset_key"] == ["raw", name]
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert models["fct_service_indicators"]["schema"] == "marts"
    assert models["stg_survey__respondents"]["schema"] == "staging"
    assert models["int_indicator_estimates"]["schema"] == "intermediate"
    unit_tests = [n for n in manifest.get("unit_tests", {}).values()]
    assert any(u["name"] == "survey_engine_hand_computed" for u in unit_tests)


def test_profile_reads_the_warehouse_from_the_environment():
    text = (raw_fixtures.DBT_PROJECT_DIR / "profiles.yml").read_text()
    assert "env_var('MIZAN_WAREHOUSE'" in text and "threads: 1" in text


def test_t_quantile_seed_matches_scipy():
    with SEED.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["df"]) for r in rows] == list(range(1, 1001))
    for r in rows:
        assert float(r["t_975"]) == stats.t.ppf(0.975, int(r["df"]))  # exact: written with repr


def test_engine_macro_is_the_only_estimation_code():
    """Every estimate goes through macros/survey_estimates.sql: no model computes a variance itself."""
    models = raw_fixtures.DBT_PROJECT_DIR / "models"
    users = [p.name for p in models.rglob("*.sql") if "survey_estimates(" in p.read_text()]
    assert users == ["int_indicator_estimates.sql"]
    changes = [p.name for p in models.rglob("*.sql") if "survey_change(" in p.read_text()]
    assert changes == ["fct_indicator_change.sql"]
    for p in models.rglob("*.sql"):
        assert not re.search(r"\bsqrt\s*\(", p.read_text()), p


def test_raw_fixture_tables_match_the_ingestion_ddl():
    """The columns dbt reads (raw_fixtures.RAW_DDL, from docs/architecture.md) exist in the tables the
    ingestion creates (pipelines/warehouse.py), with the same types."""
    warehouse = pytest.importorskip("pipelines.warehouse")

    def parse(ddl: str) -> dict[str, str]:
        cols = {}
        for part in re.split(r",\s*(?![^\[]*\])", " ".join(ddl.split())):
            name, typ = part.strip().split(" ", 1)
            cols[name] = re.sub(r" DEFAULT .*$", "", typ.replace(" NOT NULL", "")).strip()
        return cols

    for table, ddl in raw_fixtures.RAW_DDL.items():
        assert table in warehouse.RAW_DDL, table
        theirs = parse(warehouse.RAW_DDL[table])
        for col, typ in parse(ddl).items():
            assert theirs.get(col) == typ, f"raw.{table}.{col}: ingestion has {theirs.get(col)}, dbt expects {typ}"
