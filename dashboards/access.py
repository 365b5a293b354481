"""What each role may read, enforced where the dashboard reads data (plain Python, no Streamlit).

Every read of the dashboard goes through ``run_query(role, query_name, path, **params)`` (the cached
layer, ``dashboards/data.py``, calls it with the signed-in session's role). It refuses with
``AccessDenied`` — whatever page, URL or query parameter led there — when:

- the query needs a permission the role lacks (``QUERY_ACCESS``: the run log, file registry,
  deliveries, quarantine, exclusions, dropped columns, skipped sources and review flags need
  ``QUALITY``); a query missing from ``QUERY_ACCESS`` is refused to everyone, so a new query is
  readable only once it is classified here;
- a role without ``PROVISIONAL`` names a survey wave that is not approved (``source_id`` +
  ``wave_id`` or ``wave_from``/``wave_to`` parameters).

For a role without ``PROVISIONAL`` the survey queries (``wave_scoped`` in ``QUERY_ACCESS``) are
also answered from approved waves only: ``approved_only`` is forced true and every row whose
``is_approved`` (or ``is_approved_from`` / ``is_approved_to``) is not true is dropped. A wave-scoped
result without an approval column is refused rather than shown.

Roles (``pipelines.users.ROLES``) and their permissions (each role has those of the one before, but
a data engineer does not approve waves):

- committee: ``PUBLISHED`` — approved waves, published aggregates, budget execution, results, brief;
- me (M&E): + ``PROVISIONAL`` (every wave, labelled), ``DESIGN`` (design detail, the indicator
  explorer), ``APPROVE`` (approve or revoke a wave from the dashboard);
- engineer: committee and M&E reading, + ``QUALITY`` (data quality, quarantine, files, runs);
- admin: everything, + ``USERS`` (the users page).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from dashboards import queries
from dashboards.i18n import _

PUBLISHED = "published"
PROVISIONAL = "provisional"
DESIGN = "design"
APPROVE = "approve"
QUALITY = "quality"
USERS = "users"

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "committee": frozenset({PUBLISHED}),
    "me": frozenset({PUBLISHED, PROVISIONAL, DESIGN, APPROVE}),
    "engineer": frozenset({PUBLISHED, PROVISIONAL, DESIGN, QUALITY}),
    "admin": frozenset({PUBLISHED, PROVISIONAL, DESIGN, APPROVE, QUALITY, USERS}),
}

#: query name -> (permission needed, wave_scoped: answered from approved waves only without PROVISIONAL)
QUERY_ACCESS: dict[str, tuple[str, bool]] = {
    "warehouse_tables": (PUBLISHED, False),
    "snapshot_identity": (PUBLISHED, False),
    "governorates": (PUBLISHED, False),
    "indicators": (PUBLISHED, False),
    "estimation_rules": (PUBLISHED, False),
    "table_columns": (PUBLISHED, False),
    "budget_execution": (PUBLISHED, False),
    "fiscal_years": (PUBLISHED, False),
    "budget_pefa": (PUBLISHED, False),
    "waves": (PUBLISHED, True),
    "indicator_options": (PUBLISHED, True),
    "service_estimates": (PUBLISHED, True),
    "headline_summary": (PUBLISHED, True),
    "indicator_changes": (PUBLISHED, True),
    "response_distribution": (PUBLISHED, True),
    "service_vs_spending": (PUBLISHED, True),
    "schema_version": (PUBLISHED, False),
    "home_indicators": (PUBLISHED, True),
    "home_estimates": (PUBLISHED, True),
    "sector_headlines": (PUBLISHED, True),
    "run_log": (QUALITY, False),
    "file_registry": (QUALITY, False),
    "file_deliveries": (QUALITY, False),
    "quarantine_by_reason": (QUALITY, False),
    "quarantine_sample": (QUALITY, False),
    "exclusions_by_reason": (QUALITY, False),
    "dropped_columns": (QUALITY, False),
    "skipped_sources": (QUALITY, False),
    "review_flags": (QUALITY, False),
    "cleaning_changes": (QUALITY, False),
    "repeat_group_accounts": (QUALITY, False),
}

_APPROVAL_FLAGS = ("is_approved", "is_approved_from", "is_approved_to")


class AccessDenied(PermissionError):
    """The session's role may not read this (the message names the role and what was refused)."""


def permissions(role: str | None) -> frozenset[str]:
    """The permissions of ``role``; none for an unknown role or no session."""
    return ROLE_PERMISSIONS.get(role or "", frozenset())


def allowed(role: str | None, permission: str) -> bool:
    return permission in permissions(role)


def require(role: str | None, permission: str, what: str) -> None:
    """Raise AccessDenied unless ``role`` has ``permission``; ``what`` names the thing refused."""
    if not allowed(role, permission):
        who = (_("a {role} session").format(role=role) if role in ROLE_PERMISSIONS
               else _("a session that is not signed in"))
        raise AccessDenied(_("{what} is not available to {who} (needs the '{permission}' permission)").format(
            what=what, who=who, permission=permission))


def authorize(role: str | None, query_name: str, params: Mapping[str, Any],
              approved_waves: Callable[[], set[tuple[str, str]]]) -> dict[str, Any]:
    """Check one read before it runs; return the parameters to run it with.

    ``approved_waves()`` gives the (source_id, wave_id) pairs approved in the snapshot (called only
    when a wave is named). Raises AccessDenied (see the module docstring)."""
    if query_name not in QUERY_ACCESS:
        raise AccessDenied(_("query {name} is not classified in dashboards/access.py; nobody may read it").format(
            name=repr(query_name)))
    permission, wave_scoped = QUERY_ACCESS[query_name]
    require(role, permission, f"`{query_name}`")
    params = dict(params)
    if not wave_scoped or allowed(role, PROVISIONAL):
        return params
    if "approved_only" in params or query_name == "headline_summary":
        params["approved_only"] = True
    source = params.get("source_id")
    named = [params.get(k) for k in ("wave_id", "wave_from", "wave_to") if params.get(k) is not None]
    if named:
        approved = approved_waves()
        for wave in named:
            if source is None or (str(source), str(wave)) not in approved:
                raise AccessDenied(_(
                    "survey wave {source} / {wave} is provisional (not approved by the M&E lead): "
                    "a {role} session reads approved waves only").format(source=source, wave=wave, role=role))
    return params


def filter_result(role: str | None, query_name: str, df: pl.DataFrame) -> pl.DataFrame:
    """Drop the rows of provisional waves from a wave-scoped result for a role without PROVISIONAL.
    Raises AccessDenied when such a result carries no approval column."""
    _, wave_scoped = QUERY_ACCESS[query_name]
    if not wave_scoped or allowed(role, PROVISIONAL):
        return df
    flags = [c for c in _APPROVAL_FLAGS if c in df.columns]
    if not flags:
        raise AccessDenied(_("`{name}` does not say which waves are approved; not shown to a {role} session").format(
            name=query_name, role=role))
    return df.filter(pl.all_horizontal(pl.col(c).fill_null(False) for c in flags))


def approved_waves_of(path: str | os.PathLike[str]) -> set[tuple[str, str]]:
    """The (source_id, wave_id) pairs approved in the snapshot ``path``."""
    waves = queries.waves(path).filter(pl.col("is_approved").fill_null(False))
    return {(str(s), str(w)) for s, w in waves.select("source_id", "wave_id").iter_rows()}


def run_query(role: str | None, query_name: str, path: str | os.PathLike[str], **params: Any) -> pl.DataFrame:
    """``queries.<query_name>(path, **params)`` as ``role`` may see it (uncached; the dashboard uses
    ``data.load``). Raises AccessDenied, and whatever the query raises."""
    run_params = authorize(role, query_name, params, lambda: approved_waves_of(path))
    return filter_result(role, query_name, queries.QUERIES[query_name](path, **run_params))
