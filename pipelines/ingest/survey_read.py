"""Read one delivered survey file, whatever its format, into one shape: Kobo names, all text, typed by a form.

Formats (the mapping's ``format``; reference in docs/mapping-files.md):

========================  ===============================================================================
format                    read with / typed by
========================  ===============================================================================
``kobo_csv``              :func:`~pipelines.readers.delimited.read_delimited` (``;`` or ``,``, BOM or not);
                          the XLSForm
``kobo_xlsx``             :func:`~pipelines.readers.workbook.read_workbook`: the main sheet, and one sheet per
                          repeat group named in ``repeats``; the XLSForm
``odk_central_csv``       the root CSV (or a Central ``.zip`` export holding it) and one CSV per repeat group
                          (``PARENT_KEY`` = parent ``KEY``); the XLSForm
``csv`` / ``xlsx``        plain files; typed by a ``codebook`` (or an XLSForm) when given, else text
``spss`` / ``stata``      :func:`~pipelines.readers.statfile.read_statfile`: typed by the file's own variable
                          and value labels (a codebook built from them)
========================  ===============================================================================

After reading, headers are translated to the names mappings use, which are Kobo's XML names:

1. ``header_style: r_make_names``: a file re-saved by R (``X.U.FEFF.start``, ``X_uuid``, ``q.choice``);
2. ``headers: labels``: a Kobo "labels" export, whose headers are question labels (``Qlabel`` and
   ``Qlabel/Choice label`` for select_multiple split columns) in ``label_language``;
3. group paths: ``grp/sub/q`` (Kobo, with groups in headers) or ``grp-q`` (ODK Central) become ``q`` when
   ``q`` is a form field; ODK Central's ``q-Latitude`` ... become Kobo's ``_q_latitude`` ...;
4. split columns ``q<choice_separator>code`` become ``q/code`` when ``q`` is a select_multiple field.

and with ``values: labels`` the select answers (and split-column headers) are decoded from their labels back
to choice codes. A label the form does not know is left as delivered, so the typed checks quarantine it
with its value: nothing is guessed, nothing becomes NULL.

Every frame carries ``__row`` (UInt32, 1-based data row of its file or sheet).
"""

from __future__ import annotations

import fnmatch
import io
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from data_contracts.mapping import FileSpec, MappingError, SurveyMapping
from pipelines.ingest.common import FatalSourceError
from pipelines.readers.codebook import read_codebook
from pipelines.readers.delimited import FileReadError, read_delimited, sha256_of
from pipelines.readers.statfile import read_statfile
from pipelines.readers.text import check_not_mojibake
from pipelines.readers.workbook import read_workbook
from pipelines.readers.xlsform import Question, XLSForm, kobo_header_names, read_xlsform

#: ODK Central's geopoint parts → Kobo's names for them (``q-Latitude`` → ``_q_latitude``).
ODK_GEO_PARTS = {"Latitude": "latitude", "Longitude": "longitude", "Altitude": "altitude", "Accuracy": "precision"}


@dataclass
class SurveyFile:
    """One delivered survey file, read.

    ``frame``: the main table, one ``pl.String`` column per delivered field under its Kobo name, plus
    ``__row``. ``repeats``: repeat group name → its rows (same conventions, ``__row`` = row of its sheet or
    file), in the mapping's order, each with the file name it came from in ``repeat_files``. ``form``: what
    types the file (its XLSForm, codebook or own labels), None for an untyped plain file. ``notes``: what a
    reader of the run should know about how it was read (empty rows skipped, Excel error cells).
    """

    path: Path
    sha256: str
    size_bytes: int
    frame: pl.DataFrame
    form: XLSForm | None
    repeats: dict[str, pl.DataFrame] = field(default_factory=dict)
    repeat_files: dict[str, str] = field(default_factory=dict)
    missing_codes: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def source_folder(src_path: Path) -> Path:
    return src_path if src_path.is_dir() else src_path.parent


def form_for(mapping: SurveyMapping, spec: FileSpec, folder: Path, cache: dict[str, XLSForm]) -> XLSForm | None:
    """The XLSForm typing the files of ``spec`` (its own ``xlsform``, else the source's), read once.

    Raises:
        FatalSourceError: the form file is missing or unreadable.
    """
    name = spec.xlsform or mapping.xlsform
    if not name:
        return None
    if name not in cache:
        path = folder / name
        if not path.is_file():
            raise FatalSourceError(f"{mapping.source_id}: XLSForm {name} not found next to the export")
        cache[name] = read_xlsform(path)
    return cache[name]


def apply_form_fixes(form: XLSForm | None, mapping: SurveyMapping) -> XLSForm | None:
    """A copy of the form with the mapping's ``form_fixes`` applied: re-typed fields and added choices.

    Raises:
        MappingError: a fix names a field the form does not have (for ``add_choices``) or adds choices
            to a field that is not a select question.
    """
    if form is None or not mapping.form_fixes:
        return form
    questions = dict(form.questions)
    choices = {k: dict(v) for k, v in form.choices.items()}
    for col, fix in mapping.form_fixes.items():
        q = questions.get(col)
        if fix.type is not None and q is not None:
            questions[col] = replace(q, type=fix.type)
        if fix.add_choices:
            if q is None or q.list_name is None:
                raise MappingError(f"{mapping.source_id}: form_fixes.{col}.add_choices: {col} is not a select "
                                   "question of the form")
            lst = choices.setdefault(q.list_name, {})
            for code in fix.add_choices:
                lst.setdefault(code, (None, None))
    out = XLSForm(path=form.path, questions=questions, choices=choices)
    return out


def _with_row(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_row_index("__row", offset=1)


def _drop_empty_rows(frame: pl.DataFrame, empty: tuple[int, ...], where: str, notes: list[str]) -> pl.DataFrame:
    if not empty:
        return frame
    notes.append(f"{where}: {len(empty)} empty row(s) between data rows skipped (rows {', '.join(map(str, empty[:10]))}"
                 f"{', …' if len(empty) > 10 else ''})")
    return frame.filter(~pl.col("__row").is_in(list(empty)))


def read_survey_file(
    path: Path, mapping: SurveyMapping, spec: FileSpec, folder: Path, forms: dict[str, XLSForm]
) -> SurveyFile:
    """Read ``path`` (one file of ``spec``) as the mapping declares and translate its headers (module doc).

    ``folder`` is the source's landing folder, where the XLSForm, codebook and ODK Central repeat CSVs are.

    Raises:
        FatalSourceError: the form, codebook, a sheet or a repeat file is missing.
        FileReadError: the file cannot be read as declared (encoding with byte offset, delimiter, header).
        MappingError: a form fix does not fit the form.
    """
    fmt = mapping.format
    form = form_for(mapping, spec, folder, forms)
    notes: list[str] = []
    repeats: dict[str, pl.DataFrame] = {}
    repeat_files: dict[str, str] = {}
    missing: dict[str, list[str]] = {}
    if fmt in ("spss", "stata"):
        stat = read_statfile(path, encoding=mapping.encoding, label_language=mapping.label_language)
        frame, form, sha, size = stat.frame, stat.codebook, stat.sha256, stat.size_bytes
        missing = {q.name: list(q.missing_codes) for q in form.questions.values() if q.missing_codes}
    elif fmt in ("kobo_xlsx", "xlsx"):
        book = read_workbook(path, main_sheet=mapping.sheet, other_sheets=bool(mapping.repeats))
        sha, size = book.sha256, book.size_bytes
        frame = _drop_empty_rows(_with_row(book.frame), book.empty_rows.get(book.main_sheet, ()),
                                 f"{path.name} [{book.main_sheet}]", notes)
        for name, rep in mapping.repeats.items():
            sheet = rep.sheet or name
            if sheet not in book.sheets:
                raise FatalSourceError(f"{path.name}: repeat group {name!r} expects sheet {sheet!r}; the workbook has "
                                       f"{[book.main_sheet, *book.sheets]}")
            repeats[name] = _drop_empty_rows(_with_row(book.sheets[sheet]), book.empty_rows.get(sheet, ()),
                                             f"{path.name} [{sheet}]", notes)
            repeat_files[name] = f"{path.name} [{sheet}]"
        if book.error_cells:
            shown = ", ".join(f"{e.cell} {e.value}" for e in book.error_cells[:5])
            notes.append(f"{path.name}: {len(book.error_cells)} Excel error cell(s) kept as text ({shown}"
                         f"{', …' if len(book.error_cells) > 5 else ''}); in typed fields their rows are quarantined")
        return _finish(path, sha, size, frame, form, repeats, repeat_files, missing, notes, mapping, folder)
    elif fmt == "odk_central_csv" and path.suffix.lower() == ".zip":
        frame, repeats, repeat_files, sha, size = _read_central_zip(path, mapping)
        return _finish(path, sha, size, frame, form, repeats, repeat_files, missing, notes, mapping, folder)
    else:
        delivered = read_delimited(path, encoding=mapping.text_encoding(), delimiter=mapping.delimiter)
        frame, sha, size = delivered.frame, delivered.sha256, delivered.size_bytes
        _guard_text(frame, path.name, mapping.text_encoding())
        if fmt == "odk_central_csv":
            for name, rep in mapping.repeats.items():
                matches = sorted(folder.glob(rep.path or ""))
                if len(matches) != 1:
                    raise FatalSourceError(f"{path.name}: repeat group {name!r} needs exactly one file matching "
                                           f"{rep.path!r} next to it; found {[m.name for m in matches]}")
                child = read_delimited(matches[0], encoding=mapping.text_encoding(), delimiter=mapping.delimiter)
                _guard_text(child.frame, matches[0].name, mapping.text_encoding())
                repeats[name] = _with_row(child.frame)
                repeat_files[name] = matches[0].name
    return _finish(path, sha, size, _with_row(frame), form, repeats, repeat_files, missing, notes, mapping, folder)


def _guard_text(frame: pl.DataFrame, where: str, encoding: str) -> None:
    """Text decoded without error can still be Arabic read through a Latin code page (mojibake)."""
    if encoding.replace("-", "").lower() in ("utf8", "utf8sig"):
        return  # strict UTF-8 decoding cannot produce the Windows-1256-through-Latin pattern
    for col in frame.columns:
        check_not_mojibake(frame[col].to_list(), where=f"{where}: column {col!r}", encoding=encoding)
    check_not_mojibake(frame.columns, where=f"{where}: header", encoding=encoding, first_row=None)


def _read_central_zip(path: Path, mapping: SurveyMapping):
    """An ODK Central "CSV (zip)" export: the root table ``<form id>.csv`` and one ``<form id>-<repeat>.csv``
    per repeat group (matched by each group's ``path`` glob against the members' names)."""
    data = path.read_bytes()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise FileReadError(f"{path.name}: not a zip file (an ODK Central export is a .zip of CSV files)") from None
    members = [m for m in archive.namelist() if m.lower().endswith(".csv") and not m.startswith("media/")]
    claimed: dict[str, str] = {}
    for name, rep in mapping.repeats.items():
        hits = [m for m in members if fnmatch.fnmatch(Path(m).name, rep.path or "")]
        if len(hits) != 1:
            raise FatalSourceError(f"{path.name}: repeat group {name!r} needs exactly one member matching {rep.path!r}; "
                                   f"found {hits} among {members}")
        claimed[name] = hits[0]
    roots = [m for m in members if m not in claimed.values()]
    if len(roots) != 1:
        raise FatalSourceError(f"{path.name}: expected one root CSV besides the repeat groups' files; found {roots} "
                               "(declare every repeat group under repeats:)")
    tmp_dir = Path(tempfile.mkdtemp(prefix="mizan_odk_"))
    try:
        def read_member(member: str) -> pl.DataFrame:
            target = tmp_dir / Path(member).name
            target.write_bytes(archive.read(member))
            frame = read_delimited(target, encoding=mapping.text_encoding(), delimiter=mapping.delimiter).frame
            _guard_text(frame, f"{path.name}/{member}", mapping.text_encoding())
            return _with_row(frame)

        main = read_member(roots[0])
        repeats = {name: read_member(m) for name, m in claimed.items()}
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    files = {name: f"{path.name}/{m}" for name, m in claimed.items()}
    return main, repeats, files, sha256_of(path), len(data)


def _finish(path, sha, size, frame, form, repeats, repeat_files, missing, notes, mapping, folder) -> SurveyFile:
    if mapping.codebook:
        cb_path = folder / mapping.codebook
        if not cb_path.is_file():
            raise FatalSourceError(f"{mapping.source_id}: codebook {mapping.codebook} not found next to the data file")
        codebook = read_codebook(cb_path, encoding=mapping.encoding or "utf-8")  # the data file's encoding
        form = codebook.form
        missing = {k: v for k, v in codebook.missing_codes.items() if v}
    form = apply_form_fixes(form, mapping)  # before the headers: a re-typed field changes its split columns
    frame = translate_headers(frame, form, mapping, path.name)
    repeats = {n: translate_headers(f, form, mapping, repeat_files[n]) for n, f in repeats.items()}
    if mapping.values == "labels" and form is not None:
        frame = decode_label_values(frame, form, mapping.label_language, path.name)
        repeats = {n: decode_label_values(f, form, mapping.label_language, f"{path.name} [{n}]")
                   for n, f in repeats.items()}
    return SurveyFile(path=path, sha256=sha, size_bytes=size, frame=frame, form=form, repeats=repeats,
                      repeat_files=repeat_files, missing_codes=missing, notes=notes)


# ------------------------------------------------------------------------------------------------------
# Headers
# ------------------------------------------------------------------------------------------------------


def _label(q_or_choice, language: str) -> str | None:
    en, ar = q_or_choice
    text = en if language == "en" else ar
    return str(text).strip() if text is not None and str(text).strip() else None


def translate_headers(frame: pl.DataFrame, form: XLSForm | None, mapping: SurveyMapping, where: str) -> pl.DataFrame:
    """Rename the delivered headers to Kobo XML names (module docstring, steps 1–4).

    Raises:
        FatalSourceError: two delivered headers translate to one name, or a label header matches two
            questions of the form.
    """
    columns = [c for c in frame.columns if c != "__row"]
    rename = kobo_header_names(columns, form, mapping.header_style)
    names = [rename[c] for c in columns]
    if form is not None and mapping.headers == "labels":
        names = _labels_to_names(names, form, mapping, where)
    if form is not None:
        names = [_strip_group_path(n, form, mapping) for n in names]
        names = [_split_column_name(n, form, mapping.choice_sep()) for n in names]
    seen: dict[str, str] = {}
    for original, new in zip(columns, names):
        if new in seen:
            raise FatalSourceError(f"{where}: columns {seen[new]!r} and {original!r} both stand for field {new!r}")
        seen[new] = original
    return frame.rename({c: n for c, n in zip(columns, names) if c != n})


def _labels_to_names(headers: list[str], form: XLSForm, mapping: SurveyMapping, where: str) -> list[str]:
    lang, sep = mapping.label_language, mapping.choice_sep()
    by_label: dict[str, list[str]] = {}
    for q in form.questions.values():
        text = _label((q.label_en, q.label_ar), lang)
        if text:
            by_label.setdefault(text, []).append(q.name)
    out = []
    for h in headers:
        text = h.strip()
        names = by_label.get(text, [])
        if len(names) > 1:
            raise FatalSourceError(f"{where}: header {h!r} is the label of several questions {names}: a labels export "
                                   "cannot be decoded here; ask for an export with XML names (headers)")
        if names:
            out.append(names[0])
            continue
        out.append(_split_label_header(text, form, lang, sep, by_label) or _group_label_suffix(text, by_label) or h)
    return out


def _split_label_header(text: str, form: XLSForm, lang: str, sep: str, by_label: dict[str, list[str]]) -> str | None:
    """``Question label/Choice label`` (possibly behind a group label path) → ``q/code``."""
    for i in [m.start() for m in re.finditer(re.escape(sep), text)][::-1]:
        q_part, choice_label = text[:i].strip(), text[i + len(sep):].strip()
        grouped = _group_label_suffix(q_part, by_label)
        for name in by_label.get(q_part) or ([grouped] if grouped else []):
            q = form.questions.get(name)
            if q is None or q.type != "select_multiple":
                continue
            for code, labels in form.choices.get(q.list_name or "", {}).items():
                if _label(labels, lang) == choice_label or code == choice_label:
                    return f"{name}/{code}"
            return f"{name}/{choice_label}"  # unknown choice: kept visible to the unknown-choice check
    return None


def _group_label_suffix(text: str, by_label: dict[str, list[str]]) -> str | None:
    """``Group label/Question label`` → the question's name, when the part after a ``/`` is a label."""
    parts = text.split("/")
    for k in range(1, len(parts)):
        names = by_label.get("/".join(parts[k:]).strip())
        if names and len(names) == 1:
            return names[0]
    return None


def _strip_group_path(name: str, form: XLSForm, mapping: SurveyMapping) -> str:
    if name in form.questions or name in form.split_columns():
        return name
    for sep in {mapping.group_sep(), "/"}:
        parts = name.split(sep)
        if len(parts) < 2:
            continue
        if sep == "-" and parts[-1] in ODK_GEO_PARTS and sep.join(parts[:-1]).split(sep)[-1] in form.questions:
            return f"_{parts[-2]}_{ODK_GEO_PARTS[parts[-1]]}"
        for k in range(1, len(parts)):
            tail = sep.join(parts[k:])
            if tail in form.questions:
                return tail
            # a split column behind a group path: grp/q/choice
            head, _, code = tail.rpartition(mapping.choice_sep() if sep != mapping.choice_sep() else sep)
            if head in form.questions and form.questions[head].type == "select_multiple":
                return f"{head}/{code}"
    return name


def _split_column_name(name: str, form: XLSForm, sep: str) -> str:
    if sep == "/" or name in form.questions:
        return name
    for i in [m.start() for m in re.finditer(re.escape(sep), name)]:
        head, code = name[:i], name[i + len(sep):]
        q = form.questions.get(head)
        if q is not None and q.type == "select_multiple" and code:
            return f"{head}/{code}"
    return name


# ------------------------------------------------------------------------------------------------------
# Values
# ------------------------------------------------------------------------------------------------------


def decode_label_values(frame: pl.DataFrame, form: XLSForm, language: str, where: str = "") -> pl.DataFrame:
    """Select answers delivered as choice labels → choice codes (Kobo "labels" export).

    select_one: the whole (stripped) value is a choice label. select_multiple: Kobo joins the chosen labels
    with spaces, so the value is split back into known labels (the only way of reading it as a sequence of
    the question's labels; a value with none or several such readings is left as delivered and fails the
    choice check). Codes delivered as codes are kept.

    Raises:
        FatalSourceError: an answer is a label that two or more choices of the question's list share in this
            language (a common translation collision): the export cannot say which was chosen.
    """
    exprs = []
    for col in frame.columns:
        q: Question | None = form.questions.get(col)
        if q is None or q.list_name is None or q.type not in ("select_one", "select_multiple"):
            continue
        options = form.choices.get(q.list_name, {})
        by_label: dict[str, list[str]] = {}
        for code, labels in options.items():
            if _label(labels, language):
                by_label.setdefault(_label(labels, language), []).append(code)
        shared = {label: codes for label, codes in by_label.items() if len(codes) > 1}
        if shared:
            values = frame[col].drop_nulls().str.strip_chars()
            for label, codes in shared.items():
                hit = values.filter((values == label) | values.str.contains(label, literal=True)) \
                    if q.type == "select_multiple" else values.filter(values == label)
                if hit.len():
                    raise FatalSourceError(
                        f"{where}: column {col!r}: {hit.len()} answer(s) read {label!r}, the {language} label of "
                        f"{len(codes)} choices of list {q.list_name!r} ({', '.join(codes)}): a labels export cannot "
                        "say which was chosen. Export with XML values (choice codes), or give the choices distinct "
                        "labels in the form and export again")
        to_code = {label: codes[0] for label, codes in by_label.items() if len(codes) == 1}
        if q.type == "select_one":
            exprs.append(pl.col(col).str.strip_chars().replace(to_code).alias(col))
        else:
            values = frame[col].drop_nulls().unique().to_list()
            decoded = {v: _split_labels(v.strip(), to_code, set(options)) for v in values}
            exprs.append(pl.col(col).replace_strict({k: v for k, v in decoded.items() if v is not None},
                                                    default=pl.col(col), return_dtype=pl.String).alias(col))
    return frame.with_columns(exprs) if exprs else frame


def _split_labels(value: str, to_code: dict[str, str], codes: set[str]) -> str | None:
    """The unique reading of ``value`` as space-joined choice labels (or codes) → space-joined codes."""
    words = value.split(" ")
    n = len(words)
    readings: list[list[list[str]]] = [[] for _ in range(n + 1)]
    readings[0] = [[]]
    for end in range(1, n + 1):
        for start in range(end):
            piece = " ".join(words[start:end])
            code = to_code.get(piece) or (piece if piece in codes else None)
            if code is not None:
                for r in readings[start]:
                    readings[end].append([*r, code])
                    if len(readings[end]) > 2:
                        break
    return " ".join(readings[n][0]) if len(readings[n]) == 1 else None
