"""Snapshots, the 'Data as of' banner, wave approval and the run journal, on scratch layouts built
with ``pipelines.publish`` (no pipeline run needed).

Each test that moves a pointer builds its own layout under ``tmp_path`` (``publish_scratch``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import queries, ui
from dashboards import tables as T
from pipelines import publish
from scratch_warehouses import (
    APPROVER, REVOKE, SCRATCH_RUN_ID, STALE, SUPPRESSED_VALUES, UNDECIDED, build_warehouse, publish_scratch,
)
from test_dashboard_pages import PAGES, PIPELINE_WAREHOUSES, assert_no_suppressed_values, rendered_text, warehouse

RUN_A = "aaaaaaaa-1111-4111-8111-111111111111"
RUN_B = "bbbbbbbb-2222-4222-8222-222222222222"
#: demo_services 2024-01 left provisional: the other two waves approved
PROVISIONAL_2024 = {("demo_services", "2024-01"): UNDECIDED}


def _main(at: AppTest) -> list[Any]:
    """The elements of the main area, in page order (blocks left out)."""
    return [n for n in at.main if getattr(n, "type", None) not in (None, "main") and hasattr(n, "value")]


def _banner(at: AppTest) -> str:
    found = [c.value for c in at.caption if c.value.startswith("Data as of ")]
    assert len(found) == 1, found
    return found[0]


def _expected_banner(meta: dict[str, Any]) -> str:
    """Written out from the sidecar, not from the code under test."""
    when = dt.datetime.fromisoformat(meta["published_at"]).strftime("%Y-%m-%d %H:%M:%S")
    return f"Data as of {when} UTC · run `{meta['run_id'][:8]}`"


def _csv(data: bytes) -> pl.DataFrame:
    return pl.read_csv(io.StringIO(data.decode("utf-8-sig")), infer_schema=False)


# --------------------------------------------------------------------------------------
# the banner and the sidebar
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("title", list(PAGES))
def test_every_page_says_which_run_it_shows(open_app, scratch_warehouse: Path, title: str) -> None:
    snapshot = publish.current_snapshot(scratch_warehouse)
    meta = publish.snapshot_meta(snapshot)
    assert meta["run_id"] == SCRATCH_RUN_ID
    at = open_app(scratch_warehouse, PAGES[title])
    assert _banner(at) == _expected_banner(meta)
    assert _main(at)[0].value == _expected_banner(meta)  # the first element of the page
    sidebar = " ".join(n.value for n in at.sidebar if getattr(n, "type", None) == "caption")
    relative = snapshot.relative_to(scratch_warehouse.parent)
    assert f"`{relative}`" in sidebar and snapshot.parent.name in sidebar
    assert f"`{scratch_warehouse}`" in sidebar  # the pointer, as configured


@pytest.mark.parametrize("warehouse_name", PIPELINE_WAREHOUSES)
def test_pipeline_warehouse_banner_and_run_history(request, open_app, warehouse_name: str) -> None:
    """On warehouses built by ``mizan run``: the banner is the sidecar's, and the newest run of
    the history is the one that published the snapshot on screen."""
    pointer = warehouse(request, warehouse_name)
    snapshot = publish.current_snapshot(pointer)
    meta = publish.snapshot_meta(snapshot)
    assert meta, "mizan run must publish a snapshot with its sidecar"
    at = open_app(pointer, PAGES["Data quality"])
    assert _banner(at) == _expected_banner(meta)
    # `mizan status --json` reports the snapshot the dashboard shows
    status = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "status", "--json", "--warehouse", str(pointer)],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2],
    )
    reported = json.loads(status.stdout)["snapshot"]
    assert reported["path"] == str(snapshot)
    assert reported["run_id"][:8] in _banner(at) and reported["published_at"].replace("T", " ") in _banner(at)
    assert not at.warning, [w.value for w in at.warning]
    newest = at.dataframe[0].value.iloc[0]
    assert (newest["Run"], newest["Status"], newest["Recorded in"]) == (meta["run_id"], "published", T.RECORDED_SNAPSHOT)
    assert newest["Snapshot"] == queries.snapshot_identity(snapshot)["snapshot_name"][0]


def test_banner_of_a_warehouse_from_before_snapshots(open_app, tmp_path: Path) -> None:
    plain = build_warehouse(tmp_path / "mizan.duckdb")  # a plain file, never published
    at = open_app(plain, PAGES["Budget execution"])
    mtime = dt.datetime.fromtimestamp(plain.stat().st_mtime, tz=dt.UTC)
    assert _banner(at) == (
        f"Data as of {mtime:%Y-%m-%d %H:%M:%S} UTC (file modification time; this warehouse records no "
        "publishing run)"
    )


def test_no_published_snapshot_is_the_no_warehouse_error(open_app, tmp_path: Path) -> None:
    """A pointer that dangles (its snapshot deleted by hand) is reported, not a traceback."""
    pointer = tmp_path / "mizan.duckdb"
    publish_scratch(pointer, run_id=RUN_A)
    snapshot = publish.current_snapshot(pointer)
    snapshot.chmod(0o644)
    snapshot.unlink()
    at = open_app(pointer, PAGES["Overview"])
    message = " ".join(e.value for e in at.error)
    assert "No warehouse found" in message and "does not exist" in message and "mizan run" in message


# --------------------------------------------------------------------------------------
# the pointer moves
# --------------------------------------------------------------------------------------
def _baghdad_2024(at: AppTest) -> str:
    at.selectbox(key="explorer_indicator").set_value("water_service_good").run()
    at.selectbox(key="explorer_wave").set_value("demo_services|2024-01").run()
    at.selectbox(key="explorer_disaggregation").set_value("all").run()
    table = at.dataframe[0].value
    return table.loc[table["P-code"] == "IQG08", "Estimate"].item()


def test_next_render_reads_the_newly_published_snapshot(open_app, tmp_path: Path) -> None:
    """Publish twice into one layout: the same session shows the second run's banner and data on
    its next render (cached results of the first snapshot are not reused)."""
    pointer = tmp_path / "mizan.duckdb"
    first = publish_scratch(pointer, run_id=RUN_A)
    at = open_app(pointer, PAGES["Indicator explorer"])
    assert _banner(at) == _expected_banner(first)
    assert _baghdad_2024(at) == "66.0%"

    second = publish_scratch(pointer, run_id=RUN_B, estimate_shift=0.05)
    at.run()
    assert not at.exception
    assert _banner(at) == _expected_banner(second)
    assert _baghdad_2024(at) == "71.0%"
    assert at.session_state[ui.SNAPSHOT_KEY] == second["snapshot"]
    assert at.session_state[ui.POINTER_KEY] == str(pointer)


def test_a_snapshot_pruned_after_it_was_resolved_is_re_resolved(
    open_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer publishes (keeping one snapshot) right after this render resolved the pointer:
    the resolved file is gone before the page opens it. The script reruns on the new snapshot:
    its banner and data, no error, no traceback."""
    pointer = tmp_path / "mizan.duckdb"
    first = publish_scratch(pointer, run_id=RUN_A)
    real = ui.resolve_snapshot
    published: list[dict] = []

    def resolve_then_a_writer_publishes(p):
        resolved = real(p)
        if not published:  # once: a concurrent run publishes and prunes the snapshot just resolved
            published.append(publish_scratch(pointer, run_id=RUN_B, keep=1, estimate_shift=0.05))
        return resolved

    monkeypatch.setattr(ui, "resolve_snapshot", resolve_then_a_writer_publishes)
    at = open_app(pointer)
    assert not Path(first["snapshot"]).exists()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    assert _banner(at) == _expected_banner(published[0])
    assert at.session_state[ui.SNAPSHOT_KEY] == published[0]["snapshot"]
    assert at.session_state[ui.RERESOLVED_KEY] == first["snapshot"]  # the rerun was spent on it

    at.switch_page(PAGES["Indicator explorer"]).run()
    assert _baghdad_2024(at) == "71.0%"


def test_a_vanished_snapshot_without_a_newer_one_is_an_error_not_a_traceback(
    open_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pointer = tmp_path / "mizan.duckdb"
    publish_scratch(pointer, run_id=RUN_A)
    real = ui.resolve_snapshot

    def resolve_then_vanish(p):
        resolved = real(p)
        if resolved and Path(resolved).exists():
            Path(resolved).chmod(0o644)
            Path(resolved).unlink()
        return resolved

    monkeypatch.setattr(ui, "resolve_snapshot", resolve_then_vanish)
    at = open_app(pointer)
    assert not at.exception
    message = " ".join(e.value for e in at.error)
    assert "was removed while this page was reading it" in message and "mizan.snapshots/" in message


# --------------------------------------------------------------------------------------
# wave approval
# --------------------------------------------------------------------------------------
def test_queries_carry_approval_status(tmp_path: Path) -> None:
    pointer = tmp_path / "mizan.duckdb"
    publish_scratch(pointer, run_id=RUN_A, approvals={
        ("demo_services", "2023-01"): REVOKE, ("demo_services", "2024-01"): STALE,
    })
    snap = publish.current_snapshot(pointer)
    waves = queries.waves(snap)
    assert waves.select("source_id", "wave_id", "is_approved", "approval_status", "approval_by").rows() == [
        ("demo_services", "2023-01", False, "provisional (approval revoked)", APPROVER),
        ("demo_services", "2024-01", False, "provisional (files changed since approval)", APPROVER),
        ("talafar_water_2021", "2021-07", True, "approved", APPROVER),
    ]
    est = queries.service_estimates(snap)
    assert dict(est.select(pl.concat_str("source_id", "wave_id", separator="|"), "approval_status").unique().iter_rows()) == {
        "demo_services|2023-01": "provisional (approval revoked)",
        "demo_services|2024-01": "provisional (files changed since approval)",
        "talafar_water_2021|2021-07": "approved",
    }
    opts = queries.indicator_options(snap)
    assert set(opts.filter(pl.col("is_approved"))["source_id"]) == {"talafar_water_2021"}
    everything = queries.headline_summary(snap)
    assert everything.select("source_id", "wave_id", "is_approved").rows() == [
        ("demo_services", "2024-01", False), ("demo_services", "2024-01", False),
        ("talafar_water_2021", "2021-07", True),
    ]
    approved = queries.headline_summary(snap, approved_only=True)
    assert approved.select("source_id", "wave_id", "approval_status", "n_waves").rows() == [
        ("talafar_water_2021", "2021-07", "approved", 1),
    ]


def test_headline_falls_back_to_the_latest_approved_wave(tmp_path: Path) -> None:
    pointer = tmp_path / "mizan.duckdb"
    publish_scratch(pointer, run_id=RUN_A, approvals=PROVISIONAL_2024)
    snap = publish.current_snapshot(pointer)
    got = queries.headline_summary(snap, approved_only=True).select(
        "indicator_id", "source_id", "wave_id", "n_waves", "median_estimate").rows()
    # the hours indicator exists only in the provisional 2024 wave: it has no approved headline
    assert got == [
        ("water_service_good", "demo_services", "2023-01", 1, pytest.approx(0.48)),
        ("water_service_good", "talafar_water_2021", "2021-07", 1, 0.444),
    ]


def test_a_warehouse_without_approvals_makes_every_wave_provisional(legacy_warehouse: Path) -> None:
    for df in (queries.waves(legacy_warehouse), queries.service_estimates(legacy_warehouse),
               queries.indicator_options(legacy_warehouse), queries.headline_summary(legacy_warehouse)):
        assert set(df["approval_status"]) == {T.PROVISIONAL_LABEL}
        assert set(df["is_approved"]) == {False}
    assert queries.headline_summary(legacy_warehouse, approved_only=True).is_empty()


def test_overview_hides_a_provisional_wave_until_the_toggle(open_app, tmp_path: Path) -> None:
    pointer = tmp_path / "mizan.duckdb"
    publish_scratch(pointer, run_id=RUN_A, approvals=PROVISIONAL_2024)
    at = open_app(pointer, PAGES["Overview"])
    assert at.toggle(key="overview_include_provisional").value is False
    headline = at.dataframe[0].value
    assert dict(zip(headline["Source · wave"], headline["Approval"], strict=True)) == {
        "demo_services · 2023-01": "approved", "talafar_water_2021 · 2021-07": "approved",
    }
    assert "Mean hours of piped water per day" not in set(headline["Indicator"])
    text = rendered_text(at)
    assert "2024-01" not in "\n".join(at.dataframe[i].value.to_csv() for i in range(len(at.dataframe)))
    assert any("Not shown (provisional)" in c.value and "`2024-01`" in c.value for c in at.caption)
    assert not any("Includes provisional waves" in w.value for w in at.warning)
    assert "66.0%" not in text  # Baghdad 2024 is provisional

    at.toggle(key="overview_include_provisional").set_value(True).run()
    assert not at.exception
    headline = at.dataframe[0].value
    labels = dict(zip(headline["Source · wave"] + " " + headline["Indicator"], headline["Approval"], strict=True))
    assert labels == {
        "demo_services · 2024-01 Mean hours of piped water per day": "provisional",
        "demo_services · 2024-01 Municipal water service rated good or excellent": "provisional",
        "talafar_water_2021 · 2021-07 Municipal water service rated good or excellent": "approved",
    }
    assert any("Includes provisional waves" in w.value and "`2024-01` (provisional)" in w.value for w in at.warning)
    at.selectbox(key="overview_governorate").set_value("IQG08").run()
    snap = at.dataframe[1].value
    assert set(snap.loc[snap["Source · wave"] == "demo_services · 2024-01", "Approval"]) == {"provisional"}
    trend = json.loads(at.get("plotly_chart")[0].proto.spec)
    xs = {x for trace in trend["data"] for x in trace["x"]}
    assert xs == {"2023-01", "2024-01 (provisional)"}
    assert all("incl. provisional" in trace["name"] for trace in trend["data"])
    assert_no_suppressed_values(rendered_text(at), "overview with provisional waves", SUPPRESSED_VALUES)


def test_overview_explains_how_to_approve_when_nothing_is_approved(open_app, tmp_path: Path) -> None:
    pointer = tmp_path / "mizan.duckdb"
    publish_scratch(pointer, approvals={("demo_services", "2023-01"): UNDECIDED, ("demo_services", "2024-01"): UNDECIDED,
                                        ("talafar_water_2021", "2021-07"): UNDECIDED})
    at = open_app(pointer, PAGES["Overview"])
    assert not at.dataframe and not at.get("plotly_chart")
    info = " ".join(i.value for i in at.info)
    assert "No survey wave is approved yet" in info
    assert "`mizan approve --source S --wave W --by NAME`" in info
    assert any("Waves awaiting approval" in c.value and "demo_services" in c.value for c in at.caption)
    at.toggle(key="overview_include_provisional").set_value(True).run()
    assert not at.exception
    assert set(at.dataframe[0].value["Approval"]) == {"provisional"}


def test_explorer_shows_every_wave_labelled(open_app, downloads, tmp_path: Path) -> None:
    pointer = tmp_path / "mizan.duckdb"
    publish_scratch(pointer, run_id=RUN_A, approvals=PROVISIONAL_2024)
    at = open_app(pointer, PAGES["Indicator explorer"])
    at.selectbox(key="explorer_indicator").set_value("water_service_good").run()
    wave_box = at.selectbox(key="explorer_wave")
    assert wave_box.options == [
        "demo_services · 2024-01 — Demo services survey, wave 2  [SYNTHETIC demo data]  [provisional]",
        "demo_services · 2023-01 — Demo services survey, wave 1  [SYNTHETIC demo data]",
        "talafar_water_2021 · 2021-07 — Tal Afar municipal water survey  [real data]",
    ]
    downloads.clear()
    wave_box.set_value("demo_services|2024-01").run()
    at.selectbox(key="explorer_disaggregation").set_value("hoh_sex").run()
    assert set(at.dataframe[0].value["Approval"]) == {"provisional"}
    assert any(w.value.startswith("**Provisional**") and "mizan approve" in w.value for w in at.warning)
    title = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["title"]["text"]
    assert title.endswith("— provisional")
    export = _csv(downloads.estimates)
    assert export.columns[:7] == ["indicator_id", "indicator_name", "unit", "source_id", "wave_id", "data", "approval_status"]
    assert set(export["approval_status"]) == {"provisional"}
    assert_no_suppressed_values(downloads.estimates.decode("utf-8-sig"), "provisional CSV", SUPPRESSED_VALUES)
    md = "\n".join(m.value for m in at.markdown).replace("\\", "")
    assert "**Approval:** provisional" in md

    downloads.clear()
    at.selectbox(key="explorer_wave").set_value("demo_services|2023-01").run()
    assert set(at.dataframe[0].value["Approval"]) == {"approved"}
    assert set(_csv(downloads.estimates)["approval_status"]) == {"approved"}
    assert not any("Provisional" in w.value for w in at.warning)
    md = "\n".join(m.value for m in at.markdown).replace("\\", "")
    assert f"**Approval:** approved; last decision: approved by {APPROVER} on 2024-05-03 12:00:00" in md


# --------------------------------------------------------------------------------------
# runs after the snapshot: the journal
# --------------------------------------------------------------------------------------
FAILURE = "dbt test accepted_values_fct_service_indicators_ci_method failed (3 rows)"


def test_data_quality_shows_a_failed_run_after_the_snapshot(open_app, tmp_path: Path) -> None:
    pointer = tmp_path / "mizan.duckdb"
    meta = publish_scratch(pointer, run_id=RUN_A)
    failed_at = publish.utcnow() + dt.timedelta(seconds=5)
    publish.append_journal(publish.Layout.of(pointer), {
        "run_id": RUN_B, "kind": "run", "status": "failed", "started_at": failed_at.isoformat(timespec="seconds"),
        "finished_at": failed_at.isoformat(timespec="seconds"), "data_dir": "/data/landing", "message": FAILURE,
        "files_json": json.dumps([{"source_id": "demo_services", "file_name": "demo_2025.csv",
                                   "file_sha256": "f" * 64, "outcome": "new", "supersedes_sha256": None}]),
        "rows_read": 400, "rows_loaded": 400, "rows_excluded": 0, "rows_quarantined": 0,
        "tests_passed": 41, "tests_failed": 1,
    })
    at = open_app(pointer, PAGES["Data quality"])
    published = dt.datetime.fromisoformat(meta["published_at"]).strftime("%Y-%m-%d %H:%M:%S")
    expected = (
        f"The last run `{RUN_B}` at {failed_at:%Y-%m-%d %H:%M:%S} UTC failed: {FAILURE}. "
        f"Showing the last good snapshot (run `{RUN_A[:8]}`, published {published} UTC)."
    )
    warnings = [w.value.replace("\\", "") for w in at.warning]
    assert expected in warnings
    main = _main(at)
    assert [main[1].type, main[2].type] == ["title", "warning"]  # right under the banner and the title
    assert main[2].value.replace("\\", "") == expected
    history = at.dataframe[0].value
    assert list(history["Run"]) == [RUN_B, RUN_A, "run-002", "run-001"]
    newest = history.iloc[0]
    assert (newest["Status"], newest["Message"], newest["Recorded in"], newest["Files"], newest["Snapshot"]) == (
        "failed", FAILURE, T.RECORDED_JOURNAL, "1: ffffffff", T.DASH)
    assert (newest["Read"], newest["Loaded"], newest["Tests passed"], newest["Tests failed"]) == (400, 400, 41, 1)
    assert set(history["Recorded in"][1:]) == {T.RECORDED_SNAPSHOT}
    assert history.iloc[1]["Snapshot"] == Path(meta["snapshot"]).parent.name
    # the banner still names the snapshot on screen, and other pages are unaffected
    assert _banner(at) == _expected_banner(meta)


def test_no_warning_once_a_later_run_published(open_app, tmp_path: Path) -> None:
    """A failure followed by a good run: the newest journal entry published, nothing to warn
    about; the failed run shows in the history from the new snapshot's run log or the journal."""
    pointer = tmp_path / "mizan.duckdb"
    first = publish_scratch(pointer, run_id=RUN_A)
    publish.append_journal(publish.Layout.of(pointer), {
        "run_id": "cccccccc-3333-4333-8333-333333333333", "kind": "run", "status": "did not finish",
        "finished_at": (first["record"]["finished_at"] + dt.timedelta(milliseconds=1)).isoformat(),
        "message": "process killed",
    })
    publish_scratch(pointer, run_id=RUN_B)
    at = open_app(pointer, PAGES["Data quality"])
    assert not at.warning
    history = at.dataframe[0].value
    assert list(history["Run"])[:3] == [RUN_B, "cccccccc-3333-4333-8333-333333333333", RUN_A]
    assert history.iloc[1]["Status"] == "did not finish" and history.iloc[1]["Message"] == "process killed"
    assert set(history["Recorded in"]) == {T.RECORDED_SNAPSHOT}  # carried into the new snapshot


def test_run_history_merges_journal_and_run_log() -> None:
    run_log = pl.DataFrame(
        {"run_id": ["r2", "r1"], "status": ["published", "published"],
         "finished_at": [dt.datetime(2024, 5, 2), dt.datetime(2024, 5, 1)]},
    )
    journal = [
        {"run_id": "r1", "status": "published", "finished_at": "2024-05-01T00:00:00"},
        {"run_id": "r2", "status": "published", "finished_at": "2024-05-02T00:00:00"},
        {"run_id": "r3", "status": "failed", "finished_at": "2024-05-03T00:00:00", "message": "boom",
         "files_json": [{"file_sha256": "ab" * 32}]},
        {"run_id": "r4", "status": "did not finish", "message": "killed"},  # no time: newest
    ]
    hist = T.run_history(run_log, journal)
    assert hist.select("run_id", "recorded_in").rows() == [
        ("r4", T.RECORDED_JOURNAL), ("r3", T.RECORDED_JOURNAL), ("r2", T.RECORDED_SNAPSHOT),
        ("r1", T.RECORDED_SNAPSHOT),
    ]
    assert T.run_history_display(hist)["Files"].to_list() == [T.DASH, "1: abababab", T.DASH, T.DASH]
    assert T.failed_after_snapshot(journal)["run_id"] == "r4"
    assert T.failed_after_snapshot(journal[:3])["message"] == "boom"
    # an approval published after the failed run does not hide it (the data are still the last good run's)
    approval = {"run_id": "a1", "kind": "approval", "status": "published", "finished_at": "2024-05-04T00:00:00"}
    assert T.failed_after_snapshot([*journal[:3], approval])["run_id"] == "r3"
    assert T.failed_after_snapshot(journal[:2]) is None
    assert T.failed_after_snapshot([]) is None
