"""Mapping of a training source (``domain: training``): participant records of the programme's courses.

One delivered row is one participant in one cohort. The mapping names the columns mizan reads; every
other column (names, phone numbers, e-mails, national ID numbers, free notes) is dropped before anything
is parsed and only its *name* is listed in ``audit.dropped_columns``. Reference with an example:
docs/results-framework.md ("The training source").
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from data_contracts.mapping import FileSpec, _Strict

TRACKS = ("fiscal_federalism", "resilience")
LEVELS = ("federal", "krg", "governorate", "district", "subdistrict")
SEXES = ("female", "male")


class TrainingColumns(_Strict):
    """Delivered column names of the fields mizan reads.

    ``participant_id`` is the programme's registration code of the person (the same code in every cohort
    the person attends), never a national ID number: it is what finds a participant registered in two
    cohorts of one track. ``institution`` holds a governorate name (any spelling the governorate resolver
    knows) or one of the mapping's ``institutions`` (federal ministries, KRG ministries).
    ``cohort_start`` is the first day of the cohort (its year is the cohort's period).
    """

    participant_id: str
    track: str
    cohort: str
    cohort_start: str
    institution: str
    level_of_government: str
    sex: str
    role: str | None = None
    pre_test: str
    post_test: str


class TrainingMapping(_Strict):
    """A training source: files, columns, recodes, the completion threshold and the score range."""

    source_id: str
    domain: Literal["training"]
    title: str
    citation: str
    is_synthetic: bool = False
    #: a delivery that loads no participant is not a failure (as for survey and budget mappings)
    allow_empty: bool = False
    format: Literal["csv", "xlsx"] = "csv"
    encoding: str = "utf-8"
    delimiter: str = "auto"
    sheet: str | None = None
    files: list[FileSpec]
    columns: TrainingColumns
    #: attendance columns, one per session, each the percent of the session attended (0-100)
    sessions: list[str] = Field(min_length=1)
    #: delivered value -> fiscal_federalism | resilience
    track_recode: dict[str, Literal["fiscal_federalism", "resilience"]]
    #: delivered value -> federal | krg | governorate | district | subdistrict
    level_recode: dict[str, Literal["federal", "krg", "governorate", "district", "subdistrict"]]
    #: delivered value -> female | male
    sex_recode: dict[str, Literal["female", "male"]]
    #: institutions that are not a governorate: delivered value -> federal | krg
    institutions: dict[str, Literal["federal", "krg"]] = Field(default_factory=dict)
    #: a participant completes the course when mean attendance over the sessions is at least this (percent)
    completion_threshold_pct: float = Field(80.0, ge=0, le=100)
    #: highest possible test score (scores run from 0 to this)
    score_max: float = Field(100.0, gt=0)

    @model_validator(mode="after")
    def _distinct_columns(self) -> "TrainingMapping":
        named = [v for v in self.columns.model_dump().values() if v] + list(self.sessions)
        dupes = sorted({c for c in named if named.count(c) > 1})
        if dupes:
            raise ValueError(f"columns used twice: {dupes}")
        return self
