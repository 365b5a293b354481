"""Downloads of what a page shows: CSV and Excel (XLSX) of a table, and the PNG name of its chart.

The XLSX holds the data on sheet "data" and, under it, the estimation rules the numbers were made with and
the "Data as of … · run …" line of the snapshot. Suppressed rows (``is_suppressed`` true) never carry a
number: every statistic column (``STAT_COLUMNS``) is emptied in both files, whatever the frame held.
"""

from __future__ import annotations

import io
from typing import Any

import polars as pl
import streamlit as st
from openpyxl import Workbook

from dashboards import tables as T
from dashboards.i18n import _

#: columns that carry a number computed from the answers (emptied on suppressed rows)
STAT_COLUMNS = ("estimate", "se", "std_error", "ci_lower", "ci_upper", "cv", "deff", "design_effect", "n_effective",
                "excluded_share", "difference",
                "median_estimate", "share")


def blank_suppressed(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with every ``STAT_COLUMNS`` column NULL on rows whose ``is_suppressed`` is true or NULL."""
    if "is_suppressed" not in df.columns:
        return df
    hidden = pl.col("is_suppressed").fill_null(True)
    return df.with_columns([
        pl.when(hidden).then(None).otherwise(pl.col(c)).alias(c) for c in STAT_COLUMNS if c in df.columns
    ])


def xlsx_bytes(df: pl.DataFrame, rules_text: str = "", as_of: str = "") -> bytes:
    """An XLSX workbook: sheet "data" with ``df`` (header row, then one row per row of ``df``, suppressed
    statistics empty), a blank row, then ``rules_text`` and ``as_of`` each in column A."""
    wb = Workbook()
    ws = wb.active
    ws.title = "data"
    out = blank_suppressed(df)
    ws.append(out.columns)
    for row in out.iter_rows():
        ws.append([v if v is None or isinstance(v, int | float | str | bool) else str(v) for v in row])
    ws.append([])
    for line in (rules_text, as_of):
        if line:
            ws.append([line])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def download_buttons(df: pl.DataFrame, name: str, *, key: str, rules_text: str = "", as_of: str = "",
                     csv: bool = True) -> None:
    """The page's download buttons for ``df``: CSV (unless the page offers its own) and Excel, files
    ``mizan_<name>.csv`` / ``.xlsx``; suppressed statistics empty in both."""
    left, right = st.columns(2)
    if csv:
        with left:
            st.download_button(_("Download (CSV)"), data=T.to_csv_bytes(blank_suppressed(df)),
                               file_name=f"mizan_{name}.csv", mime="text/csv", on_click="ignore", key=f"{key}_csv")
    with right if csv else left:
        st.download_button(
            _("Download (Excel)"), data=xlsx_bytes(df, rules_text, as_of), file_name=f"mizan_{name}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
            key=f"{key}_xlsx")


def png_config(name: str) -> dict[str, Any]:
    """``st.plotly_chart(config=…)``: the chart's camera button saves ``mizan_<name>.png`` at 2× scale
    (drawn by the browser; no server-side image library)."""
    return {"toImageButtonOptions": {"format": "png", "filename": f"mizan_{name}", "scale": 2}}
