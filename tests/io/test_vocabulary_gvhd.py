"""Acute GVHD (seed 004): found by its public codes in the CDM's own concept table.

The CDM's vocabulary holds SNOMED 402355000 and ICD-10-CM D89.810 mapping to it; their ids
(10,000,101-10,000,102) are invented for the test, the codes are the real ones the ``gvhd``
set names. Person 1 has acute GVHD coded by the standard concept, person 2 by the ICD-10-CM
source code only, person 3 chronic GVHD (434314, listed by id).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from allrwe.cohort import condition_events
from allrwe.io import connect
from allrwe.io.vocabulary import load_vocabulary
from allrwe.io.vocabulary_resolution import resolve_vocabulary
from offset_cdm import write_cdm, write_vocabulary

AGVHD, D89_810 = 10_000_101, 10_000_102
CONCEPTS = [
    (AGVHD, "Acute graft-versus-host disease", "Condition", "SNOMED", "S", "402355000"),
    (D89_810, "Acute graft-versus-host disease", "Condition", "ICD10CM", None, "D89.810"),
]


def _cdm(path: Path) -> Path:
    day = dt.date(2021, 3, 1)
    rows = [
        {"person_id": 1, "condition_concept_id": AGVHD, "condition_start_date": day,
         "condition_type_concept_id": 32817},
        {"person_id": 2, "condition_concept_id": 0, "condition_source_concept_id": D89_810,
         "condition_start_date": day, "condition_type_concept_id": 32810},
        {"person_id": 3, "condition_concept_id": 434314, "condition_start_date": day,
         "condition_type_concept_id": 32817},
    ]  # fmt: skip
    write_cdm(path, {"condition_occurrence": rows})
    write_vocabulary(path, CONCEPTS, [(D89_810, AGVHD), (AGVHD, AGVHD)])
    return path


def test_acute_gvhd_is_found_by_code(tmp_path: Path) -> None:
    vocab = load_vocabulary()
    fixture = vocab.concept_set("gvhd").fixtures
    assert [(c.concept_code, c.source_codes["ICD10CM"]) for c in fixture] == [
        ("402355000", ["D89.810"])
    ]
    with connect(_cdm(tmp_path / "cdm.duckdb")) as source:
        resolved, report = resolve_vocabulary(source, vocab)
        got = source.execute(condition_events(source, resolved, None, "gvhd"))
    assert report["gvhd"].resolved == (AGVHD, D89_810)
    # acute GVHD by its standard concept (1) and by its ICD-10-CM source code only (2);
    # chronic GVHD by the confirmed id (3)
    assert sorted(got["person_id"].tolist()) == [1, 2, 3]
