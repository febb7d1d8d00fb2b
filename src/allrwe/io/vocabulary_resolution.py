"""Concept sets resolved in a CDM's own vocabulary: source codes to concept ids, then ``Maps to``.

Where no public OHDSI source gives the concept id of a code a set names (CPT4 0537T, ICD-10-CM
G92.01...), the CDM's ``concept`` table does; :func:`resolve_vocabulary` adds those concepts, and
the standard concepts they map to, to the sets, and says per set what it resolved to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from allrwe.io.vocabulary import Concept, ConceptSet, Vocabulary

if TYPE_CHECKING:
    from allrwe.io.cdm import CdmSource

__all__ = ["SetResolution", "resolve_vocabulary", "unresolved_sets"]


@dataclass(frozen=True)
class SetResolution:
    """What one concept set resolved to in a CDM's own vocabulary tables.

    Parameters
    ----------
    key : str
        The set.
    listed : tuple of int
        The set's own concept ids (bundled or user file).
    resolved : tuple of int
        Concept ids added from the CDM: concepts of the set's source codes (``vocabulary_id`` +
        ``concept_code``) and the standard concepts they map to (``Maps to``).
    present : bool or None
        Whether any of the set's concepts is in the CDM's ``concept`` table; ``None`` when the
        CDM has no ``concept`` table (nothing to tell).
    recorded : bool or None
        Whether the CDM holds a record of the set in a table it is read from (the rule of
        "present in the CDM": :func:`allrwe.cohort.recorded_sets`); ``None`` until judged.
    """

    key: str
    listed: tuple[int, ...]
    resolved: tuple[int, ...]
    present: bool | None
    recorded: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the resolution as a JSON-able dict (the provenance's ``concept_sets``)."""
        out: dict[str, Any] = {
            "listed": list(self.listed),
            "resolved": list(self.resolved),
            "present": self.present,
        }
        if self.recorded is not None:
            out["recorded"] = self.recorded
        return out


def _codes(concept_set: ConceptSet) -> set[tuple[str, str]]:
    """Return the (vocabulary_id, concept_code) pairs of a set's concepts and their sources."""
    out = set()
    for c in concept_set.concepts:
        if c.exclude:
            continue
        if c.concept_code:
            out.add((c.vocabulary_id, c.concept_code))
        out |= {(v, code) for v, codes in c.source_codes.items() for code in codes}
    return out


def _lookup_codes(source: CdmSource, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    concept = source.table("concept")
    codes = sorted({code for _, code in pairs})
    vocabularies = sorted({v for v, _ in pairs})
    expr = concept.filter(
        concept.concept_code.isin(codes) & concept.vocabulary_id.isin(vocabularies)
    ).select("concept_id", "vocabulary_id", "concept_code")
    found = source.execute(expr)
    out: dict[tuple[str, str], int] = {}
    for cid, vocab_id, code in zip(
        found["concept_id"], found["vocabulary_id"], found["concept_code"], strict=True
    ):
        if (str(vocab_id), str(code)) in pairs:
            out[(str(vocab_id), str(code))] = int(cid)
    return out


def _maps_to(source: CdmSource, ids: list[int]) -> dict[int, set[int]]:
    if not ids or not source.has("concept_relationship"):
        return {}
    cr = source.table("concept_relationship")
    expr = cr.filter(cr.concept_id_1.isin(ids) & (cr.relationship_id == "Maps to")).select(
        "concept_id_1", "concept_id_2"
    )
    found = source.execute(expr)
    out: dict[int, set[int]] = {}
    for a, b in zip(found["concept_id_1"], found["concept_id_2"], strict=True):
        out.setdefault(int(a), set()).add(int(b))
    return out


def _present(source: CdmSource, ids: set[int]) -> set[int]:
    concept = source.table("concept")
    found = source.execute(
        concept.filter(concept.concept_id.isin(sorted(ids))).select("concept_id")
    )
    return {int(i) for i in found["concept_id"]}


def resolve_vocabulary(
    source: CdmSource, vocabulary: Vocabulary
) -> tuple[Vocabulary, dict[str, SetResolution]]:
    """Add to each set the CDM's own concepts of its source codes, and what they map to.

    A set names source codes (ICD-10-CM, ICD-10-PCS, HCPCS, CPT4, ATC, ICD-O-3...) as
    ``vocabulary_id`` + ``concept_code``; where no public OHDSI source gives their concept ids,
    the CDM's ``concept`` table does. Each code found becomes a concept of the set (records
    whose source concept it is match), and the standard concepts it ``Maps to`` in
    ``concept_relationship`` too (records whose standard concept it is match). An ATC class
    brings its descendants (the drugs under it). Without a ``concept`` table the vocabulary is
    returned unchanged.

    Parameters
    ----------
    source : CdmSource
        The CDM (its ``concept`` and ``concept_relationship`` tables).
    vocabulary : Vocabulary
        The sets in force.

    Returns
    -------
    tuple of (Vocabulary, dict of str to SetResolution)
        The sets with the resolved concepts added, and per set what it resolved to.
    """
    if not source.has("concept"):
        return vocabulary, {
            k: SetResolution(k, tuple(s.concept_ids), (), None) for k, s in vocabulary.sets.items()
        }
    wanted = {k: _codes(s) for k, s in vocabulary.sets.items()}
    pairs = set().union(*wanted.values()) if wanted else set()
    found = _lookup_codes(source, pairs) if pairs else {}
    mapped = _maps_to(source, sorted(set(found.values())))
    all_ids = {i for s in vocabulary.sets.values() for i in s.concept_ids}
    all_ids |= set(found.values()) | {i for targets in mapped.values() for i in targets}
    present = _present(source, all_ids) if all_ids else set()
    sets: dict[str, ConceptSet] = {}
    report: dict[str, SetResolution] = {}
    for key, s in vocabulary.sets.items():
        own = set(s.concept_ids)
        added: dict[int, Concept] = {}
        for vocab_id, code in sorted(wanted[key]):
            cid = found.get((vocab_id, code))
            if cid is None:
                continue
            for target in [cid, *sorted(mapped.get(cid, ()))]:
                if target in own or target in added:
                    continue
                added[target] = Concept(
                    concept_id=target,
                    concept_name=f"{vocab_id} {code}" + ("" if target == cid else " (Maps to)"),
                    vocabulary_id=vocab_id if target == cid else "",
                    concept_code=code if target == cid else None,
                    confirmed=True,
                    source="resolved from the CDM's concept table",
                    include_descendants=vocab_id == "ATC" and target == cid,
                )
        sets[key] = (
            s.model_copy(update={"concepts": (*s.concepts, *added.values())}) if added else s
        )
        ids = own | set(added)
        report[key] = SetResolution(
            key, tuple(sorted(own)), tuple(sorted(added)), bool(ids & present) if ids else False
        )
    return Vocabulary(sets=sets, groups=vocabulary.groups), report


def unresolved_sets(report: dict[str, SetResolution], keys: list[str]) -> list[str]:
    """Return the keys among ``keys`` whose set has no concept in the CDM's ``concept`` table."""
    return [k for k in keys if k in report and report[k].present is False]
