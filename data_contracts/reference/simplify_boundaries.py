"""Derive the simplified governorate outlines the committee brief draws (``iraq_adm1_simplified.geojson``).

    python data_contracts/reference/simplify_boundaries.py ADM1.geojson data_contracts/reference/iraq_adm1_simplified.geojson

ADM1.geojson is OCHA's COD-AB 2019 level-1 boundaries for Iraq (``irq_admbnda_adm1_cso_20190603``, HDX,
CC BY-IGO). Each ring is simplified with Douglas-Peucker (tolerance 0.02 degrees, about 2 km) and rounded
to 3 decimals; rings that collapse are dropped. Only ``ADM1_PCODE``, ``ADM1_EN`` and ``ADM1_AR`` are kept.
The outlines are for a schematic map, not for measuring areas or assigning points.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TOLERANCE = 0.02


def _dp(points: list[list[float]], tol: float) -> list[list[float]]:
    if len(points) < 3:
        return points
    (x1, y1), (x2, y2) = points[0], points[-1]
    dx, dy = x2 - x1, y2 - y1
    norm = (dx * dx + dy * dy) ** 0.5 or 1e-12
    best, index = -1.0, 0
    for i in range(1, len(points) - 1):
        px, py = points[i]
        d = abs(dy * px - dx * py + x2 * y1 - y2 * x1) / norm
        if d > best:
            best, index = d, i
    if best <= tol:
        return [points[0], points[-1]]
    return _dp(points[: index + 1], tol)[:-1] + _dp(points[index:], tol)


def simplify_ring(ring: list[list[float]]) -> list[list[float]] | None:
    half = len(ring) // 2  # a closed ring: simplify two halves so the end points stay fixed
    out = _dp(ring[: half + 1], TOLERANCE)[:-1] + _dp(ring[half:], TOLERANCE)
    out = [[round(x, 3), round(y, 3)] for x, y in out]
    return out if len(out) >= 4 else None


def main(src: Path, dest: Path) -> None:
    data = json.loads(src.read_text(encoding="utf-8"))
    features = []
    for f in data["features"]:
        geom = f["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        rings = [[r for r in (simplify_ring(ring) for ring in poly[:1]) if r] for poly in polys]
        rings = [p for p in rings if p]
        features.append({"type": "Feature",
                         "properties": {k: f["properties"][k] for k in ("ADM1_PCODE", "ADM1_EN", "ADM1_AR")},
                         "geometry": {"type": "MultiPolygon", "coordinates": rings}})
    out = {"type": "FeatureCollection", "name": "iraq_adm1_simplified",
           "source": "OCHA COD-AB Iraq 2019 (irq_admbnda_adm1_cso_20190603), HDX, CC BY-IGO; simplified by mizan",
           "features": features}
    dest.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
