"""The spec's sections of the outcome, safety and baseline analyses.

Also the one list of built-in baseline variables (:data:`BASELINE_VARIABLE_NAMES`), which
:mod:`allrwe.analyses.baseline` holds one builder for each of.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import (
    Field,
    Strict,
)

from allrwe.spec.concepts import ConceptSetKey
from allrwe.spec.types import (
    MAX_MONTHS,
    Count,
    DayCuts,
    Float,
    MonthCuts,
    NonNegInt,
    Percent,
    PosInt,
    Section,
)


class ResponseThresholds(Section):
    """Response criteria of DOMAIN.md section 3a (counts in 10^9/L, blasts in %)."""

    marrow_blasts_max_pct: Percent = 5.0
    anc_full: Count = 1.0
    anc_partial: Count = 0.5
    platelets_full: Count = 100.0
    platelets_partial: Count = 50.0


AfterIndexEndpoint = Literal["os", "efs", "rfs"]
AfterIndexEvent = Literal["hsct", "car_t", "response"]


def _after_index_endpoints() -> list[AfterIndexEndpoint]:
    return ["os", "efs", "rfs"]


class AfterIndexSpec(Section):
    """Outcomes of groups formed after index (HSCT, CAR-T, response): landmarks, Cox."""

    event: AfterIndexEvent | list[AfterIndexEvent] = Field(
        default="hsct",
        description="the event that forms the group after index (or a list of them, each "
        "analysed apart): hsct, the first allogeneic HSCT (patterns.lines.transplant) within "
        "follow-up; car_t, the first CAR-T (the car_t concept sets) within follow-up; "
        "response, the first CR/CRh/CRi (the start of RFS)",
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

    @property
    def events(self) -> list[AfterIndexEvent]:
        """Return the events of ``event``, once each, in the order given."""
        given = [self.event] if isinstance(self.event, str) else self.event
        return list(dict.fromkeys(given))


class OutcomesSpec(Section):
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


class SafetySpec(Section):
    """Adverse-event window and sets (used by the safety analyses)."""

    treatment_window_days: NonNegInt = 30
    adverse_events: list[ConceptSetKey] = Field(default_factory=lambda: ["adverse_events"])
    special_interest: list[ConceptSetKey] = Field(
        default_factory=lambda: ["aes_of_special_interest"]
    )
    other_terms: list[ConceptSetKey] = Field(
        default_factory=list,
        description="adverse-event terms of adverse_events counted together as one row, "
        "other_ae ('Others' of seed 001 Table 3), not each apart",
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


class BaselineSpec(Section):
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
