"""Chemotherapy before index classed by course length (``patterns.prior_chemo_course``).

Rule (docs/treatment-patterns.md, "Chemotherapy courses before index"):

* the records are the *prior* records of the class ``prior_chemo_course.therapy_class``
  (:func:`~allrwe.analyses.therapy.periods.therapy_by_person`: starting before the index date,
  within ``windows.prior_lookback_days`` when set; a CAR-T's lymphodepletion is not counted);
* a **course** is a run of those records, every drug of the class pooled, joined while the
  next record starts at most ``patterns.era_gap_days`` days after the run's latest end (the
  era rule of the period tables); its length is from its first start to its latest end, both
  days counted;
* a person is **short-term** when every course lasted at most ``short_max_days`` days,
  **longer** when one lasted more, **none** without a prior record of the class.

Seed 001 calls its 3–7-day courses "low intensity"; intent is not in a CDM, so the classes
name what is measured, the course length. Within each class the persons **in remission at
index** are counted by the one rule of :func:`allrwe.cohort.status.in_cr_at_index` (the
outcomes' ``in_cr_at_index`` too): treatment setting ``consolidation`` (a remission record or
an MRD measurement shortly before index).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from allrwe.analyses.therapy._inputs import TherapyInputs, days, eras
from allrwe.analyses.therapy._tables import categorical
from allrwe.analyses.therapy.periods import therapy_by_person
from allrwe.cohort.status import in_cr_at_index

__all__ = [
    "COURSE_VARIABLE",
    "CR_VARIABLE",
    "IN_CR",
    "NOT_IN_CR",
    "course_levels",
    "cr_by_course_table",
    "person_courses",
    "prior_chemo_course_table",
]

#: the variable of the class counts, and of the remission counts within each class
COURSE_VARIABLE, CR_VARIABLE = "prior_chemo_course", "in_cr_at_index"
#: the levels of :data:`CR_VARIABLE`
IN_CR, NOT_IN_CR = "in CR at index", "not in CR at index"


def course_levels(therapy_class: str, short_max_days: int) -> list[str]:
    """Return the class labels: short-term, longer, none (course length, never intent).

    Examples
    --------
    >>> course_levels("chemotherapy", 7)[0]
    'short-term chemotherapy (≤ 7 days)'
    """
    return [
        f"short-term {therapy_class} (≤ {short_max_days} days)",
        f"longer {therapy_class} (> {short_max_days} days)",
        f"no {therapy_class}",
    ]


def _longest_course(records: pd.DataFrame, gap: int) -> pd.Series:
    """Longest course (days, both ends counted) per ``person_id, group`` of ``records``."""
    ev = records.assign(_s=days(records["start_date"]), _e=days(records["end_date"]))
    ev = eras(ev, ["person_id", "group"], "_s", "_e", gap)
    spans = ev.groupby(["person_id", "group", "_era"]).agg(s=("_s", "min"), e=("_e", "max"))
    length = spans["e"] - spans["s"] + 1
    return length.groupby(level=[0, 1]).max()


def person_courses(inputs: TherapyInputs, therapy: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return each cohort row with its course class and whether it was in remission at index.

    Parameters
    ----------
    inputs : TherapyInputs
        The pattern inputs; ``spec.patterns.prior_chemo_course`` must be set.
    therapy : pandas.DataFrame, optional
        :func:`therapy_by_person` output, to reuse.

    Returns
    -------
    pandas.DataFrame
        The cohort columns and ``course`` (a label of :func:`course_levels`),
        ``longest_course_days`` (NaN: none) and ``in_cr`` (:data:`IN_CR` or
        :data:`NOT_IN_CR`; missing when the cohort has no treatment setting).
    """
    patterns = inputs.spec.patterns
    rule = patterns.prior_chemo_course
    if rule is None:
        raise ValueError("patterns.prior_chemo_course is not set")
    th = therapy_by_person(inputs) if therapy is None else therapy
    prior = th[(th["period"] == "prior") & (th["therapy_class"] == rule.therapy_class)]
    prior = prior.drop_duplicates(["person_id", "group", "start_date", "end_date"])
    cohort = inputs.cohort
    if prior.empty:
        longest = pd.Series(np.nan, index=cohort.index)
    else:
        found = _longest_course(prior, patterns.era_gap_days).rename("_len").reset_index()
        merged = cohort[["person_id", "group"]].merge(found, on=["person_id", "group"], how="left")
        longest = pd.Series(merged["_len"].to_numpy(dtype="float64"), index=cohort.index)
    short, longer, none = course_levels(rule.therapy_class, rule.short_max_days)
    course = np.where(longest.isna(), none, np.where(longest <= rule.short_max_days, short, longer))
    out = cohort.assign(course=course, longest_course_days=longest.to_numpy())
    if "treatment_setting" in cohort:
        out["in_cr"] = np.where(in_cr_at_index(cohort), IN_CR, NOT_IN_CR)
    return out


def prior_chemo_course_table(
    inputs: TherapyInputs, *, therapy: pd.DataFrame | None = None, by: Sequence[str] = ()
) -> pd.DataFrame:
    """Persons per course class, per group (and ``by`` stratum): the classes partition it.

    Returns
    -------
    pandas.DataFrame
        ``group, *by, variable, level, n, denominator, percentage``.
    """
    rule = inputs.spec.patterns.prior_chemo_course
    if rule is None:
        return pd.DataFrame()
    persons = person_courses(inputs, therapy)
    return categorical(
        persons,
        variable=COURSE_VARIABLE,
        column="course",
        levels=course_levels(rule.therapy_class, rule.short_max_days),
        groups=inputs.spec.index_groups,
        by=by,
    )


def cr_by_course_table(
    inputs: TherapyInputs, *, therapy: pd.DataFrame | None = None, by: Sequence[str] = ()
) -> pd.DataFrame:
    """Persons in remission at index or not, within each course class (and ``by`` stratum).

    Returns
    -------
    pandas.DataFrame
        ``group, *by, course, variable, level, n, denominator, percentage``: the denominator
        is the class's persons (its count in :func:`prior_chemo_course_table`); empty when the
        cohort has no treatment setting.
    """
    rule = inputs.spec.patterns.prior_chemo_course
    if rule is None or "treatment_setting" not in inputs.cohort:
        return pd.DataFrame()
    persons = person_courses(inputs, therapy)
    return categorical(
        persons,
        variable=CR_VARIABLE,
        column="in_cr",
        levels=[IN_CR, NOT_IN_CR],
        groups=inputs.spec.index_groups,
        by=[*by, "course"],
    )
