"""Streamlit-cached wrappers around ``dashboards.queries``.

Results (polars DataFrames), never connections, are cached. ``path`` is the concrete snapshot file
app.py resolved from the warehouse pointer for this render (``ui.use_snapshot``), so the cache key —
query name, parameters, snapshot path and its *version* (``queries.snapshot_version``: modification
time, size and the sidecar's SHA-256) — names immutable content. A new publish is a new path, hence
new keys; the old snapshot's entries age out (``max_entries``). A plain warehouse file rewritten in
place (from before snapshots) changes its version. Nothing here holds the file open.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl
import streamlit as st

from dashboards import queries


@st.cache_data(show_spinner=False, max_entries=512)
def _cached_query(
    query_name: str, path: str, snapshot: str, params: tuple[tuple[str, Any], ...]
) -> pl.DataFrame:
    # ``snapshot`` is only part of the key: a rebuilt file gives a new key, hence a fresh read.
    return queries.QUERIES[query_name](path, **dict(params))


def load(query_name: str, path: str, **params: Any) -> pl.DataFrame:
    """Run ``queries.<query_name>(path, **params)`` through the snapshot-keyed cache; ``path`` is a
    snapshot file. Returns the query's polars DataFrame.

    Raises ``queries.WarehouseNotFound`` when the file is missing (e.g. pruned after it was
    resolved), ``duckdb.Error`` when it cannot be read (corrupt, missing table).
    """
    if query_name not in queries.QUERIES:
        raise KeyError(f"unknown query {query_name!r}")
    snapshot = queries.snapshot_version(path)
    if snapshot is None:
        raise queries.WarehouseNotFound(f"no warehouse file at {path}")
    return _cached_query(query_name, str(path), snapshot, tuple(sorted(params.items())))


def missing_tables(path: str, required: Iterable[str]) -> list[str]:
    """Cached variant of ``queries.missing_tables``."""
    present = set(load("warehouse_tables", path)["qualified_name"].to_list())
    return [t for t in required if t not in present]


def clear() -> None:
    """Drop every cached result (e.g. from a 'reload' button)."""
    _cached_query.clear()
