"""Selections that live in the URL, so a copied link opens the same view, and select boxes that always show
the value the page uses.

The page is the URL path (``st.navigation``: each page's ``url_path``, its file name); the language is
``?lang=`` (``dashboards/i18n.py``); this module keeps the rest in the query string, one parameter per
selection: ``indicator``, ``governorate``, ``wave``, ``breakdown`` and the choices they depend on
(``sector``, ``year``, ``source``, …). Every page writes its selections through ``select``, and never
removes a parameter it does not own (``lang`` stays).

``select`` is also the one way a page offers a choice whose options depend on another choice. When the
options change (another sector, another indicator), a value left over in session state that is no longer
an option is *replaced* through session state, never just dropped: Streamlit then sends the new value to
the browser, which otherwise goes on displaying the old choice while the page computes with the first
option (the box says "Public schools…" while the chart plots water complaints).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

#: query parameters this module writes (the language parameter belongs to dashboards/i18n.py)
PARAMS = ("sector", "indicator", "governorate", "wave", "breakdown", "year", "source", "scope", "period")


def url_value(param: str) -> str | None:
    """The query parameter ``param`` of the page's URL (a string), or None when absent."""
    try:
        value = st.query_params.get(param)
    except Exception:  # noqa: BLE001 - no Streamlit script run
        return None
    return None if value in (None, "") else str(value)


def write_url(param: str, value: Any) -> None:
    """Put ``param=value`` into the page's URL (only when it differs: each write is a message to the
    browser); None removes the parameter."""
    text = None if value is None else str(value)
    if url_value(param) == text:
        return
    if text is None:
        st.query_params.pop(param, None)
    else:
        st.query_params[param] = text


def _from_url(param: str | None, options: Sequence[Any]) -> Any:
    """The option whose text is the URL's ``param`` value, or None."""
    raw = url_value(param) if param else None
    if raw is None:
        return None
    return next((o for o in options if str(o) == raw), None)


def select(
    label: str, options: Sequence[Any], key: str, *, param: str | None = None,
    format_func: Callable[[Any], str] = str, default_index: int = 0, **kwargs: Any,
) -> Any:
    """``st.selectbox`` over ``options`` whose displayed value is always the value returned.

    The value: this session's choice (``st.session_state[key]``) while it is an option; else the URL's
    ``?<param>=`` when that names an option (a shared link); else ``options[default_index]``. With
    ``param`` the value chosen is written back to the URL. Returns the selected option (None when
    ``options`` is empty). ``kwargs`` go to ``st.selectbox`` (``help``, ``label_visibility``, …)."""
    options = list(options)
    if options and st.session_state.get(key) not in options:
        restored = _from_url(param, options)
        st.session_state[key] = restored if restored is not None else options[min(default_index, len(options) - 1)]
    value = st.selectbox(label, options, key=key, format_func=format_func, **kwargs)
    if param and value is not None:
        write_url(param, value)
    return value


def remember(param: str, value: Any) -> None:
    """Write a selection made by another widget (a radio, a toggle) to the URL under ``param``."""
    write_url(param, value)
