"""The dashboard's languages: gettext catalogs (Babel), the session's language, direction, numbers.

Every user-facing string goes through ``_("…")`` (or ``ngettext``), written in English in the code; the
translations live in standard gettext catalogs, ``dashboards/locale/<lang>/LC_MESSAGES/mizan.po``,
extracted with Babel (``babel.cfg``) and compiled to ``.mo`` by ``make setup``
(``python -m dashboards.i18n compile``). See docs/translations.md for the workflow.

The language of a script run: ``?lang=`` in the URL, else the sidebar switch's choice for this
session, else the role's default (Arabic for the steering committee, English for the others).
Arabic is written right to left: ``apply_direction`` sets ``dir="rtl"`` on the page.
"""

from __future__ import annotations

import gettext
import io
import math
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, numbers

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

#: language code → its own name (what the switch shows); Kurdish (Sorani) has a catalog, not yet translated
LANGUAGES: dict[str, str] = {"ar": "العربية", "en": "English"}
#: languages written right to left
RTL_LANGUAGES = frozenset({"ar", "ckb"})
DEFAULT_LANGUAGE = "en"
#: the role whose members read Arabic first (pipelines/users.py ROLES)
ARABIC_FIRST_ROLES = frozenset({"committee"})
DOMAIN = "mizan"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: session state: the language the switch chose
LANG_KEY = "_mizan_lang"
#: URL query parameter carrying the language
LANG_PARAM = "lang"
#: session state: this script run's language when no choice was made (the role's default, resolved once a
#: run by ``sync_language``: it changes when the user signs in)
RUN_LANG_KEY = "_mizan_lang_run"
#: widget key of the language switch
SWITCH_KEY = "_mizan_lang_switch"


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of ``lang``: the compiled ``.mo`` when it is at least as new as its ``.po``, else the
    ``.po`` compiled in memory (a checkout where ``make setup`` has not run yet); English and unknown
    languages get the identity (the msgids are English)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if lang == "en" or not po.exists():
        return gettext.NullTranslations()
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    buf = io.BytesIO()
    with po.open("rb") as fh:
        write_mo(buf, read_po(fh, locale=lang))
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def _role_default() -> str:
    from dashboards import auth

    return "ar" if auth.session_role() in ARABIC_FIRST_ROLES else DEFAULT_LANGUAGE


def current_language() -> str:
    """The language of this script run (``LANGUAGES`` key): URL ``?lang=``, else this session's choice
    (the switch), else the signed-in role's default. Outside a Streamlit run: ``DEFAULT_LANGUAGE``."""
    try:
        import streamlit as st

        lang = st.query_params.get(LANG_PARAM)
        if lang in LANGUAGES:
            return lang
        lang = st.session_state.get(LANG_KEY)
        if lang in LANGUAGES:
            return lang
        lang = st.session_state.get(RUN_LANG_KEY)
        if lang in LANGUAGES:
            return lang
        return _role_default()
    except Exception:  # noqa: BLE001 - no Streamlit script run (a test, the brief): the default
        return DEFAULT_LANGUAGE


def sync_language(signed_in: bool) -> str:
    """Resolve this script run's language once (app.py calls it first) and return it.

    An explicit choice (``?lang=`` or the switch) is remembered for the session; a signed-in session's
    URL then always carries ``?lang=`` so that a copied link opens in the same language. The sign-in
    page leaves the URL alone: the role's default is not known before sign-in."""
    import streamlit as st

    st.session_state.pop(RUN_LANG_KEY, None)
    chosen = st.query_params.get(LANG_PARAM)
    if chosen in LANGUAGES:
        st.session_state[LANG_KEY] = chosen
    lang = current_language()
    st.session_state[RUN_LANG_KEY] = lang
    if signed_in:
        if st.query_params.get(LANG_PARAM) != lang:
            st.query_params[LANG_PARAM] = lang
    return lang


def _switched() -> None:
    import streamlit as st

    lang = st.session_state.get(SWITCH_KEY)
    if lang in LANGUAGES:
        st.session_state[LANG_KEY] = lang
        st.query_params[LANG_PARAM] = lang


def language_switch() -> None:
    """The language switch (العربية / English), kept in step with ``?lang=`` in the URL. Its label is
    written in both languages on purpose: a reader who cannot read the current one still finds it."""
    import streamlit as st

    st.session_state[SWITCH_KEY] = current_language()
    st.radio("Language · اللغة", options=list(LANGUAGES), format_func=LANGUAGES.__getitem__,
             horizontal=True, key=SWITCH_KEY, on_change=_switched)


def _(message: str) -> str:
    """``message`` (English) in the current language ('' stays '': gettext would return the header)."""
    return translations(current_language()).gettext(message) if message else message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language (Arabic has six plural forms)."""
    return translations(current_language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it here (it is translated where shown)."""
    return message


def is_rtl(lang: str | None = None) -> bool:
    """Whether ``lang`` (default: the current language) is written right to left."""
    return (lang or current_language()) in RTL_LANGUAGES


# --------------------------------------------------------------------------------------------------
# direction: the whole page right to left
# --------------------------------------------------------------------------------------------------
#: Arabic script fonts, in order of preference (Debian fonts-noto-core ships the Noto ones)
ARABIC_FONTS = '"Noto Naskh Arabic", "Noto Sans Arabic", "Noto Kufi Arabic", "Arial", sans-serif'
_RTL_CSS = f"""
.stApp, [data-testid="stSidebar"], [data-testid="stMain"] {{ direction: rtl; }}
.stApp, .stApp p, .stApp li, .stApp label, .stApp h1, .stApp h2, .stApp h3, .stApp input,
.stApp button, .stApp [data-testid="stMarkdownContainer"] {{ font-family: {ARABIC_FONTS}; }}
.stApp [data-testid="stMarkdownContainer"], .stApp [data-testid="stCaptionContainer"],
.stApp [data-testid="stAlert"] {{ text-align: right; }}
.stApp code {{ direction: ltr; unicode-bidi: embed; }}
.stApp [data-testid="stDataFrame"], .stApp [data-testid="stTable"] {{ direction: rtl; }}
.stApp .js-plotly-plot svg text {{ unicode-bidi: plaintext; }}
"""


def direction_html(lang: str | None = None) -> str:
    """The HTML that sets the page's direction and language: ``dir``/``lang`` on ``<html>`` (script),
    a style sheet for Streamlit's containers and Arabic fonts (right-to-left languages only)."""
    lang = lang or current_language()
    rtl = lang in RTL_LANGUAGES
    script = (f"<script>document.documentElement.dir = '{'rtl' if rtl else 'ltr'}';"
              f"document.documentElement.lang = '{lang}';</script>")
    return (f"<style>{_RTL_CSS}</style>" if rtl else "") + script


def apply_direction(lang: str | None = None) -> None:
    """Set the page's direction for ``lang`` (default: the current language). In a right-to-left
    language the page also holds an element with ``dir="rtl"`` (a marker for readers and tests that run
    without JavaScript)."""
    import streamlit as st

    lang = lang or current_language()
    st.html(direction_html(lang), unsafe_allow_javascript=True)
    if lang in RTL_LANGUAGES:
        st.html(f'<div dir="rtl" lang="{lang}" class="mizan-direction"></div>')


# --------------------------------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------------------------------
#: Babel locale of each language's numbers. Arabic: Iraq's CLDR locale, whose default numbering
#: system is Arabic-Indic digits (see docs/translations.md for the choice)
NUMBER_LOCALES = {"ar": "ar_IQ", "en": "en", "ckb": "ckb_IQ"}
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_LATIN_ONLY = re.compile(r"[A-Za-z]")
#: unit suffixes of formatted estimates (tables.unit_suffix, tables.fmt_se), translated after the number
_UNIT_SUFFIX = re.compile(r"(?<=\d) (h/day|h|pts)$")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def arabic_digits(text: str) -> str:
    """``text`` with its Latin digits as Arabic-Indic digits (Babel formats symbols, not digits)."""
    return text.translate(_ARABIC_INDIC)


def _digits(text: str, lang: str) -> str:
    return arabic_digits(text) if lang in RTL_LANGUAGES else text


def format_decimal(value: float | int | None, decimals: int = 1, lang: str | None = None) -> str:
    """``value`` with thousands separators and ``decimals`` decimals, for ``lang`` readers:
    12345.678 → '12,345.7' (en), '١٢٬٣٤٥٫٧' (ar). None → '–'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    lang = lang or current_language()
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    text = numbers.format_decimal(value, format=pattern, locale=NUMBER_LOCALES.get(lang, "en"),
                                  numbering_system="default", decimal_quantization=True)
    return _digits(text, lang)


def format_percent(fraction: float | None, decimals: int = 1, lang: str | None = None) -> str:
    """A fraction as a percentage: 0.4213 → '42.1%' (en), '٤٢٫١٪' (ar). None → '–'."""
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return "–"
    lang = lang or current_language()
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + "%"
    text = numbers.format_percent(fraction, format=pattern, locale=NUMBER_LOCALES.get(lang, "en"),
                                  numbering_system="default", decimal_quantization=True)
    return _digits(text.replace("%", _symbols(lang)[2]), lang)


def localize_number_text(text: str, lang: str | None = None) -> str:
    """A number already written in English ('42.1%', '35.0–49.3%', '1,204', '<0.1 pts' stays as is) in
    ``lang``'s digits and separators, when the text holds no Latin letters; other text unchanged."""
    lang = lang or current_language()
    if lang not in RTL_LANGUAGES or not text:
        return text
    unit = _UNIT_SUFFIX.search(text)  # '13.1 h/day', '<0.1 pts': the number, then its unit translated
    if unit and not _LATIN_ONLY.search(text[:unit.start()]):
        return localize_number_text(text[:unit.start()], lang) + translations(lang).gettext(unit.group(0))
    if _LATIN_ONLY.search(text):
        return text
    decimal, group, percent = _symbols(lang)

    def one(m: re.Match[str]) -> str:
        return m.group(0).replace(",", "\0").replace(".", decimal).replace("\0", group)

    return arabic_digits(_NUMBER.sub(one, text).replace("%", percent))


@lru_cache(maxsize=None)
def _symbols(lang: str) -> tuple[str, str, str]:
    """(decimal, group, percent) symbols of ``lang``'s numbers in its default numbering system (CLDR)."""
    locale = Locale.parse(NUMBER_LOCALES.get(lang, "en"))
    symbols = locale.number_symbols[locale.default_numbering_system]
    # CLDR pads some Arabic symbols with the Arabic letter mark (U+061C), a bidi hint the browser
    # does not need inside a right-to-left page
    return tuple(symbols[k].replace("\u061c", "") for k in ("decimal", "group", "percentSign"))


# --------------------------------------------------------------------------------------------------
# names and tables
# --------------------------------------------------------------------------------------------------
def pick_name(name_en: Any, name_ar: Any = None, lang: str | None = None) -> str:
    """The name to show in ``lang``: the Arabic name (warehouse ``name_ar``) in Arabic when there is
    one, else the English name."""
    lang = lang or current_language()
    if lang == "ar" and name_ar not in (None, ""):
        return str(name_ar)
    return "" if name_en is None else str(name_en)


def indicator_names_ar(path: str) -> dict[str, str]:
    """indicator_id → Arabic name (``marts.dim_indicator.name_ar``) of the snapshot ``path``, for pages
    whose query carries only the English name; {} when the snapshot cannot say."""
    from dashboards import data

    try:
        df = data.load("indicators", path)
    except Exception:  # noqa: BLE001 - names are a nicety: the page reports read errors itself
        return {}
    if "name_ar" not in df.columns:
        return {}
    return {i: a for i, a in df.select("indicator_id", "name_ar").iter_rows() if a}


def localize_names(df: Any, path: str | None = None, lang: str | None = None) -> Any:
    """A frame about to be shown (never one to download) with its names in ``lang``: in Arabic,
    ``indicator_name`` from ``dim_indicator.name_ar`` (needs ``path``), the area's ``name_en`` from its
    ``name_ar`` (frames with ``governorate_pcode``) and ``sector_name`` from ``sector_name_ar``, each
    where the Arabic name is known. Other languages: ``df`` unchanged."""
    import polars as pl

    lang = lang or current_language()
    if lang != "ar" or df is None:
        return df
    cols = df.columns
    if "indicator_name" in cols and "indicator_id" in cols and path is not None:
        names = indicator_names_ar(path)
        if names:
            df = df.with_columns(pl.col("indicator_id").replace_strict(names, default=None, return_dtype=pl.String)
                                 .fill_null(pl.col("indicator_name")).alias("indicator_name"))
    if {"name_en", "name_ar", "governorate_pcode"} <= set(cols):
        df = df.with_columns(pl.col("name_ar").fill_null(pl.col("name_en")).alias("name_en"))
    if "sector_name_ar" in cols and "sector_name" in cols:
        df = df.with_columns(pl.col("sector_name_ar").fill_null(pl.col("sector_name")).alias("sector_name"))
    return df


def name_column(lang: str | None = None, base: str = "name") -> str:
    """The warehouse column of names in ``lang``: ``name_ar`` in Arabic, ``name_en`` otherwise
    (``base`` = 'sector_name' gives ``sector_name_ar`` / ``sector_name``)."""
    lang = lang or current_language()
    if base == "name":
        return "name_ar" if lang == "ar" else "name_en"
    return f"{base}_ar" if lang == "ar" else base


def localize_frame(df: Any, lang: str | None = None) -> Any:
    """A display table (polars) for ``lang``: column headers and whole-cell labels translated
    through the catalog (the headers are marked in ``dashboards/labels.py``), numbers written for
    ``lang`` readers. English returns ``df`` unchanged. Downloads use the untranslated frame."""
    import polars as pl

    lang = lang or current_language()
    if lang == "en" or df is None:
        return df
    tr = translations(lang)
    if lang == "ar" and "Arabic name" in df.columns:  # the names are Arabic already: no second column of them
        df = df.drop("Arabic name")
    out = []
    for name, dtype in df.schema.items():
        col = pl.col(name)
        if dtype == pl.String:
            col = col.map_elements(lambda v: localize_number_text(tr.gettext(v), lang) if v else v,
                                   return_dtype=pl.String)
        elif dtype.is_numeric() and not dtype.is_float():
            col = col.map_elements(lambda v: format_decimal(v, 0, lang), return_dtype=pl.String)
        elif dtype.is_float():
            col = col.map_elements(lambda v: format_decimal(v, 1, lang), return_dtype=pl.String)
        elif dtype == pl.Boolean:
            col = col.map_elements(lambda v: tr.gettext("yes") if v else tr.gettext("no"), return_dtype=pl.String)
        out.append(col.alias(localize_number_text(tr.gettext(name), lang)))
    shown = df.select(out)
    return shown.select(shown.columns[::-1]) if _fits(shown) else shown


#: width (px) of the main area on a 1366 px screen, and of one character of the grid's font
_TABLE_WIDTH_PX, _CHAR_PX = 880, 8


def _fits(df: Any) -> bool:
    """Whether the table shows whole without scrolling sideways. Streamlit's grid draws its columns left
    to right and opens scrolled to the left, so a right-to-left order (first column on the right) is used
    only for a table that fits: a wider one keeps its first columns, the ones that name the rows, in view."""
    width = 0
    for name in df.columns:
        cells = df[name].cast(str, strict=False).drop_nulls().str.len_chars().max() if df.height else 0
        width += 24 + _CHAR_PX * max(len(name), cells or 0)
    return width <= _TABLE_WIDTH_PX


def localize_column_config(config: dict[str, Any] | None, lang: str | None = None) -> dict[str, Any] | None:
    """``st.dataframe``'s ``column_config`` keyed by the translated headers (see ``localize_frame``)."""
    lang = lang or current_language()
    if not config or lang == "en":
        return config
    tr = translations(lang)
    return {tr.gettext(k): v for k, v in config.items()}


def dataframe(df: Any, column_config: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """``st.dataframe`` of a display table in the current language (``localize_frame``)."""
    import streamlit as st

    return st.dataframe(localize_frame(df), column_config=localize_column_config(column_config), **kwargs)


# --------------------------------------------------------------------------------------------------
# charts
# --------------------------------------------------------------------------------------------------
def localize_figure(fig: Any, lang: str | None = None) -> Any:
    """A plotly figure laid out for ``lang``: in a right-to-left language the y axis sits on the right, a
    category or wave axis and horizontal bars run right to left, the legend starts on the right (across the
    top) or moves to the left (beside the plot), a colour bar moves to the left, labels drawn in the plot are
    translated, and Arabic fonts and separators are used. Returns ``fig`` (changed in place)."""
    lang = lang or current_language()
    if lang not in RTL_LANGUAGES:
        return fig
    decimal, group, _percent = _symbols(lang)
    # a legend across the top starts on the right; a legend beside the plot moves to its left
    legend = ({"x": 1, "xanchor": "right"} if fig.layout.legend.orientation == "h"
              else {"x": -0.05, "xanchor": "right"})
    fig.update_layout(
        font={"family": ARABIC_FONTS},
        legend=legend,
        hoverlabel={"align": "right"},
        separators=decimal + group,
    )
    # waves, years and categories read right to left, and horizontal bars grow leftwards; a numeric
    # x axis of a scatter keeps its direction (a reader compares positions, not a sequence)
    horizontal_bars = any(getattr(t, "orientation", None) == "h" for t in fig.data)
    categorical_x = fig.layout.xaxis.type == "category" or any(
        t.x is not None and len(t.x) and isinstance(t.x[0], str) for t in fig.data if hasattr(t, "x"))
    if (horizontal_bars or categorical_x) and fig.layout.xaxis.autorange != "reversed":
        fig.update_xaxes(autorange="reversed")
    fig.update_yaxes(side="right", automargin=True)
    # the tick labels' side gets the room (plotly's automargin does not widen a right-hand y axis here)
    labels = [str(v) for t in fig.data if getattr(t, "y", None) is not None for v in t.y if isinstance(v, str)]
    margin = fig.layout.margin
    right = max(margin.l or 10, min(240, 16 + 7 * max((len(v) for v in labels), default=0)))
    fig.update_layout(margin={"l": margin.r, "r": right})
    tr = translations(lang)

    def cell(v: Any) -> Any:
        return localize_number_text(tr.gettext(v), lang) if isinstance(v, str) and v else v

    for trace in fig.data:
        if trace.type == "heatmap":  # the colour bar leaves the right side to the y axis
            trace.update(colorbar={"x": -0.02, "xanchor": "right"})
        text = getattr(trace, "text", None)
        if isinstance(text, tuple | list):  # labels drawn in the plot: whole-cell labels and numbers
            trace.text = [[cell(v) for v in row] if isinstance(row, tuple | list) else cell(row) for row in text]
    if fig.layout.title.text:  # a right-to-left mark keeps a title that starts with a code in order
        fig.layout.title.text = "\u200f" + fig.layout.title.text
    for ann in fig.layout.annotations or ():
        if ann.xref == "paper" and ann.x is not None:
            ann.update(x=1 - ann.x)
    return fig


def compile_catalogs() -> list[Path]:
    """Compile every ``locale/*/LC_MESSAGES/mizan.po`` to its ``.mo`` (Babel). Returns the files written."""
    written = []
    for po in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        lang = po.parent.parent.name
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        mo = po.with_suffix(".mo")
        with mo.open("wb") as fh:
            write_mo(fh, catalog)
        written.append(mo)
    return written


if __name__ == "__main__":
    if sys.argv[1:] == ["compile"]:
        for path in compile_catalogs():
            print(f"compiled {path}")
    else:
        sys.exit("usage: python -m dashboards.i18n compile")
