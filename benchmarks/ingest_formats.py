"""Benchmark: survey ingestion per delivered format, and what the soft-duplicate check costs.

What it measures. One seeded wave of ``--respondents`` Kobo submissions (default 20,000) on the test form
of tests/pipelines/survey_fixtures.py (consent, governorate, stratum, cluster, weight, a select_one water
rating, a select_multiple of water problems with its split columns, hours of piped water, an enumerator
number, a name and a GPS point that are dropped, 2 % Arabic-Indic digits, 1 % not consenting), delivered as:

* ``kobo_csv``: Kobo CSV, ``;`` and a byte-order mark, XML values;
* ``kobo_csv labels``: the same submissions as a "labels" export (headers and answers as English labels,
  decoded back through the XLSForm);
* ``kobo_xlsx``: Kobo XLSX (main sheet), read by fastexcel;
* ``spss``: the design and the two questions as an SPSS ``.sav`` with value labels (pyreadstat).

Timed: :func:`pipelines.ingest.survey.ingest_survey_source` on the landing folder (reading, exclusions,
duplicates and edits, type and choice checks, harmonisation, soft duplicates); no DuckDB write, no dbt.
Each ``--repeats`` times (default 3), median reported, with rows per second. Then the soft-duplicate check
alone (:func:`pipelines.ingest.survey_dedup.soft_duplicates`) with the same respondents spread over 200,
50 and 10 enumerators: its cost grows with the square of the submissions per enumerator.

    uv run python benchmarks/ingest_formats.py [--respondents 20000] [--repeats 3]

RESULTS on this machine (2 cores, 23 GB RAM), 2026-12-05, ``uv run python benchmarks/ingest_formats.py``
(20,000 respondents):

    format              median s    rows/s   loaded   runs
    kobo_csv                0.61    32,725   19,796   0.61 0.76 0.40
    kobo_csv labels         0.39    50,795   19,796   0.39 0.58 0.39
    kobo_xlsx               1.35    14,819   19,796   1.36 1.34 1.35
    spss                    0.13   149,767   20,000   0.14 0.13 0.13

    soft duplicates     per enumerator  median s
    200 enumerators                100      0.14
    50 enumerators                 400      0.49
    10 enumerators               2,000      1.45

Reading: XLSX costs about 2x CSV (the workbook is unzipped and parsed); SPSS is fastest because it carries
7 typed columns, not Kobo's ~25 text columns. The soft-duplicate check is quadratic per enumerator but
cheap at survey sizes: 2,000 interviews by one enumerator (far above a real wave) cost 1.5 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyreadstat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_contracts.mapping import load_mapping  # noqa: E402
from pipelines.ingest.common import DiscoveredSource  # noqa: E402
from pipelines.ingest.survey import ingest_survey_source  # noqa: E402
from pipelines.ingest.survey_dedup import soft_duplicates  # noqa: E402
from pipelines.ingest.survey_read import read_survey_file, source_folder  # noqa: E402
from tests.pipelines.survey_fixtures import kobo_csv, label_export, submission, write_source  # noqa: E402

GOVS = ["baghdad", "basra", "erbil"]
RATINGS = ["excellent", "good", "adequate", "poor", "very_poor", "dont_know"]
PROBS = ["cuts", "dirty", "low_pressure"]
EASTERN = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def make_rows(n: int, enumerators: int, seed: int = 20261205) -> list[dict]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        hours = str(rnd.randint(0, 24))
        if rnd.random() < 0.02:
            hours = hours.translate(EASTERN)
        probs = " ".join(p for p in PROBS if rnd.random() < 0.4) or None
        g = rnd.randrange(3)
        rows.append(submission(
            f"u{i:06d}", gov=GOVS[g], water=rnd.choice(RATINGS), problems=probs, hours=hours,
            consent="no" if rnd.random() < 0.01 else "yes", weight=f"{rnd.uniform(0.5, 3):.3f}",
            enumerator=str(1 + i % enumerators), cluster=f"c{g}_{rnd.randrange(60)}", stratum=f"s{g}",
            start=f"2025-03-{1 + rnd.randrange(28):02d}T09:{rnd.randrange(60):02d}:00.000+03:00"))
    return rows


def _xlsx(path: Path, rows: list[dict]) -> None:
    pd.DataFrame(rows).assign(_index=[str(i) for i in range(1, len(rows) + 1)]).to_excel(
        path, sheet_name="household survey", index=False)


SAV_MAPPING = """
source_id: bench_spss
domain: survey
title: benchmark SPSS delivery
format: spss
files: [{path: "wave*.sav", wave_id: "2025-03"}]
respondent_id: hh_id
governorate: {column: gov, via: label_en}
stratum: {column: stratum}
psu: {column: cluster}
weight: {column: weight}
weight_note: benchmark
design_note: benchmark
questions:
  water_service_rating:
    column: water
    recode: {"1": excellent, "2": good, "3": adequate, "4": poor, "5": very_poor, "9": dont_know}
  water_piped_hours_per_day: {column: hours}
"""


def _sav(path: Path, rows: list[dict]) -> None:
    code = {r: i for i, r in enumerate(RATINGS[:5], start=1)} | {"dont_know": 9}
    gov = {g: i for i, g in enumerate(GOVS, start=1)}
    df = pd.DataFrame({
        "hh_id": [r["_uuid"] for r in rows], "gov": [float(gov[r["gov"]]) for r in rows],
        "stratum": [r["stratum"] for r in rows], "cluster": [r["cluster"] for r in rows],
        "weight": [float(r["weight"]) for r in rows], "water": [float(code[r["water"]]) for r in rows],
        "hours": [float(r["hours"].translate({ord(e): str(i) for i, e in enumerate("٠١٢٣٤٥٦٧٨٩")})) for r in rows],
    })
    pyreadstat.write_sav(df, path, variable_value_labels={
        "gov": {1: "Baghdad", 2: "Basrah", 3: "Erbil"},
        "water": {1: "Excellent", 2: "Good", 3: "Adequate", 4: "Poor", 5: "Very poor", 9: "Don't know"}})


KOBO = "xlsform: form.xlsx\nduplicates: {enumerator: enumerator}"


def build(root: Path, rows: list[dict]) -> dict[str, Path]:
    """One landing folder per format; returns format -> source folder."""
    out = {}
    out["kobo_csv"] = write_source(root / "csv", "bench_csv", {"export.csv": kobo_csv(rows)}, extra=KOBO)
    out["kobo_csv labels"] = write_source(root / "labels", "bench_labels", {"export.csv": label_export(rows)},
                                          extra=KOBO + "\nheaders: labels\nvalues: labels")
    folder = write_source(root / "xlsx", "bench_xlsx", {}, fmt="kobo_xlsx", glob="export*.xlsx", extra=KOBO)
    _xlsx(folder / "export.xlsx", rows)
    out["kobo_xlsx"] = folder
    folder = root / "spss" / "surveys" / "bench_spss"
    folder.mkdir(parents=True)
    _sav(folder / "wave1.sav", rows)
    (folder / "source.yaml").write_text(SAV_MAPPING, encoding="utf-8")
    out["spss"] = folder
    return out


def time_ingest(folder: Path, repeats: int) -> tuple[list[float], int]:
    mapping = load_mapping(folder / "source.yaml")
    src = DiscoveredSource(source_id=mapping.source_id, domain="survey", path=folder,
                           mapping_path=folder / "source.yaml")
    runs, loaded = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = ingest_survey_source(src, mapping)
        runs.append(time.perf_counter() - t0)
        loaded = result.tables["survey_respondents"].height
    return runs, loaded


def time_soft_duplicates(root: Path, n: int, enumerators: int, repeats: int) -> float:
    """The soft-duplicate check alone on the loaded answers of ``n`` respondents over ``enumerators``."""
    folder = write_source(root / f"soft{enumerators}", "bench_soft", {"export.csv": kobo_csv(make_rows(n, enumerators))},
                          extra=KOBO)
    mapping = load_mapping(folder / "source.yaml")
    read = read_survey_file(folder / "export.csv", mapping, mapping.files[0], source_folder(folder), {})
    loaded = [("export.csv", read.frame)]
    design = {"stratum", "cluster", "weight", "gov", "consent", "start"}
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        soft_duplicates(loaded, mapping, "2025-03", read.form, design)
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--respondents", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rows = make_rows(args.respondents, enumerators=200)
    with tempfile.TemporaryDirectory() as tmp:
        folders = build(Path(tmp), rows)
        print(f"{args.respondents:,} respondents, {args.repeats} runs each\n")
        print(f"    {'format':<18}{'median s':>10}{'rows/s':>10}   loaded   runs")
        for name, folder in folders.items():
            runs, loaded = time_ingest(folder, args.repeats)
            med = statistics.median(runs)
            print(f"    {name:<18}{med:>10.2f}{args.respondents / med:>10,.0f}   {loaded:>6,}   "
                  + " ".join(f"{r:.2f}" for r in runs))
        print(f"\n    {'soft duplicates':<18}{'per enumerator':>16}{'median s':>10}")
        for enumerators in (200, 50, 10):
            med = time_soft_duplicates(Path(tmp), args.respondents, enumerators, args.repeats)
            print(f"    {f'{enumerators} enumerators':<18}{args.respondents // enumerators:>16,}{med:>10.2f}")


if __name__ == "__main__":
    main()
