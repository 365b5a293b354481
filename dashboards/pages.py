"""The dashboard's pages: one line per page (its navigation section, file in ``views/``, title, Material icon,
the permission it needs from ``dashboards/access.py``). Adding a page is its file in ``views/`` and one line
here; ``app.py`` builds the navigation from this list, and the browser tests open every page of it.

Keys: ``section`` and ``title`` (English, translated on screen through the catalogs: ``N_`` marks them for
extraction), ``file``, ``icon``, ``needs``; ``default`` for the page at ``/``; ``any_schema`` for a page that
works on a snapshot of any schema version (it reads nothing from the snapshot).
"""

from __future__ import annotations

from dashboards import access
from dashboards.i18n import N_

# One line per page: its section, file, title, icon and the permission it needs (dashboards/access.py).
# A role sees only the pages it may; each page also refuses itself, and every read checks the role.
PAGES = [
    {"section": N_("Steering committee"), "file": "home.py", "title": N_("Home"), "icon": "home", "needs": access.PUBLISHED, "default": True},
    {"section": N_("Steering committee"), "file": "overview.py", "title": N_("Overview"), "icon": "dashboard", "needs": access.PUBLISHED},
    {"section": N_("Steering committee"), "file": "results_framework.py", "title": N_("Results framework"), "icon": "flag", "needs": access.PUBLISHED},
    {"section": N_("Steering committee"), "file": "budget_execution.py", "title": N_("Budget execution"), "icon": "account_balance", "needs": access.PUBLISHED},
    {"section": N_("Steering committee"), "file": "service_vs_spending.py", "title": N_("Spending and services"), "icon": "scatter_plot", "needs": access.PUBLISHED},
    {"section": N_("M&E"), "file": "indicator_explorer.py", "title": N_("Indicator explorer"), "icon": "query_stats", "needs": access.DESIGN},
    {"section": N_("M&E"), "file": "approvals.py", "title": N_("Wave approval"), "icon": "approval", "needs": access.APPROVE},
    {"section": N_("Data engineering"), "file": "data_quality.py", "title": N_("Data quality"), "icon": "fact_check", "needs": access.QUALITY},
    # the users store lives beside the pointer, not in the snapshot: usable on a snapshot of any schema
    {"section": N_("Admin"), "file": "users.py", "title": N_("Users"), "icon": "manage_accounts", "needs": access.USERS, "any_schema": True},
]
