"""What only a browser shows: a select box's displayed value against the chart, the trend chart's axis with a
suppressed wave, chart titles and legends inside the figure, the Data quality tiles, and a copied link that
opens the same view."""

from __future__ import annotations

import glob

import duckdb
from browser_helpers import choose, displayed, settle, sign_in


def _plots(page) -> list[dict]:
    """Per plotly chart: x-axis type and range, the svg's box, the title's, the legend's and the plot area's."""
    return page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].map(g => {
        const box = el => { if (!el) return null; const r = el.getBoundingClientRect();
                            return {x: r.x, y: r.y, r: r.right, b: r.bottom}; };
        return {type: g._fullLayout.xaxis.type, range: g._fullLayout.xaxis.range,
                categories: (g._fullLayout.xaxis._categories || []).length,
                title: g.querySelector('.gtitle') ? g.querySelector('.gtitle').textContent : null,
                svg: box(g.querySelector('svg.main-svg')), titleBox: box(g.querySelector('.gtitle')),
                legend: box(g.querySelector('.legend')), plot: box(g.querySelector('.bglayer .bg') || g.querySelector('.nsewdrag'))};
    })""")


def _snapshot(warehouse) -> str:
    return sorted(glob.glob(f"{warehouse.parent}/{warehouse.name.split('.')[0]}.snapshots/*/*.duckdb"))[-1]


def test_trend_with_a_suppressed_wave_keeps_its_wave_axis(page, dashboard, demo_warehouse):
    with duckdb.connect(_snapshot(demo_warehouse), read_only=True) as con:  # a governorate with one wave suppressed
        gov, indicator = con.sql("""
            select g.name_en, i.name_en from marts.fct_service_indicators f
            join marts.dim_governorate g using (governorate_pcode) join marts.dim_indicator i using (indicator_id)
            where f.disaggregation = 'all' and f.governorate_pcode <> 'IQ'
            group by all having bool_or(f.is_suppressed) and not bool_and(f.is_suppressed) order by 1, 2 limit 1
        """).fetchone()
    sign_in(page, dashboard, "admin", "overview")
    page.get_by_test_id("stCheckbox").filter(has_text="Include provisional waves").locator("label").click()
    settle(page)
    choose(page, "Governorate", gov)
    choose(page, "Indicator", indicator)
    assert displayed(page)["Indicator"] == indicator
    trend = _plots(page)[-1]
    assert trend["type"] == "category"
    # the axis spans its waves (positions 0 … n-1), not the year 2024 read as a number
    assert -1 < trend["range"][0] and trend["range"][1] < trend["categories"], trend


def test_spending_indicator_box_shows_the_indicator_plotted(page, dashboard):
    sign_in(page, dashboard, "admin", "service_vs_spending")
    choose(page, "Sector", "Water and sanitation")
    shown = displayed(page)
    title = _plots(page)[0]["title"]
    assert shown["Sector"] == "Water and sanitation"
    assert title.startswith(shown["Indicator"]), (shown, title)
    assert "water" in title.lower()


def test_explorer_wave_box_names_the_wave_shown(page, dashboard, demo_warehouse):
    with duckdb.connect(_snapshot(demo_warehouse), read_only=True) as con:  # a wave one indicator has, another not
        a, source, wave, b = con.sql("""
            with w as (select distinct indicator_id, source_id, wave_id from marts.fct_service_indicators)
            select ia.name_en, w.source_id, w.wave_id, ib.name_en from w
            join marts.dim_indicator ia on ia.indicator_id = w.indicator_id
            cross join marts.dim_indicator ib
            where ib.indicator_id in (select indicator_id from w)
              and not exists (select 1 from w w2 where w2.indicator_id = ib.indicator_id
                              and w2.source_id = w.source_id and w2.wave_id = w.wave_id)
            order by 1, 2, 3, 4 limit 1""").fetchone()
    sign_in(page, dashboard, "me", "indicator_explorer")
    choose(page, "Indicator", a)
    choose(page, "Source · wave", f"{source} · {wave}")
    choose(page, "Indicator", b)
    shown = displayed(page)
    assert shown["Indicator"] == b
    assert not shown["Source · wave"].startswith(f"{source} · {wave}"), shown  # the box follows the indicator
    shown_source, shown_wave = shown["Source · wave"].split("  [")[0].split(" — ")[0].split(" · ")
    assert f"wave={shown_source}%7C{shown_wave}" in page.url, (shown, page.url)


def test_chart_titles_and_legends_stay_inside_the_figure(page, dashboard):
    checked = 0
    for path in ("service_vs_spending", "indicator_explorer", "budget_execution"):
        sign_in(page, dashboard, "admin", path)
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
        for plot in _plots(page):
            svg, title, legend, area = plot["svg"], plot["titleBox"], plot["legend"], plot["plot"]
            if title:
                assert svg["x"] - 1 <= title["x"] and title["r"] <= svg["r"] + 1, ("title cut", plot)
                assert svg["y"] - 1 <= title["y"], ("title cut at the top", plot)
            if legend and area:
                assert legend["y"] >= area["b"] - 1, ("legend over the plot", plot)
                if title:
                    assert legend["y"] >= title["b"], ("legend over the title", plot)
            checked += 1
    assert checked >= 3


def test_data_quality_tiles_describe_the_last_pipeline_run(page, dashboard):
    sign_in(page, dashboard, "engineer", "data_quality")
    banner = page.get_by_text("Data as of").first.inner_text()
    tiles = {m.locator('[data-testid="stMetricLabel"]').inner_text(): m.locator('[data-testid="stMetricValue"]').inner_text()
             for m in page.locator('[data-testid="stMetric"]').all()}
    run = tiles["Last pipeline run"]
    assert run in banner, (tiles, banner)  # the run whose data are on screen, not the approval after it
    assert tiles["Duration"] != "0.0 min"


def test_a_copied_link_opens_the_same_view(page, dashboard, browser):
    sign_in(page, dashboard, "me", "indicator_explorer")
    choose(page, "Sector", "Water")
    shown, title = displayed(page), _plots(page)[0]["title"]
    link = page.url
    assert "indicator=" in link and "wave=" in link and "breakdown=" in link
    other = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    try:
        name, password = __import__("browser_helpers").TEST_USERS["me"]
        other.goto(link)
        other.get_by_label("User name").fill(name)
        other.get_by_label("Password", exact=True).fill(password)
        other.get_by_role("button", name="Sign in").click()
        other.wait_for_selector('[data-testid="stSelectbox"]', timeout=90_000)
        settle(other)
        assert displayed(other) == shown
        assert _plots(other)[0]["title"] == title
        assert other.url.split("?")[0] == link.split("?")[0]
    finally:
        other.context.close()
