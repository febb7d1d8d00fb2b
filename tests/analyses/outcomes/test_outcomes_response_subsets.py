"""Rates among responders: MRD in remission (seed 001) and transplants of responders (seed 003).

A hand-made CDM of seven R/R blinatumomab patients (N = 2 cycles):

======  ==============  ========  ===============  ================  ==================
person  setting         cycles    response         MRD               allo-HSCT
======  ==============  ========  ===============  ================  ==================
1       re-induction    0, 42     CR day 31 (c1)   0.001 day 31 neg  day 70 (after c2)
2       re-induction    0         CRi day 31 (c1)  0.5 day 31 pos    day 60 (no c2)
3       re-induction    0         NR day 31        none              day 50
4       consolidation   0, 42     CR day 31        0.0 day 72 neg    none
5       consolidation   0         no marrow (NE)   0.005 day 31 neg  none
6       re-induction    0, 42     CR day 72 (c2)   none              day 100
7       re-induction    0         CR day 31 (c1)   none              day 400 (after end)
======  ==============  ========  ===============  ================  ==================
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from outcome_fixtures import (
    HSCT,
    MRD,
    blin_cycles,
    cohort,
    lab,
    make_spec,
    proc,
    triple,
    write_cdm,
)

from allrwe.analyses.outcomes import (
    AVAILABLE,
    NOT_AVAILABLE,
    assess_response,
    response_rates,
    response_records,
)
from allrwe.cohort import Cohort
from allrwe.io import connect
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary, load_vocabulary
from allrwe.results import validate_records
from allrwe.spec import StudySpec

PERSONS = [1, 2, 3, 4, 5, 6, 7]
CR, CRI, NR = (1.0, 2.0, 150.0), (2.0, 0.3, 20.0), (40.0, 0.2, 20.0)
DRUGS = [
    *blin_cycles(1, 0, 42),
    *blin_cycles(2, 0),
    *blin_cycles(3, 0),
    *blin_cycles(4, 0, 42),
    *blin_cycles(5, 0),
    *blin_cycles(6, 0, 42),
    *blin_cycles(7, 0),
]
LABS = [
    *triple(1, 31, *CR),
    lab(1, MRD, 31, 0.001),
    *triple(2, 31, *CRI),
    lab(2, MRD, 31, 0.5),
    *triple(3, 31, *NR),
    *triple(4, 31, *CR),
    lab(4, MRD, 72, 0.0),
    lab(5, MRD, 31, 0.005),
    *triple(6, 31, *NR),
    *triple(6, 72, *CR),
    *triple(7, 31, *CR),
]
TRANSPLANTS = [proc(1, HSCT, 70), proc(2, HSCT, 60), proc(3, HSCT, 50), proc(6, HSCT, 100),
               proc(7, HSCT, 400)]  # fmt: skip


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


@pytest.fixture(scope="module")
def spec() -> StudySpec:
    return make_spec("outcomes: {response_within_cycles: 2}\n")


@pytest.fixture(scope="module")
def study(spec: StudySpec) -> Cohort:
    rows = [{"person_id": p} for p in PERSONS]
    for row in rows[3:5]:
        row["treatment_setting"] = "consolidation"
    return cohort(spec, rows)


def _source(path: Path, *, mrd: bool = True, hsct: bool = True) -> Path:
    labs = LABS if mrd else [r for r in LABS if r["measurement_concept_id"] != MRD]
    rows = {"drug_exposure": DRUGS, "measurement": labs}
    if hsct:
        rows["procedure_occurrence"] = TRANSPLANTS
    return write_cdm(path, PERSONS, rows)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CdmSource]:
    with connect(_source(tmp_path_factory.mktemp("subsets") / "cdm.duckdb")) as src:
        yield src


@pytest.fixture(scope="module")
def rates(source: CdmSource, vocab: Vocabulary, study: Cohort, spec: StudySpec) -> pd.DataFrame:
    return response_rates(assess_response(source, vocab, study), spec)


def _cells(rates: pd.DataFrame) -> dict[str, tuple[int, int]]:
    ok = rates[rates["status"] == AVAILABLE].set_index("variable")
    return {v: (int(r.numerator), int(r.denominator)) for v, r in ok.iterrows()}


def test_transplant_dates_follow_the_cycles(
    source: CdmSource, vocab: Vocabulary, study: Cohort
) -> None:
    persons = assess_response(source, vocab, study).persons.set_index("person_id")
    assert persons["hsct_after_index"].to_dict() == {
        1: True, 2: True, 3: True, 4: False, 5: False, 6: True, 7: False
    }  # fmt: skip
    # person 1's transplant (day 70) follows the start of its second cycle (day 42)
    assert persons["hsct_before_second_cycle"].to_dict() == {
        1: False, 2: True, 3: True, 4: False, 5: False, 6: False, 7: False
    }  # fmt: skip
    assert persons.loc[2, "first_hsct_date"] == pd.Timestamp("2020-03-01")  # index + 60 days


def test_mrd_in_remission_counts_those_in_cr_at_index(rates: pd.DataFrame) -> None:
    got = _cells(rates)
    # responders with MRD: 1 (neg), 2 (pos), 4 (neg, a responder by its own marrow)
    assert got["mrd_negative"] == (2, 3)
    # in remission with MRD: also 5, in CR at index without a marrow after it (seed 001's
    # "R/R patients who achieved CR", 26 = re-induction responders + those in CR at start)
    assert got["mrd_negative_in_remission"] == (3, 4)
    # within 2 cycles: 1 (cycle 1), 4 (cycle 2), 5 (cycle 1)
    assert got["mrd_negative_in_remission_within_n"] == (3, 4)


def test_transplants_of_responders_are_descriptive_counts(rates: pd.DataFrame) -> None:
    got = _cells(rates)
    # cycle-1 responders 1, 2, 7: only 2 is transplanted before a second cycle (7's HSCT is
    # after the end of follow-up); 4 and 5 (in CR at index) are not evaluable for response
    assert got["response_first_cycle"] == (3, 5)
    assert got["hsct_after_first_cycle_response"] == (1, 3)
    # responders within 2 cycles 1, 2, 6, 7: transplanted after index 1, 2, 6; 3 is a
    # non-responder whose transplant is not counted
    assert got["response_within_n"] == (4, 5)
    assert got["hsct_after_response_within_n"] == (3, 4)
    assert got["hsct_after_response_within_n"][1] == got["response_within_n"][0]


@pytest.mark.parametrize(("mrd", "hsct"), [(False, True), (True, False)])
def test_missing_mrd_or_transplants_are_not_available(
    tmp_path: Path, vocab: Vocabulary, study: Cohort, spec: StudySpec, mrd: bool, hsct: bool
) -> None:
    with connect(_source(tmp_path / "cdm.duckdb", mrd=mrd, hsct=hsct)) as src:
        result = assess_response(src, vocab, study)
    rates = response_rates(result, spec)
    status = rates.set_index("variable")["status"]
    mrd_rates = [v for v in status.index if v.startswith("mrd_")]
    hsct_rates = [v for v in status.index if v.startswith("hsct_")]
    assert len(mrd_rates) == 4
    assert len(hsct_rates) == 2
    assert set(status[mrd_rates]) == {AVAILABLE if mrd else NOT_AVAILABLE}
    assert set(status[hsct_rates]) == {AVAILABLE if hsct else NOT_AVAILABLE}
    assert status["response"] == AVAILABLE
    records = validate_records(response_records(rates))
    gone = mrd_rates if not mrd else hsct_rates
    cells = records[records["variable"].isin(gone)]
    # "not available", never 0 %: no count, no percentage, available = 0
    by_name = cells.groupby("estimate_name")["value"]
    assert set(by_name.groups) == {"available", "denominator"}
    assert (by_name.get_group("available") == 0.0).all()
    assert by_name.get_group("denominator").isna().all()
