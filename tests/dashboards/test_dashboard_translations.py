"""The dashboard in Arabic and English (dashboards/i18n.py, the gettext catalogs in dashboards/locale/):
every user-facing string of dashboards/ has an Arabic translation, translations keep their placeholders,
the language follows ``?lang=`` and the switch, Arabic pages are right to left with Arabic-Indic numbers,
and charts are laid out right to left. AppTest on the scratch warehouse; the catalog checks run Babel's
own extraction (``babel.cfg``) over the code, so a new string without a translation fails here."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
import pytest
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

from dashboards import i18n
from signed_in import sign_in

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "dashboards" / "app.py"
AR_PO = REPO / "dashboards" / "locale" / "ar" / "LC_MESSAGES" / "mizan.po"
CKB_PO = REPO / "dashboards" / "locale" / "ckb" / "LC_MESSAGES" / "mizan.po"
#: str.format fields: {name}, {name:.1f}, {name!r}, and polars' positional {}
_FIELD = re.compile(r"(?<!\{)\{([A-Za-z_0-9]*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")


def _catalog(path: Path, locale: str):
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _fields(text: str) -> list[str]:
    return sorted(_FIELD.findall(text))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory):
    """The messages Babel extracts from the code now (``pybabel extract -F babel.cfg``), as a catalog."""
    pot = tmp_path_factory.mktemp("pot") / "mizan.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "extract", "-F", "babel.cfg", "-o", str(pot), "--no-location", "."],
                   cwd=REPO, check=True, capture_output=True)
    with pot.open("rb") as fh:
        return read_po(fh)


def test_every_user_facing_string_has_an_arabic_translation(extracted) -> None:
    arabic = _catalog(AR_PO, "ar")
    assert len(extracted) > 100  # the extraction ran over the dashboard, not over nothing
    untranslated = []
    for message in extracted:
        if not message.id:
            continue
        ar = arabic.get(message.id)
        strings = () if ar is None else (ar.string if isinstance(ar.string, tuple) else (ar.string,))
        if ar is None or ar.fuzzy or not strings or not all(s and s.strip() for s in strings):
            untranslated.append(message.id)
    assert not untranslated, (
        f"{len(untranslated)} message(s) without an Arabic translation in {AR_PO.relative_to(REPO)} "
        f"(run `make translations`, translate, see docs/translations.md): {untranslated[:10]}")


def test_arabic_plurals_have_all_six_forms() -> None:
    plurals = [m for m in _catalog(AR_PO, "ar") if isinstance(m.id, tuple)]
    assert plurals, "no ngettext message in the catalog"
    for m in plurals:
        assert len(m.string) == 6 and all(m.string), m.id


def test_translations_keep_the_placeholders_of_their_message() -> None:
    wrong = []
    for m in _catalog(AR_PO, "ar"):
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        expected = _fields(ids[-1])
        for s in strings:
            if s and _fields(s) != expected:
                wrong.append((ids[0], _fields(s), expected))
    assert not wrong, wrong[:5]


def test_the_placeholder_check_can_fail() -> None:
    assert _fields("{n} of {gov_name:.1f} {}") == ["", "gov_name", "n"]
    assert _fields("{{literal}} {x!r}") == ["x"]


def test_the_kurdish_catalog_is_ready_for_translators(extracted) -> None:
    ckb = _catalog(CKB_PO, "ckb")
    assert str(ckb.locale) == "ckb" and ckb.num_plurals == 2
    assert {m.id for m in extracted if m.id} <= {m.id for m in ckb if m.id}


def test_every_table_header_and_label_of_the_pages_is_translated() -> None:
    """Headers and whole-cell labels are made in tables.py and the pages as plain strings and translated
    where shown (``i18n.localize_frame``): each must be a message of the Arabic catalog (listed in
    dashboards/labels.py)."""
    arabic = {m.id for m in _catalog(AR_PO, "ar") if m.id and m.string}

    def header(v: object) -> bool:
        return (isinstance(v, str) and bool(v.strip()) and (v[0].isupper() or v[0].isdigit() or v[0] == "%")
                and len(v) < 70 and "{" not in v)

    found = set()
    for path in [REPO / "dashboards" / "tables.py", *sorted((REPO / "dashboards" / "views").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                found |= {k.value for k in node.keys if isinstance(k, ast.Constant) and header(k.value)}
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "alias"
                    and node.args and isinstance(node.args[0], ast.Constant) and header(node.args[0].value)):
                found.add(node.args[0].value)
    assert {"Estimate", "Governorate", "95% CI"} <= found  # the scan sees the display tables
    assert sorted(found - arabic) == []


# --------------------------------------------------------------------------------------------------
# numbers, tables and charts for Arabic readers
# --------------------------------------------------------------------------------------------------
def test_numbers_for_arabic_readers_use_arabic_indic_digits_and_separators() -> None:
    assert i18n.format_percent(0.4213, 1, "ar") == "٤٢٫١٪"
    assert i18n.format_percent(0.4213, 1, "en") == "42.1%"
    assert i18n.format_decimal(12345.678, 1, "ar") == "١٢٬٣٤٥٫٧"
    assert i18n.format_decimal(12345.678, 0, "en") == "12,346"
    assert i18n.format_decimal(None, 1, "ar") == "–"
    assert i18n.localize_number_text("35.0–49.3%", "ar") == "٣٥٫٠–٤٩٫٣٪"
    assert i18n.localize_number_text("1,204", "ar") == "١٬٢٠٤"
    assert i18n.localize_number_text("IQG01", "ar") == "IQG01"  # codes keep their digits
    assert i18n.localize_number_text("13.1 h/day", "ar") == "١٣٫١ ساعة/يوم"  # a unit after the number
    assert i18n.localize_number_text("<0.1 pts", "ar") == "<٠٫١ نقطة"
    assert i18n.localize_number_text("Tal Afar 2 h", "ar") == "Tal Afar 2 h"
    assert i18n.localize_number_text("35.0–49.3%", "en") == "35.0–49.3%"


def test_a_display_table_in_arabic_has_arabic_headers_labels_and_numbers() -> None:
    df = pl.DataFrame({"Governorate": ["Baghdad"], "Estimate": ["42.1%"], "Status": ["suppressed"],
                       "n": [1204], "Significant (95%)": [True]})
    ar = i18n.localize_frame(df, "ar")  # a table that fits the screen: its first column on the right
    assert ar.columns == ["دالّ إحصائياً (٩٥٪)", "n", "الحالة", "التقدير", "المحافظة"]
    assert ar.row(0) == ("نعم", "١٬٢٠٤", "محجوب", "٤٢٫١٪", "Baghdad")
    wide = df.with_columns(pl.lit("x" * 150).alias("Message"), pl.lit("").alias("Note"))
    ar_wide = i18n.localize_frame(wide, "ar")  # a wider one keeps its first columns in view
    assert ar_wide.columns[:2] == ["المحافظة", "التقدير"] and ar_wide["ملاحظة"].to_list() == [""]
    assert i18n.localize_frame(df, "en") is df
    assert i18n.localize_column_config({"Estimate": 1}, "ar") == {"التقدير": 1}


def test_arabic_names_come_from_the_warehouse_columns() -> None:
    assert i18n.pick_name("Baghdad", "بغداد", "ar") == "بغداد"
    assert i18n.pick_name("Baghdad", None, "ar") == "Baghdad"
    assert i18n.pick_name("Baghdad", "بغداد", "en") == "Baghdad"
    assert i18n.name_column("ar") == "name_ar" and i18n.name_column("en") == "name_en"
    assert i18n.name_column("ar", base="sector_name") == "sector_name_ar"
    df = pl.DataFrame({"governorate_pcode": ["IQG01"], "name_en": ["Baghdad"], "name_ar": ["بغداد"],
                       "sector_name": ["Water"], "sector_name_ar": ["المياه"]})
    assert i18n.localize_names(df, lang="ar").select("name_en", "sector_name").row(0) == ("بغداد", "المياه")
    assert i18n.localize_names(df, lang="en") is df


def test_a_chart_in_arabic_reads_right_to_left() -> None:
    fig = go.Figure(go.Scatter(x=["2023", "2024"], y=[1, 2]))
    fig.update_layout(legend={"orientation": "h", "x": 0})
    i18n.localize_figure(fig, "ar")
    assert fig.layout.xaxis.autorange == "reversed"  # waves run right to left
    assert fig.layout.yaxis.side == "right"
    assert (fig.layout.legend.x, fig.layout.legend.xanchor) == (1, "right")
    assert "Noto Naskh Arabic" in fig.layout.font.family
    assert fig.layout.separators == "٫٬"
    scatter = go.Figure(go.Scatter(x=[10.0, 20.0], y=[1, 2]))
    i18n.localize_figure(scatter, "ar")
    assert scatter.layout.xaxis.autorange is None  # a numeric axis keeps its direction
    english = go.Figure(go.Scatter(x=["2023", "2024"], y=[1, 2]))
    i18n.localize_figure(english, "en")
    assert english.layout.xaxis.autorange is None and english.layout.yaxis.side is None


def test_the_page_direction_html() -> None:
    assert "document.documentElement.dir = 'rtl'" in i18n.direction_html("ar")
    assert "direction: rtl" in i18n.direction_html("ar") and "Noto Naskh Arabic" in i18n.direction_html("ar")
    assert "document.documentElement.dir = 'ltr'" in i18n.direction_html("en")
    assert "direction: rtl" not in i18n.direction_html("en")


# --------------------------------------------------------------------------------------------------
# the app: ?lang=, the switch, the role's default
# --------------------------------------------------------------------------------------------------
@pytest.fixture()
def committee_app(monkeypatch: pytest.MonkeyPatch, scratch_warehouse: Path):
    """``committee_app(lang)``: the app on the scratch warehouse, signed in as the committee user with
    ``?lang=<lang>`` in the URL (None: no parameter), not yet run."""
    def _open(lang: str | None) -> AppTest:
        monkeypatch.setattr(sys, "argv", [str(APP)])
        monkeypatch.setenv("MIZAN_WAREHOUSE", str(scratch_warehouse))
        at = sign_in(AppTest.from_file(str(APP), default_timeout=120), "committee", lang=None)
        if lang is not None:
            at.query_params[i18n.LANG_PARAM] = lang
        return at

    return _open


def _markers(at: AppTest) -> str:
    """The HTML the page injected (``st.html`` bodies, as the browser gets them)."""
    protos = [str(getattr(e, "proto", "")) for e in (*at.main, *at.sidebar)]
    return "\n".join(protos).replace('\\"', '"')


def test_lang_ar_shows_the_committee_arabic_right_to_left(committee_app) -> None:
    at = committee_app("ar").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["الصفحة الرئيسية للجنة"]
    assert at.sidebar.radio(key=i18n.SWITCH_KEY).value == "ar"
    assert any("مسجَّل الدخول باسم" in c.value for c in at.sidebar.caption)
    assert 'dir="rtl"' in _markers(at)
    assert "البيانات حتى" in "\n".join(c.value for c in at.caption)


def test_lang_en_shows_english(committee_app) -> None:
    at = committee_app("en").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Committee home"]
    assert at.sidebar.radio(key=i18n.SWITCH_KEY).value == "en"
    assert 'dir="rtl"' not in _markers(at)


def test_a_committee_member_reads_arabic_by_default_and_the_url_says_so(committee_app) -> None:
    at = committee_app(None).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["الصفحة الرئيسية للجنة"]
    assert at.query_params[i18n.LANG_PARAM] == "ar"  # a copied link opens in the same language


def test_the_switch_changes_the_language_and_the_url(committee_app) -> None:
    at = committee_app("ar").run()
    at.sidebar.radio(key=i18n.SWITCH_KEY).set_value("en").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Committee home"]
    assert at.query_params[i18n.LANG_PARAM] == "en"
    at.run()  # the choice stays for the session
    assert [t.value for t in at.title] == ["Committee home"]


def test_the_sign_in_page_has_the_switch(monkeypatch: pytest.MonkeyPatch, scratch_warehouse: Path) -> None:
    monkeypatch.setattr(sys, "argv", [str(APP)])
    monkeypatch.setenv("MIZAN_WAREHOUSE", str(scratch_warehouse))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params[i18n.LANG_PARAM] = "ar"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["ميزان — تسجيل الدخول"]
    assert {t.label for t in at.text_input} == {"اسم المستخدم", "كلمة المرور"}
    at.radio(key=i18n.SWITCH_KEY).set_value("en").run()
    assert [t.value for t in at.title] == ["mizan — sign in"]


def test_every_sector_of_the_question_bank_has_an_arabic_name() -> None:
    from data_contracts.mapping import question_sectors

    english, arabic = question_sectors(), question_sectors(lang="ar")
    assert list(arabic) == list(english) and english["roads"] == "Roads and transport"
    assert arabic["roads"] == "الطرق والنقل" and arabic["water"] == "المياه"
    assert all(re.search("[\u0600-\u06ff]", name) for name in arabic.values()), arabic


@pytest.mark.parametrize("page", sorted(p.name for p in (REPO / "dashboards" / "views").glob("*.py")))
def test_every_page_renders_in_arabic(monkeypatch: pytest.MonkeyPatch, fiscal_warehouse: Path, page: str) -> None:
    """Every page, as an admin (who sees them all), in Arabic on the scratch warehouse with the fiscal marts:
    no exception, an Arabic title, the right-to-left marker, and the messages the scratch data provokes
    (a planted row-accounting imbalance, no results-framework tables) in Arabic too."""
    monkeypatch.setattr(sys, "argv", [str(APP)])
    monkeypatch.setenv("MIZAN_WAREHOUSE", str(fiscal_warehouse))
    at = sign_in(AppTest.from_file(str(APP), default_timeout=120), "admin", lang="ar")
    at.run()
    at.switch_page(f"views/{page}").run()
    assert not at.exception, [e.value for e in at.exception]
    assert all(re.search("[\u0600-\u06ff]", e.value) for e in (*at.error, *at.warning, *at.info)), [
        e.value for e in (*at.error, *at.warning, *at.info)]
    assert at.title and re.search("[\u0600-\u06ff]", at.title[0].value), [t.value for t in at.title]
    assert 'dir="rtl"' in _markers(at)
