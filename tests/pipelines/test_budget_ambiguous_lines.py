"""Budget lines that arithmetic alone cannot classify, and amounts too large for a number: a line equal to
the sum of the lines above it is loaded and flagged for review (never dropped as a subtotal); a chapter-level
line (an amount, a blank item, the chapter in its own column: the layout of pandas issue 44837) is loaded as
a line of that chapter; an amount that overflows once multiplied to IQD is quarantined naming its cell while
the other files load. Real ingestion assets, real DuckDB file; expected values written out."""

from __future__ import annotations

from tests.pipelines.survey_fixtures import failure_message, ingest, table
from tests.pipelines.test_budget_workbooks import BODY, WATER, source, title

OPS = ("تشغيلي", "الوزارات الاتحادية")


def _run(tmp_path, body, sources=None):
    for sid, files in (sources or {"b": {"b.xlsx": {"Basrah": (title("البصرة", "2023"), "بالآلاف دينار", body)}}}).items():
        source(tmp_path / "in", sid, files)
    wh = tmp_path / "wh.duckdb"
    result = ingest(tmp_path / "in", wh)
    assert result.success, failure_message(result)
    return wh


def _loaded(wh):
    return table(wh, "SELECT row_number, chapter, item_label, allocation_original FROM raw.budget_lines "
                     "ORDER BY row_number").rows()


def test_a_labelled_line_equal_to_the_sum_above_is_loaded_and_flagged_for_review(tmp_path):
    body = [list(r) for r in BODY]
    # under items of 1,200 and 300: a line labelled as an item that prints their sum
    body[3:3] = [[None, "سلع وخدمات", *OPS, 1500, 1600, 1150]]
    body[4] = [None, "المجموع", None, None, 3000, 3200, 2300]
    body[-1] = [None, "المجموع الكلي", None, None, 3800, 3950, 2700]
    wh = _run(tmp_path, body)
    assert _loaded(wh) == [(8, WATER, "مشروع مجمع ماء الزبير", 1200.0), (9, WATER, "صيانة شبكات المياه", 300.0),
                           (10, WATER, "سلع وخدمات", 1500.0), (13, "قطاع الصحة", "تأهيل مستشفى الفيحاء", 800.0)]
    assert table(wh, "SELECT sum(allocation_original) FROM raw.budget_lines").item() == 3800.0
    flags = table(wh, "SELECT flag, file_name, row_number, detail FROM audit.review_flags").rows()
    assert [f[:3] for f in flags] == [("budget_line_equals_sum_above", "b.xlsx", 10)]
    assert "its amounts equal the sum of the 2 lines above it (rows 8-9); loaded as a line, not as a subtotal" in flags[0][3]
    assert table(wh, "SELECT count(*) FROM audit.quarantine").item() == 0


def test_a_chapter_level_line_with_a_blank_item_is_loaded_as_a_line_of_its_chapter(tmp_path):
    body = [list(r) for r in BODY]
    # column A (unmapped) names the chapter; the item cell is blank; the amount belongs to the chapter itself
    body[3:3] = [["نفقات أخرى", None, *OPS, 750, 750, 700]]
    body[4] = [None, "المجموع", None, None, 2250, 2350, 1850]
    body[-1] = [None, "المجموع الكلي", None, None, 3050, 3100, 2250]
    wh = _run(tmp_path, body)
    assert _loaded(wh) == [(8, WATER, "مشروع مجمع ماء الزبير", 1200.0), (9, WATER, "صيانة شبكات المياه", 300.0),
                           (10, f"{WATER} / نفقات أخرى", None, 750.0), (13, "قطاع الصحة", "تأهيل مستشفى الفيحاء", 800.0)]
    assert table(wh, "SELECT count(*) FROM audit.quarantine").item() == 0
    assert table(wh, "SELECT count(*) FROM audit.review_flags").item() == 0


def test_a_chapter_level_line_equal_to_the_sum_above_is_loaded_and_flagged(tmp_path):
    body = [list(r) for r in BODY]
    body[3:3] = [["سلع وخدمات", None, *OPS, 1500, 1600, 1150]]
    body[4] = [None, "المجموع", None, None, 3000, 3200, 2300]
    body[-1] = [None, "المجموع الكلي", None, None, 3800, 3950, 2700]
    wh = _run(tmp_path, body)
    assert (10, f"{WATER} / سلع وخدمات", None, 1500.0) in _loaded(wh)
    assert table(wh, "SELECT flag, row_number FROM audit.review_flags").rows() == [("budget_line_equals_sum_above", 10)]


def test_an_amount_that_overflows_in_iqd_is_quarantined_naming_its_cell_and_other_files_load(tmp_path):
    big = [list(r) for r in BODY]
    big[1][4] = "9e307"  # thousand IQD: 9e310 IQD is beyond a double (inf)
    big[3] = [None, "المجموع", None, None, None, 1600, 1150]  # the subtotal cannot be checked on that field
    big[-1] = [None, "المجموع الكلي", None, None, None, 2350, 1550]
    sources = {"a": {"a.xlsx": {"Basrah": (title("البصرة", "2023"), "بالآلاف دينار", big)}},
               "b": {"b.xlsx": {"Najaf": (title("النجف", "2023"), "بالآلاف دينار", BODY)}}}
    wh = _run(tmp_path, None, sources)
    q = table(wh, "SELECT file_name, row_number, column_name, value, reason FROM audit.quarantine").rows()
    assert q == [("a.xlsx", 8, "التخصيصات / الأصلي", "9e307",
                  "allocation_original: 9e307 IQD thousand is not a finite amount in IQD (too large for a number) "
                  "at Basrah!E8")]
    assert table(wh, "SELECT file_name, count(*) FROM raw.budget_lines GROUP BY 1 ORDER BY 1").rows() == [
        ("a.xlsx", 2), ("b.xlsx", 3)]
    assert table(wh, "SELECT count(*) FROM raw.budget_lines WHERE NOT isfinite(allocation_original)").item() == 0
