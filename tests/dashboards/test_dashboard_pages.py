"""Every dashboard page, rendered with streamlit.testing.v1.AppTest.

Runs on the scratch warehouses of tests/dashboards/conftest.py and on the pipeline-built
``demo_warehouse`` / ``real_warehouse`` fixtures (tests/conftest.py); those two cases skip
until the pipeline fixtures exist.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pytest
import streamlit
from google.protobuf import text_format
from streamlit.testing.v1 import AppTest

from dashboards import queries
from dashboards import tables as T
from signed_in import sign_in
from scratch_warehouses import SCRATCH_RUN_ID, SHA_BUDGET, SUPPRESSED_EXTRA

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
PAGES = {
    "Overview": "views/overview.py",
    "Indicator explorer": "views/indicator_explorer.py",
    "Budget execution": "views/budget_execution.py",
    "Data quality": "views/data_quality.py",
}
PIPELINE_WAREHOUSES = ["demo_warehouse", "real_warehouse"]
# legacy_warehouse is not among them: a snapshot of an older schema gets one message on every page
# (test_dashboard_home.py::test_an_older_snapshot_gets_one_message_on_every_page)
ALL_WAREHOUSES = ["scratch_warehouse", "sparse_warehouse", *PIPELINE_WAREHOUSES]
TIMEOUT = 120


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def warehouse(request: pytest.FixtureRequest, name: str) -> Path:
    try:
        return Path(request.getfixturevalue(name))
    except pytest.FixtureLookupError:
        pytest.skip(
            f"fixture {name!r} is not defined yet: the pipeline adds it to tests/conftest.py "
            "(a session-scoped path to a built warehouse)"
        )


@pytest.fixture()
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Capture what the pages pass to st.download_button (file name and bytes)."""
    captured: list[dict[str, Any]] = []
    original = streamlit.download_button

    def spy(label, data, *args, **kwargs):
        if str(kwargs.get("file_name") or "").endswith(".xlsx"):  # Excel: tests/dashboards/test_dashboard_downloads.py
            return original(label, data, *args, **kwargs)
        payload = data() if callable(data) else data
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        captured.append({"label": label, "file_name": kwargs.get("file_name"), "data": bytes(payload)})
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", spy)
    return captured


@pytest.fixture()
def open_app(monkeypatch: pytest.MonkeyPatch):
    """open_app(path, page) -> AppTest rendered on that page, warehouse given by env var."""

    def _open(path: Path, page: str | None = None) -> AppTest:
        monkeypatch.setattr(sys, "argv", [str(APP)])
        monkeypatch.setenv("MIZAN_WAREHOUSE", str(path))
        at = sign_in(AppTest.from_file(str(APP), default_timeout=TIMEOUT))
        at.run()
        if page is not None:
            at.switch_page(page).run()
        return at

    return _open


def _decode_plotly(spec: str) -> str:
    """Plotly JSON with binary-encoded arrays ('bdata') decoded, so numbers are searchable."""

    def walk(x: Any) -> Any:
        if isinstance(x, dict):
            if "bdata" in x and "dtype" in x:
                arr = np.frombuffer(base64.b64decode(x["bdata"]), dtype=np.dtype(x["dtype"]))
                return [float(v) for v in arr]
            return {k: walk(v) for k, v in x.items()}
        if isinstance(x, list):
            return [walk(v) for v in x]
        return x

    return json.dumps(walk(json.loads(spec)), ensure_ascii=False)


def _nodes(at: AppTest) -> Iterator[Any]:
    yield from itertools.chain(at.main, at.sidebar)


def rendered_text(at: AppTest) -> str:
    """Everything the page sends to the browser, as text: element protos, dataframe contents
    (decoded from Arrow) and plotly specs (decoded)."""
    parts = []
    for node in _nodes(at):
        kind = getattr(node, "type", None)
        if kind in ("dataframe", "table", "arrow_data_frame"):
            parts.append(node.value.to_csv(index=False))
        elif kind == "plotly_chart":
            parts.append(_decode_plotly(node.proto.spec))
        else:
            proto = getattr(node, "proto", None)
            if proto is not None and hasattr(proto, "DESCRIPTOR"):
                parts.append(text_format.MessageToString(proto, as_utf8=True))
    return "\n".join(parts)


def estimates_csv(downloads: list[dict[str, Any]]) -> dict[str, Any]:
    """The last estimates (or distribution) CSV the explorer offered (not the change CSV)."""
    found = [d for d in downloads if not str(d["file_name"]).startswith("mizan_change_")]
    assert found, "no estimates CSV offered"
    return found[-1]


def forbidden_patterns(suppressed: dict, extra: tuple[float, ...] = SUPPRESSED_EXTRA) -> list[re.Pattern[str]]:
    """Every way a planted suppressed value could show up: raw, scaled to %, formatted. ``extra``:
    more planted values of hidden cells (weight ratios, numbers of a change with a suppressed side,
    shares of suppressed distributions), searched raw, scaled and formatted as %, points or a ratio."""
    pats: set[str] = set()
    for v in extra:
        pats.add(re.escape(repr(v)))
        pats.add(re.escape(f"{v * 100:.4f}"))
        pats.add(re.escape(repr(round(v * 100, 6))))
        if v < 1:
            pats.add(re.escape(f"{v * 100:.1f}%"))
            pats.add(re.escape(f"{v * 100:.1f} points"))
            pats.add(re.escape(f"{v * 100:.1f} pts"))
        else:
            pats.add(re.escape(f"{v:.1f}"))
            pats.add(re.escape(f"{v:.2f}"))
    for (indicator_id, *_), values in suppressed.items():
        kind, unit = ("mean", "hours/day") if indicator_id.endswith("hours_mean") else ("proportion", "proportion")
        est, se, lo, hi = values
        for v in values:
            pats.add(re.escape(repr(v)))  # 0.123456
            pats.add(re.escape(f"{v * 100:.4f}"))  # 12.3456
            pats.add(re.escape(repr(round(v * 100, 6))))  # as charts would scale it
        # the dashboard's display formats, written out here rather than taken from the code under test
        if kind == "mean":
            pats.add(re.escape(f"{est:.1f}"))  # 23.5, with or without " h/day"
            pats.add(re.escape(f"{lo:.1f}–{hi:.1f}"))
        else:
            pats.add(re.escape(f"{est * 100:.1f}%"))  # 12.3%
            pats.add(re.escape(f"{lo * 100:.1f}–{hi * 100:.1f}%"))  # 8.1–17.1%
    return [re.compile(r"(?<![\d.])" + p) for p in sorted(pats)]


def assert_no_suppressed_values(text: str, where: str, suppressed: dict) -> None:
    for pat in forbidden_patterns(suppressed):
        m = pat.search(text)
        assert m is None, f"suppressed value {pat.pattern!r} leaked in {where}: …{text[max(0, m.start() - 80):m.end() + 80]}…"


# --------------------------------------------------------------------------------------
# every page renders
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("warehouse_name", ALL_WAREHOUSES)
@pytest.mark.parametrize("title", list(PAGES))
def test_page_renders_without_exception(request, open_app, warehouse_name: str, title: str) -> None:
    path = warehouse(request, warehouse_name)
    at = open_app(path, PAGES[title])
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [title]
    if title in ("Overview", "Indicator explorer"):
        rule = queries.estimation_rules(path)["rule_text"][0]  # the snapshot's own rule (or the fallback)
        assert any(c.value == rule for c in at.caption), "estimation rules not stated"


@pytest.mark.parametrize("title", ["Overview", "Indicator explorer", "Budget execution"])
def test_scratch_pages_show_no_error(open_app, scratch_warehouse: Path, title: str) -> None:
    at = open_app(scratch_warehouse, PAGES[title])
    assert not at.exception and not at.error, [e.value for e in at.error]


def test_data_quality_flags_unbalanced_file_and_shows_runs(open_app, scratch_warehouse: Path) -> None:
    at = open_app(scratch_warehouse, PAGES["Data quality"])
    errors = " ".join(e.value for e in at.error)
    assert "demo_budget/demo_budget.csv" in errors
    assert not at.warning  # the newest run published this snapshot: nothing newer failed
    history = at.dataframe[0].value
    assert list(history["Run"]) == [SCRATCH_RUN_ID, "run-002", "run-001"]  # newest first
    assert set(history["Recorded in"]) == {T.RECORDED_SNAPSHOT}
    failed = history[history["Run"] == "run-002"].iloc[0]
    assert (failed["Status"], failed["Files"], failed["Tests failed"]) == ("failed", f"1: {SHA_BUDGET[:8]}", 1)
    assert failed["Message"] == "dbt test not_null_fct_budget_execution_allocation failed (1 row)"
    assert history.iloc[0]["Files"].startswith("4: ")
    text = rendered_text(at)
    assert "✗ +1 row(s) unaccounted" in text and "✓ balanced" in text
    assert "phone_number" in text and "no mapping file" in text
    registry = at.dataframe[1].value
    assert registry.loc[registry["File"] == "demo_2024_v0.csv", "Status"].item() == "superseded"
    deliveries = at.dataframe[2].value
    assert "same content as export.csv (registered 2024-05-01 10:03): loaded once" in set(deliveries["Outcome"])
    assert any(o.startswith("new, corrects an earlier delivery: supersedes demo_2024_v0.csv") for o in deliveries["Outcome"])
    assert any("No rows were excluded" in i.value for i in at.info)  # empty audit.exclusions
    at.selectbox(key="dq_run").set_value("run-001").run()
    assert not at.exception and not any("demo_budget.csv" in e.value for e in at.error)
    assert set(at.dataframe[2].value["Outcome"]) == {"new"}  # run-001's deliveries


def test_sparse_warehouse_explains_missing_data(open_app, sparse_warehouse: Path) -> None:
    at = open_app(sparse_warehouse, PAGES["Budget execution"])
    assert any("no budget data" in i.value for i in at.info)
    at = open_app(sparse_warehouse, PAGES["Overview"])
    assert any("no trend" in i.value for i in at.info)
    at = open_app(sparse_warehouse, PAGES["Indicator explorer"])
    assert at.selectbox(key="explorer_disaggregation").options == ["None (all respondents)"]


# --------------------------------------------------------------------------------------
# suppression never leaks
# --------------------------------------------------------------------------------------
def test_forbidden_patterns_are_not_trivially_absent(scratch_warehouse: Path, scratch_suppressed_values) -> None:
    """Control: the scanner finds a planted value when it is present (unmasked query)."""
    con = duckdb.connect(str(scratch_warehouse), read_only=True)
    try:
        raw = con.sql("SELECT * FROM marts.fct_service_indicators").pl().write_csv()
    finally:
        con.close()
    assert any(p.search(raw) for p in forbidden_patterns(scratch_suppressed_values))


def test_overview_never_shows_suppressed_values(open_app, scratch_warehouse: Path, scratch_suppressed_values) -> None:
    at = open_app(scratch_warehouse, PAGES["Overview"])
    seen = 0
    for pcode in ["IQG02", "IQG08", "IQG11", "IQG15"]:
        at.selectbox(key="overview_governorate").set_value(pcode).run()
        assert not at.exception
        text = rendered_text(at)
        assert_no_suppressed_values(text, f"overview, governorate {pcode}", scratch_suppressed_values)
        seen += "58.0%" in text  # Basrah 2024, a published value: the scanner sees content
    assert seen >= 1
    at.selectbox(key="overview_governorate").set_value("IQG02").run()
    text = rendered_text(at)
    assert "suppressed (n < 30; effective n < 30)" in text  # hours, Basrah 2024
    assert "Al-Basrah: suppressed (n < 30)" in text  # trend annotation, 2023 wave


EXPLORER_COMBOS = [
    ("water_piped_hours_mean", "demo_services|2024-01", "all"),
    ("water_service_good", "demo_services|2024-01", "all"),
    ("water_service_good", "demo_services|2024-01", "hoh_sex"),
    ("water_service_good", "demo_services|2023-01", "all"),
    ("water_service_good", "talafar_water_2021|2021-07", "all"),
]


def _select_explorer(at: AppTest, indicator: str, wave: str, disagg: str) -> None:
    at.selectbox(key="explorer_indicator").set_value(indicator).run()
    at.selectbox(key="explorer_wave").set_value(wave).run()
    at.selectbox(key="explorer_disaggregation").set_value(disagg).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="explorer_wave").value == wave
    assert at.selectbox(key="explorer_disaggregation").value == disagg


def test_explorer_never_shows_or_exports_suppressed_values(
    open_app, downloads, scratch_warehouse: Path, scratch_suppressed_values
) -> None:
    at = open_app(scratch_warehouse, PAGES["Indicator explorer"])
    for combo in EXPLORER_COMBOS:
        downloads.clear()
        _select_explorer(at, *combo)
        assert_no_suppressed_values(rendered_text(at), f"explorer {combo}", scratch_suppressed_values)
        assert downloads, "no CSV download offered"
        for d in downloads:  # estimates and change CSVs
            assert_no_suppressed_values(d["data"].decode("utf-8-sig"), f"CSV {d['file_name']} {combo}",
                                        scratch_suppressed_values)
            assert d["file_name"].endswith(".csv")

    # the planted cells are there, labelled, without values
    downloads.clear()
    _select_explorer(at, "water_service_good", "demo_services|2023-01", "all")
    text = rendered_text(at)
    assert "suppressed (n < 30)" in text and "61.0%" in text  # Baghdad 2023 is published
    assert "unreliable" in text  # Erbil 2023
    csv_lines = estimates_csv(downloads)["data"].decode("utf-8-sig").splitlines()
    basra = next(line for line in csv_lines if ",IQG02," in line)
    assert ",,,," in basra  # estimate, ci_lower, ci_upper, std_error blank
    assert "suppressed (n < 30)" in basra


def test_explorer_reference_sheet(open_app, scratch_warehouse: Path) -> None:
    at = open_app(scratch_warehouse, PAGES["Indicator explorer"])
    _select_explorer(at, "water_service_good", "demo_services|2024-01", "hoh_sex")
    md = "\n".join(m.value for m in at.markdown)
    for label in ("Definition", "Numerator", "Denominator", "Unit", "Universe", "Source questions",
                  "Estimation method", "CI method", "Suppression rule", "Version", "Direction of good change"):
        assert f"**{label}:**" in md, label
    assert "higher is better" in md
    table = at.dataframe[0].value
    assert "female-headed households" in set(table["Group"])


def test_budget_and_quality_pages_show_no_suppressed_values(
    open_app, scratch_warehouse: Path, scratch_suppressed_values
) -> None:
    for title in ("Budget execution", "Data quality"):
        at = open_app(scratch_warehouse, PAGES[title])
        assert_no_suppressed_values(rendered_text(at), title, scratch_suppressed_values)


#: Columns of the explorer CSV computed from the answers: blank in every suppressed row. Short
#: values such as 0.0 / 1.0 (p̂ = 0 or 1) cannot be searched for in the page, but they show
#: through these columns (ci_method 'clopper_pearson_neff' and an empty design effect are used
#: only when p̂ is 0 or 1), so the check is that the cells are empty.
DERIVED_CSV_COLUMNS = [
    "estimate", "ci_lower", "ci_upper", "std_error", "ci_method", "degrees_of_freedom",
    "n_effective", "design_effect", "excluded_share", "is_unreliable",
    "n_psu", "n_singleton_strata", "weight_ratio_max_median", "has_extreme_weights",
]


@pytest.mark.parametrize("warehouse_name", PIPELINE_WAREHOUSES)
def test_pipeline_warehouse_suppressed_values_not_rendered(
    request, open_app, downloads, warehouse_name: str
) -> None:
    """On built warehouses: for every explorer selection with suppressed cells, the CSV rows
    of those cells carry no statistic computed from the answers (however short: 0.0 and 1.0
    included) and the table shows none; the full-precision values never reach the screen or
    CSV (values that also occur as published values are not searched for)."""
    path = warehouse(request, warehouse_name)
    con = duckdb.connect(str(path), read_only=True)
    try:
        cells = con.sql(
            "SELECT indicator_id, source_id, wave_id, disaggregation, estimate, std_error, ci_lower, "
            "ci_upper, is_suppressed IS DISTINCT FROM false AS supp FROM marts.fct_service_indicators"
        ).fetchall()
    finally:
        con.close()
    published = {repr(v) for c in cells if not c[-1] for v in c[4:8] if v is not None}
    combos = sorted({c[:4] for c in cells if c[-1]})
    if not combos:
        pytest.skip("no suppressed cells in this warehouse")
    secret: dict[tuple, set[str]] = {}
    for c in cells:
        if c[-1]:
            for v in c[4:8]:
                if v is not None and len(repr(v)) >= 8 and repr(v) not in published:
                    secret.setdefault(c[:4], set()).add(repr(v))
    at = open_app(path, PAGES["Indicator explorer"])
    for combo in combos[:25]:
        indicator, source, wave, disagg = combo
        downloads.clear()
        _select_explorer(at, indicator, f"{source}|{wave}", disagg)
        csv_text = "\n".join(d["data"].decode("utf-8-sig") for d in downloads)
        shown = rendered_text(at) + "\n" + csv_text
        for v in secret.get(combo, ()):
            assert v not in shown, f"suppressed value {v} of {combo} rendered"
        export = pl.read_csv(io.StringIO(estimates_csv(downloads)["data"].decode("utf-8-sig")), infer_schema=False)
        suppressed = export.filter(pl.col("is_suppressed") == "true")
        assert suppressed.height >= 1, combo
        for col in DERIVED_CSV_COLUMNS:
            leaked = suppressed.filter(pl.col(col).is_not_null())
            assert leaked.is_empty(), f"{col} of suppressed rows exported for {combo}: {leaked[col].to_list()}"
        table = at.dataframe[0].value
        hidden = table[table["Status"].str.startswith("suppressed")]
        assert len(hidden) == suppressed.height, combo
        for col in ("95% CI", "SE", "n eff.", "Design effect", "Excluded share"):
            assert set(hidden[col]) == {T.DASH}, (combo, col, set(hidden[col]))


# --------------------------------------------------------------------------------------
# synthetic vs real
# --------------------------------------------------------------------------------------
def test_synthetic_and_real_sources_are_labelled(open_app, scratch_warehouse: Path) -> None:
    at = open_app(scratch_warehouse, PAGES["Overview"])
    assert any(T.SYNTHETIC_LABEL in w.value and "demo_services" in w.value for w in at.warning)
    assert any("Real data" in i.value and "talafar_water_2021" in i.value for i in at.info)
    headline = at.dataframe[0].value
    assert dict(zip(headline["Source · wave"], headline["Data"], strict=True)) == {
        "demo_services · 2024-01": T.SYNTHETIC_LABEL,
        "talafar_water_2021 · 2021-07": T.REAL_LABEL,
    }

    at = open_app(scratch_warehouse, PAGES["Indicator explorer"])
    _select_explorer(at, "water_service_good", "demo_services|2023-01", "all")
    assert any(T.SYNTHETIC_LABEL in w.value for w in at.warning)
    assert T.SYNTHETIC_LABEL in rendered_text(at)  # chart title and table
    _select_explorer(at, "water_service_good", "talafar_water_2021|2021-07", "all")
    assert not any(T.SYNTHETIC_LABEL in w.value for w in at.warning)
    assert any("Real data" in i.value for i in at.info)
    assert set(at.dataframe[0].value["Data"]) == {T.REAL_LABEL}

    at = open_app(scratch_warehouse, PAGES["Budget execution"])
    at.selectbox(key="budget_source").set_value("demo_budget").run()
    assert any(T.SYNTHETIC_LABEL in s.value for s in at.subheader)
    at.selectbox(key="budget_source").set_value("sigir_provincial_capital").run()
    assert any(T.REAL_LABEL in s.value for s in at.subheader)
    pivot = at.dataframe[0].value
    assert list(pivot.columns) == ["Governorate", "2007", "2008", "2009"]
    assert pivot.loc[pivot["Governorate"].str.startswith("Baghdad"), "2008"].item() == "no data"


@pytest.mark.parametrize("warehouse_name", PIPELINE_WAREHOUSES)
def test_pipeline_warehouse_synthetic_label(request, open_app, warehouse_name: str) -> None:
    path = warehouse(request, warehouse_name)
    con = duckdb.connect(str(path), read_only=True)
    try:
        flags = {r[0] for r in con.sql("SELECT DISTINCT is_synthetic FROM marts.fct_service_indicators").fetchall()}
    finally:
        con.close()
    at = open_app(path, PAGES["Overview"])
    # a pipeline run approves nothing: the steering committee's default view is empty until the
    # M&E lead approves a wave; the labels are checked with provisional waves included
    at.toggle(key="overview_include_provisional").set_value(True).run()
    banner = any(T.SYNTHETIC_LABEL in w.value for w in at.warning)
    if not flags:
        pytest.skip("no indicator estimates in this warehouse")
    assert banner == (True in flags)
    if False in flags:
        assert any("Real data" in i.value for i in at.info)


# --------------------------------------------------------------------------------------
# unusable warehouses give a message, not a traceback
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("title", list(PAGES))
def test_missing_warehouse_shows_error(open_app, tmp_path: Path, title: str) -> None:
    missing = tmp_path / "nowhere" / "mizan.duckdb"
    at = open_app(missing, PAGES[title])
    assert not at.exception, [e.value for e in at.exception]
    message = " ".join(e.value for e in at.error)
    assert "No warehouse found" in message and "mizan demo" in message and "mizan run" in message
    assert not missing.exists()


@pytest.mark.parametrize("title", list(PAGES))
def test_warehouse_without_marts_shows_error(open_app, tmp_path: Path, title: str) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    at = open_app(empty, PAGES[title])
    assert not at.exception, [e.value for e in at.exception]
    message = " ".join(e.value for e in at.error)
    assert "mizan demo" in message
    if title == "Data quality":
        assert "audit" in message
    else:
        assert "marts." in message


def test_corrupt_warehouse_shows_error(open_app, tmp_path: Path) -> None:
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"this is not a duckdb file" * 100)
    at = open_app(bad, PAGES["Overview"])
    assert not at.exception
    assert any("Could not open the warehouse" in e.value for e in at.error)


def test_pages_leave_no_connection_open(open_app, scratch_warehouse_copy: Path) -> None:
    for page in PAGES.values():
        at = open_app(scratch_warehouse_copy, page)
        assert not at.exception
    # a writer can open the file (DuckDB would raise while a connection of this process held it read-only)
    con = duckdb.connect(str(scratch_warehouse_copy))
    try:
        con.execute("CREATE TABLE audit.writer_probe AS SELECT 1 AS x")
        assert con.execute("SELECT count(*) FROM audit.writer_probe").fetchone() == (1,)
    finally:
        con.close()


def test_explorer_states_the_tal_afar_design(open_app, real_warehouse: Path) -> None:
    """The wave's weights and design are stated beside its estimates (equal weights, neighbourhood strata,
    each household its own PSU: issue 2, Tal Afar)."""
    at = open_app(real_warehouse, PAGES["Indicator explorer"])
    _select_explorer(at, "water_service_good", "talafar_water_2021|2021-07", "all")
    md = "\n".join(m.value for m in at.markdown)
    assert "equal weights" in md.replace("\\", "")
    assert "each household is its own PSU" in md.replace("\\", "")
    assert "**Strata · PSUs · degrees of freedom:** 42 · 632 · 590" in md.replace("\\", "")
