"""Build the dashboard's governorate boundaries from OCHA COD-AB 2019 (a build step, run by hand).

    python3 -m uv run --with 'shapely>=2.1' python -m pipelines.reference.simplify_boundaries \
        --adm1 DIR/iraq_adm1_cod_2019.geojson --adm2 DIR/iraq_adm2_cod_2019.geojson

(DIR: wherever the COD-AB 2019 governorate and district GeoJSON files are kept.)

Writes ``dashboards/geo/iraq_governorates_simplified.geojson``: 19 features, one per governorate of
``marts.dim_governorate`` (p-codes IQG01…IQG19). COD-AB 2019 has 18 governorates; Halabja is its
district IQG06Q05 inside Sulaymaniyah. Halabja is drawn from that district under the warehouse's code
IQG19 (data_contracts/governorates.py ``HALABJA``) and Sulaymaniyah (IQG06) is the union of its other
districts, so the two share one border. The 19 polygons are simplified together as one coverage
(``shapely.coverage_simplify``), so neighbours keep a common edge (no gaps or overlaps), then rounded to
4 decimals (about 10 m), exterior rings clockwise (d3-geo's winding, which plotly's geo maps use). Shapely is needed only here, not by the dashboard or the pipeline: the output is
committed (dashboards/geo/README.md gives its credit and licence).

Properties of each feature: ``governorate_pcode``, ``name_en``, ``name_ar`` (COD-AB's names; Halabja from
the district file), ``cod_ab_source`` (the COD-AB p-code(s) it is built from).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUTPUT = REPO / "dashboards" / "geo" / "iraq_governorates_simplified.geojson"
#: COD-AB 2019 district that is the governorate Halabja, its parent, and the warehouse's code for Halabja
HALABJA_DISTRICT, SULAYMANIYAH, HALABJA = "IQG06Q05", "IQG06", "IQG19"
#: simplification tolerance in degrees (about 1 km): enough for a national map, a few hundred KB at most
TOLERANCE = 0.01
DECIMALS = 4


def _round(coords):
    if isinstance(coords[0], (int, float)):
        return [round(coords[0], DECIMALS), round(coords[1], DECIMALS)]
    return [_round(c) for c in coords]


def build(adm1_path: Path, adm2_path: Path, tolerance: float = TOLERANCE) -> dict:
    """The 19-governorate FeatureCollection (see the module docstring)."""
    import shapely
    from shapely.geometry import mapping, shape

    adm1 = json.loads(adm1_path.read_text(encoding="utf-8"))["features"]
    adm2 = json.loads(adm2_path.read_text(encoding="utf-8"))["features"]
    units: list[tuple[dict, object]] = []
    for f in adm1:
        p = f["properties"]
        if p["ADM1_PCODE"] == SULAYMANIYAH:
            continue
        units.append(({"governorate_pcode": p["ADM1_PCODE"], "name_en": p["ADM1_EN"], "name_ar": p["ADM1_AR"],
                       "cod_ab_source": p["ADM1_PCODE"]}, shape(f["geometry"]).buffer(0)))
    sul = [f for f in adm2 if f["properties"]["ADM1_PCODE"] == SULAYMANIYAH]
    hal = [f for f in sul if f["properties"]["ADM2_PCODE"] == HALABJA_DISTRICT]
    if len(hal) != 1:
        raise ValueError(f"{adm2_path}: expected one district {HALABJA_DISTRICT} (Halabja), found {len(hal)}")
    rest = [f for f in sul if f is not hal[0]]
    sul_props = next(f["properties"] for f in adm1 if f["properties"]["ADM1_PCODE"] == SULAYMANIYAH)
    units.append(({"governorate_pcode": SULAYMANIYAH, "name_en": sul_props["ADM1_EN"], "name_ar": sul_props["ADM1_AR"],
                   "cod_ab_source": f"{SULAYMANIYAH} without {HALABJA_DISTRICT}"},
                  shapely.union_all([shape(f["geometry"]).buffer(0) for f in rest])))
    hp = hal[0]["properties"]
    units.append(({"governorate_pcode": HALABJA, "name_en": "Halabja", "name_ar": hp["ADM2_AR"],
                   "cod_ab_source": HALABJA_DISTRICT}, shape(hal[0]["geometry"]).buffer(0)))
    units.sort(key=lambda u: u[0]["governorate_pcode"])
    simplified = shapely.coverage_simplify([g for _, g in units], tolerance)
    features = []
    for (props, _), geom in zip(units, simplified):
        # exterior rings clockwise: the winding d3-geo (plotly's geo maps) reads as "inside"
        gj = mapping(shapely.orient_polygons(shapely.make_valid(geom), exterior_cw=True))
        features.append({"type": "Feature", "id": props["governorate_pcode"], "properties": props,
                         "geometry": {"type": gj["type"], "coordinates": _round(gj["coordinates"])}})
    return {"type": "FeatureCollection", "name": "iraq_governorates_simplified", "features": features}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adm1", type=Path, required=True, help="COD-AB 2019 governorates (iraq_adm1_cod_2019.geojson)")
    ap.add_argument("--adm2", type=Path, required=True, help="COD-AB 2019 districts (iraq_adm2_cod_2019.geojson)")
    ap.add_argument("--out", type=Path, default=OUTPUT)
    ap.add_argument("--tolerance", type=float, default=TOLERANCE)
    args = ap.parse_args(argv)
    collection = build(args.adm1, args.adm2, args.tolerance)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"wrote {args.out}: {len(collection['features'])} governorates, {args.out.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
