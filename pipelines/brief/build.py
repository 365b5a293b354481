"""``mizan brief``: the steering committee's PDF brief, built from the published snapshot only (read-only).

Pages: cover (data as of, snapshot id, run, period, framework version); scorecard (national, then by
governorate); a map of the headline indicator (the framework's first survey indicator) coloured by status;
trends with 95 % CIs, baselines and targets; budget execution; training outputs; what the numbers mean.
Typeset by typst (the ``typst`` Python package: no network, no browser) from ``brief.typ`` and a JSON file of
already formatted text; charts are SVG (:mod:`pipelines.brief.charts`). Arabic is shaped and set right to left
by typst with an Arabic font from the system (Debian ``fonts-noto-core``). Suppressed cells carry no number
in the data this module reads (:mod:`pipelines.brief.data`), so none can reach the PDF.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import polars as pl

from pipelines.brief import charts
from pipelines.brief.data import NATIONAL, BriefDataError, Snapshot, progress, scorecard, snapshot_identity, training_cohorts
from pipelines.brief.strings import strings

TEMPLATE = Path(__file__).with_name("brief.typ")
FONT_DIRS = [Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto"),
             Path("/usr/share/fonts/truetype/kacst"), Path("/usr/share/fonts/truetype/dejavu")]
ARABIC_FONTS = ("NotoNaskhArabic-Regular.ttf", "NotoSansArabic-Regular.ttf", "KacstOne.ttf")
FONTS = {"en": ["Noto Sans", "Noto Naskh Arabic", "DejaVu Sans"], "ar": ["Noto Naskh Arabic", "Noto Sans", "DejaVu Sans"]}


class BriefError(RuntimeError):
    """The brief cannot be built: no snapshot, no Arabic font, an unwritable output (the message says the fix)."""


def font_dirs() -> list[Path]:
    """Folders holding the brief's fonts.

    Raises:
        BriefError: no font with Arabic glyphs is installed.
    """
    dirs = [d for d in FONT_DIRS if d.is_dir()]
    if not any((d / f).is_file() for d in dirs for f in ARABIC_FONTS):
        raise BriefError("no font with Arabic glyphs found (looked for Noto Naskh Arabic, Noto Sans Arabic, KacstOne "
                         f"in {', '.join(map(str, FONT_DIRS))}): install it with `apt-get install fonts-noto-core`")
    return dirs


def _status_label(row: dict, s: dict) -> str:
    if row["status"]:
        return s[row["status"]]
    if row["is_suppressed"]:
        return s["suppressed"]
    if row.get("status_note") == "provisional wave left out":
        return s["provisional"]
    return s["no_data"] if row["actual"] is None else s["no_status"]


def _actual_text(row: dict) -> str:
    if row["actual"] is None:
        return "–"
    text = charts.fmt(row["actual"], row["unit"])
    if row["ci_lower"] is not None and row["ci_upper"] is not None:
        text += f" ({charts.fmt(row['ci_lower'], row['unit'])}–{charts.fmt(row['ci_upper'], row['unit'])})"
    return text + (" (P)" if row.get("is_provisional") else "")


def _name(row: dict, lang: str, prefix: str = "") -> str:
    return row[f"{prefix}name_{lang}"] or row[f"{prefix}name_en"]


def _scorecard_rows(card: pl.DataFrame, lang: str, s: dict) -> list[dict]:
    out = []
    for r in card.filter(pl.col("governorate_pcode") == NATIONAL).iter_rows(named=True):
        out.append({
            "level": s[r["level"]], "name": _name(r, lang),
            "version": f"{s['framework_version']} {r['framework_version']} · {s['formula_version']}{r['formula_version']}",
            "baseline": f"{charts.fmt(r['baseline_value'], r['unit'])} ({r['baseline_period']})",
            "target": charts.fmt(r["target_value"], r["unit"]), "actual": _actual_text(r),
            "pct": "–" if r["pct_of_distance"] is None else f"{r['pct_of_distance']:.0f}%",
            "status": r["status"] or "none", "status_label": _status_label(r, s), "period": r["period"],
        })
    return out


def _governorate_matrix(card: pl.DataFrame, lang: str, s: dict) -> dict:
    by_gov = card.filter(pl.col("governorate_pcode") != NATIONAL)
    inds = list(by_gov.select("indicator_id", "sort_order", "name_en", "name_ar").unique("indicator_id")
                .sort("sort_order").iter_rows(named=True))
    rows = []
    for pcode in sorted(by_gov["governorate_pcode"].unique().to_list()):
        cells = []
        for ind in inds:
            hit = by_gov.filter((pl.col("governorate_pcode") == pcode) & (pl.col("indicator_id") == ind["indicator_id"]))
            if hit.height == 0:
                cells.append({"status": "none", "label": s["no_data"], "text": ""})
                continue
            r = hit.row(0, named=True)
            cells.append({"status": r["status"] or "none", "label": _status_label(r, s),
                          "text": "" if r["actual"] is None else f"{charts.fmt(r['actual'], r['unit'])} ({r['period']})"})
        first = by_gov.filter(pl.col("governorate_pcode") == pcode).row(0, named=True)
        rows.append({"name": _name(first, lang, "governorate_"), "cells": cells})
    return {"indicators": [ind[f"name_{lang}"] or ind["name_en"] for ind in inds], "rows": rows}


def _trend_files(rows: pl.DataFrame, lang: str, out_dir: Path) -> list[dict]:
    trends = []
    national = rows.filter(pl.col("governorate_pcode") == NATIONAL)
    for ind in national.filter(pl.col("kind").is_in(["survey", "budget"])).unique("indicator_id").sort("sort_order").iter_rows(named=True):
        own = national.filter(pl.col("indicator_id") == ind["indicator_id"])
        points = own.filter(pl.col("actual").is_not_null()).select("period", "actual", "ci_lower", "ci_upper").to_dicts()
        targets = [{"period": r["period"], "value": r["target_value"]} for r in own.iter_rows(named=True)
                   if r["target_value"] is not None]
        svg = charts.trend_svg(points, targets, {"period": ind["baseline_period"], "value": ind["baseline_value"]}, ind["unit"])
        name = f"trend_{len(trends)}.svg"
        (out_dir / name).write_text(svg, encoding="utf-8")
        trends.append({"name": _name(ind, lang), "file": name})
    return trends


def _training_rows(cohorts: pl.DataFrame, s: dict) -> list[dict]:
    out = []
    for r in cohorts.iter_rows(named=True):
        gain = "–"
        if r["mean_knowledge_gain"] is not None:
            gain = f"{r['mean_knowledge_gain']:.1f}"
            if r["knowledge_gain_ci_lower"] is not None:
                gain += f" ({r['knowledge_gain_ci_lower']:.1f}–{r['knowledge_gain_ci_upper']:.1f})"
        out.append({
            "track": s["all_tracks"] if r["track"] == "all" else s.get(r["track"], r["track"]),
            "cohort": s["all"] if r["cohort"] == "all" else r["cohort"], "total": r["cohort"] == "all",
            "trained": str(r["n_trained"]), "completed": str(r["n_completed"]),
            "women": f"{r['n_women']} ({100 * r['share_women']:.0f}%)", "gain": gain,
        })
    return out


def brief_data(snap: Snapshot, lang: str, period: str | None, include_provisional: bool, out_dir: Path) -> dict:
    """The formatted content of the brief (what ``brief.typ`` reads as data.json); writes the SVGs to ``out_dir``.

    Raises:
        BriefDataError: the snapshot lacks the results framework marts.
    """
    s = strings(lang)
    rows = progress(snap.path, include_provisional)
    if period is not None:
        rows = rows.filter(pl.col("period") <= period)
    if rows.height == 0:
        raise BriefDataError(f"{snap.path}: no results-framework rows up to period {period}")
    card = scorecard(rows)
    headline = card.filter((pl.col("kind") == "survey") & (pl.col("governorate_pcode") == NATIONAL)).sort("sort_order")
    map_block = {"name": "–", "period": "–"}
    statuses: dict[str, str | None] = {}
    if headline.height:
        h = headline.row(0, named=True)
        map_rows = rows.filter((pl.col("indicator_id") == h["indicator_id"]) & (pl.col("period") == h["period"]))
        statuses = {r["governorate_pcode"]: r["status"] for r in map_rows.iter_rows(named=True)}
        map_block = {"name": _name(h, lang), "period": h["period"]}
    (out_dir / "map.svg").write_text(charts.map_svg(statuses), encoding="utf-8")
    budget = rows.filter((pl.col("kind") == "budget") & (pl.col("governorate_pcode") == NATIONAL) & pl.col("actual").is_not_null())
    rules = _rules(snap.path)
    synthetic = _is_synthetic(snap.path)
    return {
        "lang": lang, "fonts": FONTS[lang], "s": s,
        "cover": {"snapshot": snap.name, "run_id": snap.run_id or "–", "data_as_of": snap.published_at or "–",
                  "period": period or str(rows["period"].max()),
                  "framework_version": ", ".join(sorted(rows["framework_version"].unique().to_list())),
                  "provisional_note": s["provisional_in" if include_provisional else "provisional_out"],
                  "synthetic": synthetic, "goal": _goal(snap.path, lang)},
        "scorecard": _scorecard_rows(card, lang, s),
        "gov": _governorate_matrix(card.filter(pl.col("kind") != "training"), lang, s),
        "map": map_block,
        "legend": [{"status": k, "label": s[k]} for k in ("target_met", "too_close_to_call", "not_met")]
        + [{"status": "none", "label": s["no_status"]}],
        "trends": _trend_files(rows, lang, out_dir),
        "budget": [{"period": r["period"], "actual": charts.fmt(r["actual"], r["unit"]),
                    "target": charts.fmt(r["target_value"], r["unit"]), "status": r["status"] or "none",
                    "status_label": _status_label(r, s)} for r in budget.iter_rows(named=True)],
        "training": _training_rows(training_cohorts(snap.path), s),
        "reference": _reference(card.filter(pl.col("governorate_pcode") == NATIONAL), lang, s),
        "meaning": [s["meaning_status"], s["meaning_distance"],
                    s["meaning_suppression"].format(min_n=rules.get("suppression_min_n", "–"),
                                                    min_n_eff=_whole(rules.get("suppression_min_n_eff"))),
                    s["meaning_provisional"], s["meaning_training"], s["meaning_versions"]],
    }


def _reference(national: pl.DataFrame, lang: str, s: dict) -> list[dict]:
    """The indicator reference list: each framework indicator's name, versions, baseline, direction and unit."""
    return [{
        "name": _name(r, lang),
        "detail": f"{s['framework_version']} {r['framework_version']} · {s['formula_version']}{r['formula_version']} · "
                  f"{s['baseline']}: {charts.fmt(r['baseline_value'], r['unit'])} ({r['baseline_period']}; {r['baseline_source']}) · "
                  f"{s[r['direction']]} · {s['responsible']}: {r['responsible_unit']}",
    } for r in national.iter_rows(named=True)]


def _whole(x) -> str:
    return "–" if x is None else f"{x:g}"


def _rules(snapshot: Path) -> dict:
    from pipelines.brief.data import _query

    try:
        rows = _query(snapshot, "SELECT * FROM marts.dim_estimation_rules").to_dicts()
    except BriefDataError:
        return {}
    return rows[0] if rows else {}


def _is_synthetic(snapshot: Path) -> bool:
    from pipelines.brief.data import _query

    try:
        return bool(_query(snapshot, "SELECT bool_or(is_synthetic) AS s FROM marts.fct_service_indicators")["s"][0])
    except BriefDataError:
        return False


def _goal(snapshot: Path, lang: str) -> str:
    from pipelines.brief.data import _query

    goal = _query(snapshot, "SELECT name_en, name_ar FROM raw.results_framework_results WHERE level = 'goal'")
    return "" if goal.height == 0 else (goal[f"name_{lang}"][0] or goal["name_en"][0])


def render_brief(snap: Snapshot, lang: str, period: str | None = None, include_provisional: bool = False) -> bytes:
    """The brief of one snapshot as PDF bytes (what the dashboard offers for download).

    Raises:
        BriefError: a snapshot without the results framework, or no Arabic font.
    """
    import typst

    try:
        with tempfile.TemporaryDirectory(prefix="mizan-brief-") as tmp:
            work = Path(tmp)
            data = brief_data(snap, lang, period, include_provisional, work)
            (work / "data.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            (work / "brief.typ").write_text(TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
            return typst.compile(str(work / "brief.typ"), root=str(work), font_paths=[str(d) for d in font_dirs()])
    except BriefDataError as exc:
        raise BriefError(str(exc)) from None


def build_brief(warehouse: Path, lang: str, out: Path, period: str | None = None,
                include_provisional: bool = False) -> Snapshot:
    """Write the brief for the snapshot the warehouse pointer names to ``out`` (PDF).

    Raises:
        BriefError: no snapshot, a snapshot without the results framework, no Arabic font, or ``out``
            cannot be written.
    """
    try:
        snap = snapshot_identity(warehouse)
    except BriefDataError as exc:
        raise BriefError(str(exc)) from None
    pdf = render_brief(snap, lang, period, include_provisional)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(pdf)
    except OSError as exc:
        raise BriefError(f"cannot write {out}: {exc.strerror}") from None
    return snap


def add_parser(sub: argparse._SubParsersAction, wh_help: str) -> None:
    """Register ``mizan brief`` on the CLI's subcommands."""
    p = sub.add_parser("brief", help="the steering committee's PDF brief from the published snapshot")
    p.add_argument("--warehouse", type=Path, help=wh_help)
    p.add_argument("--lang", choices=["ar", "en"], required=True, help="language of the brief")
    p.add_argument("--period", help="the latest period (fiscal year) to report, e.g. 2025 (default: all)")
    p.add_argument("--include-provisional", action="store_true", help="include survey waves not yet approved (marked P)")
    p.add_argument("--out", type=Path, required=True, help="the PDF to write")


def run(args: argparse.Namespace, warehouse: Path) -> int:
    """``mizan brief``: exit 0 and print where the PDF went, or 1 with the reason."""
    try:
        snap = build_brief(warehouse, args.lang, args.out, args.period, args.include_provisional)
    except BriefError as exc:
        print(f"mizan: {exc}", file=sys.stderr)
        return 1
    print(f"brief ({args.lang}) written to {args.out} from snapshot {snap.name}")
    return 0
