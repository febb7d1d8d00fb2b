"""The bundled example CDM: shape, conventions and the stories of its README."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from allrwe.errors import UsageError
from allrwe.io.cdm_spec import load_cdm_spec
from allrwe.io.check import check_cdm
from allrwe.io.example import EXAMPLE_TABLES, example_cdm_path, example_tables
from allrwe.io.source import connect
from allrwe.io.vocabulary import load_vocabulary

BLINA, INO = 45892531, 794068


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {name: t.to_pandas() for name, t in example_tables().items()}


@pytest.mark.parametrize("kind", ["duckdb", "parquet"])
def test_example_passes_the_check_without_finding(tmp_path, kind):
    url = example_cdm_path(kind, tmp_path)
    assert url == (
        f"duckdb://{tmp_path.resolve()}/allrwe_example.duckdb"
        if kind == "duckdb"
        else f"parquet://{tmp_path.resolve()}/allrwe_example_parquet"
    )
    with connect(url) as cdm:
        assert cdm.tables == sorted(EXAMPLE_TABLES)
        report = check_cdm(cdm, today=date(2024, 1, 1))
        persons = cdm.execute(cdm.table("person").count())
    assert report.findings == ()
    assert report.checks_skipped == 0
    assert persons == 20


def test_every_cdm_column_typed_by_the_spec():
    spec = load_cdm_spec()
    for name, table in example_tables().items():
        assert table.column_names == spec.table(name).columns
    drug = example_tables()["drug_exposure"].schema
    assert str(drug.field("drug_exposure_start_date").type) == "date32[day]"
    assert str(drug.field("quantity").type) == "double"
    assert str(drug.field("sig").type) == "string"


def test_materialising_twice_gives_identical_parquet(tmp_path):
    def digest(folder: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}

    example_cdm_path("parquet", tmp_path / "a")
    example_cdm_path("parquet", tmp_path / "b")
    example_cdm_path("parquet", tmp_path / "b")  # replaces its earlier copy
    a = digest(tmp_path / "a" / "allrwe_example_parquet")
    assert len(a) == len(EXAMPLE_TABLES)
    assert a == digest(tmp_path / "b" / "allrwe_example_parquet")


def test_unknown_kind_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="unknown example CDM kind 'csv'"):
        example_cdm_path("csv", tmp_path)  # type: ignore[arg-type]


def test_blinatumomab_bags_follow_the_convention(tables):
    d = tables["drug_exposure"]
    bags = d[d.drug_concept_id == BLINA].copy()
    days = (
        pd.to_datetime(bags.drug_exposure_end_date) - pd.to_datetime(bags.drug_exposure_start_date)
    ).dt.days + 1
    assert set(days) == {1, 2, 4, 7}
    assert (days == bags.days_supply).all()
    daily = bags.quantity / bags.days_supply
    assert set(daily) == {9.0, 28.0}
    assert sorted(bags.person_id.unique()) == [1, 5, 6, 7, 11, 16, 19]
    p1 = bags[bags.person_id == 1].sort_values("drug_exposure_start_date")
    assert len(p1) == 15
    assert p1.days_supply.sum() == 56
    assert p1.quantity.sum() == 1435.0
    starts = list(pd.to_datetime(p1.drug_exposure_start_date).dt.date)
    assert starts[6] - starts[5] == timedelta(days=10)  # 7-day bag, then the 3-day interruption
    assert starts[9] == date(2020, 3, 19)  # cycle 2: 14 days after the last infusion day


def test_inotuzumab_days_1_8_15_over_two_cycles(tables):
    d = tables["drug_exposure"]
    p2 = d[(d.drug_concept_id == INO) & (d.person_id == 2)].sort_values("drug_exposure_start_date")
    starts = list(pd.to_datetime(p2.drug_exposure_start_date).dt.date)
    c1, c2 = date(2020, 9, 7), date(2020, 9, 28)
    assert starts == [c + timedelta(days=k) for c in (c1, c2) for k in (0, 7, 14)]
    assert (p2.drug_exposure_start_date == p2.drug_exposure_end_date).all()
    assert list(p2.quantity) == [1.42, 0.89, 0.89, 0.89, 0.89, 0.89]


def test_car_t_follows_lymphodepletion_within_2_to_14_days(tables):
    proc = tables["procedure_occurrence"]
    d = tables["drug_exposure"]
    infusions = proc[proc.procedure_concept_id == 2000000202]
    assert sorted(infusions.person_id) == [4, 13, 18]
    for row in infusions.itertuples():
        ld = d[(d.person_id == row.person_id) & d.drug_concept_id.isin([1395557, 1310317])]
        gaps = (
            pd.Timestamp(row.procedure_date) - pd.to_datetime(ld.drug_exposure_start_date)
        ).dt.days
        recent = gaps[(gaps >= 2) & (gaps <= 14)]
        assert len(recent) >= 3, row.person_id


def test_diagnoses_and_exclusions(tables):
    vocab = load_vocabulary()
    co = tables["condition_occurrence"]
    b_all = set(vocab.concept_ids("all_diagnosis")) | set(vocab.concept_ids("ph_positive"))
    direct = co.condition_concept_id.isin(b_all) | co.condition_source_concept_id.isin(b_all)
    assert sorted(co[direct].person_id.unique()) == [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        11,
        12,
        13,
        14,
        15,
        16,
        18,
        19,
    ]
    t_all = co[co.condition_concept_id.isin(vocab.concept_ids("t_lineage_all"))]
    assert list(t_all.person_id) == [8]
    assert set(co.person_id) & {9, 10, 17, 20} == set()


def test_deaths_close_observation(tables):
    death = tables["death"].set_index("person_id")
    op = tables["observation_period"].set_index("person_id")
    assert sorted(death.index) == [2, 5, 11, 13, 19, 20]
    for pid, row in death.iterrows():
        assert op.loc[pid, "observation_period_end_date"] == row.death_date


def test_responses_of_the_truth_table(tables):
    m = tables["measurement"]
    lab = m.pivot_table(
        index=["person_id", "measurement_date"],
        columns="measurement_concept_id",
        values="value_as_number",
    )

    def at(pid: int, day: str) -> tuple[float, float, float]:
        row = lab.loc[(pid, date.fromisoformat(day))]
        return row[2000000301], row[3013650], row[3024929]

    assert at(1, "2020-03-06") == (2.0, 1.8, 150.0)  # CR
    assert at(2, "2020-09-27") == (3.0, 0.4, 150.0)  # CRi
    assert at(6, "2021-02-15") == (4.0, 0.7, 70.0)  # CRh
    assert at(5, "2020-09-21")[0] == 40.0  # no response
    assert set(m[m.measurement_concept_id == 2000000302].unit_concept_id) == {8554}
