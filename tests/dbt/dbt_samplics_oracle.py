"""samplics TaylorEstimator as the reference for the dbt survey engine (DESIGN.md "Statistics").

Item non-response and domains follow DESIGN.md: every respondent of the wave is passed (so every PSU
stays in the variance), y is filled with 1 outside "answered and in the domain" (a fill of 0 can make
samplics divide by zero), that condition is passed as ``domain=`` and the True cell is read.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # samplics warns that it is archived
    from samplics import TaylorEstimator
    from samplics.utils.types import PopParam, SinglePSUEst


def indicator_y(codes: pd.Series, numeric: pd.Series, indicator: dict[str, Any], question: dict[str, Any],
                category: str | None = None) -> np.ndarray:
    """y as the engine defines it: proportion 1/0/NaN from the codes (a distribution: 1 for ``category``),
    mean = the numeric answer."""
    if indicator["indicator_type"] in ("proportion", "distribution"):
        success = codes.isin([category] if indicator["indicator_type"] == "distribution" else indicator["success_codes"])
        other = codes.isin(question["choice_codes"]) & ~success
        return np.where(success, 1.0, np.where(other, 0.0, np.nan))
    return numeric.to_numpy(dtype=float, na_value=np.nan)


def taylor(y: np.ndarray, weight: np.ndarray, stratum: np.ndarray, psu: np.ndarray, in_domain: np.ndarray,
           param: str, single_psu: SinglePSUEst = SinglePSUEst.skip,
           strata_comb: dict[str, str] | None = None) -> dict[str, float]:
    """Estimate over ``in_domain & ~isnan(y)`` keeping every unit in the design; returns the True cell.

    ``single_psu``: samplics' rule for strata with one PSU (skip, certainty: the units become the PSUs,
    combine: the strata of ``strata_comb`` are relabelled)."""
    y = np.asarray(y, dtype=float)
    mask = np.asarray(in_domain, dtype=bool) & ~np.isnan(y)
    y_filled = np.where(mask, y, 1.0)
    est = TaylorEstimator(PopParam.mean if param == "mean" else PopParam.prop)
    est.estimate(y=y_filled, samp_weight=np.asarray(weight, dtype=float), stratum=np.asarray(stratum, dtype=str),
                 psu=np.asarray(psu, dtype=str), domain=mask, single_psu=single_psu, strata_comb=strata_comb)
    if param != "mean":
        point, se = est.point_est[True], est.stderror[True]
        lo, hi = est.lower_ci[True], est.upper_ci[True]
        key = 1.0 if 1.0 in point else None
        if key is None:  # no unit has y = 1 anywhere: the proportion of 1 is 0
            return {"estimate": 0.0, "std_error": 0.0, "ci_lower": np.nan, "ci_upper": np.nan,
                    "df": float(est.degree_of_freedom)}
        return {"estimate": float(point[key]), "std_error": float(se[key]), "ci_lower": float(lo[key]),
                "ci_upper": float(hi[key]), "df": float(est.degree_of_freedom)}
    return {"estimate": float(est.point_est[True]), "std_error": float(est.stderror[True]),
            "ci_lower": float(est.lower_ci[True]), "ci_upper": float(est.upper_ci[True]),
            "df": float(est.degree_of_freedom)}


def survey_frame(survey, indicator: dict[str, Any], question: dict[str, Any], category: str | None = None) -> pd.DataFrame:
    """Respondents of the wave with y for the indicator (NaN when not answered)."""
    resp = pd.DataFrame(survey.respondents)
    ans = pd.DataFrame(survey.answers)
    ans = ans[ans["question_id"] == indicator["question_id"]][["respondent_id", "answer_code", "answer_numeric"]]
    frame = resp.merge(ans, on="respondent_id", how="left")
    frame["y"] = indicator_y(frame["answer_code"], frame["answer_numeric"], indicator, question, category)
    return frame


def oracle(survey, indicator: dict[str, Any], question: dict[str, Any], governorate: str, disaggregation: str,
           value: str, category: str | None = None, weight: np.ndarray | None = None, **design: Any) -> dict[str, float]:
    """samplics for one cell of the engine. ``governorate`` IQ = the whole wave; ``weight`` replaces the
    respondents' weights (e.g. post-stratified in the test); ``design``: taylor's single_psu / strata_comb."""
    frame = survey_frame(survey, indicator, question, category)
    in_domain = pd.Series(True, index=frame.index) if governorate == "IQ" else frame["governorate_pcode"].eq(governorate)
    if disaggregation != "all":
        in_domain &= frame[disaggregation].eq(value).fillna(False)
    w = frame["weight"].to_numpy() if weight is None else weight
    return taylor(frame["y"].to_numpy(), w, frame["stratum"].to_numpy(), frame["psu"].to_numpy(),
                  in_domain.to_numpy(), indicator["indicator_type"], **design)


def korn_graubard(p: float, variance: float, n: int, df: int, n_eff_kish: float) -> tuple[float, float]:
    """The Korn-Graubard 95 % interval written out from R survey::svyciprop(method = "beta") (Korn &
    Graubard 1998): n* = p(1-p)/V * (qt(.975, n-1)/qt(.975, df))^2, then Clopper-Pearson at x* = n* p.
    Where V = 0 (p = 0 or 1) n* starts from the Kish effective n, as docs/methodology.md states."""
    from scipy import stats

    base = n_eff_kish if p in (0.0, 1.0) else p * (1 - p) / variance
    n_star = base * (stats.t.ppf(0.975, n - 1) / stats.t.ppf(0.975, df)) ** 2 if n >= 2 else base
    lower = 0.0 if p == 0 else float(stats.beta.ppf(0.025, n_star * p, n_star * (1 - p) + 1))
    upper = 1.0 if p == 1 else float(stats.beta.ppf(0.975, n_star * p + 1, n_star * (1 - p)))
    return lower, upper
