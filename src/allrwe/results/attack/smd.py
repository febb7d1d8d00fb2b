"""SMD constraints: the hidden counts that alone reproduce a published SMD."""

from __future__ import annotations

import math
from itertools import product

import numpy as np

from allrwe.results.attack.system import (
    _OVERALL,
    MAX_SMD_CANDIDATES,
    Cell,
    Key,
    _System,
    _tol,
)
from allrwe.results.model import PAIR_SEPARATOR


def _smd_value(first: np.ndarray, second: np.ndarray) -> float:
    """Absolute SMD of two count vectors (Yang & Dalton's multinomial formula)."""
    if first.sum() <= 0 or second.sum() <= 0:
        return math.nan
    p, q = first / first.sum(), second / second.sum()
    keep = (p + q) > 0
    p, q = p[keep], q[keep]
    if p.size < 2:
        return 0.0
    t = (p - q)[1:]
    s = (np.diag(p[1:]) - np.outer(p[1:], p[1:]) + np.diag(q[1:]) - np.outer(q[1:], q[1:])) / 2
    value = float(t @ np.linalg.pinv(s) @ t)
    return math.sqrt(max(value, 0.0))


def _smd(system: _System, numeric: dict[Cell, dict[str, float]]) -> None:
    """Pin hidden counts that alone reproduce a published SMD (a constraint per count)."""
    for cell, values in numeric.items():
        smd = values.get("smd")
        if smd is None or cell[0] != "baseline" or PAIR_SEPARATOR not in cell[1]:
            continue
        groups = cell[1].split(PAIR_SEPARATOR)
        if len(groups) != 2:
            continue
        if cell[5] != _OVERALL:
            # a flag of its own (one level of a multi-select variable): level vs the rest
            _pin_flag_smd(system, [(cell[0], g, *cell[2:], "count") for g in groups], smd)
            continue
        vectors = [_levels(system, (cell[0], g, *cell[2:5])) for g in groups]
        if not all(vectors) or [k for k, _ in vectors[0]] != [k for k, _ in vectors[1]]:
            continue
        _pin_smd(system, vectors, smd)


def _pin_flag_smd(system: _System, keys: list[Key], smd: float) -> None:
    """Pin the hidden counts of one flag in two groups that reproduce its published SMD."""
    totals = [_group_total(system, key) for key in keys]
    if any(t is None or t <= 0 for t in totals) or not all(system.has(k) for k in keys):
        return
    options = [
        _candidates(system, key, total) or [] for key, total in zip(keys, totals, strict=True)
    ]
    if not any(k in system.var for k in keys) or math.prod(map(len, options)) > MAX_SMD_CANDIDATES:
        return
    tol = max(_tol(smd), 5e-10) + 1e-9
    fits = []
    for first, second in product(*options):
        a = np.array([totals[0] - first, first])  # type: ignore[operator]
        b = np.array([totals[1] - second, second])  # type: ignore[operator]
        if abs(_smd_value(a, b) - abs(smd)) <= tol:
            fits.append((first, second))
    for i, key in enumerate(keys):
        if key in system.var and fits:
            seen = [combo[i] for combo in fits]
            system.add([(1.0, key)], min(seen), max(seen), "smd")


def _levels(system: _System, item: tuple[str, ...]) -> list[tuple[str, Key]]:
    out = []
    for key in system.item(item):
        if key[6] == "count" and key[5] not in (_OVERALL, "missing"):
            out.append((key[5], key))
    return sorted(out)


def _group_total(system: _System, key: Key) -> float | None:
    """Return the published size of a variable's group: its overall row, else the cohort."""
    overall = system.value.get((*key[:5], _OVERALL, "count"))
    if overall is not None or key[2] != _OVERALL:
        return overall
    return system.value.get(("cohort", key[1], _OVERALL, _OVERALL, "persons", _OVERALL, "count"))


def _candidates(system: _System, key: Key, total: float | None) -> list[float] | None:
    if key in system.value:
        return [system.value[key]]
    if total is None:
        return None
    return [float(x) for x in range(int(total) + 1)]


def _pin_smd(system: _System, vectors: list[list[tuple[str, Key]]], smd: float) -> None:
    options: list[list[float]] = []
    keys: list[Key] = []
    for vector in vectors:
        total = _group_total(system, vector[0][1])
        for _, key in vector:
            values = _candidates(system, key, total)
            if values is None:
                return
            options.append(values)
            keys.append(key)
    if math.prod(len(o) for o in options) > MAX_SMD_CANDIDATES:
        return
    half = len(vectors[0])
    tol = max(_tol(smd), 5e-10)
    fits: list[tuple[float, ...]] = []
    for combo in product(*options):
        first, second = np.array(combo[:half]), np.array(combo[half:])
        for vector, counts in ((vectors[0], first), (vectors[1], second)):
            total = _group_total(system, vector[0][1])
            if total is not None and counts.sum() != total:
                break
        else:
            if abs(_smd_value(first, second) - abs(smd)) <= tol + 1e-9:
                fits.append(combo)
    if not fits:
        return
    for i, key in enumerate(keys):
        if key in system.var:
            seen = [combo[i] for combo in fits]
            system.add([(1.0, key)], min(seen), max(seen), "smd")
