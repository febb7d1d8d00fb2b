"""Same seed and parameters, same bytes, whatever the chunk size; DuckDB holds the same data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from allrwe.errors import UsageError
from allrwe.io import connect
from allrwe.io.vocabulary import ConceptSet, load_vocabulary
from allrwe.synth import generate_cdm
from allrwe.synth.rng import DOMAIN_CLINICAL, RNG_BLOCK, Draws
from conftest import mixed_emr_params, tree_digest

PERSONS = 5000


def _run(out: Path, *, seed: int = 5, chunk: int = 32_768, fmt: str = "parquet") -> Path:
    generate_cdm(
        out,
        persons=PERSONS,
        seed=seed,
        profile="emr",
        params=mixed_emr_params(250),
        chunk_size=chunk,
        fmt=fmt,
    )  # type: ignore[arg-type]
    return out


def test_same_seed_same_bytes_whatever_the_chunk_size(tmp_path: Path) -> None:
    base = tree_digest(_run(tmp_path / "a"))
    assert base == tree_digest(_run(tmp_path / "b"))
    # 1,000 persons per chunk rounds up to one 1,024-person block: five chunks instead of one
    assert base == tree_digest(_run(tmp_path / "c", chunk=1000))
    assert base == tree_digest(_run(tmp_path / "d", chunk=3 * RNG_BLOCK))
    other = tree_digest(_run(tmp_path / "e", seed=6))
    assert other.keys() == base.keys()
    assert other["drug_exposure/part-00000.parquet"] != base["drug_exposure/part-00000.parquet"]


def test_part_files_follow_person_ranges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import allrwe.synth.writer as writer

    monkeypatch.setattr(writer, "ROW_GROUP_PERSONS", 512)
    monkeypatch.setattr(writer, "PART_PERSONS", 2048)
    root = tmp_path / "parts"
    generate_cdm(root, persons=PERSONS, seed=5, profile="claims", chunk_size=1500)
    parts = sorted(p.name for p in (root / "drug_exposure").iterdir())
    assert parts == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    for k, name in enumerate(parts):
        persons = pd.read_parquet(root / "drug_exposure" / name).person_id
        assert persons.between(k * 2048 + 1, (k + 1) * 2048).all()
        assert persons.is_monotonic_increasing


def test_duckdb_holds_the_parquet_data(tmp_path: Path) -> None:
    pq_root = _run(tmp_path / "pq")
    db_root = _run(tmp_path / "db", fmt="duckdb")
    assert sorted(p.name for p in db_root.iterdir()) == ["cdm.duckdb", "synth.json", "truth"]
    assert tree_digest(pq_root / "truth") == tree_digest(db_root / "truth")
    columns = {
        "person": ["person_id", "gender_concept_id", "year_of_birth"],
        "drug_exposure": ["person_id", "drug_concept_id", "drug_exposure_start_date", "quantity"],
        "measurement": [
            "person_id",
            "measurement_concept_id",
            "measurement_date",
            "value_as_number",
        ],
        "death": ["person_id", "death_date", "cause_concept_id"],
    }
    with connect(db_root / "cdm.duckdb") as db:
        for table, cols in columns.items():
            got = db.execute(db.table(table).select(*cols)).sort_values(cols)
            want = pd.read_parquet(pq_root / table, columns=cols).sort_values(cols)
            assert len(got) == len(want) > 0
            for col in cols:
                a, b = pd.Series(got[col].to_numpy()), pd.Series(want[col].to_numpy())
                if "date" in col:
                    a, b = pd.to_datetime(a), pd.to_datetime(b)
                assert a.equals(b), f"{table}.{col}"


def test_refuses_to_write_over_other_files(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="not empty"):
        generate_cdm(tmp_path / "mine", persons=10, seed=1)
    with pytest.raises(UsageError, match="not written by allrwe synth"):
        generate_cdm(tmp_path / "mine", persons=10, seed=1, overwrite=True)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    first = generate_cdm(tmp_path / "again", persons=50, seed=1)
    second = generate_cdm(tmp_path / "again", persons=60, seed=1, overwrite=True)
    assert (first.row_counts["person"], second.row_counts["person"]) == (50, 60)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"persons": 0}, "persons must be a positive integer"),
        ({"seed": -1}, "seed must be a non-negative"),
        ({"fmt": "csv"}, "unknown format 'csv'"),
        ({"chunk_size": 0}, "chunk_size must be"),
        ({"profile": "registry"}, "unknown synthetic profile 'registry'"),
        ({"params": {"population": {"all_patients": 11}}}, r"all_patients \(11\) exceeds"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"persons": 10, "seed": 1} | kwargs
    with pytest.raises(UsageError, match=message):
        generate_cdm(tmp_path / "x", **args)  # type: ignore[arg-type]


def test_concept_ids_come_from_the_vocabulary(tmp_path: Path) -> None:
    vocab = load_vocabulary()
    blin = vocab.concept_set("blinatumomab")
    moved = blin.model_copy(
        update={"concepts": (blin.concepts[0].model_copy(update={"concept_id": 1_999_999_001}),)}
    )
    assert isinstance(moved, ConceptSet)
    custom = load_vocabulary(extra_sets=[moved])
    res = generate_cdm(
        tmp_path / "v",
        persons=400,
        seed=2,
        profile="claims",
        vocabulary=custom,
        params={"population": {"all_patients": 200}},
    )
    drugs = pd.read_parquet(res.tables["drug_exposure"]).drug_concept_id
    assert (drugs == 1_999_999_001).sum() > 50
    assert not (drugs == blin.concept_ids[0]).any()


def test_draws_do_not_depend_on_how_blocks_are_grouped() -> None:
    units = np.repeat(np.arange(6, dtype=np.int64), 5)
    whole = Draws(9, DOMAIN_CLINICAL, units)
    first = Draws(9, DOMAIN_CLINICAL, units[:10])
    rest = Draws(9, DOMAIN_CLINICAL, units[10:])
    assert np.array_equal(whole.uniform(), np.concatenate([first.uniform(), rest.uniform()]))
    # per-item draws: three items for unit 0, none for unit 1, ... in any item order
    owner = np.array([4, 0, 0, 7, 0, 29, 12], dtype=np.int64)
    a = whole.normal(owner=owner)
    sorted_owner = np.sort(owner, kind="stable")
    again = Draws(9, DOMAIN_CLINICAL, units)
    again.uniform()
    b = again.normal(owner=sorted_owner)
    assert np.allclose(np.sort(a), np.sort(b))
    assert np.allclose(a[owner == 0], b[sorted_owner == 0])
