"""The synthetic CDM is structurally sound: required fields, keys, dates, observation periods."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from synth_tables import cdm, days, ids

from allrwe.io import connect
from allrwe.io.cdm_spec import load_cdm_spec
from allrwe.synth import SynthResult, generate_cdm
from allrwe.synth.concepts import BACKGROUND_RANGE

EVENTS = {
    "visit_occurrence": ("visit_start_date", "visit_end_date"),
    "condition_occurrence": ("condition_start_date", None),
    "drug_exposure": ("drug_exposure_start_date", "drug_exposure_end_date"),
    "procedure_occurrence": ("procedure_date", None),
    "measurement": ("measurement_date", None),
    "observation": ("observation_date", None),
    "death": ("death_date", None),
}
CDM_TABLES = {*EVENTS, "person", "observation_period", "cdm_source"}


def test_tables_and_truth_layout(any_cdm: SynthResult) -> None:
    root = any_cdm.out
    for table in CDM_TABLES:
        assert (root / table / "part-00000.parquet").is_file()
    for table in ("patients", "cycles", "responses", "aes"):
        assert (root / "truth" / f"truth_{table}" / "part-00000.parquet").is_file()
    # the truth sits beside the CDM and is never read as one of its tables
    with connect(any_cdm.cdm_url) as source:
        assert set(source.tables) == CDM_TABLES
        assert source.execute(source.table("person").count()) == any_cdm.persons


@pytest.mark.parametrize("table", sorted(CDM_TABLES))
def test_required_fields_filled_and_keys_unique(any_cdm: SynthResult, table: str) -> None:
    frame = cdm(str(any_cdm.out), table)
    spec = load_cdm_spec().table(table)
    assert list(frame.columns) == spec.columns
    for field in spec.required_fields:
        assert frame[field.name].notna().all(), f"{table}.{field.name} has nulls"
    if spec.primary_key:
        assert frame[spec.primary_key].is_unique
    assert len(frame) == any_cdm.row_counts[table]


def test_one_period_per_person_holding_every_record(any_cdm: SynthResult) -> None:
    root = str(any_cdm.out)
    person = cdm(root, "person")
    op = cdm(root, "observation_period")
    assert person.person_id.is_unique
    assert op.person_id.is_unique
    assert set(op.person_id) == set(person.person_id) == set(range(1, any_cdm.persons + 1))
    period = op.set_index("person_id")
    start = days(period.observation_period_start_date)
    end = days(period.observation_period_end_date)
    assert (end >= start).all()
    birth = person.set_index("person_id").year_of_birth
    assert (pd.to_datetime(period.observation_period_start_date).dt.year >= birth).all()
    for table, (first, last) in EVENTS.items():
        frame = cdm(root, table)
        s = days(frame[first]).to_numpy()
        lo = start.loc[frame.person_id].to_numpy()
        hi = end.loc[frame.person_id].to_numpy()
        assert ((s >= lo) & (s <= hi)).all(), f"{table} outside observation"
        if last:
            e = days(frame[last]).to_numpy()
            assert ((e >= s) & (e <= hi)).all(), f"{table} end out of order"


def test_death_ends_observation(any_cdm: SynthResult) -> None:
    root = str(any_cdm.out)
    death = cdm(root, "death").set_index("person_id")
    op = cdm(root, "observation_period").set_index("person_id")
    assert death.index.is_unique
    assert (days(death.death_date) == days(op.loc[death.index].observation_period_end_date)).all()


def test_background_pool_is_large_and_outside_the_vocabulary(any_cdm: SynthResult) -> None:
    root = str(any_cdm.out)
    low, high = BACKGROUND_RANGE
    cond = cdm(root, "condition_occurrence").condition_concept_id
    drug = cdm(root, "drug_exposure").drug_concept_id
    pool = pd.concat([cond[cond.between(low, high - 1)], drug[drug.between(low, high - 1)]])
    assert pool.nunique() >= 700
    vocab_ids = set(ids("chemotherapy")) | set(ids("index_drugs")) | set(ids("tki"))
    assert not vocab_ids & set(pool.unique())


def test_check_cdm_reports_nothing(any_cdm: SynthResult) -> None:
    check = pytest.importorskip("allrwe.io.check")
    with connect(any_cdm.cdm_url) as source:
        report = check.check_cdm(source, today=dt.date(2100, 1, 1))
    assert report.ok
    assert [f.rule for f in report.findings] == []


def test_tiny_population_without_all_patients(tmp_path: Path) -> None:
    res = generate_cdm(
        tmp_path / "tiny",
        persons=100,
        seed=1,
        profile="claims",
        params={"population": {"all_patients": 0}},
    )
    assert res.all_patients == 0
    assert res.row_counts["person"] == 100
    assert res.truth_row_counts == dict.fromkeys(
        ("truth_patients", "truth_cycles", "truth_responses", "truth_aes"), 0
    )
    truth = pd.read_parquet(tmp_path / "tiny" / "truth" / "truth_patients")
    assert len(truth) == 0
    assert "efs_time_days" in truth.columns
