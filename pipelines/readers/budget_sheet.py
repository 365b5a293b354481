"""Read budget tables as printed: Excel sheets with title rows, a units line, one to three merged header
rows, section headings and subtotal rows among the line items (docs/budget-workbooks.md).

This module knows the *layout*; it does not parse amounts or resolve names (``pipelines.ingest.budget``
does, cell by cell, so a bad cell is quarantined with its reference). It returns each sheet as
:class:`BudgetSheet`: the title text, the unit, the column names built from the header rows, and the data
rows below the header with their Excel row numbers and raw cell values.

Decisions:

- **openpyxl, not fastexcel**: the layout needs merged ranges and cells above the header, which only
  openpyxl exposes; budget workbooks are small. Numbers stay Python numbers (exact as stored), text stays
  text; nothing is coerced here.
- **Merged header cells** are spread over every column and header row they cover; a column's name is its
  header cells top to bottom joined with ``" / "``, a repeat (a vertically merged cell) written once:
  ``التخصيصات`` over ``الأصلي`` gives ``التخصيصات / الأصلي``.
- **Formulas without a saved result** (a workbook written by a program and never opened in Excel) would
  read as blank: the reader fails naming the cells instead.
- **Units**: :func:`parse_unit` reads Arabic or English unit text (``بالآلاف دينار``, ``المبالغ بالمليون
  دينار``, ``IQD billion``, ``مليون دولار``); text naming no currency is not a unit.
"""

from __future__ import annotations

import fnmatch
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter

from data_contracts.mapping import BudgetLayout
from data_contracts.parsing import normalize_digits
from data_contracts.personal_data import RedactingError


class BudgetLayoutError(RedactingError, ValueError):
    """A sheet that does not have the layout its mapping declares (no header, no unit, an unnamed column
    holding values, a formula without a saved result); the message names the file, sheet and cell."""


@dataclass(frozen=True)
class Unit:
    """A unit of amounts: ``currency`` (IQD or USD), ``multiplier`` to currency units, and ``label`` in
    English (``IQD thousand``), with the text it was read from."""

    currency: str
    multiplier: float
    label: str
    text: str


@dataclass
class BudgetSheet:
    """One sheet (or a CSV file) as a table: ``columns`` (names from the header rows) and ``rows``
    (Excel row number, values in column order; ``None`` for a blank cell). ``title`` holds the text of each
    row above the header (cells joined by a space); ``letters`` maps a column name to its Excel letter."""

    name: str | None
    columns: list[str]
    letters: dict[str, str]
    rows: list[tuple[int, list[object]]]
    title: list[str] = field(default_factory=list)
    unit: Unit | None = None
    header_row: int = 1

    def cell_ref(self, column: str, row: int) -> str:
        """``Basrah!E14`` (xlsx) or ``E14``; CSV files have no letters and give the column name."""
        letter = self.letters.get(column)
        if letter is None:
            return f"row {row}, column {column!r}"
        return f"{self.name}!{letter}{row}" if self.name else f"{letter}{row}"


#: Whole words only (Python's ``\\b`` knows Arabic letters), with the prefixes Arabic attaches: ``بالآلاف``,
#: ``بالمليون``, ``ألف``; "الفعلي" (actual) or "الفترة" (period) name no scale.
_PREFIX = r"(?:و?(?:بال|ب|لل|ال|ل))?"
_SCALES = (  # (pattern on folded text, multiplier, English word)
    (rf"\b{_PREFIX}(?:مليار|مليارات)\b|\bbillions?\b|\bbn\b", 1e9, "billion"),
    (rf"\b{_PREFIX}(?:مليون|ملايين)\b|\bmillions?\b|\bmn\b", 1e6, "million"),
    (rf"\b{_PREFIX}(?:الف|الاف|اف|لاف)\b|\bthousands?\b|'000", 1e3, "thousand"),
)
_CURRENCIES = ((rf"\b{_PREFIX}(?:دولار|دولارات)\b|\busd\b|us\$|\bdollars?\b", "USD"),
               (rf"\b{_PREFIX}(?:دينار|دنانير)\b|\biqd\b|\bdinars?\b", "IQD"))


class AmbiguousUnitError(ValueError):
    """A text that names two currencies or two scales: which one the amounts are in cannot be told."""


def _fold(text: str) -> str:
    """Lower case, digits normalised, alef and hamza forms folded, tatweel dropped."""
    text = normalize_digits(text).lower().replace("ـ", "")
    return re.sub("[أإآٱ]", "ا", text)


def parse_unit(text: str) -> Unit | None:
    """The unit a text names, or None when it names no currency.

    >>> parse_unit("المبالغ بالآلاف دينار").label
    'IQD thousand'
    >>> parse_unit("USD million").multiplier
    1000000.0

    Raises:
        AmbiguousUnitError: the text names both dinars and dollars, or two scales (``بالآلاف دينار ...
            والمجاميع بالمليون``): declare the unit in the mapping instead.
    """
    folded = _fold(text)
    currencies = [code for pattern, code in _CURRENCIES if re.search(pattern, folded)]
    if not currencies:
        return None
    scales = [(m, w) for pattern, m, w in _SCALES if re.search(pattern, folded)]
    if len(currencies) > 1 or len(scales) > 1:
        named = ", ".join([*currencies, *(w for _m, w in scales)])
        raise AmbiguousUnitError(f"{text.strip()!r} names {named}: which unit are the amounts in?")
    if scales:
        multiplier, word = scales[0]
        return Unit(currencies[0], multiplier, f"{currencies[0]} {word}", text.strip())
    return Unit(currencies[0], 1.0, currencies[0], text.strip())


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _header_names(grid: list[list[object]], merged: list[tuple[int, int, int, int]], first: int, count: int,
                  width: int) -> list[str | None]:
    """Column names from header rows ``first``..``first+count-1`` (1-based), merged cells spread."""
    cells = {(r, c): grid[r - 1][c - 1] for r in range(first, first + count) for c in range(1, width + 1)}
    for r1, c1, r2, c2 in merged:
        top = grid[r1 - 1][c1 - 1] if r1 - 1 < len(grid) and c1 - 1 < len(grid[r1 - 1]) else None
        for r in range(max(r1, first), min(r2, first + count - 1) + 1):
            for c in range(c1, min(c2, width) + 1):
                cells[(r, c)] = top
    names: list[str | None] = []
    for c in range(1, width + 1):
        parts: list[str] = []
        for r in range(first, first + count):
            t = _text(cells[(r, c)])
            if t is not None and (not parts or parts[-1] != t):
                parts.append(t)
        names.append(" / ".join(parts) if parts else None)
    return names


def read_budget_workbook(path: Path, layout: BudgetLayout, data: bytes | None = None) -> tuple[list[BudgetSheet], list[str]]:
    """Every sheet of ``path`` matching ``layout.sheets`` as a :class:`BudgetSheet`, and notes for the run:
    hidden sheets are skipped (an office's working sheets) and named in a note, so a governorate left in a
    hidden sheet is seen; hidden rows are read like the others (a printed total counts them) and noted.

    Raises:
        BudgetLayoutError: no sheet matches; a sheet has no header where the layout says; a header name
            repeats; a column without a name holds values; a formula has no saved result; the unit cannot
            be found or read.
    """
    raw = data if data is not None else path.read_bytes()
    values = openpyxl.load_workbook(io.BytesIO(raw), data_only=True)
    # formulas only to find cells without a saved result: read-only (no styles, no merges) is enough and cheaper
    # (benchmarks/ingest_budget.py: reading 4.96 s -> 3.61 s on the demo workbooks x5)
    formulas = openpyxl.load_workbook(io.BytesIO(raw), data_only=False, read_only=True)
    sheets, notes = [], []
    try:
        for ws in values.worksheets:
            if not fnmatch.fnmatchcase(ws.title, layout.sheets):
                continue
            if ws.sheet_state != "visible":
                notes.append(f"sheet {ws.title!r} is hidden: not read (unhide it if it holds budget lines)")
                continue
            hidden = [str(r) for r, d in ws.row_dimensions.items() if d.hidden]
            if hidden:
                notes.append(f"sheet {ws.title!r}: hidden rows {', '.join(hidden[:10])}{' ...' if len(hidden) > 10 else ''} "
                             "read like the others")
            sheets.append(_sheet(path.name, ws, formulas[ws.title], layout))
    finally:
        formulas.close()
    if not sheets:
        raise BudgetLayoutError(f"{path.name}: no visible sheet matches {layout.sheets!r} "
                                f"(sheets: {', '.join(values.sheetnames)})")
    return sheets, notes


def _sheet(file_name: str, ws, ws_formulas, layout: BudgetLayout) -> BudgetSheet:
    where = f"{file_name} sheet {ws.title!r}"
    grid = [list(r) for r in ws.iter_rows(values_only=True)]
    width = max((len(r) for r in grid), default=0)
    grid = [r + [None] * (width - len(r)) for r in grid]
    ws_formulas.reset_dimensions()  # a program-written file's stored dimension can be wrong: read every row
    unsaved = [f"{get_column_letter(c)}{r}" for r, row in enumerate(ws_formulas.iter_rows(values_only=True), start=1)
               for c, v in enumerate(row, start=1)
               if isinstance(v, str) and v.startswith("=") and (r > len(grid) or c > width or grid[r - 1][c - 1] is None)]
    if unsaved:
        raise BudgetLayoutError(
            f"{where}: formula cells without a saved result ({', '.join(unsaved[:8])}{' ...' if len(unsaved) > 8 else ''}): "
            "open and save the workbook in Excel or LibreOffice so the results are stored, or deliver values")
    if layout.header_row is not None:
        first = layout.header_row
    else:
        wanted = _fold(layout.header_starts or "")
        first = next((i for i, row in enumerate(grid, start=1)
                      if any(_text(v) is not None and _fold(str(v)).strip() == wanted.strip() for v in row)), None)
        if first is None:
            first = next((i for i, row in enumerate(grid, start=1)
                          if any(_text(v) is not None and wanted.strip() in _fold(str(v)) for v in row)), None)
        if first is None:
            raise BudgetLayoutError(f"{where}: no row holds the header cell {layout.header_starts!r}")
    if first + layout.header_rows - 1 > len(grid):
        raise BudgetLayoutError(f"{where}: the header (row {first}, {layout.header_rows} rows) runs past the sheet's end")
    merged = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
    names = _header_names(grid, merged, first, layout.header_rows, width)
    last_header = first + layout.header_rows - 1
    # A label merged down over several data rows (one economic type for a block of items) belongs to each
    # of them. Only text without digits is spread: a merged amount would be counted once per row.
    for r1, c1, r2, c2 in merged:
        top = grid[r1 - 1][c1 - 1]
        if r1 > last_header and isinstance(top, str) and not re.search(r"\d", normalize_digits(top)):
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    if (r, c) != (r1, c1) and grid[r - 1][c - 1] is None:
                        grid[r - 1][c - 1] = top
    body = grid[last_header:]
    columns, letters, keep = [], {}, []
    for c, name in enumerate(names, start=1):
        if name is None:
            used = next((i for i, row in enumerate(body, start=last_header + 1) if _text(row[c - 1]) is not None), None)
            if used is not None:
                raise BudgetLayoutError(f"{where}: cell {get_column_letter(c)}{used} holds {body[used - last_header - 1][c - 1]!r} "
                                        f"but its column has no header in rows {first}-{last_header}")
            continue
        if name in letters:
            raise BudgetLayoutError(f"{where}: two columns are named {name!r} ({letters[name]} and {get_column_letter(c)}); "
                                    "rename one in the mapping's source or add a header row")
        columns.append(name)
        letters[name] = get_column_letter(c)
        keep.append(c - 1)
    rows = []
    for i, row in enumerate(body, start=last_header + 1):
        vals = [row[k] for k in keep]
        if any(_text(v) is not None for v in vals):
            rows.append((i, vals))
    title = [" ".join(t for t in (_text(v) for v in row) if t) for row in grid[: first - 1]]

    def unit_of(text: str, cell: str) -> Unit | None:
        try:
            return parse_unit(text)
        except AmbiguousUnitError as exc:
            raise BudgetLayoutError(f"{where}: the unit in {cell} is ambiguous: {exc} Declare it: "
                                    "layout.unit: {declared: 'IQD thousand'}") from None

    unit = None
    if layout.unit is not None:
        if layout.unit.declared is not None:
            unit = unit_of(layout.unit.declared, "the mapping (layout.unit.declared)")
            if unit is None:
                raise BudgetLayoutError(f"{where}: declared unit {layout.unit.declared!r} names no currency (IQD, USD)")
        elif layout.unit.cell is not None:
            text = _text(ws[layout.unit.cell].value)
            unit = unit_of(text, layout.unit.cell) if text else None
            if unit is None:
                raise BudgetLayoutError(f"{where}: unit cell {layout.unit.cell} reads {text!r}, which names no unit "
                                        "(expected e.g. 'بالآلاف دينار', 'IQD million')")
        else:
            found = [(r, c, str(v)) for r, row in enumerate(grid[: first - 1], start=1)
                     for c, v in enumerate(row, start=1)
                     if _text(v) is not None and unit_of(str(v), f"{get_column_letter(c)}{r}") is not None]
            if not found:
                raise BudgetLayoutError(f"{where}: no cell above the header (rows 1-{first - 1}) names a unit "
                                        "(e.g. 'المبالغ بالآلاف دينار'); declare it: layout.unit: {declared: ...}")
            units = {parse_unit(t).label for _r, _c, t in found}
            if len(units) > 1:
                cells = ", ".join(f"{get_column_letter(c)}{r} {t!r}" for r, c, t in found)
                raise BudgetLayoutError(f"{where}: cells above the header name different units ({cells}); "
                                        "say which: layout.unit: {cell: ...}")
            unit = parse_unit(found[0][2])
    return BudgetSheet(name=ws.title, columns=columns, letters=letters, rows=rows, title=title, unit=unit,
                       header_row=first)
