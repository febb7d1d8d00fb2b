"""Treatment pathways with the semantics of TreatmentPatterns 3.1.

:func:`compute_pathways` chains the small pure steps of :mod:`.steps` in TreatmentPatterns'
order and returns a :class:`PathwayResult`. See ``docs/pathways.md`` for the algorithm, worked
examples and the deliberate differences from TreatmentPatterns.
"""

from __future__ import annotations

from allrwe.analyses.pathways.pipeline import compute_pathways
from allrwe.analyses.pathways.result import (
    NONE_PATHWAY,
    STOPPED,
    PathwayResult,
    SankeyData,
    count_pathways,
)
from allrwe.analyses.pathways.steps import AttritionRow

__all__ = [
    "NONE_PATHWAY",
    "STOPPED",
    "AttritionRow",
    "PathwayResult",
    "SankeyData",
    "compute_pathways",
    "count_pathways",
]
