"""The reporting models (dbt_project/models/reporting): enforced contracts, their unit and data tests in the
build, and suppression applied once on the dbt fixture warehouse."""

from __future__ import annotations

import json

import duckdb

from pipelines.project import dbt_project

REPORTING = ("rpt_governorate_estimates", "rpt_sector_headlines")


def test_reporting_contracts_are_enforced_with_a_type_per_column():
    manifest = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    for name in REPORTING:
        node = models[name]
        assert node["schema"] == "reporting" and node["config"]["materialized"] == "table"
        assert node["config"]["contract"]["enforced"] is True, name
        assert node["columns"] and all(c.get("data_type") for c in node["columns"].values()), name


def test_dbt_build_ran_the_reporting_tests(dbt_warehouse):
    out = dbt_warehouse.build_output
    for test in ("reporting_blanks_suppressed_cells_and_compares_with_the_national_estimate",
                 "rpt_governorate_estimates_suppressed_carries_no_number",
                 "rpt_sector_headlines_suppressed_carries_no_number",
                 "assert_rpt_suppressed_cells_carry_no_number"):
        assert test in out, test
    assert "ERROR=0" in out and "WARN=0" in out


def test_suppressed_cells_of_the_fixture_reach_reporting_without_numbers(dbt_warehouse):
    with duckdb.connect(str(dbt_warehouse.path), read_only=True) as con:
        suppressed = con.execute(
            "SELECT count(*) FROM marts.fct_service_indicators WHERE disaggregation = 'all' AND is_suppressed "
            "AND indicator_id IN (SELECT indicator_id FROM marts.dim_indicator WHERE indicator_type <> 'distribution')"
        ).fetchone()[0]
        shown = con.execute(
            "SELECT count(*) FILTER (WHERE status = 'suppressed'), "
            "count(*) FILTER (WHERE status = 'suppressed' AND (estimate IS NOT NULL OR ci_lower IS NOT NULL "
            "OR ci_upper IS NOT NULL OR std_error IS NOT NULL)) FROM reporting.rpt_governorate_estimates").fetchone()
    assert suppressed > 0, "the fixture plants suppressed cells"
    assert shown == (suppressed, 0)
