"""Streamlit helpers shared by the pages: warehouse pointer and snapshot, error messages, banners,
loading.

The warehouse path the user gives (``--warehouse``, ``$MIZAN_WAREHOUSE``, default) is a *pointer*
to the current immutable snapshot (``pipelines/publish.py``). app.py resolves it once per script
run (``use_snapshot``) and keeps both in session state: ``POINTER_KEY`` the pointer (for messages and
the run journal), ``SNAPSHOT_KEY`` the concrete snapshot file every page queries. A snapshot that
disappears mid-render (pruned after a newer publish) makes the script rerun once on the new one
(``load``/``check_warehouse``), so a page never mixes two runs and never shows a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from dashboards import access, data, i18n, queries, reporting
from dashboards.i18n import N_, _
from dashboards import tables as T
from pipelines import publish

DEFAULT_WAREHOUSE = "./warehouse/mizan.duckdb"
ENV_VAR = "MIZAN_WAREHOUSE"
#: session state: the pointer path (str) the user configured
POINTER_KEY = "_mizan_warehouse"
#: session state: the snapshot file (str) app.py resolved for this script run; "" when none
SNAPSHOT_KEY = "_mizan_snapshot"
#: session state: the vanished snapshot a rerun was already spent on (re-resolve once per snapshot)
RERESOLVED_KEY = "_mizan_reresolved_after"
BUILD_HINT = N_(
    "Build one with `mizan demo` (synthetic demo data) or `mizan run --data-dir DIR` (real data), "
    "or point the dashboard at an existing warehouse: "
    "`streamlit run dashboards/app.py -- --warehouse PATH` or `MIZAN_WAREHOUSE=PATH`."
)


def resolve_warehouse_path(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """``--warehouse PATH`` (after ``--`` on the streamlit command line), else
    ``$MIZAN_WAREHOUSE``, else ``./warehouse/mizan.duckdb``; made absolute (symlinks kept, so
    a swapped symlink is followed on the next read)."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--warehouse")
    try:
        args, _ = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
        cli = args.warehouse
    except SystemExit:  # e.g. "--warehouse" without a value
        cli = None
    env = os.environ if environ is None else environ
    raw = cli or env.get(ENV_VAR) or DEFAULT_WAREHOUSE
    return Path(raw).expanduser().absolute()


def resolve_snapshot(pointer: str | Path) -> str | None:
    """The snapshot file the pointer names now (``publish.current_snapshot``), as a string;
    a plain file at ``pointer`` is its own snapshot; None when there is none."""
    snap = publish.current_snapshot(pointer)
    return None if snap is None else str(snap)


def use_snapshot(pointer: str | Path) -> str | None:
    """Resolve ``pointer`` once for this script run and remember both paths in session state
    (``POINTER_KEY``, ``SNAPSHOT_KEY``). Returns the snapshot path, or None when there is none."""
    snapshot = resolve_snapshot(pointer)
    st.session_state[POINTER_KEY] = str(pointer)
    st.session_state[SNAPSHOT_KEY] = snapshot or ""
    return snapshot


def current_pointer() -> str:
    """The warehouse pointer path of this session (resolved from argv / env when app.py did not
    run, e.g. a page started on its own)."""
    pointer = st.session_state.get(POINTER_KEY)
    if not pointer:
        pointer = str(resolve_warehouse_path())
        st.session_state[POINTER_KEY] = pointer
    return pointer


def current_warehouse() -> str:
    """The snapshot file this script run reads (resolved by app.py). When app.py did not resolve
    one, the pointer is resolved now; when there is no snapshot, the pointer path itself (every
    read then reports "No warehouse found")."""
    snapshot = st.session_state.get(SNAPSHOT_KEY)
    if snapshot is None:
        snapshot = use_snapshot(current_pointer())
    return snapshot or current_pointer()


def _reresolve_vanished(stale: str) -> None:
    """``stale`` (the snapshot this run was reading) is gone: a newer run published and pruned
    it. When the pointer now names another snapshot, rerun the whole script on it (app.py
    resolves again), once per vanished snapshot; otherwise return and let the caller say so."""
    pointer = st.session_state.get(POINTER_KEY)
    if not pointer or st.session_state.get(RERESOLVED_KEY) == stale:
        return
    fresh = resolve_snapshot(pointer)
    if fresh is None or fresh == stale:
        return
    st.session_state[RERESOLVED_KEY] = stale
    st.rerun()


def no_warehouse_error(pointer: str | Path) -> None:
    """The "No warehouse found" error, naming a dangling pointer's target."""
    p = Path(pointer)
    detail = ""
    if p.is_symlink():
        detail = " " + _("It points to `{target}`, which does not exist.").format(target=os.readlink(p))
    st.error(_("No warehouse found at `{path}`.").format(path=pointer) + f"{detail} {_(BUILD_HINT)}",
             icon=":material/error:")


def _gone_error(path: str) -> None:
    pointer = st.session_state.get(POINTER_KEY) or path
    if path == pointer or not st.session_state.get(SNAPSHOT_KEY):
        no_warehouse_error(pointer)
    else:
        st.error(
            _("The warehouse snapshot `{snapshot}` was removed while this page was reading it "
              "and `{pointer}` names no newer one. Reload the page.").format(
                snapshot=snapshot_label(path, pointer), pointer=pointer) + " " + _(BUILD_HINT),
            icon=":material/error:",
        )


def check_warehouse(path: str, schema: bool = True) -> bool:
    """Show an error (not a traceback) and return False when the warehouse cannot be used: it cannot be
    read, or (``schema``) it was built by an older mizan (``schema_is_current``: one message).

    ``path`` is the snapshot this run reads; when it vanished, the script reruns on the newer
    snapshot instead (see ``_reresolve_vanished``)."""
    try:
        data.load("warehouse_tables", path)
    except access.AccessDenied as exc:
        st.error(_("Refused: {reason}.").format(reason=exc), icon=":material/lock:")
        return False
    except queries.WarehouseNotFound:
        _reresolve_vanished(path)
        _gone_error(path)
        return False
    except (duckdb.Error, OSError) as exc:
        st.error(
            _("Could not open the warehouse at `{path}`: {error}. If the pipeline is writing it right "
              "now, reload in a moment; otherwise rebuild it.").format(path=path, error=exc) + " " + _(BUILD_HINT),
            icon=":material/error:",
        )
        return False
    return schema_is_current(path) if schema else True


def older_schema_message(found: int, needed: int) -> str:
    """The one message for a snapshot built by an older mizan."""
    return _("This snapshot was built by an older version of mizan (schema {found}, this dashboard needs "
             "{needed}). Rebuild it with mizan run.").format(found=found, needed=needed)


def schema_is_current(path: str) -> bool:
    """Whether the snapshot records the schema version this dashboard needs (``reporting.schema_version``,
    compared once per script run); else one error naming both versions, and False. A file without any
    ``marts`` table was never built (not older): True, and the pages say which tables are missing."""
    found = int(load("schema_version", path)["schema_version"][0])
    built = any(t.startswith("marts.") for t in load("warehouse_tables", path)["qualified_name"].to_list())
    if found < reporting.REQUIRED_SCHEMA_VERSION and built:
        st.error(older_schema_message(found, reporting.REQUIRED_SCHEMA_VERSION), icon=":material/update:")
        return False
    return True


def missing_tables(path: str, required: Iterable[str]) -> list[str]:
    """The subset of ``required`` (``schema.table``) the snapshot lacks (cached; errors as ``load``)."""
    present = set(load("warehouse_tables", path)["qualified_name"].to_list())
    return [t for t in required if t not in present]


def require_tables(path: str, tables: Iterable[str], purpose: str) -> bool:
    """True when every table exists; else an error naming the missing ones."""
    if not check_warehouse(path):
        return False
    missing = missing_tables(path, tables)
    if missing:
        names = ", ".join(f"`{t}`" for t in missing)
        st.error(
            _("The warehouse at `{path}` has no {tables}, needed for {purpose}. The build may be "
              "unfinished or from an older version.").format(path=path, tables=names, purpose=purpose)
            + " " + _(BUILD_HINT),
            icon=":material/error:",
        )
        return False
    return True


def load(query_name: str, path: str, **params: Any) -> pl.DataFrame:
    """Cached query on the snapshot ``path``; on failure an error message and the page stops (no
    traceback). A snapshot that vanished reruns the script on the newer one."""
    try:
        return data.load(query_name, path, **params)
    except access.AccessDenied as exc:
        st.error(_("Refused: {reason}.").format(reason=exc), icon=":material/lock:")
    except queries.WarehouseNotFound:
        _reresolve_vanished(path)
        _gone_error(path)
    except (duckdb.Error, OSError) as exc:
        st.error(
            _("Could not read `{query}` from the warehouse at `{path}`: {error}. If the pipeline "
              "is writing it right now, reload in a moment.").format(query=query_name, path=path, error=exc),
            icon=":material/error:",
        )
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


def estimation_rules(path: str) -> dict[str, Any]:
    """The estimation rules of the snapshot ``path`` (``queries.estimation_rules``) as a dict:
    thresholds, ``rule_text`` and ``origin`` ('snapshot' | 'fallback')."""
    return load("estimation_rules", path).row(0, named=True)


def rules_caption(path: str) -> str:
    """State the rules the snapshot's numbers were made with, as a caption (the snapshot's
    ``marts.dim_estimation_rules.rule_text``, verbatim; for an older warehouse without the table,
    the rule of that time and a note saying so). Returns the rule text, for the CSV downloads."""
    rules = estimation_rules(path)
    text = str(rules.get("rule_text") or T.SUPPRESSION_RULE)
    st.caption(rules_on_screen(rules, text))
    if rules.get("origin") != "snapshot":
        st.caption(_(
            "This warehouse does not record its estimation rules (`marts.dim_estimation_rules`: it predates "
            "them); the rule above is the default of that time."
        ))
    return text


def rules_on_screen(rules: Mapping[str, Any], text: str) -> str:
    """The estimation rule as the reader reads it: in English the snapshot's ``rule_text`` verbatim; in
    another language the same rule written from the snapshot's thresholds (the text itself is data)."""
    keys = ("suppression_min_n", "suppression_min_n_eff", "confidence_level", "unreliable_ci_width",
            "unreliable_relative_width")
    if i18n.current_language() == "en" or any(rules.get(k) is None for k in keys):
        return _(text)
    return _(
        "Suppression rule: an estimate is suppressed (not shown) when its unweighted n < {min_n} or its "
        "effective n < {min_n_eff}, when no sampling variance can be estimated, or to protect another "
        "suppressed cell (complementary suppression); it is flagged unreliable when its {level} confidence "
        "interval is {width} percentage points wide or more, or wider than {relative} of the estimate "
        "(NCHS 2017 style).").format(
            min_n=i18n.format_decimal(rules["suppression_min_n"], 0),
            min_n_eff=i18n.format_decimal(rules["suppression_min_n_eff"], 0),
            level=i18n.format_percent(rules["confidence_level"], 0),
            width=i18n.format_decimal(100 * rules["unreliable_ci_width"], 0),
            relative=i18n.format_percent(rules["unreliable_relative_width"], 0))


def provenance_banner(df: pl.DataFrame, source_col: str = "source_id") -> None:
    """A 'SYNTHETIC demo data' warning for synthetic sources and a note naming real ones."""
    if df.is_empty() or "is_synthetic" not in df.columns:
        return
    pairs = df.select(source_col, pl.col("is_synthetic").fill_null(False)).unique()
    synthetic = sorted(pairs.filter(pl.col("is_synthetic"))[source_col].to_list())
    real = sorted(pairs.filter(~pl.col("is_synthetic"))[source_col].to_list())
    if synthetic:
        st.warning(
            _("**{label}** — generated for demonstration, not survey or budget results: {sources}").format(
                label=_(T.SYNTHETIC_LABEL), sources=", ".join(f"`{s}`" for s in synthetic)),
            icon=":material/science:",
        )
    if real:
        st.info(
            _("**Real data** — published or collected data: {sources}").format(
                sources=", ".join(f"`{s}`" for s in real)),
            icon=":material/verified:",
        )


def coverage_note(df: pl.DataFrame, source_col: str = "source_id") -> str | None:
    """Markdown naming each source whose estimates cover only part of a governorate, or None."""
    if df.is_empty() or "coverage" not in df.columns:
        return None
    pairs = (
        df.select(source_col, "coverage")
        .filter(pl.col("coverage").is_not_null() & (pl.col("coverage").str.strip_chars() != ""))
        .unique()
        .sort(source_col, "coverage")
    )
    if pairs.is_empty():
        return None
    parts = [
        _("`{source}` covers **{coverage}**: its estimates are not governorate-wide figures "
          "(labelled “{label}”)").format(source=src, coverage=md_escape(cov), label=md_escape(T.coverage_short(cov)))
        for src, cov in pairs.iter_rows()
    ]
    return _("Coverage: {parts}.").format(parts="; ".join(parts))


def scale_note(df: pl.DataFrame) -> str | None:
    """Markdown naming each source · wave whose estimates come from answers on a scale of its own
    (``scale_note``, e.g. "4-point scale, top box (source codes 1, 2)") and the indicators concerned,
    or None when every estimate shown is on the question bank's scale."""
    if df.is_empty() or "scale_note" not in df.columns:
        return None
    noted = df.filter(pl.col("scale_note").is_not_null())
    if noted.is_empty():
        return None
    name = "indicator_name" if "indicator_name" in noted.columns else "indicator_id"
    parts = []
    for (src, wave), group in noted.group_by("source_id", "wave_id", maintain_order=True):
        items = [f"{md_escape(n)}: {md_escape(note)}" for n, note in
                 group.select(name, "scale_note").unique(maintain_order=True).iter_rows()]
        parts.append(_("`{source}` · `{wave}` answered on a scale of its own ({items})").format(
            source=src, wave=wave, items="; ".join(items)))
    return _(
        "Scale: {parts}. Its answers are counted as the question bank's top or bottom box; "
        "a 4-point scale has no middle answer, so more households land in those boxes than on the question "
        "bank's 5 points — compare such estimates with other sources with care."
    ).format(parts="; ".join(parts))


def scale_caption(df: pl.DataFrame) -> None:
    """A caption for estimates from waves on a declared scale; nothing when there are none."""
    note = scale_note(df)
    if note:
        st.caption(note)


def coverage_caption(df: pl.DataFrame, source_col: str = "source_id") -> None:
    """A caption for sources with partial coverage (e.g. one city); nothing when all are
    governorate-wide."""
    note = coverage_note(df, source_col)
    if note:
        st.caption(note)


def snapshot_identity(snapshot: str) -> dict[str, Any]:
    """``queries.snapshot_identity`` of the snapshot as a dict (snapshot_name, run_id,
    published_at, kind, sha256, origin); stops the page with an error when it cannot be read."""
    return load("snapshot_identity", snapshot).row(0, named=True)


def data_as_of_text(identity: Mapping[str, Any]) -> str:
    """'Data as of 2024-05-01 10:04:00 UTC · run `1a2b3c4d`' (publish time and the first 8
    characters of the id of the run whose data the snapshot holds; when approvals were published
    after it, '· approvals updated <time> UTC' follows); for a warehouse without a recorded run, its
    file time."""
    when = T.fmt_time(identity.get("data_published_at") or identity.get("published_at"))
    if identity.get("run_id"):
        data_run = str(identity.get("data_run_id") or identity["run_id"])
        text = _("Data as of {time} UTC · run `{run}`").format(time=when, run=data_run[:8])
        if data_run != str(identity["run_id"]):  # an approval published after the data run
            text += _(" · approvals updated {time} UTC").format(time=T.fmt_time(identity.get("published_at")))
        return text
    return _("Data as of {time} UTC (file modification time; this warehouse records no publishing run)").format(
        time=when)


def data_as_of_banner(snapshot: str) -> None:
    """The 'Data as of …' line at the top of every page."""
    st.caption(data_as_of_text(snapshot_identity(snapshot)))


def snapshot_label(snapshot: str | Path, pointer: str | Path | None = None) -> str:
    """The snapshot file as people should read it: its path relative to the pointer's folder
    (e.g. 'mizan.snapshots/20240501T100400123456Z-1a2b3c4d/mizan.duckdb'), else its file name."""
    p = Path(snapshot)
    if pointer:
        rel = os.path.relpath(p, Path(os.path.abspath(pointer)).parent)
        if not rel.startswith(".."):
            return rel
    return p.name


def snapshot_caption(snapshot: str, pointer: str | None = None) -> str:
    """The snapshot file for the sidebar: '`<snapshot_label>` · 2.8 MB'."""
    try:
        size = Path(snapshot).stat().st_size
    except OSError:
        return _("not found")
    return f"`{snapshot_label(snapshot, pointer)}` · {size / 1e6:.1f} MB"


def md_escape(text: Any) -> str:
    """Escape Markdown / LaTeX specials in free text from the warehouse."""
    s = T.to_text(text)
    for ch in "\\`*_{}[]<>()#+-.!|$~":
        s = s.replace(ch, "\\" + ch)
    return s
