"""Generate ``seeds/t_quantiles.csv``: the 0.975 quantile of Student's t for df = 1 … 1000.

DuckDB has no t quantile function, so the survey engine (``macros/survey_estimates.sql``) joins this
seed on the design's degrees of freedom to build 95 % confidence intervals. For df > 1000 the macro
uses the Cornish–Fisher (Hill 1970) expansion of the t quantile around the normal quantile, which is
accurate to better than 1e-12 there (checked against scipy in ``tests/dbt/test_dbt_t_quantiles.py``).

The seed is committed; run this script again only if you change the range or the precision:

    .venv/bin/python dbt_project/scripts/make_t_quantiles.py

Values are written with ``repr`` (17 significant digits), so they round-trip to the exact doubles
scipy returns and the engine's intervals match samplics to floating-point precision.
"""

from __future__ import annotations

import csv
from pathlib import Path

from scipy.stats import t

MAX_DF = 1000
OUT = Path(__file__).resolve().parents[1] / "seeds" / "t_quantiles.csv"


def main() -> None:
    with OUT.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["df", "t_975"])
        for df in range(1, MAX_DF + 1):
            writer.writerow([df, repr(float(t.ppf(0.975, df)))])
    print(f"wrote {OUT} (df 1..{MAX_DF})")


if __name__ == "__main__":
    main()
