"""Kobo semantics, one fixture per fault class, through the real ingestion assets into a real DuckDB file:
review status, exact duplicates, conflicting copies, edits, soft duplicates, select_multiple answers, form
versions within a wave, interview dates, Eastern digits, districts, personal data, and scales declared onto
the canonical top box (through dbt). Every expected outcome is written out in the test."""

from __future__ import annotations

import textwrap

import pytest

from data_contracts.mapping import MappingError, load_mapping
from tests.pipelines.survey_fixtures import (
    MAPPING,
    accounts,
    exclusions,
    failure_message,
    ingest,
    kobo_csv,
    loaded,
    quarantine,
    submission,
    table,
    write_form,
    write_source,
)


def run(tmp_path, rows: list[dict], extra: str = "xlsform: form.xlsx", files: dict | None = None, **kw):
    write_source(tmp_path / "in", "k", files or {"export.csv": kobo_csv(rows)}, extra=extra, **kw)
    wh = tmp_path / "wh.duckdb"
    result = ingest(tmp_path / "in", wh)
    assert result.success, failure_message(result)
    return wh


# ---------------------------------------------------------------------------------------------- review status


STATUSES = ["validation_status_approved", "validation_status_not_approved", "validation_status_on_hold", "",
            "Not Approved"]


def _reviewed():
    return [submission(f"u{i}", _validation_status=s) for i, s in enumerate(STATUSES, start=1)]


def test_not_approved_submissions_are_excluded_by_default(tmp_path):
    wh = run(tmp_path, _reviewed())
    assert [r[0] for r in loaded(wh)] == ["u1", "u3", "u4"]
    assert exclusions(wh) == [
        ("export.csv", None, 2, "review status not_approved (_validation_status = 'validation_status_not_approved')"),
        ("export.csv", None, 5, "review status not_approved (_validation_status = 'Not Approved')"),
    ]
    assert accounts(wh) == [("export.csv", 5, 3, 2, 0)]


def test_only_approved_submissions_when_the_mapping_says_so(tmp_path):
    wh = run(tmp_path, _reviewed(), extra="xlsform: form.xlsx\nvalidation_status: {include: [approved]}")
    assert [r[0] for r in loaded(wh)] == ["u1"]
    assert [e[2] for e in exclusions(wh)] == [2, 3, 4, 5]
    assert exclusions(wh)[2][3] == "review status received (_validation_status = 'blank')"


def test_an_unknown_review_status_is_quarantined(tmp_path):
    wh = run(tmp_path, [submission("u1"), submission("u2", _validation_status="maybe")])
    assert [q[2:5] for q in quarantine(wh)] == [(2, "_validation_status", "maybe")]


# ---------------------------------------------------------------------------------------------- duplicates


def test_an_exact_duplicate_loads_once(tmp_path):
    first = submission("u1")
    again = {**first, "_id": "99999", "_submission_time": "2025-03-04T10:00:00"}  # received twice by the server
    wh = run(tmp_path, [first, submission("u2"), again])
    assert [r[0] for r in loaded(wh)] == ["u1", "u2"]
    assert exclusions(wh) == [("export.csv", None, 3, "exact duplicate of export.csv row 1 (same _uuid and answers)")]
    assert accounts(wh) == [("export.csv", 3, 2, 1, 0)]


def test_same_id_with_different_answers_quarantines_every_copy(tmp_path):
    wh = run(tmp_path, [submission("u1", water="good"), submission("u2"), submission("u1", water="poor")])
    assert [r[0] for r in loaded(wh)] == ["u2"]
    q = quarantine(wh)
    assert [r[2:5] for r in q] == [(1, "_uuid", "u1"), (3, "_uuid", "u1")]
    assert q[0][5] == ("respondent id repeated with different answers (export.csv row 1, export.csv row 3): "
                       "which copy is right cannot be told")
    assert accounts(wh) == [("export.csv", 3, 1, 0, 2)]


def test_edited_submissions_keep_the_latest_edit(tmp_path):
    lineage = lambda inst, root, dep: {"meta/instanceID": f"uuid:{inst}", "meta/rootUuid": f"uuid:{root}",  # noqa: E731
                                      "meta/deprecatedID": f"uuid:{dep}" if dep else ""}
    rows = [
        submission("a1", water="poor", **lineage("a1", "a1", None)),      # original
        submission("a3", water="good", **lineage("a3", "a1", "a2")),      # second edit (latest), before the first
        submission("a2", water="adequate", **lineage("a2", "a1", "a1")),  # first edit
        submission("b1", water="excellent", **lineage("b1", "b1", None)),  # never edited
    ]
    wh = run(tmp_path, rows)
    assert loaded(wh) == [("a3", "IQG08", "good", 6.0), ("b1", "IQG08", "excellent", 6.0)]
    assert exclusions(wh) == [
        ("export.csv", None, 1, "earlier version of an edited submission: superseded by its edit a3 (export.csv row 2)"),
        ("export.csv", None, 3, "earlier version of an edited submission: superseded by its edit a3 (export.csv row 2)"),
    ]


def test_soft_duplicates_of_one_enumerator_are_flagged_and_kept(tmp_path):
    # the same household interviewed twice by enumerator 7 (one field differs out of many); enumerator 8
    # gives the same answers but is someone else; u4 differs in several answers
    many = {f"q{i}": str(i % 3) for i in range(20)}
    rows = [submission("u1", enumerator="7", **many), submission("u2", enumerator="7", hours="5", **many),
            submission("u3", enumerator="8", **many),
            submission("u4", enumerator="7", water="poor", problems="cuts", hours="1", cluster="c2",
                       **{**many, "q1": "x", "q2": "y", "q3": "z"})]
    wh = run(tmp_path, rows, extra="xlsform: form.xlsx\nduplicates: {enumerator: enumerator, soft_min_fields: 10}")
    assert [r[0] for r in loaded(wh)] == ["u1", "u2", "u3", "u4"]
    flags = table(wh, "SELECT flag, row_number, respondent_id, other_row_number, other_respondent_id, fields_compared, "
                      "round(similarity, 4) FROM audit.review_flags").rows()
    # compared: water, problems, hours, q0..q19 = 23 fields answered by both; 22 identical -> 2*22/46
    assert flags == [("soft_duplicate", 1, "u1", 2, "u2", 23, round(44 / 46, 4))]
    detail = table(wh, "SELECT detail FROM audit.review_flags").item()
    assert detail.startswith("same enumerator (enumerator = '7'); 95.7% of the 23 fields")


# ---------------------------------------------------------------------------------------------- select_multiple


def test_select_multiple_faults(tmp_path):
    rows = [
        submission("u1"),                                              # fine: cuts dirty
        submission("u2", problems="cuts", **{"problems/dirty": "1"}),  # splits say cuts+dirty, answer says cuts
        submission("u3", problems="cuts smell"),                       # 'smell' not in the list
        submission("u4", **{"problems/smell": "1"}),                   # a split column of an unknown choice, chosen
        submission("u5", **{"problems/smell": "0"}),                   # ... not chosen: nothing to quarantine
        submission("u6", problems="cuts", **{"problems/low_pressure": "2"}),  # a split value that is not 1/0
    ]
    wh = run(tmp_path, rows)
    assert [r[0] for r in loaded(wh)] == ["u1", "u5"]
    q: dict[tuple, set] = {}
    for r in quarantine(wh):
        q.setdefault((r[2], r[3]), set()).add(r[5])
    assert q == {
        (2, "problems"): {"the space-separated answer and the split columns disagree (split columns chose: cuts dirty)"},
        # 'smell' is not on the list, and no split column chose it
        (3, "problems"): {"has a choice not in list 'probs' (XLSForm select_multiple)",
                          "the space-separated answer and the split columns disagree (split columns chose: cuts)"},
        (4, "problems/smell"): {"choice 'smell' is not in list 'probs' of problems (XLSForm select_multiple)"},
        (6, "problems/low_pressure"): {"select_multiple split column must be 1/0 (or True/False), blank when skipped"},
    }
    assert accounts(wh) == [("export.csv", 6, 2, 0, 4)]


def test_select_multiple_without_split_columns_is_read_from_the_answer(tmp_path):
    rows = [submission("u1"), submission("u2", problems=None)]
    cols = [c for c in rows[0] if not c.startswith("problems/")]
    wh = run(tmp_path, rows, files={"export.csv": kobo_csv(rows, columns=cols)})
    multi = table(wh, "SELECT respondent_id, choice_code, is_selected FROM raw.survey_multi_select ORDER BY 1, 2").rows()
    assert multi == [("u1", "cuts", True), ("u1", "dirty", True), ("u1", "low_pressure", False),
                     ("u2", "cuts", None), ("u2", "dirty", None), ("u2", "low_pressure", None)]


def test_select_one_code_not_in_the_list_is_quarantined_and_ids_keep_leading_zeros(tmp_path):
    wh = run(tmp_path, [submission("007"), submission("008", water="superb")])
    assert [r[0] for r in loaded(wh)] == ["007"]
    assert [r[2:6] for r in quarantine(wh)][0] == (2, "water", "superb", "not a choice of list 'rating' (XLSForm select_one)")


# ---------------------------------------------------------------------------------------------- form versions


def test_two_form_versions_in_one_wave_line_up_by_question_name(tmp_path):
    folder = tmp_path / "in" / "surveys" / "k"
    folder.mkdir(parents=True)
    write_form(folder / "form_v1.xlsx", drop={"hours"})  # version 1 did not ask the hours
    write_form(folder / "form_v2.xlsx", extra_choices=[("probs", "smell", "Bad smell", "رائحة")])  # v2 adds a choice
    v1_rows = [submission("a1"), submission("a2", water="poor")]
    v1_cols = [c for c in v1_rows[0] if c != "hours"]
    v2_rows = [submission("b1", problems="smell", **{"problems/smell": "1"}), submission("a2", water="poor", hours=None)]
    (folder / "export_v1.csv").write_bytes(kobo_csv(v1_rows, columns=v1_cols))
    (folder / "export_v2.csv").write_bytes(kobo_csv([{**r, "problems/smell": r.get("problems/smell", "0")} for r in v2_rows]))
    mapping = MAPPING.format(sid="k", fmt="kobo_csv", extra="", glob="x", id_col="_uuid").replace(
        '  - path: "x"\n    wave_id: "2025-03"\n',
        '  - {path: "export_v1*.csv", wave_id: "2025-03", part: v1, xlsform: form_v1.xlsx}\n'
        '  - {path: "export_v2*.csv", wave_id: "2025-03", part: v2, xlsform: form_v2.xlsx}\n')
    (folder / "source.yaml").write_text(mapping, encoding="utf-8")
    wh = tmp_path / "wh.duckdb"
    result = ingest(tmp_path / "in", wh)
    assert result.success, failure_message(result)
    # a2 was delivered in both exports with the same answers (hours aside: v1 never asked it): loaded once
    assert loaded(wh) == [("a1", "IQG08", "good", None), ("a2", "IQG08", "poor", None), ("b1", "IQG08", "good", 6.0)]
    assert exclusions(wh) == [("export_v2.csv", None, 2, "exact duplicate of export_v1.csv row 2 (same _uuid and answers)")]
    notes = table(wh, "SELECT file_name, note FROM audit.source_notes").rows()
    assert notes[0][0] == "export_v1.csv" and "water_piped_hours_per_day" in notes[0][1] and "not asked" in notes[0][1]
    assert table(wh, "SELECT choice_code FROM raw.survey_multi_select WHERE respondent_id = 'b1' AND is_selected"
                 ).rows() == [("smell",)]
    assert accounts(wh) == [("export_v1.csv", 2, 2, 0, 0), ("export_v2.csv", 2, 1, 1, 0)]


def test_two_files_of_one_wave_without_parts_are_refused_by_the_mapping(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text(MAPPING.format(sid="k", fmt="kobo_csv", extra="", glob="x", id_col="_uuid").replace(
        '  - path: "x"\n    wave_id: "2025-03"\n', '  - {path: a.csv, wave_id: "1"}\n  - {path: b.csv, wave_id: "1"}\n'))
    with pytest.raises(MappingError, match="same wave"):
        load_mapping(p)


# ---------------------------------------------------------------------------------------------- dates, digits


def test_interview_date_is_the_local_start_date_with_any_offset_spelling(tmp_path):
    rows = [submission("u1", start="2025-03-02T23:50:00.000+03"),     # 20:50 UTC the same day
            submission("u2", start="2025-03-03T00:10:00.000+0300"),   # 21:10 UTC the day before
            submission("u3", start="2025-03-03T00:10:00.000+03:00")]
    wh = run(tmp_path, rows)
    assert table(wh, "SELECT respondent_id, interview_date::VARCHAR FROM raw.survey_respondents ORDER BY 1").rows() == [
        ("u1", "2025-03-02"), ("u2", "2025-03-03"), ("u3", "2025-03-03")]


def test_submission_time_is_refused_as_the_interview_date(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text(MAPPING.format(sid="k", fmt="kobo_csv", extra="", glob="x", id_col="_uuid").replace(
        "interview_date: {column: start}", "interview_date: {column: _submission_time}"))
    with pytest.raises(MappingError, match="UTC"):
        load_mapping(p)


def test_eastern_digits_parse_and_malformed_numbers_are_quarantined_with_the_value(tmp_path):
    rows = [submission("u1", weight="١٫٥", hours="١٢"),        # Arabic-Indic 1.5 and 12
            submission("u2", weight="۲", hours="۸"),            # Persian 2 and 8
            submission("u3", hours="1,,0"), submission("u4", hours="12abc")]
    wh = run(tmp_path, rows)
    assert table(wh, "SELECT respondent_id, weight FROM raw.survey_respondents ORDER BY 1").rows() == [
        ("u1", 1.5), ("u2", 2.0)]
    assert [r[1:4] for r in loaded(wh)] == [("IQG08", "good", 12.0), ("IQG08", "good", 8.0)]
    assert {(r[2], r[4]) for r in quarantine(wh)} == {(3, "1,,0"), (4, "12abc")}


# ---------------------------------------------------------------------------------------------- districts, personal


def test_district_names_resolve_to_p_codes_within_their_governorate(tmp_path):
    rows = [submission("u1", gov="baghdad", district_name="Al-Karkh"), submission("u2", gov="basra", district_name="الزبير"),
            submission("u3", gov="erbil", district_name="Al-Karkh"),     # a Baghdad district
            submission("u4", gov="erbil", district_name="Atlantis")]
    wh = run(tmp_path, rows, extra="xlsform: form.xlsx\ndistrict: {column: district_name}")
    assert table(wh, "SELECT respondent_id, district_pcode FROM raw.survey_respondents ORDER BY 1").rows() == [
        ("u1", "IQG08Q03"), ("u2", "IQG02Q06")]
    q = {r[2]: r[5] for r in quarantine(wh)}
    assert "Al-Karkh" in q[3] and "IQG11" in q[3] and "IQG08" in q[3]
    assert "Atlantis" in q[4]


def test_geo_fields_and_name_like_columns_never_reach_the_warehouse(tmp_path):
    folder = tmp_path / "in" / "surveys" / "k"
    folder.mkdir(parents=True)
    write_form(folder / "form.xlsx", extra_survey=[("geotrace", "walk", "Route walked", "المسار"),
                                                 ("text", "phone_2", "Second phone", "هاتف")])
    rows = [submission("u1", walk="36.1 44.0 0 0;36.2 44.1 0 0", phone_2="0770 000 0000", respondent_whatsapp="0771")]
    (folder / "export.csv").write_bytes(kobo_csv(rows))
    wh = run(tmp_path, rows, files={"export.csv": kobo_csv(rows)}, form=False)
    dropped = dict(table(wh, "SELECT column_name, reason FROM audit.dropped_columns").rows())
    assert dropped["walk"] == "position (XLSForm geo field / Kobo _geolocation)"
    assert dropped["phone_2"] == dropped["respondent_whatsapp"] == dropped["hh_name"] == "name/phone/position-like column name"
    values = set(table(wh, "SELECT value_text FROM raw.survey_submissions")["value_text"])
    assert not values & {"0770 000 0000", "0771", "Ahmad Ali"} and not any("36.1" in v for v in values)


# ---------------------------------------------------------------------------------------------- scales


def test_a_declared_scale_needs_a_question_with_boxes_and_nonresponse_targets(tmp_path):
    bad = textwrap.dedent("""
        water_piped_hours_per_day:
          column: hours
          scale: {points: 2, top_box: ["1"], bottom_box: ["2"]}
    """)
    p = tmp_path / "m.yaml"
    p.write_text(MAPPING.format(sid="k", fmt="kobo_csv", extra="", glob="x", id_col="_uuid").split("questions:")[0]
                 + "questions:" + textwrap.indent(bad, "  "))
    mapping = load_mapping(p)  # valid YAML and shape; the question bank check happens before any row is read
    from pipelines.ingest.survey import _check_question_maps
    from data_contracts.mapping import load_question_bank
    with pytest.raises(MappingError, match="no top_box/bottom_box"):
        _check_question_maps(mapping, load_question_bank())
    p.write_text(p.read_text().replace("points: 2", "points: 3"))
    with pytest.raises(MappingError, match="points: 3 but"):
        load_mapping(p)


FIRM = """
source_id: {sid}
domain: survey
title: {sid}
format: csv
files: [{{path: data.csv, wave_id: "{wave}"}}]
respondent_id: id
governorate: {{constant: Baghdad}}
stratum: {{constant: all}}
psu: {{per_respondent: true}}
weight: {{constant: 1}}
weight_note: test
design_note: test
questions:
  water_service_rating:
    column: rating
{question}
"""


def test_a_four_point_scale_lines_up_with_five_point_waves_on_the_top_and_bottom_box(tmp_path):
    """Firm A rates on the canonical 5 points, firm B on 4 (very good, good, bad, very bad) declared onto
    the top box (very good, good) and bottom box (bad, very bad): both give "good or excellent" and "poor or
    very poor"; only firm A gives the full distribution (firm B has no "adequate")."""
    from pipelines.cli import run_pipeline

    root = tmp_path / "in"
    five = {"1": 4, "2": 12, "3": 10, "4": 8, "5": 6}   # excellent .. very poor
    four = {"1": 6, "2": 16, "3": 10, "4": 8, "9": 3}   # very good, good, bad, very bad; 9 = don't know
    for sid, wave, counts, question in (
        ("firm_a", "2025-01", five,
         '    recode: {"1": excellent, "2": good, "3": adequate, "4": poor, "5": very_poor}'),
        ("firm_b", "2025-06", four,
         '    scale: {points: 4, top_box: ["1", "2"], bottom_box: ["3", "4"], nonresponse: {"9": dont_know}}'),
    ):
        folder = root / "surveys" / sid
        folder.mkdir(parents=True)
        codes = [c for c, n in counts.items() for _ in range(n)]
        (folder / "data.csv").write_text("id,rating\n" + "".join(f"{sid}-{i},{c}\n" for i, c in enumerate(codes)))
        (folder / "source.yaml").write_text(FIRM.format(sid=sid, wave=wave, question=question), encoding="utf-8")
    summary = run_pipeline(root, tmp_path / "wh" / "mizan.duckdb")
    wh = summary["snapshot"]
    got = dict(((r[0], r[1]), r[2]) for r in table(wh, "SELECT source_id, indicator_id, estimate FROM "
               "marts.fct_service_indicators WHERE disaggregation = 'all'").rows())
    assert got == {("firm_a", "water_service_good"): pytest.approx(16 / 40), ("firm_a", "water_service_poor"): pytest.approx(14 / 40),
                   ("firm_b", "water_service_good"): pytest.approx(22 / 40), ("firm_b", "water_service_poor"): pytest.approx(18 / 40)}
    # the don't-know answers of firm B are the excluded share, as on a 5-point scale
    excluded = table(wh, "SELECT excluded_share FROM marts.fct_service_indicators WHERE source_id = 'firm_b' "
                         "AND indicator_id = 'water_service_good'").item()
    assert excluded == pytest.approx(3 / 43)
    dist = table(wh, "SELECT DISTINCT source_id FROM marts.fct_response_distribution").rows()
    assert dist == [("firm_a",)]
    stored = table(wh, "SELECT answer_source, answer_code, source_scale FROM raw.survey_answers WHERE source_id = "
                       "'firm_b' GROUP BY ALL ORDER BY 1").rows()
    scale = "4-point: top box ['1', '2'], middle [], bottom box ['3', '4']"
    assert stored == [("1", "top_box", scale), ("2", "top_box", scale), ("3", "bottom_box", scale),
                      ("4", "bottom_box", scale), ("9", "dont_know", scale)]
