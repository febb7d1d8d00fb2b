"""``expand_sets``: the descendants of many concept sets at once, as ``expand_descendants``.

``expand_descendants`` now delegates to ``expand_sets``, so both are also compared with an
independent reading of ``concept_ancestor`` in pandas (the rule of docs/cdm-conventions.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd
import pytest

from allrwe.io.example import example_cdm_path, example_tables
from allrwe.io.source import CdmSource, connect
from allrwe.io.vocabulary import (
    Concept,
    ConceptSet,
    Vocabulary,
    expand_descendants,
    expand_sets,
    load_vocabulary,
)
from mini_cdm import base_cdm
from vocab_sets import concept

ALL, B_ALL, T_ALL, PRE_B = 134305, 4082461, 4082462, 4138008  # PRE_B lies below ALL and B_ALL
RELAPSE, REMISSION = 36712834, 141816
#: every descendant of ALL in the example CDM's concept_ancestor, ALL itself included
BELOW_ALL = [ALL, REMISSION, 4079280, B_ALL, T_ALL, PRE_B, 4173963, RELAPSE, 37017893, 37109936]


def _set(key: str, *concepts: Concept) -> ConceptSet:
    return ConceptSet(key=key, label=key, domain="condition", category="c", concepts=concepts)


#: hand-made sets on the example CDM's ALL hierarchy
HAND_MADE = [
    # ALL without B-ALL and its descendants
    _set("no_b_all", concept(ALL), concept(B_ALL, exclude=True)),
    # ALL without B-ALL itself only: pre-B (below B-ALL) stays
    _set("no_b_all_itself", concept(ALL), concept(B_ALL, exclude=True, descendants=False)),
    # B-ALL, its descendants not asked for
    _set("b_all_only", concept(B_ALL, descendants=False)),
    # two roots sharing a descendant (PRE_B), one excluded id that is nobody's descendant
    _set("b_and_t", concept(B_ALL), concept(T_ALL), concept(999, exclude=True)),
    # a concept absent from concept_ancestor keeps itself
    _set("unknown", concept(123456789)),
    # everything excluded
    _set("nothing", concept(RELAPSE), concept(ALL, exclude=True)),
]


def reference(ancestry: pd.DataFrame | None, cs: ConceptSet) -> list[int]:
    """The set's ids plus descendants, minus excluded ids and theirs, read with pandas."""

    def below(roots: Iterable[int]) -> set[int]:
        if ancestry is None:
            return set()
        rows = ancestry[ancestry["ancestor_concept_id"].isin(list(roots))]
        return {int(i) for i in rows["descendant_concept_id"]}

    keep = {c.concept_id for c in cs.concepts if not c.exclude}
    keep |= below(c.concept_id for c in cs.concepts if not c.exclude and c.include_descendants)
    drop = {c.concept_id for c in cs.concepts if c.exclude}
    drop |= below(c.concept_id for c in cs.concepts if c.exclude and c.include_descendants)
    return sorted(keep - drop)


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


@pytest.fixture(scope="module")
def ancestry() -> pd.DataFrame:
    return example_tables()["concept_ancestor"].to_pandas()


@pytest.fixture(scope="module", params=["duckdb", "parquet"])
def example(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CdmSource]:
    url = example_cdm_path(request.param, tmp_path_factory.mktemp(f"expand_{request.param}"))
    with connect(url) as source:
        yield source


def test_reference_reads_the_example_hierarchy(ancestry: pd.DataFrame) -> None:
    # the oracle itself, on hand-checked values
    assert reference(ancestry, _set("a", concept(ALL))) == sorted(BELOW_ALL)
    assert reference(ancestry, HAND_MADE[0]) == sorted(set(BELOW_ALL) - {B_ALL, PRE_B})
    assert reference(ancestry, HAND_MADE[1]) == sorted(set(BELOW_ALL) - {B_ALL})


def test_every_bundled_set_equals_expand_descendants(
    example: CdmSource, vocab: Vocabulary, ancestry: pd.DataFrame
) -> None:
    sets = list(vocab.sets.values())
    got = expand_sets(example, sets)
    assert set(got) == set(vocab.sets)
    for cs in sets:
        want = reference(ancestry, cs)
        assert got[cs.key] == want, cs.key
        assert expand_descendants(example, cs) == want, cs.key
    # descendants were found: all_diagnosis reaches T-ALL through concept_ancestor
    assert T_ALL not in vocab.sets["all_diagnosis"].concept_ids
    assert T_ALL in got["all_diagnosis"]
    assert len(got["all_diagnosis"]) > len(vocab.sets["all_diagnosis"].concept_ids)


def test_hand_made_sets_with_exclusions(example: CdmSource, ancestry: pd.DataFrame) -> None:
    got = expand_sets(example, HAND_MADE)
    assert got == {
        "no_b_all": sorted(set(BELOW_ALL) - {B_ALL, PRE_B}),
        "no_b_all_itself": sorted(set(BELOW_ALL) - {B_ALL}),
        "b_all_only": [B_ALL],
        "b_and_t": [B_ALL, T_ALL, PRE_B],
        "unknown": [123456789],
        "nothing": [],
    }
    for cs in HAND_MADE:
        assert got[cs.key] == reference(ancestry, cs) == expand_descendants(example, cs), cs.key


def test_sets_expanded_together_equal_sets_expanded_alone(
    example: CdmSource, vocab: Vocabulary
) -> None:
    sets = [*vocab.sets.values(), *HAND_MADE]
    together = expand_sets(example, sets)
    for cs in sets:
        assert expand_sets(example, [cs]) == {cs.key: together[cs.key]}, cs.key
    # the order of the sets does not matter either
    assert expand_sets(example, sets[::-1]) == together


def test_one_query_for_all_sets(
    example: CdmSource, vocab: Vocabulary, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    execute = example.execute

    def counting(expr: Any) -> Any:
        calls.append(expr)
        return execute(expr)

    monkeypatch.setattr(example, "execute", counting)
    expand_sets(example, [*vocab.sets.values(), *HAND_MADE])
    assert len(calls) == 1
    assert expand_sets(example, []) == {}
    # no set asks for descendants: nothing to look up
    assert expand_sets(example, [HAND_MADE[2]]) == {"b_all_only": [B_ALL]}
    assert len(calls) == 1


def test_overlapping_hierarchy_on_a_tiny_cdm(tmp_cdm) -> None:
    # 1 > 2 > 3, 1 > 4; 10 > 11; 20 > 21 > 22; sets share roots and exclude each other's parts
    pairs = [(1, 1), (1, 2), (1, 3), (2, 2), (2, 3), (1, 4), (10, 11), (20, 21), (20, 22), (21, 22)]
    ancestry = pd.DataFrame(
        [{"ancestor_concept_id": a, "descendant_concept_id": d} for a, d in pairs]
    )
    rows = [
        dict(r, min_levels_of_separation=0, max_levels_of_separation=0)
        for r in ancestry.to_dict("records")
    ]
    sets = [
        _set("one", concept(1)),
        _set("one_not_two", concept(1), concept(2, exclude=True)),
        _set("one_not_two_itself", concept(1), concept(2, exclude=True, descendants=False)),
        _set("two_flat", concept(2, descendants=False), concept(10)),
        _set("twenty", concept(20), concept(21, exclude=True), concept(3, exclude=True)),
    ]
    with connect(tmp_cdm({"concept_ancestor": rows})) as cdm:
        got = expand_sets(cdm, sets)
        assert got == {
            "one": [1, 2, 3, 4],
            "one_not_two": [1, 4],
            "one_not_two_itself": [1, 3, 4],
            "two_flat": [2, 10, 11],
            "twenty": [20],
        }
        for cs in sets:
            assert got[cs.key] == reference(ancestry, cs) == expand_descendants(cdm, cs)


def test_without_concept_ancestor(tmp_cdm, vocab: Vocabulary) -> None:
    sets = [*vocab.sets.values(), *HAND_MADE]
    with connect(tmp_cdm(base_cdm())) as cdm:
        assert not cdm.has("concept_ancestor")
        got = expand_sets(cdm, sets)
        for cs in sets:
            want = sorted(set(cs.concept_ids) - set(cs.excluded_ids))
            assert got[cs.key] == want == reference(None, cs), cs.key
            assert expand_descendants(cdm, cs) == want, cs.key
    assert got["all_diagnosis"] == vocab.sets["all_diagnosis"].concept_ids
    assert got["no_b_all"] == [ALL]
    assert got["nothing"] == [RELAPSE]  # ALL's descendants are unknown: relapse stays
