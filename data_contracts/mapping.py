"""Source mapping files: how one kind of delivered file maps onto mizan's canonical tables.

A mapping is YAML (``source.yaml`` in the source folder, else ``data_contracts/sources/<source_id>.yaml``)
validated by the pydantic models below; a mistake in a mapping raises :class:`MappingError` naming the
file and the field. The reference for every field, with worked examples, is ``docs/mapping-files.md``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from data_contracts.cleaning import CleaningConfig
from data_contracts.personal_data import RedactingError

SOURCES_DIR = Path(__file__).resolve().parent / "sources"
QUESTION_BANK_PATH = Path(__file__).resolve().parent / "question_bank.yaml"
INDICATORS_PATH = Path(__file__).resolve().parent / "indicators.yaml"


class MappingError(RedactingError, ValueError):
    """A mapping file that cannot be read or does not follow the mapping reference."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileSpec(_Strict):
    """One delivered file (a glob relative to the source folder) and the wave it belongs to.

    ``xlsform`` types this entry's files with their own form (a wave collected with several form
    versions: one entry per version, each with its form); default: the source's ``xlsform``. ``part``
    names one of several files that together make a wave (e.g. ``v1`` and ``v2`` exports of two form
    versions): a newer file supersedes only the earlier file of the same wave *and* part.
    """

    path: str
    wave_id: str | None = None
    xlsform: str | None = None
    part: str | None = None

    @model_validator(mode="after")
    def _part_name(self) -> "FileSpec":
        if self.part is not None and not re.fullmatch(r"[A-Za-z0-9_.-]+", self.part):
            raise ValueError(f"part {self.part!r}: letters, digits, '_', '.', '-' only")
        return self


class SampleFrame(_Strict):
    """A delivered sample frame giving the population (households, people) of every stratum: design
    weights are N_h / n_h, n_h = respondents of stratum h loaded in the wave (after exclusions and
    quarantine). ``path`` is relative to the source folder; ``population_column`` must hold a positive
    number in every row and ``stratum_column`` each stratum once."""

    path: str
    stratum_column: str
    population_column: str
    encoding: str = "utf-8"
    delimiter: Literal[",", ";", "\t", "auto"] = "auto"


class ColumnRef(_Strict):
    """Where a design or respondent attribute comes from: a column, a constant, or a rule.

    Exactly one of ``column``, ``constant``, ``sum_of_columns``, ``per_respondent``, ``sample_frame`` is
    set (``sum_of_columns`` and ``sample_frame`` only for the weight). ``recode`` maps source values (after
    trimming) to canonical ones; with ``recode`` present, a value not in it is quarantined.
    """

    column: str | None = None
    constant: str | float | None = None
    sum_of_columns: list[str] | None = None
    per_respondent: bool = False
    sample_frame: SampleFrame | None = None
    recode: dict[str, str | None] | None = None
    via: Literal["value", "label_en", "label_ar"] = "value"

    @model_validator(mode="after")
    def _one_of(self) -> "ColumnRef":
        chosen = [
            self.column is not None,
            self.constant is not None,
            self.sum_of_columns is not None,
            self.per_respondent,
            self.sample_frame is not None,
        ]
        if sum(chosen) != 1:
            raise ValueError("give exactly one of column, constant, sum_of_columns, per_respondent, sample_frame")
        return self


class SinglePsuRule(_Strict):
    """What a stratum with a single PSU does in the variance (docs/methodology.md, section 2b).

    ``skip`` (default): it contributes no variance (samplics SinglePSUEst.skip, R survey.lonely.psu =
    "certainty"); ``certainty_units``: the PSU was a certainty selection and its respondents act as the
    stratum's PSUs (samplics SinglePSUEst.certainty); ``combine``: collapsed strata, the stratum joins the
    one ``combine`` names (``{stratum: stratum it joins}``; a pair named here applies to any stratum), else
    the nearest stratum of its governorate with two or more PSUs. ``note`` says why.
    """

    rule: Literal["skip", "certainty_units", "combine"] = "skip"
    combine: dict[str, str] = Field(default_factory=dict)
    note: str | None = None

    @model_validator(mode="after")
    def _combine_only_with_combine(self) -> "SinglePsuRule":
        if self.combine and self.rule != "combine":
            raise ValueError("combine: strata to join are only read with rule: combine")
        if any(k == v for k, v in self.combine.items()):
            raise ValueError("combine: a stratum cannot join itself")
        chained = sorted(set(self.combine) & set(self.combine.values()))
        if chained:
            raise ValueError(f"combine: strata {chained} both join another stratum and are joined; name the final one")
        return self


#: Attribute names a mapping may not declare under ``disaggregations`` (built-in or reserved).
RESERVED_DISAGGREGATIONS = {"all", "hoh_sex", "urban_rural", "district"}


class ConsentRule(_Strict):
    """Rows whose ``column`` value is not in ``include`` are excluded (not loaded), with reason."""

    column: str
    include: list[str]


class IncludeOnly(_Strict):
    """Rows are loaded only when ``column`` holds one of ``values``; other rows (blank included) are
    excluded with ``reason`` and the value, e.g. ``{column: call_status, values: [answered], reason: call
    not answered}``. Rules apply in order, before ``consent``; a row is excluded by the first rule it fails."""

    column: str
    values: list[str]
    reason: str


#: How Kobo and ODK Central spell review decisions, folded to one vocabulary (``_validation_status``
#: holds the uid ``validation_status_approved`` in XML-value exports and the label ``Approved`` in label
#: exports; ODK Central's ``ReviewState`` holds ``approved``, ``rejected``, ``hasIssues``, ``edited``).
VALIDATION_STATUS_CODES = {
    "validation_status_approved": "approved", "approved": "approved",
    "validation_status_not_approved": "not_approved", "not approved": "not_approved", "not_approved": "not_approved",
    "rejected": "not_approved",
    "validation_status_on_hold": "on_hold", "on hold": "on_hold", "on_hold": "on_hold", "hasissues": "on_hold",
    "edited": "received", "received": "received",
}


class ValidationStatus(_Strict):
    """Which review decisions load. Statuses are folded to ``approved``, ``not_approved`` (Kobo "Not
    approved", ODK Central "rejected"), ``on_hold`` (Kobo "On hold", ODK Central "hasIssues") and
    ``received`` (no decision: blank, ODK Central "received"/"edited"). Default: every status but
    ``not_approved`` loads; ``include: [approved]`` loads approved submissions only. Excluded rows are
    counted with their status as reason. ``column`` defaults to ``_validation_status`` (Kobo) or
    ``ReviewState`` (ODK Central); when the file has no such column the rule is not applied (and the run
    summary says so)."""

    column: str | None = None
    exclude: list[Literal["approved", "not_approved", "on_hold", "received"]] = Field(default_factory=lambda: ["not_approved"])
    include: list[Literal["approved", "not_approved", "on_hold", "received"]] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> "ValidationStatus":
        if self.include is not None and "exclude" in self.model_fields_set:
            raise ValueError("give include or exclude, not both")
        return self

    def loads(self, status: str) -> bool:
        return status in self.include if self.include is not None else status not in self.exclude


class Duplicates(_Strict):
    """Duplicate submissions within a wave (across its files), handled before any cell is checked.

    - Same submission id (``respondent_id``; Kobo ``_uuid``) with the same answers: loaded once; the
      other copies are excluded ("exact duplicate of <file> row N"). Server metadata (``_id``,
      ``_submission_time``, ``_index``, ``_validation_status``, ...) is not compared.
    - Same id, different answers: every copy is quarantined (which is right cannot be told).
    - Edits: rows of one submission lineage (same ``root`` id, or linked through ``deprecated`` ids)
      keep the latest edit (the version no other row deprecates; else the latest ``_submission_time``);
      earlier versions are excluded ("superseded by its edit ..."). Columns default to Kobo's
      ``meta/rootUuid``, ``meta/deprecatedID`` and ``meta/instanceID`` when the file has them.
    - Soft duplicates: two submissions of one ``enumerator`` whose answered fields are at least
      ``soft_threshold`` identical (over at least ``soft_min_fields`` fields either answered) are
      **flagged** for review in ``audit.review_flags``, and both stay loaded. Off without ``enumerator``.
    """

    root: str | None = None
    deprecated: str | None = None
    instance_id: str | None = None
    enumerator: str | None = None
    soft_threshold: float = Field(default=0.95, gt=0.5, le=1.0)
    soft_min_fields: int = Field(default=10, ge=2)


class RepeatGroup(_Strict):
    """A repeat group delivered beside the main table: a sheet of the Kobo XLSX (``sheet``, default the
    group's name) or, for ODK Central, a CSV in the source folder (``path``, a glob) or in the export
    zip (``path`` matched against its members). Rows link to their parent (``parent``: ``main`` or
    another repeat group) by ``_parent_index`` = parent ``_index`` (Kobo) or ``PARENT_KEY`` = parent
    ``KEY`` (ODK Central). An orphan row is quarantined; a row whose parent was excluded or quarantined
    follows it."""

    sheet: str | None = None
    path: str | None = None
    parent: str = "main"


class ScaleMap(_Strict):
    """A source scale that differs from the canonical one (e.g. 4 or 7 points for a 5-point rating),
    declared onto the canonical question's **top box / bottom box** (question bank ``top_box`` /
    ``bottom_box``): every delivered substantive code is in exactly one of ``top_box``, ``middle`` and
    ``bottom_box``; ``nonresponse`` maps "don't know" / "refused" codes onto the question's nonresponse
    codes. Answers are stored as ``top_box`` / ``middle_box`` / ``bottom_box``: they count in indicators
    defined as the question's top or bottom box and in no other (a 4-point wave has no "adequate"), so
    such a wave lines up with 5-point waves on "good or excellent" and "poor or very poor" only.
    """

    points: int = Field(ge=2, le=11)
    top_box: list[str]
    bottom_box: list[str]
    middle: list[str] = Field(default_factory=list)
    nonresponse: dict[str, str] = Field(default_factory=dict)
    note: str | None = None

    @model_validator(mode="after")
    def _partition(self) -> "ScaleMap":
        groups = [*self.top_box, *self.middle, *self.bottom_box]
        if len(groups) != len(set(groups)):
            raise ValueError("a code is in more than one of top_box, middle, bottom_box")
        if len(groups) != self.points:
            raise ValueError(f"points: {self.points} but top_box + middle + bottom_box list {len(groups)} codes")
        if set(groups) & set(self.nonresponse):
            raise ValueError("a nonresponse code is also a substantive code")
        if not self.top_box or not self.bottom_box:
            raise ValueError("top_box and bottom_box need at least one code each")
        return self

    def recode(self) -> dict[str, str]:
        """Delivered code -> stored code (top_box / middle_box / bottom_box / a nonresponse code)."""
        out = {c: "top_box" for c in self.top_box}
        out |= {c: "middle_box" for c in self.middle}
        out |= {c: "bottom_box" for c in self.bottom_box}
        return out | dict(self.nonresponse)


#: Stored answer codes of a question answered on a declared scale (:class:`ScaleMap`).
BOX_CODES = ("top_box", "middle_box", "bottom_box")


class QuestionMap(_Strict):
    """How one source column maps onto a canonical question of the question bank.

    ``recode`` maps source codes/labels onto canonical codes; without it, the source codes must already
    be canonical codes of the question's scale. ``null_values`` are treated as "not answered" (use them
    for blanks written as text, e.g. ``"-"``; a "don't know" code belongs in ``recode``, onto the
    question's nonresponse code, so that it counts in the excluded share). ``scale`` instead of
    ``recode`` declares a scale with another number of points (:class:`ScaleMap`).
    """

    column: str
    recode: dict[str, str] | None = None
    scale: ScaleMap | None = None
    null_values: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _recode_or_scale(self) -> "QuestionMap":
        if self.recode is not None and self.scale is not None:
            raise ValueError("give recode or scale, not both")
        return self


class FormFix(_Strict):
    """A documented correction where a delivered file departs from its XLSForm.

    ``type`` re-types a field (e.g. ``text`` for codes anonymised before publication, or
    ``select_multiple`` when the deployed version asked a select_one as a multiple choice; the choice
    list stays); ``recode`` renames delivered codes to the form's codes (a choice renamed between form
    versions); ``add_choices`` adds codes the deployed version had to the field's choice list. ``note``
    says why.
    """

    type: str | None = None
    recode: dict[str, str] | None = None
    #: choices a deployed form version had that the shipped XLSForm's list lacks (select questions)
    add_choices: list[str] = Field(default_factory=list)
    note: str


class GovernorateByDistrict(_Strict):
    """Districts whose governorate differs from the one the file gives, e.g. Halabja district filed under
    Sulaymaniyah by sources that predate Halabja governorate: ``{column: DistrictE, districts: {Halabja: Halabja}}``
    makes rows whose district column is a key take the value as their governorate name."""

    column: str
    districts: dict[str, str]


class SurveyMapping(_Strict):
    """Mapping of a survey source (Kobo/ODK CSV export with its XLSForm, or a plain CSV)."""

    source_id: str
    domain: Literal["survey"]
    title: str
    is_synthetic: bool = False
    #: a run that loads no row of this source fails unless this is true (a delivery expected to be empty)
    allow_empty: bool = False
    format: Literal["kobo_csv", "kobo_xlsx", "odk_central_csv", "csv", "xlsx", "spss", "stata"]
    #: text encoding; default ``utf-8`` for text files and the file's own declaration for SPSS/Stata
    encoding: str | None = None
    delimiter: Literal[",", ";", "\t", "auto"] = "auto"
    header_style: Literal["kobo", "r_make_names", "plain"] = "kobo"
    #: ``labels``: the export's headers are question labels (Kobo "Labels" export) and are decoded back
    #: to names through the XLSForm; ``values: labels`` likewise decodes choice labels back to codes.
    headers: Literal["names", "labels"] = "names"
    values: Literal["codes", "labels"] = "codes"
    label_language: Literal["en", "ar"] = "en"
    #: separators of the export's headers: group path (``grp/q``; ODK Central ``grp-q``) and
    #: select_multiple split columns (``q/choice``; some Kobo exports ``q.choice``)
    group_separator: str | None = None
    choice_separator: str | None = None
    xlsform: str | None = None
    #: a data dictionary for plain csv/xlsx files (pipelines/readers/codebook.py); SPSS/Stata files
    #: carry their own (variable and value labels)
    codebook: str | None = None
    #: main sheet of an xlsx export (default: the first)
    sheet: str | None = None
    repeats: dict[str, RepeatGroup] = Field(default_factory=dict)
    validation_status: ValidationStatus = Field(default_factory=ValidationStatus)
    duplicates: Duplicates = Field(default_factory=Duplicates)
    include_only: list[IncludeOnly] = Field(default_factory=list)
    unit_of_analysis: str = "household"
    files: list[FileSpec]
    respondent_id: str
    governorate: ColumnRef
    governorate_by_district: GovernorateByDistrict | None = None
    district: ColumnRef | None = None
    stratum: ColumnRef
    psu: ColumnRef
    weight: ColumnRef
    hoh_sex: ColumnRef | None = None
    urban_rural: ColumnRef | None = None
    #: Further respondent attributes to break estimates down by (e.g. ``displacement_status``): name ->
    #: where it comes from. An indicator uses one when its ``disaggregations`` lists the name.
    disaggregations: dict[str, ColumnRef] = Field(default_factory=dict)
    single_psu: SinglePsuRule = Field(default_factory=SinglePsuRule)
    #: ``governorate_population``: weights scaled so that they add up to the population of each
    #: governorate in the fieldwork year (data_contracts/reference/population.csv).
    post_stratify: Literal["none", "governorate_population"] = "none"
    interview_date: ColumnRef | None = None
    consent: ConsentRule | None = None
    personal_columns: list[str] = Field(default_factory=list)
    not_personal: list[str] = Field(default_factory=list)
    form_fixes: dict[str, FormFix] = Field(default_factory=dict)
    weight_note: str
    design_note: str
    #: What the estimates describe when it is less than the whole governorate (e.g. "Tal Afar city only");
    #: shown beside every estimate of the source. None = the governorate as a whole.
    coverage: str | None = None
    citation: str | None = None
    questions: dict[str, QuestionMap]
    #: cleaning checks and reviewed cleaning logs (data_contracts/cleaning.py, docs/cleaning.md)
    cleaning: CleaningConfig = Field(default_factory=CleaningConfig)

    @model_validator(mode="after")
    def _post_stratify_needs_a_date(self) -> "SurveyMapping":
        if self.post_stratify != "none" and self.interview_date is None:
            raise ValueError("post_stratify: governorate_population needs interview_date (the population of the "
                             "fieldwork year is the target)")
        return self

    @model_validator(mode="after")
    def _waves(self) -> "SurveyMapping":
        if any(f.wave_id is None for f in self.files):
            raise ValueError("every file of a survey source needs a wave_id")
        keys = [(f.wave_id, f.part) for f in self.files]
        if len(keys) != len(set(keys)):
            raise ValueError("two files: entries claim the same wave (and part): give each entry its own part")
        return self

    @model_validator(mode="after")
    def _format_fields(self) -> "SurveyMapping":
        form_needed = self.headers == "labels" or self.values == "labels"
        if form_needed and not (self.xlsform or all(f.xlsform for f in self.files)):
            raise ValueError("headers/values: labels are decoded through the XLSForm: give xlsform")
        if self.codebook and self.format not in ("csv", "xlsx"):
            raise ValueError("codebook is for plain csv/xlsx files (Kobo exports have an XLSForm; SPSS/Stata carry "
                             "their own labels)")
        if self.codebook and self.xlsform:
            raise ValueError("give xlsform or codebook, not both")
        if self.sheet and self.format not in ("kobo_xlsx", "xlsx"):
            raise ValueError("sheet is only for xlsx formats")
        if self.repeats and self.format not in ("kobo_xlsx", "odk_central_csv"):
            raise ValueError("repeats are read from kobo_xlsx sheets or odk_central_csv files")
        if self.format in ("spss", "stata") and (self.xlsform or self.header_style != "kobo"):
            raise ValueError("SPSS/Stata files are typed by their own variable and value labels: no xlsform or header_style")
        for name, rep in self.repeats.items():
            if rep.parent != "main" and rep.parent not in self.repeats:
                raise ValueError(f"repeats.{name}.parent: {rep.parent!r} is neither main nor a repeat group")
            if self.format == "odk_central_csv" and not rep.path:
                raise ValueError(f"repeats.{name}: an ODK Central repeat group needs path (its CSV)")
        return self

    @model_validator(mode="after")
    def _interview_date_is_local(self) -> "SurveyMapping":
        ref = self.interview_date
        if ref is not None and ref.column in ("_submission_time", "SubmissionDate", "submission_time"):
            raise ValueError(
                f"interview_date: {ref.column} is when the server received the submission, in UTC, often days "
                "later; use the form's start (or today) field, which holds the device's local time")
        return self

    def text_encoding(self) -> str:
        """The encoding to decode a text file with (``utf-8`` unless declared)."""
        return self.encoding or "utf-8"

    def group_sep(self) -> str:
        return self.group_separator or ("-" if self.format == "odk_central_csv" else "/")

    def choice_sep(self) -> str:
        return self.choice_separator or "/"

    @model_validator(mode="after")
    def _design_refs(self) -> "SurveyMapping":
        others = {"governorate": self.governorate, "district": self.district, "stratum": self.stratum,
                  "psu": self.psu, "hoh_sex": self.hoh_sex, "urban_rural": self.urban_rural,
                  "interview_date": self.interview_date, **self.disaggregations}
        for name, ref in others.items():
            if ref is not None and (ref.sample_frame is not None or ref.sum_of_columns is not None):
                raise ValueError(f"{name}: sample_frame and sum_of_columns are only for the weight")
        for name in self.disaggregations:
            if name in RESERVED_DISAGGREGATIONS or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"disaggregations: {name!r} is reserved or not a lower_snake_case name "
                                 f"(reserved: {sorted(RESERVED_DISAGGREGATIONS)})")
        return self


class ExcludeRows(_Strict):
    """Rows that are not budget lines of a governorate (e.g. a regional aggregate): excluded with ``reason``
    when ``column`` holds one of ``values`` (counted in rows_excluded, listed in audit.exclusions)."""

    column: str
    values: list[str]
    reason: str


#: Budget codes (docs/budget-workbooks.md).
BUDGET_SECTORS = ("water_sanitation", "electricity", "health", "education", "municipal_waste", "roads_transport",
                  "other", "all")
BUDGET_SCOPES = ("operating", "capital", "total")
FUNDING_STREAMS = ("federal_ministries", "regions_development", "petrodollar", "own_revenue", "all")


class BudgetFieldRef(_Strict):
    """Where a budget line's governorate, fiscal year, sector, economic type or funding stream comes from.

    Exactly one of: ``column`` (a column, by its header text), ``constant``, ``title`` (a regular
    expression searched in the title rows above the header; its first group is the value), ``sheet_name``
    (a regular expression on the sheet's name, first group), ``section`` (the text of the section heading
    the line stands under). ``recode`` maps values (trimmed) to codes; a value not in it is quarantined.
    """

    column: str | None = None
    constant: str | int | None = None
    title: str | None = None
    sheet_name: str | None = None
    section: bool = False
    recode: dict[str, str] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "BudgetFieldRef":
        chosen = [self.column is not None, self.constant is not None, self.title is not None,
                  self.sheet_name is not None, self.section]
        if sum(chosen) != 1:
            raise ValueError("give exactly one of column, constant, title, sheet_name, section")
        for pattern in (self.title, self.sheet_name):
            if pattern is not None:
                try:
                    compiled = re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
                if compiled.groups < 1:
                    raise ValueError(f"{pattern!r}: put the value in a group, e.g. 'للسنة المالية\\s*(\\S+)'")
        return self


class UnitSpec(_Strict):
    """The unit of a sheet's amounts: ``find`` it in the rows above the header, read it from ``cell``
    (e.g. ``A3``), or ``declared`` in the mapping. The text is read by
    :func:`pipelines.readers.budget_sheet.parse_unit` (e.g. ``بالآلاف دينار``, ``IQD million``)."""

    find: bool = False
    cell: str | None = None
    declared: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "UnitSpec":
        if sum([self.find, self.cell is not None, self.declared is not None]) != 1:
            raise ValueError("give exactly one of find: true, cell, declared")
        if self.cell is not None and not re.fullmatch(r"[A-Z]{1,3}[1-9][0-9]*", self.cell):
            raise ValueError(f"cell {self.cell!r}: an Excel reference like A3")
        return self


class BudgetLayout(_Strict):
    """Where the table sits in a sheet (docs/budget-workbooks.md): which sheets, the header row(s), the
    unit, the item column whose text tells line items from section headings, subtotals and totals."""

    sheets: str = "*"
    header_row: int | None = Field(default=None, ge=1)
    header_starts: str | None = None
    header_rows: int = Field(default=1, ge=1, le=3)
    unit: UnitSpec | None = None
    item_column: str | None = None
    total_labels: list[str] = Field(default_factory=list)
    subtotal_labels: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _header(self) -> "BudgetLayout":
        if (self.header_row is None) == (self.header_starts is None):
            raise ValueError("give exactly one of header_row (1-based) and header_starts (a header cell's text)")
        return self


class Coverage(_Strict):
    """A source that covers part of what its fiscal years hold: some governorates, or some months
    (``period_months``). Its figures are shown as partial, never compared as if complete."""

    partial: bool = True
    period_months: int | None = Field(default=None, ge=1, le=12)
    note: str


class BudgetMapping(_Strict):
    """Mapping of a budget source: Excel workbooks in their printed layout (``format: xlsx`` with
    ``layout``) or CSV extracts with one line per row (docs/budget-workbooks.md)."""

    source_id: str
    domain: Literal["budget"]
    title: str
    is_synthetic: bool = False
    #: a run that loads no row of this source fails unless this is true (a delivery expected to be empty)
    allow_empty: bool = False
    format: Literal["csv", "xlsx"]
    encoding: str = "utf-8"
    delimiter: Literal[",", ";", "\t", "auto"] = "auto"
    files: list[FileSpec]
    layout: BudgetLayout | None = None
    governorate: BudgetFieldRef
    pcode_check_column: str | None = None
    fiscal_year: BudgetFieldRef
    sector: BudgetFieldRef
    budget_scope: BudgetFieldRef
    funding_stream: BudgetFieldRef = BudgetFieldRef(constant="all")
    currency: Literal["USD", "IQD"] | None = None
    amount_unit: str | None = None
    unit_multiplier: float | None = Field(default=None, gt=0)
    allocation_original: str | None = None
    allocation_revised: str | None = None
    expenditure: str | None = None
    execution_pct_published: str | None = None
    #: amount fields where a negative amount is a real value (e.g. a refund line); elsewhere it is quarantined
    allow_negative: list[Literal["allocation_original", "allocation_revised", "expenditure"]] = Field(default_factory=list)
    as_of: BudgetFieldRef | None = None
    exclude_rows: list[ExcludeRows] = Field(default_factory=list)
    citation: str | None = None
    coverage: Coverage | None = None
    #: What a newer file of this source replaces in older ones (docs/publishing.md): every line of the
    #: fiscal years it holds (files per year), or only the years × governorates it holds (files per
    #: governorate, e.g. one workbook per governorate).
    supersede_by: Literal["fiscal_year", "fiscal_year_governorate"] = "fiscal_year"

    @model_validator(mode="after")
    def _layout_and_unit(self) -> "BudgetMapping":
        triplet = [self.currency is not None, self.amount_unit is not None, self.unit_multiplier is not None]
        unit_in_layout = self.layout is not None and self.layout.unit is not None
        if self.format == "xlsx" and self.layout is None:
            raise ValueError("format xlsx needs a layout (header_row or header_starts, header_rows, unit)")
        if self.format == "csv" and self.layout is not None and (self.layout.header_row not in (None, 1)
                                                                 or self.layout.header_rows != 1):
            raise ValueError("a csv file has its one header row first: layout.header_row/header_rows are for xlsx")
        if unit_in_layout and any(triplet):
            raise ValueError("give the unit once: layout.unit, or currency + amount_unit + unit_multiplier")
        if not unit_in_layout and not all(triplet):
            raise ValueError("give the unit: layout.unit (find, cell or declared), or currency + amount_unit + "
                             "unit_multiplier")
        if not any([self.allocation_original, self.allocation_revised, self.expenditure, self.execution_pct_published]):
            raise ValueError("map at least one amount: allocation_original, allocation_revised, expenditure or "
                             "execution_pct_published")
        for name in ("sector", "budget_scope", "funding_stream"):
            ref: BudgetFieldRef = getattr(self, name)
            codes = {"sector": BUDGET_SECTORS, "budget_scope": BUDGET_SCOPES, "funding_stream": FUNDING_STREAMS}[name]
            targets = set(ref.recode.values()) if ref.recode else ({str(ref.constant)} if ref.constant is not None else set())
            wrong = sorted(t for t in targets if t not in codes)
            if wrong:
                raise ValueError(f"{name}: {wrong} not among {list(codes)}")
            if ref.section and (self.layout is None or self.layout.item_column is None):
                raise ValueError(f"{name}: section needs layout.item_column (the column whose headings start sections)")
        for name in ("governorate", "fiscal_year", "sector", "budget_scope", "funding_stream"):
            ref = getattr(self, name)
            if ref.title is not None and self.format != "xlsx":
                raise ValueError(f"{name}: title is for xlsx sheets with title rows")
            if ref.sheet_name is not None and self.format != "xlsx":
                raise ValueError(f"{name}: sheet_name is for xlsx files")
        return self


Mapping = SurveyMapping | BudgetMapping


class DuplicateKeyError(yaml.YAMLError):
    """The same key twice in one YAML mapping (YAML's own loader keeps the last one silently)."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key written twice in the same mapping."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise DuplicateKeyError(
                    f"key {key!r} appears twice in the same mapping (line {seen[key] + 1} and line "
                    f"{key_node.start_mark.line + 1}); YAML would keep only the last: remove one")
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def load_mapping(path: Path) -> Mapping:
    """Read and validate one mapping file.

    Raises:
        MappingError: the file is not YAML, or a field is missing or wrong (the message names the file
            and the field).
    """
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader
    except DuplicateKeyError as exc:
        raise MappingError(f"{path}: {exc}") from None
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: cannot read mapping: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("domain") not in ("survey", "budget", "training"):
        raise MappingError(f"{path}: a mapping needs 'domain: survey', 'domain: budget' or 'domain: training'")
    todo = _todo_fields(raw)
    if todo:
        raise MappingError(f"{path}: fields still marked TODO (a draft of `mizan source check`?): {', '.join(todo)}")
    from data_contracts.training_mapping import TrainingMapping  # it builds on this module's models

    model = {"survey": SurveyMapping, "budget": BudgetMapping, "training": TrainingMapping}[raw["domain"]]
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise MappingError(f"{path}: {problems}") from None


def _todo_fields(value, where: str = "") -> list[str]:
    """Dotted paths of every text value that starts with ``TODO`` (placeholders left in a draft)."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _todo_fields(v, f"{where}.{k}" if where else str(k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _todo_fields(v, f"{where}[{i}]")]
    return [where] if isinstance(value, str) and value.strip().upper().startswith("TODO") else []


def find_mapping(source_path: Path, source_id: str) -> Path | None:
    """The mapping of a source: ``source.yaml`` in its folder when present, else the shipped one."""
    if source_path.is_dir() and (source_path / "source.yaml").is_file():
        return source_path / "source.yaml"
    shipped = SOURCES_DIR / f"{source_id}.yaml"
    return shipped if shipped.is_file() else None


def load_question_bank(path: Path = QUESTION_BANK_PATH) -> dict[str, dict]:
    """The canonical questions: ``{question_id: {sector, answer_type, choice_codes, top_box, bottom_box, ...}}``.

    Raises:
        MappingError: a code that is not text (YAML reads bare yes/no as booleans), a sector not in the
            bank's ``sectors``, or a top/bottom box that is not made of the question's own codes.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    sectors = data.get("sectors", {})
    for qid, spec in data["questions"].items():
        for key in ("choice_codes", "nonresponse_codes", "top_box", "bottom_box"):
            codes = spec.get(key, [])
            if any(not isinstance(c, str) for c in codes):
                # YAML 1.1 reads bare yes/no as booleans: codes must be quoted strings.
                raise MappingError(f"{path}: {qid}.{key} has a non-text code {codes!r}; quote yes/no")
        if sectors and spec.get("sector") not in sectors:
            raise MappingError(f"{path}: {qid}.sector {spec.get('sector')!r} is not one of {sorted(sectors)}")
        boxes = [*spec.get("top_box", []), *spec.get("bottom_box", [])]
        if boxes and (not set(boxes) <= set(spec.get("choice_codes", [])) or len(boxes) != len(set(boxes))
                      or not spec.get("top_box") or not spec.get("bottom_box")):
            raise MappingError(f"{path}: {qid}: top_box and bottom_box must be distinct, non-empty sets of its choice codes")
    return data["questions"]


def question_sectors(path: Path = QUESTION_BANK_PATH, lang: str = "en") -> dict[str, str]:
    """Sector id -> display name in ``lang`` ('en' or 'ar'), in the question bank's order. A sector is
    ``id: {en: Name, ar: الاسم}`` (or ``id: Name``, English only: its Arabic name is then the English).

    Raises:
        MappingError: a sector without an English name."""
    out = {}
    for sector, names in (yaml.safe_load(path.read_text(encoding="utf-8")).get("sectors") or {}).items():
        names = names if isinstance(names, dict) else {"en": names}
        if not names.get("en"):
            raise MappingError(f"{path}: sector {sector!r} has no English name (en:)")
        out[sector] = str(names.get(lang) or names["en"])
    return out


def load_indicators(path: Path = INDICATORS_PATH) -> dict[str, dict]:
    """The indicator registry with defaults applied: ``{indicator_id: {field: value}}``.

    Raises:
        MappingError: an indicator names a question that is not in the question bank, a success code that
            is not on that question's scale, an unknown indicator_type or ci_method, a CI method that does not
            fit its type (means take ``t``), a distribution of a question that is not select_one, a
            proportion without success codes, or a disaggregation name that is not lower_snake_case.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    bank = load_question_bank()
    methods = {"proportion": {"logit", "korn_graubard", "t"}, "distribution": {"logit", "korn_graubard", "t"},
               "mean": {"t"}}
    out: dict[str, dict] = {}
    for ind_id, spec in data["indicators"].items():
        merged = {**data.get("defaults", {}), **spec, "indicator_id": ind_id}
        q = bank.get(merged["question_id"])
        where = f"{path}: indicator {ind_id}"
        if q is None:
            raise MappingError(f"{where} names unknown question {merged['question_id']}")
        kind = merged.get("indicator_type")
        if kind not in methods:
            raise MappingError(f"{where}: indicator_type {kind!r} is not one of {sorted(methods)}")
        ci = merged.setdefault("ci_method", "t" if kind == "mean" else "logit")
        if ci not in methods[kind]:
            raise MappingError(f"{where}: ci_method {ci!r} does not fit a {kind} (use one of {sorted(methods[kind])})")
        if kind == "distribution" and (q.get("answer_type") != "select_one" or merged.get("success_codes")):
            raise MappingError(f"{where}: a distribution needs a select_one question and no success_codes")
        if kind == "proportion" and not merged.get("success_codes"):
            raise MappingError(f"{where}: a proportion needs success_codes")
        for code in merged.get("success_codes") or []:
            if code not in q.get("choice_codes", []):
                raise MappingError(f"{where}: success code {code!r} not on the scale of {merged['question_id']}")
        for name in merged.get("disaggregations") or []:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", str(name)):
                raise MappingError(f"{where}: disaggregation {name!r} is not a lower_snake_case attribute name")
        out[ind_id] = merged
    return out
