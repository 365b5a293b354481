"""Ingestion assets: landing folder → ``raw`` and ``audit`` tables of the run's working warehouse.

Each run registers the landing folder's files by SHA-256 (``pipelines/ingest/registry.py``: archived
once, a renamed copy loads once, a corrected file supersedes the earlier one of its wave), then reloads
every source found in the landing folder from the archived copies of its active files. Sources absent
from the landing folder keep the rows they had. Running twice on the same files changes nothing. Every
loaded row keeps its file's SHA-256 and row number; rejected rows land in ``audit.quarantine``; per file,
rows read = loaded + excluded + quarantined (``audit.file_registry``).
"""


import datetime as dt

import dagster as dg
import polars as pl

from data_contracts import fiscal
from data_contracts import governorates as gov
from data_contracts.mapping import MappingError, load_indicators, load_question_bank, question_sectors
from pipelines.cleaning.log_files import log_files
from pipelines.ingest.budget import ingest_budget_source
from pipelines.ingest.common import (
    DiscoveredSource,
    FatalSourceError,
    SourceResult,
    discover_sources,
    load_source_mapping,
)
from pipelines.ingest.registry import Registry, archive_file, wave_of
from pipelines.ingest.survey import ingest_survey_source
from pipelines.ingest.waves import WavePlan, plan_waves, source_fingerprint, wave_load_rows
from pipelines.ingest.training import ingest_training_source
from pipelines.readers.delimited import FileReadError
from pipelines.resources import MizanPaths
from pipelines.warehouse import connect, ensure_schema, insert_frame, replace_table

POOL = "mizan_warehouse"  # a Dagster concurrency pool: one step writing the warehouse at a time

SURVEY_TABLES = [
    "survey_respondents", "survey_respondent_attributes", "survey_answers", "survey_submissions",
    "survey_multi_select", "survey_repeat_rows", "survey_form_labels", "survey_sources", "survey_wave_loads",
]
BUDGET_TABLES = ["budget_lines", "budget_sources"]
REFERENCE_TABLES = [
    "ref_governorates", "ref_population", "question_bank", "indicator_registry",
    "ref_exchange_rates", "ref_cpi", "ref_fiscal_years", "ref_budget_sectors",
]
POPULATION_YEARS = range(2003, 2031)


def _key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


@dg.multi_asset(
    specs=[dg.AssetSpec(_key(t), group_name="reference", kinds={"duckdb"}) for t in REFERENCE_TABLES],
    pool=POOL,
    description="Reference tables shipped in the repository: governorates (COD-AB 2019 p-codes + Halabja), "
    "population by governorate and year, the question bank, the indicator registry, and the fiscal tables "
    "(official IQD/USD rates, CPI, fiscal years with the budget-law flag, budget sectors).",
)
def reference_tables(context: dg.AssetExecutionContext, paths: MizanPaths):
    govs = gov.governorates().select(
        "governorate_pcode", "name_en", "name_en_short", "name_ar", "name_ckb", "name_kmr", "region",
        "iso3166_2", "adm1_pcode_ocha2014", "capital", "cod_ab_parent_pcode", "cod_ab_note",
    )
    pop = pl.concat([gov.population_for_year(y) for y in POPULATION_YEARS]).with_columns(
        pl.col("population").cast(pl.Float64),
        pl.lit("data_contracts/reference/population.csv; filling rule: data_contracts/reference/README.md").alias("source"),
    ).select("governorate_pcode", "year", "population", "method", "source")
    bank = load_question_bank()
    questions = pl.DataFrame(
        [
            {
                "question_id": qid, "sector": q.get("sector"), "label_en": q.get("label_en"),
                "label_ar": q.get("label_ar"), "answer_type": q["answer_type"],
                "choice_codes": q.get("choice_codes", []), "nonresponse_codes": q.get("nonresponse_codes", []),
                "min_value": q.get("min_value"), "max_value": q.get("max_value"), "unit": q.get("unit"),
                "top_box_codes": q.get("top_box", []), "bottom_box_codes": q.get("bottom_box", []),
            }
            for qid, q in bank.items()
        ],
        schema_overrides={"min_value": pl.Float64, "max_value": pl.Float64, "choice_codes": pl.List(pl.String),
                          "nonresponse_codes": pl.List(pl.String), "top_box_codes": pl.List(pl.String),
                          "bottom_box_codes": pl.List(pl.String)},
    )
    fields = [
        "indicator_id", "version", "sector", "name_en", "name_ar", "definition", "numerator", "denominator",
        "unit", "indicator_type", "question_id", "success_codes", "disaggregations", "ci_method", "direction",
        "source_questions", "estimation_method", "suppression_rule", "universe",
    ]
    # sector display names and order from the question bank's `sectors:` (the dashboard groups by them)
    sectors = question_sectors()
    sectors_ar = question_sectors(lang="ar")
    sector_order = {sector: i + 1 for i, sector in enumerate(sectors)}
    indicators = pl.DataFrame(
        [
            {
                **{f: ind.get(f) for f in fields},
                "version": str(ind.get("version")),
                "success_codes": ind.get("success_codes") or [],
                "source_questions": ind.get("source_questions") or f"{ind['question_id']}: {bank[ind['question_id']]['label_en']}",
                "sector_name": sectors.get(ind.get("sector")),
                "sector_name_ar": sectors_ar.get(ind.get("sector")),
                "sector_order": sector_order.get(ind.get("sector")),
                "indicator_order": position,  # its place in indicators.yaml: a sector's first is its lead
            }
            for position, ind in enumerate(load_indicators().values(), start=1)
        ],
        schema_overrides={"success_codes": pl.List(pl.String), "disaggregations": pl.List(pl.String),
                          "sector_name": pl.String, "sector_name_ar": pl.String, "sector_order": pl.Int32,
                          "indicator_order": pl.Int32},
    )
    with connect(paths.working_path()) as con:
        ensure_schema(con)
        counts = {
            "ref_governorates": replace_table(con, "raw.ref_governorates", govs),
            "ref_population": replace_table(con, "raw.ref_population", pop),
            "question_bank": replace_table(con, "raw.question_bank", questions),
            "indicator_registry": replace_table(con, "raw.indicator_registry", indicators),
            "ref_exchange_rates": replace_table(con, "raw.ref_exchange_rates", fiscal.exchange_rates()),
            "ref_cpi": replace_table(con, "raw.ref_cpi", fiscal.cpi()),
            "ref_fiscal_years": replace_table(con, "raw.ref_fiscal_years", fiscal.fiscal_years()),
            "ref_budget_sectors": replace_table(con, "raw.ref_budget_sectors", fiscal.budget_sectors()),
        }
    for table, n in counts.items():
        yield dg.MaterializeResult(asset_key=_key(table), metadata={"rows": n})


def _discover(paths: MizanPaths, domain: str) -> list[DiscoveredSource]:
    try:
        return [s for s in discover_sources(paths.data_path()) if s.domain == domain]
    except FatalSourceError as exc:
        raise dg.Failure(description=str(exc)) from None


def _run_sources(
    context: dg.AssetExecutionContext, paths: MizanPaths, domain: str, registry: Registry,
    writer: "_SourceWriter",
) -> tuple[list[SourceResult], list[dict]]:
    """Register and ingest every source of a domain, writing each through ``writer`` as it is read (a survey
    source wave by wave) and then freeing its rows: memory holds one wave or one budget source, not the
    domain. Sources without a mapping are reported and skipped. Returns the results (accounts, flags and
    notes; their tables emptied)."""
    results, skipped = [], []
    for src in _discover(paths, domain):
        if src.mapping_path is None:
            where = f"{src.path.name}/source.yaml or " if src.path.is_dir() else ""
            reason = f"no mapping: expected {where}data_contracts/sources/{src.source_id}.yaml"
            context.log.warning(f"skipped {src.path}: {reason}")
            skipped.append({"source_id": src.source_id, "path": str(src.path), "reason": reason})
            continue
        try:
            mapping = load_source_mapping(src)
            patterns = [f.path for f in mapping.files]
            unit_of = wave_of([(f.path, f.wave_id, f.part) for f in mapping.files]) if domain == "survey" else None
            # the form and a sample frame are read with the export, not loaded as data files
            frame = getattr(getattr(mapping, "weight", None), "sample_frame", None)
            companions = {n for n in (getattr(mapping, "xlsform", None), frame.path if frame else None) if n}
            logs = {p.name for p, _ in log_files(mapping, src.path)} if domain == "survey" else set()
            companions |= logs  # reviewed cleaning logs are applied, not loaded as data (docs/cleaning.md)
            active = registry.register_source(src, patterns, unit_of, companions)
            for f in active:  # an archive copy that went missing is restored now, read or not
                registry.archived(f)
            if domain == "survey":
                folder = src.path if src.path.is_dir() else src.path.parent
                fingerprint = source_fingerprint(src.mapping_path, [folder / c for c in companions]
                                                 + [folder / c for c in _codebooks(mapping)])
                plan = plan_waves(registry.con, src.source_id, active, fingerprint, all_or_nothing=bool(logs))
                if plan.unchanged:
                    context.log.info(f"{src.source_id}: waves {', '.join(plan.unchanged)} unchanged: not read again")
                writer.begin(src.source_id, plan)
                if not plan.reload:
                    result = SourceResult(source_id=src.source_id, domain="survey")
                else:
                    result = ingest_survey_source(src, mapping, files=[registry.archived(f) for f in plan.files],
                                                  whole_source=plan.whole_source or not plan.unchanged,
                                                  flush=writer.insert)
                result.wave_plan = plan
                result.tables["survey_wave_loads"] = pl.DataFrame(
                    _wave_loads(src.source_id, plan, result, fingerprint, registry),
                    schema={"source_id": pl.String, "wave_id": pl.String, "file_sha256s": pl.String,
                            "fingerprint": pl.String, "load_run_id": pl.String, "loaded_at": pl.Datetime})
            elif domain == "training":
                writer.begin(src.source_id, None)
                result = ingest_training_source(src, mapping, files=[registry.archived(f) for f in active])
            else:
                writer.begin(src.source_id, None)
                files = [registry.archived(f) for f in active]
                result = ingest_budget_source(src, mapping, files=files)
                result.tables["budget_lines"] = registry.supersede_budget_rows(
                    src.source_id, result.tables["budget_lines"], mapping.supersede_by)
        except (FatalSourceError, MappingError, FileReadError) as exc:
            raise dg.Failure(description=f"source {src.source_id}: {exc}") from None
        for acc in [*result.files, *result.repeat_accounts]:
            if not acc.balanced():  # an internal error, never a data problem: stop loudly
                raise dg.Failure(description=f"{acc.file_name}: row accounting does not balance: {acc}")
            context.log.info(
                f"{src.source_id}/{acc.file_name}: read {acc.rows_read}, loaded {acc.rows_loaded}, "
                f"excluded {acc.rows_excluded}, quarantined {acc.rows_quarantined}"
            )
        registry.record_loads(result.files)
        result.allow_empty = mapping.allow_empty
        _archive_logs(result, src, registry)
        writer.finish(result)
        result.tables = {t: pl.DataFrame() for t in result.tables}  # written: free the rows
        results.append(result)
    return results, skipped


def _codebooks(mapping) -> list[str]:
    """Files a mapping reads beside its exports (a codebook), by name."""
    return [c for c in (getattr(mapping, "codebook", None),) if isinstance(c, str)]


def _wave_loads(source_id: str, plan: WavePlan, result: SourceResult, fingerprint: str, registry: Registry) -> list[dict]:
    """``raw.survey_wave_loads`` rows of the waves this run read. A source read whole (a file without a
    wave) records its waves with no file list, so that the next run reads it whole again."""
    if not plan.whole_source:
        return wave_load_rows(source_id, plan, fingerprint, registry.run_id, registry.now)
    waves = result.tables.get("survey_sources", pl.DataFrame({"wave_id": []}))["wave_id"].to_list()
    return [{"source_id": source_id, "wave_id": w, "file_sha256s": "", "fingerprint": "", "load_run_id": registry.run_id,
             "loaded_at": registry.now} for w in waves]


def _archive_logs(result: SourceResult, src: DiscoveredSource, registry: Registry) -> None:
    """Archive every cleaning log the source applied (read-only, by SHA-256, like a data file) and note
    where, so each wave's estimates can be traced to the log versions they used."""
    for i, used in enumerate(result.cleaning_logs):
        paths = {}
        for name, sha in used.select("log_file", "log_sha256").unique().iter_rows():
            archived = archive_file(registry.archive_dir, "survey", src.source_id, src.path / name, sha)
            paths[sha] = str(archived.relative_to(registry.root))
        result.cleaning_logs[i] = used.with_columns(
            pl.col("log_sha256").replace_strict(paths, default=None, return_dtype=pl.String).alias("archive_path"))


class _SourceWriter:
    """Writes one domain's sources into the working file (:func:`_ingest_domain`): ``begin`` deletes the rows a source's new reading replaces, ``insert`` adds raw
    rows as they come (a survey wave at a time), ``finish`` adds the rest of the result and its audit rows.
    Values redacted as personal data on the way in are counted per source."""

    #: rows written between checkpoints: DuckDB's memory holds about this much of what was written
    CHECKPOINT_ROWS = 2_000_000

    def __init__(self, con, domain: str, tables: list[str], run_id: str):
        self.con, self.domain, self.tables, self.run_id = con, domain, tables, run_id
        self.redacted: dict[tuple[str, str, str], int] = {}
        self.unsaved = 0

    def begin(self, source_id: str, plan: WavePlan | None) -> None:
        self.redacted = {}
        _delete_replaced(self.con, self.domain, self.tables, source_id, plan)

    def insert(self, frames: dict[str, pl.DataFrame]) -> None:
        for table in self.tables:
            if table in frames and frames[table].height:
                self.unsaved += insert_frame(self.con, f"raw.{table}", frames[table], self.redacted)
        if self.unsaved >= self.CHECKPOINT_ROWS:  # written rows go to the file instead of staying in memory
            self.con.execute("CHECKPOINT")
            self.unsaved = 0

    def finish(self, r: SourceResult) -> None:
        con, domain, run_id = self.con, self.domain, self.run_id
        plan = r.wave_plan
        if plan is not None and not plan.whole_source and plan.unchanged:
            _replace_labels(con, r.tables.get("survey_form_labels"))
        self.insert(r.tables)
        for kind in ("quarantine", "exclusions", "dropped_columns"):
            insert_frame(
                con, f"audit.{kind}",
                r.frame(kind).with_columns(pl.lit(run_id).alias("run_id"), pl.lit(domain).alias("domain")),
                self.redacted,
            )
        if self.redacted:
            insert_frame(con, "audit.redacted_values", pl.DataFrame(
                [(run_id, domain, r.source_id, t, c, k, n) for (t, c, k), n in sorted(self.redacted.items())],
                schema=["run_id", "domain", "source_id", "table_name", "column_name", "kind", "n_values"],
                orient="row"))
        if r.repeat_accounts:
            insert_frame(con, "audit.repeat_group_accounts", pl.DataFrame([vars(a) for a in r.repeat_accounts])
                         .with_columns(pl.lit(run_id).alias("run_id"), pl.lit(domain).alias("domain")))
        if r.review_flags:
            insert_frame(con, "audit.review_flags", pl.concat(r.review_flags)
                         .with_columns(pl.lit(run_id).alias("run_id"), pl.lit(domain).alias("domain")))
        for kind in ("cleaning_changes", "cleaning_logs"):
            frames = [f for f in getattr(r, kind) if f.height]
            if frames:
                insert_frame(con, f"audit.{kind}", pl.concat(frames).with_columns(
                    pl.lit(run_id).alias("run_id"), pl.lit(domain).alias("domain")))
        if r.reconciliation:
            insert_frame(con, "audit.budget_reconciliation", pl.concat(r.reconciliation)
                         .with_columns(pl.lit(run_id).alias("run_id"), pl.lit(domain).alias("domain")))
        if r.notes:
            insert_frame(
                con, "audit.source_notes",
                pl.DataFrame(r.notes).with_columns(
                    pl.lit(run_id).alias("run_id"), pl.lit(domain).alias("domain"), pl.lit(r.source_id).alias("source_id")
                ),
            )


def _write_skipped(con, domain: str, skipped: list[dict], run_id: str) -> None:
    """The domain's skipped sources (no mapping) of this run replace those of the last run."""
    con.execute("DELETE FROM audit.skipped_sources WHERE domain = ?", [domain])
    if skipped:
        insert_frame(
            con, "audit.skipped_sources",
            pl.DataFrame(skipped).with_columns(pl.lit(run_id).alias("run_id"), pl.lit(domain).alias("domain")),
        )


_AUDIT_BY_SOURCE = ("quarantine", "exclusions", "dropped_columns", "source_notes", "repeat_group_accounts",
                    "review_flags", "budget_reconciliation", "redacted_values", "cleaning_changes", "cleaning_logs")


def _delete_replaced(con, domain: str, tables: list[str], source_id: str, plan: WavePlan | None) -> None:
    """Delete the raw and audit rows that this run's reading of a source replaces: the whole source, or, for
    a survey source read wave by wave, the rows of the waves it reloads or dropped (other waves keep theirs;
    form labels are replaced by :func:`_replace_labels`)."""
    if plan is None or plan.whole_source or not plan.unchanged:
        for table in tables:
            con.execute(f"DELETE FROM raw.{table} WHERE source_id = ?", [source_id])
        for audit in _AUDIT_BY_SOURCE:
            con.execute(f"DELETE FROM audit.{audit} WHERE domain = ? AND source_id = ?", [domain, source_id])
        return
    waves, shas = sorted(plan.waves), sorted(plan.replaced_sha256s)
    if not waves:
        return
    in_waves = f"wave_id IN ({', '.join('?' for _ in waves)})"
    in_shas = f"file_sha256 IN ({', '.join('?' for _ in shas)})" if shas else "FALSE"
    for table in tables:
        if table != "survey_form_labels":  # labels are per source: the reloaded form's replace theirs
            con.execute(f"DELETE FROM raw.{table} WHERE source_id = ? AND {in_waves}", [source_id, *waves])
    names = con.execute(f"SELECT DISTINCT file_name FROM audit.file_registry WHERE {in_shas}", shas).fetchall()
    names = [n for (n,) in names]
    in_names = f"file_name IN ({', '.join('?' for _ in names)})" if names else "FALSE"
    for audit in ("quarantine", "exclusions", "repeat_group_accounts"):
        con.execute(f"DELETE FROM audit.{audit} WHERE domain = ? AND source_id = ? AND {in_shas}", [domain, source_id, *shas])
    for audit in ("dropped_columns", "source_notes"):
        con.execute(f"DELETE FROM audit.{audit} WHERE domain = ? AND source_id = ? AND ({in_names} OR file_name IS NULL)",
                    [domain, source_id, *names])
    con.execute(f"DELETE FROM audit.review_flags WHERE domain = ? AND source_id = ? AND {in_waves}", [domain, source_id, *waves])


def _replace_labels(con, labels: pl.DataFrame | None) -> None:
    """The form labels a reloaded wave brings replace the same labels (source, item, field, choice) kept."""
    if labels is None or not labels.height:
        return
    con.register("_new_labels", labels.to_arrow())
    try:
        con.execute("DELETE FROM raw.survey_form_labels AS t WHERE EXISTS (SELECT 1 FROM _new_labels AS n WHERE "
                    "n.source_id = t.source_id AND n.item_type = t.item_type AND n.field_name = t.field_name "
                    "AND n.choice_code IS NOT DISTINCT FROM t.choice_code)")
    finally:
        con.unregister("_new_labels")


def _ingest_domain(context: dg.AssetExecutionContext, paths: MizanPaths, domain: str, tables: list[str]):
    """Register, ingest and write every source of a domain, and report one result per table (the run
    summary rides on the first)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    run_id = paths.mizan_run_id()
    with connect(paths.working_path()) as con:
        ensure_schema(con)
        registry = Registry(con, domain, paths.layout().archive_dir, run_id, now)
        # No transaction around the domain: DuckDB keeps a transaction's uncommitted rows in memory, so one
        # around every wave of every source would hold them all (6 GB at 300,000 respondents). Atomicity comes
        # from the working file instead: a run that fails here is never published (pipelines/runlog.py).
        results, skipped = _run_sources(context, paths, domain, registry, _SourceWriter(con, domain, tables, run_id))
        _write_skipped(con, domain, skipped, run_id)
        registry.write()
        counts = {t: con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0] for t in tables}
    _refuse_empty_sources(results)
    summary = _summary(results, skipped)
    summary["deliveries"] = [
        {k: d[k] for k in ("source_id", "file_name", "file_sha256", "outcome")} for d in registry.deliveries
    ]
    for i, table in enumerate(tables):
        metadata = {"rows": counts[table]}
        if i == 0:
            metadata["summary"] = dg.MetadataValue.json(summary)
        yield dg.MaterializeResult(asset_key=_key(table), metadata=metadata)


def _refuse_empty_sources(results: list[SourceResult]) -> None:
    """A source of which no row loaded stops the run (after its quarantine and exclusions are written, so
    the failed run's summary says why), unless its mapping says ``allow_empty: true``.

    Raises:
        dagster.Failure: naming each such source with its rows read, excluded and quarantined.
    """
    # a survey source whose waves were all unchanged read no file this run: its rows stay, nothing is empty
    empty = [r for r in results if r.files and not r.allow_empty and sum(a.rows_loaded for a in r.files) == 0]
    if empty:
        raise dg.Failure(description="; ".join(
            f"source {r.source_id}: no row loaded from its {len(r.files)} file(s) (read "
            f"{sum(a.rows_read for a in r.files)}, excluded {sum(a.rows_excluded for a in r.files)}, quarantined "
            f"{sum(a.rows_quarantined for a in r.files)}; see the reasons below)" for r in empty)
            + ": the warehouse is not replaced; if an empty delivery is expected, set allow_empty: true in the "
              "source's mapping")


def _summary(results: list[SourceResult], skipped: list[dict]) -> dict:
    return {
        "sources": [r.source_id for r in results],
        "files": [
            {k: v for k, v in vars(a).items() if k in ("source_id", "file_name", "file_sha256", "rows_read",
                                                       "rows_loaded", "rows_excluded", "rows_quarantined")}
            for r in results for a in r.files
        ],
        "repeat_groups": [vars(a) for r in results for a in r.repeat_accounts],
        "review_flags": sum(f.height for r in results for f in r.review_flags),
        "skipped": skipped,
    }


@dg.multi_asset(
    specs=[dg.AssetSpec(_key(t), group_name="ingestion", kinds={"duckdb", "polars"}) for t in SURVEY_TABLES],
    pool=POOL,
    description="Survey exports (Kobo/ODK CSV and XLSX with their XLSForm, SPSS/Stata, plain CSV/XLSX with a "
    "codebook) harmonised onto the question bank through each source's mapping file; personal data dropped; "
    "review status, duplicates and edits resolved; pandera contracts; quarantine.",
)
def survey_tables(context: dg.AssetExecutionContext, paths: MizanPaths):
    yield from _ingest_domain(context, paths, "survey", SURVEY_TABLES)


@dg.multi_asset(
    specs=[dg.AssetSpec(_key(t), group_name="ingestion", kinds={"duckdb", "polars"}) for t in BUDGET_TABLES],
    pool=POOL,
    description="Governorate budget tables harmonised through each source's mapping file; amounts parsed "
    "strictly; unit and currency kept; quarantine.",
)
def budget_tables(context: dg.AssetExecutionContext, paths: MizanPaths):
    yield from _ingest_domain(context, paths, "budget", BUDGET_TABLES)
