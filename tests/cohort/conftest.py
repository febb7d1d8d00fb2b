"""Fixtures of the cohort tests: a small hand-made CDM with known attrition."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cdm_builder import (
    ALL_ICD10,
    ALL_SNOMED,
    BLIN,
    HSCT,
    INO,
    MRD,
    RELAPSE,
    REMISSION,
    T_ALL,
    cond,
    drug,
    make_cdm,
    meas,
    obs,
    person,
    proc,
)

from allrwe.io import CdmSource, connect
from allrwe.io.vocabulary import Vocabulary, load_vocabulary

FULL_OBS = ("2015-01-01", "2022-12-31")

#: The persons of the attrition fixture and what happens to them (see test_cohort_build.py).
ATTRITION_TABLES = {
    "person": [
        person(1, 1980),
        person(2, 1990, 8532, 6, 15),
        person(3, 2000),
        person(4, 1970),
        person(5, 1970),
        person(6, 1970),
        person(7, 1970),
        person(8, 1970),
        person(9, 2004),
        person(10, 1945, 8532, 8, 2),
        person(11, 1944, 8507, 8, 1),
    ],
    "observation_period": [
        obs(1, *FULL_OBS),
        obs(2, "2019-06-01", "2022-12-31"),
        obs(3, *FULL_OBS),
        obs(4, *FULL_OBS),
        obs(5, *FULL_OBS),
        obs(6, "2021-01-01", "2022-12-31"),
        obs(7, "2020-03-01", "2022-12-31"),
        obs(8, *FULL_OBS),
        obs(9, *FULL_OBS),
        obs(10, *FULL_OBS),
        obs(11, *FULL_OBS),
    ],
    "drug_exposure": [
        drug(1, INO, "2019-03-01", quantity=1.5),
        drug(1, INO, "2019-03-08", quantity=0.9),
        drug(1, INO, "2019-03-15", quantity=0.9),
        drug(1, BLIN, "2019-06-01", "2019-06-28", quantity=28 * 28, days_supply=28),
        drug(2, BLIN, "2020-01-10", "2020-01-16", quantity=63, days_supply=7),
        drug(2, BLIN, "2020-01-17", "2020-02-06", quantity=588, days_supply=21),
        drug(3, INO, "2019-05-01"),
        drug(4, BLIN, "2017-01-01"),
        drug(4, BLIN, "2019-01-01"),
        drug(5, BLIN, "2022-03-01"),
        drug(6, INO, "2020-02-01"),
        drug(7, INO, "2020-05-01"),
        drug(8, INO, "2020-06-01"),
        drug(9, BLIN, "2020-07-01"),
        drug(10, BLIN, "2020-08-01"),
        drug(11, BLIN, "2020-08-01"),
    ],
    "condition_occurrence": [
        # person 1's diagnosis is coded only as an ICD-10 source concept
        cond(1, 0, "2018-09-01", source=ALL_ICD10),
        cond(1, RELAPSE, "2019-02-20"),
        cond(2, ALL_SNOMED, "2020-01-01"),
        cond(3, ALL_SNOMED, "2019-04-01"),
        cond(3, T_ALL, "2019-04-01"),
        cond(4, ALL_SNOMED, "2018-12-01"),
        cond(5, ALL_SNOMED, "2022-02-01"),
        cond(6, ALL_SNOMED, "2020-01-01"),
        cond(7, ALL_SNOMED, "2020-04-01"),
        cond(8, ALL_SNOMED, "2018-01-01"),
        cond(9, ALL_SNOMED, "2020-06-01"),
        cond(10, ALL_SNOMED, "2020-01-01"),
        cond(10, REMISSION, "2020-07-25"),
        cond(11, ALL_SNOMED, "2020-07-01"),
    ],
    "procedure_occurrence": [proc(10, HSCT, "2019-01-01")],
    "measurement": [meas(2, MRD, "2020-01-01", 0.5, 8554)],
}


@pytest.fixture(scope="session")
def vocab() -> Vocabulary:
    return load_vocabulary()


@pytest.fixture(scope="session")
def attrition_cdm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_cdm(tmp_path_factory.mktemp("cdm") / "attrition.duckdb", ATTRITION_TABLES)


@pytest.fixture(scope="session")
def attrition_source(attrition_cdm: Path) -> Iterator[CdmSource]:
    with connect(attrition_cdm) as src:
        yield src
