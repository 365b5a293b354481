"""Small delivered survey files of every format, built in the tests: one Kobo form (XLSForm) and its
exports as Kobo CSV (XML values or labels), Kobo XLSX with a repeat group, ODK Central zip, SPSS, Stata,
and plain files with a codebook; plus the Dagster ingestion run (real assets, real DuckDB file).

The form: a household service survey with consent, governorate (select_one with English and Arabic
labels), stratum, cluster, weight, a water rating on the canonical codes, a select_multiple of water
problems, hours of piped water, an enumerator number, a respondent name and a GPS point (personal data), and
a repeat group of household members.
"""

from __future__ import annotations

import csv
import io
import textwrap
import zlib
from pathlib import Path

import dagster as dg
import duckdb
import openpyxl
import polars as pl

from pipelines.assets.ingest import budget_tables, survey_tables
from pipelines.assets.publish import published_snapshot
from pipelines.resources import MizanPaths

SURVEY_ROWS = [  # type, name, label::English (en), label::Arabic (ar), relevant
    ("start", "start", None, None),
    ("today", "today", None, None),
    ("integer", "enumerator", "Enumerator number", "رقم العداد"),
    ("select_one yes_no", "consent", "Do you agree to take part?", "هل توافق على المشاركة؟"),
    ("select_one govs", "gov", "Governorate", "المحافظة"),
    ("text", "stratum", "Stratum", "الطبقة"),
    ("text", "cluster", "Cluster", "العنقود"),
    ("decimal", "weight", "Weight", "الوزن"),
    ("text", "hh_name", "Name of the respondent", "اسم المستجيب"),
    ("geopoint", "gps", "Location", "الموقع"),
    ("select_one rating", "water", "Rating of the water service", "تقييم خدمة المياه"),
    ("select_multiple probs", "problems", "Water problems", "مشاكل المياه"),
    ("integer", "hours", "Hours of piped water per day", "ساعات المياه يوميا"),
    ("begin_repeat", "members", "Household members", "أفراد الأسرة"),
    ("integer", "member_age", "Age", "العمر"),
    ("select_one sex", "member_sex", "Sex", "الجنس"),
    ("end_repeat", "members", None, None),
]
CHOICES = [  # list_name, name, English, Arabic
    ("yes_no", "yes", "Yes", "نعم"), ("yes_no", "no", "No", "لا"),
    ("govs", "baghdad", "Baghdad", "بغداد"), ("govs", "basra", "Basrah", "البصرة"), ("govs", "erbil", "Erbil", "أربيل"),
    ("rating", "excellent", "Excellent", "ممتاز"), ("rating", "good", "Good", "جيد"),
    ("rating", "adequate", "Adequate", "مقبول"), ("rating", "poor", "Poor", "سيء"),
    ("rating", "very_poor", "Very poor", "سيء جدا"), ("rating", "dont_know", "Don't know", "لا أعرف"),
    ("probs", "cuts", "Supply cuts", "انقطاع"), ("probs", "dirty", "Dirty water", "مياه ملوثة"),
    ("probs", "low_pressure", "Low pressure", "ضغط منخفض"),
    ("sex", "male", "Male", "ذكر"), ("sex", "female", "Female", "أنثى"),
]


def write_form(path: Path, extra_survey: list[tuple] = (), extra_choices: list[tuple] = (), drop: set[str] = frozenset()) -> Path:
    """The XLSForm (survey + choices sheets, English and Arabic labels)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label::English (en)", "label::Arabic (ar)"])
    for row in [*SURVEY_ROWS, *extra_survey]:
        if row[1] not in drop:
            ws.append(list(row))
    ch = wb.create_sheet("choices")
    ch.append(["list_name", "name", "label::English (en)", "label::Arabic (ar)"])
    for row in [*CHOICES, *extra_choices]:
        ch.append(list(row))
    wb.save(path)
    return path


def submission(uuid: str, gov: str = "baghdad", water: str = "good", problems: str | None = "cuts dirty",
               hours: str | None = "6", consent: str = "yes", weight: str = "1.5", enumerator: str = "7",
               cluster: str = "c1", stratum: str = "s1", start: str = "2025-03-02T09:15:00.000+03:00", **extra) -> dict:
    """One Kobo submission as exported (XML values): split columns of ``problems`` included."""
    chosen = (problems or "").split()
    row = {
        "start": start, "today": start[:10], "enumerator": enumerator, "consent": consent, "gov": gov,
        "stratum": stratum, "cluster": cluster, "weight": weight, "hh_name": "Ahmad Ali", "gps": "36.19 44.01 300 5",
        "_gps_latitude": "36.19", "_gps_longitude": "44.01", "_gps_altitude": "300", "_gps_precision": "5",
        "water": water, "problems": problems or "",
        **{f"problems/{c}": ("" if problems is None else "1" if c in chosen else "0") for c in ("cuts", "dirty", "low_pressure")},
        "hours": hours or "", "_id": str(zlib.crc32(uuid.encode()) % 100000), "_uuid": uuid,
        "_submission_time": "2025-03-03T07:00:00", "_validation_status": "", "_index": "",
    }
    row.update(extra)
    return row


def kobo_csv(rows: list[dict], delimiter: str = ";", bom: bool = True, columns: list[str] | None = None) -> bytes:
    cols = columns or list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(cols)
    for i, r in enumerate(rows, start=1):
        w.writerow([r.get(c, "") if c != "_index" else str(i) for c in cols])
    return (b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8")


def label_export(rows: list[dict], language: str = "en") -> bytes:
    """The same submissions as a Kobo "labels" export (headers and select answers as labels in ``language``,
    en or ar; the name and GPS columns left out), comma-delimited with a BOM."""
    q_label = {name: (en if language == "en" else ar) for _t, name, en, ar in SURVEY_ROWS if en}
    lists = {name: t.split()[1] for t, name, *_ in SURVEY_ROWS if t.startswith("select")}
    c_label = {(lst, code): (en if language == "en" else ar) for lst, code, en, ar in CHOICES}
    out = []
    for r in rows:
        row = {}
        for col, value in r.items():
            if col in ("hh_name", "gps") or col.startswith("_gps"):
                continue
            if "/" in col:
                q, code = col.split("/")
                row[f"{q_label[q]}/{c_label[(lists[q], code)]}"] = value
            elif col in lists and value:
                row[q_label[col]] = " ".join(c_label[(lists[col], v)] for v in value.split())
            else:
                row[q_label.get(col, col)] = value
        out.append(row)
    return kobo_csv(out, delimiter=",", bom=True)


MAPPING = """
source_id: {sid}
domain: survey
title: test survey
format: {fmt}
{extra}
files:
  - path: "{glob}"
    wave_id: "2025-03"
respondent_id: {id_col}
governorate: {{column: gov, via: label_en}}
stratum: {{column: stratum}}
psu: {{column: cluster}}
weight: {{column: weight}}
interview_date: {{column: start}}
consent: {{column: consent, include: ["yes"]}}
weight_note: test
design_note: test
questions:
  water_service_rating: {{column: water}}
  water_piped_hours_per_day: {{column: hours}}
"""


def write_source(root: Path, sid: str, files: dict[str, bytes | Path], *, fmt: str = "kobo_csv", glob: str = "export*.csv",
                 extra: str = "xlsform: form.xlsx", id_col: str = "_uuid", form: bool = True, mapping: str | None = None) -> Path:
    """A landing folder ``root/surveys/<sid>/`` with the files, the form and the mapping."""
    folder = root / "surveys" / sid
    folder.mkdir(parents=True, exist_ok=True)
    if form:
        write_form(folder / "form.xlsx")
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.read_bytes())
    text = mapping if mapping is not None else MAPPING.format(sid=sid, fmt=fmt, extra=textwrap.dedent(extra).strip(),
                                                              glob=glob, id_col=id_col)
    (folder / "source.yaml").write_text(text, encoding="utf-8")
    return folder


def ingest(root: Path, warehouse: Path) -> dg.ExecuteInProcessResult:
    """The real ingestion assets and the publish step (no dbt) into a fresh warehouse file."""
    return dg.materialize(
        [survey_tables, budget_tables, published_snapshot],
        resources={"paths": MizanPaths(data_dir=str(root), warehouse=str(warehouse))},
        raise_on_error=False,
    )


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    msgs = []
    for e in result.all_events:
        if e.event_type_value == "STEP_FAILURE":
            d = e.step_failure_data
            msgs.append(d.user_failure_data.description if d.user_failure_data else d.error.message)
    return " | ".join(msgs)


def table(warehouse: Path, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).pl()
    finally:
        con.close()


def loaded(warehouse: Path) -> list[tuple]:
    """(respondent_id, governorate_pcode, water code, hours) of every loaded respondent, by id."""
    return table(warehouse, """
        SELECT r.respondent_id, r.governorate_pcode,
               max(a.answer_code) FILTER (WHERE a.question_id = 'water_service_rating') AS water,
               max(a.answer_numeric) FILTER (WHERE a.question_id = 'water_piped_hours_per_day') AS hours
        FROM raw.survey_respondents r LEFT JOIN raw.survey_answers a USING (source_id, wave_id, respondent_id)
        GROUP BY ALL ORDER BY 1""").rows()


def accounts(warehouse: Path) -> list[tuple]:
    return table(warehouse, "SELECT file_name, rows_read, rows_loaded, rows_excluded, rows_quarantined "
                            "FROM audit.file_registry ORDER BY file_name").rows()


def quarantine(warehouse: Path) -> list[tuple]:
    return table(warehouse, "SELECT file_name, sheet_name, row_number, column_name, value, reason "
                            "FROM audit.quarantine ORDER BY file_name, sheet_name NULLS FIRST, row_number, column_name").rows()


def exclusions(warehouse: Path) -> list[tuple]:
    return table(warehouse, "SELECT file_name, sheet_name, row_number, reason FROM audit.exclusions "
                            "ORDER BY file_name, sheet_name NULLS FIRST, row_number").rows()
