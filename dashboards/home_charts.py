"""Figures of the committee home page: governorate map, ranking, trend small multiples (plotly, no Streamlit).

Every function takes rows of ``reporting.rpt_governorate_estimates`` (suppression already applied: a
suppressed row has no estimate or CI) as a polars DataFrame plus the labels to print, and returns a plotly
figure. Suppressed and missing governorates are drawn without a number: grey on the map with the word
"suppressed" / "no data", a labelled empty row in the ranking, a gap in a trend.

Values are plotted as shown: proportions in percent (``scale`` 100), means in their unit (``scale`` 1).
Waves are categorical axes (``type="category"``): a wave id such as "2024" must never be read as a number.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

#: the project's simplified COD-AB 2019 governorates, Halabja drawn as IQG19 (dashboards/geo/README.md)
GEOJSON_PATH = Path(__file__).resolve().parent / "geo" / "iraq_governorates_simplified.geojson"
#: the property of each feature that holds the warehouse's p-code
FEATURE_KEY = "properties.governorate_pcode"
NO_DATA_GREY = "#d9d9d9"
#: sequential, colour-blind safe, no red/green judgement (a higher value is not always better)
COLORSCALE = "Blues"
#: ranking colours: whole 95 % CI above / below the national estimate, or not different from it
VERSUS_COLORS = {"above": "#08519c", "below": "#e6550d", "not different": "#9ecae1"}
BAND = "rgba(49,130,189,0.18)"
LINE = "#3182bd"


@dataclass(frozen=True)
class Labels:
    """Words the figures print, already translated by the page (figures never translate themselves)."""

    value: str                      # axis / colour bar title, e.g. "% of households"
    suppressed: str                 # "suppressed"
    no_data: str                    # "no data"
    national: str                   # "Iraq (national)"
    ci: str                         # "95% CI"
    n: str                          # "n"
    versus: dict[str, str]          # above / below / not different -> legend text


@lru_cache(maxsize=1)
def governorate_geojson() -> dict:
    """The shipped FeatureCollection (19 features; ``id`` and ``properties.governorate_pcode`` = p-code)."""
    return json.loads(GEOJSON_PATH.read_text(encoding="utf-8"))


def _label_point(geometry: dict) -> tuple[float, float]:
    """A point inside-ish a governorate for its label: the vertex mean of its largest ring (lon, lat)."""
    rings = geometry["coordinates"] if geometry["type"] == "Polygon" else [p[0] for p in geometry["coordinates"]]
    ring = max(rings if geometry["type"] == "MultiPolygon" else [rings[0]], key=len)
    return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)


def _fmt_ci(lo: float | None, hi: float | None, fmt: Callable[[float], str]) -> str:
    return "–" if lo is None or hi is None else f"{fmt(lo)} – {fmt(hi)}"


def governorate_map(rows: pl.DataFrame, names: dict[str, str], fmt: Callable[[float], str], labels: Labels,
                    scale: float) -> go.Figure:
    """Choropleth of one indicator and wave over the 19 governorates of the shipped boundaries.

    ``rows``: governorate rows (``governorate_pcode, status, suppression_reason, estimate, ci_lower,
    ci_upper, n_unweighted``; no IQ row); ``names``: p-code -> name to print; ``fmt`` formats a raw value
    (fraction or mean) as text; ``scale`` maps a raw value to the colour axis (100 for percent).
    Governorates with an estimate are coloured; suppressed ones and those without a row are grey and
    labelled on the map. Uses plotly's own geo projection (no tile server)."""
    gj = governorate_geojson()
    by_pcode = {r["governorate_pcode"]: r for r in rows.iter_rows(named=True)}
    shown, grey, grey_text, label_lon, label_lat, label_text = [], [], [], [], [], []
    for feature in gj["features"]:
        pcode = feature["properties"]["governorate_pcode"]
        row = by_pcode.get(pcode)
        name = names.get(pcode, feature["properties"]["name_en"])
        if row is not None and row["estimate"] is not None:
            shown.append((pcode, name, row))
            continue
        word = labels.suppressed if row is not None else labels.no_data
        reason = f" ({row['suppression_reason']})" if row is not None and row["suppression_reason"] else ""
        n_text = f" · {labels.n} = {row['n_unweighted']}" if row is not None and row["n_unweighted"] is not None else ""
        grey.append(pcode)
        grey_text.append(f"<b>{name}</b><br>{word}{reason}{n_text}")
        lon, lat = _label_point(feature["geometry"])
        label_lon.append(lon)
        label_lat.append(lat)
        label_text.append(word)
    if not label_text:  # the label trace must exist (see below); one empty label
        lon, lat = _label_point(gj["features"][0]["geometry"])
        label_lon, label_lat, label_text = [lon], [lat], [""]
    fig = go.Figure()
    # plotly.js fetches its world base map from a CDN when the FIRST trace of a geo subplot has a
    # ``locationmode`` (every choropleth has one) or a base layer is shown. The label trace (plain lon/lat)
    # goes first and every base layer is off, so the map draws offline.
    fig.add_trace(go.Scattergeo(lon=label_lon, lat=label_lat, text=label_text, mode="text", hoverinfo="skip",
                                textfont={"size": 10, "color": "#555555"}, showlegend=False, name="labels"))
    if shown:
        fig.add_trace(go.Choropleth(
            geojson=gj, featureidkey=FEATURE_KEY, locations=[p for p, _, _ in shown],
            z=[r["estimate"] * scale for _, _, r in shown], colorscale=COLORSCALE, marker_line_color="white",
            marker_line_width=0.8, colorbar={"title": {"text": labels.value}, "thickness": 12, "len": 0.8},
            text=[f"<b>{name}</b><br>{fmt(r['estimate'])}<br>{labels.ci} {_fmt_ci(r['ci_lower'], r['ci_upper'], fmt)}"
                  f"<br>{labels.n} = {r['n_unweighted']}" for _, name, r in shown],
            hovertemplate="%{text}<extra></extra>", name="estimates"))
    if grey:
        fig.add_trace(go.Choropleth(
            geojson=gj, featureidkey=FEATURE_KEY, locations=grey, z=[0] * len(grey),
            colorscale=[[0, NO_DATA_GREY], [1, NO_DATA_GREY]], showscale=False, marker_line_color="white",
            marker_line_width=0.8, text=grey_text, hovertemplate="%{text}<extra></extra>", name=labels.suppressed))
    fig.update_geos(fitbounds="locations", visible=False, projection_type="mercator", showframe=False,
                    showland=False, showocean=False, showlakes=False, showrivers=False, showcountries=False,
                    showcoastlines=False, showsubunits=False, bgcolor="rgba(0,0,0,0)")
    fig.update_layout(height=460, margin={"l": 0, "r": 0, "t": 10, "b": 0}, dragmode=False)
    return fig


def map_locations(fig: go.Figure) -> list[str]:
    """Every p-code a map figure draws (all choropleth traces), for tests and checks."""
    return [loc for t in fig.data if t.type == "choropleth" for loc in t.locations]


def ranking(rows: pl.DataFrame, names: dict[str, str], fmt: Callable[[float], str], labels: Labels,
            scale: float, national: float | None) -> go.Figure:
    """Governorates as horizontal bars (highest on top) with 95 % CI error bars, coloured by
    ``versus_national`` (whole CI above / below the national point estimate, or not different); the
    national estimate, when given (raw value), is a dotted reference line. Suppressed governorates are
    listed at the bottom as "<name> — suppressed" with no bar and no number."""
    published = rows.filter(pl.col("estimate").is_not_null()).sort("estimate", descending=True)
    hidden = rows.filter(pl.col("estimate").is_null()).sort("governorate_pcode")
    fig = go.Figure()
    for key, color in VERSUS_COLORS.items():
        part = published.filter(pl.col("versus_national").fill_null("not different") == key)
        if part.is_empty():
            continue
        est = [v * scale for v in part["estimate"]]
        fig.add_trace(go.Bar(
            orientation="h", y=[names.get(p, p) for p in part["governorate_pcode"]], x=est,
            marker_color=color, name=labels.versus[key],
            error_x={"type": "data", "symmetric": False, "color": "#444444", "thickness": 1.2,
                     "array": [hi * scale - e for hi, e in zip(part["ci_upper"], est)],
                     "arrayminus": [e - lo * scale for lo, e in zip(part["ci_lower"], est)]},
            text=[fmt(v) for v in part["estimate"]], textposition="inside", insidetextanchor="start",
            customdata=[[_fmt_ci(lo, hi, fmt), n] for lo, hi, n in
                        zip(part["ci_lower"], part["ci_upper"], part["n_unweighted"])],
            hovertemplate=f"%{{y}}: %{{text}}<br>{labels.ci} %{{customdata[0]}}<br>{labels.n} = %{{customdata[1]}}"
                          "<extra></extra>"))
    order = [names.get(p, p) for p in published["governorate_pcode"]]
    hidden_names = [f"{names.get(p, p)} — {labels.suppressed}" for p in hidden["governorate_pcode"]]
    if hidden_names:  # a category with no bar: the row is there, the number is not
        fig.add_trace(go.Scatter(x=[None] * len(hidden_names), y=hidden_names, mode="markers",
                                 showlegend=False, hoverinfo="skip", name=labels.suppressed))
    if national is not None:
        fig.add_vline(x=national * scale, line_dash="dot", line_color="#54278f",
                      annotation_text=f"{labels.national} {fmt(national)}", annotation_position="bottom right",
                      annotation_font_color="#54278f")
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=list(reversed(order + hidden_names)),
                     automargin=True)
    fig.update_xaxes(title_text=labels.value, rangemode="tozero")
    fig.update_layout(height=max(260, 24 * (len(order) + len(hidden_names)) + 110), barmode="overlay",
                      margin={"l": 10, "r": 10, "t": 40, "b": 40},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0})
    return fig


def _runs(values: Sequence[float | None]) -> list[list[int]]:
    """Indexes of the runs of consecutive non-None values."""
    runs: list[list[int]] = []
    for k, v in enumerate(values):
        if v is None:
            continue
        if runs and runs[-1][-1] == k - 1:
            runs[-1].append(k)
        else:
            runs.append([k])
    return runs


def trends(rows: pl.DataFrame, areas: Sequence[tuple[str, str]], waves: Sequence[str], wave_labels: dict[str, str],
           fmt: Callable[[float], str], labels: Labels, scale: float, columns: int = 5) -> go.Figure:
    """Small multiples, one panel per area (``areas``: (p-code, title) in panel order, national first), of
    the estimate across ``waves`` (wave ids in order; a categorical x axis labelled by ``wave_labels``) with
    its 95 % CI as a filled band. A suppressed wave has no point and no band (a gap), never a number."""
    n_rows = max(1, math.ceil(len(areas) / columns))
    fig = make_subplots(rows=n_rows, cols=columns, shared_yaxes=True, shared_xaxes=True,
                        subplot_titles=[t for _, t in areas], vertical_spacing=0.12 / max(1, n_rows - 1) + 0.04,
                        horizontal_spacing=0.02)
    categories = [wave_labels.get(w, w) for w in waves]
    for i, (pcode, title) in enumerate(areas):
        r, c = i // columns + 1, i % columns + 1
        area = {row["wave_id"]: row for row in rows.filter(pl.col("governorate_pcode") == pcode).iter_rows(named=True)}
        x, y, lo, hi, text = [], [], [], [], []
        for w in waves:
            row = area.get(w)
            x.append(wave_labels.get(w, w))
            if row is None or row["estimate"] is None:  # suppressed or not surveyed: a gap
                y.append(None), lo.append(None), hi.append(None), text.append("")
                continue
            y.append(row["estimate"] * scale)
            lo.append(row["ci_lower"] * scale)
            hi.append(row["ci_upper"] * scale)
            text.append(f"{fmt(row['estimate'])} ({labels.ci} {_fmt_ci(row['ci_lower'], row['ci_upper'], fmt)})")
        for run in _runs(hi):  # one band per run of waves with an estimate: no band across a gap
            bx = [x[k] for k in run]
            by = [hi[k] for k in run] + [lo[k] for k in reversed(run)]
            fig.add_trace(go.Scatter(x=bx + list(reversed(bx)), y=by, fill="toself", fillcolor=BAND, mode="lines",
                                     line={"width": 0}, hoverinfo="skip", showlegend=False, name=labels.ci),
                          row=r, col=c)
        color = "#54278f" if i == 0 and pcode == "IQ" else LINE
        # the CI also as whiskers: a band needs two waves, a single wave still shows its interval
        whiskers = {"type": "data", "symmetric": False, "color": color, "thickness": 1, "width": 3,
                    "array": [None if h is None else h - v for h, v in zip(hi, y)],
                    "arrayminus": [None if v is None else v - lo_ for lo_, v in zip(lo, y)]}
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", line={"color": color, "width": 2},
                                 marker={"size": 6, "color": color}, text=text, error_y=whiskers, hovertemplate=f"{title} %{{x}}: %{{text}}<extra></extra>",
                                 showlegend=False, name=title, connectgaps=False), row=r, col=c)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=categories, tickfont={"size": 10})
    fig.update_yaxes(rangemode="tozero", tickfont={"size": 10})
    fig.update_annotations(font_size=11)
    fig.update_layout(height=150 * n_rows + 60, margin={"l": 10, "r": 10, "t": 30, "b": 20})
    return fig
