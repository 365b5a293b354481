"""The demo's budget: SYNTHETIC governorate budget workbooks in the layout finance offices deliver.

One workbook per fiscal year with a budget law (``budget/mizan_demo_budget/budget_<year>.xlsx``; none for
2020 and 2022), one sheet per governorate named by its short English name (``Basrah``), laid out as
docs/budget-workbooks.md describes::

    row 1   وزارة التخطيط - دائرة التنمية الإقليمية                          (merged A:G)
    row 2   الموازنة الاستثمارية والتشغيلية لمحافظة البصرة للسنة المالية ٢٠٢٣   (merged A:G)
    row 3   المبالغ بالآلاف دينار                                             (merged A:G)
    row 4   (blank)
    row 5   ت | البند | نوع النفقة | مصدر التمويل | التخصيصات (E5:F5) | المصروف الفعلي
    row 6                                        | الأصلي | المعدل |
    row 7   | قطاع الماء والمجاري                  <- section heading, no amounts
    row 8   1 | إنشاء مجمع ماء | استثماري | تنمية الأقاليم | 1,250,000 | 1,300,000 | 980,000
    ...     | المجموع                              <- subtotal of the section's items
    ...     | المجموع الكلي                        <- total of every item of the sheet

Amounts are in the sheet's unit (thousands of dinars in 2019 and 2023, millions in 2021 and 2024), written
as numbers (subtotals and totals as values, not formulas: a program-written workbook has no cached formula
results), a few typed as text with thousands separators ("1,250,000") as finance offices do. The year in the
title is written in Arabic-Indic digits in 2021 and 2023.

Planted faults (each in the demo manifest with file, sheet, cell, row, value and the expected outcome):

* a subtotal that does not add up (its original allocation is 1,000 units too high): quarantined;
* an amount typed ``1,,0``: the line is quarantined;
* an amount typed in Eastern digits ``١٬٢٥٠``: VALID, loads as 1,250 in the sheet's unit;
* a negative expenditure: the line is quarantined;
* a sheet whose title names ``بغداد الجديدة`` (a district of Baghdad typed as a governorate): no governorate
  resolves, the sheet is quarantined.

Printed subtotals and totals add up what a spreadsheet's SUM adds up: every number of their items, the negative
expenditure included, the text ``1,,0`` not (a reader marks those two expenditure reconciliations ``unchecked``;
the original and revised allocations of the ``1,,0`` line count, so its section reconciles). So exactly one
subtotal is off: the planted one, and the reader quarantines it with the items it covers (no other subtotal
vouches for them). ``expected`` in the manifest sums, in IQD, the line items that load: every item but the
``1,,0`` and negative lines, the items under the planted subtotal and the unknown governorate's sheet.

Same seed gives byte-identical workbooks (fixed workbook times, re-zipped with fixed entry times).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from pipelines.demo import generate as g

DIR = g.BUDGET_DIR
FISCAL_YEARS = g.FISCAL_YEARS


def path(year: int) -> Path:
    return DIR / f"budget_{year}.xlsx"


#: p-code, sheet name (COD-AB short English name), Arabic name (data_contracts/reference/governorates.csv
#: name_ar), in the order of generate.GOVERNORATES (IQG01 ... IQG19).
SHEETS: tuple[tuple[str, str, str], ...] = (
    ("IQG01", "Anbar", "الانبار"),
    ("IQG02", "Basrah", "البصرة"),
    ("IQG03", "Muthanna", "المثنى"),
    ("IQG04", "Najaf", "النجف"),
    ("IQG05", "Qadisiyah", "القادسية"),
    ("IQG06", "Sulaymaniyah", "السليمانية"),
    ("IQG07", "Babylon", "بابل"),
    ("IQG08", "Baghdad", "بغداد"),
    ("IQG09", "Duhok", "دهوك"),
    ("IQG10", "Diyala", "ديالى"),
    ("IQG11", "Erbil", "اربيل"),
    ("IQG12", "Karbala", "كربلاء"),
    ("IQG13", "Kirkuk", "كركوك"),
    ("IQG14", "Maysan", "ميسان"),
    ("IQG15", "Ninewa", "نينوى"),
    ("IQG16", "Salah al-Din", "صلاح الدين"),
    ("IQG17", "Thi Qar", "ذي قار"),
    ("IQG18", "Wasit", "واسط"),
    ("IQG19", "Halabja", "حلبجة"),
)
assert len(SHEETS) == len(g.GOVERNORATES)

UNKNOWN_SHEET = g.UNKNOWN_BUDGET_GOVERNORATE  # "Baghdad Al-Jadida"
UNKNOWN_NAME_AR = "بغداد الجديدة"  # a district of Baghdad, not a governorate
UNKNOWN_YEAR = 2024

#: unit of the amounts per fiscal year: (label in the units row, multiplier to IQD, manifest name)
UNITS: dict[int, tuple[str, int, str]] = {
    2019: ("المبالغ بالآلاف دينار", 1_000, "IQD thousand"),
    2021: ("المبالغ بالمليون دينار", 1_000_000, "IQD million"),
    2023: ("المبالغ بالآلاف دينار", 1_000, "IQD thousand"),
    2024: ("المبالغ بالمليون دينار", 1_000_000, "IQD million"),
}
EASTERN_TITLE_YEARS = (2021, 2023)  # the year in the title in Arabic-Indic digits
MINISTRY_LINE = {
    2019: "وزارة التخطيط - دائرة التنمية الإقليمية",
    2021: "وزارة المالية - دائرة الموازنة",
    2023: "وزارة التخطيط - دائرة التنمية الإقليمية",
    2024: "وزارة المالية - دائرة الموازنة",
}

SECTION_HEADINGS: dict[str, str] = {
    "water_sanitation": "قطاع الماء والمجاري",
    "electricity": "قطاع الكهرباء",
    "health": "قطاع الصحة",
    "education": "قطاع التربية والتعليم",
    "municipal_waste": "قطاع البلديات والخدمات",
    "roads_transport": "قطاع الطرق والجسور",
    "other": "قطاعات أخرى",
}
SCOPE_LABELS = {"capital": "استثماري", "operating": "تشغيلي"}
FUNDING_LABELS = {
    "federal_ministries": "الوزارات الاتحادية",
    "regions_development": "تنمية الأقاليم",
    "petrodollar": "البترودولار",
    "own_revenue": "الإيرادات المحلية",
}
#: Oil- and gas-producing governorates that receive petrodollar allocations.
PETRODOLLAR_PCODES = ("IQG01", "IQG02", "IQG10", "IQG13", "IQG14", "IQG15", "IQG16", "IQG17", "IQG18")

HEADER_ROW_1 = ("ت", "البند", "نوع النفقة", "مصدر التمويل", "التخصيصات", None, "المصروف الفعلي")
HEADER_ROW_2 = (None, None, None, None, "الأصلي", "المعدل", None)
#: the column names a reader derives from the two header rows (docs/budget-workbooks.md)
COLUMNS = ("ت", "البند", "نوع النفقة", "مصدر التمويل", "التخصيصات / الأصلي", "التخصيصات / المعدل", "المصروف الفعلي")
AMOUNT_COLUMNS = {"allocation_original": "E", "allocation_revised": "F", "expenditure": "G"}
HEADER_MERGES = ("A5:A6", "B5:B6", "C5:C6", "D5:D6", "E5:F5", "G5:G6")
FIRST_ROW = 7  # first row below the header
SUBTOTAL_LABEL = "المجموع"
TOTAL_LABEL = "المجموع الكلي"
TEXT_AMOUNT_SHARE = 0.005  # amount cells typed as text with thousands separators ("1,250,000")

#: line items by sector and economic type (Arabic project / item names as budget tables word them)
ITEMS: dict[str, dict[str, tuple[str, ...]]] = {
    "water_sanitation": {
        "capital": ("إنشاء مجمع ماء", "تأهيل شبكة الماء الصافي", "مد خطوط شبكة المجاري",
                    "إنشاء محطة معالجة مياه الصرف الصحي", "توسيع مشروع ماء المركز"),
        "operating": ("رواتب منتسبي مديرية الماء", "صيانة وتشغيل محطات الماء", "شراء مواد التصفية والتعقيم",
                      "رواتب منتسبي مديرية المجاري"),
    },
    "electricity": {
        "capital": ("إنشاء محطة تحويل ثانوية 33/11 ك.ف", "تأهيل شبكة التوزيع", "نصب محولات توزيع",
                    "إنشاء مغذيات جديدة"),
        "operating": ("رواتب منتسبي مديرية توزيع الكهرباء", "صيانة الشبكة والمحولات", "وقود المولدات الحكومية"),
    },
    "health": {
        "capital": ("إنشاء مركز صحي أولي", "تأهيل ردهات المستشفى العام", "تجهيز أجهزة طبية",
                    "إنشاء مستشفى سعة 100 سرير"),
        "operating": ("رواتب الملاكات الصحية", "أدوية ومستلزمات طبية", "صيانة المؤسسات الصحية"),
    },
    "education": {
        "capital": ("بناء مدارس جديدة", "تأهيل وترميم الأبنية المدرسية", "تجهيز الأثاث المدرسي", "إنشاء رياض أطفال"),
        "operating": ("رواتب الملاكات التدريسية", "طباعة وتوزيع الكتب المدرسية", "صيانة الأبنية المدرسية"),
    },
    "municipal_waste": {
        "capital": ("شراء كابسات نفايات", "إنشاء موقع طمر صحي", "تبليط وإكساء الأحياء السكنية",
                    "إنشاء حدائق ومتنزهات"),
        "operating": ("أجور عمال النظافة", "صيانة آليات البلدية", "رواتب منتسبي مديرية البلديات"),
    },
    "roads_transport": {
        "capital": ("إنشاء جسر على نهر", "تأهيل طريق رئيسي", "إكساء الطرق الريفية", "توسعة مداخل المدينة",
                    "إنشاء مجسرات"),
        "operating": ("صيانة الطرق والجسور", "رواتب منتسبي مديرية الطرق والجسور"),
    },
    "other": {
        "capital": ("إنشاء بناية ديوان المحافظة", "مشاريع الشباب والرياضة", "تأهيل المواقع الأثرية والسياحية",
                    "مشاريع الزراعة والري"),
        "operating": ("رواتب منتسبي ديوان المحافظة", "نفقات تشغيلية أخرى", "مستلزمات سلعية وخدمية"),
    },
}

# Where the faults are planted (fixed places, so the README and the tests can name them)
SUBTOTAL_FAULT = (2021, "IQG04", "health", "allocation_original", 1_000)  # year, p-code, sector, column, + units
DOUBLE_COMMA_FAULT = (2019, "IQG02", "roads_transport", "expenditure", "1,,0")
EASTERN_DIGITS = (2024, "IQG03", "education", "allocation_original", "١٬٢٥٠", 1250)
NEGATIVE_FAULT = (2023, "IQG13", "electricity", "expenditure")
DOUBLE_COMMA_ITEM = "تسديد مستحقات المقاولين عن سنوات سابقة"
NEGATIVE_ITEM = "استرداد مبالغ مصروفة (تسوية حسابات)"

_EASTERN = str.maketrans("0123456789,", "٠١٢٣٤٥٦٧٨٩٬")
_MILLION = 1_000_000


def eastern(text: str) -> str:
    """Arabic-Indic digits, Arabic thousands separator."""
    return text.translate(_EASTERN)


@dataclass
class Item:
    sector: str
    scope: str  # capital | operating
    funding: str  # federal_ministries | regions_development | petrodollar | own_revenue
    label: str
    amounts: dict[str, int]  # stage -> amount in the sheet's unit
    text: dict[str, str] = field(default_factory=dict)  # stage -> the cell's text when typed as text
    fault: str | None = None  # a line the reader must quarantine


@dataclass
class Sheet:
    name: str
    pcode: str | None  # None: the planted unknown governorate
    name_ar: str
    sections: list[tuple[str, list[Item]]]


# ----------------------------------------------------------------------------------------------
# Money
# ----------------------------------------------------------------------------------------------


def _items_for(
    rng: np.random.Generator, pcode: str, capital_total: float, operating_total: float, capital_rate: float,
    operating_rate: float, multiplier: int, sectors: tuple[str, ...] = g.SECTORS,
) -> list[tuple[str, list[Item]]]:
    """Line items of one sheet, in the sheet's unit: sector shares as the demo's budget extract had them,
    each sector's capital and operating amount split into 1-2 items each."""
    idx = [g.SECTORS.index(s) for s in sectors]
    cap_split = rng.dirichlet(60 * g._CAPITAL_SHARES[idx])
    op_split = rng.dirichlet(60 * g._OPERATING_SHARES[idx])
    sections = []
    for k, sector in enumerate(sectors):
        items: list[Item] = []
        for scope, total, rate in (
            ("capital", capital_total * cap_split[k], capital_rate),
            ("operating", operating_total * op_split[k], operating_rate),
        ):
            n = int(rng.integers(1, 3))
            shares = rng.dirichlet(np.full(n, 4.0))
            labels = rng.choice(len(ITEMS[sector][scope]), size=n, replace=False)
            for j in range(n):
                original_iqd = max(round(total * shares[j] / _MILLION), 20) * _MILLION
                exec_rate = float(np.clip(rate + rng.normal(0, 0.05), 0.20, 0.95))
                revised_iqd = original_iqd * rng.uniform(0.9, 1.12)
                original = original_iqd // multiplier
                expenditure = max(round(original_iqd * exec_rate / multiplier), 1)
                revised = max(round(revised_iqd / multiplier), expenditure)
                if scope == "capital":
                    streams = ["federal_ministries", "regions_development"]
                    p = [0.35, 0.65]
                    if pcode in PETRODOLLAR_PCODES:
                        streams.append("petrodollar")
                        p = [0.25, 0.45, 0.30]
                else:
                    streams, p = ["federal_ministries", "own_revenue"], [0.8, 0.2]
                funding = streams[int(rng.choice(len(streams), p=p))]
                items.append(
                    Item(
                        sector=sector, scope=scope, funding=funding, label=ITEMS[sector][scope][int(labels[j])],
                        amounts={"allocation_original": int(original), "allocation_revised": int(revised),
                                 "expenditure": int(expenditure)},
                    )
                )
        sections.append((sector, items))
    return sections


def _plan(rng: np.random.Generator) -> dict[int, list[Sheet]]:
    pop = np.array([gov.population for gov in g.GOVERNORATES], dtype=np.float64)
    base = 70e9 + 560e9 * pop / pop.max()
    plan: dict[int, list[Sheet]] = {}
    for fy in FISCAL_YEARS:
        multiplier = UNITS[fy][1]
        sheets = []
        for gi, (pcode, name, name_ar) in enumerate(SHEETS):
            capital_total = float(np.clip(base[gi] * g._YEAR_FACTOR[fy] * rng.uniform(0.9, 1.1), 50e9, 800e9))
            operating_total = capital_total * rng.uniform(0.4, 0.8)
            capital_rate = rng.uniform(0.25, 0.85)
            operating_rate = rng.uniform(0.70, 0.92)
            sections = _items_for(rng, pcode, capital_total, operating_total, capital_rate, operating_rate, multiplier)
            sheets.append(Sheet(name, pcode, name_ar, sections))
        plan[fy] = sheets
    # the planted unknown governorate: a district's own small sheet, after Baghdad's
    unknown = Sheet(
        UNKNOWN_SHEET, None, UNKNOWN_NAME_AR,
        _items_for(rng, "IQG08", rng.uniform(8e9, 20e9), rng.uniform(3e9, 6e9), rng.uniform(0.3, 0.7),
                   rng.uniform(0.7, 0.9), UNITS[UNKNOWN_YEAR][1],
                   sectors=("water_sanitation", "municipal_waste", "roads_transport")),
    )
    sheets = plan[UNKNOWN_YEAR]
    sheets.insert(next(i for i, s in enumerate(sheets) if s.pcode == "IQG08") + 1, unknown)
    # text amounts with thousands separators, as finance offices type them (valid)
    for fy in FISCAL_YEARS:
        for sheet in plan[fy]:
            for _, items in sheet.sections:
                for item in items:
                    for stage, v in item.amounts.items():
                        if v >= 1000 and rng.random() < TEXT_AMOUNT_SHARE:
                            item.text[stage] = f"{v:,}"
    _plant_item_faults(plan)
    return plan


def _section(plan: dict[int, list[Sheet]], fy: int, pcode: str, sector: str) -> list[Item]:
    sheet = next(s for s in plan[fy] if s.pcode == pcode)
    return next(items for sec, items in sheet.sections if sec == sector)


def _plant_item_faults(plan: dict[int, list[Sheet]]) -> None:
    # Eastern digits (valid): an operating item whose original allocation is 1,250 units
    fy, pcode, sector, stage, text, value = EASTERN_DIGITS
    items = _section(plan, fy, pcode, sector)
    item = next(it for it in items if it.scope == "operating")
    old = item.amounts[stage]
    item.amounts = {k: max(round(v * value / old), 1) for k, v in item.amounts.items()}
    item.amounts[stage] = value
    item.amounts["allocation_revised"] = max(item.amounts["allocation_revised"], item.amounts["expenditure"])
    item.text = {stage: text}
    # "1,,0": an extra line of arrears paid, its expenditure typed with a doubled separator
    fy, pcode, sector, stage, text = DOUBLE_COMMA_FAULT
    items = _section(plan, fy, pcode, sector)
    arrears = items[0].amounts["allocation_original"] // 10
    items.append(
        Item(sector, "capital", "regions_development", DOUBLE_COMMA_ITEM,
             {"allocation_original": arrears, "allocation_revised": arrears, "expenditure": 0},
             text={stage: text}, fault="double_separator")
    )
    # a negative expenditure: a refund booked as an expenditure line
    fy, pcode, sector, stage = NEGATIVE_FAULT
    items = _section(plan, fy, pcode, sector)
    ref = items[-1].amounts
    items.append(
        Item(sector, "operating", "federal_ministries", NEGATIVE_ITEM,
             {"allocation_original": 0, "allocation_revised": 0, "expenditure": -max(ref["expenditure"] // 8, 1)},
             fault="negative_expenditure")
    )


# ----------------------------------------------------------------------------------------------
# Workbooks
# ----------------------------------------------------------------------------------------------

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=13)
_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
_SECTION_FILL = PatternFill("solid", fgColor="F2F2F2")
_THIN = Side(style="thin", color="808080")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_WIDTHS = (6, 46, 12, 20, 16, 16, 16)


def title_text(name_ar: str, fy: int) -> str:
    year = eastern(str(fy)) if fy in EASTERN_TITLE_YEARS else str(fy)
    return f"الموازنة الاستثمارية والتشغيلية لمحافظة {name_ar} للسنة المالية {year}"


def _write_sheet(ws: Any, sheet: Sheet, fy: int, rel: str, faults: list[dict[str, Any]]) -> int:
    """Write one governorate's sheet; return its number of line items."""
    ws.sheet_view.rightToLeft = True
    for i, width in enumerate(_WIDTHS):
        ws.column_dimensions[get_column_letter(i + 1)].width = width
    ws["A1"] = MINISTRY_LINE[fy]
    ws["A2"] = title_text(sheet.name_ar, fy)
    ws["A3"] = UNITS[fy][0]
    for r in (1, 2, 3):
        ws.merge_cells(f"A{r}:G{r}")
    ws["A1"].font = _BOLD
    ws["A2"].font = _TITLE
    ws["A2"].alignment = Alignment(horizontal="center")
    for c, (top, bottom) in enumerate(zip(HEADER_ROW_1, HEADER_ROW_2), start=1):
        for r, text in ((5, top), (6, bottom)):
            cell = ws.cell(row=r, column=c, value=text)
            cell.font, cell.fill, cell.alignment, cell.border = _BOLD, _HEADER_FILL, _CENTER, _BOX
    for rng_ref in HEADER_MERGES:
        ws.merge_cells(rng_ref)

    row, seq, n_items = FIRST_ROW, 0, 0
    totals = dict.fromkeys(AMOUNT_COLUMNS, 0)

    def amount(r: int, item: Item | None, stage: str, value: int) -> None:
        col = AMOUNT_COLUMNS[stage]
        cell = ws[f"{col}{r}"]
        if item is not None and stage in item.text:
            cell.value = item.text[stage]
            cell.alignment = Alignment(horizontal="right")
        else:
            cell.value = value
            cell.number_format = "#,##0"
        cell.border = _BOX

    for sector, items in sheet.sections:
        ws.cell(row=row, column=2, value=SECTION_HEADINGS[sector]).font = _BOLD
        for c in range(1, 8):
            ws.cell(row=row, column=c).fill = _SECTION_FILL
        row += 1
        sums = dict.fromkeys(AMOUNT_COLUMNS, 0)
        for item in items:
            seq += 1
            n_items += 1
            ws.cell(row=row, column=1, value=seq)
            ws.cell(row=row, column=2, value=item.label)
            ws.cell(row=row, column=3, value=SCOPE_LABELS[item.scope])
            ws.cell(row=row, column=4, value=FUNDING_LABELS[item.funding])
            for stage, value in item.amounts.items():
                amount(row, item, stage, value)
            for stage, value in item.amounts.items():
                sums[stage] += value  # a spreadsheet SUM: "1,,0" is text (counts 0), the negative counts
            if item.fault is not None:
                stage = "expenditure"
                shown = item.text.get(stage, item.amounts[stage])
                faults.append(
                    {
                        "file": rel, "sheet": ws.title, "cell": f"{AMOUNT_COLUMNS[stage]}{row}", "row_number": row,
                        "column": COLUMNS[6], "value": shown, "outcome": "quarantined", "kind": item.fault,
                        "governorate_pcode": sheet.pcode, "fiscal_year": fy, "sector": sector,
                        "description": (
                            "amount typed with a doubled thousands separator: not a number; the line is quarantined"
                            if item.fault == "double_separator" else
                            "negative expenditure (a refund booked as a line): the line is quarantined"
                        ) + "; the other lines of its section load",
                    }
                )
            if sheet.pcode is not None and (fy, sheet.pcode, sector) == EASTERN_DIGITS[:3] and item.text.get(
                EASTERN_DIGITS[3]
            ) == EASTERN_DIGITS[4]:
                stage = EASTERN_DIGITS[3]
                faults.append(
                    {
                        "file": rel, "sheet": ws.title, "cell": f"{AMOUNT_COLUMNS[stage]}{row}", "row_number": row,
                        "column": COLUMNS[4], "value": EASTERN_DIGITS[4], "parsed_value": EASTERN_DIGITS[5],
                        "outcome": "loaded", "kind": "eastern_digits",
                        "governorate_pcode": sheet.pcode, "fiscal_year": fy, "sector": sector,
                        "description": f"amount in Eastern Arabic digits with the Arabic thousands separator: VALID, "
                                       f"loads as {EASTERN_DIGITS[5]} {UNITS[fy][2]}",
                    }
                )
            row += 1
        ws.cell(row=row, column=2, value=SUBTOTAL_LABEL).font = _BOLD
        printed = dict(sums)
        item_rows = list(range(row - len(items), row))
        if sheet.pcode is not None and (fy, sheet.pcode, sector) == SUBTOTAL_FAULT[:3]:
            stage, delta = SUBTOTAL_FAULT[3], SUBTOTAL_FAULT[4]
            printed[stage] += delta
            faults.append(
                {
                    "file": rel, "sheet": ws.title, "cell": f"{AMOUNT_COLUMNS[stage]}{row}", "row_number": row,
                    "column": COLUMNS[4], "value": printed[stage], "sum_of_items": sums[stage],
                    "outcome": "quarantined", "kind": "subtotal_mismatch", "quarantined_item_rows": item_rows,
                    "governorate_pcode": sheet.pcode, "fiscal_year": fy, "sector": sector,
                    "description": f"subtotal of the section does not add up: printed {printed[stage]:,}, its items "
                                   f"sum to {sums[stage]:,} ({UNITS[fy][2]}); the subtotal is quarantined with both "
                                   f"numbers, and so are the items it covers (rows {item_rows[0]}-{item_rows[-1]})",
                }
            )
        for stage, value in printed.items():
            amount(row, None, stage, value)
            ws[f"{AMOUNT_COLUMNS[stage]}{row}"].font = _BOLD
            totals[stage] += sums[stage]
        row += 1
    ws.cell(row=row, column=2, value=TOTAL_LABEL).font = _BOLD
    for stage, value in totals.items():
        amount(row, None, stage, value)
        ws[f"{AMOUNT_COLUMNS[stage]}{row}"].font = _BOLD
    ws.freeze_panes = f"A{FIRST_ROW}"
    if sheet.pcode is None:
        item_rows = [r for r in range(FIRST_ROW, row) if isinstance(ws.cell(row=r, column=1).value, int)]
        faults.append(
            {
                "file": rel, "sheet": ws.title, "cell": "A2", "row_number": 2, "column": "governorate",
                "value": UNKNOWN_NAME_AR, "cell_text": ws["A2"].value, "outcome": "quarantined",
                "kind": "unknown_governorate", "quarantined_item_rows": item_rows,
                "governorate_pcode": None, "fiscal_year": fy, "sector": None,
                "description": "the sheet's title names a district of Baghdad (بغداد الجديدة, 'Baghdad Al-Jadida') as "
                               "its governorate: no reference spelling resolves it; every line of the sheet is "
                               "quarantined",
            }
        )
    return n_items


def generate(rng: np.random.Generator) -> tuple[dict[str, tuple[bytes, int]], dict[str, Any]]:
    """The budget workbooks: ({relative path: (xlsx bytes, line items)}, info with faults and expected totals)."""
    plan = _plan(rng)
    payloads: dict[str, tuple[bytes, int]] = {}
    faults: list[dict[str, Any]] = []
    workbooks: dict[str, Any] = {}
    for fy in FISCAL_YEARS:
        rel = path(fy).as_posix()
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        n = 0
        for sheet in plan[fy]:
            n += _write_sheet(wb.create_sheet(sheet.name), sheet, fy, rel, faults)
        payloads[rel] = (g.xlsx_bytes(wb, f"mizan demo budget {fy} (SYNTHETIC)"), n)
        workbooks[str(fy)] = {
            "file": rel,
            "unit": UNITS[fy][2],
            "unit_multiplier": UNITS[fy][1],
            "title_year_digits": "eastern" if fy in EASTERN_TITLE_YEARS else "western",
            "sheets": [s.name for s in plan[fy]],
            "line_items": n,
        }
    expected, by_stream = _expected(plan)
    text_cells = []
    for fy in FISCAL_YEARS:
        for sheet in plan[fy]:
            for _, items in sheet.sections:
                for item in items:
                    if item.fault is None:
                        text_cells += [v for v in item.text.values() if v != EASTERN_DIGITS[4]]
    order = {"double_separator": 0, "eastern_digits": 1, "negative_expenditure": 2, "subtotal_mismatch": 3,
             "unknown_governorate": 4}
    faults.sort(key=lambda f: order[f["kind"]])
    info = {
        "workbooks": workbooks,
        "faults": faults,
        "expected": expected,
        "expected_by_funding_stream": by_stream,
        "text_amounts": len(text_cells),
    }
    return payloads, info


def _expected(plan: dict[int, list[Sheet]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The line items that load, summed in IQD: by governorate x year x sector x economic type (x funding stream).

    Left out: the unknown governorate's sheet, the two faulty lines and the items under the planted subtotal."""
    keyed: dict[tuple, list[int]] = {}
    by_stream: dict[tuple, list[int]] = {}
    for fy in FISCAL_YEARS:
        mult = UNITS[fy][1]
        for sheet in plan[fy]:
            if sheet.pcode is None:
                continue
            for sector, items in sheet.sections:
                if (fy, sheet.pcode, sector) == SUBTOTAL_FAULT[:3]:
                    continue
                for item in items:
                    if item.fault is not None:
                        continue
                    vals = [item.amounts[s] * mult for s in AMOUNT_COLUMNS]
                    for d, key in ((keyed, (sheet.pcode, fy, sector, item.scope)),
                                   (by_stream, (sheet.pcode, fy, sector, item.scope, item.funding))):
                        acc = d.setdefault(key, [0, 0, 0])
                        for i, v in enumerate(vals):
                            acc[i] += v
    names = ("allocation_original_iqd", "allocation_revised_iqd", "expenditure_iqd")

    def rows(d: dict[tuple, list[int]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
        return [{**dict(zip(keys, k)), **dict(zip(names, v))} for k, v in sorted(d.items())]

    base = ("governorate_pcode", "fiscal_year", "sector", "budget_scope")
    return rows(keyed, base), rows(by_stream, (*base, "funding_stream"))
