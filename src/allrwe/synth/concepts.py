"""Concept ids the generator writes: taken from the vocabulary, never hard-coded, plus the pool.

Clinical concepts come from :func:`allrwe.io.vocabulary.load_vocabulary` by concept-set key, so
a corrected id in ``default.yaml`` (or a user vocabulary) flows into the synthetic data. The
background pool (care unrelated to ALL) uses local concept ids in a documented range that the
vocabulary must not use; type, visit and gender concepts are the standard OMOP ones named in
``docs/cdm-conventions.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from allrwe.errors import UsageError
from allrwe.io.vocabulary import ConceptSet, Vocabulary

__all__ = [
    "BACKGROUND_RANGE",
    "CAUSE_OTHER",
    "CAUSE_TRM",
    "FEMALE",
    "INPATIENT",
    "MALE",
    "OUTPATIENT",
    "POOL_BASE",
    "Concepts",
    "Pool",
    "resolve_concepts",
]

IntArray = npt.NDArray[np.int64]

MALE = 8507
FEMALE = 8532
INPATIENT = 9201
OUTPATIENT = 9202
EMERGENCY = 9203
TYPE_EHR = 32817
TYPE_EHR_ADMINISTRATION = 32818
TYPE_CLAIM = 32810
TYPE_PHARMACY_CLAIM = 32869
CDM_V54 = 756265

#: local concept ids of the background pool and of synthetic causes of death: [low, high)
BACKGROUND_RANGE = (2_100_000_000, 2_101_000_000)
POOL_BASE = {
    "condition": 2_100_000_001,
    "drug": 2_100_100_001,
    "procedure": 2_100_200_001,
    "measurement": 2_100_300_001,
    "observation": 2_100_400_001,
}
#: pool sizes by domain (1,350 concepts in all)
POOL_SIZES = {
    "condition": 600,
    "drug": 400,
    "procedure": 200,
    "measurement": 100,
    "observation": 50,
}
CAUSE_TRM = 2_100_900_001
CAUSE_OTHER = 2_100_900_003
#: names of the local causes of death, for cause_source_value
CAUSE_NAMES = {
    CAUSE_TRM: "transplant-related mortality",
    CAUSE_OTHER: "other cause",
}


#: resolution of the pools' inverse-CDF lookup tables
_LOOKUP_BITS = 16


@dataclass(frozen=True)
class Pool:
    """Background concepts of one domain with Zipf-like popularity.

    ``lookup[k]`` is the concept drawn by a uniform number in the k-th of 2**16 equal bins (an
    inverse-CDF table: one indexing operation per draw instead of a search).
    """

    ids: IntArray
    lookup: IntArray

    def pick(self, u: npt.NDArray[np.float64]) -> IntArray:
        """Concepts for uniform numbers ``u`` in [0, 1)."""
        return self.ids[self.lookup[(u * (1 << _LOOKUP_BITS)).astype(np.int64)]]


def _pool(domain: str) -> Pool:
    n = POOL_SIZES[domain]
    ids = np.arange(POOL_BASE[domain], POOL_BASE[domain] + n, dtype=np.int64)
    cum = np.cumsum(1.0 / np.arange(1, n + 1) ** 0.9)
    bins = (np.arange(1 << _LOOKUP_BITS) + 0.5) / (1 << _LOOKUP_BITS)
    lookup = np.minimum(np.searchsorted(cum / cum[-1], bins, side="right"), n - 1)
    return Pool(ids, lookup.astype(np.int64))


@dataclass(frozen=True)
class Concepts:
    """Every concept id the generator needs, resolved once per run."""

    drug: dict[str, int]
    chemotherapy: IntArray
    drug_source_value: dict[int, str]
    all_standard: IntArray
    t_all_standard: IntArray
    diagnosis_source: int | None
    diagnosis_source_value: str | None
    ph_positive: int
    ph_negative: int
    genetics: dict[str, int]
    cns: int
    relapse: int
    refractory: int
    remission: int
    hsct: int
    cart: int
    procedure_source_value: dict[int, str]
    lab: dict[str, tuple[int, int]]
    ae: dict[str, int]
    pools: dict[str, Pool]
    #: the chemotherapy-intolerance finding (0: the vocabulary has no such set)
    chemo_intolerance: int = 0
    #: genetic-feature ids whose set is read from ``observation`` (their standard concept is in
    #: the Observation domain, e.g. Ph-like B-ALL): written there, not to condition_occurrence
    observation_findings: frozenset[int] = frozenset()


def _first(vocab: Vocabulary, key: str) -> int:
    s = vocab.concept_set(key)
    ids = s.concept_ids
    if not ids:
        raise UsageError(f"concept set {key!r} has no concept; the synthetic CDM needs one")
    standard = [c.concept_id for c in s.concepts if c.standard and not c.exclude]
    return standard[0] if standard else ids[0]


def _standard_ids(s: ConceptSet) -> IntArray:
    ids = [c.concept_id for c in s.concepts if c.standard and not c.exclude]
    if not ids:
        raise UsageError(f"concept set {s.key!r} has no standard concept")
    return np.array(ids, dtype=np.int64)


def _code(s: ConceptSet, system: str) -> str | None:
    for c in s.concepts:
        codes = c.source_codes.get(system)
        if codes:
            return codes[0]
    return None


def _diagnosis_source(vocab: Vocabulary, vocabulary_id: str) -> tuple[int | None, str | None]:
    for c in vocab.concept_set("all_diagnosis").concepts:
        if c.vocabulary_id == vocabulary_id and not c.exclude:
            return c.concept_id, c.concept_code
    return None, None


def _check_pool_range(vocab: Vocabulary) -> None:
    low, high = BACKGROUND_RANGE
    clash = sorted({cid for s in vocab.sets.values() for cid in s.concept_ids if low <= cid < high})
    if clash:
        raise UsageError(
            f"vocabulary concept id(s) {clash[:5]} fall in the synthetic background range "
            f"[{low}, {high}); move them or use another vocabulary"
        )


def resolve_concepts(vocab: Vocabulary, *, diagnosis_source_vocabulary: str) -> Concepts:
    """Resolve the concept ids of a run from the vocabulary.

    Parameters
    ----------
    vocab : Vocabulary
        The concept sets in force.
    diagnosis_source_vocabulary : str
        ``vocabulary_id`` of the ALL diagnosis source concept (e.g. ``"ICD10"``).

    Returns
    -------
    Concepts

    Raises
    ------
    UsageError
        A needed set is empty, or the vocabulary uses ids in the background range.
    """
    _check_pool_range(vocab)
    drug_keys = [k for k, s in vocab.sets.items() if s.domain == "drug"]
    drug = {k: _first(vocab, k) for k in drug_keys}
    atc = {drug[k]: code for k in drug_keys if (code := _code(vocab.sets[k], "ATC"))}
    genetics = {k: _first(vocab, k) for k in vocab.groups.get("genetic_features", ())}
    labs = {}
    for key in (
        "marrow_blasts",
        "anc",
        "platelets",
        "wbc",
        "hemoglobin",
        "mrd",
        "height",
        "weight",
    ):
        s = vocab.concept_set(key)
        labs[key] = (_first(vocab, key), int(s.unit_concept_id or 0))
    hsct = _first(vocab, "allo_hsct")
    cart = _first(vocab, "car_t_infusion")
    proc_codes = {}
    for key, cid in (("allo_hsct", hsct), ("car_t_infusion", cart)):
        code = _code(vocab.concept_set(key), "CPT4")
        if code:
            proc_codes[cid] = code
    source, source_value = _diagnosis_source(vocab, diagnosis_source_vocabulary)
    return Concepts(
        drug=drug,
        chemotherapy=np.array(vocab.concept_ids("chemotherapy"), dtype=np.int64),
        drug_source_value=atc,
        all_standard=_standard_ids(vocab.concept_set("all_diagnosis")),
        t_all_standard=_standard_ids(vocab.concept_set("t_lineage_all")),
        diagnosis_source=source,
        diagnosis_source_value=source_value,
        ph_positive=_first(vocab, "ph_positive"),
        ph_negative=_first(vocab, "ph_negative"),
        genetics=genetics,
        observation_findings=frozenset(
            cid for k, cid in genetics.items() if vocab.sets[k].domain == "observation"
        ),
        chemo_intolerance=(
            _first(vocab, "chemo_intolerance") if "chemo_intolerance" in vocab.sets else 0
        ),
        cns=_first(vocab, "cns_involvement"),
        relapse=_first(vocab, "relapse"),
        refractory=_first(vocab, "refractory"),
        remission=_first(vocab, "remission"),
        hsct=hsct,
        cart=cart,
        procedure_source_value=proc_codes,
        lab=labs,
        ae={k: _first(vocab, k) for k in vocab.groups.get("adverse_events", ())},
        pools={d: _pool(d) for d in POOL_SIZES},
    )
