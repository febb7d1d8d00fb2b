"""The attacker: bound every hidden count of a published result set by linear programming.

An attacker who reads an output folder knows more than the cells shown: counts add up along
declared and inferable margins, percentages tie counts to denominators, Kaplan-Meier steps
tie deaths to risk sets, landmark rates bound the events before them, and SMDs are
functions of counts. :func:`attack` writes all of that as one linear system over the hidden
counts (integers >= 0) and bounds each hidden count with HiGHS (``scipy.optimize.milp``). A
hidden count that the system pins inside ``(0, min_cell_count)`` is a *leak*.

Published rates are rounded (ten significant digits in the exports), so each rate gives an
interval, never an exact equality. See ``docs/results-model.md`` (the attacker).

The modules: :mod:`~allrwe.results.attack.system` (the system and reading records into it),
:mod:`~allrwe.results.attack.tables` and :mod:`~allrwe.results.attack.curves` and
:mod:`~allrwe.results.attack.smd` (the constraint families), :mod:`~allrwe.results.attack.solve`
(bounding by propagation and programmes), :mod:`~allrwe.results.attack.findings` (leaks and
the report); this one runs the attack and tells the repair what gives a leak away.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from allrwe.results.attack.curves import (
    _add_report,
    _cif_landmarks,
    _curves,
    _landmarks,
)
from allrwe.results.attack.findings import AttackReport, Leak, record_name
from allrwe.results.attack.smd import _smd
from allrwe.results.attack.solve import (
    _families,
    _propagate,
    _signature,
    _solve_components,
    _split,
)
from allrwe.results.attack.system import (
    CURVE_ANALYSES,
    FAMILIES,
    NESTED_RESPONSE,
    Cell,
    Key,
    Layout,
    _base,
    _load,
    _System,
)
from allrwe.results.attack.tables import _attrition, _margins, _nested, _rates, _strata
from allrwe.results.model import PAIR_SEPARATOR

if TYPE_CHECKING:
    from allrwe.results.published import FigureNumber

__all__ = [
    "CURVE_ANALYSES",
    "FAMILIES",
    "NESTED_RESPONSE",
    "AttackReport",
    "Exposure",
    "Layout",
    "Leak",
    "attack",
    "blocks",
    "expose",
    "exposing",
    "record_name",
]


def _build(
    records: pd.DataFrame, report: pd.DataFrame | None = None, layout: Layout | None = None
) -> tuple[_System, dict[Cell, dict[str, float]]]:
    system, numeric, counts = _load(records, layout)
    _add_report(system, numeric, report)
    _margins(system, counts)
    _strata(system, counts)
    _rates(system, numeric, counts)
    _attrition(system)
    _nested(system)
    _curves(system, numeric)
    _landmarks(system, numeric)
    _cif_landmarks(system, numeric)
    return system, numeric


def attack(
    records: pd.DataFrame,
    min_cell_count: int,
    *,
    report: pd.DataFrame | None = None,
    figures: Sequence[FigureNumber] = (),
    cache: dict[bytes, Any] | None = None,
) -> AttackReport:
    """Bound every hidden count of a published records table.

    Parameters
    ----------
    records : pandas.DataFrame
        Published records (the columns of :data:`allrwe.results.model.COLUMNS`); a count
        whose ``value`` is NaN is hidden.
    min_cell_count : int
        Hidden counts pinned in ``1 .. min_cell_count - 1`` are leaks.
    report : pandas.DataFrame, optional
        Curve values the HTML report draws (:func:`allrwe.results.published.report_curves`),
        used where the results files publish none.
    figures : sequence of FigureNumber, optional
        The numbers the report's inline SVG figures print
        (:func:`allrwe.results.published.figure_numbers`): each must be a published count
        of a curve (family ``unpublished`` otherwise) of at least ``min_cell_count``
        (family ``figure`` otherwise); either is reported as a leak.
    cache : dict, optional
        Bounds of the system's parts solved before, by a digest of all they depend on (see
        :func:`_attack`), e.g. by the suppression of the same run; parts met unchanged are
        not solved again, and the parts solved here are added.

    Returns
    -------
    AttackReport
    """
    report_, _, _ = _attack(records, min_cell_count, report, cache)
    shown = _figure_leaks(records, min_cell_count, figures)
    if not shown:
        return report_
    leaks = tuple(sorted((*report_.leaks, *shown), key=lambda x: x.record))
    return dataclasses.replace(report_, leaks=leaks)


def _figure_leaks(
    records: pd.DataFrame, min_cell_count: int, figures: Sequence[FigureNumber]
) -> list[Leak]:
    """Check every number a figure prints against the published counts of the curves."""
    if not figures:
        return []
    curve = records["analysis"].astype(str).str.startswith(CURVE_FAMILIES).to_numpy()
    count = (records["estimate_type"] == "count").to_numpy()
    values = records["value"].to_numpy(dtype="float64")[curve & count]
    published = {float(v) for v in values[~np.isnan(values)].tolist()}
    out = []
    for number in figures:
        value = number.value
        if value is None:
            if any(ch.isdigit() for ch in number.text):
                out.append(Leak(number.name(), -1, -1, ("unpublished",)))
            continue
        if 1 <= value < min_cell_count:
            out.append(Leak(number.name(), value, value, ("figure",)))
        elif value > 0 and float(value) not in published:
            out.append(Leak(number.name(), value, value, ("figure", "unpublished")))
    return out


#: the analyses whose counts a figure's number-at-risk table prints
CURVE_FAMILIES = ("survival", "cumulative_incidence")


def _attack(
    records: pd.DataFrame,
    min_cell_count: int,
    report: pd.DataFrame | None,
    cache: dict[bytes, Any] | None = None,
    layout: Layout | None = None,
) -> tuple[AttackReport, _System, set[int]]:
    """Run the attack; return its report, the system and the leaked variables.

    ``cache`` keeps each solved component's bounds by its signature (:func:`_signature`): a
    component met again, unchanged, is not solved again.
    """
    started = time.perf_counter()
    system, numeric = _build(records, report, layout)
    _smd(system, numeric)
    leaks: list[Leak] = []
    leaked: set[int] = set()
    inconsistent = set(system.contradicted)
    lb, ub = _propagate(system, cache=cache)
    if (lb > ub).any():
        inconsistent.add("propagation")
    recovered = [
        record_name((system.origin.get(key, key[0]), *key[1:]))
        for key, j in system.var.items()
        if system.hidden[j] and lb[j] == ub[j] >= min_cell_count
    ]
    families: dict[int, tuple[str, ...]] | None = None  # read only for a leak
    hidden = np.asarray(system.hidden, dtype=bool)
    # a component without a hidden count that may be non-zero cannot leak
    comps = list(_split(system, lb, ub, np.flatnonzero(hidden & (ub >= 1))))
    masks = [hidden[comp.columns] for comp in comps]
    signatures = [
        _signature(comp, mask, min_cell_count) if cache is not None else b""
        for comp, mask in zip(comps, masks, strict=True)
    ]
    todo = [i for i, s in enumerate(signatures) if cache is None or s not in cache]
    fresh = _solve_components([comps[i] for i in todo], [masks[i] for i in todo], min_cell_count)
    solved_all = [cache.get(s) if cache is not None else None for s in signatures]
    for i, found in zip(todo, fresh, strict=True):
        solved_all[i] = found
        if cache is not None:
            cache[signatures[i]] = found
    for comp, solved in zip(comps, solved_all, strict=True):
        columns = comp.columns.tolist()
        if solved is None:
            inconsistent |= {system.rows[int(i)].family for i in comp.rows}
            continue
        for local, (low, high) in sorted(solved.items()):
            if low >= 1:
                families = _families(system) if families is None else families
                var = columns[local]
                key = system.keys[var]
                name = record_name((system.origin.get(key, key[0]), *key[1:]))
                leaks.append(Leak(name, low, high, families[var]))
                leaked.add(var)
    found_report = AttackReport(
        min_cell_count=min_cell_count,
        n_hidden=int(sum(system.hidden)),
        n_constraints=len(system.rows),
        leaks=tuple(sorted(leaks, key=lambda x: x.record)),
        recovered=tuple(sorted(recovered)),
        inconsistent=tuple(sorted(inconsistent)),
        seconds=time.perf_counter() - started,
    )
    return found_report, system, leaked


#: a constraint of a leak: the published counts it was written with, the unknowns it bounds
Layer = list[tuple[list[Key], frozenset[int]]]


@dataclass(frozen=True)
class Exposure:
    """What :func:`expose` found: the attack's report, the leaks and what gives them away.

    Parameters
    ----------
    report : AttackReport
        The attack's report.
    layers : list of Layer
        The constraints that bound the leaked counts, layer by layer (see :func:`exposing`).
    leaked : tuple of tuple of str
        The record keys (analysis as recorded) of the leaked counts.
    blocks : numpy.ndarray or None
        With ``blocks=True``: a label per record such that no constraint the attacker writes,
        for these records or for the same records with more of them hidden, ever joins
        records of two labels (see :func:`blocks`).
    """

    report: AttackReport
    layers: list[Layer]
    leaked: tuple[Key, ...]
    blocks: np.ndarray | None = None


def blocks(records: pd.DataFrame, system: _System) -> np.ndarray:
    """Label the records by the parts of the attacker's system they can ever be linked in.

    ``system`` is the attack's system of ``records``. Two records share a label when a row
    of that system holds both (as unknowns or as published counts, rows of published counts
    only included), when they share their analysis (counts and estimates of a curve as one),
    group and variable (the rows that read published values of a variable: strata that add
    up, shared denominators, pooled levels, curve steps between the published estimates),
    or when one is an SMD of two groups and the other a count of those groups' variable or
    a group's size. Hiding more counts removes rows or turns published counts of a row into
    unknowns, within these labels: records of a label are attacked as they would be with
    every other record present.
    """
    n = len(records)
    analysis = [_base(str(a)) for a in records["analysis"].astype(object).tolist()]
    group = records["group"].astype(str).tolist()
    variable = records["variable"].astype(str).tolist()
    hubs: dict[tuple[str, str, str], int] = {}
    edges: list[tuple[int, int]] = []

    def hub(a: str, g: str, v: str) -> int:
        return hubs.setdefault((a, g, v), n + len(system.keys) + len(hubs))

    position: dict[Key, int] = {}
    names = ["strata_name", "strata_level", "variable_level", "estimate_name"]
    rest = zip(*(records[c].astype(str).tolist() for c in names), strict=True)
    for i, (a, g, v, (sn, sl, vl, en)) in enumerate(
        zip(analysis, group, variable, rest, strict=True)
    ):
        position.setdefault((a, g, sn, sl, v, vl, en), i)
        edges.append((i, hub(a, g, v)))
        if a == "baseline" and PAIR_SEPARATOR in g:
            for member in g.split(PAIR_SEPARATOR):
                edges.append((i, hub("baseline", member, v)))
                edges.append((i, hub("cohort", member, "persons")))

    # each key's node: its record, or for an unknown that is no record (an auxiliary or a
    # derived count) a node of its own
    node = dict(position)
    for key, j in system.var.items():
        if key[0] == "~aux" or key not in position:
            node[key] = n + j
    by_var = [node.get(key, -1) for key in system.keys]
    for nodes in [
        *(
            [by_var[j] for j in row.coefs] + [node.get(k, -1) for k in row.known]
            for row in system.rows
        ),
        *([node.get(k, -1) for k in keys] for keys in system.constant),
    ]:
        nodes = [x for x in nodes if x >= 0]
        edges += [(nodes[0], x) for x in nodes[1:]]
    size = n + len(system.keys) + len(hubs)
    pairs = np.array(edges, dtype=np.int64).reshape(-1, 2)
    graph = sparse.coo_array(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])),
        shape=(size, size),
    )
    _, labels = connected_components(graph.tocsr(), directed=False)
    return np.asarray(labels[:n])


def expose(
    records: pd.DataFrame,
    min_cell_count: int,
    *,
    cache: dict[bytes, Any] | None = None,
    with_blocks: bool = False,
    layout: Layout | None = None,
) -> Exposure:
    """Attack ``records``; return the leaks, the constraints behind them and, if asked, blocks.

    See :func:`exposing` (the layers) and :func:`blocks` (``with_blocks``). ``layout``: the
    :class:`~allrwe.results.attack.system.Layout` of the table whose rows ``records`` are (by
    index labels, with other values), read once for many attacks of it; only the index and
    the ``value`` column of ``records`` are then read (every column for ``with_blocks``).
    """
    found, system, leaked = _attack(records, min_cell_count, None, cache, layout)
    keys = tuple((system.origin.get(k, k[0]), *k[1:]) for k in (system.keys[j] for j in leaked))
    labels = blocks(records, system) if with_blocks else None
    return Exposure(found, _layers(system, leaked), tuple(sorted(keys)), labels)


def exposing(
    records: pd.DataFrame, min_cell_count: int, *, cache: dict[bytes, Any] | None = None
) -> tuple[AttackReport, list[list[tuple[list[Key], frozenset[int]]]]]:
    """Attack ``records`` and name the published counts that give each leak away.

    Parameters
    ----------
    records : pandas.DataFrame
        Records as they would be published (hidden counts NaN).
    min_cell_count : int
        The threshold.
    cache : dict, optional
        Bounds of components solved before, by their system (see :func:`attack`); a caller
        that attacks records again after hiding a few more passes the same dict.

    Returns
    -------
    report : AttackReport
        The attack's report.
    layers : list of list of (list of tuple of str, frozenset of int)
        Layer by layer, the constraints that bound a leaked count, each as the published
        counts it was written with (record keys: analysis, group, strata_name,
        strata_level, variable, variable_level, estimate_name; hiding one of each breaks
        that constraint) and the unknowns it bounds (variable numbers of the attack, to
        tell which constraints of the next layer continue it). The first layer holds the
        constraints of the leaked counts themselves, the next those of the hidden counts
        they bound, and so on through the whole component (a chain of hidden counts that
        are each pinned ends at published ones); constraints without a published non-zero
        count are left out, and so are empty layers.
    """
    found, system, leaked = _attack(records, min_cell_count, None, cache)
    return found, _layers(system, leaked)


def _layers(system: _System, leaked: set[int]) -> list[Layer]:
    """Return the constraints of the leaked counts, layer by layer (see :func:`exposing`)."""
    if not leaked:
        return []
    rows_of: dict[int, list[int]] = defaultdict(list)
    for i, row in enumerate(system.rows):
        for j in row.coefs:
            rows_of[j].append(i)
    reach = set(leaked)
    frontier = set(leaked)
    visited: set[int] = set()
    layers: list[list[tuple[list[Key], frozenset[int]]]] = []
    while frontier:
        touching = sorted({i for j in frontier for i in rows_of[j]} - visited)
        visited.update(touching)
        layer = [
            (
                [
                    (system.origin.get(k, k[0]), *k[1:])
                    for k in system.rows[i].known
                    if system.value[k] > 0
                ],
                frozenset(system.rows[i].coefs),
            )
            for i in touching
        ]
        layer = [(keys, unknowns) for keys, unknowns in layer if keys]
        if layer:
            layers.append(layer)
        frontier = {j for i in touching for j in system.rows[i].coefs} - reach
        reach |= frontier
    return layers


# --- SMD ---------------------------------------------------------------------------------
