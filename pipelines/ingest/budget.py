"""Ingest one budget source through its mapping into ``raw.budget_lines`` (line items only) and
``audit.budget_reconciliation`` (every printed subtotal and total against its items).

A source is Excel workbooks in their printed layout (``format: xlsx``: title rows, a units line, merged
header rows, section headings, subtotal and total rows; read by :mod:`pipelines.readers.budget_sheet`) or
CSV extracts with one line per row (docs/budget-workbooks.md). Per row below the header:

- **section heading** (a label, no amounts): starts a section; its text is the lines' ``chapter`` and can
  give their sector. Excluded (listed in ``audit.exclusions``), not stored.
- **total** / **subtotal** (by label, or a row without a label whose amounts equal the sum of the items
  since the last heading or subtotal): reconciled, not stored. A printed amount that differs from the sum of
  its items by more than half a unit (of the sheet) is quarantined with both numbers, and so is every item
  it covers that no reconciled subtotal vouches for: a wrong figure is somewhere among them, and none of it
  is loaded as if right.
- **chapter-level line** (amounts, a blank item cell, and its label in a column the mapping does not map,
  e.g. a chapter column): stored as a line whose ``chapter`` ends with that label and whose item is blank.
- **a labelled line equal to the sum of the lines above it**: stored as a line (a label is trusted over
  arithmetic) and flagged for review (``audit.review_flags``, a note in the run summary): never dropped.
- **line item**: stored, amounts in the sheet's unit with ``unit_multiplier`` to currency units (applied
  once, in ``stg_budget__lines``).

Amounts are parsed strictly (Arabic-Indic digits and separators normalised; ``"1,,0"``, text, dates and
negative amounts, unless the mapping allows them for a field, are quarantined with the cell reference).
Governorate names resolve through the one resolver; with ``pcode_check_column`` a compiled p-code must
agree. Per file: rows read (non-blank rows below the header) = loaded + excluded + quarantined.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from data_contracts.contracts import BudgetLine, contract_failures_at
from data_contracts.mapping import BudgetFieldRef, BudgetMapping
from data_contracts.parsing import ValueParseError, normalize_digits, parse_date, parse_integer, parse_number
from pipelines.ingest.common import (
    EXCLUSION_SCHEMA,
    QUARANTINE_SCHEMA,
    DiscoveredSource,
    FatalSourceError,
    FileAccount,
    SourceResult,
    resolve_governorate_name,
    source_files,
)
from pipelines.readers.budget_sheet import (
    AmbiguousUnitError,
    BudgetLayoutError,
    BudgetSheet,
    Unit,
    _fold,
    parse_unit,
    read_budget_workbook,
)
from pipelines.readers.delimited import read_delimited, sha256_of

AMOUNT_FIELDS = ("allocation_original", "allocation_revised", "expenditure", "execution_pct_published")
#: Amount fields a subtotal or total is reconciled on (a published percentage is not a sum).
SUMMED_FIELDS = ("allocation_original", "allocation_revised", "expenditure")
#: Half a unit of the sheet (docs/budget-workbooks.md): printed totals are rounded to the unit.
TOLERANCE = 0.5

TOTAL_LABELS = ("المجموع الكلي", "المجموع العام", "الاجمالي", "الاجمالي العام", "الاجمالي الكلي", "المجموع الاجمالي",
                "grand total", "total")
SUBTOTAL_PREFIXES = ("المجموع", "مجموع", "الاجمالي", "اجمالي", "subtotal", "sub-total", "sub total", "total")

LINE_SCHEMA = {
    "source_id": pl.String, "file_name": pl.String, "file_sha256": pl.String, "row_number": pl.Int64,
    "sheet_name": pl.String, "governorate_pcode": pl.String, "governorate_name_source": pl.String,
    "fiscal_year": pl.Int64, "sector": pl.String, "budget_scope": pl.String, "funding_stream": pl.String,
    "chapter": pl.String, "item_label": pl.String, "allocation_original": pl.Float64,
    "allocation_revised": pl.Float64, "expenditure": pl.Float64, "execution_pct_published": pl.Float64,
    "currency": pl.String, "amount_unit": pl.String, "unit_multiplier": pl.Float64, "as_of": pl.Date,
    "period_months": pl.Int64, "is_synthetic": pl.Boolean,
}
FLAG_SCHEMA = {"source_id": pl.String, "wave_id": pl.String, "flag": pl.String, "file_name": pl.String,
               "row_number": pl.Int64, "detail": pl.String}
RECONCILIATION_SCHEMA = {
    "source_id": pl.String, "file_name": pl.String, "file_sha256": pl.String, "sheet_name": pl.String,
    "row_number": pl.Int64, "row_kind": pl.String, "label": pl.String, "amount_field": pl.String,
    "printed": pl.Float64, "sum_of_items": pl.Float64, "difference": pl.Float64, "items_from_row": pl.Int64,
    "items_to_row": pl.Int64, "unit": pl.String, "status": pl.String,
}


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def row_kind(label: str | None, has_amounts: bool, total_labels: list[str], subtotal_labels: list[str]) -> str:
    """``total``, ``subtotal``, ``heading``, ``item`` or ``unlabelled`` (amounts, no label: a subtotal
    only if it adds up) for a row's item label and whether it has amounts (labels compared folded:
    case, hamza forms, tatweel and digits)."""
    if label is None:
        return "unlabelled" if has_amounts else "blank"
    folded = " ".join(_fold(label).strip(" :：-–—.،()[]*").split())
    totals = {" ".join(_fold(t).split()) for t in (*TOTAL_LABELS, *total_labels)}
    if folded in totals or any(folded.startswith(t + " ") for t in totals if " " in t):
        return "total"  # "المجموع الكلي للمحافظة" too; a bare "Total ..." is a subtotal
    custom = {" ".join(_fold(t).split()) for t in subtotal_labels}
    if folded in custom or any(folded == p or folded.startswith(p + " ") for p in SUBTOTAL_PREFIXES):
        return "subtotal"
    return "item" if has_amounts else "heading"


def _amount(value: object) -> float:
    """A cell's amount: a number as stored, or text parsed strictly.

    Raises:
        ValueParseError: text that is not a number, a date, or a boolean.
    """
    if isinstance(value, bool):
        raise ValueParseError(f"{value!r} is a true/false cell, not an amount")
    if isinstance(value, (int, float)):
        return float(value)
    if hasattr(value, "year"):
        raise ValueParseError(f"{value!s} is a date, not an amount")
    return parse_number(str(value))


def _fmt(x: float) -> str:
    return f"{x:,.2f}".rstrip("0").rstrip(".")


@dataclass
class _Sheet:
    """What one sheet contributes: line candidates, quarantined cells, exclusions, reconciliations."""

    where: str
    lines: dict[int, dict] = field(default_factory=dict)
    bad: list[tuple[int, str, str | None, str]] = field(default_factory=list)
    excluded: list[tuple[int, str]] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)
    flags: list[dict] = field(default_factory=list)  # lines loaded but flagged for review


class _SheetReader:
    """Classifies and parses the rows of one :class:`BudgetSheet` under a mapping."""

    def __init__(self, mapping: BudgetMapping, sheet: BudgetSheet, file_name: str, sha: str):
        self.m, self.sheet, self.file_name, self.sha = mapping, sheet, file_name, sha
        layout = mapping.layout
        self.item_column = layout.item_column if layout else None
        self.total_labels = layout.total_labels if layout else []
        self.subtotal_labels = layout.subtotal_labels if layout else []
        self.amount_cols = {f: getattr(mapping, f) for f in AMOUNT_FIELDS if getattr(mapping, f)}
        unit = sheet.unit or Unit(mapping.currency or "IQD", float(mapping.unit_multiplier or 1),
                                  mapping.amount_unit or "", mapping.amount_unit or "")
        self.unit = unit
        self.out = _Sheet(where=f"{file_name}" + (f" [{sheet.name}]" if sheet.name else ""))

    # -- fields ------------------------------------------------------------------------------------
    def _field(self, ref: BudgetFieldRef, row: dict, sections: list[str]) -> tuple[str | None, str, str | None]:
        """(value after recode or None, column name for a quarantine row, error). ``sections``: the open
        section headings, outermost first; a ``section`` reference takes the innermost heading its recode
        knows (a sub-heading such as "مشاريع الماء" under "قطاع الماء والمجاري" keeps the sector)."""
        section = None
        if ref.section and sections:
            known = [h for h in reversed(sections) if ref.recode is None or h in ref.recode]
            section = known[0] if known else sections[-1]
        if ref.column is not None:
            raw, col = _text(row.get(ref.column)), ref.column
        elif ref.constant is not None:
            raw, col = str(ref.constant), "(constant)"
        elif ref.section:
            raw, col = section, self.item_column or "(section)"
            if raw is None:
                return None, col, "no section heading above this line (the mapping takes its value from the section)"
            if ref.recode is not None and raw not in ref.recode:
                return None, col, (f"section heading {raw!r} is not in the mapping's recode ({', '.join(sorted(ref.recode))}); "
                                   "a sub-heading is read under the nearest heading the recode knows")
        else:
            pattern = ref.title if ref.title is not None else ref.sheet_name
            texts = self.sheet.title if ref.title is not None else [self.sheet.name or ""]
            col = "(title rows)" if ref.title is not None else "(sheet name)"
            found = next((mt.group(1).strip() for t in texts if (mt := re.search(pattern, t))), None)
            if found is None:
                shown = " | ".join(t for t in texts if t)[:200]
                return None, col, f"{pattern!r} matches nothing in the {col[1:-1]} ({shown!r})"
            raw = found
        if raw is not None and ref.recode is not None:
            if raw not in ref.recode:
                return None, col, f"{raw!r} is not in the mapping's recode ({', '.join(sorted(ref.recode))})"
            return ref.recode[raw], col, None
        return raw, col, None

    # -- rows --------------------------------------------------------------------------------------
    def read(self) -> _Sheet:
        """Walk the rows: section headings open (nested) sections, a subtotal closes the innermost one and
        is reconciled with its items (its sub-sections' included), a total with every item of the sheet.
        Items below a total (an "of which" memo line) are quarantined until a new heading starts a table."""
        out, m = self.out, self.m
        stack: list[dict] = []  # open sections: label, items (with closed sub-sections'), has direct items
        loose: list[int] = []  # items outside any section since the last subtotal
        items: list[int] = []  # every item row of the sheet
        vouched: set[int] = set()  # item rows covered by a reconciled subtotal
        failed_amount: dict[int, set[str]] = {}  # item row -> amount fields that did not parse
        after_total: int | None = None
        other_cols = [r.column for r in (m.sector, m.budget_scope, m.funding_stream) if r.column]
        mapped = {*self.amount_cols.values(), self.item_column, m.pcode_check_column, *other_cols,
                  *(r.column for r in m.exclude_rows),
                  *(getattr(m, f).column for f in ("governorate", "fiscal_year", "as_of") if getattr(m, f) is not None)}

        def close() -> list[int]:
            done = stack.pop()
            (stack[-1]["items"] if stack else loose).extend(done["items"])
            return done["items"]

        for rownum, vals in self.sheet.rows:
            row = dict(zip(self.sheet.columns, vals))
            rule = next((r for r in m.exclude_rows if (_text(row.get(r.column)) or "") in r.values), None)
            if rule is not None:
                out.excluded.append((rownum, rule.reason))
                continue
            label = _text(row.get(self.item_column)) if self.item_column else None
            has_amounts = any(_text(row.get(c)) is not None for c in self.amount_cols.values())
            kind = row_kind(label, has_amounts, self.total_labels, self.subtotal_labels) if self.item_column else "item"
            if kind == "heading" and any(_text(row.get(c)) is not None for c in other_cols):
                kind = "item"  # a line with its economic type or funding filled in but no amount yet
            if kind == "blank":  # only cells outside the mapped columns: not a budget row
                out.excluded.append((rownum, "no item label and no amount in the mapped columns"))
                continue
            if kind == "heading":
                if stack and stack[-1]["direct"]:
                    close()  # a heading after items, with no subtotal between: the next section, not a child
                stack.append({"label": label, "items": [], "direct": False})
                after_total = None
                out.excluded.append((rownum, f"section heading {label!r}: starts a section, holds no amounts"))
                continue
            current = stack[-1]["items"] if stack else loose
            chapter = self._chapter_label(row, mapped) if kind == "unlabelled" else None
            if chapter is not None:
                kind = "item"  # a chapter-level line: an amount, a blank item, the chapter named in its own column
            if kind == "item" and current and after_total is None:
                self._flag_if_sum_of_above(rownum, row, label or chapter, current, failed_amount)
            if kind == "unlabelled":
                sums = self._sums(current, failed_amount)
                printed = self._printed(rownum, row)
                if current and printed and all(f in sums and abs(printed[f] - sums[f]) <= TOLERANCE for f in printed):
                    kind = "subtotal"
                else:
                    detail = "; ".join(f"{f} {_fmt(v)} vs items {_fmt(sums[f])}" for f, v in printed.items() if f in sums)
                    out.bad.append((rownum, self.item_column or "", None,
                                    "a row with amounts but no item label, and its amounts are not the sum of the "
                                    f"items above it ({detail or 'no items above'}): a subtotal that does not add "
                                    "up, or a line that lost its label"))
                    continue
            if kind == "subtotal":
                scope = list(current)
                if self._reconcile(rownum, kind, label, row, scope, failed_amount, vouched):
                    vouched.update(scope)
                if stack:
                    close()
                else:
                    loose.clear()
                continue
            if kind == "total":
                self._reconcile(rownum, kind, label, row, list(items), failed_amount, vouched)
                stack.clear()
                loose.clear()
                after_total = rownum
                continue
            if after_total is not None:
                out.bad.append((rownum, self.item_column or "", label,
                                f"a line below the total at row {after_total} (an 'of which' memo line, or a table the "
                                "total does not cover): not loaded, so it is not counted twice; a new section "
                                "heading starts a new table"))
                continue
            failed = self._line(rownum, row, label, [h["label"] for h in stack] + ([chapter] if chapter else []))
            if failed is not None:
                failed_amount[rownum] = failed
            current.append(rownum)
            if stack:
                stack[-1]["direct"] = True
            items.append(rownum)
        return out

    def _chapter_label(self, row: dict, mapped: set) -> str | None:
        """The text of a row whose item cell is blank, from a column the mapping does not map (a chapter
        column: the layout of chapter-level lines, where a chapter with no items carries its own amount),
        or None. A number (an ordinal "ت") is not a label."""
        for col in self.sheet.columns:
            text = _text(row.get(col)) if col not in mapped else None
            if text is not None and not re.fullmatch(r"[\d.\s]+", normalize_digits(text)):
                return text
        return None

    def _flag_if_sum_of_above(self, rownum: int, row: dict, label: str | None, current: list[int],
                              failed: dict[int, set[str]]) -> None:
        """A labelled line whose every printed amount equals the sum of two or more lines above it in its
        section may be a subtotal whose label does not say so. It is loaded as a line (a label is
        trusted over arithmetic), and flagged for review so a person decides; never dropped."""
        sums = self._sums(current, failed)
        printed = self._printed(rownum, row)
        if len(current) < 2 or not printed or not all(f in sums and abs(printed[f] - sums[f]) <= TOLERANCE for f in printed):
            return
        self.out.flags.append({
            "source_id": self.m.source_id, "wave_id": None, "flag": "budget_line_equals_sum_above",
            "file_name": self.file_name, "row_number": rownum,
            "detail": (f"{self.out.where} row {rownum} {label!r}: its amounts equal the sum of the {len(current)} "
                       f"lines above it (rows {min(current)}-{max(current)}); loaded as a line, not as a subtotal: "
                       "if it is a subtotal, label it so (layout.subtotal_labels) or the amounts count twice"),
        })

    def _printed(self, rownum: int, row: dict) -> dict[str, float]:
        """The parseable summed amounts printed on a subtotal/total row."""
        printed = {}
        for f in SUMMED_FIELDS:
            col = self.amount_cols.get(f)
            if col and _text(row.get(col)) is not None:
                try:
                    printed[f] = _amount(row[col])
                except ValueParseError:
                    pass
        return printed

    def _sums(self, scope: list[int], failed: dict[int, set[str]]) -> dict[str, float]:
        """Sum of each summed field over the item rows of ``scope`` (blank = 0); a field that failed to
        parse on one of them is left out (cannot be checked)."""
        sums = {}
        for f in SUMMED_FIELDS:
            if f not in self.amount_cols or any(f in failed.get(r, ()) for r in scope):
                continue
            sums[f] = sum((self.out.lines[r][f] or 0.0) for r in scope if r in self.out.lines)
        return sums

    def _reconcile(self, rownum: int, kind: str, label: str | None, row: dict, scope: list[int],
                   failed: dict[int, set[str]], vouched: set[int]) -> bool:
        out = self.out
        sums = self._sums(scope, failed)
        mismatches = []
        for f in SUMMED_FIELDS:
            col = self.amount_cols.get(f)
            text = _text(row.get(col)) if col else None
            if text is None:
                continue
            try:
                printed = _amount(row[col])
            except ValueParseError as exc:
                out.bad.append((rownum, col, text, f"{kind} {f}: {exc} at {self.sheet.cell_ref(col, rownum)}"))
                mismatches.append(f)
                continue
            status = "unchecked" if f not in sums else ("ok" if abs(printed - sums[f]) <= TOLERANCE else "mismatch")
            total = sums.get(f)
            out.checks.append({
                "source_id": self.m.source_id, "file_name": self.file_name, "file_sha256": self.sha,
                "sheet_name": self.sheet.name, "row_number": rownum, "row_kind": kind, "label": label,
                "amount_field": f, "printed": printed, "sum_of_items": total,
                "difference": None if total is None else printed - total,
                "items_from_row": min(scope) if scope else None, "items_to_row": max(scope) if scope else None,
                "unit": self.unit.label, "status": status,
            })
            if status == "mismatch":
                span = f"rows {min(scope)}-{max(scope)}" if scope else "no items"
                out.bad.append((rownum, col, text,
                                f"{kind} {label or '(no label)'!r} prints {f} {_fmt(printed)} but its {len(scope)} items "
                                f"({span}) sum to {_fmt(total)} ({self.unit.label}; difference {_fmt(printed - total)}, "
                                f"tolerance {TOLERANCE}) at {self.sheet.cell_ref(col, rownum)}"))
                mismatches.append(f)
        if mismatches:
            already = {b[0] for b in out.bad}
            for r in scope:
                if r not in vouched and r in out.lines and r not in already:
                    out.bad.append((r, self.item_column or "", _text(out.lines[r].get("item_label")),
                                    f"covered by the {kind} at row {rownum}, which does not reconcile "
                                    f"({', '.join(mismatches)}): not loaded until the sheet is corrected"))
            return False
        out.excluded.append((rownum, f"{kind} {label or '(no label)'!r}: reconciled with its {len(scope)} items "
                                     "(audit.budget_reconciliation), not stored"))
        return True

    def _line(self, rownum: int, row: dict, label: str | None, sections: list[str]) -> set[str] | None:
        """Parse one line item into ``out.lines`` (bad cells into ``out.bad``); returns the amount fields
        that failed to parse, or None."""
        out, m = self.out, self.m
        bad: list[tuple[int, str, str | None, str]] = []
        name, gcol, err = self._field(m.governorate, row, sections)
        pcode = None
        if err is None:
            if name is None:
                err = "governorate is blank"
            else:
                pcode, err = resolve_governorate_name(name)
        if err is not None:
            bad.append((rownum, gcol, name, f"governorate: {err}"))
        elif m.pcode_check_column and _text(row.get(m.pcode_check_column)) not in (None, pcode):
            bad.append((rownum, m.pcode_check_column, _text(row.get(m.pcode_check_column)),
                        f"compiled p-code disagrees with the published name {name!r}, which resolves to {pcode}"))
        year = None
        ytext, ycol, err = self._field(m.fiscal_year, row, sections)
        if err is None:
            try:
                year = parse_integer(normalize_digits(ytext)) if ytext is not None else None
                if year is None:
                    err = "fiscal year is blank"
                elif not 1950 <= year <= 2100:
                    err = f"{year} is not a fiscal year (expected 1950-2100)"
            except ValueParseError as exc:
                err = f"fiscal year: {exc}"
        if err is not None:
            bad.append((rownum, ycol, ytext, f"fiscal year: {err}" if not err.startswith("fiscal year") else err))
        labels = {}
        for name_ in ("sector", "budget_scope", "funding_stream"):
            value, col, err = self._field(getattr(m, name_), row, sections)
            if err is not None or value is None:
                ref = getattr(m, name_)
                shown = (sections[-1] if sections else None) if ref.section else _text(row.get(col)) if ref.column else None
                bad.append((rownum, col, shown, f"{name_}: {err or 'blank'}"))
            labels[name_] = value
        amounts: dict[str, float | None] = {}
        failed: set[str] = set()
        for f in AMOUNT_FIELDS:
            col = self.amount_cols.get(f)
            value = row.get(col) if col else None
            if _text(value) is None:
                amounts[f] = None
                continue
            try:
                amounts[f] = _amount(value)
            except ValueParseError as exc:
                bad.append((rownum, col, _text(value), f"{f}: {exc} at {self.sheet.cell_ref(col, rownum)}"))
                failed.add(f)
                amounts[f] = None
                continue
            if not math.isfinite(amounts[f] * self.unit.multiplier):
                # 9e307 thousand IQD is beyond a double once in IQD: dbt would see inf and fail naming no cell
                bad.append((rownum, col, _text(value), f"{f}: {_text(value)} {self.unit.label} is not a finite amount "
                                                       f"in {self.unit.currency} (too large for a number) at "
                                                       f"{self.sheet.cell_ref(col, rownum)}"))
                failed.add(f)
                amounts[f] = None
                continue
            if amounts[f] < 0 and f not in m.allow_negative:
                bad.append((rownum, col, _text(value), f"{f}: negative amount not allowed at "
                                                       f"{self.sheet.cell_ref(col, rownum)} (allow_negative in the "
                                                       "mapping if it is real)"))
                failed.add(f)
        as_of = None
        if m.as_of is not None:
            text, col, err = self._field(m.as_of, row, sections)
            if err is None and text is not None:
                try:
                    as_of = parse_date(text)
                except ValueParseError as exc:
                    err = str(exc)
            if err is not None:
                bad.append((rownum, col, text, f"as_of: {err}"))
        out.bad.extend(bad)
        out.lines[rownum] = {
            "source_id": m.source_id, "file_name": self.file_name, "file_sha256": self.sha, "row_number": rownum,
            "sheet_name": self.sheet.name, "governorate_pcode": pcode, "governorate_name_source": name,
            "fiscal_year": year, **labels, "chapter": " / ".join(sections) or None, "item_label": label, **amounts,
            "currency": self.unit.currency, "amount_unit": self.unit.label, "unit_multiplier": self.unit.multiplier,
            "as_of": as_of, "period_months": m.coverage.period_months if m.coverage else None,
            "is_synthetic": m.is_synthetic,
        }
        return failed or None


def _csv_sheet(path: Path, mapping: BudgetMapping) -> tuple[BudgetSheet, str, int]:
    delivered = read_delimited(path, encoding=mapping.encoding, delimiter=mapping.delimiter)
    rows = [(i, list(r)) for i, r in enumerate(delivered.frame.iter_rows(), start=1)]
    sheet = BudgetSheet(name=None, columns=list(delivered.frame.columns), letters={}, rows=rows)
    if mapping.layout is not None and mapping.layout.unit is not None:
        if mapping.layout.unit.declared is None:
            raise FatalSourceError(f"{path.name}: a csv file has no title rows: declare its unit (layout.unit.declared)")
        try:
            sheet.unit = parse_unit(mapping.layout.unit.declared)
        except AmbiguousUnitError as exc:
            raise FatalSourceError(f"{path.name}: layout.unit.declared: {exc}") from None
        if sheet.unit is None:
            raise FatalSourceError(f"{path.name}: layout.unit.declared {mapping.layout.unit.declared!r} names no currency "
                                   "(e.g. 'IQD thousand', 'USD million')")
    return sheet, delivered.sha256, delivered.size_bytes


def _check_columns(mapping: BudgetMapping, sheet: BudgetSheet, where: str) -> None:
    needed = [c for c in (mapping.pcode_check_column, *(getattr(mapping, f) for f in AMOUNT_FIELDS)) if c]
    if mapping.layout is not None and mapping.layout.item_column:
        needed.append(mapping.layout.item_column)
    for name in ("governorate", "fiscal_year", "sector", "budget_scope", "funding_stream", "as_of"):
        ref = getattr(mapping, name)
        if ref is not None and ref.column:
            needed.append(ref.column)
    needed += [r.column for r in mapping.exclude_rows]
    missing = sorted({c for c in needed if c not in sheet.columns})
    if missing:
        raise FatalSourceError(
            f"{where}: columns named in the mapping of {mapping.source_id} are missing: {', '.join(missing)} "
            f"(the header reads: {', '.join(sheet.columns)})")


def ingest_budget_source(
    src: DiscoveredSource, mapping: BudgetMapping, files: list[Path] | None = None
) -> SourceResult:
    """Ingest every file of a budget source: ``raw.budget_lines`` (grain: one line item of one sheet row;
    amounts in the sheet's unit, ``unit_multiplier`` to IQD or USD), ``raw.budget_sources`` (one row),
    reconciliations for ``audit.budget_reconciliation``, quarantine and exclusions.

    ``files``: the files to read (the registry's archived copies); default: the landing files matching
    the mapping.

    Raises:
        FatalSourceError: no file matches, a file is unreadable, a mapped column is missing, or a sheet
            does not have the declared layout (no header, no unit; the message names file, sheet and cell).
    """
    files = files if files is not None else source_files(src, [f.path for f in mapping.files])
    if not files:
        raise FatalSourceError(f"{mapping.source_id}: no file matches {[f.path for f in mapping.files]} in {src.path}")
    result = SourceResult(source_id=mapping.source_id, domain="budget")
    frames = []
    for path in files:
        if mapping.format == "xlsx":
            data = path.read_bytes()
            try:
                sheets, notes = read_budget_workbook(path, mapping.layout, data=data)
                result.notes += [{"file_name": path.name, "note": n} for n in notes]
            except BudgetLayoutError as exc:
                raise FatalSourceError(str(exc)) from None
            except Exception as exc:  # openpyxl: not a zip, not a workbook
                raise FatalSourceError(f"{path.name}: cannot read as an Excel workbook: {exc}") from None
            sha, size = sha256_of(path), len(data)
        else:
            sheet, sha, size = _csv_sheet(path, mapping)
            sheets = [sheet]
        rows_read = 0
        reads, frames_by_sheet = [], []
        for sheet in sheets:
            where = path.name + (f" sheet {sheet.name!r}" if sheet.name else "")
            _check_columns(mapping, sheet, where)
            rows_read += len(sheet.rows)
            read = _SheetReader(mapping, sheet, path.name, sha).read()
            bad_rows = {b[0] for b in read.bad}
            frame = pl.DataFrame([v for r, v in read.lines.items() if r not in bad_rows], schema=LINE_SCHEMA)
            if mapping.layout is None or not mapping.layout.item_column:
                frame, dup = _repeated_lines(frame, mapping)
                read.bad.extend(dup)
            reads.append((sheet, read))
            frames_by_sheet.append(frame)
        # the contract once per file (pandera's cost is per call, not per row); failures go back to their sheet
        stacked = pl.concat(frames_by_sheet)
        sheet_of = [i for i, f in enumerate(frames_by_sheet) for _ in range(f.height)]
        for pos, col, value, reason in contract_failures_at(BudgetLine, stacked):
            reads[sheet_of[pos]][1].bad.append((stacked["row_number"][pos], col, value, reason))
        quarantine, excluded, lines = [], [], []
        for (sheet, read), frame in zip(reads, frames_by_sheet):
            frame = frame.filter(~pl.col("row_number").is_in([b[0] for b in read.bad]))
            lines.append(frame)
            quarantine.append(pl.DataFrame(
                {"source_id": mapping.source_id, "file_name": path.name, "file_sha256": sha,
                 "row_number": [b[0] for b in read.bad], "column_name": [b[1] for b in read.bad],
                 "value": [b[2] for b in read.bad], "reason": [b[3] for b in read.bad], "sheet_name": sheet.name},
                schema=QUARANTINE_SCHEMA))
            excluded.append(pl.DataFrame(
                {"source_id": mapping.source_id, "file_name": path.name, "file_sha256": sha,
                 "row_number": [e[0] for e in read.excluded], "reason": [e[1] for e in read.excluded],
                 "sheet_name": sheet.name}, schema=EXCLUSION_SCHEMA))
            if read.checks:
                result.reconciliation.append(pl.DataFrame(read.checks, schema=RECONCILIATION_SCHEMA))
            flagged = [f for f in read.flags if f["row_number"] not in {b[0] for b in read.bad}]
            if flagged:
                result.review_flags.append(pl.DataFrame(flagged, schema=FLAG_SCHEMA))
                result.notes += [{"file_name": path.name, "note": f["detail"]} for f in flagged]
        q = pl.concat(quarantine)
        x = pl.concat(excluded)
        frame = pl.concat(lines)
        result.quarantine.append(q)
        result.exclusions.append(x)
        result.files.append(FileAccount(
            source_id=mapping.source_id, file_name=path.name, file_path=str(path.resolve()), file_sha256=sha,
            file_bytes=size, rows_read=rows_read, rows_loaded=frame.height,
            rows_excluded=x.select("sheet_name", "row_number").unique().height,
            rows_quarantined=q.select("sheet_name", "row_number").unique().height,
        ))
        frames.append(frame)
    result.tables["budget_lines"] = pl.concat(frames)
    result.tables["budget_sources"] = pl.DataFrame(
        [{"source_id": mapping.source_id, "title": mapping.title, "citation": mapping.citation,
          "is_synthetic": mapping.is_synthetic,
          "coverage": "partial" if mapping.coverage and mapping.coverage.partial else "complete",
          "coverage_note": mapping.coverage.note if mapping.coverage else None}],
        schema={"source_id": pl.String, "title": pl.String, "citation": pl.String, "is_synthetic": pl.Boolean,
                "coverage": pl.String, "coverage_note": pl.String},
    )
    return result


def _repeated_lines(frame: pl.DataFrame, mapping: BudgetMapping) -> tuple[pl.DataFrame, list[tuple]]:
    """In a one-line-per-row extract a repeated governorate × year × sector × economic type × funding
    stream line would be summed twice in the marts: the repeat is quarantined naming the first."""
    key = ["governorate_pcode", "fiscal_year", "sector", "budget_scope", "funding_stream"]
    firsts = frame.group_by(key).agg(pl.col("row_number").min().alias("__first"))
    repeats = frame.join(firsts, on=key).filter(pl.col("row_number") != pl.col("__first"))
    gcol = mapping.governorate.column or "governorate"
    return frame, [
        (r["row_number"], gcol, r["governorate_name_source"],
         f"duplicate budget line: {r['governorate_pcode']} {r['fiscal_year']} {r['sector']} {r['budget_scope']} "
         f"{r['funding_stream']} already at row {r['__first']}")
        for r in repeats.iter_rows(named=True)
    ]
