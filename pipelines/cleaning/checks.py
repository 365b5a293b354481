"""Automatic cleaning checks: each writes cleaning-log lines for a person to review; none changes data.

A line is ``uuid, question, issue, old_value`` plus ``check`` (which check wrote it), ``wave_id`` and
``file_name`` (shape :data:`LINE_SCHEMA`). A line whose decision is the whole interview (too short, pilot,
near-duplicate, far from its sampled point) has an empty ``question``: the reviewer answers it with
``remove_survey`` or ``no_action``. The checks and their thresholds come from the mapping's ``cleaning:``
section (data_contracts/cleaning.py); the rules are in docs/cleaning.md.

Checks see the rows ingestion would consider (after consent, ``include_only`` and review-status exclusions)
and never a personal column: they run on the frame after personal data is dropped, and any value that looks
like a phone number or a GPS point is withheld from ``old_value``.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from data_contracts.cleaning import CleaningConfig, OutlierRule
from data_contracts.mapping import SurveyMapping
from pipelines.cleaning.expressions import as_number, compile_expression
from pipelines.ingest.survey import GPS_VALUE, PHONE_VALUE
from pipelines.readers.xlsform import XLSForm, r_make_names

LINE_SCHEMA = {
    "uuid": pl.String, "question": pl.String, "issue": pl.String, "old_value": pl.String, "check": pl.String,
    "wave_id": pl.String, "file_name": pl.String,
}
WITHHELD = "[withheld: looks like personal data]"


@dataclass
class CheckData:
    """One wave's rows for the checks: ``frame`` holds the delivered fields (Kobo names, personal columns
    dropped) plus ``__file`` and ``__row``; ``gps_bands`` (``__file``, ``__row``, ``band``, ``far``) when the
    mapping has a GPS check."""

    wave_id: str
    frame: pl.DataFrame
    form: XLSForm | None
    gps_bands: pl.DataFrame | None = None


def _safe(expr: pl.Expr) -> pl.Expr:
    text = expr.cast(pl.String).str.strip_chars()
    return pl.when(text.str.contains(GPS_VALUE) | text.str.contains(PHONE_VALUE)).then(pl.lit(WITHHELD)).otherwise(text)


def _lines(frame: pl.DataFrame, id_col: str, wave_id: str, check: str, question: pl.Expr, issue: pl.Expr,
           old: pl.Expr) -> pl.DataFrame:
    if frame.height == 0:
        return pl.DataFrame(schema=LINE_SCHEMA)
    return frame.select(
        pl.col(id_col).cast(pl.String).alias("uuid"), question.cast(pl.String).alias("question"),
        issue.cast(pl.String).alias("issue"), _safe(old).alias("old_value"), pl.lit(check).alias("check"),
        pl.lit(wave_id).alias("wave_id"), pl.col("__file").alias("file_name"),
    )


def timestamp(expr: pl.Expr) -> pl.Expr:
    """An ISO timestamp as written by Kobo/ODK (offset ``+03:00``, ``+0300``, ``+03``, ``Z`` or none) → UTC
    datetime; NULL when it does not parse (the ingestion's type check quarantines those)."""
    t = expr.cast(pl.String).str.strip_chars().str.replace(r"Z$", "+00:00").str.replace(r"([+-]\d{2})$", "${1}:00")
    t = pl.when(t.str.contains(r"[+-]\d{2}:?\d{2}$")).then(t).otherwise(t + pl.lit("+00:00"))
    return t.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_zone="UTC")


def duration_minutes(cfg: CleaningConfig, frame: pl.DataFrame) -> pl.Expr | None:
    """Interview duration in minutes from the configured start and end columns, or None without them."""
    d = cfg.duration
    if d is None or d.start not in frame.columns or d.end not in frame.columns:
        return None
    return (timestamp(pl.col(d.end)) - timestamp(pl.col(d.start))).dt.total_milliseconds() / 60000.0


def check_duration(data: CheckData, mapping: SurveyMapping) -> pl.DataFrame:
    cfg, df = mapping.cleaning, data.frame
    minutes = duration_minutes(cfg, df)
    if minutes is None:
        return pl.DataFrame(schema=LINE_SCHEMA)
    d = cfg.duration
    df = df.with_columns(minutes.alias("__minutes"))
    m = pl.col("__minutes")
    lo = d.min_minutes if d.min_minutes is not None else float("-inf")
    hi = d.max_minutes if d.max_minutes is not None else float("inf")
    flagged = df.filter(m.is_not_null() & ((m < lo) | (m > hi) | (m < 0)))
    issue = (pl.when(m < 0).then(pl.lit(f"interview ends before it starts ({d.end} before {d.start})"))
             .when(m < lo).then(pl.lit(f"interview shorter than {lo:g} minutes"))
             .otherwise(pl.lit(f"interview longer than {hi:g} minutes")))
    return _lines(flagged, mapping.respondent_id, data.wave_id, "duration", pl.lit(""), issue,
                  m.round(1).cast(pl.String) + pl.lit(" minutes"))


def check_fieldwork(data: CheckData, mapping: SurveyMapping) -> pl.DataFrame:
    """Interviews outside the fieldwork window, pilots (listed days or the wave's first day), and interviews
    that start after the server received them (a device clock set wrong)."""
    cfg, df = mapping.cleaning, data.frame
    start_col = cfg.duration.start if cfg.duration else "start"
    if start_col not in df.columns:
        return pl.DataFrame(schema=LINE_SCHEMA)
    w = cfg.fieldwork
    local_day = pl.col(start_col).cast(pl.String).str.strip_chars().str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    df = df.with_columns(local_day.alias("__day"))
    day = pl.col("__day")
    first = df["__day"].min()
    rules: list[tuple[pl.Expr, pl.Expr]] = []
    if w.pilot_dates:
        rules.append((day.is_in(sorted(w.pilot_dates)), pl.lit("pilot interview: dated on a pilot day ")
                      + day.cast(pl.String)))
    if w.first_day_is_pilot and first is not None and first not in w.pilot_dates:
        rules.append((day == first, pl.lit(f"pilot interview: dated on the data-collection start day ({first})")))
    if w.start is not None:
        rules.append((day < w.start, pl.lit(f"interview dated before fieldwork started ({w.start})")))
    if w.end is not None:
        rules.append((day > w.end, pl.lit(f"interview dated after fieldwork ended ({w.end})")))
    if "_submission_time" in df.columns:
        received = timestamp(pl.col("_submission_time"))
        rules.append((timestamp(pl.col(start_col)) > received + pl.duration(hours=1),
                      pl.lit("interview starts after the server received it (device clock wrong?)")))
    out = [_lines(df.filter(cond.fill_null(False)), mapping.respondent_id, data.wave_id, "fieldwork_window",
                  pl.lit(""), issue, pl.col(start_col)) for cond, issue in rules]
    return pl.concat(out) if out else pl.DataFrame(schema=LINE_SCHEMA)


def numeric_questions(data: CheckData, mapping: SurveyMapping) -> dict[str, OutlierRule]:
    """The questions the outlier check looks at and the rule of each."""
    cfg = mapping.cleaning.outliers
    if cfg is None:
        return {}
    rules = {q: r for q, r in cfg.questions.items() if q in data.frame.columns}
    if cfg.all_numeric and data.form is not None:
        enumerator = enumerator_column(data.frame, mapping)
        for name, q in data.form.questions.items():
            if q.type in ("integer", "decimal") and name in data.frame.columns and name not in rules \
                    and name not in cfg.skip and name != enumerator:
                rules[name] = cfg.default
    return rules


def check_outliers(data: CheckData, mapping: SurveyMapping) -> pl.DataFrame:
    cfg = mapping.cleaning.outliers
    out = []
    gov_col = mapping.governorate.column
    for question, rule in numeric_questions(data, mapping).items():
        by = rule.by or (gov_col if cfg.by_governorate else None)
        df = data.frame.with_columns(as_number(pl.col(question)).alias("__x"))
        if rule.method == "log_iqr":
            df = df.with_columns(pl.when(pl.col("__x") >= 0).then((pl.col("__x") + 1).log()).alias("__y"))
        else:
            df = df.with_columns(pl.col("__x").alias("__y"))
        y = pl.col("__y")
        over = [by] if by and by in df.columns else []
        n = y.count().over(over) if over else y.count()
        if rule.method == "modified_z":
            med = y.median().over(over) if over else y.median()
            mad = (y - med).abs().median().over(over) if over else (y - med).abs().median()
            score = pl.lit(0.6745) * (y - med) / mad
            flagged = (mad > 0) & (score.abs() > rule.z)
            what = f"modified z-score beyond ±{rule.z:g}"
        else:
            q1 = y.quantile(0.25, "linear").over(over) if over else y.quantile(0.25, "linear")
            q3 = y.quantile(0.75, "linear").over(over) if over else y.quantile(0.75, "linear")
            iqr = q3 - q1
            flagged = (y < q1 - rule.k * iqr) | (y > q3 + rule.k * iqr)
            what = f"outside Q1 − {rule.k:g}·IQR … Q3 + {rule.k:g}·IQR" + (" on a log scale" if rule.method == "log_iqr" else "")
        hits = df.filter((n >= rule.min_n) & y.is_not_null() & flagged.fill_null(False))
        where = f" within {by}" if over else ""
        out.append(_lines(hits, mapping.respondent_id, data.wave_id, f"outlier_{rule.method}", pl.lit(question),
                          pl.lit(f"outlier ({what}{where})"), pl.col(question)))
    return pl.concat(out) if out else pl.DataFrame(schema=LINE_SCHEMA)


def other_specify_questions(data: CheckData, mapping: SurveyMapping) -> list[str]:
    cfg = mapping.cleaning.other_specify
    if cfg is None:
        return []
    names = [q for q in cfg.questions if q in data.frame.columns]
    if cfg.auto and data.form is not None:
        for name, q in data.form.questions.items():
            relevant = (q.relevant or "").replace('"', "'")
            if q.type == "text" and name in data.frame.columns and name not in names and (
                    name.endswith("_other") or "'other')" in relevant.replace(" ", "")):
                names.append(name)
    return names


def check_other_specify(data: CheckData, mapping: SurveyMapping) -> pl.DataFrame:
    out = []
    for question in other_specify_questions(data, mapping):
        text = pl.col(question).cast(pl.String).str.strip_chars()
        hits = data.frame.filter(text.is_not_null() & (text != ""))
        out.append(_lines(hits, mapping.respondent_id, data.wave_id, "other_specify", pl.lit(question),
                          pl.lit("\"other, specify\" answer: recode into an existing choice?"), pl.col(question)))
    return pl.concat(out) if out else pl.DataFrame(schema=LINE_SCHEMA)


def name_map(columns: list[str]) -> dict[str, str]:
    """Every spelling a check or log may use for a column → the column: Kobo name, R's ``make.names``
    spelling (``q.choice``, ``X_uuid``), group-less name (``grp/q`` → ``q``)."""
    out: dict[str, str] = {}
    for c in columns:
        if c.startswith("__"):
            continue
        for alias in (c, r_make_names(c), c.replace("/", "."), c.rsplit("/", 1)[-1] if "/" in c else c):
            out.setdefault(alias, c)
    return out


def check_logical(data: CheckData, mapping: SurveyMapping) -> pl.DataFrame:
    """Rows where a mapping's logical check holds, one line per question of the check.

    Raises:
        ExpressionError: a check's expression is outside the grammar or names an unknown question.
    """
    names = name_map(data.frame.columns)
    out = []
    for check in mapping.cleaning.logical:
        expr, used = compile_expression(check.expression, names)
        questions = [names.get(q, q) for q in check.questions] or used
        hits = data.frame.filter(expr.fill_null(False))
        for q in questions:
            if q not in data.frame.columns:
                continue
            out.append(_lines(hits, mapping.respondent_id, data.wave_id, f"logical:{check.name}", pl.lit(q),
                              pl.lit(check.issue), pl.col(q)))
    return pl.concat(out) if out else pl.DataFrame(schema=LINE_SCHEMA)


def check_gps(data: CheckData, mapping: SurveyMapping) -> pl.DataFrame:
    if data.gps_bands is None or mapping.cleaning.gps is None:
        return pl.DataFrame(schema=LINE_SCHEMA)
    gps = mapping.cleaning.gps
    far = data.frame.join(data.gps_bands, on=["__file", "__row"]).filter(pl.col("far"))
    return _lines(far, mapping.respondent_id, data.wave_id, "gps_distance", pl.lit(""),
                  pl.lit(f"interview point farther than {gps.max_metres:g} m from its sampled point"),
                  pl.col("band"))


def enumerator_column(frame: pl.DataFrame, mapping: SurveyMapping) -> str | None:
    """The enumerator column: ``cleaning.enumerator``, else ``duplicates.enumerator``, else the first
    delivered column whose name starts with ``enumerator`` or ``enum_``."""
    for name in (mapping.cleaning.enumerator, mapping.duplicates.enumerator):
        if name and name in frame.columns:
            return name
    return next((c for c in frame.columns if c.lower().startswith(("enumerator", "enum_"))), None)


def check_near_duplicates(data: CheckData, mapping: SurveyMapping) -> pl.DataFrame:
    """Near-duplicates of one enumerator (the ingestion's soft-duplicate rule,
    :func:`pipelines.ingest.survey_dedup.soft_duplicates`), one line per interview of each pair."""
    from pipelines.ingest.survey import _used_columns  # the same fields as the ingestion's check compares
    from pipelines.ingest.survey_dedup import soft_duplicates

    cfg = mapping.cleaning.duplicates
    enumerator = enumerator_column(data.frame, mapping)
    if cfg is None or enumerator is None:
        return pl.DataFrame(schema=LINE_SCHEMA)
    rules = mapping.duplicates.model_copy(update={"enumerator": enumerator, "soft_threshold": cfg.threshold,
                                                  "soft_min_fields": cfg.min_fields})
    loaded = [(f, part.drop("__file")) for (f,), part in data.frame.partition_by("__file", as_dict=True).items()]
    flags = soft_duplicates(loaded, mapping.model_copy(update={"duplicates": rules}), data.wave_id, data.form,
                            design_columns=_used_columns(mapping) - {q.column for q in mapping.questions.values()})
    if flags.height == 0:
        return pl.DataFrame(schema=LINE_SCHEMA)
    pairs = pl.concat([
        flags.select(pl.col("respondent_id").alias("uuid"), pl.col("other_respondent_id").alias("other"),
                     "similarity", "fields_compared", pl.col("file_name")),
        flags.select(pl.col("other_respondent_id").alias("uuid"), pl.col("respondent_id").alias("other"),
                     "similarity", "fields_compared", pl.col("other_file_name").alias("file_name")),
    ])
    return pairs.select(
        "uuid", pl.lit("").alias("question"),
        pl.format("near-duplicate of {} (same enumerator; {}% of {} answered fields identical)", pl.col("other"),
                  (pl.col("similarity") * 100).round(1), pl.col("fields_compared")).alias("issue"),
        pl.col("similarity").round(4).cast(pl.String).alias("old_value"), pl.lit("near_duplicate").alias("check"),
        pl.lit(data.wave_id).alias("wave_id"), "file_name",
    ).cast(LINE_SCHEMA)


CHECKS = (check_duration, check_fieldwork, check_outliers, check_other_specify, check_logical, check_gps,
          check_near_duplicates)


def run_checks(data: CheckData, mapping: SurveyMapping) -> pl.DataFrame:
    """Every configured check on one wave; lines sorted by check, uuid and question (shape :data:`LINE_SCHEMA`)."""
    frames = [f for f in (check(data, mapping) for check in CHECKS) if f.height]
    if not frames:
        return pl.DataFrame(schema=LINE_SCHEMA)
    return pl.concat([f.select(list(LINE_SCHEMA)).cast(LINE_SCHEMA) for f in frames]).unique(maintain_order=True)


def enumerator_quality(data: CheckData, mapping: SurveyMapping, lines: pl.DataFrame) -> pl.DataFrame:
    """Per enumerator: interviews, days worked, interviews per day, median duration (minutes), share of
    "don't know" among answered coded fields, share of interviews with at least one log line.

    Shape: ``enumerator, interviews, days, interviews_per_day, median_minutes, share_dont_know,
    share_flagged`` (shares in 0–1), one row per enumerator; empty without an enumerator column.
    """
    df = data.frame
    enumerator = enumerator_column(df, mapping)
    if enumerator is None or df.height == 0:
        return pl.DataFrame()
    cfg = mapping.cleaning
    minutes = duration_minutes(cfg, df)
    start_col = cfg.duration.start if cfg.duration else "start"
    day = (pl.col(start_col).cast(pl.String).str.slice(0, 10) if start_col in df.columns else pl.lit(None, pl.String))
    coded = [c for c, q in (data.form.questions.items() if data.form else []) if c in df.columns
             and q.type in ("select_one", "select_multiple", "integer", "decimal")]
    dk = pl.sum_horizontal([pl.col(c).cast(pl.String).str.strip_chars().is_in(cfg.dont_know_codes).cast(pl.Int64)
                            for c in coded]) if coded else pl.lit(0)
    answered = pl.sum_horizontal([pl.col(c).is_not_null().cast(pl.Int64) for c in coded]) if coded else pl.lit(0)
    flagged = set(lines["uuid"].to_list())
    per = df.select(
        pl.col(enumerator).cast(pl.String).str.strip_chars().alias("enumerator"), day.alias("__day"),
        (minutes if minutes is not None else pl.lit(None, pl.Float64)).alias("__minutes"),
        dk.alias("__dk"), answered.alias("__answered"),
        pl.col(mapping.respondent_id).cast(pl.String).is_in(list(flagged)).alias("__flagged"),
    )
    return per.group_by("enumerator").agg(
        pl.len().alias("interviews"), pl.col("__day").n_unique().alias("days"),
        pl.col("__minutes").median().round(1).alias("median_minutes"),
        (pl.col("__dk").sum() / pl.col("__answered").sum()).round(4).alias("share_dont_know"),
        pl.col("__flagged").mean().round(4).alias("share_flagged"),
    ).with_columns((pl.col("interviews") / pl.col("days")).round(2).alias("interviews_per_day")).select(
        "enumerator", "interviews", "days", "interviews_per_day", "median_minutes", "share_dont_know", "share_flagged",
    ).sort(pl.col("enumerator").cast(pl.Int64, strict=False), "enumerator")
