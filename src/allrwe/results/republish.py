"""Publish again the headline counts that complementary suppression hid without need.

The rule this module owns: after the complements are chosen and the attacker finds no leak,
each hidden headline count of at least the threshold (the persons of a group, ND/RR,
treatment settings, responders in the overall stratum: see
:func:`allrwe.results.suppression.cell_weights`) is published again, heaviest first, when
the attacker still finds no leak with it and its linked records shown. The choice of
complements is greedy (margin by margin, then repair rounds that hide the cheapest count of
each constraint that gives a leak away); a headline hidden early can end up protecting
nothing once later rounds have hidden the cells beside it. In the seed000 example on a
5,000-person emr CDM (seed 1), RR = 7 of 39 persons was hidden beside a hidden ND = 32 and a
hidden group size, though the two hidden others already protect the small cells it was
meant to protect.

Headlines are published again one at a time, each kept only when the attack of
the blocks it belongs to (:func:`allrwe.results.attack.blocks`) finds no leak; so the
result is never weaker, in the attacker's terms, than what the repair rounds reached. The
margin convention of the protection (:mod:`allrwe.results.margins`) is kept too: a margin
without a total record has its total taken as published, unless that total is small. The
attacker reads no such total, so the blocks are attacked a second time with those totals
as published counts, and a headline is published again only when that finds no leak that
it did not find with the headline hidden.

Five more moves (issues #16 and #20), each kept only under the same checks, and confirmed
at the end by one attack of every record (if that finds a leak, only the plain
republications above, the overall counts and Table 2's columns below are kept):

* **release**: the counts that a headline published again determines through a margin
  (the only unknown left in it, not small) are published with it, with their linked
  records: the age, WBC, haemoglobin and platelet counts of Table 1 equal the group size
  where none is missing, and their median and range were hidden with it;
* **cover**: a headline whose publication alone gives a small count away is published
  when counts that are no headlines, of less total weight, can be hidden instead
  (:class:`_Swap`): a stratum of 2 persons is the group size minus the other strata, so
  the other strata are hidden rather than the group size, ND and RR;
* **exchange**: one published headline is hidden where that lets two hidden ones of its
  block be published (CRh = ``cr_crh`` - ``cr`` and CRi = ``response`` - ``cr_crh``
  both small: ``cr_crh`` hidden rather than ``cr`` and ``response``);
* **overall counts**: the hidden counts of the overall stratum that are no headlines but
  not small (Table 1's sex, age bands, Ph status) are tried once per variable of a group,
  all levels together, after two checks of the margins they sit in: the hidden counts left
  in a margin must not add up to a small group (:func:`_small_remainder`), and the
  protection's own exact check, each hidden count at least 1, must pin no small count
  (:class:`allrwe.results.margins.PinCheck`); where that fails, all levels but the
  lightest are tried, and where the attacker finds a leak, covers as for a headline;
* **Table 2's columns**: the hidden persons, events, risk sets and responders of the strata
  that a table shows as columns (ND, R/R, each line: ``columns``), at least the threshold,
  tried per stratum, then per variable, then the persons alone, under the same checks
  (:func:`_release_strata`), all kept only where the attack of every record finds no leak
  either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from allrwe.results.builders import make_records
from allrwe.results.complementary import headlines
from allrwe.results.margin_tables import Margin, TableIndex, margins_by_cell, table_index
from allrwe.results.margins import PinCheck, protect_margins
from allrwe.results.model import count_rows

if TYPE_CHECKING:  # the attack module loads SciPy's solvers: imported where it runs
    from allrwe.results.attack import Exposure

__all__ = ["republish_headlines"]

logger = logging.getLogger(__name__)


def republish_headlines(
    records: pd.DataFrame,
    values: np.ndarray,
    counts: np.ndarray,
    weights: np.ndarray,
    min_cell_count: int,
    hiding: Callable[[np.ndarray], np.ndarray],
    margins: dict[str, Margin],
    cache: dict[bytes, Any] | None = None,
    swaps: bool = True,
    columns: np.ndarray | None = None,
) -> np.ndarray:
    """Return ``counts`` with the hidden headline counts that hide nothing published again.

    Parameters
    ----------
    records : pandas.DataFrame
        The unsuppressed records.
    values : numpy.ndarray
        Their values (float).
    counts : numpy.ndarray
        The hidden count records (bool), as complementary suppression and the repair rounds
        left them.
    weights : numpy.ndarray
        :func:`allrwe.results.suppression.cell_weights` of the records: a headline weighs
        more than its value plus one.
    min_cell_count : int
        The threshold.
    hiding : callable
        Maps hidden counts to the other records hidden with them (linked records, SMDs).
    margins : dict of str to Margin
        The declared margins (:func:`allrwe.results.margins.parse_margins`).
    cache : dict, optional
        The attacker's solved components (see :func:`allrwe.results.attack.attack`), e.g.
        those of the repair rounds, which attacked the same blocks; default a dict of this
        call's own.
    columns : numpy.ndarray, optional
        The counts of the strata that tables show as columns (bool, see
        :func:`_release_strata`); default none.

    Returns
    -------
    numpy.ndarray
        The hidden count records; a subset of ``counts``.
    """
    original = counts
    filled = np.nan_to_num(values, nan=0.0)
    headline = headlines(weights, values)
    candidates = np.flatnonzero(counts & headline & (filled >= min_cell_count))
    in_columns = np.zeros(len(counts), dtype=bool) if columns is None else columns
    tried = (_overall(records) | in_columns) & (filled >= min_cell_count)
    if not len(candidates) and not (counts & tried).any():
        return counts
    trials = _Trials(records, values, hiding, margins, min_cell_count, counts, cache)
    if trials.blocks is None:
        return counts
    keys = records[["analysis", "group", "strata_name", "strata_level", "variable"]]
    names = ["/".join(map(str, row)) for row in keys.to_numpy()[candidates].tolist()]
    levels = records["variable_level"].astype(str).to_numpy()[candidates].tolist()
    order = sorted(
        range(len(candidates)), key=lambda j: (-weights[candidates[j]], names[j], levels[j])
    )
    ordered = [int(candidates[j]) for j in order]
    swap = _Swap(records, values, weights, headline, min_cell_count, margins) if swaps else None
    counts, _, changed = trials.publish(counts, ordered, swap)
    if swap is not None:
        is_count = (records["estimate_type"] == "count").to_numpy()
        counts, exchanged = _exchange(
            counts,
            ordered,
            lambda base, cells: trials.publish(base, cells, swap),
            headline & is_count & (filled >= min_cell_count),
            trials.blocks[: len(records)],
            weights,
        )
        changed |= exchanged
    pins = _Pins(values, margins, min_cell_count)
    counts, covered = _release_overall(
        records, values, counts, headline, min_cell_count, margins, trials, swap, pins
    )
    changed |= covered
    counts = _release_strata(records, values, counts, in_columns, min_cell_count, trials, pins)
    if changed and trials.leaks(counts):
        # the attacks of the changed blocks missed what the whole attack finds: keep only
        # the headlines published again without covers or exchanges
        return republish_headlines(
            records,
            values,
            original,
            weights,
            min_cell_count,
            hiding,
            margins,
            cache,
            False,
            columns,
        )
    return counts


class _Pins:
    """The margin checks of a count published again, with the exact check built once."""

    def __init__(self, values: np.ndarray, margins: dict[str, Margin], min_cell_count: int):
        self.values = values
        self.filled = np.nan_to_num(values, nan=0.0)
        self.margins = margins
        self.min_cell_count = min_cell_count
        self._check: PinCheck | None = None

    @property
    def check(self) -> PinCheck:
        """The protection's exact check (:class:`PinCheck`), built on first use."""
        if self._check is None:
            self._check = PinCheck(self.values, self.margins, self.min_cell_count)
        return self._check

    def object(self, trial: np.ndarray, counts: np.ndarray) -> bool:
        """Whether the margins forbid publishing what ``trial`` shows of ``counts``.

        The hidden counts left in a margin must not add up to a small group
        (:func:`_small_remainder`), and the protection's exact check, each hidden count at
        least 1, must pin no small count.
        """
        published = np.flatnonzero(trial != counts).tolist()
        cell_margins = self.check.cell_margins
        near = {m.key: m for c in published for m in cell_margins.get(c, [])}
        k = self.min_cell_count
        if any(_small_remainder(m, trial, self.filled, k) for m in near.values()):
            return True
        return self.check.small_pinned(trial, published) is not None


def _release_strata(
    records: pd.DataFrame,
    values: np.ndarray,
    counts: np.ndarray,
    columns: np.ndarray,
    min_cell_count: int,
    trials: _Trials,
    pins: _Pins,
) -> np.ndarray:
    """Publish again the hidden counts of the strata that tables show as columns.

    The rule: the persons and events behind each median and landmark rate and the
    responders of a stratum that a table shows as a column (seed 001's Table 2: ND, R/R,
    each line; ``columns``) are tried once per stratum of a group, all its hidden counts of
    at least the threshold together, heaviest stratum first, then, where that fails, one
    variable at a time (an endpoint's persons, events and risk sets; the responders), then
    the persons (``n``) left hidden, without the events beside them; each is
    published again under the checks of the overall counts (:class:`_Pins`, then the attack
    of its blocks), and all are kept only where the attack of every record then finds no
    leak either. The greedy choice hides whole summaries of a stratum as complements of its
    small counts: in the seed001 example on a 100,000-person emr CDM (seed 1), the ND
    and R/R persons and events of every endpoint were hidden (EFS ND 43 persons, 5 events;
    R/R 24, 13), though with all of them published the attacker pins nothing.
    """
    filled = np.nan_to_num(values, nan=0.0)
    hidden = np.flatnonzero(counts & columns & (filled >= min_cell_count))
    if not len(hidden):
        return counts
    estimates = dict(
        zip(hidden.tolist(), records["estimate_name"].astype(str).to_numpy()[hidden], strict=True)
    )
    names = ["group", "strata_name", "strata_level", "variable"]
    keys = records[names].astype(str).to_numpy()[hidden].tolist()
    strata: dict[tuple[str, ...], dict[str, list[int]]] = {}
    for row, key in zip(hidden.tolist(), keys, strict=True):
        strata.setdefault(tuple(key[:3]), {}).setdefault(key[3], []).append(row)
    weight = {k: sum(float(filled[cells].sum()) for cells in strata[k].values()) for k in strata}
    order = sorted(strata, key=lambda k: (-weight[k], k))
    start = counts
    for stratum in order:
        parts = strata[stratum]
        whole = sorted(c for cells in parts.values() for c in cells)
        tries = [whole]
        if len(parts) > 1:
            tries += [
                sorted(parts[v])
                for v in sorted(parts, key=lambda v: (-float(filled[parts[v]].sum()), v))
            ]
        persons = [c for c in whole if estimates[c] == "n"]
        if 0 < len(persons) < len(whole):
            tries.append(persons)  # the column's size, without the events beside it
        for publish in tries:
            trial = counts.copy()
            trial[publish] = False
            if (trial == counts).all():
                continue
            if pins.object(trial, counts):
                continue
            ok, _ = trials.safe(trial, counts)
            if ok:
                counts = trial
                if publish is whole:
                    break
    if (counts != start).any() and not trials.whole(counts, start):
        logger.debug("Table 2's columns published again give a count away: kept hidden")
        return start
    return counts


def _overall(records: pd.DataFrame) -> np.ndarray:
    """Flag the count records of the overall stratum."""
    return (
        (records["strata_name"] == "overall") & (records["estimate_type"] == "count")
    ).to_numpy()


def _release_overall(
    records: pd.DataFrame,
    values: np.ndarray,
    counts: np.ndarray,
    headline: np.ndarray,
    min_cell_count: int,
    margins: dict[str, Margin],
    trials: _Trials,
    swap: _Swap | None,
    pins: _Pins,
) -> tuple[np.ndarray, bool]:
    """Publish again the hidden overall counts of a variable that protect nothing.

    The rule: the counts of the overall stratum that are no headlines but are at least the
    threshold (Table 1's sex, age bands and Ph status, Table 3's terms) are tried once per
    variable of a group, all of its hidden levels together, with the counts they determine
    (:meth:`_Swap.release`), heaviest variable first; a variable is published again when
    the attack of its blocks finds no leak that the state before did not. The greedy choice
    hides an overall count as the cheapest cover of one table and later rounds hide the
    strata beside it, so that it protects nothing in the end: in the seed001 example on a
    100,000-person emr CDM (seed 1), BLIN's 27 women and 40 men were hidden, with every
    stratum of 1 to 4 persons protected by the strata's own hidden cells.

    Before the attack, the margins: the hidden counts left in a margin must not add up to a
    small group (:func:`_small_remainder`), and the protection's exact check must pin no
    small count (:class:`allrwe.results.margins.PinCheck`). Each hidden count may be small:
    BLIN's 5 of 67 with marrow blasts < 50 % are 3 + 2 by age band, each 1 to 4 once the 5
    is shown, but neither is known, which is all the protection asks of a margin.

    A variable that fails is tried once more without its lightest level, which stays hidden
    as the complement of a small one (prior lines 0: 44, 1: 9 and >= 3: 10 beside a hidden
    2: 4 publish 44 and 10 where no stratum's margin objects). Where the attacker finds a
    leak, cheaper counts are hidden instead (:meth:`_Swap.cover`, the covers weighing less
    than the counts published): an overall count that gives a small stratum's count away
    as the overall minus the other strata hides one of the other strata's counts instead.
    Returns the hidden counts and whether covers were hidden.
    """
    filled = np.nan_to_num(values, nan=0.0)
    hidden = np.flatnonzero(counts & _overall(records) & ~headline & (filled >= min_cell_count))
    if not len(hidden):
        return counts, False
    keys = records[["analysis", "group", "variable"]].astype(str).to_numpy()[hidden].tolist()
    variables: dict[tuple[str, ...], list[int]] = {}
    for row, key in zip(hidden.tolist(), keys, strict=True):
        variables.setdefault(tuple(key), []).append(int(row))
    order = sorted(variables, key=lambda k: (-float(filled[variables[k]].sum()), k))
    covered = False
    for key in order:
        cells = variables[key]
        # all the hidden levels, then all but the lightest (left hidden as the others'
        # complement: prior lines 0, 1 and >= 3 beside a hidden 2 of 4)
        tries = (
            [cells, sorted(cells, key=lambda c: (filled[c], c))[1:]] if len(cells) > 1 else [cells]
        )
        seen: list[np.ndarray] = []
        for publish in tries:
            trial = counts.copy()
            trial[publish] = False
            if swap is not None:
                for cell in publish:
                    trial = swap.release(trial, cell)
            if any((trial == t).all() for t in seen):
                continue
            seen.append(trial)
            # the margins first: no small group left hidden, and the protection's own check
            # (a hidden count is at least 1 there: 1 + 1 = 2 of a published total pins
            # both); then the attacker (for whom it may be 0), and covers where it finds a
            # leak (the crossed stratum of 2 persons given away by the overall count)
            if pins.object(trial, counts):
                continue
            ok, found = trials.safe(trial, counts)
            if not ok and swap is not None and found is not None:
                trial, ok = swap.cover(publish, trial, found, counts, trials.safe)
                covered |= ok
            if ok:
                counts = trial
                break
    return counts, covered


def _small_remainder(margin: Margin, hidden: np.ndarray, values: np.ndarray, k: int) -> bool:
    """Whether the hidden members of ``margin`` add up to a small count (1 to ``k - 1``).

    With its total known (a published record, or no record and not small), the hidden
    members add up to the total minus the published ones. Publishing a count again may
    leave hidden counts that are each unknown but together a small group: of INO's 7
    persons, 5 treated more than 28 days leaves 2 treated 28 days or less. Hidden counts
    that add up to the threshold or more (CRh + CRi = 5) are left to the exact check
    (:class:`allrwe.results.margins.PinCheck`).
    """
    if margin.total is not None:
        if hidden[margin.total]:
            return False
        total = float(values[margin.total])
    elif margin.small_unrecorded_total(values, k):
        return False
    else:
        total = float(values[margin.members].sum())
    if not any(hidden[c] for c in margin.members):
        return False
    rest = total - float(sum(values[c] for c in margin.members if not hidden[c]))
    return 0 < rest < k


class _Trials:
    """Attack states of the records that differ from a base state in a few counts.

    Parameters
    ----------
    records, values, hiding, margins, min_cell_count
        As :func:`republish_headlines` takes them.
    counts : numpy.ndarray
        The hidden counts the repair left: the blocks of the attacker
        (:func:`allrwe.results.attack.blocks`) are those of this state.
    cache : dict or None
        The attacker's solved components.
    """

    def __init__(
        self,
        records: pd.DataFrame,
        values: np.ndarray,
        hiding: Callable[[np.ndarray], np.ndarray],
        margins: dict[str, Margin],
        min_cell_count: int,
        counts: np.ndarray,
        cache: dict[bytes, Any] | None,
    ) -> None:
        from allrwe.results.attack import Layout, expose  # deferred: SciPy's solvers

        self.expose = expose
        self.cache = {} if cache is None else cache
        self.hiding = hiding
        self.min_cell_count = min_cell_count
        totals = _implicit_totals(records, values, margins, min_cell_count)
        self.n = len(records)
        self.attacked = pd.concat([records, totals], ignore_index=True)
        self.every = np.concatenate([values, totals["value"].to_numpy(dtype="float64")])
        self.own = np.arange(len(self.attacked)) < self.n  # without the implicit totals
        #: what the attacker reads of each record that no hiding changes (read once)
        self.layout = Layout.of(self.attacked)
        #: attacks already run, by the records attacked and what is hidden of them
        self.seen: dict[bytes, Exposure] = {}
        published = self.published(self.hidden(counts))
        self.blocks = expose(
            published, min_cell_count, cache=self.cache, with_blocks=True, layout=self.layout
        ).blocks

    def attack(self, hidden: np.ndarray, part: np.ndarray) -> Exposure:
        """Attack the records of ``part`` with ``hidden`` hidden (each state attacked once).

        The trials of one base state attack the same blocks of that state again (the
        state before each trial), and a trial kept is the next trial's base: the attacker
        is a function of the records it reads, so a state met before is not attacked again.
        """
        key = np.packbits(part).tobytes() + np.packbits(hidden & part).tobytes()
        if key not in self.seen:
            published = self.layout.published(
                np.where(hidden, np.nan, self.every), np.flatnonzero(part)
            )
            self.seen[key] = self.expose(
                published, self.min_cell_count, cache=self.cache, layout=self.layout
            )
        return self.seen[key]

    def published(self, hidden: np.ndarray) -> pd.DataFrame:
        """Return the records and implicit totals as published with ``hidden`` hidden."""
        return self.attacked.assign(value=np.where(hidden, np.nan, self.every))

    def hidden(self, hidden_counts: np.ndarray) -> np.ndarray:
        """Return what is hidden of the records and implicit totals with ``hidden_counts``."""
        hidden = np.zeros(len(self.attacked), dtype=bool)
        hidden[: self.n] = hidden_counts | self.hiding(hidden_counts)
        return hidden

    def whole(self, trial: np.ndarray, base: np.ndarray) -> bool:
        """Whether the attack of every record finds no leak with ``trial`` that ``base`` hides.

        The blocks are those of the repair's state: publishing counts can write rows that
        join two of them (a percentage shown with its count ties it to a denominator), so
        a move that publishes many counts at once is confirmed by an attack of all records
        (the implicit totals are left to :meth:`safe`, block by block).
        """
        after = set(self.attack(self.hidden(trial), self.own).leaked)
        return after <= set(self.attack(self.hidden(base), self.own).leaked)

    def leaks(self, counts: np.ndarray) -> bool:
        """Whether the attack of every record finds a leak with ``counts`` hidden."""
        return bool(self.attack(self.hidden(counts), self.own).report.leaks)

    def safe(self, trial: np.ndarray, base: np.ndarray) -> tuple[bool, Exposure | None]:
        """Return whether ``trial`` leaks nothing ``base`` does not, and its leaks if any.

        Only the blocks in which the two differ are attacked: first the records alone, then
        with the implicit totals (the leaks returned are those of the attack that failed).
        """
        assert self.blocks is not None
        before, hidden = self.hidden(base), self.hidden(trial)
        part = np.isin(self.blocks, np.unique(self.blocks[hidden != before]))
        found = self.attack(hidden, part & self.own)
        if found.report.leaks:
            return False, found
        # with the implicit totals: nothing the margin convention finds may be new
        implicit = self.attack(hidden, part)
        if set(implicit.leaked) <= set(self.attack(before, part).leaked):
            return True, None
        return False, implicit

    def publish(
        self, base: np.ndarray, cells: list[int], swap: _Swap | None
    ) -> tuple[np.ndarray, int, bool]:
        """Publish ``cells`` again one at a time, each where that leaks nothing.

        With ``swap``, the counts a published cell determines are published with it and a
        cell that leaks alone is tried with covers (:class:`_Swap`). Returns the hidden
        counts, how many of ``cells`` were published and whether covers were hidden.
        """
        published, covered = 0, False
        for cell in cells:
            trial = base.copy()
            trial[cell] = False
            tries = [trial]
            if swap is not None:
                released = swap.release(trial, cell)
                if (released != trial).any():
                    tries.insert(0, released)  # its records linked to them may tell more
            found = [self.safe(t, base) for t in tries[:1]]
            if not found[0][0] and len(tries) > 1:
                found.append(self.safe(tries[1], base))
            ok = next((i for i, (fine, _) in enumerate(found) if fine), None)
            if ok is None and swap is not None:
                for t, (_, leaks) in zip(tries, found, strict=True):
                    if leaks is None:
                        continue
                    t, done = swap.cover([cell], t, leaks, base, self.safe)
                    if done:
                        base, published, covered = t, published + 1, True
                        break
            elif ok is not None:
                base, published = tries[ok], published + 1
                covered |= tries[ok] is not trial
        return base, published, covered


#: published headlines tried in exchange for the hidden headlines of their block
EXCHANGE_PARTNERS = 4


def _exchange(
    counts: np.ndarray,
    ordered: list[int],
    publish: Callable[[np.ndarray, list[int]], tuple[np.ndarray, int, bool]],
    headline: np.ndarray,
    blocks: np.ndarray,
    weights: np.ndarray,
) -> tuple[np.ndarray, bool]:
    """Hide one published headline where that lets two or more hidden ones be published.

    The rule: nested rates pin a best response from two published rates (CRh = ``cr_crh``
    - ``cr``, CRi = ``response`` - ``cr_crh``); where CRh and CRi are both small, hiding
    ``cr_crh`` alone protects both, while a greedy choice may have hidden ``cr`` and
    ``response``. Each hidden headline still hidden tries the published headlines of its
    block (of at least the threshold), lightest first, at most
    :data:`EXCHANGE_PARTNERS`: with that one hidden, the hidden headlines of the block are
    published again as in the first pass; the exchange is kept when more than one is.
    """
    changed = False
    for cell in ordered:
        if not counts[cell]:
            continue
        near = np.flatnonzero(headline & ~counts & (blocks == blocks[cell])).tolist()
        partners = sorted(near, key=lambda g: (weights[g], g))
        for g in partners[:EXCHANGE_PARTNERS]:
            base = counts.copy()
            base[g] = True
            hidden = [c for c in ordered if base[c] and blocks[c] == blocks[cell]]
            trial, published, _ = publish(base, hidden)
            if published >= 2:
                logger.debug("record %d hidden, %d headline(s) published again", g, published)
                counts, changed = trial, True
                break
    return counts, changed


#: rounds of covering a headline published again (:class:`_Swap`) before it is given up
SWAP_ROUNDS = 8


class _Swap:
    """Publish a hidden headline again by hiding cheaper counts that protect the same cells.

    The rule: a headline count ``h`` whose publication alone gives a small hidden count
    away is published when other counts, none of them a headline, can be hidden instead,
    at a total weight (:func:`allrwe.results.suppression.cell_weights`) below ``h``'s.
    Round by round, in the constraints nearest to each leak (those of the leaked count
    itself, then those of the hidden counts they bound, see
    :func:`allrwe.results.attack.exposing`) that hold a published count other than a
    headline, the cheapest such count is hidden and the tables (margins linked by shared
    cells) holding it are protected again; a leak pinned by one constraint whose published
    counts are all headlines cannot be covered. A crossed stratum of 2 persons (Ph+ & RR)
    then hides the other crossed strata rather than the group size.
    """

    def __init__(
        self,
        records: pd.DataFrame,
        values: np.ndarray,
        weights: np.ndarray,
        headline: np.ndarray,
        min_cell_count: int,
        margins: dict[str, Margin],
    ) -> None:
        self.values = values
        self.weights = weights
        self.headline = headline
        self.min_cell_count = min_cell_count
        self.margins = margins
        self.is_count = (records["estimate_type"] == "count").to_numpy()
        filled = np.nan_to_num(values, nan=0.0)
        self.primary = self.is_count & (filled >= 1) & (filled < min_cell_count)
        self.index = count_rows(records)
        self._tables: TableIndex | None = None
        self.cell_margins = margins_by_cell(margins)

    def release(self, hidden: np.ndarray, cell: int) -> np.ndarray:
        """Return ``hidden`` with the counts that publishing ``cell`` determines published.

        A hidden count that is the only unknown of a margin (its other cells and its total
        published, or an unrecorded total that is not small) equals the total minus the
        rest: hiding it protects nothing, but hides the records linked to it (the age
        count of Table 1 equals the group size where no age is missing, and carries the
        mean, median and range). Small counts are never published; each count published
        here may determine more, through its other margins.
        """
        hidden = hidden.copy()
        todo = [cell]
        while todo:
            for margin in self.cell_margins.get(todo.pop(), []):
                if margin.small_unrecorded_total(self.values, self.min_cell_count):
                    continue
                unknown = [c for c in margin.cells() if hidden[c]]
                if len(unknown) != 1 or self.values[unknown[0]] < self.min_cell_count:
                    continue
                hidden[unknown[0]] = False
                todo.append(unknown[0])
        return hidden

    def _coverable(self, cell: int, hidden: np.ndarray) -> bool:
        """Whether each margin of ``cell`` holds another cell that hides it, no headline.

        A count whose margin has no other non-zero cell but headlines (the age count of
        Table 1, beside its zero missing and the group size) is the total minus zeros: it
        could only be covered by hiding the headline again.
        """
        for margin in self.cell_margins.get(cell, []):
            if margin.total is None and not margin.small_unrecorded_total(
                self.values, self.min_cell_count
            ):
                cells = margin.members
            else:
                cells = margin.cells()
            if not any(
                c != cell and self.values[c] > 0 and (hidden[c] or not self.headline[c])
                for c in cells
            ):
                return False
        return True

    @property
    def tables(self) -> TableIndex:
        if self._tables is None:
            self._tables = table_index(self.margins)
        return self._tables

    def cover(
        self,
        cells: list[int],
        trial: np.ndarray,
        found: Exposure,
        counts: np.ndarray,
        safe: Callable[[np.ndarray, np.ndarray], tuple[bool, Exposure | None]],
    ) -> tuple[np.ndarray, bool]:
        """Return ``trial`` with covers hidden, and whether they protect every small count.

        ``cells``: the counts published again; the covers weigh less than they do together.
        """
        primary = self.primary | trial  # what is hidden stays hidden
        budget = float(self.weights[cells].sum())
        for _ in range(SWAP_ROUNDS):
            extra = self._choose(found, trial)
            if not extra:
                break
            primary = primary.copy()
            primary[extra] = True
            trial = trial | primary
            around = self.tables.holding(extra)
            if around:
                trial = protect_margins(
                    self.values,
                    primary,
                    around,
                    self.min_cell_count,
                    None,
                    self.weights,
                    hidden=trial,
                )
            trial &= self.is_count
            added = trial & ~counts
            if trial[cells].any() or (added & self.headline).any():
                break
            if float(self.weights[added].sum()) >= budget:
                break
            ok, leaks = safe(trial, counts)
            if ok:
                logger.debug(
                    "records %s published again, %d count(s) hidden instead",
                    cells,
                    int(added.sum()),
                )
                return trial, True
            if leaks is None:
                break
            found = leaks
        return trial, False

    def _choose(self, found: Exposure, hidden: np.ndarray) -> list[int]:
        """Return the cheapest published count, no headline, of each nearest constraint."""

        def published(keys: list[tuple[str, ...]]) -> list[int]:
            rows = [self.index.get(k, -1) for k in keys]
            return [r for r in rows if r >= 0 and not hidden[r]]

        for depth, layer in enumerate(found.layers):
            extra: set[int] = set()
            for keys, unknowns in layer:
                rows = published(keys)
                others = [r for r in rows if not self.headline[r] and self._coverable(r, hidden)]
                if not others:
                    if depth == 0 and len(unknowns) == 1 and rows:
                        return []  # a leak pinned by headlines alone
                    continue
                extra.add(min(others, key=lambda r: (self.weights[r], r)))
            if extra:
                return sorted(extra)
        return []


def _implicit_totals(
    records: pd.DataFrame, values: np.ndarray, margins: dict[str, Margin], min_cell_count: int
) -> pd.DataFrame:
    """Return a published total record for each margin whose total is no record.

    As in :mod:`allrwe.results.margins`, such a total is taken as published elsewhere,
    unless it is small (then it is hidden wherever it appears and is left out here).
    """
    keys, totals = [], []
    for key in sorted(margins):
        margin = margins[key]
        if margin.total is not None or not margin.members:
            continue
        if not margin.small_unrecorded_total(values, min_cell_count):
            keys.append(key)
            totals.append(float(values[margin.members].sum()))
    if not keys:
        return records.iloc[:0]
    # one variable per margin: each total joins the block of its own members only
    out = make_records(
        analysis="~implicit total",
        variable=keys,
        estimate_name="count",
        estimate_type="count",
        value=totals,
        margin=[f"total:{key}" for key in keys],
    )
    return out.reindex(columns=records.columns)
