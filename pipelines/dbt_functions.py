"""Scalar functions the dbt survey engine calls that DuckDB does not have.

DuckDB has no beta-distribution quantile, which the Korn–Graubard confidence interval needs
(``dbt_project/macros/survey_estimates.sql``). :func:`register` adds it to a connection; the dbt-duckdb
plugin :class:`Plugin` (``dbt_project/profiles.yml``, ``plugins:``) registers it on every connection dbt
opens, and :mod:`pipelines.engine` on the connections it runs the engine's SQL in.

Only models materialised as tables call these functions (``int_indicator_estimates``), so a reader of the
warehouse never needs them.

Functions:
    ``mizan_beta_quantile(q DOUBLE, a DOUBLE, b DOUBLE) -> DOUBLE``: the ``q`` quantile of Beta(a, b)
    (scipy.stats.beta.ppf). NULL when an argument is NULL, ``a <= 0``, ``b <= 0`` or ``q`` is outside
    [0, 1]; the caller decides what a degenerate parameter means (e.g. x = 0 gives a lower bound of 0).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

BETA_QUANTILE = "mizan_beta_quantile"


def _beta_quantile(q: pa.Array, a: pa.Array, b: pa.Array) -> pa.Array:
    qv, av, bv = (np.asarray(x.to_numpy(zero_copy_only=False), dtype=float) for x in (q, a, b))
    valid = ~(np.isnan(qv) | np.isnan(av) | np.isnan(bv)) & (av > 0) & (bv > 0) & (qv >= 0) & (qv <= 1)
    out = np.full(qv.shape, np.nan)
    if valid.any():
        # imported on first use: scipy.stats takes about a second to import, and every dbt process loads this
        # module (the plugin), while only builds with a Korn-Graubard interval to compute call the function
        from scipy import stats

        out[valid] = stats.beta.ppf(qv[valid], av[valid], bv[valid])
    return pa.array(out, mask=~valid, type=pa.float64())


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Create the engine's functions on ``con`` (idempotent: an existing definition is replaced)."""
    try:
        con.remove_function(BETA_QUANTILE)
    except (duckdb.InvalidInputException, duckdb.CatalogException):
        pass
    con.create_function(
        BETA_QUANTILE, _beta_quantile, [duckdb.sqltype("DOUBLE")] * 3, duckdb.sqltype("DOUBLE"),
        type="arrow", null_handling="special",
    )


try:  # the dbt-duckdb plugin; dbt-duckdb is a dependency of mizan, but keep the module importable alone
    from dbt.adapters.duckdb.plugins import BasePlugin
except ImportError:  # pragma: no cover
    BasePlugin = object  # type: ignore[assignment,misc]


class Plugin(BasePlugin):  # type: ignore[misc,valid-type]
    """dbt-duckdb plugin: ``plugins: [{module: pipelines.dbt_functions}]`` in profiles.yml."""

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        register(conn)
