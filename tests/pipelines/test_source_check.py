"""``mizan source check``: real deliveries from ../shared/data (read in place, never copied) and deliveries built
here in tmp_path (Windows-1256 CSV, ``;``+BOM Kobo CSV with its XLSForm, SPSS with value labels and a
user-missing code, Kobo XLSX with a repeat sheet), through the real readers, resolvers and ingestion.

Expected values are written here from the files themselves (counted by hand or by an independent read in the
test), never taken from the code under test.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pyreadstat
import pytest
import yaml

from data_contracts.mapping import MappingError, SurveyMapping, load_mapping
from pipelines.cli import main
from pipelines.ingest.common import DiscoveredSource
from pipelines.ingest.survey import ingest_survey_source
from pipelines.source_check import SourceCheckError, check_source, draft_mapping, format_report

SURVEYS = "surveys"


def fill_todos(text: str, value: str = "Filled in by the engineer") -> str:
    """What the engineer does: replace every TODO value (double-quoted strings starting with TODO)."""
    filled = re.sub(r'"TODO: [^"\n]*"', json.dumps(value), text)
    assert "TODO:" not in re.sub(r"#.*", "", filled), "a TODO value left outside a comment"
    return filled


def load_draft(text: str, tmp_path: Path, name: str = "draft.yaml") -> SurveyMapping:
    path = tmp_path / name
    path.write_text(fill_todos(text), encoding="utf-8")
    mapping = load_mapping(path)
    assert isinstance(mapping, SurveyMapping)
    return mapping


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


# ------------------------------------------------------------------------------------------------------
# Real deliveries
# ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mcna(shared_data: Path) -> dict:
    return check_source(shared_data / SURVEYS / "reach_mcna_2020_incamp")


def test_mcna_format_and_shape(mcna):
    files = {f["file"]: f["role"] for f in mcna["files"]}
    assert files["export.csv"] == "data" and files["xlsform.xlsx"] == "xlsform"
    # REACH's results tables beside the export are companions, not survey data
    assert files["mcna_indicator_lookup.csv"] == "other_table"
    [p] = mcna["data"]
    assert (p["file"], p["format"], p["delimiter"], p["choice_separator"]) == ("export.csv", "kobo_csv", ",", ".")
    assert p["encoding"] == "utf-8" and p["bom"] is False
    assert p["header_style"] == "kobo" and p["xlsform"] == "xlsform.xlsx"
    assert (p["rows"], p["columns"]) == (288, 625)


def test_mcna_xlsform_match(mcna):
    fm = mcna["data"][0]["form_match"]
    # the in-camp tool's own questions are not in the shipped MCNA form
    assert {"call_status", "camp_name", "governorate_cccm", "complaints", "complaint_outcome"} <= set(fm["not_in_form"])
    assert "consent" not in fm["not_in_form"] and "start" not in fm["not_in_form"]
    # the fixes the shipped mapping declares are the ones found
    assert fm["value_problems"]["latrines"]["fix"] == {"type": "text"}
    assert fm["value_problems"]["why_not_return"]["fix"] == {"add_choices": ["commun_tensions", "civil_doc",
                                                                             "sec_clearance"]}
    assert 0.5 < fm["share_in_form"] < 0.7


def test_mcna_governorate_and_design(mcna):
    p = mcna["data"][0]
    gov = p["governorate"][0]
    assert gov["column"] == "governorate_cccm" and gov["via"] == "value"
    assert gov["resolved"] == {"duhok": "IQG09", "al.anbar": "IQG01"} and gov["unresolved"] == {}
    ds = p["design"]
    assert ds["id"]["candidates"][0] == "_uuid"
    camp = next(c for c in ds["psu"] if c["column"] == "camp_name")
    assert camp["distinct"] == 4 and camp["nested_in"] == ["governorate_cccm"]
    assert ds["interview_date"]["candidates"][0]["column"] == "start"
    assert "_submission_time" in ds["interview_date"]["warning"]
    assert ds["eligibility"][0]["column"] == "call_status" and ds["eligibility"][0]["include"] == ["answered"]
    assert ds["eligibility"][0]["values"] == {"answered": 264, "wrong_number": 11, "off": 10, "no_answer": 3}
    assert ds["consent"][0]["include"] == ["yes"]
    assert ds["enumerator"][0]["column"] == "enumerator_num"
    assert ds["weight"] == []


def test_mcna_personal_data(mcna):
    pe = mcna["data"][0]["personal"]
    assert pe["dropped_by_ingestion"]["deviceid"] == "XLSForm device/contact metadata"
    assert "audit" in pe["dropped_by_ingestion"]
    assert "camp_name" not in pe["dropped_by_ingestion"]  # a place name


def test_mcna_question_suggestions(mcna):
    best = {}
    for s in mcna["data"][0]["question_suggestions"]:
        best.setdefault(s["question_id"], s["column"])
    # the columns the shipped mapping maps, found from the wording alone
    assert best["drinking_water_main_source"] == "drinking_water_source"
    assert best["health_care_needed_last_3_months"] == "health_accessed"
    assert best["health_facility_walk_time"] == "distance_clinic"
    assert best["women_girls_avoid_unsafe_areas"] == "feel_unsafe"


def test_an_unfilled_draft_is_refused_naming_its_todo_fields(mcna, tmp_path):
    path = tmp_path / "draft.yaml"
    path.write_text(draft_mapping(mcna), encoding="utf-8")
    with pytest.raises(MappingError, match=r"fields still marked TODO.*\btitle\b.*weight_note"):
        load_mapping(path)


def test_mcna_draft_loads_and_ingests(mcna, shared_data, tmp_path):
    text = draft_mapping(mcna)
    # camp_name names a place, not a person: no not_personal entry is needed for the PSU column
    assert 'choice_separator: "."' in text and "camp_name" not in text.split("not_personal:")[-1].split("\n")[0]
    mapping = load_draft(text, tmp_path)
    assert mapping.respondent_id == "_uuid" and mapping.governorate.column == "governorate_cccm"
    assert mapping.psu.column == "camp_name" and mapping.consent.include == ["yes"]
    assert [r.column for r in mapping.include_only] == ["call_status"]
    folder = shared_data / SURVEYS / "reach_mcna_2020_incamp"
    result = ingest_survey_source(DiscoveredSource(mapping.source_id, "survey", folder, None), mapping)
    [acc] = result.files
    # 24 calls not answered (11 wrong number, 10 off, 3 no answer) are excluded; of the 264 answered calls one
    # has no camp_name (25 blanks in the file, 24 of them unanswered calls): its PSU is blank -> quarantined
    assert (acc.rows_read, acc.rows_loaded, acc.rows_excluded, acc.rows_quarantined) == (288, 263, 24, 1)


def test_mcna_against_the_shipped_mapping(shared_data):
    from data_contracts.mapping import SOURCES_DIR

    folder = shared_data / SURVEYS / "reach_mcna_2020_incamp"
    profile = check_source(folder, mapping_path=SOURCES_DIR / "reach_mcna_2020_incamp.yaml")
    mu = profile["data"][0]["mapping_use"]
    assert mu["mapped_columns_missing"] == []
    assert {"idp_camp", "safe_day", "safe_night"} <= set(mu["columns_not_used"])
    assert "camp_name" not in mu["columns_not_used"] and "feel_unsafe" not in mu["columns_not_used"]
    assert "question_suggestions" not in profile["data"][0]


def test_talafar_r_make_names(shared_data, tmp_path):
    profile = check_source(shared_data / SURVEYS / "talafar_water_2021")
    files = {f["file"]: f["role"] for f in profile["files"]}
    assert files["sample_frame.csv"] == "sample_frame"
    [p] = profile["data"]
    assert p["format"] == "kobo_csv" and p["header_style"] == "r_make_names"
    assert "X.U.FEFF.start" in p["header_detection"]["evidence"]["r_make_names"]
    assert (p["rows"], p["form_match"]["share_in_form"]) == (632, 1.0)
    # translated back to Kobo names: _uuid and start, not X_uuid and X.U.FEFF.start
    assert p["design"]["id"]["candidates"][0] == "_uuid"
    assert p["design"]["interview_date"]["candidates"][0]["column"] == "start"
    assert p["form_match"]["value_problems"]["pay_water_charges_when"]["fix"] == {"add_choices": ["about_half"]}
    mapping = load_draft(draft_mapping(profile), tmp_path)
    assert mapping.header_style == "r_make_names" and mapping.consent.column == "consent_remote"


def test_iom_plain_csv(shared_data, tmp_path):
    profile = check_source(shared_data / SURVEYS / "iom_dtm_ila5_2020")
    [p] = profile["data"]
    assert p["format"] == "csv" and p["header_style"] == "plain" and p["form_match"] is None and "typed_by" not in p
    gov = p["governorate"][0]
    assert gov["column"] == "GovernorateE" and gov["resolved"]["Ninewa"] == "IQG15"
    assert gov["resolved"]["Sulaymaniyah"] == "IQG06"
    dropped = p["personal"]["dropped_by_ingestion"]
    assert {"Latitude", "Longitude"} <= set(dropped)
    assert p["design"]["id"]["candidates"][0] == "LocationID"
    assert p["design"]["interview_date"]["candidates"][0]["column"] == "DateofInterview"
    district = {d["column"]: d for d in p["district"]}
    assert district["DistrictE"]["governorate_context"] == "GovernorateE"
    assert "Abu Ghraib" in district["DistrictE"]["unresolved"]  # split between COD-AB districts
    mapping = load_draft(draft_mapping(profile), tmp_path)
    assert set(mapping.personal_columns) >= {"Latitude", "Longitude"}


# ------------------------------------------------------------------------------------------------------
# Built deliveries
# ------------------------------------------------------------------------------------------------------


def write_xlsform(path: Path, survey: list[tuple], choices: list[tuple]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label::English (en)"])
    for row in survey:
        ws.append(list(row))
    ch = wb.create_sheet("choices")
    ch.append(["list_name", "name", "label::English (en)"])
    for row in choices:
        ch.append(list(row))
    wb.save(path)


KOBO_SURVEY = [
    ("start", "start", None), ("end", "end", None), ("today", "today", None), ("deviceid", "deviceid", None),
    ("text", "enumerator_code", "Enumerator"),
    ("select_one yn", "consent", "Do you agree to answer a few questions?"),
    ("select_one gov", "gov", "Governorate"),
    ("calculate", "stratum", None),
    ("integer", "cluster", "Cluster number"),
    ("text", "resp_phone", "Phone number of the respondent"),
    ("decimal", "hh_weight", None),
    ("select_one rating", "water_rating",
     "How do you rate the overall level of service from the municipal water supply system?"),
    ("select_multiple svc", "services", "Which services reach your home?"),
    ("text", "comment", "Anything else?"),
]
KOBO_CHOICES = [
    ("yn", "yes", "Yes"), ("yn", "no", "No"),
    ("gov", "g1", "Basrah"), ("gov", "g2", "Ninewa"),
    ("rating", "1", "Excellent"), ("rating", "2", "Good"), ("rating", "3", "Adequate"), ("rating", "4", "Poor"),
    ("rating", "5", "Very poor"), ("rating", "9", "Don't know"),
    ("svc", "water", "Water"), ("svc", "power", "Electricity"),
]
KOBO_HEADER = ["start", "end", "today", "deviceid", "enumerator_code", "consent", "gov", "stratum", "cluster",
               "resp_phone", "hh_weight", "water_rating", "services", "services/water", "services/power", "comment",
               "_id", "_uuid", "_submission_time", "_validation_status", "_index"]


def kobo_rows() -> list[list[str]]:
    """12 submissions: 8 load; row 10 refused consent, row 11 was not approved (both excluded); rows 3 and 12 share
    a _uuid with different answers (both quarantined as conflicting copies)."""
    rows = []
    for i in range(1, 13):
        north = i % 2 == 1
        services = ["water power", "water", "power", ""][i % 4]
        rows.append([
            f"2024-05-0{1 + i % 3}T10:{i:02d}:00.000+03:00", f"2024-05-0{1 + i % 3}T10:{i + 20:02d}:00.000+03:00",
            f"2024-05-0{1 + i % 3}", f"ee:{i:02d}", f"E{i % 3}", "yes", "g1" if north else "g2",
            "north" if north else "south", str(1 + i % 2 + (0 if north else 2)), f"0770123{i:04d}",
            f"{1 + i / 10:.1f}", str(1 + i % 5), services,
            "" if not services else ("1" if "water" in services else "0"),
            "" if not services else ("1" if "power" in services else "0"),
            "fine" if i % 2 else "", str(1000 + i), f"uuid-{i:02d}", f"2024-05-0{2 + i % 3}T08:00:00", "",
            str(i),
        ])
    rows[9][5] = "no"  # row 10: consent refused
    rows[10][19] = "validation_status_not_approved"  # row 11: rejected by the reviewer
    rows[11][17] = "uuid-03"  # row 12: same submission id as row 3, other answers
    return rows


@pytest.fixture
def kobo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "landing" / "acme_2024"
    folder.mkdir(parents=True)
    write_xlsform(folder / "form.xlsx", KOBO_SURVEY, KOBO_CHOICES)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(KOBO_HEADER)
    writer.writerows(kobo_rows())
    (folder / "export.csv").write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
    return folder


def test_kobo_csv_profile(kobo_folder):
    profile = check_source(kobo_folder, wave_id="2024-R1")
    [p] = profile["data"]
    assert (p["format"], p["delimiter"], p["bom"], p["encoding"]) == ("kobo_csv", ";", True, "utf-8")
    assert (p["rows"], p["columns"]) == (12, 21)
    assert p["form_match"]["share_in_form"] == 1.0 and p["form_match"]["value_problems"] == {}
    gov = p["governorate"][0]
    assert (gov["column"], gov["via"]) == ("gov", "label_en")
    assert gov["resolved"] == {"g1": "IQG02", "g2": "IQG15"}
    ds = p["design"]
    assert ds["id"]["candidates"][0] == "_uuid"
    assert [w["column"] for w in ds["weight"]] == ["hh_weight"] and ds["weight"][0]["usable"]
    assert [s["column"] for s in ds["stratum"]] == ["stratum"]
    assert ds["psu"][0]["column"] == "cluster" and "stratum" in ds["psu"][0]["nested_in"]
    assert ds["review_status"]["folded"] == {"received": 11, "not_approved": 1}
    assert set(p["personal"]["dropped_by_ingestion"]) == {"deviceid", "resp_phone"}
    suggested = {s["question_id"]: s["column"] for s in p["question_suggestions"]}
    assert suggested["water_service_rating"] == "water_rating"


def test_kobo_csv_draft_loads_and_ingests(kobo_folder, tmp_path):
    profile = check_source(kobo_folder, wave_id="2024-R1")
    text = draft_mapping(profile)
    yaml.safe_load(text)  # valid YAML as written, TODOs included
    mapping = load_draft(text, tmp_path)
    assert (mapping.format, mapping.delimiter, mapping.xlsform) == ("kobo_csv", ";", "form.xlsx")
    assert mapping.files[0].wave_id == "2024-R1" and mapping.respondent_id == "_uuid"
    assert (mapping.governorate.column, mapping.governorate.via) == ("gov", "label_en")
    assert (mapping.stratum.column, mapping.psu.column, mapping.weight.column) == ("stratum", "cluster", "hh_weight")
    assert mapping.interview_date.column == "start" and mapping.duplicates.enumerator == "enumerator_code"
    assert mapping.title == "Filled in by the engineer"
    result = ingest_survey_source(DiscoveredSource("acme_2024", "survey", kobo_folder, None), mapping)
    [acc] = result.files
    assert (acc.rows_read, acc.rows_loaded, acc.rows_excluded, acc.rows_quarantined) == (12, 8, 2, 2)
    resp = result.tables["survey_respondents"]
    assert resp.height == 8
    assert set(resp["governorate_pcode"].to_list()) == {"IQG02", "IQG15"}
    dropped = set(result.frame("dropped_columns")["column_name"].to_list())
    assert {"deviceid", "resp_phone"} <= dropped


def test_windows_1256_csv(tmp_path):
    folder = tmp_path / "arabic_2024"
    folder.mkdir()
    prefix = b"id,governorate,q1\r\n1,"
    body = "البصرة,نعم\r\n2,نينوى,لا\r\n3,البصره,نعم\r\n".encode("cp1256")
    (folder / "data.csv").write_bytes(prefix + body)
    with pytest.raises(SourceCheckError) as err:
        check_source(folder)
    msg = str(err.value)
    assert msg.startswith("data.csv:") and "offset 21" in msg  # len(prefix) == 21: the first Arabic byte
    assert "cp1256" in msg and "--encoding cp1256" in msg
    profile = check_source(folder, encoding="cp1256")
    [p] = profile["data"]
    assert p["encoding"] == "cp1256" and p["format"] == "csv"
    gov = p["governorate"][0]
    assert gov["column"] == "governorate"
    assert gov["resolved"] == {"البصرة": "IQG02", "نينوى": "IQG15", "البصره": "IQG02"}
    mapping = load_draft(draft_mapping(profile), tmp_path)
    assert mapping.encoding == "cp1256"


def test_spss_value_labels_and_user_missing(tmp_path):
    folder = tmp_path / "firm_spss_2024"
    folder.mkdir()
    df = pd.DataFrame({
        "resp_id": [101.0, 102.0, 103.0, 104.0, 105.0],
        "gov": [1.0, 2.0, 1.0, 2.0, 1.0],
        "q_water": [1.0, 2.0, 9.0, 8.0, 3.0],
    })
    pyreadstat.write_sav(
        df, str(folder / "wave1.sav"),
        column_labels={"resp_id": "Respondent id", "gov": "Governorate",
                       "q_water": "How do you rate the municipal water supply service?"},
        variable_value_labels={"gov": {1: "Basrah", 2: "Erbil"},
                               "q_water": {1: "Good", 2: "Fair", 3: "Poor", 8: "Refused", 9: "Don't know"}},
        missing_ranges={"q_water": [8, 9]},
        variable_format={"resp_id": "F8.0", "gov": "F8.0", "q_water": "F8.0"},
    )
    profile = check_source(folder)
    [p] = profile["data"]
    assert p["format"] == "spss" and p["rows"] == 5
    gov = p["governorate"][0]
    assert (gov["column"], gov["via"]) == ("gov", "label_en")
    assert gov["resolved"] == {"1": "IQG02", "2": "IQG11"}
    missing = {(m["column"], m["code"]): m["suggest"] for m in p["missing_codes"]}
    assert missing == {("q_water", "8"): "prefer_not_answer", ("q_water", "9"): "dont_know"}
    assert p["design"]["id"]["candidates"] == ["resp_id"]
    text = draft_mapping(profile)
    assert "header_style" not in re.sub(r"#.*", "", text) and "xlsform" not in re.sub(r"#.*", "", text)
    assert "q_water: {'8': prefer_not_answer}" in text
    mapping = load_draft(text, tmp_path)
    assert mapping.format == "spss" and mapping.governorate.via == "label_en"


def test_plain_csv_with_codebook(tmp_path):
    folder = tmp_path / "firm_plain_2024"
    folder.mkdir()
    (folder / "codebook.csv").write_text(
        "variable,type,label,values,missing\n"
        "hh_id,text,Household id,,\n"
        "province,select_one,Province,1=Basrah; 2=Babil,\n"
        "trust,select_one,How much do you trust the local government of your governorate?,"
        "1=A great deal; 2=Quite a lot; 3=Not very much; 4=None at all; 8=Refused; 9=Don't know,8; 9\n")
    (folder / "survey.csv").write_text("hh_id,province,trust\nA1,1,2\nA2,2,9\nA3,1,5\n")
    profile = check_source(folder)
    assert {f["file"]: f["role"] for f in profile["files"]} == {"codebook.csv": "codebook", "survey.csv": "data"}
    [p] = profile["data"]
    assert (p["format"], p["codebook"], p["typed_by"]) == ("csv", "codebook.csv", "codebook")
    assert p["governorate"][0]["resolved"] == {"1": "IQG02", "2": "IQG07"} and p["governorate"][0]["via"] == "label_en"
    assert {(m["code"], m["suggest"]) for m in p["missing_codes"]} == {("8", "prefer_not_answer"), ("9", "dont_know")}
    assert p["design"]["id"]["candidates"] == ["hh_id"]
    assert any(s["question_id"] == "local_government_trust" and s["column"] == "trust"
               for s in p["question_suggestions"])
    mapping = load_draft(draft_mapping(profile), tmp_path)
    # 5 is not a code of trust: ingestion would quarantine it; the draft proposes the fix to decide on
    assert p["form_match"]["value_problems"]["trust"]["examples"] == ["5"]
    assert p["form_match"]["value_problems"]["trust"]["fix"] == {"add_choices": ["5"]}
    mapping = load_draft(draft_mapping(profile), tmp_path)
    assert mapping.codebook == "codebook.csv" and mapping.header_style == "plain"
    assert mapping.form_fixes["trust"].add_choices == ["5"]


def test_kobo_xlsx_with_repeat_sheet(tmp_path):
    folder = tmp_path / "acme_xlsx"
    folder.mkdir()
    wb = openpyxl.Workbook()
    main_ws = wb.active
    main_ws.title = "acme_form"
    main_ws.append(["start", "governorate", "hh_size", "_id", "_uuid", "_submission_time", "_index"])
    for i, gov in enumerate(["Duhok", "Erbil", "Dohuk"], 1):
        main_ws.append([f"2024-06-0{i}T09:00:00+03:00", gov, i + 2, 500 + i, f"u-{i}", "2024-06-09T10:00:00", i])
    members = wb.create_sheet("members")
    members.append(["member_age", "_index", "_parent_table_name", "_parent_index", "_submission__uuid"])
    for idx, (age, parent) in enumerate([(34, 1), (5, 1), (61, 2), (12, 99)], 1):  # parent 99 does not exist
        members.append([age, idx, "acme_form", parent, f"u-{parent}"])
    wb.save(folder / "export.xlsx")
    before = snapshot(folder)
    profile = check_source(folder)
    assert snapshot(folder) == before  # read-only
    [p] = profile["data"]
    assert p["format"] == "kobo_xlsx" and p["main_sheet"] == "acme_form"
    assert p["repeats"] == {"members": {"sheet": "members", "parent": "main"}}
    assert p["repeat_rows"] == {"members": 4}
    [rep] = p["design"]["repeats"]
    assert (rep["name"], rep["rows"], rep["link"], rep["orphans"]) == ("members", 4, "_parent_index", 1)
    gov = p["governorate"][0]
    assert gov["column"] == "governorate" and gov["resolved"] == {"Duhok": "IQG09", "Erbil": "IQG11", "Dohuk": "IQG09"}
    mapping = load_draft(draft_mapping(profile), tmp_path)
    assert mapping.format == "kobo_xlsx" and mapping.sheet == "acme_form"
    assert mapping.repeats["members"].sheet == "members" and mapping.repeats["members"].parent == "main"


def test_odk_central_csv_with_repeat_file(tmp_path):
    folder = tmp_path / "odk_2024"
    folder.mkdir()
    write_xlsform(folder / "form.xlsx",
                  [("start", "start", None), ("select_one gov", "gov", "Governorate"), ("select_one yn", "q1", "Water?"),
                   ("begin_repeat", "members", None), ("integer", "age", "Age"), ("end_repeat", "", None)],
                  [("gov", "basra", "Basrah"), ("gov", "erbil", "Erbil"), ("yn", "yes", "Yes"), ("yn", "no", "No")])
    (folder / "hh.csv").write_text(
        "SubmissionDate,start,grp-gov,grp-q1,meta-instanceID,KEY,ReviewState\n"
        "2024-01-02T10:00:00Z,2024-01-01T09:00:00+03:00,basra,yes,uuid:1,uuid:1,approved\n"
        "2024-01-02T10:00:00Z,2024-01-01T09:30:00+03:00,erbil,no,uuid:2,uuid:2,rejected\n")
    (folder / "hh-members.csv").write_text("age,PARENT_KEY,KEY\n30,uuid:1,uuid:1/members[1]\n4,uuid:1,uuid:1/members[2]\n"
                                           "50,uuid:9,uuid:9/members[1]\n")
    profile = check_source(folder)
    assert {f["file"]: f["role"] for f in profile["files"]}["hh-members.csv"] == "repeat_file"
    [p] = profile["data"]
    assert (p["format"], p["group_separator"]) == ("odk_central_csv", "-")
    assert p["form_match"]["share_in_form"] == 1.0  # grp-gov and grp-q1 translate to gov and q1
    assert p["repeats"] == {"members": {"path": "hh-members.csv"}}
    assert p["design"]["id"]["candidates"][0] == "KEY"
    assert p["design"]["review_status"]["folded"] == {"approved": 1, "not_approved": 1}
    assert "SubmissionDate" in p["design"]["interview_date"]["warning"]
    [rep] = p["design"]["repeats"]
    assert (rep["rows"], rep["link"], rep["orphans"]) == (3, "PARENT_KEY", 1)
    mapping = load_draft(draft_mapping(profile), tmp_path)
    assert mapping.repeats["members"].path == "hh-members.csv" and mapping.respondent_id == "KEY"


def test_kobo_labels_export(tmp_path):
    folder = tmp_path / "labels_2024"
    folder.mkdir()
    write_xlsform(folder / "form.xlsx",
                  [("start", "start", None), ("select_one gov", "gov", "Governorate"),
                   ("select_multiple svc", "svc", "Services received")],
                  [("gov", "basra", "Basrah"), ("gov", "erbil", "Erbil"), ("svc", "water", "Water"),
                   ("svc", "power", "Electricity")])
    (folder / "export.csv").write_text(
        "start;Governorate;Services received;Services received/Water;Services received/Electricity;_uuid;_index\n"
        "2024-01-01T09:00:00+03:00;Basrah;Water Electricity;1;1;u1;1\n2024-01-01T09:00:00+03:00;Erbil;Water;1;0;u2;2\n")
    [p] = check_source(folder)["data"]
    assert (p["headers"], p["label_language"], p.get("values")) == ("labels", "en", "labels")
    assert p["form_match"]["share_in_form"] == 1.0
    # the labels were decoded back to the form's codes before the governorate was resolved
    assert p["governorate"][0]["column"] == "gov" and p["governorate"][0]["resolved"] == {"basra": "IQG02",
                                                                                         "erbil": "IQG11"}


def test_report_names_what_was_found(kobo_folder):
    report = format_report(check_source(kobo_folder))
    assert "format      kobo_csv" in report and "delimiter   ';'" in report
    assert "gov (via label_en): 100% of answered rows resolve: g1->IQG02, g2->IQG15" in report
    assert "resp_phone (name/phone/position-like column name)" in report


# ------------------------------------------------------------------------------------------------------
# The command line
# ------------------------------------------------------------------------------------------------------


def test_cli_writes_draft_and_refuses_to_overwrite(kobo_folder, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = snapshot(kobo_folder)
    assert main(["source", "check", str(kobo_folder), "--wave-id", "2024-R1"]) == 0
    out = capsys.readouterr().out
    draft = tmp_path / "acme_2024.source.yaml"  # ./<folder name>.source.yaml
    assert draft.is_file() and "draft mapping written to acme_2024.source.yaml" in out
    assert snapshot(kobo_folder) == before
    first = draft.read_text(encoding="utf-8")
    assert "wave_id: 2024-R1" in first
    assert main(["source", "check", str(kobo_folder)]) == 1
    err = capsys.readouterr().err
    assert "exists; pass --force" in err and draft.read_text(encoding="utf-8") == first
    assert main(["source", "check", str(kobo_folder), "--force", "--source-id", "acme_other"]) == 0
    assert (tmp_path / "acme_other.source.yaml").is_file()
    assert main(["source", "check", str(kobo_folder), "--force"]) == 0
    assert "wave_id: 2024-R1" not in draft.read_text(encoding="utf-8")


def test_cli_json(kobo_folder, tmp_path, capsys):
    out_path = tmp_path / "drafts" / "acme.yaml"
    assert main(["source", "check", str(kobo_folder), "--json", "--out", str(out_path)]) == 0
    profile = json.loads(capsys.readouterr().out)
    assert profile["source_id"] == "acme_2024" and profile["draft"] == str(out_path)
    assert profile["data"][0]["format"] == "kobo_csv" and out_path.is_file()


def test_cli_unreadable_file_and_folder_guard(tmp_path, capsys):
    folder = tmp_path / "bad_2024"
    folder.mkdir()
    (folder / "data.csv").write_bytes(b"id,name\r\n1," + "حسن".encode("cp1256") + b"\r\n")
    out_path = tmp_path / "bad.yaml"
    assert main(["source", "check", str(folder), "--out", str(out_path)]) == 1
    err = capsys.readouterr().err
    assert "data.csv: bytes at offset 11 are not valid UTF-8" in err and "--encoding cp1256" in err
    assert not out_path.exists()
    assert main(["source", "check", str(folder), "--out", str(out_path), "--encoding", "cp1256"]) == 0
    capsys.readouterr()
    # never written into the delivery folder
    assert main(["source", "check", str(folder), "--out", str(folder / "source.yaml"), "--encoding", "cp1256"]) == 1
    assert "inside the delivery folder" in capsys.readouterr().err
    assert not (folder / "source.yaml").exists()
    assert main(["source", "check", str(tmp_path / "missing")]) == 1
