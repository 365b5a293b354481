"""Apply reviewed cleaning logs on top of a source's delivered files, during ingestion; the files stay
unchanged, every applied change is audited.

Rules (docs/cleaning.md, "What is refused and why"): logs apply in order, each line on the data as the lines
before it left it. ``change_response`` sets the new value, checked against the form (type, choice list,
constraint); ``blank_response`` sets it missing; ``remove_survey`` excludes the interview with the log's
reason (counted in rows_excluded); ``no_action`` changes nothing. A line refers to an existing uuid and (but
for ``remove_survey`` and whole-interview ``no_action`` lines) an existing, non-personal question; a non-blank
``old_value`` must be the value found, compared as the question's type (:mod:`pipelines.cleaning.values`); a
blank one records the value found. Within one log, a repeated line applies once and two lines giving one
uuid and question different values are refused. Any refusal stops the run naming the log file and line.

A change to a select_multiple question keeps its split columns in step (and a change to a split column its
space-separated answer), so the ingestion's agreement check still holds; those follow-on changes are
audited too, with the same log line.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from data_contracts.mapping import SurveyMapping
from pipelines.cleaning.checks import WITHHELD, name_map
from pipelines.cleaning.expressions import ExpressionError, compile_expression
from pipelines.cleaning.log_files import CHANGE_TYPES, CleaningLog, LogLine
from pipelines.cleaning.values import canonical, kind_of, problem_with, same
from pipelines.ingest.common import FatalSourceError
from pipelines.ingest.survey import GPS_VALUE, PHONE_VALUE
from pipelines.ingest.survey_dedup import FilePart
from pipelines.ingest.survey_read import SurveyFile

CHANGE_SCHEMA = {
    "source_id": pl.String, "wave_id": pl.String, "file_name": pl.String, "file_sha256": pl.String,
    "row_number": pl.Int64, "respondent_id": pl.String, "question": pl.String, "old_value": pl.String,
    "new_value": pl.String, "change_type": pl.String, "issue": pl.String, "log_file": pl.String,
    "log_sha256": pl.String, "log_line": pl.Int64,
}
LOG_SCHEMA = {"source_id": pl.String, "wave_id": pl.String, "log_file": pl.String, "log_sha256": pl.String,
              "lines": pl.Int64, "changes": pl.Int64, "removed": pl.Int64, "no_action": pl.Int64}


class CleaningLogError(FatalSourceError):
    """A log line refused (stale, unknown uuid or question, a value the form refuses, a conflict)."""


@dataclass
class Target:
    """One delivered file of a wave while it is being ingested: the file as read (every row, for looking
    uuids up) and the rows still in play (changed in place)."""

    wave_id: str
    file: SurveyFile
    part: FilePart


def _refuse(line: LogLine, why: str) -> CleaningLogError:
    return CleaningLogError(f"cleaning log {line.where()} (uuid {line.uuid!r}): {why}; the run stops rather than "
                            "guess: correct the log line (docs/cleaning.md)")


def _resolve(question: str, names: dict[str, str]) -> str | None:
    """A log's question → the frame's column: as written, else without its Kobo group path (``grp/q``, R's
    ``grp.q``), dropping leading segments until a name matches (``grp/q/choice`` → ``q/choice``)."""
    if question in names:
        return names[question]
    for sep in ("/", "."):
        parts = question.split(sep)
        for i in range(1, len(parts)):
            found = names.get(sep.join(parts[i:]))
            if found:
                return found
    return None


def _looks_personal(text: str | None) -> bool:
    import re

    return text is not None and bool(re.match(GPS_VALUE, text.strip()) or re.match(PHONE_VALUE, text.strip()))


def _dedupe(log: CleaningLog) -> list[LogLine]:
    """Repeated lines once; two different decisions for one uuid and question refused."""
    setters: dict[tuple, LogLine] = {}  # (uuid, question) -> the line that sets it
    others: set[tuple] = set()
    out = []
    for line in log.lines:
        target = ((line.uuid or "").strip(), (line.question or "").strip())
        if line.change_type in ("change_response", "blank_response"):
            other = setters.get(target)
            if other is not None:
                if (other.change_type, (other.new_value or "").strip()) == (line.change_type,
                                                                           (line.new_value or "").strip()):
                    continue
                raise _refuse(line, f"{other.where()} sets {target[1]!r} of the same uuid to "
                                    f"{other.new_value!r} ({other.change_type}); this line to {line.new_value!r}: "
                                    "keep one decision")
            setters[target] = line
        elif (*target, line.change_type) in others:
            continue
        else:
            others.add((*target, line.change_type))
        out.append(line)
    return out


class _Applier:
    def __init__(self, mapping: SurveyMapping, targets: list[Target]):
        self.mapping, self.targets = mapping, targets
        self.id_col = mapping.respondent_id
        self.changes: list[dict] = []
        self.index: dict[str, list[tuple[Target, int]]] = {}
        for t in targets:
            ids = t.file.frame[self.id_col].cast(pl.String).str.strip_chars().to_list()
            for row, uid in zip(t.file.frame["__row"].to_list(), ids):
                if uid:
                    self.index.setdefault(uid, []).append((t, row))

    # -- lookups
    def _rows(self, line: LogLine, wave_id: str | None) -> list[tuple[Target, int]]:
        uid = (line.uuid or "").strip().removeprefix("uuid:")
        if not uid:
            raise _refuse(line, "no uuid")
        rows = [(t, r) for t, r in self.index.get(uid, []) if wave_id is None or t.wave_id == wave_id]
        if not rows:
            scope = f" of wave {wave_id}" if wave_id else ""
            raise _refuse(line, f"no interview{scope} has this uuid in the delivered files of {self.mapping.source_id}")
        return rows

    def _column(self, line: LogLine, t: Target) -> str:
        q = (line.question or "").strip().removeprefix("X.U.FEFF.")
        names = name_map(t.part.df.columns)
        col = _resolve(q, names)
        if col is None:
            if _resolve(q, name_map(t.file.frame.columns)):
                raise _refuse(line, f"question {q!r} is personal data, dropped before loading: it cannot be cleaned "
                                    "here (and must not be written in a log)")
            raise _refuse(line, f"question {q!r} is not a column of {t.file.path.name}")
        return col

    @staticmethod
    def _current(t: Target, row: int, col: str) -> tuple[str | None, bool]:
        """The value now (after earlier lines) and whether the row is still in play."""
        live = t.part.df.filter(pl.col("__row") == row)
        if live.height:
            return live[col][0], True
        raw = t.file.frame.filter(pl.col("__row") == row)
        return (raw[col][0] if col in raw.columns else None), False

    # -- one line
    def apply(self, line: LogLine, wave_id: str | None) -> str:
        kind = line.change_type
        if kind not in CHANGE_TYPES:
            raise _refuse(line, f"change_type {line.change_type!r} is not one of {', '.join(CHANGE_TYPES)} "
                                "(a line without a decision has not been reviewed)")
        rows = self._rows(line, wave_id)
        if kind == "remove_survey":
            for t, row in rows:
                if t.part.df.filter(pl.col("__row") == row).height:
                    reason = f"removed by cleaning log {line.where()}" + (f": {line.issue}" if line.issue else "")
                    t.part.exclude(pl.DataFrame({"__row": [row], "reason": [reason]},
                                                schema={"__row": pl.UInt32, "reason": pl.String}))
                    self._record(line, t, row, None, None, None)
            return kind
        if kind == "no_action" and not (line.question or "").strip():
            return kind
        if kind != "no_action" and not (line.question or "").strip():
            raise _refuse(line, f"{kind} needs the question it changes")
        for t, row in rows:
            col = self._column(line, t)
            form = t.part.form
            ckind = kind_of(col, form)
            found, live = self._current(t, row, col)
            if line.old_value is not None and not same(line.old_value, found, ckind):
                raise _refuse(line, f"old_value {line.old_value!r} does not match the data: {col} is "
                                    f"{found!r} (a stale decision: was the file corrected since the log was written?)")
            if kind == "no_action" or not live:
                continue
            new = None
            if kind == "change_response":
                if line.new_value is None:
                    raise _refuse(line, "change_response needs a new_value (use blank_response to set it missing)")
                why = problem_with(line.new_value, ckind, col, form) or self._constraint(t, row, col, line.new_value, ckind)
                if why:
                    raise _refuse(line, f"new_value refused: {why}")
                if _looks_personal(line.new_value):
                    raise _refuse(line, "new_value looks like a phone number or a GPS point: personal data never "
                                        "reaches the warehouse")
                new = canonical(line.new_value, ckind, *self._split_style(t, col))
            elif ckind == "split":
                raise _refuse(line, f"{col} is one choice of a select_multiple question: set it to 0/FALSE with "
                                    "change_response, or blank the whole question")
            self._set(t, row, col, new)
            self._record(line, t, row, col, found, new)
            self._keep_in_step(line, t, row, col, new, ckind)
        return kind

    def _constraint(self, t: Target, row: int, col: str, value: str, ckind: str) -> str | None:
        q = t.part.form.questions.get(col) if t.part.form else None
        if q is None or not q.constraint:
            return None
        frame = t.part.df.filter(pl.col("__row") == row).with_columns(
            pl.lit(canonical(value, ckind)).alias(col))
        try:
            expr, _ = compile_expression(q.constraint, name_map(frame.columns), dot=col)
        except ExpressionError:
            return None  # a constraint outside the grammar (regex(), …) is not checked here (docs/cleaning.md)
        ok = frame.select(expr.alias("ok"))["ok"][0]
        return None if ok is not False else f"{value!r} breaks the form's constraint on {col}: {q.constraint}"

    @staticmethod
    def _split_style(t: Target, col: str) -> tuple[str, str]:
        values = t.file.frame[col].drop_nulls().head(50).to_list() if col in t.file.frame.columns else []
        if any(v.strip().lower() in ("true", "false") for v in values):
            upper = any(v.strip() in ("TRUE", "FALSE") for v in values)
            return ("TRUE", "FALSE") if upper else ("True", "False")
        return "1", "0"

    @staticmethod
    def _set(t: Target, row: int, col: str, value: str | None) -> None:
        t.part.df = t.part.df.with_columns(
            pl.when(pl.col("__row") == row).then(pl.lit(value, pl.String)).otherwise(pl.col(col)).alias(col))

    def _keep_in_step(self, line: LogLine, t: Target, row: int, col: str, new: str | None, ckind: str) -> None:
        form = t.part.form
        if form is None:
            return
        splits = form.split_columns()
        if ckind == "choices":
            chosen = set((new or "").split())
            for split, (q, code) in splits.items():
                if q == col and split in t.part.df.columns:
                    old, _ = self._current(t, row, split)
                    yes, no = self._split_style(t, split)
                    value = None if new is None else (yes if code in chosen else no)
                    if old != value:
                        self._set(t, row, split, value)
                        self._record(line, t, row, split, old, value, follows=col)
        elif ckind == "split":
            q, code = splits[col]
            if q not in t.part.df.columns:
                return
            old, _ = self._current(t, row, q)
            tokens = [c for c in (old or "").split() if c != code]
            if same(new, "1", "split"):
                tokens.append(code)
            order = form.choice_codes(q)
            value = " ".join(sorted(set(tokens), key=lambda c: order.index(c) if c in order else len(order))) or None
            if value != old:
                self._set(t, row, q, value)
                self._record(line, t, row, q, old, value, follows=col)

    def _record(self, line: LogLine, t: Target, row: int, col: str | None, old: str | None, new: str | None,
                follows: str | None = None) -> None:
        uid = t.file.frame.filter(pl.col("__row") == row)[self.id_col][0]
        issue = line.issue if follows is None else f"kept in step with {follows}" + (f" ({line.issue})" if line.issue else "")
        self.changes.append({
            "source_id": self.mapping.source_id, "wave_id": t.wave_id, "file_name": t.file.path.name,
            "file_sha256": t.file.sha256, "row_number": row, "respondent_id": uid, "question": col,
            "old_value": WITHHELD if _looks_personal(old) else old, "new_value": new,
            "change_type": line.change_type, "issue": issue,
            "log_file": line.log_file, "log_sha256": line.log_sha256, "log_line": line.line,
        })


def apply_logs(logs: list[CleaningLog], targets: list[Target], mapping: SurveyMapping) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Apply every log, in order, to the files of a source (changed in place: ``target.part``).

    Returns the applied changes (shape :data:`CHANGE_SCHEMA`, one row per changed cell or removed
    interview) and one row per log × wave it touched (shape :data:`LOG_SCHEMA`).

    Raises:
        CleaningLogError: a line is refused (module docstring), naming the log file and line.
    """
    applier = _Applier(mapping, targets)
    summary = []
    for log in logs:
        counts: dict[str, int] = {k: 0 for k in CHANGE_TYPES}
        before = len(applier.changes)
        lines = _dedupe(log)
        for line in lines:
            counts[applier.apply(line, log.wave_id)] += 1
        waves = sorted({c["wave_id"] for c in applier.changes[before:]}
                       | ({log.wave_id} if log.wave_id else set()))
        if not waves:  # a log of no_action lines still belongs to the waves of its uuids
            waves = sorted({t.wave_id for line in lines for t, _ in applier.index.get((line.uuid or "").strip(), [])})
        for w in waves:
            mine = [c for c in applier.changes[before:] if c["wave_id"] == w]
            summary.append({"source_id": mapping.source_id, "wave_id": w, "log_file": log.path.name,
                            "log_sha256": log.sha256, "lines": len(log.lines),
                            "changes": sum(1 for c in mine if c["change_type"] in ("change_response", "blank_response")),
                            "removed": sum(1 for c in mine if c["change_type"] == "remove_survey"),
                            "no_action": counts["no_action"]})
    return (pl.DataFrame(applier.changes, schema=CHANGE_SCHEMA, orient="row") if applier.changes
            else pl.DataFrame(schema=CHANGE_SCHEMA),
            pl.DataFrame(summary, schema=LOG_SCHEMA) if summary else pl.DataFrame(schema=LOG_SCHEMA))
