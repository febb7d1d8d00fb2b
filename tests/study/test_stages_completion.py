"""Completion of the index treatment and therapy by Ph status, through the run's steps.

A hand-made DuckDB CDM of three blinatumomab patients (2020):

* person 1: Ph+ (a Ph-positive ALL condition), no relapse (ND); one 28-day bag from
  2020-03-01 (completed); HSCT 2020-06-01.
* person 2: no Ph record (unknown), relapse 2020-02-15 (R/R); bags 03-01..03-07 and
  03-08..03-28 (one cycle of 28 days: completed); vincristine 2019-12-05 before,
  cytarabine 2020-05-01 after.
* person 3: Ph-negative ALL, relapse 2020-02-15 (R/R); one 14-day bag (not completed);
  HSCT 2020-05-01.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from allrwe.cohort import build_cohort
from allrwe.io import connect
from allrwe.io.vocabulary import load_vocabulary
from allrwe.spec import spec_from_text
from allrwe.study import stages
from allrwe.study.stages import _wanted_variable_strata


def _builder() -> ModuleType:
    if "cdm_builder" in sys.modules:
        return sys.modules["cdm_builder"]
    path = Path(__file__).resolve().parents[1] / "cohort" / "cdm_builder.py"
    spec = importlib.util.spec_from_file_location("cdm_builder", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["cdm_builder"] = module
    spec.loader.exec_module(module)
    return module


cb = _builder()
PH_POSITIVE, PH_NEGATIVE = 4138008, 37017893  # vocabulary default.yaml: ph_positive/negative

SPEC = """\
name: completion
index_groups: {BLIN: [blinatumomab]}
study_period: {start: 2020-01-01, end: 2020-12-31}
strata: [setting]
patterns: {completion: {min_cycles: 1}, therapy_by: [ph_status]}
pathways: {by: [setting, completion]}
suppression: {policy: none}   # no pooling of the few persons here
"""


def tables() -> dict[str, list[dict]]:
    return {
        "person": [cb.person(1, 1970), cb.person(2, 1985), cb.person(3, 1990)],
        "observation_period": [cb.obs(p, "2015-01-01", "2022-12-31") for p in (1, 2, 3)],
        "condition_occurrence": [
            cb.cond(1, cb.ALL_SNOMED, "2019-12-01"),
            cb.cond(1, PH_POSITIVE, "2019-12-01"),
            cb.cond(2, cb.ALL_SNOMED, "2019-11-01"),
            cb.cond(2, cb.RELAPSE, "2020-02-15"),
            cb.cond(3, cb.ALL_SNOMED, "2019-11-01"),
            cb.cond(3, PH_NEGATIVE, "2019-11-01"),
            cb.cond(3, cb.RELAPSE, "2020-02-15"),
        ],
        "drug_exposure": [
            cb.drug(1, cb.BLIN, "2020-03-01", "2020-03-28"),
            cb.drug(2, cb.VINCRISTINE, "2019-12-05"),
            cb.drug(2, cb.BLIN, "2020-03-01", "2020-03-07"),
            cb.drug(2, cb.BLIN, "2020-03-08", "2020-03-28"),
            cb.drug(2, cb.CYTARABINE, "2020-05-01", "2020-05-04"),
            cb.drug(3, cb.BLIN, "2020-03-01", "2020-03-14"),
        ],
        "procedure_occurrence": [
            cb.proc(1, cb.HSCT, "2020-06-01"),
            cb.proc(3, cb.HSCT, "2020-05-01"),
        ],
    }


@pytest.fixture(scope="module")
def steps(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = cb.make_cdm(tmp_path_factory.mktemp("completion") / "cdm.duckdb", tables())
    spec = spec_from_text(SPEC)
    vocab = load_vocabulary(spec.resolved_vocabulary_paths())
    spec = spec.validate_against(vocab)
    with connect(path) as source:
        cohort = build_cohort(source, spec, vocab)
        run = stages.RunInputs(source=source, spec=spec, vocab=vocab, cohort=cohort)
        strata = stages.VariableStrata(run)
        therapy = stages.therapy_step(run, strata)
        pathways = stages.pathways_step(run, therapy.output)
    assert not therapy.unavailable
    assert not pathways.unavailable
    return therapy.records, pathways.records


def counts(records: pd.DataFrame, analysis: str) -> dict[tuple[str, str, str], int]:
    part = records[(records["analysis"] == analysis) & (records["estimate_name"] == "count")]
    return {
        (r.strata_name, r.strata_level, r.variable_level): int(float(r.value))
        for r in part.itertuples()
    }


def test_ph_status_is_read_once_for_the_therapy_tables() -> None:
    assert _wanted_variable_strata(spec_from_text(SPEC)) == ["ph_status"]


def test_prior_therapy_by_ph_status(steps: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    got = counts(steps[0], "prior_therapy")
    assert got[("ph_status", "unknown", "chemotherapy")] == 1  # person 2's vincristine
    assert got[("ph_status", "Ph+", "any")] == 0
    assert got[("ph_status", "Ph-", "any")] == 0
    assert got[("overall", "overall", "chemotherapy")] == 1


def test_destinations_of_those_who_completed(steps: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    got = {k: v for k, v in counts(steps[0], "destinations").items() if v > 0}
    assert not [k for k in got if k[0] == "completion"]  # only within setting
    assert got[("setting &&& completion", "ND &&& completed", "hsct")] == 1
    assert got[("setting &&& completion", "RR &&& completed", "chemotherapy")] == 1
    assert got[("setting &&& completion", "RR &&& not completed", "hsct")] == 1


def test_pathways_of_those_who_completed(steps: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    got = counts(steps[1], "pathways")
    overall = {k[2]: v for k, v in got.items() if k[0] == "overall"}
    assert overall == {"blinatumomab-hsct": 2, "blinatumomab-chemotherapy": 1}
    assert not [k for k in got if k[0] == "completion"]  # only within setting
    nd_done = {
        k[2]: v for k, v in got.items() if k[:2] == ("setting &&& completion", "ND &&& completed")
    }
    assert nd_done == {"blinatumomab-hsct": 1}
    rr_done = {
        k[2]: v for k, v in got.items() if k[:2] == ("setting &&& completion", "RR &&& completed")
    }
    assert rr_done == {"blinatumomab-chemotherapy": 1}
    # the crossed levels of R/R add up to R/R's own row
    rr = {k[2]: v for k, v in got.items() if k[:2] == ("setting", "RR")}
    crossed = [k for k in got if k[0] == "setting &&& completion" and k[1].startswith("RR")]
    assert sum(got[k] for k in crossed) == sum(rr.values()) == 2
