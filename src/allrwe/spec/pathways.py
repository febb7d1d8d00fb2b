"""The spec's ``pathways`` section: TreatmentPatterns' settings of the treatment sequences.

The analysis it configures is :mod:`allrwe.analyses.pathways`; docs/pathways.md lists every
setting beside TreatmentPatterns' own default.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    Field,
)

from allrwe.spec.types import (
    MAX_DAYS,
    Int,
    NonNegInt,
    PosInt,
    Section,
)

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

#: strata the pathways may be counted within: ``setting`` (ND/RR) and ``treatment_setting``
#: are the cohort's status classification at index (seed 001's sequences within R/R);
#: ``completion`` whether the index treatment was completed (``patterns.completion``)
PathwayBy = Literal["age_band", "sex", "index_year", "setting", "treatment_setting", "completion"]


def _default_pathway_by() -> list[PathwayBy]:
    return ["age_band", "sex", "index_year"]


class PathwaysSpec(Section):
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
        description="pathways are also counted within each of these strata: age_band, sex, "
        "index_year, setting (ND/RR at index), treatment_setting, completion (completed the "
        "index treatment, patterns.completion; also crossed with setting and "
        "treatment_setting when they are listed)",
    )
