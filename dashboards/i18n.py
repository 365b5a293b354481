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
import sys
from functools import lru_cache
from pathlib import Path

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


def current_language() -> str:
    """The language of this script run (``LANGUAGES`` key): URL ``?lang=``, else this session's choice,
    else the signed-in role's default. Outside a Streamlit run: ``DEFAULT_LANGUAGE``."""
    try:
        import streamlit as st

        lang = st.query_params.get(LANG_PARAM)
        if lang in LANGUAGES:
            return lang
        lang = st.session_state.get(LANG_KEY)
        if lang in LANGUAGES:
            return lang
        from dashboards import auth

        role = auth.session_role()
    except Exception:  # noqa: BLE001 - no Streamlit script run (a test, the brief): the default
        return DEFAULT_LANGUAGE
    return "ar" if role in ARABIC_FIRST_ROLES else DEFAULT_LANGUAGE


def _(message: str) -> str:
    """``message`` (English) in the current language."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language (Arabic has six plural forms)."""
    return translations(current_language()).ngettext(singular, plural, n)


def is_rtl(lang: str | None = None) -> bool:
    """Whether ``lang`` (default: the current language) is written right to left."""
    return (lang or current_language()) in RTL_LANGUAGES


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
