"""The programme's results framework (``data_contracts/results_framework.yaml``): loader and validator.

The file states the goal, outcomes and outputs, and per indicator its kind (survey, budget, training),
baseline (value, period, source), targets per period (national, and per governorate where set),
direction and responsible unit (reference: docs/results-framework.md). :func:`load_framework` reads it
with line numbers kept and refuses, naming the line, an unknown indicator, a target or baseline outside
the unit's range, a period not in the calendar (the fiscal years of
``data_contracts/reference/fiscal_years.csv``), an unknown governorate and a duplicate target.

:func:`framework_tables` gives the three frames the pipeline writes to ``raw``:

- ``results_framework_results``: one row per result (goal, outcome, output): ``framework_version,
  result_id, level, parent_id, name_en, name_ar, sort_order``.
- ``results_framework_indicators``: one row per framework indicator: ``framework_version, indicator_id,
  result_id, level, kind, source_id, measure, track, name_en, name_ar, unit, direction, formula_version,
  responsible_unit, baseline_value, baseline_period, baseline_source, sort_order``.
- ``results_framework_targets``: one row per target: ``framework_version, indicator_id,
  governorate_pcode`` (``IQ`` = national), ``period, target_value, line``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import yaml

from data_contracts import fiscal
from data_contracts import governorates as gov
from data_contracts.mapping import load_indicators, load_question_bank

FRAMEWORK_PATH = Path(__file__).resolve().parent / "results_framework.yaml"
NATIONAL = "IQ"
KINDS = ("survey", "budget", "training")
DIRECTIONS = ("higher_is_better", "lower_is_better")
#: Valid range of each unit a framework indicator may declare (a survey indicator's mean takes its
#: question's own min_value..max_value).
UNIT_RANGES: dict[str, tuple[float, float | None]] = {
    "proportion": (0.0, 1.0), "percent": (0.0, 100.0), "count": (0.0, None), "points": (-100.0, 100.0),
}
MEASURES = {"budget": ("execution_rate",), "training": ("trained", "completed", "share_women", "knowledge_gain")}
TRACKS = ("fiscal_federalism", "resilience", "all")


class FrameworkError(ValueError):
    """An invalid results framework: the message names the file, the line and what was expected."""


class _Node(dict):
    """A YAML mapping that remembers the line it starts on (1-based)."""

    line: int = 0


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Node:
    out = _Node(loader.construct_mapping(node, deep=True))
    out.line = node.start_mark.line + 1
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass
class Framework:
    """A validated framework: version and the rows of the three tables (see the module docstring)."""

    version: str
    results: list[dict] = field(default_factory=list)
    indicators: list[dict] = field(default_factory=list)
    targets: list[dict] = field(default_factory=list)


def _calendar() -> set[str]:
    return {str(y) for y in fiscal.fiscal_years()["fiscal_year"].to_list()}


def _governorates() -> set[str]:
    return set(gov.governorates()["governorate_pcode"].to_list())


class _Checker:
    def __init__(self, path: Path):
        self.path = path
        self.calendar = _calendar()
        self.pcodes = _governorates()
        self.registry = load_indicators()
        self.bank = load_question_bank()

    def fail(self, node, message: str) -> None:
        line = getattr(node, "line", 0)
        raise FrameworkError(f"{self.path}, line {line}: {message}")

    def need(self, node: dict, key: str, kind: type | tuple = str):
        value = node.get(key)
        if value is None or not isinstance(value, kind) or isinstance(value, bool):
            wanted = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            self.fail(node, f"{key!r} is required ({wanted}); found {value!r}")
        return value

    def period(self, node: dict, value) -> str:
        text = str(value) if value is not None else ""
        if text not in self.calendar:
            self.fail(node, f"period {value!r} is not in the calendar (fiscal years {min(self.calendar)}-"
                            f"{max(self.calendar)} of data_contracts/reference/fiscal_years.csv; write it quoted, e.g. \"2025\")")
        return text

    def value_in_range(self, node: dict, what: str, value, unit_range: tuple[float, float | None], unit: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(node, f"{what} must be a number; found {value!r}")
        low, high = unit_range
        if value < low or (high is not None and value > high):
            shown = f"{low:g}..{high:g}" if high is not None else f">= {low:g}"
            self.fail(node, f"{what} {value!r} is outside the range of unit {unit!r} ({shown})")
        return float(value)

    def survey_meta(self, node: dict) -> dict:
        ind_id = node["indicator_id"]
        spec = self.registry.get(ind_id)
        if spec is None:
            self.fail(node, f"unknown indicator {ind_id!r}: a survey indicator must be in data_contracts/indicators.yaml")
        if spec.get("direction") not in DIRECTIONS:
            self.fail(node, f"indicator {ind_id!r} has no direction (a distribution) and cannot take a target")
        for key in ("name_en", "name_ar", "unit", "direction", "formula_version", "measure", "track"):
            if key in node:
                self.fail(node, f"{key!r} of a survey indicator comes from data_contracts/indicators.yaml; remove it here")
        self.need(node, "source_id")
        if spec["indicator_type"] == "mean":
            q = self.bank[spec["question_id"]]
            unit_range = (float(q.get("min_value") or 0.0), q.get("max_value"))
        else:
            unit_range = UNIT_RANGES["proportion"]
        return {"name_en": spec["name_en"], "name_ar": spec["name_ar"], "unit": spec["unit"],
                "direction": spec["direction"], "formula_version": str(spec.get("version")),
                "source_id": node["source_id"], "measure": None, "track": None, "range": unit_range}

    def own_meta(self, node: dict, kind: str) -> dict:
        measure = self.need(node, "measure")
        if measure not in MEASURES[kind]:
            self.fail(node, f"unknown indicator {node['indicator_id']!r}: measure {measure!r} is not one of {list(MEASURES[kind])}")
        track = None
        if kind == "budget":
            self.need(node, "source_id")  # two budget sources of one governorate and year would double count
        if kind == "training":
            track = self.need(node, "track")
            if track not in TRACKS:
                self.fail(node, f"track {track!r} is not one of {list(TRACKS)}")
        unit = self.need(node, "unit")
        if unit not in UNIT_RANGES:
            self.fail(node, f"unit {unit!r} is not one of {list(UNIT_RANGES)}")
        direction = self.need(node, "direction")
        if direction not in DIRECTIONS:
            self.fail(node, f"direction {direction!r} is not one of {list(DIRECTIONS)}")
        return {"name_en": self.need(node, "name_en"), "name_ar": self.need(node, "name_ar"), "unit": unit,
                "direction": direction, "formula_version": str(self.need(node, "formula_version", (str, int, float))),
                "source_id": node.get("source_id"), "measure": measure, "track": track, "range": UNIT_RANGES[unit]}


def load_framework(path: Path = FRAMEWORK_PATH) -> Framework:
    """Read and validate the results framework.

    Raises:
        FrameworkError: unreadable YAML; a missing field; an unknown indicator (not in indicators.yaml for a
            survey indicator, an unknown measure otherwise) or one listed twice; a baseline or target outside
            the unit's range; a period not in the calendar; an unknown governorate p-code; two targets for the
            same indicator, governorate and period. The message names the file and the line.
    """
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 (a SafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise FrameworkError(f"{path}: cannot read the results framework: {exc}") from None
    check = _Checker(path)
    if not isinstance(data, dict):
        raise FrameworkError(f"{path}: expected a mapping with framework_version, goal, outcomes, outputs")
    version = str(check.need(data, "framework_version", (str, int, float)))
    fw = Framework(version=version)
    goal = check.need(data, "goal", dict)
    fw.results.append({"framework_version": version, "result_id": check.need(goal, "id"), "level": "goal",
                       "parent_id": None, "name_en": check.need(goal, "name_en"), "name_ar": check.need(goal, "name_ar"),
                       "sort_order": 0})
    seen_ids: set[str] = set()
    for level, key in (("outcome", "outcomes"), ("output", "outputs")):
        for result in check.need(data, key, list):
            if not isinstance(result, dict):
                check.fail(data, f"every entry of {key} is a mapping with id, name_en, name_ar, indicators")
            fw.results.append({"framework_version": version, "result_id": check.need(result, "id"), "level": level,
                               "parent_id": goal["id"], "name_en": check.need(result, "name_en"),
                               "name_ar": check.need(result, "name_ar"), "sort_order": len(fw.results)})
            for node in check.need(result, "indicators", list):
                _indicator(check, fw, node, result["id"], level, seen_ids)
    return fw


def _indicator(check: _Checker, fw: Framework, node: dict, result_id: str, level: str, seen: set[str]) -> None:
    ind_id = check.need(node, "indicator_id")
    if ind_id in seen:
        check.fail(node, f"indicator {ind_id!r} is listed twice in the framework")
    seen.add(ind_id)
    kind = check.need(node, "kind")
    if kind not in KINDS:
        check.fail(node, f"kind {kind!r} is not one of {list(KINDS)}")
    meta = check.survey_meta(node) if kind == "survey" else check.own_meta(node, kind)
    baseline = check.need(node, "baseline", dict)
    base_value = check.value_in_range(baseline, "baseline value", baseline.get("value"), meta["range"], meta["unit"])
    fw.indicators.append({
        "framework_version": fw.version, "indicator_id": ind_id, "result_id": result_id, "level": level,
        "kind": kind, **{k: v for k, v in meta.items() if k != "range"},
        "responsible_unit": check.need(node, "responsible_unit"), "baseline_value": base_value,
        "baseline_period": check.period(baseline, baseline.get("period")),
        "baseline_source": check.need(baseline, "source"), "sort_order": len(fw.indicators) + 1,
    })
    keys: dict[tuple[str, str], int] = {}
    for target in check.need(node, "targets", list):
        if not isinstance(target, dict):
            check.fail(node, "every target is a mapping {period, value[, governorate]}")
        period = check.period(target, target.get("period"))
        area = str(target.get("governorate") or NATIONAL)
        if area != NATIONAL and area not in check.pcodes:
            check.fail(target, f"governorate {area!r} is not a p-code (IQG01..IQG19) of data_contracts/reference/governorates.csv")
        if (area, period) in keys:
            check.fail(target, f"duplicate target for {ind_id} {area} {period} (first on line {keys[(area, period)]})")
        keys[(area, period)] = target.line
        value = check.value_in_range(target, "target", target.get("value"), meta["range"], meta["unit"])
        fw.targets.append({"framework_version": fw.version, "indicator_id": ind_id, "governorate_pcode": area,
                           "period": period, "target_value": value, "line": target.line})


RESULT_SCHEMA = {"framework_version": pl.String, "result_id": pl.String, "level": pl.String, "parent_id": pl.String,
                 "name_en": pl.String, "name_ar": pl.String, "sort_order": pl.Int32}
INDICATOR_SCHEMA = {
    "framework_version": pl.String, "indicator_id": pl.String, "result_id": pl.String, "level": pl.String,
    "kind": pl.String, "source_id": pl.String, "measure": pl.String, "track": pl.String, "name_en": pl.String,
    "name_ar": pl.String, "unit": pl.String, "direction": pl.String, "formula_version": pl.String,
    "responsible_unit": pl.String, "baseline_value": pl.Float64, "baseline_period": pl.String,
    "baseline_source": pl.String, "sort_order": pl.Int32,
}
TARGET_SCHEMA = {"framework_version": pl.String, "indicator_id": pl.String, "governorate_pcode": pl.String,
                 "period": pl.String, "target_value": pl.Float64, "line": pl.Int32}


def framework_tables(path: Path = FRAMEWORK_PATH) -> dict[str, pl.DataFrame]:
    """The validated framework as ``{raw table name: frame}`` (shapes in the module docstring).

    Raises:
        FrameworkError: see :func:`load_framework`.
    """
    fw = load_framework(path)
    return {
        "results_framework_results": pl.DataFrame(fw.results, schema=RESULT_SCHEMA),
        "results_framework_indicators": pl.DataFrame([{k: r.get(k) for k in INDICATOR_SCHEMA} for r in fw.indicators],
                                                     schema=INDICATOR_SCHEMA),
        "results_framework_targets": pl.DataFrame(fw.targets, schema=TARGET_SCHEMA),
    }
