"""Read the codebook (data dictionary) delivered with a plain CSV/XLSX survey file into an XLSForm.

A plain file has no XLSForm; its codebook types it instead, one row per variable, as a CSV (UTF-8, ``,``
or ``;``, read by :func:`~pipelines.readers.delimited.read_delimited`) or the first sheet of an XLSX (read
by :func:`~pipelines.readers.workbook.read_workbook`, other sheets ignored). Column names are matched
without regard to case or surrounding spaces; other columns (notes, sources) are ignored.

=============================  =========  ===========================================================
column                         required   meaning
=============================  =========  ===========================================================
``variable``                   yes        column name in the data file
``type``                       yes        ``select_one``, ``select_multiple``, ``integer``, ``decimal``,
                                          ``text``, ``date``, ``datetime`` (case ignored)
``label_en``, ``label_ar``     no         question wording; ``label`` is read as ``label_en`` (not both)
``values``                     selects    ``1=Very good; 2=Good; 9=Don't know``: ``;`` between pairs (one
                                          trailing ``;`` allowed), the first ``=`` splits code from label
``missing``                    no         codes meaning don't know / refused: ``8; 9``
=============================  =========  ===========================================================

Decisions:

- The result is a :class:`Codebook`: ``form`` is an ordinary :class:`XLSForm` (so everything that types a
  Kobo export types a plain file the same way) and ``missing_codes`` carries what an XLSForm has no place
  for. A select variable's choice list is named after the variable (``Question.list_name = variable``).
- A ``values`` cell has one language. Its labels fill the English slot of ``choices[list][code]``, except
  on a row with ``label_ar`` and no English label (an Arabic-only codebook), where they fill the Arabic
  slot. A bilingual choice list needs an XLSForm.
- Codes are text as written (``01`` stays ``01``) and may not contain spaces (select_multiple answers are
  space-separated codes). A ``missing`` code of a select variable must be one of its codes; of an
  ``integer`` or ``decimal`` variable, a number (``data_contracts.parsing``, as the data will be parsed).
- ``values`` on a variable that is not a select type is an error rather than ignored: labels on an
  ``integer`` usually mean the type should have been ``select_one``.
- Empty rows are skipped; row numbers in messages are data rows (row 1 = the first row after the
  header), as in the readers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from data_contracts.parsing import ValueParseError, parse_integer, parse_number
from pipelines.readers.delimited import FileReadError, read_delimited
from pipelines.readers.workbook import read_workbook
from pipelines.readers.xlsform import Question, XLSForm

#: The variable types a codebook may declare.
CODEBOOK_TYPES = ("select_one", "select_multiple", "integer", "decimal", "text", "date", "datetime")
SELECT_TYPES = ("select_one", "select_multiple")
_COLUMNS = ("variable", "type", "label", "label_en", "label_ar", "values", "missing")


@dataclass(frozen=True)
class Codebook:
    """A codebook: ``form`` types the data file; ``missing_codes[variable]`` lists the variable's
    don't-know/refused codes in codebook order (an empty list when it has none; every variable is a key)."""

    form: XLSForm
    missing_codes: dict[str, list[str]]


def _a(type_: str) -> str:
    return ("an " if type_[0] in "aeiou" else "a ") + type_


def _frame(path: Path, encoding: str = "utf-8") -> pl.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return read_delimited(path, encoding=encoding).frame
    if suffix in (".xlsx", ".xlsm"):
        return read_workbook(path, other_sheets=False).frame
    raise FileReadError(f"{path.name}: a codebook must be a .csv or .xlsx file")


def _pairs(cell: str, where: str) -> dict[str, str]:
    """``1=Very good; 2=Good`` → {"1": "Very good", "2": "Good"}, strictly."""
    pieces = cell.split(";")
    if len(pieces) > 1 and not pieces[-1].strip():
        pieces = pieces[:-1]  # one trailing ';'
    out: dict[str, str] = {}
    for k, piece in enumerate(pieces, 1):
        piece = piece.strip()
        expected = "expected code=label pairs separated by ';', e.g. '1=Very good; 2=Good'"
        if "=" not in piece:
            raise FileReadError(f"{where}: values pair {k} {piece!r} has no '=' ({expected})")
        code, label = (part.strip() for part in piece.split("=", 1))
        if not code:
            raise FileReadError(f"{where}: values pair {k} {piece!r} has no code before '=' ({expected})")
        if not label:
            raise FileReadError(f"{where}: values pair {k} {piece!r} has no label after '=' ({expected})")
        if any(ch.isspace() for ch in code):
            raise FileReadError(f"{where}: values pair {k} {piece!r}: a code cannot contain spaces")
        if code in out:
            raise FileReadError(f"{where}: code {code!r} appears twice in values (pair {k})")
        out[code] = label
    return out


def _missing(cell: str, where: str, type_: str, codes: dict[str, str] | None) -> list[str]:
    pieces = [p.strip() for p in cell.split(";")]
    if len(pieces) > 1 and not pieces[-1]:
        pieces = pieces[:-1]
    out: list[str] = []
    for code in pieces:
        if not code or any(ch.isspace() for ch in code):
            raise FileReadError(f"{where}: missing codes {cell!r} are not codes separated by ';' (e.g. '8; 9')")
        if code in out:
            raise FileReadError(f"{where}: missing code {code!r} appears twice")
        if codes is not None and code not in codes:
            raise FileReadError(
                f"{where}: missing code {code!r} is not one of the variable's values ({', '.join(codes)})"
            )
        try:
            if type_ == "integer":
                parse_integer(code)
            elif type_ == "decimal":
                parse_number(code)
        except ValueParseError as exc:
            raise FileReadError(f"{where}: missing code for {_a(type_)} variable: {exc}") from None
        out.append(code)
    return out


def read_codebook(path: Path, encoding: str = "utf-8") -> Codebook:
    """Read a codebook (CSV in ``encoding``, the mapping's, or the first sheet of an XLSX) into an XLSForm
    plus missing codes.

    Returns:
        A :class:`Codebook`. ``form.path`` is the codebook; ``form.questions[variable]`` a
        :class:`Question` (``list_name`` = the variable for select types, ``relevant`` None);
        ``form.choices[variable][code] = (label_en, label_ar)`` for select types.

    Raises:
        FileReadError: naming the codebook, the row and what was expected: the file cannot be read; a
            required column is missing, or both ``label`` and ``label_en`` are given; no variables; an empty
            variable name, a duplicate variable, an unknown type; a select without values, or values on
            another type; a malformed pair (``1Good``, ``=x``, ``1=``), a duplicate code, a code with a
            space; a missing code that is not a code of the select, not a number for a numeric type, or
            repeated.
    """
    frame = _frame(path, encoding)
    columns = {c.strip().lower(): c for c in frame.columns}
    absent = [c for c in ("variable", "type") if c not in columns]
    if absent:
        raise FileReadError(
            f"{path.name}: the codebook lacks the required column(s) {', '.join(absent)} (found {frame.columns}); "
            f"expected {', '.join(_COLUMNS)}"
        )
    if "label" in columns and "label_en" in columns:
        raise FileReadError(f"{path.name}: give 'label' or 'label_en', not both (both are the English label)")
    get = {name: columns.get(name) for name in _COLUMNS}
    get["label_en"] = get["label_en"] or get["label"]
    form = XLSForm(path=path)
    missing_codes: dict[str, list[str]] = {}
    first_row: dict[str, int] = {}
    for i, row in enumerate(frame.iter_rows(named=True), 1):
        if all(v is None for v in row.values()):
            continue

        def cell(name: str, row: dict = row) -> str | None:
            value = row[get[name]] if get[name] else None
            return value.strip() if value is not None and value.strip() else None

        variable = cell("variable")
        if variable is None:
            raise FileReadError(f"{path.name}: row {i}: the variable name is empty")
        where = f"{path.name}: row {i} (variable {variable!r})"
        if variable in first_row:
            raise FileReadError(f"{where}: the variable is already defined in row {first_row[variable]}")
        first_row[variable] = i
        type_text = cell("type")
        type_ = (type_text or "").lower()
        if type_ not in CODEBOOK_TYPES:
            raise FileReadError(
                f"{where}: unknown type {type_text!r}; expected one of {', '.join(CODEBOOK_TYPES)} "
                "(a select's codes go in the 'values' column)"
            )
        label_en, label_ar = cell("label_en"), cell("label_ar")
        values = cell("values")
        codes: dict[str, str] | None = None
        if type_ in SELECT_TYPES:
            if values is None:
                raise FileReadError(f"{where}: a {type_} needs its codes in 'values' (e.g. '1=Yes; 2=No')")
            codes = _pairs(values, where)
            arabic_only = label_ar is not None and label_en is None
            form.choices[variable] = {
                code: ((None, label) if arabic_only else (label, None)) for code, label in codes.items()
            }
        elif values is not None:
            raise FileReadError(
                f"{where}: 'values' given for {_a(type_)} variable; value labels need type select_one or select_multiple"
            )
        missing = cell("missing")
        missing_codes[variable] = _missing(missing, where, type_, codes) if missing is not None else []
        form.questions[variable] = Question(
            name=variable,
            type=type_,
            list_name=variable if type_ in SELECT_TYPES else None,
            label_en=label_en,
            label_ar=label_ar,
            relevant=None,
        )
    if not form.questions:
        raise FileReadError(f"{path.name}: the codebook lists no variables")
    return Codebook(form=form, missing_codes=missing_codes)
