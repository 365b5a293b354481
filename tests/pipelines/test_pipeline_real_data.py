"""The whole pipeline on the real public data in ../shared/data (Dagster → DuckDB → dbt), checked against
independent references: samplics on the Tal Afar export read here, the published SIGIR figures, and file
row counts and SHA-256 computed in the test."""

from __future__ import annotations

import hashlib
import warnings

import duckdb
import numpy as np
import polars as pl
import pytest

TALAFAR = "surveys/talafar_water_2021/export.csv"
DTM = "surveys/iom_dtm_ila5_2020/locations.csv"
MCNA = "surveys/reach_mcna_2020_incamp/export.csv"
SIGIR_2009 = "budget/sigir_2009_provincial_capital_budget_execution.csv"
SIGIR_2008 = "budget/sigir_2008_provincial_budget_execution_pct.csv"
ECOIRAQ_2025 = "budget/ecoiraq_2025_jan_jul_governorate_spending_partial.csv"
COD_AB_18 = [f"IQG{i:02d}" for i in range(1, 19)]


def q(warehouse, sql: str, params: list | None = None) -> pl.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).pl()
    finally:
        con.close()


def test_run_succeeds_and_reports_every_file(real_run):
    assert real_run["status"] == "published"
    files = {(f["source_id"], f["file_name"]) for f in real_run["files"]}
    assert files == {
        ("talafar_water_2021", "export.csv"),
        ("iom_dtm_ila5_2020", "locations.csv"),
        ("reach_mcna_2020_incamp", "export.csv"),
        ("sigir_2009_provincial_capital_budget_execution", "sigir_2009_provincial_capital_budget_execution.csv"),
        ("sigir_2008_provincial_budget_execution_pct", "sigir_2008_provincial_budget_execution_pct.csv"),
        ("ecoiraq_2025_jan_jul_governorate_spending_partial", "ecoiraq_2025_jan_jul_governorate_spending_partial.csv"),
    }
    assert real_run["skipped_sources"] == []
    dbt_tests = {r["status"]: r["n"] for r in real_run["dbt"] if r["resource_type"] == "test"}
    assert dbt_tests.get("pass", 0) > 50 and dbt_tests.get("fail", 0) == 0 and dbt_tests.get("error", 0) == 0


def test_row_accounting_per_file_matches_the_files(real_warehouse, shared_data):
    reg = q(real_warehouse, "SELECT * FROM audit.file_registry")
    expected_rows = {
        TALAFAR: 632,  # counted independently below as well
        DTM: 3852,
        MCNA: 288,
        SIGIR_2009: 16,  # 15 provinces + the Kurdistan aggregate
        SIGIR_2008: 14,
        ECOIRAQ_2025: 17,  # three top-five lists (total, current, investment)
    }
    for rel in (TALAFAR, DTM, MCNA, SIGIR_2009, SIGIR_2008, ECOIRAQ_2025):
        path = shared_data / rel
        source_id = rel.split("/")[1] if rel.startswith("surveys/") else path.stem
        row = reg.filter((pl.col("source_id") == source_id) & (pl.col("file_name") == path.name)).row(0, named=True)
        assert row["rows_read"] == pl.read_csv(path, infer_schema=False).height == expected_rows[rel]
        assert row["rows_read"] == row["rows_loaded"] + row["rows_excluded"] + row["rows_quarantined"]
        assert row["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        n_q = q(real_warehouse, "SELECT count(DISTINCT row_number) FROM audit.quarantine WHERE source_id = ? "
                "AND file_name = ?", [source_id, path.name]).item()
        n_x = q(real_warehouse, "SELECT count(*) FROM audit.exclusions WHERE source_id = ? AND file_name = ?",
                [source_id, path.name]).item()
        assert (n_q, n_x) == (row["rows_quarantined"], row["rows_excluded"])
    # the loaded rows carry their file's hash and row number
    resp = q(real_warehouse, "SELECT file_sha256, min(row_number), max(row_number), count(*) FROM raw.survey_respondents "
             "WHERE source_id = 'talafar_water_2021' GROUP BY 1")
    assert resp.rows() == [(hashlib.sha256((shared_data / TALAFAR).read_bytes()).hexdigest(), 1, 632, 632)]


def test_regional_aggregate_row_is_excluded_with_its_reason(real_warehouse):
    # SIGIR 2009's last row is the Kurdistan Region as a whole, with no figures: not a governorate line
    assert q(real_warehouse, "SELECT count(*) FROM audit.quarantine WHERE source_id LIKE 'sigir%'").item() == 0
    rows = q(real_warehouse, "SELECT row_number, reason FROM audit.exclusions "
             "WHERE source_id = 'sigir_2009_provincial_capital_budget_execution'")
    assert rows["row_number"].to_list() == [16]
    assert rows["reason"].item().startswith("regional aggregate for the Kurdistan Region")


def test_demo_unknown_governorate_lands_in_quarantine_with_suggestions(demo_warehouse):
    # the demo budget workbook of 2024 has a sheet titled for بغداد الجديدة, a district of Baghdad
    # (pipelines/demo/budget_workbooks.py): every line of that sheet is quarantined with the reason
    rows = q(demo_warehouse, "SELECT DISTINCT file_name, sheet_name, value, reason FROM audit.quarantine "
             "WHERE source_id = 'mizan_demo_budget' AND reason LIKE 'governorate:%'")
    assert rows.rows() == [(
        "budget_2024.xlsx", "Baghdad Al-Jadida", "بغداد الجديدة",
        "governorate: unknown governorate 'بغداد الجديدة'; closest known: بغداد (IQG08), القادسية (IQG05)",
    )]


def test_sigir_execution_rates_as_published(real_warehouse):
    got = dict(
        q(real_warehouse, "SELECT governorate_pcode, execution_rate FROM marts.fct_budget_execution "
          "WHERE source_id = 'sigir_2009_provincial_capital_budget_execution' AND fiscal_year = 2009").rows()
    )
    # SIGIR Quarterly Report, Oct 2009: Anbar 70 %, Baghdad 33 %, Ninewa 0 %, Basra 25 %
    assert got["IQG01"] == pytest.approx(0.70, abs=1e-12)
    assert got["IQG08"] == pytest.approx(0.33, abs=1e-12)
    assert got["IQG15"] == pytest.approx(0.0, abs=1e-12)
    assert got["IQG02"] == pytest.approx(0.25, abs=1e-12)
    assert len(got) == 15
    amounts = dict(
        q(real_warehouse, "SELECT governorate_pcode, allocation FROM marts.fct_budget_execution "
          "WHERE source_id = 'sigir_2009_provincial_capital_budget_execution'").rows()
    )
    assert amounts["IQG08"] == pytest.approx(551.0)  # USD million as published
    units = q(real_warehouse, "SELECT DISTINCT currency, unit FROM marts.fct_budget_execution WHERE source_id LIKE 'sigir_%'")
    assert units.rows() == [("USD", "USD million")]
    got_2008 = dict(
        q(real_warehouse, "SELECT governorate_pcode, execution_rate FROM marts.fct_budget_execution "
          "WHERE source_id = 'sigir_2008_provincial_budget_execution_pct'").rows()
    )
    assert got_2008["IQG15"] == pytest.approx(0.07) and got_2008["IQG04"] == pytest.approx(0.95) and len(got_2008) == 14


def test_the_partial_2025_spending_is_partial_and_never_summed_with_its_parts(real_warehouse):
    # Eco Iraq Jan-Jul 2025 (IQD billion): Anbar total 402.2, current 171.0, investment 230.8
    rows = q(real_warehouse, "SELECT budget_scope, expenditure, is_partial, period_months, execution_rate "
             "FROM marts.fct_budget_execution WHERE source_id = 'ecoiraq_2025_jan_jul_governorate_spending_partial' "
             "AND governorate_pcode = 'IQG01' ORDER BY budget_scope").rows()
    assert rows == [("capital", 230.8, True, 7, None), ("operating", 171.0, True, 7, None), ("total", 402.2, True, 7, None)]
    pefa = q(real_warehouse, "SELECT governorate_pcode, expenditure_iqd, capital_share_expenditure, pefa_pi1_outturn, "
             "allocation_to_population_share_ratio FROM marts.fct_budget_pefa WHERE source_id = "
             "'ecoiraq_2025_jan_jul_governorate_spending_partial' AND governorate_pcode IN ('IQG01', 'IQG07') ORDER BY 1").rows()
    # Anbar: the printed total, not total + parts (804.0 bn); Babil: only current spending listed, so no
    # capital share (its investment spending is not reported, not zero); no allocation, so no PI-1
    assert pefa[0][0] == "IQG01" and pefa[0][1] == pytest.approx(402.2e9)
    assert pefa[1][0] == "IQG07" and pefa[1][1] == pytest.approx(122.0e9)
    assert [r[2:] for r in pefa] == [(None, None, None), (None, None, None)]
    assert q(real_warehouse, "SELECT budget_law FROM marts.dim_fiscal_year WHERE fiscal_year = 2022").item() is False


def test_province_names_as_published_agree_with_compiled_pcodes(real_warehouse, shared_data):
    for rel in (SIGIR_2009, SIGIR_2008):
        published = pl.read_csv(shared_data / rel, infer_schema=False).filter(pl.col("adm1_pcode_cod2019").is_not_null())
        loaded = q(real_warehouse, "SELECT governorate_name_source, governorate_pcode FROM raw.budget_lines WHERE file_name = ?",
                   [(shared_data / rel).name])
        expected = dict(zip(published["province_name_source"], published["adm1_pcode_cod2019"]))
        assert dict(loaded.rows()) == expected


def test_marts_hold_tal_afar_dtm_and_budget_indicators(real_warehouse):
    talafar = q(real_warehouse, "SELECT DISTINCT indicator_id, governorate_pcode FROM marts.fct_service_indicators "
                "WHERE source_id = 'talafar_water_2021'")
    assert set(talafar["governorate_pcode"]) == {"IQG15"}
    assert {
        "water_service_good", "water_service_poor", "water_supply_regular_good", "water_office_receptive_good",
        "water_problem_reported", "water_complaint_actioned", "water_piped_hours_mean",
    } <= set(talafar["indicator_id"])
    dtm = q(real_warehouse, "SELECT indicator_id, count(DISTINCT governorate_pcode) AS n FROM marts.fct_service_indicators "
            "WHERE source_id = 'iom_dtm_ila5_2020' AND disaggregation = 'all' GROUP BY 1")
    assert dict(dtm.rows()) == {  # 19 governorates and the whole country (IQ)
        i: 20 for i in ("electricity_sufficient", "water_sufficient", "waste_collection_available",
                        "school_access", "clinic_access", "hospital_access")
    }
    govs = q(real_warehouse, "SELECT DISTINCT governorate_pcode FROM marts.fct_service_indicators WHERE source_id = 'iom_dtm_ila5_2020'")
    # all 18 COD-AB governorates, and Halabja (IQG19): ILA V files Halabja district under Sulaymaniyah; ILA V
    # reached every governorate, so it has national estimates (IQ)
    assert sorted(govs["governorate_pcode"]) == ["IQ"] + COD_AB_18 + ["IQG19"]
    split = dict(q(real_warehouse, "SELECT governorate_pcode, count(*) FROM raw.survey_respondents "
                   "WHERE source_id = 'iom_dtm_ila5_2020' AND governorate_pcode IN ('IQG06', 'IQG19') GROUP BY 1").rows())
    assert split == {"IQG06": 359, "IQG19": 38}  # 397 locations under GovernorateE = Sulaymaniyah
    budget = q(real_warehouse, "SELECT count(DISTINCT governorate_pcode) FROM marts.fct_budget_execution").item()
    assert budget == 15  # every SIGIR 2009 province; 2008 covers 14 of them


def _samplics_proportion(y: np.ndarray, answered: np.ndarray, stratum, psu, weight, domain: np.ndarray):
    """samplics TaylorEstimator on a 0/1 item: every respondent passed (PSUs stay), y filled with 1 outside
    'answered and in the domain', that condition as domain=, the True cell read (DESIGN.md)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from samplics import TaylorEstimator
        from samplics.utils.types import PopParam, SinglePSUEst
    mask = answered & domain
    est = TaylorEstimator(PopParam.mean)
    est.estimate(y=np.where(mask, y, 1.0), samp_weight=weight, stratum=stratum, psu=psu, domain=mask,
                 single_psu=SinglePSUEst.skip)
    return est.point_est[True], est.stderror[True]


@pytest.mark.parametrize(
    ("indicator", "success"),
    [("water_service_good", {"good", "excellent"}), ("water_service_poor", {"poor", "very_poor"})],
)
@pytest.mark.parametrize("sex", ["all", "male", "female"])
def test_tal_afar_estimates_equal_samplics(real_warehouse, shared_data, indicator, success, sex):
    raw = pl.read_csv(shared_data / TALAFAR, infer_schema=False).filter(pl.col("consent_remote") == "yes")
    level = raw["level_service"].to_numpy()
    substantive = {"excellent", "good", "adequate", "poor", "very_poor"}
    answered = np.array([v in substantive for v in level])
    y = np.array([1.0 if v in success else 0.0 for v in level])
    domain = np.ones(raw.height, dtype=bool) if sex == "all" else (raw["gender_hoh"] == sex).to_numpy()
    point, se = _samplics_proportion(
        y, answered, raw["neighbourhood"].to_numpy().astype(str), raw["X_uuid"].to_numpy().astype(str),
        np.ones(raw.height), domain,
    )
    got = q(real_warehouse, "SELECT estimate, std_error, n_unweighted FROM marts.fct_service_indicators "
            "WHERE source_id = 'talafar_water_2021' AND indicator_id = ? AND disaggregation = ? AND disaggregation_value = ?",
            [indicator, "all" if sex == "all" else "hoh_sex", sex])
    assert got.height == 1
    estimate, std_error, n = got.row(0)
    assert estimate == pytest.approx(point, abs=1e-9, rel=0)
    assert std_error == pytest.approx(se, abs=1e-9, rel=0)
    assert n == int((answered & domain).sum())


ELECTRICITY_BANDS = {  # the DTM answer texts, as in the mapping's recode (checked against the file below)
    "All or nearly all have enough electricity (75-100%)": "all_or_nearly_all",
    "Most the householdshave enough electricity (50-74%)": "most",
    "Less than half the households have enough electricity (25-49%)": "less_than_half",
    "Less than a quarter have enough electricity (1-24%)": "less_than_quarter",
    "None of the households have enough electricity (0%)": "none",
}


@pytest.mark.parametrize("band", ["all_or_nearly_all", "most", "none"])
def test_dtm_national_estimates_equal_samplics(real_warehouse, shared_data, band):
    """IOM DTM ILA V reached every governorate, so it has national (IQ) estimates: each share of the
    electricity-sufficiency distribution, and the headline indicator (all or nearly all), equal samplics on
    the locations read here (strata = governorate as filed by DTM, each location its own PSU, weights = IDP +
    returnee families), restricted to the locations the warehouse loaded."""
    raw = pl.read_csv(shared_data / DTM, infer_schema=False)
    assert set(raw["Q4.1 ElectricitySufficiency"].drop_nulls().unique()) <= set(ELECTRICITY_BANDS)
    loaded = set(q(real_warehouse, "SELECT respondent_id FROM raw.survey_respondents WHERE source_id = "
                   "'iom_dtm_ila5_2020'")["respondent_id"])
    raw = raw.filter(pl.col("LocationID").is_in(list(loaded)))
    assert raw.height == len(loaded) > 3000
    codes = raw["Q4.1 ElectricitySufficiency"].replace_strict(ELECTRICITY_BANDS, default=None).to_numpy()
    answered = np.array([c is not None for c in codes])
    y = np.array([1.0 if c == band else 0.0 for c in codes])
    weight = (raw["Q3.1 IDPFamiliesNum"].cast(pl.Float64) + raw["Q3.2 ReturneeFamiliesNum"].cast(pl.Float64)).to_numpy()
    point, se = _samplics_proportion(y, answered, raw["GovernorateE"].to_numpy().astype(str),
                                     raw["LocationID"].to_numpy().astype(str), weight, np.ones(raw.height, bool))
    share = q(real_warehouse, "SELECT estimate, std_error, n_unweighted, is_suppressed FROM "
              "marts.fct_response_distribution WHERE source_id = 'iom_dtm_ila5_2020' AND indicator_id = "
              "'electricity_sufficiency_distribution' AND governorate_pcode = 'IQ' AND disaggregation = 'all' "
              "AND choice_code = ?", [band]).row(0)
    assert share[0] == pytest.approx(point, abs=1e-9, rel=0) and share[1] == pytest.approx(se, abs=1e-9, rel=0)
    assert share[2] == int(answered.sum()) and not share[3]
    if band == "all_or_nearly_all":
        headline = q(real_warehouse, "SELECT estimate, std_error FROM marts.fct_service_indicators WHERE source_id = "
                     "'iom_dtm_ila5_2020' AND indicator_id = 'electricity_sufficient' AND governorate_pcode = 'IQ' "
                     "AND disaggregation = 'all'").row(0)
        assert headline == (pytest.approx(point, abs=1e-9, rel=0), pytest.approx(se, abs=1e-9, rel=0))


def _mcna_respondents(shared_data) -> pl.DataFrame:
    """The MCNA in-camp export read here: answered calls with consent and a camp (the one row without a
    camp is quarantined by the pipeline: its cluster is blank)."""
    raw = pl.read_csv(shared_data / MCNA, infer_schema=False)
    return raw.filter((pl.col("call_status") == "answered") & (pl.col("consent") == "yes") & pl.col("camp_name").is_not_null())


def test_mcna_rows_are_accounted_for_with_their_reasons(real_warehouse):
    reasons = q(real_warehouse, "SELECT reason, count(*) FROM audit.exclusions WHERE source_id = 'reach_mcna_2020_incamp' "
                "GROUP BY 1 ORDER BY 1").rows()
    label = "call not answered (wrong number, phone off or no answer)"
    assert reasons == [(f"{label} (call_status = 'no_answer')", 3), (f"{label} (call_status = 'off')", 10),
                       (f"{label} (call_status = 'wrong_number')", 11)]
    assert q(real_warehouse, "SELECT row_number, column_name, reason FROM audit.quarantine WHERE source_id = "
             "'reach_mcna_2020_incamp'").rows() == [(270, "camp_name", "psu is blank")]
    camps = q(real_warehouse, "SELECT governorate_pcode, district_pcode, psu, count(*) FROM raw.survey_respondents "
              "WHERE source_id = 'reach_mcna_2020_incamp' GROUP BY ALL ORDER BY ALL").rows()
    assert camps == [("IQG01", "IQG01Q01", "aaf", 66), ("IQG01", "IQG01Q01", "htc", 55),
                     ("IQG09", "IQG09Q03", "kabarto.1", 79), ("IQG09", "IQG09Q03", "kabarto.2", 63)]
    design = q(real_warehouse, "SELECT degrees_of_freedom, n_respondents FROM marts.dim_wave WHERE source_id = "
               "'reach_mcna_2020_incamp'").row(0)
    assert design == (2, 263)  # 4 camps (PSUs) - 2 governorates (strata)


MCNA_ITEMS = {  # indicator: (column, success codes, substantive codes), as the mapping recodes them
    "health_care_needed": ("health_accessed", {"yes"}, {"yes", "no"}),
    "women_girls_feel_unsafe": ("feel_unsafe", {"yes"}, {"yes", "no"}),
    "health_facility_within_one_hour": ("distance_clinic", {"less_15", "less_30", "less_hour"},
                                        {"less_15", "less_30", "less_hour", "less_3hours", "more_3hours"}),
    "complaint_actioned": ("complaint_outcome", {"action_was_taken"}, {"action_was_taken", "nothing_happened"}),
}


@pytest.mark.parametrize("indicator", sorted(MCNA_ITEMS))
@pytest.mark.parametrize(("pcode", "governorate"), [("IQG01", "al.anbar"), ("IQG09", "duhok")])
def test_mcna_estimates_equal_samplics_with_camps_as_clusters(real_warehouse, shared_data, indicator, pcode, governorate):
    raw = _mcna_respondents(shared_data)
    column, success, substantive = MCNA_ITEMS[indicator]
    values = raw[column].to_numpy()
    answered = np.array([v in substantive for v in values])
    y = np.array([1.0 if v in success else 0.0 for v in values])
    in_domain = (raw["governorate_cccm"] == governorate).to_numpy()
    if y[answered & in_domain].sum() == 0:
        point, se = 0.0, 0.0  # no "yes" at all (samplics divides by the estimate and cannot say it)
    else:
        point, se = _samplics_proportion(y, answered, raw["governorate_cccm"].to_numpy().astype(str),
                                         raw["camp_name"].to_numpy().astype(str), np.ones(raw.height), in_domain)
    got = q(real_warehouse, "SELECT estimate, std_error, n_unweighted, degrees_of_freedom FROM marts.fct_service_indicators "
            "WHERE source_id = 'reach_mcna_2020_incamp' AND indicator_id = ? AND governorate_pcode = ? "
            "AND disaggregation = 'all'", [indicator, pcode]).row(0)
    assert got[0] == pytest.approx(point, abs=1e-9, rel=0) and got[1] == pytest.approx(se, abs=1e-9, rel=0)
    assert got[2] == int((answered & (raw["governorate_cccm"] == governorate).to_numpy()).sum()) and got[3] == 2


def test_mcna_by_hand_and_against_reach_published_district_figures(real_warehouse, shared_data):
    est = {(r[0], r[1]): r[2:] for r in q(real_warehouse, "SELECT indicator_id, governorate_pcode, estimate, ci_lower, "
           "ci_upper FROM marts.fct_service_indicators WHERE source_id = 'reach_mcna_2020_incamp' AND disaggregation = 'all'"
           ).rows()}
    # counted in the export: Anbar camps, feel_unsafe yes 4, no 114, do_not_know 3; Duhok: yes 0 of 142
    assert est[("women_girls_feel_unsafe", "IQG01")][0] == pytest.approx(4 / 118, abs=1e-12)
    assert est[("women_girls_feel_unsafe", "IQG09")][0] == 0.0
    # distance_clinic in Duhok camps: 133 of 142 within an hour (less_15 129, less_30 4; less_3hours 1, more_3hours 8)
    assert est[("health_facility_within_one_hour", "IQG09")][0] == pytest.approx(133 / 142, abs=1e-12)
    # REACH's published in-camp results by district (weighted by camp population, which the export lacks) lie
    # inside our 95 % intervals: indicator g63 (women and girls feel unsafe) and g28 (clinic within one hour)
    published = {r["ADM2_EN"]: r for r in pl.read_csv(
        shared_data / "surveys/reach_mcna_2020_incamp/mcna_idp_in_camp_results_by_district.csv",
        infer_schema=False).iter_rows(named=True)}
    for district, pcode in (("Al-Falluja", "IQG01"), ("Sumail", "IQG09")):
        for code, indicator in (("g63", "women_girls_feel_unsafe"), ("g28", "health_facility_within_one_hour")):
            value = float(published[district][code]) / 100
            _, lo, hi = est[(indicator, pcode)]
            assert lo - 1e-9 <= value <= hi + 1e-9, (district, code, value, lo, hi)
    assert float(published["Al-Falluja"]["g63"]) == pytest.approx(3.8746551)  # the figure the weight note quotes


def test_tal_afar_headline_by_hand(real_warehouse):
    # 632 households; level_service: excellent 1, good 87, adequate 168, poor 277, very_poor 33, blank 66
    est = dict(q(real_warehouse, "SELECT indicator_id, estimate FROM marts.fct_service_indicators WHERE source_id = "
                 "'talafar_water_2021' AND disaggregation = 'all'").rows())
    assert est["water_service_good"] == pytest.approx(88 / 566, abs=1e-12)
    assert est["water_service_poor"] == pytest.approx(310 / 566, abs=1e-12)
    # problems_water_action: yes 38, no 211 (asked only of households that had a problem and approached someone)
    assert est["water_complaint_actioned"] == pytest.approx(38 / 249, abs=1e-12)
    # problems_water: yes 256 of 632
    assert est["water_problem_reported"] == pytest.approx(256 / 632, abs=1e-12)


def test_personal_data_never_reaches_the_warehouse(real_warehouse):
    fields = set(q(real_warehouse, "SELECT DISTINCT field_name FROM raw.survey_submissions")["field_name"])
    for col in ("deviceid", "Latitude", "Longitude"):
        assert col not in fields
    # a yes/no question about consent to be called holds no phone number: coded fields are kept
    assert "consent_telephone_number" in fields
    dropped = q(real_warehouse, "SELECT source_id, column_name FROM audit.dropped_columns")
    assert ("talafar_water_2021", "deviceid") in dropped.rows()
    assert ("iom_dtm_ila5_2020", "Latitude") in dropped.rows()
    # free text of names and phone numbers of people to refer, declared personal in the mapping
    assert ("reach_mcna_2020_incamp", "referral_contact") in dropped.rows()
    assert "referral_contact" not in fields
    con = duckdb.connect(str(real_warehouse), read_only=True)
    try:
        cols = {r[0] for r in con.execute(
            "SELECT DISTINCT column_name FROM information_schema.columns WHERE table_schema IN ('raw','staging','intermediate','marts')"
        ).fetchall()}
    finally:
        con.close()
    assert not {"deviceid", "latitude", "longitude", "Latitude", "Longitude", "phone_number", "gps"} & cols


def test_select_multiple_split_columns_and_form_labels_loaded(real_warehouse):
    # water_sources: 566 of 632 households chose "piped" (split column water_sources.piped == True)
    piped = q(real_warehouse, "SELECT count(*) FILTER (WHERE is_selected), count(*) FROM raw.survey_multi_select "
              "WHERE source_id = 'talafar_water_2021' AND field_name = 'water_sources' AND choice_code = 'piped'")
    assert piped.row(0) == (566, 632)
    labels = q(real_warehouse, "SELECT label_en, label_ar FROM raw.survey_form_labels WHERE source_id = 'talafar_water_2021' "
               "AND item_type = 'choice' AND field_name = 'level_service' AND choice_code = 'very_poor'")
    assert labels.row(0) == ("Very poor", "رديء جدا")
    typed = q(real_warehouse, "SELECT field_type, value_numeric FROM raw.survey_submissions WHERE source_id = 'talafar_water_2021' "
              "AND field_name = 'hours_available_piped' AND row_number = 1")
    assert typed.row(0)[0] == "integer" and typed.row(0)[1] is not None


def test_second_run_on_the_same_files_changes_nothing(real_warehouse, shared_data, tmp_path):
    from pipelines.cli import run_pipeline

    def snapshot(warehouse) -> dict:
        out = {}
        for table in ("raw.survey_respondents", "raw.survey_answers", "raw.budget_lines", "marts.fct_service_indicators",
                      "marts.fct_budget_execution"):
            out[table] = q(warehouse, f"SELECT md5(string_agg(t::VARCHAR, '|' ORDER BY t::VARCHAR)) FROM {table} t").item()
        return out

    before = snapshot(real_warehouse)
    second = tmp_path / "copy.duckdb"
    second.write_bytes(real_warehouse.read_bytes())
    run_pipeline(shared_data, second)
    assert snapshot(second) == before
    assert q(second, "SELECT count(*) FROM audit.run_log WHERE kind = 'run'").item() == 2
    # the copy was a plain file: it was kept as the first snapshot, and the run log says so
    assert "was kept as snapshot" in q(second, "SELECT message FROM audit.run_log WHERE kind = 'repair'").item()


def test_complementary_suppression_protects_small_groups(real_warehouse):
    # Tal Afar: only 10 female-headed households answered whether their complaint led to action (n < 30):
    # the female cell is suppressed, and so is the male cell, or female = (all*249 - male*239)/10 would leak.
    rows = dict(
        (r[0], (r[1], r[2]))
        for r in q(real_warehouse, "SELECT disaggregation_value, is_suppressed, suppression_reason FROM marts.fct_service_indicators "
                   "WHERE source_id = 'talafar_water_2021' AND indicator_id = 'water_complaint_actioned'").rows()
    )
    assert rows["female"] == (True, "n < 30; effective n < 30")
    assert rows["male"][0] is True and rows["male"][1].startswith("complementary suppression")
    assert rows["all"] == (False, None)
