"""Excel downloads: the data, the estimation rules and the data-as-of line on the sheet; suppressed cells
carry no number (read back with openpyxl)."""

from __future__ import annotations

import io

import polars as pl
from openpyxl import load_workbook

from dashboards import downloads

EXPLORER = "views/indicator_explorer.py"


def _sheet(data: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


def test_explorer_excel_has_rules_and_as_of_and_no_suppressed_number(open_app, downloads, scratch_warehouse,
                                                                       scratch_suppressed_values):
    at = open_app(scratch_warehouse, EXPLORER)
    at.selectbox(key="explorer_indicator").set_value("water_service_good").run()
    at.selectbox(key="explorer_wave").set_value("demo_services|2023-01").run()
    at.selectbox(key="explorer_disaggregation").set_value("all").run()
    xlsx = [d for d in downloads if d.file_name.endswith(".xlsx")][-1]
    assert xlsx.file_name == "mizan_water_service_good_demo_services_2023-01_all.xlsx"
    rows = _sheet(xlsx)
    header = list(rows[0])
    body = [dict(zip(header, r)) for r in rows[1:] if r and r[0] == "water_service_good"]
    suppressed = [r for r in body if r["governorate_pcode"] == "IQG02"]
    assert suppressed and suppressed[0]["is_suppressed"] is True
    for col in ("estimate", "ci_lower", "ci_upper", "std_error"):
        assert suppressed[0][col] is None, col
    planted = scratch_suppressed_values[("water_service_good", "demo_services", "2023-01", "IQG02", "all")]
    cells = {v for r in rows for v in r if v is not None}
    assert not cells & set(planted)
    published = [r for r in body if not r["is_suppressed"]]
    assert published and all(r["estimate"] is not None for r in published)
    tail = [r[0] for r in rows if r and r[0] and str(r[0]).startswith(("Suppression rule", "Data as of"))]
    assert any(t.startswith("Data as of") for t in tail) and any(t.startswith("Suppression rule") for t in tail)


def test_blank_suppressed_empties_statistics_even_when_the_frame_holds_them():
    df = pl.DataFrame({"name": ["a", "b", "c"], "estimate": [0.5, 0.25, 0.75], "std_error": [0.1, 0.2, 0.3],
                       "ci_lower": [0.3, 0.1, 0.6], "ci_upper": [0.7, 0.4, 0.9], "is_suppressed": [False, True, None]})
    rows = _sheet(downloads.xlsx_bytes(df, "Suppression rule: n < 30", "Data as of 2026-01-01"))
    assert rows[0] == ("name", "estimate", "std_error", "ci_lower", "ci_upper", "is_suppressed")
    assert rows[1] == ("a", 0.5, 0.1, 0.3, 0.7, False)
    assert rows[2] == ("b", None, None, None, None, True)
    assert rows[3] == ("c", None, None, None, None, None)
    assert [r[0] for r in rows[-2:]] == ["Suppression rule: n < 30", "Data as of 2026-01-01"]
