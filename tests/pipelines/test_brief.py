"""`mizan brief` on a warehouse built by the real pipeline: the PDF renders to PNG pages (pdftoppm), and its
text (pdftotext) carries the snapshot id, the Arabic indicator names from the warehouse in logical order, and
no suppressed value.

The warehouse is the demo at 400 households per wave (small governorate samples, so that some governorate
estimates are suppressed), with its 2024 national wave approved as `mizan demo` does.
"""

from __future__ import annotations

import gc
import re
import shutil
import stat
import subprocess
from pathlib import Path

import duckdb
import pytest

from pipelines.brief.build import BriefError, build_brief, render_brief
from pipelines.brief.charts import fmt
from pipelines.brief.data import identify
from tests.shared_builds import once_per_session

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                                reason="poppler-utils (pdftotext, pdftoppm) not installed: .ci/run installs it")


@pytest.fixture(scope="module")
def brief_warehouse(tmp_path_factory) -> Path:
    from pipelines.cli import run_pipeline
    from pipelines.demo.generate import generate_demo
    from pipelines.status import approve_wave

    def build(folder: Path) -> Path:
        generate_demo(folder / "landing", households_per_wave=400)
        warehouse = folder / "wh" / "mizan.duckdb"
        run_pipeline(folder / "landing", warehouse)
        approve_wave(warehouse, "mizan_demo_national", "2024", "test", "the brief reads approved waves")
        gc.collect()
        return warehouse

    return once_per_session(tmp_path_factory, "brief_demo_400", build)


@pytest.fixture(scope="module")
def briefs(brief_warehouse: Path, tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("briefs")
    result = {}
    for lang in ("en", "ar"):
        pdf = out / f"brief_{lang}.pdf"
        snap = build_brief(brief_warehouse, lang, pdf)
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        layout = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        result[lang] = {"pdf": pdf, "snapshot": snap, "text": text, "layout": layout}
    return result


def _norm(text: str) -> str:
    """Arabic text compared as letters in logical order: without bidi controls, diacritics, tatweel, spaces and
    parentheses (pdftotext returns RTL brackets as their mirrored glyphs), and with repeated letters collapsed
    (pdftotext maps a letter carrying a shadda to the letter twice)."""
    text = re.sub("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", text)
    text = re.sub(r"[\u064b-\u065f\u0670\u0640\s()]", "", text)
    return re.sub(r"(.)\1+", r"\1", text)


def _query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_pages_render_to_png(briefs, lang, tmp_path):
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(briefs[lang]["pdf"]), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 6  # cover, scorecards, map and trends, budget and training, meaning, indicators
    assert all(p.stat().st_size > 2000 for p in pages)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_snapshot_id_and_data_as_of_are_printed(briefs, brief_warehouse, lang):
    snap = briefs[lang]["snapshot"]
    (name,) = _query(brief_warehouse, "SELECT snapshot_name FROM audit.snapshot")[0]
    assert snap.name == name
    assert name in briefs[lang]["text"]
    assert snap.published_at and snap.published_at[:10] in briefs[lang]["text"]


def test_arabic_indicator_names_from_the_warehouse_in_logical_order(briefs, brief_warehouse):
    text = _norm(briefs["ar"]["text"])
    names = [r[0] for r in _query(brief_warehouse, "SELECT name_ar FROM marts.fct_indicator_progress GROUP BY name_ar")]
    assert len(names) >= 3
    for name in names:
        assert _norm(name) in text, name
        assert _norm(name[::-1]) not in text  # visual (reversed) order would not match
    assert "الحالة" in briefs["ar"]["text"] or _norm("الحالة") in text


def test_english_brief_names_every_indicator(briefs, brief_warehouse):
    text = " ".join(briefs["en"]["text"].split())
    for (name,) in _query(brief_warehouse, "SELECT DISTINCT name_en FROM marts.fct_indicator_progress"):
        assert name in text, name


def test_no_suppressed_value_in_the_brief(briefs, brief_warehouse):
    """Every governorate cell the warehouse suppresses reads 'suppressed' on its governorate's line of the
    scorecard, and the estimate the survey engine computed for it (kept in fct_service_indicators for
    analysts) is not printed there."""
    suppressed = _query(brief_warehouse, """
        SELECT p.indicator_id, g.name_en, p.period, e.estimate, p.unit
        FROM marts.fct_indicator_progress p
        JOIN marts.dim_governorate g USING (governorate_pcode)
        JOIN staging.stg_survey__sources w ON w.source_id = p.source_id AND w.wave_id = p.wave_id
        JOIN marts.fct_service_indicators e ON e.indicator_id = p.indicator_id AND e.source_id = p.source_id
            AND e.wave_id = p.wave_id AND e.governorate_pcode = p.governorate_pcode AND e.disaggregation = 'all'
        WHERE p.is_suppressed AND p.period = '2024'
    """)
    assert suppressed, "the 400-household demo should suppress some governorate estimates"
    shown = {}
    for row in _query(brief_warehouse, """
            SELECT g.name_en, p.actual, p.unit FROM marts.fct_indicator_progress p
            JOIN marts.dim_governorate g USING (governorate_pcode)
            WHERE p.period = '2024' AND NOT p.is_suppressed AND p.actual IS NOT NULL"""):
        shown.setdefault(row[0], set()).add(f"{fmt(row[1], row[2])} (2024)")
    lines = briefs["en"]["layout"].splitlines()
    for _, gov_name, period, estimate, unit in suppressed:
        line = next((ln for ln in lines if ln.strip().startswith(gov_name + " ")), None)
        assert line is not None, gov_name
        assert "suppressed" in line
        value = f"{fmt(estimate, unit)} ({period})"
        if value not in shown.get(gov_name, set()):  # a published cell of the same line may read the same
            assert not re.search(r"(?<![\d.])" + re.escape(value), line), (gov_name, value)


def test_a_suppressed_row_carrying_a_number_is_refused(brief_warehouse, tmp_path):
    snap = identify(Path(brief_warehouse).resolve())
    copy = tmp_path / snap.path.name
    shutil.copy(snap.path, copy)
    copy.chmod(copy.stat().st_mode | stat.S_IWUSR)
    with duckdb.connect(str(copy)) as con:
        con.execute("UPDATE marts.fct_indicator_progress SET actual = 0.5 WHERE rowid = "
                    "(SELECT min(rowid) FROM marts.fct_indicator_progress WHERE is_suppressed)")
    with pytest.raises(BriefError, match="suppressed progress rows carry numbers"):
        render_brief(identify(copy), "en")


def test_no_snapshot_is_a_clear_error(tmp_path):
    with pytest.raises(BriefError, match="no published snapshot"):
        build_brief(tmp_path / "nothing" / "mizan.duckdb", "en", tmp_path / "b.pdf")


def test_reference_sheet_entry_shows_both_versions(brief_warehouse):
    from pipelines.brief.data import framework_entry

    snap = identify(Path(brief_warehouse).resolve()).path
    entry = framework_entry(snap, "water_service_good")
    assert (entry["framework_version"], entry["formula_version"]) == _query(
        brief_warehouse, "SELECT DISTINCT framework_version, formula_version FROM marts.fct_indicator_progress "
                         "WHERE indicator_id = 'water_service_good'")[0]
    for period, area, value in _query(brief_warehouse, "SELECT period, governorate_pcode, target_value FROM "
                                                       "raw.results_framework_targets WHERE indicator_id = 'water_service_good'"):
        assert f"{period} {area}: {value:g}" in entry["targets_text"]
    assert framework_entry(snap, "not_in_the_framework") is None
