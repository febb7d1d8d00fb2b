"""Index and exclusion cohorts read from an existing OHDSI cohort table (results schema)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from test_cohort_build import SPEC

from allrwe.cohort import Cohort, build_cohort
from allrwe.cohort.external import cohort_rows
from allrwe.errors import CdmSchemaError, StudySpecError
from allrwe.io import CdmSource
from allrwe.io.source import connect
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import CohortRef, spec_from_text

#: the results schema and cohort ids of the fixture
INDEX, EXCLUDE, OUTSIDE = 1, 2, 3


@pytest.fixture(scope="module")
def plain(attrition_source: CdmSource, vocab: Vocabulary) -> Cohort:
    return build_cohort(attrition_source, spec_from_text(SPEC), vocab)


@pytest.fixture(scope="module")
def source(
    attrition_cdm: Path, plain: Cohort, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CdmSource]:
    """The attrition CDM plus results.cohort: an index cohort and an exclusion cohort."""
    path = tmp_path_factory.mktemp("external") / "cdm.duckdb"
    shutil.copy(attrition_cdm, path)
    blin = plain.frame[plain.frame["group"] == "BLIN"].sort_values("person_id")
    first, second = (int(p) for p in blin["person_id"].iloc[:2])
    index = {int(p): d.date() for p, d in zip(blin["person_id"], blin["index_date"], strict=True)}
    rows = [(INDEX, p, d, d + timedelta(days=30)) for p, d in index.items()]
    rows.append((INDEX, first, date(2022, 6, 1), date(2022, 7, 1)))  # after the study period
    rows.append((EXCLUDE, first, index[first] - timedelta(days=10), index[first]))
    rows.append((EXCLUDE, second, index[second] + timedelta(days=10), index[second]))
    with duckdb.connect(str(path)) as con:
        con.execute("create schema results")
        con.execute(
            "create table results.cohort (cohort_definition_id bigint, subject_id bigint, "
            "cohort_start_date date, cohort_end_date date)"
        )
        con.executemany("insert into results.cohort values (?, ?, ?, ?)", rows)
        con.execute("create table results.broken (cohort_definition_id bigint, person_id bigint)")
    with connect(path) as src:
        yield src


def _spec(entry: str = "", exclusion: str = ""):
    text = SPEC.replace(
        "inclusion:\n", f"entry:\n  cohorts: {{{entry}}}\ninclusion:\n" if entry else "inclusion:\n"
    )
    return spec_from_text(text + exclusion)


def _steps(cohort: Cohort, group: str) -> list[tuple[str, int, int]]:
    sub = cohort.attrition[cohort.attrition["group"] == group]
    return [(r.step, r.n_records, r.n_excluded) for r in sub.itertuples(index=False)]


def test_cohort_rows_read_one_definition_as_person_and_dates(source: CdmSource) -> None:
    rows = source.execute(cohort_rows(source, CohortRef(id=EXCLUDE, database_schema="results")))
    assert list(rows.columns) == ["person_id", "start_date", "end_date"]
    assert len(rows) == 2


def test_an_index_cohort_enters_its_group_at_the_cohort_start_dates(
    source: CdmSource, vocab: Vocabulary, plain: Cohort
) -> None:
    spec = _spec(entry=f"BLIN: {{id: {INDEX}, database_schema: results}}")
    cohort = build_cohort(source, spec, vocab)
    blin = plain.frame[plain.frame["group"] == "BLIN"]
    found = cohort.frame[cohort.frame["group"] == "BLIN"]
    assert sorted(zip(found["person_id"], found["index_date"], strict=True)) == sorted(
        zip(blin["person_id"], blin["index_date"], strict=True)
    )
    assert set(found["index_set"]) == {"blinatumomab"}
    n = len(blin)
    assert _steps(cohort, "BLIN")[:3] == [
        ("records", n + 1, 0),
        ("in_period", n, 0),  # the 2022 row goes; its person has an earlier one
        ("first_per_person", n, 0),
    ]
    # the other group still enters by its concept sets
    assert _steps(cohort, "INO") == _steps(plain, "INO")


def test_an_exclusion_cohort_drops_persons_with_an_entry_in_the_window(
    source: CdmSource, vocab: Vocabulary, plain: Cohort
) -> None:
    extra = (
        f"    - {{name: prior cohort, cohort: {{id: {EXCLUDE}, database_schema: results}}, "
        "window: [null, 0]}\n"
    )
    cohort = build_cohort(source, _spec(exclusion=extra), vocab)
    blin = plain.frame[plain.frame["group"] == "BLIN"].sort_values("person_id")
    first = int(blin["person_id"].iloc[0])
    kept = set(cohort.frame.loc[cohort.frame["group"] == "BLIN", "person_id"])
    assert kept == set(blin["person_id"]) - {first}  # the second person's entry is after index
    last = cohort.attrition[cohort.attrition["group"] == "BLIN"].iloc[-1]
    assert (last["step"], last["n_excluded"]) == ("exclusion_2", 1)
    assert last["reason"] == "no entry of prior cohort starting in [-inf, 0] days"


def test_bad_cohort_tables_and_groups_are_clear_errors(
    source: CdmSource, vocab: Vocabulary
) -> None:
    with pytest.raises(CdmSchemaError, match=r"results\.broken #1 lacks column.*subject_id"):
        cohort_rows(source, CohortRef(id=1, table="broken", database_schema="results"))
    with pytest.raises(CdmSchemaError, match="cohort table 'cohort' is not in the CDM"):
        cohort_rows(source, CohortRef(id=1))
    with pytest.raises(CdmSchemaError, match=r"nowhere\.cohort #1 cannot be read"):
        cohort_rows(source, CohortRef(id=1, database_schema="nowhere"))
    with pytest.raises(StudySpecError, match=r"entry\.cohorts names group\(s\) \['XYZ'\]"):
        build_cohort(source, _spec(entry="XYZ: {id: 1}"), vocab)


def test_an_exclusion_takes_concept_sets_or_a_cohort_not_both() -> None:
    both = "    - {concept_sets: [t_lineage_all], cohort: {id: 2}}\n"
    with pytest.raises(StudySpecError, match="give either concept_sets or cohort"):
        _spec(exclusion=both)
