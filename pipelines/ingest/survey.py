"""Ingest one survey source (Kobo/ODK exports with their XLSForm, SPSS/Stata, plain files) through its mapping.

For each delivered file (read by :mod:`pipelines.ingest.survey_read`: any format, headers translated to Kobo
names): drop personal data (declared columns, XLSForm geo and device fields, name/phone-like columns)
before anything else; exclude rows without consent, rows an ``include_only`` rule leaves out and
submissions whose review status does not load; then, per wave across its files, resolve exact duplicates
and edits (:mod:`pipelines.ingest.survey_dedup`); type every form field by the form and check the mapping's
design columns and canonical questions; quarantine every row with a failing cell (file, row, column, value,
reason); stop the run on missing, zero or negative weights; link repeat groups to their submissions; flag
soft duplicates for review. Loaded rows become

- ``raw.survey_respondents`` (one row per respondent: design and disaggregation columns; weights from
  the delivered column, a constant, or N_h / n_h from a sample frame),
- ``raw.survey_respondent_attributes`` (long: respondent × attribute the mapping declares under
  ``disaggregations``, e.g. displacement_status),
- ``raw.survey_answers`` (long: respondent × canonical question, recoded onto the question bank, with the
  value as delivered and the scale it was delivered on),
- ``raw.survey_submissions`` (long: every non-personal field as delivered, typed by the form),
- ``raw.survey_multi_select`` (select_multiple answers: respondent × question × choice),
- ``raw.survey_repeat_rows`` (long: repeat-group row × field, linked to its submission),
- ``raw.survey_form_labels`` (English/Arabic labels of questions and choices from the form),
- ``raw.survey_sources`` (one row per source × wave: title, design and weight notes, the single-PSU rule,
  strata to combine, how weights were made, post-stratification).

Shapes are in docs/architecture.md.
"""

from __future__ import annotations

import difflib
import fnmatch
import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from data_contracts import personal_data
from data_contracts.contracts import SurveyAnswer, SurveyRespondent, contract_failures
from data_contracts.districts import DistrictError, resolve_district
from data_contracts.mapping import BOX_CODES, ColumnRef, FileSpec, MappingError, SurveyMapping, load_question_bank
from data_contracts.parsing import DIGIT_MAP, NUMBER_PATTERN, WHOLE_NUMBER_PATTERN
from pipelines.ingest.common import (
    DiscoveredSource,
    FatalSourceError,
    FileAccount,
    Problems,
    RepeatAccount,
    SourceResult,
    resolve_governorate_name,
    source_files,
)
from pipelines.ingest.survey_checks import check_fieldwork_window, check_psu_strata
from pipelines.ingest.survey_dedup import FilePart, apply_validation_status, resolve_duplicates, soft_duplicates
from pipelines.ingest.survey_read import SurveyFile, read_survey_file, source_folder
from pipelines.readers.delimited import read_delimited
from pipelines.readers.workbook import link_repeat
from pipelines.readers.xlsform import DEVICE_TYPES, GEO_TYPES, XLSForm

#: Words in a column name that mark personal data (names, phones, positions, devices, addresses). A column
#: is split into words at non-letters and camelCase boundaries (``NameOfRespondent``, ``phone1``,
#: ``respondent_mobile2``, ``_geolocation``).
PERSONAL_WORDS = {
    "name", "names", "fullname", "firstname", "lastname", "surname", "phone", "phonenumber", "telephone", "tel",
    "mobile", "cellphone", "whatsapp", "viber", "telegram", "email", "gps", "latitude", "longitude", "altitude",
    "precision", "lat", "lon", "lng", "geolocation", "geopoint", "coordinates", "coords", "deviceid", "imei",
    "simserial", "subscriberid", "address",
}
#: The same in Arabic and Sorani column names (name, phone, mobile, WhatsApp, address).
PERSONAL_SUBSTRINGS_AR = ("اسم", "هاتف", "جوال", "موبايل", "واتساب", "عنوان", "ناوی", "ژمارەی تەلەفۆن", "مۆبایل")
#: Kobo/XLSForm metadata that matches the words above but identifies no respondent.
NOT_PERSONAL = {"_submitted_by", "_parent_table_name"}
#: XLSForm types whose values are codes or dates, never free text, a phone number or a position: exempt from
#: the name heuristic (``consent_telephone_number`` as yes/no holds no phone number).
CODED_TYPES = {"select_one", "select_multiple", "date", "today", "start", "end", "datetime", "range", "rank",
               "acknowledge", "note"}
#: XLSForm number types: exempt from the *name* words (``num_names``) but not from the contact and position
#: words, because a phone number or a latitude is often typed as a number (``integer respondent_phone``,
#: ``decimal hh_lat``; every numeric SPSS/Stata variable is a number).
NUMBER_TYPES = {"integer", "decimal"}
CONTACT_POSITION_WORDS = PERSONAL_WORDS - {"name", "names", "fullname", "firstname", "lastname", "surname", "address",
                                           "email"}
#: Device and SIM identifiers however they are written (``DeviceID``, ``device_id``, ``IMEI``).
DEVICE_NAMES = {"deviceid", "imei", "simserial", "simid", "subscriberid", "phonenumber", "androidid"}


def _name_words(column: str) -> set[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", column)
    return {w for w in re.split(r"[^a-z]+", spaced.lower()) if w}


#: Words that make "name" the name of a place or an organisation, not of a person (``district_name``,
#: ``camp_name``, ``school_name``): such a column is not dropped for its "name" alone.
PLACE_WORDS = {
    "district", "subdistrict", "governorate", "province", "camp", "village", "town", "city", "site", "location",
    "area", "neighbourhood", "neighborhood", "school", "facility", "hospital", "clinic", "organisation",
    "organization", "org", "ngo", "project", "sector", "cluster", "settlement", "street", "place", "form", "file",
}


def looks_personal(column: str) -> bool:
    """Whether a column name looks like personal data (see PERSONAL_WORDS); Kobo metadata and place names
    (``district_name``: PLACE_WORDS) excepted."""
    if column in NOT_PERSONAL:
        return False
    if re.sub(r"[^a-z]", "", column.lower()) in DEVICE_NAMES:
        return True
    words = _name_words(column)
    hits = words & PERSONAL_WORDS
    if hits and hits <= {"name", "names"} and words & PLACE_WORDS:
        return False
    return bool(hits) or any(a in column for a in PERSONAL_SUBSTRINGS_AR)


_INT_RE = WHOLE_NUMBER_PATTERN
_NUM_RE = NUMBER_PATTERN
_DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
# ISO date or timestamp with a real time of day (hours 00-23, minutes and seconds 00-59, a leap second 60);
# the offset may be written +03:00, +0300 or +03 (Kobo exports all three)
_DATETIME_RE = (r"^\d{4}-\d{2}-\d{2}([T ]([01]\d|2[0-3]):[0-5]\d(:([0-5]\d|60)(\.\d+)?)?"
                r"([+-]([01]\d|2[0-3])(:?[0-5]\d)?|Z)?)?$")
_SPLIT_TRUE = ["1", "True", "true", "TRUE"]
_SPLIT_FALSE = ["0", "False", "false", "FALSE"]
ATTRIBUTE_SCHEMA = {
    "source_id": pl.String, "wave_id": pl.String, "file_sha256": pl.String, "row_number": pl.Int64,
    "respondent_id": pl.String, "attribute": pl.String, "value": pl.String,
}


def _digits(expr: pl.Expr) -> pl.Expr:
    """Normalise Arabic-Indic/Persian digits and Arabic separators, trim spaces."""
    return expr.str.replace_many(list(DIGIT_MAP), list(DIGIT_MAP.values())).str.strip_chars()


def _calendar_day(text: pl.Expr) -> pl.Expr:
    """The date of the first 10 characters of an ISO date/timestamp (device-local), NULL when not a real day."""
    return text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)


def _number(expr: pl.Expr) -> pl.Expr:
    """A strictly parsed number, NULL when the text is not a well-formed number (``"1,,0"``, ``"1,2"``).

    Callers check the same pattern and quarantine (or stop on) every value this turns into NULL: it is
    never a silent coercion.
    """
    d = _digits(expr)
    return pl.when(d.str.contains(_NUM_RE)).then(d.str.replace_all(",", "").cast(pl.Float64, strict=False))


def _personal_columns(columns: list[str], mapping: SurveyMapping, form: XLSForm | None) -> dict[str, str]:
    """Columns to drop, with the reason, before anything is loaded.

    Declared columns, XLSForm geo fields (and Kobo's ``_<geo>_latitude`` etc. and ``_geolocation``),
    XLSForm device/contact metadata, and free-text or unknown columns whose name looks personal. Coded
    form fields (select_one, select_multiple and their split columns, numbers, dates) are not judged by
    name: ``consent_telephone_number`` (yes/no) or ``how_engaged_by_office/phone`` (a choice) hold no
    personal data. ``not_personal`` in the mapping keeps a column the name heuristic would drop.
    """
    out: dict[str, str] = {}
    declared = set(mapping.personal_columns)
    keep = set(mapping.not_personal)
    questions = form.questions if form else {}
    splits = form.split_columns() if form else {}
    geo = {q.name for q in questions.values() if q.type in GEO_TYPES}
    device = {q.name for q in questions.values() if q.type in DEVICE_TYPES}
    geo_parts = {f"_{g}_{part}" for g in geo for part in ("latitude", "longitude", "altitude", "precision")}
    for col in columns:
        base = col.split("/")[0]
        qtype = questions[col].type if col in questions else None
        coded = col in splits or qtype in CODED_TYPES
        if col in declared:
            out[col] = "declared personal in the mapping"
        elif base in geo or col in geo_parts or col == "_geolocation":
            out[col] = "position (XLSForm geo field / Kobo _geolocation)"
        elif base in device or re.sub(r"[^a-z]", "", col.lower()) in DEVICE_NAMES:
            out[col] = "XLSForm device/contact metadata"
        elif col in keep or coded:
            continue
        elif qtype in NUMBER_TYPES:
            if _name_words(col) & CONTACT_POSITION_WORDS:
                out[col] = "phone/position-like column name (a number field)"
        elif looks_personal(col):
            out[col] = "name/phone/position-like column name"
    return out


#: Values that are a position (``33.301,44.361``, ``33.3 44.3 0 5`` as Kobo writes a geopoint) or a phone
#: number (Iraqi mobile ``07xx xxx xxxx``, ``+964 7xx``, ``9647xx``): a free-text column whose answers are
#: mostly such values is dropped whatever its name.
#: The patterns are the value detector's (data_contracts/personal_data.py), matched here on whole answers.
GPS_VALUE = rf"^{personal_data.PATTERNS['gps']}(\s+-?\d+(\.\d+)?){{0,2}}$"
PHONE_VALUE = rf"^{personal_data.PATTERNS['phone']}$"


def personal_by_content(frame: pl.DataFrame, columns: list[str], form: XLSForm | None,
                        already: set[str]) -> dict[str, str]:
    """Free-text (or untyped) columns whose non-blank values are mostly (≥ 80 %, at least 3) GPS points or
    phone numbers (:data:`GPS_VALUE`, :data:`PHONE_VALUE`), with the reason. Coded fields are not judged."""
    questions = form.questions if form else {}
    out: dict[str, str] = {}
    for col in columns:
        if col in already or col.startswith("_") or col not in frame.columns:
            continue
        qtype = questions[col].type if col in questions else None
        if qtype is not None and qtype not in ("text", "barcode", "calculate", "hidden", "integer", "decimal"):
            continue
        values = frame.select(_digits(pl.col(col).cast(pl.String)).alias("v"))["v"].drop_nulls()
        values = values.filter(values != "")
        if values.len() < 3:
            continue
        for pattern, what in ((GPS_VALUE, "GPS coordinates"), (PHONE_VALUE, "phone numbers")):
            share = values.str.contains(pattern).mean()
            if share is not None and share >= 0.8:
                out[col] = f"values look like {what} ({share:.0%} of {values.len()} answers)"
                break
    return out


#: Public name of the personal-data rule, for tools that report what ingestion would drop (mizan source check).
personal_columns = _personal_columns


def _used_columns(mapping: SurveyMapping) -> set[str]:
    used = {mapping.respondent_id}
    refs: list[ColumnRef | None] = [
        mapping.governorate, mapping.district, mapping.stratum, mapping.psu, mapping.weight,
        mapping.hoh_sex, mapping.urban_rural, mapping.interview_date, *mapping.disaggregations.values(),
    ]
    for ref in refs:
        if ref is not None:
            if ref.column:
                used.add(ref.column)
            used.update(ref.sum_of_columns or [])
    if mapping.consent:
        used.add(mapping.consent.column)
    if mapping.governorate_by_district:
        used.add(mapping.governorate_by_district.column)
    used.update(q.column for q in mapping.questions.values())
    return used


#: Public name: the columns a mapping uses (its design columns, consent and questions).
used_columns = _used_columns


def _ref_expr(ref: ColumnRef, id_col: str) -> pl.Expr:
    if ref.column:
        return pl.col(ref.column)
    if ref.constant is not None:
        return pl.lit(str(ref.constant))
    if ref.per_respondent:
        return pl.col(id_col)
    raise MappingError("sum_of_columns is only allowed for the weight")


def _check_columns(df: pl.DataFrame, mapping: SurveyMapping, file_name: str) -> None:
    """Design and id columns must all be present; a question column may be absent (not asked that wave)."""
    question_columns = {q.column for q in mapping.questions.values()}
    missing = sorted(c for c in _used_columns(mapping) - question_columns if c not in df.columns)
    if missing:
        raise FatalSourceError(
            f"{file_name}: columns named in the mapping of {mapping.source_id} are missing from the file: "
            f"{', '.join(missing)} (expected Kobo names; check header_style)"
        )


def _type_by_form(df: pl.DataFrame, form: XLSForm, problems: Problems, skip: set[str]) -> None:
    """Check every delivered form field against its XLSForm type; record failing cells.

    select_multiple: split columns hold 1/0 (or True/False), blank when the question was skipped; a split
    column of a choice the list lacks (``q/other_code``) quarantines the rows that chose it; where both the
    space-separated answer and split columns are delivered they must name the same choices.
    """
    splits = form.split_columns()
    for col in df.columns:
        if col in skip or col.startswith("__"):
            continue
        v = pl.col(col)
        if col in splits:
            bad = df.filter(v.is_not_null() & ~v.str.strip_chars().is_in(_SPLIT_TRUE + _SPLIT_FALSE))
            problems.add_frame(bad, col, "select_multiple split column must be 1/0 (or True/False), blank when skipped")
            continue
        head, sep, code = col.rpartition("/")
        if sep and head in form.questions and form.questions[head].type == "select_multiple" and head not in skip:
            q = form.questions[head]
            bad = df.filter(v.str.strip_chars().is_in(_SPLIT_TRUE))
            problems.add_frame(bad, col, f"choice {code!r} is not in list '{q.list_name}' of {head} (XLSForm select_multiple)")
            continue
        q = form.questions.get(col)
        if q is None:
            continue
        if q.type == "select_one":
            codes = form.choice_codes(col)
            bad = df.filter(v.is_not_null() & ~v.str.strip_chars().is_in(codes))
            problems.add_frame(bad, col, f"not a choice of list '{q.list_name}' (XLSForm select_one)")
        elif q.type == "select_multiple":
            codes = form.choice_codes(col)
            tokens = _tokens(df, col)
            bad = tokens.filter(~pl.col("__tok").is_in(codes)).group_by("__row").agg(pl.col(col).first())
            problems.add_frame(bad, col, f"has a choice not in list '{q.list_name}' (XLSForm select_multiple)")
            _split_agreement(df, col, [c for c in df.columns if splits.get(c, ("", ""))[0] == col], tokens, problems)
        elif q.type == "integer":
            bad = df.filter(v.is_not_null() & ~_digits(v).str.contains(_INT_RE))
            problems.add_frame(bad, col, "not a whole number (XLSForm integer)")
            problems.add_frame(df.filter(_number(v).is_infinite()), col, INFINITE)
        elif q.type == "decimal":
            bad = df.filter(v.is_not_null() & ~_digits(v).str.contains(_NUM_RE))
            problems.add_frame(bad, col, "not a number (XLSForm decimal)")
            problems.add_frame(df.filter(_number(v).is_infinite()), col, INFINITE)
        elif q.type in ("date", "today", "start", "end", "datetime"):
            pattern = _DATE_RE if q.type in ("date", "today") else _DATETIME_RE
            text = _digits(v)
            bad = df.filter(v.is_not_null() & (~text.str.contains(pattern) | _calendar_day(text).is_null()))
            problems.add_frame(bad, col, f"not a valid {'date YYYY-MM-DD' if pattern == _DATE_RE else 'ISO timestamp'} "
                               f"(XLSForm {q.type}; a real calendar day"
                               f"{'' if pattern == _DATE_RE else ' and time of day, hours 00-23, minutes 00-59'})")


INFINITE = "a number too large to store (it overflows to infinity)"


def _tokens(df: pl.DataFrame, col: str) -> pl.DataFrame:
    """``__row``, the answer, and one ``__tok`` per choice of a space-separated select_multiple answer."""
    return df.select("__row", col).filter(pl.col(col).is_not_null()).with_columns(
        pl.col(col).str.strip_chars().str.split(" ").alias("__tok")
    ).explode("__tok").filter(pl.col("__tok") != "")


def _split_agreement(df: pl.DataFrame, col: str, split_cols: list[str], tokens: pl.DataFrame, problems: Problems) -> None:
    """Rows whose split columns (1 = chosen) and space-separated answer name different choices."""
    if not split_cols:
        return
    chosen = df.select("__row", *split_cols).unpivot(index="__row", variable_name="__split", value_name="__v").filter(
        pl.col("__v").str.strip_chars().is_in(_SPLIT_TRUE)
    ).select("__row", pl.col("__split").str.split("/").list.last().alias("__tok"))
    said = tokens.select("__row", "__tok")
    a = chosen.group_by("__row").agg(pl.col("__tok").sort().alias("__split_set"))
    b = said.group_by("__row").agg(pl.col("__tok").unique().sort().alias("__said_set"))
    both = df.select("__row", col).join(a, on="__row", how="left").join(b, on="__row", how="left").with_columns(
        pl.col("__split_set").fill_null(pl.lit([], pl.List(pl.String))),
        pl.col("__said_set").fill_null(pl.lit([], pl.List(pl.String))),
    )
    bad = both.filter(pl.col("__split_set") != pl.col("__said_set"))
    problems.add_frame(bad, col, pl.format("the space-separated answer and the split columns disagree (split columns "
                                           "chose: {})", pl.col("__split_set").list.join(" ")))


def _check_question_maps(mapping: SurveyMapping, bank: dict[str, dict]) -> None:
    """Every mapped question exists and every recode or scale lands on codes the question has.

    Raises:
        MappingError: naming the question, the delivered value and the target, before any row is read.
    """
    for qid, qmap in mapping.questions.items():
        if qid not in bank:
            raise MappingError(f"{mapping.source_id}: question {qid!r} is not in the question bank")
        spec = bank[qid]
        nonresponse = list(spec.get("nonresponse_codes", []))
        if qmap.scale is not None:
            if spec["answer_type"] != "select_one" or not spec.get("top_box"):
                raise MappingError(f"{mapping.source_id}: questions.{qid}.scale: {qid} has no top_box/bottom_box in the "
                                   "question bank, so another scale cannot be declared onto it")
            wrong = {k: v for k, v in qmap.scale.nonresponse.items() if v not in nonresponse}
            if wrong:
                raise MappingError(f"{mapping.source_id}: questions.{qid}.scale.nonresponse maps onto codes that are not "
                                   f"nonresponse codes of {qid}: {wrong} (expected one of {nonresponse})")
            continue
        if not qmap.recode:
            continue
        valid = list(spec.get("choice_codes", [])) + nonresponse if spec["answer_type"] == "select_one" else nonresponse
        # a recode onto a code the question does not have would quarantine every such answer
        wrong = {k: v for k, v in qmap.recode.items() if v not in valid}
        if wrong:
            what = "" if spec["answer_type"] == "select_one" else " (a numeric question's recode names its nonresponse codes)"
            raise MappingError(
                f"{mapping.source_id}: questions.{qid}.recode maps onto codes question {qid} does not have{what}: "
                + ", ".join(f"{k!r} -> {v!r}" for k, v in wrong.items()) + f" (expected one of {valid})"
            )


def _spec_of(path: Path, mapping: SurveyMapping) -> FileSpec:
    return next((f for f in mapping.files if fnmatch.fnmatch(path.name, f.path)), mapping.files[0])


@dataclass
class _Prepared:
    """A file read, stripped of personal data and past its exclusions, waiting for its wave's duplicates."""

    file: SurveyFile
    spec: FileSpec
    part: FilePart
    rows_read: int


#: The raw tables a wave's rows go to (the per-source tables, survey_sources and survey_form_labels, are not flushed).
WAVE_TABLES = ("survey_respondents", "survey_respondent_attributes", "survey_answers", "survey_submissions",
               "survey_multi_select", "survey_repeat_rows")


def ingest_survey_source(
    src: DiscoveredSource, mapping: SurveyMapping, files: list[Path] | None = None, whole_source: bool = True,
    flush: Callable[[dict[str, pl.DataFrame]], None] | None = None,
) -> SourceResult:
    """Ingest every file of a survey source; see the module docstring for what is produced.

    ``files``: the files to read (the registry's archived copies); default: the landing files matching
    the mapping. ``whole_source`` False: ``files`` are the waves that changed, the others stay loaded (a
    mapped question none of these files has is then a question these waves did not ask, not a typo: the
    mapping was checked against every file when it last changed). Per wave, across its files: exclusions (consent, ``include_only``, review status), then
    duplicates and edits (:mod:`pipelines.ingest.survey_dedup`), then cell checks and harmonisation, then
    soft duplicates flagged for review.

    ``flush``: when given, each wave's rows of :data:`WAVE_TABLES` are handed to it as soon as the wave is
    done and not kept, so memory holds one wave (its files) instead of the source. A source with cleaning
    logs reads all its waves before applying them (a log may address any wave) and flushes them then.
    Without ``flush`` the rows are in ``result.tables``.

    Raises:
        FatalSourceError: a file is unreadable, a mapped column is missing, a mapping uses a personal
            column, or weights are missing, zero or negative (file and rows named).
        MappingError: the mapping names an unknown canonical question, or recodes onto a code that is not
            on the question's scale.
    """
    from pipelines.cleaning.log_files import read_logs
    from pipelines.cleaning.run import apply_cleaning_logs  # it reads this module's rules

    bank = load_question_bank()
    _check_question_maps(mapping, bank)
    folder = source_folder(src.path)
    files = files if files is not None else source_files(src, [f.path for f in mapping.files])
    if not files:
        raise FatalSourceError(f"{mapping.source_id}: no file matches {[f.path for f in mapping.files]} in {src.path}")

    result = SourceResult(source_id=mapping.source_id, domain="survey")
    parts: dict[str, list[pl.DataFrame]] = {k: [] for k in WAVE_TABLES}
    forms: dict[str, XLSForm] = {}
    used_forms: list[XLSForm] = []
    delivered: set[str] = set()
    dates: dict[str, pl.Series] = {}
    log_hashes: dict[str, str] = {}
    by_wave: dict[str, list[Path]] = {}
    for path in files:
        by_wave.setdefault(_spec_of(path, mapping).wave_id, []).append(path)
    batches = [list(by_wave)] if read_logs(mapping, folder) else [[w] for w in by_wave]
    for batch in batches:
        prepared = {w: [_read_prepared(path, mapping, folder, forms, result) for path in by_wave[w]] for w in batch}
        delivered |= {c for ps in prepared.values() for p in ps for c in p.part.df.columns}
        log_hashes |= apply_cleaning_logs(mapping, folder, prepared, result)  # reviewed cleaning logs, in order
        for wave_id, wave_files in prepared.items():
            loaded_files: list[tuple[pl.DataFrame, XLSForm | None, str]] = []
            tables, dates[wave_id] = _load_wave(wave_id, wave_files, mapping, bank, result, used_forms, loaded_files)
            if mapping.weight.sample_frame is not None:
                tables["survey_respondents"] = _sample_frame_weights(tables["survey_respondents"], mapping, folder)
            _check_strata_to_combine(tables["survey_respondents"], mapping)
            check_psu_strata(tables["survey_respondents"], mapping)
            # the fields as delivered (long: respondents x fields, the largest table) a slice at a time
            for chunk in itertools.chain([tables], _delivered_slices(loaded_files, mapping, wave_id)):
                if flush is not None:
                    flush(chunk)
                else:
                    for k, frame in chunk.items():
                        parts[k].append(frame)
            del tables, loaded_files  # flushed: not held while the next wave is read
        del prepared
    if whole_source:
        _check_question_columns(mapping, delivered)
    for k, frames in parts.items():
        frames = [f for f in frames if f.height]
        result.tables[k] = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    result.tables["survey_sources"] = _wave_rows(mapping, dates, log_hashes)
    result.tables["survey_form_labels"] = pl.concat(
        [_form_labels(mapping.source_id, f) for f in used_forms] or [_form_labels(mapping.source_id, None)]
    ).unique(maintain_order=True)
    return result


def _read_prepared(path: Path, mapping: SurveyMapping, folder: Path, forms: dict[str, XLSForm],
                   result: SourceResult) -> _Prepared:
    """Read one file, flag its GPS problems (before personal data is dropped) and prepare it."""
    from pipelines.cleaning.run import gps_review_flags

    spec = _spec_of(path, mapping)
    read = read_survey_file(path, mapping, spec, folder, forms)
    gps = gps_review_flags(read, mapping, spec.wave_id, folder)  # before _prepare drops GPS columns
    if gps is not None:
        result.review_flags.append(gps)
    return _prepare(read, spec, mapping, result)


def _load_wave(wave_id: str, prepared: list[_Prepared], mapping: SurveyMapping, bank: dict, result: SourceResult,
               used_forms: list[XLSForm], loaded_files: list[tuple[pl.DataFrame, XLSForm | None, str]],
               ) -> tuple[dict[str, pl.DataFrame], pl.Series]:
    """Duplicates and edits across the wave's files, then each file's cells, then soft duplicates.

    Returns:
        The wave's rows per table of :data:`WAVE_TABLES` but the fields as delivered, and its interview dates.
        Each file's loaded rows (with its form and SHA-256) are appended to ``loaded_files``, for
        :func:`_delivered_slices`.
    """
    resolve_duplicates([p.part for p in prepared], mapping)
    loaded, tables, dates = [], {k: [] for k in WAVE_TABLES}, []
    for p in prepared:
        out = _load_file(p, wave_id, mapping, bank, result)
        ok = out.pop("__loaded")
        loaded.append((p.part.file_name, ok))
        loaded_files.append((ok, p.part.form, p.file.sha256))
        dates.append(out.pop("__dates"))
        for k, frame in out.items():
            tables[k].append(frame)
        if p.part.form is not None and all(p.part.form is not f for f in used_forms):
            used_forms.append(p.part.form)
    design = {c for c in _used_columns(mapping) if c not in {q.column for q in mapping.questions.values()}}
    flags = soft_duplicates(loaded, mapping, wave_id, prepared[0].part.form, design)
    if flags.height:
        result.review_flags.append(flags)
    frames = {k: pl.concat([f for f in fs if f.height], how="diagonal_relaxed") if any(f.height for f in fs)
              else pl.DataFrame() for k, fs in tables.items()}
    return frames, pl.concat(dates)["interview_date"]


def _wave_rows(mapping: SurveyMapping, dates: dict[str, pl.Series], log_hashes: dict[str, str]) -> pl.DataFrame:
    """``raw.survey_sources``: one row per wave read (title, notes, fieldwork dates, design rules, logs)."""
    return pl.DataFrame(
        [
            {
                "source_id": mapping.source_id,
                "wave_id": w,
                "title": mapping.title,
                "unit_of_analysis": mapping.unit_of_analysis,
                "weight_note": mapping.weight_note,
                "design_note": mapping.design_note,
                "citation": mapping.citation,
                "coverage": mapping.coverage,
                "is_synthetic": mapping.is_synthetic,
                "fieldwork_start": d.min(),
                "fieldwork_end": d.max(),
                "single_psu_rule": mapping.single_psu.rule,
                "strata_combine_json": json.dumps(mapping.single_psu.combine, sort_keys=True, ensure_ascii=False),
                "weight_method": ("sample_frame" if mapping.weight.sample_frame is not None
                                  else "constant" if mapping.weight.constant is not None else "delivered"),
                "post_stratify": mapping.post_stratify,
                "cleaning_log_sha256s": log_hashes.get(w),
            }
            for w, d in sorted(dates.items())
        ],
        schema_overrides={"fieldwork_start": pl.Date, "fieldwork_end": pl.Date, "cleaning_log_sha256s": pl.String},
    )


def _check_question_columns(mapping: SurveyMapping, delivered: set[str]) -> None:
    """A question column that no file of the source has is a mapping mistake (a typo), not a question
    "not asked in this wave" (that is a column missing from *some* files).

    Raises:
        FatalSourceError: naming the question, the column and the closest delivered column names.
    """
    for qid, qmap in mapping.questions.items():
        if qmap.column in delivered:
            continue
        close = difflib.get_close_matches(qmap.column, sorted(c for c in delivered if not c.startswith("__")), n=3,
                                          cutoff=0.6)
        raise FatalSourceError(
            f"{mapping.source_id}: question {qid} maps column {qmap.column!r}, which no file of the source has"
            + (f" (closest: {', '.join(close)})" if close else "")
            + ": fix the mapping, or remove the question if no wave asked it")
    enumerator = mapping.duplicates.enumerator
    if enumerator and enumerator not in delivered:
        close = difflib.get_close_matches(enumerator, sorted(delivered), n=3, cutoff=0.6)
        raise FatalSourceError(
            f"{mapping.source_id}: duplicates.enumerator names column {enumerator!r}, which no file of the source has"
            + (f" (closest: {', '.join(close)})" if close else "")
            + ": without it the soft-duplicate check cannot run")


def _prepare(read: SurveyFile, spec: FileSpec, mapping: SurveyMapping, result: SourceResult) -> _Prepared:
    """Drop personal data, check the mapped columns, apply form fixes and the exclusion rules of one file."""
    src_id, path = mapping.source_id, read.path
    df = read.frame
    form = read.form
    problems = Problems(src_id, path.name, read.sha256)
    for note in read.notes:
        result.notes.append({"file_name": path.name, "note": note})

    # 1. Personal data never goes further than this function.
    columns = [c for c in df.columns if c != "__row"]
    personal = _personal_columns(columns, mapping, form)
    personal |= personal_by_content(df, columns, form, set(personal) | _used_columns(mapping) | set(mapping.not_personal))
    clash = sorted(set(personal) & _used_columns(mapping))
    if clash:
        raise FatalSourceError(
            f"{path.name}: the mapping of {src_id} uses personal-data columns {clash}; map an id instead"
        )
    df = df.drop(list(personal))
    dropped = [(path.name, c, r) for c, r in personal.items()]
    for name, frame in read.repeats.items():
        rep_cols = [c for c in frame.columns if c != "__row"]
        in_repeat = _personal_columns(rep_cols, mapping, form)
        in_repeat |= personal_by_content(frame, rep_cols, form, set(in_repeat) | set(mapping.not_personal))
        read.repeats[name] = frame.drop(list(in_repeat))
        dropped += [(read.repeat_files[name], c, r) for c, r in in_repeat.items()]
    seen = set(columns).union(*(f.columns for f in read.repeats.values()))
    for col in sorted(set(mapping.personal_columns) - seen - set(personal)):
        result.notes.append({"file_name": path.name, "note": f"personal_columns names {col!r}, which this file does not "
                             "have: if it is a misspelling, the real column was not declared (check the dropped columns)"})
    result.dropped_columns.append(
        pl.DataFrame(
            [(src_id, f, c, r) for f, c, r in dropped],
            schema={"source_id": pl.String, "file_name": pl.String, "column_name": pl.String, "reason": pl.String},
            orient="row",
        )
    )
    _check_columns(df, mapping, path.name)
    rows_read = df.height
    for col, fix in mapping.form_fixes.items():
        if col not in df.columns:
            raise FatalSourceError(f"{path.name}: form_fixes names column {col!r}, which the file does not have")
        if fix.recode:
            df = df.with_columns(pl.col(col).replace(fix.recode))
    part = FilePart(file_name=path.name, sha256=read.sha256, df=df, problems=problems, form=form)

    # 2. Exclusions, in order: include_only rules, consent, review status. Not loaded, not quarantined.
    rules = [(r.column, r.values, r.reason) for r in mapping.include_only]
    rules += [(mapping.consent.column, mapping.consent.include, "no consent")] if mapping.consent else []
    for column, values, reason in rules:
        if column not in part.df.columns:
            raise FatalSourceError(f"{path.name}: the mapping's exclusion rule names column {column!r}, which the file "
                                   "does not have")
        mask = pl.col(column).is_null() | ~pl.col(column).str.strip_chars().is_in(values)
        part.exclude(part.df.filter(mask).select("__row", pl.format(f"{reason} ({column} = '{{}}')",
                                                                    pl.col(column).fill_null("blank")).alias("reason")))
    if apply_validation_status(part, mapping) is None and mapping.format in ("kobo_csv", "kobo_xlsx", "odk_central_csv") \
            and mapping.validation_status.column is not None:
        raise FatalSourceError(f"{path.name}: validation_status names column {mapping.validation_status.column!r}, "
                               "which the file does not have")
    return _Prepared(file=read, spec=spec, part=part, rows_read=rows_read)


def _sample_frame_weights(respondents: pl.DataFrame, mapping: SurveyMapping, folder: Path) -> pl.DataFrame:
    """Design weights N_h / n_h: N_h from the mapping's sample frame, n_h = loaded respondents of stratum h
    in the wave (docs/methodology.md "Weights"; Lohr, *Sampling*, 2nd ed., section 3.2).

    Raises:
        FatalSourceError: the frame is missing or unreadable, lacks a named column, lists a stratum twice,
            has a population that is not a positive number or smaller than the stratum's respondents (frame
            row named), or does not list a stratum that loaded respondents belong to (file and rows named).
    """
    spec = mapping.weight.sample_frame
    assert spec is not None
    path = folder / spec.path
    if not path.is_file():
        raise FatalSourceError(f"{mapping.source_id}: sample frame {spec.path} not found next to the export")
    frame = read_delimited(path, encoding=spec.encoding, delimiter=spec.delimiter).frame
    missing = [c for c in (spec.stratum_column, spec.population_column) if c not in frame.columns]
    if missing:
        raise FatalSourceError(f"{path.name}: sample frame has no column(s) {missing}; it has {frame.columns}")
    frame = frame.with_row_index("__row", offset=1).select(
        "__row", pl.col(spec.stratum_column).str.strip_chars().alias("stratum"),
        pl.col(spec.population_column).alias("__raw"), _number(pl.col(spec.population_column)).alias("population"),
    )
    bad = frame.filter(pl.col("population").is_null() | (pl.col("population") <= 0) | pl.col("stratum").is_null())
    if bad.height:
        shown = ", ".join(f"row {r} ({v!r})" for r, v in bad.select("__row", "__raw").head(10).iter_rows())
        raise FatalSourceError(f"{path.name}: {bad.height} sample-frame row(s) without a stratum or a positive "
                               f"population in {spec.population_column!r}: {shown}")
    dup = frame.filter(pl.col("stratum").is_duplicated())["stratum"].unique().sort().to_list()
    if dup:
        raise FatalSourceError(f"{path.name}: sample frame lists strata more than once: {dup[:10]}")
    n_h = respondents.group_by("wave_id", "stratum").agg(pl.len().alias("n_h"))
    joined = respondents.join(n_h, on=["wave_id", "stratum"]).join(
        frame.select("stratum", "population", "__row"), on="stratum", how="left")
    unknown = joined.filter(pl.col("population").is_null())
    if unknown.height:
        by_file = unknown.group_by("file_name", "stratum").agg(
            pl.col("row_number").sort().head(5), pl.len().alias("n")).sort("file_name", "stratum")
        shown = "; ".join(f"{f}: stratum {s!r} ({n} respondent(s), rows {', '.join(map(str, r))}{', …' if n > len(r) else ''})"
                          for f, s, r, n in by_file.head(10).iter_rows())
        raise FatalSourceError(f"{unknown.height} respondent(s) in strata that sample frame {path.name} does not "
                               f"list, so they have no weight: {shown}")
    # N_h < n_h: more respondents than the stratum has units, a weight below 1 (sample targets, not a frame)
    small = joined.filter(pl.col("population") < pl.col("n_h")).select(
        "__row", "wave_id", "stratum", "population", "n_h").unique().sort("__row", "wave_id")
    if small.height:
        shown = "; ".join(f"row {r}: stratum {s!r} population {p:g} < {n} respondents in wave {w}"
                          for r, w, s, p, n in small.head(10).iter_rows())
        raise FatalSourceError(f"{path.name}: sample-frame population smaller than the number of respondents "
                               f"(a weight N_h/n_h below 1; is it a table of sample targets?): {shown}")
    return joined.with_columns((pl.col("population") / pl.col("n_h")).alias("weight")).select(respondents.columns)


def _check_strata_to_combine(respondents: pl.DataFrame, mapping: SurveyMapping) -> None:
    """Every stratum the mapping's ``single_psu.combine`` names exists in every wave it loads.

    Raises:
        FatalSourceError: naming the stratum and the wave.
    """
    pairs = mapping.single_psu.combine
    if not pairs or respondents.height == 0:
        return
    for wave_id, strata in respondents.group_by("wave_id").agg(pl.col("stratum").unique()).iter_rows():
        absent = sorted({*pairs, *pairs.values()} - set(strata))
        if absent:
            raise FatalSourceError(
                f"{mapping.source_id}: single_psu.combine names strata that wave {wave_id} does not have: {absent} "
                f"(its strata: {sorted(strata)[:20]})")


def _form_labels(source_id: str, form: XLSForm | None) -> pl.DataFrame:
    rows = []
    if form is not None:
        for q in form.questions.values():
            rows.append((source_id, "question", q.name, q.type, None, q.label_en, q.label_ar))
            if q.list_name:
                for code, (en, ar) in form.choices.get(q.list_name, {}).items():
                    rows.append((source_id, "choice", q.name, q.type, code, en, ar))
    return pl.DataFrame(
        rows,
        schema={
            "source_id": pl.String, "item_type": pl.String, "field_name": pl.String, "field_type": pl.String,
            "choice_code": pl.String, "label_en": pl.String, "label_ar": pl.String,
        },
        orient="row",
    ).with_columns(pl.col("label_en").cast(pl.String), pl.col("label_ar").cast(pl.String))


def _load_file(
    p: _Prepared, wave_id: str, mapping: SurveyMapping, bank: dict[str, dict], result: SourceResult
) -> dict[str, pl.DataFrame]:
    """Weights, cell checks, harmonisation and row accounting of one prepared file (its exclusions and
    duplicates already taken out of play)."""
    src_id, path, form = mapping.source_id, p.file.path, p.part.form
    df, problems, sha = p.part.df, p.part.problems, p.file.sha256
    rows_read = p.rows_read
    # 3. Weights: missing, zero, negative or unreadable weights stop the run (docs/methodology.md "Weights").
    id_col = mapping.respondent_id
    wref = mapping.weight
    if wref.sum_of_columns:
        weight_expr = pl.sum_horizontal([_number(pl.col(c)) for c in wref.sum_of_columns])
        raw_weight = pl.concat_str([pl.col(c).fill_null("blank") for c in wref.sum_of_columns], separator="+")
        nulls = pl.any_horizontal([_number(pl.col(c)).is_null() for c in wref.sum_of_columns])
    elif wref.constant is not None:
        weight_expr, raw_weight, nulls = pl.lit(float(wref.constant)), pl.lit(str(wref.constant)), pl.lit(False)
    elif wref.sample_frame is not None:
        # N_h / n_h, set per wave once every file is loaded (_sample_frame_weights); 1 until then
        weight_expr, raw_weight, nulls = pl.lit(1.0), pl.lit("sample frame"), pl.lit(False)
    else:
        weight_expr, raw_weight = _number(pl.col(wref.column)), pl.col(wref.column).fill_null("blank")
        nulls = weight_expr.is_null()
    df = df.with_columns(weight_expr.alias("__weight"), raw_weight.alias("__weight_raw"), nulls.alias("__weight_null"))
    bad_w = df.filter(pl.col("__weight_null") | (pl.col("__weight") <= 0) | pl.col("__weight").is_null()
                      | pl.col("__weight").is_infinite())
    if bad_w.height:
        shown = ", ".join(f"row {r} ({v})" for r, v in bad_w.select("__row", "__weight_raw").head(10).iter_rows())
        raise FatalSourceError(
            f"{path.name}: {bad_w.height} row(s) with missing, zero, negative, infinite or unreadable weight: {shown}"
            f"{' ...' if bad_w.height > 10 else ''}; expected a positive number in every row"
        )

    # 4. Cell checks: XLSForm types, then the mapping's design columns and canonical questions.
    if form is not None:
        retyped = {c for c, fix in mapping.form_fixes.items() if fix.type is not None}
        _type_by_form(df, form, problems, skip={"__weight", "__weight_raw", "__weight_null"} | retyped)
    problems.add_frame(df.filter(pl.col(id_col).is_null()), id_col, "respondent id is blank")

    # Governorate: resolved through the one resolver (data_contracts.governorates).
    gref = mapping.governorate
    gov_values = _ref_expr(gref, id_col)
    if gref.column and gref.via != "value" and form is not None:
        q = form.questions[gref.column]
        labels = {code: (en if gref.via == "label_en" else ar) for code, (en, ar) in form.choices[q.list_name].items()}
        gov_values = pl.col(gref.column).replace_strict(labels, default=pl.col(gref.column), return_dtype=pl.String)
    if gref.column and gref.recode is not None:
        gv = pl.col(gref.column).str.strip_chars()
        recoded = gv.replace_strict(gref.recode, default="__unmapped__", return_dtype=pl.String)
        problems.add_frame(df.filter(gv.is_not_null() & (recoded == "__unmapped__")), gref.column,
                           f"value not in the mapping's recode for governorate (expected one of {sorted(gref.recode)})")
        gov_values = pl.when(recoded == "__unmapped__").then(None).otherwise(recoded)
    if mapping.governorate_by_district is not None:
        by = mapping.governorate_by_district
        gov_values = pl.when(pl.col(by.column).is_in(list(by.districts))).then(
            pl.col(by.column).replace_strict(by.districts, default=None, return_dtype=pl.String)
        ).otherwise(gov_values)
    df = df.with_columns(gov_values.cast(pl.String).alias("__gov_name"))
    names = df["__gov_name"].drop_nulls().unique().to_list()
    resolved = {n: resolve_governorate_name(n) for n in names}
    df = df.with_columns(
        pl.col("__gov_name").replace_strict({n: r[0] for n, r in resolved.items()}, default=None, return_dtype=pl.String).alias("__pcode"),
        pl.col("__gov_name").replace_strict({n: r[1] for n, r in resolved.items()}, default=None, return_dtype=pl.String).alias("__gov_err"),
    )
    gcol = gref.column or "governorate"
    problems.add_frame(
        df.filter(pl.col("__pcode").is_null()).with_columns(pl.col("__gov_name").alias(gcol)),
        gcol,
        pl.coalesce(pl.col("__gov_err"), pl.lit("governorate is blank")),
    )

    design = {}
    for name, ref in (("stratum", mapping.stratum), ("psu", mapping.psu)):
        design[name] = _ref_expr(ref, id_col).cast(pl.String)
        if ref.column:
            problems.add_frame(df.filter(pl.col(ref.column).is_null()), ref.column, f"{name} is blank")
    attribute_refs = {f"__attr_{name}": ref for name, ref in mapping.disaggregations.items()}
    for name, ref, allowed in (
        ("hoh_sex", mapping.hoh_sex, ["male", "female"]),
        ("urban_rural", mapping.urban_rural, ["urban", "rural"]),
        ("district_pcode", mapping.district, None),
        *((key, ref, None) for key, ref in attribute_refs.items()),
    ):
        if ref is None:
            design[name] = pl.lit(None, pl.String)
            continue
        expr = _ref_expr(ref, id_col).cast(pl.String).str.strip_chars()
        if ref.recode is not None:
            recoded = expr.replace_strict(ref.recode, default="__unmapped__", return_dtype=pl.String)
            if ref.column:
                problems.add_frame(
                    df.filter(expr.is_not_null() & (recoded == "__unmapped__")), ref.column,
                    f"value not in the mapping's recode for {name.removeprefix('__attr_')} (expected one of {sorted(ref.recode)})",
                )
            expr = pl.when(recoded == "__unmapped__").then(None).otherwise(recoded)
        elif allowed is not None and ref.column:
            problems.add_frame(
                df.filter(expr.is_not_null() & ~expr.is_in(allowed)), ref.column, f"{name} must be one of {allowed}"
            )
        design[name] = expr
    if mapping.district is not None:
        df, design["district_pcode"] = _resolve_districts(df, design["district_pcode"], mapping, problems)
    if mapping.interview_date is not None:
        dref = mapping.interview_date
        text = _digits(_ref_expr(dref, id_col).cast(pl.String).str.strip_chars())
        if dref.recode is not None:
            # values written another way ("unknown", "15/03/2024") are recoded onto an ISO date or a blank;
            # every other value must itself be a date (dates are too many to list)
            text = pl.when(text.is_in(list(dref.recode))).then(
                text.replace_strict(dref.recode, default=None, return_dtype=pl.String)).otherwise(text)
        dates = _calendar_day(text)
        if dref.column:
            problems.add_frame(
                df.filter(text.is_not_null() & (~text.str.contains(_DATETIME_RE) | dates.is_null())),
                dref.column, "interview date is not a valid ISO date/timestamp (YYYY-MM-DD, a real calendar day and "
                             "time of day)",
            )
            check_fieldwork_window(df, dates, dref.column, problems)
            # A blank start (a device that lost it) falls back to the form's other device-local dates, in
            # order: today, start, end (never _submission_time, which is UTC server time).
            fallbacks = [c for c in ("today", "start", "end") if c != dref.column and c in df.columns
                         and (form is None or c not in form.questions or form.questions[c].type in ("today", "start", "end", "date", "datetime"))]
            for c in fallbacks:
                alt = _digits(pl.col(c).cast(pl.String))
                dates = pl.when(pl.col(dref.column).is_null() & alt.str.contains(_DATETIME_RE)).then(_calendar_day(alt)).otherwise(dates)
            blank = df.filter(pl.col(dref.column).is_null()).height
            still = df.select(dates.is_null().sum()).item() if blank else 0
            if blank:
                result.notes.append({"file_name": path.name, "note": (
                    f"{blank} row(s) with a blank {dref.column}: interview date taken from "
                    f"{' / '.join(fallbacks) or 'nothing'}; {still} row(s) left without an interview date")})
        design["interview_date"] = dates
    else:
        design["interview_date"] = pl.lit(None, pl.Date)

    # Canonical questions: recode onto the question bank scale, check it; numbers within range.
    answers = []
    for qid, qmap in mapping.questions.items():
        spec = bank[qid]
        if qmap.column not in df.columns:
            # a form version without this question: nobody was asked, so no answer rows (no estimate) for it
            result.notes.append({"file_name": path.name, "note": f"question {qid}: column {qmap.column!r} is not in "
                                 "this file (not asked in this wave); no estimate for it from this file"})
            continue
        v = pl.col(qmap.column).cast(pl.String).str.strip_chars()
        if qmap.null_values:
            v = pl.when(v.is_in(qmap.null_values)).then(None).otherwise(v)
        nonresponse = list(spec.get("nonresponse_codes", []))
        if spec["answer_type"] == "select_one" and qmap.scale is not None:
            sc = qmap.scale
            valid = [*BOX_CODES, *nonresponse]
            code = pl.when(v.is_not_null()).then(v.replace_strict(sc.recode(), default="__unmapped__", return_dtype=pl.String))
            problems.add_frame(
                df.filter(v.is_not_null() & ~code.is_in(valid)), qmap.column,
                f"answer not on the {sc.points}-point scale the mapping declares for {qid} (expected one of "
                f"{sorted(sc.recode())})",
            )
            scale_text = (f"{sc.points}-point: top box {sc.top_box}, middle {sc.middle}, bottom box {sc.bottom_box}")
            answers.append((qid, code, pl.lit(None, pl.Float64), v, scale_text))
            result.notes.append({"file_name": path.name, "note": f"question {qid}: delivered on a {sc.points}-point scale "
                                 f"({qmap.column}); top box {sc.top_box}, bottom box {sc.bottom_box}: it counts in "
                                 f"{qid}'s top-box and bottom-box indicators only"})
        elif spec["answer_type"] == "select_one":
            valid = list(spec.get("choice_codes", [])) + nonresponse
            code = (pl.when(v.is_not_null()).then(v.replace_strict(qmap.recode, default="__unmapped__", return_dtype=pl.String))
                    if qmap.recode else v)
            problems.add_frame(
                df.filter(v.is_not_null() & ~code.is_in(valid)),
                qmap.column,
                f"answer not on the scale of canonical question {qid} (expected one of {valid}"
                + (" after the mapping's recode)" if qmap.recode else ")"),
            )
            answers.append((qid, code, pl.lit(None, pl.Float64), v, "canonical"))
        else:
            # a numeric question's recode names its "don't know" codes (e.g. 99): nonresponse, not a number
            code = (v.replace_strict(qmap.recode, default=None, return_dtype=pl.String) if qmap.recode
                    else pl.lit(None, pl.String))
            v_num = pl.when(code.is_null()).then(v)
            num = _number(v_num)
            problems.add_frame(df.filter(num.is_infinite()), qmap.column, f"{INFINITE} (canonical question {qid})")
            lo, hi = spec.get("min_value"), spec.get("max_value")
            pattern = _INT_RE if spec["answer_type"] == "integer" else _NUM_RE
            problems.add_frame(
                df.filter(v_num.is_not_null() & ~_digits(v_num).str.contains(pattern)),
                qmap.column, f"not a {'whole ' if spec['answer_type'] == 'integer' else ''}number (canonical question {qid})",
            )
            if lo is not None and hi is not None:
                problems.add_frame(
                    df.filter(num.is_not_null() & ((num < lo) | (num > hi))),
                    qmap.column, f"outside the valid range {lo}–{hi} {spec.get('unit', '')} of canonical question {qid}".rstrip(),
                )
            answers.append((qid, code, num, v, "canonical"))

    # 5. Whole rows with any failing cell are quarantined; the rest is harmonised and contract-checked.
    bad_rows = problems.rows()
    ok = df.filter(~pl.col("__row").is_in(list(bad_rows)))
    respondents = ok.select(
        pl.lit(src_id).alias("source_id"), pl.lit(wave_id).alias("wave_id"), pl.lit(path.name).alias("file_name"),
        pl.lit(sha).alias("file_sha256"), pl.col("__row").cast(pl.Int64).alias("row_number"),
        pl.col(id_col).cast(pl.String).alias("respondent_id"), pl.col("__pcode").alias("governorate_pcode"),
        design["district_pcode"].alias("district_pcode"), design["stratum"].alias("stratum"), design["psu"].alias("psu"),
        pl.col("__weight").cast(pl.Float64).alias("weight"), design["hoh_sex"].alias("hoh_sex"),
        design["urban_rural"].alias("urban_rural"), design["interview_date"].alias("interview_date"),
        pl.lit(mapping.is_synthetic).alias("is_synthetic"),
    )
    long_answers = pl.concat(
        [
            ok.select(
                pl.lit(src_id).alias("source_id"), pl.lit(wave_id).alias("wave_id"),
                pl.lit(sha).alias("file_sha256"), pl.col("__row").cast(pl.Int64).alias("row_number"),
                pl.col(id_col).cast(pl.String).alias("respondent_id"), pl.lit(qid).alias("question_id"),
                code.alias("answer_code"), num.alias("answer_numeric"), src.alias("answer_source"),
                pl.lit(scale).alias("source_scale"),
            )
            for qid, code, num, src, scale in answers
        ]
    ) if answers else pl.DataFrame()
    attributes = pl.concat(
        [
            ok.select(
                pl.lit(src_id).alias("source_id"), pl.lit(wave_id).alias("wave_id"),
                pl.lit(sha).alias("file_sha256"), pl.col("__row").cast(pl.Int64).alias("row_number"),
                pl.col(id_col).cast(pl.String).alias("respondent_id"), pl.lit(key.removeprefix("__attr_")).alias("attribute"),
                design[key].alias("value"),
            ).filter(pl.col("value").is_not_null())
            for key in attribute_refs
        ]
    ) if attribute_refs else pl.DataFrame(schema=ATTRIBUTE_SCHEMA)
    failures = contract_failures(SurveyRespondent, respondents)
    if long_answers.height:
        failures += contract_failures(SurveyAnswer, long_answers)
    if failures:
        problems.add_rows(failures)
        failed = {f[0] for f in failures}
        respondents = respondents.filter(~pl.col("row_number").is_in(list(failed)))
        long_answers = long_answers.filter(~pl.col("row_number").is_in(list(failed)))
        attributes = attributes.filter(~pl.col("row_number").is_in(list(failed)))
        ok = ok.filter(~pl.col("__row").is_in(list(failed)))

    excluded = p.part.excluded_frame()
    repeat_rows = _repeat_groups(p, wave_id, mapping, form, set(ok["__row"].to_list()),
                                 set(excluded["__row"].to_list()), result)
    quarantine = problems.frame()
    result.quarantine.append(quarantine)
    n_q = quarantine["row_number"].n_unique()
    result.files.append(
        FileAccount(
            source_id=src_id, file_name=path.name, file_path=str(path.resolve()), file_sha256=sha,
            file_bytes=p.file.size_bytes, rows_read=rows_read, rows_loaded=respondents.height,
            rows_excluded=excluded.height, rows_quarantined=n_q,
        )
    )
    result.exclusions.append(excluded.select(
        pl.lit(src_id).alias("source_id"), pl.lit(path.name).alias("file_name"), pl.lit(sha).alias("file_sha256"),
        pl.col("__row").cast(pl.Int64).alias("row_number"), "reason", pl.lit(None, pl.String).alias("sheet_name"),
    ))
    return {
        "survey_respondents": respondents,
        "survey_respondent_attributes": attributes,
        "survey_answers": long_answers,
        "survey_repeat_rows": repeat_rows,
        "__dates": respondents.select("interview_date"),
        "__loaded": ok,
    }



def _resolve_districts(
    df: pl.DataFrame, names: pl.Expr, mapping: SurveyMapping, problems: Problems
) -> tuple[pl.DataFrame, pl.Expr]:
    """District names (after the mapping's recode) → COD-AB 2019 district p-codes, within the row's
    governorate (``data_contracts.districts``); unknown names, a district of another governorate, and a
    district COD-AB splits are quarantined with the resolver's message."""
    col = mapping.district.column or "district"
    df = df.with_columns(names.alias("__district_name"))
    pairs = df.select("__district_name", "__pcode").drop_nulls().unique().rows()
    resolved: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    for name, gov in pairs:
        try:
            resolved[(name, gov)] = (resolve_district(name, gov), None)
        except DistrictError as exc:
            resolved[(name, gov)] = (None, str(exc))
    lookup = pl.DataFrame(
        [(n, g, r[0], r[1]) for (n, g), r in resolved.items()],
        schema={"__district_name": pl.String, "__pcode": pl.String, "__district_pcode": pl.String,
                "__district_err": pl.String}, orient="row")
    df = df.join(lookup, on=["__district_name", "__pcode"], how="left", maintain_order="left")
    problems.add_frame(df.filter(pl.col("__district_err").is_not_null()).with_columns(
        pl.col("__district_name").alias(col)), col, pl.col("__district_err"))
    return df, pl.col("__district_pcode")


def _repeat_groups(
    p: _Prepared, wave_id: str, mapping: SurveyMapping, form: XLSForm | None, loaded: set[int], excluded: set[int],
    result: SourceResult,
) -> pl.DataFrame:
    """The repeat groups of one file, linked to their submissions, long (``raw.survey_repeat_rows``).

    A row follows its parent: loaded with a loaded parent, excluded with an excluded one, quarantined with a
    quarantined one; an orphan (no parent row with its key) and a row with a failing cell are quarantined
    (``audit.quarantine`` with ``sheet_name``). Accounting per group in ``result.repeat_accounts``.
    """
    if not p.file.repeats:
        return pl.DataFrame()
    central = mapping.format == "odk_central_csv"
    parent_key, child_key = ("KEY", "PARENT_KEY") if central else ("_index", "_parent_index")
    main = p.file.frame
    # state of every row of every table: loaded / excluded / quarantined, by table name
    state: dict[str, dict[int, str]] = {"main": {r: ("loaded" if r in loaded else "excluded" if r in excluded
                                                     else "quarantined") for r in main["__row"].to_list()}}
    frames: dict[str, pl.DataFrame] = {"main": main}
    out = []
    id_col = mapping.respondent_id
    respondent_of: dict[str, dict[int, str]] = {
        "main": dict(zip(main["__row"].to_list(), main[id_col].cast(pl.String).to_list()))}
    for name, spec in mapping.repeats.items():
        child = p.file.repeats[name]
        sheet = p.file.repeat_files[name]
        parent_frame = frames.get(spec.parent)
        if parent_frame is None:
            raise FatalSourceError(f"{p.file.path.name}: repeat group {name!r}: its parent {spec.parent!r} must be "
                                   "listed before it under repeats:")
        for key, frame, what in ((parent_key, parent_frame, spec.parent), (child_key, child, name)):
            if key not in frame.columns:
                raise FatalSourceError(f"{sheet}: repeat group {what!r} has no {key} column to link rows by")
        link = link_repeat(parent_frame.drop("__row"), child.drop("__row"), parent_key=parent_key, child_key=child_key,
                           parent_name=spec.parent, child_name=sheet)
        linked = child.with_columns(link.frame["__parent_row"])
        problems = Problems(mapping.source_id, p.file.path.name, p.file.sha256, sheet=sheet)
        problems.add_frame(linked.filter(pl.col("__parent_row").is_null()), child_key,
                           f"orphan row of repeat group {name!r}: its {child_key} matches no {parent_key} of {spec.parent}")
        parent_state = state[spec.parent]
        follows = linked.with_columns(pl.col("__parent_row").replace_strict(parent_state, default=None,
                                                                           return_dtype=pl.String).alias("__ps"))
        problems.add_frame(follows.filter(pl.col("__ps") == "quarantined"), child_key,
                           f"its submission ({spec.parent} row) was quarantined")
        excluded_rows = set(follows.filter(pl.col("__ps") == "excluded")["__row"].to_list())
        live = follows.filter(pl.col("__ps") == "loaded")
        if form is not None:
            _type_by_form(live, form, problems, skip={child_key, parent_key, "__parent_row", "__ps"})
        bad = problems.rows()
        states = {r: ("excluded" if r in excluded_rows else "quarantined" if r in bad else "loaded")
                  for r in child["__row"].to_list()}
        if excluded_rows:
            result.exclusions.append(follows.filter(pl.col("__row").is_in(list(excluded_rows))).select(
                pl.lit(mapping.source_id).alias("source_id"), pl.lit(p.file.path.name).alias("file_name"),
                pl.lit(p.file.sha256).alias("file_sha256"), pl.col("__row").cast(pl.Int64).alias("row_number"),
                pl.lit(f"its submission ({spec.parent} row) was excluded").alias("reason"),
                pl.lit(sheet).alias("sheet_name")))
        quarantine = problems.frame()
        result.quarantine.append(quarantine)
        n_loaded = sum(1 for s in states.values() if s == "loaded")
        result.repeat_accounts.append(RepeatAccount(
            source_id=mapping.source_id, file_name=p.file.path.name, file_sha256=p.file.sha256, repeat_group=name,
            sheet_name=sheet, rows_read=child.height, rows_loaded=n_loaded, rows_excluded=len(excluded_rows),
            rows_quarantined=quarantine["row_number"].n_unique()))
        state[name], frames[name] = states, child
        parent_resp = respondent_of[spec.parent]
        respondent_of[name] = {r: parent_resp.get(pr) for r, pr in
                               zip(linked["__row"].to_list(), linked["__parent_row"].to_list())}
        ok = linked.filter(pl.col("__row").is_in([r for r, s in states.items() if s == "loaded"]))
        fields = [c for c in ok.columns if not c.startswith("__")]
        types = {c: (form.questions[c].type if form and c in form.questions else "text") for c in fields}
        long = ok.select(
            pl.col("__row").cast(pl.Int64).alias("row_number"),
            pl.col("__parent_row").cast(pl.Int64).alias("parent_row_number"),
            *[pl.col(c).cast(pl.String) for c in fields],
        ).unpivot(index=["row_number", "parent_row_number"], variable_name="field_name", value_name="value_text").filter(
            pl.col("value_text").is_not_null())
        numeric = [c for c, t in types.items() if t in ("integer", "decimal")]
        out.append(long.with_columns(
            pl.lit(mapping.source_id).alias("source_id"), pl.lit(wave_id).alias("wave_id"),
            pl.lit(p.file.sha256).alias("file_sha256"), pl.lit(name).alias("repeat_group"),
            pl.lit(sheet).alias("sheet_name"), pl.lit(spec.parent).alias("parent_group"),
            pl.col("row_number").replace_strict(respondent_of[name], default=None, return_dtype=pl.String)
            .alias("respondent_id"),
            pl.col("field_name").replace_strict(types, default="text", return_dtype=pl.String).alias("field_type"),
            pl.when(pl.col("field_name").is_in(numeric)).then(_number(pl.col("value_text"))).alias("value_numeric"),
        ))
    return pl.concat(out, how="diagonal_relaxed") if out else pl.DataFrame()


#: Loaded rows turned into the long tables of fields as delivered at a time (about 40 rows per respondent).
DELIVERED_SLICE_ROWS = 25_000


def _delivered_slices(delivered: list[tuple[pl.DataFrame, XLSForm | None, str]], mapping: SurveyMapping,
                      wave_id: str) -> Iterator[dict[str, pl.DataFrame]]:
    """``survey_submissions`` and ``survey_multi_select`` rows of a wave's loaded rows, per file, in slices of
    :data:`DELIVERED_SLICE_ROWS` respondents (:func:`_as_delivered`)."""
    for ok, form, sha in delivered:
        for part in ok.iter_slices(DELIVERED_SLICE_ROWS):
            submissions, multi = _as_delivered(part, mapping, form, wave_id, sha)
            yield {"survey_submissions": submissions, "survey_multi_select": multi}


def _as_delivered(
    ok: pl.DataFrame, mapping: SurveyMapping, form: XLSForm | None, wave_id: str, sha: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every non-personal delivered field of the loaded rows, long, typed by the form; and the choices of
    every select_multiple question, respondent × choice (``is_selected`` NULL when the question was
    skipped), from its split columns or, when the export has none, from its space-separated answer."""
    id_col = mapping.respondent_id
    splits = form.split_columns() if form else {}
    fields = [c for c in ok.columns if not c.startswith("__") and c not in splits]
    index = ["source_id", "wave_id", "file_sha256", "row_number", "respondent_id"]
    keys = [
        pl.lit(mapping.source_id).alias("source_id"), pl.lit(wave_id).alias("wave_id"), pl.lit(sha).alias("file_sha256"),
        pl.col("__row").cast(pl.Int64).alias("row_number"), pl.col(id_col).cast(pl.String).alias("respondent_id"),
    ]
    long = ok.select(*keys, *[pl.col(c).cast(pl.String) for c in fields]).unpivot(
        index=index, variable_name="field_name", value_name="value_text",
    ).filter(pl.col("value_text").is_not_null())
    types = {c: (form.questions[c].type if form and c in form.questions else "text") for c in fields}
    numeric_fields = [c for c, t in types.items() if t in ("integer", "decimal")]
    long = long.with_columns(
        pl.col("field_name").replace_strict(types, default="text", return_dtype=pl.String).alias("field_type"),
        pl.when(pl.col("field_name").is_in(numeric_fields)).then(_number(pl.col("value_text"))).otherwise(None).alias("value_numeric"),
    )
    multi_schema = {"source_id": pl.String, "wave_id": pl.String, "file_sha256": pl.String, "row_number": pl.Int64,
                    "respondent_id": pl.String, "field_name": pl.String, "choice_code": pl.String,
                    "is_selected": pl.Boolean}
    parts = []
    split_cols = [c for c in ok.columns if c in splits]
    if split_cols:
        parts.append(ok.select(*keys, *[pl.col(c) for c in split_cols]).unpivot(
            index=index, variable_name="__split", value_name="__v",
        ).with_columns(
            pl.col("__split").replace_strict({k: v[0] for k, v in splits.items()}, return_dtype=pl.String).alias("field_name"),
            pl.col("__split").replace_strict({k: v[1] for k, v in splits.items()}, return_dtype=pl.String).alias("choice_code"),
            pl.when(pl.col("__v").str.strip_chars().is_in(_SPLIT_TRUE)).then(True)
            .when(pl.col("__v").str.strip_chars().is_in(_SPLIT_FALSE)).then(False).otherwise(None).alias("is_selected"),
        ).drop("__split", "__v"))
    with_splits = {splits[c][0] for c in split_cols}
    summary_only = [c for c in fields if c in (form.questions if form else {}) and form.questions[c].type == "select_multiple"
                    and c not in with_splits]
    for col in summary_only:
        codes = form.choice_codes(col)
        base = ok.select(*keys, pl.col(col).str.strip_chars().str.split(" ").alias("__toks"))
        parts.append(base.with_columns(pl.lit(codes, pl.List(pl.String)).alias("choice_code")).explode("choice_code")
                     .with_columns(pl.lit(col).alias("field_name"),
                                   pl.when(pl.col("__toks").is_null()).then(None)
                                   .otherwise(pl.col("__toks").list.contains(pl.col("choice_code"))).alias("is_selected"))
                     .drop("__toks"))
    multi = pl.concat([f.select(list(multi_schema)).cast(multi_schema) for f in parts]) if parts \
        else pl.DataFrame(schema=multi_schema)
    return long, multi
