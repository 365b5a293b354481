"""Benchmark: the survey engine's SQL against one hand-written DuckDB query computing the same cells.

Same generated data as ``benchmarks/engine_vs_samplics.py`` (2 waves x 500,000 respondents, 5 indicators,
190 cells: indicator x governorate x wave). Both queries run on the same loaded tables, one DuckDB thread
(the pipeline's setting), 5 times each; the medians and their ratio are printed, with the largest
difference in estimate and standard error. Times are process CPU seconds (one thread), steadier than wall
time on a busy machine.

The reference (``REFERENCE_SQL`` below) is the shortest correct query for the point estimate and its
Taylor-linearised SE: PSU totals of w and w y, the domain ratio, the PSU scores' within-stratum variance.
``REFERENCE_FULL_SQL`` adds what the engine publishes besides them (n, Kish n_eff, the nonresponse share,
the max/median weight ratio, the mean's unit variance for the design effect), so the two ratios bracket the
engine's overhead. With ``--svy-python`` (an interpreter where svy is installed; not a dependency of the
project) svy's Taylor estimates of the same cells are timed too (CPU seconds of its calls).

    uv run python benchmarks/engine_reference.py [--respondents 1000000] [--repeats 5] [--svy-python PY]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import engine_vs_samplics as data  # noqa: E402  (the generator and cell layout)
from pipelines.engine import SurveyEngine, strata_of  # noqa: E402

_PSU_SCORES = """
psu as (
    select wave_id, indicator_id, governorate_pcode, stratum, psu,
           sum(weight) filter (where is_answered) as sw, sum(weight * y) filter (where is_answered) as swy
    from observations group by all
),
dom as (
    select wave_id, indicator_id, governorate_pcode, sum(sw) as sw, sum(swy) / sum(sw) as p from psu group by all
),
z as (
    select s.wave_id, s.indicator_id, s.governorate_pcode, s.stratum,
           sum((coalesce(s.swy, 0) - d.p * coalesce(s.sw, 0)) / d.sw) as sz,
           sum(pow((coalesce(s.swy, 0) - d.p * coalesce(s.sw, 0)) / d.sw, 2)) as szz
    from psu as s join dom as d using (wave_id, indicator_id, governorate_pcode) group by all
),
v as (
    select z.wave_id, indicator_id, governorate_pcode,
           sum(case when st.n_psu > 1 then st.n_psu / (st.n_psu - 1.0) * (szz - sz * sz / st.n_psu) else 0 end) as var
    from z join strata as st on st.wave_id = z.wave_id and st.stratum = z.stratum group by all
)"""

REFERENCE_SQL = f"""
with {_PSU_SCORES}
select d.wave_id, d.indicator_id, d.governorate_pcode, d.p as estimate, sqrt(v.var) as std_error
from dom as d join v using (wave_id, indicator_id, governorate_pcode)
"""

REFERENCE_FULL_SQL = f"""
with {_PSU_SCORES},
facts as (
    select wave_id, indicator_id, governorate_pcode,
           count(*) filter (where is_answered) as n,
           sum(weight) filter (where is_answered) as sw,
           sum(weight * weight) filter (where is_answered) as sww,
           sum(weight * y * y) filter (where is_answered) as swyy,
           sum(weight) filter (where is_nonresponse) as sw_nr,
           max(weight) filter (where is_answered) / median(weight) filter (where is_answered) as w_ratio
    from observations group by all
)
select d.wave_id, d.indicator_id, d.governorate_pcode, d.p as estimate, sqrt(v.var) as std_error,
       f.n, f.sw * f.sw / f.sww as n_effective, f.sw_nr / (f.sw + coalesce(f.sw_nr, 0)) as excluded_share,
       f.w_ratio, f.swyy / f.sw - d.p * d.p as unit_variance
from dom as d join v using (wave_id, indicator_id, governorate_pcode) join facts as f using (wave_id, indicator_id, governorate_pcode)
"""


def cpu_median(con, sql: str, repeats: int) -> tuple[float, pd.DataFrame]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.process_time()
        out = con.execute(sql).df()
        times.append(time.process_time() - t0)
    return statistics.median(times), out


SVY_SCRIPT = """
import json, sys, time, warnings
import numpy as np, polars as pl, svy
frame = pl.read_parquet(sys.argv[1]); indicators = json.loads(sys.argv[2]); out = []
t0 = time.process_time()
for wave in sorted(frame["wave_id"].unique().to_list()):
    r = frame.filter(pl.col("wave_id") == wave)
    for ind in indicators:
        answered = r[ind].is_not_null()
        d = r.select("stratum", "psu", "weight",
                     pl.when(answered).then(pl.col(ind)).otherwise(1.0).alias("y"),
                     pl.when(answered).then(pl.col("governorate_pcode")).otherwise(pl.lit("__na__")).alias("dom"))
        sample = svy.Sample(data=d, design=svy.Design(stratum="stratum", psu="psu", wgt="weight"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = sample.estimation.mean(y="y", by="dom")
        out.append({"wave_id": wave, "indicator_id": ind, "table": est.to_polars().to_dicts()
                    if hasattr(est, "to_polars") else str(est)})
print(json.dumps({"seconds": time.process_time() - t0, "cells": out}, default=str))
"""


def svy_run(respondents: pd.DataFrame, python: str) -> dict:
    """svy's Taylor means of the same cells (governorates as domains, non-answers in a domain of their own
    so every PSU stays in the variance, as the engine does), run by ``python``: an interpreter with svy
    installed beside the project, e.g. ``uv venv /tmp/svy && uv pip install --python /tmp/svy svy``; svy
    pins other versions of polars than the project's."""
    import json
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "respondents.parquet"
        cols = ["wave_id", "governorate_pcode", "stratum", "psu", "weight", *data.INDICATORS]
        respondents[cols].to_parquet(path)
        proc = subprocess.run([python, "-c", SVY_SCRIPT, str(path), json.dumps(list(data.INDICATORS))],
                              capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"svy failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--respondents", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--svy-python", help="an interpreter with svy installed (see svy_run)")
    args = ap.parse_args()
    rng = np.random.default_rng(data.SEED)
    respondents = pd.concat([data.generate_wave(w, args.respondents // 2, rng) for w in data.WAVES], ignore_index=True)
    obs, strata = data.long_observations(respondents), strata_of(respondents, data.DESIGN_KEYS)
    engine = SurveyEngine(data.DESIGN_KEYS, data.DOMAIN_KEYS, threads=1)
    con = engine.connect()
    engine.run(obs, strata, con=con)  # loads the tables; warms the caches
    t_engine, est = cpu_median(con, engine.sql, args.repeats)
    t_ref, ref = cpu_median(con, REFERENCE_SQL, args.repeats)
    t_full, _ = cpu_median(con, REFERENCE_FULL_SQL, args.repeats)
    both = est.merge(ref, on=data.CELL, suffixes=("", "_ref"))
    print(f"{args.respondents:,} respondents x {len(data.INDICATORS)} indicators = {len(obs):,} observation rows, "
          f"{len(both)} cells; CPU seconds, median of {args.repeats}, 1 thread")
    print(f"  engine SQL                       {t_engine:6.3f}")
    print(f"  reference, estimate + SE         {t_ref:6.3f}   engine / reference      {t_engine / t_ref:5.2f}x")
    print(f"  reference, every published fact  {t_full:6.3f}   engine / full reference {t_engine / t_full:5.2f}x")
    print(f"  max |engine - reference|: estimate {abs(both.estimate - both.estimate_ref).max():.2e}, "
          f"SE {abs(both.std_error - both.std_error_ref).max():.2e}")
    if args.svy_python:
        svy = svy_run(respondents, args.svy_python)
        print(f"  svy (Taylor means, 10 calls)     {svy['seconds']:6.3f}   svy / engine            "
              f"{svy['seconds'] / t_engine:5.2f}x")
        rows = [{"wave_id": c["wave_id"], "indicator_id": c["indicator_id"], "governorate_pcode": r["dom"],
                 "estimate_svy": r["est"], "std_error_svy": r["se"]}
                for c in svy["cells"] for r in c["table"] if r["dom"] != "__na__"]
        agree = est.merge(pd.DataFrame(rows), on=data.CELL)
        print(f"  max |engine - svy| over {len(agree)} cells: estimate "
              f"{abs(agree.estimate - agree.estimate_svy).max():.2e}, SE {abs(agree.std_error - agree.std_error_svy).max():.2e}")


if __name__ == "__main__":
    main()
