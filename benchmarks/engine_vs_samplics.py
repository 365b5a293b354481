"""Benchmark: the survey engine (dbt macro ``survey_estimates`` run by :mod:`pipelines.engine` in DuckDB) against
samplics ``TaylorEstimator`` on 1,000,000 generated respondents x 5 indicators x 19 governorates x 2 waves.

What it measures. Generated data (seeded): 2 waves of 500,000 respondents each (1,000,000 in all; the
``--respondents`` total is split equally between the waves); per wave 38 strata (19 governorates x
urban/rural; respondents allocated to governorates proportionally to sqrt(population), split by the urban
share), PSUs of 10-20 households, unequal weights (stratum expansion factor x PSU and household adjustment
factors), 5 indicators (4 proportions, 1 mean of hours per day in [0, 24]) with a PSU random effect and
3-12 % item non-response (some of it "don't know/refused", the rest skipped). Estimates: every indicator
by governorate within each wave = 190 cells. Every respondent of a wave passes through every indicator, so
the engine's long observation frame has 5 x 1,000,000 = 5,000,000 rows.

    uv run python benchmarks/engine_vs_samplics.py [--respondents 1000000] [--repeats 3] [--samplics-repeats 1]

(``--respondents 20000`` is a 30-second check.)

* Engine: ONE run with design keys ``['wave_id']`` and domain keys ``['indicator_id', 'governorate_pcode']``
  on the 5M-row frame, pandas in, pandas out (``SurveyEngine.run``: copying the frame, loading it into an
  in-memory DuckDB, the SQL, the result). The dbt compile (once per key set) is timed separately. Run with
  DuckDB threads = 1 (the pipeline's setting, dbt_project/profiles.yml: bit-identical sums) and with
  DuckDB's default (all cores); each 3 times, median reported, plus the SQL alone on the loaded tables.
* samplics: for each wave x indicator one ``TaylorEstimator(prop|mean).estimate`` over the wave's
  500,000 respondents with ``domain`` = governorate p-code for answered units and ``"__na__"`` for units
  that did not answer (y filled with 1 there), ``single_psu=SinglePSUEst.skip``: item non-response is a
  domain exclusion and every PSU stays in the variance, as in the engine. 10 calls, timed together.
* Agreement: largest absolute difference between the two over the 190 cells in estimate, std_error and the
  CI bounds (samplics: logit for proportions, t for means; the engine's defaults), and equal df.
RESULTS on this machine (2 cores, 23 GB RAM), 2026-12-03, ``uv run python benchmarks/engine_vs_samplics.py``
(1,000,000 respondents = 2 waves x 500,000; 66,558 PSUs; 5,000,000 observation rows; 190 cells):

                                                 seconds   samplics / engine
    engine compile (once)                          10.10
    engine run, threads=1                           4.17               16.7x     (runs 9.79, 3.77, 4.17)
      of which SQL alone                            2.53               27.5x
    engine run, threads=default (2)                 1.88               37.1x     (runs 2.30, 1.88, 1.77)
      of which SQL alone                            1.40               49.8x
    samplics (10 estimate calls)                   69.66

    max |engine - samplics|    proportions (152 cells)  means (38 cells, hours 0-24)
      estimate                                6.44e-15                      2.54e-13
      std_error                               5.03e-17                       6.8e-16
      ci_lower / ci_upper                     6.66e-15                      2.54e-13
    degrees of freedom equal in all 190 cells; threads=1 vs default differ by up to 2.6e-13

Whole script: 153 s (169 s wall with imports), peak RSS 5.9 GB. The engine run covers handing the frame to
DuckDB as an Arrow table (``SurveyEngine.run``; before that change, DuckDB scanning pandas 3's arrow-backed
``str`` columns took about 20 s of a 26 s run), the SQL and the result. Run-to-run spread on this machine
is about +/- 25 % (the first engine run is slower: cold caches).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.demo.generate import GOVERNORATES  # noqa: E402  (populations and urban shares, demo figures)
from pipelines.engine import SurveyEngine, strata_of  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # samplics warns that it is archived
    from samplics import TaylorEstimator
    from samplics.utils.types import PopParam, SinglePSUEst

SEED = 20261203
WAVES = ("2024", "2025")
PCODES = tuple(f"IQG{i:02d}" for i in range(1, len(GOVERNORATES) + 1))  # demo order = p-code order
NA_DOMAIN = "__na__"  # samplics domain of the units that did not answer (excluded, PSU kept)
#: indicator_id -> (estimate_type, overall level: proportion or mean hours, item non-response rate)
INDICATORS = {
    "water_access": ("proportion", 0.08, 0.03),
    "waste_collected": ("proportion", 0.35, 0.06),
    "satisfied_health": ("proportion", 0.60, 0.12),
    "school_nearby": ("proportion", 0.85, 0.05),
    "electricity_hours": ("mean", 14.0, 0.08),
}
DESIGN_KEYS = ["wave_id"]
DOMAIN_KEYS = ["indicator_id", "governorate_pcode"]
CELL = ["wave_id", "indicator_id", "governorate_pcode"]


def largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``shares`` summing to ``total``."""
    raw = shares / shares.sum() * total
    out = np.floor(raw).astype(int)
    out[np.argsort(-(raw - out), kind="stable")[: total - out.sum()]] += 1
    return out


def generate_wave(wave: str, respondents: int, rng: np.random.Generator) -> pd.DataFrame:
    """One wave: one row per respondent with design columns and one y column per indicator (NaN = not
    answered) plus ``<indicator>__nr`` (don't know / refused among the non-answers)."""
    pop = np.array([g.population for g in GOVERNORATES], dtype=float)
    urban = np.array([g.urban_share for g in GOVERNORATES])
    hh_size = np.array([g.household_size for g in GOVERNORATES])
    per_gov = largest_remainder(np.sqrt(pop), respondents)            # disproportionate allocation
    n_urban = np.round(per_gov * urban).astype(int)
    n_h = np.column_stack([n_urban, per_gov - n_urban]).ravel()         # stratum order: gov x (urban, rural)
    households_h = (pop[:, None] * np.column_stack([urban, 1 - urban]) / hh_size[:, None]).ravel()
    gov_h = np.repeat(np.arange(len(GOVERNORATES)), 2)

    # PSUs of 10-20 households, filled in order within each stratum (the last one may be smaller)
    psu_of = np.empty(respondents, dtype=np.int64)
    start, next_psu = 0, 0
    for n in n_h:
        sizes = rng.integers(10, 21, n // 10 + 1)
        ends = np.cumsum(sizes)
        k = int(np.searchsorted(ends, n)) + 1                            # PSUs needed to hold n units
        psu_of[start:start + n] = next_psu + np.searchsorted(ends[:k], np.arange(n), side="right")
        start, next_psu = start + n, next_psu + k
    stratum_of = np.repeat(np.arange(n_h.size), n_h)

    # weight = stratum expansion factor x PSU factor (selection) x household factor (non-response)
    weight = (households_h / n_h)[stratum_of] * rng.lognormal(0, 0.3, next_psu)[psu_of] \
        * rng.lognormal(0, 0.2, respondents)
    gov = gov_h[stratum_of]
    stratum_names = np.array([f"{PCODES[g]}_{ur}" for g in range(len(GOVERNORATES)) for ur in ("urban", "rural")])
    frame = pd.DataFrame({
        "wave_id": wave,
        "governorate_pcode": np.array(PCODES)[gov],
        "stratum": stratum_names[stratum_of],
        "psu": np.char.add(np.char.add(stratum_names[stratum_of], "_"), np.char.zfill(psu_of.astype(str), 6)),
        "weight": weight,
    })
    for ind, (kind, level, nr_rate) in INDICATORS.items():
        gov_effect = rng.normal(0, 0.4, len(GOVERNORATES))[gov]
        psu_effect = rng.normal(0, 0.5, next_psu)[psu_of]
        if kind == "proportion":
            y = rng.binomial(1, special.expit(special.logit(level) + gov_effect + psu_effect)).astype(float)
        else:  # hours of electricity per day: clipped to the question's range [0, 24]
            y = np.clip(np.round(level + 3 * gov_effect + 4 * psu_effect + rng.normal(0, 4, respondents)), 0, 24)
        missing = rng.random(respondents) < nr_rate
        frame[ind] = np.where(missing, np.nan, y)
        frame[f"{ind}__nr"] = missing & (rng.random(respondents) < 0.6)  # don't know / refused, else skipped
    return frame


def long_observations(respondents: pd.DataFrame) -> pd.DataFrame:
    """The engine's input: one row per respondent x indicator (its governorate is its domain)."""
    parts = []
    for ind, (kind, _, _) in INDICATORS.items():
        parts.append(pd.DataFrame({
            "wave_id": respondents["wave_id"], "indicator_id": ind,
            "governorate_pcode": respondents["governorate_pcode"], "estimate_type": kind,
            "ci_method": "logit" if kind == "proportion" else "t",
            "stratum": respondents["stratum"], "psu": respondents["psu"], "weight": respondents["weight"],
            "y": respondents[ind], "is_answered": respondents[ind].notna(),
            "is_nonresponse": respondents[f"{ind}__nr"],
            "value_min": 0.0 if kind == "mean" else np.nan, "value_max": 24.0 if kind == "mean" else np.nan,
        }))
    return pd.concat(parts, ignore_index=True)


def samplics_estimates(respondents: pd.DataFrame) -> pd.DataFrame:
    """samplics, one ``estimate`` call per wave x indicator, governorates as domains (module docstring)."""
    rows = []
    for wave, r in respondents.groupby("wave_id", sort=True):
        weight = r["weight"].to_numpy()
        stratum, psu = r["stratum"].to_numpy(dtype=str), r["psu"].to_numpy(dtype=str)
        gov = r["governorate_pcode"].to_numpy(dtype=str)
        for ind, (kind, _, _) in INDICATORS.items():
            y = r[ind].to_numpy(dtype=float)
            answered = ~np.isnan(y)
            est = TaylorEstimator(PopParam.prop if kind == "proportion" else PopParam.mean)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est.estimate(y=np.where(answered, y, 1.0), samp_weight=weight, stratum=stratum, psu=psu,
                             domain=np.where(answered, gov, NA_DOMAIN), single_psu=SinglePSUEst.skip)
            for g in PCODES:
                # proportions: samplics keys each domain's results by category; read the share of y = 1
                cell = (lambda d: d[g][1.0]) if kind == "proportion" else (lambda d: d[g])
                rows.append({"wave_id": wave, "indicator_id": ind, "governorate_pcode": g,
                             "estimate": cell(est.point_est), "std_error": cell(est.stderror),
                             "ci_lower": cell(est.lower_ci), "ci_upper": cell(est.upper_ci),
                             "degrees_of_freedom": est.degree_of_freedom})
    return pd.DataFrame(rows)


def timed(fn, *args, **kwargs):
    """(seconds, result) of one call."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def time_engine(engine: SurveyEngine, obs: pd.DataFrame, strata: pd.DataFrame,
                repeats: int) -> tuple[list[float], list[float], pd.DataFrame]:
    """``repeats`` timings of ``engine.run`` (pandas in, pandas out, fresh connection each time) and of the
    SQL alone on tables already loaded; returns (run seconds, SQL seconds, last result)."""
    runs, sqls, out = [], [], None
    for _ in range(repeats):
        con = engine.connect()
        try:
            secs, out = timed(engine.run, obs, strata, con=con)  # leaves the tables loaded in con
            runs.append(secs)
            sqls.append(timed(lambda: con.execute(engine.sql).df())[0])
        finally:
            con.close()
    return runs, sqls, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=1_000_000, help="in all, split over the 2 waves")
    parser.add_argument("--repeats", type=int, default=3, help="engine runs per thread setting (median)")
    parser.add_argument("--samplics-repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    t_start = time.perf_counter()

    print(f"engine vs samplics — python {sys.version.split()[0]}, {os.cpu_count()} cores")
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(args.seed).spawn(len(WAVES))]
    secs, respondents = timed(lambda: pd.concat(
        [generate_wave(w, args.respondents // len(WAVES), rng) for w, rng in zip(WAVES, rngs)], ignore_index=True))
    obs = long_observations(respondents)
    strata = strata_of(respondents, DESIGN_KEYS)
    print(f"generated {len(respondents):,} respondents ({len(WAVES)} waves), {len(obs):,} observation rows, "
          f"{len(strata)} wave x strata, {respondents.groupby('wave_id')['psu'].nunique().sum():,} PSUs, "
          f"weights {respondents['weight'].min():.0f}-{respondents['weight'].max():.0f}, in {secs:.1f} s")

    compile_s, engine_1 = timed(SurveyEngine, DESIGN_KEYS, DOMAIN_KEYS, threads=1)
    engine_n = SurveyEngine(DESIGN_KEYS, DOMAIN_KEYS, threads=None)  # same SQL (cached compile)
    print(f"engine compile (dbt, once per key set): {compile_s:.1f} s")
    timings, results = {}, {}
    for label, engine, frame in (("threads=1", engine_1, obs),
                                 (f"threads=default ({os.cpu_count()})", engine_n, obs)):
        runs, sqls, est = time_engine(engine, frame, strata, args.repeats)
        timings[label] = (statistics.median(runs), statistics.median(sqls))
        results[label] = est.sort_values(CELL, ignore_index=True)
        print(f"engine {label}: run {', '.join(f'{s:.2f}' for s in runs)} s -> median {statistics.median(runs):.2f} s "
              f"(of which SQL alone: median {statistics.median(sqls):.2f} s)")

    sam_runs = []
    for _ in range(args.samplics_repeats):
        secs, ref = timed(samplics_estimates, respondents)
        sam_runs.append(secs)
    sam = statistics.median(sam_runs)
    print(f"samplics ({len(WAVES) * len(INDICATORS)} estimate calls): "
          f"{', '.join(f'{s:.1f}' for s in sam_runs)} s -> median {sam:.1f} s")

    est = results["threads=1"]  # the pipeline's setting; the other configurations are compared with it
    spread = max(float(np.max(np.abs(r[c] - est[c]))) for r in results.values()
                 for c in ("estimate", "std_error", "ci_lower", "ci_upper"))
    both = est.merge(ref, on=CELL, suffixes=("", "_samplics"), validate="one_to_one")
    if len(both) != len(ref) or len(est) != len(ref):
        raise SystemExit(f"cells differ: engine {len(est)}, samplics {len(ref)}, matched {len(both)}")
    kinds = both["estimate_type"]
    diffs = {(c, kind): float(np.max(np.abs(both[c] - both[f"{c}_samplics"])[kinds == kind]))
             for c in ("estimate", "std_error", "ci_lower", "ci_upper") for kind in ("proportion", "mean")}
    same_df = bool((both["degrees_of_freedom"] == both["degrees_of_freedom_samplics"]).all())

    width = 46
    print(f"\n{'':<{width}}{'seconds':>10}{'samplics / engine':>20}")
    print(f"{'engine compile (once)':<{width}}{compile_s:>10.2f}")
    for label, (run_s, sql_s) in timings.items():
        print(f"{'engine run, ' + label:<{width}}{run_s:>10.2f}{sam / run_s:>19.1f}x")
        print(f"{'  of which SQL alone':<{width}}{sql_s:>10.2f}{sam / sql_s:>19.1f}x")
    print(f"{'samplics (' + str(len(WAVES) * len(INDICATORS)) + ' estimate calls)':<{width}}{sam:>10.2f}")
    print(f"\ncells compared: {len(both)} (engine threads=1); degrees of freedom equal: {same_df}; "
          f"largest difference between the engine configurations: {spread:.3g}")
    n_prop, n_mean = int((kinds == "proportion").sum()), int((kinds == "mean").sum())
    head_prop, head_mean = f"proportions ({n_prop} cells)", f"means ({n_mean} cells, hours 0-24)"
    print(f"max |engine - samplics|   {head_prop:>24}  {head_mean:>28}")
    for c in ("estimate", "std_error", "ci_lower", "ci_upper"):
        print(f"  {c:<23} {diffs[c, 'proportion']:>24.3g}  {diffs[c, 'mean']:>28.3g}")
    print(f"cells suppressed: {int(est['is_suppressed'].sum())}, unreliable: {int(est['is_unreliable'].sum())}; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
          f"elapsed {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
