"""Home — the steering committee's first screen: headline tiles per sector, a governorate map, a ranking
with 95 % CIs and trend small multiples. Numbers first; the method is in "About these numbers".

Reads only the reporting models (``reporting.rpt_*``, dashboards/reporting.py), where suppression is
applied once: a suppressed cell reaches this page without a number. Approved waves only for a role
without the provisional permission (enforced by dashboards/access.py); a role with it may add the
provisional waves, each labelled. A change between waves is called a change only when significant.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from dashboards import access, auth, downloads, home_charts, reporting, ui
from dashboards.i18n import _, current_language

path = ui.current_warehouse()
arabic = current_language() == "ar"
# sector display names in the page's language, from the snapshot's dim_indicator (question_bank.yaml `sectors:`)
_sectors = ui.load("indicators", path)
sector_names = ({r["sector"]: r["sector_name_ar"] for r in _sectors.iter_rows(named=True) if r.get("sector_name_ar")}
                if arabic and "sector_name_ar" in _sectors.columns else {})


def _sector(r: dict) -> str:
    return sector_names.get(r["sector"]) or r["sector_name"] or r["sector"]

st.title(_("Committee home"))

if not ui.require_tables(path, reporting.REPORTING_TABLES, _("the committee home page")):
    st.stop()

include_provisional = auth.can(access.PROVISIONAL) and st.toggle(
    _("Include provisional waves"), value=False, key="home_include_provisional",
    help=_("Waves the M&E lead has not approved. Off: what the steering committee sees (approved waves only)."))
approved_only = not include_provisional


def _name(row: dict[str, Any], en: str, ar: str) -> str:
    """The warehouse's Arabic name in Arabic (when it has one), else the English one."""
    return (row.get(ar) if arabic and row.get(ar) else row.get(en)) or ""


def _fmt(value: float | None, indicator_type: str, unit: str | None) -> str:
    """A value as shown: proportions (fractions) in percent with one decimal, means with their unit."""
    if value is None:
        return "–"
    if indicator_type == "proportion":
        return f"{value * 100:.1f}%"
    return f"{value:.1f} {unit or ''}".strip()


def _fmt_change(value: float, indicator_type: str, unit: str | None) -> str:
    """A change as st.metric's delta: its arrow follows a leading ASCII '-' (not the typographic minus)."""
    sign = "+" if value > 0 else "-"
    if indicator_type == "proportion":
        return _("{sign}{value:.1f} points").format(sign=sign, value=abs(value) * 100)
    return f"{sign}{abs(value):.1f} {unit or ''}".strip()


def _wave_text(wave_id: str, is_approved: bool) -> str:
    return str(wave_id) if is_approved else _("{wave} (provisional)").format(wave=wave_id)


# ---- headline tiles ------------------------------------------------------------------------------------
headlines = ui.load("sector_headlines", path, approved_only=approved_only)
if headlines.is_empty():
    st.info(_("No approved survey wave has a national estimate yet. The M&E lead approves waves "
              "(`mizan approve`, or the Wave approval page)."))
else:
    cols = st.columns(min(4, headlines.height))
    for i, h in enumerate(headlines.iter_rows(named=True)):
        kind, unit = h["indicator_type"], h["unit"]
        delta, delta_color = None, "off"
        if h["change_is_significant"]:
            delta = _fmt_change(h["change"], kind, unit)
            delta_color = {"higher_is_better": "normal", "lower_is_better": "inverse"}.get(h["direction"] or "", "off")
        with cols[i % len(cols)]:
            st.metric(
                label=_sector(h), value=_fmt(h["estimate"], kind, unit), delta=delta,
                delta_color=delta_color, border=True,
                help=_name(h, "indicator_name_en", "indicator_name_ar"))
            lines = [_name(h, "indicator_name_en", "indicator_name_ar"),
                     _("95% CI {lo} – {hi} · {wave}").format(
                         lo=_fmt(h["ci_lower"], kind, unit), hi=_fmt(h["ci_upper"], kind, unit),
                         wave=_wave_text(h["wave_id"], h["is_approved"]))]
            if h["previous_wave_id"] is not None and h["change_is_significant"] is False:
                lines.append(_("no significant change since {wave}").format(wave=h["previous_wave_id"]))
            elif h["previous_wave_id"] is not None and h["change_not_comparable_reason"]:
                lines.append(_("no comparison with {wave}: {reason}").format(
                    wave=h["previous_wave_id"], reason=h["change_not_comparable_reason"]))
            elif h["change_is_significant"]:
                lines.append(_("significant change since {wave}").format(wave=h["previous_wave_id"]))
            st.caption("  \n".join(lines))
    st.caption(_("National estimates (Iraq as a whole) of surveys that reached every governorate, with their 95% CI. "
                 "A change since the previous wave is shown only when it is statistically significant."))

# ---- selectors --------------------------------------------------------------------------------------
options = ui.load("home_indicators", path, approved_only=approved_only)
if options.is_empty():
    st.info(_("No estimates to show for the waves you may see."))
    st.stop()
indicators = options.unique(subset="indicator_id", keep="first", maintain_order=True)
ind_names = {r["indicator_id"]: f"{_sector(r)} — {_name(r, 'indicator_name_en', 'indicator_name_ar')}"
             for r in indicators.iter_rows(named=True)}
default_indicator = headlines["indicator_id"][0] if not headlines.is_empty() else indicators["indicator_id"][0]
left, right = st.columns([3, 2])
with left:
    ids = indicators["indicator_id"].to_list()
    indicator_id = st.selectbox(_("Indicator"), ids, index=ids.index(default_indicator) if default_indicator in ids else 0,
                                format_func=ind_names.get, key="home_indicator")
waves = options.filter(pl.col("indicator_id") == indicator_id)
wave_keys = [f"{r['source_id']}|{r['wave_id']}" for r in waves.iter_rows(named=True)]
wave_rows = {k: r for k, r in zip(wave_keys, waves.iter_rows(named=True))}
# default: the latest wave of a survey with national estimates, else the latest wave
ranked = waves.with_row_index("i").sort(["has_national_estimates", "fieldwork_start", "wave_order"],
                                        descending=True, nulls_last=True)
default_wave = wave_keys[ranked["i"][0]]
with right:
    wave_key = st.selectbox(
        _("Survey · wave"), wave_keys, index=wave_keys.index(default_wave), key=f"home_wave_{indicator_id}",
        format_func=lambda k: f"{wave_rows[k]['source_id']} · {_wave_text(wave_rows[k]['wave_id'], wave_rows[k]['is_approved'])}")
wave = wave_rows[wave_key]
if not wave["is_approved"]:
    st.warning(_("Wave {wave} of {source} is provisional: the M&E lead has not approved it.").format(
        wave=wave["wave_id"], source=wave["source_id"]), icon=":material/pending:")

estimates = ui.load("home_estimates", path, indicator_id=indicator_id, approved_only=approved_only)
kind, unit = str(estimates["indicator_type"][0]), estimates["unit"][0]
scale = 100.0 if kind == "proportion" else 1.0
fmt = lambda v: _fmt(v, kind, unit)  # noqa: E731
names = {r["governorate_pcode"]: _name(r, "governorate_name_en", "governorate_name_ar")
         for r in estimates.unique(subset="governorate_pcode").iter_rows(named=True)}
labels = home_charts.Labels(
    value=_("% of respondents") if kind == "proportion" else (unit or _("mean")),
    suppressed=_("suppressed"), no_data=_("no data"), national=_("Iraq (national)"), ci=_("95% CI"), n=_("n"),
    versus={"above": _("above the national estimate"), "below": _("below the national estimate"),
            "not different": _("not different from the national estimate")})
this_wave = estimates.filter((pl.col("source_id") == wave["source_id"]) & (pl.col("wave_id") == wave["wave_id"]))
governorates = this_wave.filter(pl.col("area_level") == "governorate")
national_row = this_wave.filter(pl.col("area_level") == "national")
national = national_row["estimate"][0] if national_row.height else None
if this_wave["is_synthetic"].any():
    st.caption(_("SYNTHETIC demo data — generated for demonstration, not survey results."))
if wave["coverage"]:
    st.caption(_("This survey covers only part of a governorate: {coverage}.").format(coverage=wave["coverage"]))

# ---- map and ranking -----------------------------------------------------------------------------------
map_col, rank_col = st.columns([1, 1])
with map_col:
    st.subheader(_("Governorates"))
    st.plotly_chart(home_charts.governorate_map(governorates, names, fmt, labels, scale),
                    width="stretch", key="home_map", config=downloads.png_config(f"home_map_{indicator_id}"))
    st.caption(_("Grey: suppressed (too few respondents to publish) or no data (not surveyed)."))
with rank_col:
    st.subheader(_("Ranking"))
    if national is not None:
        st.markdown(_("**{national}: {value}** (95% CI {lo} – {hi})").format(
            national=labels.national, value=fmt(national), lo=fmt(national_row["ci_lower"][0]),
            hi=fmt(national_row["ci_upper"][0])))
    st.plotly_chart(home_charts.ranking(governorates, names, fmt, labels, scale, national),
                    width="stretch", key="home_ranking", config=downloads.png_config(f"home_ranking_{indicator_id}"))
    if national is not None:
        st.caption(_("Dark blue: the governorate's whole 95% CI lies above the national estimate; orange: below it; "
                     "light blue: not significantly different. Each governorate is compared with the national "
                     "estimate on its own (not adjusted for comparing many governorates)."))
    else:
        st.caption(_("This survey did not reach every governorate, so there is no national estimate to compare with; "
                     "bars show each governorate's estimate with its 95% CI."))

# ---- trends ----------------------------------------------------------------------------------------
st.subheader(_("Trends across waves"))
source_rows = estimates.filter(pl.col("source_id") == wave["source_id"])
wave_order = (source_rows.select("wave_id", "wave_order", "is_approved").unique()
              .sort("wave_order"))
wave_ids = wave_order["wave_id"].to_list()
# two lines under a small panel: "2025" over "(provisional)"
wave_labels = {w: w if a else _("{wave}<br>(provisional)").format(wave=w)
               for w, a in wave_order.select("wave_id", "is_approved").iter_rows()}
areas = [(p, names.get(p, p)) for p in
         source_rows.select("governorate_pcode", "area_level").unique()
         .sort(["area_level", "governorate_pcode"], descending=[True, False])["governorate_pcode"].to_list()]
if len(wave_ids) < 2:
    st.caption(_("Only one wave of this survey so far: each panel shows its estimate with the 95% CI; "
                 "the trend appears with the next wave."))
st.plotly_chart(home_charts.trends(source_rows, areas, wave_ids, wave_labels, fmt, labels, scale),
                width="stretch", key="home_trends", config=downloads.png_config(f"home_trends_{indicator_id}"))
st.caption(_("Shaded band: 95% CI. A suppressed wave is left out (a gap), never drawn as a number."))
# the numbers behind the map, ranking and trends: every area of every wave shown, as published (fractions
# for proportions), a suppressed cell with its status and reason and no number
downloads.download_buttons(
    estimates.with_columns((pl.col("status") == "suppressed").alias("is_suppressed")).select(
        "indicator_id", "indicator_name_en", "source_id", "wave_id", "approval_status", "area_level",
        "governorate_pcode", "governorate_name_en", "status", "suppression_reason", "estimate", "std_error",
        "ci_lower", "ci_upper", "is_unreliable", "n_unweighted", "versus_national", "is_synthetic"),
    f"home_{indicator_id}", key="home_download", rules_text=ui.estimation_rules(path).get("rule_text", ""),
    as_of=ui.data_as_of_text(ui.snapshot_identity(path)))

# ---- method ----------------------------------------------------------------------------------------
with st.expander(_("About these numbers")):
    st.markdown(_(
        "- **Estimates** are design-based: survey weights, strata and clusters, with a 95% confidence interval "
        "(CI): the range that holds the true value with 95% confidence.\n"
        "- **National estimate** (Iraq as a whole) exists only for a survey that reached every governorate.\n"
        "- **Headline tiles**: per sector, the first indicator of the question bank that has a published national "
        "estimate in the latest wave shown. A change since the previous wave is shown only when its 95% CI "
        "excludes zero (statistically significant); otherwise the tile says there is no significant change.\n"
        "- **Ranking**: a governorate is marked above (below) the national estimate when its whole 95% CI lies "
        "above (below) the national point estimate. The governorate is part of the national estimate, so this is "
        "a close, slightly conservative reading of the difference; it is not adjusted for comparing many "
        "governorates, so treat a single marked governorate with care.\n"
        "- **Suppressed** cells (too few respondents, or too few effective respondents) carry no number anywhere: "
        "grey on the map, no bar in the ranking, a gap in the trends.\n"
        "- **Waves**: the steering committee sees waves approved by the M&E lead only."))
    ui.rules_caption(path)
    st.caption(_("Boundaries: OCHA COD-AB 2019 (CSO Iraq, ITOS, OCHA; CC BY-IGO), simplified by mizan; Halabja drawn "
                 "from its COD-AB district. Boundaries do not imply official endorsement."))
