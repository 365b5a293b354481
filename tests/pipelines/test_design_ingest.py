"""Design information a mapping declares, through the real Dagster ingestion assets into a real DuckDB
file: design weights N_h / n_h from a delivered sample frame, declared disaggregation attributes
(displacement status), the single-PSU rule and post-stratification recorded per wave, and the faults
that stop a run (frame rows, unknown strata) or a mapping (reserved names, chained combines)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from data_contracts.mapping import MappingError, load_mapping
from test_ingest_faults import failure_message, ingest, table

MAPPING = """
source_id: {sid}
domain: survey
title: test survey with a sample frame
format: csv
header_style: plain
files:
  - path: "data.csv"
    wave_id: "2025-01"
respondent_id: hh_id
governorate: {{column: governorate}}
stratum: {{column: stratum}}
psu: {{column: cluster}}
weight: {weight}
disaggregations:
  displacement_status: {{column: displaced, recode: {{H: non_displaced, I: idp, R: returnee}}}}
single_psu: {single_psu}
post_stratify: {post_stratify}
weight_note: test
design_note: test
questions:
  water_problem_main_source: {{column: problem, recode: {{"1": "yes", "2": "no"}}}}
"""
FRAME_WEIGHT = "{sample_frame: {path: frame.csv, stratum_column: Stratum, population_column: Households}}"
HEADER = "hh_id,governorate,stratum,cluster,displaced,problem\n"
ROWS = [
    "h1,Baghdad,s1,c1,H,1",
    "h2,Baghdad,s1,c2,I,2",
    "h3,Baghdad,s1,c2,R,1",
    "h4,Basrah,s2,c3,H,2",
    "h5,Basrah,s2,c3,,1",       # displacement unknown: in `all` only, no attribute row
]
FRAME = "Stratum,Households\ns1,120\ns2,٤٥\ns3,10\n"  # Arabic-Indic 45; s3 has no respondent (fine)


def make_source(root: Path, sid: str = "s_frame", rows: list[str] | None = None, frame: str | None = FRAME,
                weight: str = FRAME_WEIGHT, single_psu: str = "{rule: skip}", post_stratify: str = "none",
                dated: bool = False) -> Path:
    """A source folder; ``dated`` adds an interview date column (2025-01-15) and maps it."""
    folder = root / "surveys" / sid
    folder.mkdir(parents=True)
    mapping = textwrap.dedent(MAPPING.format(sid=sid, weight=weight, single_psu=single_psu, post_stratify=post_stratify))
    header, lines = HEADER, ROWS if rows is None else rows
    if dated:
        mapping += "interview_date: {column: date}\n"
        header, lines = header.replace("\n", ",date\n"), [f"{r},2025-01-15" for r in lines]
    (folder / "source.yaml").write_text(mapping, encoding="utf-8")
    (folder / "data.csv").write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    if frame is not None:
        (folder / "frame.csv").write_text(frame, encoding="utf-8")
    return folder


def test_sample_frame_gives_design_weights_n_h_over_n_h(tmp_path):
    # h6 (s1) is quarantined for an answer off the scale: n_h counts the 3 loaded respondents of s1
    make_source(tmp_path / "in", rows=ROWS + ["h6,Baghdad,s1,c1,H,7"])
    wh = tmp_path / "wh.duckdb"
    result = ingest(tmp_path / "in", wh)
    assert result.success, failure_message(result)
    weights = dict(table(wh, "SELECT respondent_id, weight FROM raw.survey_respondents").rows())
    assert weights == {"h1": 40.0, "h2": 40.0, "h3": 40.0, "h4": 22.5, "h5": 22.5}  # 120/3 and 45/2
    assert table(wh, "SELECT row_number, column_name FROM audit.quarantine").rows() == [(6, "problem")]
    src = table(wh, "SELECT weight_method, single_psu_rule, strata_combine_json, post_stratify FROM raw.survey_sources")
    assert src.rows() == [("sample_frame", "skip", "{}", "none")]
    # the frame is read with the export, not reported as an undeclared data file
    outcomes = table(wh, "SELECT file_name, outcome FROM audit.file_deliveries").rows()
    assert all(name != "frame.csv" for name, _ in outcomes), outcomes


def test_declared_disaggregation_lands_long_with_its_recode(tmp_path):
    make_source(tmp_path / "in", rows=ROWS + ["h6,Baghdad,s1,c1,X,1"])
    wh = tmp_path / "wh.duckdb"
    assert ingest(tmp_path / "in", wh).success
    attrs = table(wh, "SELECT respondent_id, attribute, value FROM raw.survey_respondent_attributes ORDER BY 1")
    assert attrs.rows() == [("h1", "displacement_status", "non_displaced"), ("h2", "displacement_status", "idp"),
                            ("h3", "displacement_status", "returnee"), ("h4", "displacement_status", "non_displaced")]
    q = table(wh, "SELECT row_number, column_name, value, reason FROM audit.quarantine").rows()
    assert q == [(6, "displaced", "X", "value not in the mapping's recode for displacement_status "
                                         "(expected one of ['H', 'I', 'R'])")]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ("Stratum,Households\ns1,120\n", "strata that sample frame frame.csv does not list"),
        ("Stratum,Households\ns1,120\ns2,\"1,,0\"\n", "row 2 ('1,,0')"),
        ("Stratum,Households\ns1,120\ns2,0\n", "row 2 ('0')"),
        ("Stratum,Households\ns1,120\ns2,45\ns1,3\n", "lists strata more than once: ['s1']"),
        ("Stratum,HH\ns1,120\ns2,45\n", "no column(s) ['Households']"),
        # fewer households than respondents: a weight of 0.5 (sample targets, not a frame)
        ("Stratum,Households\ns1,120\ns2,1\n", "row 2: stratum 's2' population 1 < 2 respondents in wave 2025-01"),
        (None, "sample frame frame.csv not found"),
    ],
)
def test_a_bad_sample_frame_stops_the_run_and_names_the_problem(tmp_path, frame, message):
    make_source(tmp_path / "in", frame=frame)
    result = ingest(tmp_path / "in", tmp_path / "wh.duckdb")
    assert not result.success
    assert message in failure_message(result)


def test_unknown_stratum_names_file_rows_and_stratum(tmp_path):
    make_source(tmp_path / "in", frame="Stratum,Households\ns1,120\n")
    msg = failure_message(ingest(tmp_path / "in", tmp_path / "wh.duckdb"))
    assert "data.csv: stratum 's2' (2 respondent(s), rows 4, 5)" in msg


def test_rule_and_post_stratification_are_recorded_per_wave(tmp_path):
    make_source(tmp_path / "in", weight="{constant: 1}", single_psu="{rule: combine, combine: {s2: s1}}",
                post_stratify="governorate_population", dated=True)
    wh = tmp_path / "wh.duckdb"
    assert ingest(tmp_path / "in", wh).success
    src = table(wh, "SELECT weight_method, single_psu_rule, strata_combine_json, post_stratify FROM raw.survey_sources")
    assert src.rows() == [("constant", "combine", '{"s2": "s1"}', "governorate_population")]


def test_combining_a_stratum_the_wave_does_not_have_stops_the_run(tmp_path):
    make_source(tmp_path / "in", single_psu="{rule: combine, combine: {s9: s1}}")
    msg = failure_message(ingest(tmp_path / "in", tmp_path / "wh.duckdb"))
    assert "single_psu.combine names strata that wave 2025-01 does not have: ['s9']" in msg


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("single_psu", "{rule: skip, combine: {s2: s1}}", "only read with rule: combine"),
        ("single_psu", "{rule: combine, combine: {s1: s2, s2: s3}}", "both join another stratum and are joined"),
        ("single_psu", "{rule: lonely}", "single_psu.rule"),
        ("post_stratify", "census", "post_stratify"),
        # the population target is that of the fieldwork year
        ("post_stratify", "governorate_population", "post_stratify: governorate_population needs interview_date"),
    ],
)
def test_mapping_mistakes_in_design_rules_are_named(tmp_path, field, value, message):
    folder = make_source(tmp_path, **{field: value})
    with pytest.raises(MappingError) as exc:
        load_mapping(folder / "source.yaml")
    assert message in str(exc.value) and "source.yaml" in str(exc.value)


@pytest.mark.parametrize("name", ["hoh_sex", "all", "Displacement"])
def test_reserved_or_malformed_disaggregation_names_are_refused(tmp_path, name):
    folder = make_source(tmp_path)
    path = folder / "source.yaml"
    path.write_text(path.read_text().replace("  displacement_status:", f"  {name}:"), encoding="utf-8")
    with pytest.raises(MappingError, match="reserved or not a lower_snake_case"):
        load_mapping(path)


def test_sample_frame_only_for_the_weight(tmp_path):
    folder = make_source(tmp_path)
    path = folder / "source.yaml"
    path.write_text(path.read_text().replace("stratum: {column: stratum}",
                                             "stratum: {sample_frame: {path: f.csv, stratum_column: a, "
                                             "population_column: b}}"), encoding="utf-8")
    with pytest.raises(MappingError, match="only for the weight"):
        load_mapping(path)


def test_a_recode_onto_a_code_the_question_does_not_have_stops_the_run(tmp_path):
    """A typo in a recode target would quarantine every respondent who gave that answer (and bias the
    estimates of the rest): the mapping is refused, naming question, source value and target."""
    folder = make_source(tmp_path / "in")
    path = folder / "source.yaml"
    path.write_text(path.read_text().replace('"2": "no"', '"2": "nope"'), encoding="utf-8")
    result = ingest(tmp_path / "in", tmp_path / "wh.duckdb")
    assert not result.success
    assert ("questions.water_problem_main_source.recode maps onto codes question water_problem_main_source "
            "does not have: '2' -> 'nope'") in failure_message(result)
