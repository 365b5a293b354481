"""Cleaning in the pipeline and on its own: the ingestion hooks (GPS bands before personal data is dropped,
reviewed logs applied to the files in play) and ``mizan clean check`` (the checks on a landing folder,
publishing nothing).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from data_contracts.mapping import SurveyMapping
from pipelines.cleaning.apply import Target, apply_logs
from pipelines.cleaning.checks import LINE_SCHEMA, CheckData, enumerator_column, enumerator_quality, run_checks
from pipelines.cleaning.gps import gps_bands
from pipelines.cleaning.log_files import LOG_COLUMNS, read_logs
from pipelines.ingest.common import (
    DiscoveredSource,
    FatalSourceError,
    SourceResult,
    discover_sources,
    load_source_mapping,
)
from pipelines.ingest.survey_dedup import REVIEW_FLAG_SCHEMA
from pipelines.ingest.survey_read import SurveyFile


def gps_review_flags(read: SurveyFile, mapping: SurveyMapping, wave_id: str, folder: Path) -> pl.DataFrame | None:
    """Interviews far from their sampled point as ``audit.review_flags`` rows (flag ``far_from_sampled_point``,
    the distance band in ``detail``), computed from the file as read, before GPS is dropped; None without a
    GPS check. No coordinate leaves this function."""
    bands = gps_bands(read.frame, mapping, folder, read.path.name)
    if bands is None:
        return None
    far = read.frame.select("__row", pl.col(mapping.respondent_id).cast(pl.String).alias("respondent_id")).join(
        bands.filter(pl.col("far")), on="__row")
    return far.select(
        pl.lit(mapping.source_id).alias("source_id"), pl.lit(wave_id).alias("wave_id"),
        pl.lit("far_from_sampled_point").alias("flag"), pl.lit(read.path.name).alias("file_name"),
        pl.col("__row").cast(pl.Int64).alias("row_number"), "respondent_id",
        pl.format("interview point {} from its sampled point (threshold {} m)", pl.col("band"),
                  pl.lit(f"{mapping.cleaning.gps.max_metres:g}")).alias("detail"),
    ).with_columns(*[pl.lit(None, t).alias(c) for c, t in REVIEW_FLAG_SCHEMA.items()
                     if c not in ("source_id", "wave_id", "flag", "file_name", "row_number", "respondent_id", "detail")]
                   ).select(list(REVIEW_FLAG_SCHEMA)).cast(REVIEW_FLAG_SCHEMA)


def apply_cleaning_logs(mapping: SurveyMapping, folder: Path, by_wave: dict[str, list], result: SourceResult) -> dict[str, str]:
    """Apply the source's reviewed logs to its prepared files (``by_wave``: wave → prepared files with
    ``file`` and ``part``); the changes and the logs used go to ``result``. Returns, per wave, the SHA-256 of
    the logs that touched it (comma-separated, in the order applied), for ``raw.survey_sources``.

    Raises:
        CleaningLogError: a log line is refused (file and line named).
    """
    logs = read_logs(mapping, folder)
    if not logs:
        return {}
    targets = [Target(w, p.file, p.part) for w, prepared in by_wave.items() for p in prepared]
    changes, used = apply_logs(logs, targets, mapping)
    result.cleaning_changes.append(changes)
    result.cleaning_logs.append(used)
    hashes: dict[str, list[str]] = {}
    for w, sha in used.select("wave_id", "log_sha256").iter_rows():
        hashes.setdefault(w, []).append(sha)
    return {w: ",".join(s) for w, s in hashes.items()}


def _source(data_dir: Path, source_id: str) -> tuple[DiscoveredSource, SurveyMapping]:
    found = [s for s in discover_sources(data_dir) if s.source_id == source_id and s.domain == "survey"]
    if not found:
        raise FatalSourceError(f"no survey source {source_id!r} under {data_dir}/surveys")
    src = found[0]
    if src.mapping_path is None:
        raise FatalSourceError(f"{source_id}: no mapping (source.yaml in its folder, or data_contracts/sources/)")
    return src, load_source_mapping(src)


def check_source(data_dir: Path, source_id: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Run every configured check on a source's landing folder (read-only; nothing is registered or
    published). Decisions already given for a line (same uuid, question and issue) in a delivered log are
    copied in, so a reviewer sees which lines are new.

    Returns the cleaning log (``uuid, question, issue, old_value, change_type, new_value, check,
    enumerator, wave_id, file_name``) and the per-enumerator quality table (see
    :func:`pipelines.cleaning.checks.enumerator_quality`; with a ``wave_id`` column).

    Raises:
        FatalSourceError: the source, its mapping or its files cannot be found or read.
        ExpressionError: a logical check is outside the grammar.
    """
    from pipelines.ingest.common import source_files
    from pipelines.ingest.survey import _prepare, _spec_of
    from pipelines.ingest.survey_read import read_survey_file, source_folder

    src, mapping = _source(data_dir, source_id)
    folder = source_folder(src.path)
    files = source_files(src, [f.path for f in mapping.files])
    if not files:
        raise FatalSourceError(f"{source_id}: no file matches {[f.path for f in mapping.files]} in {src.path}")
    scratch = SourceResult(source_id=source_id, domain="survey")
    forms: dict = {}
    waves: dict[str, list[CheckData]] = {}
    for path in files:
        spec = _spec_of(path, mapping)
        read = read_survey_file(path, mapping, spec, folder, forms)
        bands = gps_bands(read.frame, mapping, folder, path.name)
        prepared = _prepare(read, spec, mapping, scratch)
        frame = prepared.part.df.with_columns(pl.lit(path.name).alias("__file"))
        waves.setdefault(spec.wave_id, []).append(CheckData(
            spec.wave_id, frame, prepared.part.form,
            bands.with_columns(pl.lit(path.name).alias("__file")) if bands is not None else None))
    logs, quality = [], []
    for wave_id, parts in waves.items():
        frame = pl.concat([p.frame for p in parts], how="diagonal_relaxed")
        gps = [p.gps_bands for p in parts if p.gps_bands is not None]
        data = CheckData(wave_id, frame, parts[0].form, pl.concat(gps) if gps else None)
        lines = run_checks(data, mapping)
        enumerator = enumerator_column(frame, mapping)
        if enumerator:
            who = frame.select(pl.col(mapping.respondent_id).cast(pl.String).alias("uuid"),
                               pl.col(enumerator).cast(pl.String).alias("enumerator")).unique("uuid")
            lines = lines.join(who, on="uuid", how="left")
        else:
            lines = lines.with_columns(pl.lit(None, pl.String).alias("enumerator"))
        logs.append(lines)
        q = enumerator_quality(data, mapping, lines)
        if q.height:
            quality.append(q.with_columns(pl.lit(wave_id).alias("wave_id")))
    lines = pl.concat(logs) if logs else pl.DataFrame(schema=LINE_SCHEMA | {"enumerator": pl.String})
    lines = _with_decisions(lines, mapping, folder)
    extra = ["check", "enumerator", "wave_id", "file_name"]
    return lines.select(LOG_COLUMNS + extra), (pl.concat(quality) if quality else pl.DataFrame())


def _with_decisions(lines: pl.DataFrame, mapping: SurveyMapping, folder: Path) -> pl.DataFrame:
    decided = [(ln.uuid, ln.question or "", ln.issue or "", ln.change_type, ln.new_value)
               for log in read_logs(mapping, folder) for ln in log.lines if ln.change_type]
    known = pl.DataFrame(decided, schema={"uuid": pl.String, "question": pl.String, "issue": pl.String,
                                          "change_type": pl.String, "new_value": pl.String}, orient="row"
                         ).unique(["uuid", "question", "issue"], keep="last")
    return lines.with_columns(pl.col("question").fill_null("")).join(
        known, on=["uuid", "question", "issue"], how="left", maintain_order="left")


def summary_by_issue(lines: pl.DataFrame) -> pl.DataFrame:
    """Lines and distinct interviews per check (``check, lines, interviews``), for the CLI and the docs."""
    return lines.group_by(pl.col("check").str.replace(r"^logical:.*", "logical")).agg(
        pl.len().alias("lines"), pl.col("uuid").n_unique().alias("interviews")).sort("check")
