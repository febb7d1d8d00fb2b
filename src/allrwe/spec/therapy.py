"""The spec's therapy-pattern section (``patterns``): eras, cycles, lines, classes, dose.

The YAML key stays ``patterns``; the analysis it configures is :mod:`allrwe.analyses.therapy`
(prior and subsequent therapy, lines, cycles, duration, dose). Treatment pathways (sequences,
TreatmentPatterns-style) are configured by :mod:`allrwe.spec.pathways`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
)

from allrwe.spec.concepts import ConceptSetKey
from allrwe.spec.types import (
    DayCuts,
    Float,
    NonNegInt,
    PosInt,
    Section,
)


class InfusionCycles(Section):
    """Continuous-infusion cycles (blinatumomab): bags joined, a long break starts a cycle.

    An interruption of up to ``max_interruption_days`` untreated days continues the cycle; a
    longer one starts a new cycle (label: an interruption of 7 days or less continues it).
    """

    rule: Literal["infusion"] = "infusion"
    max_interruption_days: NonNegInt = 7


class DoseScheduleCycles(Section):
    """Day-1/8/15 schedules (inotuzumab): a cycle holds at most ``max_doses`` doses."""

    rule: Literal["dose_schedule"] = "dose_schedule"
    max_doses: PosInt = 3
    min_cycle_days: PosInt = 19


class GapCycles(Section):
    """Generic rule: a break longer than ``max_interruption_days`` starts a new cycle."""

    rule: Literal["gap"] = "gap"
    max_interruption_days: NonNegInt = 7


class SingleCycles(Section):
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


class LinesSpec(Section):
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


class DoseSpec(Section):
    """Dose, body-surface area and label adherence."""

    bsa_formula: Literal["mosteller", "dubois"] = "mosteller"
    anthropometry_window_days: NonNegInt = 90
    tolerance: Float = Field(default=0.10, gt=0, lt=1)
    weight_threshold_kg: Float = Field(default=45.0, gt=0, le=1_000)


#: strata the prior and subsequent therapy tables may be cut by: the status classification
#: at index (``setting``, ``treatment_setting``: columns of the cohort) and ``ph_status`` (the
#: baseline variable's level per person, read once a run and shared with the outcome strata)
TherapyBy = Literal["setting", "treatment_setting", "ph_status"]
#: joins the parts of a crossed ``therapy_by`` entry into its stratum name (the outcomes' and
#: Table 1's crossed strata: ``"ph_status &&& setting"``, levels ``"Ph- &&& RR"``)
CROSSED_THERAPY_BY = " &&& "


#: cuts of the index treatment the destinations may be crossed with, within each setting
DestinationsBy = Literal["duration", "cycles"]


class CompletionSpec(Section):
    """When the index treatment counts as *completed* (seed 001 gives no definition).

    Seed 001: "Among 30 R/R patients completing blinatumomab, 10 underwent direct allo-HSCT".
    Completed: at least ``min_cycles`` complete cycles of the index treatment. A cycle is
    complete by the rule of "last cycle complete" in the safety tables (one rule per fact,
    docs/treatment-patterns.md): under an ``infusion`` or ``gap`` rule, from the cycle's first
    to its last infused day at least ``safety.complete_infusion_days`` days (28, the
    blinatumomab label's cycle); under a ``dose_schedule`` rule, ``max_doses`` doses. A group
    whose index drug has another rule (``single``: CAR-T) or none has no completion: its
    records say "not available".
    """

    min_cycles: PosInt = Field(
        default=1, description="complete cycles of the index treatment that make it completed"
    )


class PriorChemoCourseSpec(Section):
    """Chemotherapy before index classed by the length of its courses (seed 001 suppl. table 1).

    Seed 001: "22 received short-term (3–7 days) low intensity chemotherapy before
    blinatumomab initiation". A CDM records drugs, not intent, so allrwe classes what it can
    measure, the course length: a course is an era of the ``therapy_class`` (its records joined
    across gaps of at most ``patterns.era_gap_days``); *short-term* when every course before
    index lasted at most ``short_max_days`` days, *longer* when one lasted more, *none* without
    one (docs/treatment-patterns.md).
    """

    short_max_days: PosInt = Field(
        default=7, description="a course of at most this many days is short-term (seed 001: 3–7)"
    )
    therapy_class: str = Field(
        default="chemotherapy", description="the therapy class whose courses are measured"
    )


def _default_classes() -> dict[str, list[str]]:
    return {
        "chemotherapy": ["chemotherapy"],
        "tki": ["tki"],
        "hsct": ["allo_hsct"],
        "car_t": ["car_t"],
        "blinatumomab": ["blinatumomab"],
        "inotuzumab": ["inotuzumab_ozogamicin"],
    }


class PatternsSpec(Section):
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
    therapy_by: list[TherapyBy | Annotated[list[TherapyBy], Field(min_length=2)]] = Field(
        default_factory=list,
        description="prior and subsequent therapy are also counted within each of these "
        "strata: setting (ND/RR at index), treatment_setting, ph_status, or a list of them "
        "crossed, e.g. [ph_status, setting] (seed 001 Supplementary Table 1: Ph status "
        "within ND and R/R)",
    )
    destinations_by: list[DestinationsBy] = Field(
        default_factory=list,
        description="the first therapy after the index treatment is also counted by these "
        "within each setting (crossed strata setting &&& duration, setting &&& cycles: seed "
        "001 Fig. 1, ND and R/R side by side); needs setting in strata",
    )
    completion: CompletionSpec | None = Field(
        default=None,
        description="when set, destinations (and pathways with pathways.by: [completion]) are "
        "also counted among the persons who completed the index treatment, and within each "
        "setting stratum (seed 001: 'Among 30 R/R patients completing blinatumomab')",
    )
    prior_chemo_course: PriorChemoCourseSpec | None = Field(
        default=None,
        description="when set, persons are counted by the length of their chemotherapy "
        "courses before index (short-term, longer, none) and, within each class, those in "
        "remission at index, overall and within therapy_by (seed 001 suppl. table 1)",
    )

    @field_validator("therapy_by")
    @classmethod
    def _distinct_parts(
        cls, value: list[TherapyBy | list[TherapyBy]]
    ) -> list[TherapyBy | list[TherapyBy]]:
        for entry in value:
            if isinstance(entry, list) and len(set(entry)) != len(entry):
                raise ValueError(f"a crossed therapy_by entry names a stratum twice: {entry}")
        return value

    @property
    def therapy_by_names(self) -> list[str]:
        """The ``therapy_by`` strata as named in the records, once each (crossed: joined)."""
        names = [e if isinstance(e, str) else CROSSED_THERAPY_BY.join(e) for e in self.therapy_by]
        return list(dict.fromkeys(names))

    @property
    def therapy_by_parts(self) -> list[str]:
        """Every stratum ``therapy_by`` names, alone or in a crossed entry, once each."""
        parts = [p for e in self.therapy_by for p in ([e] if isinstance(e, str) else e)]
        return list(dict.fromkeys(parts))

    @field_validator("prior_chemo_course")
    @classmethod
    def _course_class_known(
        cls, value: PriorChemoCourseSpec | None, info: ValidationInfo
    ) -> PriorChemoCourseSpec | None:
        classes = info.data.get("therapy_classes") or {}
        if value is not None and value.therapy_class not in classes:
            raise ValueError(
                f"prior_chemo_course.therapy_class {value.therapy_class!r} not among "
                f"therapy_classes {sorted(classes)}"
            )
        return value

    @field_validator("novel_agent_classes")
    @classmethod
    def _known_classes(cls, value: list[str], info: ValidationInfo) -> list[str]:
        classes = info.data.get("therapy_classes") or {}
        unknown = [c for c in value if c not in classes]
        if unknown:
            raise ValueError(f"{unknown} not among therapy_classes {sorted(classes)}")
        return value
