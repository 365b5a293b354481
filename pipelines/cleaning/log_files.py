"""Cleaning-log files: finding them in a source's landing folder, reading them, writing them for review.

Layout (the ``cleaningtools`` R package's): ``uuid, question, issue, old_value, change_type, new_value``;
other columns (``check``, ``enumerator``, ``wave_id``, ``file_name``) are kept for the reader and ignored when
the log is applied. Spellings field teams use are accepted: ``X_uuid`` / ``_uuid`` for ``uuid``, ``questions``
/ ``name`` for ``question``, a byte-order mark or R's ``X.U.FEFF.`` before the first header. A line's number
is its row in the spreadsheet (the header is line 1), as a reviewer sees it in Excel.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import polars as pl

from data_contracts.cleaning import CleaningLogFile
from data_contracts.mapping import SurveyMapping
from pipelines.ingest.common import FatalSourceError
from pipelines.readers.delimited import FileReadError, read_delimited, sha256_of

LOG_COLUMNS = ["uuid", "question", "issue", "old_value", "change_type", "new_value"]
CHANGE_TYPES = ("change_response", "blank_response", "remove_survey", "no_action")
_ALIASES = {
    "uuid": "uuid", "x_uuid": "uuid", "_uuid": "uuid", "submission_uuid": "uuid",
    "question": "question", "questions": "question", "question_name": "question", "name": "question",
    "variable": "question", "issue": "issue", "old_value": "old_value", "old.value": "old_value",
    "change_type": "change_type", "change.type": "change_type", "new_value": "new_value", "new.value": "new_value",
}


@dataclass(frozen=True)
class LogLine:
    """One line of a delivered log, as text (None = blank)."""

    log_file: str
    log_sha256: str
    line: int
    uuid: str | None
    question: str | None
    issue: str | None
    old_value: str | None
    change_type: str | None
    new_value: str | None

    def where(self) -> str:
        return f"{self.log_file} line {self.line}"


@dataclass
class CleaningLog:
    path: Path
    sha256: str
    wave_id: str | None
    lines: list[LogLine]


def log_files(mapping: SurveyMapping, folder: Path) -> list[tuple[Path, CleaningLogFile]]:
    """The reviewed logs in ``folder`` in the order they apply: the mapping's ``cleaning.logs`` entries in
    order, the files of one entry by name; a file matched by two entries applies once (the first)."""
    if not folder.is_dir():
        return []
    out, seen = [], set()
    names = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$")))
    for entry in mapping.cleaning.logs:
        for name in names:
            if fnmatch.fnmatch(name, entry.path) and name not in seen:
                seen.add(name)
                out.append((folder / name, entry))
    return out


def _text(value) -> str | None:
    """An Excel cell as the text a person typed: whole floats without ``.0``, booleans TRUE/FALSE, dates ISO."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _header(name: str) -> str:
    h = name.replace("\ufeff", "").strip()
    h = h.removeprefix("X.U.FEFF.").lower()
    return _ALIASES.get(h, h)


def read_log(path: Path, wave_id: str | None, respondent_id: str) -> CleaningLog:
    """Read one delivered log (CSV in UTF-8, any delimiter; or the first sheet of an XLSX).

    Raises:
        FatalSourceError: the file cannot be read, or lacks a ``uuid`` or ``change_type`` column.
    """
    sha = sha256_of(path)
    try:
        if path.suffix.lower() == ".xlsx":
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                rows = list(wb.worksheets[0].iter_rows(values_only=True))
            finally:
                wb.close()
            header = [_text(h) or "" for h in (rows[0] if rows else [])]
            body = [[_text(v) for v in r] for r in rows[1:]]
        else:
            frame = read_delimited(path, encoding="utf-8", delimiter="auto").frame
            header, body = list(frame.columns), [list(r) for r in frame.iter_rows()]
    except (FileReadError, OSError, KeyError, ValueError) as exc:
        raise FatalSourceError(f"cleaning log {path.name}: cannot be read: {exc}") from None
    names = [_header(h) for h in header]
    names = ["uuid" if n == respondent_id.lower() else n for n in names]
    for needed in ("uuid", "change_type"):
        if needed not in names:
            raise FatalSourceError(f"cleaning log {path.name}: no {needed!r} column (it has {header}); the layout is "
                                   f"{', '.join(LOG_COLUMNS)}")
    at = {n: names.index(n) for n in LOG_COLUMNS if n in names}
    lines = []
    for i, row in enumerate(body, start=2):
        cells = {n: (_text(row[j]) if j < len(row) else None) for n, j in at.items()}
        if not any(v for v in cells.values()):
            continue  # an empty row of a hand-made sheet
        lines.append(LogLine(log_file=path.name, log_sha256=sha, line=i, uuid=cells.get("uuid"),
                             question=cells.get("question"), issue=cells.get("issue"),
                             old_value=cells.get("old_value"),
                             change_type=(cells.get("change_type") or "").strip().lower() or None,
                             new_value=cells.get("new_value")))
    return CleaningLog(path=path, sha256=sha, wave_id=wave_id, lines=lines)


def read_logs(mapping: SurveyMapping, folder: Path) -> list[CleaningLog]:
    """Every reviewed log of a source, in the order they apply (:func:`log_files`)."""
    return [read_log(p, entry.wave_id, mapping.respondent_id) for p, entry in log_files(mapping, folder)]


def write_log(lines: pl.DataFrame, out: Path, enumerators: pl.DataFrame | None = None) -> Path:
    """Write a log for review: ``LOG_COLUMNS`` first (decision columns as given, usually empty), then the
    extra columns. ``.xlsx`` (openpyxl: sheet ``cleaning_log``, and ``enumerators`` when given) or ``.csv``
    (UTF-8 with a byte-order mark, so Excel reads Arabic; the enumerator table beside it as
    ``<name>.enumerators.csv``).

    Raises:
        ValueError: ``out`` is neither ``.xlsx`` nor ``.csv``.
    """
    ordered = lines.select(LOG_COLUMNS + [c for c in lines.columns if c not in LOG_COLUMNS])
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        out.write_bytes(b"\xef\xbb\xbf" + ordered.write_csv().encode("utf-8"))
        if enumerators is not None and enumerators.height:
            enumerators.write_csv(out.with_name(out.stem + ".enumerators.csv"))
        return out
    if suffix != ".xlsx":
        raise ValueError(f"{out.name}: the cleaning log is written as .xlsx or .csv")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "cleaning_log"
    ws.append(ordered.columns)
    for row in ordered.iter_rows():
        ws.append(list(row))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    if enumerators is not None and enumerators.height:
        ws2 = wb.create_sheet("enumerators")
        ws2.append(enumerators.columns)
        for row in enumerators.iter_rows():
            ws2.append(list(row))
    wb.save(out)
    return out
