"""Safety tables on a four-person hand-made CDM, every count worked out by hand.

Day numbers are offsets from the index date ``D0`` (every person's). Default settings: treatment
window = index to the end of the index treatment + 30 days, severe grade 3, discontinuation
window 7 days, early deaths within 30 and 60 days; blinatumomab cycles by the infusion rule
(28 infused days complete a cycle), inotuzumab by the day-1/8/15 rule (3 doses).

* person 1 (BLIN): bags on days 0-27 (cycle 1) and 42-55 (cycle 2, stopped after 14 days);
  treatment window to day 85. CRS grade 2 day 1 and grade 3 day 43, ICANS grade 3 day 50,
  infection grade 1 day 85 (last day in), neutropenia grade 4 day 86 (out).
* person 2 (BLIN): one complete cycle, days 0-27; window to day 57. VOD/SOS without a grade
  day 10, liver enzymes grade 3 day 57, liver enzymes grade 3 day -1 (before index). Dies
  day 60 of an infection.
* person 3 (INO): doses on days 0, 7, 14 (cycle 1) and 28, 35 (cycle 2, two doses); window to
  day 65. VOD/SOS grade 4 day 40; CRS grade 1 day 120 (follow-up only).
* person 4 (INO): doses on days 0 and 7; window to day 37. Infection grade 3 day 30. Dies day
  30, cause not recorded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from safety_cdm import D0, cid, day, death, drug, obs, write_cdm

from allrwe.analyses.safety import (
    GRADED_ANALYSES,
    GradeLevels,
    cycle_windows,
    summarise_safety,
)
from allrwe.cohort import Cohort, followup_end_dates
from allrwe.io import connect
from allrwe.io.vocabulary import Vocabulary, load_vocabulary
from allrwe.results import ResultSet, suppress, validate_records
from allrwe.spec import StudySpec, spec_from_text

SPEC = """
name: safety_test
index_groups: {BLIN: [blinatumomab], INO: [inotuzumab_ozogamicin]}
study_period: {start: 2020-01-01, end: 2022-12-31}
"""


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


def tables(vocab: Vocabulary) -> dict[str, list[dict]]:
    blin, ino = cid(vocab, "blinatumomab"), cid(vocab, "inotuzumab_ozogamicin")
    ae = {k: cid(vocab, k) for k in ("crs", "icans", "vod_sos", "infection", "neutropenia",
                                      "liver_enzyme_increase")}  # fmt: skip
    return {
        "drug_exposure": [
            drug(1, blin, 0, 27), drug(1, blin, 42, 55), drug(2, blin, 0, 27),
            drug(3, ino, 0), drug(3, ino, 7), drug(3, ino, 14), drug(3, ino, 28),
            drug(3, ino, 35), drug(4, ino, 0), drug(4, ino, 7),
        ],
        "observation": [
            obs(1, ae["crs"], 1, 2), obs(1, ae["crs"], 43, 3), obs(1, ae["icans"], 50, 3),
            obs(1, ae["infection"], 85, 1), obs(1, ae["neutropenia"], 86, 4),
            obs(2, ae["vod_sos"], 10, None), obs(2, ae["liver_enzyme_increase"], 57, 3),
            obs(2, ae["liver_enzyme_increase"], -1, 3),
            obs(3, ae["vod_sos"], 40, 4), obs(3, ae["crs"], 120, 1),
            obs(4, ae["infection"], 30, 3),
        ],
        "death": [death(2, 60, ae["infection"]), death(4, 30, None)],
    }  # fmt: skip


def cohort_of(spec: StudySpec) -> Cohort:
    rows = [(1, "BLIN", 365), (2, "BLIN", 60), (3, "INO", 365), (4, "INO", 30)]
    frame = pd.DataFrame(
        {
            "person_id": [p for p, _, _ in rows],
            "group": [g for _, g, _ in rows],
            "index_date": D0,
            "index_set": [
                "blinatumomab" if g == "BLIN" else "inotuzumab_ozogamicin" for _, g, _ in rows
            ],
            "obs_start": "2015-01-01",
            "obs_end": [day(n) for _, _, n in rows],
            "setting": ["RR", "ND", "RR", "RR"],
        }
    )
    return Cohort.from_frame(frame, spec=spec)


@pytest.fixture(scope="module")
def cdm(tmp_path_factory: pytest.TempPathFactory, vocab: Vocabulary) -> Path:
    return write_cdm(tmp_path_factory.mktemp("safety") / "cdm.duckdb", tables(vocab))


@pytest.fixture(scope="module")
def records(cdm: Path, vocab: Vocabulary) -> pd.DataFrame:
    spec = spec_from_text(SPEC)
    with connect(cdm) as source:
        return summarise_safety(source, vocab, cohort_of(spec), spec)


def table(records: pd.DataFrame, analysis: str, group: str, estimate: str = "count") -> dict:
    sel = records[
        (records["analysis"] == analysis)
        & (records["group"] == group)
        & (records["strata_name"] == "overall")
        & (records["estimate_name"] == estimate)
    ]
    return {
        (v, lv): int(x)
        for v, lv, x in zip(sel["variable"], sel["variable_level"], sel["value"], strict=True)
    }


def grades(records: pd.DataFrame, analysis: str, group: str, term: str) -> tuple[int, ...]:
    """(any grade, grade 1-2, grade >=3, grade unknown) of one term."""
    t = table(records, analysis, group)
    return tuple(t[(term, lv)] for lv in ("any grade", "grade 1-2", "grade >=3", "grade unknown"))


def test_records_are_valid_and_suppressible(records: pd.DataFrame) -> None:
    assert len(validate_records(records)) == len(records)
    assert set(records["analysis"]) == {*GRADED_ANALYSES, "safety_deaths"}
    out = suppress(ResultSet.create(records, spec={"name": "t"}, cdm_source="t"), 2).records
    ones = out["estimate_type"].eq("count").to_numpy() & validate_records(records)["value"].eq(1)
    assert out.loc[ones.to_numpy(), "suppressed"].all()


def test_ae_table_blinatumomab(records: pd.DataFrame) -> None:
    a = "safety_ae"
    assert table(records, a, "BLIN")[("persons", "overall")] == 2
    assert grades(records, a, "BLIN", "crs") == (1, 0, 1, 0)  # worst grade per person: 3
    assert grades(records, a, "BLIN", "icans") == (1, 0, 1, 0)
    assert grades(records, a, "BLIN", "infection") == (1, 1, 0, 0)  # day 85: last day in
    assert grades(records, a, "BLIN", "neutropenia") == (0, 0, 0, 0)  # day 86: out
    assert grades(records, a, "BLIN", "vod_sos") == (1, 0, 0, 1)  # no grade recorded
    assert grades(records, a, "BLIN", "liver_enzyme_increase") == (1, 0, 1, 0)  # day -1 out
    assert grades(records, a, "BLIN", "any_ae") == (2, 0, 2, 0)
    pct = table(records, a, "BLIN", "percentage")
    assert pct[("any_ae", "grade >=3")] == 100
    assert pct[("crs", "grade >=3")] == 50


def test_ae_table_inotuzumab_and_overall(records: pd.DataFrame) -> None:
    a = "safety_ae"
    assert grades(records, a, "INO", "vod_sos") == (1, 0, 1, 0)
    assert grades(records, a, "INO", "infection") == (1, 0, 1, 0)
    assert grades(records, a, "INO", "crs") == (0, 0, 0, 0)  # day 120: after the window
    assert grades(records, a, "overall", "any_ae") == (4, 0, 4, 0)
    assert grades(records, a, "overall", "infection") == (2, 1, 1, 0)


def test_special_interest_in_treatment_window_and_follow_up(records: pd.DataFrame) -> None:
    treat, follow = "safety_aesi_treatment", "safety_aesi_followup"
    assert grades(records, treat, "BLIN", "any_aesi") == (2, 0, 1, 1)
    assert grades(records, treat, "INO", "crs") == (0, 0, 0, 0)
    assert grades(records, follow, "INO", "crs") == (1, 1, 0, 0)  # day 120 in follow-up
    assert grades(records, follow, "INO", "vod_sos") == (1, 0, 1, 0)
    assert grades(records, follow, "INO", "any_aesi") == (1, 0, 1, 0)
    assert {v for v, _ in table(records, follow, "INO")} == {
        "persons", "crs", "icans", "vod_sos", "any_aesi"
    }  # fmt: skip


def test_discontinuation_due_to_adverse_event(records: pd.DataFrame) -> None:
    a = "safety_discontinuation"
    # p1: cycle 2 stopped after 14 days with grade 3 AEs on days 43 and 50 -> yes;
    # p2: complete cycle -> no; p3: cycle 2 with two doses, VOD grade 4 five days after the
    # last dose -> yes; p4: infection on day 30, 23 days after the last dose -> no
    assert table(records, a, "BLIN")[("discontinued_due_to_ae", "yes")] == 1
    assert table(records, a, "INO")[("discontinued_due_to_ae", "yes")] == 1
    assert table(records, a, "overall", "percentage")[("discontinued_due_to_ae", "yes")] == 50


def test_severe_adverse_events_per_cycle(records: pd.DataFrame) -> None:
    a = "safety_dlt"
    blin_n, blin_x = table(records, a, "BLIN", "denominator"), table(records, a, "BLIN")
    # cycle 1: p1 (grade 2 only) and p2 (grade 3 on day 57, the last day of its window)
    assert (blin_n[("cycle", "1")], blin_x[("cycle", "1")]) == (2, 1)
    assert (blin_n[("cycle", "2")], blin_x[("cycle", "2")]) == (1, 1)
    ino_n, ino_x = table(records, a, "INO", "denominator"), table(records, a, "INO")
    assert (ino_n[("cycle", "1")], ino_x[("cycle", "1")]) == (2, 1)
    assert (ino_n[("cycle", "2")], ino_x[("cycle", "2")]) == (1, 1)
    pct = table(records, a, "overall", "percentage")
    assert pct[("cycle", "1")] == 50


def test_deaths_by_cause_and_early_deaths(records: pd.DataFrame) -> None:
    a = "safety_deaths"
    blin, ino = table(records, a, "BLIN"), table(records, a, "INO")
    assert blin[("death", "any")] == 1
    assert blin[("death", "Infection")] == 1
    assert ino[("death", "unknown")] == 1
    assert (blin[("death_within_30_days", "yes")], blin[("death_within_60_days", "yes")]) == (0, 1)
    assert (ino[("death_within_30_days", "yes")], ino[("death_within_60_days", "yes")]) == (1, 1)
    overall = table(records, a, "overall")
    assert (
        overall[("death", "Infection")] + overall[("death", "unknown")] == overall[("death", "any")]
    )


def test_causes_of_death_not_available_when_no_death_has_a_cause(
    tmp_path: Path, vocab: Vocabulary
) -> None:
    # the same CDM, but neither death carries a cause (0 and NULL, as most ETLs write it)
    data = tables(vocab)
    data["death"] = [death(2, 60, 0), death(4, 30, None)]
    spec = spec_from_text(SPEC)
    with connect(write_cdm(tmp_path / "cdm.duckdb", data)) as source:
        out = summarise_safety(source, vocab, cohort_of(spec), spec)
    blin, overall = table(out, "safety_deaths", "BLIN"), table(out, "safety_deaths", "overall")
    assert blin[("death", "any")] == 1  # the deaths are still counted
    assert overall[("death", "any")] == 2
    assert ("death", "unknown") not in overall  # not a 100 % "unknown" row
    na = out[(out["analysis"] == "safety_deaths") & (out["variable"] == "death_cause")]
    assert sorted(na["group"]) == ["BLIN", "INO", "overall"]
    assert set(na["variable_level"]) == {"not available"}
    assert set(na["strata_level"]) == {
        "no death of the cohort has a cause (death.cause_concept_id 0 or empty)"
    }
    assert len(validate_records(out)) == len(out)
    suppress(ResultSet.create(out, spec={"name": "t"}, cdm_source="t"), 2)


def test_causes_of_death_are_named_and_no_not_available_record_when_recorded(
    records: pd.DataFrame,
) -> None:
    # one of the two deaths has a cause (infection): causes are listed, the other is unknown
    assert not (records["variable"] == "death_cause").any()
    causes = records[(records["analysis"] == "safety_deaths") & (records["variable"] == "death")]
    assert set(causes["variable_level"]) == {"any", "Infection", "unknown"}


def test_strata(cdm: Path, vocab: Vocabulary) -> None:
    spec = spec_from_text(SPEC + "strata: [setting]\nsafety: {adverse_events: [infection]}\n")
    with connect(cdm) as source:
        out = summarise_safety(source, vocab, cohort_of(spec), spec)
    sel = out[
        (out["analysis"] == "safety_ae")
        & (out["strata_name"] == "setting")
        & (out["variable"] == "infection")
        & (out["variable_level"] == "any grade")
        & (out["estimate_name"] == "count")
    ]
    got = {(g, lv): int(v) for g, lv, v in zip(sel["group"], sel["strata_level"], sel["value"],
                                                strict=True)}  # fmt: skip
    # infections: p1 (BLIN, RR) and p4 (INO, RR); p2 is the only ND person
    assert got == {
        ("BLIN", "RR"): 1, ("BLIN", "ND"): 0, ("INO", "RR"): 1, ("INO", "ND"): 0,
        ("overall", "RR"): 2, ("overall", "ND"): 0,
    }  # fmt: skip


def test_claims_without_grades_say_not_available(tmp_path: Path, vocab: Vocabulary) -> None:
    ungraded = {
        "drug_exposure": [drug(1, cid(vocab, "blinatumomab"), 0, 27)],
        "observation": [obs(1, cid(vocab, "crs"), 2, None)],
        "death": [death(1, 20, None)],
    }
    cdm = write_cdm(tmp_path / "claims.duckdb", ungraded)
    spec = spec_from_text(SPEC)
    with connect(cdm) as source:
        out = summarise_safety(source, vocab, cohort_of(spec), spec)
    graded = out[out["analysis"].isin(GRADED_ANALYSES)]
    assert set(graded["estimate_name"]) == {"status"}
    assert set(graded["variable_level"]) == {"not available"}
    assert set(graded["strata_level"]) == {"no graded adverse events in the CDM"}
    assert graded["value"].isna().all()
    assert sorted(set(graded["group"])) == ["BLIN", "INO", "overall"]
    assert table(out, "safety_deaths", "BLIN")[("death_within_30_days", "yes")] == 1
    # the same CDM with grades declared recorded: the ungraded CRS counts as "grade unknown"
    recorded = spec_from_text(SPEC + "safety: {ae_grades: recorded}\n")
    with connect(cdm) as source:
        out = summarise_safety(source, vocab, cohort_of(recorded), recorded)
    assert grades(out, "safety_ae", "BLIN", "crs") == (1, 0, 0, 1)


def test_grade_levels() -> None:
    levels = GradeLevels(4)
    assert levels.members() == ["grade 1-3", "grade >=4", "grade unknown"]
    got = levels.categorise(np.array([2.0, 4.0, np.nan, np.nan]), np.array([1, 1, 1, 0], bool))
    assert got.tolist() == ["grade 1-3", "grade >=4", "grade unknown", None]
    assert GradeLevels(2).low == "grade 1"
    assert GradeLevels(1).members() == ["grade >=1", "grade unknown"]


def test_cycle_windows_partition_the_treatment_window() -> None:
    records = pd.DataFrame(
        {
            "person_id": [1, 1, 1],
            "group": "BLIN",
            "cycle": [1, 1, 2],
            "start": [0, 10, 42],
            "end": [9, 27, 55],
            "rule": "infusion",
        }
    )
    end = pd.DataFrame({"person_id": [1], "group": ["BLIN"], "window_end_day": [85]})
    got = cycle_windows(records, end)
    assert got[["cycle", "c_start", "c_end", "last_start", "last_end", "n_doses"]].to_numpy(
    ).tolist() == [[1, 0, 41, 10, 27, 2], [2, 42, 85, 42, 55, 1]]  # fmt: skip


def test_a_death_after_the_end_of_follow_up_is_not_counted(
    tmp_path: Path, vocab: Vocabulary
) -> None:
    # One death rule with overall survival (issue 19: 7 OS events vs 8 deaths): person 1's
    # observation ends on day 365 and the death is recorded 20 days later; person 2 dies on
    # day 40, inside observation (day 60) but after a data cut-off on day 30.
    blin = cid(vocab, "blinatumomab")
    rows = {
        "drug_exposure": [drug(1, blin, 0, 27), drug(2, blin, 0, 27)],
        "death": [death(1, 385, None), death(2, 40, None)],
    }
    cdm = write_cdm(tmp_path / "late.duckdb", rows)
    spec = spec_from_text(SPEC)
    with connect(cdm) as source:
        out = summarise_safety(source, vocab, cohort_of(spec), spec)
    blin_deaths = table(out, "safety_deaths", "BLIN")
    assert blin_deaths[("death", "any")] == 1  # person 2 only
    assert blin_deaths[("death_within_60_days", "yes")] == 1
    cut = spec_from_text(SPEC + f"outcomes: {{followup_end: {day(30).isoformat()}}}\n")
    with connect(cdm) as source:
        out = summarise_safety(source, vocab, cohort_of(cut), cut)
    assert table(out, "safety_deaths", "BLIN")[("death", "any")] == 0


def test_followup_end_dates_take_the_earlier_of_observation_end_and_cut_off() -> None:
    spec = spec_from_text(SPEC + f"outcomes: {{followup_end: {day(100).isoformat()}}}\n")
    frame = cohort_of(spec).frame
    ends = followup_end_dates(frame, spec)
    assert [(d - pd.Timestamp(D0)).days for d in ends] == [100, 60, 100, 30]
    plain = followup_end_dates(frame, spec_from_text(SPEC))
    assert [(d - pd.Timestamp(D0)).days for d in plain] == [365, 60, 365, 30]


def test_discontinuation_for_progression(tmp_path: Path, vocab: Vocabulary) -> None:
    # Seed 001 "discontinued for progressive disease": person 1's second blinatumomab cycle
    # (days 42-55) is incomplete and a relapse is coded on day 58, within its discontinuation
    # window (42 - 7 .. 55 + 7); person 2's only cycle is complete, so a relapse on day 30
    # does not count; a relapse coded on the index day is the one being treated.
    blin = cid(vocab, "blinatumomab")

    def relapse(pid: int, n: int) -> dict:
        return {
            "person_id": pid,
            "condition_concept_id": cid(vocab, "relapse"),
            "condition_start_date": day(n),
            "condition_type_concept_id": 32817,
        }

    rows = {
        "drug_exposure": [drug(1, blin, 0, 27), drug(1, blin, 42, 55), drug(2, blin, 0, 27)],
        "observation": [obs(1, cid(vocab, "crs"), 2, 1)],
        "condition_occurrence": [relapse(1, 58), relapse(2, 30), relapse(2, 0)],
    }
    cdm = write_cdm(tmp_path / "pd.duckdb", rows)
    spec = spec_from_text(SPEC)
    with connect(cdm) as source:
        out = summarise_safety(source, vocab, cohort_of(spec), spec)
    blin_table = table(out, "safety_discontinuation", "BLIN")
    assert blin_table[("discontinued_for_progression", "yes")] == 1
    assert blin_table[("discontinued_due_to_ae", "yes")] == 0


def test_crossed_strata(cdm: Path, vocab: Vocabulary) -> None:
    spec = spec_from_text(
        SPEC + "strata: [setting]\ncrossed_strata: [[setting, group]]\n"
        "safety: {adverse_events: [infection]}\n"
    )
    with connect(cdm) as source:
        out = summarise_safety(source, vocab, cohort_of(spec), spec)
    sel = out[
        (out["analysis"] == "safety_ae")
        & (out["strata_name"] == "setting &&& group")
        & (out["variable"] == "infection")
        & (out["variable_level"] == "any grade")
        & (out["estimate_name"] == "count")
        & (out["group"] == "overall")
    ]
    got = dict(zip(sel["strata_level"], sel["value"].astype(int), strict=True))
    # infections: p1 (BLIN, RR) and p4 (INO, RR); p2 (BLIN) is the only ND person
    assert got == {"RR &&& BLIN": 1, "ND &&& BLIN": 0, "RR &&& INO": 1}
