"""The ``ohdsi`` profile: the simulated patients written the way an OHDSI ETL writes a US EHR.

This module owns the rules that turn the generator's rows (the conventions of
docs/cdm-conventions.md) into rows shaped like a real OMOP CDM v5.4 (docs/synthetic-data.md,
"The ohdsi profile"):

* **Standard concepts in the domains of their tables**, the ids of ``default.yaml``. The two
  placeholders that stand for a real code whose OMOP id no public source gives (ICANS, SNOMED
  1230414002; CAR-T administration, CPT4 0540T) are written with a *stand-in* id from
  :data:`STANDIN_RANGE` under their real vocabulary and code, so a reader can find them only by
  code through the CDM's ``concept`` table, never by allrwe's placeholder. Sets that hold
  only placeholders, no vocabulary code being known (bone-marrow blasts, MRD, infusion
  reaction...), stay site-defined local concepts (the placeholder ids of ``default.yaml``).
* **Source concepts and values**: the ALL diagnosis as ICD-10-CM C91.00 (C91.01 in remission,
  C91.02 in relapse), blinatumomab, inotuzumab and the CAR-T products as HCPCS J9039, J9229,
  Q2042, Q2053, adverse events as ICD-10-CM (CRS D89.831-D89.835 grade 1-5 or D89.839, ICANS
  G92.01-G92.05 or G92.00, VOD K76.5, liver R74.01, toxic encephalopathy G92.8); other records
  carry their standard concept as source (RxNorm, LOINC, SNOMED problem list, CPT4 38240).
  Background care unrelated to ALL is unmapped local source codes: ``*_concept_id`` 0, the
  local concept in ``*_source_concept_id``.
* **HCPCS units**: ``quantity`` counts billing units, 1 µg for J9039 and 0.1 mg for J9229
  (:data:`HCPCS_UNITS`).
* **Adverse events** are ``condition_occurrence`` rows; the CTCAE grade lives only in the CRS
  and ICANS codes, and a share ``recording.ungraded_code`` of those is coded without a grade.
* **Labs in US units**: ANC, platelets and WBC in 10³/µL (8848, same number as 10⁹/L),
  haemoglobin in g/dL (8713, g/L ÷ 10).
* **Gaps**: a share ``recording.missing_weight`` of body-weight measurements is absent, and a
  share ``recording.missing_drug_end`` of drug administrations has no
  ``drug_exposure_end_date`` (``days_supply`` kept).
* **Vocabulary tables** ``concept``, ``concept_relationship`` ('Maps to') and
  ``concept_ancestor`` hold every concept the CDM uses (:func:`vocabulary_tables`).

Which records are dropped, and which codes carry no grade, is decided by a hash of the seed and
the record's person, date and concept, so chunking never changes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from allrwe.errors import UsageError
from allrwe.io.example import example_tables
from allrwe.io.vocabulary import Vocabulary
from allrwe.synth.concepts import (
    CAUSE_NAMES,
    POOL_BASE,
    POOL_SIZES,
    TYPE_EHR_ADMINISTRATION,
    Concepts,
)
from allrwe.synth.frames import NA, AnyArray, cdm_schema
from allrwe.synth.params import SynthParams

__all__ = [
    "HCPCS_UNITS",
    "STANDIN_RANGE",
    "VOCABULARY_TABLES",
    "OhdsiVocabulary",
    "build_ohdsi_vocabulary",
    "grade_recorded",
    "ohdsi_text_maps",
    "shape_frames",
    "vocabulary_tables",
    "write_vocabulary_tables",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Frame = dict[str, AnyArray]

#: the vocabulary tables the profile writes
VOCABULARY_TABLES = ("concept", "concept_relationship", "concept_ancestor")
#: ids of stand-in concepts: real codes whose OMOP concept_id no public source gives, [low, high)
STANDIN_RANGE = (2_100_800_001, 2_100_801_000)
#: allrwe's placeholders for sets no standard concept is confirmed for start here
_PLACEHOLDER_LOW = 2_000_000_000
#: HCPCS billing unit of the index drugs' codes, in the label unit (µg, mg): quantity = amount/unit
HCPCS_UNITS = {"J9039": 1.0, "J9229": 0.1}
#: US units of the blood counts and haemoglobin: (from unit, to unit, value factor)
_US_UNITS = {
    "anc": (9444, 8848, 1.0),
    "platelets": (9444, 8848, 1.0),
    "wbc": (9444, 8848, 1.0),
    "hemoglobin": (8636, 8713, 0.1),
}
_UNIT_TEXT = {8554: "%", 8582: "cm", 9529: "kg", 8848: "10*3/uL", 8713: "g/dL", 9444: "10*9/L"}
#: concepts the CDM uses that neither default.yaml nor the example CDM names (standard OMOP ids
#: of docs/cdm-conventions.md): id -> (name, domain, vocabulary, class, code)
_EXTRA = {
    0: ("No matching concept", "Metadata", "None", "Undefined", "No matching concept"),
    9203: ("Emergency Room Visit", "Visit", "Visit", "Visit", "ER"),
    8848: ("thousand per microliter", "Unit", "UCUM", "Unit", "10*3/uL"),
    8713: ("gram per deciliter", "Unit", "UCUM", "Unit", "g/dL"),
    756265: ("OMOP CDM Version 5.4.0", "Metadata", "CDM", "CDM", "CDM v5.4.0"),
}
#: salts of the record hashes
_SALT_GRADE, _SALT_WEIGHT, _SALT_END = 1, 2, 3


@dataclass(frozen=True)
class _Code:
    """A real code written under a stand-in id: what it is and what it maps to."""

    vocabulary_id: str
    code: str
    name: str
    domain: str
    concept_class: str
    maps_to: str | None  # concept-set key whose standard concept it maps to; None: standard


# Codes and titles are facts of the code systems (ICD-10-CM, HCPCS, CPT4, SNOMED CT); the
# grade codes are those of docs/baseline-and-safety.md.
_STANDIN_CODES: tuple[_Code, ...] = (
    _Code("SNOMED", "1230414002", "Immune effector cell-associated neurotoxicity syndrome",
          "Condition", "Disorder", None),
    _Code("CPT4", "0540T", "CAR-T cell administration, autologous", "Procedure", "CPT4", None),
    _Code("HCPCS", "J9039", "Injection, blinatumomab, 1 microgram", "Drug", "HCPCS",
          "blinatumomab"),
    _Code("HCPCS", "J9229", "Injection, inotuzumab ozogamicin, 0.1 mg", "Drug", "HCPCS",
          "inotuzumab_ozogamicin"),
    _Code("HCPCS", "Q2042", "Tisagenlecleucel, up to 600 million CAR-positive viable T cells",
          "Drug", "HCPCS", "tisagenlecleucel"),
    _Code("HCPCS", "Q2053", "Brexucabtagene autoleucel, up to 200 million CAR-positive viable "
          "T cells", "Drug", "HCPCS", "brexucabtagene_autoleucel"),
    *(
        _Code("ICD10CM", f"D89.83{g}", f"Cytokine release syndrome, grade {g}", "Condition",
              "6-char billing code", "crs")
        for g in range(1, 6)
    ),
    _Code("ICD10CM", "D89.839", "Cytokine release syndrome, grade unspecified", "Condition",
          "6-char billing code", "crs"),
    *(
        _Code("ICD10CM", f"G92.0{g}", f"Immune effector cell-associated neurotoxicity "
              f"syndrome, grade {g}", "Condition", "5-char billing code", "icans")
        for g in range(1, 6)
    ),
    _Code("ICD10CM", "G92.00", "Immune effector cell-associated neurotoxicity syndrome, grade "
          "unspecified", "Condition", "5-char billing code", "icans"),
    _Code("ICD10CM", "K76.5", "Hepatic veno-occlusive disease", "Condition",
          "4-char billing code", "vod_sos"),
    _Code("ICD10CM", "R74.01", "Elevation of levels of liver transaminase levels", "Condition",
          "5-char billing code", "liver_enzyme_increase"),
    _Code("ICD10CM", "G92.8", "Other toxic encephalopathy", "Condition", "4-char billing code",
          "neurotoxicity"),
)  # fmt: skip
#: source code of a drug set (HCPCS) and of the disease-status conditions (ICD-10-CM)
_DRUG_CODES = {
    "blinatumomab": "J9039",
    "inotuzumab_ozogamicin": "J9229",
    "tisagenlecleucel": "Q2042",
    "brexucabtagene_autoleucel": "Q2053",
}
_STATUS_CODES = {"diagnosis": "C91.00", "refractory": "C91.00", "remission": "C91.01",
                 "relapse": "C91.02"}  # fmt: skip
#: adverse-event terms graded by their ICD-10-CM code: code prefix, code without a grade
_GRADED = {"crs": ("D89.83", "D89.839"), "icans": ("G92.0", "G92.00")}
#: other adverse-event terms' ICD-10-CM code (none: no source code)
_AE_CODES = {"vod_sos": "K76.5", "liver_enzyme_increase": "R74.01", "neurotoxicity": "G92.8"}
_CLASS = {"RxNorm": "Ingredient", "SNOMED": "Clinical Finding", "LOINC": "Lab Test"}


@dataclass(frozen=True)
class _Row:
    """One row of the ``concept`` table."""

    name: str
    domain: str
    vocabulary_id: str
    concept_class: str
    standard: str | None
    code: str


@dataclass(frozen=True)
class OhdsiVocabulary:
    """Everything the ohdsi shaping needs, resolved once per run.

    Attributes
    ----------
    rows : dict of int to _Row
        Every concept the profile may write, for the ``concept`` table.
    maps_to : dict of int to int
        Source concept -> standard concept ('Maps to'); standard concepts map to themselves.
    standard : dict of int to int
        Generator concept -> standard concept written (placeholders -> stand-ins).
    source : dict of str to dict of int to int
        Per table, generator concept -> source concept (default: the standard concept).
    ae_terms : list of str
        Adverse-event terms in the generator's order (``Concepts.ae``).
    ae_concepts : list of int
        The generator's concept of each term (what it writes to ``observation``).
    ae_source : dict of (str, int) to int
        (term, grade 0-5) -> source concept id; grade 0 is "no grade in the code".
    quantity_factor : dict of int to float
        Drug concept -> factor from the generator's amount (µg, mg) to HCPCS units.
    weight : int
        Body-weight concept.
    units : dict of int to tuple
        Lab concept -> (from unit, to unit, factor).
    ancestors : list of tuple of int
        (ancestor, descendant, levels) edges of the example CDM between concepts of the profile.
    """

    rows: dict[int, _Row]
    maps_to: dict[int, int]
    standard: dict[int, int]
    source: dict[str, dict[int, int]]
    ae_terms: list[str]
    ae_concepts: list[int]
    ae_source: dict[tuple[str, int], int]
    quantity_factor: dict[int, float]
    weight: int
    units: dict[int, tuple[int, int, float]]
    ancestors: list[tuple[int, int, int]]


def _pool_rows() -> dict[int, _Row]:
    out = {}
    for domain, base in POOL_BASE.items():
        for k in range(POOL_SIZES[domain]):
            out[base + k] = _Row(
                f"Local {domain} code {k + 1:04d}",
                domain.capitalize(),
                "allrwe synthetic",
                "Local code",
                None,
                f"BG-{domain[0].upper()}{k + 1:04d}",
            )
    return out


def _example_rows() -> tuple[dict[int, _Row], list[tuple[int, int, int]]]:
    tables = example_tables()
    c = tables["concept"].to_pydict()
    rows = {
        int(cid): _Row(name, dom, voc, cls, std or None, code)
        for cid, name, dom, voc, cls, std, code in zip(
            c["concept_id"], c["concept_name"], c["domain_id"], c["vocabulary_id"],
            c["concept_class_id"], c["standard_concept"], c["concept_code"], strict=True,
        )
    }  # fmt: skip
    a = tables["concept_ancestor"].to_pydict()
    edges = [
        (int(x), int(y), int(n))
        for x, y, n in zip(
            a["ancestor_concept_id"],
            a["descendant_concept_id"],
            a["min_levels_of_separation"],
            strict=True,
        )
        if x != y
    ]
    return rows, edges


def _by_code(vocab: Vocabulary, vocabulary_id: str, code: str) -> int:
    for s in vocab.sets.values():
        for c in s.concepts:
            if c.vocabulary_id == vocabulary_id and c.concept_code == code and not c.exclude:
                return c.concept_id
    raise UsageError(
        f"the ohdsi profile needs the {vocabulary_id} concept {code!r} in the vocabulary"
    )


def _concept_rows(vocab: Vocabulary) -> tuple[dict[int, _Row], list[tuple[int, int, int]]]:
    """Return the ``concept`` row of every id the profile may write but the stand-ins."""
    rows, edges = _example_rows()
    for cid, (name, dom, voc, cls, code) in _EXTRA.items():
        rows[cid] = _Row(name, dom, voc, cls, "S" if cid else None, code)
    for s in vocab.sets.values():
        for c in s.concepts:
            if c.exclude:
                continue
            rows[c.concept_id] = _Row(
                c.concept_name,
                s.domain.capitalize(),
                c.vocabulary_id,
                _CLASS.get(c.vocabulary_id, c.vocabulary_id),
                "S" if c.standard else None,
                c.concept_code or "",
            )
    rows.update(_pool_rows())
    for cid, name in CAUSE_NAMES.items():
        rows[cid] = _Row(name, "Condition", "allrwe synthetic", "Local code", "S", str(cid))
    return rows, edges


def _standins(rows: dict[int, _Row]) -> dict[tuple[str, str], int]:
    """Give each stand-in code its id and ``concept`` row; return (vocabulary, code) -> id."""
    standin: dict[tuple[str, str], int] = {}
    for k, code in enumerate(_STANDIN_CODES):
        cid = STANDIN_RANGE[0] + k
        standin[(code.vocabulary_id, code.code)] = cid
        std = "S" if code.maps_to is None else None
        rows[cid] = _Row(code.name, code.domain, code.vocabulary_id, code.concept_class, std,
                         code.code)  # fmt: skip
    return standin


def _status_sources(
    vocab: Vocabulary, concepts: Concepts, maps_to: dict[int, int]
) -> dict[int, int]:
    """Return the ICD-10-CM source of the ALL diagnosis and disease-status conditions."""
    status = {
        "diagnosis": int(concepts.all_standard[0]),
        "refractory": concepts.refractory,
        "remission": concepts.remission,
        "relapse": concepts.relapse,
    }
    cond: dict[int, int] = {}
    for what, icd in _STATUS_CODES.items():
        sid = _by_code(vocab, "ICD10CM", icd)
        maps_to.setdefault(sid, status[what])
        targets = (
            [*concepts.all_standard.tolist(), *concepts.t_all_standard.tolist()]
            if what == "diagnosis"
            else [status[what]]
        )
        cond.update(dict.fromkeys((int(t) for t in targets), sid))
    return cond


def _ae_sources(
    concepts: Concepts, standin: Mapping[tuple[str, str], int]
) -> dict[tuple[str, int], int]:
    """Return (term, grade) -> ICD-10-CM source concept; grade 0: the code carries none."""
    out: dict[tuple[str, int], int] = {}
    for term in concepts.ae:
        if term in _GRADED:
            prefix, ungraded = _GRADED[term]
            out[(term, 0)] = standin[("ICD10CM", ungraded)]
            for g in range(1, 6):
                out[(term, g)] = standin[("ICD10CM", f"{prefix}{g}")]
        elif term in _AE_CODES:
            out[(term, 0)] = standin[("ICD10CM", _AE_CODES[term])]
    return out


def build_ohdsi_vocabulary(vocab: Vocabulary, concepts: Concepts) -> OhdsiVocabulary:
    """Resolve the ids and codes the ohdsi profile writes.

    Parameters
    ----------
    vocab : Vocabulary
        The concept sets in force (``default.yaml`` unless a user vocabulary is given).
    concepts : Concepts
        The generator's concepts of the run.

    Returns
    -------
    OhdsiVocabulary

    Raises
    ------
    UsageError
        A code the profile writes (ICD-10-CM C91.00-C91.02) is missing from the vocabulary.
    """
    rows, edges = _concept_rows(vocab)
    standin = _standins(rows)
    # a placeholder of default.yaml that stands for a code with a stand-in is written as it
    standard = {
        c.concept_id: standin[(c.vocabulary_id, c.concept_code or "")]
        for s in vocab.sets.values()
        for c in s.concepts
        if c.concept_id >= _PLACEHOLDER_LOW and (c.vocabulary_id, c.concept_code or "") in standin
    }

    def std_of(key: str) -> int:
        first = int(concepts.ae[key]) if key in concepts.ae else int(concepts.drug[key])
        return standard.get(first, first)

    maps_to = {
        standin[(code.vocabulary_id, code.code)]: (
            standin[(code.vocabulary_id, code.code)]
            if code.maps_to is None
            else std_of(code.maps_to)
        )
        for code in _STANDIN_CODES
    }
    cond = _status_sources(vocab, concepts, maps_to)
    drug = {concepts.drug[k]: standin[("HCPCS", code)] for k, code in _DRUG_CODES.items()}
    ae_source = _ae_sources(concepts, standin)
    ino = concepts.drug["inotuzumab_ozogamicin"]
    units = {concepts.lab[k][0]: v for k, v in _US_UNITS.items()}
    return OhdsiVocabulary(
        rows=rows,
        maps_to=maps_to,
        standard=standard,
        source={"condition_occurrence": cond, "drug_exposure": drug},
        ae_terms=list(concepts.ae),
        ae_concepts=[int(c) for c in concepts.ae.values()],
        ae_source=ae_source,
        quantity_factor={ino: 1.0 / HCPCS_UNITS["J9229"]},
        weight=concepts.lab["weight"][0],
        units=units,
        ancestors=edges,
    )


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    # splitmix64 finaliser (wrapping uint64 arithmetic)
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def record_uniform(seed: int, salt: int, *keys: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Uniform numbers in [0, 1) that depend only on the seed, a salt and the record's keys."""
    arrays = [np.asarray(k).astype(np.int64).view(np.uint64) for k in keys]
    n = arrays[0].size if arrays else 0
    with np.errstate(over="ignore"):
        h = _mix(np.full(n, (seed << 8) + salt, dtype=np.uint64))
        for a in arrays:
            h = _mix(h ^ a)
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def grade_recorded(
    seed: int, params: SynthParams, terms: list[str], person: IntArray, date: IntArray,
    term: IntArray, grade: IntArray,
) -> BoolArray:  # fmt: skip
    """Whether the CDM record of each adverse event carries its grade.

    ``allrwe`` conventions: the grade is in ``value_as_number`` whenever adverse events are
    recorded. ``ohdsi``: only CRS and ICANS codes carry a grade, except a share
    ``recording.ungraded_code`` coded without one (decided per record by :func:`record_uniform`).
    """
    rec = params.recording
    if not rec.adverse_events:
        return np.zeros(person.size, dtype=bool)
    if rec.etl != "ohdsi":
        return np.ones(person.size, dtype=bool)
    graded = np.isin(term, [i for i, t in enumerate(terms) if t in _GRADED])
    u = record_uniform(seed, _SALT_GRADE, person, date, term)
    return graded & (u >= rec.ungraded_code) & (grade >= 1)


def _lookup(values: IntArray, mapping: Mapping[int, int], default: IntArray) -> IntArray:
    if not mapping or values.size == 0:
        return default.copy()
    keys = np.array(sorted(mapping), dtype=np.int64)
    vals = np.array([mapping[int(k)] for k in keys], dtype=np.int64)
    idx = np.minimum(np.searchsorted(keys, values), keys.size - 1)
    return np.where(keys[idx] == values, vals[idx], default)


def _in_pool(values: IntArray) -> BoolArray:
    out = np.zeros(values.size, dtype=bool)
    for domain, base in POOL_BASE.items():
        out |= (values >= base) & (values < base + POOL_SIZES[domain])
    return out


def _concepts(frame: Frame, col: str, source_col: str, ov: OhdsiVocabulary, table: str) -> None:
    """Set the standard and source concept of each row; background codes are unmapped (0)."""
    c = frame[col].astype(np.int64)
    std = _lookup(c, ov.standard, c)
    src = _lookup(c, ov.source.get(table, {}), std)
    pool = _in_pool(c)
    frame[col] = np.where(pool, 0, std)
    frame[source_col] = np.where(pool, c, src)


def _select(frame: Frame, keep: BoolArray) -> Frame:
    return {k: v[keep] for k, v in frame.items()}


def _concat(a: Frame, b: Frame) -> Frame:
    if not a:
        return b
    if not b:
        return a
    out = {}
    na, nb = len(next(iter(a.values()))), len(next(iter(b.values())))
    for name in dict.fromkeys([*a, *b]):
        parts = [a.get(name), b.get(name)]
        floats = any(p is not None and p.dtype.kind == "f" for p in parts)
        fill = np.nan if floats else NA
        pa_ = parts[0] if parts[0] is not None else np.full(na, fill)
        pb_ = parts[1] if parts[1] is not None else np.full(nb, fill)
        dtype = np.float64 if floats else np.int64
        out[name] = np.concatenate([pa_.astype(dtype), pb_.astype(dtype)])
    return out


def _ae_conditions(obs: Frame, ov: OhdsiVocabulary, params: SynthParams, seed: int) -> Frame:
    """Adverse-event observations as conditions, graded only where the code carries it."""
    c = obs["observation_concept_id"].astype(np.int64)
    term_ids = {v: i for i, v in enumerate(ov.ae_terms)}
    concept_of_term = dict(zip(ov.ae_terms, ov.ae_concepts, strict=True))
    term = _lookup(c, {cid: term_ids[t] for t, cid in concept_of_term.items()}, np.full(c.size, -1))
    value = obs.get("value_as_number", np.full(c.size, np.nan))
    grade = np.nan_to_num(value, nan=0).astype(np.int64)
    person, date = obs["person_id"].astype(np.int64), obs["observation_date"].astype(np.int64)
    coded = grade_recorded(seed, params, ov.ae_terms, person, date, term, grade)
    source = np.zeros(c.size, dtype=np.int64)
    for i, t in enumerate(ov.ae_terms):
        mine = term == i
        for g in range(6):
            sid = ov.ae_source.get((t, g))
            if sid is None:
                continue
            at = mine & (np.where(coded, grade, 0) == g)
            source[at] = sid
        if (t, 0) not in ov.ae_source:
            source[mine] = ov.standard.get(concept_of_term[t], concept_of_term[t])
    return {
        "person_id": person,
        "condition_concept_id": _lookup(c, ov.standard, c),
        "condition_start_date": date,
        "condition_type_concept_id": obs["observation_type_concept_id"].astype(np.int64),
        "condition_source_concept_id": source,
    }


def shape_frames(
    frames: Mapping[str, Frame], ov: OhdsiVocabulary, params: SynthParams, seed: int
) -> dict[str, Frame]:
    """Rewrite one chunk's rows the way an OHDSI ETL writes them (the module's rules).

    Parameters
    ----------
    frames : mapping of str to dict
        Each table's columns (:meth:`allrwe.synth.frames.Rows.frame`).
    ov : OhdsiVocabulary
        The profile's ids and codes.
    params : SynthParams
        The run's parameters (``recording.missing_weight``, ``missing_drug_end``,
        ``ungraded_code``).
    seed : int
        The run's seed (for the per-record decisions).

    Returns
    -------
    dict of str to dict
        The rewritten columns, by table.
    """
    out = {k: dict(v) for k, v in frames.items()}
    rec = params.recording
    obs = out.get("observation", {})
    aes: Frame = {}
    if obs:
        is_ae = np.isin(obs["observation_concept_id"], ov.ae_concepts)
        aes = _ae_conditions(_select(obs, is_ae), ov, params, seed)
        obs = _select(obs, ~is_ae)
        if obs["person_id"].size:
            _concepts(obs, "observation_concept_id", "observation_source_concept_id", ov, "")
        out["observation"] = obs
    cond = out.get("condition_occurrence", {})
    if cond:
        _concepts(cond, "condition_concept_id", "condition_source_concept_id", ov,
                  "condition_occurrence")  # fmt: skip
    out["condition_occurrence"] = _concat(cond, aes)
    drug = out.get("drug_exposure", {})
    if drug:
        raw = drug["drug_concept_id"].astype(np.int64)
        _concepts(drug, "drug_concept_id", "drug_source_concept_id", ov, "drug_exposure")
        factor = _lookup_float(raw, ov.quantity_factor)
        drug["quantity"] = np.round(drug["quantity"] * factor, 3)
        admin = drug["drug_type_concept_id"] == TYPE_EHR_ADMINISTRATION
        u = record_uniform(seed, _SALT_END, drug["person_id"], drug["drug_exposure_start_date"],
                           raw)  # fmt: skip
        drug["drug_exposure_end_date"] = np.where(
            admin & (u < rec.missing_drug_end), NA, drug["drug_exposure_end_date"]
        )
    proc = out.get("procedure_occurrence", {})
    if proc:
        _concepts(proc, "procedure_concept_id", "procedure_source_concept_id", ov, "")
    meas = out.get("measurement", {})
    if meas:
        c = meas["measurement_concept_id"].astype(np.int64)
        u = record_uniform(seed, _SALT_WEIGHT, meas["person_id"], meas["measurement_date"], c)
        meas = _select(meas, ~((c == ov.weight) & (u < rec.missing_weight)))
        c = meas["measurement_concept_id"].astype(np.int64)
        units = ov.units if "unit_concept_id" in meas and "value_as_number" in meas else {}
        for cid, (old, new, f) in units.items():
            at = (c == cid) & (meas["unit_concept_id"] == old)
            meas["value_as_number"] = np.where(
                at, np.round(meas["value_as_number"] * f, 6), meas["value_as_number"]
            )
            meas["unit_concept_id"] = np.where(at, new, meas["unit_concept_id"])
        _concepts(meas, "measurement_concept_id", "measurement_source_concept_id", ov, "")
        out["measurement"] = meas
    return out


def _lookup_float(values: IntArray, mapping: Mapping[int, float]) -> npt.NDArray[np.float64]:
    out = np.ones(values.size, dtype=np.float64)
    for cid, f in mapping.items():
        out[values == cid] = f
    return out


def ohdsi_text_maps(ov: OhdsiVocabulary) -> dict[str, dict[str, tuple[str, dict[int, str]]]]:
    """Source values from source concepts: each concept's code (its name when it has none)."""
    code = {cid: (r.code or r.name) for cid, r in ov.rows.items() if cid}
    return {
        "condition_occurrence": {"condition_source_value": ("condition_source_concept_id", code)},
        "drug_exposure": {"drug_source_value": ("drug_source_concept_id", code)},
        "procedure_occurrence": {"procedure_source_value": ("procedure_source_concept_id", code)},
        "measurement": {
            "measurement_source_value": ("measurement_source_concept_id", code),
            "unit_source_value": ("unit_concept_id", dict(_UNIT_TEXT)),
        },
        "observation": {"observation_source_value": ("observation_source_concept_id", code)},
        "death": {"cause_source_value": ("cause_concept_id", dict(CAUSE_NAMES))},
    }


_CONCEPT_COLUMNS = {
    "person": ("gender_concept_id", "race_concept_id", "ethnicity_concept_id"),
    "observation_period": ("period_type_concept_id",),
    "visit_occurrence": ("visit_concept_id", "visit_type_concept_id"),
    "condition_occurrence": (
        "condition_concept_id", "condition_type_concept_id", "condition_source_concept_id",
    ),
    "drug_exposure": ("drug_concept_id", "drug_type_concept_id", "drug_source_concept_id"),
    "procedure_occurrence": (
        "procedure_concept_id", "procedure_type_concept_id", "procedure_source_concept_id",
    ),
    "measurement": (
        "measurement_concept_id", "measurement_type_concept_id", "unit_concept_id",
        "measurement_source_concept_id",
    ),
    "observation": (
        "observation_concept_id", "observation_type_concept_id", "observation_source_concept_id",
    ),
    "death": ("death_type_concept_id", "cause_concept_id"),
    "cdm_source": ("cdm_version_concept_id",),
}  # fmt: skip


def used_concepts(cdm_dir: Path) -> set[int]:
    """Every concept id in the concept columns of the CDM tables written to ``cdm_dir``."""
    used: set[int] = set()
    for table, columns in _CONCEPT_COLUMNS.items():
        folder = cdm_dir / table
        if not folder.is_dir():
            continue
        for part in sorted(folder.glob("*.parquet")):
            t = pq.read_table(part, columns=list(columns))
            for col in t.columns:
                used |= {int(x) for x in pa.compute.unique(col.drop_null()).to_pylist()}
    return used


def vocabulary_tables(ov: OhdsiVocabulary, used: Iterable[int]) -> dict[str, pa.Table]:
    """Return the ``concept``, ``concept_relationship`` and ``concept_ancestor`` rows of ``used``.

    Every used concept gets a ``concept`` row; each source concept a 'Maps to' row to its
    standard concept and each standard concept one to itself (as in the OHDSI vocabularies);
    ``concept_ancestor`` holds each standard concept as its own ancestor (level 0) and the
    example CDM's hierarchy among the used concepts.

    Raises
    ------
    UsageError
        A used concept the profile has no row for (a bug: every id written must be known).
    """
    ids = sorted(set(used))
    unknown = [i for i in ids if i not in ov.rows]
    if unknown:
        raise UsageError(f"the ohdsi profile wrote concept ids it cannot describe: {unknown[:5]}")
    rows = [ov.rows[i] for i in ids]
    start = np.datetime64("1970-01-01", "D")
    end = np.datetime64("2099-12-31", "D")
    n = len(ids)
    columns = {
        "concept_id": pa.array(ids, pa.int64()),
        "concept_name": pa.array([r.name for r in rows]),
        "domain_id": pa.array([r.domain for r in rows]),
        "vocabulary_id": pa.array([r.vocabulary_id for r in rows]),
        "concept_class_id": pa.array([r.concept_class for r in rows]),
        "standard_concept": pa.array([r.standard for r in rows], pa.string()),
        "concept_code": pa.array([r.code for r in rows]),
        "valid_start_date": pa.array(np.full(n, start)),
        "valid_end_date": pa.array(np.full(n, end)),
    }
    used_set = set(ids)
    pairs = sorted(
        {(s, t) for s, t in ov.maps_to.items() if s in used_set and t in used_set}
        | {(i, i) for i, r in zip(ids, rows, strict=True) if r.standard == "S" and i}
    )
    standard = [i for i, r in zip(ids, rows, strict=True) if r.standard == "S" and i]
    edges = sorted(
        {(i, i, 0) for i in standard}
        | {(a, d, k) for a, d, k in ov.ancestors if a in used_set and d in used_set}
    )
    return {
        "concept": _table("concept", columns, n),
        "concept_relationship": _table(
            "concept_relationship",
            {
                "concept_id_1": pa.array([p[0] for p in pairs], pa.int64()),
                "concept_id_2": pa.array([p[1] for p in pairs], pa.int64()),
                "relationship_id": pa.array(["Maps to"] * len(pairs)),
                "valid_start_date": pa.array(np.full(len(pairs), start)),
                "valid_end_date": pa.array(np.full(len(pairs), end)),
            },
            len(pairs),
        ),
        "concept_ancestor": _table(
            "concept_ancestor",
            {
                "ancestor_concept_id": pa.array([e[0] for e in edges], pa.int64()),
                "descendant_concept_id": pa.array([e[1] for e in edges], pa.int64()),
                "min_levels_of_separation": pa.array([e[2] for e in edges], pa.int64()),
                "max_levels_of_separation": pa.array([e[2] for e in edges], pa.int64()),
            },
            len(edges),
        ),
    }


def _table(name: str, values: Mapping[str, pa.Array], n: int) -> pa.Table:
    schema = cdm_schema(name)
    arrays = [values[f.name].cast(f.type) if f.name in values else pa.nulls(n, f.type)
              for f in schema]  # fmt: skip
    return pa.Table.from_arrays(arrays, schema=schema)


def write_vocabulary_tables(cdm_dir: Path, ov: OhdsiVocabulary) -> dict[str, int]:
    """Write the vocabulary tables of every concept the CDM in ``cdm_dir`` uses; rows by table."""
    tables = vocabulary_tables(ov, used_concepts(cdm_dir))
    for name, table in tables.items():
        (cdm_dir / name).mkdir(parents=True, exist_ok=True)
        pq.write_table(table, cdm_dir / name / "part-00000.parquet")
    return {name: t.num_rows for name, t in tables.items()}
