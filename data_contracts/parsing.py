"""Strict parsing of numbers and dates as they arrive in Iraqi survey and budget files.

Values are normalised first (Arabic-Indic digits ٠–٩, Persian digits ۰–۹, the Arabic decimal
separator ``٫`` and thousands separator ``٬``), then parsed strictly: anything that is not a
well-formed number raises :class:`ValueParseError` naming the value and what was expected. Nothing
is ever coerced to NULL: the caller quarantines the row with the error's message.
"""

from __future__ import annotations

import datetime as dt
import re

#: What :func:`normalize_digits` replaces: Arabic-Indic (٠–٩) and Persian (۰–۹) digits, the Arabic decimal
#: and thousands separators, no-break spaces and direction marks. Also used by the vectorised (polars)
#: checks in ``pipelines.ingest.survey``, so both paths normalise the same way.
DIGIT_MAP: dict[str, str] = {
    **{chr(0x0660 + i): str(i) for i in range(10)},
    **{chr(0x06F0 + i): str(i) for i in range(10)},
    "٫": ".",
    "٬": ",",
    "\u00a0": "",
    "\u200f": "",
    "\u200e": "",
}
#: A number: optional sign, digits with well-formed thousands groups, optional decimals, optional exponent
#: (1.5e+03, as R and Stata write weights).
NUMBER_PATTERN = r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d{1,3})?$"
#: A whole number, ``3.0`` included.
WHOLE_NUMBER_PATTERN = r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.0+)?$"
_DIGITS = str.maketrans(DIGIT_MAP)
_NUMBER = re.compile(NUMBER_PATTERN)
_INTEGER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)$")


class ValueParseError(ValueError):
    """A cell that does not parse as the type its contract expects."""


def normalize_digits(text: str) -> str:
    """Replace Arabic-Indic and Persian digits and Arabic separators by ASCII ones; strip spaces.

    >>> normalize_digits("١٬٢٣٤٫٥")
    '1,234.5'
    """
    return text.translate(_DIGITS).strip()


def parse_number(text: str) -> float:
    """Parse a decimal number strictly (after :func:`normalize_digits`).

    Accepts ``12``, ``-3.5``, ``1,234,567.25``, ``١٢٫٥``, ``1.5e+03``. Rejects ``"1,,0"``, ``"12abc"``, ``"1,23"``,
    empty strings, ``nan`` and ``inf``.

    Raises:
        ValueParseError: naming the value and the expected form.
    """
    s = normalize_digits(text)
    if not _NUMBER.match(s):
        raise ValueParseError(f"'{text}' is not a number (expected digits, optional ',' thousands groups and '.' decimals)")
    return float(s.replace(",", ""))


def parse_integer(text: str) -> int:
    """Parse a whole number strictly; ``"3.0"`` is accepted only when its fraction is zero.

    Raises:
        ValueParseError: naming the value and the expected form.
    """
    s = normalize_digits(text)
    if _INTEGER.match(s):
        return int(s.replace(",", ""))
    if _NUMBER.match(s):
        value = float(s.replace(",", ""))
        if value.is_integer():
            return int(value)
    raise ValueParseError(f"'{text}' is not a whole number")


def parse_date(text: str) -> dt.date:
    """Parse an ISO date or an ISO timestamp (the date part as written, device-local; no UTC shift).

    Kobo ``start``/``end`` carry the device's offset (``2021-07-10T11:41:28.314+03:00``): the interview
    date is the local date written there, which is what this returns.

    Raises:
        ValueParseError: when the text is not an ISO date/timestamp.
    """
    s = normalize_digits(text)
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$", s)
    if not m:
        raise ValueParseError(f"'{text}' is not an ISO date (expected YYYY-MM-DD)")
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as exc:
        raise ValueParseError(f"'{text}' is not a valid date: {exc}") from None
