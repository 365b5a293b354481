"""The engine end to end (raw -> staging -> intermediate -> marts) on a case computed by hand.

Data (raw_fixtures.HAND_CASE), one governorate, question water_service_rating, indicator
water_service_good (success = excellent, good):

    resp stratum psu  w  hoh     answer      y
    r1   A       a1   2  female  good        1
    r2   A       a1   1  female  poor        0
    r3   C       c1   2  female  adequate    0
    r4   C       c1   4  female  dont_know   -   (excluded, PSU c1 stays)
    r5   C       c2   2  female  excellent   1
    r6   B       b1   1  female  good        1   (B has one PSU: no variance)
    r7   A       a2   8  male    very_poor   0

Design: PSUs a1, a2 | c1, c2 | b1 -> 5 PSUs, 3 strata, df = 2, t_{0.975,2} = 4.302652729749462.

female: sum w = 8, p = (2 + 2 + 1)/8 = 5/8. Scores z = w (y - 5/8)/8, PSU totals:
  a1 = (2*3/8 - 1*5/8)/8 = 1/64, a2 = 0 (no female there, but n_A = 2),
  c1 = 2*(-5/8)/8 = -10/64, c2 = 2*(3/8)/8 = 6/64, b1 (skipped).
  V = 2*[(1/64)^2 - (1/64)^2/2] + 2*[((-10)^2 + 6^2)/64^2 - (-4/64)^2/2] = 1/4096 + 256/4096 = 257/4096
  SE = sqrt(257)/64 = 0.25048780534189685
  logit CI: logit(5/8) -/+ 4.302652729749462 * SE / (5/8 * 3/8) -> [0.016502134287398516, 0.9939958193070448]
  n = 5, n_eff = 8^2/(4+1+4+4+1) = 32/7, deff = V/(p(1-p)/5) = 257/192, excluded = 4/(8+4) = 1/3.
all: sum w = 16, p = 5/16; PSU totals (x 1/256): a1 = 17, a2 = -40, c1 = -10, c2 = 22;
  V = 2*[(17^2 + 40^2) - 23^2/2]/256^2 + 2*[(10^2 + 22^2) - 12^2/2]/256^2 = (3249 + 1024)/65536 = 4273/65536
  SE = sqrt(4273)/256 = 0.2553444843031909, CI [0.0027259354969936126, 0.9869431460188567],
  n_eff = 256/78, excluded = 4/20.
male: r7 alone, p = 0: SE = 0, Clopper-Pearson at n_eff = 1: [0, 1 - 0.025] = [0, 0.975].
"""

from __future__ import annotations

import math

import pytest

EXPECTED = {
    # value: estimate, std_error, ci_lower, ci_upper, ci_method, n_unweighted, n_effective, design_effect, excluded_share
    "all": (0.3125, 0.2553444843031909, 0.0027259354969936126, 0.9869431460188567, "logit", 6, 256 / 78,
            (4273 / 65536) / (0.3125 * 0.6875 / 6), 0.2),
    "female": (0.625, 0.25048780534189685, 0.016502134287398516, 0.9939958193070448, "logit", 5, 32 / 7,
               257 / 192, 1 / 3),
    "male": (0.0, 0.0, 0.0, 0.975, "clopper_pearson_neff", 1, 1.0, None, 0.0),
}


@pytest.fixture(scope="module")
def hand_rows(dbt_warehouse):
    rows = dbt_warehouse.query(
        "select * from marts.fct_service_indicators where source_id = 'hand_case' "
        "and indicator_id = 'water_service_good'"
    )
    return {r.disaggregation_value: r for r in rows.itertuples()}


def test_hand_case_domains(hand_rows):
    assert set(hand_rows) == {"all", "female", "male"}
    assert hand_rows["all"].disaggregation == "all"
    assert hand_rows["female"].disaggregation == "hoh_sex"


@pytest.mark.parametrize("value", ["all", "female", "male"])
def test_hand_case_numbers(hand_rows, value):
    r = hand_rows[value]
    est, se, lo, hi, method, n, n_eff, deff, excl = EXPECTED[value]
    assert r.estimate == pytest.approx(est, abs=1e-12)
    assert r.std_error == pytest.approx(se, abs=1e-12)
    assert r.ci_lower == pytest.approx(lo, abs=1e-12)
    assert r.ci_upper == pytest.approx(hi, abs=1e-12)
    assert r.ci_method == method
    assert r.degrees_of_freedom == 2
    assert r.n_unweighted == n
    assert r.n_effective == pytest.approx(n_eff, rel=1e-12)
    if deff is None:  # p(1-p) = 0: no design effect (NULL, NaN in pandas)
        assert math.isnan(r.design_effect)
    else:
        assert r.design_effect == pytest.approx(deff, rel=1e-12)
    assert r.excluded_share == pytest.approx(excl, rel=1e-12, abs=0)
    assert r.is_suppressed and r.suppression_reason == "n < 30; effective n < 30"
    assert r.is_unreliable  # CI far wider than 30 points


def test_question_not_mapped_by_source_gives_no_rows(dbt_warehouse):
    """hand_case delivers only water_service_rating: no rows for indicators on other questions."""
    ids = set(dbt_warehouse.query(
        "select distinct indicator_id from marts.fct_service_indicators where source_id = 'hand_case'"
    )["indicator_id"])
    assert ids == {"water_service_good", "water_service_poor"}
