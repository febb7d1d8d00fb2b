"""``allrwe synth`` on the command line, and the profile parameters."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from allrwe.cli.app import main
from allrwe.errors import UsageError
from allrwe.synth import PROFILES, generate_cdm, load_params
from allrwe.synth.params import merge_params, profile_text


def test_cli_writes_the_cdm_and_prints_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"patients": {"novel_agent_share": 1.0}}), encoding="utf-8")
    out = tmp_path / "cdm"
    code = main(
        [
            "synth",
            "--out",
            str(out),
            "--persons",
            "1500",
            "--seed",
            "3",
            "--profile",
            "emr",
            "--all-patients",
            "40",
            "--params",
            str(params),
            "--chunk-size",
            "1024",
            "--json",
        ]
    )
    assert code == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["all_patients"] == 40
    assert shown["persons"] == 1500
    assert shown["row_counts"]["person"] == 1500
    truth = pd.read_parquet(out / "truth" / "truth_patients")
    assert len(truth) == 40
    assert truth.novel_agent.all()
    same = generate_cdm(
        tmp_path / "api",
        persons=1500,
        seed=3,
        profile="emr",
        params={"population": {"all_patients": 40}, "patients": {"novel_agent_share": 1.0}},
    )
    assert same.row_counts == shown["row_counts"]
    provenance = yaml.safe_load((out / "truth" / "params.yaml").read_text(encoding="utf-8"))
    assert provenance["seed"] == 3
    assert provenance["params"]["population"]["all_patients"] == 40


def test_cli_table_output_and_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "cdm"
    assert main(["synth", "--out", str(out), "--persons", "300", "--all-patients", "5"]) == 0
    text = capsys.readouterr().out
    assert "truth_patients" in text
    assert "300 persons" in text
    assert main(["synth", "--out", str(out), "--persons", "300"]) == 2
    assert "not empty" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("population: {all_prevalence: 2}\n", encoding="utf-8")
    assert (
        main(["synth", "--out", str(tmp_path / "x"), "--persons", "10", "--params", str(bad)]) == 2
    )
    assert "population.all_prevalence" in capsys.readouterr().err


@pytest.mark.parametrize("profile", PROFILES)
def test_bundled_profiles_document_every_parameter(profile: str) -> None:
    params = load_params(profile)
    assert params.name == profile
    lines = profile_text(profile).splitlines()
    # every line holding a value carries a comment, or follows a commented header closely
    for j, line in enumerate(lines):
        if ":" not in line or line.lstrip().startswith("#"):
            continue
        _, _, value = line.partition(":")
        if value.strip() and not value.strip().startswith("#"):
            assert any("#" in b for b in lines[max(0, j - 10) : j + 1]), f"{profile}: {line!r}"


def test_overrides_merge_and_validation_names_the_field(tmp_path: Path) -> None:
    merged = merge_params({"a": {"b": 1, "c": {"d": 2}}}, {"a": {"c": {"d": 3}, "e": 4}})
    assert merged == {"a": {"b": 1, "c": {"d": 3}, "e": 4}}
    params = load_params("claims", {"index_drugs": {"blinatumomab": {"interruption": 0.3}}})
    assert params.index_drugs["blinatumomab"].interruption == 0.3
    assert params.index_drugs["blinatumomab"].response["RR"] == 0.44
    with pytest.raises(UsageError, match=r"patients\.index_drug_mix"):
        load_params("claims", {"patients": {"index_drug_mix": {"blinatumomab": 0.7}}})
    with pytest.raises(UsageError, match=r"'population\.typo'"):
        load_params("emr", {"population": {"typo": 1}})
    with pytest.raises(UsageError, match=r"non-response 0\.900 exceeds"):
        load_params("emr", {"index_drugs": {"blinatumomab": {"response": {"RR": 0.1}}}})
    with pytest.raises(UsageError, match="at least 3650 days"):
        load_params("emr", {"calendar": {"database_start": "2020-01-01"}})
    with pytest.raises(UsageError, match="does not exist"):
        load_params("emr", tmp_path / "missing.yaml")
