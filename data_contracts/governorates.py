"""Governorate reference data and the one resolver every governorate name goes through.

Data (see ``data_contracts/reference/README.md`` for sources and decisions):

- ``reference/governorates.csv``: 19 rows, the 18 COD-AB 2019 governorates ``IQG01``…``IQG18``
  plus Halabja under the mizan surrogate code ``IQG19`` (not an official p-code).
- ``reference/governorate_aliases.csv``: spellings that normalisation alone cannot derive.
- ``reference/population.csv``: published population figures by governorate and year
  (``governorate_pcode = 'IQ'`` rows are national totals).

Public API: :func:`normalize_name`, :func:`resolve_governorate`, :class:`UnknownGovernorateError`,
:func:`governorates`, :func:`aliases`, :func:`population`, :func:`population_for_year`,
:func:`build_lookup` and :data:`POPULATION_NOTE`.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import re
import unicodedata
from pathlib import Path

import polars as pl

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
HALABJA = "IQG19"
SULAYMANIYAH = "IQG06"
NATIONAL = "IQ"

POPULATION_NOTE = (
    "population_for_year(year) gives one figure per governorate (19 rows, IQG06 always without "
    "Halabja). (1) Halabja split: where a source publishes Sulaymaniyah including Halabja (no IQG19 "
    "figure that year: 1977-1997, 2010, 2011), Halabja = round(figure x s) and IQG06 = figure - "
    "Halabja, with s the Halabja share of Sulaymaniyah+Halabja in the latest year both are "
    "published separately (2018: 108974 / 2162279 = 5.04 %); method 'published_halabja_split'. "
    "(2) A year with a figure is 'published'. (3) A year between two figures is the linear "
    "interpolation between the nearest earlier and later figure of that governorate, rounded to "
    "the person ('interpolated'). (4) After a governorate's last figure (2018) the last figure is "
    "scaled by the national total, itself interpolated linearly between national figures "
    "(2018 CSO projection 38124182, 2024 census 46118793) and held constant after the last one "
    "('extrapolated_national_trend'). (5) Before the first figure, or after the last one when no "
    "later national total exists, the nearest figure is held constant ('extrapolated_constant'). "
    "Years are whole calendar years; reference dates within the year are ignored."
)

# --------------------------------------------------------------------------------------------
# Name normalisation
# --------------------------------------------------------------------------------------------

# Letters folded to one Arabic form. Hamza carriers (أ إ آ ؤ ئ, ۀ) need no entry: NFKD splits
# them into base letter + combining hamza/madda, and combining marks are dropped.
_LETTER_MAP = str.maketrans(
    {
        "ٱ": "ا",  # alef wasla
        "ة": "ه",  # ta marbuta
        "ى": "ي",  # alef maqsura
        "ی": "ي",  # Persian/Kurdish yeh
        "ێ": "ي",  # Kurdish yeh with small v
        "ې": "ي",
        "ک": "ك",  # keheh
        "ە": "ه",  # Kurdish ae
        "ھ": "ه",  # heh doachashmee
        "ۀ": "ه",
        "ڕ": "ر",
        "ڵ": "ل",
        "ۆ": "و",
        "ۊ": "و",
        "ۇ": "و",
        "ۉ": "و",
        "ڤ": "ف",
        "پ": "ب",
        "چ": "ج",
        "ژ": "ز",
        "ء": None,  # lone hamza: كربلاء = كربلا
        "ـ": None,  # tatweel
        "'": None,  # apostrophes and ayn/hamza marks join the word: Ta'mim = Tamim
        "’": None,
        "‘": None,
        "`": None,
        "´": None,
        "ʼ": None,
        "ʻ": None,
        "ʾ": None,
        "ʿ": None,
        "ı": "i",  # dotless i (Turkish/Kurmanji input)
    }
)
_NON_WORD = re.compile(r"[\W_]+")  # hyphens, dots, slashes, brackets, commas, spaces
_LATIN_ARTICLES = frozenset({"al", "el", "ad", "as", "an", "at", "ar", "az", "ash"})


def _fold_chars(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    # Drop combining marks (Mn: tashkeel, hamza/madda, accents) and format characters
    # (Cf: BOM, zero-width joiners, direction marks common in Arabic exports).
    no_marks = "".join(c for c in decomposed if unicodedata.category(c) not in ("Mn", "Cf"))
    return no_marks.translate(_LETTER_MAP)


# Words that say "governorate"/"province" and carry no identity ("Wasit Governorate", "محافظة بغداد").
_GENERIC_WORDS = frozenset(
    _fold_chars(word)
    for word in ("governorate", "governate", "province", "muhafazat", "muhafaza", "محافظة", "پارێزگای", "پارێزگا")
)


def _drop_article(token: str) -> str:
    # Arabic ال is stripped only when at least 3 letters remain (الانبار -> انبار, not ال...).
    if token.startswith("ال") and len(token) >= 5:
        return token[2:]
    return token


def normalize_name(text: str) -> str:
    """Normalise a place name for matching (not for display).

    Steps, in order: Unicode NFKD and case folding; drop all combining marks (Arabic tashkeel,
    hamza above/below and madda, so أ إ آ → ا, ؤ → و, ئ → ي; Latin accents, so ê → e) and
    format characters (byte-order mark, zero-width (non-)joiners, direction marks);
    fold letters (ٱ → ا, ة → ه, ى → ي, Kurdish/Persian ی ێ → ي, ک → ك, ە ھ → ه, ڕ → ر, ڵ → ل,
    ۆ ۊ → و, ڤ → ف, پ → ب, چ → ج, ژ → ز); drop tatweel, lone hamza ء and apostrophe-like marks
    (' ’ ʿ ʾ ...); turn every other non-letter (hyphen, dot, slash, brackets) into a space;
    then per word drop Latin articles (al, el, ad, as, an, at, ar, az, ash), a leading Arabic ال
    when 3+ letters remain, and generic words (governorate, province, محافظة, پارێزگا);
    finally trim and collapse spaces.

    >>> normalize_name("  At-Ta'mim ")
    'tamim'
    >>> normalize_name("محافظة الأنبار")
    'انبار'

    Returns ``""`` for blank input. Raises ``TypeError`` if ``text`` is not a ``str``.
    """
    if not isinstance(text, str):
        raise TypeError(f"normalize_name expects str, got {type(text).__name__}")
    tokens = _NON_WORD.sub(" ", _fold_chars(text)).split()
    kept = [_drop_article(t) for t in tokens if t not in _LATIN_ARTICLES and t not in _GENERIC_WORDS]
    return " ".join(kept or tokens)


_DOUBLED = re.compile(r"(.)\1+")
_LATIN_FINAL_H = re.compile(r"(?<=[aeiou])h\b")


def _match_key(text: str) -> str:
    """Key of the lookup index: normalised name with spelling noise folded away.

    On top of :func:`normalize_name`: drop a word-final Latin ``h`` after a vowel
    (Basrah = Basra), remove spaces (Dhi Qar = Dhiqar) and collapse doubled letters
    (Wassit = Wasit, کەرکووک = کەرکوک, Salah ad-Din = Saladin).
    """
    name = _LATIN_FINAL_H.sub("", normalize_name(text)).replace(" ", "")
    return _DOUBLED.sub(r"\1", name)


# --------------------------------------------------------------------------------------------
# Reference tables
# --------------------------------------------------------------------------------------------


@functools.cache
def _read_governorates() -> pl.DataFrame:
    return pl.read_csv(REFERENCE_DIR / "governorates.csv", infer_schema=False)


def governorates() -> pl.DataFrame:
    """The 19 governorates: one row per ``governorate_pcode`` (IQG01…IQG19), all columns ``String``.

    Columns: governorate_pcode, name_en (COD-AB 2019), name_en_short, name_ar (COD-AB 2019),
    name_ckb (Sorani), name_kmr (Kurmanji, Latin), region (``Kurdistan Region`` | ``Federal``),
    iso3166_2, adm1_pcode_ocha2014, name_en_ocha2014, capital, cod_ab_parent_pcode, cod_ab_note.
    Blank cells are null (Halabja has no ISO 3166-2 or OCHA 2014 code).
    """
    return _read_governorates().clone()


@functools.cache
def _read_aliases() -> pl.DataFrame:
    return pl.read_csv(REFERENCE_DIR / "governorate_aliases.csv", infer_schema=False)


def aliases() -> pl.DataFrame:
    """Extra spellings: columns alias, governorate_pcode, script (latin|ar|ckb), alias_type, source."""
    return _read_aliases().clone()


_POPULATION_SCHEMA = {
    "governorate_pcode": pl.String,
    "year": pl.Int32,
    "population": pl.Int64,
    "type": pl.String,
    "reference_date": pl.Date,
    "source": pl.String,
    "note": pl.String,
}


@functools.cache
def _read_population() -> pl.DataFrame:
    return pl.read_csv(REFERENCE_DIR / "population.csv", schema=_POPULATION_SCHEMA)


def population() -> pl.DataFrame:
    """Published population figures, as published: one row per (governorate_pcode, year).

    Columns: governorate_pcode (IQG01…IQG19, or ``IQ`` for the national total), year (Int32),
    population (Int64), type (``census`` | ``estimate`` | ``projection``), reference_date (Date,
    null when the source gives none), source, note. Sulaymaniyah (IQG06) includes Halabja in
    the years without an IQG19 row; use :func:`population_for_year` for consistent boundaries.
    """
    return _read_population().clone()


# --------------------------------------------------------------------------------------------
# Resolution
# --------------------------------------------------------------------------------------------

_NAME_COLUMNS = (
    "name_en",
    "name_en_short",
    "name_ar",
    "name_ckb",
    "name_kmr",
    "capital",
    "name_en_ocha2014",
)


class UnknownGovernorateError(ValueError):
    """A name that resolves to no governorate.

    ``value`` is the input as given; ``suggestions`` holds up to 3 ``"spelling (p-code)"``
    strings for the closest known spellings (one per governorate), possibly empty.
    """

    def __init__(self, value: object, suggestions: list[str]):
        self.value = value
        self.suggestions = suggestions
        hint = f"; closest known: {', '.join(suggestions)}" if suggestions else ""
        super().__init__(f"unknown governorate {value!r}{hint}")


def build_lookup(gov_table: pl.DataFrame, alias_table: pl.DataFrame) -> dict[str, tuple[str, str]]:
    """Build the index ``match key -> (p-code, first spelling seen)``.

    ``gov_table`` is shaped like :func:`governorates`, ``alias_table`` has at least the columns
    alias and governorate_pcode. Keys come from the name columns of ``gov_table`` (name_en,
    name_en_short, name_ar, name_ckb, name_kmr, capital, name_en_ocha2014) and from the aliases,
    all passed through the matching normalisation. Raises ``ValueError`` if one key maps to two
    governorates, or if an alias names a p-code that is not in ``gov_table``.
    """
    codes = set(gov_table["governorate_pcode"])
    pairs = [(row[c], row["governorate_pcode"]) for row in gov_table.iter_rows(named=True) for c in _NAME_COLUMNS]
    pairs += list(alias_table.select("alias", "governorate_pcode").iter_rows())
    index: dict[str, tuple[str, str]] = {}
    for spelling, code in pairs:
        if not spelling:
            continue
        if code not in codes:
            raise ValueError(f"alias {spelling!r} points to unknown p-code {code!r}")
        key = _match_key(spelling)
        if not key:
            raise ValueError(f"spelling {spelling!r} normalises to an empty key")
        known = index.setdefault(key, (code, spelling))
        if known[0] != code:
            raise ValueError(
                f"ambiguous governorate spelling: {spelling!r} ({code}) and {known[1]!r} ({known[0]}) "
                f"both normalise to {key!r}"
            )
    return index


@functools.cache
def _lookup() -> dict[str, tuple[str, str]]:
    return build_lookup(_read_governorates(), _read_aliases())


_PCODE = re.compile(r"IQG(0[1-9]|1[0-9])")


def _suggest(key: str) -> list[str]:
    index = _lookup()
    out: dict[str, str] = {}
    for match in difflib.get_close_matches(key, index, n=20, cutoff=0.5):
        code, spelling = index[match]
        out.setdefault(code, f"{spelling} ({code})")
    return list(out.values())[:3]


@functools.lru_cache(maxsize=8192)
def resolve_governorate(name: str) -> str:
    """Return the governorate p-code (``IQG01``…``IQG19``) for a name in any script.

    Accepts English, Arabic, Sorani and Kurmanji names and variants, capital-city names, former
    names and the aliases in ``governorate_aliases.csv``; an exact p-code (``"IQG08"``, any case)
    is returned as is. OCHA 2014 codes (``IQ-G07``) are *not* accepted: they are numbered
    differently. Results are cached, so calling it once per row is cheap.

    Raises ``UnknownGovernorateError`` (a ``ValueError``) for blank, ``None`` or unknown input,
    with up to 3 suggestions; ``TypeError`` for non-string input other than ``None``.
    """
    if name is None:
        raise UnknownGovernorateError(name, [])
    if not isinstance(name, str):
        raise TypeError(f"resolve_governorate expects str, got {type(name).__name__}")
    stripped = name.strip()
    if _PCODE.fullmatch(stripped.upper()):
        return stripped.upper()
    key = _match_key(stripped)
    if not key:
        raise UnknownGovernorateError(name, [])
    hit = _lookup().get(key)
    if hit is None:
        raise UnknownGovernorateError(name, _suggest(key))
    return hit[0]


# --------------------------------------------------------------------------------------------
# Population by year
# --------------------------------------------------------------------------------------------


def _round(x: float) -> int:
    return int(x + 0.5)  # populations are positive: round half up


@functools.cache
def _consistent_series() -> tuple[dict[str, dict[int, tuple[int, str]]], dict[int, int]]:
    """Per governorate ``{year: (population, method)}`` on mizan boundaries, plus national totals."""
    pop = _read_population()
    is_national = pl.col("governorate_pcode") == NATIONAL
    national = dict(pop.filter(is_national).select("year", "population").iter_rows())
    series: dict[str, dict[int, tuple[int, str]]] = {}
    for code, year, value in pop.filter(~is_national).select("governorate_pcode", "year", "population").iter_rows():
        series.setdefault(code, {})[year] = (value, "published")
    sul, hal = series[SULAYMANIYAH], series[HALABJA]
    both = max(set(sul) & set(hal))
    share = hal[both][0] / (hal[both][0] + sul[both][0])
    for year in set(sul) - set(hal):
        combined = sul[year][0]
        halabja = _round(combined * share)
        sul[year] = (combined - halabja, "published_halabja_split")
        hal[year] = (halabja, "published_halabja_split")
    return series, national


def _interpolate(points: dict[int, int], year: int) -> float | None:
    """Linear interpolation inside the points' year range; None outside it."""
    years = sorted(points)
    if not years or year < years[0] or year > years[-1]:
        return None
    i = bisect.bisect_left(years, year)
    if years[i] == year:
        return float(points[year])
    y0, y1 = years[i - 1], years[i]
    return points[y0] + (points[y1] - points[y0]) * (year - y0) / (y1 - y0)


def population_for_year(year: int) -> pl.DataFrame:
    """Population of the 19 governorates in ``year``, filled by the rule in :data:`POPULATION_NOTE`.

    Returns 19 rows sorted by p-code: governorate_pcode (String), year (Int32), population (Int64),
    method (``published`` | ``published_halabja_split`` | ``interpolated`` |
    ``extrapolated_national_trend`` | ``extrapolated_constant``). Raises ``TypeError`` if ``year``
    is not an ``int``.
    """
    if isinstance(year, bool) or not isinstance(year, int):
        raise TypeError(f"year must be int, got {type(year).__name__}")
    series, national = _consistent_series()
    rows = []
    for code in sorted(series):
        points = series[code]
        years = sorted(points)
        if year in points:
            value, method = points[year]
        elif years[0] < year < years[-1]:
            value, method = _round(_interpolate({y: p for y, (p, _) in points.items()}, year)), "interpolated"
        elif year > years[-1] and max(national) > years[-1]:
            last = years[-1]
            scale = _interpolate(national, min(year, max(national))) / _interpolate(national, last)
            value, method = _round(points[last][0] * scale), "extrapolated_national_trend"
        else:
            value, method = points[years[0] if year < years[0] else years[-1]][0], "extrapolated_constant"
        rows.append((code, year, value, method))
    return pl.DataFrame(
        rows,
        schema={"governorate_pcode": pl.String, "year": pl.Int32, "population": pl.Int64, "method": pl.String},
        orient="row",
    )
