"""Small-cell suppression: primary, linked and complementary, applied once before export.

The rules (see ``docs/results-model.md``):

1. primary: a ``count`` record with ``1 <= value < min_cell_count`` is suppressed; zero stays
   visible;
2. complementary: within each margin (count cells that add up to a published total), a lone
   unknown, or unknowns that could only be all ones, would be recoverable as total minus the
   rest, so the smallest other non-zero cell is suppressed too; this repeats until no margin
   changes, and an exact check over all margins of a table (linear programming) then makes
   sure no suppressed cell is pinned down by several margins together (details in
   :mod:`allrwe.results.margins`);
3. linked: every non-count record that shares the key of a suppressed count (its percentage,
   its summary statistics, a survival estimate at a suppressed number at risk) is suppressed.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import pandas as pd

from allrwe.errors import ResultsError
from allrwe.results.complementary import HEADLINE_WEIGHT, OVERALL_WEIGHT, headlines
from allrwe.results.margins import (
    Margin,
    hidden_whole_tables,
    parse_margins,
    protect_margins,
    table_index,
)
from allrwe.results.model import KEY_COLUMNS, PAIR_SEPARATOR, ResultSet, count_rows
from allrwe.results.provenance import SuppressionSummary
from allrwe.results.republish import republish_headlines

if TYPE_CHECKING:  # the attack module loads SciPy's solvers: imported where it runs
    from allrwe.results.attack import Exposure

__all__ = ["POLICIES", "suppress"]

logger = logging.getLogger(__name__)


def _cell_codes(records: pd.DataFrame) -> np.ndarray:
    """Return a code per row, the same for rows with the same :data:`KEY_COLUMNS`."""
    return records.groupby(list(KEY_COLUMNS), sort=False).ngroup().to_numpy()


#: the headline counts: hidden only where nothing else protects a small cell
HEADLINE_VARIABLES = frozenset(
    {"persons", "setting", "treatment_setting", "response", "cr", "cr_crh", "overall"}
)

#: analyses whose persons and events in the overall stratum are headlines too: the "n" and
#: "events" beside each median and landmark rate of Table 2 (hiding them hides those)
HEADLINE_SUMMARIES = frozenset({"survival_summary", "cumulative_incidence_summary"})

#: analyses whose risk sets in the overall stratum are headlines: the persons at risk behind
#: each landmark rate of Table 2 (hiding one hides the rate)
HEADLINE_LANDMARKS = frozenset({"survival_landmark", "cumulative_incidence_landmark"})


#: the strata that seed 001's Table 2 shows as columns, in this order
#: (``allrwe.report.sections.efficacy``)
TABLE2_STRATA = ("setting", "line", "line_at_index")
#: a column of Table 2 followed by those of the strata crossed within it (ND induction, ND
#: consolidation, R/R re-induction, as seed 001's columns)
TABLE2_WITHIN = {"setting": "setting &&& treatment_setting"}
#: every stratum that is a column of Table 2: its persons, events, risk sets and responders
#: are published again where they protect nothing (:func:`column_counts`)
COLUMN_STRATA = (*TABLE2_STRATA, *TABLE2_WITHIN.values())

#: the analyses of Table 2's cells besides the summaries and landmarks: the responders
COLUMN_ANALYSES = frozenset({"response"})


def _summary_counts(records: pd.DataFrame) -> np.ndarray:
    """Flag the persons and events of the summaries and the risk sets of their landmarks."""
    estimate = records["estimate_name"].astype(str)
    analysis = records["analysis"]
    return (
        analysis.isin(HEADLINE_SUMMARIES).to_numpy()
        & ((estimate == "n") | estimate.str.startswith("n_event")).to_numpy()
    ) | (analysis.isin(HEADLINE_LANDMARKS).to_numpy() & (estimate == "n_risk").to_numpy())


def column_counts(records: pd.DataFrame) -> np.ndarray:
    """Flag the counts of Table 2's stratum columns (:data:`COLUMN_STRATA`).

    They are no headlines (they weigh as any stratum's counts), but
    :func:`allrwe.results.republish.republish_headlines` tries them again after the
    headlines and the overall counts.
    """
    responders = (
        records["analysis"].isin(COLUMN_ANALYSES).to_numpy()
        & records["variable"].isin(HEADLINE_VARIABLES).to_numpy()
        & (records["estimate_type"] == "count").to_numpy()
    )
    in_columns = records["strata_name"].isin(COLUMN_STRATA).to_numpy()
    return in_columns & (_summary_counts(records) | responders)


def cell_weights(records: pd.DataFrame) -> np.ndarray:
    """Return the cost of hiding each record: its value plus one, more for headline counts.

    Headline counts are the persons of each group and stratum, ND/RR and treatment settings,
    responders, the persons and events of each survival and cumulative incidence summary
    (:data:`HEADLINE_SUMMARIES`) and the risk sets of their landmark rates
    (:data:`HEADLINE_LANDMARKS`), in the overall stratum: they weigh :data:`HEADLINE_WEIGHT`
    times more.
    """
    values = np.nan_to_num(records["value"].to_numpy(dtype="float64"), nan=0.0)
    summary = _summary_counts(records)
    overall = (records["strata_name"] == "overall").to_numpy()
    headline = overall & (
        records["variable"].isin(HEADLINE_VARIABLES).to_numpy()
        | (records["analysis"] == "cohort").to_numpy()
        | summary
    )
    factor = np.where(headline, HEADLINE_WEIGHT, np.where(overall, OVERALL_WEIGHT, 1.0))
    return (values + 1.0) * factor


class _Hiding:
    """What hiding some counts hides with them: the records linked to them, the SMDs.

    Built once per record table; each call takes the hidden counts.

    Parameters
    ----------
    records : pandas.DataFrame
        The records.
    """

    def __init__(self, records: pd.DataFrame) -> None:
        self.codes = _cell_codes(records)
        self.is_count = (records["estimate_type"] == "count").to_numpy()
        columns = ["analysis", "strata_name", "strata_level", "group", "variable", "variable_level"]
        self.keys = list(zip(*(records[c].astype(str).tolist() for c in columns), strict=True))
        group = records["group"].astype(str)
        self.pairs = np.flatnonzero(group.str.contains(PAIR_SEPARATOR, regex=False).to_numpy())
        self._uses = _comparison_uses(self.keys, self.pairs.tolist())

    def linked(self, count_suppressed: np.ndarray) -> np.ndarray:
        """Flag the non-count records that share the key of a hidden count."""
        return np.isin(self.codes, self.codes[count_suppressed]) & ~self.is_count

    def comparisons(self, count_suppressed: np.ndarray) -> np.ndarray:
        """Flag comparison records (group ``"A vs B"``) computed from a hidden count.

        An SMD of groups A and B uses the counts of its variable (its level, for a
        multi-level variable) and the persons of both groups in the same analysis and
        stratum; it is hidden when any of them is, since it and the visible counts could pin
        the hidden one.
        """
        out = np.zeros(len(self.keys), dtype=bool)
        if not len(self.pairs) or not count_suppressed.any():
            return out
        out[self.pairs] = (self._uses @ count_suppressed.astype(np.int64)) > 0
        return out

    def __call__(self, count_suppressed: np.ndarray) -> np.ndarray:
        """Flag every record hidden with ``count_suppressed`` (linked records and SMDs)."""
        return self.linked(count_suppressed) | self.comparisons(count_suppressed)


def _comparison_uses(keys: list[tuple[str, ...]], pairs: list[int]) -> Any:
    """Return which records each comparison record (row ``pairs[k]``) is computed from.

    A sparse matrix, a row per comparison and a column per record: the records of its
    variable in either group (all levels for the variable's own row, ``variable_level``
    ``overall``; the same level otherwise) and the persons of either group, in the same
    analysis and stratum (see :meth:`_Hiding.comparisons`).
    """
    from scipy import sparse  # deferred, as the solvers

    by_variable: dict[tuple[str, ...], list[int]] = defaultdict(list)
    by_level: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for j, key in enumerate(keys):
        by_variable[key[:5]].append(j)
        by_level[key].append(j)
    rows: list[int] = []
    columns: list[int] = []
    for k, i in enumerate(pairs):
        analysis, name, level, group, variable, var_level = keys[i]
        used: set[int] = set()
        for member in group.split(PAIR_SEPARATOR):
            base = (analysis, name, level, member)
            if var_level == "overall":
                used.update(by_variable.get((*base, variable), ()))
            used.update(by_level.get((*base, variable, var_level), ()))
            used.update(by_variable.get((*base, "persons"), ()))
        rows += [k] * len(used)
        columns += sorted(used)
    data = np.ones(len(rows), dtype=np.int64)
    return sparse.csr_array((data, (rows, columns)), shape=(len(pairs), len(keys)))


#: rounds of attack and repair :func:`suppress` runs at most
MAX_REPAIR_ROUNDS = 40


#: a constraint of the attacker: the published counts it was written with, the unknowns
#: it bounds (see :func:`allrwe.results.attack.exposing`)
_Constraint = tuple[list[tuple[str, ...]], frozenset[int]]


def _repairs(
    layers: list[list[_Constraint]],
    index: dict[tuple[str, ...], int],
    counts: np.ndarray,
    weights: np.ndarray,
    headline: np.ndarray,
    tried: set[tuple[tuple[str, ...], ...]],
) -> set[int]:
    """Choose the published counts to hide so that the constraints of a leak break.

    Per constraint of the nearest layer (see :func:`allrwe.results.attack.exposing`) that
    holds a count still published, its cheapest count by :func:`cell_weights`; a layer
    without one passes to the next. Where that count is a headline, the cheaper counts of
    the constraints of the next layer that bound the same unknowns are tried first, once
    per constraint: e.g. ``cr_crh = CR + CRh`` with ``cr = CR`` published gives CRh away;
    hiding ``cr`` rather than ``cr_crh`` keeps the CR/CRh rate. ``tried`` collects the
    constraints for which that was done.
    """

    def published(keys: list[tuple[str, ...]]) -> list[int]:
        return [index[k] for k in keys if k in index and not counts[index[k]]]

    def cheapest(rows: list[int]) -> int:
        return min(rows, key=lambda r: (weights[r], r))

    for depth, layer in enumerate(layers):
        extra: set[int] = set()
        after = layers[depth + 1] if depth + 1 < len(layers) else []
        for keys, unknowns in layer:
            candidates = published(keys)
            if not candidates:
                continue
            best = cheapest(candidates)
            signature = tuple(keys)
            if headline[best] and signature not in tried:
                further = [r for k, u in after if u & unknowns for r in published(k)]
                cheaper = [r for r in further if weights[r] < weights[best]]
                if cheaper:
                    tried.add(signature)
                    best = cheapest(cheaper)
            extra.add(best)
        if extra:
            return extra
    return set()


def _harden(
    records: pd.DataFrame,
    values: np.ndarray,
    primary: np.ndarray,
    counts: np.ndarray,
    margins: dict[str, Margin],
    min_cell_count: int,
    weights: np.ndarray,
    cache: dict[bytes, Any],
) -> np.ndarray:
    """Attack the suppressed records; hide what gives a leak away and protect again.

    The margins cover the links a table declares; the attacker
    (:func:`allrwe.results.attack.expose`) also reads rates, curves, landmarks and
    summaries. Each round hides, in every constraint nearest to a small hidden count that
    still holds a published count, its cheapest published count (by :func:`cell_weights`),
    then protects again the tables (margins linked by shared cells) of those counts, with
    the counts hidden so far kept hidden, until the attacker finds no leak. A leak whose
    constraints hold no published count at all cannot be closed by hiding counts; it is
    left to the run's final attack to report.

    The first round attacks every record; later rounds attack only the blocks
    (:func:`allrwe.results.attack.blocks`) in which a record was hidden since, or a leak was
    left: no constraint of the attacker joins two blocks, so the others stand as attacked.
    When those find no leak, one attack of every record confirms it (or goes on repairing).
    """
    from allrwe.results.attack import Layout, expose  # deferred: SciPy's solvers

    # the attacks read the rows of ``attacked`` by position: what no hiding changes, once
    attacked = records.reset_index(drop=True)
    layout = Layout.of(attacked)
    is_count = (records["estimate_type"] == "count").to_numpy()
    index = count_rows(records)
    labels = _Labels(records)
    # ``cache``: components the attacker solved in an earlier round (or an earlier attack)
    headline = headlines(weights, values)
    tried: set[tuple[tuple[str, ...], ...]] = set()
    tables = table_index(margins)
    with_counts = _Hiding(records)
    blocks: np.ndarray | None = None
    before: np.ndarray | None = None
    leaky: set[int] = set()  # blocks with a leak at their last attack
    for _ in range(MAX_REPAIR_ROUNDS):
        hidden = counts | with_counts(counts)
        shown = np.where(hidden, np.nan, values)
        if blocks is None or before is None:
            every = attacked.assign(value=shown)  # the blocks read every column
            found = expose(every, min_cell_count, cache=cache, with_blocks=True, layout=layout)
            assert found.blocks is not None
            blocks = found.blocks
            touched = set(blocks.tolist())
        else:
            touched = set(blocks[hidden != before].tolist()) | leaky
            part = np.isin(blocks, sorted(touched))
            found = expose(
                layout.published(shown, np.flatnonzero(part)),
                min_cell_count,
                cache=cache,
                layout=layout,
            )
        before = hidden
        leaky = (leaky - touched) | _leaky_blocks(found, index, blocks)
        if not leaky and len(touched) < len(set(blocks.tolist())):
            # the attacks of the changed blocks have missed a leak the whole attack finds
            # (tests/results/test_results_harden.py): attack everything once more (the
            # cache holds every component that did not change) before "no leak" is taken
            found = expose(layout.published(shown), min_cell_count, cache=cache, layout=layout)
            leaky = _leaky_blocks(found, index, blocks)
        if not leaky:
            return counts
        extra = _repairs(found.layers, index, counts, weights, headline, tried)
        if not extra:
            break
        logger.debug(
            "repair: %d leak(s) in %.1f s (%d of %d blocks attacked); %d more count(s) hidden",
            len(found.report.leaks),
            found.report.seconds,
            len(touched),
            len(set(blocks.tolist())),
            len(extra),
        )
        primary = primary.copy()
        primary[sorted(extra)] = True
        around = tables.holding(sorted(extra))
        counts = counts | primary
        if around:
            counts = protect_margins(
                values, primary, around, min_cell_count, labels, weights, hidden=counts
            )
        counts &= is_count
    logger.warning("the attacker still recovers %d hidden count(s)", len(found.report.leaks))
    return counts


def _leaky_blocks(
    found: Exposure, index: dict[tuple[str, ...], int], blocks: np.ndarray
) -> set[int]:
    """Return the blocks of the leaked counts.

    A leaked count that is no record (the persons who leave a curve after its last point,
    derived from the summary and the points) is in the blocks of the published counts that
    determine it: those of the constraints nearest to the leaks.
    """
    out = {int(blocks[index[k]]) for k in found.leaked if k in index}
    if any(k not in index for k in found.leaked):
        near = found.layers[0] if found.layers else []
        out |= {int(blocks[index[k]]) for keys, _ in near for k in keys if k in index}
    return out


class _Labels(Sequence[str]):
    """Each record's name, its key columns and estimate name joined with ``/``.

    Names are built when read, which is only for an error message.

    Parameters
    ----------
    records : pandas.DataFrame
        The records to name.
    """

    def __init__(self, records: pd.DataFrame) -> None:
        self._records = records

    def __len__(self) -> int:
        return len(self._records)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        row = self._records.iloc[index]
        return "/".join(str(row[c]) for c in (*KEY_COLUMNS, "estimate_name"))


#: the suppression policies (``StudySpec.suppression.policy``)
POLICIES = ("complementary", "per_cell", "none")


def suppress(
    results: ResultSet,
    min_cell_count: int = 5,
    *,
    policy: str = "complementary",
    attack_cache: dict[bytes, Any] | None = None,
) -> ResultSet:
    """Suppress small counts and everything that would reveal them.

    Parameters
    ----------
    results : ResultSet
        Unsuppressed results (suppress once, after concatenating all analyses).
    min_cell_count : int, default 5
        Counts from 1 to ``min_cell_count - 1`` are suppressed; 0 stays visible, as in
        OHDSI tools, because an empty cell discloses no person. At least 2.
    policy : {"complementary", "per_cell", "none"}, default "complementary"
        ``complementary``: small counts, the cells that would let them be worked out from
        their margins, and everything linked to them; ``per_cell``: small counts and what is
        linked to them only (weaker: margins may give a hidden count away); ``none``: nothing
        is hidden (the provenance records the opt-out).
    attack_cache : dict, optional
        Where the attacker keeps the bounds of the parts of its system it solved (by a
        digest of everything the bounds depend on, so that a part met again is not solved
        again). A run hands the same dict to its final attack of the published files
        (:func:`allrwe.results.attack.attack`), which meets most parts unchanged. Default:
        a dict of this call's own.

    Returns
    -------
    ResultSet
        A new result set whose suppressed records have ``value`` NaN and ``suppressed``
        True, with the threshold and the numbers of suppressed records in its provenance.
        Which records were suppressed for being small (rather than as complements) is not
        recorded anywhere, since that would tell which hidden cells are the small ones.

    Raises
    ------
    ResultsError
        If the results are already suppressed, the threshold is not a positive integer, or a
        margin is malformed.
    DisclosureError
        If a suppressed cell cannot be protected within its declared margins.

    Examples
    --------
    >>> from allrwe.results import ResultSet, make_records
    >>> rs = ResultSet.create(
    ...     make_records(analysis="baseline", variable="ph_status",
    ...                  variable_level=["negative", "positive", "unknown"],
    ...                  estimate_name="count", value=[57, 40, 3], margin="ph"),
    ...     spec={"name": "demo"}, cdm_source="synthetic")
    >>> suppress(rs).records["value"].tolist()
    [57.0, nan, nan]
    """
    if results.is_suppressed:
        raise ResultsError("results are already suppressed; suppress once, before export")
    if isinstance(min_cell_count, bool) or not isinstance(min_cell_count, int | np.integer):
        raise ResultsError(f"min_cell_count must be an integer, not {min_cell_count!r}")
    if min_cell_count < 2:
        raise ResultsError(
            f"min_cell_count must be at least 2, got {min_cell_count}; "
            "to publish every count use policy 'none'"
        )
    if policy not in POLICIES:
        raise ResultsError(f"suppression policy must be one of {list(POLICIES)}, not {policy!r}")
    records = results.records
    values = records["value"].to_numpy(dtype="float64")
    is_count = (records["estimate_type"] == "count").to_numpy()
    primary = is_count & (values >= 1) & (values < min_cell_count)
    if policy == "none":
        primary[:] = False
    margins = parse_margins(records["margin"].tolist(), values)
    if policy == "complementary":
        labels = _Labels(records)
        weights = cell_weights(records)
        counts = (
            protect_margins(values, primary, margins, int(min_cell_count), labels, weights)
            & is_count
        )
        cache = {} if attack_cache is None else attack_cache
        counts = _harden(
            records, values, primary, counts, margins, int(min_cell_count), weights, cache
        )
        counts = republish_headlines(
            records,
            values,
            counts,
            weights,
            int(min_cell_count),
            _Hiding(records),
            margins,
            cache,
            columns=column_counts(records),
        )
        for name in hidden_whole_tables(counts, values, margins):
            logger.warning(
                "%s: every cell of the table, zeros included, is hidden so that a small "
                "count cannot be worked out from the totals",
                name,
            )
    else:
        counts = primary
    linked = _Hiding(records)(counts)
    hidden = counts | linked
    summary = SuppressionSummary(
        min_cell_count=int(min_cell_count),
        count_cells=int(counts.sum()),
        linked=int(linked.sum()),
        policy=policy,
    )
    logger.info(
        "suppressed %d count and %d linked records (min cell count %d)",
        summary.count_cells,
        summary.linked,
        summary.min_cell_count,
    )
    provenance = dataclasses.replace(results.provenance, suppression=summary)
    return results._with_values(np.where(hidden, np.nan, values), hidden, provenance)
