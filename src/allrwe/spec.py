"""The study specification: one YAML file that says what a study computes.

:func:`load_spec` reads the YAML, validates it with pydantic (every section forbids unknown
fields, so a misspelt field fails) and returns a frozen :class:`StudySpec`. Every error names the
field and the YAML line it comes from. :meth:`StudySpec.validate_against` checks that every
concept-set key the spec uses exists in a vocabulary. The JSON schema of the spec is
:func:`schema_json`, committed as ``allrwe/data/schema/study-spec.schema.json``.

This module imports only :mod:`allrwe.errors` at import time, so every layer may import it.
"""

from __future__ import annotations

import difflib
import itertools
import json
import os
import re
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from allrwe.errors import StudySpecError, StudySpecNotFoundError

if TYPE_CHECKING:
    from allrwe.io.vocabulary import Vocabulary

__all__ = [
    "RESERVED_GROUP_NAMES",
    "AfterIndexSpec",
    "AgeRange",
    "BaselineSpec",
    "ClassificationSpec",
    "CycleRule",
    "DiagnosisCriterion",
    "DoseScheduleCycles",
    "DoseSpec",
    "EntrySpec",
    "Exclusion",
    "GapCycles",
    "InclusionSpec",
    "InfusionCycles",
    "LinesSpec",
    "OutcomesSpec",
    "PathwaysSpec",
    "PatternsSpec",
    "ReportSpec",
    "ResponseThresholds",
    "SafetySpec",
    "SettingSpec",
    "SingleCycles",
    "StudyPeriod",
    "StudySpec",
    "SuppressionSpec",
    "VocabularySpec",
    "WindowsSpec",
    "load_spec",
    "schema_json",
    "spec_from_text",
]

Path_ = tuple[str | int, ...]


#: Upper bound on every day count and window end: 200 years covers any real follow-up, and a
#: bound keeps a typo (an extra zero or thirty) from reaching date arithmetic.
MAX_DAYS = 73_050
#: Upper bound on landmark times: 100 years
MAX_MONTHS = 1_200
#: Upper bound on ages (inclusion range and age bands), in years
MAX_AGE = 120

#: An integer given as an integer literal: ``true``, ``5.0`` or ``"5"`` are refused.
Int = Annotated[int, Strict()]
#: A number given as a number: ``true`` or ``"5"`` are refused (infinity and NaN too, by the
#: ``allow_inf_nan`` setting of every section).
Float = Annotated[float, Strict()]


def _check_window(value: tuple[Int | None, Int | None]) -> tuple[Int | None, Int | None]:
    start, end = value
    for day in (start, end):
        if day is not None and abs(day) > MAX_DAYS:
            raise ValueError(f"window day {day} is beyond ±{MAX_DAYS} days")
    if start is not None and end is not None and start > end:
        raise ValueError(f"window starts on day {start}, after it ends on day {end}")
    return value


#: A window of days relative to the index date, both ends inclusive; ``null`` = unbounded.
Window = Annotated[tuple[Int | None, Int | None], AfterValidator(_check_window)]


def _check_increasing(value: list[float]) -> list[float]:
    if any(b <= a for a, b in itertools.pairwise(value)):
        raise ValueError(f"values must increase strictly, got {value}")
    return value


NonNegInt = Annotated[int, Strict(), Field(ge=0, le=MAX_DAYS)]
PosInt = Annotated[int, Strict(), Field(ge=1, le=MAX_DAYS)]
#: A strictly increasing, non-empty list of cut points, each within [low, high] (``gt`` for a
#: strict lower bound)
DayCuts = Annotated[
    list[Annotated[float, Strict(), Field(gt=0, le=MAX_DAYS)]],
    Field(min_length=1),
    AfterValidator(_check_increasing),
]
AgeCuts = Annotated[
    list[Annotated[float, Strict(), Field(gt=0, le=MAX_AGE)]],
    Field(min_length=1),
    AfterValidator(_check_increasing),
]
MonthCuts = Annotated[
    list[Annotated[float, Strict(), Field(ge=0, le=MAX_MONTHS)]],
    AfterValidator(_check_increasing),
]
Age = Annotated[float, Strict(), Field(ge=0, le=MAX_AGE)]
Percent = Annotated[float, Strict(), Field(ge=0, le=100)]
#: a blood count in 10^9/L (platelets above 10,000 x 10^9/L do not occur)
Count = Annotated[float, Strict(), Field(ge=0, le=10_000)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class StudyPeriod(_Section):
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


class EntrySpec(_Section):
    """How persons enter the index groups."""

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


class DiagnosisCriterion(_Section):
    """A required diagnosis in a window around index."""

    concept_sets: list[str] = Field(default_factory=lambda: ["all_diagnosis"], min_length=1)
    window: Window = (-365, 0)


class AgeRange(_Section):
    """Age at index in completed years; both bounds inclusive, ``null`` = no bound."""

    min: Age | None = None
    max: Age | None = None

    @field_validator("max")
    @classmethod
    def _max_after_min(cls, value: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("min")
        if value is not None and low is not None and value < low:
            raise ValueError(f"max {value} is below min {low}")
        return value


class Exclusion(_Section):
    """Exclude persons with a record of any of ``concept_sets`` in ``window``."""

    name: str | None = None
    concept_sets: list[str] = Field(min_length=1)
    window: Window = (None, 0)


class InclusionSpec(_Section):
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
        low = info.data.get("min_line")
        if value is not None and low is not None and value < low:
            raise ValueError(f"max_line {value} is below min_line {low}")
        return value


class ClassificationSpec(_Section):
    """Newly diagnosed (ND) vs relapsed/refractory (R/R) at index."""

    lookback_days: NonNegInt | None = Field(
        default=None, description="days before index searched for evidence; null = all history"
    )
    rr_evidence: list[str] = Field(
        default_factory=lambda: ["relapse", "refractory"],
        description="records on or before index (in the lookback) that make a patient R/R",
    )
    rr_prior_therapy: list[str] = Field(
        default_factory=lambda: ["allo_hsct", "car_t"],
        description="therapy strictly before index that makes a patient R/R",
    )
    rr_min_line: PosInt | None = Field(
        default=None, description="if set, a line of therapy at index >= this makes a patient R/R"
    )
    min_lookback_days: NonNegInt = Field(
        default=0,
        description="without R/R evidence, patients with less prior observation than this are "
        "'unknown' instead of ND",
    )


class SettingSpec(_Section):
    """Treatment setting at index from the disease status."""

    remission_evidence: list[str] = Field(default_factory=lambda: ["remission"])
    mrd_evidence: list[str] = Field(default_factory=lambda: ["mrd"])
    window: Window = (-30, 0)


class WindowsSpec(_Section):
    """Windows for prior and subsequent therapy."""

    prior_lookback_days: NonNegInt | None = Field(
        default=None, description="days before index searched for prior therapy; null = all history"
    )
    subsequent_followup_days: NonNegInt | None = Field(
        default=None,
        description="days after the end of the index treatment searched for subsequent therapy; "
        "null = to the end of the observation period",
    )


class InfusionCycles(_Section):
    """Continuous-infusion cycles (blinatumomab): bags joined, a long break starts a cycle.

    An interruption of up to ``max_interruption_days`` untreated days continues the cycle; a
    longer one starts a new cycle (label: an interruption of 7 days or less continues it).
    """

    rule: Literal["infusion"] = "infusion"
    max_interruption_days: NonNegInt = 7


class DoseScheduleCycles(_Section):
    """Day-1/8/15 schedules (inotuzumab): a cycle holds at most ``max_doses`` doses."""

    rule: Literal["dose_schedule"] = "dose_schedule"
    max_doses: PosInt = 3
    min_cycle_days: PosInt = 19


class GapCycles(_Section):
    """Generic rule: a break longer than ``max_interruption_days`` starts a new cycle."""

    rule: Literal["gap"] = "gap"
    max_interruption_days: NonNegInt = 7


class SingleCycles(_Section):
    """Every administration day is one cycle (CAR-T)."""

    rule: Literal["single"] = "single"


CycleRule = Annotated[
    InfusionCycles | DoseScheduleCycles | GapCycles | SingleCycles, Field(discriminator="rule")
]


def _default_cycles() -> dict[str, CycleRule]:
    return {
        "blinatumomab": InfusionCycles(),
        "inotuzumab_ozogamicin": DoseScheduleCycles(),
        "car_t": SingleCycles(),
    }


class LinesSpec(_Section):
    """Parameters of the line-of-therapy algorithm (docs/treatment-patterns.md)."""

    regimen_window_days: NonNegInt = 28
    gap_days: PosInt = 60
    gap_exempt: list[str] = Field(default_factory=lambda: ["tki"])
    allowed_additions: list[str] = Field(
        default_factory=lambda: ["tki", "mercaptopurine", "methotrexate"]
    )
    line_defining: list[str] = Field(default_factory=lambda: ["car_t"])
    lymphodepletion: list[str] = Field(default_factory=lambda: ["fludarabine", "cyclophosphamide"])
    lymphodepletion_days: NonNegInt = 21
    transplant: list[str] = Field(default_factory=lambda: ["allo_hsct"])
    relapse_starts_line: bool = True
    consolidation_keeps_line: bool = True
    remission_memory_days: NonNegInt | None = None
    frontline_until_relapse: bool = False


class DoseSpec(_Section):
    """Dose, body-surface area and label adherence."""

    bsa_formula: Literal["mosteller", "dubois"] = "mosteller"
    anthropometry_window_days: NonNegInt = 90
    tolerance: Float = Field(default=0.10, gt=0, lt=1)
    weight_threshold_kg: Float = Field(default=45.0, gt=0, le=1_000)


def _default_classes() -> dict[str, list[str]]:
    return {
        "chemotherapy": ["chemotherapy"],
        "tki": ["tki"],
        "hsct": ["allo_hsct"],
        "car_t": ["car_t"],
        "blinatumomab": ["blinatumomab"],
        "inotuzumab": ["inotuzumab_ozogamicin"],
    }


class PatternsSpec(_Section):
    """Treatment patterns: eras, cycles, lines, classes, dose."""

    era_gap_days: NonNegInt = 30
    index_treatment_end: Literal["era", "line"] = "era"
    cycles: dict[str, CycleRule] = Field(default_factory=_default_cycles)
    lines: LinesSpec = Field(default_factory=LinesSpec)
    therapy_classes: dict[str, list[str]] = Field(default_factory=_default_classes)
    novel_agent_classes: list[str] = Field(
        default_factory=lambda: ["blinatumomab", "inotuzumab", "car_t"]
    )
    duration_buckets: DayCuts = Field(default_factory=lambda: [14.0, 28.0])
    dose: DoseSpec = Field(default_factory=DoseSpec)

    @field_validator("novel_agent_classes")
    @classmethod
    def _known_classes(cls, value: list[str], info: ValidationInfo) -> list[str]:
        classes = info.data.get("therapy_classes") or {}
        unknown = [c for c in value if c not in classes]
        if unknown:
            raise ValueError(f"{unknown} not among therapy_classes {sorted(classes)}")
        return value


class ResponseThresholds(_Section):
    """Response criteria of DOMAIN.md section 3a (counts in 10^9/L, blasts in %)."""

    marrow_blasts_max_pct: Percent = 5.0
    anc_full: Count = 1.0
    anc_partial: Count = 0.5
    platelets_full: Count = 100.0
    platelets_partial: Count = 50.0


AfterIndexEndpoint = Literal["os", "efs", "rfs"]


def _after_index_endpoints() -> list[AfterIndexEndpoint]:
    return ["os", "efs", "rfs"]


class AfterIndexSpec(_Section):
    """Outcomes of a group formed after index (HSCT): landmarks, Simon–Makuch, Cox."""

    event: Literal["hsct"] = Field(
        default="hsct",
        description="the event that forms the group after index: the first allogeneic HSCT "
        "(patterns.lines.transplant) within follow-up",
    )
    endpoints: list[AfterIndexEndpoint] = Field(
        default_factory=_after_index_endpoints,
        description="the endpoints analysed (those not available on the CDM are left out)",
    )
    landmarks_months: MonthCuts = Field(
        default_factory=lambda: [3.0, 6.0],
        description="landmark times: persons followed beyond each, grouped by the event by then",
    )
    horizon_months: Float = Field(
        default=12.0,
        gt=0,
        le=MAX_MONTHS,
        description="survival is reported this many months after each landmark, and at this "
        "time on the Simon–Makuch curves",
    )


class OutcomesSpec(_Section):
    """Response and time-to-event settings (used by the outcome analyses)."""

    response: ResponseThresholds = Field(default_factory=ResponseThresholds)
    mrd_threshold_pct: Percent = Field(default=0.01, gt=0)
    response_within_cycles: PosInt = 2
    efs_no_cr_window_days: PosInt = 84
    landmarks_months: MonthCuts = Field(default_factory=lambda: [6.0, 12.0, 24.0])
    conf_type: Literal["log-log", "log", "plain"] = "log-log"
    conf_level: Float = Field(default=0.95, gt=0, lt=1)
    censor_variants: dict[str, list[str]] = Field(
        default_factory=lambda: {"none": [], "hsct_car_t": ["allo_hsct", "car_t"]}
    )
    lab_window_days: NonNegInt = Field(
        default=7,
        description="ANC and platelets count for a marrow assessment when measured within this "
        "many days of it (the nearest record)",
    )
    response_assessment_days: NonNegInt = Field(
        default=28,
        description="a marrow assesses the index treatment up to this many days after its last "
        "treated day",
    )
    followup_end: date | None = Field(
        default=None,
        description="data cut-off: follow-up ends at the earlier of this date and the end of the "
        "observation period holding the index date; null = the observation period end",
    )
    after_index: AfterIndexSpec | None = Field(
        default=None,
        description="outcomes by a group formed after index (docs/survival.md); null = none",
    )


class SafetySpec(_Section):
    """Adverse-event window and sets (used by the safety analyses)."""

    treatment_window_days: NonNegInt = 30
    adverse_events: list[str] = Field(default_factory=lambda: ["adverse_events"])
    special_interest: list[str] = Field(default_factory=lambda: ["aes_of_special_interest"])
    severe_grade: Annotated[int, Strict(), Field(ge=1, le=5)] = 3
    ae_grades: Literal["auto", "recorded", "not_available"] = Field(
        default="auto",
        description="auto: graded adverse events are available when the CDM holds any graded "
        "adverse-event record; not_available: the graded tables say so (claims data)",
    )
    early_death_days: DayCuts = Field(default_factory=lambda: [30.0, 60.0])
    discontinuation_window_days: NonNegInt = Field(
        default=7,
        description="a severe adverse event from this many days before the last index dose to "
        "this many days after it, with the last cycle incomplete, counts as discontinuation due "
        "to an adverse event",
    )
    complete_infusion_days: PosInt = Field(
        default=28, description="infused days that complete a continuous-infusion cycle"
    )


class BaselineSpec(_Section):
    """Baseline characteristics (used by the baseline table)."""

    variables: list[str] = Field(
        default_factory=lambda: [
            "setting",
            "age",
            "age_band",
            "sex",
            "labs",
            "ph_status",
            "marrow_blasts_at_diagnosis",
            "cns_involvement",
            "prior_lines",
            "prior_hsct",
            "prior_car_t",
            "prior_inotuzumab",
            "prior_blinatumomab",
            "refractory_last_therapy",
            "disease_status",
            "mrd_status",
            "genetic_features",
        ],
        description="baseline variables by name (docs/baseline-and-safety.md); 'labs' places "
        "the lab variables",
    )
    labs: list[str] = Field(default_factory=lambda: ["wbc", "hemoglobin", "platelets"])
    lab_window_days: NonNegInt = 30
    ph_status_source: Literal["auto", "records", "tki"] = Field(
        default="auto",
        description="records: Ph+/Ph- condition records; tki: Ph+ inferred from any TKI "
        "exposure (claims); auto: records when the CDM holds any",
    )


# ------------------------------------------------------------------- pathways (issue 19)

#: TreatmentPatterns 3.1 defaults (``computePathways``), for the settings left at ``null``
#: where no index-drug default applies; docs/pathways.md lists them beside allrwe's.
TP_DEFAULTS: dict[str, Any] = {
    "min_era_days": 0,
    "era_collapse_days": 30,
    "combination_window_days": 30,
    "min_post_combination_days": 30,
    "filter": "first",
    "max_path_length": 5,
    "overlap": "truncate",
    "concat_targets": True,
}

PathwayBy = Literal["age_band", "sex", "index_year"]


def _default_pathway_by() -> list[PathwayBy]:
    return ["age_band", "sex", "index_year"]


class PathwaysSpec(_Section):
    """TreatmentPatterns' settings of the treatment pathways (docs/pathways.md).

    A day setting left at ``null`` takes the default of the group's index drug (its shortest
    complete course, so one full cycle survives the duration filters); the values and
    TreatmentPatterns' own defaults are in docs/pathways.md.
    """

    min_era_days: NonNegInt = Field(
        default=0,
        description="minEraDuration: records lasting fewer days (end - start) are dropped",
    )
    era_collapse_days: NonNegInt | None = Field(
        default=None,
        description="eraCollapseSize: eras of one class this many days apart or less merge; "
        "null = patterns.era_gap_days",
    )
    combination_window_days: NonNegInt | None = Field(
        default=None,
        description="combinationWindow: shortest overlap (days) that is a combination; null = "
        "the index drug's course (blinatumomab 27, inotuzumab 14, CAR-T 0; TreatmentPatterns 30)",
    )
    min_post_combination_days: NonNegInt | None = Field(
        default=None,
        description="minPostCombinationDuration: rows shorter than this are dropped after each "
        "combination pass; null = the index drug's course (as combination_window_days)",
    )
    filter: Literal["first", "changes", "all"] = Field(
        default="first", description="filterTreatments: First, Changes or All"
    )
    max_path_length: PosInt = Field(default=5, description="maxPathLength: most steps per pathway")
    overlap: Literal["truncate", "keep"] = Field(
        default="truncate", description="overlapMethod for an overlap shorter than the window"
    )
    window_start_days: Int = Field(
        default=0, ge=-MAX_DAYS, le=MAX_DAYS, description="windowStart: days after index"
    )
    window_end_days: Int = Field(
        default=0,
        ge=-MAX_DAYS,
        le=MAX_DAYS,
        description="windowEnd: days after the end of follow-up (observation end)",
    )
    split_event_cohorts: list[str] = Field(
        default_factory=list,
        description="splitEventCohorts: therapy classes whose eras shorter than split_time_days "
        "are named '<class> (acute)' and the others '<class> (therapy)'",
    )
    split_time_days: PosInt = Field(default=30, description="splitTime, in days")
    keep_index: bool = Field(
        default=True,
        description="the index drug's class is never dropped by the duration filters of its "
        "own group (allrwe; TreatmentPatterns has no such rule)",
    )
    by: list[PathwayBy] = Field(
        default_factory=_default_pathway_by,
        description="pathways are also counted within each of these strata",
    )


ReportFormat = Literal["html", "xlsx", "json"]
_HTML: ReportFormat = "html"


class ReportSpec(_Section):
    """Report metadata."""

    title: str | None = None
    subtitle: str | None = None
    authors: list[str] = Field(default_factory=list)
    formats: list[ReportFormat] = Field(default_factory=lambda: [_HTML])


class VocabularySpec(_Section):
    """Extra vocabulary YAML files (relative paths are resolved against the spec file)."""

    paths: list[Path] = Field(default_factory=list)


#: group names the results already use (compared without regard to case)
RESERVED_GROUP_NAMES = frozenset({"overall"})

Stratum = Literal[
    "ph_status",
    "setting",
    "treatment_setting",
    "age_band",
    "sex",
    "line",
    "group",
    "prior_hsct",
    "relapse_category",
    "post_hct_relapse",
]


SuppressionPolicy = Literal["complementary", "per_cell", "none"]


class SuppressionSpec(_Section):
    """How small counts are kept from the outputs (docs/results-model.md).

    ``complementary`` (default): small counts and every cell that would let them be worked out
    from totals are hidden; ``per_cell``: small counts only (OHDSI/DARWIN export practice,
    weaker: a hidden count may be recovered from totals); ``none``: nothing is hidden, an
    explicit opt-out that the report states.
    """

    policy: SuppressionPolicy = "complementary"


#: The smallest count a study may publish; 1 would hide nothing (use ``policy: none``).
MIN_CELL_COUNT_FLOOR = 2


class StudySpec(_Section):
    """A whole study: cohort, windows, patterns and the settings of the other analyses."""

    name: str = Field(min_length=1)
    description: str = ""
    min_cell_count: Annotated[int, Field(strict=True, ge=MIN_CELL_COUNT_FLOOR, le=MAX_DAYS)] = (
        Field(
            default=5,
            description="counts from 1 to this minus 1 are suppressed; an integer of at least "
            "2 (to publish every count, set suppression.policy: none)",
        )
    )
    suppression: SuppressionSpec = Field(default_factory=SuppressionSpec)
    index_groups: dict[str, Annotated[list[str], Field(min_length=1)]] = Field(min_length=1)
    study_period: StudyPeriod
    entry: EntrySpec = Field(default_factory=EntrySpec)
    inclusion: InclusionSpec = Field(default_factory=InclusionSpec)
    classification: ClassificationSpec = Field(default_factory=ClassificationSpec)
    setting: SettingSpec = Field(default_factory=SettingSpec)
    windows: WindowsSpec = Field(default_factory=WindowsSpec)
    patterns: PatternsSpec = Field(default_factory=PatternsSpec)
    pathways: PathwaysSpec = Field(default_factory=PathwaysSpec)
    strata: list[Stratum] = Field(default_factory=list)
    crossed_strata: list[Annotated[list[Stratum], Field(min_length=2)]] = Field(
        default_factory=list,
        description="strata crossed with each other for the outcome summaries, e.g. "
        "[[setting, treatment_setting], [ph_status, treatment_setting]] (seed 001 table 2)",
    )
    age_bands: AgeCuts = Field(default_factory=lambda: [35.0, 55.0])
    outcomes: OutcomesSpec = Field(default_factory=OutcomesSpec)
    safety: SafetySpec = Field(default_factory=SafetySpec)
    baseline: BaselineSpec = Field(default_factory=BaselineSpec)
    report: ReportSpec = Field(default_factory=ReportSpec)
    vocabulary: VocabularySpec = Field(default_factory=VocabularySpec)

    @field_validator("pathways")
    @classmethod
    def _split_classes_known(cls, value: PathwaysSpec, info: ValidationInfo) -> PathwaysSpec:
        patterns = info.data.get("patterns")
        classes = patterns.therapy_classes if patterns is not None else {}
        unknown = [c for c in value.split_event_cohorts if c not in classes]
        if unknown:
            raise ValueError(
                f"split_event_cohorts {unknown} not among therapy_classes {sorted(classes)}"
            )
        return value

    @field_validator("index_groups")
    @classmethod
    def _group_names(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        seen: dict[str, str] = {}
        for name in value:
            if not name.strip():
                raise ValueError("a group name is empty")
            if name.casefold() in RESERVED_GROUP_NAMES:
                raise ValueError(f"group name {name!r} is reserved (the overall column)")
            other = seen.setdefault(name.casefold(), name)
            if other != name:
                raise ValueError(
                    f"group names {other!r} and {name!r} differ only in case (they would share "
                    "file names and report anchors)"
                )
        return value

    _lines: dict[Path_, int] = PrivateAttr(default_factory=dict)
    _origin: str = PrivateAttr(default="study spec")

    @property
    def origin(self) -> str:
        """Where the spec came from (its file path, or ``"study spec"``)."""
        return self._origin

    def line_of(self, path: Path_) -> int | None:
        """Return the YAML line (1-based) of a field path, or of its nearest ancestor."""
        return _resolve_line(self._lines, path)

    def concept_set_fields(self) -> Iterator[tuple[Path_, str]]:
        """Yield ``(field path, key)`` for every concept-set key or group the spec names."""
        for group, keys in self.index_groups.items():
            yield from ((("index_groups", group, i), k) for i, k in enumerate(keys))
        inc = self.inclusion
        if inc.diagnosis is not None:
            yield from _keyed(
                ("inclusion", "diagnosis", "concept_sets"), inc.diagnosis.concept_sets
            )
        for j, exc in enumerate(inc.exclusions):
            yield from _keyed(("inclusion", "exclusions", j, "concept_sets"), exc.concept_sets)
        cls = self.classification
        yield from _keyed(("classification", "rr_evidence"), cls.rr_evidence)
        yield from _keyed(("classification", "rr_prior_therapy"), cls.rr_prior_therapy)
        yield from _keyed(("setting", "remission_evidence"), self.setting.remission_evidence)
        yield from _keyed(("setting", "mrd_evidence"), self.setting.mrd_evidence)
        pat = self.patterns
        yield from ((("patterns", "cycles", k), k) for k in pat.cycles)
        for name in ("gap_exempt", "allowed_additions", "line_defining", "lymphodepletion"):
            yield from _keyed(("patterns", "lines", name), getattr(pat.lines, name))
        yield from _keyed(("patterns", "lines", "transplant"), pat.lines.transplant)
        for cname, keys in pat.therapy_classes.items():
            yield from _keyed(("patterns", "therapy_classes", cname), keys)
        for vname, keys in self.outcomes.censor_variants.items():
            yield from _keyed(("outcomes", "censor_variants", vname), keys)
        yield from _keyed(("safety", "adverse_events"), self.safety.adverse_events)
        yield from _keyed(("safety", "special_interest"), self.safety.special_interest)
        yield from _keyed(("baseline", "labs"), self.baseline.labs)

    def vocabulary_issues(self, vocab: Vocabulary) -> list[str]:
        """Return one message per concept-set key the vocabulary does not know."""
        known = list(vocab.sets) + list(vocab.groups)
        issues = []
        for path, key in self.concept_set_fields():
            if key in vocab:
                continue
            close = difflib.get_close_matches(key, known, n=3)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            issues.append(self._where(path) + f"unknown concept set {key!r}{hint}")
        return issues

    def validate_against(self, vocab: Vocabulary) -> StudySpec:
        """Check every concept-set key against ``vocab``; return ``self`` if all are known.

        Raises
        ------
        StudySpecError
            Naming the field path (and YAML line) of the first unknown key, and how many more
            there are.
        """
        issues = self.vocabulary_issues(vocab)
        if issues:
            more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
            raise StudySpecError(issues[0] + more)
        return self

    @property
    def hides_below(self) -> int:
        """int: counts from 1 to this minus 1 are hidden (1 under ``suppression.policy: none``)."""
        return 1 if self.suppression.policy == "none" else self.min_cell_count

    def with_min_cell_count(self, value: int | None, *, source: str) -> StudySpec:
        """Return the spec with ``min_cell_count`` replaced, validated like the YAML field.

        The run reads the threshold from this one object only, so a value given on the
        command line and the same value in the spec give identical outputs.

        Parameters
        ----------
        value : int or None
            The new threshold; ``None`` returns ``self``.
        source : str
            Where the value comes from (for the error message), e.g. ``"--min-cell-count"``.

        Returns
        -------
        StudySpec

        Raises
        ------
        StudySpecError
            If ``value`` is not an integer of at least 2.
        """
        if value is None:
            return self
        data = self.model_dump()
        data["min_cell_count"] = value
        try:
            spec = StudySpec.model_validate(data)
        except ValidationError as exc:
            msg = exc.errors()[0]["msg"]
            raise StudySpecError(
                f"{source}: {msg} (got {_show(value)}); to publish every count set "
                "suppression.policy: none in the spec"
            ) from None
        spec._lines = self._lines
        spec._origin = self._origin
        return spec

    def resolved_vocabulary_paths(self) -> list[Path]:
        """Return the vocabulary paths, resolved against the directory of the spec file."""
        base = Path(self._origin).parent if self._origin != "study spec" else Path.cwd()
        return [p if p.is_absolute() else base / p for p in self.vocabulary.paths]

    def _where(self, path: Path_) -> str:
        line = self.line_of(path)
        at = f", line {line}" if line is not None else ""
        return f"{self._origin}{at}: field {_dotted(path)!r}: "


def _keyed(prefix: Path_, keys: list[str]) -> Iterator[tuple[Path_, str]]:
    return (((*prefix, i), k) for i, k in enumerate(keys))


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# ---------------------------------------------------------------------------- YAML with lines


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys (PyYAML silently keeps the last one).

    It also refuses aliases: nested aliases expand exponentially (a few hundred bytes can keep
    the loader busy for minutes), and a study spec never needs them.
    """

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.events.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not allowed in a study spec", event.start_mark
            )
        return super().compose_node(parent, index)


def _map_lines(node: yaml.Node, path: Path_, out: dict[Path_, int]) -> None:
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                raise StudySpecError(
                    f"line {key_node.start_mark.line + 1}: field {_dotted((*path, key))!r} is "
                    f"given twice (first on line {seen[key]})"
                )
            seen[key] = key_node.start_mark.line + 1
            out[(*path, key)] = key_node.start_mark.line + 1
            _map_lines(value_node, (*path, key), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _map_lines(item, (*path, i), out)


def _resolve_line(lines: Mapping[Path_, int], loc: Path_) -> int | None:
    # pydantic adds union tags (e.g. 'infusion') to error locations; skip parts not in the YAML.
    found: Path_ = ()
    for part in loc:
        candidate = (*found, part)
        if candidate in lines:
            found = candidate
    return lines.get(found)


def _all_field_names() -> list[str]:
    names: set[str] = set()
    stack: list[type[BaseModel]] = [StudySpec]
    seen: set[type[BaseModel]] = set()
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.add(model)
        names.update(model.model_fields)
        for field in model.model_fields.values():
            stack.extend(_models_in(field.annotation))
    return sorted(names)


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        yield from _models_in(arg)
    origin = getattr(annotation, "__origin__", None)
    if origin is not None and origin is not annotation:
        yield from _models_in(origin)


def _yaml_path(lines: Mapping[Path_, int], loc: Path_) -> Path_:
    # Drop the union tags pydantic inserts, keeping the parts that are in the YAML (and the last).
    kept: Path_ = ()
    for i, part in enumerate(loc):
        if (*kept, part) in lines or i == len(loc) - 1:
            kept = (*kept, part)
    return kept


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value.isoformat() if isinstance(value, date) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _format_error(err: Mapping[str, Any], lines: Mapping[Path_, int], origin: str) -> str:
    loc = _yaml_path(lines, tuple(err["loc"]))
    line = _resolve_line(lines, loc)
    at = f", line {line}" if line is not None else ""
    field = _dotted(loc) or "<top level>"
    if err["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), _all_field_names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{origin}{at}: unknown field {field!r}{hint}"
    if err["type"] == "missing":
        return f"{origin}{at}: field {field!r} is required"
    msg = str(err["msg"]).removeprefix("Value error, ")
    if isinstance(err.get("input"), bool) and err["type"] in ("int_type", "float_type"):
        msg = f"{msg.rstrip('.')}, not a boolean"
    given = err.get("input")
    got = "" if isinstance(given, Mapping) else f" (got {_show(given)})"
    return f"{origin}{at}: field {field!r}: {msg}{got}"


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    # PyYAML raises a bare ValueError, without a line, for a date such as 2021-02-30.
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark
        ) from None


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)

#: the integers a spec may write: decimal, optionally signed (YAML 1.2 reads 011 as 11, YAML 1.1
#: as 9; 1:30 is 90 in YAML 1.1 and text in 1.2), so every other form is refused as ambiguous
_DECIMAL_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*)")


def _int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    if not _DECIMAL_INT.fullmatch(node.value):
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"{node.value!r} is an octal, binary, hexadecimal or base-60 number in YAML 1.1; "
            "write a decimal integer (or quote it for text)",
            node.start_mark,
        )
    return int(node.value.replace("_", ""))


def _float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    if ":" in node.value:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"{node.value!r} is a base-60 number in YAML 1.1; write a decimal number",
            node.start_mark,
        )
    return float(loader.construct_yaml_float(node))


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _int)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:float", _float)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    # PyYAML's text spans several lines (context, snippet, caret): keep the line and problem.
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0]
    return (f"line {mark.line + 1}, column {mark.column + 1}: " if mark else "") + problem


def _parse(text: str, origin: str) -> StudySpec:
    try:
        node = yaml.compose(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise StudySpecError(f"{origin} is not valid YAML: {_yaml_problem(exc)}") from None
    if node is None or not isinstance(node, yaml.MappingNode):
        raise StudySpecError(f"{origin} must hold a mapping of study fields")
    lines: dict[Path_, int] = {}
    try:
        _map_lines(node, (), lines)
    except StudySpecError as exc:
        raise StudySpecError(f"{origin}, {exc}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise StudySpecError(f"{origin} is not valid YAML: {_yaml_problem(exc)}") from None
    try:
        spec = StudySpec.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = _format_error(errors[0], lines, origin)
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise StudySpecError(first + more) from None
    spec._lines = lines
    spec._origin = origin
    return spec


def load_spec(
    path: str | os.PathLike[str],
    *,
    vocab: Vocabulary | None = None,
    check_vocabulary: bool = True,
) -> StudySpec:
    """Read and validate a study specification.

    Parameters
    ----------
    path : str or os.PathLike
        The YAML file.
    vocab : Vocabulary, optional
        The vocabulary to check concept-set keys against. By default the bundled vocabulary
        plus the spec's own ``vocabulary.paths`` is loaded.
    check_vocabulary : bool, default True
        Whether to check concept-set keys at all.

    Returns
    -------
    StudySpec
        The validated, frozen specification.

    Raises
    ------
    StudySpecError
        The file is missing or not YAML, a field is unknown, missing or invalid, or a
        concept-set key is unknown; the message names the field and its line.

    Examples
    --------
    >>> spec = load_spec("examples/seed000_claims_patterns.yaml")  # doctest: +SKIP
    >>> spec.index_groups["INO"]  # doctest: +SKIP
    ['inotuzumab_ozogamicin']
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StudySpecNotFoundError(f"study spec {str(p)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StudySpecError(f"study spec {str(p)!r} cannot be read: {exc}") from None
    spec = _parse(text, str(p))
    if check_vocabulary:
        if vocab is None:
            from allrwe.errors import VocabularyError
            from allrwe.io.vocabulary import load_vocabulary

            try:
                vocab = load_vocabulary(spec.resolved_vocabulary_paths())
            except VocabularyError as exc:
                raise StudySpecError(spec._where(("vocabulary", "paths")) + str(exc)) from None
        spec.validate_against(vocab)
    return spec


def spec_from_text(text: str, *, origin: str = "study spec") -> StudySpec:
    """Validate a specification given as YAML text (no vocabulary check)."""
    return _parse(text, origin)


def schema_json() -> str:
    """Return the JSON schema of :class:`StudySpec`, as committed in ``data/schema/``."""
    return json.dumps(StudySpec.model_json_schema(), indent=2, sort_keys=True) + "\n"
