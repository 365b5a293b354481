"""Streamlit-cached wrappers around ``dashboards.queries``.

Results (polars DataFrames), never connections, are cached. ``path`` is the concrete snapshot file
app.py resolved from the warehouse pointer for this render (``ui.use_snapshot``), so the cache key —
query name, parameters, snapshot path and its *version* (``queries.snapshot_version``: modification
time, size and the sidecar's SHA-256) — names immutable content. A new publish is a new path, hence
new keys; the old snapshot's entries age out (``max_entries``). A plain warehouse file rewritten in
place (from before snapshots) changes its version. Nothing here holds the file open.

Access: ``load`` reads as the signed-in session's role (``auth.session_role``) and applies
``access.authorize`` before the query and ``access.filter_result`` after it, so a role is refused
what it may not read (``access.AccessDenied``) on every page, whatever the URL. The cache holds the
unfiltered result; the filter runs on every call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl
import streamlit as st

from dashboards import access, auth, queries


@st.cache_data(show_spinner=False, max_entries=512)
def _cached_query(
    query_name: str, path: str, snapshot: str, params: tuple[tuple[str, Any], ...]
) -> pl.DataFrame:
    # ``snapshot`` is only part of the key: a rebuilt file gives a new key, hence a fresh read.
    return queries.QUERIES[query_name](path, **dict(params))


def load(query_name: str, path: str, **params: Any) -> pl.DataFrame:
    """Run ``queries.<query_name>(path, **params)`` through the snapshot-keyed cache, as the signed-in
    session's role may see it; ``path`` is a snapshot file. Returns the query's polars DataFrame.

    Raises ``access.AccessDenied`` when the session is not signed in or its role may not read this
    (see ``dashboards/access.py``), ``queries.WarehouseNotFound`` when the file is missing (e.g.
    pruned after it was resolved), ``duckdb.Error`` when it cannot be read (corrupt, missing table).
    """
    if query_name not in queries.QUERIES:
        raise KeyError(f"unknown query {query_name!r}")
    role = auth.session_role()

    def approved_waves() -> set[tuple[str, str]]:
        waves = load("waves", path).filter(pl.col("is_approved").fill_null(False))
        return {(str(s), str(w)) for s, w in waves.select("source_id", "wave_id").iter_rows()}

    run_params = access.authorize(role, query_name, params, approved_waves)  # refuses before reading
    snapshot = queries.snapshot_version(path)
    if snapshot is None:
        raise queries.WarehouseNotFound(f"no warehouse file at {path}")
    df = _cached_query(query_name, str(path), snapshot, tuple(sorted(run_params.items())))
    return access.filter_result(role, query_name, df)


def missing_tables(path: str, required: Iterable[str]) -> list[str]:
    """Cached variant of ``queries.missing_tables``."""
    present = set(load("warehouse_tables", path)["qualified_name"].to_list())
    return [t for t in required if t not in present]


def clear() -> None:
    """Drop every cached result (e.g. from a 'reload' button)."""
    _cached_query.clear()
