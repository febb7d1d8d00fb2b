"""The cohort's records: persons per index group and the attrition after each step.

The attrition steps are declared as margins (:func:`link_attrition`), so a small exclusion is
protected by hiding a neighbouring count, not given away as a difference.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from allrwe.analyses.records import concat_records, empty_records
from allrwe.results import (
    count_records,
)
from allrwe.results.model import MARGIN_SEPARATOR, TOTAL_PREFIX

__all__ = ["attrition_records", "cohort_records", "link_attrition"]


def cohort_records(frame: pd.DataFrame, groups: Sequence[str]) -> pd.DataFrame:
    """Persons per index group (the group sizes every table's header shows)."""
    sizes = frame.groupby("group")["person_id"].nunique() if len(frame) else pd.Series()
    table = pd.DataFrame({"group": list(groups), "count": [int(sizes.get(g, 0)) for g in groups]})
    return count_records(table, analysis="cohort", variable="persons")


def attrition_records(attrition: pd.DataFrame) -> pd.DataFrame:
    """Attrition per group and step: persons, records and persons excluded.

    ``variable_level`` is ``"<nn> <reason>"`` (two-digit step number, so levels sort in step
    order). Each step from the second is a margin (:func:`link_attrition`): the persons before
    it are the persons after it plus those it excludes, so a small exclusion is protected by
    hiding a neighbouring persons count, not given away as a difference.

    Parameters
    ----------
    attrition : pandas.DataFrame
        :attr:`allrwe.cohort.Cohort.attrition`.
    """
    if attrition.empty:
        return empty_records()
    frame = attrition.reset_index(drop=True).copy()
    frame["_step"] = frame.groupby("group", sort=False).cumcount() + 1
    levels = [
        f"{n:02d} {str(reason).replace(MARGIN_SEPARATOR, '/')}"
        for n, reason in zip(frame["_step"], frame["reason"], strict=True)
    ]
    parts = [
        count_records(
            frame.assign(variable_level=levels),
            analysis="attrition",
            count_column=column,
            estimate_name=column,
            variable="step",
        )
        for column in ("n_persons", "n_records", "n_excluded")
    ]
    return concat_records(parts)


def _step_key(group: str, step: str) -> str:
    return f"attrition/{group}/{step[:2]}".replace(MARGIN_SEPARATOR, "/")


def link_attrition(cohort: pd.DataFrame, attrition: pd.DataFrame) -> pd.DataFrame:
    """Declare the attrition steps as margins, the last one tied to the group's size.

    For each group whose steps add up exactly: step ``k`` (``k >= 2``) is the margin of
    ``n_persons(k)`` and ``n_excluded(k)`` with total ``n_persons(k - 1)``; the group's size
    in ``cohort`` equals the last step's persons (a margin of one member). A group whose
    numbers do not add up gets no margin.

    Parameters
    ----------
    cohort : pandas.DataFrame
        :func:`cohort_records`.
    attrition : pandas.DataFrame
        :func:`attrition_records`.

    Returns
    -------
    pandas.DataFrame
        Both, concatenated, with their ``margin`` tokens.
    """
    records = concat_records([cohort, attrition])
    if attrition.empty:
        return records
    tokens: dict[int, list[str]] = {}
    sizes = records[records["analysis"] == "cohort"].set_index("group")["value"]
    steps = records[(records["analysis"] == "attrition")]
    for group, part in steps.groupby("group", sort=False):
        wide = part.pivot(index="variable_level", columns="estimate_name", values="value")
        rows = part.reset_index().pivot(
            index="variable_level", columns="estimate_name", values="index"
        )
        levels = sorted(wide.index)
        persons = wide.loc[levels, "n_persons"].to_numpy()
        excluded = wide.loc[levels, "n_excluded"].to_numpy()
        size = sizes.get(group)
        if not (persons[:-1] - persons[1:] == excluded[1:]).all() or size != persons[-1]:
            continue
        for k in range(1, len(levels)):
            key = _step_key(str(group), levels[k])
            tokens.setdefault(int(rows.loc[levels[k], "n_persons"]), []).append(key)
            tokens.setdefault(int(rows.loc[levels[k], "n_excluded"]), []).append(key)
            tokens.setdefault(int(rows.loc[levels[k - 1], "n_persons"]), []).append(
                TOTAL_PREFIX + key
            )
        final = f"attrition/{group}/size".replace(MARGIN_SEPARATOR, "/")
        tokens.setdefault(int(rows.loc[levels[-1], "n_persons"]), []).append(final)
        size_row = int(
            records.index[(records["analysis"] == "cohort") & (records["group"] == group)][0]
        )
        tokens.setdefault(size_row, []).append(TOTAL_PREFIX + final)
    margin = records["margin"].to_numpy(dtype=object).copy()
    for row, found in tokens.items():
        margin[row] = MARGIN_SEPARATOR.join(t for t in [margin[row], *found] if t)
    return records.assign(margin=margin)
