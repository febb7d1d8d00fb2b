"""Table 1: baseline characteristics by index group and stratum, as long records.

:func:`summarise_baseline` returns records in the shape of :mod:`allrwe.results` (analysis
``"baseline"``), in display order; :func:`allrwe.analyses.baseline.display.table_one` turns
them into the familiar wide table.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from allrwe.analyses.baseline.records import (
    OVERALL,
    PERSONS,
    Cell,
    add_margins,
    cells_frame,
)
from allrwe.analyses.baseline.registry import resolve_variables
from allrwe.analyses.baseline.statistics import (
    ContinuousSummary,
    kth_range,
    proportions,
    smd_categorical,
    smd_continuous,
    summarise_continuous,
)
from allrwe.analyses.baseline.units import (
    STRATUM_VARIABLES,
    StratumSpec,
    UnitValues,
    build_variables,
    collect_values,
    columns,
    strata_masks,
    stratum_parts,
    table_strata,
)
from allrwe.analyses.baseline.variables import BaselineContext, BaselineVariable
from allrwe.analyses.entry import CdmRows
from allrwe.analyses.records import WITHHELD_ESTIMATES, significant
from allrwe.cohort import Cohort
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.results.model import PAIR_SEPARATOR
from allrwe.spec import StudySpec

__all__ = ["ANALYSIS", "summarise_baseline"]

#: the ``analysis`` of the baseline records
ANALYSIS = "baseline"

_Summary = ContinuousSummary | np.ndarray


@dataclass(frozen=True)
class _Key:
    group: str
    strata_name: str
    strata_level: str

    def cell(
        self, variable: str, level: str, name: str, kind: str, value: float, **flags: bool
    ) -> Cell:
        return Cell(
            ANALYSIS,
            self.group,
            self.strata_name,
            self.strata_level,
            variable,
            level,
            name,
            kind,
            float(value),
            **flags,
        )


def _pct(count: float, denominator: float) -> float:
    return 100.0 * count / denominator if denominator > 0 else float("nan")


#: estimate names of the k-th range (:func:`~allrwe.analyses.baseline.statistics.kth_range`)
RANGE_ESTIMATES = ("range_low", "range_high")


def _continuous_cells(
    key: _Key, var: BaselineVariable, x: np.ndarray, k: int
) -> tuple[list[Cell], _Summary]:
    s = summarise_continuous(x)
    cells = [
        key.cell(var.name, OVERALL, "count", "count", s.n, partition=True),
        key.cell(var.name, "missing", "count", "count", s.n_missing, partition=True),
    ]
    for name, value in s.estimates().items():
        if name in WITHHELD_ESTIMATES:
            continue
        shown = significant(value) if name in ("mean", "sd") else value
        cells.append(key.cell(var.name, OVERALL, name, "numeric", shown))
    bounds = kth_range(x, k)
    if bounds is not None:
        for name, value in zip(RANGE_ESTIMATES, bounds, strict=True):
            cells.append(key.cell(var.name, OVERALL, name, "numeric", value))
    return cells, s


def _level_cells(
    key: _Key, var: BaselineVariable, counts: np.ndarray, n: int, *, partition: bool
) -> list[Cell]:
    cells = []
    for level, count in zip(var.levels, counts, strict=True):
        if level in var.unavailable:
            # no count: the CDM records this level for no one (see NOT_AVAILABLE)
            cells.append(key.cell(var.name, level, "status", "character", float("nan")))
            continue
        cells.append(key.cell(var.name, level, "count", "count", count, partition=partition))
        cells.append(key.cell(var.name, level, "percentage", "percentage", _pct(count, n)))
    return cells


def variable_arrays(values: UnitValues, var: BaselineVariable) -> np.ndarray:
    """Return a variable's values per unit in the form its cells are counted from.

    Parameters
    ----------
    values : UnitValues
        Values per cohort row.
    var : BaselineVariable
        The variable.

    Returns
    -------
    numpy.ndarray
        Continuous: the floats (NaN = missing). Categorical: each unit's index into
        ``var.levels`` (its first occurrence; -1 for a value that is not a level). Multi: a
        boolean matrix, one column per level.
    """
    frame = values.frame
    if var.kind == "continuous":
        return frame[var.name].to_numpy(dtype="float64")
    if var.kind == "multi":
        columns = [frame[values.multi_column(var.name, lv)].to_numpy() for lv in var.levels]
        return np.column_stack(columns).astype(bool) if columns else np.zeros((len(frame), 0), bool)
    level = frame[var.name].to_numpy(dtype=object)
    codes = np.full(level.shape, -1, dtype="int64")
    for i, lv in enumerate(var.levels):
        codes[(level == lv) & (codes < 0)] = i
    return codes


def _variable_cells(
    key: _Key, var: BaselineVariable, array: np.ndarray, mask: np.ndarray, k: int
) -> tuple[list[Cell], _Summary]:
    n = int(mask.sum())
    if var.kind == "continuous":
        return _continuous_cells(key, var, array[mask], k)
    if var.kind == "multi":
        counts = array[mask].sum(axis=0).astype("int64")
        return _level_cells(key, var, counts, n, partition=False), counts
    codes = array[mask]
    first = [var.levels.index(lv) for lv in var.levels]  # a repeated level counts again
    counts = np.bincount(codes[codes >= 0], minlength=len(var.levels))[first]
    return _level_cells(key, var, counts, n, partition=True), counts


def _withheld(counts: Sequence[float], min_cell_count: int) -> bool:
    """Whether an SMD would reveal a count that suppression hides (``1 <= n < min``)."""
    return any(1 <= c < min_cell_count for c in counts)


#: the level of a categorical variable that holds the persons without a value
NO_VALUE_LEVEL = "unknown"


def _without_value(var: BaselineVariable, *counts: np.ndarray) -> bool:
    """Whether nobody of the groups compared has a value: all are in :data:`NO_VALUE_LEVEL`.

    Both distributions are then "100 % unknown" and the formula gives 0, which would read
    as "balanced": the SMD is not estimable (NaN), as for a continuous variable nobody has.
    A variable whose default level is a value ("no", "none recorded") is never so.
    """
    if var.default != NO_VALUE_LEVEL or var.default not in var.levels:
        return False
    known = [i for i, level in enumerate(var.levels) if level != var.default]
    return all(not np.asarray(c, dtype="float64")[known].any() for c in counts)


def _smd_cells(
    var: BaselineVariable,
    pair: tuple[str, str],
    stratum: tuple[str, str],
    summaries: Mapping[str, _Summary],
    sizes: Mapping[str, int],
    min_cell_count: int,
) -> list[Cell]:
    a, b = pair
    key = _Key(f"{a}{PAIR_SEPARATOR}{b}", *stratum)
    sa, sb = summaries[a], summaries[b]
    if var.unavailable and set(var.levels) <= set(var.unavailable):
        return []
    if isinstance(sa, ContinuousSummary) and isinstance(sb, ContinuousSummary):
        hidden = _withheld([sa.n, sb.n, sa.n_missing, sb.n_missing], min_cell_count)
        smd = float("nan") if hidden else smd_continuous(sa.mean, sa.sd, sb.mean, sb.sd)
        return [key.cell(var.name, OVERALL, "smd", "numeric", smd)]
    ca, cb = np.asarray(sa, dtype="float64"), np.asarray(sb, dtype="float64")
    unknown = _without_value(var, ca, cb)
    if var.kind != "multi":
        hidden = _withheld([*ca, *cb], min_cell_count)
        smd = (
            float("nan") if hidden or unknown else smd_categorical(proportions(ca), proportions(cb))
        )
        return [key.cell(var.name, OVERALL, "smd", "numeric", smd)]
    cells = []
    for level, xa, xb in zip(var.levels, ca, cb, strict=True):
        if level in var.unavailable:
            continue
        pa = np.array([sizes[a] - xa, xa])
        pb = np.array([sizes[b] - xb, xb])
        hidden = _withheld([*pa, *pb], min_cell_count) or unknown
        smd = float("nan") if hidden else smd_categorical(proportions(pa), proportions(pb))
        cells.append(key.cell(var.name, level, "smd", "numeric", smd))
    return cells


def _cells(
    values: UnitValues,
    reported: Sequence[BaselineVariable],
    groups: Sequence[str],
    strata: Sequence[StratumSpec],
    min_cell_count: int,
    range_k: int,
) -> list[Cell]:
    cols = columns(values.frame, groups)
    pairs = list(itertools.combinations(list(groups), 2))
    arrays = {var.name: variable_arrays(values, var) for var in reported}
    cells: list[Cell] = []
    for stratum, in_stratum in strata_masks(values, strata):
        summaries: dict[str, dict[str, _Summary]] = {v.name: {} for v in reported}
        sizes: dict[str, int] = {}
        for group, in_group in cols:
            mask = in_group & in_stratum
            key = _Key(group, *stratum)
            sizes[group] = int(mask.sum())
            cells.append(key.cell(PERSONS, OVERALL, "count", "count", sizes[group]))
            for var in reported:
                found, summary = _variable_cells(key, var, arrays[var.name], mask, range_k)
                cells.extend(found)
                summaries[var.name][group] = summary
        for var, pair in itertools.product(reported, pairs):
            cells.extend(_smd_cells(var, pair, stratum, summaries[var.name], sizes, min_cell_count))
    return cells


def summarise_baseline(
    source: CdmSource, vocab: Vocabulary, cohort: Cohort, spec: StudySpec
) -> pd.DataFrame:
    """Baseline characteristics (Table 1) by index group and stratum, as long records.

    Parameters
    ----------
    source : CdmSource
        The CDM the cohort was built on.
    vocab : Vocabulary
        Concept sets in force.
    cohort : Cohort
        The study cohort.
    spec : StudySpec
        The study specification: ``baseline`` (variables, labs, lab window), ``strata``,
        ``age_bands`` and ``min_cell_count`` (SMDs that would reveal a small count are NaN).

    Returns
    -------
    pandas.DataFrame
        Records (``analysis="baseline"``) in display order: per group (spec order, then
        ``overall``: each person once, at their earliest index date) and stratum (``overall``,
        then each level of each ``strata`` entry, then of each ``crossed_strata`` entry, named
        ``"a &&& b"`` with levels ``"x &&& y"``), the persons (``variable="persons"``), then
        per variable: ``count`` (non-missing), ``count`` of ``missing``, ``mean, sd, median,
        q25, q75`` and the k-th range ``range_low, range_high`` (k = ``min_cell_count``
        whatever the suppression policy; the minimum and maximum are withheld) for
        continuous variables; ``count`` and ``percentage`` of every level for categorical
        ones; ``smd`` per pair of groups (``group="A vs B"``). Count
        records carry suppression margins.

    Raises
    ------
    StudySpecError
        ``baseline.variables`` names an unknown variable, or ``baseline.labs`` a set that is
        not a measurement.
    AnalysisError
        An index group is named ``overall``.

    Notes
    -----
    Record-level work (nearest labs, prior therapies, statuses) runs in the engine; one row
    per cohort row and variable comes back, and the statistics are computed in NumPy.
    """
    ctx = BaselineContext(source, vocab, cohort, spec)
    names = resolve_variables(spec)
    reported = build_variables(ctx, names)
    reported_names = {v.name for v in reported}
    strata = table_strata(spec)
    extra = [
        STRATUM_VARIABLES[s]
        for s in stratum_parts(strata)
        if s != "group" and STRATUM_VARIABLES[s] not in reported_names
    ]
    strata_vars = build_variables(ctx, list(dict.fromkeys(extra)))
    values = collect_values(ctx, [*reported, *strata_vars])
    groups = list(spec.index_groups)
    cells = _cells(values, reported, groups, strata, spec.hides_below, spec.min_cell_count)
    disjoint = bool(values.frame["person_id"].is_unique)
    return add_margins(cells_frame(cells), groups_disjoint=disjoint)


def analyse_baseline(cohort: Cohort, spec: StudySpec, rows: CdmRows) -> pd.DataFrame:
    """Table 1 of the cohort as long records (the entry point, :mod:`allrwe.analyses.entry`)."""
    return summarise_baseline(rows.source, rows.vocab, cohort, spec)
