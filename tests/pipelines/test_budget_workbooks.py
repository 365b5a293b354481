"""Budget workbooks as they really arrive (docs/budget-workbooks.md): title rows, a units line, two-row
merged headers, section headings, subtotals and totals among the items; one sheet per fiscal year or a year
column; Arabic or English headers; xlsx and csv. One small workbook per layout feature and per fault, built
here with openpyxl, through the real ingestion assets into a real DuckDB file; expected values written out."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from tests.pipelines.survey_fixtures import failure_message, ingest, table

HEADER = ["ت", "البند", "نوع النفقة", "مصدر التمويل", "التخصيصات", None, "المصروف الفعلي"]
SUBHEADER = [None, None, None, None, "الأصلي", "المعدل", None]
WATER, HEALTH = "قطاع الماء والمجاري", "قطاع الصحة"
#: the water section of a sheet: heading, two items, subtotal; then health: heading, one item, subtotal; total
BODY = [
    [None, WATER, None, None, None, None, None],
    [1, "مشروع مجمع ماء الزبير", "استثماري", "تنمية الأقاليم", 1200, 1300, 900],
    [2, "صيانة شبكات المياه", "تشغيلي", "الوزارات الاتحادية", 300, 300, 250],
    [None, "المجموع", None, None, 1500, 1600, 1150],
    [None, HEALTH, None, None, None, None, None],
    [1, "تأهيل مستشفى الفيحاء", "استثماري", "البترودولار", 800, 750, 400],
    [None, "المجموع", None, None, 800, 750, 400],
    [None, "المجموع الكلي", None, None, 2300, 2350, 1550],
]

MAPPING = """
source_id: {sid}
domain: budget
title: test budget workbooks
format: xlsx
files: [{{path: "*.xlsx"}}]
layout:
  sheets: "{sheets}"
  header_starts: "البند"
  header_rows: 2
  unit: {unit}
  item_column: "البند"
governorate: {governorate}
fiscal_year: {fiscal_year}
sector: {{section: true, recode: {{"قطاع الماء والمجاري": water_sanitation, "قطاع الصحة": health}}}}
budget_scope: {{column: "نوع النفقة", recode: {{"استثماري": capital, "تشغيلي": operating}}}}
funding_stream:
  column: "مصدر التمويل"
  recode: {{"تنمية الأقاليم": regions_development, "الوزارات الاتحادية": federal_ministries, "البترودولار": petrodollar}}
allocation_original: "التخصيصات / الأصلي"
allocation_revised: "التخصيصات / المعدل"
expenditure: "المصروف الفعلي"
"""


def write_sheet(ws, title: str, unit: str | None, body: list[list], header=HEADER, subheader=SUBHEADER) -> None:
    """Title row (merged A1:G1), units row, blank row, the two-row merged header, then the body."""
    ws.append(["وزارة التخطيط - دائرة التنمية الإقليمية"])
    ws.merge_cells("A1:G1")
    ws.append([title])
    ws.append([unit])
    ws.append([])
    ws.append(header)
    ws.append(subheader)
    for col in "ABCDG":  # single-row headers merged down over the two header rows
        ws.merge_cells(f"{col}5:{col}6")
    ws.merge_cells("E5:F5")  # التخصيصات over الأصلي and المعدل
    for row in body:
        ws.append(row)


def workbook(path: Path, sheets: dict[str, tuple[str, str | None, list[list]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, (title, unit, body) in sheets.items():
        write_sheet(wb.create_sheet(name), title, unit, body)
    wb.save(path)
    return path


def source(root: Path, sid: str, files: dict[str, dict], *, unit: str = "{find: true}", sheets: str = "*",
           governorate: str = '{title: "لمحافظة\\\\s*(.+?)\\\\s+للسنة"}',
           fiscal_year: str = '{title: "للسنة المالية\\\\s*(\\\\S+)"}', mapping: str | None = None) -> Path:
    folder = root / "budget" / sid
    folder.mkdir(parents=True, exist_ok=True)
    for name, sheets_ in files.items():
        workbook(folder / name, sheets_)
    text = mapping or MAPPING.format(sid=sid, unit=unit, sheets=sheets, governorate=governorate, fiscal_year=fiscal_year)
    (folder / "source.yaml").write_text(text, encoding="utf-8")
    return folder


def title(gov: str, year: str) -> str:
    return f"الموازنة الاستثمارية والتشغيلية لمحافظة {gov} للسنة المالية {year}"


def lines(wh: Path) -> list[tuple]:
    return table(wh, "SELECT sheet_name, row_number, governorate_pcode, fiscal_year, sector, budget_scope, "
                     "funding_stream, allocation_original, allocation_revised, expenditure, amount_unit, "
                     "unit_multiplier FROM raw.budget_lines ORDER BY sheet_name, row_number").rows()


def accounts(wh: Path) -> list[tuple]:
    return table(wh, "SELECT file_name, rows_read, rows_loaded, rows_excluded, rows_quarantined "
                     "FROM audit.file_registry ORDER BY file_name").rows()


def quarantine(wh: Path) -> list[tuple]:
    return table(wh, "SELECT sheet_name, row_number, column_name, value, reason FROM audit.quarantine "
                     "ORDER BY sheet_name, row_number, column_name").rows()


def run(root: Path, wh: Path) -> None:
    result = ingest(root, wh)
    assert result.success, failure_message(result)


def test_arabic_workbook_with_titles_units_merged_header_sections_and_subtotals(tmp_path):
    source(tmp_path / "in", "b_ar", {"budget_2023.xlsx": {"Basrah": (title("البصرة", "٢٠٢٣"), "المبالغ بالآلاف دينار", BODY)}})
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    # only the three items are stored; rows are Excel rows (header in rows 5-6, body from row 7)
    assert lines(wh) == [
        ("Basrah", 8, "IQG02", 2023, "water_sanitation", "capital", "regions_development", 1200.0, 1300.0, 900.0,
         "IQD thousand", 1000.0),
        ("Basrah", 9, "IQG02", 2023, "water_sanitation", "operating", "federal_ministries", 300.0, 300.0, 250.0,
         "IQD thousand", 1000.0),
        ("Basrah", 12, "IQG02", 2023, "health", "capital", "petrodollar", 800.0, 750.0, 400.0, "IQD thousand", 1000.0),
    ]
    assert table(wh, "SELECT chapter, item_label FROM raw.budget_lines ORDER BY row_number").rows() == [
        (WATER, "مشروع مجمع ماء الزبير"), (WATER, "صيانة شبكات المياه"), (HEALTH, "تأهيل مستشفى الفيحاء")]
    # 8 rows read = 3 loaded + 5 excluded (2 headings, 2 subtotals, 1 total), none quarantined
    assert accounts(wh) == [("budget_2023.xlsx", 8, 3, 5, 0)]
    checks = table(wh, "SELECT row_number, row_kind, amount_field, printed, sum_of_items, status, items_from_row, "
                       "items_to_row FROM audit.budget_reconciliation ORDER BY row_number, amount_field").rows()
    assert checks == [
        (10, "subtotal", "allocation_original", 1500.0, 1500.0, "ok", 8, 9),
        (10, "subtotal", "allocation_revised", 1600.0, 1600.0, "ok", 8, 9),
        (10, "subtotal", "expenditure", 1150.0, 1150.0, "ok", 8, 9),
        (13, "subtotal", "allocation_original", 800.0, 800.0, "ok", 12, 12),
        (13, "subtotal", "allocation_revised", 750.0, 750.0, "ok", 12, 12),
        (13, "subtotal", "expenditure", 400.0, 400.0, "ok", 12, 12),
        (14, "total", "allocation_original", 2300.0, 2300.0, "ok", 8, 12),
        (14, "total", "allocation_revised", 2350.0, 2350.0, "ok", 8, 12),
        (14, "total", "expenditure", 1550.0, 1550.0, "ok", 8, 12),
    ]


@pytest.mark.parametrize(("unit_text", "label", "multiplier"), [
    ("المبالغ بالآلاف دينار", "IQD thousand", 1e3),
    ("المبالغ بالمليون دينار", "IQD million", 1e6),
    ("(مليار دينار)", "IQD billion", 1e9),
    ("Amounts in USD million", "USD million", 1e6),
    ("المبالغ بالدينار العراقي", "IQD", 1.0),
    ("المصروف الفعلي بالدينار", "IQD", 1.0),  # "الفعلي" (actual) starts with "الف" but names no thousand
    ("للفترة ألف - IQD thousands", "IQD thousand", 1e3),
])
def test_the_units_line_sets_the_multiplier_once(tmp_path, unit_text, label, multiplier):
    source(tmp_path / "in", "b_unit", {"b.xlsx": {"Basrah": (title("البصرة", "2023"), unit_text, BODY)}})
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    assert set(table(wh, "SELECT amount_unit, unit_multiplier, currency FROM raw.budget_lines").rows()) == {
        (label, multiplier, "USD" if "USD" in label else "IQD")}
    # amounts stay as printed; the multiplier is applied once, in staging
    assert table(wh, "SELECT sum(allocation_original) FROM raw.budget_lines").item() == 2300.0


def test_thousands_and_millions_sheets_in_one_source_keep_their_own_unit(tmp_path):
    source(tmp_path / "in", "b_units2", {"b.xlsx": {
        "2023": (title("البصرة", "2023"), "المبالغ بالآلاف دينار", BODY),
        "2024": (title("البصرة", "2024"), "المبالغ بالمليون دينار", BODY),
    }})
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    per_year = table(wh, "SELECT fiscal_year, sum(allocation_original * unit_multiplier) FROM raw.budget_lines "
                         "GROUP BY 1 ORDER BY 1").rows()
    assert per_year == [(2023, 2_300_000.0), (2024, 2_300_000_000.0)]


def test_no_units_line_stops_the_file_naming_the_sheet(tmp_path):
    source(tmp_path / "in", "b_nounit", {"b.xlsx": {"Basrah": (title("البصرة", "2023"), None, BODY)}})
    result = ingest(tmp_path / "in", tmp_path / "wh.duckdb")
    assert not result.success
    msg = failure_message(result)
    assert "b.xlsx sheet 'Basrah': no cell above the header (rows 1-4) names a unit" in msg


def test_declared_unit_when_the_sheet_has_none(tmp_path):
    source(tmp_path / "in", "b_declared", {"b.xlsx": {"Basrah": (title("البصرة", "2023"), None, BODY)}},
           unit='{declared: "IQD million"}')
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    assert set(table(wh, "SELECT amount_unit, unit_multiplier FROM raw.budget_lines").rows()) == {("IQD million", 1e6)}


def test_one_sheet_per_fiscal_year_named_by_the_sheet(tmp_path):
    source(tmp_path / "in", "b_sheets", {"basrah.xlsx": {
        "FY 2021": ("محافظة البصرة", "بالآلاف دينار", BODY), "FY 2023": ("محافظة البصرة", "بالآلاف دينار", BODY),
        "notes": ("ملاحظات", None, [])}},
        sheets="FY *", governorate='{title: "محافظة\\\\s*(\\\\S+)"}', fiscal_year='{sheet_name: "FY (\\\\d{4})"}')
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    assert table(wh, "SELECT fiscal_year, count(*) FROM raw.budget_lines GROUP BY 1 ORDER BY 1").rows() == [(2021, 3), (2023, 3)]


def test_a_subtotal_that_does_not_add_up_is_quarantined_with_both_numbers(tmp_path):
    body = [list(r) for r in BODY]
    body[3] = [None, "المجموع", None, None, 1500, 1600, 1250]  # expenditure printed 1,250; items 900 + 250 = 1,150
    body[7] = [None, "المجموع الكلي", None, None, 2300, 2350, 1650]  # consistent with the wrong subtotal
    source(tmp_path / "in", "b_sub", {"b.xlsx": {"Basrah": (title("البصرة", "2023"), "بالآلاف دينار", body)}})
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    q = quarantine(wh)
    assert [(r[1], r[2], r[3]) for r in q] == [(8, "البند", "مشروع مجمع ماء الزبير"), (9, "البند", "صيانة شبكات المياه"),
                                            (10, "المصروف الفعلي", "1250"), (14, "المصروف الفعلي", "1650")]
    assert q[2][4] == ("subtotal 'المجموع' prints expenditure 1,250 but its 2 items (rows 8-9) sum to 1,150 "
                       "(IQD thousand; difference 100, tolerance 0.5) at Basrah!G10")
    assert "covered by the subtotal at row 10, which does not reconcile (expenditure)" in q[0][4]
    # the health item is vouched for by its own subtotal and loads; the total (1,650 vs items 1,550) fails too,
    # but it only covers items already quarantined or vouched for
    assert [r[1] for r in lines(wh)] == [12]
    assert accounts(wh) == [("b.xlsx", 8, 1, 3, 4)]
    status = table(wh, "SELECT row_number, amount_field, status FROM audit.budget_reconciliation "
                       "WHERE status <> 'ok' ORDER BY 1").rows()
    assert status == [(10, "expenditure", "mismatch"), (14, "expenditure", "mismatch")]


def test_half_a_unit_of_rounding_is_accepted(tmp_path):
    body = [list(r) for r in BODY]
    body[1][4] = 1200.4  # items 1,200.4 + 300 = 1,500.4; printed 1,500
    body[7][4] = 2300
    source(tmp_path / "in", "b_round", {"b.xlsx": {"Basrah": (title("البصرة", "2023"), "بالآلاف دينار", body)}})
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    assert table(wh, "SELECT count(*) FROM audit.quarantine").item() == 0
    assert len(lines(wh)) == 3


@pytest.mark.parametrize(("cell", "outcome"), [
    ("1,,0", "allocation_original: '1,,0' is not a number"),
    ("١٬٢٠٠", 1200.0),  # Arabic-Indic digits with the Arabic thousands separator
    ("۱۲۰۰", 1200.0),  # Persian digits
    ("1,200", 1200.0),
    ("-1200", "allocation_original: negative amount not allowed at Basrah!E8"),
    ("غير متوفر", "allocation_original: 'غير متوفر' is not a number"),
])
def test_amount_cells_are_parsed_strictly_with_their_cell_reference(tmp_path, cell, outcome):
    body = [list(r) for r in BODY]
    body[1][4] = cell
    source(tmp_path / "in", "b_cell", {"b.xlsx": {"Basrah": (title("البصرة", "2023"), "بالآلاف دينار", body)}})
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    if isinstance(outcome, float):
        assert table(wh, "SELECT allocation_original FROM raw.budget_lines WHERE row_number = 8").item() == outcome
        assert table(wh, "SELECT count(*) FROM audit.quarantine").item() == 0
        return
    q = quarantine(wh)
    assert (q[0][1], q[0][2], q[0][3]) == (8, "التخصيصات / الأصلي", cell) and outcome in q[0][4]
    # the subtotal and total cannot be checked on that field; they are listed as unchecked, not as ok
    assert table(wh, "SELECT DISTINCT row_number FROM audit.budget_reconciliation WHERE amount_field = "
                     "'allocation_original' AND status = 'unchecked' ORDER BY 1")["row_number"].to_list() == [10, 14]
    assert [r[1] for r in lines(wh)] == [9, 12]
    read, loaded, excluded, quarantined = accounts(wh)[0][1:]
    assert (read, loaded, quarantined) == (8, 2, 1) and read == loaded + excluded + quarantined


def test_an_unknown_governorate_in_the_title_quarantines_the_sheet_lines(tmp_path):
    source(tmp_path / "in", "b_gov", {"b.xlsx": {
        "Basrah": (title("البصرة", "2023"), "بالآلاف دينار", BODY),
        "Zubair": (title("الزبير", "2023"), "بالآلاف دينار", BODY),  # a district typed as a governorate
    }})
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    q = [r for r in quarantine(wh) if r[0] == "Zubair"]
    assert [(r[1], r[2], r[3]) for r in q] == [(8, "(title rows)", "الزبير"), (9, "(title rows)", "الزبير"),
                                            (12, "(title rows)", "الزبير")]
    assert "unknown governorate" in q[0][4]
    assert {r[0] for r in lines(wh)} == {"Basrah"}
    assert accounts(wh) == [("b.xlsx", 16, 3, 10, 3)]


def test_a_section_heading_not_in_the_recode_quarantines_its_lines(tmp_path):
    body = [list(r) for r in BODY]
    body[4][1] = "قطاع الزراعة"  # agriculture: not mapped to a budget sector
    source(tmp_path / "in", "b_sec", {"b.xlsx": {"Basrah": (title("البصرة", "2023"), "بالآلاف دينار", body)}})
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    q = quarantine(wh)
    assert [(r[1], r[2], r[3]) for r in q] == [(12, "البند", "قطاع الزراعة")]
    assert q[0][4].startswith("sector: section heading 'قطاع الزراعة' is not in the mapping's recode (قطاع الصحة, قطاع الماء والمجاري)")


def test_a_row_without_a_label_is_a_subtotal_only_when_it_adds_up(tmp_path):
    body = [list(r) for r in BODY]
    body[3][1] = None  # the water subtotal without its label: 1,500 / 1,600 / 1,150 equals its items
    body[6] = [None, None, None, None, 800, 750, 450]  # the health "subtotal" without a label, expenditure off by 50
    source(tmp_path / "in", "b_unl", {"b.xlsx": {"Basrah": (title("البصرة", "2023"), "بالآلاف دينار", body)}})
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    q = quarantine(wh)
    assert [(r[1], r[2]) for r in q] == [(13, "البند")]
    assert "no item label, and its amounts are not the sum of the items above it (allocation_original 800 vs items 800; " \
           "allocation_revised 750 vs items 750; expenditure 450 vs items 400)" in q[0][4]
    assert table(wh, "SELECT row_kind FROM audit.budget_reconciliation WHERE row_number = 10 LIMIT 1").item() == "subtotal"


def test_a_formula_without_a_saved_result_stops_the_file(tmp_path):
    folder = source(tmp_path / "in", "b_formula", {"b.xlsx": {"Basrah": (title("البصرة", "2023"), "بالآلاف دينار", BODY)}})
    wb = openpyxl.load_workbook(folder / "b.xlsx")
    wb["Basrah"]["E10"] = "=SUM(E8:E9)"  # written by a program: no cached result
    wb.save(folder / "b.xlsx")
    result = ingest(tmp_path / "in", tmp_path / "wh.duckdb")
    assert not result.success
    assert "b.xlsx sheet 'Basrah': formula cells without a saved result (E10)" in failure_message(result)


def test_english_headers_one_row_and_a_year_column(tmp_path):
    folder = tmp_path / "in" / "budget" / "b_en"
    folder.mkdir(parents=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Budget"
    for row in (["Ministry of Planning, governorate investment budgets"], ["IQD million"], [],
                ["Governorate", "Fiscal year", "Item", "Type", "Original allocation", "Expenditure"],
                ["Erbil", 2023, "Water network", "capital", 50, 20],
                ["Erbil", 2024, "Water network", "capital", 60, 45],
                [None, None, "Total", None, 110, 65]):
        ws.append(row)
    wb.save(folder / "b.xlsx")
    (folder / "source.yaml").write_text("""
source_id: b_en
domain: budget
title: English layout
format: xlsx
files: [{path: "*.xlsx"}]
layout: {header_starts: Governorate, unit: {find: true}, item_column: Item}
governorate: {column: Governorate}
fiscal_year: {column: Fiscal year}
sector: {constant: water_sanitation}
budget_scope: {column: Type}
allocation_original: Original allocation
expenditure: Expenditure
""", encoding="utf-8")
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    assert table(wh, "SELECT governorate_pcode, fiscal_year, allocation_original, expenditure, amount_unit "
                     "FROM raw.budget_lines ORDER BY 2").rows() == [("IQG11", 2023, 50.0, 20.0, "IQD million"),
                                                                    ("IQG11", 2024, 60.0, 45.0, "IQD million")]
    assert table(wh, "SELECT status FROM audit.budget_reconciliation WHERE amount_field = 'expenditure'").item() == "ok"


def test_the_partial_2025_spending_file_loads_as_partial(tmp_path, shared_data):
    folder = tmp_path / "in" / "budget"
    folder.mkdir(parents=True)
    name = "ecoiraq_2025_jan_jul_governorate_spending_partial.csv"
    (folder / name).symlink_to(shared_data / "budget" / name)
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    assert accounts(wh) == [(name, 17, 17, 0, 0)]
    assert table(wh, "SELECT coverage FROM raw.budget_sources").item() == "partial"
    assert set(table(wh, "SELECT period_months, fiscal_year FROM raw.budget_lines").rows()) == {(7, 2025)}
    # Anbar's current + investment (171.0 + 230.8 = 401.8) next to its published total 402.2: kept apart
    anbar = dict(table(wh, "SELECT budget_scope, expenditure FROM raw.budget_lines WHERE governorate_pcode = 'IQG01'").rows())
    assert anbar == {"total": 402.2, "operating": 171.0, "capital": 230.8}
    assert table(wh, "SELECT count(DISTINCT governorate_pcode) FROM raw.budget_lines").item() == 9


def test_a_units_line_naming_dinars_and_dollars_stops_the_file(tmp_path):
    source(tmp_path / "in", "b_amb", {"b.xlsx": {"Basrah": (title("البصرة", "2023"), "المبالغ بالدينار والدولار", BODY)}})
    result = ingest(tmp_path / "in", tmp_path / "wh.duckdb")
    assert not result.success
    msg = failure_message(result)
    assert "b.xlsx sheet 'Basrah': the unit in A3 is ambiguous: 'المبالغ بالدينار والدولار' names USD, IQD" in msg
    assert "layout.unit: {declared: 'IQD thousand'}" in msg


@pytest.mark.parametrize("label", ["المجموع:", "مجموع قطاع الماء", "- المجموع -"])
def test_subtotal_label_variants(tmp_path, label):
    body = [list(r) for r in BODY]
    body[3][1] = label
    source(tmp_path / "in", "b_lbl", {"b.xlsx": {"Basrah": (title("البصرة", "2023"), "بالآلاف دينار", body)}})
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    assert [r[1] for r in lines(wh)] == [8, 9, 12]
    assert table(wh, "SELECT DISTINCT row_kind, status FROM audit.budget_reconciliation WHERE row_number = 10").rows() == [
        ("subtotal", "ok")]


def test_an_of_which_line_below_the_total_is_quarantined_not_summed(tmp_path):
    body = [list(r) for r in BODY] + [[None, "منها: مبالغ محولة من السنة السابقة", None, None, 400, 400, 300]]
    source(tmp_path / "in", "b_memo", {"b.xlsx": {"Basrah": (title("البصرة", "2023"), "بالآلاف دينار", body)}})
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    q = quarantine(wh)
    assert [(r[1], r[3]) for r in q] == [(15, "منها: مبالغ محولة من السنة السابقة")]
    assert "a line below the total at row 14" in q[0][4]
    assert table(wh, "SELECT sum(allocation_original) FROM raw.budget_lines").item() == 2300.0
    assert accounts(wh) == [("b.xlsx", 9, 3, 5, 1)]


def test_sub_headings_inside_a_sector_keep_the_sector_and_the_sector_subtotal_reconciles(tmp_path):
    body = [
        [None, WATER, None, None, None, None, None],                          # 7
        [None, "أولاً: المشاريع الاستثمارية", None, None, None, None, None],  # 8 sub-heading
        [1, "مشروع مجمع ماء الزبير", "استثماري", "تنمية الأقاليم", 1200, 1300, 900],
        [None, "المجموع", None, None, 1200, 1300, 900],                      # 10 closes the sub-section
        [None, "ثانياً: النفقات التشغيلية", None, None, None, None, None],    # 11 sibling sub-heading
        [2, "صيانة شبكات المياه", "تشغيلي", "الوزارات الاتحادية", 300, 300, 250],
        [None, "المجموع", None, None, 300, 300, 250],                        # 13
        [None, "مجموع قطاع الماء والمجاري", None, None, 1500, 1600, 1150],    # 14 the sector: both sub-sections
        [None, HEALTH, None, None, None, None, None],
        [1, "تأهيل مستشفى الفيحاء", "استثماري", "البترودولار", 800, 750, 400],
        [None, "المجموع", None, None, 800, 750, 400],
        [None, "المجموع الكلي", None, None, 2300, 2350, 1550],
    ]
    source(tmp_path / "in", "b_nest", {"b.xlsx": {"Basrah": (title("البصرة", "2023"), "بالآلاف دينار", body)}})
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    assert table(wh, "SELECT row_number, sector, chapter FROM raw.budget_lines ORDER BY 1").rows() == [
        (9, "water_sanitation", WATER + " / أولاً: المشاريع الاستثمارية"),
        (12, "water_sanitation", WATER + " / ثانياً: النفقات التشغيلية"),
        (16, "health", HEALTH)]
    checks = table(wh, "SELECT row_number, items_from_row, items_to_row, status FROM audit.budget_reconciliation "
                       "WHERE amount_field = 'expenditure' ORDER BY 1").rows()
    assert checks == [(10, 9, 9, "ok"), (13, 12, 12, "ok"), (14, 9, 12, "ok"), (17, 16, 16, "ok"), (18, 9, 16, "ok")]
    assert table(wh, "SELECT count(*) FROM audit.quarantine").item() == 0


def test_an_economic_type_merged_down_a_block_belongs_to_each_line(tmp_path):
    body = [list(r) for r in BODY]
    body[2][2] = None  # C9 empty under a merged C8:C9 reading "استثماري"
    body[2][3] = None
    folder = source(tmp_path / "in", "b_merge", {"b.xlsx": {"Basrah": (title("البصرة", "2023"), "بالآلاف دينار", body)}})
    wb = openpyxl.load_workbook(folder / "b.xlsx")
    wb["Basrah"].merge_cells("C8:C9")
    wb["Basrah"].merge_cells("D8:D9")
    wb.save(folder / "b.xlsx")
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    assert table(wh, "SELECT row_number, budget_scope, funding_stream FROM raw.budget_lines ORDER BY 1").rows() == [
        (8, "capital", "regions_development"), (9, "capital", "regions_development"), (12, "capital", "petrodollar")]


def test_a_hidden_sheet_is_not_read_and_is_named_in_a_note(tmp_path):
    folder = source(tmp_path / "in", "b_hidden", {"b.xlsx": {
        "Basrah": (title("البصرة", "2023"), "بالآلاف دينار", BODY),
        "Maysan": (title("ميسان", "2023"), "بالآلاف دينار", BODY)}})
    wb = openpyxl.load_workbook(folder / "b.xlsx")
    wb["Maysan"].sheet_state = "hidden"
    wb.save(folder / "b.xlsx")
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    assert {r[0] for r in lines(wh)} == {"Basrah"}
    notes = table(wh, "SELECT file_name, note FROM audit.source_notes")["note"].to_list()
    assert any("sheet 'Maysan' is hidden: not read" in n for n in notes)


def test_a_contract_failure_on_the_second_sheet_is_quarantined_on_that_sheet(tmp_path):
    # the contract runs once over all sheets of a file; a failure must go back to its own sheet and rows
    source(tmp_path / "in", "b_contract", {"b.xlsx": {
        "Basrah": (title("البصرة", "2023"), "بالآلاف دينار", BODY),
        "Basrah old": (title("البصرة", "1985"), "بالآلاف دينار", BODY)}})
    wh = tmp_path / "wh.duckdb"
    run(tmp_path / "in", wh)
    assert [r[:2] for r in lines(wh)] == [("Basrah", 8), ("Basrah", 9), ("Basrah", 12)]
    assert [r[:4] for r in quarantine(wh)] == [
        ("Basrah old", 8, "fiscal_year", "1985"), ("Basrah old", 9, "fiscal_year", "1985"),
        ("Basrah old", 12, "fiscal_year", "1985")]
    assert {r[4] for r in quarantine(wh)} == {"contract BudgetLine: failed check greater_than_or_equal_to(1990)"}
    # 16 rows read = 3 loaded + 10 excluded (headings, subtotals, totals of both sheets) + 3 quarantined
    assert accounts(wh) == [("b.xlsx", 16, 3, 10, 3)]
