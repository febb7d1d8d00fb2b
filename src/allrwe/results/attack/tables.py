"""Constraint families of tables: margins, strata, rates, attrition, nested responses."""

from __future__ import annotations

import math
from collections import defaultdict
from itertools import pairwise

from allrwe.results.attack.system import (
    _OVERALL,
    BEST_RESPONSE,
    CURVE_ANALYSES,
    DENOMINATOR_RESPONSE,
    NESTED_RESPONSE,
    SUBSET_RESPONSE,
    Cell,
    Counts,
    Key,
    _System,
    _tol,
)


def _margins(system: _System, counts: Counts) -> None:
    for terms in counts.derived("margins", _margin_terms):
        system.eq(terms, "margin")


def _margin_terms(counts: Counts) -> list[list[tuple[float, Key]]]:
    """Return each declared margin as terms: its members minus its total."""
    members: dict[str, list[Key]] = defaultdict(list)
    totals: dict[str, list[Key]] = defaultdict(list)
    for key, margin in counts:
        for token in margin.split("|") if margin else []:
            if token.startswith("total:"):
                totals[token[len("total:") :]].append(key)
            else:
                members[token].append(key)
    return [
        [(1.0, k) for k in keys] + [(-1.0, total)]
        for token, keys in members.items()
        for total in totals.get(token, [])
    ]


def _not_partitions(
    system: _System, by_item: dict[Key, dict[str, list[Key]]], overall: dict[Key, Key]
) -> set[tuple[str, ...]]:
    """Return the stratifications whose fully published levels do not add up to overall."""
    broken: set[tuple[str, ...]] = set()
    for item, strata in by_item.items():
        total = overall.get(item)
        if total is None or total not in system.value:
            continue
        for sn, keys in strata.items():
            shown = sum(system.value.get(k, 0.0) for k in keys)
            published = all(k in system.value for k in keys)
            if shown > system.value[total] + 1e-6 or (
                published and abs(shown - system.value[total]) > 1e-6
            ):
                broken.add((item[0], item[1], sn))
    return broken


def _strata(system: _System, counts: Counts) -> None:
    by_item, overall = counts.derived("strata", _strata_items)
    broken = _not_partitions(system, by_item, overall)
    pooled = counts.derived("pooled", _pooled)
    for item, strata in by_item.items():
        total = overall.get(item)
        if total is None:
            continue
        for sn, keys in strata.items():
            a, g, v, _, en = item
            if (a, g, sn) not in broken and (a, g, v, en, sn) not in pooled:
                system.eq([(1.0, k) for k in keys] + [(-1.0, total)], "strata")


def _strata_items(
    counts: Counts,
) -> tuple[dict[tuple[str, ...], dict[str, list[Key]]], dict[tuple[str, ...], Key]]:
    """Return each item's counts by stratification and its overall count."""
    by_item: dict[tuple[str, ...], dict[str, list[Key]]] = defaultdict(lambda: defaultdict(list))
    overall: dict[tuple[str, ...], Key] = {}
    for key, _ in counts:
        a, g, sn, _sl, v, vl, en = key
        if a in CURVE_ANALYSES:
            continue  # curve points of strata fall at different times
        item: Key = (a, g, v, vl, en)
        if sn == _OVERALL:
            overall[item] = key
        else:
            by_item[item][sn].append(key)
    return by_item, overall


def _pooled(counts: list[tuple[Key, str]]) -> set[tuple[str, ...]]:
    """Return the (analysis, group, variable, estimate, strata) whose levels differ by stratum.

    A table whose stratum levels list other categories than its overall row pools rare
    categories stratum by stratum ("other (each fewer than 5)"): its levels do not add up.
    """
    levels: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for key, _ in counts:
        a, g, sn, sl, v, vl, en = key
        if a not in CURVE_ANALYSES:
            levels[(a, g, v, en, sn, sl)].add(vl)
    out: set[tuple[str, ...]] = set()
    for (a, g, v, en, sn, _sl), found in levels.items():
        if sn != _OVERALL and found != levels.get((a, g, v, en, _OVERALL, _OVERALL), found):
            out.add((a, g, v, en, sn))
    return out


def _shared_denominators(
    system: _System, numeric: dict[Cell, dict[str, float]]
) -> set[tuple[str, ...]]:
    """Return the variables whose published count / percentage pairs imply one denominator."""
    implied: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for cell, values in numeric.items():
        pct, count = values.get("percentage"), system.value.get((*cell, "count"))
        if pct is not None and pct > 0 and count is not None:
            implied[cell[:5]].append(count * 100.0 / pct)
    return {item for item, dens in implied.items() if max(dens) - min(dens) < 0.5}


#: the analysis whose percentages are all of the persons of their group and stratum (the
#: ``persons`` count beside them): Table 1 (``allrwe.analyses.baseline``)
PERSONS_DENOMINATED = "baseline"


def _partitions(counts: list[tuple[Key, str]]) -> dict[tuple[str, ...], list[Key]]:
    """Return the variables whose count cells are exactly the members of one margin.

    A margin declared over the levels of one variable of one group and stratum says that
    they partition its persons (``allrwe.analyses.records.categorical_records`` declares one
    only where the counts add up to the percentages' one denominator): the variable's
    percentages are of the margin's total, whether or not a total record is published.
    """
    cells: dict[tuple[str, ...], list[Key]] = defaultdict(list)
    tokens: dict[tuple[str, ...], set[str] | None] = {}
    members: dict[str, set[Key]] = defaultdict(set)
    for key, margin in counts:
        if key[6] != "count":
            continue
        own = {t for t in margin.split("|") if t and not t.startswith("total:")}
        for token in own:
            members[token].add(key)
        item = key[:5]
        cells[item].append(key)
        before = tokens.get(item)
        tokens[item] = own if item not in tokens else (before or set()) & own
    out: dict[tuple[str, ...], list[Key]] = {}
    for item, keys in cells.items():
        shared = tokens.get(item) or set()
        if len(keys) > 1 and any(members[t] == set(keys) for t in shared):
            out[item] = sorted(keys)
    return out


def _rates(system: _System, numeric: dict[Cell, dict[str, float]], counts: Counts) -> None:
    shared = _shared_denominators(system, numeric)
    partitions = counts.derived("partitions", _partitions)
    summed: set[tuple[str, ...]] = set()
    for cell, values in numeric.items():
        pct = values.get("percentage")
        count: Key = (*cell, "count")
        if pct is None or not system.has(count):
            continue
        den: Key = (*cell, "denominator")
        persons: Key = (*cell[:4], "persons", _OVERALL, "count")
        if not system.has(den) and cell[0] == PERSONS_DENOMINATED and system.has(persons):
            den = persons  # Table 1: a level's percentage is of the group's persons
        elif not system.has(den):
            # percentages of one variable share its denominator, unless published pairs
            # show otherwise (then each percentage has a denominator of its own)
            item = cell[:5]
            overall: Key = (*item, _OVERALL, "count")
            if item in shared:
                den = overall if system.has(overall) else system.aux("den", *item)
                if item in partitions and not system.has(overall) and item not in summed:
                    # the levels of a partition add up to their percentages' denominator
                    summed.add(item)
                    terms = [(-1.0, k) for k in partitions[item]]
                    system.eq([(1.0, den), *terms], "rate")
            else:
                den = system.aux("den", *cell)
        system.ratio(count, den, pct / 100.0, _tol(pct) / 100.0, "rate")


def _attrition(system: _System) -> None:
    steps: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for key in [*system.value, *system.var]:
        if key[0] == "attrition" and key[6] == "n_persons":
            steps[key[1:5]].append(key[5])
    for (g, sn, sl, v), levels in steps.items():
        ordered = sorted(levels)
        for before, after in pairwise(ordered):
            persons = ("attrition", g, sn, sl, v)
            system.eq(
                [
                    (1.0, (*persons, before, "n_persons")),
                    (-1.0, (*persons, after, "n_persons")),
                    (-1.0, (*persons, after, "n_excluded")),
                ],
                "attrition",
            )
        if ordered and sn == _OVERALL:
            last: Key = ("attrition", g, sn, sl, v, ordered[-1], "n_persons")
            cohort: Key = (
                "cohort",
                g,
                _OVERALL,
                _OVERALL,
                "persons",
                _OVERALL,
                "count",
            )
            system.eq([(1.0, last), (-1.0, cohort)], "attrition")


def _nested(system: _System) -> None:
    cells = {key[:4] for key in [*system.value, *system.var] if key[4] == BEST_RESPONSE}
    for a, g, sn, sl in cells:

        def level(name: str, a: str = a, g: str = g, sn: str = sn, sl: str = sl) -> Key:
            return (a, g, sn, sl, BEST_RESPONSE, name, "count")

        def rate(var: str, a: str = a, g: str = g, sn: str = sn, sl: str = sl) -> Key:
            return (a, g, sn, sl, var, _OVERALL, "count")

        for var, names in NESTED_RESPONSE.items():
            system.eq([(1.0, rate(var))] + [(-1.0, level(x)) for x in names], "nested")
        for var, parent in SUBSET_RESPONSE.items():
            system.add([(1.0, rate(var)), (-1.0, rate(parent))], -math.inf, 0.0, "nested")
        for var, parent in DENOMINATOR_RESPONSE.items():
            den_of: Key = (a, g, sn, sl, var, _OVERALL, "denominator")
            system.eq([(1.0, den_of), (-1.0, rate(parent))], "nested")
        levels = sorted(
            key for key in system.item((a, g, sn, sl, BEST_RESPONSE)) if key[6] == "count"
        )
        if levels:
            den: Key = (*levels[0][:6], "denominator")
            system.eq([(1.0, k) for k in levels] + [(-1.0, den)], "nested")
