"""Adverse events with a CTCAE grade, by treatment context.

Contexts: the index drug (onset within the treatment, first to last exposure), a later novel
agent, and CAR-T or allo-HSCT after the index date (onset in a window after the infusion or
transplant). Each term occurs at most once per patient and context; grade 1-2 or 3-4.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from allrwe.synth.frames import AnyArray
from allrwe.synth.params import SynthParams
from allrwe.synth.rng import Draws

__all__ = ["AE_CONTEXTS", "ONSET_DAYS", "AdverseEvents", "draw_adverse_events"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: contexts in the order of their codes
AE_CONTEXTS = ("blinatumomab", "inotuzumab_ozogamicin", "car_t", "hsct")
#: onset window (days after the context starts) by context and term; "*" for other terms
ONSET_DAYS: dict[str, dict[str, tuple[int, int]]] = {
    "blinatumomab": {
        "crs": (0, 2),
        "icans": (1, 14),
        "neurotoxicity": (1, 14),
        "infusion_reaction": (0, 0),
        "*": (0, 27),
    },
    "inotuzumab_ozogamicin": {"infusion_reaction": (0, 0), "*": (0, 27)},
    "car_t": {"crs": (1, 7), "icans": (3, 10), "neutropenia": (1, 14), "*": (3, 30)},
    "hsct": {"vod_sos": (5, 21), "neutropenia": (0, 14), "*": (5, 60)},
}


@dataclass
class AdverseEvents:
    """Collected adverse events: owner, term, grade, onset date, context code."""

    cols: dict[str, list[AnyArray]] = field(default_factory=dict)

    def frame(self) -> dict[str, AnyArray]:
        """Concatenated columns (empty arrays when there are none)."""
        keys = ("owner", "term", "grade", "date", "context")
        return {
            k: np.concatenate(self.cols[k]) if k in self.cols else np.zeros(0, dtype=np.int64)
            for k in keys
        }


def draw_adverse_events(
    draws: Draws,
    params: SynthParams,
    terms: list[str],
    out: AdverseEvents,
    context: str,
    owner: IntArray,
    start: IntArray,
    span: IntArray | None,
    *,
    vod_factor: FloatArray | None = None,
) -> None:
    """Draw the adverse events of one context.

    Parameters
    ----------
    draws : Draws
        Clinical stream.
    params : SynthParams
        Profile (``adverse_events``).
    terms : list of str
        AE concept-set keys, in the order of their codes.
    out : AdverseEvents
        Receives the events.
    context : str
        One of :data:`AE_CONTEXTS`.
    owner, start : numpy.ndarray
        Patients and the day each context starts.
    span : numpy.ndarray, optional
        Days the treatment lasts; onsets are kept inside it.
    vod_factor : numpy.ndarray, optional
        Multiplier of the VOD/SOS probability per patient.
    """
    windows = ONSET_DAYS[context]
    for term, ae in params.adverse_events.get(context, {}).items():
        p = np.full(owner.size, ae.probability)
        if term == "vod_sos" and vod_factor is not None:
            p = np.clip(p * vod_factor, 0, 1)
        occurs = draws.bernoulli(p, owner=owner)
        severe = draws.bernoulli(ae.grade3plus, owner=owner)
        upper = draws.bernoulli(np.where(severe, 0.3, 0.45), owner=owner)
        lo, hi = windows.get(term, windows["*"])
        offset = draws.integers(lo, hi, owner=owner)
        if span is not None:
            offset = np.minimum(offset, span)
        grade = np.where(severe, 3, 1) + upper.astype(np.int64)
        sel = np.flatnonzero(occurs)
        for k, v in (
            ("owner", owner[sel]),
            ("term", np.full(sel.size, terms.index(term))),
            ("grade", grade[sel]),
            ("date", start[sel] + offset[sel]),
            ("context", np.full(sel.size, AE_CONTEXTS.index(context))),
        ):
            out.cols.setdefault(k, []).append(np.asarray(v, dtype=np.int64))
