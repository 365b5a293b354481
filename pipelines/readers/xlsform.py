"""Read an XLSForm (the Kobo/ODK form definition) into question types, labels and choice lists.

The form types a Kobo export: integers and decimals are parsed as numbers, select_one and
select_multiple values are checked against their choice lists, and labels in English and Arabic come
from here. Spec: https://xlsform.org (survey and choices sheets; ``label::English (en)`` style columns).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

from pipelines.readers.delimited import FileReadError

#: XLSForm metadata and Kobo system columns found in exports but never typed as answers.
KOBO_META_COLUMNS = (
    "_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by",
    "_tags", "_index", "__version__", "_version_", "_xform_id_string", "_attachments", "_geolocation",
    "meta/instanceID", "meta/rootUuid", "meta/deprecatedID", "instanceID",
)
#: XLSForm question types that hold a position, i.e. personal data that never reaches the warehouse.
GEO_TYPES = ("geopoint", "geotrace", "geoshape")
#: XLSForm metadata types that identify a device or a person.
DEVICE_TYPES = ("deviceid", "imei", "subscriberid", "simserial", "phonenumber", "username", "email", "audit")


@dataclass(frozen=True)
class Question:
    """One survey-sheet row: ``type`` is the base type (``select_one``, ``integer``, ...).

    ``missing_codes``: codes the source file itself declares missing (SPSS user-missing values, Stata
    extended missing ``.a``–``.z``), as canonical text; empty for XLSForms, which declare none.
    """

    name: str
    type: str
    list_name: str | None
    label_en: str | None
    label_ar: str | None
    relevant: str | None
    missing_codes: tuple[str, ...] = ()
    #: the XLSForm ``constraint`` (``. > 0 and . < 25``), checked on a cleaning log's new values
    constraint: str | None = None


@dataclass
class XLSForm:
    """A parsed XLSForm: ``questions`` by name, ``choices[list_name][code] = (label_en, label_ar)``."""

    path: Path
    questions: dict[str, Question] = field(default_factory=dict)
    choices: dict[str, dict[str, tuple[str | None, str | None]]] = field(default_factory=dict)

    def choice_codes(self, question: str) -> list[str]:
        """The choice codes of a select question, in form order."""
        q = self.questions[question]
        return list(self.choices.get(q.list_name or "", {}))

    def split_columns(self) -> dict[str, tuple[str, str]]:
        """Kobo's select_multiple split column names ``q/choice`` → ``(q, choice)``."""
        out = {}
        for q in self.questions.values():
            if q.type == "select_multiple":
                for code in self.choices.get(q.list_name or "", {}):
                    out[f"{q.name}/{code}"] = (q.name, code)
        return out


def _label_column(header: list[str], language: str, code: str) -> int | None:
    for i, h in enumerate(header):
        hl = (h or "").strip().lower()
        if hl in (f"label::{language.lower()} ({code})", f"label::{language.lower()}", f"label::{code}"):
            return i
    if language == "English":
        for i, h in enumerate(header):
            if (h or "").strip().lower() == "label":
                return i
    return None


def _rows(ws) -> tuple[list[str], list[tuple]]:
    rows = list(ws.iter_rows(values_only=True))
    if not rows:
        return [], []
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    return header, rows[1:]


def read_xlsform(path: Path) -> XLSForm:
    """Parse the ``survey`` and ``choices`` sheets of an XLSForm workbook.

    Raises:
        FileReadError: the workbook cannot be opened, or lacks a ``survey`` sheet with ``type`` and
            ``name`` columns.
    """
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for unreadable files
        raise FileReadError(f"{path.name}: cannot open XLSForm: {exc}") from None
    try:
        if "survey" not in wb.sheetnames:
            raise FileReadError(f"{path.name}: an XLSForm needs a 'survey' sheet (found {wb.sheetnames})")
        header, rows = _rows(wb["survey"])
        if "type" not in header or "name" not in header:
            raise FileReadError(f"{path.name}: the survey sheet needs 'type' and 'name' columns")
        i_type, i_name = header.index("type"), header.index("name")
        i_en, i_ar = _label_column(header, "English", "en"), _label_column(header, "Arabic", "ar")
        i_rel = header.index("relevant") if "relevant" in header else None
        i_con = header.index("constraint") if "constraint" in header else None
        form = XLSForm(path=path)
        for r in rows:
            if r[i_type] is None or r[i_name] is None:
                continue
            parts = str(r[i_type]).split()
            base = parts[0]
            list_name = None
            if base in ("select_one", "select_multiple") and len(parts) > 1:
                list_name = parts[1]
            elif base.startswith(("select_one_from_file", "select_multiple_from_file")):
                base = base.replace("_from_file", "")
            if base in ("begin_group", "end_group", "begin_repeat", "end_repeat", "begin") or (
                base == "end" and len(parts) > 1
            ):
                continue
            name = str(r[i_name]).strip()
            form.questions[name] = Question(
                name=name,
                type=base,
                list_name=list_name,
                label_en=r[i_en] if i_en is not None else None,
                label_ar=r[i_ar] if i_ar is not None else None,
                relevant=r[i_rel] if i_rel is not None else None,
                constraint=str(r[i_con]) if i_con is not None and r[i_con] is not None else None,
            )
        if "choices" in wb.sheetnames:
            header, rows = _rows(wb["choices"])
            i_list, i_name = header.index("list_name"), header.index("name")
            i_en, i_ar = _label_column(header, "English", "en"), _label_column(header, "Arabic", "ar")
            for r in rows:
                if r[i_list] is None or r[i_name] is None:
                    continue
                code = str(r[i_name]).strip()
                if isinstance(r[i_name], float) and r[i_name].is_integer():
                    code = str(int(r[i_name]))
                form.choices.setdefault(str(r[i_list]).strip(), {})[code] = (
                    r[i_en] if i_en is not None else None,
                    r[i_ar] if i_ar is not None else None,
                )
        return form
    finally:
        wb.close()


def r_make_names(name: str) -> str:
    """What R's ``make.names`` (used by ``read.csv``) turns a Kobo column name into.

    Characters other than letters, digits, ``.`` and ``_`` become ``.``; a name starting with ``_``,
    a digit, or ``.`` followed by a digit gets an ``X`` prefix. (R documentation, ``?make.names``.)
    """
    out = re.sub(r"[^A-Za-z0-9._]", ".", name)
    if re.match(r"^(_|\d|\.\d)", out):
        out = "X" + out
    return out


def kobo_header_names(header: list[str], form: XLSForm | None, style: str) -> dict[str, str]:
    """Map a file's header to Kobo's own column names (``q/choice``, ``_uuid``), for mappings to use.

    ``style='kobo'`` leaves names as they are; ``style='r_make_names'`` undoes R's ``read.csv`` mangling
    (``X.U.FEFF.start`` → ``start``, ``X_uuid`` → ``_uuid``, ``q.choice`` → ``q/choice``) using the
    form's question and choice names. Names that cannot be traced back keep their header spelling.
    """
    if style != "r_make_names":
        return {h: h for h in header}
    candidates: list[str] = list(KOBO_META_COLUMNS)
    if form is not None:
        candidates += list(form.questions)
        candidates += list(form.split_columns())
    back = {}
    for c in candidates:
        back.setdefault(r_make_names(c), c)
    out = {}
    for h in header:
        stripped = re.sub(r"^X\.U\.FEFF\.", "", h)
        out[h] = back.get(stripped, back.get(h, stripped))
    return out
