"""Workbook and codebook readers: Kobo-like XLSX exports, plain XLSX files, repeat links, codebooks.

Fixtures are written here with openpyxl; every expected value is written out by hand.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import fastexcel
import openpyxl
import polars as pl
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from pipelines.readers.codebook import read_codebook
from pipelines.readers.delimited import FileReadError, read_delimited, sha256_of
from pipelines.readers.workbook import ErrorCell, Orphan, column_letter, link_repeat, read_workbook

FORM = "household_survey_2024"


def write_xlsx(path: Path, sheets: dict[str, list[list]], epoch=None) -> Path:
    """A workbook with one sheet per entry, rows appended as given (None = empty cell)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if epoch is not None:
        wb.epoch = epoch
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def text_cell(ws, ref: str, value: str) -> None:
    """A cell holding ``value`` as text even when it looks like an Excel error (``#N/A``)."""
    ws[ref].value = value
    ws[ref].data_type = "s"


@pytest.fixture
def kobo_xlsx(tmp_path) -> Path:
    """A KoboToolbox-like XLSX export: main sheet, an empty sheet, two repeat-group sheets."""
    wb = openpyxl.Workbook()
    main = wb.active
    main.title = FORM
    main.append([
        "start", "hh_id", "hh_size", "income", "visit_date", "interview_at", "consent", "water_source",
        "comment", "score", "governorate", "services/water", "services/power", "_id", "_uuid", "_index",
    ])
    main.append([
        "2024-03-01T09:02:11.123+03:00", "00123", 5, 1250.75, dt.date(2024, 3, 1),
        dt.datetime(2024, 3, 1, 10, 30, 15), True, None, "   ", "#N/A", "نينوى", 1, 0, 101,
        "3f1c0a52-8d4e-4b7a-9b1e-5c7f2a9d0e11", 1,
    ])
    main.append([
        "2024-03-01T11:40:00.000+03:00", "00124", 12.0, 0.1, dt.date(2024, 3, 2),
        dt.datetime(2024, 3, 2, 8, 0, 0, 500000), False, "piped", "ok", 7, "بغداد", 0, 1, 102,
        "8a2b6c1d-0e3f-4a5b-8c7d-9e0f1a2b3c4d", 2,
    ])
    main.append([
        "2024-03-02T08:00:00.000+03:00", "00125", 3, 1 / 3, None, None, None, None, None, "#DIV/0!", "البصرة",
        None, None, 103, "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f", 3,
    ])
    text_cell(main, "I4", "#N/A")  # typed by hand as text: text, not an error cell
    wb.create_sheet("notes")  # empty: not a repeat group
    members = wb.create_sheet("members")
    members.append(["member_age", "member_sex", "_index", "_parent_table_name", "_parent_index", "_submission__id"])
    members.append([34, "f", 1, FORM, 1, 101])
    members.append([36, "m", 2, FORM, 1, 101])
    members.append([8, "f", 3, FORM, 2, 102])
    members.append([51, "m", 4, FORM, 7, 107])  # parent _index 7 does not exist: orphan
    visits = wb.create_sheet("visits")
    visits.append(["visit_no", "_index", "_parent_table_name", "_parent_index", "_submission__id"])
    visits.append([1, 1, FORM, 3, 103])
    visits.append([2, 2, FORM, None, 103])  # blank key: orphan
    visits.append([1, 3, FORM, 2, 102])
    path = tmp_path / "kobo_export.xlsx"
    wb.save(path)
    return path


# --- read_workbook: Kobo export ----------------------------------------------------------------------


def test_kobo_main_sheet_values_are_canonical_text(kobo_xlsx):
    wb = read_workbook(kobo_xlsx)
    assert wb.main_sheet == FORM
    assert wb.frame.columns == [
        "start", "hh_id", "hh_size", "income", "visit_date", "interview_at", "consent", "water_source",
        "comment", "score", "governorate", "services/water", "services/power", "_id", "_uuid", "_index",
    ]
    assert all(dtype == pl.String for dtype in wb.frame.dtypes)
    assert wb.frame.rows() == [
        ("2024-03-01T09:02:11.123+03:00", "00123", "5", "1250.75", "2024-03-01", "2024-03-01T10:30:15", "True",
         None, None, "#N/A", "نينوى", "1", "0", "101", "3f1c0a52-8d4e-4b7a-9b1e-5c7f2a9d0e11", "1"),
        ("2024-03-01T11:40:00.000+03:00", "00124", "12", "0.1", "2024-03-02", "2024-03-02T08:00:00.500", "False",
         "piped", "ok", "7", "بغداد", "0", "1", "102", "8a2b6c1d-0e3f-4a5b-8c7d-9e0f1a2b3c4d", "2"),
        ("2024-03-02T08:00:00.000+03:00", "00125", "3", "0.3333333333333333", None, None, None, None, "#N/A",
         "#DIV/0!", "البصرة", None, None, "103", "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f", "3"),
    ]


def test_error_cells_are_kept_as_text_and_listed(kobo_xlsx):
    wb = read_workbook(kobo_xlsx)
    # the #N/A typed as text in I4 (column comment) is text and not listed
    assert wb.error_cells == (
        ErrorCell(sheet=FORM, row=1, column="score", cell="J2", value="#N/A"),
        ErrorCell(sheet=FORM, row=3, column="score", cell="J4", value="#DIV/0!"),
    )


def test_every_excel_error_code_is_kept_as_excel_shows_it(tmp_path):
    codes = ["#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"]
    path = write_xlsx(tmp_path / "errors.xlsx", {"s": [["id", "x"]] + [[i, code] for i, code in enumerate(codes, 1)]})
    wb = read_workbook(path)
    assert wb.frame["x"].to_list() == ["#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"]
    assert [(e.row, e.cell, e.value) for e in wb.error_cells] == [
        (1, "B2", "#NULL!"), (2, "B3", "#DIV/0!"), (3, "B4", "#VALUE!"), (4, "B5", "#REF!"), (5, "B6", "#NAME?"),
        (6, "B7", "#NUM!"), (7, "B8", "#N/A"),
    ]


def test_file_identity(kobo_xlsx):
    wb = read_workbook(kobo_xlsx)
    assert wb.sha256 == sha256_of(kobo_xlsx)
    assert wb.size_bytes == kobo_xlsx.stat().st_size
    assert wb.path == kobo_xlsx and wb.header_row == 1


def test_repeat_sheets_in_workbook_order_empty_sheet_left_out(kobo_xlsx):
    wb = read_workbook(kobo_xlsx)
    assert list(wb.sheets) == ["members", "visits"]
    assert wb.sheets["members"].columns == [
        "member_age", "member_sex", "_index", "_parent_table_name", "_parent_index", "_submission__id",
    ]
    assert wb.sheets["members"].rows()[3] == ("51", "m", "4", FORM, "7", "107")
    assert wb.sheets["visits"]["_parent_index"].to_list() == ["3", None, "2"]
    assert wb.empty_rows == {FORM: (), "members": (), "visits": ()}


def test_link_kobo_repeats_to_the_main_sheet(kobo_xlsx):
    wb = read_workbook(kobo_xlsx)
    members = link_repeat(wb.frame, wb.sheets["members"], parent_name=FORM, child_name="members")
    assert members.frame["__parent_row"].to_list() == [1, 1, 2, None]
    assert members.frame["__parent_row"].dtype == pl.Int64
    assert members.frame.columns[:-1] == wb.sheets["members"].columns
    assert members.orphans == (Orphan(row=4, key="7"),)
    visits = link_repeat(wb.frame, wb.sheets["visits"])
    assert visits.frame["__parent_row"].to_list() == [3, None, 2]
    assert visits.orphans == (Orphan(row=2, key=None),)


def test_main_sheet_by_name_and_missing_main_sheet(kobo_xlsx):
    wb = read_workbook(kobo_xlsx, main_sheet="members")
    assert wb.main_sheet == "members" and wb.frame.height == 4
    assert list(wb.sheets) == [FORM, "visits"]
    with pytest.raises(FileReadError, match=r"kobo_export.xlsx: no sheet named 'member'; the sheets are "
                       r"\['household_survey_2024', 'notes', 'members', 'visits'\]"):
        read_workbook(kobo_xlsx, main_sheet="member")


# --- read_workbook: plain XLSX --------------------------------------------------------------------------


@pytest.fixture
def plain_xlsx(tmp_path) -> Path:
    """A hand-made workbook: a notes sheet first, the data under two title rows, an empty row inside."""
    return write_xlsx(tmp_path / "budget.xlsx", {
        "README": [["Budget execution 2023, Ninewa"], ["see the data sheet"]],
        "data": [
            ["Execution of the 2023 budget"],
            ["بالآلاف دينار", None, None],
            ["line", "allocation", "spent", "as_of"],
            ["salaries", 1200, 1100.5, dt.date(2023, 12, 31)],
            [None, None, None, None],
            ["  capital  ", 300, 0, dt.datetime(2023, 12, 31, 23, 59, 59)],
            [None, None, None, None],
            [None, None, None, None],
        ],
    })


def test_plain_workbook_main_sheet_header_row_and_empty_rows(plain_xlsx):
    wb = read_workbook(plain_xlsx, main_sheet="data", header_row=3, other_sheets=False)
    assert wb.frame.columns == ["line", "allocation", "spent", "as_of"]
    # data row 2 (Excel row 5) is empty: kept as NULLs so row 3 stays Excel row 6; trailing empties dropped
    assert wb.frame.rows() == [
        ("salaries", "1200", "1100.5", "2023-12-31"),
        (None, None, None, None),
        ("  capital  ", "300", "0", "2023-12-31T23:59:59"),
    ]
    assert wb.empty_rows == {"data": (2,)}
    assert wb.sheets == {}


def test_header_row_applies_to_other_sheets(plain_xlsx):
    # README has nothing from row 3 on: it is empty there and left out
    wb = read_workbook(plain_xlsx, main_sheet="data", header_row=3)
    assert wb.sheets == {}
    # with the header in row 1, the data sheet read as another sheet has values under no header
    with pytest.raises(FileReadError, match=r"budget.xlsx: sheet 'data': column B has a value in data row 2 "
                                            r"\(cell B3\) but no name in header row 1"):
        read_workbook(plain_xlsx)
    wb = read_workbook(plain_xlsx, other_sheets=False)
    assert wb.frame.rows() == [("see the data sheet",)] and wb.sheets == {}


def test_first_sheet_is_the_default_main_sheet(plain_xlsx):
    wb = read_workbook(plain_xlsx, other_sheets=False)
    assert wb.main_sheet == "README" and wb.frame.columns == ["Budget execution 2023, Ninewa"]
    assert wb.empty_rows == {"README": ()}


def test_numbers_dates_and_text_that_looks_like_them(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["value"])
    for v in [
        # numbers (openpyxl writes 16 significant digits at most, so nothing longer is tried)
        12, 12.0, -3, -0.0, 0.1, 2.5, 1.5e-07, 1e20, 1234567890123456, 2**53, 1250000.25,
        True, False,
        dt.date(1900, 1, 1), dt.datetime(2024, 1, 5, 0, 0), dt.datetime(2024, 1, 5, 10, 30, 15, 250000),
        dt.time(10, 30), dt.time(7, 5, 3, 500000), dt.timedelta(hours=30, seconds=1), dt.timedelta(minutes=90),
        "007", "12.50", "1e5", "true", "False", "2024-01-05", " 12 ", "nan", "1,000", "-0",  # text
    ]:
        ws.append([v])
    path = tmp_path / "values.xlsx"
    wb.save(path)
    assert read_workbook(path).frame["value"].to_list() == [
        "12", "12", "-3", "0", "0.1", "2.5", "1.5e-07", "100000000000000000000", "1234567890123456",
        "9007199254740992", "1250000.25",
        "True", "False",
        "1900-01-01", "2024-01-05", "2024-01-05T10:30:15.250",
        "10:30:00", "07:05:03.500", "30:00:01", "1:30:00",
        "007", "12.50", "1e5", "true", "False", "2024-01-05", " 12 ", "nan", "1,000", "-0",
    ]


def test_date_formatted_serials_and_excels_phantom_1900_02_29(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["d"])
    for serial in (59, 60, 61, 45296.5):
        ws.append([serial])
        ws.cell(ws.max_row, 1).number_format = "yyyy-mm-dd"
    ws.append([45296])  # the same number without a date format stays a number
    path = tmp_path / "serials.xlsx"
    wb.save(path)
    # Excel counts a 29 February 1900 (day 60) that never was: kept as that text, which no date parser accepts
    assert read_workbook(path).frame["d"].to_list() == [
        "1900-02-28", "1900-02-29", "1900-03-01", "2024-01-05T12:00:00", "45296",
    ]


def test_dates_in_the_1904_date_system(tmp_path):
    path = write_xlsx(tmp_path / "mac.xlsx", {"s": [["d"], [dt.date(2024, 1, 5)], [dt.datetime(1999, 12, 31, 6)]]},
                      epoch=CALENDAR_MAC_1904)
    assert read_workbook(path).frame["d"].to_list() == ["2024-01-05", "1999-12-31T06:00:00"]


def test_headers_are_stripped_and_numbers_as_names(tmp_path):
    path = write_xlsx(tmp_path / "h.xlsx", {"s": [[" id ", 2024, "q1 "], ["a", 1, None]]})
    wb = read_workbook(path)
    assert wb.frame.columns == ["id", "2024", "q1"]
    assert wb.frame.rows() == [("a", "1", None)]


def test_header_only_sheet_is_an_empty_table(tmp_path):
    path = write_xlsx(tmp_path / "h.xlsx", {"s": [["id", "q1"]], "r": [["_index", "_parent_index"]]})
    wb = read_workbook(path)
    assert wb.frame.columns == ["id", "q1"] and wb.frame.height == 0
    assert wb.sheets["r"].columns == ["_index", "_parent_index"] and wb.sheets["r"].height == 0


def test_table_may_start_right_of_column_a_and_below_row_1(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "Table 3"  # a title above the header, left of the table
    ws["B3"], ws["C3"] = "id", "n"
    ws["B4"], ws["C4"] = "x", 1
    ws["C6"] = "#VALUE!"
    path = tmp_path / "offset.xlsx"
    wb.save(path)
    read = read_workbook(path, header_row=3)
    assert read.frame.columns == ["id", "n"]
    assert read.frame.rows() == [("x", "1"), (None, None), (None, "#VALUE!")]
    assert read.empty_rows == {"Sheet": (2,)}
    assert read.error_cells == (ErrorCell(sheet="Sheet", row=3, column="n", cell="C6", value="#VALUE!"),)


# --- read_workbook: faults -----------------------------------------------------------------------------


def _with(ws_edit) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "data"
    ws_edit(ws)
    return wb


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda ws: [ws.append(["id", None, "q2"]), ws.append([1, 2, 3])],
         r"f.xlsx: sheet 'data': the header has an empty column name at cell B1 \(position 2\)"),
        (lambda ws: [ws.append(["id", "   ", "q2"]), ws.append([1, 2, 3])],
         r"empty column name at cell B1"),
        (lambda ws: [ws.append(["id", "q1", "id", "q1", " q1"]), ws.append([1, 2, 3, 4, 5])],
         r"sheet 'data': duplicate column names in header row 1: id at A1, C1; q1 at B1, D1, E1"),
        (lambda ws: [ws.append(["id", "q1"]), ws.append([1, 2]), ws.append([3, 4, None, "x"])],
         r"sheet 'data': column D has a value in data row 2 \(cell D3\) but no name in header row 1"),
        (lambda ws: [ws.append(["id", "#REF!"]), ws.append([1, 2])],
         r"sheet 'data': header cell B1 is an Excel error \(#REF!\)"),
        (lambda ws: [ws.append([None, None]), ws.append([1, 2])],
         r"sheet 'data': header row 1 is empty but rows below it hold values"),
        (lambda ws: [ws.append(["region", None, "q2"]), ws.merge_cells("A1:B1"), ws.append(["a", "b", "c"])],
         r"empty column name at cell B1 \(position 2\); a merged header cell"),
        (lambda ws: None, r"f.xlsx: the main sheet 'data' is empty from header row 1 on"),
    ],
    ids=["empty", "blank", "duplicate", "unnamed-value", "error-name", "no-header", "merged", "empty-sheet"],
)
def test_header_faults(tmp_path, edit, message):
    path = tmp_path / "f.xlsx"
    _with(edit).save(path)
    with pytest.raises(FileReadError, match=message):
        read_workbook(path)


def test_header_fault_in_a_repeat_sheet_names_that_sheet(tmp_path):
    path = write_xlsx(tmp_path / "k.xlsx", {"main": [["_index"], [1]], "members": [["age", "age"], [3, 4]]})
    with pytest.raises(FileReadError, match=r"k.xlsx: sheet 'members': duplicate column names in header row 1: age"):
        read_workbook(path)
    assert read_workbook(path, other_sheets=False).frame.rows() == [("1",)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"id,q1\n1,2\n", r"export.xlsx: not a readable Excel workbook"),
        (b"PK\x03\x04 truncated zip", r"export.xlsx: not a readable Excel workbook"),
        (b"", r"export.xlsx: the file is empty"),
    ],
    ids=["csv", "broken-zip", "empty"],
)
def test_not_a_workbook(tmp_path, content, message):
    path = tmp_path / "export.xlsx"
    path.write_bytes(content)
    with pytest.raises(FileReadError, match=message):
        read_workbook(path)


def _formula_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "calc"
    ws.append(["n", "double", "note"])
    ws.append([1, "=A2*2", '=IF(A2>5,"big","")'])
    ws.append([6, "=A3*2", '=IF(A3>5,"big","")'])
    wb.save(path)
    return path


def _rewrite_sheet_xml(path: Path, replacements: list[tuple[bytes, bytes]]) -> None:
    """Edit a sheet's XML inside the package, as a file saved by Excel would read."""
    with zipfile.ZipFile(path) as src:
        members = {info.filename: src.read(info.filename) for info in src.infolist()}
    xml = members["xl/worksheets/sheet1.xml"]
    for old, new in replacements:
        assert old in xml
        xml = xml.replace(old, new)
    members["xl/worksheets/sheet1.xml"] = xml
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, content in members.items():
            dst.writestr(name, content)


def test_formulas_without_saved_results_fail(tmp_path):
    # openpyxl writes formulas without results; fastexcel would read them as blank
    path = _formula_workbook(tmp_path / "calc.xlsx")
    with pytest.raises(FileReadError, match=r"calc.xlsx: sheet 'calc' has formulas whose results were never saved "
                                            r"\(cells B2, C2, B3, C3\)"):
        read_workbook(path)


def test_formulas_with_saved_results_are_read(tmp_path):
    path = _formula_workbook(tmp_path / "calc.xlsx")
    # what Excel saves: each result in <v>, an empty-string result as t="str" with an empty <v>
    _rewrite_sheet_xml(path, [
        (b'<c r="B2"><f>A2*2</f><v /></c>', b'<c r="B2"><f>A2*2</f><v>2</v></c>'),
        (b'<c r="B3"><f>A3*2</f><v /></c>', b'<c r="B3"><f>A3*2</f><v>12</v></c>'),
        (b'<c r="C2"><f>IF(A2&gt;5,"big","")</f><v /></c>', b'<c r="C2" t="str"><f>IF(A2&gt;5,"big","")</f><v></v></c>'),
        (b'<c r="C3"><f>IF(A3&gt;5,"big","")</f><v /></c>', b'<c r="C3" t="str"><f>IF(A3&gt;5,"big","")</f><v>big</v></c>'),
    ])
    assert read_workbook(path).frame.rows() == [("1", "2", None), ("6", "12", "big")]


def test_missing_file(tmp_path):
    with pytest.raises(FileReadError, match=r"nowhere.xlsx: cannot read the file"):
        read_workbook(tmp_path / "nowhere.xlsx")


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]


def test_fastexcel_string_mode_is_lossy(tmp_path):
    """Why the reader does not use fastexcel's string mode alone (fastexcel 0.21): if this starts failing,
    fastexcel changed and the reader's three passes may be simplified."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["x"])
    for v in [1 / 3, 1.5e-07, True, dt.date(2024, 1, 5), "#N/A"]:
        ws.append([v])
    path = tmp_path / "fx.xlsx"
    wb.save(path)
    sheet = fastexcel.read_excel(path).load_sheet(0, dtypes="string")
    assert sheet.to_polars()["x"].to_list() == ["0.333333333", "0.00000015", "true", "2024-01-05 00:00:00", None]
    assert read_workbook(path).frame["x"].to_list() == ["0.3333333333333333", "1.5e-07", "True", "2024-01-05", "#N/A"]


# --- link_repeat: ODK Central CSVs and faults ---------------------------------------------------------


@pytest.fixture
def odk_central(tmp_path) -> dict[str, pl.DataFrame]:
    """An ODK Central export: the main file, a repeat file and a repeat nested in it."""
    files = {
        "main": "KEY,hh_id,SubmissionDate\n"
                "uuid:aaa,001,2024-03-01T09:00:00Z\nuuid:bbb,002,2024-03-01T10:00:00Z\n",
        "members": "age,PARENT_KEY,KEY\n"
                   "34,uuid:aaa,uuid:aaa/members[1]\n36,uuid:aaa,uuid:aaa/members[2]\n"
                   "8,uuid:bbb,uuid:bbb/members[1]\n40,uuid:zzz,uuid:zzz/members[1]\n",
        "phones": "phone_type,PARENT_KEY,KEY\n"
                  "mobile,uuid:aaa/members[2],uuid:aaa/members[2]/phones[1]\n"
                  "landline,,uuid:aaa/members[9]/phones[1]\n"
                  "mobile,uuid:bbb/members[1],uuid:bbb/members[1]/phones[1]\n",
    }
    out = {}
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text)
        out[name] = read_delimited(tmp_path / f"{name}.csv").frame
    return out


def test_link_odk_central_repeats_and_nested_repeats(odk_central):
    members = link_repeat(odk_central["main"], odk_central["members"], parent_key="KEY", child_key="PARENT_KEY")
    assert members.frame["__parent_row"].to_list() == [1, 1, 2, None]
    assert members.orphans == (Orphan(row=4, key="uuid:zzz"),)
    phones = link_repeat(odk_central["members"], odk_central["phones"], parent_key="KEY", child_key="PARENT_KEY")
    assert phones.frame["__parent_row"].to_list() == [2, None, 3]
    assert phones.orphans == (Orphan(row=2, key=None),)


def test_link_missing_key_columns(odk_central):
    with pytest.raises(FileReadError, match=r"members.csv: no key column 'PARENT_KEY'"):
        link_repeat(odk_central["main"], odk_central["main"], parent_key="KEY", child_key="PARENT_KEY",
                    parent_name="main.csv", child_name="members.csv")
    with pytest.raises(FileReadError, match=r"household_survey_2024: no key column '_index'"):
        link_repeat(odk_central["main"], odk_central["members"], parent_name=FORM)


def test_link_duplicate_parent_keys():
    parent = pl.DataFrame({"_index": ["1", "2", "1", None, None, "2"]})
    child = pl.DataFrame({"_parent_index": ["1"]})
    with pytest.raises(FileReadError, match=r"main: _index must be unique to link repeat rows, but "
                                            r"'1' in rows 1, 3; '2' in rows 2, 6$"):
        link_repeat(parent, child, parent_name="main")


def test_link_blank_text_keys_are_orphans_and_blank_parent_keys_link_nothing():
    parent = pl.DataFrame({"_index": ["1", "  ", None]})
    child = pl.DataFrame({"_parent_index": ["  ", "1", "3"]})
    link = link_repeat(parent, child)
    assert link.frame["__parent_row"].to_list() == [None, 1, None]
    assert link.orphans == (Orphan(row=1, key=None), Orphan(row=3, key="3"))


# --- read_codebook --------------------------------------------------------------------------------------

CODEBOOK_CSV = (
    "variable,type,label_en,label_ar,values,missing,notes\n"
    'q1_water,select_one,Quality of water service,جودة خدمة المياه,"1=Very good; 2=Good; 3=Bad; 8=Refused; 9=Don\'t know",8; 9,\n'
    'q2_sources,select_multiple,Water sources,مصادر المياه,"piped=Piped network; truck=Water truck; well=Well;",,\n'
    "hh_size,integer,Household size,عدد أفراد الأسرة,,-99,asked of all\n"
    "income,decimal,Monthly income (IQD),,,,\n"
    "comment,text,,,,,\n"
    "visit_date,date,Date of visit,,,,\n"
    "q3_trust,select_one,,الثقة بالمجلس,1=نعم; 2=لا; 3=الجواب = لا أعرف,3,\n"
)


def test_codebook_csv(tmp_path):
    path = tmp_path / "codebook.csv"
    path.write_text(CODEBOOK_CSV, encoding="utf-8")
    book = read_codebook(path)
    form = book.form
    assert form.path == path
    assert list(form.questions) == ["q1_water", "q2_sources", "hh_size", "income", "comment", "visit_date", "q3_trust"]
    q1 = form.questions["q1_water"]
    assert (q1.name, q1.type, q1.list_name, q1.label_en, q1.label_ar, q1.relevant) == (
        "q1_water", "select_one", "q1_water", "Quality of water service", "جودة خدمة المياه", None,
    )
    assert form.choices["q1_water"] == {
        "1": ("Very good", None), "2": ("Good", None), "3": ("Bad", None), "8": ("Refused", None),
        "9": ("Don't know", None),
    }
    assert form.questions["q2_sources"].type == "select_multiple"
    assert form.choice_codes("q2_sources") == ["piped", "truck", "well"]
    assert form.split_columns()["q2_sources/truck"] == ("q2_sources", "truck")
    hh = form.questions["hh_size"]
    assert (hh.type, hh.list_name, hh.label_en, hh.label_ar) == (
        "integer", None, "Household size", "عدد أفراد الأسرة",
    )
    assert form.questions["income"].label_ar is None and form.questions["comment"].label_en is None
    assert form.questions["visit_date"].type == "date"
    # an Arabic-only row: its value labels go in the Arabic slot; the first '=' splits code from label
    assert form.choices["q3_trust"] == {
        "1": (None, "نعم"), "2": (None, "لا"), "3": (None, "الجواب = لا أعرف"),
    }
    assert set(form.choices) == {"q1_water", "q2_sources", "q3_trust"}
    assert book.missing_codes == {
        "q1_water": ["8", "9"], "q2_sources": [], "hh_size": ["-99"], "income": [], "comment": [],
        "visit_date": [], "q3_trust": ["3"],
    }


def test_codebook_semicolon_csv_with_bom(tmp_path):
    path = tmp_path / "codebook.csv"
    path.write_bytes(
        "\ufeffVariable;Type;Label;values;missing\n"
        'gov;select_one;Governorate;"IQG01=Anbar; IQG15=Ninewa";\n'
        "\n"
        "age;INTEGER;Age of respondent;;\n".encode("utf-8")
    )
    book = read_codebook(path)
    assert book.form.choices == {"gov": {"IQG01": ("Anbar", None), "IQG15": ("Ninewa", None)}}
    assert book.form.questions["age"].type == "integer"
    assert book.form.questions["gov"].label_en == "Governorate"
    assert book.missing_codes == {"gov": [], "age": []}


def test_codebook_xlsx(tmp_path):
    path = write_xlsx(tmp_path / "codebook.xlsx", {
        "codebook": [
            ["variable", "type", "label_en", "label_ar", "values", "missing"],
            ["q1", "select_one", "Satisfied with electricity?", "هل أنت راضٍ عن الكهرباء؟", "1=Yes; 2=No; 9=Don't know", 9],
            [None, None, None, None, None, None],
            ["weight", "decimal", "Survey weight", None, None, None],
            ["born", "datetime", None, None, None, None],
        ],
        "changes": [["version", "note"], [1, "first"]],
    })
    book = read_codebook(path)
    assert book.form.questions["q1"].label_ar == "هل أنت راضٍ عن الكهرباء؟"
    assert book.form.choices["q1"] == {"1": ("Yes", None), "2": ("No", None), "9": ("Don't know", None)}
    assert [q.type for q in book.form.questions.values()] == ["select_one", "decimal", "datetime"]
    assert book.missing_codes == {"q1": ["9"], "weight": [], "born": []}


HEADER = "variable,type,label_en,values,missing\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("q1,select_one_list,Q,,\n",
         r"codebook.csv: row 1 \(variable 'q1'\): unknown type 'select_one_list'; expected one of select_one, "),
        ("q1,,Q,,\n", r"row 1 \(variable 'q1'\): unknown type None"),
        ("q1,integer,Q,,\nq2,select_one,Q,,\n",
         r"row 2 \(variable 'q2'\): a select_one needs its codes in 'values'"),
        ('q1,select_one,Q,"1=Good; 2Bad",\n', r"row 1 \(variable 'q1'\): values pair 2 '2Bad' has no '='"),
        ('q1,select_one,Q,"1Good",\n', r"values pair 1 '1Good' has no '='"),
        ('q1,select_one,Q,"=x; 2=Bad",\n', r"values pair 1 '=x' has no code before '='"),
        ('q1,select_one,Q,"1=; 2=Bad",\n', r"values pair 1 '1=' has no label after '='"),
        ('q1,select_one,Q,"1=Good;; 2=Bad",\n', r"values pair 2 '' has no '='"),
        ('q1,select_multiple,Q,"1=Good; 2=Bad; 1=Fine",\n', r"code '1' appears twice in values \(pair 3\)"),
        ('q1,select_multiple,Q,"a b=Good",\n', r"values pair 1 'a b=Good': a code cannot contain spaces"),
        ("q1,integer,Q,,\nq2,text,Q,,\nq1,decimal,Q,,\n",
         r"row 3 \(variable 'q1'\): the variable is already defined in row 1"),
        (",integer,Q,,\n", r"codebook.csv: row 1: the variable name is empty"),
        ('q1,integer,Q,"1=Low; 2=High",\n', r"row 1 \(variable 'q1'\): 'values' given for an integer variable"),
        ('q1,select_one,Q,"1=Yes; 2=No",8\n', r"missing code '8' is not one of the variable's values \(1, 2\)"),
        ("q1,integer,Q,,dk\n",
         r"row 1 \(variable 'q1'\): missing code for an integer variable: 'dk' is not a whole number"),
        ("q1,decimal,Q,,8 9\n", r"missing codes '8 9' are not codes separated by ';'"),
        ('q1,select_one,Q,"8=DK; 9=RF","9; 9"\n', r"missing code '9' appears twice"),
        ("", r"codebook.csv: the codebook lists no variables"),
    ],
    ids=[
        "unknown-type", "no-type", "select-without-values", "no-equals", "no-equals-single", "no-code", "no-label",
        "empty-pair", "duplicate-code", "code-with-space", "duplicate-variable", "no-variable", "values-on-integer",
        "missing-not-a-code", "missing-not-a-number", "missing-with-space", "missing-twice", "no-rows",
    ],
)
def test_codebook_faults(tmp_path, body, message):
    path = tmp_path / "codebook.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(FileReadError, match=message):
        read_codebook(path)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("name,type,label\n", r"codebook.csv: the codebook lacks the required column\(s\) variable \(found "),
        ("variable,kind\n", r"lacks the required column\(s\) type"),
        ("label,values\n", r"lacks the required column\(s\) variable, type"),
        ("variable,type,label,label_en\n", r"give 'label' or 'label_en', not both"),
    ],
)
def test_codebook_missing_columns(tmp_path, header, message):
    path = tmp_path / "codebook.csv"
    path.write_text(header, encoding="utf-8")
    with pytest.raises(FileReadError, match=message):
        read_codebook(path)


def test_codebook_xlsx_fault_names_the_row(tmp_path):
    path = write_xlsx(tmp_path / "codebook.xlsx", {"cb": [
        ["variable", "type", "values"], ["q1", "select_one", "1=Yes; 2=No"], [None, None, None],
        ["q2", "select_one", "1=Yes; 1=No"],
    ]})
    with pytest.raises(FileReadError, match=r"codebook.xlsx: row 3 \(variable 'q2'\): code '1' appears twice"):
        read_codebook(path)


def test_codebook_other_formats_are_refused(tmp_path):
    path = tmp_path / "codebook.sav"
    path.write_bytes(b"$FL2")
    with pytest.raises(FileReadError, match=r"codebook.sav: a codebook must be a .csv or .xlsx file"):
        read_codebook(path)
