"""The event helpers: concept matching, persons, domains, end dates, values, deaths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pandas as pd
import pytest
from cdm_builder import (
    ALL_ICD10,
    ALL_SNOMED,
    BLIN,
    CAR_T_INFUSION,
    HEIGHT,
    INO,
    RELAPSE,
    TISA,
    VINCRISTINE,
    WEIGHT,
    cond,
    d,
    drug,
    make_cdm,
    meas,
    person,
    proc,
)

from allrwe.cohort import (
    Cohort,
    any_records,
    concept_events,
    condition_events,
    death_dates,
    drug_events,
    extract_events,
    measurement_values,
    procedure_events,
    recorded_sets,
)
from allrwe.errors import CdmSchemaError, VocabularyError
from allrwe.io import CdmSource, connect
from allrwe.io.kept import KeptRows
from allrwe.io.vocabulary import Concept, ConceptSet, Vocabulary, load_vocabulary
from allrwe.spec import spec_from_text

BRANDED_BLIN = 35000001  # a product below the blinatumomab ingredient in concept_ancestor
ICD10CM_RELAPSE = 45566647  # C91.02: in both all_diagnosis and relapse

TABLES = {
    "person": [person(i, 1980) for i in (1, 2, 3)],
    "drug_exposure": [
        drug(1, BLIN, "2020-01-01", "2020-01-07", quantity=63, days_supply=7),
        drug(1, BRANDED_BLIN, "2020-02-01", "2020-02-04", quantity=112, days_supply=4),
        {**drug(1, INO, "2020-03-01", days_supply=None), "drug_exposure_end_date": None},
        {**drug(2, INO, "2020-03-01", days_supply=3), "drug_exposure_end_date": None},
        drug(2, 0, "2020-04-01", source=VINCRISTINE),
        drug(3, TISA, "2021-05-05"),
        drug(3, 12345, "2021-05-06"),
    ],
    "condition_occurrence": [
        cond(1, ALL_SNOMED, "2019-12-01"),
        cond(2, 0, "2019-11-01", source=ALL_ICD10),
        cond(2, RELAPSE, "2020-02-01"),
        cond(3, 0, "2021-01-01", source=ICD10CM_RELAPSE),
    ],
    "procedure_occurrence": [proc(3, CAR_T_INFUSION, "2021-05-05")],
    "measurement": [
        meas(1, HEIGHT, "2019-12-01", 175.0, 8582),
        meas(1, WEIGHT, "2019-12-01", 70.0, 9529),
        meas(2, WEIGHT, "2020-01-01", 44.0, 9529),
    ],
    "death": [
        {"person_id": 2, "death_date": d("2021-01-01"), "cause_concept_id": 2},
        {"person_id": 2, "death_date": d("2020-12-01"), "cause_concept_id": 1},
    ],
    "concept_ancestor": [
        {"ancestor_concept_id": BLIN, "descendant_concept_id": BLIN},
        {"ancestor_concept_id": BLIN, "descendant_concept_id": BRANDED_BLIN},
    ],
}


@pytest.fixture(scope="module")
def events_cdm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_cdm(tmp_path_factory.mktemp("ev") / "events.duckdb", TABLES)


@pytest.fixture
def src(events_cdm: Path) -> Iterator[CdmSource]:
    with connect(events_cdm) as source:
        yield source


def rows(source: CdmSource, expr: ibis.Table) -> list[tuple[int, str, str, str]]:
    frame = source.execute(expr).sort_values(["person_id", "start_date", "concept_set"])
    return [
        (
            int(r.person_id),
            r.concept_set,
            str(pd.Timestamp(r.start_date).date()),
            str(pd.Timestamp(r.end_date).date()),
        )
        for r in frame.itertuples(index=False)
    ]


def test_drug_events_descendants_source_and_end_dates(src: CdmSource, vocab: Vocabulary) -> None:
    got = rows(src, drug_events(src, vocab, None, ["blinatumomab", "inotuzumab_ozogamicin"]))
    assert got == [
        (1, "blinatumomab", "2020-01-01", "2020-01-07"),
        (1, "blinatumomab", "2020-02-01", "2020-02-04"),  # descendant via concept_ancestor
        (1, "inotuzumab_ozogamicin", "2020-03-01", "2020-03-01"),  # no end, no supply: start
        (2, "inotuzumab_ozogamicin", "2020-03-01", "2020-03-03"),  # start + days_supply - 1
    ]
    frame = src.execute(drug_events(src, vocab, None, "blinatumomab"))
    assert sorted(frame["quantity"].tolist()) == [63.0, 112.0]
    assert sorted(frame["concept_id"].tolist()) == sorted([BLIN, BRANDED_BLIN])


def test_group_keys_and_source_concepts(src: CdmSource, vocab: Vocabulary) -> None:
    got = rows(src, drug_events(src, vocab, None, "chemotherapy"))
    assert got == [(2, "vincristine", "2020-04-01", "2020-04-01")]  # drug_source_concept_id


def test_a_record_in_two_sets_appears_once_per_set(src: CdmSource, vocab: Vocabulary) -> None:
    got = rows(src, condition_events(src, vocab, None, ["all_diagnosis", "relapse"]))
    assert got == [
        (1, "all_diagnosis", "2019-12-01", "2019-12-01"),
        (2, "all_diagnosis", "2019-11-01", "2019-11-01"),
        (2, "relapse", "2020-02-01", "2020-02-01"),
        (3, "all_diagnosis", "2021-01-01", "2021-01-01"),
        (3, "relapse", "2021-01-01", "2021-01-01"),
    ]


def test_mixed_domain_group(src: CdmSource, vocab: Vocabulary) -> None:
    assert rows(src, drug_events(src, vocab, None, "car_t")) == [
        (3, "tisagenlecleucel", "2021-05-05", "2021-05-05")
    ]
    assert rows(src, procedure_events(src, vocab, None, "car_t")) == [
        (3, "car_t_infusion", "2021-05-05", "2021-05-05")
    ]
    both = src.execute(concept_events(src, vocab, None, "car_t"))
    assert sorted(zip(both["domain"], both["concept_set"], strict=True)) == [
        ("drug", "tisagenlecleucel"),
        ("procedure", "car_t_infusion"),
    ]


def test_persons_restriction(src: CdmSource, vocab: Vocabulary) -> None:
    spec = spec_from_text(
        "name: t\nindex_groups: {INO: [inotuzumab_ozogamicin]}\n"
        "study_period: {start: 2020-01-01, end: 2020-12-31}\n"
    )
    frame = pd.DataFrame(
        {
            "person_id": [2],
            "group": ["INO"],
            "index_date": ["2020-03-01"],
            "obs_start": ["2019-01-01"],
            "obs_end": ["2021-12-31"],
        }
    )
    cohort = Cohort.from_frame(frame, spec=spec)
    got = rows(src, drug_events(src, vocab, cohort, "inotuzumab_ozogamicin"))
    assert got == [(2, "inotuzumab_ozogamicin", "2020-03-01", "2020-03-03")]
    by_table = ibis.memtable({"person_id": [1]})
    assert [r[0] for r in rows(src, drug_events(src, vocab, by_table, "index_drugs"))] == [1, 1, 1]


def test_measurement_values(src: CdmSource, vocab: Vocabulary) -> None:
    frame = src.execute(measurement_values(src, vocab, None, ["height", "weight"]))
    frame = frame.sort_values(["person_id", "concept_set"])
    assert frame[
        ["person_id", "concept_set", "value_as_number", "unit_concept_id"]
    ].values.tolist() == [
        [1, "height", 175.0, 8582],
        [1, "weight", 70.0, 9529],
        [2, "weight", 44.0, 9529],
    ]


def test_excluded_concepts_never_match(src: CdmSource) -> None:
    no_branded = ConceptSet(
        key="blin_ingredient_only",
        label="blinatumomab without the branded product",
        domain="drug",
        category="index_drug",
        concepts=(
            Concept(concept_id=BLIN, concept_name="blinatumomab", vocabulary_id="RxNorm"),
            Concept(
                concept_id=BRANDED_BLIN,
                concept_name="branded",
                vocabulary_id="RxNorm",
                exclude=True,
                include_descendants=False,
            ),
        ),
    )
    vocab = load_vocabulary(extra_sets=[no_branded])
    got = rows(src, drug_events(src, vocab, None, "blin_ingredient_only"))
    assert got == [(1, "blin_ingredient_only", "2020-01-01", "2020-01-07")]


def test_deaths_earliest_per_person(src: CdmSource, tmp_path: Path) -> None:
    frame = src.execute(death_dates(src, None))
    assert frame.values.tolist() == [[2, pd.Timestamp("2020-12-01"), 1]]
    no_death = make_cdm(tmp_path / "nodeath.duckdb", {"person": [person(1, 1980)]}, skip=("death",))
    with connect(no_death) as other:
        empty = other.execute(death_dates(other, None))
    assert list(empty.columns) == ["person_id", "death_date", "cause_concept_id"]
    assert empty.empty


def test_errors(src: CdmSource, vocab: Vocabulary, tmp_path: Path) -> None:
    with pytest.raises(VocabularyError, match="is in the 'drug' domain"):
        drug_events(src, vocab, None, "relapse")
    with pytest.raises(VocabularyError, match="unknown concept set 'blinatumumab'"):
        drug_events(src, vocab, None, "blinatumumab")
    path = tmp_path / "broken.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE drug_exposure (person_id BIGINT, drug_exposure_start_date DATE)")
    con.execute("CREATE TABLE person (person_id BIGINT)")
    con.close()
    with connect(path) as broken, pytest.raises(CdmSchemaError, match="drug_exposure_id"):
        drug_events(broken, vocab, None, "blinatumomab")


def _sets(*sets: ConceptSet) -> Vocabulary:
    return Vocabulary(sets={s.key: s for s in sets}, groups={})


def _set(key: str, *concepts: Concept) -> ConceptSet:
    return ConceptSet(
        key=key, label=key, domain="condition", category="diagnosis", concepts=concepts
    )


def _concept(concept_id: int, **flags: bool) -> Concept:
    return Concept(concept_id=concept_id, concept_name=str(concept_id), vocabulary_id="X", **flags)


def test_a_record_matching_one_set_by_concept_and_another_by_source_is_in_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # T-ALL coded with a source code that another set names: the record belongs to both sets,
    # whichever order they come in (both sets' ids are disjoint, which once put them in one
    # CASE expression that kept only the first label). With the rows kept, the sets whose
    # records share none (``relapse`` here) are read in the same scan as one of the others.
    t_all, icd_all, relapse = 4082462, 45537873, 4091453
    cdm = make_cdm(
        tmp_path / "two.duckdb",
        {
            "person": [person(1, 1980)],
            "condition_occurrence": [
                cond(1, t_all, "2020-01-01", source=icd_all),
                cond(1, relapse, "2020-03-01", source=icd_all),
            ],
        },
    )
    vocab = _sets(
        _set("t_cell", _concept(t_all)),
        _set("any_all", _concept(icd_all)),
        _set("relapse", _concept(relapse)),
    )
    want = [
        (1, "any_all", "2020-01-01", "2020-01-01"),
        (1, "t_cell", "2020-01-01", "2020-01-01"),
        (1, "any_all", "2020-03-01", "2020-03-01"),
        (1, "relapse", "2020-03-01", "2020-03-01"),
    ]
    orders = (["t_cell", "any_all", "relapse"], ["any_all", "t_cell", "relapse"])
    with connect(cdm) as source:
        for keys in orders:
            expr = condition_events(source, vocab, None, keys)
            assert rows(source, expr) == want
            assert str(ibis.to_sql(expr)).count("UNION") == 2  # a scan per set
        with KeptRows(source) as kept:
            extract_events(kept, vocab)
            queries = []
            execute = source.execute
            monkeypatch.setattr(source, "execute", lambda e: queries.append(e) or execute(e))
            for keys in orders:
                expr = condition_events(kept, vocab, None, keys)
                assert rows(kept, expr) == want
                # any_all clashes with both others, which share no record: two scans
                assert str(ibis.to_sql(expr)).count("UNION") == 1
            # the kept rows' concepts were read once, then one query per call above
            assert len(queries) == 1 + len(orders)


def test_descendants_of_an_excluded_concept_never_match_by_source(tmp_path: Path) -> None:
    parent, child, icd = 500, 501, 45537873
    cdm = make_cdm(
        tmp_path / "excl.duckdb",
        {
            "person": [person(1, 1980)],
            "condition_occurrence": [
                cond(1, child, "2020-01-01", source=icd),  # excluded through its parent
                cond(1, 0, "2020-02-01", source=icd),
            ],
            "concept_ancestor": [
                {"ancestor_concept_id": parent, "descendant_concept_id": parent},
                {"ancestor_concept_id": parent, "descendant_concept_id": child},
            ],
        },
    )
    vocab = _sets(
        _set(
            "dx",
            _concept(icd),
            _concept(parent, include_descendants=True, exclude=True),
        )
    )
    with connect(cdm) as source:
        got = rows(source, condition_events(source, vocab, None, "dx"))
    assert got == [(1, "dx", "2020-02-01", "2020-02-01")]


#: (standard concept, source concept) of one record, and whether set ``dx`` below holds it
DX_RECORDS = [
    ((500, None), True),  # the standard concept
    ((0, 45537873), True),  # the source concept
    ((None, 45537873), True),  # the source concept, no standard one
    ((501, None), False),  # another concept
    ((None, None), False),
]


@pytest.mark.parametrize(("record", "held"), DX_RECORDS)
@pytest.mark.parametrize("excluding", [False, True])
def test_any_records_agrees_with_the_event_query(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    record: tuple[int | None, int | None],
    held: bool,
    excluding: bool,
) -> None:
    # With an excluded concept, SQL's nulls drop the record that has no standard concept:
    # "NOT (NULL IN (...))" is null. The answer from the kept rows' concepts follows SQL.
    standard, source_concept = record
    row = {**cond(1, 0, "2020-01-01", source=source_concept), "condition_concept_id": standard}
    cdm = make_cdm(
        tmp_path / "one.duckdb", {"person": [person(1, 1980)], "condition_occurrence": [row]}
    )
    excluded = (_concept(502, exclude=True),) if excluding else ()
    vocab = _sets(_set("dx", _concept(500), _concept(45537873), *excluded))
    want = held and not (excluding and standard is None)
    with connect(cdm) as source:
        assert (len(rows(source, condition_events(source, vocab, None, "dx"))) > 0) == want
        assert any_records(source, vocab, "dx") == want  # one query on the table
        with pytest.raises(VocabularyError, match="no concept set"):
            any_records(source, vocab, "dx", domains=("drug",))
        with KeptRows(source) as kept:
            extract_events(kept, vocab)
            queries = []
            execute = source.execute
            monkeypatch.setattr(source, "execute", lambda e: queries.append(e) or execute(e))
            assert any_records(kept, vocab, ["dx"]) == want
            assert any_records(kept, vocab, "dx") == want
            assert len(queries) == 1  # the kept rows' concepts, asked once


def test_drug_end_dates_follow_the_cdm_convention(tmp_path: Path, vocab: Vocabulary) -> None:
    # end recorded / null with a supply / null with a zero or null supply / before the start
    def blin(start: str, end: str | None, supply: int | None) -> dict[str, Any]:
        return {**drug(1, BLIN, start, days_supply=supply), "drug_exposure_end_date": end}

    tables = {
        "person": [person(1, 1980)],
        "drug_exposure": [
            blin("2020-01-01", "2020-01-04", 28),  # the recorded end wins over the supply
            blin("2020-02-01", None, 28),
            blin("2020-03-01", None, 0),
            blin("2020-04-01", None, None),
            blin("2020-05-10", "2020-05-01", 7),  # recorded end before the start
        ],
    }
    with connect(make_cdm(tmp_path / "ends.duckdb", tables)) as source:
        got = rows(source, drug_events(source, vocab, None, "blinatumomab"))
    assert [(s, e) for _, _, s, e in got] == [
        ("2020-01-01", "2020-01-04"),
        ("2020-02-01", "2020-02-28"),
        ("2020-03-01", "2020-03-01"),
        ("2020-04-01", "2020-04-01"),
        ("2020-05-10", "2020-05-10"),
    ]


def test_recorded_sets_judge_presence_over_the_whole_cdm(src: CdmSource, vocab: Vocabulary):
    found = recorded_sets(src, vocab, ["blinatumomab", "car_t", "allo_hsct", "relapse", "mrd"])
    # car_t: tisagenlecleucel and the infusion are recorded, brexucabtagene is not
    assert found == {
        "blinatumomab": True,
        "tisagenlecleucel": True,
        "brexucabtagene_autoleucel": False,
        "car_t_infusion": True,
        "allo_hsct": False,
        "relapse": True,
        "mrd": False,
    }
    # a set read from no event table (the death domain) is not judged
    assert "death" in vocab.sets
    assert "death" not in recorded_sets(src, vocab)
    # the same answer from the kept rows of an extraction, without a query on the tables
    with KeptRows(src) as kept:
        extract_events(kept, vocab)
        assert recorded_sets(kept, vocab, ["allo_hsct", "relapse"]) == {
            "allo_hsct": False,
            "relapse": True,
        }
