"""Read Excel workbooks (KoboToolbox XLSX exports, plain XLSX files) strictly into all-text polars frames.

Every value becomes the same canonical text the CSV reader (:mod:`pipelines.readers.delimited`) produces,
so the downstream strict parsing (``data_contracts.parsing``) sees one convention whatever the format:

================================  ===================================================================
cell                              text
================================  ===================================================================
text                              as written (``"00123"`` stays ``"00123"``, no stripping)
number, whole                     ``"12"`` (never ``"12.0"``; ``1e20`` → ``"100000000000000000000"``)
number, other                     shortest round-tripping repr: ``"0.1"``, ``"1.5e-07"``
boolean                           ``"True"`` / ``"False"``
date (date-formatted number)      ``"2024-01-05"`` when the time of day is 00:00:00
date and time                     ``"2024-01-05T10:30:15"``, ``"2024-01-05T10:30:15.250"`` (ms kept when non-zero)
time of day (serial below 1)      ``"10:30:00"`` (``"10:30:00.500"``)
duration (``[h]:mm:ss`` format)   ``"30:00:01"`` (hours not wrapped at 24)
Excel error (``#N/A``, ...)       the error as Excel shows it: ``"#N/A"``, ``"#DIV/0!"``, ``"#VALUE!"``, ...
blank, whitespace only            NULL
================================  ===================================================================

Decisions:

- **Number formats are ignored** except to recognise dates: a cell shows its stored value, not its
  display (``0.15`` shown as ``15%`` is ``"0.15"``; ``123`` shown as ``00123`` by a custom format is ``"123"``).
  Kobo writes ids as text, which keeps leading zeros.
- **Excel error cells are kept as their text**, never NULL and never a read failure: a ``#N/A`` in a
  numeric or coded column fails the typed check downstream and its row is quarantined with the value
  shown, while one stray formula error elsewhere does not stop a whole delivery. They are also listed in
  :attr:`Workbook.error_cells` (sheet, row, column, value) so ingestion can report them even in text columns,
  where a typed check would pass; a text cell typed as ``#N/A`` is text and is not listed.
- **Rows keep their sheet position.** Data row 1 is the first row after the header row (as in the CSV
  reader), and data row *n* is always Excel row ``header_row + n``. An empty row between data rows (Kobo
  never writes one; it means a hand-edited sheet) is kept as a row of NULLs rather than dropped, so no later
  row is renumbered and a row number in a quarantine report is found in Excel where it says; such rows
  are listed in :attr:`Workbook.empty_rows` for ingestion to report and skip. Empty rows after the last
  data row are dropped. Rows above the header row (titles, units) are not read.
- **Header**: the cells of the header row from its first to its last non-blank cell name the columns
  (stripped). An empty or duplicate name, an Excel error as a name, or a value in a column outside that
  span fails naming the sheet and the cell. A merged header cell keeps its text in its first cell only, so a
  merged header spanning several columns fails as "empty column name" at the second cell (merged
  ranges are not unmerged: which column would the text belong to?). A merged data cell likewise gives
  its value to its first cell and NULL to the others.
- **Formula cells** are read from the result Excel saved with the file. A workbook written by a program
  (openpyxl, ...) and never opened in Excel has formulas without saved results, which fastexcel would
  read as blank: the reader finds them in the sheet's XML and fails naming the cells rather than read
  NULLs (Kobo exports hold no formulas).
- Hidden sheets are read like the others; ``sha256`` is the hash of the bytes parsed (the same as
  ``sha256_of(path)`` for a file at rest, and never of a file changed between hashing and reading).

How the cells are read (fastexcel 0.21 / calamine, verified in ``tests/pipelines/test_readers_workbook.py``):
fastexcel's ``dtypes="string"`` mode turns numbers into lossy text (``1/3`` → ``"0.333333333"``,
``1.5e-07`` → ``"0.00000015"``), dates into ``"2024-01-05 00:00:00"``, booleans into ``"true"``, and error
cells into NULL (reported only through ``to_arrow_with_errors``). So each sheet is loaded as text once,
and the columns holding anything that might not be a text cell are loaded again as ``float`` (exact
numbers; dates and errors fail with their raw serial in the error detail) and as ``datetime`` (text and
boolean cells fail with their type named). Together they give each cell's type, and the text is built here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import fastexcel
import polars as pl

from pipelines.readers.delimited import FileReadError


@dataclass(frozen=True)
class ErrorCell:
    """An Excel error cell in the data: ``row`` is the data row (1 = first row after the header)."""

    sheet: str
    row: int
    column: str
    cell: str  # A1-style reference, e.g. "G3"
    value: str  # as Excel shows it, e.g. "#N/A"


@dataclass(frozen=True)
class Workbook:
    """A workbook read as text.

    ``frame`` is the main sheet; ``sheets`` holds every other non-empty sheet by name in workbook order (a
    Kobo export's repeat groups). Every frame has one ``pl.String`` column per header cell; frame row i
    (0-based) is data row ``i + 1``, i.e. Excel row ``header_row + i + 1``. ``empty_rows[sheet]`` lists
    the data rows with no value at all (kept as rows of NULLs) for the main sheet and every other sheet read;
    ``error_cells`` lists the Excel error cells of all of them.
    """

    path: Path
    sha256: str
    size_bytes: int
    main_sheet: str
    header_row: int
    frame: pl.DataFrame
    sheets: dict[str, pl.DataFrame]
    empty_rows: dict[str, tuple[int, ...]]
    error_cells: tuple[ErrorCell, ...]


@dataclass(frozen=True)
class Orphan:
    """A child row that links to no parent row: ``row`` is its 1-based row, ``key`` its (maybe NULL) key."""

    row: int
    key: str | None


@dataclass(frozen=True)
class RepeatLink:
    """A child frame linked to its parent: ``frame`` is the child with ``__parent_row`` added.

    ``__parent_row`` (Int64) is the 1-based row of the parent in the parent frame, NULL for an orphan;
    ``orphans`` lists the child rows whose key is blank or matches no parent key, in child order.
    """

    frame: pl.DataFrame
    orphans: tuple[Orphan, ...]


#: calamine's CellErrorType names → the text Excel shows.
_ERROR_TEXT = {
    "Div0": "#DIV/0!", "NA": "#N/A", "Name": "#NAME?", "Null": "#NULL!", "Num": "#NUM!", "Ref": "#REF!",
    "Value": "#VALUE!", "GettingData": "#DATA!",
}
#: The cell type fastexcel names in a conversion error: "Expected float but got 'String(\"x\")'".
_VARIANT = re.compile(r"but got '(\w+)\(")
_ERROR_CODE = re.compile(r"'Error\((\w+)\)")
_EXCEL_DATETIME = re.compile(
    r"value: (?P<value>[-+0-9.eE]+|inf|NaN), datetime_type: (?P<kind>\w+), is_1904: (?P<is_1904>true|false)"
)
#: fastexcel's text for a number, date, duration or boolean starts with a digit or sign, or is true/false;
#: a column with no such text holds text cells only and needs no second look.
_MAYBE_NOT_TEXT = r"(?i)^(\s*[-+.0-9]|true$|false$)"
_DAY_MS = 86_400_000


def column_letter(index: int) -> str:
    """Excel's letters for a 0-based column index: 0 → ``A``, 27 → ``AB``."""
    letters = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _number_text(value: float) -> str:
    if math.isfinite(value) and value.is_integer():
        return str(int(value))  # -0.0 → "0"
    return repr(value)


def _clock(ms: int, hour_digits: int = 2) -> str:
    """``HH:MM:SS`` (``.fff`` when the milliseconds are not zero) of a non-negative number of milliseconds."""
    seconds, frac = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:0{hour_digits}d}:{minutes:02d}:{seconds:02d}" + (f".{frac:03d}" if frac else "")


def _excel_datetime_text(detail: str) -> str | None:
    """The text of a date/time cell from fastexcel's error detail (its raw serial and kind), None if unknown.

    Excel stores dates as day serials: 1900 system day 1 = 1900-01-01, with Excel's phantom 1900-02-29
    as day 60 (kept as that text: no real date has it); 1904 system day 0 = 1904-01-01. Times are rounded
    to the millisecond (Excel's finest display).
    """
    m = _EXCEL_DATETIME.search(detail)
    if not m:
        return None
    serial = float(m["value"])
    if not math.isfinite(serial):
        return None
    total_ms = round(serial * _DAY_MS)
    if m["kind"] == "TimeDelta":
        return ("-" if total_ms < 0 else "") + _clock(abs(total_ms), hour_digits=1)
    days, ms = divmod(total_ms, _DAY_MS)
    if days == 0:  # a time of day (serial below 1): Excel shows no date
        return _clock(ms)
    if m["is_1904"] == "true":
        date_text = (dt.date(1904, 1, 1) + dt.timedelta(days=days)).isoformat()
    elif days == 60:
        date_text = "1900-02-29"
    else:
        date_text = (dt.date(1899, 12, 31 if days < 60 else 30) + dt.timedelta(days=days)).isoformat()
    return date_text if ms == 0 else f"{date_text}T{_clock(ms)}"


def _load(
    reader: fastexcel.ExcelReader, path: Path, sheet: str, dtype: str, columns: list[str] | None = None
) -> tuple[pl.DataFrame, dict[str, int], dict[str, list[tuple[int, str]]]]:
    """One fastexcel pass over a sheet as ``dtype``: (frame, column name → Excel column index, errors).

    Frame row i is Excel row i + 1; columns get generated names (``__UNNAMED__0`` ...) from the sheet's first
    used column on. ``errors[column]`` lists (frame row, detail) of the cells fastexcel could not convert.
    """
    try:
        # header_row=None with skip_rows=0: every row from Excel row 1, leading empty rows included (with
        # skip_rows=None fastexcel drops them and every row number would shift)
        loaded = reader.load_sheet(sheet, header_row=None, skip_rows=0, dtypes=dtype, use_columns=columns)
        batch, cell_errors = loaded.to_arrow_with_errors()
    except fastexcel.FastExcelError as exc:
        raise FileReadError(f"{path.name}: sheet {sheet!r} cannot be read: {str(exc).splitlines()[0]}") from None
    # an error's position is (row, ColumnInfo.index), whatever columns were selected
    names = {c.index: c.name for c in loaded.selected_columns}
    errors: dict[str, list[tuple[int, str]]] = {}
    for e in cell_errors.errors if cell_errors else []:
        errors.setdefault(names[e.position[1]], []).append((e.position[0], e.detail))
    return pl.from_arrow(batch), {c.name: c.absolute_index for c in loaded.selected_columns}, errors


def _variant(detail: str) -> str:
    """The calamine cell type named in a fastexcel conversion error (``String``, ``Bool``, ``DateTime`` ...)."""
    m = _VARIANT.search(detail)
    return m[1] if m else "?"


def _canonical_sheet(reader, path: Path, sheet: str) -> tuple[pl.DataFrame, dict[str, int], dict[tuple[int, str], str]]:
    """A sheet as canonical text: (frame with generated column names, name → Excel column index, error cells).

    Frame row i is Excel row i + 1. Error cells map (frame row, column name) → text such as ``#N/A``.
    """
    text, absolute, text_errors = _load(reader, path, sheet, "string")
    where = f"{path.name}: sheet {sheet!r}"
    # string mode converts every cell but an error cell
    error_cells: dict[tuple[int, str], str] = {}
    for col, cells in text_errors.items():
        for row, detail in cells:
            code = _ERROR_CODE.search(detail)
            if code is None:
                raise FileReadError(f"{where}: cell {column_letter(absolute[col])}{row + 1} cannot be read ({detail})")
            error_cells[(row, col)] = _ERROR_TEXT.get(code[1], f"#{code[1].upper()}")
    if text.height == 0 or text.width == 0:
        return text, absolute, error_cells
    flags = text.select(pl.col(c).str.contains(_MAYBE_NOT_TEXT).any() for c in text.columns).row(0)
    suspects = [c for c, flagged in zip(text.columns, flags) if flagged]
    out = {c: text[c] for c in text.columns}
    if suspects:
        # float mode gives numbers exactly and accepts booleans and number-like text too; it refuses dates
        # (naming their serial) and other text. Datetime mode accepts numbers and dates only, so it names
        # which of the float-mode values were text or booleans.
        numbers, _, number_errors = _load(reader, path, sheet, "float", suspects)
        with_numbers = [c for c in suspects if numbers[c].is_not_null().any()]
        date_errors = _load(reader, path, sheet, "datetime", with_numbers)[2] if with_numbers else {}
        for c in suspects:
            n = text.height
            f = numbers[c]
            patch_rows: list[int] = []
            patch_values: list[str] = []
            for row, detail in number_errors.get(c, []):
                if _variant(detail) == "DateTime":
                    rendered = _excel_datetime_text(detail)
                    if rendered is None:
                        raise FileReadError(
                            f"{where}: cell {column_letter(absolute[c])}{row + 1}: unrecognised date cell ({detail})"
                        )
                    patch_rows.append(row)
                    patch_values.append(rendered)
                # text cells (and ISO-text dates) keep their text; error cells are patched below
            not_number = [False] * n
            booleans: list[int] = []
            for row, detail in date_errors.get(c, []):
                kind = _variant(detail)
                if kind == "String":
                    not_number[row] = True
                elif kind == "Bool":
                    not_number[row] = True
                    booleans.append(row)
            number = f.is_not_null() & ~pl.Series(not_number, dtype=pl.Boolean)
            whole = number & f.is_finite() & (f == f.floor()) & (f.abs() < 2.0**62)
            as_int = f.cast(pl.Int64, strict=False).cast(pl.String)
            col = pl.select(pl.when(whole).then(as_int).otherwise(text[c])).to_series()
            others = (number & ~whole).arg_true()
            patch_rows += others.to_list()
            patch_values += [_number_text(v) for v in f.gather(others).to_list()]
            patch_rows += booleans
            patch_values += ["True" if f[row] else "False" for row in booleans]
            if patch_rows:
                col = col.scatter(patch_rows, patch_values)
            out[c] = col.alias(c)
    for (row, c), value in error_cells.items():
        out[c] = out[c].scatter(row, value)
    frame = pl.DataFrame(list(out.values()))
    # Blank and whitespace-only cells are "no answer": NULL, exactly as the CSV reader does.
    frame = frame.with_columns(
        pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c)).alias(c) for c in frame.columns
    )
    return frame, absolute, error_cells


def _table(
    path: Path, sheet: str, canon: pl.DataFrame, absolute: dict[str, int], errors: dict[tuple[int, str], str],
    header_row: int,
) -> tuple[pl.DataFrame, tuple[int, ...], list[ErrorCell]] | None:
    """Cut a canonical sheet into header and data rows; None when the sheet holds nothing from the header row on."""
    where = f"{path.name}: sheet {sheet!r}"
    hdr = header_row - 1  # frame row of the header
    body = canon.slice(hdr) if canon.height > hdr else canon.clear()
    if body.height == 0 or body.select(pl.any_horizontal(pl.all().is_not_null()).any()).item() is False:
        return None
    header = body.row(0)
    named = [i for i, h in enumerate(header) if h is not None]
    if not named:
        raise FileReadError(f"{where}: header row {header_row} is empty but rows below it hold values")
    first, last = named[0], named[-1]
    cols = body.columns
    data = body.slice(1)
    for i, c in enumerate(cols):
        if first <= i <= last:
            continue
        filled = data[c].is_not_null().arg_true()
        if filled.len():
            n = filled[0] + 1
            raise FileReadError(
                f"{where}: column {column_letter(absolute[c])} has a value in data row {n} "
                f"(cell {column_letter(absolute[c])}{header_row + n}) but no name in header row {header_row}"
            )
    names: list[str] = []
    for i in range(first, last + 1):
        c = cols[i]
        ref = f"{column_letter(absolute[c])}{header_row}"
        if (hdr, c) in errors:
            raise FileReadError(f"{where}: header cell {ref} is an Excel error ({errors[(hdr, c)]}), not a column name")
        name = (header[i] or "").strip()
        if not name:
            raise FileReadError(
                f"{where}: the header has an empty column name at cell {ref} (position {i - first + 1}); "
                "a merged header cell leaves every cell but its first empty"
            )
        names.append(name)
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        refs = [f"{column_letter(absolute[cols[first + i]])}{header_row}" for i in range(len(names))]
        where_dupes = "; ".join(f"{n} at " + ", ".join(r for r, m in zip(refs, names) if m == n) for n in dupes)
        raise FileReadError(f"{where}: duplicate column names in header row {header_row}: {where_dupes}")
    data = data.select(pl.col(cols[first + i]).alias(n) for i, n in enumerate(names))
    filled = data.select(pl.any_horizontal(pl.all().is_not_null()).alias("f"))["f"]
    kept = int(filled.arg_true().max() + 1) if filled.any() else 0
    data = data.head(kept)
    empty_rows = tuple(int(i) + 1 for i in filled.head(kept).not_().arg_true())
    error_cells = [
        ErrorCell(sheet=sheet, row=row - hdr, column=names[cols.index(c) - first],
                  cell=f"{column_letter(absolute[c])}{row + 1}", value=value)
        for (row, c), value in sorted(errors.items(), key=lambda kv: (kv[0][0], cols.index(kv[0][1])))
        if row > hdr and first <= cols.index(c) <= last
    ]
    return data, empty_rows, error_cells


_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
#: A cell whose only content is a formula, with no <v> or an empty one: no result was ever saved.
_FORMULA_CELL = re.compile(
    rb"<(?:\w+:)?c\b([^>]*)>\s*<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>)\s*"
    rb"(<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → the zip member holding its XML, from ``xl/workbook.xml`` and its relationships."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    parts = {}
    for sheet in workbook.iter():
        if sheet.tag.endswith("}sheet") and sheet.get(_REL_ID) in targets:
            target = targets[sheet.get(_REL_ID)]
            parts[sheet.get("name")] = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join("xl", target)
            )
    return parts


def _uncached_formulas(data: bytes, sheets: list[str]) -> dict[str, list[str]]:
    """Cells (A1 references) of ``sheets`` holding a formula whose result was never saved, by sheet.

    calamine reads such a cell as empty; only the sheet's XML tells it from a blank cell. Excel and
    LibreOffice save every result; openpyxl and similar writers do not. A formula whose saved result is the
    empty string (``t="str"`` with an empty ``<v>``) has a result and is not reported. Not an xlsx
    package (xls, ods): nothing to check, {}.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = _sheet_parts(archive)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError):
        return {}
    found: dict[str, list[str]] = {}
    with archive:
        for sheet in sheets:
            if sheet not in parts or parts[sheet] not in archive.namelist():
                continue
            xml = archive.read(parts[sheet])
            if not _FORMULA.search(xml):
                continue
            for m in _FORMULA_CELL.finditer(xml):
                attrs = m[1]
                if m[2] is not None and re.search(rb'\bt="(str|inlineStr)"', attrs):
                    continue  # the saved result is the empty string
                ref = re.search(rb'\br="([A-Z]+[0-9]+)"', attrs)
                found.setdefault(sheet, []).append(ref[1].decode() if ref else "?")
    return found


def read_workbook(
    path: Path, *, main_sheet: str | None = None, header_row: int = 1, other_sheets: bool = True
) -> Workbook:
    """Read an Excel workbook (a Kobo XLSX export, a plain XLSX file) strictly as text.

    Args:
        path: the workbook (xlsx; any format fastexcel opens: xlsm, xlsb, xls, ods).
        main_sheet: the sheet holding the main table; default the first sheet.
        header_row: the 1-based Excel row of the header, in every sheet read (rows above it are skipped).
        other_sheets: read the other sheets too (Kobo repeat groups); False for a plain file whose other
            sheets are notes rather than tables.

    Returns:
        A :class:`Workbook`; values as canonical text (module docstring).

    Raises:
        FileReadError: the file cannot be read or is not a workbook; ``main_sheet`` is missing (the sheets are
            listed); the main sheet is empty; in any sheet read, a header row with an empty, duplicate or
            error-cell name, a value in a column without a name, or formulas whose results were never saved.
    """
    if header_row < 1:
        raise ValueError(f"header_row is 1-based, got {header_row}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileReadError(f"{path.name}: cannot read the file ({exc.strerror})") from None
    if not data:
        raise FileReadError(f"{path.name}: the file is empty, not an Excel workbook")
    try:
        reader = fastexcel.read_excel(data)
    except fastexcel.FastExcelError as exc:
        raise FileReadError(
            f"{path.name}: not a readable Excel workbook (xlsx): {str(exc).splitlines()[0]}"
        ) from None
    names = list(reader.sheet_names)
    if not names:
        raise FileReadError(f"{path.name}: the workbook has no sheets")
    if main_sheet is None:
        main_sheet = names[0]
    elif main_sheet not in names:
        raise FileReadError(f"{path.name}: no sheet named {main_sheet!r}; the sheets are {names}")
    read = [main_sheet] + ([n for n in names if n != main_sheet] if other_sheets else [])
    uncached = _uncached_formulas(data, read)
    if uncached:
        sheet, cells = next(iter(uncached.items()))
        shown = ", ".join(cells[:5]) + (f" and {len(cells) - 5} more" if len(cells) > 5 else "")
        raise FileReadError(
            f"{path.name}: sheet {sheet!r} has formulas whose results were never saved (cells {shown}): the "
            "program that wrote the file left them for Excel to calculate; open and save it in Excel or "
            "LibreOffice, or deliver values"
        )
    main = _table(path, main_sheet, *_canonical_sheet(reader, path, main_sheet), header_row)
    if main is None:
        raise FileReadError(f"{path.name}: the main sheet {main_sheet!r} is empty from header row {header_row} on")
    frame, empty, errors = main
    empty_rows = {main_sheet: empty}
    error_cells = list(errors)
    sheets: dict[str, pl.DataFrame] = {}
    for name in names if other_sheets else []:
        if name == main_sheet:
            continue
        table = _table(path, name, *_canonical_sheet(reader, path, name), header_row)
        if table is None:
            continue
        sheets[name], empty_rows[name], errors = table
        error_cells += errors
    return Workbook(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),  # of the bytes parsed (= sha256_of(path) for a file at rest)
        size_bytes=len(data),
        main_sheet=main_sheet,
        header_row=header_row,
        frame=frame,
        sheets=sheets,
        empty_rows=empty_rows,
        error_cells=tuple(error_cells),
    )


def link_repeat(
    parent: pl.DataFrame,
    child: pl.DataFrame,
    *,
    parent_key: str = "_index",
    child_key: str = "_parent_index",
    parent_name: str = "parent sheet",
    child_name: str = "child sheet",
) -> RepeatLink:
    """Link the rows of a repeat group to their parent rows by key.

    Kobo XLSX exports (the defaults): a repeat sheet's ``_parent_index`` is the ``_index`` of its parent
    row, in the main sheet or, for a nested repeat, in the enclosing repeat's sheet. ODK Central repeat CSVs:
    ``parent_key="KEY", child_key="PARENT_KEY"``; a child's ``PARENT_KEY`` is its parent's ``KEY``
    (``uuid:...`` for the main file, ``uuid:.../members[1]`` for a row of an enclosing repeat file).

    Keys are compared as text exactly (both frames come from the readers, so a number is ``"12"`` on either
    side). A parent row with a blank key links no child; it is not an error.

    Args:
        parent, child: all-text frames (as :func:`read_workbook` or ``read_delimited`` return them).
        parent_key, child_key: the key columns.
        parent_name, child_name: the sheets' or files' names, for messages.

    Returns:
        A :class:`RepeatLink`: the child frame with ``__parent_row`` (Int64, 1-based row in ``parent``,
        NULL when orphaned) and the orphans (child rows whose key is blank or matches no parent key).

    Raises:
        FileReadError: a key column is missing (naming the sheet and column), or two parent rows share a key
            (naming the key and rows).
    """
    for frame, name, key in ((parent, parent_name, parent_key), (child, child_name, child_key)):
        if key not in frame.columns:
            raise FileReadError(f"{name}: no key column {key!r} to link the repeat group by (columns: {frame.columns})")
    if "__parent_row" in child.columns:
        raise FileReadError(f"{child_name}: already has a '__parent_row' column")

    def text_key(series: pl.Series) -> pl.Series:
        s = series.cast(pl.String)
        return pl.select(pl.when(s.str.strip_chars() == "").then(None).otherwise(s)).to_series()

    keys = pl.DataFrame({"key": text_key(parent[parent_key]), "row": pl.int_range(1, parent.height + 1, eager=True)})
    keys = keys.drop_nulls("key")
    dupes = keys.filter(pl.col("key").is_duplicated()).group_by("key", maintain_order=True).agg("row")
    if dupes.height:
        shown = "; ".join(f"{k!r} in rows {', '.join(map(str, rows))}" for k, rows in dupes.head(5).iter_rows())
        more = f" (and {dupes.height - 5} more keys)" if dupes.height > 5 else ""
        raise FileReadError(f"{parent_name}: {parent_key} must be unique to link repeat rows, but {shown}{more}")
    child_keys = text_key(child[child_key])
    parent_row = child_keys.replace_strict(keys["key"], keys["row"], default=None, return_dtype=pl.Int64)
    linked = child.with_columns(parent_row.alias("__parent_row"))
    orphans = tuple(Orphan(row=int(i) + 1, key=child_keys[int(i)]) for i in parent_row.is_null().arg_true())
    return RepeatLink(frame=linked, orphans=orphans)
