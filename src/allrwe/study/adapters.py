"""Adapters: the output of each analysis turned into result records (one function per analysis).

The analyses return tidy pandas frames; the results layer wants long records (see
``docs/results-model.md``). Every function here is the one place where the runner meets one
analysis, so a change in an analysis's output touches one function. Margins are declared only
where the equation holds exactly (checked), so that complementary suppression protects them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from allrwe.analyses.patterns import TreatmentPatterns
from allrwe.results import (
    count_records,
    make_records,
    percentage_records,
    summary_records,
    validate_records,
)
from allrwe.results.model import MARGIN_SEPARATOR, TOTAL_PREFIX, pooled_label

__all__ = [
    "NOT_AVAILABLE",
    "as_records",
    "attrition_records",
    "cohort_records",
    "concat_records",
    "drop_single_member_margins",
    "empty_records",
    "link_attrition",
    "pattern_records",
    "pool_rare",
    "pooled_label",
    "status_records",
]

#: ``variable_level`` of the status record of an analysis the data cannot support
NOT_AVAILABLE = "not available"

_OVERALL = "overall"


def as_records(frame: pd.DataFrame) -> pd.DataFrame:
    """Return an analysis's records in canonical form (``suppressed`` False when absent)."""
    out = frame.copy()
    if "suppressed" not in out.columns:
        out["suppressed"] = False
    if "margin" not in out.columns:
        out["margin"] = ""
    values = pd.to_numeric(out["value"], errors="coerce")
    # An infinite estimate (a Cox HR limit of a separated model) is not estimable; the JSON
    # export cannot carry infinities.
    out["value"] = values.where(~np.isinf(values), np.nan)
    return validate_records(out)


def empty_records() -> pd.DataFrame:
    """Return a records table with no rows."""
    return make_records(analysis=[], estimate_name=[], value=[])


def status_records(analysis: str, groups: Sequence[str], reason: str) -> pd.DataFrame:
    """Return records saying ``analysis`` is not available (one per group), with the reason.

    Parameters
    ----------
    analysis : str
        The analysis name.
    groups : sequence of str
        The index groups.
    reason : str
        Why, e.g. ``"no bone-marrow blast measurement in the CDM"``; kept in the
        ``strata_level`` so the report can show it.

    Returns
    -------
    pandas.DataFrame
        Records with ``variable="status"``, ``variable_level="not available"`` and a NaN
        ``character`` estimate (a reader sees "not available", never 0).
    """
    groups = list(groups) or [_OVERALL]
    return make_records(
        analysis=analysis,
        group=groups,
        strata_name="reason",
        strata_level=reason.replace(MARGIN_SEPARATOR, "/"),
        variable="status",
        variable_level=NOT_AVAILABLE,
        estimate_name="status",
        estimate_type="character",
        value=[np.nan] * len(groups),
    )


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


def _categorical(
    table: pd.DataFrame,
    analysis: str,
    *,
    strata: tuple[str, str | None] | None = None,
    level: str = "level",
    partition: bool = True,
) -> pd.DataFrame:
    """Count and percentage records of a ``group, variable, level, n, denominator`` table."""
    if table.empty:
        return empty_records()
    frame = table.rename(columns={level: "variable_level"}).copy()
    if strata is not None:
        name, column = strata
        frame["strata_name"] = name
        frame["strata_level"] = frame[column].astype(str) if column else _OVERALL
    margin = partition and _adds_up(frame)
    records = percentage_records(
        frame, analysis=analysis, denominator="denominator", count_column="n", margin=margin
    )
    return drop_single_member_margins(records) if margin else records


def drop_single_member_margins(records: pd.DataFrame) -> pd.DataFrame:
    """Drop margins of one cell: the cell equals its total, so the margin protects nothing."""
    margins = records["margin"].astype(str)
    sizes = margins[margins != ""].value_counts()
    single = set(sizes[sizes == 1].index)
    out = records.copy()
    out["margin"] = ["" if m in single else m for m in margins]
    return out


def _adds_up(frame: pd.DataFrame) -> bool:
    keys = [c for c in ("group", "strata_name", "strata_level", "variable") if c in frame]
    sums = frame.groupby(keys, sort=False).agg(n=("n", "sum"), d=("denominator", "max"))
    dens = frame.groupby(keys, sort=False)["denominator"].nunique()
    return bool((sums["n"] == sums["d"]).all() and (dens == 1).all())


def _summary(table: pd.DataFrame, analysis: str) -> pd.DataFrame:
    if table.empty:
        return empty_records()
    frame = table.rename(columns={"n": "count", "q1": "q25", "q3": "q75"})
    return summary_records(frame, analysis=analysis)


def _destinations(table: pd.DataFrame) -> pd.DataFrame:
    frame = table.copy()
    by = {"destination": "overall", "destination_by_duration": "duration"}
    by["destination_by_cycles"] = "cycles"
    frame["strata_name"] = frame["variable"].map(by).fillna(frame["variable"])
    frame["strata_level"] = np.where(
        frame["strata_name"] == _OVERALL, _OVERALL, frame["subgroup"].astype(str)
    )
    # destinations within a cohort stratum (seed 001 Fig. 1: ND and R/R): strata_name "setting"
    if "stratum" in frame:
        stratum = frame["stratum"].fillna("").astype(str)
        own = (stratum != "").to_numpy()
        frame["strata_name"] = np.where(own, stratum, frame["strata_name"])
        frame["strata_level"] = np.where(own, frame["subgroup"].astype(str), frame["strata_level"])
        frame = frame.drop(columns="stratum")
    frame["variable"] = "destination"
    return _categorical(frame.drop(columns="subgroup"), "destinations")


def _sequences(table: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        return empty_records()
    strata = ("denominator", "denominator_definition")
    return _categorical(table, "sequences", strata=strata, partition=False)


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


def pattern_records(patterns: TreatmentPatterns, *, min_cell_count: int = 1) -> pd.DataFrame:
    """Return the records of every treatment-pattern result (not the person-level frames).

    Analyses: ``prior_therapy``, ``subsequent_therapy`` (classes overlap: no margin),
    ``destinations`` (by duration bucket and by cycles as strata), ``sequences`` (two
    denominators as strata), ``cycles``, ``duration_buckets``, ``duration`` (summary
    statistics), ``line_at_index``, ``line_regimens`` (line as stratum) and
    ``dose_adherence``. Destination subgroups are linked to the cycle and duration cells they
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
        _categorical(patterns.prior_therapy, "prior_therapy", partition=False),
        _categorical(patterns.subsequent_therapy, "subsequent_therapy", partition=False),
        _destinations(patterns.destinations),
        _sequences(patterns.sequences),
        _categorical(patterns.cycles, "cycles"),
        _categorical(patterns.duration_buckets, "duration_buckets"),
        _summary(patterns.duration_summary, "duration"),
        _categorical(patterns.line_at_index, "line_at_index"),
        _categorical(regimens, "line_regimens", strata=("line", "line")),
        _dose_adherence(patterns.dose_adherence),
        _unrecorded_classes(patterns.unrecorded_classes),
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
        if e == "count" and sn == _OVERALL and a in links.values()
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


def pool_rare(
    table: pd.DataFrame, *, keys: Sequence[str], level: str, count: str, min_cell_count: int
) -> pd.DataFrame:
    """Pool the levels of an open-ended list counted below ``min_cell_count`` into one level.

    Only levels that occur are listed in such lists, so each is at least 1; were they all
    suppressed, their number and the published total could still pin every one of them. The
    pooled level is counted like any other (and suppressed if small).
    """
    if table.empty or min_cell_count <= 1:
        return table
    rare = table[count] < min_cell_count
    if not rare.any():
        return table
    label = pooled_label(min_cell_count)
    pooled = (
        table[rare].groupby(list(keys), sort=False, as_index=False).agg(**{count: (count, "sum")})
    )
    pooled[level] = label
    for column in table.columns:
        if column not in pooled.columns:
            pooled[column] = table.loc[rare, column].iloc[0]
    return pd.concat([table[~rare], pooled[table.columns]], ignore_index=True)


def concat_records(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate record tables (empty ones skipped) into one canonical table."""
    frames = [p for p in parts if len(p)]
    if not frames:
        return empty_records()
    return validate_records(pd.concat(frames, ignore_index=True))
