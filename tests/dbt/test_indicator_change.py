"""marts.fct_indicator_change on the pipeline-built demo warehouse (two waves): every comparable pair is
recomputed here by hand from the two published estimates, with scipy's t quantile as the reference."""

from __future__ import annotations

import math

import duckdb
import pytest
from scipy import stats


def rows(warehouse, sql: str) -> list[dict]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()


@pytest.fixture(scope="module")
def pairs(demo_warehouse) -> list[dict]:
    return rows(demo_warehouse, """
        SELECT c.*, a.estimate AS a_est, a.std_error AS a_se, a.degrees_of_freedom AS a_df, a.is_suppressed AS a_sup,
               b.estimate AS b_est, b.std_error AS b_se, b.degrees_of_freedom AS b_df, b.is_suppressed AS b_sup
        FROM marts.fct_indicator_change c
        JOIN marts.fct_service_indicators a ON a.wave_id = c.wave_from AND a.indicator_id = c.indicator_id
             AND a.source_id = c.source_id AND a.governorate_pcode = c.governorate_pcode
             AND a.disaggregation = c.disaggregation AND a.disaggregation_value = c.disaggregation_value
        JOIN marts.fct_service_indicators b ON b.wave_id = c.wave_to AND b.indicator_id = c.indicator_id
             AND b.source_id = c.source_id AND b.governorate_pcode = c.governorate_pcode
             AND b.disaggregation = c.disaggregation AND b.disaggregation_value = c.disaggregation_value
    """)


def test_every_indicator_and_governorate_pair_of_consecutive_waves_is_there(demo_warehouse, pairs):
    # every cell of 2025 that 2024 also has (a small group, e.g. returnees of a governorate, may be absent
    # from one wave's sample)
    n_cells = rows(demo_warehouse, """
        SELECT count(*) AS n FROM marts.fct_service_indicators b
        JOIN marts.fct_service_indicators a USING (indicator_id, source_id, governorate_pcode, disaggregation,
                                                    disaggregation_value)
        WHERE b.wave_id = '2025' AND a.wave_id = '2024'""")[0]["n"]
    # the national survey's 2025 cells (firm B's only wave is also 2025: it has no earlier wave to pair with)
    n_2025 = rows(demo_warehouse, "SELECT count(*) AS n FROM marts.fct_service_indicators WHERE wave_id = '2025' "
                                  "AND source_id = 'mizan_demo_national'")[0]["n"]
    assert len(pairs) == n_cells > 0.95 * n_2025
    assert {(p["wave_from"], p["wave_to"]) for p in pairs} == {("2024", "2025")}


def test_difference_se_ci_and_significance_by_hand(pairs):
    comparable = [p for p in pairs if p["not_comparable_reason"] is None]
    assert len(comparable) > 50 and any(p["is_significant"] for p in comparable) and not all(p["is_significant"] for p in comparable)
    for p in comparable:
        diff = p["b_est"] - p["a_est"]
        if p["a_se"] == 0 or p["b_se"] == 0:  # a wave at 0 % or 100 %: MOVER (unit test in fct_indicator_change.yml)
            assert p["ci_method"] == "mover" and p["std_error"] is None
            continue
        assert p["ci_method"] == "t"
        se = math.sqrt(p["a_se"] ** 2 + p["b_se"] ** 2)
        t = stats.t.ppf(0.975, min(p["a_df"], p["b_df"]))
        assert p["difference"] == pytest.approx(diff, abs=1e-12)
        assert p["std_error"] == pytest.approx(se, rel=1e-12)
        assert p["ci_lower"] == pytest.approx(diff - t * se, abs=1e-9)
        assert p["ci_upper"] == pytest.approx(diff + t * se, abs=1e-9)
        assert p["is_significant"] == (diff - t * se > 0 or diff + t * se < 0)


def test_a_pair_with_a_suppressed_cell_carries_no_number(pairs):
    hidden = [p for p in pairs if p["a_sup"] or p["b_sup"]]
    assert hidden, "the demo has suppressed cells"
    for p in hidden:
        assert p["not_comparable_reason"].startswith("suppressed in")
        assert (p["difference"], p["std_error"], p["ci_lower"], p["ci_upper"], p["is_significant"],
                p["estimate_from"], p["estimate_to"]) == (None,) * 7
