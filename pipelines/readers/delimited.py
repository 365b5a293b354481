"""Read delimited text files (CSV, Kobo CSV exports) strictly into all-text polars frames.

Bytes are decoded with the declared encoding in strict mode: a Windows-1256 file read as UTF-8 fails
with the byte offset instead of producing mojibake. Every value stays text (types come from the
XLSForm or the mapping, never from how values look), and blank cells are NULL.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from data_contracts.personal_data import RedactingError


class FileReadError(RedactingError, ValueError):
    """A delivered file that cannot be read as declared (encoding, delimiter, header)."""


@dataclass(frozen=True)
class DelimitedFile:
    """A file read as text: ``frame`` has one all-text column per header plus nothing else.

    ``frame`` rows are the data rows in file order; row i (0-based) is data row ``i + 1``.
    """

    path: Path
    sha256: str
    size_bytes: int
    encoding: str
    delimiter: str
    had_bom: bool
    frame: pl.DataFrame


#: The encodings files delivered in Iraq come in: Unicode, the Arabic code pages (Windows, ISO, DOS) and
#: the Western and Turkish Windows ones. Judging only among these keeps a short Arabic value from being
#: taken for a Central European or East Asian text.
CANDIDATE_ENCODINGS = ["utf_8", "utf_16", "utf_32", "cp1256", "iso8859_6", "cp720", "cp864", "cp1252", "cp1254"]


def likely_encodings(data: bytes, limit: int = 3) -> list[str]:
    """The code pages the bytes most likely are, best first (charset-normalizer's judgement among
    :data:`CANDIDATE_ENCODINGS`: Python codec names such as ``cp1256``, ``utf_16``, ``cp1252``); empty when
    none decodes them as text."""
    import charset_normalizer

    names = []
    for match in charset_normalizer.from_bytes(data[:200_000], cp_isolation=CANDIDATE_ENCODINGS):
        if match.encoding not in names:
            names.append(match.encoding)
    return names[:limit]


def encoding_hint(data: bytes) -> str:
    """What to declare in the mapping, named from the bytes (never quoting them decoded)."""
    likely = likely_encodings(data)
    if not likely:
        return "the bytes are not text in any encoding charset-normalizer knows; is it the right file?"
    others = f" (also possible: {', '.join(likely[1:])})" if len(likely) > 1 else ""
    return f"they look like {likely[0]}{others}: declare the file's encoding in its mapping, e.g. encoding: {likely[0]}"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


#: Rows parsed into Python strings before they become a columnar frame: a file's rows as Python lists would
#: take about 15 times the file's size (a 100 MB export needed 1.5 GB); chunks keep that to one chunk.
CHUNK_ROWS = 20_000


def _columns(header: list[str], rows: list[list[str]]) -> pl.DataFrame:
    """Rows of text cells as a frame of String columns; blank and whitespace-only cells are NULL ("no answer",
    as Kobo leaves skipped questions empty)."""
    columns = list(zip(*rows)) if rows else [()] * len(header)
    frame = pl.DataFrame({h: pl.Series(h, col, dtype=pl.String) for h, col in zip(header, columns)})
    return frame.with_columns(
        pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c)).alias(c) for c in header
    )


def read_delimited(path: Path, encoding: str = "utf-8", delimiter: str = "auto") -> DelimitedFile:
    """Read a delimited text file strictly as text.

    Args:
        path: the file.
        encoding: declared encoding (``utf-8``, ``cp1256``, ...), decoded strictly.
        delimiter: ``,``, ``;``, tab, or ``auto`` (the most frequent of the three in the header line).

    Raises:
        FileReadError: undecodable bytes (with the byte offset), an empty file, duplicate or empty header
            names, or rows with a different number of fields than the header.
    """
    data = path.read_bytes()
    had_bom = data.startswith(b"\xef\xbb\xbf")
    try:
        text = data.decode(encoding, errors="strict")
    except UnicodeDecodeError as exc:
        raise FileReadError(
            f"{path.name}: bytes at offset {exc.start} are not valid {encoding} "
            f"({data[exc.start:exc.start + 4]!r}); {encoding_hint(data)}"
        ) from None
    except LookupError:
        raise FileReadError(f"{path.name}: unknown encoding {encoding!r}") from None
    sha256, size_bytes = hashlib.sha256(data).hexdigest(), len(data)
    del data
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise FileReadError(f"{path.name}: the file is empty")
    header_line = text.split("\n", 1)[0]
    if delimiter == "auto":
        counts = {d: header_line.count(d) for d in (",", ";", "\t")}
        # the most frequent of the three in the header line; a one-column file is read as CSV
        delimiter = max(counts, key=counts.get) if any(counts.values()) else ","
    # Python's csv module in strict mode: a broken quote or a row with the wrong number of fields stops
    # with its row number. Messages never quote cell values (they may be personal data).
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [h.strip() for h in next(reader)]
        if any(h == "" for h in header):
            raise FileReadError(f"{path.name}: the header has an empty column name (position {header.index('') + 1})")
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            raise FileReadError(f"{path.name}: duplicate column names in the header: {', '.join(dupes)}")
        frames: list[pl.DataFrame] = []
        chunk: list[list[str]] = []
        n_rows = 0
        for fields in reader:
            if not fields:  # a blank line
                continue
            n_rows += 1
            if len(fields) != len(header):
                raise FileReadError(
                    f"{path.name}: data row {n_rows} (line {reader.line_num}) has {len(fields)} fields, "
                    f"expected {len(header)} as in the header (delimiter {delimiter!r}); "
                    "a stray delimiter or quote, or a truncated row"
                )
            chunk.append(fields)
            if len(chunk) == CHUNK_ROWS:
                frames.append(_columns(header, chunk))
                chunk = []
        frames.append(_columns(header, chunk))
    except csv.Error as exc:
        raise FileReadError(
            f"{path.name}: malformed {delimiter!r}-delimited text at line {reader.line_num} ({exc}); "
            "check quoting around that line"
        ) from None
    del reader, text  # the decoded text and the reader's copy of it: freed before the frame is put together
    frame = pl.concat(frames, rechunk=True)
    return DelimitedFile(
        path=path,
        sha256=sha256,
        size_bytes=size_bytes,
        encoding=encoding,
        delimiter=delimiter,
        had_bom=had_bom,
        frame=frame,
    )
