"""Adverse events where real ETLs put them: condition rows whose grade lives in the ICD-10-CM code.

* person 1 (BLIN, bags days 0-27): CRS coded D89.832 day 1 and D89.833 day 70 (after the
  treatment window, day 57), ICANS coded G92.04 day 10.
* person 2 (BLIN, bags days 0-27): CRS coded D89.839 (grade unspecified) day 2 and recorded as
  an observation with grade 2 day 3; VOD/SOS coded K76.5 (no grade in ICD-10-CM) day 10.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd
import pytest
from safety_cdm import D0, cid, cond, day, drug, obs, write_cdm

from allrwe.analyses.safety import GRADED_ANALYSES, summarise_safety
from allrwe.analyses.safety.events import ae_records, code_grade
from allrwe.cohort import Cohort
from allrwe.errors import StudySpecError
from allrwe.io import connect
from allrwe.io.vocabulary import Vocabulary, load_vocabulary
from allrwe.spec import StudySpec, spec_from_text

SPEC = """
name: safety_real_etl
index_groups: {BLIN: [blinatumomab]}
study_period: {start: 2020-01-01, end: 2022-12-31}
"""


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


@pytest.mark.parametrize(
    ("code", "grade"),
    [
        ("D89.831", 1.0), ("D89835", 5.0), (" d89.834 ", 4.0), ("G92.01", 1.0), ("G92.05", 5.0),
        ("D89.839", None), ("G92.00", None), ("G92.0", None), ("K76.5", None),
        ("D89.8310", None), ("G92.06", None), ("D89.83", None), (None, None),
    ],
)  # fmt: skip
def test_code_grade(code: str | None, grade: float | None) -> None:
    t = ibis.memtable(pd.DataFrame({"code": pd.Series([code], dtype="string")}))
    got = ibis.duckdb.connect().execute(t.select(g=code_grade(t.code)))["g"].iloc[0]
    assert (pd.isna(got) and grade is None) or got == grade


def _tables(vocab: Vocabulary, *, graded: bool) -> dict[str, list[dict]]:
    blin = cid(vocab, "blinatumomab")
    crs, icans, vod = (cid(vocab, k) for k in ("crs", "icans", "vod_sos"))
    if not graded:
        return {
            "drug_exposure": [drug(1, blin, 0, 27)],
            "condition_occurrence": [cond(1, crs, 1, "D89.839"), cond(1, vod, 2, "K76.5")],
        }
    return {
        "drug_exposure": [drug(1, blin, 0, 27), drug(2, blin, 0, 27)],
        "condition_occurrence": [
            cond(1, crs, 1, "D89.832"), cond(1, crs, 70, "D89.833"), cond(1, icans, 10, "G92.04"),
            cond(2, crs, 2, "D89.839"), cond(2, vod, 10, "K76.5"),
        ],
        "observation": [obs(2, crs, 3, 2)],
    }  # fmt: skip


def _cohort(spec: StudySpec, persons: list[int]) -> Cohort:
    frame = pd.DataFrame(
        {
            "person_id": persons,
            "group": "BLIN",
            "index_date": D0,
            "index_set": "blinatumomab",
            "obs_start": "2015-01-01",
            "obs_end": day(365),
            "setting": "RR",
        }
    )
    return Cohort.from_frame(frame, spec=spec)


def _grades(records: pd.DataFrame, analysis: str, term: str) -> tuple[int, ...]:
    sel = records[
        (records["analysis"] == analysis)
        & (records["group"] == "BLIN")
        & (records["strata_name"] == "overall")
        & (records["estimate_name"] == "count")
        & (records["variable"] == term)
    ]
    by = dict(zip(sel["variable_level"], sel["value"], strict=True))
    return tuple(int(by[lv]) for lv in ("any grade", "grade 1-2", "grade >=3", "grade unknown"))


def test_condition_rows_and_their_codes_give_the_grades(tmp_path: Path, vocab: Vocabulary):
    cdm = write_cdm(tmp_path / "etl.duckdb", _tables(vocab, graded=True))
    spec = spec_from_text(SPEC)
    with connect(cdm) as source:
        out = summarise_safety(source, vocab, _cohort(spec, [1, 2]), spec)
        rec = source.execute(ae_records(source, vocab, None, ["crs", "icans", "vod_sos"]))
    got = sorted(
        (int(p), t, 0 if pd.isna(g) else int(g))
        for p, t, g in zip(rec["person_id"], rec["term"], rec["grade"], strict=True)
    )  # 0: grade unknown
    assert got == [
        (1, "crs", 2), (1, "crs", 3), (1, "icans", 4),
        (2, "crs", 0), (2, "crs", 2), (2, "vod_sos", 0),
    ]  # fmt: skip
    # p1: grade 2 in the window (grade 3 on day 70 is after it); p2: unspecified code and a
    # recorded grade 2 -> worst known grade 2
    assert _grades(out, "safety_ae", "crs") == (2, 2, 0, 0)
    assert _grades(out, "safety_ae", "icans") == (1, 0, 1, 0)
    assert _grades(out, "safety_ae", "vod_sos") == (1, 0, 0, 1)  # K76.5 carries no grade
    assert _grades(out, "safety_aesi_followup", "crs") == (2, 1, 1, 0)  # day 70 counts here
    # no infection record in the whole CDM: "not available", never 0 %
    infection = out[(out["analysis"] == "safety_ae") & (out["variable"] == "infection")]
    assert set(zip(infection["group"], infection["variable_level"], strict=True)) == {
        ("BLIN", "not available"),
        ("overall", "not available"),
    }
    assert infection["value"].isna().all()
    assert set(infection["strata_level"]) == {"no record of the adverse event in this CDM"}


def test_a_table_whose_every_term_is_unrecorded_is_not_available(tmp_path: Path, vocab: Vocabulary):
    # only an infection (graded in an observation): no CRS, ICANS or VOD/SOS anywhere
    tables = {
        "drug_exposure": [drug(1, cid(vocab, "blinatumomab"), 0, 27)],
        "observation": [obs(1, cid(vocab, "infection"), 5, 3)],
    }
    cdm = write_cdm(tmp_path / "infection.duckdb", tables)
    spec = spec_from_text(SPEC)
    with connect(cdm) as source:
        out = summarise_safety(source, vocab, _cohort(spec, [1]), spec)
    assert _grades(out, "safety_ae", "infection") == (1, 0, 1, 0)
    for analysis in ("safety_aesi_treatment", "safety_aesi_followup"):
        sel = out[out["analysis"] == analysis]
        assert set(sel["variable"]) == {"status"}
        assert set(sel["variable_level"]) == {"not available"}


def test_codes_without_a_grade_say_not_available(tmp_path: Path, vocab: Vocabulary):
    cdm = write_cdm(tmp_path / "claims.duckdb", _tables(vocab, graded=False))
    spec = spec_from_text(SPEC)
    with connect(cdm) as source:
        out = summarise_safety(source, vocab, _cohort(spec, [1]), spec)
    graded = out[out["analysis"].isin(GRADED_ANALYSES)]
    assert set(graded["variable_level"]) == {"not available"}
    assert graded["value"].isna().all()


def test_other_terms_are_one_pooled_row(tmp_path: Path, vocab: Vocabulary):
    # seed 001 Table 3 lists five terms and "Others": ICANS and VOD/SOS pooled here
    cdm = write_cdm(tmp_path / "pooled.duckdb", _tables(vocab, graded=True))
    plain = spec_from_text(SPEC)
    pooled = spec_from_text(SPEC + "safety: {other_terms: [icans, vod_sos]}\n")
    with connect(cdm) as source:
        apart = summarise_safety(source, vocab, _cohort(plain, [1, 2]), plain)
        joined = summarise_safety(source, vocab, _cohort(pooled, [1, 2]), pooled)
        rec = source.execute(ae_records(source, vocab, None, ["icans", "vod_sos"]))
    # the pooled terms are met by different persons, so their row is the sum of theirs
    owners = rec.groupby("term")["person_id"].apply(set)
    assert not owners["icans"] & owners["vod_sos"]
    expected = tuple(
        a + b
        for a, b in zip(
            _grades(apart, "safety_ae", "icans"), _grades(apart, "safety_ae", "vod_sos"),
            strict=True,
        )
    )  # fmt: skip
    assert _grades(joined, "safety_ae", "other_ae") == expected
    ae = joined[joined["analysis"] == "safety_ae"]
    assert not {"icans", "vod_sos"} & set(ae["variable"])
    for term in ("crs", "any_ae"):  # other rows, and any AE over every term, unchanged
        assert _grades(joined, "safety_ae", term) == _grades(apart, "safety_ae", term)
    # the AEs of special interest still show each term
    assert _grades(joined, "safety_aesi_treatment", "icans") == _grades(
        apart, "safety_aesi_treatment", "icans"
    )


def test_other_terms_outside_the_table_are_refused(tmp_path: Path, vocab: Vocabulary):
    cdm = write_cdm(tmp_path / "stray.duckdb", _tables(vocab, graded=True))
    spec = spec_from_text(SPEC + "safety: {adverse_events: [crs, icans], other_terms: [vod_sos]}\n")
    with connect(cdm) as source, pytest.raises(StudySpecError, match="vod_sos"):
        summarise_safety(source, vocab, _cohort(spec, [1, 2]), spec)
