"""Ingest one training source (participant records of the programme's courses) through its mapping.

Per delivered file (CSV or XLSX, one row per participant × cohort):

- columns the mapping does not name (names, phone numbers, e-mails, ID numbers, notes) are dropped before
  any value is read; only their names go to ``audit.dropped_columns``;
- a row with no value in any mapped column is excluded (``audit.exclusions``);
- every mapped field is parsed strictly; a row with a failing cell is quarantined with file, row, column,
  value and reason (a track, level or sex the recode does not know; a governorate the resolver does not
  know; a date that is not ISO; an attendance outside 0-100 %; a score outside 0..score_max);
- a participant registered in two cohorts of one track (same ``participant_id``) keeps the earliest cohort
  (by start date, then cohort, then file and row); the later registration is quarantined naming the first;
- a post-test without a pre-test is loaded (the person was trained) and listed in ``audit.review_flags``:
  it has no knowledge gain.

Per file: rows read = loaded + excluded + quarantined. Output tables: ``raw.training_participants`` (one
row per loaded participant × cohort: track, cohort, cohort_start, period, institution_type,
governorate_pcode, level_of_government, sex, role, sessions, attendance_pct (mean over sessions, %),
pre_test, post_test (points), score_max, completion_threshold_pct), ``raw.training_attendance`` (one row
per loaded participant × session: attendance_pct) and ``raw.training_sources``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from data_contracts.parsing import ValueParseError, parse_date, parse_number
from data_contracts.training_mapping import TrainingMapping
from pipelines.ingest.common import (
    DROPPED_SCHEMA,
    EXCLUSION_SCHEMA,
    DiscoveredSource,
    FatalSourceError,
    FileAccount,
    Problems,
    SourceResult,
    resolve_governorate_name,
)
from pipelines.readers.delimited import read_delimited, sha256_of
from pipelines.readers.workbook import read_workbook

PARTICIPANT_SCHEMA = {
    "source_id": pl.String, "file_name": pl.String, "file_sha256": pl.String, "row_number": pl.Int64,
    "participant_id": pl.String, "track": pl.String, "cohort": pl.String, "cohort_start": pl.Date,
    "period": pl.String, "institution_type": pl.String, "governorate_pcode": pl.String,
    "level_of_government": pl.String, "sex": pl.String, "role": pl.String, "sessions": pl.Int64,
    "attendance_pct": pl.Float64, "pre_test": pl.Float64, "post_test": pl.Float64, "score_max": pl.Float64,
    "completion_threshold_pct": pl.Float64, "is_synthetic": pl.Boolean,
}
ATTENDANCE_SCHEMA = {
    "source_id": pl.String, "file_sha256": pl.String, "row_number": pl.Int64, "participant_id": pl.String,
    "cohort": pl.String, "session_number": pl.Int64, "session_name": pl.String, "attendance_pct": pl.Float64,
}
FLAG_SCHEMA = {"source_id": pl.String, "wave_id": pl.String, "flag": pl.String, "file_name": pl.String,
               "row_number": pl.Int64, "respondent_id": pl.String, "detail": pl.String}
DROP_REASON = "not named by the mapping: dropped before loading (may hold names, phone numbers or e-mails)"


def _read(path: Path, m: TrainingMapping) -> pl.DataFrame:
    if m.format == "xlsx":
        return read_workbook(path, main_sheet=m.sheet, other_sheets=False).frame
    return read_delimited(path, encoding=m.encoding, delimiter=m.delimiter).frame


def _text(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _recode(value: str | None, recode: dict[str, str], what: str) -> str:
    if value is None:
        raise ValueParseError(f"{what} is missing")
    if value not in recode:
        raise ValueParseError(f"{value!r} is not in the mapping's {what} recode ({', '.join(sorted(recode))})")
    return recode[value]


def _number_in(value: str | None, low: float, high: float, what: str) -> float | None:
    if value is None:
        return None
    x = parse_number(value)
    if not low <= x <= high:
        raise ValueParseError(f"{what} {x:g} is outside {low:g}-{high:g}")
    return x


class _Row:
    """Parses the mapped cells of one row; ``problems`` collects (column, value, reason)."""

    def __init__(self, m: TrainingMapping, row: dict[str, str | None]):
        self.m, self.row, self.problems = m, row, []

    def get(self, column: str, parse):
        value = _text(self.row.get(column))
        try:
            return parse(value)
        except ValueParseError as exc:
            self.problems.append((column, value, str(exc)))
            return None

    def parse(self) -> dict:
        m, c = self.m, self.m.columns

        def required(what):
            def check(v):
                if v is None:
                    raise ValueParseError(f"{what} is missing")
                return v
            return check

        def institution(v):
            if v is None:
                raise ValueParseError("governorate or institution is missing")
            if v in m.institutions:
                return m.institutions[v], None
            pcode, reason = resolve_governorate_name(v)
            if pcode is None:
                raise ValueParseError(f"neither a governorate nor one of the mapping's institutions: {reason}")
            return "governorate", pcode

        out = {
            "participant_id": self.get(c.participant_id, required("participant code")),
            "track": self.get(c.track, lambda v: _recode(v, m.track_recode, "track")),
            "cohort": self.get(c.cohort, required("cohort")),
            "cohort_start": self.get(c.cohort_start, lambda v: parse_date(required("cohort start")(v))),
            "level_of_government": self.get(c.level_of_government, lambda v: _recode(v, m.level_recode, "level")),
            "sex": self.get(c.sex, lambda v: _recode(v, m.sex_recode, "sex")),
            "role": _text(self.row.get(c.role)) if c.role else None,
            "pre_test": self.get(c.pre_test, lambda v: _number_in(v, 0, m.score_max, "score")),
            "post_test": self.get(c.post_test, lambda v: _number_in(v, 0, m.score_max, "score")),
        }
        inst = self.get(c.institution, institution)
        out["institution_type"], out["governorate_pcode"] = inst if inst else (None, None)
        out["attendance"] = [
            self.get(s, lambda v: _number_in(required("attendance")(v), 0, 100, "attendance (% of the session)"))
            for s in m.sessions
        ]
        return out


def ingest_training_source(src: DiscoveredSource, m: TrainingMapping, files: list[Path]) -> SourceResult:
    """Load every file of a training source (module docstring).

    Returns:
        A :class:`SourceResult` with tables ``training_participants``, ``training_attendance``,
        ``training_sources``, the per-file accounts, quarantine, exclusions, dropped columns and review flags.

    Raises:
        FatalSourceError: a file lacks a column the mapping names (the file and the missing columns).
    """
    result = SourceResult(source_id=src.source_id, domain="training")
    candidates: list[dict] = []
    problems: dict[str, Problems] = {}
    meta: dict[str, tuple[str, int, list[int]]] = {}
    for path in files:
        sha = sha256_of(path)
        frame = _read(path, m)
        wanted = [v for v in m.columns.model_dump().values() if v] + list(m.sessions)
        missing = [col for col in wanted if col not in frame.columns]
        if missing:
            raise FatalSourceError(f"{path.name}: the mapping names columns the file does not have: {missing} "
                                   f"(the file has {frame.columns})")
        dropped = [col for col in frame.columns if col not in wanted]
        if dropped:
            result.dropped_columns.append(pl.DataFrame(
                {"source_id": src.source_id, "file_name": path.name, "column_name": dropped, "reason": DROP_REASON},
                schema=DROPPED_SCHEMA))
        frame = frame.select(wanted)  # personal columns are gone before any value is read
        probs = problems[path.name] = Problems(src.source_id, path.name, sha)
        excluded = []
        for i, row in enumerate(frame.iter_rows(named=True), start=1):
            if all(_text(v) is None for v in row.values()):
                excluded.append(i)
                continue
            parser = _Row(m, row)
            parsed = parser.parse()
            if parser.problems:
                probs.add_rows([(i, col, val, reason) for col, val, reason in parser.problems])
                continue
            candidates.append({**parsed, "file_name": path.name, "file_sha256": sha, "row_number": i})
        if excluded:
            result.exclusions.append(pl.DataFrame(
                {"source_id": src.source_id, "file_name": path.name, "file_sha256": sha, "row_number": excluded,
                 "reason": "blank row (no value in any mapped column)", "sheet_name": None}, schema=EXCLUSION_SCHEMA))
        meta[path.name] = (sha, frame.height, excluded)
        result.files.append(FileAccount(src.source_id, path.name, str(path), sha, path.stat().st_size,
                                        frame.height, 0, len(excluded), 0))
    loaded = _drop_second_registrations(candidates, problems)
    for acc in result.files:
        quarantined = problems[acc.file_name].rows()
        acc.rows_quarantined = len(quarantined)
        acc.rows_loaded = acc.rows_read - acc.rows_excluded - acc.rows_quarantined
        result.quarantine.append(problems[acc.file_name].frame())
    result.tables = _tables(src, m, loaded)
    # wave_id carries the cohort: the run summary and the Data quality page group flags by it
    flags = [{"source_id": src.source_id, "wave_id": r["cohort"], "flag": "post_test_without_pre_test",
              "file_name": r["file_name"], "row_number": r["row_number"], "respondent_id": r["participant_id"],
              "detail": f"cohort {r['cohort']}: a post-test score without a pre-test; loaded, no knowledge gain"}
             for r in loaded if r["post_test"] is not None and r["pre_test"] is None]
    for file_name in sorted({f["file_name"] for f in flags}):
        rows = [f["row_number"] for f in flags if f["file_name"] == file_name]
        result.notes.append({"file_name": file_name, "note": f"row(s) {', '.join(map(str, rows))}: a post-test "
                             "but no pre-test: trained, left out of the knowledge gain (audit.review_flags)"})
    if flags:
        result.review_flags.append(pl.DataFrame(flags, schema=FLAG_SCHEMA))
    return result


def _drop_second_registrations(rows: list[dict], problems: dict[str, Problems]) -> list[dict]:
    """Keep each participant's earliest cohort of a track; quarantine later registrations in that track."""
    first: dict[tuple[str, str], dict] = {}
    kept = []
    for r in sorted(rows, key=lambda r: (r["cohort_start"], r["cohort"], r["file_name"], r["row_number"])):
        key = (r["participant_id"], r["track"])
        if key in first:
            f = first[key]
            problems[r["file_name"]].add_rows([(
                r["row_number"], "participant_id", r["participant_id"],
                f"participant already registered in cohort {f['cohort']} of track {r['track']} "
                f"({f['file_name']} row {f['row_number']}); one person counts once per track",
            )])
            continue
        first[key] = r
        kept.append(r)
    return kept


def _tables(src: DiscoveredSource, m: TrainingMapping, rows: list[dict]) -> dict[str, pl.DataFrame]:
    participants = pl.DataFrame(
        [{**{k: r.get(k) for k in PARTICIPANT_SCHEMA}, "source_id": src.source_id,
          "period": str(r["cohort_start"].year), "sessions": len(r["attendance"]),
          "attendance_pct": sum(r["attendance"]) / len(r["attendance"]), "score_max": m.score_max,
          "completion_threshold_pct": m.completion_threshold_pct, "is_synthetic": m.is_synthetic}
         for r in rows],
        schema=PARTICIPANT_SCHEMA,
    )
    attendance = pl.DataFrame(
        [{"source_id": src.source_id, "file_sha256": r["file_sha256"], "row_number": r["row_number"],
          "participant_id": r["participant_id"], "cohort": r["cohort"], "session_number": j + 1,
          "session_name": name, "attendance_pct": a}
         for r in rows for j, (name, a) in enumerate(zip(m.sessions, r["attendance"]))],
        schema=ATTENDANCE_SCHEMA,
    )
    sources = pl.DataFrame([{"source_id": src.source_id, "title": m.title, "citation": m.citation,
                             "is_synthetic": m.is_synthetic, "completion_threshold_pct": m.completion_threshold_pct,
                             "score_max": m.score_max, "sessions": len(m.sessions)}])
    return {"training_participants": participants, "training_attendance": attendance, "training_sources": sources}
