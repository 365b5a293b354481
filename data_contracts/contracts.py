"""pandera (polars) contracts for the harmonised tables the ingestion writes to ``raw``.

They are the last gate before the warehouse: ingestion checks each row against its mapping first and
quarantines what fails; these models then check the harmonised frames (collected, never lazy: a
LazyFrame is only schema-checked). :func:`contract_failures` turns pandera's failure cases into
quarantine rows naming the file, the row and the check.
"""

from __future__ import annotations

import polars as pl
import pandera.polars as pa

PCODE_PATTERN = r"^IQG(0[1-9]|1[0-9])$"  # IQG01..IQG18 (COD-AB 2019) and IQG19 (Halabja, mizan surrogate)
SHA256_PATTERN = r"^[0-9a-f]{64}$"


class SurveyRespondent(pa.DataFrameModel):
    """``raw.survey_respondents``: one row per loaded respondent (docs/architecture.md)."""

    source_id: str = pa.Field(nullable=False)
    wave_id: str = pa.Field(nullable=False)
    file_name: str = pa.Field(nullable=False)
    file_sha256: str = pa.Field(str_matches=SHA256_PATTERN)
    row_number: int = pa.Field(ge=1)
    respondent_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    governorate_pcode: str = pa.Field(str_matches=PCODE_PATTERN)
    stratum: str = pa.Field(nullable=False)
    psu: str = pa.Field(nullable=False)
    weight: float = pa.Field(gt=0)
    hoh_sex: str = pa.Field(nullable=True, isin=["male", "female"])
    urban_rural: str = pa.Field(nullable=True, isin=["urban", "rural"])
    is_synthetic: bool

    class Config:
        strict = False
        unique = ["source_id", "wave_id", "respondent_id"]


class SurveyAnswer(pa.DataFrameModel):
    """``raw.survey_answers``: one row per respondent × canonical question (long)."""

    source_id: str = pa.Field(nullable=False)
    wave_id: str = pa.Field(nullable=False)
    file_sha256: str = pa.Field(str_matches=SHA256_PATTERN)
    row_number: int = pa.Field(ge=1)
    respondent_id: str = pa.Field(nullable=False)
    question_id: str = pa.Field(nullable=False)
    answer_code: str = pa.Field(nullable=True)
    answer_numeric: float = pa.Field(nullable=True)

    class Config:
        strict = False
        unique = ["source_id", "wave_id", "respondent_id", "question_id"]


class BudgetLine(pa.DataFrameModel):
    """``raw.budget_lines``: one row per budget line item; amounts in ``amount_unit`` (× ``unit_multiplier``
    = currency units). Negative amounts are quarantined by the ingestion unless the mapping allows them for
    that field (``allow_negative``), so the contract does not bound them."""

    source_id: str = pa.Field(nullable=False)
    file_name: str = pa.Field(nullable=False)
    file_sha256: str = pa.Field(str_matches=SHA256_PATTERN)
    row_number: int = pa.Field(ge=1)
    governorate_pcode: str = pa.Field(str_matches=PCODE_PATTERN)
    governorate_name_source: str = pa.Field(nullable=False)
    fiscal_year: int = pa.Field(ge=1990, le=2100)
    sector: str = pa.Field(
        isin=["all", "water_sanitation", "electricity", "health", "education", "municipal_waste", "roads_transport", "other"]
    )
    budget_scope: str = pa.Field(isin=["total", "capital", "operating"])
    funding_stream: str = pa.Field(isin=["federal_ministries", "regions_development", "petrodollar", "own_revenue", "all"])
    allocation_original: float = pa.Field(nullable=True)
    allocation_revised: float = pa.Field(nullable=True)
    expenditure: float = pa.Field(nullable=True)
    execution_pct_published: float = pa.Field(nullable=True, ge=0, le=1000)
    currency: str = pa.Field(isin=["USD", "IQD"])
    amount_unit: str = pa.Field(nullable=False)
    unit_multiplier: float = pa.Field(gt=0)
    period_months: int = pa.Field(nullable=True, ge=1, le=12)
    is_synthetic: bool

    class Config:
        strict = False


def contract_failures(
    model: type[pa.DataFrameModel], frame: pl.DataFrame
) -> list[tuple[int, str, str | None, str]]:
    """Validate ``frame`` (which carries ``row_number``) and return failing cells.

    Returns:
        ``(row_number, column, value, reason)`` tuples, empty when the frame passes. Frame-wide failures
        with no row (e.g. a missing column) raise instead.

    Raises:
        pandera.errors.SchemaErrors: for failures that concern the whole frame, not rows.
    """
    rows = frame["row_number"].to_list()
    return [(int(rows[i]), col, value, reason) for i, col, value, reason in contract_failures_at(model, frame)]


def contract_failures_at(
    model: type[pa.DataFrameModel], frame: pl.DataFrame
) -> list[tuple[int, str, str | None, str]]:
    """Like :func:`contract_failures`, with the failing row's position in ``frame`` (0-based) instead of its
    ``row_number``: for a frame that stacks several sheets, whose row numbers repeat.

    Raises:
        pandera.errors.SchemaErrors: for failures that concern the whole frame, not rows.
    """
    try:
        model.validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        if cases.filter(pl.col("index").is_null()).height and cases.filter(pl.col("index").is_not_null()).height == 0:
            raise
        return [
            (int(case["index"]), case["column"] or "", case["failure_case"],
             f"contract {model.__name__}: failed check {case['check']}")
            for case in cases.filter(pl.col("index").is_not_null()).iter_rows(named=True)
        ]
