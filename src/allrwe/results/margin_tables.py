"""Margins as the records declare them: parsing, checks, and the tables they form.

A margin is a set of count cells that add up to a published total (the levels of one
variable in one group, the row or column of a two-way table), declared in the records'
``margin`` field (see ``docs/results-model.md``). :func:`parse_margins` collects and checks
them; a *table* is a set of margins linked by shared cells (:class:`TableIndex`). The
protection that keeps hidden cells from being recovered through them is in
:mod:`allrwe.results.margins`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from allrwe.errors import ResultsError
from allrwe.results.model import MARGIN_SEPARATOR, TOTAL_PREFIX

__all__ = [
    "Margin",
    "TableIndex",
    "margins_by_cell",
    "parse_margins",
    "table_index",
    "tables_holding",
]


@dataclass
class Margin:
    """A set of count cells that add up to a published total.

    Parameters
    ----------
    key : str
        The margin key.
    members : list of int
        Row positions of the member cells.
    total : int or None
        Row position of the cell holding the total, when the total is a record; otherwise
        the total is taken as published (known) unless it is itself below the threshold.
    """

    key: str
    members: list[int] = field(default_factory=list)
    total: int | None = None

    def cells(self) -> list[int]:
        """Return the member cells and, if recorded, the total cell."""
        return self.members + ([] if self.total is None else [self.total])

    def small_unrecorded_total(self, values: np.ndarray, min_cell_count: int) -> bool:
        """Whether the total is no record and small (1 to ``min_cell_count`` - 1).

        An unrecorded total is taken as published elsewhere, unless it is small: then it is
        hidden wherever it appears, so it cannot serve to recover a cell.
        """
        if self.total is not None:
            return False
        return 1 <= float(values[self.members].sum()) < min_cell_count


def parse_margins(margins: Sequence[str], values: np.ndarray) -> dict[str, Margin]:
    """Collect the margins declared in a ``margin`` column and check that they add up.

    Parameters
    ----------
    margins : sequence of str
        The ``margin`` field of each record (``""`` for none).
    values : numpy.ndarray
        The record values, aligned with ``margins``.

    Returns
    -------
    dict of str to Margin
        By key, in key order.

    Raises
    ------
    ResultsError
        If a margin has two totals, no members, a cell without a value, or members that do
        not add up to its recorded total.
    """
    rows, keys, is_total = _tokens(margins)
    codes, uniques = pd.factorize(keys)  # keys in order of first appearance
    names = [str(k) for k in uniques]
    _check_one_total(codes[is_total], names)
    total_row = np.full(len(names), -1, dtype=np.int64)
    total_row[codes[is_total]] = rows[is_total]
    found = _collect(names, codes[~is_total], rows[~is_total], total_row)
    for i in _suspect_margins(codes, rows, is_total, total_row, values):
        _check_margin(names[i], found[i], values)
    # A total whose members are all absent (no death, no event in a small cohort) states no
    # equation: there is nothing for it to give away.
    return dict(sorted((m.key, m) for m in found if m.members))


def _tokens(margins: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split ``margin`` fields into tokens: their row, margin key and whether a total.

    Tokens come in record order, then field order; empty fields have none.
    """
    fields = pd.Series(np.asarray(margins, dtype=object), dtype=object)
    tokens = fields[fields.astype(bool)].str.split(MARGIN_SEPARATOR).explode()
    text = tokens.to_numpy(dtype=object)
    is_total = tokens.str.startswith(TOTAL_PREFIX).to_numpy(dtype=bool)
    keys = np.where(is_total, tokens.str.slice(len(TOTAL_PREFIX)).to_numpy(dtype=object), text)
    return tokens.index.to_numpy(dtype=np.int64), keys, is_total


def _check_one_total(total_codes: np.ndarray, names: list[str]) -> None:
    """Raise for the first total token whose margin already has a total."""
    again = pd.Series(total_codes).duplicated().to_numpy()
    if again.any():
        key = names[int(total_codes[int(np.argmax(again))])]
        raise ResultsError(f"margin {key!r} has more than one total record")


def _collect(
    names: list[str], member_codes: np.ndarray, member_rows: np.ndarray, total_row: np.ndarray
) -> list[Margin]:
    """Build the margins, by key code, with their members in record order."""
    order = np.argsort(member_codes, kind="stable")
    starts = np.cumsum(np.bincount(member_codes, minlength=len(names)))[:-1]
    members = np.split(member_rows[order], starts) if names else []
    return [
        Margin(name, part.tolist(), None if total < 0 else total)
        for name, part, total in zip(names, members, total_row.tolist(), strict=True)
    ]


def _suspect_margins(
    codes: np.ndarray,
    rows: np.ndarray,
    is_total: np.ndarray,
    total_row: np.ndarray,
    values: np.ndarray,
) -> list[int]:
    """Return the codes of the margins :func:`_check_margin` could reject, in code order.

    Every other margin provably passes: it has members, a total that is not one of them, no
    missing value, and either no recorded total or whole-number cells, with magnitudes that
    add up below 2**53, whose sum in any order equals the total exactly.
    """
    n = len(total_row)
    numbers = np.asarray(values, dtype=np.float64)
    cell = numbers[rows]
    member = ~is_total
    member_codes = codes[member]
    has_total = total_row >= 0
    total_value = np.where(has_total, numbers[total_row], 0.0)

    def per_margin(weights: np.ndarray, of: np.ndarray = codes) -> np.ndarray:
        return np.bincount(of, weights=weights, minlength=n)

    unknown = np.isnan(cell)
    exact = (
        (per_margin(~unknown & (cell != np.trunc(cell))) == 0)
        & (per_margin(np.where(unknown, 0.0, np.abs(cell))) < 2.0**53)
        & (per_margin(cell[member], member_codes) == total_value)
    )
    suspect = (
        (per_margin(np.ones(len(member_codes)), member_codes) == 0)
        | (per_margin(rows[member] == total_row[member_codes], member_codes) > 0)
        | (per_margin(unknown) > 0)
        | (has_total & ~exact)
    )
    return np.flatnonzero(suspect).tolist()


def _check_margin(key: str, margin: Margin, values: np.ndarray) -> None:
    if not margin.members:
        return
    if margin.total is not None and margin.total in margin.members:
        raise ResultsError(f"a record is both a member and the total of margin {key!r}")
    cell_values = values[margin.cells()]
    if np.isnan(cell_values).any():
        n_nan = int(np.isnan(cell_values).sum())
        raise ResultsError(f"margin {key!r} has {n_nan} count cell(s) without a value")
    if margin.total is not None:
        members = float(values[margin.members].sum())
        if members != float(values[margin.total]):
            raise ResultsError(
                f"margin {key!r}: its {len(margin.members)} cells add up to {members:g}, "
                f"but its total record is {float(values[margin.total]):g}"
            )


def _group_margins(margins: Sequence[Margin], links: Callable[[int], bool]) -> list[list[Margin]]:
    """Group margins that share a cell for which ``links(cell)`` holds (union-find)."""
    parent = {m.key: m.key for m in margins}

    def find(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    owner: dict[int, str] = {}
    for margin in margins:
        for cell in margin.cells():
            if not links(cell):
                continue
            if cell in owner:
                parent[find(margin.key)] = find(owner[cell])
            owner[cell] = margin.key
    groups: dict[str, list[Margin]] = {}
    for margin in margins:
        groups.setdefault(find(margin.key), []).append(margin)
    return [groups[k] for k in sorted(groups)]


def margins_by_cell(margins: dict[str, Margin]) -> dict[int, list[Margin]]:
    """Map each cell (member or recorded total) to the margins holding it, in margin order."""
    found: dict[int, list[Margin]] = {}
    for margin in margins.values():
        for cell in margin.cells():
            found.setdefault(cell, []).append(margin)
    return found


class TableIndex:
    """The tables of a set of margins (margins linked by shared cells), found once.

    Parameters
    ----------
    margins : dict of str to Margin
        From :func:`parse_margins`.
    """

    def __init__(self, margins: dict[str, Margin]) -> None:
        self._tables = _group_margins(list(margins.values()), lambda _: True)
        self._table_of: dict[int, int] = {}
        for t, table in enumerate(self._tables):
            for margin in table:
                for cell in margin.cells():
                    self._table_of[cell] = t

    def tables(self, cells: Sequence[int]) -> list[list[Margin]]:
        """Return every table holding one of ``cells``, each as its list of margins."""
        found = sorted({self._table_of[c] for c in cells if c in self._table_of})
        return [self._tables[t] for t in found]

    def holding(self, cells: Sequence[int]) -> dict[str, Margin]:
        """Return the margins of every table holding one of ``cells``, in key order.

        A table is self-contained, so protecting only these margins leaves every other
        table as it was.
        """
        return dict(sorted((m.key, m) for table in self.tables(cells) for m in table))


def table_index(margins: dict[str, Margin]) -> TableIndex:
    """Return the :class:`TableIndex` of ``margins``."""
    return TableIndex(margins)


def tables_holding(margins: dict[str, Margin], cells: Sequence[int]) -> dict[str, Margin]:
    """Return the margins of every table (margins linked by shared cells) holding a cell.

    Parameters
    ----------
    margins : dict of str to Margin
        From :func:`parse_margins`.
    cells : sequence of int
        Record positions.

    Returns
    -------
    dict of str to Margin
        In key order; a table is self-contained, so protecting only these margins leaves
        every other table as it was.
    """
    return TableIndex(margins).holding(cells)
