"""Treatment cycles per person and drug, with a rule per drug (``patterns.cycles``).

Rules (docs/treatment-patterns.md, "Cycles"); dates are calendar days, a record's end date is
its last treated day, and an *interruption* is the number of untreated days between two records
(``next_start - previous_end - 1``):

* ``infusion`` (blinatumomab): bag records that touch, overlap or are separated by an
  interruption of at most ``max_interruption_days`` (7, as the label allows) form one
  continuous infusion and one cycle; a longer interruption starts a new cycle.
* ``gap``: the same rule for any drug.
* ``dose_schedule`` (inotuzumab, doses on days 1, 8 and 15, ±2 days, cycles of 21–28 days): the
  first dose opens cycle 1 and is its day 1; a later dose starts a new cycle when it comes
  ``min_cycle_days`` (19 = 21 − 2) or more after the current cycle's day 1, or when the cycle
  already holds ``max_doses`` (3) doses. Gaps alone cannot separate cycles here: with a 21-day
  cycle the gap from the day-15 dose to the next day-1 dose is the same 7 days as within a
  cycle.
* ``single`` (CAR-T): every distinct administration day is a cycle.

Several records on one day count as one administration.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.analyses.therapy._inputs import days, to_dates
from allrwe.errors import AnalysisError
from allrwe.spec import CycleRule, DoseScheduleCycles, GapCycles, InfusionCycles, SingleCycles

__all__ = ["assign_cycles", "dose_schedule_cycles", "infusion_cycles", "single_cycles"]


def infusion_cycles(
    person: np.ndarray, start: np.ndarray, end: np.ndarray, *, max_interruption: int
) -> np.ndarray:
    """Return the 1-based cycle of each record under the continuous-infusion rule.

    Parameters
    ----------
    person, start, end : numpy.ndarray
        Person ids and start/end day numbers, sorted by person then start.
    max_interruption : int
        Interruptions of up to this many untreated days continue the cycle; longer ones start
        a new cycle.
    """
    n = len(start)
    if n == 0:
        return np.zeros(0, dtype="int64")
    frame = pd.DataFrame({"p": person, "e": end})
    # Latest end of all earlier records of the person: bags may overlap or nest.
    prev_end = frame.groupby("p")["e"].cummax().groupby(frame["p"]).shift(1).to_numpy()
    first = np.r_[True, person[1:] != person[:-1]]
    interruption = start - np.nan_to_num(prev_end, nan=-(10**9)) - 1
    new = first | (interruption > max_interruption)
    return pd.Series(new.astype("int64")).groupby(person).cumsum().to_numpy()


def single_cycles(person: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Return the 1-based cycle of each record when every administration day is a cycle."""
    frame = pd.DataFrame({"p": person, "s": start})
    return frame.groupby("p")["s"].rank(method="dense").astype("int64").to_numpy()


def dose_schedule_cycles(
    person: np.ndarray, start: np.ndarray, *, max_doses: int, min_cycle_days: int
) -> np.ndarray:
    """Return the 1-based cycle of each dose under the day-1/8/15 schedule rule.

    Parameters
    ----------
    person, start : numpy.ndarray
        Person ids and dose day numbers, sorted by person then day; one dose per day.
    max_doses : int
        Doses a cycle holds at most.
    min_cycle_days : int
        A dose this many days or more after the cycle's day 1 opens a new cycle.
    """
    n = len(start)
    cycle = np.zeros(n, dtype="int64")
    if n == 0:
        return cycle
    pid, pidx = np.unique(person, return_inverse=True)
    rank = pd.Series(pidx).groupby(pidx).cumcount().to_numpy()
    cur = np.zeros(len(pid), dtype="int64")
    day1 = np.zeros(len(pid), dtype="int64")
    doses = np.zeros(len(pid), dtype="int64")
    # Sequential within a person, vectorised across persons: one pass per dose rank.
    for k in range(int(rank.max()) + 1):
        rows = np.flatnonzero(rank == k)
        p = pidx[rows]
        s = start[rows]
        opens = (cur[p] == 0) | (s - day1[p] >= min_cycle_days) | (doses[p] >= max_doses)
        cur[p] += opens
        day1[p] = np.where(opens, s, day1[p])
        doses[p] = np.where(opens, 1, doses[p] + 1)
        cycle[rows] = cur[p]
    return cycle


def _run_starts(*keys: np.ndarray) -> np.ndarray:
    """Return the first row of each run of equal ``keys`` (rows sorted so that runs are whole)."""
    n = len(keys[0])
    if n == 0:
        return np.zeros(0, dtype="int64")
    new = np.zeros(n, dtype=bool)
    new[0] = True
    for key in keys:
        new[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(new)


def _one_per_day(records: pd.DataFrame) -> pd.DataFrame:
    """Merge the records of a person's day into one (latest end; quantities summed).

    ``records`` are sorted by person, start and end, so a day's last record has its latest end.
    """
    person, start = records["person_id"].to_numpy(), records["start"].to_numpy()
    first = _run_starts(person, start)
    size = np.diff(np.r_[first, len(records)])
    last = first + size - 1
    out = pd.DataFrame(
        {
            "person_id": person[first],
            "start": start[first],
            "end": records["end"].to_numpy()[last],
            "n_records": size,
        }
    )
    if "quantity" in records:
        # A day whose every quantity is missing stays missing, not 0.
        day = np.repeat(np.arange(len(first)), size)
        out["quantity"] = records["quantity"].groupby(day).sum(min_count=1).to_numpy()
    return out


def assign_cycles(records: pd.DataFrame, rule: CycleRule) -> pd.DataFrame:
    """Assign cycles to the records of one drug.

    Parameters
    ----------
    records : pandas.DataFrame
        ``person_id, start_date, end_date`` (and optionally ``quantity``) of one drug.
    rule : CycleRule
        The drug's rule from ``patterns.cycles``.

    Returns
    -------
    pandas.DataFrame
        ``person_id, start_date, end_date, cycle, cycle_start, day_in_cycle, dose_in_cycle``
        (plus ``quantity`` summed per day when given): one row per administration day for
        the dose-schedule and single rules, per record otherwise; ``day_in_cycle`` is 1 on the
        cycle's first day.
    """
    missing = [c for c in ("person_id", "start_date", "end_date") if c not in records]
    if missing:
        raise AnalysisError(f"cycle records lack column(s) {missing}")
    rec = pd.DataFrame(
        {
            "person_id": records["person_id"].to_numpy(dtype="int64"),
            "start": days(records["start_date"]),
            "end": days(records["end_date"]),
        }
    )
    if "quantity" in records:
        rec["quantity"] = records["quantity"].to_numpy(dtype="float64")
    rec["end"] = np.maximum(rec["end"], rec["start"])
    rec = rec.sort_values(["person_id", "start", "end"], kind="mergesort").reset_index(drop=True)
    person, start, end = rec["person_id"].to_numpy(), rec["start"].to_numpy(), rec["end"].to_numpy()
    if isinstance(rule, InfusionCycles | GapCycles):
        rec["cycle"] = infusion_cycles(
            person, start, end, max_interruption=rule.max_interruption_days
        )
    else:
        rec = _one_per_day(rec)
        person, start = rec["person_id"].to_numpy(), rec["start"].to_numpy()
        if isinstance(rule, DoseScheduleCycles):
            rec["cycle"] = dose_schedule_cycles(
                person, start, max_doses=rule.max_doses, min_cycle_days=rule.min_cycle_days
            )
        elif isinstance(rule, SingleCycles):
            rec["cycle"] = single_cycles(person, start)
        else:  # pragma: no cover - the spec's discriminated union has no other member
            raise AnalysisError(f"unknown cycle rule {rule!r}")
    # Rows are sorted by person and start, and cycles only grow: a cycle is a run of rows.
    first = _run_starts(rec["person_id"].to_numpy(), rec["cycle"].to_numpy())
    size = np.diff(np.r_[first, len(rec)])
    rec["cycle_start"] = np.repeat(rec["start"].to_numpy()[first], size)
    rec["day_in_cycle"] = rec["start"] - rec["cycle_start"] + 1
    rec["dose_in_cycle"] = np.arange(len(rec)) - np.repeat(first, size) + 1

    out = pd.DataFrame(
        {
            "person_id": rec["person_id"],
            "start_date": to_dates(rec["start"]),
            "end_date": to_dates(rec["end"]),
            "cycle": rec["cycle"].astype("int64"),
            "cycle_start": to_dates(rec["cycle_start"]),
            "day_in_cycle": rec["day_in_cycle"].astype("int64"),
            "dose_in_cycle": rec["dose_in_cycle"].astype("int64"),
        }
    )
    if "quantity" in rec:
        out["quantity"] = rec["quantity"].to_numpy()
    return out
