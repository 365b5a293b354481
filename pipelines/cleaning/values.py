"""Values of a cleaning log compared and checked as the question's type, not as text.

Field teams type logs by hand and in Excel: ``1,000,000.00`` is the number ``1000000``; a select_multiple
split column's ``0``, ``False`` and ``FALSE`` are the same answer; ``2021-07-05`` and an Excel date cell are
the same day. The kind of a column comes from the XLSForm (:func:`kind_of`).
"""

from __future__ import annotations

import datetime as dt
import re

from data_contracts.parsing import DIGIT_MAP, NUMBER_PATTERN
from pipelines.readers.xlsform import XLSForm

TRUE = {"1", "true", "yes"}
FALSE = {"0", "false", "no"}
_NUMBER = re.compile(NUMBER_PATTERN)
_DIGITS = str.maketrans(DIGIT_MAP)


def kind_of(column: str, form: XLSForm | None) -> str:
    """``number``, ``choice`` (select_one), ``choices`` (select_multiple), ``split`` (its 0/1 column),
    ``date``, ``datetime`` or ``text`` (anything else, and every column of an untyped file)."""
    if form is None:
        return "text"
    if column in form.split_columns():
        return "split"
    q = form.questions.get(column)
    if q is None:
        return "text"
    return {"integer": "number", "decimal": "number", "select_one": "choice", "select_multiple": "choices",
            "date": "date", "today": "date", "start": "datetime", "end": "datetime",
            "datetime": "datetime"}.get(q.type, "text")


def number(text: str | None) -> float | None:
    """A number as a person writes it (thousands separators, Arabic-Indic digits), or None."""
    if text is None:
        return None
    t = str(text).translate(_DIGITS).strip()
    if not _NUMBER.match(t):
        return None
    return float(t.replace(",", ""))


def _bool(text: str) -> bool | None:
    t = text.strip().lower()
    if t in TRUE or t == "1.0":
        return True
    if t in FALSE or t == "0.0":
        return False
    return None


def _date(text: str) -> dt.date | None:
    t = text.strip()
    try:
        return dt.date.fromisoformat(t[:10])
    except ValueError:
        pass
    for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(t, fmt).date()
        except ValueError:
            continue
    return None


def _instant(text: str) -> dt.datetime | None:
    t = text.strip().replace("Z", "+00:00")
    t = re.sub(r"([+-]\d{2})$", r"\1:00", t)
    t = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", t)
    try:
        value = dt.datetime.fromisoformat(t)
    except ValueError:
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def normal(text: str | None, kind: str):
    """The comparable form of a value (None for blank); text that does not read as its kind stays text,
    so it compares unequal to any well-formed value."""
    if text is None or str(text).strip() == "":
        return None
    t = str(text).strip()
    if kind == "number" or (kind == "text" and number(t) is not None):
        n = number(t)
        return n if n is not None else t
    if kind == "split":
        b = _bool(t)
        return b if b is not None else t
    if kind == "choices":
        return frozenset(t.split())
    if kind == "date":
        return _date(t) or t
    if kind == "datetime":
        return _instant(t) or t
    return t


def same(a: str | None, b: str | None, kind: str) -> bool:
    """Whether two values are the same answer for a column of ``kind``."""
    x, y = normal(a, kind), normal(b, kind)
    if isinstance(x, float) and isinstance(y, float):
        return abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))
    return x == y


def canonical(text: str, kind: str, style_true: str = "1", style_false: str = "0") -> str:
    """The text a new value is stored as: numbers without separators (``1000000``, ``2.5``), split columns
    in the file's own style (``1``/``0`` or ``True``/``False``), dates ``YYYY-MM-DD``, others trimmed."""
    t = str(text).strip()
    if kind == "number":
        n = number(t)
        return (str(int(n)) if n is not None and n.is_integer() else repr(n)) if n is not None else t
    if kind == "split":
        b = _bool(t)
        return t if b is None else (style_true if b else style_false)
    if kind == "choices":
        return " ".join(t.split())
    if kind == "date":
        d = _date(t)
        return d.isoformat() if d else t
    return t


def problem_with(text: str, kind: str, column: str, form: XLSForm | None) -> str | None:
    """Why ``text`` cannot be the answer to ``column`` (type, choice list), or None when it can."""
    t = str(text).strip()
    if kind == "number":
        n = number(t)
        if n is None:
            return f"{t!r} is not a number"
        q = form.questions[column] if form else None
        if q is not None and q.type == "integer" and not n.is_integer():
            return f"{t!r} is not a whole number ({column} is an integer question)"
    elif kind == "split":
        if _bool(t) is None:
            return f"{t!r} is not 1/0 or TRUE/FALSE (a select_multiple choice column)"
    elif kind == "choice":
        codes = form.choice_codes(column)
        if t not in codes:
            return f"{t!r} is not a choice of {column} (list '{form.questions[column].list_name}': {', '.join(codes[:15])}" \
                   + (", …" if len(codes) > 15 else "") + ")"
    elif kind == "choices":
        codes = form.choice_codes(column)
        bad = [c for c in t.split() if c not in codes]
        if bad:
            return f"{', '.join(map(repr, bad))} not a choice of {column} (list '{form.questions[column].list_name}')"
    elif kind == "date" and _date(t) is None:
        return f"{t!r} is not a date (YYYY-MM-DD)"
    elif kind == "datetime" and _instant(t) is None:
        return f"{t!r} is not an ISO timestamp"
    return None
