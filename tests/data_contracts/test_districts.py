"""Tests for data_contracts.districts: the district reference table and the district resolver.

Real public files are read from ../shared/data (the ``shared_data`` fixture of tests/conftest.py;
a missing folder fails the tests, it does not skip them). Expected p-codes are written here,
never computed by the code under test.
"""

from __future__ import annotations

import collections
import contextlib
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from data_contracts.districts import (
    AmbiguousDistrictError,
    DistrictError,
    DistrictGovernorateMismatchError,
    DistrictResolver,
    SplitDistrictError,
    UnknownDistrictError,
    district_aliases,
    district_splits,
    districts,
    resolve_district,
)
from data_contracts.governorates import governorates, resolve_governorate

MCNA = Path("surveys") / "reach_mcna_2020_incamp"
DTM = Path("surveys") / "iom_dtm_ila5_2020" / "locations.csv"
COD_AB_DISTRICTS = Path("reference") / "iraq_adm2_districts_cod_2019.csv"


def _choices(shared_data: Path, list_name: str) -> list[tuple[str, str, str, str]]:
    """(name, English label, Arabic label, governorate filter) of one choice list of the MCNA form."""
    wb = openpyxl.load_workbook(shared_data / MCNA / "xlsform.xlsx", read_only=True)
    try:
        rows = list(wb["choices"].iter_rows(values_only=True))
    finally:
        wb.close()
    header = rows[0]
    col = {name: header.index(name) for name in ("list_name", "name", "label::English", "label::Arabic", "filter")}
    return [
        (r[col["name"]], r[col["label::English"]], r[col["label::Arabic"]], r[col["filter"]])
        for r in rows[1:]
        if r[col["list_name"]] == list_name
    ]


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


def test_table_has_101_districts_with_unique_pcodes_and_known_parents():
    table = districts()
    assert table.columns == [
        "district_pcode", "name_en", "name_ar", "governorate_pcode", "cod_ab_governorate_pcode", "note",
    ]  # fmt: skip
    assert table.height == 101
    assert table["district_pcode"].n_unique() == 101
    assert table["district_pcode"].to_list() == sorted(table["district_pcode"].to_list())
    assert table.select(pl.all().exclude("note").is_null().any()).row(0) == (False,) * 5
    known = set(governorates()["governorate_pcode"])
    assert set(table["governorate_pcode"]) <= known
    assert set(table["cod_ab_governorate_pcode"]) <= known - {"IQG19"}  # COD-AB has no IQG19


def test_districts_per_governorate():
    counts = dict(districts().group_by("governorate_pcode").len().iter_rows())
    assert counts == {
        "IQG01": 7, "IQG02": 7, "IQG03": 4, "IQG04": 3, "IQG05": 4, "IQG06": 9, "IQG07": 4,
        "IQG08": 7, "IQG09": 4, "IQG10": 6, "IQG11": 6, "IQG12": 3, "IQG13": 4, "IQG14": 6,
        "IQG15": 9, "IQG16": 7, "IQG17": 5, "IQG18": 5, "IQG19": 1,
    }  # fmt: skip


def test_halabcha_is_the_one_district_under_mizan_halabja():
    table = districts()
    differs = table.filter(pl.col("governorate_pcode") != pl.col("cod_ab_governorate_pcode"))
    assert differs.select("district_pcode", "name_en", "governorate_pcode", "cod_ab_governorate_pcode").rows() == [
        ("IQG06Q05", "Halabcha", "IQG19", "IQG06")
    ]
    assert "IQG19" in differs["note"][0] and "IQG06" in differs["note"][0]
    assert resolve_district("Halabcha") == "IQG06Q05"
    assert resolve_district("Halabcha", "IQG19") == "IQG06Q05"
    assert resolve_district("حلبجة", "IQG19") == "IQG06Q05"


def test_table_agrees_with_the_public_cod_ab_attribute_table(shared_data):
    public = pl.read_csv(shared_data / COD_AB_DISTRICTS, infer_schema=False)
    ours = districts()
    joined = ours.join(public, left_on="district_pcode", right_on="ADM2_PCODE", how="full", coalesce=True)
    assert joined.height == 101
    assert joined.filter(pl.col("name_en") != pl.col("ADM2_EN")).height == 0
    assert joined.filter(pl.col("name_ar") != pl.col("ADM2_AR")).height == 0
    assert joined.filter(pl.col("cod_ab_governorate_pcode") != pl.col("ADM1_PCODE")).height == 0


# ---------------------------------------------------------------------------------------------
# Real spellings
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "governorate", "expected"),
    [
        # English, as in COD-AB 2019, and without the article / with other punctuation
        ("Al-Falluja", None, "IQG01Q01"),
        ("Falluja", None, "IQG01Q01"),
        ("Fallujah", "IQG01", "IQG01Q01"),
        ("AL FALLUJA", None, "IQG01Q01"),
        ("Abu Al-Khaseeb", "IQG02", "IQG02Q01"),
        ("Shatt al-Arab", "IQG02", "IQG02Q07"),
        ("Al-Mada'in", "IQG08", "IQG08Q04"),
        ("Madain", "IQG08", "IQG08Q04"),
        ("Tooz Khurmato", None, "IQG16Q07"),
        ("Ain Al-Tamur", None, "IQG12Q01"),
        ("Baladruz", None, "IQG10Q03"),
        # Arabic: COD-AB spelling, without ال, hamza and ta marbuta variants
        ("الفلوجة", None, "IQG01Q01"),
        ("فلوجه", None, "IQG01Q01"),
        ("القائم", None, "IQG01Q02"),
        ("القايم", "IQG01", "IQG01Q02"),
        ("الأعظمية", "IQG08", "IQG08Q01"),
        ("الاعظمية", None, "IQG08Q01"),
        ("المدائن", None, "IQG08Q04"),
        ("المداين", None, "IQG08Q04"),
        ("سامراء", "IQG16", "IQG16Q05"),
        ("سامرا", None, "IQG16Q05"),
        ("الكحلاء", None, "IQG14Q03"),
        ("طوز خورماتو", None, "IQG16Q07"),
        ("طوزخورماتو", None, "IQG16Q07"),
        ("قضاء تلعفر", None, None),  # "قضاء" (district) is not a generic word: must not resolve
        # REACH MCNA 2020 Kobo choice codes
        ("al.falluja", "IQG01", "IQG01Q01"),
        ("al.kaim", None, "IQG01Q02"),
        ("sumail", "IQG09", "IQG09Q03"),
        ("halabcha", "IQG06", "IQG06Q05"),
        ("al.mada.in", None, "IQG08Q04"),
        ("tooz.khurmato", None, "IQG16Q07"),
        ("ain.al.tamur", None, "IQG12Q01"),
        # REACH MCNA 2020 Arabic labels that needed an alias
        ("عانه", None, "IQG01Q05"),
        ("آمدي / العمادية", "IQG09", "IQG09Q01"),
        ("سيميل", None, "IQG09Q03"),
        ("بلدروز", "IQG10", "IQG10Q03"),
        ("الشبايش", None, "IQG17Q01"),
        ("آكرى", "IQG15", "IQG15Q01"),
        # IOM DTM ILA5 2020 DistrictE spellings
        ("Al-Ka'im", "IQG01", "IQG01Q02"),
        ("Sumel", "IQG09", "IQG09Q03"),
        ("Dahuk", "IQG09", "IQG09Q02"),
        ("Kerbala", "IQG12", "IQG12Q03"),
        ("Akre", None, "IQG15Q01"),
        ("Tuz Khurmatu", None, "IQG16Q07"),
        ("Baiji", None, "IQG16Q03"),
        ("Halabja", "IQG06", "IQG06Q05"),
        ("Soran", "IQG11", "IQG11Q05"),
        ("Ra'ua", "IQG01", "IQG01Q05"),
        # IMPACT/ICRC Tal Afar water survey 2021
        ("Tal Afar", "IQG15", "IQG15Q08"),
    ],
)
def test_real_spellings(name, governorate, expected):
    if expected is None:
        with pytest.raises(UnknownDistrictError):
            resolve_district(name, governorate)
    else:
        assert resolve_district(name, governorate) == expected


MCNA_DISTRICT_CODES = {
    "al.falluja": "IQG01Q01", "al.kaim": "IQG01Q02", "al.ramadi": "IQG01Q03", "al.rutba": "IQG01Q04",
    "ana": "IQG01Q05", "haditha": "IQG01Q06", "heet": "IQG01Q07", "al.basrah": "IQG02Q02",
    "al.kufa": "IQG04Q01", "al.najaf": "IQG04Q03", "al.diwaniya": "IQG05Q02",
    "al.sulaymaniyah": "IQG06Q01", "chamchamal": "IQG06Q02", "derbendikhan": "IQG06Q03",
    "dokan": "IQG06Q04", "halabcha": "IQG06Q05", "kalar": "IQG06Q06", "rania": "IQG06Q09",
    "al.mussyab": "IQG07Q04", "al.adhamiya": "IQG08Q01", "al.kadhmiyah": "IQG08Q02",
    "al.karkh": "IQG08Q03", "al.mahmoudiya": "IQG08Q05", "al.khalis": "IQG10Q01",
    "al.muqdadiya": "IQG10Q02", "baquba": "IQG10Q04", "khanaqin": "IQG10Q05", "kifri": "IQG10Q06",
    "al.amadiya": "IQG09Q01", "duhok": "IQG09Q02", "sumail": "IQG09Q03", "zakho": "IQG09Q04",
    "erbil": "IQG11Q02", "koysinjaq": "IQG11Q03", "makhmour": "IQG11Q04", "rawanduz": "IQG11Q05",
    "shaqlawa": "IQG11Q06", "al.hindiya": "IQG12Q02", "kerbela": "IQG12Q03", "al.hawiga": "IQG13Q01",
    "daquq": "IQG13Q02", "dibis": "IQG13Q03", "kirkuk": "IQG13Q04", "al.kahla": "IQG14Q03",
    "al.baaj": "IQG15Q02", "al.hamdaniya": "IQG15Q03", "al.hatra": "IQG15Q04", "al.mosul": "IQG15Q05",
    "al.shikhan": "IQG15Q06", "aqra": "IQG15Q01", "sinjar": "IQG15Q07", "telafar": "IQG15Q08",
    "tilkaef": "IQG15Q09", "al.daur": "IQG16Q01", "al.shirqat": "IQG16Q02", "balad": "IQG16Q04",
    "beygee": "IQG16Q03", "samarra": "IQG16Q05", "tikrit": "IQG16Q06", "tooz.khurmato": "IQG16Q07",
    "al.nasiriya": "IQG17Q04", "al.kut": "IQG18Q02",
}  # fmt: skip


def test_every_mcna_district_choice_resolves(shared_data):
    """Code, English and Arabic label of each ``district_mcna`` choice, within its governorate filter."""
    choices = _choices(shared_data, "district_mcna")
    assert len(choices) == 62
    got = {}
    for code, label_en, label_ar, gov_filter in choices:
        gov = resolve_governorate(gov_filter)
        resolved = {resolve_district(spelling, gov) for spelling in (code, label_en, label_ar)}
        assert len(resolved) == 1, (code, resolved)
        got[code] = resolved.pop()
        assert resolve_district(code) == got[code]  # also without the governorate
    assert got == MCNA_DISTRICT_CODES


def test_every_mcna_district_of_origin_resolves_to_all_101(shared_data):
    """``district_origin`` lists all 101 districts: the three spellings of each choice agree and
    together they cover every p-code of the table once."""
    choices = _choices(shared_data, "district_origin")
    assert len(choices) == 101
    got = []
    for code, label_en, label_ar, gov_filter in choices:
        gov = resolve_governorate(gov_filter)
        resolved = {resolve_district(spelling, gov) for spelling in (code, label_en, label_ar)}
        assert len(resolved) == 1, (code, resolved)
        got.append(resolved.pop())
    assert sorted(got) == sorted(districts()["district_pcode"].to_list())
    assert got.count("IQG06Q05") == 1 and got[[c[0] for c in choices].index("halabcha")] == "IQG06Q05"


def test_mcna_results_district_names_resolve(shared_data):
    """ADM2_EN of the published MCNA results, with their ADM1_EN: each is the COD-AB district of that name."""
    public = pl.read_csv(shared_data / COD_AB_DISTRICTS, infer_schema=False)
    pcode_of = dict(public.select("ADM2_EN", "ADM2_PCODE").iter_rows())
    seen = set()
    for name in ("idp_in_camp", "idp_out_camp", "returnee"):
        results = pl.read_csv(shared_data / MCNA / f"mcna_{name}_results_by_district.csv", infer_schema=False)
        for gov_name, district in results.select("ADM1_EN", "ADM2_EN").unique().iter_rows():
            assert resolve_district(district, resolve_governorate(gov_name)) == pcode_of[district]
            seen.add(district)
    assert len(seen) == 62


DTM_DISTRICTS = {
    ("Anbar", "Al-Ka'im"): "IQG01Q02", ("Anbar", "Al-Rutba"): "IQG01Q04", ("Anbar", "Ana"): "IQG01Q05",
    ("Anbar", "Falluja"): "IQG01Q01", ("Anbar", "Haditha"): "IQG01Q06", ("Anbar", "Heet"): "IQG01Q07",
    ("Anbar", "Ra'ua"): "IQG01Q05", ("Anbar", "Ramadi"): "IQG01Q03",
    ("Babylon", "Al-Mahawil"): "IQG07Q03", ("Babylon", "Al-Musayab"): "IQG07Q04",
    ("Babylon", "Hashimiya"): "IQG07Q01", ("Babylon", "Hilla"): "IQG07Q02",
    ("Baghdad", "Adhamia"): "IQG08Q01", ("Baghdad", "Al Resafa"): "IQG08Q06",
    ("Baghdad", "Kadhimia"): "IQG08Q02", ("Baghdad", "Karkh"): "IQG08Q03",
    ("Baghdad", "Mada'in"): "IQG08Q04", ("Baghdad", "Mahmoudiya"): "IQG08Q05",
    ("Baghdad", "Tarmia"): "IQG08Q02",
    ("Basrah", "Abu Al-Khaseeb"): "IQG02Q01", ("Basrah", "Al-Midaina"): "IQG02Q04",
    ("Basrah", "Al-Qurna"): "IQG02Q05", ("Basrah", "Al-Zubair"): "IQG02Q06",
    ("Basrah", "Basrah"): "IQG02Q02", ("Basrah", "Shatt Al-Arab"): "IQG02Q07",
    ("Dahuk", "Amedi"): "IQG09Q01", ("Dahuk", "Dahuk"): "IQG09Q02", ("Dahuk", "Sumel"): "IQG09Q03",
    ("Dahuk", "Zakho"): "IQG09Q04",
    ("Diyala", "Al-Khalis"): "IQG10Q01", ("Diyala", "Al-Muqdadiya"): "IQG10Q02",
    ("Diyala", "Ba'quba"): "IQG10Q04", ("Diyala", "Baladrooz"): "IQG10Q03",
    ("Diyala", "Khanaqin"): "IQG10Q05", ("Diyala", "Kifri"): "IQG10Q06",
    ("Erbil", "Erbil"): "IQG11Q02", ("Erbil", "Koisnjaq"): "IQG11Q03", ("Erbil", "Makhmur"): "IQG11Q04",
    ("Erbil", "Mergasur"): "IQG11Q05", ("Erbil", "Shaqlawa"): "IQG11Q06", ("Erbil", "Soran"): "IQG11Q05",
    ("Kerbala", "Ain Al-Tamur"): "IQG12Q01", ("Kerbala", "Al-Hindiya"): "IQG12Q02",
    ("Kerbala", "Kerbala"): "IQG12Q03",
    ("Kirkuk", "Al-Hawiga"): "IQG13Q01", ("Kirkuk", "Dabes"): "IQG13Q03", ("Kirkuk", "Daquq"): "IQG13Q02",
    ("Kirkuk", "Kirkuk"): "IQG13Q04",
    ("Missan", "Al-Mejar Al-Kabir"): "IQG14Q05", ("Missan", "Amara"): "IQG14Q01",
    ("Missan", "Qal'at Saleh"): "IQG14Q06",
    ("Muthanna", "Al-Rumaitha"): "IQG03Q02", ("Muthanna", "Al-Samawa"): "IQG03Q04",
    ("Najaf", "Al-Manathera"): "IQG04Q02", ("Najaf", "Kufa"): "IQG04Q01", ("Najaf", "Najaf"): "IQG04Q03",
    ("Ninewa", "Akre"): "IQG15Q01", ("Ninewa", "Al-Ba'aj"): "IQG15Q02", ("Ninewa", "Al-Hamdaniya"): "IQG15Q03",
    ("Ninewa", "Al-Shikhan"): "IQG15Q06", ("Ninewa", "Hatra"): "IQG15Q04", ("Ninewa", "Mosul"): "IQG15Q05",
    ("Ninewa", "Sinjar"): "IQG15Q07", ("Ninewa", "Telafar"): "IQG15Q08", ("Ninewa", "Tilkaif"): "IQG15Q09",
    ("Qadissiya", "Afaq"): "IQG05Q01", ("Qadissiya", "Al-Shamiya"): "IQG05Q04",
    ("Qadissiya", "Diwaniya"): "IQG05Q02", ("Qadissiya", "Hamza"): "IQG05Q03",
    ("Salah al-Din", "Al-Daur"): "IQG16Q01", ("Salah al-Din", "Al-Fares"): "IQG16Q04",
    ("Salah al-Din", "Al-Shirqat"): "IQG16Q02", ("Salah al-Din", "Baiji"): "IQG16Q03",
    ("Salah al-Din", "Balad"): "IQG16Q04", ("Salah al-Din", "Samarra"): "IQG16Q05",
    ("Salah al-Din", "Tikrit"): "IQG16Q06", ("Salah al-Din", "Tuz Khurmatu"): "IQG16Q07",
    ("Sulaymaniyah", "Chamchamal"): "IQG06Q02", ("Sulaymaniyah", "Darbandikhan"): "IQG06Q03",
    ("Sulaymaniyah", "Dokan"): "IQG06Q04", ("Sulaymaniyah", "Halabja"): "IQG06Q05",
    ("Sulaymaniyah", "Kalar"): "IQG06Q06", ("Sulaymaniyah", "Pshdar"): "IQG06Q08",
    ("Sulaymaniyah", "Rania"): "IQG06Q09", ("Sulaymaniyah", "Sharbazher"): "IQG06Q10",
    ("Sulaymaniyah", "Sulaymaniya"): "IQG06Q01",
    ("Thi-Qar", "Al-Rifa'i"): "IQG17Q02", ("Thi-Qar", "Nassriya"): "IQG17Q04",
    ("Thi-Qar", "Suq Al-Shoyokh"): "IQG17Q05",
    ("Wassit", "Al-Azezia"): "IQG18Q04", ("Wassit", "Al-Hai"): "IQG18Q01", ("Wassit", "Al-Na'maniya"): "IQG18Q03",
    ("Wassit", "Al-Suwaira"): "IQG18Q04", ("Wassit", "Badra"): "IQG18Q05", ("Wassit", "Kut"): "IQG18Q02",
}  # fmt: skip

# DTM district names that are not COD-AB 2019 districts and whose area spans several of them.
DTM_SPLIT = {("Baghdad", "Abu Ghraib"): ["IQG08Q02", "IQG08Q05", "IQG01Q01"]}


def test_every_dtm_district_resolves(shared_data):
    locations = pl.read_csv(shared_data / DTM, infer_schema=False)
    pairs = set(locations.select("GovernorateE", "DistrictE").unique().iter_rows())
    assert len(pairs) == 96
    assert pairs == set(DTM_DISTRICTS) | set(DTM_SPLIT)
    got = {(g, d): resolve_district(d, resolve_governorate(g)) for g, d in DTM_DISTRICTS}
    assert got == DTM_DISTRICTS
    for (g, d), codes in DTM_SPLIT.items():
        with pytest.raises(SplitDistrictError) as info:
            resolve_district(d, resolve_governorate(g))
        assert info.value.cod_ab_district_pcodes == codes


def test_dtm_names_agree_with_the_cod_ab_polygon_most_of_their_locations_fall_in(shared_data):
    """Independent check: DTM gives each location's COD-AB 2019 district (``district_ocha``, from its
    coordinates). The resolved name must be the district most of that name's locations fall in,
    except where the file itself contradicts the name: all 16 "Amara" locations lie in COD-AB
    Al-Kahla and 16 of the 30 "Daquq" locations in COD-AB Kirkuk."""
    locations = pl.read_csv(shared_data / DTM, infer_schema=False)
    public = pl.read_csv(shared_data / COD_AB_DISTRICTS, infer_schema=False)
    pcode_of = {(g, d): p for p, d, g in public.select("ADM2_PCODE", "ADM2_EN", "ADM1_EN").iter_rows()}
    votes: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    for g, d, g_ocha, d_ocha in locations.select("GovernorateE", "DistrictE", "gov_ocha", "district_ocha").iter_rows():
        if (g_ocha, d_ocha) in pcode_of:
            votes[(g, d)][pcode_of[(g_ocha, d_ocha)]] += 1
    disagree = {
        pair: votes[pair].most_common(1)[0][0]
        for pair, expected in DTM_DISTRICTS.items()
        if votes[pair].most_common(1)[0][0] != expected
    }
    assert disagree == {("Missan", "Amara"): "IQG14Q03", ("Kirkuk", "Daquq"): "IQG13Q04"}


# ---------------------------------------------------------------------------------------------
# Collisions: names shared with governorates, every spelling unambiguous
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Erbil", "IQG11Q02"),
        ("Kirkuk", "IQG13Q04"),
        ("Duhok", "IQG09Q02"),
        ("Basrah", "IQG02Q02"),
        ("Najaf", "IQG04Q03"),
        ("Kerbala", "IQG12Q03"),
        ("كربلاء", "IQG12Q03"),
        ("Sulaymaniyah", "IQG06Q01"),
        ("السليمانية", "IQG06Q01"),
        ("Halabja", "IQG06Q05"),
    ],
)
def test_district_named_like_its_governorate(name, expected):
    """A governorate's name used as a district name is that governorate's capital district (COD-AB
    names them alike); Halabja's governorate (IQG19) holds only the Halabcha district."""
    assert resolve_district(name, resolve_governorate(name)) == expected
    assert resolve_district(name) == expected


def test_district_names_that_are_governorate_spellings_lie_in_that_governorate():
    """Which COD-AB district names are also governorate spellings (name or capital), and that each
    lies in the governorate it names: a governorate's name never points at a district elsewhere."""
    named = {}
    for pcode, name_en, name_ar, gov in (
        districts().select("district_pcode", "name_en", "name_ar", "governorate_pcode").iter_rows()
    ):
        for name in (name_en, name_ar):
            with contextlib.suppress(ValueError):  # most district names are no governorate spelling
                named[pcode] = (resolve_governorate(name), gov)
    assert sorted(named) == [
        "IQG01Q03", "IQG02Q02", "IQG03Q04", "IQG04Q03", "IQG05Q02", "IQG06Q01", "IQG06Q05", "IQG07Q02",
        "IQG09Q02", "IQG10Q04", "IQG11Q02", "IQG12Q03", "IQG13Q04", "IQG14Q01", "IQG15Q05", "IQG16Q06",
        "IQG17Q04", "IQG18Q02",
    ]  # fmt: skip
    assert [p for p, (named_gov, gov) in named.items() if named_gov != gov] == []


def test_every_table_spelling_and_alias_resolves_to_its_own_district_without_context():
    """No spelling names two districts (of any governorate) in the shipped tables."""
    table = districts()
    rows = [(r["district_pcode"], r[c]) for r in table.iter_rows(named=True) for c in ("name_en", "name_ar")]
    rows += [(p, a) for a, p in district_aliases().select("alias", "district_pcode").iter_rows()]
    wrong = [(spelling, pcode, resolve_district(spelling)) for pcode, spelling in rows]
    assert [w for w in wrong if w[1] != w[2]] == []
    assert len(rows) == 2 * 101 + 42


def test_each_alias_is_needed_and_sourced():
    """An alias must be a real spelling the normaliser cannot derive: without it, it would not resolve
    to its district."""
    aliases = district_aliases()
    assert aliases.columns == ["alias", "district_pcode", "script", "alias_type", "source"]
    assert aliases["source"].is_null().sum() == 0
    assert set(aliases["script"]) <= {"latin", "ar"}
    assert set(aliases["alias_type"]) <= {"variant_spelling", "compound_name", "absorbed_district"}
    empty = aliases.clear()
    bare = DistrictResolver(districts(), empty, district_splits(), governorates())
    derivable = []
    for alias, pcode in aliases.select("alias", "district_pcode").iter_rows():
        with contextlib.suppress(UnknownDistrictError):  # not derivable: the alias is needed
            if bare.resolve(alias) == pcode:
                derivable.append(alias)
    assert derivable == []


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_unknown_name_lists_close_spellings_of_the_governorate_first():
    with pytest.raises(UnknownDistrictError) as info:
        resolve_district("Falooja", "IQG01")
    err = info.value
    assert err.value == "Falooja" and err.governorate_pcode == "IQG01"
    assert err.suggestions[0] == "Al-Falluja (IQG01Q01)"
    assert 1 <= len(err.suggestions) <= 3
    message = str(err)
    assert "'Falooja'" in message and "IQG01 (Al-Anbar)" in message and "Al-Falluja (IQG01Q01)" in message
    assert isinstance(err, ValueError) and not isinstance(err, DistrictGovernorateMismatchError)


def test_unknown_name_without_governorate():
    with pytest.raises(UnknownDistrictError) as info:
        resolve_district("Zakhoo town")
    assert "no governorate given" in str(info.value)
    assert info.value.governorate_pcode is None
    with pytest.raises(UnknownDistrictError) as info:
        resolve_district("Telafer")
    assert info.value.suggestions[0] == "Telafar (IQG15Q08)"


@pytest.mark.parametrize(
    ("name", "given", "district", "found_governorate"),
    [
        ("Kifri", "IQG06", "IQG10Q06", "IQG10"),  # Kifri is in Diyala in COD-AB 2019
        ("زاخو", "IQG15", "IQG09Q04", "IQG09"),
        ("al.mosul", "IQG09", "IQG15Q05", "IQG15"),
        ("Halabja", "IQG11", "IQG06Q05", "IQG19"),
        ("Al-Sulaymaniyah", "IQG19", "IQG06Q01", "IQG06"),
        ("IQG09Q04", "IQG15", "IQG09Q04", "IQG09"),
    ],
)
def test_right_name_wrong_governorate(name, given, district, found_governorate):
    with pytest.raises(DistrictGovernorateMismatchError) as info:
        resolve_district(name, given)
    err = info.value
    assert err.governorate_pcode == given
    assert err.district_pcodes == [district]
    assert err.found_governorate_pcodes == [found_governorate]
    assert given in str(err) and found_governorate in str(err) and district in str(err)
    assert not isinstance(err, UnknownDistrictError)


def test_mismatch_names_both_governorates_by_name():
    with pytest.raises(DistrictGovernorateMismatchError) as info:
        resolve_district("Kifri", "IQG06")
    assert str(info.value) == (
        "district 'Kifri' is not in the given governorate IQG06 (Al-Sulaymaniyah): "
        "it is IQG10Q06 Kifri in governorate IQG10 (Diyala)"
    )


def test_abu_ghraib_is_split_not_guessed():
    for gov in ("IQG08", None):
        with pytest.raises(SplitDistrictError) as info:
            resolve_district("Abu Ghraib", gov)
        assert info.value.cod_ab_district_pcodes == ["IQG08Q02", "IQG08Q05", "IQG01Q01"]
        assert "IQG08Q02 Al-Kadhmiyah" in str(info.value)
        assert isinstance(info.value, UnknownDistrictError)
    with pytest.raises(UnknownDistrictError) as info:  # in another governorate it is just unknown
        resolve_district("Abu Ghraib", "IQG02")
    assert not isinstance(info.value, SplitDistrictError)


# ---------------------------------------------------------------------------------------------
# P-codes, blanks, bad arguments
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "governorate", "expected"),
    [
        ("IQG01Q01", None, "IQG01Q01"),
        ("iqg01q01", None, "IQG01Q01"),
        (" IQG18Q05 ", "IQG18", "IQG18Q05"),
        ("IQG06Q05", "IQG19", "IQG06Q05"),
        ("IQG06Q05", "IQG06", "IQG06Q05"),
    ],
)
def test_pcode_input(value, governorate, expected):
    assert resolve_district(value, governorate) == expected


@pytest.mark.parametrize("value", ["IQG01Q08", "IQG19Q01", "IQG99Q01"])
def test_unknown_pcode(value):
    with pytest.raises(UnknownDistrictError) as info:
        resolve_district(value)
    assert "no such COD-AB 2019 district p-code" in str(info.value)


@pytest.mark.parametrize("value", ["", "   ", None, "-", "\ufeff"])
def test_blank_input(value):
    with pytest.raises(UnknownDistrictError) as info:
        resolve_district(value, "IQG01")
    assert "blank" in str(info.value) and info.value.suggestions == []


def test_bad_arguments():
    with pytest.raises(TypeError):
        resolve_district(5)
    with pytest.raises(ValueError, match="mizan governorate p-code") as info:
        resolve_district("Mosul", "Ninewa")  # a name, not a p-code
    assert not isinstance(info.value, DistrictError)
    assert resolve_district("Mosul", "") == "IQG15Q05"  # blank context = no context
    assert resolve_district("Mosul", "iqg15") == "IQG15Q05"


# ---------------------------------------------------------------------------------------------
# Building the index on other tables
# ---------------------------------------------------------------------------------------------


def _table(rows: list[tuple[str, str, str, str, str]]) -> pl.DataFrame:
    cols = ["district_pcode", "name_en", "name_ar", "governorate_pcode", "cod_ab_governorate_pcode"]
    return pl.DataFrame(rows, schema=cols, orient="row").with_columns(note=pl.lit(None, dtype=pl.String))


NO_ALIASES = pl.DataFrame(schema={c: pl.String for c in ["alias", "district_pcode", "script", "alias_type", "source"]})
NO_SPLITS = pl.DataFrame(
    schema={c: pl.String for c in ["name", "governorate_pcode", "cod_ab_district_pcodes", "source", "note"]}
)


def test_two_districts_of_one_governorate_with_one_spelling_fail_loudly():
    table = _table([
        ("IQG01Q01", "Al-Falluja", "الفلوجة", "IQG01", "IQG01"),
        ("IQG01Q02", "Falluja", "القائم", "IQG01", "IQG01"),
    ])  # fmt: skip
    with pytest.raises(ValueError, match="ambiguous district spelling in governorate IQG01"):
        DistrictResolver(table, NO_ALIASES, NO_SPLITS, governorates())


def test_a_spelling_shared_with_halabcha_inside_its_cod_ab_parent_fails_loudly():
    table = _table([
        ("IQG06Q05", "Halabcha", "حلبجة", "IQG19", "IQG06"),
        ("IQG06Q06", "Halabcha", "كلار", "IQG06", "IQG06"),
    ])  # fmt: skip
    with pytest.raises(ValueError, match="IQG06"):
        DistrictResolver(table, NO_ALIASES, NO_SPLITS, governorates())


def test_alias_to_an_unknown_district_fails_loudly():
    aliases = pl.DataFrame([("Fallujah", "IQG01Q09", "latin", "variant_spelling", "test")], schema=NO_ALIASES.columns,
                           orient="row")  # fmt: skip
    table = _table([("IQG01Q01", "Al-Falluja", "الفلوجة", "IQG01", "IQG01")])
    with pytest.raises(ValueError, match="IQG01Q09"):
        DistrictResolver(table, aliases, NO_SPLITS, governorates())


def test_same_name_in_two_governorates_needs_the_governorate():
    table = _table([
        ("IQG01Q01", "Al-Midaina", "المدينة", "IQG01", "IQG01"),
        ("IQG02Q04", "Al-Midaina", "المدينة", "IQG02", "IQG02"),
    ])  # fmt: skip
    resolver = DistrictResolver(table, NO_ALIASES, NO_SPLITS, governorates())
    assert resolver.resolve("Midaina", "IQG01") == "IQG01Q01"
    assert resolver.resolve("المدينة", "IQG02") == "IQG02Q04"
    with pytest.raises(AmbiguousDistrictError) as info:
        resolver.resolve("Al-Midaina")
    assert info.value.candidates == ["IQG01Q01", "IQG02Q04"]
    assert "IQG01 (Al-Anbar)" in str(info.value) and "IQG02 (Al-Basrah)" in str(info.value)
    with pytest.raises(DistrictGovernorateMismatchError) as mismatch:
        resolver.resolve("Al-Midaina", "IQG03")
    assert mismatch.value.found_governorate_pcodes == ["IQG01", "IQG02"]
