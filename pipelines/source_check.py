"""``mizan source check FOLDER``: profile a new delivery and draft its mapping file.

A data engineer onboarding a survey delivery writes a mapping file (``source.yaml``, docs/mapping-files.md),
not code. This module reads the delivered files the way ingestion will read them and says what the mapping
needs: the format, encoding, delimiter and header style; how well the export matches its XLSForm (and the
``form_fixes`` it will need); which columns hold the governorate, the district, the respondent id, the
weight, strata, PSUs, the interview date, consent, the review status and the enumerator; what ingestion
would drop as personal data (and what else looks personal from its values); and, with a mapping, which
columns it does not use yet, or without one, which form questions resemble question-bank questions.

It writes nothing into FOLDER. Everything is read through the project's own code, so the profile is what a
run would see: :mod:`pipelines.readers` (delimited, workbook, statfile, codebook, xlsform, text),
:func:`pipelines.ingest.survey_read.read_survey_file` and ``translate_headers`` (header translation),
:func:`pipelines.ingest.survey.personal_columns` (the personal-data rule) and the governorate and district
resolvers. Public API:

- :func:`check_source` ``(folder, ...) -> dict``: the profile (JSON-serialisable).
- :func:`format_report` ``(profile) -> str``: the profile for a person.
- :func:`draft_mapping` ``(profile) -> str``: the draft ``source.yaml`` (YAML with comments and ``TODO``
  values the engineer replaces).
- :class:`SourceCheckError`: a delivered file cannot be read; the message names the file.

Detection rules are documented where they are applied and in docs/source-check.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

import polars as pl
import yaml

from data_contracts.districts import DistrictError, DistrictGovernorateMismatchError, resolve_district
from data_contracts.governorates import UnknownGovernorateError, resolve_governorate
from data_contracts.mapping import (
    VALIDATION_STATUS_CODES,
    ColumnRef,
    FileSpec,
    MappingError,
    RepeatGroup,
    SurveyMapping,
    load_mapping,
    load_question_bank,
    SOURCES_DIR,
)
from data_contracts.parsing import NUMBER_PATTERN
from pipelines.ingest.common import FatalSourceError
from pipelines.ingest.survey import personal_columns, used_columns
from pipelines.ingest.survey_read import read_survey_file, translate_headers
from pipelines.readers.codebook import read_codebook
from pipelines.readers.delimited import FileReadError, read_delimited
from pipelines.readers.statfile import SPSS_SUFFIXES, STATA_SUFFIXES, read_statfile
from pipelines.readers.workbook import link_repeat, read_workbook
from pipelines.readers.xlsform import GEO_TYPES, KOBO_META_COLUMNS, XLSForm, r_make_names, read_xlsform

#: Columns that mark a Kobo export (also in R's mangled spelling ``X_uuid``).
KOBO_MARKERS = ("_uuid", "_submission_time", "_index")
#: Columns that mark an ODK Central export.
ODK_MARKERS = ("KEY", "SubmissionDate", "meta-instanceID")
#: Server metadata of ODK Central exports (not answers).
ODK_META = ("KEY", "SubmissionDate", "meta-instanceID", "meta-instanceName", "SubmitterID", "SubmitterName",
            "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion",
            "PARENT_KEY")
META = set(KOBO_META_COLUMNS) | set(ODK_META) | {"_parent_index", "_parent_table_name", "_submission__id",
                                                  "_submission__uuid", "_submission__submission_time",
                                                  "_submission__validation_status", "_submission__notes",
                                                  "_submission__status", "_submission__submitted_by",
                                                  "_submission__tags", "_submission___version__"}
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
#: Id columns in order of preference (a submission id first, then row counters).
ID_PREFERENCE = ("_uuid", "KEY", "meta/instanceID", "meta-instanceID", "instanceID", "_id", "_index")
YES_VALUES = {"yes", "y", "1", "true", "agree", "agreed", "accept", "accepted", "consent", "نعم", "بەڵێ", "erê"}
DONE_VALUES = {"answered", "complete", "completed", "done", "interviewed", "success", "successful", "eligible", "yes",
               "1"}
DK_WORDS = ("don't know", "dont know", "do not know", "don’t know", "dk", "not sure", "لا أعرف", "لا اعرف",
            "don t know", "do_not_know", "dont_know")
REFUSED_WORDS = ("refus", "prefer not", "decline", "no answer", "not answer", "prefer_not", "رفض", "بدون اجابة",
                 "لا جواب", "decline_to_answer")
_WORD = re.compile(r"[^a-z0-9]+")
_PHONE = re.compile(r"^(?:\+?964|00964|0)?7[3-9]\d{8}$")
_GEOPOINT = re.compile(r"^-?\d{1,3}\.\d{3,}\s+-?\d{1,3}\.\d{3,}(\s+-?\d+(\.\d+)?){0,2}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}.*)?$")
_STOP = {
    "the", "a", "an", "of", "in", "to", "your", "you", "do", "does", "did", "how", "what", "is", "are", "was",
    "were", "has", "have", "had", "for", "by", "from", "with", "on", "any", "household", "households", "hh", "this",
    "that", "it", "its", "or", "and", "be", "been", "there", "their", "if", "at", "as", "which", "who", "q", "ki",
    "key", "informant", "please", "not", "no", "yes", "s", "current", "currently", "member", "members",
}


class SourceCheckError(RuntimeError):
    """A delivered file that cannot be profiled; the message names the file and what was tried."""


# ------------------------------------------------------------------------------------------------------
# Small helpers
# ------------------------------------------------------------------------------------------------------


def _words(name: str) -> list[str]:
    """Words of a column name: split at non-letters/digits and camelCase (``DateofInterview`` → date, of...)."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [w for w in _WORD.split(spaced.lower()) if w]


def _tokens(text: str | None) -> set[str]:
    """Content words of a label or name for the token-overlap suggestions (light stemming: a final s)."""
    out = set()
    for w in _words(text or ""):
        if w in _STOP or w.isdigit() or len(w) < 2:
            continue
        out.add(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w)
    return out


def _values(frame: pl.DataFrame, col: str) -> pl.Series:
    """Non-blank values of a column, stripped."""
    s = frame[col].drop_nulls().str.strip_chars()
    return s.filter(s != "")


def _distinct(frame: pl.DataFrame, col: str, limit: int | None = None) -> list[str]:
    s = _values(frame, col).unique(maintain_order=True)
    return s.head(limit).to_list() if limit else s.to_list()


def _counts(frame: pl.DataFrame, col: str, limit: int = 12) -> dict[str, int]:
    """Value → rows, most frequent first (blank as ``(blank)``)."""
    s = frame.select(pl.col(col).str.strip_chars().fill_null("(blank)")).to_series()
    s = pl.select(pl.when(s == "").then(pl.lit("(blank)")).otherwise(s)).to_series()
    vc = s.value_counts(sort=True)
    return {str(v): int(n) for v, n in vc.head(limit).iter_rows()}


def _form_of(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c != "__row"]


def _yaml_scalar(value) -> str:
    """A YAML scalar written safely by PyYAML (quotes ``yes``, ``1``, ``:`` ... when needed)."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    return text[:-4].strip() if text.endswith("\n...") else text.removesuffix("...").strip()


def _flow(value) -> str:
    """A list or dict as one-line YAML flow (``[a, b]``, ``{k: v}``), quoted by PyYAML for flow context (keys
    with commas, ``yes``, ``1`` ...)."""
    if not isinstance(value, (dict, list, tuple)):
        return _yaml_scalar(value)
    value = list(value) if isinstance(value, tuple) else value
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, allow_unicode=True, width=10**9).strip()


def _short(values, n: int = 6) -> str:
    values = list(values)
    shown = ", ".join(str(v) for v in values[:n])
    return shown + (f", … ({len(values) - n} more)" if len(values) > n else "")


# ------------------------------------------------------------------------------------------------------
# Files in the folder
# ------------------------------------------------------------------------------------------------------


def _sniff_header(path: Path) -> list[str]:
    """The header of a delimited file, for classifying it (lenient: undecodable bytes replaced)."""
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    line = text.split("\n", 1)[0].rstrip("\r")
    counts = {d: line.count(d) for d in (",", ";", "\t")}
    delim = max(counts, key=counts.get) if any(counts.values()) else ","
    try:
        return [h.strip() for h in next(csv.reader([line], delimiter=delim))]
    except (csv.Error, StopIteration):
        return []


def _xlsx_sheets(path: Path) -> tuple[list[str], list[str]]:
    """(sheet names, header of the first sheet) of a workbook, or ([], []) when it cannot be opened."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(path.read_bytes())
        names = list(reader.sheet_names)
        sheet = reader.load_sheet(names[0], header_row=None, n_rows=1, dtypes="string")
        row = pl.from_arrow(sheet.to_arrow())
        header = [str(v).strip() for v in row.row(0) if v is not None] if row.height else []
        return names, header
    except Exception:  # noqa: BLE001 - an unreadable workbook is reported when it is read for real
        return [], []


def _is_sample_frame(header: list[str]) -> bool:
    """A small table naming strata and their population (sample frame): ≤ 10 columns, one with a population-like
    name (households, population, total, N) and one with an area-like name."""
    if not header or len(header) > 10:
        return False
    words = [set(_words(h)) for h in header]
    pop = any(w & {"hh", "households", "household", "population", "pop", "total", "n", "size"} for w in words)
    area = any(w & {"stratum", "strata", "neighbourhood", "neighborhood", "district", "governorate", "area", "camp",
                    "village", "cluster", "ea", "region", "subdistrict"} for w in words)
    return pop and area


def classify_files(folder: Path) -> list[dict]:
    """Every file of ``folder`` with its role: ``data``, ``xlsform``, ``codebook``, ``mapping``,
    ``sample_frame``, ``repeat_file`` (an ODK Central repeat CSV: ``PARENT_KEY``), ``other_table`` (a table
    that is neither an export nor a known companion: results, lookups), ``ignored``.

    Rules: ``source.yaml`` is a mapping; an xlsx with ``survey`` and ``choices`` sheets is an XLSForm; a
    CSV/XLSX with ``variable`` and ``type`` columns is a codebook; ``.sav``/``.zsav``/``.dta``/``.zip`` are data;
    a CSV/XLSX with Kobo or ODK Central markers is data; a small stratum × population table is a sample frame;
    with an XLSForm present, a CSV without markers is data only when it is not another table (its header shares
    no field with the form); without one, it is data (a plain file).
    """
    out: list[dict] = []
    forms = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        suffix = path.suffix.lower()
        entry = {"file": path.name, "role": "ignored", "why": ""}
        if path.name in ("source.yaml", "source.yml"):
            entry.update(role="mapping", why="a mapping file beside the delivery")
        elif suffix in SPSS_SUFFIXES:
            entry.update(role="data", why="SPSS system file (by extension)")
        elif suffix in STATA_SUFFIXES:
            entry.update(role="data", why="Stata file (by extension)")
        elif suffix == ".zip":
            entry.update(role="data", why="zip archive (ODK Central CSV export)")
        elif suffix in XLSX_SUFFIXES:
            sheets, header = _xlsx_sheets(path)
            lower = {h.lower() for h in header}
            if "survey" in sheets and "choices" in sheets:
                entry.update(role="xlsform", why="workbook with survey and choices sheets")
                forms.append(path)
            elif {"variable", "type"} <= lower:
                entry.update(role="codebook", why="table with variable and type columns")
            elif set(header) & {*KOBO_MARKERS, *ODK_MARKERS}:
                entry.update(role="data", why="workbook with Kobo/ODK submission columns")
            elif _is_sample_frame(header):
                entry.update(role="sample_frame", why="small table of strata and their population")
            elif sheets:
                entry.update(role="data", why="workbook")
                entry["header"] = header
            else:
                entry.update(role="data", why="workbook (cannot be opened: read below)")
        elif suffix in TEXT_SUFFIXES:
            header = _sniff_header(path)
            lower = {h.lower() for h in header}
            if {"variable", "type"} <= lower:
                entry.update(role="codebook", why="table with variable and type columns")
            elif "PARENT_KEY" in header:
                entry.update(role="repeat_file", why="ODK Central repeat-group CSV (PARENT_KEY)")
            elif set(header) & {*KOBO_MARKERS, *ODK_MARKERS, *(f"X{m}" for m in KOBO_MARKERS)}:
                entry.update(role="data", why="export with Kobo/ODK submission columns")
            elif _is_sample_frame(header):
                entry.update(role="sample_frame", why="small table of strata and their population")
            else:
                entry.update(role="data?", why="delimited table")
                entry["header"] = header
        elif suffix in (".yaml", ".yml", ".md", ".pdf", ".docx", ".doc", ".txt"):
            entry.update(role="ignored", why="documentation or configuration")
        out.append(entry)
    form_fields: set[str] = set()
    for path in forms:
        try:
            form = read_xlsform(path)
            form_fields |= set(form.questions) | {r for r in form.split_columns()}
        except FileReadError:
            pass
    for entry in out:
        if entry["role"] == "data?":
            header = entry.pop("header", [])
            if not forms:
                entry.update(role="data", why="delimited table (plain file: no XLSForm beside it)")
            else:
                mangled = {r_make_names(f) for f in form_fields}
                shared = [h for h in header if h in form_fields or h in mangled or h.split("/")[-1] in form_fields]
                if len(shared) >= max(2, len(header) // 5):
                    entry.update(role="data", why=f"delimited table sharing {len(shared)} columns with the XLSForm")
                else:
                    entry.update(role="other_table", why="delimited table that shares no fields with the XLSForm "
                                                          "(results, lookup or notes): not profiled")
        entry.pop("header", None)
    return out


# ------------------------------------------------------------------------------------------------------
# Reading one data file
# ------------------------------------------------------------------------------------------------------


def _decode_text(path: Path, encoding: str | None) -> dict:
    """Encoding of a text file: the declared one, else UTF-8 (with or without BOM); when UTF-8 fails, cp1256 is
    tried and reported, never chosen silently.

    Raises:
        SourceCheckError: the bytes do not decode (offset, bytes, and what else was tried).
    """
    data = path.read_bytes()
    bom = data.startswith(b"\xef\xbb\xbf")
    if encoding:
        try:
            data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise SourceCheckError(
                f"{path.name}: bytes at offset {exc.start} are not valid {encoding} ({data[exc.start:exc.start + 4]!r}); "
                "pass the file's encoding with --encoding (e.g. utf-8, cp1256)") from None
        except LookupError:
            raise SourceCheckError(f"{path.name}: unknown encoding {encoding!r} (--encoding)") from None
        return {"encoding": encoding, "bom": bom, "tried": [f"{encoding} (declared with --encoding): decodes"]}
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        tried = [f"utf-8: fails at byte offset {exc.start} ({data[exc.start:exc.start + 4]!r})"]
        try:
            text = data.decode("cp1256")
            arabic = sum(1 for ch in text if "\u0600" <= ch <= "\u06ff")
            tried.append(f"cp1256 (Windows-1256): decodes the whole file ({arabic} Arabic letters)")
            hint = "if it is Windows-1256 (Arabic Windows), run again with --encoding cp1256"
        except UnicodeDecodeError as exc2:
            tried.append(f"cp1256: fails at byte offset {exc2.start}")
            hint = "ask the firm which encoding the file is in and pass it with --encoding"
        raise SourceCheckError(
            f"{path.name}: bytes at offset {exc.start} are not valid UTF-8 ({data[exc.start:exc.start + 4]!r}). "
            f"Tried: {'; '.join(tried)}. Not guessing: {hint}") from None
    return {"encoding": "utf-8", "bom": bom,
            "tried": [f"utf-8{' with BOM' if bom else ''}: decodes"]}


def _read_zip_tables(path: Path, encoding: str) -> tuple[str, dict[str, pl.DataFrame]]:
    """Members of an ODK Central zip read as tables (in a temporary folder, never beside the delivery)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    except zipfile.BadZipFile:
        raise SourceCheckError(f"{path.name}: not a zip file (an ODK Central export is a .zip of CSV files)") from None
    members = [m for m in archive.namelist() if m.lower().endswith(".csv") and not m.startswith("media/")]
    tmp = Path(tempfile.mkdtemp(prefix="mizan_check_"))
    tables = {}
    try:
        for m in members:
            target = tmp / Path(m).name
            target.write_bytes(archive.read(m))
            try:
                tables[Path(m).name] = read_delimited(target, encoding=encoding).frame
            except FileReadError as exc:
                raise SourceCheckError(f"{path.name}/{m}: {exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    roots = [m for m, f in tables.items() if "PARENT_KEY" not in f.columns]
    if len(roots) != 1:
        raise SourceCheckError(f"{path.name}: expected one root CSV (without PARENT_KEY); found {roots}")
    return roots[0], tables


def _format_evidence(header: list[str], has_form: bool, repeat_sheets: list[str]) -> tuple[str, list[str]]:
    """Format of a delimited/workbook export from its header (rules in classify/format docs)."""
    hs = set(header)
    odk = [m for m in ODK_MARKERS if m in hs]
    if odk:
        return "odk_central", [f"ODK Central columns {odk}"]
    kobo = [m for m in KOBO_MARKERS if m in hs] + [f"X{m}" for m in KOBO_MARKERS if f"X{m}" in hs]
    if kobo or repeat_sheets:
        ev = [f"Kobo columns {kobo}"] if kobo else []
        ev += [f"repeat sheets with _parent_index {repeat_sheets}"] if repeat_sheets else []
        return "kobo", ev
    if has_form:
        return "kobo", ["no Kobo submission columns, but an XLSForm beside it"]
    return "plain", ["no Kobo/ODK submission columns and no XLSForm"]


def _probe_mapping(source_id: str, file_name: str, s: dict) -> SurveyMapping:
    """A mapping holding only how to read the file (design fields are placeholders): what ingestion would use."""
    return SurveyMapping(
        source_id=source_id, domain="survey", title="source check", format=s["format"], encoding=s.get("encoding"),
        delimiter=s.get("delimiter", "auto"), header_style=s.get("header_style", "kobo"),
        headers=s.get("headers", "names"), values=s.get("values", "codes"),
        label_language=s.get("label_language", "en"), group_separator=s.get("group_separator"),
        choice_separator=s.get("choice_separator"), xlsform=s.get("xlsform"), codebook=s.get("codebook"),
        sheet=s.get("sheet"), repeats={k: RepeatGroup(**v) for k, v in s.get("repeats", {}).items()},
        files=[FileSpec(path=file_name, wave_id="check")], respondent_id="__none__",
        governorate=ColumnRef(constant="check"), stratum=ColumnRef(constant="all"),
        psu=ColumnRef(per_respondent=True), weight=ColumnRef(constant=1.0), weight_note="", design_note="",
        questions={},
    )


def _form_fields(form: XLSForm) -> set[str]:
    geo = {f"_{q.name}_{p}" for q in form.questions.values() if q.type in GEO_TYPES
           for p in ("latitude", "longitude", "altitude", "precision")}
    return set(form.questions) | set(form.split_columns()) | geo


def _match_share(columns: list[str], form: XLSForm) -> float:
    fields = _form_fields(form)
    counted = [c for c in columns if c not in META]
    return sum(c in fields for c in counted) / len(counted) if counted else 0.0


def _r_evidence(header: list[str]) -> list[str]:
    """Headers that show R's ``make.names`` (``read.csv``) mangling."""
    out = [h for h in header if h.startswith("X.U.FEFF.")]
    out += [h for h in header if re.fullmatch(r"X_[A-Za-z_]+", h) and h[1:] in {*KOBO_META_COLUMNS, "_parent_index"}]
    return out


def _header_candidates(header: list[str], fmt: str, form: XLSForm | None) -> list[dict]:
    """Header settings to try, in order of preference (defaults first)."""
    styles = ["kobo"] + (["r_make_names"] if _r_evidence(header) else [])
    choice_seps = ["/"] + [s for s in (".", ":", "-", "_") if any(s in h for h in header)]
    group_seps = ["-" if fmt == "odk_central_csv" else "/"] + [s for s in ("/", ".", ":", "-")
                                                              if any(s in h for h in header)]
    group_seps = list(dict.fromkeys(group_seps))
    heads: list[tuple[str, str]] = [("names", "en")]
    if form is not None:
        for lang in ("en", "ar"):
            labels = {(q.label_en if lang == "en" else q.label_ar) for q in form.questions.values()}
            labels = {str(x).strip() for x in labels if x}
            if any(h in labels or h.split("/")[0] in labels for h in header):
                heads.append(("labels", lang))
    out = []
    for style in styles:
        for headers, lang in heads:
            for cs in choice_seps:
                for gs in group_seps:
                    out.append({"header_style": style, "headers": headers, "label_language": lang,
                                "choice_separator": cs, "group_separator": gs})
    return out


def _choice_sep_without_form(header: list[str]) -> tuple[str, list[str]]:
    """Kobo writes a select_multiple as the answer column ``q`` plus split columns ``q/a``: a separator is
    detected when columns ``q<sep>x`` exist beside a column ``q``."""
    hs = set(header)
    best, examples = "/", []
    for sep in ("/", ".", ":"):
        hits = [h for h in header if sep in h and h.rsplit(sep, 1)[0] in hs]
        if len(hits) > len(examples):
            best, examples = sep, hits
    return best, examples[:3]


def _detect_headers(header: list[str], fmt: str, form: XLSForm | None, source_id: str, name: str) -> dict:
    """Choose header_style, headers/label_language, choice and group separators: with a form, the settings under
    which the most columns translate to form fields (defaults win ties); without one, from the header's shape."""
    if form is None:
        cs, examples = _choice_sep_without_form(header)
        plain = fmt in ("csv", "xlsx")
        style = "r_make_names" if _r_evidence(header) and not plain else ("plain" if plain else "kobo")
        return {"header_style": style, "headers": "names", "label_language": "en", "choice_separator": cs,
                "group_separator": None, "share": None, "tried": [],
                "evidence": {"r_make_names": _r_evidence(header)[:3], "choice_split_examples": examples}}
    empty = pl.DataFrame(schema={h: pl.String for h in header})
    tried = []
    best, best_share = None, -1.0
    for cand in _header_candidates(header, fmt, form):
        probe = _probe_mapping(source_id, name, {"format": fmt, "xlsform": form.path.name, **cand})
        try:
            cols = translate_headers(empty, form, probe, name).columns
        except FatalSourceError as exc:
            tried.append({**cand, "share": None, "error": str(exc)})
            continue
        share = _match_share(cols, form)
        tried.append({**cand, "share": round(share, 4)})
        if share > best_share + 1e-9:
            best, best_share = cand, share
    assert best is not None
    examples = [h for h in header if best["choice_separator"] in h][:3]
    return {**best, "share": round(best_share, 4), "tried": tried,
            "evidence": {"r_make_names": _r_evidence(header)[:3], "choice_split_examples": examples}}


def _values_are_labels(frame: pl.DataFrame, form: XLSForm, lang: str) -> bool:
    """Select answers delivered as choice labels (Kobo "labels" export) rather than codes."""
    as_code = as_label = 0
    for col in _form_of(frame):
        q = form.questions.get(col)
        if q is None or q.type != "select_one" or not q.list_name:
            continue
        choices = form.choices.get(q.list_name, {})
        labels = {str(lab[0 if lang == "en" else 1]).strip() for lab in choices.values() if lab[0 if lang == "en" else 1]}
        for v in _distinct(frame, col, 30):
            as_code += v in choices
            as_label += v in labels and v not in choices
    return as_label > as_code


def read_data_file(path: Path, folder: Path, files: list[dict], *, encoding: str | None, source_id: str) -> dict:
    """Read one data file as ingestion would, detecting how it must be read. Returns the settings found, the
    evidence, and the translated frames (``frame``, ``repeats``) and form.

    Raises:
        SourceCheckError: the file (or its form or codebook) cannot be read.
    """
    suffix = path.suffix.lower()
    forms = [f["file"] for f in files if f["role"] == "xlsform"]
    codebooks = [f["file"] for f in files if f["role"] == "codebook"]
    s: dict = {"file": path.name}
    notes: list[str] = []
    form: XLSForm | None = None
    repeat_frames: dict[str, pl.DataFrame] = {}
    try:
        if suffix in SPSS_SUFFIXES + STATA_SUFFIXES:
            stat = read_statfile(path, encoding=encoding)
            s.update(format="spss" if suffix in SPSS_SUFFIXES else "stata", encoding_detected=stat.encoding,
                     encoding=encoding, format_evidence=[f"{suffix} extension"],
                     encoding_tried=[f"{encoding} (declared with --encoding)" if encoding else
                                     f"{stat.encoding} (declared by the file itself)"],
                     header_style=None, delimiter=None)
            if stat.file_label:
                notes.append(f"file label: {stat.file_label}")
            raw_header = stat.frame.columns
        elif suffix in TEXT_SUFFIXES or suffix == ".zip":
            enc_info = {"encoding": encoding or "utf-8", "bom": False, "tried": []}
            if suffix == ".zip":
                root, tables = _read_zip_tables(path, encoding or "utf-8")
                raw = tables[root]
                s.update(zip_root=root, zip_members=sorted(tables))
                delim, delim_counts = ",", {}
                s["repeats"] = {m.rsplit("-", 1)[-1].removesuffix(".csv"): {"path": m} for m, f in tables.items()
                                if m != root}
            else:
                enc_info = _decode_text(path, encoding)
                delivered = read_delimited(path, encoding=enc_info["encoding"])
                raw = delivered.frame  # mojibake under a one-byte code page is stopped by read_survey_file below
                delim = delivered.delimiter
                first = path.read_bytes()[:1 << 16].decode(enc_info["encoding"], errors="replace").lstrip("\ufeff")
                line = first.split("\n", 1)[0]
                delim_counts = {d: line.count(d) for d in (",", ";", "\t") if line.count(d)}
            raw_header = raw.columns
            kind, ev = _format_evidence(raw_header, bool(forms), [])
            fmt = {"odk_central": "odk_central_csv", "kobo": "kobo_csv", "plain": "csv"}[kind]
            if fmt == "odk_central_csv" and suffix != ".zip":
                reps = [f["file"] for f in files if f["role"] == "repeat_file"]
                s["repeats"] = {Path(r).stem.rsplit("-", 1)[-1]: {"path": r} for r in reps}
            s.update(format=fmt, format_evidence=ev, encoding=enc_info["encoding"], bom=enc_info["bom"],
                     encoding_tried=enc_info["tried"], delimiter=delim, delimiter_counts=delim_counts)
        elif suffix in XLSX_SUFFIXES:
            try:
                book = read_workbook(path, other_sheets=True)
            except FileReadError as exc:
                book = read_workbook(path, other_sheets=False)
                notes.append(f"other sheets not read ({exc})")
            raw_header = book.frame.columns
            rep = [n for n, f in book.sheets.items() if "_parent_index" in f.columns]
            kind, ev = _format_evidence(raw_header, bool(forms), rep)
            fmt = "kobo_xlsx" if kind == "kobo" else "xlsx"
            s.update(format=fmt, format_evidence=ev, encoding=None, encoding_tried=["xlsx: text is Unicode in the file"],
                     delimiter=None, main_sheet=book.main_sheet, other_sheets=sorted(book.sheets))
            if rep:
                s["repeats"] = {}
                for n in rep:
                    parents = _distinct(book.sheets[n], "_parent_table_name", 3) \
                        if "_parent_table_name" in book.sheets[n].columns else []
                    parent = parents[0] if parents and parents[0] in rep else "main"
                    s["repeats"][n] = {"sheet": n, "parent": parent}
            repeat_frames = {n: book.sheets[n] for n in rep}
        else:
            raise SourceCheckError(f"{path.name}: not a format mizan reads (csv, xlsx, zip, sav, dta)")
    except FileReadError as exc:
        msg = str(exc)
        if "encod" in msg.lower():
            # the readers speak of the mapping; here the encoding is an option of the command
            msg = msg.replace("declare the file's encoding in its mapping", "pass the file's encoding with --encoding") \
                     .replace("as encoding: ", "as --encoding ").replace("e.g. encoding: ", "e.g. --encoding ")
            if "--encoding" not in msg:
                msg += " (pass --encoding, e.g. --encoding cp1256)"
        raise SourceCheckError(msg if msg.startswith(path.name) else f"{path.name}: {msg}") from None

    # the form: the XLSForm that matches best (Kobo/ODK and plain files), a codebook (plain files)
    if s["format"] not in ("spss", "stata"):
        best = None
        for name in forms:
            try:
                f = read_xlsform(folder / name)
            except FileReadError as exc:
                raise SourceCheckError(str(exc)) from None
            share = _match_share(raw_header, f)
            if best is None or share > best[2]:
                best = (name, f, share)
        if best is not None:
            s["xlsform"], form = best[0], best[1]
            if len(forms) > 1:
                notes.append(f"{len(forms)} XLSForms beside it; {best[0]} matches best")
        elif codebooks and s["format"] in ("csv", "xlsx"):
            s["codebook"] = codebooks[0]
            try:
                form = read_codebook(folder / codebooks[0]).form
            except FileReadError as exc:
                raise SourceCheckError(str(exc)) from None
        if s["format"] == "csv" and form is not None and s.get("xlsform"):
            s["format"] = "kobo_csv"  # a plain table typed by an XLSForm is a Kobo export re-saved
        hdr = _detect_headers(list(raw_header), s["format"], form if s.get("xlsform") else None, source_id, path.name)
        s.update({k: hdr[k] for k in ("header_style", "headers", "label_language", "choice_separator",
                                      "group_separator")})
        s["header_detection"] = {"share_in_form": hdr["share"], "evidence": hdr["evidence"],
                                 "tried": hdr["tried"][:12]}
        if s["format"] in ("csv", "xlsx"):
            s["header_style"] = "plain"

    # read for real, as ingestion would, with the settings found
    settings = {k: s.get(k) for k in ("format", "encoding", "delimiter", "header_style", "headers", "label_language",
                                      "choice_separator", "group_separator", "xlsform", "codebook")}
    settings = {k: v for k, v in settings.items() if v is not None}
    if s["format"] in ("spss", "stata"):
        settings = {"format": s["format"], "encoding": encoding}
    if s.get("repeats"):
        settings["repeats"] = s["repeats"]
    probe = _probe_mapping(source_id, path.name, settings)
    try:
        read = read_survey_file(path, probe, probe.files[0], folder, {})
    except (FileReadError, FatalSourceError, MappingError) as exc:
        raise SourceCheckError(str(exc) if str(exc).startswith(path.name) else f"{path.name}: {exc}") from None
    if read.form is not None and s.get("headers") == "labels" and _values_are_labels(read.frame, read.form,
                                                                                        s["label_language"]):
        s["values"] = "labels"
        probe = _probe_mapping(source_id, path.name, {**settings, "values": "labels"})
        read = read_survey_file(path, probe, probe.files[0], folder, {})
    s["notes"] = notes + read.notes
    s["sha256"] = read.sha256
    return {"settings": s, "frame": read.frame, "repeats": read.repeats or repeat_frames, "form": read.form,
            "missing_codes": read.missing_codes, "probe": probe, "raw_header": list(raw_header)}


# ------------------------------------------------------------------------------------------------------
# Profile sections
# ------------------------------------------------------------------------------------------------------


def _form_match(frame: pl.DataFrame, repeats: dict[str, pl.DataFrame], form: XLSForm) -> dict:
    """How the (translated) export matches its XLSForm, and the ``form_fixes`` it will need."""
    fields = _form_fields(form)
    all_cols = _form_of(frame) + [c for f in repeats.values() for c in _form_of(f)]
    counted = [c for c in dict.fromkeys(all_cols) if c not in META]
    not_in_form, unknown_split = [], {}
    for c in counted:
        if c in fields:
            continue
        head, _, code = c.rpartition("/")
        q = form.questions.get(head)
        if q is not None and q.type == "select_multiple":
            unknown_split.setdefault(head, []).append(code)
        else:
            not_in_form.append(c)
    present = set(all_cols)
    absent = [q.name for q in form.questions.values() if q.type not in ("note",) and q.name not in present]
    frames = [frame, *repeats.values()]
    problems: dict[str, dict] = {}
    for col in dict.fromkeys(all_cols):
        q = form.questions.get(col)
        if q is None:
            continue
        src = next(f for f in frames if col in f.columns)
        vals = _values(src, col)
        if vals.len() == 0:
            continue
        if q.type in ("select_one", "select_multiple"):
            codes = set(form.choices.get(q.list_name or "", {}))
            if q.type == "select_one":
                bad = vals.filter(~vals.is_in(list(codes)))
                bad_distinct = bad.unique(maintain_order=True).to_list()
                if not bad_distinct:
                    continue
                all_distinct = vals.unique().len()
                tokens_known = all(set(v.split()) <= codes for v in bad_distinct)
                multi = any(" " in v for v in bad_distinct)
                if multi and tokens_known:
                    fix = {"type": "select_multiple"}
                    why = "answers hold several known codes separated by spaces: asked as a multiple choice"
                elif len(bad_distinct) * 2 >= all_distinct:
                    fix = {"type": "text"}
                    why = "most delivered codes are not on the form's list"
                else:
                    fix = {"add_choices": bad_distinct}
                    why = "a few codes the shipped form's list lacks"
            else:
                toks = vals.str.split(" ").explode()
                toks = toks.filter(toks != "")
                bad = toks.filter(~toks.is_in(list(codes)))
                bad_distinct = bad.unique(maintain_order=True).to_list()
                if not bad_distinct:
                    continue
                fix = {"add_choices": bad_distinct}
                why = "tokens the shipped form's list lacks"
            problems[col] = {"type": q.type, "list_name": q.list_name, "rows": int(bad.len()),
                             "distinct": len(bad_distinct), "examples": bad_distinct[:5], "fix": fix, "why": why}
        elif q.type in ("integer", "decimal"):
            bad = vals.filter(~vals.str.replace_all("٫", ".").str.contains(NUMBER_PATTERN))
            if bad.len():
                bad_distinct = bad.unique(maintain_order=True).to_list()
                problems[col] = {"type": q.type, "list_name": None, "rows": int(bad.len()), "distinct": len(bad_distinct),
                                 "examples": bad_distinct[:5], "fix": {"type": "text"},
                                 "why": f"values that are not numbers in a{'n' if q.type[0] == 'i' else ''} {q.type} field"}
    for head, codes in unknown_split.items():
        entry = problems.setdefault(head, {"type": "select_multiple", "list_name": form.questions[head].list_name,
                                           "rows": 0, "distinct": 0, "examples": [], "fix": {"add_choices": []},
                                           "why": "split columns for choices the shipped form's list lacks"})
        add = entry["fix"].setdefault("add_choices", [])
        for code in codes:
            if code not in add:
                add.append(code)
        entry["split_columns_not_in_form"] = [f"{head}/{c}" for c in codes]
    return {
        "columns": len(counted),
        "in_form": len(counted) - len(not_in_form) - sum(len(v) for v in unknown_split.values()),
        "share_in_form": round((len(counted) - len(not_in_form) - sum(len(v) for v in unknown_split.values()))
                               / len(counted), 4) if counted else 0.0,
        "not_in_form": not_in_form,
        "form_questions_absent": absent,
        "value_problems": problems,
    }


class _GovCache:
    """Resolver answers by value (an unknown name raises, and exceptions are not cached by the resolver)."""

    def __init__(self):
        self.gov: dict[str, tuple[str | None, list[str]]] = {}
        self.dist: dict[tuple[str, str | None], tuple[str | None, str | None, bool]] = {}

    def governorate(self, value: str) -> tuple[str | None, list[str]]:
        if value not in self.gov:
            try:
                self.gov[value] = (resolve_governorate(value), [])
            except UnknownGovernorateError as exc:
                self.gov[value] = (None, exc.suggestions)
        return self.gov[value]

    def district(self, value: str, gov: str | None) -> tuple[str | None, str | None, bool]:
        """(p-code, problem, is a governorate mismatch)."""
        key = (value, gov)
        if key not in self.dist:
            try:
                self.dist[key] = (resolve_district(value, gov), None, False)
            except DistrictGovernorateMismatchError as exc:
                self.dist[key] = (None, str(exc), True)
            except DistrictError as exc:
                self.dist[key] = (None, str(exc), False)
        return self.dist[key]


def _resolvable(value: str) -> bool:
    return 1 < len(value) <= 60 and any(ch.isalpha() for ch in value)


def _text_columns(frame: pl.DataFrame, max_distinct: int, labelled: frozenset[str] = frozenset()
                  ) -> list[tuple[str, list[str], dict[str, int]]]:
    """(column, distinct values, rows per value) of columns with few distinct values that hold letters (or whose
    codes have labels: ``labelled``)."""
    out = []
    for col in _form_of(frame):
        if col in META:
            continue
        vals = _values(frame, col)
        if vals.len() == 0:
            continue
        vc = vals.value_counts(sort=True)
        if vc.height > max_distinct:
            continue
        counts = {str(v): int(n) for v, n in vc.iter_rows()}
        if col not in labelled and not any(_resolvable(v) for v in counts):
            continue
        out.append((col, list(counts), counts))
    return out


def _governorate_candidates(frame: pl.DataFrame, form: XLSForm | None, cache: _GovCache) -> list[dict]:
    """Columns whose values resolve through the governorate resolver, directly or (a select_one of the form)
    through their English choice labels. A column is a candidate when ≥ 80 % of its answered rows resolve, or
    its name says governorate and ≥ 30 % do."""
    out = []
    labelled = frozenset(c for c, q in (form.questions.items() if form else []) if q.list_name and q.type == "select_one")
    for col, distinct, counts in _text_columns(frame, 200, labelled):
        total = sum(counts.values())
        hint = "gov" in col.lower() or "محافظ" in col
        ways = [("value", {v: v for v in distinct})]
        q = form.questions.get(col) if form else None
        if q is not None and q.list_name and q.type == "select_one":
            labels = {code: str(lab[0]).strip() for code, lab in form.choices.get(q.list_name, {}).items() if lab[0]}
            ways.append(("label_en", {v: labels.get(v, v) for v in distinct}))
        best = None
        for via, text in ways:
            resolved, unresolved = {}, {}
            for v in distinct:
                t = text[v]
                code, sugg = cache.governorate(t) if _resolvable(t) else (None, [])
                if code:
                    resolved[v] = code
                else:
                    unresolved[v] = sugg
            share = sum(counts[v] for v in resolved) / total
            if best is None or share > best["share_rows_resolved"]:
                best = {"column": col, "via": via, "share_rows_resolved": round(share, 4),
                        "resolved": resolved, "unresolved": unresolved,
                        "rows_unresolved": sum(counts[v] for v in unresolved),
                        "labels": {v: text[v] for v in distinct if text[v] != v} if via != "value" else {}}
        if best and best["resolved"] and (best["share_rows_resolved"] >= 0.8 or (hint and best["share_rows_resolved"] >= 0.3)):
            best["name_says_governorate"] = hint
            best["distinct_values"] = len(distinct)
            out.append(best)
    out.sort(key=lambda c: (not c["name_says_governorate"], -c["share_rows_resolved"], c["via"] != "value"))
    return out


def _context_column(col: str, gov_cols: list[str]) -> str | None:
    """The governorate column paired with a district column: the same name with district → governorate
    (``district_origin`` ↔ ``governorate_origin``, ``DistrictE`` ↔ ``GovernorateE``), else the first candidate."""
    for a, b in (("district", "governorate"), ("District", "Governorate"), ("DISTRICT", "GOVERNORATE"),
                 ("dist", "gov"), ("Dist", "Gov")):
        if a in col and col.replace(a, b) in gov_cols:
            return col.replace(a, b)
    return gov_cols[0] if gov_cols else None


def _district_candidates(frame: pl.DataFrame, gov: list[dict], cache: _GovCache) -> list[dict]:
    """Columns whose values resolve through the district resolver, with the governorate of the row as context
    (the paired governorate column); a column whose districts mostly lie in other governorates than that context
    is resolved without context instead. Kept when ≥ 80 % of answered rows resolve, or the name says district
    (qada) and ≥ 30 % do. Governorate candidates are left out unless their name says district."""
    gov_cols = [g["column"] for g in gov]
    gov_pcodes = {g["column"]: g["resolved"] for g in gov}
    out = []
    for col, distinct, counts in _text_columns(frame, 400):
        hint = bool(set(_words(col)) & {"district", "qada", "qadaa", "disctrict"}) or "قضاء" in col
        if col in gov_cols and not hint:
            continue
        total = sum(counts.values())
        ctx = _context_column(col, [c for c in gov_cols if c != col])
        tried = []
        for context in ([ctx, None] if ctx else [None]):
            if context is not None:
                pairs = frame.select(pl.col(col).str.strip_chars(), pl.col(context).str.strip_chars()).drop_nulls(col)
                pair_counts = Counter(pairs.iter_rows())
            else:
                pair_counts = Counter({(v, None): n for v, n in counts.items()})
            resolved, unresolved, mismatch = {}, {}, 0
            rows_ok = 0
            for (v, g), n in pair_counts.items():
                if not v:
                    continue
                g_code = gov_pcodes.get(context, {}).get(g) if context else None
                code, problem, is_mismatch = cache.district(v, g_code) if _resolvable(v) else (None, "not a name", False)
                if code:
                    resolved[v] = code
                    rows_ok += n
                else:
                    unresolved.setdefault(v, problem)
                    mismatch += is_mismatch
            tried.append({"context": context, "resolved": resolved,
                          "unresolved": {v: p for v, p in unresolved.items() if v not in resolved},
                          "share": rows_ok / total if total else 0, "mismatch": mismatch})
        best = tried[0]
        if len(tried) > 1 and tried[1]["share"] > tried[0]["share"] + 0.2:
            best = tried[1]
        if best["resolved"] and (best["share"] >= 0.8 or (hint and best["share"] >= 0.3)):
            out.append({"column": col, "governorate_context": best["context"],
                        "share_rows_resolved": round(best["share"], 4), "resolved": best["resolved"],
                        "unresolved": best["unresolved"], "name_says_district": hint,
                        "distinct_values": len(distinct)})
    out.sort(key=lambda c: (not c["name_says_district"], -c["share_rows_resolved"]))
    return out


def _numeric(vals: pl.Series) -> pl.Series | None:
    """The values as numbers when every one parses (Arabic digits normalised), else None."""
    from data_contracts.parsing import normalize_digits

    texts = [normalize_digits(v).strip() for v in vals.to_list()]
    # the ingestion's own strict pattern (thousands groups of three): "1,5" is not 15, it is not a number
    if not texts or not all(re.match(NUMBER_PATTERN, t) for t in texts):
        return None
    return pl.Series([float(t.replace(",", "")) for t in texts])


def _design(frame: pl.DataFrame, form: XLSForm | None, fmt: str, gov: list[dict], repeats: dict) -> dict:
    """Candidate design columns: id, weight, stratum, PSU, interview date, consent/eligibility, review status,
    enumerator, repeat groups (rules in each block)."""
    cols = _form_of(frame)
    n = frame.height
    qtype = {c: form.questions[c].type for c in cols if form and c in form.questions}
    out: dict = {}

    # id: unique and never blank; Kobo/ODK submission ids first, then names with id/uuid/key/code
    ids, id_notes = [], []
    for c in cols:
        words = set(_words(c))
        named = c in ID_PREFERENCE or bool(words & {"id", "uuid", "key", "code", "serial", "no", "number"})
        if not named:
            continue
        vals = frame[c].drop_nulls()
        blanks = n - vals.len()
        dupes = vals.len() - vals.n_unique()
        if blanks == 0 and dupes == 0 and n > 0:
            ids.append(c)
        elif c in ID_PREFERENCE[:5] and blanks == 0 and n > 0:
            # a submission id that repeats: exact duplicates or edits, which ingestion resolves per wave
            ids.append(c)
            id_notes.append(f"{c}: {dupes} repeated value(s): exact duplicates, edits or conflicting copies; "
                            "ingestion loads an exact duplicate once and quarantines conflicting copies")
        elif c in ID_PREFERENCE[:5]:
            id_notes.append(f"{c}: {blanks} blank, {dupes} repeated values (exact duplicates or edits: ingestion "
                            "resolves them per wave)")
    ids.sort(key=lambda c: (ID_PREFERENCE.index(c) if c in ID_PREFERENCE else len(ID_PREFERENCE), cols.index(c)))
    out["id"] = {"candidates": ids, "notes": id_notes}

    # weight: numeric, positive, name like weight / wt / pond
    weights = []
    for c in cols:
        words = set(_words(c))
        if not (words & {"weight", "weights", "wt", "wgt", "wght", "pond", "ponderation", "poids", "weighting"}
                or "weight" in c.lower()):
            continue
        vals = _values(frame, c)
        nums = _numeric(vals)
        if nums is None:
            continue
        weights.append({"column": c, "blank": n - vals.len(), "min": float(nums.min()), "max": float(nums.max()),
                        "sum": round(float(nums.sum()), 4), "non_positive": int((nums <= 0).sum()),
                        "usable": n == vals.len() and int((nums <= 0).sum()) == 0})
    weights.sort(key=lambda w: not w["usable"])
    out["weight"] = weights

    # stratum and PSU by name; PSUs nested in strata
    strata = [c for c in cols if set(_words(c)) & {"strata", "stratum", "strat", "stratification", "stratum_id"}]
    psu_words = {"cluster", "clusters", "psu", "ea", "camp", "village", "enumeration", "segment", "block", "clust",
                 "psu_id", "neighbourhood", "neighborhood", "mahalla"}
    psus: list[dict] = []
    strata_ctx = strata + [g["column"] for g in gov]
    for c in cols:
        if not set(_words(c)) & psu_words or c in META:
            continue
        vals = _values(frame, c)
        k = vals.n_unique()
        if k < 2 or set(vals.str.to_lowercase().unique().to_list()) <= {"yes", "no", "0", "1", "true", "false"}:
            continue
        nested = []
        for st in strata_ctx:
            if st == c:
                continue
            pairs = frame.select(c, st).drop_nulls().unique()
            if pairs.height and pairs[c].n_unique() == pairs.height:
                nested.append(st)
        psus.append({"column": c, "distinct": k, "blank": n - vals.len(), "nested_in": nested})
    psus.sort(key=lambda x: (not x["nested_in"], -x["distinct"]))
    out["stratum"] = [{"column": c, "distinct": _values(frame, c).n_unique(), "blank": n - _values(frame, c).len()}
                      for c in strata]
    out["psu"] = psus

    # interview date: form start/today/date fields, else ISO-valued columns named like dates
    dates = []
    for c in cols:
        t = qtype.get(c)
        words = set(_words(c))
        if not (t in ("start", "today", "date", "datetime") or words & {"start", "today", "date", "interview", "dateof"}):
            continue
        if c in ("_submission_time", "SubmissionDate", "end") or t == "end":
            continue
        vals = _values(frame, c)
        if vals.len() == 0:
            continue
        iso = vals.str.contains(_ISO_DATE.pattern).mean()
        if iso < 0.9:
            continue
        rank = {"start": 0, "today": 1}.get(t or c, 2 if "interview" in c.lower() or words & {"dateof"} else 3)
        dates.append({"column": c, "form_type": t, "iso_share": round(float(iso), 4), "first": vals.min(),
                      "last": vals.max(), "rank": rank})
    dates.sort(key=lambda d: (d["rank"], cols.index(d["column"])))
    for d in dates:
        d.pop("rank")
    warn = [c for c in ("_submission_time", "SubmissionDate") if c in cols]
    out["interview_date"] = {"candidates": dates, "warning": (
        f"{', '.join(warn)} is when the server received the submission, in UTC (often days later): not an interview "
        "date") if warn else None}

    # consent and eligibility (call outcome)
    consent, eligibility = [], []
    for c in cols:
        lc = c.lower()
        if "consent" in lc:
            counts = _counts(frame, c)
            yes = [v for v in counts if v.lower() in YES_VALUES]
            consent.append({"column": c, "values": counts, "include": yes})
        elif re.search(r"call_?status|status_?call|call_?result|interview_?(status|result)|eligib|outcome_?call", lc):
            counts = _counts(frame, c)
            done = [v for v in counts if v.lower() in DONE_VALUES]
            eligibility.append({"column": c, "values": counts, "include": done})
    out["consent"], out["eligibility"] = consent, eligibility

    # review status
    status = None
    for c in ("_validation_status", "ReviewState"):
        if c in cols:
            counts = _counts(frame, c)
            folded = Counter()
            for v, k in counts.items():
                folded[VALIDATION_STATUS_CODES.get(v.lower(), "received" if v == "(blank)" else f"unknown:{v}")] += k
            status = {"column": c, "values": counts, "folded": dict(folded)}
            break
    out["review_status"] = status

    # enumerator
    enum = []
    for c in cols:
        words = set(_words(c))
        if words & {"enumerator", "enumerators", "enum", "interviewer", "surveyor", "enumerator_id"} \
                or c in ("_submitted_by", "username", "SubmitterName", "SubmitterID") or qtype.get(c) == "username":
            vals = _values(frame, c)
            if vals.n_unique() >= 1:
                enum.append({"column": c, "distinct": vals.n_unique(), "blank": n - vals.len()})
    enum.sort(key=lambda e: (e["column"].startswith("_") or e["column"].startswith("Submitter"), -e["distinct"]))
    out["enumerator"] = enum

    # repeat groups
    reps = []
    for name, rep in repeats.items():
        child = rep
        key_child = "_parent_index" if "_parent_index" in child.columns else ("PARENT_KEY" if "PARENT_KEY" in child.columns else None)
        key_parent = "_index" if key_child == "_parent_index" else "KEY"
        info = {"name": name, "rows": child.height, "columns": len(_form_of(child)), "link": key_child}
        if key_child and key_parent in frame.columns:
            try:
                link = link_repeat(frame, child, parent_key=key_parent, child_key=key_child,
                                   parent_name="main", child_name=name)
                info["orphans"] = len(link.orphans)
            except FileReadError as exc:
                info["link_problem"] = str(exc)
        reps.append(info)
    out["repeats"] = reps
    return out


def _personal(frame: pl.DataFrame, repeats: dict[str, pl.DataFrame], probe: SurveyMapping,
              form: XLSForm | None) -> dict:
    """What ingestion would drop (its own rule) plus value-based hints for columns that rule keeps: phone numbers
    (Iraqi mobiles), GPS coordinates (Kobo geopoint text or coordinates inside Iraq's box), long free text."""
    from pipelines.ingest.survey import CODED_TYPES

    from pipelines.ingest.survey import personal_by_content

    dropped = personal_columns(_form_of(frame), probe, form)
    dropped |= personal_by_content(frame, _form_of(frame), form, set(dropped) | set(probe.not_personal))
    for name, rep in repeats.items():
        found = personal_columns(_form_of(rep), probe, form)
        found |= personal_by_content(rep, _form_of(rep), form, set(found) | set(probe.not_personal))
        for c, r in found.items():
            dropped.setdefault(c, f"{r} (repeat group {name})")
    hints = []
    splits = form.split_columns() if form else {}
    for f in (frame, *repeats.values()):
        for c in _form_of(f):
            if c in dropped or c in META or c in splits:
                continue
            q = form.questions.get(c) if form else None
            if q is not None and q.type in CODED_TYPES:
                continue
            vals = _values(f, c).unique()
            if vals.len() < 3:
                continue
            sample = vals.head(500)
            phone = sample.str.replace_all(r"[\s\-()]", "").str.contains(_PHONE.pattern).mean()
            if phone >= 0.5:
                hints.append({"column": c, "hint": f"phone-number-like values ({phone:.0%} of distinct values)"})
                continue
            geo = sample.str.contains(_GEOPOINT.pattern).mean()
            if geo >= 0.5:
                hints.append({"column": c, "hint": f"GPS-like values (lat lon alt acc, {geo:.0%})"})
                continue
            nums = _numeric(sample)
            if nums is not None and sample.str.contains(r"\.\d{4,}$").mean() >= 0.9:
                if nums.is_between(29, 38).all() or nums.is_between(38, 49).all():
                    hints.append({"column": c, "hint": "coordinates-like values (4+ decimals inside Iraq's latitude or "
                                                       "longitude range)"})
                    continue
            lengths = sample.str.len_chars()
            if vals.len() < max(10, 0.2 * _values(f, c).len()):
                continue  # few distinct answers: categories, not free text
            if sample.str.contains(r"^[A-Za-z0-9_.\-]+( [A-Za-z0-9_.\-]+)*$").all() and sample.str.contains("_").any():
                continue  # space-separated codes (a select_multiple answer), not free text
            if nums is None and (float(lengths.median()) >= 25 or (q is not None and q.type == "text" and
                                                                 float(lengths.max()) >= 40)):
                hints.append({"column": c, "hint": f"free text (median {int(lengths.median())} characters): may hold "
                                                   "names; declare it personal if it does"})
    coded = {}
    for c in dropped:
        src = next((f for f in (frame, *repeats.values()) if c in f.columns), None)
        vals = set(_values(src, c).unique().to_list()) if src is not None else set()
        if vals and vals <= {"0", "1", "True", "False", "true", "false"}:
            coded[c] = "only 0/1 values: a choice column, probably not personal (not_personal)"
    return {"dropped_by_ingestion": dropped, "value_hints": hints, "coded_but_dropped": coded}


def _mapping_use(frame: pl.DataFrame, mapping_path: Path, dropped: dict[str, str]) -> dict:
    """Columns a mapping does not use yet, and the mapped columns the file lacks."""
    try:
        m = load_mapping(mapping_path)
    except MappingError as exc:
        return {"mapping": str(mapping_path), "error": str(exc)}
    if not isinstance(m, SurveyMapping):
        return {"mapping": str(mapping_path), "error": "not a survey mapping"}
    used = used_columns(m)
    mentioned = set(used) | {r.column for r in m.include_only} | set(m.form_fixes) | set(m.personal_columns) \
        | set(m.not_personal)
    mentioned |= {c for c in (m.validation_status.column, m.duplicates.enumerator, m.duplicates.root,
                              m.duplicates.deprecated, m.duplicates.instance_id) if c}
    cols = _form_of(frame)
    not_used = [c for c in cols if c not in mentioned and c not in META and c not in dropped]
    missing = sorted(c for c in used | {r.column for r in m.include_only} if c not in cols)
    return {"mapping": str(mapping_path), "columns_not_used": not_used, "mapped_columns_missing": missing,
            "questions_mapped": sorted(m.questions)}


def _question_suggestions(frame: pl.DataFrame, form: XLSForm | None, limit: int = 3) -> list[dict]:
    """Form questions (or, without a form, column names) whose English wording resembles a question-bank question:
    Jaccard overlap of content words of label + name against the bank question's label + id, among
    type-compatible questions (select ↔ select_one, numbers ↔ numbers). A suggestion, not a decision."""
    bank = load_question_bank()
    present = set(_form_of(frame))
    # split columns (``q/a``, ``q.a`` beside ``q``) are answers of their question, not questions
    cols = [c for c in _form_of(frame) if c not in META and "/" not in c
            and not any(sep in c and c.rsplit(sep, 1)[0] in present for sep in (".", ":"))]
    sources = []
    for c in cols:
        q = form.questions.get(c) if form else None
        if q is not None and q.type in ("note", "calculate", "start", "end", "today", "deviceid", "audit"):
            continue
        kind = None
        if q is not None:
            kind = "select" if q.type in ("select_one", "select_multiple") else (
                "number" if q.type in ("integer", "decimal") else "text")
        label = str(q.label_en) if q is not None and q.label_en else None
        sources.append((c, kind, label, _tokens(label) | _tokens(c)))
    out = []
    for qid, spec in bank.items():
        target = _tokens(spec.get("label_en")) | _tokens(qid)
        want = "select" if spec.get("answer_type") == "select_one" else "number"
        scored = []
        for c, kind, label, toks in sources:
            if kind is not None and kind != want and not (kind == "text" and want == "select" and form is None):
                continue
            if not toks or not target:
                continue
            inter = toks & target
            score = len(inter) / len(toks | target)
            if score >= 0.2 and len(inter) >= 2:
                scored.append((score, c, label, sorted(inter)))
        scored.sort(key=lambda s: -s[0])
        for score, c, label, inter in scored[:limit]:
            entry = {"question_id": qid, "column": c, "score": round(score, 3), "shared_words": inter,
                     "column_label": label, "question_label": spec.get("label_en"),
                     "canonical_codes": [*spec.get("choice_codes", []), *spec.get("nonresponse_codes", [])]}
            q = form.questions.get(c) if form else None
            if q is not None and q.list_name:
                entry["delivered_codes"] = list(form.choices.get(q.list_name, {}))
            else:
                vals = _distinct(frame, c, 16)
                if len(vals) <= 15:
                    entry["delivered_codes"] = vals
            out.append(entry)
    out.sort(key=lambda e: (e["question_id"], -e["score"]))
    return out


def _nonresponse_target(label: str | None, code: str) -> str | None:
    text = f"{label or ''} {code}".lower()
    if any(w in text for w in DK_WORDS):
        return "dont_know"
    if any(w in text for w in REFUSED_WORDS):
        return "prefer_not_answer"
    return None


def _missing_codes(missing: dict[str, list[str]], form: XLSForm | None) -> list[dict]:
    """Declared missing codes (SPSS/Stata user-missing, codebook ``missing``) with the nonresponse code their label
    suggests (``dont_know`` / ``prefer_not_answer``; None when the label does not say)."""
    out = []
    for var, codes in missing.items():
        q = form.questions.get(var) if form else None
        choices = form.choices.get(q.list_name or "", {}) if (form and q) else {}
        for code in codes:
            lab = choices.get(code, (None, None))
            label = lab[0] or lab[1]
            out.append({"column": var, "code": code, "label": label, "suggest": _nonresponse_target(label, code)})
    return out


# ------------------------------------------------------------------------------------------------------
# The profile
# ------------------------------------------------------------------------------------------------------


def check_source(folder: Path, *, encoding: str | None = None, source_id: str | None = None,
                 wave_id: str | None = None, mapping_path: Path | None = None) -> dict:
    """Profile the delivery in ``folder`` (read-only) and return the profile (JSON-serialisable dict).

    Raises:
        SourceCheckError: the folder has no data file, or a data file cannot be read (the message names it).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceCheckError(f"{folder}: not a folder")
    source_id = source_id or folder.resolve().name
    files = classify_files(folder)
    data_files = [f["file"] for f in files if f["role"] == "data"]
    if not data_files:
        raise SourceCheckError(f"{folder}: no data file found (csv, xlsx, zip, sav, dta); files: "
                               f"{[f['file'] for f in files]}")
    if mapping_path is None and (folder / "source.yaml").is_file():
        mapping_path = folder / "source.yaml"
    shipped = SOURCES_DIR / f"{source_id}.yaml"
    cache = _GovCache()
    profiles = []
    for name in data_files:
        read = read_data_file(folder / name, folder, files, encoding=encoding, source_id=source_id)
        frame, form, s = read["frame"], read["form"], read["settings"]
        p: dict = {"file": name, **{k: v for k, v in s.items() if k not in ("file",)},
                   "rows": frame.height, "columns": len(_form_of(frame)),
                   "repeat_rows": {k: v.height for k, v in read["repeats"].items()}}
        p["form_match"] = _form_match(frame, read["repeats"], form) if form is not None else None
        if form is not None:
            p["typed_by"] = "xlsform" if s.get("xlsform") else ("codebook" if s.get("codebook") else "file_labels")
        gov = _governorate_candidates(frame, form, cache)
        p["governorate"] = gov
        p["district"] = _district_candidates(frame, gov, cache)
        p["design"] = _design(frame, form, s["format"], gov, read["repeats"])
        p["personal"] = _personal(frame, read["repeats"], read["probe"], form)
        if mapping_path is not None:
            p["mapping_use"] = _mapping_use(frame, mapping_path, p["personal"]["dropped_by_ingestion"])
        else:
            p["question_suggestions"] = _question_suggestions(frame, form)
        p["missing_codes"] = _missing_codes(read["missing_codes"], form)
        profiles.append(p)
    return {
        "source_id": source_id,
        "folder": str(folder.resolve()),
        "checked_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "wave_id": wave_id,
        "files": files,
        "mapping": str(mapping_path) if mapping_path else None,
        "shipped_mapping": str(shipped) if shipped.is_file() else None,
        "data": profiles,
    }


# ------------------------------------------------------------------------------------------------------
# The report
# ------------------------------------------------------------------------------------------------------


def format_report(profile: dict) -> str:
    """The profile for a person: one block per data file, sections in the order a mapping is written."""
    L: list[str] = [f"mizan source check: {profile['folder']}  (source_id {profile['source_id']})", ""]
    L.append("files:")
    for f in profile["files"]:
        L.append(f"  {f['file']:<44} {f['role']:<13} {f['why']}")
    if profile.get("shipped_mapping") and not profile.get("mapping"):
        L.append(f"  (a shipped mapping exists for this source id: pass --mapping {profile['shipped_mapping']} to compare)")
    for p in profile["data"]:
        L += ["", f"== {p['file']}: {p['rows']} rows, {p['columns']} columns" +
              (f"; repeat groups {p['repeat_rows']}" if p.get("repeat_rows") else "")]
        L.append(f"format      {p['format']}  ({'; '.join(p.get('format_evidence', []))})")
        L.append(f"encoding    {p.get('encoding') or p.get('encoding_detected') or '-'}"
                 f"{' with BOM' if p.get('bom') else ''}  (tried: {'; '.join(p.get('encoding_tried', []))})")
        if p.get("delimiter"):
            L.append(f"delimiter   {p['delimiter']!r}  (in the header line: {p.get('delimiter_counts')})")
        if p.get("header_style"):
            hd = p.get("header_detection") or {}
            ev = hd.get("evidence", {})
            extra = f"; R make.names mangling seen: {ev['r_make_names']}" if ev.get("r_make_names") else ""
            L.append(f"headers     header_style {p['header_style']}, headers {p.get('headers')}"
                     f"{' (' + p['label_language'] + ')' if p.get('headers') == 'labels' else ''}, values "
                     f"{p.get('values', 'codes')}{extra}")
            L.append(f"separators  choice {p.get('choice_separator')!r} (e.g. {ev.get('choice_split_examples', [])[:2]}), "
                     f"group {p.get('group_separator')!r}")
        typed = {"xlsform": f"XLSForm {p.get('xlsform')}", "codebook": f"codebook {p.get('codebook')}",
                 "file_labels": "the file's own variable and value labels"}.get(p.get("typed_by"), "nothing (all text)")
        L.append(f"typed by    {typed}")
        for note in p.get("notes", []):
            L.append(f"note        {note}")
        fm = p.get("form_match")
        if fm:
            what = {"xlsform": "XLSForm", "codebook": "codebook"}.get(p.get("typed_by"), "variable labels")
            L += ["", f"{what} match: {fm['in_form']} of {fm['columns']} columns ({fm['share_in_form']:.0%}) are typed "
                      "fields or split columns (after header translation)"]
            if fm["not_in_form"]:
                L.append(f"  not in the form ({len(fm['not_in_form'])}; loaded as text): {_short(fm['not_in_form'], 12)}")
            if fm["form_questions_absent"]:
                L.append(f"  form questions absent from the file ({len(fm['form_questions_absent'])}): "
                         f"{_short(fm['form_questions_absent'], 10)}")
            for col, v in fm["value_problems"].items():
                seen = (f"{v['rows']} row(s), {v['distinct']} value(s) not on the list, e.g. {v['examples'][:4]}"
                        if v["rows"] else f"split column(s) {v.get('split_columns_not_in_form', [])[:4]}")
                L.append(f"  {col} ({v['type']}): {seen} -> form_fixes {_flow(v['fix'])} ({v['why']})")
        L += ["", "governorate:"]
        if not p["governorate"]:
            L.append("  no column resolves through the governorate resolver (give governorate: {constant: NAME})")
        for g in p["governorate"]:
            res = ", ".join(f"{k}->{v}" for k, v in list(g["resolved"].items())[:8])
            L.append(f"  {g['column']} (via {g['via']}): {g['share_rows_resolved']:.0%} of answered rows resolve: {res}")
            for v, sugg in list(g["unresolved"].items())[:6]:
                L.append(f"    unresolved {v!r}; closest: {', '.join(sugg) or 'none'}")
        if p["district"]:
            L.append("district:")
            for d in p["district"]:
                res = ", ".join(f"{k}->{v}" for k, v in list(d["resolved"].items())[:6])
                L.append(f"  {d['column']} (governorate context: {d['governorate_context'] or 'none'}): "
                         f"{d['share_rows_resolved']:.0%} resolve: {res}")
                for v, why in list(d["unresolved"].items())[:4]:
                    L.append(f"    unresolved {v!r}: {why}")
        ds = p["design"]
        L += ["", "design columns (candidates, best first):"]
        L.append(f"  id              {ds['id']['candidates'] or 'none unique and never blank'}")
        for note in ds["id"]["notes"]:
            L.append(f"                  {note}")
        L.append("  weight          " + ("; ".join(
            f"{w['column']} (min {w['min']:g}, max {w['max']:g}, blank {w['blank']}, <=0 {w['non_positive']})"
            for w in ds["weight"]) or "none (no positive numeric column named like weight/wt/pond)"))
        L.append("  stratum         " + (", ".join(f"{s['column']} ({s['distinct']} values)" for s in ds["stratum"])
                                        or "none by name (strata/stratum)"))
        L.append("  psu / cluster   " + ("; ".join(
            f"{s['column']} ({s['distinct']} values, nested in {s['nested_in'] or 'nothing'})" for s in ds["psu"])
            or "none by name (cluster/psu/ea/camp/village)"))
        L.append("  interview date  " + (", ".join(
            f"{d['column']} ({d['form_type'] or 'by name'}, {d['first']} .. {d['last']})"
            for d in ds["interview_date"]["candidates"][:3]) or "none"))
        if ds["interview_date"]["warning"]:
            L.append(f"                  warning: {ds['interview_date']['warning']}")
        for c in ds["consent"]:
            L.append(f"  consent         {c['column']}: {c['values']} -> include {c['include']}")
        for c in ds["eligibility"]:
            L.append(f"  eligibility     {c['column']}: {c['values']} -> include_only {c['include']}")
        if ds["review_status"]:
            r = ds["review_status"]
            L.append(f"  review status   {r['column']}: {r['values']} (folded: {r['folded']})")
        L.append("  enumerator      " + (", ".join(f"{e['column']} ({e['distinct']} values)" for e in ds["enumerator"])
                                        or "none"))
        for r in ds["repeats"]:
            L.append(f"  repeat group    {r['name']}: {r['rows']} rows, linked by {r['link']}"
                     f"{', ' + str(r['orphans']) + ' orphan row(s)' if 'orphans' in r else ''}")
        pe = p["personal"]
        L += ["", "personal data:"]
        L.append("  ingestion drops: " + (", ".join(f"{c} ({r})" for c, r in pe["dropped_by_ingestion"].items())
                                        or "nothing"))
        for c, why in pe.get("coded_but_dropped", {}).items():
            L.append(f"  {c}: {why}")
        for h in pe["value_hints"]:
            L.append(f"  check {h['column']}: {h['hint']}")
        if p.get("mapping_use"):
            mu = p["mapping_use"]
            L += ["", f"mapping {mu['mapping']}:"]
            if mu.get("error"):
                L.append(f"  does not load: {mu['error']}")
            else:
                L.append(f"  columns it does not use ({len(mu['columns_not_used'])}): {_short(mu['columns_not_used'], 15)}")
                L.append(f"  mapped columns missing from the file: {mu['mapped_columns_missing'] or 'none'}")
        elif p.get("question_suggestions") is not None:
            L += ["", "suggested canonical questions (token overlap of English wording; a suggestion, check each):"]
            if not p["question_suggestions"]:
                L.append("  none")
            for q in p["question_suggestions"]:
                L.append(f"  {q['question_id']:<40} <- {q['column']} (score {q['score']:.2f}; {', '.join(q['shared_words'][:6])})")
        if p["missing_codes"]:
            L += ["", "declared missing codes:"]
            for m in p["missing_codes"]:
                L.append(f"  {m['column']} = {m['code']} ({m['label'] or 'no label'}) -> recode onto "
                         f"{m['suggest'] or 'dont_know or prefer_not_answer (label does not say)'}")
    return "\n".join(L)


# ------------------------------------------------------------------------------------------------------
# The draft mapping
# ------------------------------------------------------------------------------------------------------


def _todo(text: str) -> str:
    """A TODO value: a double-quoted YAML string starting with ``TODO`` (the engineer replaces it)."""
    return json.dumps(f"TODO: {text}", ensure_ascii=False)


def _choose(p: dict) -> dict:
    """The design choices the draft makes from a file's profile (first candidate of each kind)."""
    ds = p["design"]
    gov = p["governorate"][0] if p["governorate"] else None
    strat = ds["stratum"][0]["column"] if ds["stratum"] else (gov["column"] if gov and gov["via"] == "value" else None)
    psu = next((c["column"] for c in ds["psu"] if strat in c["nested_in"]), None) if strat else None
    psu = psu or (ds["psu"][0]["column"] if ds["psu"] and not strat else None)
    weight = next((w["column"] for w in ds["weight"] if w["usable"]), None)
    date = ds["interview_date"]["candidates"][0]["column"] if ds["interview_date"]["candidates"] else None
    return {"id": ds["id"]["candidates"][0] if ds["id"]["candidates"] else None, "gov": gov, "stratum": strat,
            "psu": psu, "weight": weight, "date": date,
            "consent": next((c for c in ds["consent"] if c["include"]), ds["consent"][0] if ds["consent"] else None),
            "eligibility": [c for c in ds["eligibility"] if c["include"]],
            "enumerator": ds["enumerator"][0]["column"] if ds["enumerator"] else None}


def draft_mapping(profile: dict) -> str:
    """The draft ``source.yaml``: every field the profile could fill, with comments on each choice and the
    alternatives seen, and ``"TODO: ..."`` strings where the engineer decides (title, wave, notes, questions)."""
    p = profile["data"][0]
    fmt = p["format"]
    ch = _choose(p)
    ds = p["design"]
    L: list[str] = []
    add = L.append
    add(f"# Draft mapping written by `mizan source check` from {profile['folder']} ({profile['checked_at']}).")
    add("# Review every line; replace each \"TODO: ...\" value (docs/mapping-files.md has every field). Comments say")
    add("# what was detected and the alternatives seen.")
    add(f"source_id: {_yaml_scalar(profile['source_id'])}")
    add("domain: survey")
    add(f"title: {_todo('the title shown on the dashboard (firm, survey, round, year)')}")
    add(f"# citation: {_todo('who published the data, year')}")
    add("is_synthetic: false")
    add(f"format: {fmt}   # {'; '.join(p.get('format_evidence', []))}")
    if fmt in ("spss", "stata"):
        if p.get("encoding"):
            add(f"encoding: {_yaml_scalar(p['encoding'])}   # as given with --encoding")
        else:
            add(f"# encoding: not needed: the file declares {p.get('encoding_detected')}")
    elif p.get("encoding"):
        add(f"encoding: {_yaml_scalar(p['encoding'])}   # tried: {'; '.join(p.get('encoding_tried', []))}"
            f"{' (a byte-order mark is skipped)' if p.get('bom') else ''}")
    if p.get("delimiter"):
        add(f"delimiter: {json.dumps(p['delimiter'])}   # counts in the header line: "
            f"{', '.join(f'{k!r}: {v}' for k, v in (p.get('delimiter_counts') or {}).items())}")
    if fmt not in ("spss", "stata"):
        hd = p.get("header_detection") or {}
        ev = hd.get("evidence", {})
        why = f"R make.names headers seen: {', '.join(ev['r_make_names'])}" if p["header_style"] == "r_make_names" else (
            "plain file" if p["header_style"] == "plain" else "Kobo XML names")
        if hd.get("share_in_form") is not None:
            why += f"; {hd['share_in_form']:.0%} of columns are form fields under these settings"
        add(f"header_style: {p['header_style']}   # {why}")
        if p.get("headers") == "labels":
            add("headers: labels   # the headers are the form's question labels (Kobo labels export)")
            add(f"label_language: {p['label_language']}")
        if p.get("values") == "labels":
            add("values: labels   # select answers are choice labels: decoded back to codes through the form")
        if p.get("choice_separator") and p["choice_separator"] != "/":
            add(f"choice_separator: {json.dumps(p['choice_separator'])}   # split columns look like "
                f"{', '.join(ev.get('choice_split_examples', [])[:2])}")
        default_group = "-" if fmt == "odk_central_csv" else "/"
        if p.get("group_separator") and p["group_separator"] != default_group:
            add(f"group_separator: {json.dumps(p['group_separator'])}")
    if p.get("xlsform"):
        others = [f["file"] for f in profile["files"] if f["role"] == "xlsform" and f["file"] != p["xlsform"]]
        add(f"xlsform: {_yaml_scalar(p['xlsform'])}" + (f"   # other forms beside it: {others}" if others else ""))
    if p.get("codebook"):
        add(f"codebook: {_yaml_scalar(p['codebook'])}")
    if fmt in ("kobo_xlsx", "xlsx") and p.get("main_sheet"):
        add(f"sheet: {_yaml_scalar(p['main_sheet'])}   # other sheets: {p.get('other_sheets')}")
    if p.get("repeats") and fmt in ("kobo_xlsx", "odk_central_csv"):
        add("repeats:   # repeat groups, linked to their parent by _parent_index/_index (Kobo) or PARENT_KEY/KEY (ODK)")
        for name, rep in p["repeats"].items():
            add(f"  {_yaml_scalar(name)}: {_flow({k: v for k, v in rep.items() if v is not None and not (k == 'parent' and v == 'main')})}")
    add("unit_of_analysis: household   # or e.g. location for key-informant surveys")
    data_files = [d["file"] for d in profile["data"] if d["format"] == fmt]
    for d in profile["data"]:
        if d["format"] != fmt:
            add(f"# {d['file']} is {d['format']}, not {fmt}: a source reads one format; give it its own mapping")
    wave = profile.get("wave_id")
    add("files:   # a glob such as export*.csv lets a corrected export supersede the first")
    for name in data_files:
        add(f"  - path: {_yaml_scalar(name)}")
        add(f"    wave_id: {_yaml_scalar(wave) if wave else _todo('wave id, e.g. 2026-R1')}")
        if len(data_files) > 1:
            add(f"    part: {_yaml_scalar(re.sub(r'[^A-Za-z0-9_.-]', '_', Path(name).stem))}")

    # design
    ids = ds["id"]["candidates"]
    if ch["id"]:
        add(f"respondent_id: {_yaml_scalar(ch['id'])}   # unique, never blank" +
            (f"; also: {', '.join(ids[1:4])}" if len(ids) > 1 else "") +
            ("; _uuid changes when a submission is edited" if ch["id"] == "_uuid" else ""))
    else:
        add(f"respondent_id: {_todo('a column unique within the wave (none found unique and never blank)')}")
    for note in ds["id"]["notes"]:
        add(f"# {note}")
    gov = ch["gov"]
    if gov:
        via = f", via: {gov['via']}" if gov["via"] != "value" else ""
        res = ", ".join(f"{k} -> {v}" for k, v in list(gov["resolved"].items())[:8])
        add(f"governorate: {{column: {_yaml_scalar(gov['column'])}{via}}}   # resolves {gov['share_rows_resolved']:.0%} of "
            f"answered rows: {res}")
        for v, sugg in list(gov["unresolved"].items())[:8]:
            add(f"#   unresolved {v!r} (quarantined as it is); closest known: {', '.join(sugg) or 'none'}")
        others = [g["column"] for g in p["governorate"][1:]]
        if others:
            add(f"#   other columns that resolve: {', '.join(others)}")
    else:
        add(f"governorate: {{constant: {_todo('governorate name (no column resolves)')}}}")
    if p["district"]:
        d = p["district"][0]
        add(f"# district: {{column: {d['column']}}}   # {d['share_rows_resolved']:.0%} resolve to COD-AB districts "
            f"(context {d['governorate_context'] or 'none'}); uncomment if it is where the interview took place")
    strat = ch["stratum"]
    if strat:
        src = "a stratum column" if ds["stratum"] else "no stratum column found by name: the governorate column"
        add(f"stratum: {{column: {_yaml_scalar(strat)}}}   # {src}; alternative: {{constant: all}}")
    else:
        add("stratum: {constant: all}   # no stratum column found (strata/stratum) and no governorate column")
    if ch["psu"]:
        info = next(c for c in ds["psu"] if c["column"] == ch["psu"])
        add(f"psu: {{column: {_yaml_scalar(ch['psu'])}}}   # {info['distinct']} values, nested in {info['nested_in']}"
            + (f"; other candidates: {[c['column'] for c in ds['psu'] if c['column'] != ch['psu']]}"
               if len(ds["psu"]) > 1 else ""))
    else:
        add("psu: {per_respondent: true}   # no cluster column found (cluster/psu/ea/camp/village): each respondent is "
            "its own PSU")
    if ch["weight"]:
        w = next(x for x in ds["weight"] if x["column"] == ch["weight"])
        add(f"weight: {{column: {_yaml_scalar(ch['weight'])}}}   # min {w['min']:g}, max {w['max']:g}, sum {w['sum']:g}")
    else:
        bad = [w["column"] for w in ds["weight"]]
        add("weight: {constant: 1.0}   # no usable weight column (positive numbers, named like weight/wt/pond)" +
            (f"; columns with blanks or values <= 0: {bad}" if bad else "") + ": equal weights")
    if ch["date"]:
        alts = [d["column"] for d in ds["interview_date"]["candidates"][1:3]]
        add(f"interview_date: {{column: {_yaml_scalar(ch['date'])}}}   # device-local date"
            + (f"; also: {', '.join(alts)}" if alts else ""))
    if ds["interview_date"]["warning"]:
        add(f"#   {ds['interview_date']['warning']}")
    if ch["eligibility"]:
        add("include_only:")
        for e in ch["eligibility"]:
            add(f"  - column: {_yaml_scalar(e['column'])}   # values seen: {_flow(e['values'])}")
            add(f"    values: {_flow(e['include'])}")
            add(f"    reason: {_yaml_scalar(e['column'] + ' is not ' + ' or '.join(e['include']))}")
    c = ch["consent"]
    if c:
        add(f"consent:   # values seen: {_flow(c['values'])}")
        add(f"  column: {_yaml_scalar(c['column'])}")
        add(f"  include: {_flow(c['include']) if c['include'] else '[' + _todo('the value meaning consent given') + ']'}")
    if ds["review_status"]:
        r = ds["review_status"]
        add(f"validation_status: {{exclude: [not_approved]}}   # {r['column']}: {_flow(r['folded'])}; "
            "include: [approved] loads approved submissions only")
    if ch["enumerator"]:
        add(f"duplicates: {{enumerator: {_yaml_scalar(ch['enumerator'])}}}   # near-identical interviews of one "
            "enumerator are flagged for review")

    # personal data
    pe = p["personal"]
    design_cols = {x for x in (ch["id"], gov["column"] if gov else None, strat, ch["psu"], ch["weight"], ch["date"],
                               c["column"] if c else None, ch["enumerator"], *[e["column"] for e in ch["eligibility"]])
                   if x}
    dropped = pe["dropped_by_ingestion"]
    keep = sorted(col for col in design_cols if col in dropped and "name/phone" in dropped[col])
    declared = [col for col in dropped if col not in keep and col not in pe.get("coded_but_dropped", {})]
    declared += [h["column"] for h in pe["value_hints"] if not h["hint"].startswith("free text")
                 and h["column"] not in design_cols]
    add("# personal data: ingestion drops these anyway (its rules), listed so the mapping says it; value-based hints")
    add("# (phone-like, GPS-like values) are added too: remove a column only if you are sure it is not personal")
    add(f"personal_columns: {_flow(list(dict.fromkeys(declared)))}")
    for h in pe["value_hints"]:
        if h["hint"].startswith("free text"):
            add(f"#   check {h['column']}: {h['hint']}")
    for col, why in pe.get("coded_but_dropped", {}).items():
        add(f"#   {col} would be dropped by its name but has {why}")
    if keep:
        add(f"not_personal: {_flow(keep)}   # design columns whose name looks personal (the name rule would drop them)")

    # form fixes
    fm = p.get("form_match")
    if fm and fm["value_problems"]:
        add(f"form_fixes:   # where the delivered values depart from the {p.get('typed_by')}")
        for col, v in fm["value_problems"].items():
            add(f"  {_yaml_scalar(col)}:   # {v['rows']} row(s), e.g. {_flow(v['examples'][:4])}: {v['why']}")
            for k, val in v["fix"].items():
                add(f"    {k}: {_flow(val)}")
            add(f"    note: {_todo('why the delivered codes differ from the form')}")
    if fm and fm["not_in_form"]:
        add(f"# {len(fm['not_in_form'])} columns are not in the {p.get('typed_by')} (loaded as text): {_short(fm['not_in_form'], 10)}")

    add(f"weight_note: {_todo('how weights were made (or why every respondent weighs 1)')}")
    add(f"design_note: {_todo('what the strata and PSUs are, in plain language')}")
    # questions
    add(f"questions: {{}}   # {_todo('map columns onto data_contracts/question_bank.yaml').strip(chr(34))}")
    sugg = p.get("question_suggestions") or []
    best: dict[str, dict] = {}
    for q in sugg:
        best.setdefault(q["question_id"], q)
    if best:
        add("# suggestions (token overlap of English wording; check each, then move under questions:):")
        for qid, q in best.items():
            add(f"#   {qid}:   # score {q['score']:.2f}: {q.get('column_label') or q['column']}")
            add(f"#     column: {q['column']}")
            if q.get("delivered_codes"):
                add(f"#     recode: {_flow({code: 'TODO' for code in q['delivered_codes'][:15]})}")
                add(f"#     # canonical codes: {', '.join(q['canonical_codes'])}")
    if p.get("mapping_use") and not p["mapping_use"].get("error"):
        mu = p["mapping_use"]
        add(f"# the mapping {mu['mapping']} does not use {len(mu['columns_not_used'])} columns: "
            f"{_short(mu['columns_not_used'], 10)}")
    if p["missing_codes"]:
        add("# declared missing codes: in each question's recode map them onto a nonresponse code:")
        for m in p["missing_codes"]:
            add(f"#   {m['column']}: {_flow({m['code']: m['suggest'] or 'TODO'})}   # {m['label'] or 'no label'}")
    return "\n".join(L) + "\n"
