"""Deterministic, seeded generator of the SYNTHETIC demo landing folder that `mizan demo` loads.

Everything written here is invented. It imitates the layouts real deliveries arrive in, so that the
demo exercises the same readers, mappings and contracts as real data:

* ``surveys/mizan_demo_national/xlsform.xlsx`` - an XLSForm (survey / choices / settings sheets);
* ``surveys/mizan_demo_national/export_wave_2024.csv`` and ``export_wave_2025.csv`` - KoboToolbox CSV
  exports of that form (``;`` delimiter, UTF-8 with a byte-order mark, every cell double-quoted, CRLF
  line ends, select_multiple split into 0/1 columns, geopoint split into ``_gps_*`` columns, Kobo meta
  columns at the end); its questions cover every sector of the question bank: water, electricity,
  health, education, waste collection, roads, and the local government (responsiveness, trust on the
  bank's 4-point scale, complaints and whether action was taken);
* ``surveys/mizan_demo_firm_b/firm_b_wave_2025.sav`` - a second firm's SPSS file (one wave, six southern
  governorates, Arabic labels, 4-point ratings declared onto the question bank's top/bottom box, planted
  review-status, duplicate and soft-duplicate faults), written by :mod:`pipelines.demo.firm_b`;
* ``budget/mizan_demo_budget/budget_<year>.xlsx`` - governorate budget workbooks as finance offices deliver
  them (one per fiscal year with a budget law, one sheet per governorate, Arabic title rows, a units line,
  a two-row merged header, sector sections with subtotals and a grand total, planted faults), written by
  :mod:`pipelines.demo.budget_workbooks`;
* ``training/mizan_demo_training/cohorts_<track>.csv`` - the programme's nine training cohorts (6 x 20 fiscal
  federalism, 3 x 20 resilience) with planted faults, written by :mod:`pipelines.demo.training`;
* ``README.txt`` - what the files are, the seed, the design and the planted faults with row numbers.

Row numbers everywhere are 1-based data rows (the header is not counted), as in docs/architecture.md.

Same seed and arguments give byte-identical files (the xlsx files are re-zipped with fixed timestamps, the SPSS
header's time of writing is pinned). Questions and sources added later draw from random streams of their
own, so the answers the demo had before them did not change.
The "true" governorate parameters depend on the seed only, not on ``households_per_wave``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import polars as pl
from openpyxl.xml.functions import tostring

__all__ = ["generate_demo", "GOVERNORATES", "SURVEY_SOURCE_ID", "BUDGET_SOURCE_ID"]

SURVEY_SOURCE_ID = "mizan_demo_national"
BUDGET_SOURCE_ID = "mizan_demo_budget"
DEFAULT_SEED = 20261129
WAVES = (2024, 2025)
FISCAL_YEARS = (2019, 2021, 2023, 2024)
MISSING_FISCAL_YEARS = (2020, 2022)  # no federal budget law: no "original approved allocation" exists
SECTORS = (
    "water_sanitation",
    "electricity",
    "health",
    "education",
    "municipal_waste",
    "roads_transport",
    "other",
)
BUDGET_SCOPES = ("capital", "operating")
FORM_TITLE = "mizan demo national service-quality survey (SYNTHETIC)"
FORM_ID = "mizan_demo_national"
FORM_VERSION = "2024030101"
MIN_HOUSEHOLDS_PER_WAVE = 400
TARGET_CLUSTER_SIZE = 12
HOURS_FAULT_VALUES = (30, 36, 48)
UNKNOWN_BUDGET_GOVERNORATE = "Baghdad Al-Jadida"
# Fixed timestamp written into the xlsx (docProps and zip entries) so the file is byte-identical.
_FIXED_XLSX_TIME = dt.datetime(2024, 1, 1, 0, 0, 0)

SURVEY_DIR = Path("surveys") / SURVEY_SOURCE_ID
BUDGET_DIR = Path("budget") / BUDGET_SOURCE_ID
XLSFORM_PATH = SURVEY_DIR / "xlsform.xlsx"
FIRM_B_PATH = Path("surveys") / "mizan_demo_firm_b" / "firm_b_wave_2025.sav"  # written by pipelines/demo/firm_b.py
README_PATH = Path("README.txt")


def export_path(wave: int) -> Path:
    return SURVEY_DIR / f"export_wave_{wave}.csv"


@dataclass(frozen=True)
class Governorate:
    code: str  # XLSForm choice name
    label_en: str  # COD-AB style English name, used as the form's choice label
    label_ar: str
    finance_name: str  # an English spelling a finance office might use (the budget workbooks use Arabic titles)
    population: int  # approximate 2024 population, for the demo only
    urban_share: float
    household_size: float
    lat: float  # an approximate governorate centre, used to scatter synthetic GPS points
    lon: float
    abbrev: str  # enumerator id prefix


# Order = COD-AB 2019 p-code order (IQG01 ... IQG18), Halabja last. Populations, urban shares and
# household sizes are rounded, plausible figures for a demo, not official statistics.
GOVERNORATES: tuple[Governorate, ...] = (
    Governorate("anbar", "Al-Anbar", "الأنبار", "Al-Anbar", 1_950_000, 0.52, 6.6, 33.42, 43.30, "ANB"),
    Governorate("basrah", "Al-Basrah", "البصرة", "Basrah", 3_300_000, 0.80, 6.3, 30.51, 47.78, "BAS"),
    Governorate("muthanna", "Al-Muthanna", "المثنى", "Muthanna", 900_000, 0.45, 7.0, 31.31, 45.28, "MUT"),
    Governorate("najaf", "Al-Najaf", "النجف", "Najaf", 1_650_000, 0.72, 6.4, 32.00, 44.33, "NAJ"),
    Governorate("qadisiyah", "Al-Qadissiya", "القادسية", "Qadisiya", 1_400_000, 0.57, 6.6, 31.99, 44.92, "QAD"),
    Governorate(
        "sulaymaniyah", "Al-Sulaymaniyah", "السليمانية", "Sulaimaniya", 2_250_000, 0.85, 5.0, 35.56, 45.43, "SUL"
    ),
    Governorate("babil", "Babil", "بابل", "Babylon", 2_300_000, 0.48, 6.5, 32.48, 44.43, "BAB"),
    Governorate("baghdad", "Baghdad", "بغداد", "Baghdad", 9_000_000, 0.87, 6.0, 33.31, 44.36, "BGD"),
    Governorate("duhok", "Duhok", "دهوك", "Dohuk", 1_400_000, 0.75, 5.6, 36.87, 42.99, "DUH"),
    Governorate("diyala", "Diyala", "ديالى", "Diyala", 1_800_000, 0.48, 6.4, 33.75, 44.64, "DIY"),
    Governorate("erbil", "Erbil", "أربيل", "Erbil", 2_200_000, 0.83, 5.0, 36.19, 44.01, "ERB"),
    Governorate("kerbala", "Kerbala", "كربلاء", "Karbala", 1_350_000, 0.67, 6.5, 32.62, 44.02, "KER"),
    Governorate("kirkuk", "Kirkuk", "كركوك", "Kirkuk", 1_750_000, 0.72, 5.9, 35.47, 44.39, "KIR"),
    Governorate("maysan", "Maysan", "ميسان", "Missan", 1_200_000, 0.73, 6.9, 31.84, 47.14, "MAY"),
    Governorate("ninewa", "Ninewa", "نينوى", "Ninawa", 4_300_000, 0.60, 6.3, 36.34, 43.13, "NIN"),
    Governorate(
        "salah_al_din", "Salah Al-Din", "صلاح الدين", "Salahaddin", 1_700_000, 0.45, 6.7, 34.60, 43.68, "SAL"
    ),
    Governorate("thi_qar", "Thi-Qar", "ذي قار", "Dhi Qar", 2_350_000, 0.63, 7.0, 31.05, 46.26, "THI"),
    Governorate("wassit", "Wassit", "واسط", "Wasit", 1_450_000, 0.60, 6.6, 32.51, 45.82, "WAS"),
    Governorate("halabja", "Halabja", "حلبجة", "Halabja", 120_000, 0.65, 5.2, 35.18, 45.99, "HAL"),
)
N_GOV = len(GOVERNORATES)
URBAN_RURAL = ("urban", "rural")
#: Shares of IDP and returnee households by governorate for the demo's displacement_status (plausible
#: magnitudes only: higher where the 2014-2017 conflict displaced most people and where camps are).
DISPLACED_SHARES: dict[str, tuple[float, float]] = {
    "anbar": (0.04, 0.30), "ninewa": (0.10, 0.32), "salah_al_din": (0.06, 0.28), "kirkuk": (0.06, 0.16),
    "diyala": (0.04, 0.14), "duhok": (0.22, 0.02), "erbil": (0.10, 0.02), "sulaymaniyah": (0.05, 0.01),
    "baghdad": (0.02, 0.04), "babil": (0.02, 0.03), "halabja": (0.02, 0.01),
}
DEFAULT_DISPLACED_SHARES = (0.01, 0.01)

# ----------------------------------------------------------------------------------------------
# Choice lists (shared by the XLSForm and the export generator)
# ----------------------------------------------------------------------------------------------
LEVEL_SERVICE = (
    ("excellent", "Excellent", "ممتاز"),
    ("good", "Good", "جيد"),
    ("adequate", "Adequate", "كاف"),
    ("poor", "Poor", "رديء"),
    ("very_poor", "Very poor", "رديء جدا"),
    ("prefer_not_answer", "Prefer not to answer", "افضل عدم الاجابة"),
)
YES_NO = (("yes", "Yes", "نعم"), ("no", "No", "لا"))
YNDP = (
    ("yes", "Yes", "نعم"),
    ("no", "No", "لا"),
    ("dont_know", "Don't know", "لا أعرف"),
    ("prefer_not_answer", "Prefer not to answer", "افضل عدم الاجابة"),
)
SEX = (("male", "Male", "ذكر"), ("female", "Female", "انثى"))
URBAN_RURAL_CHOICES = (("urban", "Urban", "حضر"), ("rural", "Rural", "ريف"))
DISPLACEMENT = (
    ("non_displaced", "Not displaced (host community)", "غير نازح (المجتمع المضيف)"),
    ("idp", "Internally displaced (IDP)", "نازح داخليا"),
    ("returnee", "Returnee", "عائد"),
)
WATER_SOURCES = (
    ("piped", "Piped connection into house or yard", "اتصال مباشر بشبكة ماء البلدية (المحلية) في المنزل أو الفناء"),
    ("trucking", "Water trucking", "المياه المنقولة بالشاحنات"),
    ("borehole", "Borehole", "بئر جوفي"),
    ("bottled", "Bottled or sachet water", "المياه المعبأة بالزجاجات أو اكياس"),
    ("other", "Other", "اخرى"),
)
#: Trust in local government: the question bank's 4-point trust scale (trust_4), plus nonresponse.
TRUST = (
    ("a_great_deal", "A great deal", "كثيرا جدا"),
    ("quite_a_lot", "Quite a lot", "إلى حد ما"),
    ("not_very_much", "Not very much", "ليس كثيرا"),
    ("none_at_all", "None at all", "لا أثق على الإطلاق"),
    ("dont_know", "Don't know", "لا أعرف"),
    ("prefer_not_answer", "Prefer not to answer", "افضل عدم الاجابة"),
)
CHOICE_LISTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "yes_no": YES_NO,
    "governorates": tuple((g.code, g.label_en, g.label_ar) for g in GOVERNORATES),
    "urban_rural": URBAN_RURAL_CHOICES,
    "sex": SEX,
    "displacement": DISPLACEMENT,
    "level_service": LEVEL_SERVICE,
    "yndp": YNDP,
    "water_sources": WATER_SOURCES,
    "trust": TRUST,
}
RATING_CODES = tuple(c[0] for c in LEVEL_SERVICE)  # index 0..5
YNDP_CODES = tuple(c[0] for c in YNDP)
TRUST_CODES = tuple(c[0] for c in TRUST)
WATER_SOURCE_CODES = tuple(c[0] for c in WATER_SOURCES)
DISPLACEMENT_CODES = tuple(c[0] for c in DISPLACEMENT)

_CONSENT = "${consent} = 'yes'"
_Q = dict  # one survey-sheet row

SURVEY_COLUMNS = (
    "type",
    "name",
    "label::English (en)",
    "label::Arabic (ar)",
    "required",
    "relevant",
    "constraint",
    "constraint_message::English (en)",
    "constraint_message::Arabic (ar)",
    "calculation",
)

SURVEY_ROWS: tuple[dict[str, str], ...] = (
    _Q(type="start", name="start"),
    _Q(type="end", name="end"),
    _Q(type="today", name="today"),
    _Q(type="deviceid", name="deviceid"),
    _Q(type="text", name="enumerator_id", en="Enumerator ID", ar="رمز الباحث الميداني", required="true"),
    _Q(type="select_one governorates", name="governorate", en="Governorate", ar="المحافظة", required="true"),
    _Q(
        type="select_one urban_rural",
        name="urban_rural",
        en="Is the sampled location urban or rural?",
        ar="هل الموقع المختار حضري أم ريفي؟",
        required="true",
    ),
    _Q(
        type="text",
        name="cluster_id",
        en="Cluster (primary sampling unit) ID from the sample list",
        ar="رمز العنقود (وحدة المعاينة الأولية) من قائمة العينة",
        required="true",
    ),
    _Q(type="calculate", name="stratum", calculation="concat(${governorate}, '_', ${urban_rural})"),
    _Q(
        type="decimal",
        name="weight",
        en="Design weight (added by the survey firm after fieldwork)",
        ar="وزن التصميم (تضيفه شركة المسح بعد انتهاء العمل الميداني)",
        constraint=". > 0",
        cmsg_en="The weight must be positive",
        cmsg_ar="يجب أن يكون الوزن موجبًا",
    ),
    _Q(
        type="select_one yes_no",
        name="consent",
        en=(
            "Hello, my name is __ and I work for a survey firm contracted by the governorate. We are asking "
            "households about the quality of water, electricity, health, education, waste collection and "
            "roads, and about their local government. The interview takes about 20 minutes, your answers stay "
            "confidential and you may stop at any time. Are you willing to participate?"
        ),
        ar=(
            "مرحبًا، اسمي __ وأعمل لدى شركة مسوح متعاقدة مع المحافظة. نسأل الأسر عن جودة خدمات المياه والكهرباء "
            "والصحة والتعليم وجمع النفايات والطرق، وعن الحكومة المحلية. تستغرق المقابلة حوالي 20 دقيقة، "
            "وتبقى إجاباتك سرية ويمكنك التوقف في أي وقت. هل أنت مستعد للمشاركة؟"
        ),
        required="true",
    ),
    _Q(type="text", name="resp_name", en="Respondent's name", ar="اسم المستجيب", relevant=_CONSENT),
    _Q(
        type="text",
        name="phone_number",
        en="Phone number for a follow-up call",
        ar="رقم الهاتف لمكالمة المتابعة",
        relevant=_CONSENT,
    ),
    _Q(
        type="geopoint",
        name="gps",
        en="Record the GPS location of the interview",
        ar="سجّل موقع المقابلة (GPS)",
        relevant=_CONSENT,
    ),
    _Q(
        type="select_one sex",
        name="gender_hoh",
        en="What is the gender of the head of household?",
        ar="ما هو جنس رب الاسرة؟",
        required="true",
        relevant=_CONSENT,
    ),
    _Q(
        type="select_one displacement",
        name="displacement_status",
        en="Is your household displaced, a returnee, or neither?",
        ar="هل أسرتك نازحة أم عائدة أم غير ذلك؟",
        required="true",
        relevant=_CONSENT,
    ),
    _Q(
        type="select_multiple water_sources",
        name="water_sources",
        en="Overall, what are the main sources of water used by your household (for all purposes combined)?",
        ar="بشكل عام، ماهو المصدر الرئيسي للمياه لأسرتك؟",
        required="true",
        relevant=_CONSENT,
    ),
    _Q(
        type="integer",
        name="hours_available_piped",
        en=(
            "On the days that water from the piped connection into your house or yard is available, "
            "for how many hours per day is it generally available?"
        ),
        ar="في الايام التي تتوفر فيها المياه من شبكة الانابيب، كم ساعة تتوفر في اليوم؟",
        required="true",
        relevant="selected(${water_sources},'piped')",
        constraint=". >= 0 and . <= 24",
        cmsg_en="The number cannot be below 0 or above 24",
        cmsg_ar="لا يمكن أن يكون الرقم أقل من 0 أو أعلى من 24",
    ),
    _Q(
        type="select_one level_service",
        name="level_service",
        en="How do you rate the overall level of service from the municipal water supply system?",
        ar="كيف تقيّم المستوى العام للخدمة لنظام امدادات مياه البلدية؟",
        required="true",
        relevant=_CONSENT,
    ),
    _Q(
        type="select_one level_service",
        name="regularity_supply",
        en="How do you rate the current regularity of the water supply from the municipal water supply system?",
        ar="كيف تقيم الانتظام (الجدول الزمني) لإمدادات المياه من شبكة إمدادات المياه البلدية؟",
        required="true",
        relevant=_CONSENT,
    ),
    _Q(
        type="select_one level_service",
        name="water_office_receptiveness",
        en="How do you rate the water office's receptiveness to suggestions and complaints?",
        ar="كيف تقيم مدى تقبل دائرة المياه للاقتراحات والشكاوى؟",
        required="true",
        relevant=_CONSENT,
    ),
    _Q(
        type="select_one yndp",
        name="problems_water",
        en="Has your household encountered problems with your main source of water?",
        ar="هل واجهت أسرتك مشاكل مع المصدر الرئيسي للمياه؟",
        required="true",
        relevant=_CONSENT,
    ),
    _Q(
        type="select_one yndp",
        name="problems_water_action",
        en="Was there action taken based on your complaint?",
        ar="هل تم اتخاذ اجراء بناءً على شكواك؟",
        required="true",
        relevant="selected(${problems_water},'yes')",
    ),
    _Q(
        type="select_one level_service",
        name="electricity_rating",
        en="How do you rate the overall level of service from the public electricity grid?",
        ar="كيف تقيّم المستوى العام لخدمة الكهرباء الوطنية؟",
        required="true",
        relevant=_CONSENT,
    ),
    _Q(
        type="select_one yes_no",
        name="used_health_services",
        en="In the past 12 months, has any member of your household used a public health facility?",
        ar="خلال الأشهر الاثني عشر الماضية، هل استخدم أي فرد من أسرتك مرفقًا صحيًا حكوميًا؟",
        required="true",
        relevant=_CONSENT,
    ),
    _Q(
        type="select_one level_service",
        name="health_rating",
        en="How do you rate the overall quality of the public health services your household uses?",
        ar="كيف تقيّم الجودة العامة للخدمات الصحية الحكومية التي تستخدمها أسرتك؟",
        required="true",
        relevant="${used_health_services} = 'yes'",
    ),
    _Q(
        type="select_one yes_no",
        name="has_school_children",
        en="Does your household have children attending a public school?",
        ar="هل لدى أسرتك أطفال يرتادون مدرسة حكومية؟",
        required="true",
        relevant=_CONSENT,
    ),
    _Q(
        type="select_one level_service",
        name="education_rating",
        en="How do you rate the overall quality of the public schools your household's children attend?",
        ar="كيف تقيّم الجودة العامة للمدارس الحكومية التي يرتادها أطفال أسرتك؟",
        required="true",
        relevant="${has_school_children} = 'yes'",
    ),
    # waste, roads, local government and trust (question bank sectors waste, roads, local_government)
    _Q(
        type="select_one level_service",
        name="waste_collection",
        en="How do you rate the collection of household waste in your area?",
        ar="كيف تقيّم خدمة جمع النفايات المنزلية في منطقتك؟",
        required="true",
        relevant=_CONSENT,
    ),
    _Q(
        type="select_one level_service",
        name="roads_condition",
        en="How do you rate the condition of the roads in your area?",
        ar="كيف تقيّم حالة الطرق في منطقتك؟",
        required="true",
        relevant=_CONSENT,
    ),
    _Q(
        type="select_one level_service",
        name="local_gov_responsiveness",
        en=(
            "How do you rate how well the local government (governorate council and administration) responds "
            "to the needs of people in your area?"
        ),
        ar="كيف تقيّم استجابة الحكومة المحلية (مجلس المحافظة والإدارة المحلية) لاحتياجات الناس في منطقتك؟",
        required="true",
        relevant=_CONSENT,
    ),
    _Q(
        type="select_one trust",
        name="trust_local_gov",
        en="How much do you trust the local government of your governorate?",
        ar="إلى أي مدى تثق بالحكومة المحلية في محافظتك؟",
        required="true",
        relevant=_CONSENT,
    ),
    _Q(
        type="select_one yes_no",
        name="complained",
        en=(
            "In the past 12 months, has your household made a complaint to the local authorities or a "
            "service provider?"
        ),
        ar="خلال الأشهر الاثني عشر الماضية، هل قدمت أسرتك شكوى إلى السلطات المحلية أو إلى مقدم خدمة؟",
        required="true",
        relevant=_CONSENT,
    ),
    _Q(
        type="select_one yndp",
        name="complaint_action",
        en="After your household's most recent complaint, was action taken?",
        ar="بعد آخر شكوى قدمتها أسرتك، هل تم اتخاذ إجراء؟",
        required="true",
        relevant="${complained} = 'yes'",
    ),
)

KOBO_META_COLUMNS = (
    "_id",
    "_uuid",
    "_submission_time",
    "_validation_status",
    "_notes",
    "_status",
    "_submitted_by",
    "__version__",
    "_tags",
    "_index",
)
GPS_SPLIT_COLUMNS = ("_gps_latitude", "_gps_longitude", "_gps_altitude", "_gps_precision")


def export_columns() -> list[str]:
    """Header of the Kobo CSV export, in order (XML names, as KoboToolbox writes them)."""
    cols: list[str] = []
    for q in SURVEY_ROWS:
        name = q["name"]
        cols.append(name)
        if q["type"] == "geopoint":
            cols.extend(GPS_SPLIT_COLUMNS)
        elif q["type"].startswith("select_multiple"):
            cols.extend(f"{name}/{code}" for code in WATER_SOURCE_CODES)
    cols.extend(KOBO_META_COLUMNS)
    return cols


# ----------------------------------------------------------------------------------------------
# Small numeric helpers
# ----------------------------------------------------------------------------------------------


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer allocation of `total` proportional to `weights` (Hamilton); ties broken by position."""
    w = np.asarray(weights, dtype=np.float64)
    quota = total * w / w.sum()
    base = np.floor(quota).astype(np.int64)
    short = int(total - base.sum())
    if short > 0:
        order = np.argsort(-(quota - base), kind="stable")
        base[order[:short]] += 1
    return base


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1.0 - p))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------------------------
# "True" parameters: governorate x wave, drawn from the seed only
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Params:
    water_good: np.ndarray  # (N_GOV, 2) target share rating municipal water good/excellent
    regularity_good: np.ndarray
    receptiveness_good: np.ndarray
    electricity_good: np.ndarray
    health_good: np.ndarray
    education_good: np.ndarray
    problems_yes: np.ndarray
    action_yes: np.ndarray
    hours_mean: np.ndarray  # (N_GOV, 2) mean hours/day of piped water, 4..16
    piped_p: np.ndarray  # (N_GOV, 2) by urban(0)/rural(1)
    female_share: np.ndarray  # (N_GOV,)
    used_health_p: np.ndarray  # (N_GOV,)
    school_children_p: np.ndarray  # (N_GOV,)
    water_change: np.ndarray  # (N_GOV,) logit change 2024 -> 2025


def _draw_params(rng: np.random.Generator) -> _Params:
    g = N_GOV
    water_2024 = rng.uniform(0.18, 0.48, g)
    # A third of governorates improve, a third worsen, the rest stay about the same.
    perm = rng.permutation(g)
    change = np.empty(g)
    n_up = g // 3
    n_down = g // 3
    change[perm[:n_up]] = rng.uniform(0.30, 0.65, n_up)
    change[perm[n_up : n_up + n_down]] = -rng.uniform(0.30, 0.65, n_down)
    change[perm[n_up + n_down :]] = rng.uniform(-0.08, 0.08, g - n_up - n_down)
    water_2025 = np.clip(_expit(_logit(water_2024) + change), 0.15, 0.55)
    water = np.column_stack([np.clip(water_2024, 0.15, 0.55), water_2025])

    def shifted(base: np.ndarray, shift: np.ndarray, lo: float, hi: float) -> np.ndarray:
        return np.column_stack([base, np.clip(_expit(_logit(base) + shift), lo, hi)])

    regularity_2024 = np.clip(_expit(_logit(water[:, 0]) - 0.3 + rng.normal(0, 0.2, g)), 0.08, 0.6)
    regularity = shifted(regularity_2024, change + rng.normal(0, 0.1, g), 0.05, 0.65)
    receptiveness = shifted(rng.uniform(0.12, 0.35, g), 0.4 * change, 0.05, 0.5)
    electricity = shifted(rng.uniform(0.10, 0.40, g), rng.uniform(-0.3, 0.3, g), 0.05, 0.5)
    health = shifted(rng.uniform(0.30, 0.60, g), rng.uniform(-0.25, 0.25, g), 0.2, 0.7)
    education = shifted(rng.uniform(0.35, 0.65, g), rng.uniform(-0.25, 0.25, g), 0.25, 0.75)
    problems = shifted(rng.uniform(0.30, 0.65, g), -0.6 * change, 0.15, 0.8)
    action = shifted(rng.uniform(0.20, 0.50, g), 0.5 * change, 0.1, 0.6)
    hours_2024 = rng.uniform(4.5, 15.5, g)
    hours = np.column_stack([hours_2024, np.clip(hours_2024 + 5.0 * change, 4.5, 15.5)])
    piped = np.column_stack([rng.uniform(0.85, 0.97, g), rng.uniform(0.45, 0.75, g)])
    return _Params(
        water_good=water,
        regularity_good=regularity,
        receptiveness_good=receptiveness,
        electricity_good=electricity,
        health_good=health,
        education_good=education,
        problems_yes=problems,
        action_yes=action,
        hours_mean=hours,
        piped_p=piped,
        female_share=rng.uniform(0.05, 0.09, g),
        used_health_p=rng.uniform(0.60, 0.80, g),
        school_children_p=rng.uniform(0.50, 0.70, g),
        water_change=change,
    )


@dataclass(frozen=True)
class _LocalParams:
    """Governorate x wave targets of the waste, roads and local-government questions (N_GOV, 2 each).

    Drawn from a random stream of their own, so adding them left every other parameter, and every
    answer the national survey had before them, unchanged."""

    waste_good: np.ndarray  # share rating household waste collection good or excellent
    roads_good: np.ndarray  # share rating the roads in their area good or excellent
    responsive_good: np.ndarray  # share rating local government's responsiveness good or excellent
    trusted: np.ndarray  # share trusting local government a great deal or quite a lot
    complained_p: np.ndarray  # share of households that complained to the authorities in 12 months
    action_yes: np.ndarray  # share of complainants reporting that action was taken


#: Kurdistan Region governorates: in the demo, waste collection and roads are rated somewhat better there.
KRI_CODES = ("sulaymaniyah", "duhok", "erbil", "halabja")


def _draw_local_params(rng: np.random.Generator, water_change: np.ndarray) -> _LocalParams:
    g = N_GOV
    kri = np.array([gv.code in KRI_CODES for gv in GOVERNORATES], dtype=np.float64)

    def two_waves(base: np.ndarray, shift: np.ndarray, lo: float, hi: float) -> np.ndarray:
        base = np.clip(base, lo, hi)
        return np.column_stack([base, np.clip(_expit(_logit(base) + shift), lo, hi)])

    waste = two_waves(_expit(_logit(rng.uniform(0.20, 0.50, g)) + 0.5 * kri), rng.uniform(-0.5, 0.5, g),
                      0.12, 0.70)
    roads = two_waves(_expit(_logit(rng.uniform(0.12, 0.40, g)) + 0.4 * kri), rng.uniform(-0.45, 0.45, g),
                      0.08, 0.60)
    # governorates whose water service improved tend to see their local government as more responsive
    responsive = two_waves(rng.uniform(0.10, 0.35, g), 0.8 * water_change + rng.normal(0, 0.15, g), 0.06, 0.50)
    trusted = two_waves(rng.uniform(0.15, 0.45, g), 0.6 * water_change + rng.normal(0, 0.15, g), 0.08, 0.60)
    complained = two_waves(rng.uniform(0.12, 0.30, g), rng.normal(0, 0.10, g), 0.08, 0.40)
    action = two_waves(rng.uniform(0.20, 0.50, g), 0.5 * water_change + rng.normal(0, 0.10, g), 0.10, 0.65)
    return _LocalParams(
        waste_good=waste,
        roads_good=roads,
        responsive_good=responsive,
        trusted=trusted,
        complained_p=complained,
        action_yes=action,
    )


# ----------------------------------------------------------------------------------------------
# Sample design
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Design:
    stratum_gov: np.ndarray  # (S,) governorate index
    stratum_rural: np.ndarray  # (S,) 0 urban / 1 rural
    stratum_pop_hh: np.ndarray  # (S,) population households
    cluster_stratum: np.ndarray  # (C,)
    cluster_size: np.ndarray  # (C,)


def _design(households: int, rng: np.random.Generator) -> _Design:
    pop = np.array([g.population for g in GOVERNORATES], dtype=np.float64)
    urban = np.array([g.urban_share for g in GOVERNORATES])
    hh_size = np.array([g.household_size for g in GOVERNORATES])
    # Half the sample equally across governorates (so Halabja gets >= 100 at 4000), half proportional.
    n_gov = _largest_remainder(households, 0.5 / N_GOV + 0.5 * pop / pop.sum())
    s_gov, s_rural, s_n, s_pop = [], [], [], []
    for gi in range(N_GOV):
        m = max(4, min(24, int(n_gov[gi]) // 4))
        n_urban = int(np.clip(round(n_gov[gi] * urban[gi]), m, n_gov[gi] - m))
        for rural, n_h, share in ((0, n_urban, urban[gi]), (1, int(n_gov[gi]) - n_urban, 1 - urban[gi])):
            s_gov.append(gi)
            s_rural.append(rural)
            s_n.append(n_h)
            s_pop.append(pop[gi] * share / hh_size[gi])
    c_stratum, c_size = [], []
    for si, n_h in enumerate(s_n):
        k = max(2, int(round(n_h / TARGET_CLUSTER_SIZE)))
        target = TARGET_CLUSTER_SIZE + rng.integers(-3, 4, k)
        sizes = _largest_remainder(n_h, target)
        if sizes.min() < 1:  # only reachable for tiny strata; keep every PSU non-empty
            sizes = _largest_remainder(n_h, np.ones(k))
        c_stratum.append(np.full(k, si))
        c_size.append(sizes)
    return _Design(
        stratum_gov=np.array(s_gov),
        stratum_rural=np.array(s_rural),
        stratum_pop_hh=np.round(np.array(s_pop)),
        cluster_stratum=np.concatenate(c_stratum),
        cluster_size=np.concatenate(c_size),
    )


# ----------------------------------------------------------------------------------------------
# One survey wave
# ----------------------------------------------------------------------------------------------

_RATING_CUTS = (1.4, 0.0, -1.0, -2.3)  # latent > cut: excellent, good, adequate, poor; else very_poor
_TRUST_CUTS = (1.6, 0.0, -1.5)  # latent > cut: a great deal, quite a lot, not very much; else none at all


def _ordinal(eta: np.ndarray, cuts: tuple[float, ...], rng: np.random.Generator) -> np.ndarray:
    """Ordinal codes 0..len(cuts) from a logistic latent variable: code k where the latent exceeds cuts[k]
    (the smallest such k), len(cuts) below all cuts; P(code <= 1) = expit(eta - cuts[1]) with cuts[1] = 0."""
    latent = eta + rng.logistic(size=eta.shape[0])
    code = np.full(eta.shape[0], len(cuts), dtype=np.int8)
    for k, cut in reversed(list(enumerate(cuts))):
        code[latent > cut] = np.minimum(code[latent > cut], k)
    return code


def _rating(eta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ordinal 5-point rating (codes 0..4 = excellent..very_poor); P(code <= 1) = expit(eta)."""
    return _ordinal(eta, _RATING_CUTS, rng)


def _trust(eta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ordinal 4-point trust (codes 0..3 = a great deal..none at all); P(code <= 1) = expit(eta)."""
    return _ordinal(eta, _TRUST_CUTS, rng)


def _fieldwork_days(year: int) -> np.ndarray:
    days = np.arange(np.datetime64(f"{year}-03-02"), np.datetime64(f"{year}-03-29"))
    weekday = (days.astype("datetime64[D]").astype(np.int64) - 4) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    return days[weekday != 4]  # no fieldwork on Fridays


def _device_id(seed: int, enumerator: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    digest = hashlib.sha256(f"{seed}:{enumerator}".encode()).digest()
    return "collect:" + "".join(alphabet[b % len(alphabet)] for b in digest[:16])


def _kobo_version(rng: np.random.Generator) -> str:
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
    return "v" + "".join(alphabet[rng.integers(0, len(alphabet), 21)])


def _uuids(rng: np.random.Generator, n: int) -> pl.Series:
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    hexes = pl.DataFrame({"h": np.frombuffer(raw.tobytes().hex().encode("ascii"), dtype="S32").astype("U32")})
    h = pl.col("h").str
    parts = [h.slice(0, 8), h.slice(8, 4), h.slice(12, 4), h.slice(16, 4), h.slice(20, 12)]
    return hexes.select(pl.concat_str(parts, separator="-").alias("_uuid")).to_series()


def _wave(
    wave: int,
    wave_index: int,
    households: int,
    params: _Params,
    local: _LocalParams,
    seed: int,
    rng: np.random.Generator,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    d = _design(households, rng)
    n_clusters = d.cluster_size.shape[0]
    urban_share = np.array([g.urban_share for g in GOVERNORATES])

    # ---- cluster level ------------------------------------------------------------------------
    c_gov = d.stratum_gov[d.cluster_stratum]
    c_rural = d.stratum_rural[d.cluster_stratum]
    c_response_rate = rng.uniform(0.80, 1.00, n_clusters)  # mild non-response adjustment = 1 / rate
    c_adj = 1.0 / c_response_rate
    c_day = rng.integers(0, _fieldwork_days(wave).shape[0], n_clusters)
    c_start_min = rng.uniform(8 * 60, 9.5 * 60, n_clusters)  # first interview, minutes after midnight
    c_gap_min = rng.uniform(28, 42, n_clusters)
    c_lat = np.array([g.lat for g in GOVERNORATES])[c_gov] + rng.normal(0, 0.12, n_clusters)
    c_lon = np.array([g.lon for g in GOVERNORATES])[c_gov] + rng.normal(0, 0.12, n_clusters)
    c_alt = rng.uniform(15, 900, n_clusters)
    c_re = rng.normal(0, 0.30, n_clusters)  # cluster effect shared by all ratings
    c_hours_re = np.exp(rng.normal(-0.5 * 0.25**2, 0.25, n_clusters))  # mean-one cluster factor
    # enumerators: a team per governorate, each cluster done by one enumerator
    clusters_per_gov = np.bincount(c_gov, minlength=N_GOV)
    team_size = np.maximum(3, np.ceil(clusters_per_gov / 5).astype(np.int64))
    c_enum = (rng.random(n_clusters) * team_size[c_gov]).astype(np.int64) + 1
    cluster_ids = [f"C{wave}-{i + 1:04d}" for i in range(n_clusters)]

    # ---- household level ----------------------------------------------------------------------
    n = int(d.cluster_size.sum())
    hc = np.repeat(np.arange(n_clusters), d.cluster_size)  # cluster of each household
    first = np.repeat(np.cumsum(d.cluster_size) - d.cluster_size, d.cluster_size)
    j = np.arange(n) - first  # order of the household within its cluster
    g = c_gov[hc]
    rural = c_rural[hc]
    stratum = d.cluster_stratum[hc]
    w = wave_index

    consent = rng.random(n) >= 0.01
    female = rng.random(n) < params.female_share[g]
    # displacement status from its own random stream, so that it leaves every other draw unchanged
    shares = np.array([DISPLACED_SHARES.get(gv.code, DEFAULT_DISPLACED_SHARES) for gv in GOVERNORATES])
    u_disp = np.random.default_rng([seed, wave, 17]).random(n)
    displacement = np.where(u_disp < shares[g, 0], 1, np.where(u_disp < shares[g, 0] + shares[g, 1], 2, 0))
    # weight = stratum households x cluster non-response adjustment, calibrated to the stratum total
    adj = c_adj[hc]
    denom = np.bincount(stratum, weights=adj * consent, minlength=d.stratum_gov.shape[0])
    denom_all = np.bincount(stratum, weights=adj, minlength=d.stratum_gov.shape[0])
    denom = np.where(denom > 0, denom, denom_all)
    weight = np.round(d.stratum_pop_hh[stratum] * adj / denom[stratum], 4)

    urban_c = (1 - rural) - urban_share[g]  # centred so the governorate rate is the target
    female_c = female - params.female_share[g]
    hh_re = rng.normal(0, 0.40, n)

    def eta(p: np.ndarray, urban_eff: float = 0.25, female_eff: float = -0.25, own_sd: float = 0.2) -> np.ndarray:
        own_cluster = rng.normal(0, own_sd, n_clusters)[hc]
        return _logit(p[g, w]) + urban_eff * urban_c + female_eff * female_c + c_re[hc] + own_cluster + hh_re

    def with_refusal(code: np.ndarray, refusal_code: int, rate: float = 0.02) -> np.ndarray:
        return np.where(rng.random(n) < rate, refusal_code, code).astype(np.int8)

    level_service = with_refusal(_rating(eta(params.water_good), rng), 5)
    regularity = with_refusal(_rating(eta(params.regularity_good), rng), 5)
    receptiveness = with_refusal(_rating(eta(params.receptiveness_good, urban_eff=0.1), rng), 5)
    electricity = with_refusal(_rating(eta(params.electricity_good, urban_eff=0.3), rng), 5)
    health = with_refusal(_rating(eta(params.health_good, urban_eff=0.3), rng), 5)
    education = with_refusal(_rating(eta(params.education_good, urban_eff=0.2), rng), 5)

    def yndp(p: np.ndarray, urban_eff: float, female_eff: float) -> np.ndarray:
        yes = rng.random(n) < _expit(eta(p, urban_eff, female_eff))
        code = np.where(yes, 0, 1).astype(np.int8)
        u = rng.random(n)
        code = np.where(u < 0.015, 2, code)  # dont_know
        return np.where((u >= 0.015) & (u < 0.025), 3, code).astype(np.int8)  # prefer_not_answer

    problems = yndp(params.problems_yes, -0.2, 0.15)
    action = yndp(params.action_yes, 0.1, -0.2)
    used_health = rng.random(n) < params.used_health_p[g]
    school = rng.random(n) < params.school_children_p[g]

    # waste, roads, local government and trust: a random stream of their own (so every draw above and below
    # is what it was before these questions existed), sharing the cluster and household effects above
    rng_l = np.random.default_rng([seed, wave, 29])

    def eta_l(p: np.ndarray, urban_eff: float, female_eff: float, own_sd: float = 0.25) -> np.ndarray:
        own_cluster = rng_l.normal(0, own_sd, n_clusters)[hc]
        return _logit(p[g, w]) + urban_eff * urban_c + female_eff * female_c + c_re[hc] + own_cluster + hh_re

    def refusal_l(code: np.ndarray, refusal_code: int, rate: float = 0.02) -> np.ndarray:
        return np.where(rng_l.random(n) < rate, refusal_code, code).astype(np.int8)

    waste = refusal_l(_rating(eta_l(local.waste_good, urban_eff=0.9, female_eff=0.0), rng_l), 5)
    roads = refusal_l(_rating(eta_l(local.roads_good, urban_eff=0.5, female_eff=0.0), rng_l), 5)
    gov_view = rng_l.normal(0, 0.5, n)  # a household's view of its local government, shared by both questions
    responsive = refusal_l(_rating(eta_l(local.responsive_good, 0.1, -0.1) + gov_view, rng_l), 5)
    trust = _trust(eta_l(local.trusted, 0.0, -0.1) + gov_view, rng_l)
    u_trust = rng_l.random(n)
    trust = np.where(u_trust < 0.04, 4, np.where(u_trust < 0.06, 5, trust)).astype(np.int8)  # dont_know, refusal
    complained = rng_l.random(n) < _expit(_logit(local.complained_p[g, w]) + 0.3 * (1 - rural))
    acted = rng_l.random(n) < _expit(eta_l(local.action_yes, 0.1, -0.2) + 0.5 * gov_view)
    u_action = rng_l.random(n)
    complaint_action = np.where(u_action < 0.03, 2, np.where(u_action < 0.045, 3, np.where(acted, 0, 1))).astype(np.int8)

    piped = rng.random(n) < params.piped_p[g, rural]
    trucking = rng.random(n) < np.where(piped, 0.05, 0.40) + 0.08 * rural
    borehole = rng.random(n) < np.where(rural == 1, 0.22, 0.03)
    bottled = rng.random(n) < 0.35
    other = rng.random(n) < 0.03
    none = ~(piped | trucking | borehole | bottled | other)
    trucking = trucking | (none & (rural == 1))
    bottled = bottled | (none & (rural == 0))
    sources = np.column_stack([piped, trucking, borehole, bottled, other])

    mu = np.clip(params.hours_mean[g, w] + 1.5 * urban_c, 0.5, 23.5) * c_hours_re[hc]
    hours = rng.binomial(24, np.clip(mu / 24.0, 0.01, 0.99)).astype(np.int64)

    # ---- timestamps (device local time is UTC+03:00) --------------------------------------------
    day_ms = _fieldwork_days(wave)[c_day[hc]].astype("datetime64[ms]").astype(np.int64)
    start_min = c_start_min[hc] + j * c_gap_min[hc] + rng.uniform(0, 8, n)
    start_ms = day_ms + np.round(start_min * 60_000).astype(np.int64) + rng.integers(0, 1000, n)
    duration_ms = np.where(consent, rng.uniform(14, 40, n), rng.uniform(1, 4, n)) * 60_000
    end_ms = start_ms + np.round(duration_ms).astype(np.int64)
    late = rng.random(n) < 0.25
    delay_s = np.where(late, rng.uniform(12 * 3600, 72 * 3600, n), rng.uniform(300, 3 * 3600, n))
    submission_s = (end_ms // 1000) - 3 * 3600 + np.round(delay_s).astype(np.int64)

    order = np.lexsort((rng.random(n), submission_s))

    def o(a: np.ndarray) -> np.ndarray:
        return a[order]

    # ---- assemble, sorted by submission time as Kobo delivers ----------------------------------
    gov_codes = [gv.code for gv in GOVERNORATES]
    enumerators = [f"{GOVERNORATES[gi].abbrev}-{k:02d}" for gi, k in zip(c_gov, c_enum)]
    hc_o = o(hc)
    consent_o = o(consent)
    skip = ~consent_o

    def sel(code: np.ndarray, mask_skip: np.ndarray) -> np.ndarray:
        return np.where(mask_skip, -1, code).astype(np.int8)

    df = pl.DataFrame(
        {
            "start_ms": o(start_ms),
            "end_ms": o(end_ms),
            "submission_s": o(submission_s),
            "cluster": hc_o,
            "gov": o(g).astype(np.int8),
            "rural": o(rural).astype(np.int8),
            "weight": o(weight),
            "consent": consent_o,
            "female": sel(o(female).astype(np.int8), skip),
            "displacement": sel(o(displacement).astype(np.int8), skip),
            "level_service": sel(o(level_service), skip),
            "regularity_supply": sel(o(regularity), skip),
            "water_office_receptiveness": sel(o(receptiveness), skip),
            "problems_water": sel(o(problems), skip),
            "problems_water_action": sel(o(action), skip | (o(problems) != 0)),
            "electricity_rating": sel(o(electricity), skip),
            "used_health_services": sel(np.where(o(used_health), 0, 1), skip),
            "health_rating": sel(o(health), skip | ~o(used_health)),
            "has_school_children": sel(np.where(o(school), 0, 1), skip),
            "education_rating": sel(o(education), skip | ~o(school)),
            "waste_collection": sel(o(waste), skip),
            "roads_condition": sel(o(roads), skip),
            "local_gov_responsiveness": sel(o(responsive), skip),
            "trust_local_gov": sel(o(trust), skip),
            "complained": sel(np.where(o(complained), 0, 1), skip),
            "complaint_action": sel(o(complaint_action), skip | ~o(complained)),
            "hours_available_piped": np.where(skip | ~o(piped), -1, o(hours)),
            "gps_lat": np.round(c_lat[hc_o] + rng.normal(0, 0.004, n), 6),
            "gps_lon": np.round(c_lon[hc_o] + rng.normal(0, 0.004, n), 6),
            "gps_alt": np.round(c_alt[hc_o] + rng.normal(0, 5, n), 1),
            "gps_prec": np.round(rng.uniform(3, 15, n), 1),
            "validated": rng.random(n) < 0.92,
        }
    )
    src = sources[order]
    for k, code in enumerate(WATER_SOURCE_CODES):
        df = df.with_columns(pl.Series(f"ws_{code}", np.where(skip, -1, src[:, k].astype(np.int8))))

    # planted fault: three out-of-range piped-water hours in wave 2025 only
    faults: list[dict[str, Any]] = []
    hours_col = df["hours_available_piped"].to_numpy().copy()
    if wave == 2025:
        eligible = np.flatnonzero(hours_col >= 0)
        rows = np.sort(rng.choice(eligible, size=len(HOURS_FAULT_VALUES), replace=False))
        hours_col[rows] = HOURS_FAULT_VALUES
        df = df.with_columns(pl.Series("hours_available_piped", hours_col))
        fault_rows = [(int(r), int(v)) for r, v in zip(rows, HOURS_FAULT_VALUES)]
    else:
        fault_rows = []

    ids = np.int64(310_000_000 + 140_000_000 * wave_index) + np.cumsum(rng.integers(1, 25, n))
    uuid = _uuids(rng, n)
    version = _kobo_version(rng)
    hc_s = pl.Series(hc_o)
    cluster_of_row = pl.Series(cluster_ids).gather(hc_s)
    enumerator_of_row = pl.Series(enumerators).gather(hc_s)
    device_by_enum = {e: _device_id(seed, e) for e in sorted(set(enumerators))}

    def choice(col: str, codes: tuple[str, ...]) -> pl.Expr:
        return pl.col(col).replace_strict(dict(enumerate(codes)), default=None, return_dtype=pl.Utf8)

    def num(col: str) -> pl.Expr:
        return pl.when(pl.col(col) >= 0).then(pl.col(col).cast(pl.Utf8)).otherwise(None)

    local = pl.col("start_ms").cast(pl.Datetime("ms"))
    gps_parts = ["gps_lat", "gps_lon", "gps_alt", "gps_prec"]
    index = pl.int_range(1, n + 1, eager=True)
    out = df.select(
        start=local.dt.strftime("%Y-%m-%dT%H:%M:%S%.3f") + "+03:00",
        end=pl.col("end_ms").cast(pl.Datetime("ms")).dt.strftime("%Y-%m-%dT%H:%M:%S%.3f") + "+03:00",
        today=local.dt.strftime("%Y-%m-%d"),
        deviceid=enumerator_of_row.replace_strict(device_by_enum, return_dtype=pl.Utf8),
        enumerator_id=enumerator_of_row,
        governorate=choice("gov", tuple(gov_codes)),
        urban_rural=choice("rural", URBAN_RURAL),
        cluster_id=cluster_of_row,
        stratum=choice("gov", tuple(gov_codes)) + "_" + choice("rural", URBAN_RURAL),
        weight=pl.col("weight").cast(pl.Utf8),
        consent=pl.when(pl.col("consent")).then(pl.lit("yes")).otherwise(pl.lit("no")),
        resp_name=pl.when(pl.col("consent")).then(
            pl.format("SYNTHETIC NAME {}", pl.lit(index).cast(pl.Utf8).str.zfill(6))
        ),
        phone_number=pl.when(pl.col("consent")).then(
            pl.format("+964 7xx xxx {}", (pl.lit(index) % 10_000).cast(pl.Utf8).str.zfill(4))
        ),
        gps=pl.when(pl.col("consent")).then(
            pl.concat_str([pl.col(c).cast(pl.Utf8) for c in gps_parts], separator=" ")
        ),
        _gps_latitude=pl.when(pl.col("consent")).then(pl.col("gps_lat").cast(pl.Utf8)),
        _gps_longitude=pl.when(pl.col("consent")).then(pl.col("gps_lon").cast(pl.Utf8)),
        _gps_altitude=pl.when(pl.col("consent")).then(pl.col("gps_alt").cast(pl.Utf8)),
        _gps_precision=pl.when(pl.col("consent")).then(pl.col("gps_prec").cast(pl.Utf8)),
        gender_hoh=choice("female", ("male", "female")),
        displacement_status=choice("displacement", DISPLACEMENT_CODES),
        water_sources=pl.when(pl.col("consent")).then(
            pl.concat_str(
                [pl.when(pl.col(f"ws_{c}") == 1).then(pl.lit(c)) for c in WATER_SOURCE_CODES],
                separator=" ",
                ignore_nulls=True,
            )
        ),
        **{f"water_sources/{c}": num(f"ws_{c}") for c in WATER_SOURCE_CODES},
        hours_available_piped=num("hours_available_piped"),
        level_service=choice("level_service", RATING_CODES),
        regularity_supply=choice("regularity_supply", RATING_CODES),
        water_office_receptiveness=choice("water_office_receptiveness", RATING_CODES),
        problems_water=choice("problems_water", YNDP_CODES),
        problems_water_action=choice("problems_water_action", YNDP_CODES),
        electricity_rating=choice("electricity_rating", RATING_CODES),
        used_health_services=choice("used_health_services", ("yes", "no")),
        health_rating=choice("health_rating", RATING_CODES),
        has_school_children=choice("has_school_children", ("yes", "no")),
        education_rating=choice("education_rating", RATING_CODES),
        waste_collection=choice("waste_collection", RATING_CODES),
        roads_condition=choice("roads_condition", RATING_CODES),
        local_gov_responsiveness=choice("local_gov_responsiveness", RATING_CODES),
        trust_local_gov=choice("trust_local_gov", TRUST_CODES),
        complained=choice("complained", ("yes", "no")),
        complaint_action=choice("complaint_action", YNDP_CODES),
        _id=pl.lit(pl.Series(ids)).cast(pl.Utf8),
        _uuid=pl.lit(uuid),
        _submission_time=(pl.col("submission_s") * 1000).cast(pl.Datetime("ms")).dt.strftime("%Y-%m-%dT%H:%M:%S"),
        _validation_status=pl.when(pl.col("validated")).then(pl.lit("validation_status_approved")),
        _notes=pl.lit("[]"),
        _status=pl.lit("submitted_via_web"),
        _submitted_by=pl.lit("demo_firm_synthetic"),
        __version__=pl.lit(version),
        _tags=pl.lit("[]"),
        _index=pl.lit(index).cast(pl.Utf8),
    )
    out = out.select(export_columns())

    consent_no_rows = (np.flatnonzero(skip) + 1).tolist()
    s_keys = [f"{GOVERNORATES[gi].code}_{URBAN_RURAL[r]}" for gi, r in zip(d.stratum_gov, d.stratum_rural)]
    local_days = out["today"]
    info: dict[str, Any] = {
        "wave": wave,
        "households": n,
        "clusters": n_clusters,
        "strata": len(s_keys),
        "fieldwork_start": local_days.min(),
        "fieldwork_end": local_days.max(),
        "consent_no_rows": consent_no_rows,
        "kobo_version": version,
        "stratum_population_households": dict(zip(s_keys, d.stratum_pop_hh.astype(np.int64).tolist())),
    }
    if fault_rows:
        uuid_col = out["_uuid"]
        cid_col = out["cluster_id"]
        gov_col = out["governorate"]
        for r, v in fault_rows:
            faults.append(
                {
                    "file": export_path(wave).as_posix(),
                    "row_number": r + 1,
                    "column": "hours_available_piped",
                    "value": str(v),
                    "_uuid": uuid_col[r],
                    "cluster_id": cid_col[r],
                    "governorate": gov_col[r],
                    "description": "hours of piped water per day outside the form's constraint 0..24",
                }
            )
    info["faults"] = faults
    return out, info


def _kobo_csv_bytes(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.with_columns(pl.all().fill_null("")).write_csv(
        buf, separator=";", include_bom=True, quote_style="always", line_terminator="\r\n"
    )
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------
# XLSForm
# ----------------------------------------------------------------------------------------------


def _xlsform_bytes() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(list(SURVEY_COLUMNS))
    key = {
        "type": "type",
        "name": "name",
        "label::English (en)": "en",
        "label::Arabic (ar)": "ar",
        "required": "required",
        "relevant": "relevant",
        "constraint": "constraint",
        "constraint_message::English (en)": "cmsg_en",
        "constraint_message::Arabic (ar)": "cmsg_ar",
        "calculation": "calculation",
    }
    for q in SURVEY_ROWS:
        ws.append([q.get(key[c]) for c in SURVEY_COLUMNS])
    ch = wb.create_sheet("choices")
    ch.append(["list_name", "name", "label::English (en)", "label::Arabic (ar)"])
    for list_name, options in CHOICE_LISTS.items():
        for code, en, ar in options:
            ch.append([list_name, code, en, ar])
    st = wb.create_sheet("settings")
    st.append(["form_title", "form_id", "version", "default_language"])
    st.append([FORM_TITLE, FORM_ID, FORM_VERSION, "English (en)"])
    widths_by_sheet = ((ws, (28, 28, 60, 60, 10, 40, 22, 30, 30, 44)), (ch, (16, 18, 36, 36)), (st, (60, 24, 14, 18)))
    for sheet, widths in widths_by_sheet:
        for i, width in enumerate(widths):
            sheet.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width = width

    return xlsx_bytes(wb, FORM_TITLE)


def xlsx_bytes(wb: openpyxl.Workbook, title: str) -> bytes:
    """Save `wb` as xlsx bytes that do not depend on the clock (fixed docProps times and zip entry times)."""
    wb.properties.creator = "mizan demo generator (SYNTHETIC)"
    wb.properties.title = title
    wb.properties.created = _FIXED_XLSX_TIME
    raw = io.BytesIO()
    wb.save(raw)  # openpyxl stamps `modified` with the current time and the zip entries with the clock
    wb.properties.modified = _FIXED_XLSX_TIME
    core_xml = tostring(wb.properties.to_tree())
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = core_xml if item.filename == "docProps/core.xml" else zin.read(item.filename)
            info = zipfile.ZipInfo(item.filename, date_time=_FIXED_XLSX_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            info.create_system = 3
            zout.writestr(info, data)
    return out.getvalue()


# ----------------------------------------------------------------------------------------------
# Budget (the workbooks themselves: pipelines/demo/budget_workbooks.py)
# ----------------------------------------------------------------------------------------------

_CAPITAL_SHARES = np.array([0.18, 0.14, 0.12, 0.15, 0.08, 0.23, 0.10])
_OPERATING_SHARES = np.array([0.12, 0.10, 0.25, 0.28, 0.10, 0.05, 0.10])
_YEAR_FACTOR = {2019: 1.00, 2020: 0.80, 2021: 0.95, 2023: 1.10, 2024: 1.15}
_MILLION = 1_000_000


# ----------------------------------------------------------------------------------------------
# README
# ----------------------------------------------------------------------------------------------


def _wrap_numbers(numbers: list[int], indent: str = "      ", width: int = 96) -> str:
    if not numbers:
        return indent + "(none)"
    lines, line = [], indent
    for k, v in enumerate(numbers):
        piece = str(v) + (", " if k < len(numbers) - 1 else "")
        if len(line) + len(piece) > width:
            lines.append(line.rstrip())
            line = indent
        line += piece
    lines.append(line.rstrip())
    return "\n".join(lines)


def _readme(manifest: dict[str, Any]) -> str:
    waves = manifest["survey"]["waves"]
    files = manifest["files"]

    budget = manifest["budget"]
    hours_faults = [f for f in manifest["faults"] if f["column"] == "hours_available_piped"]
    budget_faults = [f for f in manifest["faults"] if f["file"].startswith(BUDGET_DIR.as_posix() + "/")]
    consent_faults = {f["file"]: f for f in manifest["faults"] if f["column"] == "consent"}
    bar = "=" * 100
    out = [
        bar,
        "SYNTHETIC DEMO DATA - NOT REAL SURVEY OR BUDGET DATA",
        "Every respondent, answer, weight, name, phone number, GPS point and amount in this folder is invented",
        "by pipelines/demo/generate.py. Do not cite, publish or compare these numbers with anything real.",
        bar,
        "",
        f"Generator: pipelines.demo.generate.generate_demo(out_dir, seed={manifest['seed']}, "
        f"households_per_wave={manifest['households_per_wave']})",
        "The same seed and arguments reproduce every file byte for byte.",
        "Row numbers below are 1-based data rows; the header line is not counted (file line = row + 1).",
        "In the budget workbooks rows and cells are the sheet's own (row 1 = the first title row).",
        "",
        "FILES",
        "-----",
    ]
    descriptions = {
        XLSFORM_PATH.as_posix(): "XLSForm of the survey (sheets survey, choices, settings; English and Arabic labels).",
        export_path(2024).as_posix(): "KoboToolbox CSV export, wave 2024 (fieldwork March 2024).",
        export_path(2025).as_posix(): "KoboToolbox CSV export, wave 2025 (fieldwork March 2025).",
        **{
            wb["file"]: f"Budget workbook, fiscal year {year}: one sheet per governorate, amounts in {wb['unit']} "
            "(rows = line items)."
            for year, wb in budget["workbooks"].items()
        },
        FIRM_B_PATH.as_posix(): "SPSS file of a second firm (firm B), wave 2025 (fieldwork July 2025), 6 governorates; "
        "Arabic labels.",
        **{rel: f"Training records, {rel.rsplit('_', 1)[-1].removesuffix('.csv').replace('federalism', 'fiscal federalism')}"
           " track: one row per participant and cohort." for rel in manifest["training"]["files"]},
    }
    for rel, meta in files.items():
        out.append(f"  {rel}")
        out.append(f"      {descriptions[rel]}")
        out.append(f"      rows: {meta['rows']}  sha256: {meta['sha256']}")
    out += [
        "",
        "SURVEY DESIGN (both waves)",
        "--------------------------",
        "Repeated cross-section, fresh sample each wave. 19 governorates (Halabja included). Strata =",
        "governorate x urban/rural (38 strata); primary sampling units = clusters (`cluster_id`, unique within a",
        f"wave, e.g. C2024-0001), at least 2 per stratum, about {TARGET_CLUSTER_SIZE} households each. Half of the",
        "households are shared equally among governorates and half in proportion to (approximate) population,",
        "so small governorates keep a usable sample. `stratum` = <governorate>_<urban|rural>.",
        "`weight` = stratum population households / responding households, times a mild random cluster",
        "non-response adjustment (1 / response rate, rate 0.80-1.00), calibrated so the weights of consenting",
        "households add up to the stratum's household count. Weights are unequal within and between strata and",
        "all positive; households that refused consent carry their cluster's weight too but must be excluded.",
        "Answers come from a seeded model: governorate x wave target shares (water service good or excellent",
        "15-55 %, some governorates better in 2025, some worse), urban/rural and sex-of-head effects, a",
        "cluster effect (intra-cluster correlation) and a household effect shared across ratings. About 7 % of",
        "households are female-headed; about 2 % answer `prefer_not_answer` to each rating; hours of piped",
        "water are integers 0-24 with governorate means 4-16.",
        "Every sector of the question bank has questions: water, electricity, health, education, and (the last",
        "six columns before the Kobo meta columns) waste collection (`waste_collection`), roads",
        "(`roads_condition`), the local government's responsiveness (`local_gov_responsiveness`, 5-point",
        "ratings), trust in the local government on the question bank's 4-point trust scale",
        "(`trust_local_gov`: a_great_deal .. none_at_all, plus dont_know about 4 % and prefer_not_answer",
        "about 2 %), and complaints: `complained` (to the authorities or a service provider in 12 months) and,",
        "for those who did, `complaint_action` (was action taken?). Their targets vary by governorate (waste",
        "and roads rated better in the Kurdistan Region and in towns) and between waves (responsiveness,",
        "trust and action on complaints move with the governorate's water-service change); a household's",
        "view of its local government is shared by the responsiveness and trust questions.",
        "Kobo layout: `;` delimiter, UTF-8 with byte-order mark, every cell double-quoted, CRLF line ends,",
        "skipped questions are empty strings (\"\"), `water_sources` is space-separated plus 0/1 split columns",
        "`water_sources/<code>` (empty when the question was skipped), `gps` = 'lat lon altitude precision'",
        "plus `_gps_latitude/_longitude/_altitude/_precision`; `start`/`end` carry the device offset +03:00,",
        "`_submission_time` is UTC without offset; rows are in submission order.",
        "Personal-data columns (resp_name, phone_number, gps and its split columns) hold obviously fake values",
        "('SYNTHETIC NAME 000123', '+964 7xx xxx 0123', points scattered around a governorate centre).",
        "",
    ]
    for wave, info in waves.items():
        out.append(
            f"  wave {wave}: {info['households']} households, {info['clusters']} clusters, {info['strata']} strata, "
            f"fieldwork {info['fieldwork_start']} to {info['fieldwork_end']}"
        )
    from pipelines.demo import firm_b, training

    firm = manifest["firm_b"]
    out += [
        "",
        "SECOND SURVEY: FIRM B (SPSS, 4-point scales)",
        "--------------------------------------------",
        f"{FIRM_B_PATH.as_posix()}: an SPSS system file (.sav, UTF-8),",
        "as a second survey firm delivers it:",
        "numeric codes with value labels, variable and value labels in Arabic (the mapping reads them with",
        "label_language: ar and resolves the governorate through its Arabic value label), user-missing codes",
        "9 (don't know) for ratings and 99 for hours of piped water, an enumerator code (`enum_id`) and the",
        "firm's quality-control decision (`qc_status`: approved, on hold, not approved).",
        f"One wave, {firm['wave']}, fieldwork {firm['fieldwork_start']} to {firm['fieldwork_end']}, in "
        f"{len(firm['governorates'])} of the 19 governorates only",
        f"({', '.join(firm['governorates'])}): a partial survey, so no national estimate.",
        f"Design: strata = governorate x urban/rural ({firm['strata']}, `stratum`), enumeration areas of "
        f"{firm_b.CLUSTER_SIZE} households",
        f"(`ea`, {firm['clusters']} EAs), {firm['households']} households, {firm['enumerators']} enumerators; "
        "`wt_final` = stratum households / consenting",
        "households of the stratum x an EA non-response factor (1 / rate, rate 0.85-1.00).",
        "Water and electricity are rated on FOUR points (1 very good, 2 good, 3 bad, 4 very bad, 9 don't",
        "know): the mapping declares 1-2 as the question bank's top box (good or excellent) and 3-4 as its",
        "bottom box, so firm B counts in the good-or-excellent and poor-or-very-poor indicators (said with",
        "every estimate: '4-point scale') and not in the 5-point answer distribution. Without a middle answer",
        "its top box runs higher than the national survey's for the same governorate (targets: national 2025",
        "+0.6 on the logit scale; electricity -0.5 more, for the July peak of demand). Trust in local",
        "government uses the question bank's own 4-point scale (1-4, 9 don't know). Other questions: piped",
        "connection and hours, hours of grid electricity, generator subscription (amperes, monthly cost),",
        "complaint about electricity or water and whether action was taken, household size, age.",
        "Personal-data columns (`resp_name`, `resp_phone`) hold obviously fake values.",
    ]
    out += [
        "",
        "BUDGET WORKBOOKS",
        "----------------",
        f"{BUDGET_DIR.as_posix()}/budget_<year>.xlsx, one workbook per fiscal year with a budget law:",
        f"{', '.join(map(str, FISCAL_YEARS))}. There is NO workbook for 2020 and 2022 on purpose: Iraq passed no",
        "federal budget law for those years (spending ran under the monthly 1/12 rule), so no original approved",
        "allocation exists. A missing year must be shown as 'no budget law', never as zero.",
        "One sheet per governorate, named by its short English name (Anbar, Basrah, ..., Halabja), right-to-left,",
        "laid out as finance offices deliver budget tables (docs/budget-workbooks.md):",
        "  row 1  ministry / directorate line (merged A:G)",
        "  row 2  title: الموازنة الاستثمارية والتشغيلية لمحافظة <Arabic name> للسنة المالية <year> (merged A:G);",
        "         the year in Arabic-Indic digits in " + ", ".join(
            y for y, wb in budget["workbooks"].items() if wb["title_year_digits"] == "eastern") + ";",
        "  row 3  units line: المبالغ بالآلاف دينار (IQD thousand) or المبالغ بالمليون دينار (IQD million);",
        "  row 4  blank;",
        "  rows 5-6  a two-row merged header: ت | البند | نوع النفقة | مصدر التمويل | التخصيصات over الأصلي and",
        "         المعدل | المصروف الفعلي (the single-row columns merged over both rows);",
        "  then per sector a heading row (قطاع الماء والمجاري, قطاع الكهرباء, قطاع الصحة, قطاع التربية والتعليم,",
        "  قطاع البلديات والخدمات, قطاع الطرق والجسور, قطاعات أخرى), 2-4 line items (economic type استثماري or",
        "  تشغيلي; funding stream الوزارات الاتحادية, تنمية الأقاليم, البترودولار or الإيرادات المحلية) and a",
        "  subtotal row المجموع; last, the grand total row المجموع الكلي.",
        "Units by year: " + "; ".join(f"{y} {wb['unit']}" for y, wb in budget["workbooks"].items()) + ".",
        "Subtotals and totals are values (no formulas). Most amounts are numbers; "
        f"{budget['text_amounts']} amount cells are typed as",
        "text with thousands separators (\"1,250,000\"), as finance offices do: valid, they load.",
        "Capital allocation per governorate and year: 50-800 billion IQD; execution (expenditure / original",
        "allocation) 20-95 %; revised = original x 0.9-1.12. Petrodollar lines only in oil- and gas-producing",
        "governorates. The demo manifest's budget.expected holds the line items that load, summed in IQD by",
        "governorate x fiscal year x sector x economic type (budget.expected_by_funding_stream also by stream).",
        "Printed subtotals and totals add up what a spreadsheet SUM does (numbers, the negative one too; the",
        "text 1,,0 not), so the only subtotal that does not add up is the planted one; the expenditure checks",
        "of the 1,,0 and negative lines' sections cannot be made (unchecked).",
        "In reality the Kurdistan Region's governorates (Erbil, Sulaymaniyah, Duhok, Halabja) are financed",
        "through the KRG budget; the demo gives them lines like every other governorate.",
        "",
        *training.readme_lines(manifest["training"]),
        "PLANTED FAULTS (everything else is clean)",
        "-----------------------------------------",
    ]
    for wave in waves:
        rel = export_path(int(wave)).as_posix()
        f = consent_faults[rel]
        out.append(f"  {rel}: {len(f['row_numbers'])} households with consent = \"no\"")
        out.append("      (every question after consent is empty; exclude them, do not load them). Rows:")
        out.append(_wrap_numbers(f["row_numbers"]))
    for f in hours_faults:
        out.append(f"  {f['file']} row {f['row_number']}: hours_available_piped = {f['value']}")
        out.append(
            f"      (constraint 0..24; _uuid {f['_uuid']}, cluster {f['cluster_id']}) -> must be quarantined"
        )
    for f in budget_faults:
        out.append(f"  {f['file']} sheet {f['sheet']} cell {f['cell']} (row {f['row_number']}, {f['column']}): "
                   f"\"{f['value']}\" -> must be {f['outcome']}")
        out.append(f"      ({f['description']})")
    for f in manifest["faults"]:
        if f["file"] != FIRM_B_PATH.as_posix():
            continue
        rows = f["row_numbers"]
        where = f"row {rows[0]}" if len(rows) == 1 else f"rows {', '.join(map(str, rows))}"
        if f["column"] == "consent":
            out.append(f"  {f['file']}: {len(rows)} households with consent = 2 (no) -> must be excluded. Rows:")
            out.append(_wrap_numbers(rows))
            continue
        out.append(f"  {f['file']} {where}: {f['column']} = \"{f['value']}\" -> must be {f['outcome']}")
        out.append(f"      ({f['description']})")
    for f in manifest["faults"]:
        if f["file"].startswith(training.SOURCE_DIR.as_posix() + "/"):
            out.append(f"  {f['file']} row {f['row_number']}: {f['column']} = \"{f['value']}\" -> must be {f['outcome']}")
            out.append(f"      ({f['description']})")
    out.append("")
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------
# Entry point
# ----------------------------------------------------------------------------------------------


def generate_demo(out_dir: Path, seed: int = DEFAULT_SEED, households_per_wave: int = 4000) -> dict:
    """Write the SYNTHETIC demo landing folder into `out_dir` and return a manifest.

    Writes only the six files of the layout (creating their folders); any other file in
    `out_dir` is left alone. Same `seed` and `households_per_wave` give byte-identical files.
    """
    if households_per_wave < MIN_HOUSEHOLDS_PER_WAVE:
        raise ValueError(
            f"households_per_wave must be at least {MIN_HOUSEHOLDS_PER_WAVE} "
            f"(19 governorates x 2 strata x >= 2 clusters), got {households_per_wave}"
        )
    out_dir = Path(out_dir)
    seed = int(seed)
    ss = np.random.SeedSequence(seed)
    # children 0..3 as before the local-government questions and the second firm existed (a SeedSequence's
    # i-th child does not depend on how many are spawned), so their data did not change
    children = ss.spawn(2 + len(WAVES) + 2)
    params_ss, budget_ss = children[:2]
    wave_ss = children[2 : 2 + len(WAVES)]
    local_ss, firm_b_ss = children[2 + len(WAVES) :]
    params = _draw_params(np.random.default_rng(params_ss))
    local = _draw_local_params(np.random.default_rng(local_ss), params.water_change)

    payloads: dict[str, tuple[bytes, int]] = {}
    payloads[XLSFORM_PATH.as_posix()] = (_xlsform_bytes(), len(SURVEY_ROWS))
    waves_info: dict[str, Any] = {}
    faults: list[dict[str, Any]] = []
    for wi, (wave, wss) in enumerate(zip(WAVES, wave_ss)):
        df, info = _wave(wave, wi, households_per_wave, params, local, seed, np.random.default_rng(wss))
        rel = export_path(wave).as_posix()
        payloads[rel] = (_kobo_csv_bytes(df), df.height)
        consent_no_rows = info.pop("consent_no_rows")
        faults.append(
            {
                "file": rel,
                "column": "consent",
                "value": "no",
                "row_numbers": consent_no_rows,
                "description": "household refused consent: every question after consent is empty; exclude the row",
            }
        )
        faults.extend(info.pop("faults"))
        stratum_households = info.pop("stratum_population_households")
        info["consent_no"] = len(consent_no_rows)
        info["file"] = rel
        waves_info[str(wave)] = info
    from pipelines.demo import budget_workbooks, firm_b  # they import this module: loaded here, not at the top

    budget_payloads, budget_info = budget_workbooks.generate(np.random.default_rng(budget_ss))
    payloads.update(budget_payloads)
    faults.extend(budget_info["faults"])

    assert firm_b.PATH == FIRM_B_PATH

    sav, sav_rows, firm = firm_b.generate(households_per_wave, params, local, seed, np.random.default_rng(firm_b_ss))
    payloads[firm_b.PATH.as_posix()] = (sav, sav_rows)
    faults.extend(firm["faults"])

    from pipelines.demo import training  # the training cohorts draw from a child spawned after the others

    training_payloads, training_info = training.generate(np.random.default_rng(ss.spawn(1)[0]))
    payloads.update(training_payloads)
    faults.extend(training_info["faults"])

    files: dict[str, dict[str, Any]] = {}
    for rel, (data, rows) in payloads.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files[rel] = {"path": str(path), "rows": rows, "sha256": _sha256(data)}

    manifest: dict[str, Any] = {
        "synthetic": True,
        "seed": seed,
        "households_per_wave": households_per_wave,
        "out_dir": str(out_dir),
        "readme": str(out_dir / README_PATH),
        "files": files,
        "survey": {
            "source_id": SURVEY_SOURCE_ID,
            "form_title": FORM_TITLE,
            "form_id": FORM_ID,
            "form_version": FORM_VERSION,
            "stratum_population_households": stratum_households,
            "waves": waves_info,
        },
        "firm_b": {**firm["info"], "true_parameters": firm_b.true_parameters(params, local)},
        "budget": {
            "source_id": BUDGET_SOURCE_ID,
            "fiscal_years": list(FISCAL_YEARS),
            "missing_fiscal_years": list(MISSING_FISCAL_YEARS),
            "currency": "IQD",
            "files": [wb["file"] for wb in budget_info["workbooks"].values()],
            "workbooks": budget_info["workbooks"],
            "sheets": {pcode: name for pcode, name, _ in budget_workbooks.SHEETS},
            "unknown_governorate_sheet": budget_workbooks.UNKNOWN_SHEET,
            "text_amounts": budget_info["text_amounts"],
            "expected_note": (
                "the line items that load, summed in IQD (sheet amount x the workbook's unit multiplier), by "
                "governorate x fiscal year x sector x economic type; left out: the quarantined lines (1,,0, the "
                "negative expenditure, the items under the planted subtotal) and the unknown governorate's sheet; "
                "the Eastern-digit amount is in"
            ),
            "expected": budget_info["expected"],
            "expected_by_funding_stream": budget_info["expected_by_funding_stream"],
        },
        "training": training_info["info"],
        "faults": faults,
        "true_parameters": {
            "note": (
                "generating-model targets by governorate (before cluster/household random effects, which pull "
                "shares a few points toward 50 %); water_service_good = share rating level_service good or "
                "excellent among substantive answers"
            ),
            "water_service_good": {
                str(wave): {g.code: round(float(params.water_good[gi, wi]), 4) for gi, g in enumerate(GOVERNORATES)}
                for wi, wave in enumerate(WAVES)
            },
            "hours_available_piped_mean": {
                str(wave): {g.code: round(float(params.hours_mean[gi, wi]), 2) for gi, g in enumerate(GOVERNORATES)}
                for wi, wave in enumerate(WAVES)
            },
            **{
                indicator: {
                    str(wave): {g.code: round(float(target[gi, wi]), 4) for gi, g in enumerate(GOVERNORATES)}
                    for wi, wave in enumerate(WAVES)
                }
                for indicator, target in (
                    ("waste_collection_good", local.waste_good),
                    ("roads_condition_good", local.roads_good),
                    ("local_government_responsive_good", local.responsive_good),
                    ("local_government_trusted", local.trusted),
                )
            },
        },
    }
    readme = _readme(manifest).encode("utf-8")
    (out_dir / README_PATH).write_bytes(readme)
    files[README_PATH.as_posix()] = {
        "path": str(out_dir / README_PATH),
        "rows": readme.count(b"\n"),
        "sha256": _sha256(readme),
    }
    return manifest
