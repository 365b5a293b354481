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


def indicator_y(codes: pd.Series, numeric: pd.Series, indicator: dict[str, Any], question: dict[str, Any]) -> np.ndarray:
    """y as the engine defines it: proportion 1/0/NaN from the codes, mean = the numeric answer."""
    if indicator["indicator_type"] == "proportion":
        success = codes.isin(indicator["success_codes"])
        other = codes.isin(question["choice_codes"]) & ~success
        return np.where(success, 1.0, np.where(other, 0.0, np.nan))
    return numeric.to_numpy(dtype=float, na_value=np.nan)


def taylor(y: np.ndarray, weight: np.ndarray, stratum: np.ndarray, psu: np.ndarray, in_domain: np.ndarray,
           param: str) -> dict[str, float]:
    """Estimate over ``in_domain & ~isnan(y)`` keeping every unit in the design; returns the True cell."""
    y = np.asarray(y, dtype=float)
    mask = np.asarray(in_domain, dtype=bool) & ~np.isnan(y)
    y_filled = np.where(mask, y, 1.0)
    est = TaylorEstimator(PopParam.prop if param == "proportion" else PopParam.mean)
    est.estimate(y=y_filled, samp_weight=np.asarray(weight, dtype=float), stratum=np.asarray(stratum, dtype=str),
                 psu=np.asarray(psu, dtype=str), domain=mask, single_psu=SinglePSUEst.skip)
    if param == "proportion":
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


def survey_frame(survey, indicator: dict[str, Any], question: dict[str, Any]) -> pd.DataFrame:
    """Respondents of the wave with y for the indicator (NaN when not answered)."""
    resp = pd.DataFrame(survey.respondents)
    ans = pd.DataFrame(survey.answers)
    ans = ans[ans["question_id"] == indicator["question_id"]][["respondent_id", "answer_code", "answer_numeric"]]
    frame = resp.merge(ans, on="respondent_id", how="left")
    frame["y"] = indicator_y(frame["answer_code"], frame["answer_numeric"], indicator, question)
    return frame


def oracle(survey, indicator: dict[str, Any], question: dict[str, Any], governorate: str, disaggregation: str,
           value: str) -> dict[str, float]:
    frame = survey_frame(survey, indicator, question)
    in_domain = frame["governorate_pcode"].eq(governorate)
    if disaggregation != "all":
        in_domain &= frame[disaggregation].eq(value).fillna(False)
    return taylor(frame["y"].to_numpy(), frame["weight"].to_numpy(), frame["stratum"].to_numpy(),
                  frame["psu"].to_numpy(), in_domain.to_numpy(), indicator["indicator_type"])
