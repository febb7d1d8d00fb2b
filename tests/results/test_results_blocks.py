"""Blocks of the attacker's system: the repair rounds attack only the blocks they change.

:func:`allrwe.results.attack.blocks` labels records so that no constraint the attacker writes
joins two labels, for the records as given and for the same records with more counts hidden
(the repair rounds only hide more). The records: the seed003/seed004 survival chain
(:func:`disclosure_cases.stratum_chain_records`) beside a response table and a baseline
table with an SMD of two groups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.results import ResultSet, make_records, suppress
from allrwe.results.attack import Layout, _build, attack, blocks, expose
from allrwe.results.attack.smd import _smd
from allrwe.results.suppression import _Hiding
from disclosure_cases import stratum_chain_records

BEST = {"CR": 10, "CRh": 2, "CRi": 3, "NE": 2, "NR": 5}
RATES = {"cr": 10, "cr_crh": 12, "response": 15}


def _response() -> pd.DataFrame:
    rows = [("best_response", level, n) for level, n in BEST.items()]
    rows += [(variable, "overall", n) for variable, n in RATES.items()]
    return make_records(
        analysis="response",
        group="BLIN",
        variable=[v for v, _, _ in rows],
        variable_level=[lv for _, lv, _ in rows],
        estimate_name="count",
        value=[float(n) for _, _, n in rows],
        margin=["response/BLIN/best_response" if v == "best_response" else "" for v, _, _ in rows],
    )


def _baseline() -> pd.DataFrame:
    # ph_status of two groups (Ph+ of INO small) and the SMD of INO vs BLIN
    frames = []
    for group, counts in (("INO", [40, 3]), ("BLIN", [50, 20])):
        frames.append(
            make_records(
                analysis="baseline",
                group=group,
                variable="ph_status",
                variable_level=["negative", "positive"],
                estimate_name="count",
                value=[float(c) for c in counts],
                margin=f"baseline/{group}/ph_status",
            )
        )
    frames.append(
        make_records(
            analysis="baseline",
            group="INO vs BLIN",
            variable="ph_status",
            variable_level="overall",
            estimate_name="smd",
            estimate_type="numeric",
            value=0.4375,
        )
    )
    return pd.concat(frames, ignore_index=True)


def _records() -> ResultSet:
    records = pd.concat(
        [stratum_chain_records().records, _response(), _baseline()], ignore_index=True
    )
    return ResultSet.create(records, spec={"study": "test"}, cdm_source="synthetic")


def _row_blocks(records: pd.DataFrame, labels: np.ndarray) -> list[set[int]]:
    """Return, per constraint row of the attack on ``records``, the blocks of its records."""
    system, numeric = _build(records)
    _smd(system, numeric)
    block_of = {}
    for label, key in zip(
        labels.tolist(),
        records[
            [
                "analysis",
                "group",
                "strata_name",
                "strata_level",
                "variable",
                "variable_level",
                "estimate_name",
            ]
        ]
        .astype(str)
        .itertuples(index=False, name=None),
        strict=True,
    ):
        base = key[0].removesuffix("_counts")
        block_of[(base, *key[1:])] = label
    rows = [[system.keys[j] for j in row.coefs] + list(row.known) for row in system.rows]
    rows += [list(keys) for keys in system.constant]  # rows of published counts only
    return [{block_of[k] for k in keys if k in block_of} for keys in rows]


def test_no_constraint_joins_two_blocks_also_with_every_count_hidden():
    records = _records().records
    labels = expose(records, 5, with_blocks=True).blocks
    assert labels is not None
    # the survival chain, the response table and the baseline groups are apart
    by_analysis = pd.Series(labels).groupby(records["analysis"].to_numpy()).nunique()
    assert len(set(labels.tolist())) >= 3
    assert by_analysis["response"] == 1
    # the SMD joins its two groups
    baseline = records["analysis"] == "baseline"
    assert len(set(labels[baseline.to_numpy()].tolist())) == 1
    # every row holds records of one block, as published and with every count hidden
    counts = (records["estimate_type"] == "count").to_numpy()
    hidden = records.assign(value=np.where(counts, np.nan, records["value"].to_numpy()))
    for frame in (records, hidden):
        rows = _row_blocks(frame, labels)
        assert rows
        assert all(len(found) == 1 for found in rows)


def test_blocks_of_the_system_match_a_direct_computation():
    records = _records().records
    system, numeric = _build(records)
    _smd(system, numeric)
    labels = blocks(records, system)
    assert len(labels) == len(records)
    assert np.array_equal(labels, expose(records, 5, with_blocks=True).blocks)


def test_suppressing_tables_together_equals_suppressing_each_alone():
    # the repair rounds attack only the blocks they changed: the result must be what
    # attacking everything every round gives, i.e. each part suppressed on its own
    together = suppress(_records(), 5).records
    assert attack(together, 5).leaks == ()
    parts = [
        stratum_chain_records().records,
        _response(),
        _baseline(),
    ]
    alone = pd.concat(
        [
            suppress(ResultSet.create(p, spec={"study": "test"}, cdm_source="synthetic"), 5).records
            for p in parts
        ],
        ignore_index=True,
    )
    columns = ["analysis", "group", "strata_level", "variable", "variable_level", "estimate_name"]

    def hidden(frame: pd.DataFrame) -> set[tuple[str, ...]]:
        return set(frame.loc[frame["suppressed"], columns].itertuples(index=False, name=None))

    assert len(hidden(together)) > 5
    assert hidden(together) == hidden(alone)
    shown = together.set_index(["analysis", "group", "variable", "variable_level", "estimate_name"])
    # the SMD of a group with a hidden count is hidden with it
    assert np.isnan(shown.loc[("baseline", "INO vs BLIN", "ph_status", "overall", "smd"), "value"])


def test_an_attack_by_layout_reads_the_values_only_and_finds_the_same():
    # the repair attacks subsets of one table with a Layout read once: given only the
    # values of the rows (by index label), it must find what an attack of the full rows finds
    records = _records().records.reset_index(drop=True)
    layout = Layout.of(records)
    counts = (records["estimate_type"] == "count").to_numpy()
    rng = np.random.default_rng(3)
    values = records["value"].to_numpy(dtype="float64")
    labels = expose(records, 5, with_blocks=True).blocks
    assert labels is not None
    for _ in range(4):
        hidden = counts & (rng.random(len(records)) < 0.4)
        shown = records.assign(value=np.where(hidden, np.nan, values))
        for label in sorted(set(labels.tolist())):
            rows = np.flatnonzero(labels == label)
            plain = expose(shown.iloc[rows], 5)
            only = pd.DataFrame({"value": shown["value"].to_numpy()[rows]}, index=rows)
            by_layout = expose(only, 5, layout=layout)
            assert by_layout.leaked == plain.leaked
            assert by_layout.report.leaks == plain.report.leaks
            assert by_layout.report.recovered == plain.report.recovered
            assert by_layout.report.n_constraints == plain.report.n_constraints
            # the same rows again, other counts hidden: what is derived from keys is reused
            assert layout.counts(rows.tolist()) is layout.counts(rows.tolist())


def test_smds_are_hidden_with_every_count_they_are_computed_from():
    records = _records().records.reset_index(drop=True)
    hiding = _Hiding(records)
    smd = (records["estimate_name"] == "smd").to_numpy()
    level = records["variable_level"].astype(str).to_numpy()
    group = records["group"].astype(str).to_numpy()
    for i in np.flatnonzero((records["estimate_type"] == "count").to_numpy()).tolist():
        hidden = np.zeros(len(records), dtype=bool)
        hidden[i] = True
        uses = records["analysis"].iloc[i] == "baseline" and group[i] in ("INO", "BLIN")
        assert hiding.comparisons(hidden)[smd].tolist() == [uses], (group[i], level[i])
