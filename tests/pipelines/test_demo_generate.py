"""Tests for the SYNTHETIC demo generator (pipelines/demo/generate.py)."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import polars as pl
import pyreadstat
import pytest

from pipelines.cli import format_summary
from pipelines.demo import generate_demo
from pipelines.demo.generate import (
    FISCAL_YEARS,
    GOVERNORATES,
    HOURS_FAULT_VALUES,
    UNKNOWN_BUDGET_GOVERNORATE,
    export_columns,
)
from pipelines.readers.statfile import read_statfile

SEED = 20261129
N = 4000
EXPORTS = {
    "2024": "surveys/mizan_demo_national/export_wave_2024.csv",
    "2025": "surveys/mizan_demo_national/export_wave_2025.csv",
}
XLSFORM = "surveys/mizan_demo_national/xlsform.xlsx"
BUDGET = tuple(f"budget/mizan_demo_budget/budget_{fy}.xlsx" for fy in FISCAL_YEARS)
FIRM_B = "surveys/mizan_demo_firm_b/firm_b_wave_2025.sav"
TRAINING = ("training/mizan_demo_training/cohorts_fiscal_federalism.csv", "training/mizan_demo_training/cohorts_resilience.csv")
LAYOUT = {XLSFORM, *EXPORTS.values(), *BUDGET, FIRM_B, *TRAINING, "README.txt"}
GOV_CODES = [g.code for g in GOVERNORATES]


def _tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _read_export(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, separator=";", infer_schema=False).with_columns(pl.all().fill_null(""))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("demo")
    return out, generate_demo(out, seed=SEED, households_per_wave=N)


@pytest.fixture(scope="module")
def exports(demo) -> dict[str, pl.DataFrame]:
    out, _ = demo
    return {wave: _read_export(out / rel) for wave, rel in EXPORTS.items()}


@pytest.fixture(scope="module")
def xlsform(demo) -> dict[str, list[dict]]:
    out, _ = demo
    wb = openpyxl.load_workbook(out / XLSFORM)
    sheets = {}
    for ws in wb:
        rows = list(ws.iter_rows(values_only=True))
        sheets[ws.title] = [dict(zip(rows[0], r)) for r in rows[1:]]
    sheets["_headers"] = {ws.title: [c.value for c in ws[1]] for ws in wb}  # type: ignore[assignment]
    return sheets


# ---------------------------------------------------------------------------------------------
# determinism and layout
# ---------------------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    ma = generate_demo(a, seed=7, households_per_wave=600)
    time.sleep(2.1)  # xlsx zip entries have 2-second resolution: a leaked clock would now differ
    mb = generate_demo(b, seed=7, households_per_wave=600)
    ha, hb = _tree_hashes(a), _tree_hashes(b)
    assert set(ha) == LAYOUT
    assert ha == hb
    assert {k: v["sha256"] for k, v in ma["files"].items()} == ha
    assert ma["faults"] == mb["faults"]


def test_other_seed_changes_the_data_but_not_the_form(tmp_path: Path) -> None:
    ha = _tree_hashes(Path(generate_demo(tmp_path / "a", seed=1, households_per_wave=600)["out_dir"]))
    hb = _tree_hashes(Path(generate_demo(tmp_path / "b", seed=2, households_per_wave=600)["out_dir"]))
    assert ha[XLSFORM] == hb[XLSFORM]
    for rel in (*EXPORTS.values(), *BUDGET, FIRM_B):
        assert ha[rel] != hb[rel]


def test_layout_manifest_and_synthetic_labels(demo) -> None:
    out, m = demo
    assert set(_tree_hashes(out)) == LAYOUT
    assert m["seed"] == SEED and m["synthetic"] is True and m["households_per_wave"] == N
    assert set(m["files"]) == LAYOUT
    for rel, meta in m["files"].items():
        assert Path(meta["path"]) == out / rel
        assert meta["sha256"] == hashlib.sha256((out / rel).read_bytes()).hexdigest()
        if rel.endswith(".csv"):
            data_lines = (out / rel).read_bytes().count(b"\n") - 1
            assert meta["rows"] == data_lines, rel
    assert m["files"][EXPORTS["2024"]]["rows"] == N
    budget_rows = [m["files"][rel]["rows"] for rel in BUDGET]  # line items per workbook
    assert all(19 * 7 * 2 <= n <= 19 * 7 * 4 + 20 for n in budget_rows)
    assert m["budget"]["files"] == list(BUDGET)
    assert all("demo" in rel for rel in LAYOUT - {"README.txt"})
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert readme.startswith("=" * 10) and "SYNTHETIC" in readme.splitlines()[1]
    assert str(SEED) in readme
    assert "2022" in readme and "no" in readme.lower()


def test_leaves_other_files_alone_and_overwrites_its_own(tmp_path: Path) -> None:
    keep = tmp_path / "surveys" / "mizan_demo_national" / "notes.txt"
    keep.parent.mkdir(parents=True)
    keep.write_text("mine")
    other = tmp_path / "budget" / "real_source.csv"
    other.parent.mkdir(parents=True)
    other.write_text("a,b\n1,2\n")
    (tmp_path / "README.txt").write_text("stale")
    m = generate_demo(tmp_path, seed=3, households_per_wave=500)
    assert keep.read_text() == "mine" and other.read_text() == "a,b\n1,2\n"
    assert (tmp_path / "README.txt").read_text(encoding="utf-8").count("SYNTHETIC") >= 1
    assert hashlib.sha256((tmp_path / "README.txt").read_bytes()).hexdigest() == m["files"]["README.txt"]["sha256"]


def test_rejects_a_sample_too_small_for_the_design(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="households_per_wave"):
        generate_demo(tmp_path, households_per_wave=100)
    assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------------------------------------
# Kobo export layout
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("wave", sorted(EXPORTS))
def test_kobo_csv_bytes_bom_delimiter_quotes(demo, wave: str) -> None:
    out, _ = demo
    raw = (out / EXPORTS[wave]).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf\"start\";\"end\";\"today\";")
    header = raw[3:].split(b"\r\n", 1)[0].decode("utf-8")
    assert header.split(";") == [f'"{c}"' for c in export_columns()]
    assert raw.count(b"\r\n") == N + 1 and raw.count(b"\n") == N + 1
    assert b';"";' in raw  # skipped questions are quoted empty strings


@pytest.mark.parametrize("wave", sorted(EXPORTS))
def test_kobo_columns_and_meta(exports, wave: str) -> None:
    df = exports[wave]
    assert df.columns == export_columns()
    assert df.columns[-10:] == [
        "_id", "_uuid", "_submission_time", "_validation_status", "_notes",
        "_status", "_submitted_by", "__version__", "_tags", "_index",
    ]  # fmt: skip
    i = df.columns.index("gps")
    assert df.columns[i : i + 5] == ["gps", "_gps_latitude", "_gps_longitude", "_gps_altitude", "_gps_precision"]
    assert df["start"].str.contains(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+03:00$").all()
    assert df["end"].str.contains(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+03:00$").all()
    assert df["_submission_time"].str.contains(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$").all()
    assert (df["today"] == df["start"].str.slice(0, 10)).all()
    assert (df["end"] > df["start"]).all()
    assert df["today"].str.starts_with(f"{wave}-03-").all()
    # UTC submission comes after the interview ended (end is UTC+3)
    times = df.select(
        end_utc=pl.col("end").str.to_datetime("%Y-%m-%dT%H:%M:%S%.3f%:z").dt.replace_time_zone(None),
        sub=pl.col("_submission_time").str.to_datetime("%Y-%m-%dT%H:%M:%S"),
    )
    assert times.select((pl.col("sub") >= pl.col("end_utc").dt.truncate("1s")).all()).item()
    assert times["sub"].is_sorted()
    assert df["_index"].cast(pl.Int64).to_list() == list(range(1, N + 1))
    assert df["_id"].cast(pl.Int64).is_sorted() and df["_id"].n_unique() == N
    assert df["_uuid"].n_unique() == N
    assert df["_uuid"].str.contains(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$").all()
    assert set(df["_validation_status"].unique()) == {"validation_status_approved", ""}
    assert (df["_validation_status"] == "validation_status_approved").mean() > 0.8
    assert df["__version__"].n_unique() == 1
    # one device per enumerator
    assert df.group_by("enumerator_id").agg(pl.col("deviceid").n_unique())["deviceid"].max() == 1


@pytest.mark.parametrize("wave", sorted(EXPORTS))
def test_personal_fields_are_obviously_fake(exports, wave: str) -> None:
    c = exports[wave].filter(pl.col("consent") == "yes")
    assert c["resp_name"].str.starts_with("SYNTHETIC NAME ").all()
    assert c["phone_number"].str.contains(r"^\+964 7xx xxx \d{4}$").all()
    parts = c["gps"].str.split(" ")
    assert (parts.list.len() == 4).all()
    assert (parts.list.get(0) == c["_gps_latitude"]).all()
    assert (parts.list.get(1) == c["_gps_longitude"]).all()
    lat = c["_gps_latitude"].cast(pl.Float64)
    lon = c["_gps_longitude"].cast(pl.Float64)
    assert lat.is_between(28.5, 38.0).all() and lon.is_between(38.5, 49.0).all()  # roughly Iraq


# ---------------------------------------------------------------------------------------------
# sample design
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("wave", sorted(EXPORTS))
def test_design_governorates_strata_psus(exports, wave: str) -> None:
    df = exports[wave]
    per_gov = dict(df.group_by("governorate").len().iter_rows())
    assert sorted(per_gov) == sorted(GOV_CODES)
    assert min(per_gov.values()) >= 100
    assert per_gov["baghdad"] > 3 * per_gov["halabja"] and per_gov["ninewa"] > per_gov["muthanna"]
    assert (df["stratum"] == df["governorate"] + "_" + df["urban_rural"]).all()
    assert df["stratum"].n_unique() == 38
    psus = df.group_by("stratum").agg(pl.col("cluster_id").n_unique().alias("k"))
    assert psus["k"].min() >= 2
    # cluster ids belong to one stratum only and follow the wave's numbering
    assert df.group_by("cluster_id").agg(pl.col("stratum").n_unique())["stratum"].max() == 1
    assert df["cluster_id"].str.contains(rf"^C{wave}-\d{{4}}$").all()
    sizes = df.group_by("cluster_id").len()["len"]
    assert 9 <= sizes.mean() <= 15


@pytest.mark.parametrize("wave", sorted(EXPORTS))
def test_weights_positive_unequal_and_calibrated(demo, exports, wave: str) -> None:
    _, m = demo
    df = exports[wave].with_columns(pl.col("weight").cast(pl.Float64))
    assert (df["weight"] > 0).all() and df["weight"].is_finite().all()
    within = df.group_by("stratum").agg(pl.col("weight").n_unique().alias("nu"))
    assert within["nu"].min() >= 2  # unequal within every stratum
    means = df.group_by("stratum").agg(pl.col("weight").mean())["weight"]
    assert means.max() / means.min() > 5  # and between strata
    # consenting households' weights add up to the stratum household count
    totals = df.filter(pl.col("consent") == "yes").group_by("stratum").agg(pl.col("weight").sum())
    expected = m["survey"]["stratum_population_households"]
    for stratum, total in totals.iter_rows():
        assert total == pytest.approx(expected[stratum], rel=1e-3)


@pytest.mark.parametrize("wave", sorted(EXPORTS))
def test_answer_distributions_are_plausible(exports, wave: str) -> None:
    c = exports[wave].filter(pl.col("consent") == "yes")
    female = (c["gender_hoh"] == "female").mean()
    assert 0.04 <= female <= 0.10
    assert set(c["displacement_status"].unique()) == {"non_displaced", "idp", "returnee"}
    idp = c.group_by("governorate").agg((pl.col("displacement_status") == "idp").mean().alias("idp"))
    idp = dict(idp.iter_rows())
    assert 0.12 <= idp["duhok"] <= 0.35 and idp["basrah"] <= 0.05  # camps in Duhok, few IDPs in Basrah
    pna = (c["level_service"] == "prefer_not_answer").mean()
    assert 0.005 <= pna <= 0.04
    hours = c.filter(pl.col("hours_available_piped") != "")["hours_available_piped"].cast(pl.Int64)
    in_range = hours.filter(hours <= 24)
    assert in_range.min() >= 0 and in_range.max() <= 24
    assert 4 <= in_range.mean() <= 16


def test_weighted_estimates_track_the_true_parameters(demo, exports) -> None:
    _, m = demo
    truth = m["true_parameters"]["water_service_good"]
    changes = [truth["2025"][g] - truth["2024"][g] for g in GOV_CODES]
    assert min(changes) < -0.03 and max(changes) > 0.03  # better in some governorates, worse in others
    for wave in EXPORTS:
        assert all(0.15 <= p <= 0.55 for p in truth[wave].values())
        d = (
            exports[wave]
            .filter(~pl.col("level_service").is_in(["", "prefer_not_answer"]))
            .with_columns(pl.col("weight").cast(pl.Float64))
        )
        y = d["level_service"].is_in(["good", "excellent"]).cast(pl.Float64)
        national = float((y * d["weight"]).sum() / d["weight"].sum())
        pop = dict(d.group_by("governorate").agg(pl.col("weight").sum()).iter_rows())
        target = sum(truth[wave][g] * w for g, w in pop.items()) / sum(pop.values())
        assert national == pytest.approx(target, abs=0.04)


NEW_SECTOR_QUESTIONS = {  # indicator -> (export column, codes counted)
    "waste_collection_good": ("waste_collection", ["excellent", "good"]),
    "roads_condition_good": ("roads_condition", ["excellent", "good"]),
    "local_government_responsive_good": ("local_gov_responsiveness", ["excellent", "good"]),
    "local_government_trusted": ("trust_local_gov", ["a_great_deal", "quite_a_lot"]),
}


def test_waste_roads_and_local_government_vary_by_governorate_and_wave(demo, exports) -> None:
    _, m = demo
    truth = m["true_parameters"]
    for indicator, (column, codes) in NEW_SECTOR_QUESTIONS.items():
        for wave in EXPORTS:
            targets = truth[indicator][wave]
            assert set(targets) == set(GOV_CODES)
            assert max(targets.values()) - min(targets.values()) > 0.15, (indicator, wave)  # by governorate
            d = (
                exports[wave]
                .filter(~pl.col(column).is_in(["", "prefer_not_answer", "dont_know"]))
                .with_columns(pl.col("weight").cast(pl.Float64))
            )
            y = d[column].is_in(codes).cast(pl.Float64)
            national = float((y * d["weight"]).sum() / d["weight"].sum())
            pop = dict(d.group_by("governorate").agg(pl.col("weight").sum()).iter_rows())
            target = sum(targets[g] * w for g, w in pop.items()) / sum(pop.values())
            assert national == pytest.approx(target, abs=0.03), (indicator, wave)
        # between waves: some governorate moves by more than 8 points
        change = max(abs(truth[indicator]["2025"][g] - truth[indicator]["2024"][g]) for g in GOV_CODES)
        assert change > 0.08, indicator
    # waste collection is rated better in the Kurdistan Region (the demo's regional effect), on average
    kri = [truth["waste_collection_good"]["2024"][g] for g in ("erbil", "duhok", "sulaymaniyah", "halabja")]
    rest = [v for g, v in truth["waste_collection_good"]["2024"].items() if g not in ("erbil", "duhok",
                                                                                    "sulaymaniyah", "halabja")]
    assert sum(kri) / len(kri) > sum(rest) / len(rest)
    for wave, df in exports.items():
        c = df.filter(pl.col("consent") == "yes")
        assert 0.02 <= (c["trust_local_gov"] == "dont_know").mean() <= 0.06
        assert 0.12 <= (c["complained"] == "yes").mean() <= 0.35
        assert set(c.filter(pl.col("complained") == "yes")["complaint_action"].unique()) == set(
            ["yes", "no", "dont_know", "prefer_not_answer"])


# ---------------------------------------------------------------------------------------------
# XLSForm
# ---------------------------------------------------------------------------------------------


def test_xlsform_sheets_and_questions(xlsform) -> None:
    headers = xlsform["_headers"]
    assert {"survey", "choices", "settings"} <= set(headers)
    assert headers["survey"][:7] == [
        "type", "name", "label::English (en)", "label::Arabic (ar)", "required", "relevant", "constraint",
    ]  # fmt: skip
    assert headers["choices"] == ["list_name", "name", "label::English (en)", "label::Arabic (ar)"]
    settings = xlsform["settings"][0]
    assert settings["form_title"] == "mizan demo national service-quality survey (SYNTHETIC)"
    assert settings["form_id"] and settings["version"]
    survey = {r["name"]: r for r in xlsform["survey"]}
    for name in ("start", "end", "today", "deviceid"):
        assert survey[name]["type"] == name
    expected_types = {
        "enumerator_id": "text",
        "consent": "select_one yes_no",
        "governorate": "select_one governorates",
        "urban_rural": "select_one urban_rural",
        "cluster_id": "text",
        "weight": "decimal",
        "resp_name": "text",
        "phone_number": "text",
        "gps": "geopoint",
        "gender_hoh": "select_one sex",
        "displacement_status": "select_one displacement",
        "level_service": "select_one level_service",
        "regularity_supply": "select_one level_service",
        "water_office_receptiveness": "select_one level_service",
        "problems_water": "select_one yndp",
        "problems_water_action": "select_one yndp",
        "water_sources": "select_multiple water_sources",
        "hours_available_piped": "integer",
        "electricity_rating": "select_one level_service",
        "used_health_services": "select_one yes_no",
        "health_rating": "select_one level_service",
        "has_school_children": "select_one yes_no",
        "education_rating": "select_one level_service",
        "waste_collection": "select_one level_service",
        "roads_condition": "select_one level_service",
        "local_gov_responsiveness": "select_one level_service",
        "trust_local_gov": "select_one trust",
        "complained": "select_one yes_no",
        "complaint_action": "select_one yndp",
    }
    for name, qtype in expected_types.items():
        assert survey[name]["type"] == qtype, name
    assert survey["stratum"]["type"] in ("calculate", "text")
    assert survey["problems_water_action"]["relevant"] == "selected(${problems_water},'yes')"
    assert survey["hours_available_piped"]["relevant"] == "selected(${water_sources},'piped')"
    assert survey["hours_available_piped"]["constraint"] == ". >= 0 and . <= 24"
    assert survey["complaint_action"]["relevant"] == "${complained} = 'yes'"
    for name in ("resp_name", "gender_hoh", "level_service", "electricity_rating", "has_school_children"):
        assert survey[name]["relevant"] == "${consent} = 'yes'"
    for r in xlsform["survey"]:
        if r["type"].split()[0] in ("select_one", "select_multiple", "text", "integer", "decimal", "geopoint"):
            assert r["label::English (en)"] and r["label::Arabic (ar)"], r["name"]
            assert re.search("[\u0600-\u06ff]", r["label::Arabic (ar)"]), r["name"]
    choices = {}
    for r in xlsform["choices"]:
        choices.setdefault(r["list_name"], []).append(r["name"])
    assert choices["governorates"] == GOV_CODES and len(GOV_CODES) == 19
    assert choices["level_service"] == ["excellent", "good", "adequate", "poor", "very_poor", "prefer_not_answer"]
    assert choices["yndp"] == ["yes", "no", "dont_know", "prefer_not_answer"]
    assert choices["water_sources"] == ["piped", "trucking", "borehole", "bottled", "other"]
    # the question bank's 4-point trust scale (trust_4), plus its nonresponse codes
    assert choices["trust"] == ["a_great_deal", "quite_a_lot", "not_very_much", "none_at_all", "dont_know",
                                "prefer_not_answer"]
    labels = {r["name"]: (r["label::English (en)"], r["label::Arabic (ar)"]) for r in xlsform["choices"]
              if r["list_name"] == "governorates"}  # fmt: skip
    assert labels["anbar"] == ("Al-Anbar", "الأنبار") and labels["halabja"] == ("Halabja", "حلبجة")
    assert labels["ninewa"] == ("Ninewa", "نينوى") and labels["basrah"] == ("Al-Basrah", "البصرة")


@pytest.mark.parametrize("wave", sorted(EXPORTS))
def test_choice_lists_cover_every_code_in_the_export(xlsform, exports, wave: str) -> None:
    df = exports[wave]
    choices: dict[str, set[str]] = {}
    for r in xlsform["choices"]:
        choices.setdefault(r["list_name"], set()).add(r["name"])
    checked = 0
    for q in xlsform["survey"]:
        kind, *rest = q["type"].split()
        if kind == "select_one":
            used = set(df[q["name"]].unique()) - {""}
            assert used, q["name"]
            assert used <= choices[rest[0]], (q["name"], used - choices[rest[0]])
            checked += 1
        elif kind == "select_multiple":
            tokens = set(df[q["name"]].str.split(" ").explode().unique()) - {""}
            assert tokens and tokens <= choices[rest[0]]
            split_cols = [c for c in df.columns if c.startswith(q["name"] + "/")]
            assert {c.split("/", 1)[1] for c in split_cols} == choices[rest[0]]
            checked += 1
    assert checked == 22


# ---------------------------------------------------------------------------------------------
# skip logic
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("wave", sorted(EXPORTS))
def test_skip_logic_and_select_multiple_split(exports, wave: str) -> None:
    df = exports[wave]
    after_consent = df.columns[df.columns.index("consent") + 1 : df.columns.index("_id")]
    no = df.filter(pl.col("consent") == "no")
    yes = df.filter(pl.col("consent") == "yes")
    assert no.height + yes.height == df.height
    assert no.select((pl.col(after_consent) == "").all()).row(0) == (True,) * len(after_consent)
    for c in ("governorate", "cluster_id", "stratum", "weight", "enumerator_id"):
        assert (no[c] != "").all()  # recorded before consent
    for c in ("gender_hoh", "water_sources", "level_service", "problems_water", "gps", "resp_name"):
        assert (yes[c] != "").all(), c
    for code in ("piped", "trucking", "borehole", "bottled", "other"):
        split = yes[f"water_sources/{code}"]
        assert set(split.unique()) <= {"0", "1"}
        assert ((split == "1") == yes["water_sources"].str.split(" ").list.contains(code)).all()
    piped = yes["water_sources/piped"] == "1"
    assert ((yes["hours_available_piped"] != "") == piped).all()
    assert ((yes["problems_water_action"] != "") == (yes["problems_water"] == "yes")).all()
    assert ((yes["health_rating"] != "") == (yes["used_health_services"] == "yes")).all()
    assert ((yes["education_rating"] != "") == (yes["has_school_children"] == "yes")).all()
    assert ((yes["complaint_action"] != "") == (yes["complained"] == "yes")).all()
    for c in ("waste_collection", "roads_condition", "local_gov_responsiveness", "trust_local_gov", "complained"):
        assert (yes[c] != "").all(), c


# ---------------------------------------------------------------------------------------------
# planted faults
# ---------------------------------------------------------------------------------------------


def test_planted_survey_faults_are_exactly_as_documented(demo, exports) -> None:
    out, m = demo
    readme = (out / "README.txt").read_text(encoding="utf-8")
    hours_faults = [f for f in m["faults"] if f["column"] == "hours_available_piped"]
    assert len(hours_faults) == 3 and {f["file"] for f in hours_faults} == {EXPORTS["2025"]}
    for wave, df in exports.items():
        hours = df["hours_available_piped"]
        bad = df.with_row_index("row", offset=1).filter(
            (hours != "") & (hours.cast(pl.Int64, strict=False).fill_null(0) > 24)
        )
        if wave == "2024":
            assert bad.height == 0
        else:
            assert bad["row"].to_list() == [f["row_number"] for f in hours_faults]
            assert bad["hours_available_piped"].to_list() == [str(v) for v in HOURS_FAULT_VALUES]
            assert bad["_uuid"].to_list() == [f["_uuid"] for f in hours_faults]
            for f in hours_faults:
                assert f"row {f['row_number']}: hours_available_piped = {f['value']}" in readme
        # every value is an integer string
        assert hours.filter(hours != "").str.contains(r"^\d+$").all()
        consent_fault = next(f for f in m["faults"] if f["column"] == "consent" and f["file"] == EXPORTS[wave])
        rows_no = df.with_row_index("row", offset=1).filter(pl.col("consent") == "no")["row"].to_list()
        assert rows_no == consent_fault["row_numbers"]
        assert 0.004 <= len(rows_no) / df.height <= 0.02
        assert m["survey"]["waves"][wave]["consent_no"] == len(rows_no)
        assert ", ".join(map(str, rows_no[:3])) in readme
    assert len(m["faults"]) == 2 + 3 + 5 + 5 + 3  # national consent x2, hours x3, budget x5, firm B x5, training x3


def test_planted_budget_faults_are_listed_in_the_readme(demo) -> None:
    """The workbooks themselves are checked in test_budget_workbooks_generator.py."""
    out, m = demo
    readme = (out / "README.txt").read_text(encoding="utf-8")
    faults = [f for f in m["faults"] if f["file"] in BUDGET]
    assert sorted(f["kind"] for f in faults) == [
        "double_separator", "eastern_digits", "negative_expenditure", "subtotal_mismatch", "unknown_governorate",
    ]  # fmt: skip
    unknown = next(f for f in faults if f["kind"] == "unknown_governorate")
    assert unknown["sheet"] == UNKNOWN_BUDGET_GOVERNORATE and unknown["value"] == "بغداد الجديدة"
    for f in faults:
        assert f"{f['file']} sheet {f['sheet']} cell {f['cell']}" in readme
        assert f"-> must be {f['outcome']}" in readme


# ---------------------------------------------------------------------------------------------
# budget workbooks
# ---------------------------------------------------------------------------------------------


def test_budget_years_sectors_and_magnitudes(demo) -> None:
    out, m = demo
    for rel in BUDGET:
        assert (out / rel).read_bytes().startswith(b"PK")  # xlsx
    assert not list((out / "budget" / "mizan_demo_budget").glob("*.csv"))
    assert sorted(int(y) for y in m["budget"]["workbooks"]) == [2019, 2021, 2023, 2024]
    # no federal budget law in 2020 and 2022: no workbook, never zeros
    assert m["budget"]["missing_fiscal_years"] == [2020, 2022]
    exp = pl.DataFrame(m["budget"]["expected"])
    assert sorted(exp["fiscal_year"].unique()) == [2019, 2021, 2023, 2024]
    assert set(exp["sector"].unique()) == {
        "water_sanitation", "electricity", "health", "education", "municipal_waste", "roads_transport", "other",
    }  # fmt: skip
    assert set(exp["budget_scope"].unique()) == {"capital", "operating"}
    # 7 sectors x 2 economic types, but for the section under the planted subtotal (its items are quarantined)
    off = next(f for f in m["faults"] if f.get("kind") == "subtotal_mismatch")
    counts = dict(((g, y), n) for g, y, n in exp.group_by("governorate_pcode", "fiscal_year").len().iter_rows())
    assert counts.pop((off["governorate_pcode"], off["fiscal_year"])) == 12
    assert set(counts.values()) == {14}
    assert exp["governorate_pcode"].n_unique() == 19
    capital = exp.filter(pl.col("budget_scope") == "capital").group_by("governorate_pcode", "fiscal_year").agg(
        pl.col("allocation_original_iqd").sum()
    )
    assert capital["allocation_original_iqd"].min() >= 49e9
    assert capital["allocation_original_iqd"].max() <= 801e9
    rate = exp["expenditure_iqd"] / exp["allocation_original_iqd"]
    assert rate.min() >= 0.19 and rate.max() <= 0.96
    assert (exp["allocation_revised_iqd"] >= exp["expenditure_iqd"]).all()
    assert (exp["allocation_original_iqd"] > 0).all()
    baghdad = capital.filter(pl.col("governorate_pcode") == "IQG08")["allocation_original_iqd"].mean()
    halabja = capital.filter(pl.col("governorate_pcode") == "IQG19")["allocation_original_iqd"].mean()
    assert baghdad > 4 * halabja


def test_true_parameters_do_not_depend_on_sample_size(tmp_path: Path) -> None:
    small = generate_demo(tmp_path / "s", seed=11, households_per_wave=500)["true_parameters"]
    large = generate_demo(tmp_path / "l", seed=11, households_per_wave=900)["true_parameters"]
    assert small == large
    hours = np.array([list(w.values()) for w in small["hours_available_piped_mean"].values()])
    assert hours.min() >= 4 and hours.max() <= 16


# ---------------------------------------------------------------------------------------------
# firm B: a second firm's SPSS delivery on 4-point scales, with planted faults
# ---------------------------------------------------------------------------------------------
FIRM_B_GOVS = {"البصرة": "IQG02", "ذي قار": "IQG17", "ميسان": "IQG14", "المثنى": "IQG03", "القادسية": "IQG05",
               "واسط": "IQG18"}


@pytest.fixture(scope="module")
def firm_b(demo) -> tuple[pl.DataFrame, object]:
    out, _ = demo
    data, meta = pyreadstat.read_sav(str(out / FIRM_B), output_format="dict", user_missing=True)
    return pl.DataFrame(data, strict=False), meta


def test_firm_b_is_an_spss_file_with_arabic_labels_and_user_missing_codes(demo, firm_b) -> None:
    out, m = demo
    df, meta = firm_b
    assert (out / FIRM_B).read_bytes()[:4] == b"$FL2"
    assert meta.file_encoding == "UTF-8" and meta.file_label.startswith("SYNTHETIC")
    assert any("SYNTHETIC" in n for n in meta.notes)
    assert meta.column_names == [
        "hh_id", "int_date", "enum_id", "qc_status", "gov", "stratum", "ea", "urban", "consent", "resp_name",
        "resp_phone", "hoh_sex", "hh_size", "resp_age", "q_water_rating", "q_piped", "q_water_hours",
        "q_elec_rating", "q_elec_hours", "q_generator", "q_gen_amps", "q_gen_cost", "q_trust_lg", "q_complaint",
        "q_complaint_action", "wt_final",
    ]  # fmt: skip
    labels = meta.column_names_to_labels
    assert all(re.search("[\u0600-\u06ff]", labels[c]) for c in meta.column_names), "every variable label is Arabic"
    assert labels["q_water_rating"] == "كيف تقيّم خدمة مياه الإسالة؟"
    values = meta.variable_value_labels
    assert values["q_water_rating"] == {1: "جيدة جدا", 2: "جيدة", 3: "سيئة", 4: "سيئة جدا", 9: "لا أعرف"}
    assert values["q_elec_rating"] == values["q_water_rating"]
    assert values["q_trust_lg"][9] == "لا أعرف" and len(values["q_trust_lg"]) == 5
    assert set(values["gov"].values()) == set(FIRM_B_GOVS)
    assert meta.missing_ranges == {
        "q_water_rating": [{"lo": 9.0, "hi": 9.0}], "q_water_hours": [{"lo": 99.0, "hi": 99.0}],
        "q_elec_rating": [{"lo": 9.0, "hi": 9.0}], "q_trust_lg": [{"lo": 9.0, "hi": 9.0}],
        "q_complaint_action": [{"lo": 9.0, "hi": 9.0}],
    }  # fmt: skip
    assert meta.original_variable_types["int_date"] == "DATE11"
    assert m["files"][FIRM_B]["rows"] == df.height == 1171
    # 4-point ratings (9 = don't know, a user-missing code), 99 = don't know for hours
    answered = df.filter(pl.col("consent") == 1)
    for col in ("q_water_rating", "q_elec_rating", "q_trust_lg"):
        assert set(answered[col].unique()) == {1.0, 2.0, 3.0, 4.0, 9.0}, col
    assert 0.01 <= (answered["q_water_rating"] == 9).mean() <= 0.06
    hours = answered["q_water_hours"].drop_nulls()
    assert set(hours.filter(hours > 24).unique()) == {99.0}
    # the project's own SPSS reader types it: labelled codes are select_one, Arabic labels in the Arabic slot
    stat = read_statfile(out / FIRM_B, label_language="ar")
    q = stat.codebook.questions
    assert q["q_water_rating"].type == "select_one" and q["q_water_rating"].missing_codes == ("9",)
    assert q["q_water_hours"].type == "integer" and q["q_water_hours"].missing_codes == ("99",)
    assert q["int_date"].type == "date" and q["gov"].label_ar == "المحافظة"
    assert {ar for _, ar in stat.codebook.choices[q["gov"].list_name].values()} == set(FIRM_B_GOVS)


def test_firm_b_spss_header_carries_a_fixed_stamp(demo) -> None:
    """ReadStat writes the time of writing at bytes 92-109 of the header; the generator pins it, so the same
    seed gives the same bytes (test_same_seed_gives_byte_identical_files compares the whole file)."""
    out, _ = demo
    assert (out / FIRM_B).read_bytes()[92:109] == b"31 Jul 2518:00:00"


def test_firm_b_design_covers_six_governorates_only(demo, firm_b) -> None:
    _, m = demo
    df, _ = firm_b
    assert m["firm_b"]["governorates"] == ["basrah", "thi_qar", "maysan", "muthanna", "qadisiyah", "wassit"]
    assert sorted(df["gov"].unique().to_list()) == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert df["stratum"].n_unique() == 12 == m["firm_b"]["strata"]
    assert (df["stratum"] // 10 == df["gov"]).all() and (df["stratum"] % 10 == df["urban"]).all()
    eas = df.group_by("stratum").agg(pl.col("ea").n_unique().alias("k"))
    assert eas["k"].min() >= 2
    assert df.group_by("ea").agg(pl.col("stratum").n_unique())["stratum"].max() == 1
    assert df.group_by("ea").agg(pl.col("enum_id").n_unique())["enum_id"].max() == 1  # one enumerator per EA
    assert m["firm_b"]["households"] == 1170 and m["firm_b"]["clusters"] == 117
    assert (df["wt_final"] > 0).all() and df["wt_final"].n_unique() > 100
    assert df["int_date"].min().isoformat() == "2025-07-06" and df["int_date"].max().isoformat() <= "2025-07-31"
    assert set(df["qc_status"].unique()) == {"approved", "on hold", "not approved"}


def test_firm_b_planted_faults_are_exactly_as_documented(demo, firm_b) -> None:
    out, m = demo
    df, _ = firm_b
    readme = (out / "README.txt").read_text(encoding="utf-8")
    faults = {(f["column"], f["outcome"]): f for f in m["faults"] if f["file"] == FIRM_B}
    assert len(faults) == 5
    rows = df.with_row_index("row", offset=1)
    # consent = 2 (no): 12 households, every answer empty
    no = rows.filter(pl.col("consent") == 2)
    assert no["row"].to_list() == faults[("consent", "excluded")]["row_numbers"] and no.height == 12
    assert no.select(pl.col(*ANSWERS_B).is_null().all()).row(0) == (True,) * len(ANSWERS_B)
    assert (no["resp_name"] == "").all()  # SPSS strings have no NULL: blank
    # quality control: 5 interviews not approved
    not_approved = rows.filter(pl.col("qc_status") == "not approved")["row"].to_list()
    assert len(not_approved) == 5 and not_approved == faults[("qc_status", "excluded")]["row_numbers"]
    # the same interview twice: the last row repeats row 859 exactly
    dup = faults[("hh_id", "excluded")]
    assert dup["row_numbers"] == [1171] and dup["duplicate_of"] == 859
    assert df.row(1170) == df.row(858)
    # two different households with one hh_id
    clash = faults[("hh_id", "quarantined")]
    assert clash["row_numbers"] == [715, 740]
    a, b = (rows.filter(pl.col("row") == r).row(0, named=True) for r in clash["row_numbers"])
    assert a["hh_id"] == b["hh_id"] == clash["value"]
    assert rows.filter(pl.col("hh_id") == a["hh_id"]).height == 2
    assert [c for c in ANSWERS_B if a[c] != b[c]], "their answers differ"
    # one enumerator's near-identical pair in one EA: every answer the same but the hours of grid electricity
    pair = faults[("enum_id", "flagged")]
    assert pair["row_numbers"] == [1055, 1062]
    a, b = (rows.filter(pl.col("row") == r).row(0, named=True) for r in pair["row_numbers"])
    assert a["enum_id"] == b["enum_id"] and a["ea"] == b["ea"] and a["hh_id"] != b["hh_id"]
    assert [c for c in ANSWERS_B if a[c] != b[c]] == ["q_elec_hours"]
    # the other rows are clean: ids unique apart from the two planted cases
    assert rows.filter(pl.col("hh_id").is_duplicated())["row"].to_list() == [715, 740, 859, 1171]
    for f in faults.values():
        assert f["file"] in readme and f["outcome"] in readme
    assert "rows 715, 740: hh_id" in readme and "rows 1055, 1062: enum_id" in readme


ANSWERS_B = ("hoh_sex", "hh_size", "resp_age", "q_water_rating", "q_piped", "q_water_hours", "q_elec_rating",
             "q_elec_hours", "q_generator", "q_gen_amps", "q_gen_cost", "q_trust_lg", "q_complaint",
             "q_complaint_action")


# ---------------------------------------------------------------------------------------------
# what the pipeline makes of the demo (the session's demo warehouse, tests/conftest.py)
# ---------------------------------------------------------------------------------------------
def _q(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def test_demo_run_excludes_quarantines_and_flags_firm_b_faults(demo_run) -> None:
    wh = demo_run["warehouse_path"]
    files = {f["file_name"]: f for f in demo_run["files"]}
    f = files["firm_b_wave_2025.sav"]
    assert (f["rows_read"], f["rows_loaded"], f["rows_excluded"], f["rows_quarantined"]) == (1171, 1151, 18, 2)
    excluded = {(r["source_id"], r["reason"]): r["n_rows"] for r in demo_run["exclusions_by_reason"]}
    # the summary groups like reasons together (budget headings, then subtotals, then totals)
    assert list(excluded) == sorted(excluded)
    assert {k[1]: v for k, v in excluded.items() if k[0] == "mizan_demo_firm_b"} == {
        "no consent (consent = '2')": 12,
        "review status not_approved (qc_status = 'not approved')": 5,
        "exact duplicate of firm_b_wave_2025.sav row 859 (same hh_id and answers)": 1,
    }
    assert _q(wh, "SELECT row_number, column_name, value FROM audit.quarantine WHERE source_id = 'mizan_demo_firm_b' "
                  "ORDER BY row_number") == [(715, "hh_id", "B25-00715"), (740, "hh_id", "B25-00715")]
    flags = _q(wh, "SELECT flag, row_number, other_row_number, round(similarity, 4), fields_compared, detail "
                   "FROM audit.review_flags WHERE domain = 'survey'")
    assert [fl[:5] for fl in flags] == [("soft_duplicate", 1055, 1062, round(13 / 14, 4), 14)]
    assert flags[0][5].startswith("same enumerator (enum_id = '502')")
    assert _q(wh, "SELECT DISTINCT column_name FROM audit.dropped_columns WHERE source_id = 'mizan_demo_firm_b' "
                  "ORDER BY 1") == [("resp_name",), ("resp_phone",)]
    # the run summary says all of it
    text = format_summary(demo_run)
    assert "mizan_demo_firm_b/firm_b_wave_2025.sav" in text and "read 1171, loaded 1151, excluded 18, quarantined 2" in text
    assert "mizan_demo_firm_b: 5 × review status not_approved (qc_status = 'not approved')" in text
    assert "mizan_demo_firm_b: 1 × exact duplicate of firm_b_wave_2025.sav row 859" in text
    assert "mizan_demo_firm_b: 2 row(s), column hh_id: respondent id repeated with different answers" in text
    assert "mizan_demo_firm_b wave 2025: 1 × soft duplicate" in text
    assert "question water_service_rating: delivered on a 4-point scale (q_water_rating)" in text


def test_demo_run_harmonises_firm_b_onto_the_question_bank(demo_run) -> None:
    wh = demo_run["warehouse_path"]
    codes = dict(_q(wh, "SELECT question_id, list_sort(list(DISTINCT coalesce(answer_code, '-'))) FROM raw.survey_answers "
                        "WHERE source_id = 'mizan_demo_firm_b' GROUP BY 1"))
    assert codes["water_service_rating"] == ["bottom_box", "dont_know", "top_box"]  # no middle on 4 points
    assert codes["electricity_service_rating"] == ["bottom_box", "dont_know", "top_box"]
    assert codes["local_government_trust"] == ["a_great_deal", "dont_know", "none_at_all", "not_very_much",
                                                "quite_a_lot"]
    assert codes["complaint_action_taken"] == ["-", "dont_know", "no", "yes"]
    assert _q(wh, "SELECT count(*) FROM raw.survey_answers WHERE source_id = 'mizan_demo_firm_b' AND question_id = "
                  "'water_piped_hours_per_day' AND answer_source = '99' AND answer_code = 'dont_know' "
                  "AND answer_numeric IS NULL")[0][0] > 0
    # six governorates, resolved from their Arabic value labels; no national estimate
    assert _q(wh, "SELECT list_sort(list(DISTINCT governorate_pcode)) FROM raw.survey_respondents "
                  "WHERE source_id = 'mizan_demo_firm_b'")[0][0] == sorted(FIRM_B_GOVS.values())
    assert _q(wh, "SELECT has_national_estimates, n_strata, n_psu FROM marts.dim_wave "
                  "WHERE source_id = 'mizan_demo_firm_b'") == [(False, 12, 117)]
    # its 4-point waves count in the box indicators only, and say so (marts.dim_indicator_wave_scale)
    assert _q(wh, "SELECT indicator_id, scale_note FROM marts.dim_indicator_wave_scale ORDER BY 1") == [
        ("electricity_service_good", "4-point scale, top box (source codes 1, 2)"),
        ("water_service_good", "4-point scale, top box (source codes 1, 2)"),
        ("water_service_poor", "4-point scale, bottom box (source codes 3, 4)"),
    ]
    assert _q(wh, "SELECT DISTINCT indicator_id FROM marts.fct_service_indicators WHERE source_id = "
                  "'mizan_demo_firm_b' ORDER BY 1") == [
        ("complaint_actioned",), ("electricity_service_good",), ("local_government_trusted",),
        ("water_piped_hours_mean",), ("water_service_good",), ("water_service_poor",),
    ]  # fmt: skip
    assert _q(wh, "SELECT count(*) FROM marts.fct_response_distribution WHERE source_id = 'mizan_demo_firm_b'") == [(0,)]


def test_demo_run_estimates_every_sector(demo_run) -> None:
    wh = demo_run["warehouse_path"]
    sectors = _q(wh, "SELECT i.sector_name, count(DISTINCT f.indicator_id) FROM marts.fct_service_indicators f "
                     "JOIN marts.dim_indicator i USING (indicator_id) WHERE f.source_id = 'mizan_demo_national' "
                     "GROUP BY ALL ORDER BY any_value(i.sector_order)")
    assert sectors == [("Water", 7), ("Electricity", 1), ("Health", 1), ("Education", 1),
                       ("Waste collection and municipal services", 1), ("Roads and transport", 1),
                       ("Local government, accountability and trust", 3)]
    # national estimates of the new indicators in both waves, published
    rows = _q(wh, "SELECT indicator_id, count(*) FILTER (WHERE NOT is_suppressed) FROM marts.fct_service_indicators "
                  "WHERE governorate_pcode = 'IQ' AND disaggregation = 'all' AND indicator_id IN ("
                  "'waste_collection_good', 'roads_condition_good', 'local_government_responsive_good', "
                  "'local_government_trusted', 'complaint_actioned') GROUP BY 1 ORDER BY 1")
    assert rows == [("complaint_actioned", 2), ("local_government_responsive_good", 2), ("local_government_trusted", 2),
                    ("roads_condition_good", 2), ("waste_collection_good", 2)]


def test_demo_run_loads_the_budget_workbooks_as_the_manifest_expects(demo_run, tmp_path: Path) -> None:
    """The warehouse holds exactly the manifest's expected budget totals; only the planted faults are set aside."""
    wh = demo_run["warehouse_path"]
    # the demo folder of the session was written with the default seed; the budget does not depend on the sample
    manifest = generate_demo(tmp_path, households_per_wave=400)
    m = manifest["budget"]
    faults = {f["kind"]: f for f in manifest["faults"] if f["file"].startswith("budget/")}
    got = _q(wh, "SELECT governorate_pcode, fiscal_year, sector, budget_scope, "
                 "sum(allocation_original * unit_multiplier)::HUGEINT, sum(allocation_revised * unit_multiplier)::HUGEINT, "
                 "sum(expenditure * unit_multiplier)::HUGEINT FROM raw.budget_lines WHERE source_id = 'mizan_demo_budget' "
                 "GROUP BY ALL ORDER BY ALL")
    expected = [(e["governorate_pcode"], e["fiscal_year"], e["sector"], e["budget_scope"], e["allocation_original_iqd"],
                 e["allocation_revised_iqd"], e["expenditure_iqd"]) for e in m["expected"]]
    assert got == expected
    # quarantined: the 1,,0 line, the negative expenditure, the planted subtotal with its items, the unknown sheet
    quarantined = set(_q(wh, "SELECT DISTINCT file_name, sheet_name, row_number FROM audit.quarantine "
                             "WHERE source_id = 'mizan_demo_budget'"))
    want = set()
    for f in faults.values():
        name = Path(f["file"]).name
        if f["kind"] in ("double_separator", "negative_expenditure", "subtotal_mismatch"):
            want.add((name, f["sheet"], f["row_number"]))
        want |= {(name, f["sheet"], r) for r in f.get("quarantined_item_rows", [])}
    assert quarantined == want
    off = faults["subtotal_mismatch"]
    assert _q(wh, "SELECT sheet_name, row_number, amount_field, printed, sum_of_items FROM audit.budget_reconciliation "
                  "WHERE source_id = 'mizan_demo_budget' AND status = 'mismatch'") == [
        (off["sheet"], off["row_number"], "allocation_original", off["value"], off["sum_of_items"])]
    unchecked = _q(wh, "SELECT DISTINCT sheet_name, amount_field FROM audit.budget_reconciliation "
                       "WHERE source_id = 'mizan_demo_budget' AND status = 'unchecked' ORDER BY 1")
    assert unchecked == sorted((faults[k]["sheet"], "expenditure") for k in ("double_separator", "negative_expenditure"))
    # the Eastern-digit amount loaded as 1,250 in its sheet's unit
    e = faults["eastern_digits"]
    assert _q(wh, "SELECT allocation_original FROM raw.budget_lines WHERE file_name = ? AND sheet_name = ? "
                  "AND row_number = ?", [Path(e["file"]).name, e["sheet"], e["row_number"]]) == [(1250.0,)]


def test_demo_run_reports_the_planted_training_faults(demo_run, demo_dir) -> None:
    """The nine cohorts load; the second registration and the attendance above 100 % are quarantined at the
    rows the manifest (and README.txt) names, the post-test without a pre-test is flagged; rows balance."""
    from pipelines.demo.training import COHORT_SIZE

    wh = demo_run["warehouse_path"]
    readme = Path(demo_dir) / "README.txt"
    with duckdb.connect(str(wh), read_only=True) as con:
        cohorts = con.execute("SELECT track, count(DISTINCT cohort) FROM raw.training_participants GROUP BY 1 ORDER BY 1").fetchall()
        quarantined = con.execute("SELECT file_name, row_number, column_name FROM audit.quarantine "
                                  "WHERE domain = 'training' ORDER BY file_name, row_number").fetchall()
        flagged = con.execute("SELECT file_name, row_number FROM audit.review_flags WHERE domain = 'training'").fetchall()
        accounts = con.execute("SELECT rows_read, rows_loaded, rows_excluded, rows_quarantined FROM audit.file_registry "
                               "WHERE domain = 'training'").fetchall()
    assert cohorts == [("fiscal_federalism", 6), ("resilience", 3)]
    assert quarantined == [("cohorts_fiscal_federalism.csv", 3 * COHORT_SIZE + 8, "Session 3 (%)"),
                           ("cohorts_fiscal_federalism.csv", 4 * COHORT_SIZE + 5, "participant_id")]
    assert flagged == [("cohorts_resilience.csv", COHORT_SIZE + 12)]
    assert sorted(accounts) == [(3 * COHORT_SIZE, 3 * COHORT_SIZE, 0, 0), (6 * COHORT_SIZE, 6 * COHORT_SIZE - 2, 0, 2)]
    text = readme.read_text(encoding="utf-8")
    assert f"cohorts_fiscal_federalism.csv row {4 * COHORT_SIZE + 5}" in text
    assert f"cohorts_resilience.csv row {COHORT_SIZE + 12}" in text

