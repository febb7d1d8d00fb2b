"""Whether each cohort row completed its index treatment (``patterns.completion``).

Rule (docs/treatment-patterns.md, "Completed index treatment"): a row *completed* the index
treatment when at least ``patterns.completion.min_cycles`` cycles of its index treatment (the
records of :func:`~allrwe.analyses.therapy.index.index_records`, cut into cycles by the rule
of the index set, ``patterns.cycles``) are complete. A cycle is complete by the same rule as
the safety tables' "last cycle complete":

* ``infusion`` or ``gap`` rule (blinatumomab): from the cycle's first to its last infused day
  (both counted) at least ``safety.complete_infusion_days`` days (28: the label's cycle of
  28 days of continuous infusion);
* ``dose_schedule`` rule (inotuzumab): ``max_doses`` doses (days 1, 8 and 15).

Seed 001 counts "R/R patients completing blinatumomab" without defining it; this is the
definition allrwe derives from the data. A row whose index set has a ``single`` rule (CAR-T)
or no rule has no completion (missing): its group's records say "not available".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.analyses.therapy._inputs import TherapyInputs, days
from allrwe.analyses.therapy.cycles import assign_cycles
from allrwe.analyses.therapy.index import index_records
from allrwe.spec import CycleRule, DoseScheduleCycles, GapCycles, InfusionCycles

__all__ = ["COMPLETED", "NOT_COMPLETED", "NO_COMPLETION", "index_completion"]

#: the levels of the ``completion`` stratum
COMPLETED, NOT_COMPLETED = "completed", "not completed"
#: the reason of the "not available" records of a group without a completion rule
NO_COMPLETION = "completion of the index treatment cannot be derived (no cycle length)"


def _derivable(rule: CycleRule | None) -> bool:
    return isinstance(rule, InfusionCycles | GapCycles | DoseScheduleCycles)


def _complete_cycles(part: pd.DataFrame, rule: CycleRule, infusion_days: int) -> pd.DataFrame:
    """Return ``person_id, complete_cycles`` for the index records of one set."""
    cyc = assign_cycles(part, rule)
    per = cyc.groupby(["person_id", "cycle"], as_index=False).agg(
        first=("cycle_start", "min"), last=("end_date", "max"), doses=("start_date", "size")
    )
    if isinstance(rule, DoseScheduleCycles):
        complete = per["doses"].to_numpy() >= rule.max_doses
    else:
        span = days(per["last"]) - days(per["first"]) + 1
        complete = span >= infusion_days
    per = per.assign(complete=complete.astype("int64"))
    return per.groupby("person_id", as_index=False).agg(complete=("complete", "sum"))


def index_completion(inputs: TherapyInputs) -> pd.DataFrame:
    """Return whether each cohort row completed its index treatment.

    Returns
    -------
    pandas.DataFrame
        ``person_id, group, complete_cycles, completion``: the number of complete cycles
        (NaN where no completion rule applies) and ``"completed"`` / ``"not completed"``
        (``patterns.completion.min_cycles`` or more complete cycles), or missing where no
        completion rule applies or ``patterns.completion`` is not set.
    """
    cohort = inputs.cohort
    out = cohort[["person_id", "group"]].copy()
    rule_of = cohort["index_set"].astype(str).map(inputs.cycle_rules.get)
    derivable = np.array([_derivable(r) for r in rule_of], dtype=bool)
    completion = inputs.spec.patterns.completion
    rec, _ = index_records(inputs)
    found = []
    for (group, cset), part in rec.groupby(["group", "concept_set"], sort=True):
        rule = inputs.cycle_rules.get(str(cset))
        if rule is None or not _derivable(rule):
            continue
        counted = _complete_cycles(part, rule, inputs.spec.safety.complete_infusion_days)
        found.append(counted.assign(group=str(group)))
    if found:
        per = pd.concat(found).groupby(["person_id", "group"], as_index=False)["complete"].sum()
        merged = out.merge(per, on=["person_id", "group"], how="left")
        n = merged["complete"].fillna(0).to_numpy(dtype="float64")
    else:
        n = np.zeros(len(out), dtype="float64")
    n = np.where(derivable, n, np.nan)
    out["complete_cycles"] = n
    level = pd.Series(np.full(len(out), None, dtype=object), index=out.index)
    if completion is not None:
        done = np.where(n >= completion.min_cycles, COMPLETED, NOT_COMPLETED)
        level[derivable] = done[derivable]
    out["completion"] = level
    return out.reset_index(drop=True)
