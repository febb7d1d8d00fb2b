"""Disease status at index: ND vs R/R and the treatment setting, as engine-side flags.

The rules (docs/study-spec.md, ``classification`` and ``setting``):

* **R/R** when any of: a relapse/refractory record (``classification.rr_evidence``) on or before
  the index date within the lookback; a therapy of ``classification.rr_prior_therapy`` (HSCT,
  CAR-T) strictly before index within the lookback; a drug of a salvage regimen
  (``classification.rr_salvage``: fludarabine of FLAG-IDA, mitoxantrone of MEC, clofarabine)
  strictly before index within the lookback, which finds R/R where claims code no relapse; or,
  when ``rr_min_line`` is set, a line of therapy at index of at least that number.
* otherwise **ND**, unless the person has less prior observation than
  ``classification.min_lookback_days``: then **unknown**.
* treatment setting: **consolidation** when a remission record or an MRD measurement
  (``setting.remission_evidence``, ``setting.mrd_evidence``) falls in ``setting.window``; else
  **re-induction** for R/R, **induction** for ND, and **unknown** otherwise.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from allrwe.cohort.events import concept_events, expand_keys
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import StudySpec

__all__ = [
    "IN_REMISSION_SETTING",
    "Window",
    "classify",
    "has_event",
    "in_cr_at_index",
    "offset_days",
    "status_flags",
    "window_bounds",
]

#: the treatment setting :func:`classify` gives a patient in remission at index
IN_REMISSION_SETTING = "consolidation"

#: Days relative to index, both ends inclusive; ``None`` = unbounded.
Window = tuple[int | None, int | None]


def offset_days(date: ir.DateValue, index_date: ir.DateValue) -> ir.IntegerValue:
    """Return ``date - index_date`` in days, as an engine expression."""
    return date.delta(index_date, unit="day")


def window_bounds(offset: ir.IntegerValue, window: Window) -> list[ir.BooleanValue]:
    """Return the conditions that a day offset lies in a window (both ends inclusive).

    One condition per bounded end, none for ``(None, None)``: a query filtered on them carries
    no constant-true term, which Ibis would compile into every query built on it.
    """
    start, end = window
    bounds = [offset >= start] if start is not None else []
    if end is not None:
        bounds.append(offset <= end)
    return bounds


def in_window(offset: ir.IntegerValue, window: Window) -> ir.BooleanValue:
    """Return whether a day offset lies in a window (both ends inclusive)."""
    bounds = window_bounds(offset, window)
    if not bounds:
        return ibis.literal(True)
    return functools.reduce(operator.and_, bounds)


def has_event(
    source: CdmSource,
    vocab: Vocabulary,
    current: ir.Table,
    keys: Sequence[str],
    window: Window,
) -> ir.Table:
    """Return the distinct ``person_id, group`` of ``current`` with a ``keys`` record in ``window``.

    ``current`` needs ``person_id, group, index_date``; records of every event domain count, by
    their start date.
    """
    # No person filter on the events: joining them to `current` restricts them already, and a
    # semi-join on `current` would repeat its whole query inside this one.
    ev = concept_events(source, vocab, None, list(keys))
    ev = ev.select(ev_person="person_id", ev_date="start_date")
    keyed = current.select("person_id", "group", "index_date")
    j = keyed.join(ev, keyed.person_id == ev.ev_person)
    j = j.filter(in_window(offset_days(j.ev_date, j.index_date), window))
    return j.select("person_id", "group").distinct()


def status_flags(
    source: CdmSource, spec: StudySpec, vocab: Vocabulary, current: ir.Table
) -> ir.Table:
    """Add ``rr_evidence``, ``rr_prior_therapy``, ``rr_salvage`` and ``in_remission`` flags.

    One query finds every status record of the persons of ``current`` with its day offset
    from the index date; the flags are windows over those offsets.
    """
    cls, setting = spec.classification, spec.setting
    lookback = None if cls.lookback_days is None else -cls.lookback_days
    remission_keys = [*setting.remission_evidence, *setting.mrd_evidence]
    wanted = [
        ("rr_evidence", cls.rr_evidence, (lookback, 0)),
        ("rr_prior_therapy", cls.rr_prior_therapy, (lookback, -1)),
        ("rr_salvage", cls.rr_salvage, (lookback, -1)),
        ("in_remission", remission_keys, setting.window),
    ]
    keys = list(dict.fromkeys(k for _, ks, _ in wanted for k in ks))
    out = current
    if not keys:
        return out.mutate(**{name: ibis.literal(False) for name, _, _ in wanted})
    ev = concept_events(source, vocab, None, keys)
    ev = ev.select(ev_person="person_id", ev_set="concept_set", ev_date="start_date")
    keyed = current.select(_kp="person_id", _kg="group", _ki="index_date")
    j = keyed.join(ev, keyed._kp == ev.ev_person)
    j = j.mutate(_off=offset_days(j.ev_date, j._ki))
    flags = {}
    for name, ks, window in wanted:
        sets = sorted({cs.key for cs in expand_keys(vocab, ks)}) if ks else []
        if sets:
            flags[name] = (j.ev_set.isin(sets) & in_window(j._off, window)).any()
        else:
            flags[name] = (j.ev_set.isnull() & j.ev_set.notnull()).any()
    agg = j.group_by(["_kp", "_kg"]).agg(**flags)
    joined = current.left_join(agg, (current.person_id == agg._kp) & (current.group == agg._kg))
    joined = joined.drop("_kp", "_kg")
    return joined.mutate(**{name: joined[name].fill_null(False) for name, _, _ in wanted})


def classify(frame: pd.DataFrame, spec: StudySpec) -> pd.DataFrame:
    """Add ``setting`` and ``treatment_setting`` to an executed frame with the status flags.

    ``frame`` needs ``rr_evidence, rr_prior_therapy, in_remission, index_date, obs_start`` and
    ``line_at_index``; ``rr_salvage`` is read when present.
    """
    cls = spec.classification
    rr = frame["rr_evidence"].astype(bool) | frame["rr_prior_therapy"].astype(bool)
    if "rr_salvage" in frame:
        rr = rr | frame["rr_salvage"].astype(bool)
    if cls.rr_min_line is not None:
        rr = rr | (frame["line_at_index"].fillna(0) >= cls.rr_min_line)
    prior_days = (pd.to_datetime(frame["index_date"]) - pd.to_datetime(frame["obs_start"])).dt.days
    short = prior_days < cls.min_lookback_days
    setting = np.where(rr, "RR", np.where(short, "unknown", "ND"))
    treatment = np.select(
        [frame["in_remission"].astype(bool).to_numpy(), setting == "RR", setting == "ND"],
        [IN_REMISSION_SETTING, "re-induction", "induction"],
        default="unknown",
    )
    out = frame.copy()
    out["setting"] = setting
    out["treatment_setting"] = treatment
    return out


def in_cr_at_index(frame: pd.DataFrame) -> np.ndarray:
    """Return whether each patient was in remission at index: the one rule for "in CR at index".

    A patient in remission at index is the one :func:`classify` puts in the treatment setting
    :data:`IN_REMISSION_SETTING`; without a ``treatment_setting`` column, nobody is.
    """
    if "treatment_setting" not in frame:
        return np.zeros(len(frame), dtype=bool)
    return (frame["treatment_setting"].astype("object") == IN_REMISSION_SETTING).to_numpy()
