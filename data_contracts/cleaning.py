"""The ``cleaning:`` section of a survey mapping: which checks write cleaning-log lines, with what thresholds,
and where reviewed cleaning logs are delivered.

Every field has a default that works on a Kobo export (``start``/``end`` durations, outliers on every
integer/decimal question, "other, specify" text fields found through the form). Reference with examples:
docs/mapping-files.md ("Cleaning checks and logs") and docs/cleaning.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DurationCheck(_Strict):
    """Interview duration = ``end`` − ``start`` (device-local timestamps), in minutes."""

    start: str = "start"
    end: str = "end"
    min_minutes: float | None = 15.0
    max_minutes: float | None = 240.0


class FieldworkWindow(_Strict):
    """Interviews dated (``start``'s local date) before ``start`` or after ``end`` are flagged (typos in a
    device's date, interviews before fieldwork began); ``pilot_dates`` and ``first_day_is_pilot`` flag pilot
    interviews (dated on a pilot day, or on the first day of data collection of the wave)."""

    start: dt.date | None = None
    end: dt.date | None = None
    pilot_dates: list[dt.date] = Field(default_factory=list)
    first_day_is_pilot: bool = False


OutlierMethod = Literal["iqr", "log_iqr", "modified_z"]


class OutlierRule(_Strict):
    """One numeric question's outlier rule.

    ``iqr``: below Q1 − k·IQR or above Q3 + k·IQR (Tukey fences, k = 1.5). ``log_iqr``: the same on
    log(1 + x) (skewed amounts such as expenses). ``modified_z``: \\|0.6745 (x − median) / MAD\\| > z (z = 3.5,
    Iglewicz and Hoaglin 1993). ``by``: a column to compute the fences within (e.g. the governorate);
    groups with fewer than ``min_n`` answers are not checked.
    """

    method: OutlierMethod = "iqr"
    k: float = 1.5
    z: float = 3.5
    by: str | None = None
    min_n: int = 10


class OutlierCheck(_Strict):
    """Outliers on numeric questions: ``questions`` lists rules per question; with ``all_numeric`` every
    XLSForm integer/decimal field not listed and not in ``skip`` gets ``default``. ``by_governorate``
    computes every rule's fences within the mapping's governorate column unless the rule gives ``by``."""

    all_numeric: bool = True
    default: OutlierRule = Field(default_factory=OutlierRule)
    questions: dict[str, OutlierRule] = Field(default_factory=dict)
    skip: list[str] = Field(default_factory=list)
    by_governorate: bool = False


class OtherSpecifyCheck(_Strict):
    """"Other, specify" text answers listed for recoding: ``questions`` names them; with ``auto``, every
    XLSForm text field whose name ends in ``_other`` or whose ``relevant`` tests a choice ``other``."""

    auto: bool = True
    questions: list[str] = Field(default_factory=list)


class LogicalCheck(_Strict):
    """A check written over question names (grammar in pipelines/cleaning/expressions.py): rows where
    ``expression`` is true get one log line per question of ``questions`` (default: every question the
    expression names) with ``issue``."""

    name: str
    expression: str
    issue: str
    questions: list[str] = Field(default_factory=list)


class SamplePoints(_Strict):
    """A delivered file of sampled points (next to the export): each interview's ``data_column`` value
    names its point in ``key_column``; coordinates in decimal degrees."""

    path: str
    key_column: str
    data_column: str
    latitude_column: str = "latitude"
    longitude_column: str = "longitude"
    delimiter: str = ","


class GpsCheck(_Strict):
    """Distance from the interview's GPS point (a Kobo geopoint ``lat lon alt acc``, or two columns) to its
    sampled point, computed while reading, before GPS is dropped: only the flag and a distance band are kept.
    Interviews farther than ``max_metres`` are flagged."""

    column: str | None = None
    latitude_column: str | None = None
    longitude_column: str | None = None
    sample: SamplePoints
    max_metres: float = 500.0
    bands_metres: list[float] = Field(default_factory=lambda: [100.0, 500.0, 1000.0, 5000.0])

    @model_validator(mode="after")
    def _one_position(self) -> GpsCheck:
        if bool(self.column) == bool(self.latitude_column and self.longitude_column):
            raise ValueError("gps: give column (a geopoint) or latitude_column and longitude_column")
        return self


class DuplicateCheck(_Strict):
    """Near-duplicates of one enumerator (the ingestion's soft-duplicate rule) listed with their similarity."""

    threshold: float = 0.95
    min_fields: int = 10


class CleaningLogFile(_Strict):
    """Reviewed cleaning logs delivered beside the export (a glob), applied in the order listed, files of
    one glob by name; ``wave_id`` limits a log to one wave."""

    path: str
    wave_id: str | None = None


DEFAULT_LOGS = (CleaningLogFile(path="cleaning_log*.csv"), CleaningLogFile(path="cleaning_log*.xlsx"))


class CleaningConfig(_Strict):
    """The ``cleaning:`` section of a survey mapping (every part optional)."""

    enumerator: str | None = None
    dont_know_codes: list[str] = Field(default_factory=lambda: ["dont_know", "do_not_know", "dk", "98", "99",
                                                                "prefer_not_answer", "refused"])
    duration: DurationCheck | None = Field(default_factory=DurationCheck)
    fieldwork: FieldworkWindow = Field(default_factory=FieldworkWindow)
    outliers: OutlierCheck | None = Field(default_factory=OutlierCheck)
    other_specify: OtherSpecifyCheck | None = Field(default_factory=OtherSpecifyCheck)
    logical: list[LogicalCheck] = Field(default_factory=list)
    gps: GpsCheck | None = None
    duplicates: DuplicateCheck | None = Field(default_factory=DuplicateCheck)
    logs: list[CleaningLogFile] = Field(default_factory=lambda: list(DEFAULT_LOGS))

    @model_validator(mode="after")
    def _unique_names(self) -> CleaningConfig:
        names = [c.name for c in self.logical]
        if len(names) != len(set(names)):
            raise ValueError("cleaning.logical: two checks share a name")
        return self
