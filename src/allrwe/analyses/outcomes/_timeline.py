"""Per cohort row: the dates every endpoint is built from, as day numbers (NaN = none).

One row per person and group, for one censoring variant: the index day, the end of follow-up
(observation end, data cut-off, or the first censoring therapy after index) and its reason,
death, the first relapse and refractory record after index, and the first response.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.analyses.outcomes._inputs import OutcomeInputs, day_numbers
from allrwe.analyses.outcomes.response import ResponseResult

__all__ = ["FOLLOWUP_END", "OBSERVATION_END", "first_after", "timeline"]

#: Censoring reasons of the end of follow-up.
OBSERVATION_END = "observation_end"
FOLLOWUP_END = "followup_end"


def first_after(
    rows: pd.DataFrame, after: np.ndarray, until: np.ndarray, events: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Return the first event day (and its ``concept_set``) strictly after ``after``.

    Parameters
    ----------
    rows : pandas.DataFrame
        Rows with ``person_id`` (any index).
    after, until : numpy.ndarray
        Per row: events must fall in ``(after, until]``; NaN ``after`` gives no event.
    events : pandas.DataFrame
        ``person_id, concept_set, date``.

    Returns
    -------
    day, concept_set : numpy.ndarray
        Day number (NaN if none) and set key (``None`` if none); ties on a day take the
        alphabetically first set key.
    """
    n = len(rows)
    day = np.full(n, np.nan)
    key = np.full(n, None, dtype=object)
    if n == 0 or events.empty:
        return day, key
    left = pd.DataFrame(
        {"_row": np.arange(n), "person_id": rows["person_id"].to_numpy(), "after": after,
         "until": until}
    )  # fmt: skip
    ev = events.assign(day=day_numbers(events["date"]))[["person_id", "concept_set", "day"]]
    m = left.merge(ev, on="person_id")
    m = m[(m["day"] > m["after"]) & (m["day"] <= m["until"])]
    m = m.sort_values(["_row", "day", "concept_set"], kind="mergesort").drop_duplicates("_row")
    rows_hit = m["_row"].to_numpy()
    day[rows_hit] = m["day"].to_numpy()
    key[rows_hit] = m["concept_set"].to_numpy()
    return day, key


def _death_days(inputs: OutcomeInputs, rows: pd.DataFrame) -> np.ndarray:
    deaths = inputs.deaths.drop_duplicates("person_id")[["person_id", "death_date"]]
    merged = rows[["person_id"]].merge(deaths, on="person_id", how="left")
    return day_numbers(merged["death_date"])


def timeline(inputs: OutcomeInputs, response: ResponseResult, variant: str) -> pd.DataFrame:
    """Return the per-row dates of one censoring variant.

    Returns
    -------
    pandas.DataFrame
        The cohort columns plus ``index_day``, ``end_day`` (last day of follow-up),
        ``end_reason``, ``death_day`` (death within follow-up), ``relapse_day``,
        ``refractory_day`` (first records after index within follow-up),
        ``response_day`` (first CR/CRh/CRi within follow-up) and ``followup_end_day``
        (the end of follow-up without the variant's censoring).
    """
    out = inputs.spec.outcomes
    rows = inputs.cohort.reset_index(drop=True).copy()
    idx = day_numbers(rows["index_date"])
    end = day_numbers(rows["obs_end"])
    reason = np.full(len(rows), OBSERVATION_END, dtype=object)
    if out.followup_end is not None:
        cut = float(day_numbers(pd.Series([out.followup_end]))[0])
        reason = np.where(cut < end, FOLLOWUP_END, reason)
        end = np.minimum(end, cut)
    end = np.maximum(end, idx)
    base_end = end.copy()
    sets = inputs.variant_sets.get(variant, frozenset())
    if sets:
        th = inputs.therapies[inputs.therapies["concept_set"].isin(sets)]
        tday, tkey = first_after(rows, idx, end, th)
        hit = ~np.isnan(tday)
        end = np.where(hit, tday, end)
        reason = np.where(hit, tkey, reason)
    death = _death_days(inputs, rows)
    status = inputs.status
    relapse, _ = first_after(rows, idx, end, status[status["concept_set"] == "relapse"])
    refractory, _ = first_after(rows, idx, end, status[status["concept_set"] == "refractory"])
    resp = response.persons.set_index(["person_id", "group"])["first_response_date"]
    keys = pd.MultiIndex.from_frame(rows[["person_id", "group"]])
    response_day = day_numbers(pd.Series(resp.reindex(keys).to_numpy()))
    rows["index_day"] = idx
    rows["end_day"] = end
    rows["end_reason"] = reason
    rows["followup_end_day"] = base_end
    rows["death_day"] = np.where(death <= end, death, np.nan)
    rows["relapse_day"] = relapse
    rows["refractory_day"] = refractory
    rows["response_day"] = np.where(response_day <= end, response_day, np.nan)
    rows["base_response_day"] = np.where(response_day <= base_end, response_day, np.nan)
    return rows
