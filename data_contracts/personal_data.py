"""Personal data found by its *values*: detect and redact it before anything is written or printed.

Column names catch most personal data (``pipelines.ingest.survey``: name, phone and position columns are
dropped whole); this module catches what hides in other columns, value by value: a phone number typed as
a rating, a GPS pair in an hours column, an e-mail address in a remark. Every write and print of the
pipeline passes text through :func:`redact_text` (strings) or :func:`redact_frame` (polars frames):
``audit.*`` and ``raw.*`` tables, error messages (:class:`RedactingError`), the run summary, the run log,
the journal and the step logs. docs/security.md lists the places.

A match is replaced by ``<redacted KIND #HASH>``: KIND is one of :data:`KINDS`; HASH is the first 8 hex
digits of HMAC-SHA256(salt, the value with its separators removed), so the same phone number written
``0770 999 8888`` or ``07709998888`` gives the same marker in every table and log of a warehouse, and an
engineer who holds the warehouse's salt can find the rows of a number someone asks about
(:func:`marker`). The salt is a per-warehouse secret file (:func:`use_warehouse`), created once with
mode 0600, never logged and never copied into a snapshot. Without it (a process that has not named its
warehouse) a random salt of this process is used: values are still redacted, the hashes just cannot be
matched later.

Patterns (checked in this order; each applies to the text left by the previous ones):

- ``email``: ``name@domain.tld``.
- ``gps``: a latitude/longitude pair, both with 3 or more decimals (``33.301,44.361``, ``36.19 44.01``
  is not: two decimals are a measurement, not a position), as Kobo writes a geopoint or a person types one.
- ``phone``: Iraqi mobile numbers (``07701234567``, ``0770 999 8888``, ``0770-999-8888``,
  ``+964 770 123 4567``, ``00964 7701234567``, ``9647701234567``, and ``7701234567`` as a number column
  keeps it: an operator prefix 73x-79x) and international
  numbers written with ``+`` or ``00`` and 8 to 15 digits (``+44 20 7946 0958``).
- ``national_id``: the 12-digit number of the Iraqi unified national card (``199012345678``, also
  written in groups of four).

Digits are compared after Arabic-Indic and Persian digits are made ASCII (``data_contracts.parsing``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

import polars as pl

from data_contracts.parsing import DIGIT_MAP

KINDS = ("email", "gps", "phone", "national_id")

#: Python regular expressions (also valid for polars' Rust engine): no look-behind, so boundaries are
#: written as explicit "start or a character that cannot continue the value" groups in :data:`_SCAN`.
_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_GPS = r"-?\d{1,2}\.\d{3,}\s*[,;]?\s*-?\d{1,3}\.\d{3,}"
_IRAQ_MOBILE = r"(?:(?:\+|00)\s?964[\s-]?|964[\s-]?|0)?7[3-9]\d[\s-]?\d{3}[\s-]?\d{4}"
_INTERNATIONAL = r"(?:\+|00)\d{1,3}(?:[\s-]?\d){7,13}"
_NATIONAL_ID = r"\d{4}[\s-]?\d{4}[\s-]?\d{4}"
PATTERNS: dict[str, str] = {
    "email": _EMAIL,
    "gps": _GPS,
    "phone": f"(?:{_IRAQ_MOBILE}|{_INTERNATIONAL})",
    "national_id": _NATIONAL_ID,
}
# a value must not continue a longer number, word or token on either side (so a 64-digit hash, a UUID, a
# budget amount of 15 digits or a p-code holds no "phone number")
_BEFORE = r"(?:^|[^\w.+@-])"
_AFTER = r"(?:$|[^\w@.-]|[.-](?:[^\w]|$))"  # "-" or "." then a letter or digit: a longer token (a UUID, 1.5)
_SCAN = {kind: re.compile(f"{_BEFORE}({pattern}){_AFTER}") for kind, pattern in PATTERNS.items()}
_DIGITS = str.maketrans(DIGIT_MAP)
_MARKER = re.compile(r"<redacted (?:email|gps|phone|national_id) #[0-9a-f]{8}>")

SALT_FILE_SUFFIX = ".redaction-salt"
_salt: bytes = secrets.token_bytes(32)
_salt_path: Path | None = None


def salt_path(warehouse: str | Path) -> Path:
    """The salt file of a warehouse: ``<folder>/.<stem>.redaction-salt`` next to the warehouse pointer
    (outside the snapshots, the archive and the logs, so no snapshot or log carries it)."""
    p = Path(os.path.abspath(Path(warehouse).expanduser()))
    return p.parent / f".{p.stem}{SALT_FILE_SUFFIX}"


def use_warehouse(warehouse: str | Path) -> Path:
    """Use the salt of ``warehouse`` for every marker of this process, creating it (32 random bytes,
    mode 0600) the first time. Returns the salt file's path.

    Raises:
        OSError: the salt file cannot be created or read.
    """
    global _salt, _salt_path
    path = salt_path(warehouse)
    if _salt_path == path:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        try:
            os.write(fd, secrets.token_hex(32).encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
    salt = path.read_bytes().strip()
    if len(salt) < 32:  # a truncated file (a crash between create and write) would weaken every hash
        raise OSError(f"the redaction salt file {path} is shorter than 32 bytes; remove it to make a new one")
    _salt, _salt_path = salt, path
    return path


def _normalise(kind: str, value: str) -> str:
    """The value compared by the hash: digits only for numbers (an Iraqi mobile in its national form
    ``07xxxxxxxxx`` however it was written), lower case for e-mail, the two coordinates for GPS."""
    if kind == "email":
        return value.lower()
    if kind == "gps":
        return ",".join(re.findall(r"-?\d+\.\d+", value))
    digits = re.sub(r"\D", "", value)
    if kind == "phone":
        if digits.startswith("00"):
            digits = digits[2:]
        if digits.startswith("9647") and len(digits) == 13:
            digits = "0" + digits[3:]
        elif digits.startswith("7") and len(digits) == 10:
            digits = "0" + digits
    return digits


def marker(kind: str, value: str) -> str:
    """``<redacted KIND #HASH>`` of one value (with the salt in use: :func:`use_warehouse`)."""
    digest = hmac.new(_salt, _normalise(kind, value.translate(_DIGITS)).encode("utf-8"), hashlib.sha256)
    return f"<redacted {kind} #{digest.hexdigest()[:8]}>"


def find(text: str) -> list[tuple[str, str]]:
    """Every personal value in ``text`` as ``(kind, value)``, in the order they are redacted."""
    out = []
    work = text.translate(_DIGITS)
    for kind, rx in _SCAN.items():
        for m in rx.finditer(work):
            out.append((kind, m.group(1)))
        work = rx.sub(lambda m: m.group(0).replace(m.group(1), " "), work)
    return out


def redact_text(text: str | None) -> str | None:
    """``text`` with every personal value replaced by its marker (None stays None)."""
    if not text:
        return text
    work = text.translate(_DIGITS) if any(c in DIGIT_MAP for c in text) else text
    for kind, rx in _SCAN.items():
        if rx.search(work):
            work = rx.sub(lambda m, k=kind: m.group(0).replace(m.group(1), marker(k, m.group(1))), work)
    return work


def redact_obj(obj):
    """Every string inside a JSON-like object (dict, list, tuple) redacted; other values kept."""
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, dict):
        return {k: redact_obj(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(redact_obj(v) for v in obj)
    return obj


def contains_personal(text: str | None) -> bool:
    """Whether ``text`` holds a value :func:`redact_text` would replace."""
    return bool(text) and any(rx.search(text.translate(_DIGITS)) for rx in _SCAN.values())


def redact_frame(frame: pl.DataFrame, skip: set[str] = frozenset()) -> tuple[pl.DataFrame, dict[tuple[str, str], int]]:
    """Every String column of ``frame`` (but ``skip``) redacted value by value.

    Returns:
        The frame (same shape, columns and order) and the number of values redacted per (column, kind).
        Only values that may match are handed to Python (a vectorised pre-filter), so a large table with
        no personal data costs one regex scan per column.
    """
    counts: dict[tuple[str, str], int] = {}
    if frame.height == 0:
        return frame, counts
    replaced = {}
    for col, dtype in frame.schema.items():
        if dtype != pl.String or col in skip:
            continue
        s = frame[col]
        normal = s.str.replace_many(list(DIGIT_MAP), list(DIGIT_MAP.values()))
        hit = pl.Series([False] * frame.height)
        for kind in KINDS:
            found = normal.str.contains(PATTERNS[kind]).fill_null(False)
            hit = hit | found
        if not hit.any():
            continue
        mapping = {}
        for v, n in s.filter(hit).value_counts().iter_rows():
            for kind, _value in find(v):
                counts[(col, kind)] = counts.get((col, kind), 0) + n
            mapping[v] = redact_text(v)
        mapping = {k: v for k, v in mapping.items() if k != v}
        if mapping:
            replaced[col] = s.replace_strict(mapping, default=s, return_dtype=pl.String)
    if not replaced:
        return frame, counts
    return frame.with_columns(*(v.alias(k) for k, v in replaced.items())), counts


class RedactingError(Exception):
    """Mixin of an error whose message is redacted when it is made, so no traceback, log or screen shows
    the personal value a message quoted. The pipeline's errors put it first among their bases
    (``class FatalSourceError(RedactingError, RuntimeError)``)."""

    def __init__(self, message: object = "", *args):
        super().__init__(redact_text(str(message)), *args)


class RedactingStream:
    """A text stream that redacts every write before passing it on (step logs, a verbose terminal):
    ``contextlib.redirect_stdout(RedactingStream(log_file))``."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact_text(text) or "")
        return len(text)

    def __getattr__(self, name):  # flush, fileno, encoding, isatty...: the wrapped stream's
        return getattr(self._stream, name)


def is_marker_only(text: str) -> bool:
    """Whether ``text`` is exactly one redaction marker (as a quarantined value usually is)."""
    return bool(_MARKER.fullmatch(text))
