"""Every page of every role, signed in through the real form, renders in Chromium in English and in Arabic:
no Streamlit exception box, no browser console error; a screenshot of each page and language."""

from __future__ import annotations

import pytest
from browser_helpers import SCREENSHOTS, go_to, pages_for, sign_in, url_path, watch_errors

from pipelines.users import ROLES

LANGUAGES = ("en", "ar")


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_role_renders_without_an_error(page, dashboard, role, lang):
    errors = watch_errors(page)
    sign_in(page, dashboard, role, query=f"lang={lang}")
    nav = page.locator('[data-testid="stSidebarNav"] a')
    hrefs = {nav.nth(i).get_attribute("href") for i in range(nav.count())}
    expected = pages_for(role)
    assert hrefs == {f"{dashboard}/{url_path(spec)}" for spec in expected}, "navigation is not the role's pages"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for spec in expected:
        go_to(page, dashboard, spec)
        shot = SCREENSHOTS / f"{role}-{url_path(spec) or 'home'}-{lang}.png"
        page.screenshot(path=str(shot), full_page=True)
        exceptions = page.locator('[data-testid="stException"]').all_inner_texts()
        if exceptions:
            problems.append(f"{spec['title']} ({lang}): exception {exceptions[0][:300]}")
        if errors:
            problems.append(f"{spec['title']} ({lang}): {errors[:3]}")
            errors.clear()
        assert f"lang={lang}" in page.url, f"{spec['title']}: the language left the URL ({page.url})"
    print(f"screenshots: {SCREENSHOTS}")
    assert not problems, "\n".join(problems)


def test_arabic_pages_are_right_to_left_and_english_pages_are_not(page, dashboard):
    sign_in(page, dashboard, "committee", query="lang=ar")
    page.wait_for_function("document.documentElement.dir === 'rtl'", timeout=30_000)
    assert page.evaluate("document.documentElement.lang") == "ar"
    sign_in(page, dashboard, "admin", query="lang=en")
    page.wait_for_timeout(1_000)
    assert page.evaluate("document.documentElement.dir") != "rtl"


def test_the_committee_home_map_draws_the_19_governorates(page, dashboard):
    sign_in(page, dashboard, "committee", query="lang=ar")
    locations = """() => {
        for (const el of document.querySelectorAll('.js-plotly-plot')) {
            const trace = (el.data || []).find(t => t.type === 'choropleth');
            if (trace) return trace.locations;
        }
        return null;
    }"""
    page.wait_for_function(f"({locations})() !== null", timeout=60_000)
    drawn = page.evaluate(locations)
    assert len(drawn) == 19 and len(set(drawn)) == 19  # 18 COD-AB governorates and Halabja
    assert "IQG19" in drawn and "IQ" not in drawn  # Halabja its own unit; the national row is never a map unit
