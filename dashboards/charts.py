"""Plotly figures for the dashboard (pure functions of polars frames; no Streamlit).

Values are passed to plotly as plain lists. Suppressed cells arrive with NULL estimates (see
queries.py) and are drawn as a labelled grey marker at zero, never as a bar.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import polars as pl

from dashboards import i18n
from dashboards import tables as T
from dashboards.i18n import _

BLUE = "#2b6cb0"
AMBER = "#dd8a2b"
GREY = "#8a8a8a"
#: National estimates (Iraq as a whole): a colour of their own, never one of the governorates'.
NATIONAL = "#553c9a"
NO_DATA_BG = "#e6e6e6"


#: characters per title line before it wraps (a title longer than the chart is cut by plotly, not wrapped)
TITLE_WRAP = 70
#: pixels per legend row / title line (font 12-16 px)
_ROW_PX = 21


def wrap_title(title: str, width: int = TITLE_WRAP) -> str:
    """``title`` broken into lines of at most ``width`` characters (plotly's ``<br>``): between its parts
    (" — " separated; the dash starts the next line), and inside a part only when that part alone is too long
    (at spaces)."""
    pieces: list[str] = []
    for n, part in enumerate(str(title).split(" — ")):
        words = part.split(" ")
        chunk = ("— " if n else "") + words[0]
        for word in words[1:]:
            if len(chunk) + 1 + len(word) > width:
                pieces.append(chunk)
                chunk = word
            else:
                chunk += " " + word
        pieces.append(chunk)
    lines = [pieces[0]]
    for piece in pieces[1:]:
        if len(lines[-1]) + 1 + len(piece) <= width:
            lines[-1] += " " + piece
        else:
            lines.append(piece)
    return "<br>".join(lines)


def frame(fig: go.Figure, title: str = "", height: int = 380, legend: bool = True) -> go.Figure:
    """Lay out ``fig`` so nothing overlaps or is cut: the title wrapped (``wrap_title``) at the top left with
    room for every line; the legend, one entry per row, *below* the plot (its own band at the bottom, under
    the x-axis title, so it never covers a bar, a label or the title); axes grow their margins for long tick
    labels (``automargin``). ``height``: the plot area in px, margins added to it. Returns ``fig``."""
    entries = sum(1 for t in fig.data if t.showlegend is not False and t.name) if legend else 0
    title_lines = title.count("<br>") + 1 if title else 0
    top = 20 + (title_lines * _ROW_PX + 10 if title else 0)
    bottom = 50 + (entries * _ROW_PX + 10 if entries else 0)
    total = height + top + bottom
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "xref": "paper", "y": 1, "yanchor": "bottom",
               "yref": "paper", "pad": {"b": 8}, "font": {"size": 15}} if title else None,
        height=total,
        margin={"l": 10, "r": 20, "t": top, "b": bottom},
        showlegend=bool(entries),
        legend={"orientation": "v", "yref": "container", "y": 4 / total, "yanchor": "bottom", "x": 0,
                "xanchor": "left", "xref": "paper", "traceorder": "normal"},
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def wave_axis(categories: list[str], title: str = "wave") -> dict[str, Any]:
    """An x axis of waves: categorical, in the given order. Wave ids such as "2024" are numbers to plotly
    unless the axis says otherwise; anything placed on it (annotations) goes by *position* in
    ``categories`` (``categories.index(label)``), since plotly reads a number-like string there as a number."""
    return {"title": title, "type": "category", "categoryorder": "array", "categoryarray": list(categories)}


def _scale(kind: str | None, unit: str | None) -> float:
    return 100.0 if T.is_proportion(kind, unit) else 1.0


def _axis_title(kind: str | None, unit: str | None) -> str:
    if T.is_proportion(kind, unit):
        return _("percent (95% CI)")
    return _("{unit} (95% CI)").format(unit=unit or _("value"))


def _first(df: pl.DataFrame, col: str) -> Any:
    return df[col][0] if col in df.columns and df.height else None


def _r(v: float) -> float:
    """Round away float noise (0.58 * 100 = 57.99999999999999) before it reaches the chart."""
    return round(v, 6)


def _err(est: Any, lo: Any, hi: Any, scale: float) -> tuple[float, float]:
    if est is None or lo is None or hi is None:
        return 0.0, 0.0
    return _r(max(hi - est, 0.0) * scale), _r(max(est - lo, 0.0) * scale)


def indicator_bars(df: pl.DataFrame, title: str = "") -> go.Figure:
    """Horizontal bars per governorate (x group) with CI error bars, and the national estimate
    (Iraq as a whole) as a reference of its own: purple bars at the top, apart from the
    governorates (never ranked among them), and, without a breakdown, a dotted vertical line at
    the national estimate.

    Unreliable cells: amber hatched bars. Suppressed cells: grey x at zero labelled
    "suppressed (reason)", no bar. A source covering only part of a governorate labels its bar
    with the area ("Ninewa — Tal Afar city only").
    """
    df = T.mask_suppressed(df)
    kind, unit = _first(df, "indicator_type"), _first(df, "unit")
    scale = _scale(kind, unit)
    rows = []
    for r in df.iter_rows(named=True):
        label = T.area_name(r)
        if r.get("disaggregation") not in (None, "all"):
            label = f"{label} · {_(T.disaggregation_label(r.get('disaggregation'), r.get('disaggregation_value')))}"
        rows.append({**r, "label": label, "national": T.is_national(r)})
    published = sorted(
        (r for r in rows if not r["is_suppressed"] and r["estimate"] is not None and not r["national"]),
        key=lambda r: r["estimate"],
    )
    hidden = [r for r in rows if (r["is_suppressed"] or r["estimate"] is None)]
    national = [r for r in rows if r["national"] and not r["is_suppressed"] and r["estimate"] is not None]

    def bar(part: list[dict[str, Any]], name: str, color: str, pattern: str, unreliable_text: bool) -> go.Bar:
        errs = [_err(r["estimate"], r["ci_lower"], r["ci_upper"], scale) for r in part]
        return go.Bar(
            x=[_r(r["estimate"] * scale) for r in part],
            y=[r["label"] for r in part],
            orientation="h",
            name=name,
            marker={"color": color, "pattern": {"shape": pattern}},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [e[0] for e in errs],
                "arrayminus": [e[1] for e in errs],
                "color": "#333333",
                "thickness": 1.2,
            },
            text=[
                i18n.localize_number_text(T.fmt_value(r["estimate"], kind, unit))
                + (_(" unreliable") if unreliable_text and r.get("is_unreliable") else "")
                for r in part
            ],
            textposition="inside",
            insidetextanchor="start",
            customdata=[
                [i18n.localize_number_text(T.fmt_ci(r["ci_lower"], r["ci_upper"], kind, unit)), r.get("n_unweighted")]
                for r in part
            ],
            hovertemplate="%{y}: %{text}<br>" + _("95% CI") + " %{customdata[0]}<br>n = %{customdata[1]}<extra></extra>",
        )

    fig = go.Figure()
    for unreliable, name, color, pattern in (
        (False, _("estimate (95% CI)"), BLUE, ""),
        (True, _("unreliable: wide CI"), AMBER, "/"),
    ):
        part = [r for r in published if bool(r.get("is_unreliable")) == unreliable]
        if part:
            fig.add_trace(bar(part, name, color, pattern, unreliable))
    if national:
        fig.add_trace(bar(national, _("{area} (95% CI)").format(area=_(T.NATIONAL_LABEL)), NATIONAL, "", True))
    if hidden:
        fig.add_trace(
            go.Scatter(
                x=[0] * len(hidden),
                y=[r["label"] for r in hidden],
                mode="markers+text",
                name=_("suppressed (not shown)"),
                marker={"symbol": "x", "color": GREY, "size": 11}, cliponaxis=False,
                text=[T.status_label(True, r.get("suppression_reason"), False) for r in hidden],
                textposition="middle right",
                textfont={"color": "#555555"},
                hovertemplate="%{y}: %{text}<extra></extra>",
            )
        )
    hidden_gov = [r["label"] for r in hidden if not r["national"]]
    hidden_nat = [r["label"] for r in hidden if r["national"]]
    # plotly draws the first category at the bottom: national rows go last, i.e. on top
    order = hidden_gov + [r["label"] for r in published] + hidden_nat + [r["label"] for r in national]
    if len(national) == 1 and all(r.get("disaggregation") in (None, "all") for r in national):
        ref = national[0]
        fig.add_vline(
            x=_r(ref["estimate"] * scale), line={"color": NATIONAL, "dash": "dot", "width": 1.5},
            annotation_text=f"{_(T.NATIONAL_LABEL)}: {i18n.localize_number_text(T.fmt_value(ref['estimate'], kind, unit))}",
            annotation_position="top", annotation_font={"color": NATIONAL, "size": 11},
        )
    x_axis: dict[str, Any] = {"title": _axis_title(kind, unit), "zeroline": True}
    if T.is_proportion(kind, unit):
        x_axis["range"] = [0, 100]
    fig.update_layout(
        barmode="overlay",
        xaxis=x_axis,
        yaxis={"categoryorder": "array", "categoryarray": order, "title": None},
    )
    return i18n.localize_figure(frame(fig, wrap_title(title) if title else "", height=max(200, 30 + 34 * len(order))))


#: Segment colours of an answer scale, best first (blue) to worst (orange): colour-blind safe,
#: no red/green judgement.
_SCALE_COLORS = ["#2b6cb0", "#63b3ed", "#cbd5e0", "#f6ad55", "#c05621", "#7b341e", "#4a5568"]


def _scale_colors(n: int) -> list[str]:
    if n <= 1:
        return _SCALE_COLORS[:1]
    if n == 2:
        return [_SCALE_COLORS[0], _SCALE_COLORS[4]]
    if n == 3:
        return [_SCALE_COLORS[0], _SCALE_COLORS[2], _SCALE_COLORS[4]]
    if n == 4:
        return [_SCALE_COLORS[0], _SCALE_COLORS[1], _SCALE_COLORS[3], _SCALE_COLORS[4]]
    return (_SCALE_COLORS + [GREY] * n)[:n]


def distribution_bars(df: pl.DataFrame, title: str = "") -> go.Figure:
    """100 % stacked horizontal bars of an answer distribution, one bar per area (x group), the
    answers in scale order (first code on the left). The national distribution (Iraq as a
    whole) is the top bar, apart from the governorates. A suppressed distribution has no bar and
    no share at all: a grey x labelled "suppressed (reason)"."""
    domains = T.distribution_domains(df)
    choices = T.distribution_choices(df)
    labels = []
    for d in domains:
        label = T.area_name(d)
        if d.get("disaggregation") not in (None, "all"):
            label = f"{label} · {_(T.disaggregation_label(d.get('disaggregation'), d.get('disaggregation_value')))}"
        labels.append(label)
    shown = [(d, lab) for d, lab in zip(domains, labels, strict=True) if not d["is_suppressed"]]
    hidden = [(d, lab) for d, lab in zip(domains, labels, strict=True) if d["is_suppressed"]]
    fig = go.Figure()
    for (code, _order), color in zip(choices, _scale_colors(len(choices)), strict=True):
        xs, ys, texts, cis = [], [], [], []
        for d, lab in shown:
            share = next((s for s in d["shares"] if s.get("choice_code") == code), None)
            if share is None or share.get("estimate") is None:
                continue
            xs.append(_r(share["estimate"] * 100))
            ys.append(lab)
            texts.append(T.fmt_pct(share["estimate"]))
            cis.append(T.fmt_ci(share.get("ci_lower"), share.get("ci_upper"), "proportion"))
        fig.add_trace(
            go.Bar(
                x=xs, y=ys, orientation="h", name=T.choice_label(code), marker={"color": color},
                text=texts, textposition="inside", insidetextanchor="middle", customdata=cis,
                hovertemplate=f"%{{y}} — {_(T.choice_label(code))}: %{{text}}<br>{_('95% CI')} %{{customdata}}<extra></extra>",
            )
        )
    if hidden:
        fig.add_trace(
            go.Scatter(
                x=[0] * len(hidden), y=[lab for _, lab in hidden], mode="markers+text",
                name=_("suppressed (not shown)"), marker={"symbol": "x", "color": GREY, "size": 11}, cliponaxis=False,
                text=[T.status_label(True, d.get("suppression_reason"), False) for d, _ in hidden],
                textposition="middle right", textfont={"color": "#555555"},
                hovertemplate="%{y}: %{text}<extra></extra>",
            )
        )
    nat = [lab for d, lab in zip(domains, labels, strict=True) if T.is_national(d)]
    gov = [lab for d, lab in zip(domains, labels, strict=True) if not T.is_national(d)]
    order = list(reversed(gov)) + list(reversed(nat))  # first category at the bottom: national on top
    fig.update_layout(
        barmode="stack",
        xaxis={"title": _("share of answers, percent"), "range": [0, 100]},
        yaxis={"categoryorder": "array", "categoryarray": order, "title": None},
    )
    return i18n.localize_figure(frame(fig, wrap_title(title) if title else "", height=max(200, 30 + 30 * len(order))))


def _estimate_line(
    fig: go.Figure, by_wave: dict[str, dict], wave_ids: list[str], x: list[str], scale: float, area: str,
    name: str, line: dict, marker: dict | None, annotation_y: int, categories: list[str],
) -> None:
    """One area's estimates across waves as a line with 95% CI error bars; a suppressed wave has no
    point, only a note naming the area and the reason (at the bottom, ``annotation_y`` 0, or top, 1),
    placed at the wave's position in ``categories`` (the x axis, ``wave_axis``)."""
    ys, plus, minus = [], [], []
    for w, label in zip(wave_ids, x, strict=True):
        r = by_wave.get(w)
        est = None if r is None or r["is_suppressed"] else r["estimate"]
        ys.append(None if est is None else _r(est * scale))
        e = (0.0, 0.0) if est is None else _err(est, r["ci_lower"], r["ci_upper"], scale)
        plus.append(e[0])
        minus.append(e[1])
        if r is not None and r["is_suppressed"]:
            fig.add_annotation(
                x=categories.index(label), y=annotation_y, yref="paper", yanchor="bottom" if annotation_y == 0 else "top",
                showarrow=False, text=f"{area}: {_(T.status_label(True, r.get('suppression_reason'), False))}",
                font={"color": "#555555", "size": 11},
            )
    fig.add_trace(
        go.Scatter(
            x=x, y=ys, mode="lines+markers", name=name,
            error_y={"type": "data", "symmetric": False, "array": plus, "arrayminus": minus},
            line=line, connectgaps=False, **({"marker": marker} if marker else {}),
        )
    )


def trend_figure(
    gov_rows: pl.DataFrame, medians: pl.DataFrame, waves: pl.DataFrame, gov_name: str,
    synthetic_sources: set[str], kind: str | None, unit: str | None,
    coverage: dict[str, str] | None = None, national_rows: pl.DataFrame | None = None,
) -> go.Figure:
    """Estimate per wave for one governorate (CI error bars), the median across governorates
    and, for a source with national estimates, the national estimate (Iraq as a whole, CI error
    bars) as a line of its own.

    ``national_rows``: service_estimates rows of the indicator for IQ (disaggregation all).

    ``gov_rows``: service_estimates rows of one indicator and governorate (disaggregation all);
    ``medians``: wave_medians() of that indicator; ``waves``: source_id, wave_id, wave_order and
    optionally is_approved (a wave not approved is labelled "<wave> (provisional)" on the x axis
    and its source's legend entries say "incl. provisional");
    ``coverage``: source_id -> coverage text for sources that cover only part of a governorate
    (their line is named by the area, e.g. "Ninewa — Tal Afar city only").
    """
    coverage = coverage or {}
    scale = _scale(kind, unit)
    gov_rows = T.mask_suppressed(gov_rows)
    fig = go.Figure()
    per_source: dict[str, tuple[pl.DataFrame, list[str], list]] = {}
    categories: list[str] = []  # every source's wave labels, in wave order: the x axis
    for source_id in sorted(set(waves["source_id"].to_list())):
        sw = waves.filter(pl.col("source_id") == source_id).sort("wave_order")
        approved = sw["is_approved"].to_list() if "is_approved" in sw.columns else [True] * sw.height
        x = [T.wave_label(w, a) for w, a in zip(sw["wave_id"].to_list(), approved, strict=True)]
        per_source[source_id] = (sw, x, approved)
        categories += [c for c in x if c not in categories]
    for source_id, (sw, x, approved) in per_source.items():
        wave_ids = sw["wave_id"].to_list()
        tag = f" [{_(T.SYNTHETIC_LABEL)}]" if source_id in synthetic_sources else f" [{_(T.REAL_LABEL)}]"
        if not all(a is True for a in approved):
            tag += " — " + _("incl. {label}").format(label=_(T.PROVISIONAL_LABEL))
        area = T.area_label(gov_name, coverage.get(source_id))
        g = {r["wave_id"]: r for r in gov_rows.filter(pl.col("source_id") == source_id).iter_rows(named=True)}
        m = {r["wave_id"]: r for r in medians.filter(pl.col("source_id") == source_id).iter_rows(named=True)}
        _estimate_line(fig, g, wave_ids, x, scale, area, f"{area} — {source_id}{tag}",
                       {"color": BLUE if source_id not in synthetic_sources else AMBER}, None, annotation_y=0,
                       categories=categories)
        nat = {} if national_rows is None or national_rows.is_empty() else {
            r["wave_id"]: r
            for r in T.mask_suppressed(national_rows).filter(pl.col("source_id") == source_id).iter_rows(named=True)
        }
        if nat:
            _estimate_line(fig, nat, wave_ids, x, scale, _(T.NATIONAL_LABEL), f"{_(T.NATIONAL_LABEL)} — {source_id}{tag}",
                           {"color": NATIONAL}, {"symbol": "diamond", "size": 9}, annotation_y=1,
                           categories=categories)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[None if m.get(w) is None else _r(m[w]["median_estimate"] * scale) for w in wave_ids],
                mode="lines+markers",
                name=(
                    _("median of estimates ({coverage})").format(coverage=T.coverage_short(coverage[source_id]))
                    + f" — {source_id}{tag}"
                    if coverage.get(source_id)
                    else _("median of governorates") + f" — {source_id}{tag}"
                ),
                line={"dash": "dash", "color": GREY},
            )
        )
    y_axis: dict[str, Any] = {"title": _axis_title(kind, unit)}
    if T.is_proportion(kind, unit):
        y_axis["range"] = [0, 100]
    fig.update_layout(xaxis=wave_axis(categories, title=_("wave")), yaxis=y_axis)
    return i18n.localize_figure(frame(fig, height=300))


def budget_heatmap(matrix: dict[str, Any], title: str = "", synthetic: bool = False) -> go.Figure:
    """Execution rate (%) by governorate and year; grey 'no data' / 'not reported' cells where
    nothing was published (never drawn as zero). The hover names the as-of date of year-to-date
    figures. A synthetic source gets "SYNTHETIC demo data" in the figure title itself, so the
    label travels with an exported or screenshotted chart."""
    years = [str(y) for y in matrix["years"]]
    govs = matrix["governorates"]
    hover = matrix.get("hover") or matrix["text"]
    if synthetic:
        title = f"{title} — {_(T.SYNTHETIC_LABEL)}" if title else _(T.SYNTHETIC_LABEL)
    values = [v for row in matrix["z"] for v in row if v is not None]
    # gap cells get their label from the text trace below, not from the heatmap (no doubled text)
    cell_text = [
        [t if z is not None else "" for z, t in zip(zrow, trow)] for zrow, trow in zip(matrix["z"], matrix["text"])
    ]
    fig = go.Figure(
        go.Heatmap(
            z=matrix["z"], x=years, y=govs, text=cell_text, texttemplate="%{text}",
            customdata=hover,
            colorscale="YlGnBu", zmin=0, zmax=max([100.0, *values]),
            colorbar={"title": _("executed %")}, hoverongaps=False,
            hovertemplate="%{y}, %{x}: %{customdata}<extra></extra>",
        )
    )
    gaps = [
        (years[j], govs[i], matrix["text"][i][j], hover[i][j])
        for i in range(len(govs))
        for j in range(len(years))
        if matrix["z"][i][j] is None
    ]
    if gaps:
        fig.add_trace(
            go.Scatter(
                x=[g[0] for g in gaps], y=[g[1] for g in gaps], text=[g[2] for g in gaps],
                customdata=[g[3] for g in gaps],
                mode="text", textfont={"color": "#555555", "size": 11}, showlegend=False,
                hovertemplate="%{y}, %{x}: %{customdata}<extra></extra>",
            )
        )
    fig.update_layout(
        plot_bgcolor=NO_DATA_BG,
        xaxis={"type": "category", "title": _("fiscal year")},
        yaxis={"type": "category", "autorange": "reversed", "title": None},
    )
    return i18n.localize_figure(frame(fig, wrap_title(title) if title else "", height=max(200, 40 + 34 * len(govs)), legend=False))


def count_bars(df: pl.DataFrame, label_col: str, count_col: str, x_title: str) -> go.Figure:
    """Horizontal bars of a count per label (e.g. quarantined rows by reason)."""
    agg = df.group_by(label_col).agg(pl.col(count_col).sum()).sort(count_col)
    fig = go.Figure(
        go.Bar(
            x=agg[count_col].to_list(), y=agg[label_col].to_list(), orientation="h",
            marker={"color": BLUE}, text=agg[count_col].to_list(), textposition="auto",
            cliponaxis=False,
        )
    )
    fig.update_layout(xaxis={"title": x_title}, yaxis={"title": None, "type": "category"})
    return i18n.localize_figure(frame(fig, height=max(140, 20 + 30 * agg.height), legend=False))


def spending_scatter(
    points: pl.DataFrame, x_col: str, x_title: str, title: str = "", synthetic: bool = False
) -> go.Figure:
    """Spending per capita (x) against a service indicator (y, 95% CI error bars), one point per
    governorate. ``points`` must hold published cells only (the page leaves suppressed ones out and lists
    them in a note); unreliable estimates are amber, the others blue; a partial budget source's points are
    hollow and named "(partial)" in the hover. A synthetic source gets "SYNTHETIC demo data" in the title."""
    kind, unit = _first(points, "indicator_type"), _first(points, "indicator_unit")
    scale = _scale(kind, unit)
    if synthetic:
        title = f"{title} — {_(T.SYNTHETIC_LABEL)}" if title else _(T.SYNTHETIC_LABEL)
    fig = go.Figure()
    groups = [
        (_("published"), BLUE, ~pl.col("is_unreliable").fill_null(False)),
        (_("⚠ unreliable (wide CI)"), AMBER, pl.col("is_unreliable").fill_null(False)),
    ]
    for name, color, cond in groups:
        sub = points.filter(cond)
        if sub.is_empty():
            continue
        plus, minus, hover = [], [], []
        for r in sub.iter_rows(named=True):
            p, m = _err(r["estimate"], r["ci_lower"], r["ci_upper"], scale)
            plus.append(p)
            minus.append(m)
            partial = _(" (partial source: not a whole year)") if r.get("is_partial") else ""
            hover.append(
                f"{T.gov_label(r['name_en'], r.get('name_ar'))}<br>{x_title}: "
                f"{i18n.localize_number_text(T.fmt_number(r[x_col], 0))}{partial}<br>{r['indicator_name']}: "
                f"{i18n.localize_number_text(T.fmt_value(r['estimate'], kind, unit))} ({_('95% CI')} "
                f"{i18n.localize_number_text(T.fmt_ci(r['ci_lower'], r['ci_upper'], kind, unit))})"
            )
        partial_flags = [bool(v) for v in sub["is_partial"].to_list()]
        fig.add_trace(
            go.Scatter(
                x=[_r(v) for v in sub[x_col].to_list()],
                y=[_r(v * scale) for v in sub["estimate"].to_list()],
                mode="markers+text", name=name,
                text=[i18n.pick_name(n, a) for n, a in zip(sub["name_en"].to_list(),
                      sub["name_ar"].to_list() if "name_ar" in sub.columns else [None] * sub.height, strict=True)],
                textposition="top center",
                marker={"color": color, "size": 11,
                        "symbol": ["circle-open" if p else "circle" for p in partial_flags]},
                error_y={"type": "data", "symmetric": False, "array": plus, "arrayminus": minus,
                         "color": color, "thickness": 1.2},
                customdata=hover, hovertemplate="%{customdata}<extra></extra>",
            )
        )
    fig.update_layout(xaxis={"title": x_title, "rangemode": "tozero"}, yaxis={"title": _axis_title(kind, unit)})
    return i18n.localize_figure(frame(fig, wrap_title(title) if title else "", height=420))
