"""The spec's cohort sections: study period, entry, inclusion, classification, setting, windows.

What these fields mean for who enters the cohort and when is :mod:`allrwe.cohort`'s rule; this
module only says which values they may hold.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
)

from allrwe.spec.concepts import ConceptSetKey
from allrwe.spec.types import (
    Age,
    NonNegInt,
    PosInt,
    Section,
    Window,
)

_N = TypeVar("_N", int | None, float | None)


def _not_below(value: _N, info: ValidationInfo, name: str, low_name: str) -> _N:
    """Return an upper bound ``value`` unless it is below the bound ``low_name`` given before it."""
    low = info.data.get(low_name)
    if value is not None and low is not None and value < low:
        raise ValueError(f"{name} {value} is below {low_name} {low}")
    return value


class StudyPeriod(Section):
    """Calendar period in which index exposures count (both ends inclusive)."""

    start: date
    end: date

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("start")
        if start is not None and value < start:
            raise ValueError(f"end {value} is before start {start}")
        return value


class CohortRef(Section):
    """Rows of one ``cohort_definition_id`` in an existing OHDSI cohort table.

    The table has ``cohort_definition_id``, ``subject_id``, ``cohort_start_date`` and
    ``cohort_end_date``, as ATLAS, CohortGenerator or duckcdm write them.
    """

    id: int = Field(description="cohort_definition_id of the rows to read")
    circe: Path | None = Field(
        default=None,
        description="a Circe cohort definition (ATLAS export, PhenotypeLibrary JSON) to "
        "generate the cohort from, instead of reading a table (needs allrwe[circe]); "
        "relative to the spec file",
    )
    table: str = Field(default="cohort", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    database_schema: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$",
        description="schema (or catalog.schema) holding the table, e.g. the results schema "
        "(OHDSI's cohortDatabaseSchema); null = the CDM's own",
    )


class EntrySpec(Section):
    """How persons enter the index groups."""

    cohorts: dict[str, CohortRef] = Field(
        default_factory=dict,
        description="index cohorts: a group named here enters at the cohort_start_date of "
        "the cohort's rows (in the study period) instead of its concept sets' records",
    )

    allow_multiple_groups: bool = Field(
        default=True,
        description="true: a person enters every group whose drug they received in the period "
        "(seed 000); false: only the group of their first index drug.",
    )
    first_exposure: Literal["in_period", "ever"] = Field(
        default="in_period",
        description="in_period: index = first exposure of the group within the study period; "
        "ever: index = first exposure ever, which must fall in the period (new users).",
    )


class DiagnosisCriterion(Section):
    """A required diagnosis in a window around index."""

    concept_sets: list[ConceptSetKey] = Field(
        default_factory=lambda: ["all_diagnosis"], min_length=1
    )
    window: Window = (-365, 0)


class AgeRange(Section):
    """Age at index in completed years; both bounds inclusive, ``null`` = no bound."""

    min: Age | None = None
    max: Age | None = None

    @field_validator("max")
    @classmethod
    def _max_after_min(cls, value: float | None, info: ValidationInfo) -> float | None:
        return _not_below(value, info, "max", "min")


class Exclusion(Section):
    """Exclude persons with a record of any of ``concept_sets`` in ``window``.

    With ``cohort`` instead: persons with an entry of that cohort starting in ``window``.
    """

    name: str | None = None
    concept_sets: list[ConceptSetKey] = Field(default_factory=list)
    cohort: CohortRef | None = Field(default=None, validate_default=True)
    window: Window = (None, 0)

    @field_validator("cohort")
    @classmethod
    def _one_source(cls, value: CohortRef | None, info: ValidationInfo) -> CohortRef | None:
        if bool(value) == bool(info.data.get("concept_sets")):
            raise ValueError("give either concept_sets or cohort")
        return value


class InclusionSpec(Section):
    """Inclusion and exclusion criteria, applied in this order after entry."""

    min_prior_observation_days: NonNegInt = 0
    diagnosis: DiagnosisCriterion | None = Field(default_factory=DiagnosisCriterion)
    age: AgeRange = Field(default_factory=AgeRange)
    exclusions: list[Exclusion] = Field(
        default_factory=lambda: [Exclusion(name="T-lineage ALL", concept_sets=["t_lineage_all"])]
    )
    # issue 19: restrict the cohort by what is known at index (after the steps above)
    settings: list[Literal["ND", "RR", "unknown"]] | None = Field(
        default=None,
        description="keep only these classifications at index (ND, RR, unknown); null = all "
        "(seed 003: [RR])",
    )
    min_line: PosInt | None = Field(default=None, description="lowest line of therapy at index")
    max_line: PosInt | None = Field(default=None, description="highest line of therapy at index")

    @field_validator("max_line")
    @classmethod
    def _max_line_after_min(cls, value: int | None, info: ValidationInfo) -> int | None:
        return _not_below(value, info, "max_line", "min_line")


class ClassificationSpec(Section):
    """Newly diagnosed (ND) vs relapsed/refractory (R/R) at index."""

    lookback_days: NonNegInt | None = Field(
        default=None, description="days before index searched for evidence; null = all history"
    )
    rr_evidence: list[ConceptSetKey] = Field(
        default_factory=lambda: ["relapse", "refractory"],
        description="records on or before index (in the lookback) that make a patient R/R",
    )
    rr_prior_therapy: list[ConceptSetKey] = Field(
        default_factory=lambda: ["allo_hsct", "car_t"],
        description="therapy strictly before index that makes a patient R/R",
    )
    rr_salvage: list[ConceptSetKey] = Field(
        default_factory=lambda: ["fludarabine", "mitoxantrone", "clofarabine"],
        description="salvage-regimen drugs (FLAG-IDA, MEC, clofarabine) strictly before index "
        "that make a patient R/R where no relapse is coded (claims); [] = off",
    )
    rr_min_line: PosInt | None = Field(
        default=None, description="if set, a line of therapy at index >= this makes a patient R/R"
    )
    min_lookback_days: NonNegInt = Field(
        default=0,
        description="without R/R evidence, patients with less prior observation than this are "
        "'unknown' instead of ND",
    )


class SettingSpec(Section):
    """Treatment setting at index from the disease status."""

    remission_evidence: list[ConceptSetKey] = Field(default_factory=lambda: ["remission"])
    mrd_evidence: list[ConceptSetKey] = Field(default_factory=lambda: ["mrd"])
    window: Window = (-30, 0)


class WindowsSpec(Section):
    """Windows for prior and subsequent therapy."""

    prior_lookback_days: NonNegInt | None = Field(
        default=None, description="days before index searched for prior therapy; null = all history"
    )
    subsequent_followup_days: NonNegInt | None = Field(
        default=None,
        description="days after the end of the index treatment searched for subsequent therapy; "
        "null = to the end of the observation period",
    )
