"""Deliveries as Dagster partitions: survey waves (dynamic: ``<source_id>/<wave_id>``, added as waves
arrive) and fiscal years (2003–2030).

``landing/survey_wave_files`` and ``landing/budget_year_files`` record, per partition, which files of
the landing folder belong to it, their SHA-256, and whether the warehouse already holds them. They read
the landing folder and the published snapshot only; the ingestion assets downstream register, archive
and load (pipelines/ingest/registry.py). The landing-folder sensor (pipelines/sensors.py) launches a
partitioned run for each new or changed file; ``mizan run`` still does a whole run without them.
"""


import fnmatch
import warnings
from pathlib import Path

import dagster as dg
import duckdb

from data_contracts.mapping import MappingError
from data_contracts.parsing import parse_integer
from pipelines import publish as pub
from pipelines.cleaning.log_files import log_files
from pipelines.ingest.common import discover_sources, load_source_mapping, source_files
from pipelines.readers.delimited import FileReadError, read_delimited, sha256_of
from pipelines.resources import MizanPaths

survey_waves = dg.DynamicPartitionsDefinition(name="survey_waves")
FISCAL_YEARS = [str(y) for y in range(2003, 2031)]
fiscal_years = dg.StaticPartitionsDefinition(FISCAL_YEARS)


def wave_key(source_id: str, wave_id: str) -> str:
    return f"{source_id}/{wave_id}"


def budget_file_years(path: Path, mapping) -> list[str]:
    """Fiscal years present in a budget file (from the mapping's fiscal-year column or constant); rows
    whose year does not parse are left to the ingestion to quarantine."""
    ref = mapping.fiscal_year
    if ref.constant is not None:
        return [str(ref.constant)]
    frame = read_delimited(path, encoding=mapping.encoding, delimiter=mapping.delimiter).frame
    years = set()
    for value in frame.get_column(ref.column).to_list() if ref.column in frame.columns else []:
        try:
            year = parse_integer(value) if value is not None else None
        except ValueError:
            continue
        if year is not None and str(year) in FISCAL_YEARS:
            years.add(str(year))
    return sorted(years)


def landing_files(data_dir: Path) -> list[dict]:
    """Every data file of every mapped source in the landing folder with its partition(s).

    Shape: ``[{domain, source_id, path, partitions: [keys]}]``; a file whose mapping or content cannot
    be read has ``partitions == []`` and an ``error`` (the run will name the problem).
    """
    out = []
    for src in discover_sources(data_dir):
        if src.mapping_path is None:
            continue
        try:
            mapping = load_source_mapping(src)
        except MappingError as exc:
            out.append({"domain": src.domain, "source_id": src.source_id, "path": str(src.path), "partitions": [], "error": str(exc)})
            continue
        for path in source_files(src, [f.path for f in mapping.files]):
            entry = {"domain": src.domain, "source_id": src.source_id, "path": str(path), "partitions": []}
            if src.domain == "survey":
                wave = next((f.wave_id for f in mapping.files if fnmatch.fnmatch(path.name, f.path)), None)
                entry["partitions"] = [wave_key(src.source_id, wave)] if wave else []
            elif src.domain == "budget":  # training files have no partition: a full run loads them
                try:
                    entry["partitions"] = budget_file_years(path, mapping)
                except (FileReadError, OSError) as exc:
                    entry["error"] = str(exc)
            out.append(entry)
        if src.domain == "survey":  # a new or changed reviewed cleaning log re-runs its waves (docs/cleaning.md)
            waves = sorted({f.wave_id for f in mapping.files if f.wave_id})
            for path, entry in log_files(mapping, src.path):
                keys = [wave_key(src.source_id, w) for w in ([entry.wave_id] if entry.wave_id else waves)]
                out.append({"domain": "survey", "source_id": src.source_id, "path": str(path), "partitions": keys})
    return out


def registered_hashes(warehouse: Path) -> set[str]:
    """SHA-256 of every file the current snapshot has registered, and of every cleaning log it applied
    (read-only, short-lived)."""
    snapshot = pub.current_snapshot(warehouse)
    if snapshot is None:
        return set()
    try:
        with duckdb.connect(str(snapshot), read_only=True) as con:
            known = {r[0] for r in con.execute("SELECT file_sha256 FROM audit.file_registry WHERE registered_seq IS NOT NULL").fetchall()}
            logs = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'audit' "
                               "AND table_name = 'cleaning_logs'").fetchone()[0]
            if logs:
                known |= {r[0] for r in con.execute("SELECT log_sha256 FROM audit.cleaning_logs").fetchall()}
            return known
    except duckdb.Error:
        return set()


def _report(context: dg.AssetExecutionContext, paths: MizanPaths, domain: str) -> dg.MaterializeResult:
    keys = set(context.partition_keys)
    known = registered_hashes(paths.warehouse_path())
    files = []
    for f in landing_files(paths.data_path()):
        if f["domain"] == domain and keys & set(f["partitions"]):
            sha = sha256_of(Path(f["path"]))
            files.append({"source_id": f["source_id"], "file": Path(f["path"]).name, "sha256": sha,
                          "already_in_warehouse": sha in known})
    if not files:
        raise dg.Failure(description=f"no {domain} file in {paths.data_path()} belongs to {sorted(keys)}")
    return dg.MaterializeResult(metadata={"files": dg.MetadataValue.json(files), "n_files": len(files)})


@dg.asset(key=dg.AssetKey(["landing", "survey_wave_files"]), partitions_def=survey_waves, group_name="landing",
          description="The landing folder's files of one survey wave (source/wave), with their SHA-256.")
def survey_wave_files(context: dg.AssetExecutionContext, paths: MizanPaths) -> dg.MaterializeResult:
    return _report(context, paths, "survey")


with warnings.catch_warnings():  # backfill_policy is marked beta; a budget file's years run as one range
    warnings.simplefilter("ignore", dg.BetaWarning)

    @dg.asset(key=dg.AssetKey(["landing", "budget_year_files"]), partitions_def=fiscal_years, group_name="landing",
              backfill_policy=dg.BackfillPolicy.single_run(),
              description="The landing folder's budget files holding lines of the fiscal year(s), with their SHA-256.")
    def budget_year_files(context: dg.AssetExecutionContext, paths: MizanPaths) -> dg.MaterializeResult:
        return _report(context, paths, "budget")
