"""The curated vocabulary: bundled sets, user overrides, ATLAS imports, descendants."""

from __future__ import annotations

import json
import re

import pytest
from pydantic import ValidationError

from allrwe.errors import VocabularyError
from allrwe.io.source import connect
from allrwe.io.vocabulary import (
    Concept,
    ConceptSet,
    expand_descendants,
    load_atlas_concept_set,
    load_vocabulary,
)
from vocab_sets import concept

KEYS = [
    "blinatumomab",
    "inotuzumab_ozogamicin",
    "tisagenlecleucel",
    "brexucabtagene_autoleucel",
    "imatinib",
    "dasatinib",
    "nilotinib",
    "ponatinib",
    "bosutinib",
    "vincristine",
    "daunorubicin",
    "doxorubicin",
    "idarubicin",
    "mitoxantrone",
    "cyclophosphamide",
    "cytarabine",
    "methotrexate",
    "mercaptopurine",
    "fludarabine",
    "clofarabine",
    "nelarabine",
    "etoposide",
    "asparaginase",
    "pegaspargase",
    "thioguanine",
    "dexamethasone",
    "prednisone",
    "prednisolone",
    "tocilizumab",
    "busulfan",
    "melphalan",
    "thiotepa",
    "all_diagnosis",
    "t_lineage_all",
    "ph_positive",
    "ph_negative",
    "ph_like",
    "kmt2a_rearranged",
    "etv6_runx1",
    "hyperdiploid",
    "hypodiploid",
    "il3_igh",
    "tcf3_pbx1",
    "complex_karyotype",
    "ikzf1_deletion",
    "pax5_alteration",
    "chemo_intolerance",
    "cns_involvement",
    "relapse",
    "extramedullary_relapse",
    "gvhd",
    "refractory",
    "remission",
    "allo_hsct",
    "car_t_infusion",
    "marrow_blasts",
    "anc",
    "platelets",
    "wbc",
    "hemoglobin",
    "mrd",
    "height",
    "weight",
    "crs",
    "icans",
    "vod_sos",
    "infection",
    "neutropenia",
    "liver_enzyme_increase",
    "infusion_reaction",
    "neurotoxicity",
    "death",
]


def test_bundled_keys_are_unchanged():
    vocab = load_vocabulary()
    assert list(vocab.sets) == KEYS
    assert list(vocab.groups) == [
        "index_drugs",
        "car_t",
        "tki",
        "chemotherapy",
        "corticosteroids",
        "genetic_features",
        "aes_of_special_interest",
        "adverse_events",
    ]


def test_confirmed_values_name_their_source_and_local_ids_are_unconfirmed():
    vocab = load_vocabulary()
    concepts = [c for s in vocab.sets.values() for c in s.concepts]
    assert all(c.source for c in concepts)
    local = [c for c in concepts if c.concept_id >= 2_000_000_000]
    assert local
    assert not any(c.confirmed for c in local)
    assert len({c.concept_id for c in local}) == len(local)


def test_unconfirmed_values_say_where_they_were_searched_and_why_not():
    # a value no public source confirms names the public repositories searched, each at the
    # commit read, and the reason none of them covers it; an id its reason names as not a fit
    # is not in the set
    vocab = load_vocabulary()
    unconfirmed = {s.key: s.unconfirmed for s in vocab.sets.values() if s.unconfirmed}
    assert len(unconfirmed) == 7
    for key, concepts in unconfirmed.items():
        for c in concepts:
            searched = re.findall(r"[\w.-]+/[\w.-]+ [0-9a-f]{8}\b", c.source)
            assert len(set(searched)) >= 14, (key, searched)
            assert c.note, key
            assert c.note.startswith("no public OHDSI"), key
            assert c.concept_id >= 2_000_000_000
    judged = {
        "infusion_reaction": {4193788, 4050438, 441207, 4303952},
        "ikzf1_deletion": {35948173},
        "pax5_alteration": {35948173, 19544714},
        "chemo_intolerance": {37205051, 35624756, 4322386},
    }
    for key, ids in judged.items():
        assert not set(vocab.concept_set(key).concept_ids) & ids, key
        assert all(str(i) in unconfirmed[key][0].note for i in ids), key


def test_verified_lab_concepts_and_units():
    vocab = load_vocabulary()
    anc = vocab.concept_set("anc")
    assert [(c.concept_id, c.concept_code, c.confirmed) for c in anc.concepts] == [
        (3013650, "751-8", True)
    ]
    assert anc.concepts[0].concept_name == "Neutrophils [#/volume] in Blood by Automated count"
    assert "OHDSI/DataQualityDashboard" in anc.concepts[0].source
    units = {k: vocab.concept_set(k).unit_concept_id for k in ("anc", "hemoglobin", "height")}
    assert units == {"anc": 9444, "hemoglobin": 8636, "height": 8582}
    assert all(vocab.concept_set(k).unit_source for k in ("anc", "wbc", "weight", "mrd"))
    for key in ("platelets", "wbc", "hemoglobin", "height", "weight"):
        assert not vocab.concept_set(key).unconfirmed, key


def test_neutropenia_uses_the_standard_concept():
    vocab = load_vocabulary()
    assert vocab.concept_ids("neutropenia") == [320073]
    every_id = {c.concept_id for s in vocab.sets.values() for c in s.concepts}
    assert 2_000_000_405 not in every_id
    assert 320073 in vocab.concept_ids("adverse_events")


def test_user_file_replaces_a_set_and_adds_one(tmp_path):
    user = tmp_path / "site.yaml"
    user.write_text(
        """
concept_sets:
  anc:
    label: ANC (site)
    domain: measurement
    category: lab
    unit_concept_id: 8848
    concepts:
      - {concept_id: 3017732, concept_name: "Neutrophils [#/volume] in Blood",
         vocabulary_id: LOINC, confirmed: true, source: site lab catalogue}
  site_drug:
    label: Site drug
    domain: drug
    category: other
    concepts:
      - {concept_id: 2100000001, concept_name: local drug, vocabulary_id: local}
groups:
  tki: [imatinib, dasatinib]
""",
        encoding="utf-8",
    )
    vocab = load_vocabulary([user])
    assert vocab.concept_ids("anc") == [3017732]
    assert vocab.concept_set("anc").unit_concept_id == 8848
    assert vocab.concept_set("site_drug").key == "site_drug"
    assert vocab.concept_ids("tki") == [1304107, 1358436]
    assert vocab.concept_ids("blinatumomab") == [45892531]


def test_malformed_user_file_names_the_field(tmp_path):
    user = tmp_path / "bad.yaml"
    user.write_text("concept_sets:\n  anc:\n    label: x\n    domain: lab\n    category: c\n")
    with pytest.raises(VocabularyError, match=r"field 'concept_sets\.anc\.domain'"):
        load_vocabulary([user])
    with pytest.raises(VocabularyError, match="does not exist"):
        load_vocabulary([tmp_path / "missing.yaml"])


def _atlas(path, items, *, wrap=False):
    body = {"name": "Site ALL", "expression": {"items": items}} if wrap else {"items": items}
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def _item(cid, name, *, excluded=False, descendants=True, standard="S"):
    return {
        "concept": {
            "CONCEPT_ID": cid,
            "CONCEPT_NAME": name,
            "VOCABULARY_ID": "SNOMED",
            "CONCEPT_CODE": str(cid),
            "STANDARD_CONCEPT": standard,
        },
        "isExcluded": excluded,
        "includeDescendants": descendants,
    }


def test_atlas_import(tmp_path):
    path = _atlas(
        tmp_path / "all.json",
        [_item(134305, "ALL"), _item(4082462, "T-ALL", excluded=True, descendants=False)],
        wrap=True,
    )
    cs = load_atlas_concept_set(path, key="site_all", domain="condition", category="diagnosis")
    assert (cs.key, cs.label, cs.domain) == ("site_all", "Site ALL", "condition")
    assert cs.concept_ids == [134305]
    assert cs.excluded_ids == [4082462]
    assert cs.concepts[1].include_descendants is False
    assert all(c.confirmed and c.source == "ATLAS export all.json" for c in cs.concepts)
    vocab = load_vocabulary(extra_sets=[cs])
    assert vocab.concept_ids("site_all") == [134305]


def test_atlas_without_items_is_an_error(tmp_path):
    path = tmp_path / "empty.json"
    path.write_text('{"items": []}')
    with pytest.raises(VocabularyError, match="has no 'items'"):
        load_atlas_concept_set(path, key="k", domain="drug", category="c")


def _set(*concepts: Concept) -> ConceptSet:
    return ConceptSet(key="s", label="s", domain="condition", category="c", concepts=concepts)


def _ancestry(pairs):
    return [
        {
            "ancestor_concept_id": a,
            "descendant_concept_id": d,
            "min_levels_of_separation": int(a != d),
            "max_levels_of_separation": int(a != d),
        }
        for a, d in pairs
    ]


@pytest.mark.parametrize("kind", ["duckdb", "parquet"])
def test_expand_descendants(tmp_cdm, kind):
    # 1 > 2 > 3, 1 > 4; 10 > 11; 20 > 21 (excluded with its descendants); 30 > 31
    pairs = [(1, 1), (1, 2), (1, 3), (2, 3), (1, 4), (10, 11), (20, 21), (20, 22), (30, 31)]
    cs = _set(
        concept(1),
        concept(10, descendants=False),
        concept(20),
        concept(2, exclude=True, descendants=False),
        concept(21, exclude=True),
        concept(30),
        concept(31, exclude=True, descendants=False),
    )
    url = tmp_cdm({"concept_ancestor": _ancestry(pairs)}, kind=kind)
    with connect(url) as cdm:
        assert expand_descendants(cdm, cs) == [1, 3, 4, 10, 20, 22, 30]


def test_expand_descendants_without_concept_ancestor(tmp_cdm):
    cs = _set(concept(1), concept(2, exclude=True), concept(3))
    url = tmp_cdm({"person": [{"person_id": 1}]})
    with connect(url) as cdm:
        assert expand_descendants(cdm, cs) == [1, 3]


def test_bundled_file_is_read_once_and_as_the_safe_loader_reads_it():
    from importlib import resources

    import yaml

    from allrwe.io.vocabulary import _bundled, _parse

    assert _bundled() is _bundled()
    text = resources.files("allrwe.data").joinpath("vocabulary/default.yaml").read_text("utf-8")
    assert _bundled() == _parse(yaml.safe_load(text), "bundled vocabulary")
    # two loads share the bundled sets but not the mappings a user file updates
    first, second = load_vocabulary(), load_vocabulary()
    assert first.sets is not second.sets
    assert first.sets == second.sets


def test_fixtures_are_local_coded_and_not_listed_as_unconfirmed():
    vocab = load_vocabulary()
    fixtures = {s.key: s.fixtures for s in vocab.sets.values() if s.fixtures}
    assert {k: [c.concept_id for c in f] for k, f in fixtures.items()} == {
        "car_t_infusion": [2000000202],
        "gvhd": [2000000701],
        "icans": [2000000402],
    }
    icans = vocab.concept_set("icans")
    assert icans.unconfirmed == []
    assert icans.fixtures[0].concept_code == "1230414002"
    assert icans.fixtures[0].source_codes["ICD10CM"][0] == "G92.00"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"concept_id": 4242257}, "local id"),
        ({"confirmed": True}, "never confirmed"),
        ({"concept_code": None}, "needs a concept_code"),
    ],
)
def test_a_fixture_must_be_local_unconfirmed_and_coded(fields: dict, message: str) -> None:
    base = {
        "concept_id": 2_000_000_999,
        "concept_name": "x",
        "vocabulary_id": "CPT4",
        "concept_code": "0540T",
        "fixture": True,
    }
    with pytest.raises(ValidationError, match=message):
        Concept(**{**base, **fields})
