"""Safety windows per cohort row: treatment, follow-up, cycles and the discontinuation check.

The index treatment and its end come from the treatment patterns
(:func:`allrwe.analyses.therapy.index_treatments`, ``patterns.index_treatment_end``), and its
cycles from the cycle rule of the index set (``patterns.cycles``), so safety, duration and cycle
counts describe the same treatment. Dates are int day numbers here (days since 1970-01-01).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from allrwe.analyses.therapy import TherapyInputs, assign_cycles, index_treatments
from allrwe.spec import CycleRule, DoseScheduleCycles, SafetySpec

__all__ = [
    "WINDOW_COLUMNS",
    "SafetyWindows",
    "cycle_windows",
    "days",
    "safety_windows",
]

#: columns of :attr:`SafetyWindows.windows`
WINDOW_COLUMNS = ("person_id", "group", "window", "w_start", "w_end")

_EPOCH = np.datetime64("1970-01-01", "D")


def days(values: pd.Series) -> np.ndarray:
    """Return dates as int64 day numbers (days since 1970-01-01)."""
    arr = pd.to_datetime(pd.Series(values)).to_numpy().astype("datetime64[D]")
    return np.asarray((arr - _EPOCH).astype("int64"))


@dataclass(frozen=True)
class SafetyWindows:
    """Windows of every cohort row, as day numbers.

    Attributes
    ----------
    units : pandas.DataFrame
        One row per cohort row: ``person_id, group, index_day, index_end_day, window_end_day,
        obs_end_day, n_cycles, last_cycle_complete``.
    cycles : pandas.DataFrame
        ``person_id, group, cycle, c_start, c_end, last_start, last_end, n_doses``: one row
        per cycle of the index treatment; ``c_start``–``c_end`` is the cycle's window
        (to the day before the next cycle, the last one to the end of the treatment window);
        ``last_start``/``last_end`` the cycle's last administration.
    windows : pandas.DataFrame
        ``person_id, group, window, w_start, w_end``: ``treatment``, ``followup``,
        ``discontinuation`` (only rows whose last cycle is incomplete) and ``cycle:<k>``.
    """

    units: pd.DataFrame
    cycles: pd.DataFrame
    windows: pd.DataFrame


def _index_records(inputs: TherapyInputs, tr: pd.DataFrame) -> pd.DataFrame:
    """Return the records of each row's index set from its index date to the treatment end."""
    rows = tr[["person_id", "group", "index_set", "index_date", "index_end"]]
    ev = inputs.events.merge(
        rows, left_on=["person_id", "concept_set"], right_on=["person_id", "index_set"]
    )
    start = days(ev["start_date"])
    keep = (start >= days(ev["index_date"])) & (start <= days(ev["index_end"]))
    return ev.loc[keep, ["person_id", "group", "concept_set", "start_date", "end_date"]]


def _cycles(inputs: TherapyInputs, records: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for (group, cset), part in records.groupby(["group", "concept_set"], sort=True):
        rule = inputs.cycle_rules.get(str(cset))
        # Without a rule the whole index treatment is one cycle.
        cyc = part.assign(cycle=1) if rule is None else assign_cycles(part, rule)
        cyc = cyc.assign(group=str(group), rule=_rule_name(rule))
        parts.append(cyc[["person_id", "group", "cycle", "start_date", "end_date", "rule"]])
    if not parts:
        return pd.DataFrame(columns=["person_id", "group", "cycle", "start", "end", "rule"]).astype(
            {"person_id": "int64", "cycle": "int64", "start": "int64", "end": "int64"}
        )
    out = pd.concat(parts, ignore_index=True)
    out["start"] = days(out["start_date"])
    out["end"] = np.maximum(days(out["end_date"]), out["start"])
    return out[["person_id", "group", "cycle", "start", "end", "rule"]]


def _rule_name(rule: CycleRule | None) -> str:
    return "none" if rule is None else rule.rule


def cycle_windows(records: pd.DataFrame, window_end: pd.DataFrame) -> pd.DataFrame:
    """Summarise cycle records into one window per cycle.

    Parameters
    ----------
    records : pandas.DataFrame
        ``person_id, group, cycle, start, end, rule`` (day numbers) of the index treatment.
    window_end : pandas.DataFrame
        ``person_id, group, window_end_day``: where the last cycle's window ends.

    Returns
    -------
    pandas.DataFrame
        ``person_id, group, cycle, c_start, c_end, last_start, last_end, n_doses, rule``.
    """
    keys = ["person_id", "group", "cycle"]
    per = records.groupby(keys, as_index=False, sort=True).agg(
        c_start=("start", "min"),
        last_start=("start", "max"),
        last_end=("end", "max"),
        n_doses=("start", "nunique"),
        rule=("rule", "first"),
    )
    per = per.merge(window_end, on=["person_id", "group"], how="left")
    nxt = per.groupby(["person_id", "group"])["c_start"].shift(-1)
    per["c_end"] = np.where(nxt.isna(), per["window_end_day"], nxt.fillna(0) - 1).astype("int64")
    cols = [
        "person_id",
        "group",
        "cycle",
        "c_start",
        "c_end",
        "last_start",
        "last_end",
        "n_doses",
        "rule",
    ]
    return per[cols]


def _complete(last: pd.DataFrame, inputs: TherapyInputs, safety: SafetySpec) -> np.ndarray:
    """Whether each row's last cycle was completed (see docs/baseline-and-safety.md)."""
    span = last["last_end"] - last["c_start"] + 1
    max_doses = {
        key: rule.max_doses
        for key, rule in inputs.cycle_rules.items()
        if isinstance(rule, DoseScheduleCycles)
    }
    doses_needed = last["index_set"].map(max_doses)
    infusion = last["rule"].isin(["infusion", "gap"])
    by_doses = last["rule"] == "dose_schedule"
    complete = np.ones(len(last), dtype=bool)
    complete[infusion.to_numpy()] = (span[infusion] >= safety.complete_infusion_days).to_numpy()
    complete[by_doses.to_numpy()] = (
        last.loc[by_doses, "n_doses"] >= doses_needed[by_doses]
    ).to_numpy()
    return complete


def safety_windows(inputs: TherapyInputs, safety: SafetySpec) -> SafetyWindows:
    """Compute the safety windows of every cohort row from the pattern inputs.

    Parameters
    ----------
    inputs : TherapyInputs
        Executed pattern inputs of the cohort.
    safety : SafetySpec
        ``treatment_window_days``, ``discontinuation_window_days``, ``complete_infusion_days``.

    Returns
    -------
    SafetyWindows
    """
    tr = index_treatments(inputs)
    units = pd.DataFrame(
        {
            "person_id": tr["person_id"].to_numpy(dtype="int64"),
            "group": tr["group"].astype(str).to_numpy(),
            "index_set": tr["index_set"].astype(str).to_numpy(),
            "index_day": days(tr["index_date"]),
            "index_end_day": days(tr["index_end"]),
            "obs_end_day": days(tr["obs_end"]),
        }
    )
    units["window_end_day"] = units["index_end_day"] + safety.treatment_window_days
    records = _cycles(inputs, _index_records(inputs, tr))
    cycles = cycle_windows(records, units[["person_id", "group", "window_end_day"]])
    last = cycles.sort_values(["person_id", "group", "cycle"]).drop_duplicates(
        ["person_id", "group"], keep="last"
    )
    last = last.merge(units[["person_id", "group", "index_set"]], on=["person_id", "group"])
    last = last.assign(complete=_complete(last, inputs, safety))
    units = units.merge(
        last[["person_id", "group", "cycle", "complete"]].rename(
            columns={"cycle": "n_cycles", "complete": "last_cycle_complete"}
        ),
        on=["person_id", "group"],
        how="left",
    )
    units["n_cycles"] = units["n_cycles"].fillna(0).astype("int64")
    units["last_cycle_complete"] = units["last_cycle_complete"].fillna(True).astype(bool)
    return SafetyWindows(units=units, cycles=cycles, windows=_windows(units, last, cycles, safety))


def _windows(
    units: pd.DataFrame, last: pd.DataFrame, cycles: pd.DataFrame, safety: SafetySpec
) -> pd.DataFrame:
    n = safety.discontinuation_window_days
    parts = [
        units.assign(window="treatment", w_start=units["index_day"], w_end=units["window_end_day"]),
        units.assign(window="followup", w_start=units["index_day"], w_end=units["obs_end_day"]),
    ]
    open_ = last[~last["complete"].to_numpy(dtype=bool)]
    parts.append(
        open_.assign(
            window="discontinuation", w_start=open_["last_start"] - n, w_end=open_["last_end"] + n
        )
    )
    parts.append(
        cycles.assign(
            window="cycle:" + cycles["cycle"].astype(str),
            w_start=cycles["c_start"],
            w_end=cycles["c_end"],
        )
    )
    out = pd.concat([p[list(WINDOW_COLUMNS)] for p in parts], ignore_index=True)
    return out.astype({"person_id": "int64", "w_start": "int64", "w_end": "int64"})
