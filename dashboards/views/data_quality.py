"""Data quality — for data engineers: runs, files, deliveries, row accounting, quarantine, exclusions,
submissions flagged for review and repeat-group accounting (when the snapshot has those tables).

The run history joins two records: the snapshot's ``audit.run_log`` (every run up to the one that
published it) and the warehouse's journal (``publish.read_journal``: every finished run, failed ones
included, also those after this snapshot). When the newest journal entry is a run that failed after
this snapshot was published, the page says so first: the data shown are the last good snapshot's.
"""

from __future__ import annotations

import json

import polars as pl
import streamlit as st

from dashboards import access, auth, charts, i18n, queries, ui, url_state
from dashboards import tables as T
from dashboards.i18n import _
from pipelines import publish

auth.require(access.QUALITY, _("The data quality page"))
path = ui.current_warehouse()
pointer = ui.current_pointer()

st.title(_("Data quality"))

if not ui.check_warehouse(path):
    st.stop()
missing = set(ui.missing_tables(path, queries.AUDIT_TABLES))
if len(missing) == len(queries.AUDIT_TABLES):
    st.error(_("The warehouse at `{path}` has no `audit` tables. {BUILD_HINT}").format(path=path, BUILD_HINT=_(ui.BUILD_HINT)), icon=":material/error:")
    st.stop()


def _absent(table: str) -> bool:
    if table in missing:
        st.warning(_("`{table}` is not in this warehouse.").format(table=table))
        return True
    return False


# --- runs -------------------------------------------------------------------------------
journal = publish.read_journal(pointer)
identity = ui.snapshot_identity(path)
runs = ui.load("run_log", path, limit=1000) if "audit.run_log" not in missing else pl.DataFrame()
failed = T.failed_after_snapshot(journal)
if failed:
    status = str(failed.get("status") or "failed")
    verb = _("failed") if status == "failed" else _("ended with status “{status}”").format(status=status)
    good = (
        _("run `{run}`, published {time} UTC").format(
            run=str(identity["data_run_id"] or identity["run_id"])[:8],
            time=T.fmt_time(identity["data_published_at"] or identity["published_at"]))
        if identity.get("run_id")
        else _("file of {time} UTC").format(time=T.fmt_time(identity["published_at"]))
    )
    st.warning(
        _("The last run `{run}` at {time} UTC {verb}: {message}. Showing the last good "
            "snapshot ({good}).").format(run=failed.get('run_id'), time=T.fmt_time(failed.get('finished_at') or failed.get('started_at')), verb=verb, message=ui.md_escape(failed.get('message') or _('no message recorded')), good=good),
        icon=":material/warning:",
    )

st.caption(
    _("What the runs loaded, from which files (SHA-256), and where every row went: "
    "read = loaded + excluded + quarantined for each file. Quarantined rows are never loaded; "
    "personal-data columns are dropped before loading.")
)

st.subheader(_("Runs"))
run_id = None
if "audit.run_log" in missing and not journal:
    _absent("audit.run_log")
else:
    history = T.run_history(runs if runs.height else pl.DataFrame(), journal)
    if history.is_empty():
        st.info(_("No runs recorded yet."))
    else:
        # The tiles describe the last pipeline run; approvals (and repairs) are entries of the history too,
        # but a few seconds long and with no files: they are named on their own line below the tiles.
        is_run = pl.col("kind").fill_null("run") == "run"
        pipeline_runs = history.filter(is_run)
        last = (pipeline_runs if pipeline_runs.height else history).row(0, named=True)
        m1, m2, m3, m4 = st.columns(4)
        m1.metric(_("Last pipeline run"), str(last["run_id"])[:8])
        m2.metric(_("Status"), str(last["status"]))
        m3.metric(_("Finished"), T.fmt_time(last["finished_at"] or last["started_at"]))
        dur = last["duration_seconds"]
        m4.metric(_("Duration"), "–" if dur is None else _("{minutes} min").format(
            minutes=i18n.format_decimal(dur / 60, 1)))
        others = history.filter(~is_run)
        if others.height:
            entry = others.row(0, named=True)
            st.caption(_("Last {kind}: {when} UTC, {status} (entry `{run_id}`): not a pipeline run, listed in the "
                         "history below.").format(
                kind=entry.get("kind"), when=T.fmt_time(entry["finished_at"] or entry["started_at"]),
                status=entry["status"], run_id=str(entry["run_id"])[:8]))
        if not failed and str(last["status"]).lower() not in T.OK_STATUSES:
            st.error(
                _("The last run (`{run_id}`) ended with status **{status}**").format(run_id=last['run_id'], status=last['status'])
                + (f": {ui.md_escape(last['message'])}" if last.get("message") else "")
                + _(". See the run history below.")
            )
        st.caption(
            _("Newest first. 'Recorded in': the run log of the snapshot on screen, or only the journal "
            "(a run after this snapshot, e.g. one that failed and published nothing). Files: how "
            "many the run saw, with the first 8 characters of each SHA-256.")
        )
        i18n.dataframe(
            T.run_history_display(history),
            hide_index=True,
            column_config={"Message": st.column_config.TextColumn(width="large")},
        )
        with st.expander(_("Run record of `{run_id}`").format(run_id=last['run_id'])):
            st.json({k: (str(v) if v is not None and not isinstance(v, int | str) else v)
                     for k, v in last.items() if k not in ("files_json", "summary_json")})
            for key in ("files_json", "summary_json"):
                if last.get(key):
                    try:
                        st.json(json.loads(last[key]))
                    except (TypeError, ValueError):
                        st.code(str(last[key]))
        run_ids = runs["run_id"].to_list() if runs.height else []
        if run_ids:
            choice = url_state.select(
                _("Show files, deliveries, quarantine, exclusions and skipped sources of"),
                ["All runs", *run_ids], "dq_run",
                format_func=lambda r: _("All runs") if r == "All runs" else r,
                help=_("Runs recorded in this snapshot (a run after it left no data here)."),
            )
            run_id = None if choice == "All runs" else choice

# --- files ------------------------------------------------------------------------------
st.subheader(_("Registered files"))
if not _absent("audit.file_registry"):
    files = ui.load("file_registry", path, run_id=run_id)
    if files.is_empty():
        st.info(_("No files recorded for this selection."))
    else:
        bad = files.filter(~pl.col("accounting_ok"))
        t1, t2, t3, t4, t5 = st.columns(5)
        t1.metric(_("Files"), files.height)
        t2.metric(_("Superseded"), files.filter(pl.col("status").fill_null("").str.contains("superseded")).height)
        t3.metric(_("Rows read"), int(files["rows_read"].sum()))
        # rows in the warehouse now: loaded rows of active files, minus those a newer file replaced
        in_use = files.filter(pl.col("status").fill_null("active") != "superseded")
        t4.metric(
            _("Rows in the warehouse"),
            int(in_use["rows_loaded"].fill_null(0).sum() - in_use["rows_superseded"].fill_null(0).sum())
            if "rows_superseded" in in_use.columns else int(in_use["rows_loaded"].fill_null(0).sum()),
            help=_("Loaded rows of the files in use; rows of superseded files (and lines a newer file replaced) are not counted."),
        )
        t5.metric(_("Files that do not balance"), bad.height)
        if bad.height:
            st.error(
                _("Row accounting does not balance for: ")
                + ", ".join(f"`{r['source_id']}/{r['file_name']}`" for r in bad.iter_rows(named=True))
            )
        st.caption(
            _("One row per distinct file (by SHA-256), kept across runs. Status: active, partly "
            "superseded (a corrected file replaced some of its units) or superseded (its rows left "
            "the warehouse). Unit: the survey wave (budget files are superseded line by line, by fiscal year). 'Last run': the "
            "last run that read the file.")
        )
        i18n.dataframe(
            T.file_registry_display(files),
            hide_index=True,
            column_config={"SHA-256": st.column_config.TextColumn(width="medium")},
        )

st.subheader(_("Deliveries"))
if "audit.file_deliveries" in missing:
    st.info(_("This warehouse records no deliveries (`audit.file_deliveries`): it predates them."))
else:
    deliveries = ui.load("file_deliveries", path, run_id=run_id)
    if deliveries.is_empty():
        st.info(_("No deliveries recorded for this selection."))
    else:
        st.caption(
            _("What became of each file the run `{run}` found in the landing folder (the latest run, "
                "unless one is chosen above): new, unchanged, the same content as a registered file "
                "(loaded once), or a corrected file that supersedes an earlier one.").format(run=deliveries['run_id'][0])
        )
        i18n.dataframe(T.deliveries_display(deliveries), hide_index=True)

# --- quarantine -------------------------------------------------------------------------
st.subheader(_("Quarantined rows"))
if not _absent("audit.quarantine"):
    q = ui.load("quarantine_by_reason", path, run_id=run_id)
    if q.is_empty():
        st.success(_("No quarantined rows."))
    else:
        left, right = st.columns([2, 3])
        with left:
            st.plotly_chart(
                charts.count_bars(q, "reason", "n_rows", "rows quarantined"), key="dq_quarantine_chart"
            )
        with right:
            i18n.dataframe(
                q.rename({"source_id": "Source", "column_name": "Column", "reason": "Reason",
                          "n_rows": "Rows", "n_cells": "Failing cells"}),
                hide_index=True,
            )
        st.caption(_("Sample of quarantined cells (up to 200), in file order:"))
        i18n.dataframe(ui.load("quarantine_sample", path, run_id=run_id, limit=200), hide_index=True)

# --- exclusions -------------------------------------------------------------------------
st.subheader(_("Excluded rows"))
if not _absent("audit.exclusions"):
    ex = ui.load("exclusions_by_reason", path, run_id=run_id)
    if ex.is_empty():
        st.info(_("No rows were excluded (e.g. for missing consent)."))
    else:
        i18n.dataframe(
            ex.rename({"source_id": "Source", "reason": "Reason", "n_rows": "Rows", "n_files": "Files"}),
            hide_index=True,
        )

# --- submissions flagged for review, repeat groups (newer builds) ------------------------
# Older snapshots lack these tables: their sections are left out, and a caption says so.
review_missing = ui.missing_tables(path, queries.REVIEW_TABLES)
if "audit.review_flags" not in review_missing:
    st.subheader(_("Submissions flagged for review"))
    flags = ui.load("review_flags", path, run_id=run_id)
    st.caption(
        _("Loaded submissions a person should look at (`audit.review_flags`). A soft duplicate is two "
        "interviews by one enumerator whose answers are nearly identical — the same household interviewed "
        "twice, or an interview copied. Both stay loaded and count in the estimates; check them with the "
        "survey firm. Similarity: the share of the fields answered by either that hold the same answer. "
        "Submissions are named by file, data row and id only: no answers and no personal data are shown.")
    )
    if flags.is_empty():
        st.success(_("No submission is flagged for review."))
    else:
        f1, f2 = st.columns(2)
        f1.metric(_("Flagged pairs"), flags.height)
        f2.metric(_("Sources"), flags["source_id"].n_unique())
        i18n.dataframe(
            T.review_flags_display(flags),
            hide_index=True,
            column_config={"Detail": st.column_config.TextColumn(width="large")},
        )
if "audit.cleaning_changes" not in ui.missing_tables(path, ("audit.cleaning_changes",)):
    st.subheader(_("Cleaning log changes"))
    cleaned = ui.load("cleaning_changes", path, run_id=run_id)
    st.caption(
        _("Decisions of reviewed cleaning logs delivered beside the exports (`audit.cleaning_changes`): each "
        "row is a value changed or blanked, or an interview removed, with the log file and line that did it. "
        "The delivered files stay as they were; dim_wave names the log versions each wave's estimates used.")
    )
    if cleaned.is_empty():
        st.info(_("No cleaning log was applied: every estimate uses the delivered files as they are."))
    else:
        c1, c2 = st.columns(2)
        c1.metric(_("Values changed"), cleaned.filter(pl.col("change_type") != "remove_survey").height)
        c2.metric(_("Interviews removed"), cleaned.filter(pl.col("change_type") == "remove_survey").height)
        i18n.dataframe(cleaned.drop("log_sha256"), hide_index=True)
if "audit.repeat_group_accounts" not in review_missing:
    st.subheader(_("Repeat groups"))
    groups = ui.load("repeat_group_accounts", path, run_id=run_id)
    if groups.is_empty():
        st.info(
            _("No file in this snapshot delivered repeat groups (Kobo XLSX sheets or ODK Central repeat CSVs, "
            "e.g. a household roster).")
        )
    else:
        unbalanced = groups.filter(~pl.col("accounting_ok"))
        if unbalanced.height:
            st.error(
                _("Repeat-group row accounting does not balance for: ")
                + ", ".join(f"`{r['source_id']}/{r['file_name']}` [{r['repeat_group']}]"
                            for r in unbalanced.iter_rows(named=True))
            )
        st.caption(
            _("Rows of each repeat group (`audit.repeat_group_accounts`), linked to their submission: a row "
            "follows its submission into exclusion or quarantine, an orphan row (its parent missing) is "
            "quarantined. For every group, read = loaded + excluded + quarantined.")
        )
        i18n.dataframe(T.repeat_groups_display(groups), hide_index=True)
if review_missing:
    st.caption(
        _("This snapshot predates ") + " and ".join(f"`{t}`" for t in review_missing)
        + _(" (submissions flagged for review, repeat-group accounting): built before the pipeline recorded them.")
    )

# --- dropped columns and skipped sources ------------------------------------------------
c1, c2 = st.columns(2)
with c1:
    st.subheader(_("Dropped personal-data columns"))
    if not _absent("audit.dropped_columns"):
        dropped = ui.load("dropped_columns", path)
        if dropped.is_empty():
            st.info(_("No columns were dropped."))
        else:
            i18n.dataframe(dropped, hide_index=True)
with c2:
    st.subheader(_("Skipped sources"))
    if not _absent("audit.skipped_sources"):
        skipped = ui.load("skipped_sources", path, run_id=run_id)
        if skipped.is_empty():
            st.success(_("No source was skipped."))
        else:
            i18n.dataframe(skipped, hide_index=True)

# --- survey designs ---------------------------------------------------------------------
st.subheader(_("Survey designs"))
if ui.missing_tables(path, ["marts.dim_wave"]):
    st.info(_("This warehouse has no `marts.dim_wave`, so no survey design to show."))
else:
    designs = ui.load("waves", path)
    if designs.is_empty():
        st.info(_("No survey wave in this warehouse."))
    else:
        rules = ui.estimation_rules(path)
        threshold = rules.get("extreme_weight_ratio")
        st.caption(
            _("The design each wave's variance used: strata as delivered and those with a single PSU, "
                "the single-PSU rule applied (skip: such a stratum adds no variance; certainty units: its "
                "respondents act as PSUs; combine: it is collapsed into a neighbouring stratum), the "
                "variance strata and PSUs after the rule, degrees of freedom (PSUs − strata), how the "
                "weights were made (delivered, equal, or from the sample frame), post-stratification, and "
                "the weights' spread. Extreme weights: the largest weight is more than {ratio} times "
                "the median (this snapshot's rule), so a few respondents carry much of every estimate.").format(ratio=T.fmt_weight(threshold))
        )
        i18n.dataframe(
            T.designs_display(designs, threshold),
            hide_index=True,
            column_config={"Extreme weights": st.column_config.TextColumn(width="medium")},
        )
        flagged = designs.filter(pl.col("has_extreme_weights").fill_null(False))
        if not flagged.is_empty():
            st.markdown(
                _("**⚠ Extreme weights** in ")
                + "; ".join(
                    f"`{r['source_id']}` · `{r['wave_id']}` (max/median {T.fmt_weight(r['weight_ratio_max_median'])})"
                    for r in flagged.iter_rows(named=True)
                )
                + _(": check the weighting with the survey firm before reading small differences.")
            )
        if designs["single_psu_rule"].null_count() == designs.height:
            st.caption(_("This warehouse predates the design columns of `marts.dim_wave` (single-PSU rule, weights)."))
