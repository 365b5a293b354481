"""The Results framework page (AppTest): scorecard with the three statuses, IPTT downloads, training outputs,
and the brief; nothing suppressed on screen or in the downloads."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import duckdb
import openpyxl
import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from tests.dashboards.signed_in import sign_in

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
PAGE = "views/results_framework.py"


@pytest.fixture()
def page(monkeypatch, demo_warehouse):
    captured: list[dict] = []
    original = streamlit.download_button

    def spy(label, data, *args, **kwargs):
        captured.append({"label": label, "file_name": kwargs.get("file_name"), "data": bytes(data)})
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", spy)
    monkeypatch.setattr(sys, "argv", [str(APP)])
    monkeypatch.setenv("MIZAN_WAREHOUSE", str(demo_warehouse))
    at = sign_in(AppTest.from_file(str(APP), default_timeout=120), "me")  # M&E: may include provisional waves
    at.run()
    at.switch_page(PAGE).run()
    return at, captured


def test_scorecard_iptt_and_training_render(page, demo_warehouse):
    at, downloads = page
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Results framework"]
    assert [m.label for m in at.metric] == ["✅ Target met", "❌ Not met", "⚖️ Too close to call"]
    frames = [d.value for d in at.dataframe]
    national = frames[0]
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        names = {r[0] for r in con.execute("SELECT name_en FROM raw.results_framework_indicators").fetchall()}
    assert set(national["Indicator"]) == names
    # the demo run approves nothing: survey rows are provisional and left out by default
    survey = national[national["Indicator"].str.contains("rated good")]
    assert survey["Actual"].isna().all() and set(survey["Status"]) == {"provisional wave left out"}
    assert any("Trained" in f.columns for f in frames)
    files = {d["file_name"]: d["data"] for d in downloads}
    csv_name = next(n for n in files if n.endswith(".csv"))
    xlsx_name = next(n for n in files if n.endswith(".xlsx"))
    header = files[csv_name].decode("utf-8").splitlines()[0]
    assert "Framework version" in header and "Formula version" in header
    sheet = openpyxl.load_workbook(io.BytesIO(files[xlsx_name])).active
    assert sheet.max_row == files[csv_name].decode("utf-8").count("\n")  # header + the same rows


def test_including_provisional_waves_shows_survey_statuses(page):
    at, _ = page
    at.toggle(key="rf_provisional").set_value(True).run()
    assert not at.exception
    national = at.dataframe[0].value
    survey = national[national["Indicator"].str.contains("rated good")]
    assert survey["Actual"].notna().all()
    assert set(survey["Status"]) <= {"✅ Target met", "❌ Not met", "⚖️ Too close to call"}


def test_the_brief_is_offered_for_download(page):
    at, downloads = page
    at.radio(key="rf_brief_lang").set_value("en").run()
    at.button(key="rf_brief_build").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    pdf = [d for d in downloads if str(d["file_name"]).endswith(".pdf")]
    assert pdf and pdf[-1]["data"].startswith(b"%PDF")
