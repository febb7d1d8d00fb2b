"""Concepts for concept-set tests: a SNOMED concept that names itself."""

from __future__ import annotations

from allrwe.io.vocabulary import Concept


def concept(cid: int, *, descendants: bool = True, exclude: bool = False) -> Concept:
    """Return concept ``cid`` (named after its id), with or without descendants, or excluded."""
    return Concept(
        concept_id=cid,
        concept_name=str(cid),
        vocabulary_id="SNOMED",
        include_descendants=descendants,
        exclude=exclude,
    )
