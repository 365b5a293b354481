"""Tests for data_contracts.governorates: reference tables, name resolution, population filling.

Real public files are read from ../shared/data (relative to the project root); expected values are
written here, never computed by the code under test.
"""

import json
from pathlib import Path

import polars as pl
import pytest

from data_contracts.governorates import (
    UnknownGovernorateError,
    build_lookup,
    governorates,
    normalize_name,
    population,
    population_for_year,
    resolve_governorate,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
REFERENCE = SHARED / "reference"

ALL_CODES = [f"IQG{i:02d}" for i in range(1, 20)]


def _read(path: Path) -> pl.DataFrame:
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return pl.read_csv(path, infer_schema=False)


# ---------------------------------------------------------------------------------------------
# 1-2. Real spellings from public files
# ---------------------------------------------------------------------------------------------


def test_all_165_compiled_spellings_resolve():
    aliases = _read(REFERENCE / "iraq_governorate_aliases.csv")
    assert aliases.height == 165
    wrong = []
    for alias, code in aliases.select("alias", "adm1_pcode_cod2019").iter_rows():
        expected = code or "IQG19"  # Halabja rows carry no official code
        try:
            got = resolve_governorate(alias)
        except UnknownGovernorateError as exc:
            got = f"error: {exc}"
        if got != expected:
            wrong.append((alias, expected, got))
    assert wrong == []
    halabja_rows = aliases.filter(pl.col("adm1_pcode_cod2019").is_null())
    assert halabja_rows.height == 6


def test_iom_dtm_governorate_names_resolve():
    locations = _read(SHARED / "surveys" / "iom_dtm_ila5_2020" / "locations.csv")
    expected = {
        "Anbar": "IQG01", "Basrah": "IQG02", "Muthanna": "IQG03", "Najaf": "IQG04",
        "Qadissiya": "IQG05", "Sulaymaniyah": "IQG06", "Babylon": "IQG07", "Baghdad": "IQG08",
        "Dahuk": "IQG09", "Diyala": "IQG10", "Erbil": "IQG11", "Kerbala": "IQG12",
        "Kirkuk": "IQG13", "Missan": "IQG14", "Ninewa": "IQG15", "Salah al-Din": "IQG16",
        "Thi-Qar": "IQG17", "Wassit": "IQG18",
    }  # fmt: skip
    names = set(locations["GovernorateE"].unique().to_list())
    assert names == set(expected)
    assert {name: resolve_governorate(name) for name in names} == expected


def test_iom_dtm_cod_ab_names_resolve_to_geojson_codes():
    locations = _read(SHARED / "surveys" / "iom_dtm_ila5_2020" / "locations.csv")
    geo = json.loads((REFERENCE / "iraq_adm1_cod_2019.geojson").read_text(encoding="utf-8"))
    code_by_name = {f["properties"]["ADM1_EN"]: f["properties"]["ADM1_PCODE"] for f in geo["features"]}
    names = set(locations["gov_ocha"].unique().to_list()) - {"NA"}
    assert len(names) == 18
    assert {n: resolve_governorate(n) for n in names} == {n: code_by_name[n] for n in names}


@pytest.mark.parametrize(
    "file_name",
    ["sigir_2008_provincial_budget_execution_pct.csv", "sigir_2009_provincial_capital_budget_execution.csv"],
)
def test_sigir_province_names_resolve(file_name):
    budget = _read(SHARED / "budget" / file_name)
    with_code = budget.filter(pl.col("adm1_pcode_cod2019").is_not_null())
    assert with_code.height >= 14
    pairs = with_code.select("province_name_source", "adm1_pcode_cod2019").rows()
    assert [(name, resolve_governorate(name)) for name, _ in pairs] == pairs
    # The KRG row names three governorates at once: it must not resolve to one of them.
    for name in budget.filter(pl.col("adm1_pcode_cod2019").is_null())["province_name_source"]:
        with pytest.raises(UnknownGovernorateError):
            resolve_governorate(name)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        # REACH MCNA 2020 Kobo choice names
        ("al.anbar", "IQG01"), ("salah.al.din", "IQG16"), ("thi.qar", "IQG17"), ("duhok", "IQG09"),
        # ISO 3166-2 names with diacritics
        ("Dhī Qār", "IQG17"), ("Şalāḩ ad Dīn", "IQG16"), ("Karbalā’", "IQG12"), ("Wāsiţ", "IQG18"),
        ("As Sulaymānīyah", "IQG06"), ("Al Qādisīyah", "IQG05"), ("Arbīl", "IQG11"),
        # punctuation, case, articles, generic words, whitespace
        ("  AL-ANBAR ", "IQG01"), ("Salah ad-Din", "IQG16"), ("Saladin", "IQG16"),
        ("Wasit Governorate", "IQG18"), ("Basra Province", "IQG02"), ("Dhiqar", "IQG17"),
        # capitals and former names
        ("Mosul", "IQG15"), ("Kut", "IQG18"), ("Hilla", "IQG07"), ("Nasiriya", "IQG17"),
        ("At-Ta'mim", "IQG13"), ("Tikrit", "IQG16"), ("Hewler", "IQG11"), ("Slemani", "IQG06"),
        # exact p-codes
        ("IQG08", "IQG08"), (" iqg19", "IQG19"),
    ],
)  # fmt: skip
def test_resolve_variants(name, code):
    assert resolve_governorate(name) == code


# ---------------------------------------------------------------------------------------------
# 3. Arabic and Kurdish script variants
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("أربيل", "IQG11"), ("إربيل", "IQG11"), ("اربيل", "IQG11"), ("آربيل", "IQG11"),  # hamza forms
        ("التأميم", "IQG13"), ("التاميم", "IQG13"),
        ("البصرة", "IQG02"), ("البصره", "IQG02"), ("بصرة", "IQG02"),  # ta marbuta / ha, article
        ("ديالى", "IQG10"), ("ديالي", "IQG10"), ("نينوى", "IQG15"), ("نينوي", "IQG15"),  # alef maqsura
        ("كربلاء", "IQG12"), ("كربلا", "IQG12"),  # lone hamza
        ("بَغْدَاد", "IQG08"), ("النَّجَف", "IQG04"),  # tashkeel
        ("بـغـداد", "IQG08"), ("الـقادسـية", "IQG05"),  # tatweel
        ("محافظة الأنبار", "IQG01"), ("انبار", "IQG01"),
        ("\ufeffواسط", "IQG18"), ("ذي\u200cقار", "IQG17"),  # BOM, zero-width non-joiner
        ("هەولێر", "IQG11"), ("ھەولیر", "IQG11"), ("هةولير", "IQG11"),  # Kurdish ە ێ ھ vs Arabic
        ("سلێمانی", "IQG06"), ("سليماني", "IQG06"),  # ێ ی vs ي
        ("کەرکووک", "IQG13"), ("كەركوك", "IQG13"),  # ک vs ك, doubled و
        ("دهۆک", "IQG09"), ("دهوك", "IQG09"),  # ۆ vs و
        ("سەڵاحەدین", "IQG16"), ("سەلاحەدين", "IQG16"),  # ڵ vs ل
        ("هەڵەبجە", "IQG19"), ("حلبجة", "IQG19"), ("حلبجه", "IQG19"),
    ],
)  # fmt: skip
def test_arabic_and_kurdish_variants(name, code):
    assert resolve_governorate(name) == code


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  At-Ta'mim ", "tamim"),
        ("Silêmanî", "silemani"),
        ("Salah  al-Din", "salah din"),
        ("محافظة الأنبار", "انبار"),
        ("آ أ إ ٱ ؤ ئ ة ى", "ا ا ا ا و ي ه ي"),
        ("ک ی ە ھ ڕ ڵ ۆ ێ", "ك ي ه ه ر ل و ي"),
        ("بَغْدَادـ", "بغداد"),
        ("ال", "ال"),  # a bare article is kept rather than emptied
        ("", ""),
    ],
)
def test_normalize_name(raw, normalised):
    assert normalize_name(raw) == normalised


# ---------------------------------------------------------------------------------------------
# 4. Errors
# ---------------------------------------------------------------------------------------------


def test_unknown_name_lists_value_and_suggestions():
    with pytest.raises(UnknownGovernorateError) as info:
        resolve_governorate("Bhagdad")
    err = info.value
    assert isinstance(err, ValueError)
    assert err.value == "Bhagdad"
    # Closest known spellings, one per governorate: Baghdad's come first.
    assert err.suggestions[0] in {"Baghdad (IQG08)", "Bagdad (IQG08)"}
    assert 1 <= len(err.suggestions) <= 3
    assert len({s[-7:] for s in err.suggestions}) == len(err.suggestions)
    assert "'Bhagdad'" in str(err) and err.suggestions[0] in str(err)


def test_unknown_arabic_name_suggests_arabic_spelling():
    with pytest.raises(UnknownGovernorateError) as info:
        resolve_governorate("السليمانيات")
    assert info.value.suggestions[0] in {"السليمانية (IQG06)", "سلێمانی (IQG06)"}


@pytest.mark.parametrize("blank", ["", "   ", "-", None])
def test_blank_input_raises(blank):
    with pytest.raises(UnknownGovernorateError) as info:
        resolve_governorate(blank)
    assert info.value.suggestions == []


@pytest.mark.parametrize("name", ["IQ-G07", "Kurdistan", "Iraq", "IQG20", "Sulaymaniyah and Halabja"])
def test_not_a_governorate_raises(name):
    # IQ-G07 is the OCHA 2014 code of Baghdad: it must not be mistaken for IQG07 (Babil).
    with pytest.raises(UnknownGovernorateError):
        resolve_governorate(name)


def test_non_string_raises_type_error():
    with pytest.raises(TypeError):
        resolve_governorate(8)


def test_index_rejects_a_spelling_shared_by_two_governorates():
    conflicting = pl.DataFrame({"alias": ["Al Mosul"], "governorate_pcode": ["IQG08"]})  # Mosul is in Ninewa
    with pytest.raises(ValueError, match="ambiguous"):
        build_lookup(governorates(), conflicting)


def test_index_rejects_an_alias_to_an_unknown_code():
    bad = pl.DataFrame({"alias": ["Atlantis"], "governorate_pcode": ["IQG42"]})
    with pytest.raises(ValueError, match="IQG42"):
        build_lookup(governorates(), bad)


# ---------------------------------------------------------------------------------------------
# 5. governorates.csv
# ---------------------------------------------------------------------------------------------


def test_governorates_table():
    gov = governorates()
    assert gov.height == 19
    assert sorted(gov["governorate_pcode"]) == ALL_CODES
    kri = gov.filter(pl.col("region") == "Kurdistan Region")["governorate_pcode"].sort().to_list()
    assert kri == ["IQG06", "IQG09", "IQG11", "IQG19"]
    assert set(gov["region"]) == {"Kurdistan Region", "Federal"}
    halabja = gov.filter(pl.col("governorate_pcode") == "IQG19").row(0, named=True)
    assert halabja["cod_ab_parent_pcode"] == "IQG06"
    assert halabja["iso3166_2"] is None
    assert "IQG06Q05" in halabja["cod_ab_note"]
    others = gov.filter(pl.col("governorate_pcode") != "IQG19")
    assert (others["cod_ab_parent_pcode"] == others["governorate_pcode"]).all()
    assert others["iso3166_2"].n_unique() == 18
    assert gov.filter(pl.col("governorate_pcode") == "IQG08")["adm1_pcode_ocha2014"].item() == "IQ-G07"


def test_governorates_match_cod_ab_2019():
    path = REFERENCE / "iraq_adm1_cod_2019.geojson"
    if not path.exists():
        pytest.skip("shared geojson not available")
    geo = json.loads(path.read_text(encoding="utf-8"))
    cod = {f["properties"]["ADM1_PCODE"]: f["properties"] for f in geo["features"]}
    assert len(cod) == 18
    gov = governorates()
    assert set(gov["governorate_pcode"]) == set(cod) | {"IQG19"}
    for row in gov.filter(pl.col("governorate_pcode") != "IQG19").iter_rows(named=True):
        props = cod[row["governorate_pcode"]]
        assert (row["name_en"], row["name_ar"]) == (props["ADM1_EN"], props["ADM1_AR"])


# ---------------------------------------------------------------------------------------------
# 6. Population
# ---------------------------------------------------------------------------------------------


def test_population_table_as_published():
    pop = population()
    assert pop.select("governorate_pcode", "year").is_duplicated().sum() == 0
    assert set(pop["type"]) == {"census", "estimate", "projection"}
    assert (pop["population"] > 0).all()
    assert set(pop["governorate_pcode"]) == set(ALL_CODES) | {"IQ"}
    # 2009 and 2018: 19 governorates (Halabja separate) sum to the national figure.
    for year, total in [(2009, 31_664_466), (2018, 38_124_182)]:
        year_rows = pop.filter((pl.col("year") == year) & (pl.col("governorate_pcode") != "IQ"))
        assert year_rows.height == 19
        assert year_rows["population"].sum() == total
    # 2010: Halabja inside Sulaymaniyah, as published by COSIT.
    y2010 = pop.filter(pl.col("year") == 2010)
    assert "IQG19" not in y2010["governorate_pcode"].to_list()
    assert y2010.filter(pl.col("governorate_pcode") == "IQG06")["population"].item() == 1_831_560


@pytest.mark.parametrize("year", [1990, 2009, 2010, 2015, 2021, 2030])
def test_population_for_year_shape(year):
    df = population_for_year(year)
    assert df.columns == ["governorate_pcode", "year", "population", "method"]
    assert df["governorate_pcode"].to_list() == ALL_CODES
    assert (df["year"] == year).all()
    assert (df["population"] > 0).all()
    assert df["population"].null_count() == 0


def _value(year: int, code: str) -> tuple[int, str]:
    row = population_for_year(year).filter(pl.col("governorate_pcode") == code).row(0, named=True)
    return row["population"], row["method"]


def test_population_for_year_hand_checked_values():
    # Published: CSO 2009 estimate for Baghdad.
    assert _value(2009, "IQG08") == (6_702_538, "published")
    # Published separately in 2018.
    assert _value(2018, "IQG19") == (108_974, "published")
    # 2010 COSIT figure for Sulaymaniyah incl. Halabja = 1,831,560; 2018 share
    # s = 108,974 / (108,974 + 2,053,305) = 0.0503978; Halabja = round(1,831,560 * s) = 92,307.
    assert _value(2010, "IQG19") == (92_307, "published_halabja_split")
    assert _value(2010, "IQG06") == (1_739_253, "published_halabja_split")  # 1,831,560 - 92,307
    # Interpolated: Baghdad 2011 = 7,055,200, 2018 = 8,126,755 -> 2015 = 7,055,200 + 1,071,555 * 4/7.
    assert _value(2015, "IQG08") == (7_667_517, "interpolated")
    # Halabja 2011 split = round(1,878,800 * s) = 94,687; 2015 = 94,687 + (108,974 - 94,687) * 4/7.
    assert _value(2015, "IQG19") == (102_851, "interpolated")
    # Anbar 1997 = 1,023,736, 2009 = 1,483,359 -> 2005 = 1,023,736 + 459,623 * 8/12 = 1,330,151.33.
    assert _value(2005, "IQG01") == (1_330_151, "interpolated")
    # After 2018: national 2021 = 38,124,182 + (46,118,793 - 38,124,182) * 3/6 = 42,121,487.5;
    # Baghdad 2021 = 8,126,755 * 42,121,487.5 / 38,124,182 = 8,978,842.07.
    assert _value(2021, "IQG08") == (8_978_842, "extrapolated_national_trend")
    # After 2024 the national total is held: 8,126,755 * 46,118,793 / 38,124,182 = 9,830,929.1.
    assert _value(2030, "IQG08") == (9_830_929, "extrapolated_national_trend")
    # Before the first figure: held constant (Salah Al-Din first appears in 1987).
    assert _value(1977, "IQG16") == (726_138, "extrapolated_constant")


def test_population_for_year_keeps_sulaymaniyah_plus_halabja_total():
    df = population_for_year(2011).filter(pl.col("governorate_pcode").is_in(["IQG06", "IQG19"]))
    assert df["population"].sum() == 1_878_800  # published 2011 figure for Sulaymaniyah incl. Halabja
    assert population_for_year(2010)["population"].sum() == 32_489_971  # COSIT governorate sum


def test_population_for_year_rejects_non_int():
    with pytest.raises(TypeError):
        population_for_year("2015")
