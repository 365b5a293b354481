"""The committee home page (dashboards/views/home.py) on the pipeline-built demo warehouse, its reporting
models (reporting.rpt_*), the shipped governorate boundaries and the snapshot's schema version."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import duckdb
from openpyxl import load_workbook
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import home_charts
from dashboards.pages import PAGES
from pipelines.warehouse import SCHEMA_VERSION



NATIONAL = "mizan_demo_national"


@pytest.fixture(scope="module")
def approved_demo(demo_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo warehouse with the waves ``mizan demo`` approves (national 2024, firm B 2025):
    national 2025 stays provisional."""
    from pipelines.status import approve_wave

    folder = tmp_path_factory.mktemp("home_wh") / "wh"
    shutil.copytree(demo_warehouse.parent, folder, symlinks=True)
    pointer = folder / demo_warehouse.name
    approve_wave(pointer, NATIONAL, "2024", "test lead")
    approve_wave(pointer, "mizan_demo_firm_b", "2025", "test lead")
    return pointer


def _snapshot(pointer: Path) -> str:
    from pipelines import publish

    return str(publish.current_snapshot(pointer))


def _spec(at: AppTest, key: str) -> dict:
    charts = [c for c in at.get("plotly_chart") if key in c.proto.id]
    assert charts, f"no chart {key}"
    return json.loads(charts[0].proto.spec)


def _page_text(at: AppTest) -> str:
    parts = [str(e.value) for kind in ("title", "markdown", "caption", "info", "warning", "error", "subheader")
             for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value} {m.delta}" for m in at.metric]
    return "\n".join(parts)


@pytest.fixture()
def open_home(open_app):
    """``open_home(warehouse, role)``: the dashboard's default page, in English (``?lang=en``)."""
    def _open(path: Path, role: str) -> AppTest:
        at = open_app(path, role=role)
        at.query_params["lang"] = "en"
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at
    return _open


def test_home_is_the_default_page_of_every_reading_role(approved_demo, open_home):
    for role in ("committee", "me", "admin"):
        at = open_home(approved_demo, role=role)
        assert [t.value for t in at.title] == ["Committee home"], role
        assert not at.error, [e.value for e in at.error]


def test_committee_tiles_are_national_estimates_of_approved_waves(approved_demo, open_home):
    at = open_home(approved_demo, role="committee")
    tiles = {m.label: m for m in at.metric}
    # water_service_good, Iraq (national), mizan_demo_national 2024 in marts.fct_service_indicators: 0.358481…
    assert tiles["Water"].value == "35.8%"
    assert tiles["Electricity"].value == "25.7%"  # electricity_service_good 2024: 0.257375…
    assert all(m.delta in (None, "") for m in at.metric), "2024 is the first approved wave: no change to show"
    text = _page_text(at)
    assert "95% CI 34.1% – 37.7% · 2024" in text  # 0.340560 – 0.376807
    assert "provisional" not in text.lower() and "2025 (" not in text
    assert not at.toggle, "a committee session has no provisional toggle"
    waves = at.selectbox(key="home_wave_water_service_good").options
    assert not any(f"{NATIONAL} · 2025" in w for w in waves), waves


def test_provisional_wave_is_labelled_and_only_a_significant_change_is_shown(approved_demo, open_home):
    at = open_home(approved_demo, role="me")
    at.toggle(key="home_include_provisional").set_value(True).run()
    tiles = {m.label: m for m in at.metric}
    # water 2024 -> 2025 national: -3.5 points, 95 % CI -6.1 to -1.0 (significant); electricity +0.2 (not)
    assert tiles["Water"].value == "32.3%" and tiles["Water"].delta == "-3.5 points"  # ASCII minus: a down arrow
    assert tiles["Electricity"].delta in (None, "")
    text = _page_text(at)
    assert "no significant change since 2024" in text
    assert "2025 (provisional)" in text


def test_map_draws_19_governorates_and_no_suppressed_number(approved_demo, open_home, downloads):
    snapshot = _snapshot(approved_demo)
    with duckdb.connect(snapshot, read_only=True) as con:
        hidden = con.execute(
            "SELECT estimate, ci_lower, ci_upper FROM marts.fct_service_indicators WHERE indicator_id = "
            "'complaint_actioned' AND source_id = ? AND wave_id = '2024' AND governorate_pcode = 'IQG01' "
            "AND disaggregation = 'all'", [NATIONAL]).fetchone()
        governorates = {r[0] for r in con.execute(
            "SELECT governorate_pcode FROM marts.dim_governorate WHERE area_level = 'governorate'").fetchall()}
    at = open_home(approved_demo, role="committee")
    at.selectbox(key="home_indicator").set_value("complaint_actioned").run()
    assert not at.exception
    spec = _spec(at, "home_map")
    located = [loc for t in spec["data"] if t["type"] == "choropleth" for loc in t["locations"]]
    assert sorted(located) == sorted(governorates) and len(located) == 19 and "IQ" not in located
    grey = next(t for t in spec["data"] if t["type"] == "choropleth" and "IQG01" in t["locations"])
    anbar = grey["text"][grey["locations"].index("IQG01")]
    assert "suppressed" in anbar and "n = 29" in anbar  # Al-Anbar 2024: n < 30, suppressed
    assert spec["data"][0]["type"] == "scattergeo", "the label trace goes first (no CDN base map)"
    assert spec["layout"]["geo"]["fitbounds"] == "locations"
    ranking = _spec(at, "home_ranking")
    bars = [y for t in ranking["data"] if t["type"] == "bar" for y in t["y"]]
    assert "Al-Anbar" not in bars and "Al-Anbar — suppressed" in json.dumps(ranking, ensure_ascii=False)
    dump = json.dumps([spec, ranking, _spec(at, "home_trends")])
    for value in hidden:
        for form in (repr(value), f"{value * 100:.1f}%", f"{value * 100:.4f}"[:6], repr(value * 100)):
            assert form not in dump, f"suppressed value {value} shown as {form}"
    # the page's Excel and CSV: Al-Anbar 2024 with its status, reason and n, and no number
    xlsx = [d for d in downloads if d.file_name == "mizan_home_complaint_actioned.xlsx"][-1]
    rows = list(load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True))
    header = list(rows[0])
    body = [dict(zip(header, r)) for r in rows[1:] if r and r[0] == "complaint_actioned"]
    anbar_row = next(r for r in body if r["governorate_pcode"] == "IQG01" and r["wave_id"] == "2024")
    assert (anbar_row["status"], anbar_row["n_unweighted"]) == ("suppressed", 29)
    assert all(anbar_row[c] is None for c in ("estimate", "std_error", "ci_lower", "ci_upper"))
    cells = {v for r in rows for v in r if isinstance(v, float)}
    assert not cells & set(hidden)
    assert any(str(r[0]).startswith("Data as of") for r in rows if r and r[0])
    csv = [d for d in downloads if d.file_name == "mizan_home_complaint_actioned.csv"][-1]
    assert not any(repr(v) in csv.decode() for v in hidden)


def test_trend_waves_are_categories(approved_demo, open_home):
    at = open_home(approved_demo, role="me")
    at.toggle(key="home_include_provisional").set_value(True).run()
    spec = _spec(at, "home_trends")
    axes = [v for k, v in spec["layout"].items() if k.startswith("xaxis")]
    assert axes and all(a["type"] == "category" for a in axes)
    assert axes[0]["categoryarray"] == ["2024", "2025<br>(provisional)"]
    panels = [a["text"] for a in spec["layout"]["annotations"]]
    assert panels[0] == "Iraq (national)" and "Halabja" in panels


def test_arabic_names_come_from_the_warehouse(approved_demo, open_app):
    at = open_app(approved_demo, role="committee", lang=None)  # the committee reads Arabic first
    ranking = json.dumps(_spec(at, "home_ranking"), ensure_ascii=False)
    assert "بغداد" in ranking and "Baghdad" not in ranking  # marts.dim_governorate.name_ar of IQG08
    labels = [a["text"] for a in _spec(at, "home_trends")["layout"]["annotations"]]
    assert labels[0] == "العراق (على المستوى الوطني)"  # the national panel first, named as in the warehouse
    assert "حلبجة" in labels


def test_reporting_models_apply_suppression_once(approved_demo):
    with duckdb.connect(_snapshot(approved_demo), read_only=True) as con:
        baghdad = con.execute(
            "SELECT status, estimate, ci_lower, ci_upper, n_unweighted, versus_national FROM "
            "reporting.rpt_governorate_estimates WHERE indicator_id = 'water_service_good' AND source_id = ? "
            "AND wave_id = '2024' AND governorate_pcode = 'IQG08'", [NATIONAL]).fetchone()
        anbar = con.execute(
            "SELECT status, suppression_reason, estimate, std_error, ci_lower, ci_upper, is_unreliable, n_unweighted "
            "FROM reporting.rpt_governorate_estimates WHERE indicator_id = 'complaint_actioned' AND source_id = ? "
            "AND wave_id = '2024' AND governorate_pcode = 'IQG01'", [NATIONAL]).fetchone()
        tests = con.execute(
            "SELECT split_part(unique_id, '.', 3) AS test, status FROM audit.dbt_results "
            "WHERE resource_type = 'test' AND unique_id LIKE '%rpt_%'").fetchall()
        version = con.execute("SELECT schema_version FROM audit.schema_version").fetchall()
    # marts.fct_service_indicators, Baghdad 2024: 0.4471109195407106 (0.3932742716 – 0.5022170318), n 509,
    # whole CI above the national 0.358481
    assert baghdad[0] == "published" and baghdad[1] == pytest.approx(0.4471109195407106, abs=1e-12)
    assert baghdad[2:5] == (pytest.approx(0.3932742716422314, abs=1e-12), pytest.approx(0.5022170317804231, abs=1e-12), 509)
    assert baghdad[5] == "above"
    assert anbar == ("suppressed", "n < 30; effective n < 30", None, None, None, None, None, 29)
    names = {n for n, _ in tests}
    assert {"rpt_governorate_estimates_suppressed_carries_no_number", "assert_rpt_suppressed_cells_carry_no_number",
            "rpt_sector_headlines_suppressed_carries_no_number"} <= names, names
    assert all(s in ("pass", "success") for _, s in tests), tests
    assert version == [(SCHEMA_VERSION,)]


def test_shipped_boundaries_are_the_19_governorates(demo_warehouse):
    path = home_charts.GEOJSON_PATH
    assert path.stat().st_size < 300_000
    gj = json.loads(path.read_text(encoding="utf-8"))
    pcodes = [f["properties"]["governorate_pcode"] for f in gj["features"]]
    assert len(pcodes) == 19 == len(set(pcodes))
    halabja = next(f for f in gj["features"] if f["properties"]["governorate_pcode"] == "IQG19")
    assert halabja["properties"]["name_en"] == "Halabja" and halabja["properties"]["cod_ab_source"] == "IQG06Q05"
    with duckdb.connect(_snapshot(demo_warehouse), read_only=True) as con:
        warehouse = {r[0] for r in con.execute(
            "SELECT governorate_pcode FROM marts.dim_governorate WHERE area_level = 'governorate'").fetchall()}
    assert set(pcodes) == warehouse
    assert all(f["id"] == f["properties"]["governorate_pcode"] for f in gj["features"])
    readme = (path.parent / "README.md").read_text(encoding="utf-8")
    assert "COD-AB" in readme and "CC BY-IGO" in readme


@pytest.mark.parametrize("page", [None, *(f"views/{p['file']}" for p in PAGES
                                  if p["file"] != "home.py" and not p.get("any_schema"))])
def test_an_older_snapshot_gets_one_message_on_every_page(legacy_warehouse, open_app, page):
    at = open_app(legacy_warehouse, page, role="admin")
    errors = [e.value for e in at.error]
    assert errors == [f"This snapshot was built by an older version of mizan (schema 1, this dashboard needs "
                      f"{SCHEMA_VERSION}). Rebuild it with mizan run."]
    assert not at.get("plotly_chart") and not at.metric and not at.dataframe and not at.title


def test_the_users_page_works_on_an_older_snapshot(legacy_warehouse, open_app):
    at = open_app(legacy_warehouse, "views/users.py", role="admin")
    assert [t.value for t in at.title] and not at.error, [e.value for e in at.error]


def test_real_data_home(real_warehouse, open_home):
    """The real public data: nothing is approved after a run, so the committee sees no number; M&E, with
    the provisional waves, sees every governorate on the map (DTM reached all 18 COD-AB governorates)."""
    committee = open_home(real_warehouse, role="committee")
    assert not committee.metric and not committee.get("plotly_chart")
    assert any("No approved survey wave" in i.value for i in committee.info)
    me = open_home(real_warehouse, role="me")
    me.toggle(key="home_include_provisional").set_value(True).run()
    assert not me.exception, [e.value for e in me.exception]
    tiles = [c.value for c in me.caption if "95% CI" in c.value and " · " in c.value]
    assert me.metric and len(tiles) == len(me.metric) and all("(provisional)" in t for t in tiles), tiles
    located = [loc for t in _spec(me, "home_map")["data"] if t["type"] == "choropleth" for loc in t["locations"]]
    assert len(located) == 19 == len(set(located))
