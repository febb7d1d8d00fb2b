"""Relapse site (seed 003) and active GVHD at index (seed 004) on a five-person CDM.

Everyone is in group A (blinatumomab), R/R, with index date ``D0``; comments give the records
each level comes from (days relative to index).
"""

from __future__ import annotations

import pandas as pd
import pytest
from baseline_cdm import D0, cid, cond, meas, write_cdm

from allrwe.analyses.baseline import summarise_baseline
from allrwe.cohort import Cohort
from allrwe.io import connect
from allrwe.io.vocabulary import Vocabulary, load_vocabulary
from allrwe.spec import StudySpec, spec_from_text

SPEC = """
name: transplant_test
suppression: {policy: none}
index_groups: {A: [blinatumomab]}
study_period: {start: 2020-01-01, end: 2022-12-31}
baseline: {variables: [relapse_site, gvhd_at_index]}
strata: [relapse_site]
"""


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


def tables(vocab: Vocabulary) -> dict[str, list[dict]]:
    relapse, cns, gvhd = (cid(vocab, k) for k in ("relapse", "extramedullary_relapse", "gvhd"))
    blasts, pct = cid(vocab, "marrow_blasts"), vocab.concept_set("marrow_blasts").unit_concept_id
    return {
        "condition_occurrence": [
            # p1 relapse -20 with marrow blasts 40 % -> bone marrow; GVHD -60 -> active
            cond(1, relapse, -20), cond(1, gvhd, -60),
            # p2 relapse -10, CNS -5 -> extramedullary; GVHD -91 is too early -> no
            cond(2, relapse, -10), cond(2, cns, -5), cond(2, gvhd, -91),
            # p3 relapse -40, blasts 60 % -35, CNS -45 (30 days either side) -> both
            cond(3, relapse, -40), cond(3, cns, -45),
            # p4 relapse -10, blasts 3 % -> site not recorded; a CNS record after index and
            # one 31 days before the relapse do not count
            cond(4, relapse, -10), cond(4, cns, 1), cond(4, cns, -41),
            # p5 no relapse record: GVHD on the index day -> active
            cond(5, gvhd, 0),
        ],
        "measurement": [
            meas(1, blasts, -18, 40.0, pct), meas(3, blasts, -35, 60.0, pct),
            meas(4, blasts, -9, 3.0, pct),
        ],
    }  # fmt: skip


def cohort_of(spec: StudySpec) -> Cohort:
    frame = pd.DataFrame(
        {
            "person_id": [1, 2, 3, 4, 5],
            "group": "A",
            "index_date": D0,
            "index_set": "blinatumomab",
            "obs_start": "2015-01-01",
            "obs_end": "2022-12-31",
            "setting": "RR",
        }
    )
    return Cohort.from_frame(frame, spec=spec)


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory, vocab: Vocabulary) -> pd.DataFrame:
    cdm = write_cdm(tmp_path_factory.mktemp("transplant") / "cdm.duckdb", tables(vocab))
    spec = spec_from_text(SPEC)
    with connect(cdm) as source:
        return summarise_baseline(source, vocab, cohort_of(spec), spec)


def counts(records: pd.DataFrame, variable: str, strata: str = "overall") -> dict[str, int]:
    sel = records[
        (records["group"] == "A")
        & (records["strata_name"] == strata)
        & (records["variable"] == variable)
        & (records["estimate_name"] == "count")
        & (records["variable_level"] != "overall")
    ]
    return {k: int(v) for k, v in zip(sel["variable_level"], sel["value"], strict=True)}


def test_relapse_site_levels(records: pd.DataFrame) -> None:
    assert counts(records, "relapse_site") == {
        "bone marrow": 1,
        "extramedullary": 1,
        "bone marrow + extramedullary": 1,
        "site not recorded": 1,
        "no relapse before index": 1,
    }


def test_gvhd_active_at_index(records: pd.DataFrame) -> None:
    assert counts(records, "gvhd_at_index") == {"yes": 2, "no": 3}


def test_relapse_site_is_a_stratum(records: pd.DataFrame) -> None:
    sel = records[
        (records["strata_name"] == "relapse_site")
        & (records["variable"] == "persons")
        & (records["group"] == "A")
    ]
    assert dict(zip(sel["strata_level"], sel["value"].astype(int), strict=True)) == {
        "bone marrow": 1,
        "extramedullary": 1,
        "bone marrow + extramedullary": 1,
        "site not recorded": 1,
        "no relapse before index": 1,
    }
