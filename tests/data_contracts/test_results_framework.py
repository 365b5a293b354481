"""The results framework loader: the shipped file is valid, and invalid frameworks are refused naming the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_contracts.results_framework import FRAMEWORK_PATH, FrameworkError, framework_tables, load_framework

HEAD = """framework_version: "2.1"
goal: {id: G, name_en: Goal, name_ar: هدف}
outcomes:
  - id: OC1
    name_en: Outcome
    name_ar: نتيجة
    indicators:
"""
SURVEY = """      - indicator_id: {ind}
        kind: survey
        source_id: some_survey
        responsible_unit: M&E unit
        baseline: {{value: 0.3, period: "2023", source: inception}}
        targets:
{targets}
"""
TAIL = "outputs: []\n"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "framework.yaml"
    path.write_text(HEAD + body + TAIL, encoding="utf-8")
    return path


def _survey(ind: str = "water_service_good", targets: str = '          - {period: "2024", value: 0.35}') -> str:
    return SURVEY.format(ind=ind, targets=targets)


def test_shipped_framework_loads_with_versions_and_lines():
    fw = load_framework(FRAMEWORK_PATH)
    assert fw.version
    tables = framework_tables(FRAMEWORK_PATH)
    inds = tables["results_framework_indicators"]
    # a survey indicator's formula version comes from indicators.yaml; every row carries both versions
    assert inds["formula_version"].null_count() == 0 and inds["framework_version"].null_count() == 0
    assert set(inds["kind"]) == {"survey", "budget", "training"}
    assert tables["results_framework_targets"]["line"].min() > 0


def test_valid_minimal_framework(tmp_path):
    fw = load_framework(_write(tmp_path, _survey()))
    assert fw.version == "2.1"
    assert fw.targets == [{"framework_version": "2.1", "indicator_id": "water_service_good",
                           "governorate_pcode": "IQ", "period": "2024", "target_value": 0.35, "line": 14}]
    assert fw.indicators[0]["name_ar"] and fw.indicators[0]["direction"] == "higher_is_better"


def test_unknown_indicator_is_refused_with_its_line(tmp_path):
    path = _write(tmp_path, _survey(ind="water_service_excellentish"))
    with pytest.raises(FrameworkError, match=r"line 8: unknown indicator 'water_service_excellentish'"):
        load_framework(path)


def test_target_outside_the_units_range_is_refused(tmp_path):
    # a proportion target written as a percent
    path = _write(tmp_path, _survey(targets='          - {period: "2024", value: 35}'))
    with pytest.raises(FrameworkError, match=r"line 14: target 35 is outside the range of unit 'proportion' \(0\.\.1\)"):
        load_framework(path)


def test_period_not_in_the_calendar_is_refused(tmp_path):
    path = _write(tmp_path, _survey(targets='          - {period: "2024-Q5", value: 0.35}'))
    with pytest.raises(FrameworkError, match=r"line 14: period '2024-Q5' is not in the calendar"):
        load_framework(path)
    path = _write(tmp_path, _survey(targets='          - {period: "2099", value: 0.35}'))
    with pytest.raises(FrameworkError, match=r"line 14: period '2099'"):
        load_framework(path)


def test_duplicate_target_is_refused_naming_both_lines(tmp_path):
    targets = ('          - {period: "2024", governorate: IQG08, value: 0.35}\n'
               '          - {period: "2025", value: 0.40}\n'
               '          - {period: "2024", governorate: IQG08, value: 0.38}')
    path = _write(tmp_path, _survey(targets=targets))
    with pytest.raises(FrameworkError, match=r"line 16: duplicate target for water_service_good IQG08 2024 \(first on line 14\)"):
        load_framework(path)


def test_unknown_governorate_and_distribution_are_refused(tmp_path):
    path = _write(tmp_path, _survey(targets='          - {period: "2024", governorate: IQG99, value: 0.35}'))
    with pytest.raises(FrameworkError, match=r"line 14: governorate 'IQG99'"):
        load_framework(path)
    path = _write(tmp_path, _survey(ind="water_service_rating_distribution"))
    with pytest.raises(FrameworkError, match=r"line 8: .*has no direction"):
        load_framework(path)


def test_unknown_training_measure_and_count_range(tmp_path):
    body = """      - indicator_id: officials_hugged
        kind: training
        measure: hugged
        track: resilience
        formula_version: "1.0"
        name_en: x
        name_ar: س
        unit: count
        direction: higher_is_better
        responsible_unit: training unit
        baseline: {value: 0, period: "2024", source: none}
        targets:
          - {period: "2025", value: 20}
"""
    with pytest.raises(FrameworkError, match=r"line 8: unknown indicator 'officials_hugged': measure 'hugged'"):
        load_framework(_write(tmp_path, body))
    body = body.replace("measure: hugged", "measure: completed").replace("value: 20}", "value: -3}")
    with pytest.raises(FrameworkError, match=r"line 20: target -3 is outside the range of unit 'count' \(>= 0\)"):
        load_framework(_write(tmp_path, body))
