"""Strict parsing of numbers/dates and the validation of mapping files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from data_contracts.mapping import MappingError, load_indicators, load_mapping, load_question_bank
from data_contracts.parsing import ValueParseError, normalize_digits, parse_date, parse_integer, parse_number

SOURCES = Path(__file__).resolve().parents[2] / "data_contracts" / "sources"


@pytest.mark.parametrize(
    ("text", "value"),
    [("12", 12.0), ("-3.5", -3.5), ("1,234,567.25", 1234567.25), ("١٢٫٥", 12.5), ("۱۲۳", 123.0),
     ("١٬٢٣٤", 1234.0), (" 7 ", 7.0), ("0.0", 0.0)],
)
def test_parse_number_accepts(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["1,,0", "12abc", "1,23", "", "nan", "inf", "1.2.3", ",5", "1,2345", "--1", "١,,٠"])
def test_parse_number_rejects_with_the_value_named(text):
    with pytest.raises(ValueParseError, match="not a number"):
        parse_number(text)


def test_parse_integer():
    assert parse_integer("٢٠٢٣") == 2023
    assert parse_integer("3.0") == 3
    with pytest.raises(ValueParseError, match="'3.5' is not a whole number"):
        parse_integer("3.5")


def test_parse_date_keeps_the_device_local_date():
    # 2021-07-10T23:41 at +03:00 is 20:41 UTC the same day; 00:30+03:00 is the previous day in UTC
    assert parse_date("2021-07-11T00:30:00.000+03:00") == dt.date(2021, 7, 11)
    assert parse_date("٢٠٢١-٠٧-١٠") == dt.date(2021, 7, 10)
    with pytest.raises(ValueParseError):
        parse_date("10/07/2021")
    with pytest.raises(ValueParseError, match="not a valid date"):
        parse_date("2021-02-30")


def test_normalize_digits():
    assert normalize_digits("٠١٢٣٤٥٦٧٨٩") == "0123456789"
    assert normalize_digits("۰۱۲۳۴۵۶۷۸۹") == "0123456789"


def test_every_shipped_mapping_is_valid():
    names = sorted(p.stem for p in SOURCES.glob("*.yaml"))
    assert names == [
        "ecoiraq_2025_jan_jul_governorate_spending_partial", "iom_dtm_ila5_2020", "mizan_demo_budget", "mizan_demo_firm_b", "mizan_demo_national", "mizan_demo_training", "reach_mcna_2020_incamp",
        "sigir_2008_provincial_budget_execution_pct", "sigir_2009_provincial_capital_budget_execution",
        "talafar_water_2021",
    ]
    for p in SOURCES.glob("*.yaml"):
        assert load_mapping(p).source_id == p.stem


def test_mapping_errors_name_the_file_and_field(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("source_id: x\ndomain: survey\ntitle: t\nformat: kobo_csv\nfiles: []\n")
    with pytest.raises(MappingError) as exc:
        load_mapping(p)
    assert "bad.yaml" in str(exc.value) and "respondent_id" in str(exc.value)
    p.write_text("domain: spreadsheet\n")
    with pytest.raises(MappingError, match="domain: survey"):
        load_mapping(p)
    p.write_text(
        "source_id: x\ndomain: budget\ntitle: t\nformat: csv\nfiles: [{path: a.csv}]\ngovernorate: {column: g, constant: x}\n"
        "fiscal_year: {column: y}\nsector: {constant: all}\nbudget_scope: {constant: total}\ncurrency: IQD\n"
        "amount_unit: IQD\nunit_multiplier: 1\n"
    )
    with pytest.raises(MappingError, match="exactly one of"):
        load_mapping(p)


def test_question_bank_codes_are_text_and_indicators_reference_it():
    bank = load_question_bank()
    assert bank["water_problem_main_source"]["choice_codes"] == ["yes", "no"]
    indicators = load_indicators()
    assert {"water_service_good", "water_service_poor", "water_supply_regular_good", "water_office_receptive_good",
            "water_problem_reported", "water_complaint_actioned", "water_piped_hours_mean", "electricity_sufficient",
            "water_sufficient", "waste_collection_available", "school_access", "clinic_access",
            "hospital_access"} <= set(indicators)
    for ind in indicators.values():
        for field in ("definition", "numerator", "denominator", "unit", "estimation_method", "suppression_rule",
                      "ci_method", "version"):
            assert ind.get(field), (ind["indicator_id"], field)
        # a distribution has no single good direction; every other indicator states one
        # (or an indicator of a need, which says why: direction_note)
        assert (ind.get("direction") is None) == (ind["indicator_type"] == "distribution" or "direction_note" in ind), \
            ind["indicator_id"]
        assert ind.get("direction") in (None, "higher_is_better", "lower_is_better")


def test_scientific_notation_as_r_and_stata_write_it():
    assert parse_number("1.5e+03") == 1500.0
    assert parse_number("2E-2") == 0.02
    with pytest.raises(ValueParseError):
        parse_number("1.5e")
