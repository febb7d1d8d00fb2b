"""resolve_vocabulary: source codes found in the CDM's own concept table, then 'Maps to'.

The CDM's vocabulary holds the CRS concept (46271778), ICD-10-CM G92.01 mapping to a SNOMED
ICANS concept, CPT4 0540T and ATC L01XL04. The ids of the last three are invented for the test
(10,000,001-10,000,004); the codes are the real ones the sets name.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from allrwe.cohort import any_records, condition_events
from allrwe.io import connect
from allrwe.io.vocabulary import Vocabulary, load_vocabulary
from allrwe.io.vocabulary_resolution import SetResolution, resolve_vocabulary, unresolved_sets
from offset_cdm import write_cdm, write_vocabulary

G92_01, ICANS, CPT_0540T, ATC_TISA = 10_000_001, 10_000_002, 10_000_003, 10_000_004
CONCEPTS = [
    (46271778, "Cytokine release syndrome", "Condition", "SNOMED", "S", "710027002"),
    (G92_01, "ICANS grade 1", "Condition", "ICD10CM", None, "G92.01"),
    (ICANS, "Immune effector cell-associated neurotoxicity syndrome", "Condition", "SNOMED",
     "S", "1230414002"),
    (CPT_0540T, "CAR-T cell administration", "Procedure", "CPT4", "S", "0540T"),
    (ATC_TISA, "tisagenlecleucel", "Drug", "ATC", "C", "L01XL04"),
]  # fmt: skip
MAPS_TO = [(G92_01, ICANS), (ICANS, ICANS), (CPT_0540T, CPT_0540T)]


def _cdm(path: Path, *, vocabulary: bool) -> Path:
    rows = [
        {"person_id": 1, "condition_concept_id": ICANS, "condition_start_date": dt.date(2021, 1, 5),
         "condition_type_concept_id": 32817},
        {"person_id": 2, "condition_concept_id": 0, "condition_source_concept_id": G92_01,
         "condition_start_date": dt.date(2021, 2, 5), "condition_type_concept_id": 32810},
    ]  # fmt: skip
    write_cdm(path, {"condition_occurrence": rows})
    if vocabulary:
        write_vocabulary(path, CONCEPTS, MAPS_TO)
    return path


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


def test_codes_resolve_to_their_concepts_and_mapped_standards(tmp_path: Path, vocab: Vocabulary):
    with connect(_cdm(tmp_path / "cdm.duckdb", vocabulary=True)) as source:
        resolved, report = resolve_vocabulary(source, vocab)
        got = source.execute(condition_events(source, resolved, None, "icans"))
    assert report["icans"].resolved == (G92_01, ICANS)
    assert report["icans"].present is True
    assert report["car_t_infusion"].resolved == (CPT_0540T,)
    assert report["tisagenlecleucel"].resolved == (ATC_TISA,)
    tisa = {c.concept_id: c for c in resolved.sets["tisagenlecleucel"].concepts}
    assert tisa[ATC_TISA].include_descendants  # the drugs under the ATC class
    assert report["crs"] == SetResolution("crs", (46271778,), (), True)
    assert report["crs"].to_dict() == {"listed": [46271778], "resolved": [], "present": True}
    # a record coded by its standard concept and one by its source concept only
    assert sorted(got["person_id"].tolist()) == [1, 2]
    # sets none of whose concepts the CDM's vocabulary holds
    missing = unresolved_sets(report, ["crs", "icans", "mrd", "marrow_blasts", "vod_sos"])
    assert missing == ["mrd", "marrow_blasts", "vod_sos"]
    # the sets not touched are the bundled ones, unchanged
    assert resolved.sets["blinatumomab"] is vocab.sets["blinatumomab"]


def test_without_a_concept_table_nothing_changes(tmp_path: Path, vocab: Vocabulary):
    with connect(_cdm(tmp_path / "bare.duckdb", vocabulary=False)) as source:
        resolved, report = resolve_vocabulary(source, vocab)
    assert resolved.sets == vocab.sets
    assert {r.present for r in report.values()} == {None}
    assert unresolved_sets(report, list(report)) == []
    assert report["allo_hsct"].listed[:1] == (2002351,)


def test_a_cdm_of_standard_concepts_only_has_every_key_fact(tmp_path: Path, vocab: Vocabulary):
    # HSCT by CPT4 38240, CAR-T by the tisagenlecleucel ingredient, CRS and VOD by their SNOMED
    # concepts, ICANS by its ICD-10-CM source code G92.01: no local concept anywhere
    day = dt.date(2021, 3, 1)
    path = write_cdm(
        tmp_path / "standard.duckdb",
        {
            "procedure_occurrence": [
                {"person_id": 1, "procedure_concept_id": 2108456, "procedure_date": day,
                 "procedure_type_concept_id": 32810},
            ],
            "drug_exposure": [
                {"person_id": 1, "drug_concept_id": 792737, "drug_exposure_start_date": day,
                 "drug_exposure_end_date": day, "drug_type_concept_id": 32810},
            ],
            "condition_occurrence": [
                {"person_id": 1, "condition_concept_id": c, "condition_start_date": day,
                 "condition_type_concept_id": 32810, "condition_source_concept_id": s}
                for c, s in ((46271778, None), (4277276, None), (0, G92_01))
            ],
        },
    )  # fmt: skip
    con = duckdb.connect(str(path))
    rows = [
        (46271778, "SNOMED", "710027002"), (G92_01, "ICD10CM", "G92.01"),
        (ICANS, "SNOMED", "1230414002"), (2108456, "CPT4", "38240"),
        (792737, "RxNorm", "1986438"), (4277276, "SNOMED", "65617004"),
    ]  # fmt: skip
    con.execute(
        "CREATE TABLE concept (concept_id BIGINT, vocabulary_id VARCHAR, concept_code VARCHAR)"
    )
    con.executemany("INSERT INTO concept VALUES (?, ?, ?)", [list(r) for r in rows])
    con.execute(
        f"CREATE TABLE concept_relationship AS SELECT {G92_01} AS concept_id_1,"
        f" {ICANS} AS concept_id_2, 'Maps to' AS relationship_id"
    )
    con.close()
    keys = ["allo_hsct", "car_t", "crs", "icans", "vod_sos"]
    with connect(path) as source:
        bundled = {k: any_records(source, vocab, k) for k in keys}
        resolved, _ = resolve_vocabulary(source, vocab)
        found = {k: any_records(source, resolved, k) for k in keys}
    assert found == dict.fromkeys(keys, True)
    assert bundled == {**dict.fromkeys(keys, True), "icans": False}  # ICANS needs the CDM's codes
