"""The therapy-pattern results as records (:class:`~allrwe.analyses.therapy.TherapyPatterns`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from allrwe.analyses.records import (
    OVERALL,
    categorical_records,
    concat_records,
    empty_records,
    pool_rare,
    status_records,
    summary_table_records,
)
from allrwe.analyses.therapy.chemo_course import COURSE_VARIABLE
from allrwe.analyses.therapy.completion import NO_COMPLETION
from allrwe.analyses.therapy.summary import TherapyPatterns
from allrwe.results import (
    make_records,
    margin_key,
)
from allrwe.results.model import MARGIN_SEPARATOR, TOTAL_PREFIX
from allrwe.spec import CROSSED_THERAPY_BY

__all__ = ["UNRECORDED_CLASS", "therapy_records"]


def _destinations(table: pd.DataFrame) -> pd.DataFrame:
    frame = table.copy()
    by = {"destination": "overall", "destination_by_duration": "duration"}
    by["destination_by_cycles"] = "cycles"
    frame["strata_name"] = frame["variable"].map(by).fillna(frame["variable"])
    frame["strata_level"] = np.where(
        frame["strata_name"] == OVERALL, OVERALL, frame["subgroup"].astype(str)
    )
    # destinations within a cohort stratum (seed 001 Fig. 1: ND and R/R): strata_name "setting"
    if "stratum" in frame:
        stratum = frame["stratum"].fillna("").astype(str)
        own = (stratum != "").to_numpy()
        frame["strata_name"] = np.where(own, stratum, frame["strata_name"])
        frame["strata_level"] = np.where(own, frame["subgroup"].astype(str), frame["strata_level"])
        frame = frame.drop(columns="stratum")
    frame["variable"] = "destination"
    return categorical_records(frame.drop(columns="subgroup"), "destinations")


def _period(table: pd.DataFrame, analysis: str) -> pd.DataFrame:
    """Prior or subsequent therapy records; within ``patterns.therapy_by`` as strata.

    A row of a stratum (``stratum`` set) has that stratum as ``strata_name`` and its level
    (``ND``) as ``strata_level``; classes overlap, so no margin within a table.
    """
    if "stratum" not in table:
        return categorical_records(table, analysis, partition=False)
    frame = table.copy()
    stratum = frame["stratum"].fillna("").astype(str)
    own = (stratum != "").to_numpy()
    frame["strata_name"] = np.where(own, stratum, OVERALL)
    frame["strata_level"] = np.where(own, frame["subgroup"].astype(str), OVERALL)
    return categorical_records(
        frame.drop(columns=["stratum", "subgroup"]), analysis, partition=False
    )


def _stratum_keys(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``strata_name`` and ``strata_level`` of a :func:`_by_strata` table's rows."""
    if "stratum" not in table:
        overall = np.full(len(table), OVERALL, dtype=object)
        return overall, overall.copy()
    stratum = table["stratum"].fillna("").astype(str).to_numpy(dtype=object)
    own = stratum != ""
    level = table["subgroup"].astype(str).to_numpy(dtype=object)
    return np.where(own, stratum, OVERALL), np.where(own, level, OVERALL)


def _chemo_courses(courses: pd.DataFrame, cr: pd.DataFrame) -> pd.DataFrame:
    """Return the records of the course classes and of those in remission at index in each.

    The classes partition each group and stratum (a margin). Within a class the two
    remission levels partition it too: their margin's total is the class's count cell, so
    that a hidden class or remission count cannot be recovered from the other table. The
    remission rows' stratum is ``prior_chemo_course`` crossed after the table's own
    (``setting &&& prior_chemo_course``, level ``ND &&& short-term (≤ 7 days)``).
    """
    if courses.empty:
        return empty_records()
    name, level = _stratum_keys(courses)
    frame = courses.drop(columns=["stratum", "subgroup"], errors="ignore")
    records = categorical_records(
        frame.assign(strata_name=name, strata_level=level), COURSE_VARIABLE
    )
    if cr.empty:
        return records
    base_name, base_level = _stratum_keys(cr)
    course = cr["course"].astype(str).to_numpy(dtype=object)
    cut = CROSSED_THERAPY_BY
    on_overall = base_name == OVERALL
    cr_name = np.where(on_overall, COURSE_VARIABLE, base_name + cut + COURSE_VARIABLE)
    cr_level = np.where(on_overall, course, base_level + cut + course)
    frame = cr.drop(columns=["stratum", "subgroup", "course"], errors="ignore")
    cr_records = categorical_records(
        frame.assign(strata_name=cr_name, strata_level=cr_level), COURSE_VARIABLE
    )
    # the count cell each remission margin adds up to
    totals: dict[tuple[str, str, str, str], str] = {}
    for g, v, n, lv, bn, bl, c in zip(
        cr["group"], cr["variable"], cr_name, cr_level, base_name, base_level, course, strict=True
    ):
        key = margin_key(COURSE_VARIABLE, str(g), str(n), str(lv), str(v))
        totals[(str(g), str(bn), str(bl), str(c))] = TOTAL_PREFIX + key
    out = records.copy()
    margins = out["margin"].to_numpy(dtype=object)
    for i, (g, sn, sl, v, lv, e) in enumerate(
        zip(
            out["group"],
            out["strata_name"],
            out["strata_level"],
            out["variable"],
            out["variable_level"],
            out["estimate_name"],
            strict=True,
        )
    ):
        token = totals.get((g, sn, sl, lv)) if e == "count" and v == COURSE_VARIABLE else None
        if token is not None:
            margins[i] = f"{margins[i]}{MARGIN_SEPARATOR}{token}" if margins[i] else token
    out["margin"] = margins
    return concat_records([out, cr_records])


def _sequences(table: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        return empty_records()
    strata = ("denominator", "denominator_definition")
    return categorical_records(table, "sequences", strata=strata, partition=False)


def _dose_adherence(table: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        return empty_records()
    names = ["n_persons", "n_doses", "n_assessable", "n_within", "percentage"]
    types = ["percentage" if name == "percentage" else "count" for name in names]
    n = len(table)
    # One block of rows per estimate, built and validated at once.
    return make_records(
        analysis="dose_adherence",
        group=np.tile(table["group"].astype(str).to_numpy(dtype=object), len(names)).tolist(),
        variable=np.tile(
            table["concept_set"].astype(str).to_numpy(dtype=object), len(names)
        ).tolist(),
        estimate_name=np.repeat(np.asarray(names, dtype=object), n).tolist(),
        estimate_type=np.repeat(np.asarray(types, dtype=object), n).tolist(),
        value=np.concatenate([table[name].to_numpy(dtype="float64") for name in names]),
    )


#: the reason of a therapy class's "not available" records
UNRECORDED_CLASS = "no record of the therapy class in this CDM"
_CLASS_ANALYSES = {
    "prior_therapy": "prior_therapy",
    "subsequent_therapy": "subsequent_therapy",
    "destination": "destinations",
}


def _unrecorded_classes(table: pd.DataFrame) -> pd.DataFrame:
    """Per group, a "not available" record for each class the CDM holds no record of.

    ``variable`` is the class, ``variable_level`` "not available" (as for an unrecorded
    adverse event): the class's row shows "not available", never 0 %.
    """
    parts = [
        status_records(_CLASS_ANALYSES[str(v)], [str(g)], UNRECORDED_CLASS).assign(
            variable=str(level)
        )
        for g, v, level in zip(table["group"], table["variable"], table["level"], strict=True)
    ]
    return concat_records(parts) if parts else empty_records()


def _no_completion(treatments: pd.DataFrame) -> pd.DataFrame:
    """Return a "not available" ``completion`` record per group with no derivable completion.

    With ``patterns.completion`` set, a group none of whose persons' index treatment has a
    cycle length (CAR-T) gets a destinations record, ``variable`` ``completion``.
    """
    if "completion" not in treatments or treatments.empty:
        return empty_records()
    missing = treatments["completion"].isna().groupby(treatments["group"].astype(str)).all()
    groups = [str(g) for g, none in missing.items() if none]
    if not groups:
        return empty_records()
    return status_records("destinations", groups, NO_COMPLETION).assign(variable="completion")


def therapy_records(patterns: TherapyPatterns, *, min_cell_count: int = 1) -> pd.DataFrame:
    """Return the records of every treatment-pattern result (not the person-level frames).

    Analyses: ``prior_therapy``, ``subsequent_therapy`` (classes overlap: no margin; also
    within each of ``patterns.therapy_by`` as a stratum),
    ``destinations`` (by duration bucket and by cycles as strata; with
    ``patterns.completion`` also among those who completed the index treatment, strata
    ``completion`` and ``setting &&& completion``; ``index_completion``: persons who
    completed the index treatment, overall and by ``setting``), ``sequences`` (two
    denominators as strata), ``cycles``, ``duration_buckets``, ``duration`` (summary
    statistics), ``line_at_index``, ``line_regimens`` (line as stratum) and
    ``dose_adherence``; with ``patterns.prior_chemo_course``, ``prior_chemo_course`` (the
    course classes, and the persons in remission at index within each: :func:`_chemo_courses`).
    Destination subgroups are linked to the cycle and duration cells they
    add up to, so that a hidden cell cannot be recovered across the two tables. Regimens of
    fewer than ``min_cell_count`` persons are pooled per line (:func:`pool_rare`).
    """
    regimens = pool_rare(
        patterns.line_regimens,
        keys=["group", "line", "variable"],
        level="level",
        count="n",
        min_cell_count=min_cell_count,
    )
    parts = [
        _period(patterns.prior_therapy, "prior_therapy"),
        _period(patterns.subsequent_therapy, "subsequent_therapy"),
        _destinations(patterns.destinations),
        _sequences(patterns.sequences),
        categorical_records(patterns.cycles, "cycles"),
        categorical_records(patterns.duration_buckets, "duration_buckets"),
        summary_table_records(patterns.duration_summary, "duration"),
        categorical_records(patterns.line_at_index, "line_at_index"),
        categorical_records(regimens, "line_regimens", strata=("line", "line")),
        _dose_adherence(patterns.dose_adherence),
        _unrecorded_classes(patterns.unrecorded_classes),
        _no_completion(patterns.index_treatments),
        categorical_records(patterns.completion, "index_completion"),
        _chemo_courses(patterns.prior_chemo_course, patterns.cr_by_course),
    ]
    records = concat_records(parts)
    links = {"cycles": "cycles", "duration": "duration_buckets"}
    return _link_subgroup_totals(records, "destinations", links)


def _link_subgroup_totals(
    records: pd.DataFrame, analysis: str, links: Mapping[str, str]
) -> pd.DataFrame:
    """Mark the count cell each stratum's margin adds up to as that margin's total."""
    out = records.copy()
    margins = out["margin"].to_numpy(dtype=object)
    index = {
        (a, g, lv): i
        for i, (a, g, v, lv, e, sn) in enumerate(
            zip(
                out["analysis"],
                out["group"],
                out["variable"],
                out["variable_level"],
                out["estimate_name"],
                out["strata_name"],
                strict=True,
            )
        )
        if e == "count" and sn == OVERALL and a in links.values()
    }
    members = out[(out["analysis"] == analysis) & (out["margin"] != "")]
    seen: set[str] = set()
    for g, sn, sl, key in zip(
        members["group"],
        members["strata_name"],
        members["strata_level"],
        members["margin"],
        strict=True,
    ):
        target = index.get((links.get(sn, ""), g, sl))
        if target is None or key in seen:
            continue
        seen.add(key)
        token = TOTAL_PREFIX + key
        margins[target] = (
            f"{margins[target]}{MARGIN_SEPARATOR}{token}" if margins[target] else token
        )
    out["margin"] = margins
    return out
