"""The study specification's model: every section, field, default and bound.

Every section forbids unknown fields and is frozen, so a misspelt field fails and a spec does
not change once read. Field types say what a value may be (integers given as integers, days
within ±200 years); a field whose type holds :data:`~allrwe.spec.concepts.ConceptSetKey` names
concept sets, which :meth:`StudySpec.validate_against` checks against a vocabulary. Checks that
need more than one field are validators of the section holding them. Reading the YAML, and
the messages that name a field's line, are :mod:`allrwe.spec.loader`'s.
"""

from __future__ import annotations

import difflib
import itertools
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

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

from allrwe.errors import StudySpecError
from allrwe.spec.concepts import ConceptSetKey, concept_set_fields
from allrwe.spec.paths import Path_, dotted, resolve_line, show_value

if TYPE_CHECKING:
    from allrwe.io.vocabulary import Vocabulary

__all__ = [
    "BASELINE_VARIABLE_NAMES",
    "DEFAULT_BASELINE_VARIABLES",
    "RESERVED_GROUP_NAMES",
    "AfterIndexSpec",
    "AgeRange",
    "BaselineSpec",
    "ClassificationSpec",
    "CohortRef",
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
    "schema_json",
]


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


class CohortRef(_Section):
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


class EntrySpec(_Section):
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


class DiagnosisCriterion(_Section):
    """A required diagnosis in a window around index."""

    concept_sets: list[ConceptSetKey] = Field(
        default_factory=lambda: ["all_diagnosis"], min_length=1
    )
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
    rr_evidence: list[ConceptSetKey] = Field(
        default_factory=lambda: ["relapse", "refractory"],
        description="records on or before index (in the lookback) that make a patient R/R",
    )
    rr_prior_therapy: list[ConceptSetKey] = Field(
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

    remission_evidence: list[ConceptSetKey] = Field(default_factory=lambda: ["remission"])
    mrd_evidence: list[ConceptSetKey] = Field(default_factory=lambda: ["mrd"])
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
    gap_exempt: list[ConceptSetKey] = Field(default_factory=lambda: ["tki"])
    allowed_additions: list[ConceptSetKey] = Field(
        default_factory=lambda: ["tki", "mercaptopurine", "methotrexate"]
    )
    line_defining: list[ConceptSetKey] = Field(default_factory=lambda: ["car_t"])
    lymphodepletion: list[ConceptSetKey] = Field(
        default_factory=lambda: ["fludarabine", "cyclophosphamide"]
    )
    lymphodepletion_days: NonNegInt = 21
    transplant: list[ConceptSetKey] = Field(default_factory=lambda: ["allo_hsct"])
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
    cycles: dict[ConceptSetKey, CycleRule] = Field(default_factory=_default_cycles)
    lines: LinesSpec = Field(default_factory=LinesSpec)
    therapy_classes: dict[str, list[ConceptSetKey]] = Field(default_factory=_default_classes)
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
    """Outcomes of a group formed after index (HSCT, response): landmarks, Simon–Makuch, Cox."""

    event: Literal["hsct", "response"] = Field(
        default="hsct",
        description="the event that forms the group after index: hsct, the first allogeneic "
        "HSCT (patterns.lines.transplant) within follow-up; response, the first CR/CRh/CRi "
        "(the start of RFS)",
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
    censor_variants: dict[str, list[ConceptSetKey]] = Field(
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
    adverse_events: list[ConceptSetKey] = Field(default_factory=lambda: ["adverse_events"])
    special_interest: list[ConceptSetKey] = Field(
        default_factory=lambda: ["aes_of_special_interest"]
    )
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


#: every built-in baseline variable, in the order of seed 001's Table 1 and then those outside
#: it; ``allrwe.analyses.baseline`` holds one builder per name (and may register more)
BASELINE_VARIABLE_NAMES = (
    "setting",
    "treatment_setting",
    "age",
    "age_band",
    "sex",
    "labs",
    "ph_status",
    "marrow_blasts_at_diagnosis",
    "cns_involvement",
    "chemo_intolerance",
    "line",
    "prior_lines",
    "prior_hsct",
    "prior_car_t",
    "prior_inotuzumab",
    "prior_blinatumomab",
    "refractory_last_therapy",
    "disease_status",
    "mrd_status",
    "genetic_features",
    "relapse_category",
    "post_hct_relapse",
    "relapse_site",
    "gvhd_at_index",
)
#: built-in variables a study names itself (in ``baseline.variables`` or as strata)
_NAMED_ONLY = frozenset(
    {
        "treatment_setting",
        "line",
        "relapse_category",
        "post_hct_relapse",
        "relapse_site",
        "gvhd_at_index",
    }
)
#: the default ``baseline.variables``: the built-in ones but those named only on request
DEFAULT_BASELINE_VARIABLES = tuple(n for n in BASELINE_VARIABLE_NAMES if n not in _NAMED_ONLY)


class BaselineSpec(_Section):
    """Baseline characteristics (used by the baseline table)."""

    variables: list[str] = Field(
        default_factory=lambda: list(DEFAULT_BASELINE_VARIABLES),
        description="baseline variables by name (docs/baseline-and-safety.md); 'labs' places "
        "the lab variables",
    )
    labs: list[ConceptSetKey] = Field(default_factory=lambda: ["wbc", "hemoglobin", "platelets"])
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
    "relapse_site",
    "gvhd_at_index",
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
    index_groups: dict[str, Annotated[list[ConceptSetKey], Field(min_length=1)]] = Field(
        min_length=1
    )
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
        description="strata crossed with each other (outcomes, Table 1, safety), e.g. "
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
        return resolve_line(self._lines, path)

    def concept_set_fields(self) -> Iterator[tuple[Path_, str]]:
        """Yield ``(field path, key)`` for every concept-set key or group the spec names.

        The fields are those typed :data:`~allrwe.spec.concepts.ConceptSetKey`, in field order.
        """
        return concept_set_fields(self)

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
                f"{source}: {msg} (got {show_value(value)}); to publish every count set "
                "suppression.policy: none in the spec"
            ) from None
        spec._lines = self._lines
        spec._origin = self._origin
        return spec

    def resolved_vocabulary_paths(self) -> list[Path]:
        """Return the vocabulary paths, resolved against the directory of the spec file."""
        return [self.resolve(p) for p in self.vocabulary.paths]

    def resolve(self, path: Path) -> Path:
        """Return ``path`` resolved against the directory of the spec file (else the cwd)."""
        base = Path(self._origin).parent if self._origin != "study spec" else Path.cwd()
        return path if path.is_absolute() else base / path

    def _where(self, path: Path_) -> str:
        line = self.line_of(path)
        at = f", line {line}" if line is not None else ""
        return f"{self._origin}{at}: field {dotted(path)!r}: "


def schema_json() -> str:
    """Return the JSON schema of :class:`StudySpec`, as committed in ``data/schema/``."""
    return json.dumps(StudySpec.model_json_schema(), indent=2, sort_keys=True) + "\n"
