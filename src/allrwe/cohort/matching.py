"""How a record matches a concept set, and the layers that let one scan find many sets.

Matching (docs/cdm-conventions.md): a record belongs to a set when its standard concept id is one
of the set's concepts, or a descendant of one (when the CDM has ``concept_ancestor`` and the
concept has ``include_descendants``), or when its source concept id is one of them. A record
whose standard concept the set excludes never matches. The descendants are looked up once a run
(remembered by the kept rows) and pasted into the queries as literals.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import ibis.expr.types as ir

from allrwe.cohort.domains import Domain
from allrwe.io.cdm import CdmSource
from allrwe.io.vocabulary import ConceptSet, expand_with_exclusions

__all__ = [
    "Matcher",
    "event_table",
    "expanded_sets",
    "kept_pairs",
    "match_layers",
    "matched_ids",
    "matchers_for",
]


_Signature: TypeAlias = tuple[str, tuple[tuple[int, bool, bool], ...]]

#: A set's included and excluded concept ids, descendants included
_Expansion: TypeAlias = tuple[frozenset[int], frozenset[int]]


def _signature(cs: ConceptSet) -> _Signature:
    return (cs.key, tuple((c.concept_id, c.include_descendants, c.exclude) for c in cs.concepts))


def expanded_sets(source: CdmSource, sets: Sequence[ConceptSet]) -> list[_Expansion]:
    """Return each set's included and excluded ids with descendants; one query for new sets.

    The answers are remembered by the kept rows (:attr:`KeptRows.expansions`, keyed by the set
    key and concepts, which never change during a run); a reader without kept rows asks again.
    """
    known: dict[_Signature, _Expansion] = {} if source.kept is None else source.kept.expansions
    todo = [cs for cs in sets if _signature(cs) not in known]
    if todo:
        expanded = expand_with_exclusions(source, todo)
        for cs in todo:
            included, excluded = expanded[cs.key]
            known[_signature(cs)] = (frozenset(included), frozenset(excluded))
    return [known[_signature(cs)] for cs in sets]


@dataclass(frozen=True)
class Matcher:
    """The ids one concept set matches: standard (with descendants), source, excluded."""

    key: str
    standard: frozenset[int]
    source: frozenset[int]
    excluded: frozenset[int]

    def condition(self, table: ir.Table, dom: Domain) -> ir.BooleanValue:
        """Return the filter that keeps the table's records of the set."""
        cond = table[dom.concept_col].isin(sorted(self.standard))
        if self.source and dom.source_col in table.columns:
            # Source concepts (e.g. ICD-10-CM codes) match the set's own ids, never descendants.
            cond = cond | table[dom.source_col].isin(sorted(self.source))
        if self.excluded:
            cond = cond & ~table[dom.concept_col].isin(sorted(self.excluded))
        return cond

    def matches(self, concept: int | None, source_concept: int | None, *, by_source: bool) -> bool:
        """Whether :meth:`condition` keeps a record of these concepts (SQL's logic of nulls).

        ``by_source``: the table has the source concept column.
        """
        cond = _member(concept, self.standard)
        if self.source and by_source:
            cond = _or(cond, _member(source_concept, self.source))
        if self.excluded:
            excluded = _member(concept, self.excluded)
            cond = _and(cond, None if excluded is None else not excluded)
        return cond is True


def _member(value: int | None, ids: frozenset[int]) -> bool | None:
    """``value IN (ids)`` in SQL: null for a null value; Ibis writes an empty list as false."""
    if not ids:
        return False
    return None if value is None else value in ids


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def matchers_for(source: CdmSource, sets: Sequence[ConceptSet]) -> list[Matcher]:
    """Return a :class:`Matcher` for each set that names concepts, in order."""
    # Descendants are looked up once (a small query on concept_ancestor) and then pasted as
    # literals, which keeps the event query a plain filter every engine plans well.
    sets = [cs for cs in sets if cs.concept_ids]
    return [
        Matcher(cs.key, included, frozenset(cs.concept_ids), excluded)
        for cs, (included, excluded) in zip(sets, expanded_sets(source, sets), strict=True)
    ]


#: The concept and source concept of a record (``None`` for a null or an absent column).
_Pair: TypeAlias = tuple[int | None, int | None]


def kept_pairs(source: CdmSource, dom: Domain, kept: ir.Table) -> frozenset[_Pair]:
    """Return the distinct concept and source concept of the rows kept for ``dom``'s table."""
    columns = [c for c in (dom.concept_col, dom.source_col) if c in kept.columns]
    assert source.kept is not None  # only called on kept rows
    found = source.kept.kept_values(dom.table, columns)
    ids = [tuple(None if v is None else int(v) for v in row) for row in found]
    return frozenset((row[0], row[1] if len(row) > 1 else None) for row in ids)


def match_layers(
    matchers: list[Matcher], *, by_source: bool, pairs: frozenset[_Pair] | None = None
) -> list[list[Matcher]]:
    """Split sets into layers such that a record matches at most one set of a layer.

    Within a layer a single filtered scan labelled by a CASE expression finds every set's
    records. Two sets clash when a record may match both; a set joins the first layer holding
    no set it clashes with. Without ``pairs``, on the standard concept alone sets with shared
    ids clash; when the source concept is matched too, a record may match one set by its
    standard concept and another by its source concept (T-ALL coded with a source code of
    ALL), so every two sets clash. With ``pairs`` (the distinct concept and source concept of
    every record the query can read, see :func:`_kept_pairs`), two sets clash only when one of
    the pairs matches both.
    """
    if pairs is not None:
        clashes = _pair_clashes(matchers, pairs, by_source=by_source)
    elif by_source:
        clashes = set(itertools.combinations(range(len(matchers)), 2))
    else:
        clashes = {
            (i, j)
            for i, j in itertools.combinations(range(len(matchers)), 2)
            if matchers[i].standard & matchers[j].standard
        }
    layers: list[list[int]] = []
    for i in range(len(matchers)):
        for members in layers:
            if not any((j, i) in clashes for j in members):
                members.append(i)
                break
        else:
            layers.append([i])
    return [[matchers[i] for i in members] for members in layers]


def _pair_clashes(
    matchers: Sequence[Matcher], pairs: frozenset[_Pair], *, by_source: bool
) -> set[tuple[int, int]]:
    """Index pairs ``(i, j)``, ``i < j``, of the sets that one of ``pairs`` matches both.

    A pair matches a set when its concept is one of the set's ids or (``by_source``) its source
    concept one of the set's own ids. Exclusions are left aside: a set matches at most these.
    """
    by_standard: dict[int, list[int]] = {}
    by_source_id: dict[int, list[int]] = {}
    for i, m in enumerate(matchers):
        for cid in m.standard:
            by_standard.setdefault(cid, []).append(i)
        for cid in m.source if by_source else ():
            by_source_id.setdefault(cid, []).append(i)
    clashes: set[tuple[int, int]] = set()
    for concept, source_concept in pairs:
        hit = set(by_standard.get(concept, ()) if concept is not None else ())
        if source_concept is not None:
            hit.update(by_source_id.get(source_concept, ()))
        clashes.update(itertools.combinations(sorted(hit), 2))
    return clashes


def matched_ids(matchers: Sequence[Matcher]) -> set[int]:
    """Every concept id the matchers look for, in the standard or the source column."""
    return set().union(*(m.standard | m.source for m in matchers))


def event_table(
    source: CdmSource, dom: Domain, matchers: Sequence[Matcher]
) -> tuple[ir.Table, bool]:
    """Return the rows :func:`extract_events` kept when they hold every match, else the table.

    The flag says whether the rows are the kept ones.
    """
    cached = None if source.kept is None else source.kept.cached_rows(dom.table)
    if cached is not None and cached.covers(matched_ids(matchers)):
        return cached.table, True
    return source.table(dom.table), False
