"""The ``mizan`` command line: ``run``, ``demo``, ``dashboard``, ``status``, ``approve``, ``users``.

- ``mizan run --data-dir DIR [--warehouse PATH]`` materialises every asset on the files in DIR, publishes a
  snapshot when everything passed, and prints a run summary; exits 1 naming the file and the problem.
- ``mizan demo [--dir DIR] [--warehouse PATH] [--no-dashboard]`` writes the synthetic demo data, runs on it,
  approves its first wave (so both approved and provisional waves show), creates one demo user per role
  (printed, demo-only passwords), then serves the dashboard.
- ``mizan dashboard [--warehouse PATH] [--port N]`` serves the dashboard on the current snapshot.
- ``mizan status [--json] [--warehouse PATH]``: current snapshot, run id, publish time, waves and approval.
- ``mizan approve --source S --wave W [--by NAME] [--note TEXT] [--revoke]``: approve a survey wave.
- ``mizan users add|remove|list|unlock``: dashboard users and roles (``pipelines/users.py``).
- ``mizan brief --lang ar|en --out FILE.pdf [--period P] [--include-provisional]``: the steering committee's
  brief from the published snapshot (``pipelines/brief/``).
- ``mizan source check FOLDER [--out PATH] [--force] [--json] [--encoding ENC] [--source-id ID] [--wave-id W]
  [--mapping PATH]``: profile a new delivery and write a draft mapping (``pipelines/source_check.py``).

Every command takes ``--warehouse PATH`` with the same default: ``$MIZAN_WAREHOUSE``, else
``./warehouse/mizan.duckdb``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

from data_contracts import personal_data
from data_contracts.personal_data import RedactingError, RedactingStream
from pipelines import publish as pub
from pipelines import users
from pipelines.warehouse import connect, fetch_dicts, has_columns, table_exists, warehouse_path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DEMO_DIR = Path("demo_data")
MAX_MESSAGE = 2000


class RunFailed(RedactingError, RuntimeError):
    """A run that did not complete: the message names the file/step and the problem."""


def run_pipeline(
    data_dir: Path, warehouse: Path, quiet: bool = True, keep_snapshots: int = pub.DEFAULT_KEEP_SNAPSHOTS,
    lock_timeout_s: float = pub.DEFAULT_LOCK_TIMEOUT_S,
) -> dict:
    """Materialise every asset (registration and ingestion, dbt build, publish) on ``data_dir``.

    The run holds the warehouse's writer lock (waiting up to ``lock_timeout_s`` for another run), works
    in a copy of the current snapshot, and publishes a new immutable snapshot only when every step and
    every dbt test of severity error passed (pipelines/publish.py). A failed run leaves the current
    snapshot live and is journalled with its reason (``<stem>.runs.jsonl``, shown by the dashboard and
    ``mizan status``); the next published snapshot carries it in ``audit.run_log``.

    Returns:
        The run summary (see :func:`collect_summary`) with ``status`` ``published``.

    Raises:
        RunFailed: a step failed (the message is the step's own: file, rows, problem), the warehouse
            folder cannot be written, or another run held the writer lock for ``lock_timeout_s``.
    """
    import dagster as dg

    from pipelines.manifest import ensure_manifest
    from pipelines.runlog import failure_messages, writing_run

    data_dir, warehouse = data_dir.resolve(), Path(os.path.abspath(warehouse))
    if not data_dir.is_dir():
        raise RunFailed(f"data directory {data_dir} does not exist")
    layout = pub.Layout.of(warehouse)
    try:
        personal_data.use_warehouse(warehouse)  # the salt of redaction markers (docs/security.md)
    except OSError as exc:
        raise RunFailed(f"cannot create the redaction salt next to the warehouse {warehouse}: {exc}") from None
    run_id = pub.new_run_id()
    started = pub.utcnow()
    log_path = layout.logs_dir / f"run-{started:%Y%m%dT%H%M%S}-{run_id[:8]}.log"
    failures: list[str] = []
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with writing_run(
            layout, run_id, started, str(data_dir), failures=lambda: failures, lock_timeout_s=lock_timeout_s,
            on_wait=lambda holder: print(f"mizan: waiting for the warehouse writer lock ({holder})", file=sys.stderr, flush=True),
        ) as (working, repairs):
            result = _materialize(dg, data_dir, warehouse, run_id, log_path, quiet, keep_snapshots, ensure_manifest)
            failures += failure_messages(result.all_events, MAX_MESSAGE)
            if result.success:
                snapshot = pub.current_snapshot(warehouse)
                summary = collect_summary(snapshot, run_id)
                summary.update(status="published", snapshot=str(snapshot), failures=[], repairs=repairs)
            else:
                summary = collect_summary(working, run_id) if working.exists() else {"run_id": run_id}
                summary.update(status="failed", failures=failures, repairs=repairs)
    except (pub.WriterBusy, pub.WarehouseDamaged) as exc:
        raise RunFailed(str(exc)) from None
    except OSError as exc:
        raise RunFailed(f"cannot write next to the warehouse {warehouse}: {exc.strerror} ({exc.filename})") from None
    summary.update(warehouse=str(warehouse), log=str(log_path), dagster_run_id=result.run_id)
    if not result.success:
        current = pub.current_snapshot(warehouse)
        kept = f"the published snapshot {current.parent.name} stays live" if current else "nothing was published"
        raise RunFailed(("; ".join(failures) or "the run failed") + f" ({kept}; step logs: {log_path})")
    return summary


def _materialize(dg, data_dir: Path, warehouse: Path, run_id: str, log_path: Path, quiet: bool, keep_snapshots: int,
                 ensure_manifest):  # noqa: ANN001 - dagster and the manifest step are imported lazily by the caller
    """Materialise every asset through the code location's own definitions and resources, with the writer
    lock already held (``lock_held``): the same assets, resources and checks as a run from the Dagster UI or
    the sensor. With ``$DAGSTER_HOME`` set the run is recorded in that instance, so it shows in the UI's
    history. Step output goes to ``log_path`` (and, unless ``quiet``, the terminal), redacted line by line."""
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    ensure_manifest()
    from pipelines.definitions import ALL_ASSETS, build_resources

    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    with log_path.open("w", encoding="utf-8") as log_file, contextlib.ExitStack() as stack:
        # every line of step output is redacted of personal data, in the log file and on a verbose terminal
        if quiet:  # dbt's and Dagster's step output goes to the log file, the summary to the terminal
            log = RedactingStream(log_file)
            stack.enter_context(contextlib.redirect_stdout(log))
            stack.enter_context(contextlib.redirect_stderr(log))
        else:
            stack.enter_context(contextlib.redirect_stdout(RedactingStream(sys.stdout)))
            stack.enter_context(contextlib.redirect_stderr(RedactingStream(sys.stderr)))
        return dg.materialize(
            ALL_ASSETS,
            resources=build_resources(
                str(data_dir), str(warehouse), run_id=run_id, lock_held=True, keep_snapshots=keep_snapshots,
            ),
            instance=instance,
            raise_on_error=False,
            tags={"mizan/run_id": run_id},
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )


def collect_summary(warehouse: Path, run_id: str) -> dict:
    """What a run did, read back from the warehouse: files and row accounting, quarantine and exclusion
    reasons, skipped sources, indicators computed, dbt tests passed/failed."""
    with connect(warehouse, read_only=True) as con:
        def rows(sql: str, params: list | None = None) -> list[dict]:
            return fetch_dicts(con, sql, params)

        def exists(qualified: str) -> bool:
            return table_exists(con, qualified)

        out: dict = {"run_id": run_id, "warehouse": str(warehouse)}
        out["files"] = rows(
            "SELECT source_id, file_name, file_sha256, status, rows_read, rows_loaded, rows_excluded, rows_quarantined, "
            "rows_superseded FROM audit.file_registry WHERE run_id = ? ORDER BY source_id, registered_seq", [run_id]
        ) if exists("audit.file_registry") else []
        out["waves_kept"] = rows(
            "SELECT source_id, wave_id, load_run_id, loaded_at FROM raw.survey_wave_loads WHERE load_run_id <> ? "
            "ORDER BY source_id, wave_id", [run_id]
        ) if exists("raw.survey_wave_loads") else []
        out["deliveries"] = rows(
            "SELECT source_id, file_name, file_sha256, outcome FROM audit.file_deliveries WHERE run_id = ? "
            "ORDER BY domain, source_id, file_name", [run_id]
        ) if exists("audit.file_deliveries") else []
        # a row is one (file, sheet, row number): row numbers repeat across the files and sheets of a source
        out["quarantine_by_reason"] = rows(
            "SELECT source_id, column_name, reason, count(DISTINCT (file_sha256, sheet_name, row_number)) AS n_rows "
            "FROM audit.quarantine GROUP BY ALL ORDER BY source_id, n_rows DESC, column_name, reason"
        ) if exists("audit.quarantine") else []
        out["quarantine_by_file"] = rows(
            "SELECT source_id, file_name, sheet_name, count(DISTINCT row_number) AS n_rows FROM audit.quarantine "
            "GROUP BY ALL ORDER BY source_id, file_name, sheet_name NULLS FIRST"
        ) if exists("audit.quarantine") else []
        out["redacted_values"] = rows(
            "SELECT source_id, kind, sum(n_values)::BIGINT AS n_values, string_agg(DISTINCT table_name || '.' || "
            "column_name, ', ' ORDER BY table_name || '.' || column_name) AS columns FROM audit.redacted_values "
            "GROUP BY ALL ORDER BY source_id, kind"
        ) if exists("audit.redacted_values") else []
        out["exclusions_by_reason"] = rows(
            "SELECT source_id, reason, count(*) AS n_rows FROM audit.exclusions GROUP BY ALL ORDER BY source_id, reason"
        ) if exists("audit.exclusions") else []
        out["skipped_sources"] = rows("SELECT path, reason FROM audit.skipped_sources ORDER BY path") \
            if exists("audit.skipped_sources") else []
        out["notes"] = rows("SELECT source_id, file_name, note FROM audit.source_notes ORDER BY source_id, file_name") \
            if exists("audit.source_notes") else []
        out["dropped_columns"] = rows(
            "SELECT source_id, string_agg(DISTINCT column_name, ', ' ORDER BY column_name) AS columns "
            "FROM audit.dropped_columns GROUP BY source_id ORDER BY source_id"
        ) if exists("audit.dropped_columns") else []
        out["indicators"] = rows(
            "SELECT source_id, count(DISTINCT indicator_id) AS indicators, count(*) AS estimates, "
            "count(*) FILTER (WHERE is_suppressed) AS suppressed FROM marts.fct_service_indicators "
            "GROUP BY source_id ORDER BY source_id"
        ) if exists("marts.fct_service_indicators") else []
        out["distributions"] = rows(
            "SELECT source_id, count(DISTINCT indicator_id) AS indicators, count(*) AS shares "
            "FROM marts.fct_response_distribution GROUP BY source_id ORDER BY source_id"
        ) if exists("marts.fct_response_distribution") else []
        design_columns = ["single_psu_rule", "n_singleton_strata_delivered", "n_singleton_strata",
                          "degrees_of_freedom", "weight_method", "post_stratify", "weight_ratio_max_median",
                          "has_extreme_weights", "has_national_estimates", "fieldwork_start", "wave_order"]
        # dim_wave is missing when dbt failed before building it, and older warehouses lack the design columns
        out["designs"] = rows(
            f"SELECT source_id, wave_id, {', '.join(design_columns)} "
            "FROM marts.dim_wave WHERE n_respondents > 0 ORDER BY source_id, wave_order"
        ) if exists("marts.dim_wave") and has_columns(con, "marts.dim_wave", design_columns) else []
        # attributes respondents carry (hoh_sex, urban_rural, declared disaggregations) that no indicator is
        # broken down by: a breakdown a mapping declared would otherwise vanish without a word. The district
        # p-code is not warned about: it also records where the respondent lives, a breakdown or not.
        out["unused_breakdowns"] = rows(
            "SELECT source_id, attribute, count(DISTINCT respondent_id) AS n_respondents "
            "FROM staging.stg_survey__respondent_attributes WHERE attribute <> 'district' AND attribute NOT IN "
            "(SELECT DISTINCT unnest(disaggregations) FROM staging.stg_registry__indicators) "
            "GROUP BY ALL ORDER BY source_id, attribute"
        ) if exists("staging.stg_survey__respondent_attributes") and exists("staging.stg_registry__indicators") else []
        out["review_flags"] = rows(
            "SELECT source_id, wave_id, flag, count(*) AS n FROM audit.review_flags GROUP BY ALL ORDER BY ALL"
        ) if exists("audit.review_flags") else []
        out["repeat_groups"] = rows(
            "SELECT source_id, file_name, repeat_group, sheet_name, rows_read, rows_loaded, rows_excluded, "
            "rows_quarantined FROM audit.repeat_group_accounts ORDER BY ALL"
        ) if exists("audit.repeat_group_accounts") else []
        out["rules"] = rows("SELECT rule_text FROM marts.dim_estimation_rules") \
            if exists("marts.dim_estimation_rules") else []
        out["dbt"] = rows(
            "SELECT resource_type, status, count(*) AS n FROM audit.dbt_results WHERE run_id = ? "
            "GROUP BY ALL ORDER BY resource_type, status", [run_id]
        ) if exists("audit.dbt_results") else []
    return out


def format_summary(summary: dict) -> str:
    """The run summary as plain text for the terminal, redacted of personal data."""
    return personal_data.redact_text(_summary_text(summary))


def _summary_text(summary: dict) -> str:
    lines = [f"mizan run {summary.get('run_id', '')} — {summary.get('status', '')}", f"warehouse: {summary['warehouse']}", ""]
    if summary.get("snapshot"):
        lines.insert(2, f"published snapshot: {summary['snapshot']}")
    for note in summary.get("repairs", []):
        lines.append(f"REPAIRED before the run: {note}")
    if summary.get("deliveries"):
        lines.append("files delivered (registered by SHA-256, archived read-only):")
        lines += [
            f"  {d['source_id']}/{d['file_name']}  sha256 {d['file_sha256'][:12]}…  {d['outcome']}"
            for d in summary["deliveries"]
        ]
    lines.append("files loaded from the archive (rows read = loaded + excluded + quarantined):")
    for f in summary["files"]:
        superseded = f" ({f['rows_superseded']} since replaced by a newer file)" if f.get("rows_superseded") else ""
        lines.append(
            f"  {f['source_id']}/{f['file_name']}  sha256 {f['file_sha256'][:12]}…  read {f['rows_read']}, "
            f"loaded {f['rows_loaded']}{superseded}, excluded {f['rows_excluded']}, quarantined {f['rows_quarantined']}"
        )
    if summary.get("waves_kept"):
        lines.append("survey waves unchanged since they were loaded (not read again):")
        lines += [f"  {w['source_id']} wave {w['wave_id']}  loaded {w['loaded_at']:%Y-%m-%d %H:%M} UTC (run {w['load_run_id'][:8]})"
                  for w in summary["waves_kept"]]
    if summary["exclusions_by_reason"]:
        lines.append("rows excluded, by reason:")
        lines += [f"  {r['source_id']}: {r['n_rows']} × {r['reason']}" for r in summary["exclusions_by_reason"]]
    if summary["quarantine_by_reason"]:
        lines.append("rows quarantined, by reason (audit.quarantine):")
        lines += [
            f"  {r['source_id']}: {r['n_rows']} row(s), column {r['column_name']}: {r['reason']}"
            for r in summary["quarantine_by_reason"]
        ]
    if summary.get("quarantine_by_file"):
        lines.append("rows quarantined, by file and sheet:")
        lines += [f"  {r['source_id']}/{r['file_name']}" + (f" [{r['sheet_name']}]" if r["sheet_name"] else "")
                  + f": {r['n_rows']} row(s)" for r in summary["quarantine_by_file"]]
    if summary.get("redacted_values"):
        lines.append("personal data redacted value by value (phone numbers, e-mails, GPS, national ids; "
                     "docs/security.md):")
        lines += [f"  {r['source_id']}: {r['n_values']} {r['kind']} value(s) in {r['columns']}"
                  for r in summary["redacted_values"]]
    if summary["dropped_columns"]:
        lines.append("personal-data columns dropped before the warehouse:")
        lines += [f"  {r['source_id']}: {r['columns']}" for r in summary["dropped_columns"]]
    if summary.get("repeat_groups"):
        lines.append("repeat groups (rows read = loaded + excluded with their submission + quarantined):")
        lines += [f"  {r['source_id']}/{r['sheet_name']} ({r['repeat_group']}): read {r['rows_read']}, loaded "
                  f"{r['rows_loaded']}, excluded {r['rows_excluded']}, quarantined {r['rows_quarantined']}"
                  for r in summary["repeat_groups"]]
    if summary.get("review_flags"):
        lines.append("loaded but flagged for review (audit.review_flags):")
        lines += [f"  {r['source_id']}" + (f" wave {r['wave_id']}" if r["wave_id"] else "")
                  + f": {r['n']} × {r['flag'].replace('_', ' ')}"
                  for r in summary["review_flags"]]
    warnings = [
        f"{f['source_id']}/{f['file_name']}: no data rows" if f["rows_read"] == 0
        else f"{f['source_id']}/{f['file_name']}: no row loaded (every row excluded or quarantined)"
        for f in summary["files"] if f["rows_loaded"] == 0
    ]
    warnings += [f"{n['source_id']}/{n['file_name']}: {n['note']}" for n in summary.get("notes", [])]
    warnings += [
        f"{d['source_id']} wave {d['wave_id']}: extreme weights (largest / median = {d['weight_ratio_max_median']:.1f}): "
        "a few respondents carry much of every estimate; check the weighting"
        for d in summary.get("designs", []) if d.get("has_extreme_weights")
    ]
    warnings += [
        f"{r['source_id']}: {r['n_respondents']} respondent(s) carry {r['attribute']}, but no indicator is broken "
        f"down by it; list {r['attribute']} under an indicator's disaggregations (data_contracts/indicators.yaml, "
        "or its defaults) to estimate by it"
        for r in summary.get("unused_breakdowns", [])
    ]
    designs = summary.get("designs", [])
    for source_id in dict.fromkeys(d["source_id"] for d in designs):
        waves = [d for d in designs if d["source_id"] == source_id]
        undated = [d["wave_id"] for d in waves if d.get("fieldwork_start") is None]
        if len(waves) > 1 and undated:
            warnings.append(
                f"{source_id}: wave(s) {', '.join(undated)} have no fieldwork dates, so the waves are put in order "
                f"by their ids ({' → '.join(d['wave_id'] for d in waves)}) and changes compare consecutive ones; "
                "map interview_date so the fieldwork decides the order"
            )
    if warnings:
        lines.append("WARNINGS:")
        lines += [f"  {w}" for w in warnings]
    if summary["skipped_sources"]:
        lines.append("sources skipped:")
        lines += [f"  {r['path']}: {r['reason']}" for r in summary["skipped_sources"]]
    if summary.get("designs"):
        lines.append("survey designs (marts.dim_wave):")
        lines += [
            f"  {d['source_id']} wave {d['wave_id']}: df {d['degrees_of_freedom']}, single-PSU strata "
            f"{d['n_singleton_strata_delivered']} as delivered, {d['n_singleton_strata']} after the rule "
            f"({d['single_psu_rule']}), weights {d['weight_method']}"
            + (f", post-stratified ({d['post_stratify']})" if d["post_stratify"] not in (None, "none") else "")
            + f", max/median weight {d['weight_ratio_max_median']:.1f}"
            + (", national estimates" if d["has_national_estimates"] else "")
            for d in summary["designs"]
        ]
    lines.append("indicators computed (marts.fct_service_indicators):")
    lines += [
        f"  {r['source_id']}: {r['indicators']} indicators, {r['estimates']} estimates ({r['suppressed']} suppressed)"
        for r in summary["indicators"]
    ] or ["  none"]
    lines += [f"  {r['source_id']}: {r['indicators']} answer distributions, {r['shares']} shares "
              "(marts.fct_response_distribution)" for r in summary.get("distributions", [])]
    if summary.get("rules"):
        lines.append(summary["rules"][0]["rule_text"])
    passed = sum(r["n"] for r in summary["dbt"] if r["resource_type"] == "test" and r["status"] == "pass")
    failed = sum(r["n"] for r in summary["dbt"] if r["resource_type"] == "test" and r["status"] in ("fail", "error"))
    warned = sum(r["n"] for r in summary["dbt"] if r["resource_type"] == "test" and r["status"] == "warn")
    lines.append(f"dbt tests: {passed} passed, {failed} failed, {warned} warned")
    for f in summary.get("failures", []):
        lines.append(f"FAILED {f}")
    if summary.get("log"):
        lines.append(f"step logs (Dagster, dbt): {summary['log']}")
    return "\n".join(lines)


def serve_dashboard(warehouse: Path, port: int = 8501) -> int:
    """Serve the Streamlit dashboard on localhost (blocks until interrupted)."""
    url = f"http://localhost:{port}"
    print(f"dashboard: {url}  (warehouse {warehouse}; Ctrl+C to stop)", flush=True)
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "dashboards" / "app.py"),
        "--server.headless", "true", "--server.address", "localhost", "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer",
        "--", "--warehouse", str(warehouse),
    ]
    env = {**os.environ, "MIZAN_WAREHOUSE": str(warehouse)}
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


def source_check(args: argparse.Namespace) -> int:
    """``mizan source check``: print the profile (or JSON), write the draft mapping; 1 when a file cannot be read
    or the draft would overwrite a file (without ``--force``) or land inside the delivery folder."""
    from pipelines.source_check import SourceCheckError, check_source, draft_mapping, format_report

    folder = args.folder
    if not folder.is_dir():
        print(f"mizan: {folder} is not a folder", file=sys.stderr)
        return 1
    source_id = args.source_id or folder.resolve().name
    out = args.out or Path(f"{source_id}.source.yaml")
    if out.resolve().is_relative_to(folder.resolve()):
        print(f"mizan: will not write {out} inside the delivery folder {folder} (it is only read); pass --out "
              "elsewhere", file=sys.stderr)
        return 1
    if out.exists() and not args.force:
        print(f"mizan: {out} exists; pass --force to overwrite it (or --out PATH)", file=sys.stderr)
        return 1
    if args.mapping is not None and not args.mapping.is_file():
        print(f"mizan: mapping {args.mapping} not found", file=sys.stderr)
        return 1
    try:
        profile = check_source(folder, encoding=args.encoding, source_id=source_id, wave_id=args.wave_id,
                               mapping_path=args.mapping)
    except SourceCheckError as exc:
        print(f"mizan: cannot profile {folder}: {exc}", file=sys.stderr)
        return 1
    draft = draft_mapping(profile)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(personal_data.redact_text(draft), encoding="utf-8")
    except OSError as exc:
        print(f"mizan: cannot write the draft {out}: {exc.strerror}", file=sys.stderr)
        return 1
    profile["draft"] = str(out)
    if args.json:
        print(personal_data.redact_text(json.dumps(profile, indent=2, ensure_ascii=False, default=str)))
        print(f"draft mapping written to {out}", file=sys.stderr)
    else:
        print(personal_data.redact_text(format_report(profile)))
        print(f"\ndraft mapping written to {out}: fill every TODO, then put it at {folder}/source.yaml (or "
              f"data_contracts/sources/{source_id}.yaml)")
    return 0


def clean_check(args: argparse.Namespace) -> int:
    """``mizan clean check``: the cleaning log of one source, written for review, with a count per check."""
    from data_contracts.mapping import MappingError
    from pipelines.cleaning.expressions import ExpressionError
    from pipelines.cleaning.log_files import write_log
    from pipelines.cleaning.run import check_source, summary_by_issue
    from pipelines.ingest.common import FatalSourceError
    from pipelines.readers.delimited import FileReadError

    out = args.out or Path(f"{args.source}_cleaning_log.xlsx")
    if out.suffix.lower() not in (".xlsx", ".csv"):
        print(f"mizan: --out {out}: write the cleaning log as .xlsx or .csv", file=sys.stderr)
        return 2
    try:
        lines, enumerators = check_source(args.data_dir.resolve(), args.source)
    except (FatalSourceError, MappingError, FileReadError, ExpressionError) as exc:
        print(f"mizan: {exc}", file=sys.stderr)
        return 1
    write_log(lines, out, enumerators)
    print(f"cleaning log of {args.source}: {lines.height} line(s) for {lines['uuid'].n_unique()} interview(s) -> {out}")
    for check, n, k in summary_by_issue(lines).iter_rows():
        print(f"  {check:<24} {n:>6} line(s) {k:>6} interview(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mizan",
        description="mizan: survey and budget data for Iraq's governorates -> DuckDB warehouse -> indicators -> dashboard.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    wh_help = "warehouse DuckDB file (default: $MIZAN_WAREHOUSE, else ./warehouse/mizan.duckdb)"

    p_run = sub.add_parser("run", help="load every source in DIR and build the indicators")
    p_run.add_argument("--data-dir", required=True, type=Path, help="landing folder: surveys/<source>/…, budget/<source>/…")
    p_run.add_argument("--warehouse", type=Path, help=wh_help)
    p_run.add_argument("--verbose", action="store_true", help="show Dagster's step logs")

    p_demo = sub.add_parser("demo", help="write the synthetic demo data, run on it, serve the dashboard")
    p_demo.add_argument("--dir", type=Path, default=DEFAULT_DEMO_DIR, help="where to write the demo data (default ./demo_data)")
    p_demo.add_argument("--warehouse", type=Path, help=wh_help)
    p_demo.add_argument("--no-dashboard", action="store_true", help="stop after the run")
    p_demo.add_argument("--port", type=int, default=8501, help="dashboard port on localhost (default 8501)")
    p_demo.add_argument("--households-per-wave", type=int, default=4000, help="size of each synthetic wave (default 4000)")

    p_dash = sub.add_parser("dashboard", help="serve the dashboard on the warehouse")
    p_dash.add_argument("--warehouse", type=Path, help=wh_help)
    p_dash.add_argument("--port", type=int, default=8501, help="port on localhost (default 8501)")

    p_status = sub.add_parser("status", help="the current snapshot, its run, the waves and their approval")
    p_status.add_argument("--warehouse", type=Path, help=wh_help)
    p_status.add_argument("--json", action="store_true", help="print JSON (for scripts and monitoring)")

    p_appr = sub.add_parser("approve", help="approve a survey wave for the steering committee's pages")
    p_appr.add_argument("--source", required=True, help="source id, e.g. mizan_demo_national")
    p_appr.add_argument("--wave", required=True, help="wave id, e.g. 2025")
    p_appr.add_argument("--by", help="who approves (default: your user name)")
    p_appr.add_argument("--note", help="a note kept with the decision")
    p_appr.add_argument("--revoke", action="store_true", help="withdraw the approval (the wave is provisional again)")
    p_appr.add_argument("--warehouse", type=Path, help=wh_help)
    p_appr.add_argument("--wait", type=float, default=60.0, help="seconds to wait for a run that holds the warehouse (default 60)")

    users.add_parser(sub, wh_help)

    p_source = sub.add_parser("source", help="onboard a new delivery: `mizan source check FOLDER`")
    source_sub = p_source.add_subparsers(dest="source_command", required=True)
    p_check = source_sub.add_parser(
        "check", help="profile the delivered files in FOLDER and write a draft mapping (source.yaml)",
        description="Profile the delivered files in FOLDER (read-only) and print what the mapping needs; write a "
                    "draft mapping with TODO values to complete (docs/source-check.md).")
    p_check.add_argument("folder", type=Path, help="the delivery's folder (e.g. DIR/surveys/<source_id>)")
    p_check.add_argument("--out", type=Path, help="where to write the draft (default ./<source_id>.source.yaml)")
    p_check.add_argument("--force", action="store_true", help="overwrite the draft if it exists")
    p_check.add_argument("--json", action="store_true", help="print the profile as JSON")
    p_check.add_argument("--encoding", help="text encoding of the delivered files, e.g. cp1256 (default: UTF-8, "
                                            "the file's own for SPSS/Stata)")
    p_check.add_argument("--source-id", help="source id (default: the folder's name)")
    p_check.add_argument("--wave-id", help="wave id written in the draft's files: (default: a TODO)")
    p_check.add_argument("--mapping", type=Path, help="a mapping to compare with (default: FOLDER/source.yaml if any)")

    p_clean = sub.add_parser("clean", help="cleaning checks: `mizan clean check --data-dir DIR --source S`")
    clean_sub = p_clean.add_subparsers(dest="clean_command", required=True)
    p_cc = clean_sub.add_parser(
        "check", help="run the source's cleaning checks and write a cleaning log to review (publishes nothing)",
        description="Run the cleaning checks of the source's mapping on its landing folder and write the cleaning log "
                    "(uuid, question, issue, old_value, change_type, new_value) for review; see docs/cleaning.md.")
    p_cc.add_argument("--data-dir", required=True, type=Path, help="landing folder: surveys/<source>/…")
    p_cc.add_argument("--source", required=True, help="source id, e.g. talafar_water_2021")
    p_cc.add_argument("--out", type=Path, help="the log to write, .xlsx or .csv (default ./<source>_cleaning_log.xlsx)")

    from pipelines.brief.build import add_parser as add_brief_parser

    add_brief_parser(sub, wh_help)

    for p in (p_run, p_demo):
        p.add_argument("--keep-snapshots", type=int, default=pub.DEFAULT_KEEP_SNAPSHOTS,
                       help=f"published snapshots to keep (default {pub.DEFAULT_KEEP_SNAPSHOTS})")
        p.add_argument("--wait", type=float, default=pub.DEFAULT_LOCK_TIMEOUT_S,
                       help="seconds to wait for another run to finish (one writer at a time; default 1800)")

    args = parser.parse_args(argv)
    if args.command == "source":
        return source_check(args)
    if args.command == "clean":
        return clean_check(args)
    warehouse = warehouse_path(args.warehouse)

    if args.command == "users":
        return users.main(args, warehouse)

    if args.command == "status":
        from pipelines.status import format_status, warehouse_status

        try:
            status = warehouse_status(warehouse)
        except Exception as exc:  # a damaged snapshot must still give a readable answer
            print(f"mizan: cannot read the warehouse at {warehouse}: {exc}", file=sys.stderr)
            return 1
        print(json.dumps(status, indent=2) if args.json else format_status(status))
        return 0 if status["snapshot"] else 1

    if args.command == "approve":
        from pipelines.status import ApprovalError, approve_wave

        try:
            meta = approve_wave(warehouse, args.source, args.wave, args.by, args.note, revoke=args.revoke,
                                lock_timeout_s=args.wait)
        except (ApprovalError, pub.WriterBusy, pub.WarehouseDamaged) as exc:
            print(f"mizan: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:
            print(f"mizan: cannot write next to the warehouse {warehouse}: {exc.strerror} ({exc.filename})", file=sys.stderr)
            return 1
        print(f"{meta['record']['message']}; published snapshot {meta['snapshot']}")
        return 0

    if args.command == "brief":
        from pipelines.brief.build import run as run_brief

        return run_brief(args, warehouse)

    if args.command == "dashboard":
        if not warehouse.is_file():
            print(f"mizan: no warehouse at {warehouse}; run `mizan run --data-dir DIR` or `mizan demo` first", file=sys.stderr)
            return 1
        return serve_dashboard(warehouse, args.port)

    if args.command == "demo":
        from pipelines.demo.generate import generate_demo

        try:
            manifest = generate_demo(args.dir.resolve(), households_per_wave=args.households_per_wave)
        except (OSError, ValueError) as exc:
            print(f"mizan: cannot write the demo data to {args.dir.resolve()}: {exc}", file=sys.stderr)
            return 1
        print(f"demo data (SYNTHETIC) written to {args.dir.resolve()} (seed {manifest.get('seed')})")
        data_dir = args.dir
    else:
        data_dir = args.data_dir

    try:
        summary = run_pipeline(data_dir, warehouse, quiet=not getattr(args, "verbose", False),
                               keep_snapshots=args.keep_snapshots, lock_timeout_s=args.wait)
    except RunFailed as exc:
        print(f"mizan: run failed: {exc}", file=sys.stderr)
        return 1
    print(format_summary(summary))
    if args.command == "demo":
        from pipelines.status import ApprovalError, approve_wave

        # national 2024 and firm B's only wave approved, national 2025 provisional: the Overview shows both
        # kinds (and firm B's 4-point estimates with their note) without the toggle
        for source_id, wave_id in (("mizan_demo_national", "2024"), ("mizan_demo_firm_b", "2025")):
            try:
                approve_wave(warehouse, source_id, wave_id, "mizan demo",
                             "approved automatically by `mizan demo` so that both approved and provisional waves show")
                print(f"demo: {source_id} wave {wave_id} approved (steering-committee pages)")
            except (ApprovalError, pub.WriterBusy) as exc:
                print(f"demo: {source_id} wave {wave_id} not approved ({exc}); the Overview lists provisional waves "
                      "on request")
        print("demo: mizan_demo_national wave 2025 stays provisional")
        print("\n".join(users.add_demo_users(users.UserStore.for_warehouse(warehouse))))
    if args.command == "demo" and not args.no_dashboard:
        return serve_dashboard(warehouse, args.port)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. `mizan status | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
