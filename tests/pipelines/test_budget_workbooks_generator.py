"""Tests for the SYNTHETIC demo budget workbooks (pipelines/demo/budget_workbooks.py).

The workbooks are parsed here with a small reader of their own (not pipelines/readers/budget_sheet.py), so
the layout, the planted faults and the manifest's expected totals are checked independently of the reader.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import polars as pl
import pytest
import yaml

from data_contracts.governorates import UnknownGovernorateError, resolve_governorate
from pipelines.demo import budget_workbooks as bw
from pipelines.demo import generate_demo
from pipelines.demo.generate import FISCAL_YEARS, SECTORS

SEED = 20261129
ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "data_contracts" / "sources" / "mizan_demo_budget.yaml"
FILES = {fy: f"budget/mizan_demo_budget/budget_{fy}.xlsx" for fy in FISCAL_YEARS}
STAGES = ("allocation_original", "allocation_revised", "expenditure")
_WESTERN = str.maketrans("٠١٢٣٤٥٦٧٨٩٬", "0123456789,")
SCOPES = {v: k for k, v in bw.SCOPE_LABELS.items()}
STREAMS = {v: k for k, v in bw.FUNDING_LABELS.items()}
SECTIONS = {v: k for k, v in bw.SECTION_HEADINGS.items()}


def _amount(value: Any) -> int | None:
    """Strict amount: a number, or text with well-formed thousands separators (Western or Eastern digits)."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        assert float(value).is_integer()
        return int(value)
    text = str(value).translate(_WESTERN)
    if not re.fullmatch(r"\d{1,3}(,\d{3})*", text):
        return None
    return int(text.replace(",", ""))


def _parse(ws) -> dict[str, Any]:
    """Sections, items, subtotals and the total of one sheet (rows below the two header rows)."""
    sections: list[dict[str, Any]] = []
    total = None
    for r in range(bw.FIRST_ROW, ws.max_row + 1):
        cells = [ws.cell(row=r, column=c).value for c in range(1, 8)]
        label = cells[1]
        raw = dict(zip(STAGES, cells[4:7]))
        if label == bw.TOTAL_LABEL:
            total = {"row": r, **{s: _amount(v) for s, v in raw.items()}}
        elif label == bw.SUBTOTAL_LABEL:
            sections[-1]["subtotal"] = {"row": r, **{s: _amount(v) for s, v in raw.items()}}
        elif all(v is None for v in raw.values()):
            assert cells[0] is None and cells[2] is None and cells[3] is None, (ws.title, r)
            sections.append({"heading": label, "row": r, "items": [], "subtotal": None})
        else:
            sections[-1]["items"].append(
                {"row": r, "seq": cells[0], "label": label, "scope": cells[2], "funding": cells[3], "raw": raw,
                 **{s: _amount(v) for s, v in raw.items()}}
            )
    return {"sections": sections, "total": total}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("budget_demo")
    return out, generate_demo(out, seed=SEED, households_per_wave=400)


@pytest.fixture(scope="module")
def books(demo) -> dict[int, openpyxl.Workbook]:
    out, _ = demo
    return {fy: openpyxl.load_workbook(out / rel) for fy, rel in FILES.items()}


@pytest.fixture(scope="module")
def parsed(books) -> dict[tuple[int, str], dict[str, Any]]:
    return {(fy, ws.title): _parse(ws) for fy, wb in books.items() for ws in wb}


def _faults(m: dict) -> dict[str, dict]:
    return {f["kind"]: f for f in m["faults"] if f["file"].startswith("budget/")}


# ---------------------------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_workbooks() -> None:
    a, info_a = bw.generate(np.random.default_rng(7))
    time.sleep(2.1)  # zip entries have 2-second resolution: a leaked clock would now differ
    b, info_b = bw.generate(np.random.default_rng(7))
    assert set(a) == {bw.path(fy).as_posix() for fy in FISCAL_YEARS}
    assert {k: hashlib.sha256(v[0]).hexdigest() for k, v in a.items()} == {
        k: hashlib.sha256(v[0]).hexdigest() for k, v in b.items()
    }
    assert info_a == info_b
    c, _ = bw.generate(np.random.default_rng(8))
    assert all(a[k][0] != c[k][0] for k in a)


def test_workbook_properties_carry_fixed_times(books) -> None:
    for wb in books.values():
        assert wb.properties.created.year == 2024 and wb.properties.modified == wb.properties.created
        assert "SYNTHETIC" in wb.properties.title


# ---------------------------------------------------------------------------------------------
# layout
# ---------------------------------------------------------------------------------------------


def test_one_workbook_per_budget_year_one_sheet_per_governorate(demo, books) -> None:
    out, m = demo
    names = [n for n in sorted(p.name for p in (out / "budget" / "mizan_demo_budget").iterdir())]
    assert names == [f"budget_{fy}.xlsx" for fy in FISCAL_YEARS]  # none for 2020 and 2022
    ref = pl.read_csv(ROOT / "data_contracts" / "reference" / "governorates.csv")
    short = ref["name_en_short"].to_list()
    assert [p for p, _, _ in bw.SHEETS] == ref["governorate_pcode"].to_list()
    for fy, wb in books.items():
        sheets = wb.sheetnames
        if fy == bw.UNKNOWN_YEAR:
            assert sheets.index(bw.UNKNOWN_SHEET) == sheets.index("Baghdad") + 1
            sheets = [s for s in sheets if s != bw.UNKNOWN_SHEET]
        assert sheets == short and all(len(s) <= 31 for s in wb.sheetnames)
        assert m["budget"]["workbooks"][str(fy)]["sheets"] == wb.sheetnames
        assert all(ws.sheet_view.rightToLeft for ws in wb)


def test_title_units_and_merged_two_row_header(books) -> None:
    ref = dict(pl.read_csv(ROOT / "data_contracts" / "reference" / "governorates.csv")
               .select("governorate_pcode", "name_ar").iter_rows())
    for fy, wb in books.items():
        unit_text, multiplier, _ = bw.UNITS[fy]
        year = "".join("٠١٢٣٤٥٦٧٨٩"[int(d)] for d in str(fy)) if fy in bw.EASTERN_TITLE_YEARS else str(fy)
        for ws in wb:
            merged = {str(r) for r in ws.merged_cells.ranges}
            assert merged == {"A1:G1", "A2:G2", "A3:G3", *bw.HEADER_MERGES}, ws.title
            assert ws["A1"].value.startswith("وزارة")
            m = re.fullmatch(r"الموازنة الاستثمارية والتشغيلية لمحافظة (.+) للسنة المالية (\S+)", ws["A2"].value)
            assert m and m.group(2) == year, ws["A2"].value
            if ws.title == bw.UNKNOWN_SHEET:
                assert m.group(1) == bw.UNKNOWN_NAME_AR
            else:
                pcode = next(p for p, name, _ in bw.SHEETS if name == ws.title)
                assert m.group(1) == ref[pcode] and resolve_governorate(m.group(1)) == pcode
            assert ws["A3"].value == unit_text
            assert all(ws.cell(row=4, column=c).value is None for c in range(1, 8))
            assert [ws.cell(row=5, column=c).value for c in range(1, 8)] == list(bw.HEADER_ROW_1)
            assert [ws.cell(row=6, column=c).value for c in range(1, 8)] == list(bw.HEADER_ROW_2)
            # nothing above the header contains the mapping's header_starts text
            assert not any("البند" in str(ws.cell(row=r, column=1).value or "") for r in (1, 2, 3))


def test_sections_items_subtotals_and_grand_total(demo, parsed) -> None:
    _, m = demo
    faults = _faults(m)
    bad_rows = {(f["fiscal_year"], f["sheet"], f["row_number"]) for f in faults.values()
                if f["kind"] in ("double_separator", "negative_expenditure")}
    off = faults["subtotal_mismatch"]
    mismatches = []
    for (fy, sheet), p in parsed.items():
        sectors = [SECTIONS[s["heading"]] for s in p["sections"]]
        if sheet == bw.UNKNOWN_SHEET:
            assert sectors == ["water_sanitation", "municipal_waste", "roads_transport"]
        else:
            assert sectors == list(SECTORS)
        seq, sheet_sums = 0, dict.fromkeys(STAGES, 0)
        for s in p["sections"]:
            valid = [it for it in s["items"] if (fy, sheet, it["row"]) not in bad_rows]
            assert 2 <= len(valid) <= 4
            for it in s["items"]:
                seq += 1
                assert it["seq"] == seq  # numbered through the sheet
                assert it["scope"] in SCOPES and it["funding"] in STREAMS
                assert not str(it["label"]).startswith(("المجموع", "مجموع", "الإجمالي", "Total"))
            for it in valid:
                assert all(isinstance(it[st], int) and it[st] >= 0 for st in STAGES), (fy, sheet, it["row"])
                assert it["label"] in bw.ITEMS[SECTIONS[s["heading"]]][SCOPES[it["scope"]]]
            assert s["subtotal"] is not None
            for st in STAGES:
                total = sum(it[st] or 0 for it in s["items"])  # a spreadsheet SUM: the text 1,,0 counts 0
                sheet_sums[st] += total
                if s["subtotal"][st] != total:
                    mismatches.append((fy, sheet, s["subtotal"]["row"], st, s["subtotal"][st], total))
        assert p["total"] is not None and p["total"]["row"] == p["sections"][-1]["subtotal"]["row"] + 1
        assert {st: p["total"][st] for st in STAGES} == sheet_sums, (fy, sheet)
    assert mismatches == [(off["fiscal_year"], off["sheet"], off["row_number"], "allocation_original",
                           off["value"], off["sum_of_items"])]
    assert abs(off["value"] - off["sum_of_items"]) > 0.5


def test_amounts_are_values_mostly_numeric(demo, books) -> None:
    _, m = demo
    texts, numbers = [], 0
    for wb in books.values():
        for ws in wb:
            for row in ws.iter_rows(min_row=bw.FIRST_ROW, min_col=5, max_col=7):
                for cell in row:
                    if isinstance(cell.value, str):
                        assert not cell.value.startswith("=")  # no formulas: values only
                        texts.append(cell.value)
                    elif cell.value is not None:
                        numbers += 1
    separators = [t for t in texts if re.fullmatch(r"\d{1,3}(,\d{3})+", t)]
    assert sorted(set(texts) - set(separators)) == sorted(["1,,0", "١٬٢٥٠"])
    assert len(separators) == m["budget"]["text_amounts"] and 5 <= len(separators) <= 0.01 * numbers


def test_magnitudes_follow_the_demo_scale(demo) -> None:
    _, m = demo
    exp = pl.DataFrame(m["budget"]["expected"])
    assert exp.select("governorate_pcode", "fiscal_year").unique().height == 19 * len(FISCAL_YEARS)
    assert set(exp["sector"]) == set(SECTORS) and set(exp["budget_scope"]) == {"capital", "operating"}
    cap = exp.filter(pl.col("budget_scope") == "capital").group_by("governorate_pcode", "fiscal_year").agg(
        pl.col("allocation_original_iqd").sum())["allocation_original_iqd"]
    assert cap.min() >= 49e9 and cap.max() <= 801e9
    rate = exp["expenditure_iqd"] / exp["allocation_original_iqd"]
    assert rate.min() >= 0.19 and rate.max() <= 0.96
    ratio = exp["allocation_revised_iqd"] / exp["allocation_original_iqd"]
    assert ratio.min() >= 0.89 and ratio.max() <= 1.13
    by_gov = exp.group_by("governorate_pcode").agg(pl.col("allocation_original_iqd").sum())
    amounts = dict(by_gov.iter_rows())
    assert amounts["IQG08"] > 4 * amounts["IQG19"]
    streams = pl.DataFrame(m["budget"]["expected_by_funding_stream"])
    assert set(streams["funding_stream"]) == {"federal_ministries", "regions_development", "petrodollar", "own_revenue"}
    assert set(streams.filter(pl.col("funding_stream") == "petrodollar")["governorate_pcode"]) <= set(
        bw.PETRODOLLAR_PCODES)
    assert set(streams.filter(pl.col("funding_stream") == "own_revenue")["budget_scope"]) == {"operating"}
    assert streams.group_by("governorate_pcode", "fiscal_year", "sector", "budget_scope").agg(
        pl.col("allocation_original_iqd", "allocation_revised_iqd", "expenditure_iqd").sum()
    ).sort(pl.all()).equals(exp.sort(pl.all()))


# ---------------------------------------------------------------------------------------------
# planted faults and the manifest's expected totals
# ---------------------------------------------------------------------------------------------


def test_planted_faults_are_where_the_manifest_says(demo, books) -> None:
    out, m = demo
    faults = _faults(m)
    assert set(faults) == {"double_separator", "eastern_digits", "negative_expenditure", "subtotal_mismatch",
                           "unknown_governorate"}
    assert len([f for f in m["faults"] if f["file"].startswith("budget/")]) == 5
    readme = (out / "README.txt").read_text(encoding="utf-8")
    for f in faults.values():
        ws = books[f["fiscal_year"]][f["sheet"]]
        assert ws[f["cell"]].row == f["row_number"] and f["file"] == FILES[f["fiscal_year"]]
        assert ws[f["cell"]].value == f.get("cell_text", f["value"]), f
        assert f"sheet {f['sheet']} cell {f['cell']}" in readme
        if f["kind"] != "unknown_governorate":
            assert f["governorate_pcode"] == next(p for p, n, _ in bw.SHEETS if n == f["sheet"])
            assert bw.SECTION_HEADINGS[f["sector"]] in [
                ws.cell(row=r, column=2).value for r in range(bw.FIRST_ROW, f["row_number"])]
    assert faults["double_separator"]["value"] == "1,,0"
    assert faults["double_separator"]["outcome"] == "quarantined"
    eastern = faults["eastern_digits"]
    assert eastern["value"] == "١٬٢٥٠" and eastern["parsed_value"] == 1250 and eastern["outcome"] == "loaded"
    assert _amount(eastern["value"]) == 1250
    assert faults["negative_expenditure"]["value"] < 0 and faults["negative_expenditure"]["cell"].startswith("G")
    off = faults["subtotal_mismatch"]
    assert off["cell"].startswith("E") and off["quarantined_item_rows"] == list(
        range(off["quarantined_item_rows"][0], off["row_number"]))
    ws = books[off["fiscal_year"]][off["sheet"]]
    assert ws.cell(row=off["quarantined_item_rows"][0] - 1, column=2).value == bw.SECTION_HEADINGS[off["sector"]]
    unknown = faults["unknown_governorate"]
    assert (unknown["sheet"], unknown["cell"], unknown["value"]) == (bw.UNKNOWN_SHEET, "A2", "بغداد الجديدة")
    assert unknown["column"] == "governorate" and "لمحافظة بغداد الجديدة للسنة" in unknown["cell_text"]
    ws = books[unknown["fiscal_year"]][unknown["sheet"]]
    assert unknown["quarantined_item_rows"] == [
        r for r in range(bw.FIRST_ROW, ws.max_row + 1) if isinstance(ws.cell(row=r, column=1).value, int)]
    with pytest.raises(UnknownGovernorateError):
        resolve_governorate(unknown["value"])


def test_the_unknown_governorate_is_the_only_title_no_resolver_knows(books) -> None:
    unresolved = []
    for fy, wb in books.items():
        for ws in wb:
            name = re.search(r"لمحافظة\s*(.+?)\s+للسنة", ws["A2"].value).group(1)
            try:
                resolve_governorate(name)
            except UnknownGovernorateError:
                unresolved.append((fy, ws.title, name))
    assert unresolved == [(bw.UNKNOWN_YEAR, bw.UNKNOWN_SHEET, bw.UNKNOWN_NAME_AR)]


def test_expected_totals_are_the_items_that_load_in_iqd(demo, parsed) -> None:
    _, m = demo
    faults = _faults(m)
    bad_rows = {(f["fiscal_year"], f["sheet"], f["row_number"]) for f in faults.values()
                if f["kind"] in ("double_separator", "negative_expenditure")}
    off = faults["subtotal_mismatch"]  # its items are quarantined with it
    bad_rows |= {(off["fiscal_year"], off["sheet"], r) for r in off["quarantined_item_rows"]}
    pcode = {name: p for p, name, _ in bw.SHEETS}
    got: dict[tuple, list[int]] = {}
    for (fy, sheet), p in parsed.items():
        if sheet == bw.UNKNOWN_SHEET:
            continue
        mult = m["budget"]["workbooks"][str(fy)]["unit_multiplier"]
        assert mult == bw.UNITS[fy][1]
        for s in p["sections"]:
            for it in s["items"]:
                if (fy, sheet, it["row"]) in bad_rows:
                    continue
                acc = got.setdefault((pcode[sheet], fy, SECTIONS[s["heading"]], SCOPES[it["scope"]]), [0, 0, 0])
                for i, st in enumerate(STAGES):
                    acc[i] += it[st] * mult
    expected = {
        (e["governorate_pcode"], e["fiscal_year"], e["sector"], e["budget_scope"]):
            [e["allocation_original_iqd"], e["allocation_revised_iqd"], e["expenditure_iqd"]]
        for e in m["budget"]["expected"]
    }
    assert got == expected
    # the Eastern-digit amount is in it, in the sheet's unit times the multiplier
    e = faults["eastern_digits"]
    assert e["parsed_value"] * bw.UNITS[e["fiscal_year"]][1] <= expected[
        (e["governorate_pcode"], e["fiscal_year"], e["sector"], "operating")][0]


# ---------------------------------------------------------------------------------------------
# the mapping names what the workbooks hold
# ---------------------------------------------------------------------------------------------


def test_mapping_matches_the_workbooks(books) -> None:
    mapping = yaml.safe_load(MAPPING.read_text(encoding="utf-8"))
    assert mapping["format"] == "xlsx" and mapping["supersede_by"] == "fiscal_year"
    assert mapping["layout"] == {"sheets": "*", "header_starts": "البند", "header_rows": 2, "unit": {"find": True},
                                 "item_column": "البند"}
    assert mapping["sector"] == {"section": True, "recode": SECTIONS}
    assert mapping["budget_scope"] == {"column": "نوع النفقة", "recode": SCOPES}
    assert mapping["funding_stream"] == {"column": "مصدر التمويل", "recode": STREAMS}
    assert (mapping["allocation_original"], mapping["allocation_revised"], mapping["expenditure"]) == bw.COLUMNS[4:]
    ws = books[2023]["Basrah"]
    title = ws["A2"].value
    assert re.search(mapping["governorate"]["title"], title).group(1) == "البصرة"
    assert re.search(mapping["fiscal_year"]["title"], title).group(1).translate(_WESTERN) == "2023"
    assert all(Path(rel).match(mapping["files"][0]["path"]) for rel in FILES.values())
