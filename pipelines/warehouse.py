"""The DuckDB warehouse file: where it is, the ``raw`` and ``audit`` tables, and idempotent writes.

Only the pipeline writes, one connection at a time, closed before dbt runs (DuckDB allows one writing
process, docs/publishing.md "One writer"). Table shapes are documented in docs/architecture.md.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl

from data_contracts.personal_data import redact_frame

DEFAULT_WAREHOUSE = Path("warehouse") / "mizan.duckdb"

RAW_DDL = {
    "survey_respondents": """
        source_id VARCHAR NOT NULL, wave_id VARCHAR NOT NULL, file_name VARCHAR NOT NULL,
        file_sha256 VARCHAR NOT NULL, row_number INTEGER NOT NULL, respondent_id VARCHAR NOT NULL,
        governorate_pcode VARCHAR NOT NULL, district_pcode VARCHAR, stratum VARCHAR NOT NULL,
        psu VARCHAR NOT NULL, weight DOUBLE NOT NULL, hoh_sex VARCHAR, urban_rural VARCHAR,
        interview_date DATE, is_synthetic BOOLEAN NOT NULL""",
    "survey_answers": """
        source_id VARCHAR NOT NULL, wave_id VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL,
        row_number INTEGER NOT NULL, respondent_id VARCHAR NOT NULL, question_id VARCHAR NOT NULL,
        answer_code VARCHAR, answer_numeric DOUBLE, answer_source VARCHAR, source_scale VARCHAR""",
    "survey_repeat_rows": """
        source_id VARCHAR NOT NULL, wave_id VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL,
        repeat_group VARCHAR NOT NULL, sheet_name VARCHAR, row_number INTEGER NOT NULL,
        parent_group VARCHAR NOT NULL, parent_row_number INTEGER NOT NULL, respondent_id VARCHAR NOT NULL,
        field_name VARCHAR NOT NULL, value_text VARCHAR, field_type VARCHAR, value_numeric DOUBLE""",
    "survey_submissions": """
        source_id VARCHAR NOT NULL, wave_id VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL,
        row_number INTEGER NOT NULL, respondent_id VARCHAR NOT NULL, field_name VARCHAR NOT NULL,
        value_text VARCHAR, field_type VARCHAR, value_numeric DOUBLE""",
    "survey_multi_select": """
        source_id VARCHAR NOT NULL, wave_id VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL,
        row_number INTEGER NOT NULL, respondent_id VARCHAR NOT NULL, field_name VARCHAR NOT NULL,
        choice_code VARCHAR NOT NULL, is_selected BOOLEAN""",
    "survey_form_labels": """
        source_id VARCHAR NOT NULL, item_type VARCHAR NOT NULL, field_name VARCHAR NOT NULL,
        field_type VARCHAR, choice_code VARCHAR, label_en VARCHAR, label_ar VARCHAR""",
    "survey_sources": """
        source_id VARCHAR NOT NULL, wave_id VARCHAR NOT NULL, title VARCHAR, unit_of_analysis VARCHAR,
        weight_note VARCHAR, design_note VARCHAR, citation VARCHAR, coverage VARCHAR, is_synthetic BOOLEAN NOT NULL,
        fieldwork_start DATE, fieldwork_end DATE, single_psu_rule VARCHAR, strata_combine_json VARCHAR,
        weight_method VARCHAR, post_stratify VARCHAR, cleaning_log_sha256s VARCHAR""",
    "survey_respondent_attributes": """
        source_id VARCHAR NOT NULL, wave_id VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL,
        row_number INTEGER NOT NULL, respondent_id VARCHAR NOT NULL, attribute VARCHAR NOT NULL, value VARCHAR""",
    # One row per survey wave in raw: the files it was loaded from, the fingerprint of what read them, and the
    # run that loaded it (pipelines/ingest/waves.py); a run reads only waves whose files or fingerprint changed.
    "survey_wave_loads": """
        source_id VARCHAR NOT NULL, wave_id VARCHAR NOT NULL, file_sha256s VARCHAR, fingerprint VARCHAR,
        load_run_id VARCHAR NOT NULL, loaded_at TIMESTAMP""",
    "budget_lines": """
        source_id VARCHAR NOT NULL, file_name VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL,
        row_number INTEGER NOT NULL, governorate_pcode VARCHAR NOT NULL, governorate_name_source VARCHAR,
        fiscal_year INTEGER NOT NULL, sector VARCHAR NOT NULL, budget_scope VARCHAR NOT NULL,
        allocation_original DOUBLE, allocation_revised DOUBLE, expenditure DOUBLE,
        execution_pct_published DOUBLE, currency VARCHAR NOT NULL, amount_unit VARCHAR NOT NULL,
        unit_multiplier DOUBLE NOT NULL, as_of DATE, is_synthetic BOOLEAN NOT NULL, sheet_name VARCHAR,
        chapter VARCHAR, item_label VARCHAR, funding_stream VARCHAR NOT NULL DEFAULT 'all',
        period_months INTEGER""",
    "budget_sources": """
        source_id VARCHAR NOT NULL, title VARCHAR, citation VARCHAR, is_synthetic BOOLEAN NOT NULL,
        coverage VARCHAR NOT NULL DEFAULT 'complete', coverage_note VARCHAR""",
    "question_bank": """
        question_id VARCHAR NOT NULL, sector VARCHAR, label_en VARCHAR, label_ar VARCHAR,
        answer_type VARCHAR, choice_codes VARCHAR[], nonresponse_codes VARCHAR[], min_value DOUBLE,
        max_value DOUBLE, unit VARCHAR, top_box_codes VARCHAR[], bottom_box_codes VARCHAR[]""",
    "indicator_registry": """
        indicator_id VARCHAR NOT NULL, version VARCHAR, sector VARCHAR, name_en VARCHAR, name_ar VARCHAR,
        definition VARCHAR, numerator VARCHAR, denominator VARCHAR, unit VARCHAR, indicator_type VARCHAR,
        question_id VARCHAR, success_codes VARCHAR[], disaggregations VARCHAR[], ci_method VARCHAR,
        direction VARCHAR, source_questions VARCHAR, estimation_method VARCHAR, suppression_rule VARCHAR,
        universe VARCHAR, sector_name VARCHAR, sector_order INTEGER, indicator_order INTEGER, sector_name_ar VARCHAR""",
    "ref_governorates": """
        governorate_pcode VARCHAR NOT NULL, name_en VARCHAR, name_en_short VARCHAR, name_ar VARCHAR,
        name_ckb VARCHAR, name_kmr VARCHAR, region VARCHAR, iso3166_2 VARCHAR, adm1_pcode_ocha2014 VARCHAR,
        capital VARCHAR, cod_ab_parent_pcode VARCHAR, cod_ab_note VARCHAR""",
    "ref_population": """
        governorate_pcode VARCHAR NOT NULL, year INTEGER NOT NULL, population DOUBLE, method VARCHAR,
        source VARCHAR""",
    # Fiscal reference tables (data_contracts/fiscal.py; sources in data_contracts/reference/README.md).
    "ref_exchange_rates": """
        year INTEGER NOT NULL, iqd_per_usd DOUBLE NOT NULL, basis VARCHAR, source VARCHAR, note VARCHAR""",
    "ref_cpi": """
        year INTEGER NOT NULL, cpi DOUBLE NOT NULL, base VARCHAR, inflation_pct DOUBLE, status VARCHAR,
        source VARCHAR, note VARCHAR""",
    "ref_fiscal_years": """
        fiscal_year INTEGER NOT NULL, budget_law BOOLEAN, law VARCHAR, source VARCHAR, note VARCHAR""",
    "ref_budget_sectors": """
        sector VARCHAR NOT NULL, name_en VARCHAR, name_ar VARCHAR, survey_sectors VARCHAR, sort_order INTEGER,
        note VARCHAR""",
    # Training cohorts (pipelines/ingest/training.py) and the results framework (data_contracts/results_framework.py).
    "training_participants": """
        source_id VARCHAR NOT NULL, file_name VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL, row_number INTEGER NOT NULL,
        participant_id VARCHAR NOT NULL, track VARCHAR NOT NULL, cohort VARCHAR NOT NULL, cohort_start DATE NOT NULL,
        period VARCHAR NOT NULL, institution_type VARCHAR NOT NULL, governorate_pcode VARCHAR,
        level_of_government VARCHAR NOT NULL, sex VARCHAR NOT NULL, role VARCHAR, sessions INTEGER NOT NULL,
        attendance_pct DOUBLE NOT NULL, pre_test DOUBLE, post_test DOUBLE, score_max DOUBLE NOT NULL,
        completion_threshold_pct DOUBLE NOT NULL, is_synthetic BOOLEAN NOT NULL""",
    "training_attendance": """
        source_id VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL, row_number INTEGER NOT NULL,
        participant_id VARCHAR NOT NULL, cohort VARCHAR NOT NULL, session_number INTEGER NOT NULL,
        session_name VARCHAR, attendance_pct DOUBLE NOT NULL""",
    "training_sources": """
        source_id VARCHAR NOT NULL, title VARCHAR, citation VARCHAR, is_synthetic BOOLEAN NOT NULL,
        completion_threshold_pct DOUBLE, score_max DOUBLE, sessions INTEGER""",
    "results_framework_results": """
        framework_version VARCHAR NOT NULL, result_id VARCHAR NOT NULL, level VARCHAR NOT NULL, parent_id VARCHAR,
        name_en VARCHAR, name_ar VARCHAR, sort_order INTEGER""",
    "results_framework_indicators": """
        framework_version VARCHAR NOT NULL, indicator_id VARCHAR NOT NULL, result_id VARCHAR NOT NULL,
        level VARCHAR NOT NULL, kind VARCHAR NOT NULL, source_id VARCHAR, measure VARCHAR, track VARCHAR,
        name_en VARCHAR, name_ar VARCHAR, unit VARCHAR, direction VARCHAR NOT NULL, formula_version VARCHAR NOT NULL,
        responsible_unit VARCHAR, baseline_value DOUBLE, baseline_period VARCHAR, baseline_source VARCHAR,
        sort_order INTEGER""",
    "results_framework_targets": """
        framework_version VARCHAR NOT NULL, indicator_id VARCHAR NOT NULL, governorate_pcode VARCHAR NOT NULL,
        period VARCHAR NOT NULL, target_value DOUBLE NOT NULL, line INTEGER""",
}

AUDIT_DDL = {
    # One row per distinct delivered file (by SHA-256), kept across runs (docs/publishing.md).
    "file_registry": """
        file_sha256 VARCHAR, domain VARCHAR, source_id VARCHAR, file_name VARCHAR, file_path VARCHAR,
        archive_path VARCHAR, file_bytes BIGINT, unit VARCHAR, registered_seq BIGINT, registered_at TIMESTAMP,
        registered_run_id VARCHAR, status VARCHAR, superseded_by VARCHAR, superseded_at TIMESTAMP,
        run_id VARCHAR, loaded_at TIMESTAMP, rows_read INTEGER, rows_loaded INTEGER, rows_excluded INTEGER,
        rows_quarantined INTEGER, rows_superseded INTEGER""",
    # Every sighting of a file in the landing folder, per run, with what became of it.
    "file_deliveries": """
        run_id VARCHAR, seen_at TIMESTAMP, domain VARCHAR, source_id VARCHAR, file_name VARCHAR,
        file_path VARCHAR, file_sha256 VARCHAR, outcome VARCHAR, supersedes_sha256 VARCHAR""",
    "quarantine": """
        run_id VARCHAR, domain VARCHAR, source_id VARCHAR, file_name VARCHAR, file_sha256 VARCHAR,
        row_number INTEGER, column_name VARCHAR, value VARCHAR, reason VARCHAR, sheet_name VARCHAR""",
    "exclusions": """
        run_id VARCHAR, domain VARCHAR, source_id VARCHAR, file_name VARCHAR, file_sha256 VARCHAR,
        row_number INTEGER, reason VARCHAR, sheet_name VARCHAR""",
    # Row accounting of repeat groups (Kobo XLSX sheets, ODK Central repeat CSVs), per delivered file.
    "repeat_group_accounts": """
        run_id VARCHAR, domain VARCHAR, source_id VARCHAR, file_name VARCHAR, file_sha256 VARCHAR,
        repeat_group VARCHAR, sheet_name VARCHAR, rows_read INTEGER, rows_loaded INTEGER, rows_excluded INTEGER,
        rows_quarantined INTEGER""",
    # Every printed subtotal and total of a budget sheet against the sum of its line items.
    "budget_reconciliation": """
        run_id VARCHAR, domain VARCHAR, source_id VARCHAR, file_name VARCHAR, file_sha256 VARCHAR,
        sheet_name VARCHAR, row_number INTEGER, row_kind VARCHAR, label VARCHAR, amount_field VARCHAR,
        printed DOUBLE, sum_of_items DOUBLE, difference DOUBLE, items_from_row INTEGER, items_to_row INTEGER,
        unit VARCHAR, status VARCHAR""",
    # Submissions loaded but flagged for a person to review (e.g. soft duplicates).
    "review_flags": """
        run_id VARCHAR, domain VARCHAR, source_id VARCHAR, wave_id VARCHAR, flag VARCHAR, file_name VARCHAR,
        row_number INTEGER, respondent_id VARCHAR, other_file_name VARCHAR, other_row_number INTEGER,
        other_respondent_id VARCHAR, similarity DOUBLE, fields_compared INTEGER, detail VARCHAR""",
    # Every change a reviewed cleaning log made (docs/cleaning.md): one row per changed cell or removed interview.
    "cleaning_changes": """
        run_id VARCHAR, domain VARCHAR, source_id VARCHAR, wave_id VARCHAR, file_name VARCHAR, file_sha256 VARCHAR,
        row_number INTEGER, respondent_id VARCHAR, question VARCHAR, old_value VARCHAR, new_value VARCHAR,
        change_type VARCHAR, issue VARCHAR, log_file VARCHAR, log_sha256 VARCHAR, log_line INTEGER""",
    # The cleaning logs a run applied, per wave they touched, by SHA-256 (archived beside the data files).
    "cleaning_logs": """
        run_id VARCHAR, domain VARCHAR, source_id VARCHAR, wave_id VARCHAR, log_file VARCHAR, log_sha256 VARCHAR,
        archive_path VARCHAR, lines INTEGER, changes INTEGER, removed INTEGER, no_action INTEGER""",
    "dropped_columns": """
        run_id VARCHAR, domain VARCHAR, source_id VARCHAR, file_name VARCHAR, column_name VARCHAR, reason VARCHAR""",
    # Values replaced by a redaction marker as personal data (data_contracts/personal_data.py), per column.
    "redacted_values": """
        run_id VARCHAR, domain VARCHAR, source_id VARCHAR, table_name VARCHAR, column_name VARCHAR, kind VARCHAR,
        n_values BIGINT""",
    "skipped_sources": "run_id VARCHAR, domain VARCHAR, source_id VARCHAR, path VARCHAR, reason VARCHAR",
    "source_notes": "run_id VARCHAR, domain VARCHAR, source_id VARCHAR, file_name VARCHAR, note VARCHAR",
    "dbt_results": """
        run_id VARCHAR, unique_id VARCHAR, resource_type VARCHAR, name VARCHAR, status VARCHAR,
        failures INTEGER, message VARCHAR, execution_time DOUBLE""",
    # The fingerprint of the project and contracts the last successful dbt build used (pipelines/assets/dbt.py):
    # a different one rebuilds the incremental models whole.
    "dbt_build_state": "fingerprint VARCHAR, run_id VARCHAR, built_at TIMESTAMP",
    # The SCHEMA_VERSION of the code whose dbt build made the marts and reporting models (one row; empty or
    # absent = a build from before versions were recorded, schema 1). The dashboard compares it once.
    "schema_version": "schema_version INTEGER, run_id VARCHAR, built_at TIMESTAMP",
    # Every run and approval up to this snapshot's own (failed ones included, from the journal).
    "run_log": """
        run_id VARCHAR, kind VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR,
        data_dir VARCHAR, files_json VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_excluded BIGINT,
        rows_quarantined BIGINT, tests_passed INTEGER, tests_failed INTEGER, snapshot VARCHAR, message VARCHAR,
        table_rows_json VARCHAR, summary_json VARCHAR""",
    # Wave approvals by the M&E lead (mizan approve); the latest decision per wave counts.
    "wave_approvals": """
        source_id VARCHAR, wave_id VARCHAR, action VARCHAR, decided_by VARCHAR, decided_at TIMESTAMP,
        note VARCHAR, file_sha256s VARCHAR, run_id VARCHAR""",
}

#: What a survey wave's estimates are made from: the SHA-256 of its active files and of the cleaning logs
#: applied to it, sorted and comma-separated (what an approval records and is compared with).
WAVE_INPUTS_SQL = """
CREATE OR REPLACE VIEW audit.wave_inputs AS
SELECT source_id, wave_id, string_agg(sha, ',' ORDER BY sha) AS file_sha256s
FROM (
    SELECT source_id, split_part(unit, '#', 1) AS wave_id, file_sha256 AS sha
    FROM audit.file_registry WHERE domain = 'survey' AND status = 'active'
    UNION ALL
    SELECT source_id, wave_id, unnest(string_split(cleaning_log_sha256s, ',')) AS sha
    FROM raw.survey_sources WHERE cleaning_log_sha256s IS NOT NULL
)
GROUP BY ALL
"""

#: Approval status per survey wave: approved only while the wave's files (and cleaning logs) are those approved.
WAVE_APPROVAL_STATUS_SQL = """
CREATE OR REPLACE VIEW audit.wave_approval_status AS
WITH waves AS (
    SELECT DISTINCT source_id, wave_id FROM raw.survey_sources
), active AS (
    SELECT source_id, wave_id, file_sha256s FROM audit.wave_inputs
), latest AS (
    SELECT * FROM audit.wave_approvals
    QUALIFY row_number() OVER (PARTITION BY source_id, wave_id ORDER BY decided_at DESC) = 1
)
SELECT
    w.source_id, w.wave_id,
    coalesce(l.action = 'approve' AND l.file_sha256s IS NOT DISTINCT FROM a.file_sha256s, false) AS is_approved,
    CASE
        WHEN l.action IS NULL THEN 'provisional'
        WHEN l.action = 'revoke' THEN 'provisional (approval revoked)'
        WHEN l.file_sha256s IS DISTINCT FROM a.file_sha256s THEN 'provisional (files changed since approval)'
        ELSE 'approved'
    END AS approval_status,
    l.action AS last_action, l.decided_by, l.decided_at, l.note
FROM waves w LEFT JOIN active a USING (source_id, wave_id) LEFT JOIN latest l USING (source_id, wave_id)
"""


#: Version of the warehouse's tables as the dashboard reads them: raise it when a model or column the
#: dashboard needs is added, renamed or changes meaning. A successful dbt build records it in
#: ``audit.schema_version``; the dashboard refuses a snapshot with an older one in one message.
#: 1 = before versions were recorded; 2 = the reporting models (reporting.rpt_*) and dim_indicator.indicator_order.
SCHEMA_VERSION = 2


#: DuckDB memory limit per connection: the dbt process and the Dagster process each stay under it, with
#: room for Python itself, within a 3 GB budget for the whole run (docs/architecture.md "Scaling").
DEFAULT_MEMORY_LIMIT = "1500MB"


def warehouse_path(explicit: str | Path | None = None) -> Path:
    """The warehouse file: ``explicit``, else ``$MIZAN_WAREHOUSE``, else ``./warehouse/mizan.duckdb``.

    Always absolute, so that dbt (which runs in its project folder) and Dagster see the same file. It is
    the *pointer* to the current snapshot (pipelines/publish.py); symlinks are not resolved.
    """
    chosen = explicit or os.environ.get("MIZAN_WAREHOUSE") or DEFAULT_WAREHOUSE
    return Path(os.path.abspath(Path(chosen).expanduser()))  # not resolve(): the path is a symlink (the pointer)


def memory_limit() -> str:
    """DuckDB's memory limit for every connection the pipeline opens (and dbt's, profiles.yml):
    ``$MIZAN_DUCKDB_MEMORY_LIMIT``, else ``DEFAULT_MEMORY_LIMIT``. Past it DuckDB spills to its temporary
    directory instead of growing (its own default, 80 % of RAM, let one large wave take the machine)."""
    return os.environ.get("MIZAN_DUCKDB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT


def spill_directory(path: Path) -> Path:
    """Where DuckDB spills for the database file ``path``: ``<file>.tmp`` beside it, on the warehouse's own
    disk (the run's working file lives in its own folder, removed with it)."""
    return path.with_name(path.name + ".tmp")


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection, always closed (DuckDB keeps the file locked while one is open). Writable
    connections get the memory limit and spill directory of :func:`memory_limit` / :func:`spill_directory`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {} if read_only else {"memory_limit": memory_limit(), "temp_directory": str(spill_directory(path))}
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    try:
        yield con
    finally:
        con.close()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ``raw`` and ``audit`` schemas and tables if missing, and add columns a table of an older
    warehouse lacks (never drops data); (re)create the ``audit.wave_approval_status`` view."""
    for schema, ddl in (("raw", RAW_DDL), ("audit", AUDIT_DDL)):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for table, cols in ddl.items():
            con.execute(f"CREATE TABLE IF NOT EXISTS {schema}.{table} ({cols})")
            have = set(_columns(con, f"{schema}.{table}"))
            for col in (c.strip() for c in cols.split(",")):
                name, _, ctype = col.partition(" ")
                if name not in have:
                    con.execute(f"ALTER TABLE {schema}.{table} ADD COLUMN {name} {ctype.replace('NOT NULL', '').strip()}")
    con.execute(WAVE_INPUTS_SQL)
    con.execute(WAVE_APPROVAL_STATUS_SQL)


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    """Whether ``schema.table`` (a table or a view) exists."""
    schema, table = qualified.split(".")
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
    ).fetchone()[0])


def has_columns(con: duckdb.DuckDBPyConnection, qualified: str, columns: list[str]) -> bool:
    """Whether ``schema.table`` has every one of ``columns`` (an older warehouse may lack some)."""
    return set(columns) <= set(_columns(con, qualified))


def fetch_dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    """The rows of a query as dicts (column name → value)."""
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _columns(con: duckdb.DuckDBPyConnection, qualified: str) -> list[str]:
    schema, table = qualified.split(".")
    return [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [schema, table],
        ).fetchall()
    ]


#: Columns that hold only hashes and ids the pipeline makes: not scanned for personal data.
UNSCANNED_COLUMNS = frozenset({"file_sha256", "run_id", "domain", "supersedes_sha256", "superseded_by"})


#: Rows :func:`insert_frame` redacts and hands to DuckDB at a time.
INSERT_SLICE_ROWS = 500_000


def insert_frame(con: duckdb.DuckDBPyConnection, qualified: str, frame: pl.DataFrame,
                 redacted: dict[tuple[str, str, str], int] | None = None) -> int:
    """Append ``frame`` to ``qualified`` (``schema.table``), matching columns by name.

    Every text value passes :func:`data_contracts.personal_data.redact_frame` first: this is the one way
    Python writes rows into the warehouse, so no phone number, e-mail, GPS pair or national id reaches a
    table. ``redacted``, when given, is incremented per ``(table, column, kind)`` by the values replaced.
    Columns of the table absent from the frame are NULL; columns of the frame not in the table raise.

    Raises:
        ValueError: the frame has a column the table does not.
    """
    if frame.height == 0:
        return 0
    cols = _columns(con, qualified)
    extra = sorted(set(frame.columns) - set(cols))
    if extra:
        raise ValueError(f"{qualified} has no column(s) {extra}")
    present = [c for c in cols if c in frame.columns]
    view = f"__frame_{abs(hash(qualified))}"
    # in slices: redaction and the Arrow hand-over copy the rows they work on, a slice at a time
    for part in frame.select(present).iter_slices(INSERT_SLICE_ROWS):
        part, counts = redact_frame(part, skip=UNSCANNED_COLUMNS)
        if redacted is not None:
            for (column, kind), n in counts.items():
                redacted[(qualified, column, kind)] = redacted.get((qualified, column, kind), 0) + n
        con.register(view, part.to_arrow())
        try:
            con.execute(f"INSERT INTO {qualified} ({', '.join(present)}) SELECT {', '.join(present)} FROM {view}")
        finally:
            con.unregister(view)
    return frame.height


def replace_rows(con: duckdb.DuckDBPyConnection, qualified: str, where: dict[str, str], frame: pl.DataFrame) -> int:
    """Delete the rows matching ``where`` (column = value) and insert ``frame``: an idempotent reload."""
    clause = " AND ".join(f"{c} = ?" for c in where)
    con.execute(f"DELETE FROM {qualified} WHERE {clause}", list(where.values()))
    return insert_frame(con, qualified, frame)


def replace_table(con: duckdb.DuckDBPyConnection, qualified: str, frame: pl.DataFrame) -> int:
    """Empty ``qualified`` and insert ``frame`` (for reference tables rebuilt from the repository)."""
    con.execute(f"DELETE FROM {qualified}")
    return insert_frame(con, qualified, frame)
