"""Vector charts of the committee brief, written as plain SVG (no browser, no network): a trend with 95 %
confidence intervals, baseline and targets, and a schematic map of the governorates coloured by status.

The map draws ``data_contracts/reference/iraq_adm1_simplified.geojson`` (OCHA COD-AB 2019, simplified;
credit in data_contracts/reference/README.md). COD-AB 2019 has 18 governorates: Halabja (IQG19) lies
inside Al-Sulaymaniyah's outline and is reported in the scorecard only.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

BOUNDARIES = Path(__file__).resolve().parents[2] / "data_contracts" / "reference" / "iraq_adm1_simplified.geojson"
STATUS_COLOURS = {"target_met": "#2e7d32", "not_met": "#c62828", "too_close_to_call": "#f9a825", None: "#d9d9d9"}
FONT = "Noto Sans"


def fmt(value: float | None, unit: str | None) -> str:
    """A value as the brief prints it: proportions as percent with no decimals, counts whole, others to 1 decimal."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit in ("proportion", "share"):
        return f"{100 * value:.0f}%"
    if unit == "percent":
        return f"{value:.0f}%"
    if unit == "count":
        return f"{value:.0f}"
    return f"{value:.1f}"


def trend_svg(points: list[dict], targets: list[dict], baseline: dict | None, unit: str,
              width: int = 520, height: int = 220) -> str:
    """A trend: ``points`` ``[{period, actual, ci_lower, ci_upper}]`` as dots with CI whiskers, ``targets``
    ``[{period, value}]`` as hollow diamonds, ``baseline`` ``{period, value}`` as a square and a dashed line."""
    periods = sorted({p["period"] for p in points} | {t["period"] for t in targets}
                     | ({baseline["period"]} if baseline else set()))
    values = [v for p in points for v in (p["actual"], p["ci_lower"], p["ci_upper"]) if v is not None]
    values += [t["value"] for t in targets] + ([baseline["value"]] if baseline else [])
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (high - low) * 0.15 or abs(high) * 0.1 or 1.0
    low, high = (max(low - pad, 0.0) if low >= 0 else low - pad), high + pad
    left, right, top, bottom = 56, 16, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(period: str) -> float:
        i = periods.index(period)
        return left + plot_w * (i + 0.5) / max(len(periods), 1)

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low) / (high - low))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'font-family="{FONT}" font-size="10">']
    for v in _ticks(low, high, unit):
        out.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{width - right}" y2="{y(v):.1f}" stroke="#e0e0e0"/>')
        out.append(f'<text x="{left - 6}" y="{y(v) + 3:.1f}" text-anchor="end" fill="#555">{escape(fmt(v, unit))}</text>')
    for p in periods:
        out.append(f'<text x="{x(p):.1f}" y="{height - 8}" text-anchor="middle" fill="#333">{escape(p)}</text>')
    if baseline:
        by = y(baseline["value"])
        out.append(f'<line x1="{left}" y1="{by:.1f}" x2="{width - right}" y2="{by:.1f}" stroke="#757575" stroke-dasharray="4 3"/>')
        bx = x(baseline["period"])
        out.append(f'<rect x="{bx - 4:.1f}" y="{by - 4:.1f}" width="8" height="8" fill="#757575"/>')
    for t in targets:
        tx, ty = x(t["period"]), y(t["value"])
        out.append(f'<polygon points="{tx:.1f},{ty - 6:.1f} {tx + 6:.1f},{ty:.1f} {tx:.1f},{ty + 6:.1f} {tx - 6:.1f},{ty:.1f}" '
                   'fill="white" stroke="#1565c0" stroke-width="1.5"/>')
    for p in points:
        if p["actual"] is None:
            continue
        px = x(p["period"])
        if p["ci_lower"] is not None and p["ci_upper"] is not None:
            lo, hi = y(p["ci_lower"]), y(p["ci_upper"])
            out.append(f'<line x1="{px:.1f}" y1="{lo:.1f}" x2="{px:.1f}" y2="{hi:.1f}" stroke="#212121" stroke-width="1.5"/>')
            for yy in (lo, hi):
                out.append(f'<line x1="{px - 5:.1f}" y1="{yy:.1f}" x2="{px + 5:.1f}" y2="{yy:.1f}" stroke="#212121" stroke-width="1.5"/>')
        out.append(f'<circle cx="{px:.1f}" cy="{y(p["actual"]):.1f}" r="4" fill="#212121"/>')
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#424242"/>')
    out.append("</svg>")
    return "\n".join(out)


def _ticks(low: float, high: float, unit: str) -> list[float]:
    """About five round tick values between low and high (steps of 1, 2, 2.5 or 5 x 10^k; whole percents
    for proportions, so that no two ticks print alike)."""
    raw = (high - low) / 4
    floor = 0.01 if unit in ("proportion", "share") else 1.0 if unit in ("count", "percent") else 0.0
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    step = max(next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw), floor)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


@lru_cache(maxsize=1)
def _features() -> list[dict]:
    return json.loads(BOUNDARIES.read_text(encoding="utf-8"))["features"]


def map_svg(status_by_pcode: dict[str, str | None], width: int = 420) -> str:
    """The governorates filled by status (``STATUS_COLOURS``; grey = no status: suppressed, provisional or
    no data). Equirectangular projection scaled by cos(33.5 degrees), Iraq's middle latitude."""
    feats = _features()
    xs = [pt[0] for f in feats for poly in f["geometry"]["coordinates"] for ring in poly for pt in ring]
    ys = [pt[1] for f in feats for poly in f["geometry"]["coordinates"] for ring in poly for pt in ring]
    kx = math.cos(math.radians(33.5))
    span_x, span_y = (max(xs) - min(xs)) * kx, max(ys) - min(ys)
    scale = (width - 10) / span_x
    height = int(span_y * scale + 10)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    for f in feats:
        pcode = f["properties"]["ADM1_PCODE"]
        fill = STATUS_COLOURS.get(status_by_pcode.get(pcode), STATUS_COLOURS[None])
        for poly in f["geometry"]["coordinates"]:
            for ring in poly:
                d = " ".join(f"{5 + (lon - min(xs)) * kx * scale:.1f},{5 + (max(ys) - lat) * scale:.1f}" for lon, lat in ring)
                out.append(f'<polygon points="{d}" fill="{fill}" stroke="white" stroke-width="1"/>')
    out.append("</svg>")
    return "\n".join(out)
