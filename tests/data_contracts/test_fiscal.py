"""Fiscal reference tables (data_contracts/fiscal.py): they load, carry the facts they were written from,
and their checks fail on a bad table."""

from __future__ import annotations

import shutil

import pandera.errors
import pytest

from data_contracts import fiscal


def test_reference_tables_load_and_cover_the_years():
    rates = {r["year"]: r["iqd_per_usd"] for r in fiscal.exchange_rates().iter_rows(named=True)}
    assert set(range(2004, 2027)) <= set(rates)
    assert rates[2019] == 1182 and rates[2021] == 1450 and rates[2024] == 1300
    # change years: days-weighted averages
    assert rates[2020] == pytest.approx((353 * 1182 + 13 * 1450) / 366, abs=0.01)
    assert rates[2023] == pytest.approx((37 * 1450 + 328 * 1300) / 365, abs=0.01)
    cpi = fiscal.cpi()
    assert set(range(2004, 2026)) <= set(cpi["year"])
    assert cpi.filter(cpi["year"] == 2010)["cpi"].item() == pytest.approx(100.0)
    assert set(cpi.filter(cpi["year"] >= 2024)["status"]) == {"estimate", "projection"}
    years = {r["fiscal_year"]: r["budget_law"] for r in fiscal.fiscal_years().iter_rows(named=True)}
    assert [y for y, law in years.items() if law is False] == [2014, 2020, 2022]
    assert years[2023] and years[2024] and years[2025]
    assert fiscal.survey_sector_codes()["municipal_waste"] == ["waste"]
    assert fiscal.survey_sector_codes()["other"] == []


def test_budget_sectors_match_question_bank_sectors():
    from data_contracts.mapping import question_sectors

    bank = set(question_sectors())
    for sector, survey in fiscal.survey_sector_codes().items():
        assert set(survey) <= bank, sector


@pytest.mark.parametrize("name, loader", [
    ("exchange_rates.csv", fiscal.exchange_rates), ("cpi.csv", fiscal.cpi), ("fiscal_years.csv", fiscal.fiscal_years),
])
def test_a_duplicated_year_fails_the_check(tmp_path, name, loader):
    path = tmp_path / name
    shutil.copy(fiscal.REFERENCE_DIR / name, path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[-1]]) + "\n")  # the last year twice
    with pytest.raises(pandera.errors.SchemaError):
        loader(path)


def test_a_non_positive_rate_fails_the_check(tmp_path):
    path = tmp_path / "exchange_rates.csv"
    text = (fiscal.REFERENCE_DIR / "exchange_rates.csv").read_text().replace("\n2021,1450.00,", "\n2021,0,")
    path.write_text(text)
    with pytest.raises(pandera.errors.SchemaError):
        fiscal.exchange_rates(path)
