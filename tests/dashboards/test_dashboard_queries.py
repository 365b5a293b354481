"""The dashboard's query layer (plain Python) and its snapshot-keyed cache, on the scratch warehouse."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dashboards import data, queries
from dashboards import tables as T
from dashboards.ui import resolve_warehouse_path
from pipelines import publish

from scratch_warehouses import SCRATCH_RUN_ID, SHA_2024, SHA_2024_V0, publish_scratch

MASKED = ["estimate", "std_error", "ci_lower", "ci_upper"]
#: Every statistic derived from the answers: blank for a suppressed cell (ci_method and a NULL
#: design_effect would reveal p̂ = 0 or 1; see issue "suppressed cells leak p̂ = 0 or 1").
DERIVED = [
    *MASKED, "ci_method", "degrees_of_freedom", "n_effective", "design_effect", "excluded_share",
    "is_unreliable",
]


def _row(df: pl.DataFrame, **where) -> dict:
    out = df.filter(pl.all_horizontal(pl.col(k) == v for k, v in where.items()))
    assert out.height == 1, f"expected one row for {where}, got {out.height}"
    return out.row(0, named=True)


# --------------------------------------------------------------------------------------
# service indicators
# --------------------------------------------------------------------------------------
def test_service_estimates_blanks_suppressed_cells(scratch_warehouse: Path) -> None:
    df = queries.service_estimates(scratch_warehouse)
    assert df.height == 22  # 17 governorate cells + 5 national (IQ)
    suppressed = df.filter(pl.col("is_suppressed"))
    assert sorted(
        zip(suppressed["indicator_id"], suppressed["wave_id"], suppressed["governorate_pcode"],
            suppressed["disaggregation_value"], strict=True)
    ) == [
        ("water_piped_hours_mean", "2024-01", "IQG02", "all"),
        ("water_service_good", "2023-01", "IQG02", "all"),
        ("water_service_good", "2024-01", "IQG15", "female"),
    ]
    for col in DERIVED:
        assert suppressed[col].null_count() == suppressed.height, col
    basra = _row(df, indicator_id="water_service_good", wave_id="2023-01", governorate_pcode="IQG02")
    # what explains the suppression stays visible; nothing computed from the answers does
    assert (basra["n_unweighted"], basra["is_suppressed"], basra["suppression_reason"]) == (12, True, "n < 30")
    assert [basra[c] for c in DERIVED] == [None] * len(DERIVED)
    assert basra["name_en"] == "Al-Basrah" and basra["name_ar"] == "البصرة"


def test_service_estimates_published_values_and_filters(scratch_warehouse: Path) -> None:
    df = queries.service_estimates(
        scratch_warehouse, indicator_id="water_service_good", source_id="demo_services",
        wave_id="2024-01", disaggregation="all",
    )
    # the national estimate first, then the governorates by name
    assert df["name_en"].to_list() == ["Iraq (national)", "Al-Basrah", "Baghdad", "Erbil", "Ninewa"]
    assert df["area_level"].to_list() == ["national"] + ["governorate"] * 4
    assert df["estimate"].to_list() == [0.60, 0.58, 0.66, 0.77, 0.52]
    baghdad = _row(df, governorate_pcode="IQG08")
    assert (baghdad["ci_lower"], baghdad["ci_upper"], baghdad["std_error"]) == (0.603, 0.713, 0.028)
    assert (baghdad["indicator_type"], baghdad["unit"], baghdad["wave_order"]) == ("proportion", "proportion", 2)
    assert df["is_synthetic"].all()

    erbil_2023 = _row(
        queries.service_estimates(scratch_warehouse, wave_id="2023-01", governorate_pcode="IQG11"),
        indicator_id="water_service_good",
    )
    assert erbil_2023["is_unreliable"] is True and erbil_2023["estimate"] == 0.35

    real = queries.service_estimates(scratch_warehouse, source_id="talafar_water_2021")
    assert real.select("governorate_pcode", "estimate", "is_synthetic").rows() == [("IQG15", 0.444, False)]


def test_unknown_suppression_flag_is_treated_as_suppressed(scratch_warehouse_copy: Path) -> None:
    con = duckdb.connect(str(scratch_warehouse_copy))
    con.execute(
        "UPDATE marts.fct_service_indicators SET is_suppressed = NULL "
        "WHERE source_id = 'talafar_water_2021'"
    )
    con.close()
    row = queries.service_estimates(scratch_warehouse_copy, source_id="talafar_water_2021").row(0, named=True)
    assert row["is_suppressed"] is True
    assert [row[c] for c in MASKED] == [None] * 4
    summary = queries.headline_summary(scratch_warehouse_copy)
    talafar = _row(summary, source_id="talafar_water_2021")
    assert talafar["n_governorates"] == 0 and talafar["median_estimate"] is None


def test_headline_summary_latest_wave_per_source(scratch_warehouse: Path) -> None:
    df = queries.headline_summary(scratch_warehouse)
    got = df.select(
        "indicator_id", "source_id", "wave_id", "n_waves", "is_synthetic", "n_governorates",
        "n_suppressed", "n_unreliable", "median_estimate", "min_estimate", "max_estimate",
    ).rows()
    assert got == [
        ("water_piped_hours_mean", "demo_services", "2024-01", 1, True, 3, 1, 0, 14.25, 9.75, 18.2),
        ("water_service_good", "demo_services", "2024-01", 2, True, 4, 0, 0, pytest.approx(0.62), 0.52, 0.77),
        ("water_service_good", "talafar_water_2021", "2021-07", 1, False, 1, 0, 0, 0.444, 0.444, 0.444),
    ]


def test_indicator_options(scratch_warehouse: Path) -> None:
    df = queries.indicator_options(scratch_warehouse)
    # cells include the national one (IQ); a distribution counts once per area (hidden whole)
    assert df.select("indicator_id", "indicator_type", "source_id", "wave_id", "disaggregation", "n_cells",
                     "n_published").rows() == [
        ("water_piped_hours_mean", "mean", "demo_services", "2024-01", "all", 5, 4),
        ("water_service_good", "proportion", "demo_services", "2024-01", "all", 5, 5),
        ("water_service_good", "proportion", "demo_services", "2024-01", "hoh_sex", 6, 5),
        ("water_service_good", "proportion", "demo_services", "2023-01", "all", 5, 4),
        ("water_service_good", "proportion", "talafar_water_2021", "2021-07", "all", 1, 1),
        ("water_service_rating_distribution", "distribution", "demo_services", "2024-01", "all", 5, 3),
    ]


def test_dimensions(scratch_warehouse: Path) -> None:
    areas = queries.governorates(scratch_warehouse)
    assert areas.select("governorate_pcode", "area_level").rows() == [
        ("IQG02", "governorate"), ("IQG08", "governorate"), ("IQG11", "governorate"), ("IQ", "national"),
        ("IQG15", "governorate"),
    ]  # by English name: "Iraq (national)" sorts between Erbil and Ninewa
    ind = queries.indicators(scratch_warehouse)
    assert ind["indicator_id"].to_list() == [
        "water_piped_hours_mean", "water_service_good", "water_service_rating_distribution"]
    assert _row(ind, indicator_id="water_service_good")["disaggregations"] == ["all", "hoh_sex"]
    assert queries.waves(scratch_warehouse).select("source_id", "wave_id").rows() == [
        ("demo_services", "2023-01"), ("demo_services", "2024-01"), ("talafar_water_2021", "2021-07"),
    ]


def test_sparse_warehouse_has_no_hoh_sex_and_no_trend(sparse_warehouse: Path) -> None:
    opts = queries.indicator_options(sparse_warehouse)
    assert set(opts["disaggregation"]) == {"all"}
    assert queries.headline_summary(sparse_warehouse)["n_waves"].max() == 1
    assert queries.budget_execution(sparse_warehouse).is_empty()
    assert queries.quarantine_by_reason(sparse_warehouse).is_empty()


# --------------------------------------------------------------------------------------
# budget
# --------------------------------------------------------------------------------------
def test_budget_execution(scratch_warehouse: Path) -> None:
    df = queries.budget_execution(scratch_warehouse)
    assert df.height == 9
    assert set(queries.BUDGET_COLUMNS) <= set(df.columns)
    ninewa = queries.budget_execution(scratch_warehouse, source_id="sigir_provincial_capital").filter(
        pl.col("governorate_pcode") == "IQG15"
    )
    assert ninewa.select("fiscal_year", "allocation", "expenditure", "execution_rate", "execution_rate_source").rows() == [
        (2007, 50.0, 20.0, 0.40, "published"),
        (2008, 60.0, 33.0, 0.55, "published"),
        (2009, 70.0, 49.0, 0.70, "published"),
    ]
    assert queries.budget_execution(scratch_warehouse, budget_scope="total")["source_id"].unique().to_list() == ["demo_budget"]


def test_budget_without_execution_rate_source_column(scratch_warehouse_copy: Path) -> None:
    con = duckdb.connect(str(scratch_warehouse_copy))
    con.execute("ALTER TABLE marts.fct_budget_execution DROP COLUMN execution_rate_source")
    con.close()
    df = queries.budget_execution(scratch_warehouse_copy)
    assert df.height == 9 and df["execution_rate_source"].null_count() == 9


def test_budget_matrix_shows_missing_years_as_no_data(scratch_warehouse: Path) -> None:
    sigir = queries.budget_execution(scratch_warehouse, source_id="sigir_provincial_capital")
    m = T.budget_matrix(sigir)
    assert m["years"] == [2007, 2008, 2009]
    assert m["governorates"] == ["Baghdad · بغداد", "Ninewa · نينوى"]
    assert m["z"] == [[45.0, None, 75.0], [40.0, 55.0, 70.0]]
    assert m["text"][0] == ["45.0%", "no data", "75.0%"]
    demo = T.budget_matrix(queries.budget_execution(scratch_warehouse, source_id="demo_budget"))
    assert demo["text"] == [["70.0%", "no budget law", "80.0%"], ["75.0%", "no budget law", "no rate"]]


# --------------------------------------------------------------------------------------
# audit
# --------------------------------------------------------------------------------------
def test_run_log(scratch_warehouse: Path) -> None:
    df = queries.run_log(scratch_warehouse)
    assert df.columns == list(queries.RUN_LOG_COLUMNS)
    assert df.select("run_id", "kind", "status", "duration_seconds").rows() == [
        (SCRATCH_RUN_ID, "run", "published", 240), ("run-002", "run", "failed", 60),
        ("run-001", "run", "published", 270),
    ]
    failed = _row(df, run_id="run-002")
    assert (failed["message"], failed["tests_failed"], failed["snapshot"]) == (
        "dbt test not_null_fct_budget_execution_allocation failed (1 row)", 1, None)
    assert queries.run_log(scratch_warehouse, limit=1).height == 1


def test_run_log_of_a_legacy_warehouse(legacy_warehouse: Path) -> None:
    """Columns the old run log lacks are NULL; order and durations as before."""
    df = queries.run_log(legacy_warehouse)
    assert df.columns == list(queries.RUN_LOG_COLUMNS)
    assert df.select("run_id", "status", "duration_seconds").rows() == [("run-002", "failed", 60), ("run-001", "success", 270)]
    assert df["files_json"].null_count() == 2 and df["kind"].null_count() == 2


def test_file_registry_row_accounting(scratch_warehouse: Path) -> None:
    df = queries.file_registry(scratch_warehouse)
    assert df.select("file_name", "unit", "status", "superseded_by", "rows_unaccounted", "accounting_ok").rows() == [
        ("demo_budget.csv", "2021–2023 × 2 governorates", "active", None, 1, False),
        ("demo_2024.csv", "2024-01", "active", None, 0, True),
        ("export.csv", "2021-07", "active", None, 0, True),
        ("demo_2024_v0.csv", "2024-01", "superseded", SHA_2024, 0, True),
        ("demo_2023.csv", "2023-01", "active", None, 0, True),
    ]
    assert all(len(s) == 64 for s in df["file_sha256"])
    assert _row(df, file_name="demo_2024_v0.csv")["archive_path"].endswith(f"{SHA_2024_V0}/demo_2024_v0.csv")
    assert queries.file_registry(scratch_warehouse, run_id="run-001").height == 3
    display = T.file_registry_display(df)
    v0 = _row(display, File="demo_2024_v0.csv")
    assert (v0["Status"], v0["Superseded by"], v0["Unit"], v0["Superseded rows"]) == (
        "superseded", SHA_2024[:8], "2024-01", 405)


def test_file_registry_of_a_legacy_warehouse(legacy_warehouse: Path) -> None:
    df = queries.file_registry(legacy_warehouse)
    assert df.height == 4 and df["status"].null_count() == 4 and df["archive_path"].null_count() == 4
    assert _row(df, file_name="demo_budget.csv")["accounting_ok"] is False
    assert set(T.file_registry_display(df)["Status"]) == {T.DASH}


def test_file_deliveries_latest_run_by_default(scratch_warehouse: Path) -> None:
    latest = queries.file_deliveries(scratch_warehouse)
    assert set(latest["run_id"]) == {SCRATCH_RUN_ID}
    assert latest.select("file_name", "outcome").rows() == [
        ("demo_budget.csv", "new"),
        ("demo_2023.csv", "unchanged: already registered"),
        ("demo_2024.csv", f"new, corrects an earlier delivery: supersedes demo_2024_v0.csv ({SHA_2024_V0[:12]}…)"),
        ("export (copy).csv", "same content as export.csv (registered 2024-05-01 10:03): loaded once"),
    ]
    assert _row(latest, file_name="demo_2024.csv")["supersedes_sha256"] == SHA_2024_V0
    assert queries.file_deliveries(scratch_warehouse, run_id="run-001")["outcome"].to_list() == ["new"] * 3
    shown = T.deliveries_display(latest)
    assert _row(shown, File="demo_2024.csv")["Supersedes"] == SHA_2024_V0[:8]


def test_quarantine_exclusions_dropped_skipped(scratch_warehouse: Path) -> None:
    assert queries.quarantine_by_reason(scratch_warehouse).rows() == [
        ("demo_services", "weight", "weight must be > 0", 3, 3),
        ("demo_budget", "allocation", "not a number", 1, 1),
        ("demo_services", "governorate", "unknown governorate", 1, 1),
    ]
    assert queries.quarantine_by_reason(scratch_warehouse, run_id=SCRATCH_RUN_ID)["reason"].to_list() == ["not a number"]
    sample = queries.quarantine_sample(scratch_warehouse, limit=2)
    assert sample.select("file_name", "row_number", "column_name").rows() == [
        ("demo_budget.csv", 4, "allocation"), ("demo_2023.csv", 5, "weight"),
    ]
    ex = queries.exclusions_by_reason(scratch_warehouse)
    assert ex.is_empty() and ex.columns == ["source_id", "reason", "n_rows", "n_files"]
    assert queries.dropped_columns(scratch_warehouse)["column_name"].to_list() == ["phone_number", "respondent_name"]
    assert queries.skipped_sources(scratch_warehouse).rows() == [
        ("run-001", "/data/landing/surveys/unknown_firm_2022", "no mapping file")
    ]
    assert queries.skipped_sources(scratch_warehouse, run_id="run-002").is_empty()


# --------------------------------------------------------------------------------------
# connections, snapshot, cache
# --------------------------------------------------------------------------------------
def test_missing_tables(scratch_warehouse: Path, tmp_path: Path) -> None:
    assert queries.missing_tables(scratch_warehouse, queries.SERVICE_TABLES + queries.AUDIT_TABLES) == []
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert queries.missing_tables(empty, queries.SERVICE_TABLES) == list(queries.SERVICE_TABLES)


def test_missing_file_raises_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nope.duckdb"
    with pytest.raises(queries.WarehouseNotFound):
        queries.run_log(missing)
    assert not missing.exists()
    assert queries.snapshot_version(missing) is None


def test_queries_leave_no_connection_open(scratch_warehouse_copy: Path) -> None:
    for name, fn in queries.QUERIES.items():
        assert fn(scratch_warehouse_copy) is not None, name
    # DuckDB refuses a read-write connection in this process while any read-only one is open.
    con = duckdb.connect(str(scratch_warehouse_copy))
    try:
        con.execute("CREATE TABLE audit.writer_probe AS SELECT 1 AS x")
        assert con.execute("SELECT count(*) FROM audit.writer_probe").fetchone() == (1,)
    finally:
        con.close()


def test_snapshot_version_changes_when_rebuilt(scratch_warehouse_copy: Path) -> None:
    before = queries.snapshot_version(scratch_warehouse_copy)
    st = scratch_warehouse_copy.stat()
    os.utime(scratch_warehouse_copy, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert queries.snapshot_version(scratch_warehouse_copy) != before


def test_cache_is_keyed_by_snapshot(bare_session, scratch_warehouse_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain warehouse file rewritten in place (a warehouse from before snapshots): its
    modification time and size key the cache."""
    bare_session("admin")
    calls: list[str] = []
    real = queries.QUERIES["run_log"]

    def counting(path, **kw):
        calls.append(str(path))
        return real(path, **kw)

    monkeypatch.setitem(queries.QUERIES, "run_log", counting)
    path = str(scratch_warehouse_copy)
    first = data.load("run_log", path)
    again = data.load("run_log", path)
    assert first.equals(again) and len(calls) == 1  # second call served from cache

    con = duckdb.connect(path)  # the old pipeline rewrote the file in place
    con.execute(
        "INSERT INTO audit.run_log (run_id, started_at, finished_at, status) "
        "VALUES ('run-003', '2099-06-01 08:00:00', '2099-06-01 08:02:00', 'published')"
    )
    con.close()
    st = scratch_warehouse_copy.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # coarse-mtime filesystems
    fresh = data.load("run_log", path)
    assert len(calls) == 2
    assert fresh["run_id"].to_list()[0] == "run-003"
    # cached results hold no connection either
    duckdb.connect(path).close()


def test_cache_follows_the_pointer_to_each_new_snapshot(bare_session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two publishes behind one pointer: each snapshot is its own cache entry (path + SHA-256),
    so the second read of the new snapshot comes from the cache and never shows the old data."""
    bare_session("admin")


    calls: list[str] = []
    real = queries.QUERIES["service_estimates"]
    monkeypatch.setitem(queries.QUERIES, "service_estimates",
                        lambda path, **kw: calls.append(str(path)) or real(path, **kw))
    pointer = tmp_path / "mizan.duckdb"
    publish_scratch(pointer, run_id="aaaaaaaa-0000-4000-8000-000000000001")
    first = str(publish.current_snapshot(pointer))
    key = {"indicator_id": "water_service_good", "wave_id": "2024-01", "governorate_pcode": "IQG08",
           "disaggregation": "all"}
    assert data.load("service_estimates", first, **key)["estimate"].to_list() == [0.66]
    publish_scratch(pointer, run_id="bbbbbbbb-0000-4000-8000-000000000002", estimate_shift=0.05)
    second = str(publish.current_snapshot(pointer))
    assert second != first
    assert queries.snapshot_version(second).endswith("+sha" + publish.snapshot_meta(second)["sha256"])
    assert data.load("service_estimates", second, **key)["estimate"].to_list() == [0.71]
    assert data.load("service_estimates", second, **key)["estimate"].to_list() == [0.71]
    assert calls == [first, second]


def test_snapshot_identity(scratch_warehouse: Path, legacy_warehouse: Path, tmp_path: Path) -> None:
    snap = publish.current_snapshot(scratch_warehouse)
    meta = publish.snapshot_meta(snap)
    ident = queries.snapshot_identity(snap).row(0, named=True)
    assert (ident["run_id"], ident["origin"], ident["sha256"]) == (SCRATCH_RUN_ID, "sidecar", meta["sha256"])
    assert ident["published_at"].isoformat() == meta["published_at"]
    assert ident["snapshot_name"] == queries.run_log(snap, limit=1)["snapshot"][0]  # as the run log names it

    # no sidecar: the snapshot names itself in audit.snapshot
    bare = tmp_path / "copy.duckdb"
    bare.write_bytes(snap.read_bytes())
    ident = queries.snapshot_identity(bare).row(0, named=True)
    assert (ident["run_id"], ident["origin"]) == (SCRATCH_RUN_ID, "audit.snapshot")

    # neither: the file's modification time, no run
    ident = queries.snapshot_identity(legacy_warehouse).row(0, named=True)
    assert (ident["run_id"], ident["origin"], ident["snapshot_name"]) == (None, "file mtime", "mizan.duckdb")
    with pytest.raises(queries.WarehouseNotFound):
        queries.snapshot_identity(tmp_path / "nope.duckdb")


def test_a_pruned_snapshot_is_not_found_not_a_duckdb_error(bare_session, tmp_path: Path) -> None:
    """A snapshot removed after it was resolved raises WarehouseNotFound (the dashboard then
    re-resolves the pointer), never a raw DuckDB error or an empty new file."""
    bare_session("admin")


    pointer = tmp_path / "mizan.duckdb"
    publish_scratch(pointer, run_id="aaaaaaaa-0000-4000-8000-000000000001")
    old = publish.current_snapshot(pointer)
    publish_scratch(pointer, run_id="bbbbbbbb-0000-4000-8000-000000000002", keep=1)
    assert not old.exists()
    for name in ("run_log", "service_estimates", "snapshot_identity"):
        with pytest.raises(queries.WarehouseNotFound):
            queries.QUERIES[name](old)
        with pytest.raises(queries.WarehouseNotFound):
            data.load(name, str(old))
    assert not old.exists()


def test_cached_load_of_missing_file(bare_session, tmp_path: Path) -> None:
    bare_session("admin")
    with pytest.raises(queries.WarehouseNotFound):
        data.load("run_log", str(tmp_path / "nope.duckdb"))


def test_resolve_warehouse_path(tmp_path: Path) -> None:
    cli = resolve_warehouse_path(["--warehouse", str(tmp_path / "a.duckdb")], {"MIZAN_WAREHOUSE": "/x/b.duckdb"})
    assert cli == tmp_path / "a.duckdb"
    assert resolve_warehouse_path([], {"MIZAN_WAREHOUSE": "/x/b.duckdb"}) == Path("/x/b.duckdb")
    assert resolve_warehouse_path(["-q", "tests"], {}) == Path.cwd() / "warehouse" / "mizan.duckdb"
    assert resolve_warehouse_path(["--warehouse"], {}) == Path.cwd() / "warehouse" / "mizan.duckdb"


# --------------------------------------------------------------------------------------
# formatting and export
# --------------------------------------------------------------------------------------
def test_formatting() -> None:
    assert T.fmt_value(0.4213, "proportion", "proportion") == "42.1%"
    assert T.fmt_value(12.34, "mean", "hours/day") == "12.3 h/day"
    assert T.fmt_ci(0.35, 0.4931, "proportion") == "35.0–49.3%"
    assert T.fmt_se(0.0211, "proportion") == "2.1 pts"
    assert T.fmt_value(None, "proportion") == "–"
    assert T.status_label(True, "n < 30", False) == "suppressed (n < 30)"
    assert T.status_label(False, None, True).endswith("unreliable (wide CI)")
    assert T.data_label(True) == "SYNTHETIC demo data" and T.data_label(False) == "real data"
    assert T.gov_label("Baghdad", "بغداد") == "Baghdad · بغداد"


def test_export_blanks_suppressed_even_if_given_values(scratch_warehouse: Path) -> None:
    rows = queries.service_estimates(scratch_warehouse, indicator_id="water_service_good", wave_id="2023-01")
    # simulate a caller that bypassed the query layer's masking
    unmasked = rows.with_columns(
        pl.when(pl.col("is_suppressed")).then(0.123456).otherwise(pl.col(c)).alias(c) for c in MASKED
    )
    csv = T.to_csv_bytes(T.estimates_export(unmasked)).decode("utf-8-sig")
    assert "0.123456" not in csv
    assert "suppressed (n < 30)" in csv and "SYNTHETIC demo data" in csv
    assert csv.splitlines()[0].startswith("indicator_id,indicator_name")
    display = T.estimates_display(unmasked)
    assert "12.3%" not in display.write_csv()
