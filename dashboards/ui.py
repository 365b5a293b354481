"""Streamlit helpers shared by the pages: warehouse path, error messages, banners, loading."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from dashboards import data, queries
from dashboards import tables as T

DEFAULT_WAREHOUSE = "./warehouse/mizan.duckdb"
ENV_VAR = "MIZAN_WAREHOUSE"
SESSION_KEY = "_mizan_warehouse"
BUILD_HINT = (
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


def current_warehouse() -> str:
    """The path app.py resolved for this run (pages can also run on their own)."""
    path = st.session_state.get(SESSION_KEY)
    if not path:
        path = str(resolve_warehouse_path())
        st.session_state[SESSION_KEY] = path
    return path


def check_warehouse(path: str) -> bool:
    """Show an error (not a traceback) and return False when the warehouse cannot be used."""
    if not Path(path).is_file():
        st.error(f"No warehouse found at `{path}`. {BUILD_HINT}", icon=":material/error:")
        return False
    try:
        data.load("warehouse_tables", path)
    except (duckdb.Error, OSError) as exc:
        st.error(
            f"Could not open the warehouse at `{path}`: {exc}. If the pipeline is writing it right "
            f"now, reload in a moment; otherwise rebuild it. {BUILD_HINT}",
            icon=":material/error:",
        )
        return False
    return True


def require_tables(path: str, tables: Iterable[str], purpose: str) -> bool:
    """True when every table exists; else an error naming the missing ones."""
    if not check_warehouse(path):
        return False
    missing = data.missing_tables(path, tables)
    if missing:
        names = ", ".join(f"`{t}`" for t in missing)
        st.error(
            f"The warehouse at `{path}` has no {names}, needed for {purpose}. The build may be "
            f"unfinished or from an older version. {BUILD_HINT}",
            icon=":material/error:",
        )
        return False
    return True


def load(query_name: str, path: str, **params: Any) -> pl.DataFrame:
    """Cached query; on failure an error message and the page stops (no traceback)."""
    try:
        return data.load(query_name, path, **params)
    except queries.WarehouseNotFound:
        st.error(f"No warehouse found at `{path}`. {BUILD_HINT}", icon=":material/error:")
    except (duckdb.Error, OSError) as exc:
        st.error(
            f"Could not read `{query_name}` from the warehouse at `{path}`: {exc}. If the pipeline "
            "is writing it right now, reload in a moment.",
            icon=":material/error:",
        )
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


def suppression_caption() -> None:
    st.caption(T.SUPPRESSION_RULE)


def provenance_banner(df: pl.DataFrame, source_col: str = "source_id") -> None:
    """A 'SYNTHETIC demo data' warning for synthetic sources and a note naming real ones."""
    if df.is_empty() or "is_synthetic" not in df.columns:
        return
    pairs = df.select(source_col, pl.col("is_synthetic").fill_null(False)).unique()
    synthetic = sorted(pairs.filter(pl.col("is_synthetic"))[source_col].to_list())
    real = sorted(pairs.filter(~pl.col("is_synthetic"))[source_col].to_list())
    if synthetic:
        st.warning(
            f"**{T.SYNTHETIC_LABEL}** — generated for demonstration, not survey or budget results: "
            + ", ".join(f"`{s}`" for s in synthetic),
            icon=":material/science:",
        )
    if real:
        st.info(
            "**Real data** — published or collected data: " + ", ".join(f"`{s}`" for s in real),
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
        f"`{src}` covers **{md_escape(cov)}**: its estimates are not governorate-wide figures "
        f"(labelled “{md_escape(T.coverage_short(cov))}”)"
        for src, cov in pairs.iter_rows()
    ]
    return "Coverage: " + "; ".join(parts) + "."


def coverage_caption(df: pl.DataFrame, source_col: str = "source_id") -> None:
    """A caption for sources with partial coverage (e.g. one city); nothing when all are
    governorate-wide."""
    note = coverage_note(df, source_col)
    if note:
        st.caption(note)


def snapshot_caption(path: str) -> str:
    """'modified 2024-05-01 10:04 UTC · 2.8 MB' for the sidebar."""
    p = Path(path)
    try:
        stat = p.stat()
    except OSError:
        return "not found"
    when = dt.datetime.fromtimestamp(stat.st_mtime, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"modified {when} · {stat.st_size / 1e6:.1f} MB"


def md_escape(text: Any) -> str:
    """Escape Markdown / LaTeX specials in free text from the warehouse."""
    s = T.to_text(text)
    for ch in "\\`*_{}[]<>()#+-.!|$~":
        s = s.replace(ch, "\\" + ch)
    return s
