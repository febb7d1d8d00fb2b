"""The pathways as records: persons per pathway, per group and per stratum."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from allrwe.analyses.outcomes.strata import OVERALL, age_band_labels
from allrwe.analyses.pathways.result import PathwayResult, count_pathways
from allrwe.analyses.records import (
    concat_records,
    drop_single_member_margins,
    pool_rare,
    pooled_label,
    status_records,
)
from allrwe.analyses.therapy import NO_COMPLETION
from allrwe.results import percentage_records
from allrwe.spec import (
    StudySpec,
)

__all__ = ["pathway_records", "pathway_strata"]

_SEX = {8507: "male", 8532: "female"}
#: strata that are columns of the cohort (its status classification at index)
_COHORT_STRATA = ("setting", "treatment_setting")
_COMPLETION = "completion"
_CROSSED = " &&& "


def pathway_strata(
    cohort: pd.DataFrame, spec: StudySpec, *, completion: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Return ``group, person_id`` and a column per ``spec.pathways.by`` stratum.

    ``age_band`` uses ``spec.age_bands`` (the labels of every other table), ``sex`` the
    gender concept (8507 male, 8532 female), ``index_year`` the year of the index date;
    ``setting`` (``ND``/``RR``) and ``treatment_setting`` are the cohort's classification at
    index, the levels of every other table's ``setting`` strata (a missing one ``unknown``).
    ``completion`` is ``completion``'s column of that name
    (:func:`allrwe.analyses.therapy.index_completion`: ``completed``/``not completed``,
    missing where it cannot be derived, and such persons are left out of its cuts); with
    ``setting`` or ``treatment_setting`` also in ``by``, each is crossed with it
    (``setting &&& completion``, levels ``RR &&& completed``: seed 001's "R/R patients
    completing blinatumomab") and completion alone is then not cut (see the code's note).
    """
    out = cohort[["group", "person_id"]].copy()
    for name in spec.pathways.by:
        if name == _COMPLETION:
            continue
        if name == "age_band":
            out[name] = age_band_labels(cohort["age_at_index"], spec.age_bands).to_numpy()
        elif name == "sex":
            out[name] = cohort["gender_concept_id"].map(_SEX).fillna("unknown").to_numpy()
        elif name in _COHORT_STRATA:
            values = cohort[name] if name in cohort else pd.Series(None, index=cohort.index)
            out[name] = values.astype("object").where(values.notna(), "unknown").astype(str)
        else:
            out[name] = pd.to_datetime(cohort["index_date"]).dt.year.astype(str).to_numpy()
    out = out.drop_duplicates(["group", "person_id"])
    if _COMPLETION not in spec.pathways.by:
        return out
    done = (
        completion
        if completion is not None
        else pd.DataFrame(columns=["person_id", "group", _COMPLETION])
    )
    done = done[["person_id", "group", _COMPLETION]].drop_duplicates(["group", "person_id"])
    out = out.merge(done, on=["group", "person_id"], how="left")
    crossed = [n for n in spec.pathways.by if n in _COHORT_STRATA]
    for name in crossed:
        level = out[name].astype(str) + _CROSSED + out[_COMPLETION].astype(str)
        out[f"{name}{_CROSSED}{_COMPLETION}"] = level.where(out[_COMPLETION].notna(), None)
    # crossed, completion alone is left out: its levels and the crossed ones make a two-way
    # table whose complementary suppression hid 28 of 30 crossed cells and every setting cell
    # of the seed 001 example (20k-person emr CDM); without it, 1-D margins per setting
    return out.drop(columns=_COMPLETION) if crossed else out


def pathway_records(
    results: Mapping[str, PathwayResult | None],
    *,
    min_cell_count: int = 1,
    strata: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Persons per pathway (untreated as ``"None"``) with percentages, per group and stratum.

    Pathways of fewer than ``min_cell_count`` persons of the group are pooled
    (:func:`pool_rare`); the pathways of a group (or of one stratum level) add up to its
    persons (a margin). ``strata`` (:func:`pathway_strata`) adds the same counts within each
    level of each of its stratum columns, with the group's own list: a pathway the group
    lists keeps its row in every level where it occurs, however few persons (suppression
    hides a small one), and a pathway the group pools is pooled in every level. A level
    therefore never pools a pathway the group publishes, which the group's count minus the
    other levels' counts would give back; the levels of each pathway add up to the group's
    row, a link suppression protects (:func:`allrwe.results.links.declare_links`).
    """
    parts = []
    statuses = []  # "not available" records, outside the count tables
    for group, result in results.items():
        if result is None:
            continue
        patients = result.patients
        overall = count_pathways(patients, include_none=True)
        pooled = set(overall.loc[overall["n_persons"] < min_cell_count, "pathway"].astype(str))
        cuts: list[tuple[str, str, pd.DataFrame]] = [(OVERALL, OVERALL, patients)]
        if strata is not None:
            mine = strata[strata["group"] == group].drop(columns="group")
            joined = patients.merge(mine, on="person_id", how="left")
            for name in [c for c in mine.columns if c != "person_id"]:
                rows, values = joined, joined[name]
                if _COMPLETION in name:  # left out where it cannot be derived, never "unknown"
                    rows, values = joined[values.notna()], values[values.notna()]
                levels = values.fillna("unknown").astype(str)
                for level in sorted(set(levels)):
                    cuts.append((name, level, rows[levels == level]))
            done = [c for c in mine.columns if _COMPLETION in c]
            if done and mine[done[0]].isna().all():
                statuses.append(
                    status_records("pathways", [group], NO_COMPLETION).assign(variable=_COMPLETION)
                )
        for strata_name, strata_level, rows in cuts:
            counts = count_pathways(rows, include_none=True)
            if counts.empty:
                continue
            parts.append(
                _counts_table(counts, group, strata_name, strata_level, min_cell_count, pooled)
            )
    if not parts:
        return concat_records(statuses)
    # one set of records for every group and stratum: each (group, stratum) is its own
    # margin with its own denominator, and validation sorts the records by their keys
    table = pd.concat(parts, ignore_index=True)
    records = percentage_records(table, analysis="pathways", denominator="total")
    return concat_records([drop_single_member_margins(records), *statuses])


def _counts_table(
    counts: pd.DataFrame,
    group: str,
    strata_name: str,
    strata_level: str,
    min_cell_count: int,
    pooled: set[str],
) -> pd.DataFrame:
    """Return one cut's persons per pathway, ``pooled`` (the group's) pooled, with its total."""
    total = int(counts["n_persons"].sum())
    table = pd.DataFrame(
        {
            "group": group,
            "strata_name": strata_name,
            "strata_level": strata_level,
            "variable": "pathway",
            "variable_level": counts["pathway"].astype(str),
            "count": counts["n_persons"].to_numpy(dtype="int64"),
        }
    )
    if strata_name == OVERALL:
        table = pool_rare(
            table,
            keys=["group", "strata_name", "strata_level", "variable"],
            level="variable_level",
            count="count",
            min_cell_count=min_cell_count,
        )
    else:
        rare = table["variable_level"].isin(pooled)
        if rare.any():
            other = (
                table[rare]
                .iloc[:1]
                .assign(
                    variable_level=pooled_label(min_cell_count),
                    count=int(table.loc[rare, "count"].sum()),
                )
            )
            table = pd.concat([table[~rare], other], ignore_index=True)
    return table.assign(total=float(total))
