"""Which submissions of a survey wave load: review status, duplicates, edits, and soft duplicates to review.

Applied per wave, across all its files, before any cell is checked (rules in
:class:`data_contracts.mapping.Duplicates` and :class:`~data_contracts.mapping.ValidationStatus`):

- **review status** (Kobo ``_validation_status``, ODK Central ``ReviewState``): statuses the mapping does not
  load are excluded with the status as reason;
- **exact duplicates**: the same submission id with the same answers loads once, later copies are excluded
  ("exact duplicate of <file> row N"); the same id with different answers quarantines every copy;
- **edits**: versions of one submission (Kobo ``meta/rootUuid``, ``meta/deprecatedID``) keep the latest edit,
  earlier versions are excluded ("superseded by its edit ...");
- **soft duplicates** (after loading): two submissions of one enumerator with nearly identical answers are
  flagged for review in ``audit.review_flags``; both stay loaded.

Server metadata never counts as an answer: a submission received twice differs in ``_id`` and
``_submission_time`` but is the same interview.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from data_contracts.mapping import VALIDATION_STATUS_CODES, SurveyMapping
from pipelines.ingest.common import Problems
from pipelines.readers.xlsform import KOBO_META_COLUMNS, XLSForm

#: Columns that describe the delivery, not the interview: never compared between submissions.
SERVER_METADATA = {
    *KOBO_META_COLUMNS, "_parent_index", "_parent_table_name", "__version__", "_version_", "_duration",
    "SubmissionDate", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected",
    "Status", "ReviewState", "DeviceID", "Edits", "FormVersion", "meta/instanceName",
}
#: XLSForm types that are not answers (times, derived values, notes): left out of the soft-duplicate comparison.
NOT_ANSWER_TYPES = {"start", "end", "today", "date", "datetime", "time", "calculate", "note", "deviceid",
                    "username", "audit", "hidden", "begin_group", "end_group"}
REVIEW_FLAG_SCHEMA = {
    "source_id": pl.String, "wave_id": pl.String, "flag": pl.String, "file_name": pl.String,
    "row_number": pl.Int64, "respondent_id": pl.String, "other_file_name": pl.String,
    "other_row_number": pl.Int64, "other_respondent_id": pl.String, "similarity": pl.Float64,
    "fields_compared": pl.Int64, "detail": pl.String,
}


@dataclass
class FilePart:
    """One delivered file of a wave while it is being ingested.

    ``df`` holds the rows still in play (``__row`` = data row); rows are taken out of play by
    :meth:`exclude` (reason kept) or by recording a problem (quarantined later, whole row).
    """

    file_name: str
    sha256: str
    df: pl.DataFrame
    problems: Problems
    form: XLSForm | None = None
    excluded: list[pl.DataFrame] = field(default_factory=list)

    def exclude(self, rows: pl.DataFrame) -> None:
        """Take ``rows`` (``__row``, ``reason``) out of play as excluded."""
        if rows.height:
            self.excluded.append(rows.select(pl.col("__row").cast(pl.UInt32), pl.col("reason").cast(pl.String)))
            self.df = self.df.filter(~pl.col("__row").is_in(rows["__row"].to_list()))

    def excluded_frame(self) -> pl.DataFrame:
        if not self.excluded:
            return pl.DataFrame(schema={"__row": pl.UInt32, "reason": pl.String})
        return pl.concat(self.excluded)


def apply_validation_status(part: FilePart, mapping: SurveyMapping) -> str | None:
    """Exclude the rows whose review status the mapping does not load; the column used, or None when the
    file has no review-status column (the caller notes it)."""
    rule = mapping.validation_status
    column = rule.column or ("ReviewState" if mapping.format == "odk_central_csv" else "_validation_status")
    if column not in part.df.columns:
        return None
    raw = pl.col(column).str.strip_chars()
    folded = raw.str.to_lowercase().replace_strict(VALIDATION_STATUS_CODES, default=None, return_dtype=pl.String)
    status = pl.when(raw.is_null()).then(pl.lit("received")).otherwise(folded)
    frame = part.df.select("__row", raw.alias("__raw"), status.alias("__status"))
    unknown = frame.filter(pl.col("__status").is_null())
    part.problems.add_frame(unknown.rename({"__raw": column}), column,
                            "unknown review status (expected Kobo approved / not approved / on hold, or ODK Central "
                            "received / approved / rejected / hasIssues / edited)")
    dropped = [s for s in ("approved", "not_approved", "on_hold", "received") if not rule.loads(s)]
    part.exclude(frame.filter(pl.col("__status").is_in(dropped)).select(
        "__row", pl.format("review status {} ({} = '{}')", pl.col("__status"), pl.lit(column),
                           pl.col("__raw").fill_null("blank")).alias("reason")))
    return column


def _bare_id(expr: pl.Expr) -> pl.Expr:
    """Kobo writes instance ids as ``uuid:…`` in meta fields and bare in ``_uuid``."""
    return expr.str.strip_chars().str.strip_prefix("uuid:")


def _content_hash(df: pl.DataFrame, skip: set[str]) -> pl.Expr:
    """A hash of every answered field (name=value, names sorted; blank fields left out, so a field one file
    lacks equals a blank one)."""
    # split columns repeat their select_multiple answer (and one file may lack a choice's column): left out
    cols = sorted(c for c in df.columns if c not in skip and not c.startswith("__")
                  and not ("/" in c and c.rsplit("/", 1)[0] in df.columns))
    if not cols:
        return pl.lit(0, pl.UInt64)
    return pl.concat_str([pl.format("{}={}", pl.lit(c), pl.col(c)) for c in cols], separator="\x1f",
                         ignore_nulls=True).hash(seed=7)


def resolve_duplicates(parts: list[FilePart], mapping: SurveyMapping) -> None:
    """Exact duplicates, conflicting copies and edits within one wave (module docstring)."""
    rules = mapping.duplicates
    id_col = mapping.respondent_id
    frames = []
    for i, part in enumerate(parts):
        flagged = part.problems.rows()  # rows already bound for quarantine take no part
        df = part.df.filter(~pl.col("__row").is_in(list(flagged))) if flagged else part.df
        cols = df.columns

        def pick(name: str | None, default: str) -> pl.Expr:
            chosen = name or (default if default in cols else None)
            return _bare_id(pl.col(chosen)) if chosen and chosen in cols else pl.lit(None, pl.String)

        skip = SERVER_METADATA | {id_col, rules.root or "meta/rootUuid", rules.deprecated or "meta/deprecatedID",
                                  rules.instance_id or "meta/instanceID"}
        instance_default = "KEY" if mapping.format == "odk_central_csv" else "meta/instanceID"
        frames.append(df.select(
            pl.lit(i).alias("__part"), "__row",
            _bare_id(pl.col(id_col)).alias("__id") if id_col in cols else pl.lit(None, pl.String).alias("__id"),
            _content_hash(df, skip).alias("__hash"),
            pick(rules.instance_id, instance_default).alias("__instance"),
            pick(rules.root, "meta/rootUuid").alias("__root"),
            pick(rules.deprecated, "meta/deprecatedID").alias("__deprecated"),
            (pl.col("_submission_time") if "_submission_time" in cols else
             pl.col("SubmissionDate") if "SubmissionDate" in cols else pl.lit(None, pl.String)).alias("__received"),
        ))
    if not frames:
        return
    rows = pl.concat(frames).with_row_index("__k").with_columns(pl.coalesce("__instance", "__id").alias("__instance"))
    names = {i: p.file_name for i, p in enumerate(parts)}

    def where(part: int, row: int) -> str:
        return f"{names[part]} row {row}"

    # 1. exact duplicates: same id, same answers
    with_id = rows.filter(pl.col("__id").is_not_null())
    first = with_id.group_by("__id", "__hash").agg(pl.col("__k").min().alias("__first"))
    dup = with_id.join(first, on=["__id", "__hash"]).filter(pl.col("__k") != pl.col("__first"))
    if dup.height:
        origin = rows.select(pl.col("__k").alias("__first"), pl.col("__part").alias("__fp"), pl.col("__row").alias("__fr"))
        dup = dup.join(origin, on="__first")
        for i, part in enumerate(parts):
            mine = dup.filter(pl.col("__part") == i)
            part.exclude(mine.select("__row", pl.format("exact duplicate of {} (same {} and answers)",
                                                        pl.col("__fp").replace_strict(names, return_dtype=pl.String)
                                                        + pl.lit(" row ") + pl.col("__fr").cast(pl.String),
                                                        pl.lit(id_col)).alias("reason")))
    rows = rows.filter(~pl.col("__k").is_in(dup["__k"].to_list()) if dup.height else pl.lit(True))

    # 2. same id, different answers: every copy is quarantined
    clash = rows.filter(pl.col("__id").is_not_null() & pl.col("__id").is_duplicated())
    if clash.height:
        listing = clash.group_by("__id").agg(pl.struct("__part", "__row").sort_by("__part", "__row").alias("__at"))
        text = {r["__id"]: ", ".join(where(a["__part"], a["__row"]) for a in r["__at"]) for r in listing.iter_rows(named=True)}
        for i, part in enumerate(parts):
            mine = clash.filter(pl.col("__part") == i)
            if mine.height:
                failing = mine.select("__row", pl.col("__id").alias(id_col), pl.col("__id").replace_strict(
                    text, return_dtype=pl.String).alias("__where"))
                part.problems.add_frame(failing, id_col, pl.format(
                    "respondent id repeated with different answers ({}): which copy is right cannot be told",
                    pl.col("__where")))
        rows = rows.filter(~pl.col("__k").is_in(clash["__k"].to_list()))

    # 3. edits: one lineage per root id (or chain of deprecated ids) keeps its latest version
    _resolve_edits(rows, parts, names, id_col)


def _resolve_edits(rows: pl.DataFrame, parts: list[FilePart], names: dict[int, str], id_col: str) -> None:
    linked = rows.filter(pl.col("__root").is_not_null() | pl.col("__deprecated").is_not_null())
    if linked.height == 0:
        return
    parent = {k: k for k in rows["__k"].to_list()}

    def find(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    by_instance = {inst: k for k, inst in zip(rows["__k"], rows["__instance"]) if inst}
    by_root: dict[str, int] = {}
    for k, root, dep, inst in rows.select("__k", "__root", "__deprecated", "__instance").iter_rows():
        if root:
            if root in by_root:
                union(k, by_root[root])
            else:
                by_root[root] = k
            if root in by_instance:  # the original submission carries its own id as root, or none
                union(k, by_instance[root])
        if dep and dep in by_instance:
            union(k, by_instance[dep])
    groups: dict[int, list[dict]] = {}
    for r in rows.iter_rows(named=True):
        groups.setdefault(find(r["__k"]), []).append(r)
    for members in groups.values():
        if len(members) < 2:
            continue
        deprecated = {m["__deprecated"] for m in members if m["__deprecated"]}
        heads = [m for m in members if m["__instance"] not in deprecated]
        if len(heads) > 1:
            received = [h["__received"] for h in heads]
            if all(received) and len(set(received)) == len(received):
                heads = [max(heads, key=lambda h: h["__received"])]
        if len(heads) != 1:
            listing = ", ".join(f"{names[m['__part']]} row {m['__row']}" for m in members)
            for m in members:
                part = parts[m["__part"]]
                part.problems.add_frame(pl.DataFrame({"__row": [m["__row"]], id_col: [m["__instance"]]}), id_col,
                                        f"versions of one edited submission ({listing}) whose latest edit cannot be told")
            continue
        head = heads[0]
        for m in members:
            if m is head:
                continue
            parts[m["__part"]].exclude(pl.DataFrame({"__row": [m["__row"]], "reason": [
                f"earlier version of an edited submission: superseded by its edit {head['__instance']} "
                f"({names[head['__part']]} row {head['__row']})"]}))


# ------------------------------------------------------------------------------------------------------
# Soft duplicates
# ------------------------------------------------------------------------------------------------------


def soft_duplicates(
    loaded: list[tuple[str, pl.DataFrame]], mapping: SurveyMapping, wave_id: str, form: XLSForm | None,
    design_columns: set[str],
) -> pl.DataFrame:
    """Pairs of loaded submissions of one enumerator whose answers are nearly identical (flags, shape
    :data:`REVIEW_FLAG_SCHEMA`).

    ``loaded``: (file name, loaded rows with ``__row``) per file of the wave. Compared fields: every
    delivered field except server metadata, ids, times and derived fields (:data:`NOT_ANSWER_TYPES`),
    select_multiple split columns (their summary column is compared), design columns and the enumerator.
    similarity = 2 × (fields with the same answer) / (fields answered by the one + by the other), the share
    of answered fields two interviews have in common (1 for identical answers); pairs at or above
    ``duplicates.soft_threshold`` with at least ``soft_min_fields`` fields answered by either are flagged.
    """
    rules = mapping.duplicates
    enumerator = rules.enumerator
    if not enumerator:
        return pl.DataFrame(schema=REVIEW_FLAG_SCHEMA)
    questions = form.questions if form else {}
    splits = form.split_columns() if form else {}
    skip = SERVER_METADATA | design_columns | {enumerator, mapping.respondent_id}
    frames = []
    for file_name, df in loaded:
        if enumerator not in df.columns or df.height == 0:
            continue
        fields = [c for c in df.columns if not c.startswith("__") and c not in skip and c not in splits
                  and (c not in questions or questions[c].type not in NOT_ANSWER_TYPES)]
        frames.append(df.select(pl.lit(file_name).alias("__file"), "__row",
                                pl.col(mapping.respondent_id).cast(pl.String).alias("__id"),
                                pl.col(enumerator).str.strip_chars().alias("__enum"),
                                *[pl.col(c).cast(pl.String).str.strip_chars() for c in fields]))
    if not frames:
        return pl.DataFrame(schema=REVIEW_FLAG_SCHEMA)
    allrows = pl.concat(frames, how="diagonal_relaxed").filter(pl.col("__enum").is_not_null())
    fields = [c for c in allrows.columns if not c.startswith("__")]
    if not fields or allrows.height < 2:
        return pl.DataFrame(schema=REVIEW_FLAG_SCHEMA)
    # each field's values as integer codes, -1 = blank
    codes = np.column_stack([
        allrows[c].cast(pl.Categorical).to_physical().cast(pl.Int64).fill_null(-1).to_numpy() for c in fields
    ])
    out = []
    for idx in allrows.with_row_index("__i").group_by("__enum").agg(pl.col("__i")).iter_rows():
        enum_value, members = idx[0], np.array(idx[1])
        if len(members) < 2:
            continue
        for start in range(0, len(members), 400):  # blocks keep the n × n × fields array small
            block = members[start:]
            head = members[start:start + 400]
            m_head, m_all = codes[head], codes[block]
            answered_head, answered_all = m_head >= 0, m_all >= 0
            same = ((m_head[:, None, :] == m_all[None, :, :]) & answered_head[:, None, :]).sum(axis=2)
            n_head, n_all = answered_head.sum(axis=1), answered_all.sum(axis=1)
            union = n_head[:, None] + n_all[None, :]
            either = (answered_head[:, None, :] | answered_all[None, :, :]).sum(axis=2)
            with np.errstate(divide="ignore", invalid="ignore"):
                sim = np.where(union > 0, 2 * same / union, 0.0)
            for a, b in zip(*np.nonzero(sim >= rules.soft_threshold)):
                ia, ib = int(head[a]), int(block[b])
                if ib <= ia or either[a, b] < rules.soft_min_fields:
                    continue
                out.append((ia, ib, float(sim[a, b]), int(either[a, b]), enum_value))
    if not out:
        return pl.DataFrame(schema=REVIEW_FLAG_SCHEMA)
    meta = allrows.select("__file", "__row", "__id")
    rows = []
    for ia, ib, sim, n, enum_value in out:
        fa, ra, ida = meta.row(ia)
        fb, rb, idb = meta.row(ib)
        rows.append({"source_id": mapping.source_id, "wave_id": wave_id, "flag": "soft_duplicate",
                     "file_name": fa, "row_number": ra, "respondent_id": ida, "other_file_name": fb,
                     "other_row_number": rb, "other_respondent_id": idb, "similarity": round(sim, 6),
                     "fields_compared": n,
                     "detail": f"same enumerator ({enumerator} = '{enum_value}'); {sim:.1%} of the {n} fields answered "
                               "by either are identical: the same household interviewed twice, or an interview "
                               "copied? Both are loaded; check with the survey firm"})
    return pl.DataFrame(rows, schema=REVIEW_FLAG_SCHEMA)
