"""Ingest one budget source (a CSV of governorate budget lines) through its mapping into ``raw.budget_lines``.

Amounts are parsed strictly (Arabic-Indic digits normalised; ``"1,,0"``, text and negative amounts are
quarantined with file, row, column and value); governorate names resolve through the one resolver;
when the file also carries a compiled p-code column (``pcode_check_column``) the two must agree, or the
row is quarantined. Amounts stay in the unit the source publishes (``amount_unit``, with
``unit_multiplier`` to currency units); execution percentages are kept as published.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from data_contracts.contracts import BudgetLine, contract_failures
from data_contracts.mapping import BudgetMapping, ColumnRef
from data_contracts.parsing import ValueParseError, parse_date, parse_integer, parse_number
from pipelines.ingest.common import (
    EXCLUSION_SCHEMA,
    DiscoveredSource,
    FatalSourceError,
    FileAccount,
    Problems,
    SourceResult,
    resolve_governorate_name,
    source_files,
)
from pipelines.readers.delimited import read_delimited

AMOUNT_FIELDS = ("allocation_original", "allocation_revised", "expenditure", "execution_pct_published")


def _value(ref: ColumnRef, row: dict) -> str | None:
    if ref.column:
        v = row.get(ref.column)
    else:
        v = None if ref.constant is None else str(ref.constant)
    if v is not None and ref.recode is not None:
        v = ref.recode.get(v.strip(), "__unmapped__")
    return v


def ingest_budget_source(
    src: DiscoveredSource, mapping: BudgetMapping, files: list[Path] | None = None
) -> SourceResult:
    """Ingest every file of a budget source into ``raw.budget_lines`` rows and its ``raw.budget_sources`` row.

    ``files``: the files to read (the registry's archived copies); default: the landing files matching
    the mapping.

    Raises:
        FatalSourceError: no file matches, a file is unreadable, or a mapped column is missing.
    """
    files = files if files is not None else source_files(src, [f.path for f in mapping.files])
    if not files:
        raise FatalSourceError(f"{mapping.source_id}: no file matches {[f.path for f in mapping.files]} in {src.path}")
    result = SourceResult(source_id=mapping.source_id, domain="budget")
    frames = []
    for path in files:
        delivered = read_delimited(path, encoding=mapping.encoding, delimiter=mapping.delimiter)
        df = delivered.frame
        needed = [c for c in (mapping.pcode_check_column, *(getattr(mapping, f) for f in AMOUNT_FIELDS)) if c]
        for ref in (mapping.governorate, mapping.fiscal_year, mapping.sector, mapping.budget_scope, mapping.as_of):
            if ref is not None and ref.column:
                needed.append(ref.column)
        missing = sorted({c for c in needed if c not in df.columns})
        if missing:
            raise FatalSourceError(
                f"{path.name}: columns named in the mapping of {mapping.source_id} are missing: {', '.join(missing)}"
            )
        problems = Problems(mapping.source_id, path.name, delivered.sha256)
        rows, excluded = [], []
        for i, row in enumerate(df.iter_rows(named=True), start=1):
            rule = next((r for r in mapping.exclude_rows if (row.get(r.column) or "").strip() in r.values), None)
            if rule is not None:
                excluded.append({"source_id": mapping.source_id, "file_name": path.name,
                                 "file_sha256": delivered.sha256, "row_number": i, "reason": rule.reason})
                continue
            bad: list[tuple[int, str, str | None, str]] = []
            name = _value(mapping.governorate, row)
            gcol = mapping.governorate.column or "governorate"
            pcode, err = resolve_governorate_name(name) if name else (None, "governorate is blank")
            if pcode is None:
                bad.append((i, gcol, name, err))
            elif mapping.pcode_check_column and row.get(mapping.pcode_check_column) not in (None, pcode):
                bad.append(
                    (i, mapping.pcode_check_column, row.get(mapping.pcode_check_column),
                     f"compiled p-code disagrees with the published name {name!r}, which resolves to {pcode}")
                )
            year_text = _value(mapping.fiscal_year, row)
            year = None
            try:
                year = parse_integer(year_text) if year_text is not None else None
            except ValueParseError as exc:
                bad.append((i, mapping.fiscal_year.column or "fiscal_year", year_text, f"fiscal year: {exc}"))
            if year is None and not any(b[1] == (mapping.fiscal_year.column or "fiscal_year") for b in bad):
                bad.append((i, mapping.fiscal_year.column or "fiscal_year", None, "fiscal year is blank"))
            labels = {}
            for field_name in ("sector", "budget_scope"):
                ref: ColumnRef = getattr(mapping, field_name)
                labels[field_name] = _value(ref, row)
                if labels[field_name] == "__unmapped__":
                    bad.append((i, ref.column or field_name, row.get(ref.column or ""), f"{field_name} not in the mapping's recode"))
            amounts: dict[str, float | None] = {}
            for field_name in AMOUNT_FIELDS:
                col = getattr(mapping, field_name)
                text = row.get(col) if col else None
                if text is None:
                    amounts[field_name] = None
                    continue
                try:
                    amounts[field_name] = parse_number(text)
                except ValueParseError as exc:
                    bad.append((i, col, text, f"{field_name}: {exc}"))
                    continue
                if amounts[field_name] < 0:
                    bad.append((i, col, text, f"{field_name}: negative amount not allowed"))
            as_of_text = _value(mapping.as_of, row) if mapping.as_of else None
            as_of = None
            if as_of_text is not None:
                try:
                    as_of = parse_date(as_of_text)
                except ValueParseError as exc:
                    bad.append((i, mapping.as_of.column or "as_of", as_of_text, f"as_of: {exc}"))
            if bad:
                problems.add_rows(bad)
                continue
            rows.append(
                {
                    "source_id": mapping.source_id, "file_name": path.name, "file_sha256": delivered.sha256,
                    "row_number": i, "governorate_pcode": pcode, "governorate_name_source": name,
                    "fiscal_year": year, "sector": labels["sector"], "budget_scope": labels["budget_scope"],
                    **amounts, "currency": mapping.currency, "amount_unit": mapping.amount_unit,
                    "unit_multiplier": float(mapping.unit_multiplier), "as_of": as_of,
                    "is_synthetic": mapping.is_synthetic,
                }
            )
        frame = pl.DataFrame(
            rows,
            schema={
                "source_id": pl.String, "file_name": pl.String, "file_sha256": pl.String, "row_number": pl.Int64,
                "governorate_pcode": pl.String, "governorate_name_source": pl.String, "fiscal_year": pl.Int64,
                "sector": pl.String, "budget_scope": pl.String, "allocation_original": pl.Float64,
                "allocation_revised": pl.Float64, "expenditure": pl.Float64, "execution_pct_published": pl.Float64,
                "currency": pl.String, "amount_unit": pl.String, "unit_multiplier": pl.Float64, "as_of": pl.Date,
                "is_synthetic": pl.Boolean,
            },
        )
        # One line per governorate x fiscal year x sector x scope in these layouts: a repeated line would be
        # summed twice in the marts, so the repeat is quarantined naming the first.
        key = ["governorate_pcode", "fiscal_year", "sector", "budget_scope"]
        firsts = frame.group_by(key).agg(pl.col("row_number").min().alias("__first"))
        repeats = frame.join(firsts, on=key).filter(pl.col("row_number") != pl.col("__first"))
        if repeats.height:
            problems.add_rows([
                (r["row_number"], mapping.governorate.column or "governorate", r["governorate_name_source"],
                 f"duplicate budget line: {r['governorate_pcode']} {r['fiscal_year']} {r['sector']} "
                 f"{r['budget_scope']} already at row {r['__first']}")
                for r in repeats.iter_rows(named=True)
            ])
            frame = frame.filter(~pl.col("row_number").is_in(repeats["row_number"].to_list()))
        failures = contract_failures(BudgetLine, frame)
        if failures:
            problems.add_rows(failures)
            frame = frame.filter(~pl.col("row_number").is_in([f[0] for f in failures]))
        quarantine = problems.frame()
        result.quarantine.append(quarantine)
        result.exclusions.append(pl.DataFrame(excluded, schema=EXCLUSION_SCHEMA))
        result.files.append(
            FileAccount(
                source_id=mapping.source_id, file_name=path.name, file_path=str(path.resolve()),
                file_sha256=delivered.sha256, file_bytes=delivered.size_bytes, rows_read=df.height,
                rows_loaded=frame.height, rows_excluded=len(excluded), rows_quarantined=quarantine["row_number"].n_unique(),
            )
        )
        frames.append(frame)
    result.tables["budget_lines"] = pl.concat(frames)
    result.tables["budget_sources"] = pl.DataFrame(
        [{"source_id": mapping.source_id, "title": mapping.title, "citation": mapping.citation,
          "is_synthetic": mapping.is_synthetic}],
        schema={"source_id": pl.String, "title": pl.String, "citation": pl.String, "is_synthetic": pl.Boolean},
    )
    return result
