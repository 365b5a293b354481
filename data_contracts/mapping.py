"""Source mapping files: how one kind of delivered file maps onto mizan's canonical tables.

A mapping is YAML (``source.yaml`` in the source folder, else ``data_contracts/sources/<source_id>.yaml``)
validated by the pydantic models below; a mistake in a mapping raises :class:`MappingError` naming the
file and the field. The reference for every field, with worked examples, is ``docs/mapping-files.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

SOURCES_DIR = Path(__file__).resolve().parent / "sources"
QUESTION_BANK_PATH = Path(__file__).resolve().parent / "question_bank.yaml"
INDICATORS_PATH = Path(__file__).resolve().parent / "indicators.yaml"


class MappingError(ValueError):
    """A mapping file that cannot be read or does not follow the mapping reference."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileSpec(_Strict):
    """One delivered file (a glob relative to the source folder) and the wave it belongs to."""

    path: str
    wave_id: str | None = None


class ColumnRef(_Strict):
    """Where a design or respondent attribute comes from: a column, a constant, or a rule.

    Exactly one of ``column``, ``constant``, ``sum_of_columns``, ``per_respondent`` is set.
    ``recode`` maps source values (after trimming) to canonical ones; with ``recode`` present, a value
    not in it is quarantined.
    """

    column: str | None = None
    constant: str | float | None = None
    sum_of_columns: list[str] | None = None
    per_respondent: bool = False
    recode: dict[str, str | None] | None = None
    via: Literal["value", "label_en", "label_ar"] = "value"

    @model_validator(mode="after")
    def _one_of(self) -> "ColumnRef":
        chosen = [
            self.column is not None,
            self.constant is not None,
            self.sum_of_columns is not None,
            self.per_respondent,
        ]
        if sum(chosen) != 1:
            raise ValueError("give exactly one of column, constant, sum_of_columns, per_respondent")
        return self


class ConsentRule(_Strict):
    """Rows whose ``column`` value is not in ``include`` are excluded (not loaded), with reason."""

    column: str
    include: list[str]


class QuestionMap(_Strict):
    """How one source column maps onto a canonical question of the question bank.

    ``recode`` maps source codes/labels onto canonical codes; without it, the source codes must already
    be canonical codes of the question's scale. ``null_values`` are treated as "not answered".
    """

    column: str
    recode: dict[str, str] | None = None
    null_values: list[str] = Field(default_factory=list)


class FormFix(_Strict):
    """A documented correction where a delivered file departs from its XLSForm.

    ``type`` re-types a field (e.g. ``text`` for codes anonymised before publication); ``recode`` renames
    delivered codes to the form's codes (a choice renamed between form versions). ``note`` says why.
    """

    type: str | None = None
    recode: dict[str, str] | None = None
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
    format: Literal["kobo_csv", "csv"]
    encoding: str = "utf-8"
    delimiter: Literal[",", ";", "\t", "auto"] = "auto"
    header_style: Literal["kobo", "r_make_names", "plain"] = "kobo"
    xlsform: str | None = None
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

    @model_validator(mode="after")
    def _waves(self) -> "SurveyMapping":
        if any(f.wave_id is None for f in self.files):
            raise ValueError("every file of a survey source needs a wave_id")
        return self


class ExcludeRows(_Strict):
    """Rows that are not budget lines of a governorate (e.g. a regional aggregate): excluded with ``reason``
    when ``column`` holds one of ``values`` (counted in rows_excluded, listed in audit.exclusions)."""

    column: str
    values: list[str]
    reason: str


class BudgetMapping(_Strict):
    """Mapping of a budget source: one row per governorate (× sector × fiscal year) line."""

    source_id: str
    domain: Literal["budget"]
    title: str
    is_synthetic: bool = False
    format: Literal["csv"]
    encoding: str = "utf-8"
    delimiter: Literal[",", ";", "\t", "auto"] = "auto"
    files: list[FileSpec]
    governorate: ColumnRef
    pcode_check_column: str | None = None
    fiscal_year: ColumnRef
    sector: ColumnRef
    budget_scope: ColumnRef
    currency: Literal["USD", "IQD"]
    amount_unit: str
    unit_multiplier: float
    allocation_original: str | None = None
    allocation_revised: str | None = None
    expenditure: str | None = None
    execution_pct_published: str | None = None
    as_of: ColumnRef | None = None
    exclude_rows: list[ExcludeRows] = Field(default_factory=list)
    citation: str | None = None
    #: What a newer file of this source replaces in older ones (docs/publishing.md): every line of the
    #: fiscal years it holds (files per year), or only the years × governorates it holds (files per
    #: governorate, e.g. one workbook per governorate).
    supersede_by: Literal["fiscal_year", "fiscal_year_governorate"] = "fiscal_year"


Mapping = SurveyMapping | BudgetMapping


def load_mapping(path: Path) -> Mapping:
    """Read and validate one mapping file.

    Raises:
        MappingError: the file is not YAML, or a field is missing or wrong (the message names the file
            and the field).
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: cannot read mapping: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("domain") not in ("survey", "budget"):
        raise MappingError(f"{path}: a mapping needs 'domain: survey' or 'domain: budget'")
    model = SurveyMapping if raw["domain"] == "survey" else BudgetMapping
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise MappingError(f"{path}: {problems}") from None


def find_mapping(source_path: Path, source_id: str) -> Path | None:
    """The mapping of a source: ``source.yaml`` in its folder when present, else the shipped one."""
    if source_path.is_dir() and (source_path / "source.yaml").is_file():
        return source_path / "source.yaml"
    shipped = SOURCES_DIR / f"{source_id}.yaml"
    return shipped if shipped.is_file() else None


def load_question_bank(path: Path = QUESTION_BANK_PATH) -> dict[str, dict]:
    """The canonical questions: ``{question_id: {sector, answer_type, choice_codes, ...}}``."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for qid, spec in data["questions"].items():
        for key in ("choice_codes", "nonresponse_codes"):
            codes = spec.get(key, [])
            if any(not isinstance(c, str) for c in codes):
                # YAML 1.1 reads bare yes/no as booleans: codes must be quoted strings.
                raise MappingError(f"{path}: {qid}.{key} has a non-text code {codes!r}; quote yes/no")
    return data["questions"]


def load_indicators(path: Path = INDICATORS_PATH) -> dict[str, dict]:
    """The indicator registry with defaults applied: ``{indicator_id: {field: value}}``.

    Raises:
        MappingError: an indicator names a question that is not in the question bank, or a success
            code that is not on that question's scale.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    bank = load_question_bank()
    out: dict[str, dict] = {}
    for ind_id, spec in data["indicators"].items():
        merged = {**data.get("defaults", {}), **spec, "indicator_id": ind_id}
        q = bank.get(merged["question_id"])
        if q is None:
            raise MappingError(f"{path}: indicator {ind_id} names unknown question {merged['question_id']}")
        for code in merged.get("success_codes") or []:
            if code not in q.get("choice_codes", []):
                raise MappingError(f"{path}: indicator {ind_id}: success code {code!r} not on the scale of {merged['question_id']}")
        out[ind_id] = merged
    return out
