"""Table 1 on a six-person hand-made CDM: every variable, window and level checked by hand.

Groups A (persons 1-3) and B (persons 4-6); every index date is ``D0`` (day 0); the lab and
status window is days -30..0. Comments give the rows each expectation comes from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from baseline_cdm import D0, cid, cond, drug, meas, obs, proc, write_cdm

from allrwe.analyses.baseline import summarise_baseline, table_one
from allrwe.cohort import Cohort
from allrwe.errors import StudySpecError
from allrwe.io import connect
from allrwe.io.vocabulary import Vocabulary, load_vocabulary
from allrwe.results import ResultSet, suppress, validate_records
from allrwe.spec import StudySpec, spec_from_text

SPEC = """
name: baseline_test
suppression: {policy: none}
index_groups: {A: [blinatumomab], B: [inotuzumab_ozogamicin]}
study_period: {start: 2020-01-01, end: 2022-12-31}
strata: [setting]
baseline:
  variables: [age, age_band, sex, labs, ph_status, marrow_blasts_at_diagnosis, cns_involvement,
              chemo_intolerance, prior_lines, prior_hsct, prior_car_t, prior_inotuzumab,
              prior_blinatumomab, refractory_last_therapy, disease_status, mrd_status,
              genetic_features]
  labs: [wbc]
"""

#: person, group, age, gender, setting, line at index
PERSONS = [
    (1, "A", 30, 8507, "RR", 2),
    (2, "A", 40, 8532, "ND", 1),
    (3, "A", 50, 8507, "RR", 4),
    (4, "B", 60, 0, "RR", 2),
    (5, "B", 25, 8532, "ND", 1),
    (6, "B", None, 8507, "RR", 3),
]


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


def tables(vocab: Vocabulary) -> dict[str, list[dict]]:
    wbc, unit = cid(vocab, "wbc"), vocab.concept_set("wbc").unit_concept_id
    blasts, pct = cid(vocab, "marrow_blasts"), vocab.concept_set("marrow_blasts").unit_concept_id
    mrd = cid(vocab, "mrd")
    dx = cid(vocab, "all_diagnosis")
    c = {k: cid(vocab, k) for k in ("ph_positive", "ph_negative", "cns_involvement", "relapse",
                                     "refractory", "remission", "kmt2a_rearranged", "ph_like",
                                     "etv6_runx1", "hyperdiploid", "chemo_intolerance",
                                     "ikzf1_deletion")}  # fmt: skip
    return {
        "measurement": [
            # WBC: nearest before index within 30 days; p1 -> 7.0, p2 -> 4.0 (day -30 counts),
            # p3 -> 9.0 (day 0 counts), p4 none, p5 -> 3.0, p6 -> 11.0
            meas(1, wbc, -40, 99.0, unit), meas(1, wbc, -30, 5.0, unit),
            meas(1, wbc, -3, 7.0, unit), meas(1, wbc, 1, 100.0, unit),
            meas(1, wbc, -1, 50.0, 8554),  # percent, no WBC unit: left out
            meas(2, wbc, -31, 99.0, unit), meas(2, wbc, -30, 4.0, unit),
            meas(3, wbc, 0, 9.0, unit), meas(3, wbc, 2, 100.0, unit),
            meas(5, wbc, -10, 3.0, None),  # no unit: taken as the set's unit
            meas(6, wbc, -5, 11.0, 8848),  # 10^3/uL: converted to 10^9/L (x1)
            # marrow blasts at diagnosis: p1 80 % five days after diagnosis (>= 50 %);
            # p2 30 % five days before it (nearest) -> < 50 %
            meas(1, blasts, -195, 80.0, pct), meas(1, blasts, -150, 20.0, pct),
            meas(1, blasts, -25, 10.0, pct),
            meas(2, blasts, -105, 30.0, pct), meas(2, blasts, -90, 60.0, pct),
            # status at index: p2 blasts 3 % at day -2 -> CR; p4 2 % on the day of a
            # refractory record -> CR (the examination outranks the code)
            meas(2, blasts, -2, 3.0, pct), meas(4, blasts, -5, 2.0, pct),
            # MRD: p1 positive, p2 negative, p5 outside the window, p6 exactly 0.01 % positive
            meas(1, mrd, -10, 0.5, pct), meas(2, mrd, -3, 0.005, pct),
            meas(5, mrd, -40, 1.0, pct), meas(6, mrd, -1, 0.01, pct),
        ],
        "condition_occurrence": [
            # Ph: p1 positive (recorded after index still counts), p2 and p5 negative,
            # p3 both -> Ph+, p4 and p6 none -> unknown
            cond(1, c["ph_positive"], 5), cond(2, c["ph_negative"], -100),
            cond(3, c["ph_positive"], -50), cond(3, c["ph_negative"], -50),
            cond(5, c["ph_negative"], -10),
            # first ALL diagnosis: p1 day -200 (a later one at -20 does not move it), p2 -100,
            # p3 -50 without blasts
            cond(1, dx, -200), cond(1, dx, -20), cond(2, dx, -100), cond(3, dx, -50),
            # CNS: p3 before index -> yes; p6 after index -> no
            cond(3, c["cns_involvement"], -10), cond(6, c["cns_involvement"], 10),
            # refractory to the last therapy: latest status record p3 refractory -> yes,
            # p6 remission after refractory -> no, p4 refractory -> yes
            cond(3, c["relapse"], -100), cond(3, c["refractory"], -20),
            cond(6, c["refractory"], -50), cond(6, c["remission"], -10),
            cond(4, c["refractory"], -5),
            # disease status: p1 remission -> CR, p3 refractory -> non-CR, p5 relapse outside
            # the window -> unknown, p6 remission -> CR
            cond(1, c["remission"], -10), cond(5, c["relapse"], -40),
            # genetic features (any time): p1 two, p2 one, p5 one after index
            cond(1, c["kmt2a_rearranged"], -200),
            cond(2, c["etv6_runx1"], -100), cond(5, c["hyperdiploid"], 3),
            cond(4, c["ikzf1_deletion"], -30),
            # chemotherapy intolerance: p2 before index -> yes; p4 on the index day -> yes;
            # p5 after index -> no
            cond(2, c["chemo_intolerance"], -7), cond(4, c["chemo_intolerance"], 0),
            cond(5, c["chemo_intolerance"], 4),
        ],
        # Ph-like: its standard concept is an Observation (p1, with p1's KMT2A above)
        "observation": [obs(1, c["ph_like"], -200, None)],
        "procedure_occurrence": [
            # prior HSCT: p1 before index; p4 on the index day is not prior
            proc(1, cid(vocab, "allo_hsct"), -100), proc(4, cid(vocab, "allo_hsct"), 0),
            proc(6, cid(vocab, "car_t_infusion"), -60),
        ],
        "drug_exposure": [
            drug(1, cid(vocab, "inotuzumab_ozogamicin"), -300),
            drug(4, cid(vocab, "blinatumomab"), -1),
        ],
    }  # fmt: skip


def cohort_of(spec: StudySpec) -> Cohort:
    frame = pd.DataFrame(
        [
            {
                "person_id": p,
                "group": g,
                "index_date": D0,
                "index_set": "blinatumomab" if g == "A" else "inotuzumab_ozogamicin",
                "obs_start": "2015-01-01",
                "obs_end": "2022-12-31",
                "age_at_index": age,
                "gender_concept_id": gender,
                "setting": setting,
                "treatment_setting": "unknown",
                "line_at_index": line,
            }
            for p, g, age, gender, setting, line in PERSONS
        ]
    )
    return Cohort.from_frame(frame, spec=spec)


@pytest.fixture(scope="module")
def cdm(tmp_path_factory: pytest.TempPathFactory, vocab: Vocabulary) -> Path:
    return write_cdm(tmp_path_factory.mktemp("baseline") / "cdm.duckdb", tables(vocab))


@pytest.fixture(scope="module")
def records(cdm: Path, vocab: Vocabulary) -> pd.DataFrame:
    spec = spec_from_text(SPEC)
    with connect(cdm) as source:
        return summarise_baseline(source, vocab, cohort_of(spec), spec)


@pytest.fixture(scope="module")
def few(cdm: Path, vocab: Vocabulary) -> pd.DataFrame:
    """Records of three variables by setting: small enough to suppress quickly."""
    spec = spec_from_text(
        SPEC.replace("labs: [wbc]", "labs: []").replace(
            SPEC[SPEC.index("  variables:") : SPEC.index("  labs:")],
            "  variables: [sex, age, prior_hsct]\n",
        )
    )
    with connect(cdm) as source:
        return summarise_baseline(source, vocab, cohort_of(spec), spec)


@pytest.fixture(scope="module")
def suppressed(few: pd.DataFrame) -> pd.DataFrame:
    """``few`` after suppression with a minimum cell count of 2."""
    return suppress(ResultSet.create(few, spec={"name": "t"}, cdm_source="test"), 2).records


def value(records: pd.DataFrame, group: str, variable: str, level: str, estimate: str,
          strata: tuple[str, str] = ("overall", "overall")) -> float:  # fmt: skip
    sel = records[
        (records["group"] == group)
        & (records["strata_name"] == strata[0])
        & (records["strata_level"] == strata[1])
        & (records["variable"] == variable)
        & (records["variable_level"] == level)
        & (records["estimate_name"] == estimate)
    ]
    assert len(sel) == 1, (group, variable, level, estimate, strata)
    return float(sel["value"].iloc[0])


def counts(records: pd.DataFrame, group: str, variable: str) -> dict[str, int]:
    sel = records[
        (records["group"] == group)
        & (records["strata_name"] == "overall")
        & (records["variable"] == variable)
        & (records["estimate_name"] == "count")
    ]
    return {str(k): int(v) for k, v in zip(sel["variable_level"], sel["value"], strict=True)}


def test_records_are_valid_results(records: pd.DataFrame) -> None:
    checked = validate_records(records)
    assert len(checked) == len(records)
    assert set(records["analysis"]) == {"baseline"}


def test_persons_per_column(records: pd.DataFrame) -> None:
    assert counts(records, "A", "persons") == {"overall": 3}
    assert counts(records, "B", "persons") == {"overall": 3}
    assert counts(records, "overall", "persons") == {"overall": 6}


def test_age_statistics(records: pd.DataFrame) -> None:
    # A: 30, 40, 50; B: 60, 25 and one missing
    assert value(records, "A", "age", "overall", "mean") == pytest.approx(40.0)
    assert value(records, "A", "age", "overall", "sd") == pytest.approx(10.0)
    assert value(records, "A", "age", "overall", "median") == pytest.approx(40.0)
    assert value(records, "A", "age", "overall", "q25") == pytest.approx(35.0)
    assert value(records, "A", "age", "overall", "q75") == pytest.approx(45.0)
    assert value(records, "B", "age", "overall", "count") == 2
    assert value(records, "B", "age", "missing", "count") == 1
    assert value(records, "B", "age", "overall", "mean") == pytest.approx(42.5)
    # sqrt(612.5) = 24.7487..., published to 3 significant digits
    assert value(records, "B", "age", "overall", "sd") == 24.7
    # SMD = (40 - 42.5) / sqrt((100 + 612.5) / 2)
    smd = value(records, "A vs B", "age", "overall", "smd")
    assert smd == pytest.approx(-2.5 / np.sqrt(356.25))


def test_min_and_max_are_withheld(records: pd.DataFrame) -> None:
    # the oldest and youngest person's own values: never published
    names = set(records.loc[records["variable"].isin(["age", "wbc"]), "estimate_name"])
    assert names == {"count", "mean", "sd", "median", "q25", "q75", "smd"}


def test_range_is_the_kth_lowest_to_kth_highest(cdm: Path, vocab: Vocabulary) -> None:
    # min_cell_count 2: the second lowest and second highest value, for groups of >= 4
    spec = spec_from_text(SPEC + "min_cell_count: 2\n")
    with connect(cdm) as source:
        recs = summarise_baseline(source, vocab, cohort_of(spec), spec)
    ages = [a for _, _, a, *_ in PERSONS if a is not None]  # overall: 30 40 50 60 25
    second = sorted(ages)[1], sorted(ages)[-2]
    assert value(recs, "overall", "age", "overall", "range_low") == second[0] == 30
    assert value(recs, "overall", "age", "overall", "range_high") == second[1] == 50
    # groups A (3 ages) and B (2 ages): fewer than 2k values, no range
    named = recs[(recs["variable"] == "age") & recs["group"].isin(["A", "B"])]
    assert not named["estimate_name"].isin(["range_low", "range_high", "min", "max"]).any()
    wide = table_one(recs)
    row = wide.xs("range (k-th lowest to k-th highest)", level="level")
    assert row.loc[("overall", "overall", "Age at index, years"), "Overall"] == "30.0 to 50.0"
    # WBC of the five with a value: 3 4 7 9 11
    assert row.loc[("overall", "overall", "WBC, 10^9/L"), "Overall"] == "4.0 to 9.0"
    assert row.loc[("overall", "overall", "Age at index, years"), "A"] == "–"


def test_age_bands_and_unknown_level(records: pd.DataFrame) -> None:
    assert counts(records, "A", "age_band") == {"<35": 1, "35 to <55": 2, ">=55": 0, "unknown": 0}
    assert counts(records, "B", "age_band") == {"<35": 1, "35 to <55": 0, ">=55": 1, "unknown": 1}
    assert value(records, "B", "age_band", "unknown", "percentage") == pytest.approx(100 / 3)


def test_sex_counts_and_multinomial_smd(records: pd.DataFrame) -> None:
    assert counts(records, "A", "sex") == {"male": 2, "female": 1, "unknown": 0}
    assert counts(records, "B", "sex") == {"male": 1, "female": 1, "unknown": 1}
    # Yang & Dalton with p_A = (2/3, 1/3, 0), p_B = (1/3, 1/3, 1/3): T = (0, -1/3),
    # S = [[2/9, -1/18], [-1/18, 1/9]], S^-1 = [[36/7, 18/7], [18/7, 72/7]] -> T'S^-1T = 8/7
    smd = value(records, "A vs B", "sex", "overall", "smd")
    assert smd == pytest.approx(np.sqrt(8 / 7))


def test_lab_nearest_before_index_within_window(records: pd.DataFrame) -> None:
    # A: 7 (p1: day -3, not day +1, not another unit), 4 (p2: day -30), 9 (p3: day 0)
    assert value(records, "A", "wbc", "overall", "count") == 3
    assert value(records, "A", "wbc", "overall", "mean") == 6.67  # 20 / 3, 3 digits
    assert value(records, "A", "wbc", "overall", "median") == 7.0
    # B: p4 none, p5 3 (no unit), p6 11
    assert value(records, "B", "wbc", "overall", "count") == 2
    assert value(records, "B", "wbc", "missing", "count") == 1
    assert value(records, "B", "wbc", "overall", "mean") == pytest.approx(7.0)
    sd_a, sd_b = np.std([7, 4, 9], ddof=1), np.std([3, 11], ddof=1)
    expected = (20 / 3 - 7) / np.sqrt((sd_a**2 + sd_b**2) / 2)
    assert value(records, "A vs B", "wbc", "overall", "smd") == pytest.approx(expected)


def test_ph_status_from_records(records: pd.DataFrame) -> None:
    assert counts(records, "A", "ph_status") == {"Ph+": 2, "Ph-": 1, "unknown": 0}
    assert counts(records, "B", "ph_status") == {"Ph+": 0, "Ph-": 1, "unknown": 2}


def test_marrow_blasts_at_diagnosis(records: pd.DataFrame) -> None:
    assert counts(records, "A", "marrow_blasts_at_diagnosis") == {
        "<50%": 1,
        ">=50%": 1,
        "unknown": 1,
    }
    assert counts(records, "B", "marrow_blasts_at_diagnosis")["unknown"] == 3


def test_cns_prior_lines_and_prior_therapy(records: pd.DataFrame) -> None:
    assert counts(records, "A", "cns_involvement") == {"yes": 1, "no": 2, "unknown": 0}
    assert counts(records, "B", "cns_involvement") == {"yes": 0, "no": 3, "unknown": 0}
    assert counts(records, "A", "prior_lines") == {"0": 1, "1": 1, "2": 0, ">=3": 1, "unknown": 0}
    assert counts(records, "B", "prior_lines") == {"0": 1, "1": 1, "2": 1, ">=3": 0, "unknown": 0}
    assert counts(records, "A", "prior_hsct") == {"yes": 1, "no": 2}
    assert counts(records, "B", "prior_hsct") == {"yes": 0, "no": 3}  # day 0 is not prior
    assert counts(records, "B", "prior_car_t") == {"yes": 1, "no": 2}
    assert counts(records, "A", "prior_inotuzumab") == {"yes": 1, "no": 2}
    assert counts(records, "B", "prior_blinatumomab") == {"yes": 1, "no": 2}


def test_status_variables(records: pd.DataFrame) -> None:
    assert counts(records, "A", "refractory_last_therapy") == {"yes": 1, "no": 2}
    assert counts(records, "B", "refractory_last_therapy") == {"yes": 1, "no": 2}
    assert counts(records, "A", "disease_status") == {"CR": 2, "non-CR": 1, "unknown": 0}
    assert counts(records, "B", "disease_status") == {"CR": 2, "non-CR": 0, "unknown": 1}
    assert counts(records, "A", "mrd_status") == {
        "positive (>=0.01%)": 1,
        "negative (<0.01%)": 1,
        "unknown": 1,
    }
    assert counts(records, "B", "mrd_status") == {
        "positive (>=0.01%)": 1,
        "negative (<0.01%)": 0,
        "unknown": 2,
    }


def test_genetic_features_overlap(records: pd.DataFrame) -> None:
    a = counts(records, "A", "genetic_features")
    # features the CDM records for someone are counted (IKZF1: p4 of group B only)
    assert a == {
        "kmt2a_rearranged": 1,
        "etv6_runx1": 1,
        "hyperdiploid": 0,
        "ikzf1_deletion": 0,
        "ph_like": 1,
        "none recorded": 1,
    }
    assert sum(a.values()) == 4  # p1 has two features: levels overlap
    assert counts(records, "B", "genetic_features")["hyperdiploid"] == 1
    assert counts(records, "B", "genetic_features")["ikzf1_deletion"] == 1
    # a multi-response variable has a binary SMD per level: kmt2a 1/3 vs 0/3
    smd = value(records, "A vs B", "genetic_features", "kmt2a_rearranged", "smd")
    assert smd == pytest.approx((1 / 3) / np.sqrt((1 / 3) * (2 / 3) / 2))


def test_overall_column_and_strata(records: pd.DataFrame) -> None:
    assert counts(records, "overall", "sex") == {"male": 3, "female": 2, "unknown": 1}
    rr = ("setting", "RR")
    assert value(records, "A", "persons", "overall", "count", rr) == 2
    assert value(records, "B", "persons", "overall", "count", rr) == 2
    assert value(records, "A", "sex", "male", "count", rr) == 2
    assert value(records, "B", "age", "overall", "mean", rr) == pytest.approx(60.0)
    assert value(records, "overall", "persons", "overall", "count", ("setting", "ND")) == 2


def test_margins_let_suppression_run(few: pd.DataFrame, suppressed: pd.DataFrame) -> None:
    assert set(few["variable"]) == {"persons", "sex", "age", "prior_hsct"}
    raw = validate_records(few)
    out = suppressed
    is_count = (out["estimate_type"] == "count").to_numpy()
    # canonical records of both are in the same order: every count of 1 is hidden, no zero is
    assert out["suppressed"].to_numpy()[is_count & (raw["value"] == 1).to_numpy()].all()
    assert not out["suppressed"].to_numpy()[is_count & (raw["value"] == 0).to_numpy()].any()
    assert out.loc[out["suppressed"], "value"].isna().all()
    # B has one person of unknown sex: the other levels are hidden too, or 3 - 1 - 1 gives it
    sex_b = out[
        (out["group"] == "B")
        & (out["variable"] == "sex")
        & (out["strata_name"] == "overall")
        & (out["estimate_name"] == "count")
    ]
    assert sex_b["suppressed"].all()


def test_unrecorded_genetic_features_are_not_available(records: pd.DataFrame) -> None:
    # no one in the CDM has a TCF3-PBX1, hypodiploid, complex-karyotype or PAX5 record:
    # a status, not a count of 0, and no SMD
    unrecorded = ["tcf3_pbx1", "hypodiploid", "complex_karyotype", "pax5_alteration"]
    for level in unrecorded:
        sel = records[
            (records["variable"] == "genetic_features") & (records["variable_level"] == level)
        ]
        assert set(sel["estimate_name"]) == {"status"}, level
        assert set(sel["group"]) == {"A", "B", "overall"}
    wide = table_one(records)
    at = ("overall", "overall", "Genetic features")
    assert wide.loc[(*at, "pax5_alteration")].tolist() == ["not available"] * 3 + [""]
    assert wide.loc[(*at, "kmt2a_rearranged"), "A"] == "1 (33.3%)"


def test_chemo_intolerance_on_or_before_index(records: pd.DataFrame) -> None:
    assert counts(records, "A", "chemo_intolerance") == {"yes": 1, "no": 2}
    assert counts(records, "B", "chemo_intolerance") == {"yes": 1, "no": 2}
    wide = table_one(records)
    row = ("overall", "overall", "Intolerant of intensive chemotherapy", "yes")
    assert wide.loc[row, "Overall"] == "2 (33.3%)"


def test_table_one_layout(records: pd.DataFrame) -> None:
    wide = table_one(records)
    assert list(wide.columns) == ["A", "B", "Overall", "SMD A vs B"]
    overall = wide.loc[("overall", "overall")]
    assert overall.loc[("Sex", "female"), "A"] == "1 (33.3%)"
    assert overall.loc[("Sex", "male"), "SMD A vs B"] == "1.069"
    assert overall.loc[("Sex", "female"), "SMD A vs B"] == ""
    assert overall.loc[("Age at index, years", "mean (SD)"), "A"] == "40.0 (10.0)"
    assert overall.loc[("Age at index, years", "median (IQR)"), "A"] == "40.0 (35.0, 45.0)"
    assert overall.loc[("Age at index, years", "n"), "B"] == "2"
    assert overall.loc[("Number of patients", ""), "Overall"] == "6"


def test_table_one_shows_suppressed_cells(few: pd.DataFrame, suppressed: pd.DataFrame) -> None:
    wide = table_one(suppressed, order=few)
    overall = wide.loc[("overall", "overall")]
    # the display order of the raw records, not the alphabetical order of the result set
    variables = list(dict.fromkeys(overall.index.get_level_values("variable")))
    assert variables == [
        "Number of patients",
        "Sex",
        "Age at index, years",
        "Prior allogeneic HSCT",
    ]
    assert list(overall.loc["Sex"].index) == ["male", "female", "unknown"]
    assert wide.loc[("overall", "overall", "Sex", "unknown"), "B"] == "suppressed"
    assert wide.loc[("overall", "overall", "Sex", "unknown"), "A"] == "0 (0.0%)"


def test_unknown_variable_names_the_field(cdm: Path, vocab: Vocabulary) -> None:
    spec = spec_from_text(SPEC.replace("variables: [age, age_band,", "variables: [age, agee,"))
    with connect(cdm) as source, pytest.raises(StudySpecError) as err:
        summarise_baseline(source, vocab, cohort_of(spec), spec)
    assert "field 'baseline.variables[1]'" in str(err.value)
    assert "'agee'" in str(err.value)
    assert "did you mean 'age'" in str(err.value)


def test_lab_outside_measurement_domain_names_the_field(cdm: Path, vocab: Vocabulary) -> None:
    spec = spec_from_text(SPEC.replace("labs: [wbc]", "labs: [wbc, crs]"))
    with connect(cdm) as source, pytest.raises(StudySpecError) as err:
        summarise_baseline(source, vocab, cohort_of(spec), spec)
    assert "field 'baseline.labs[1]'" in str(err.value)
    assert "'condition' domain, not 'measurement'" in str(err.value)


def test_smd_withheld_when_it_would_reveal_a_small_count(cdm: Path, vocab: Vocabulary) -> None:
    spec = spec_from_text(
        "name: t\nmin_cell_count: 2\n"
        "index_groups: {A: [blinatumomab], B: [inotuzumab_ozogamicin]}\n"
        "study_period: {start: 2020-01-01, end: 2022-12-31}\n"
        "baseline: {variables: [sex, age, prior_lines], labs: []}\n"
    )
    with connect(cdm) as source:
        out = summarise_baseline(source, vocab, cohort_of(spec), spec)
    # sex and prior lines have counts of 1: their SMDs would give them away
    assert np.isnan(value(out, "A vs B", "sex", "overall", "smd"))
    assert np.isnan(value(out, "A vs B", "prior_lines", "overall", "smd"))
    # age: missing 0 vs 1 -> withheld too
    assert np.isnan(value(out, "A vs B", "age", "overall", "smd"))
    assert value(out, "A", "sex", "male", "count") == 2


def test_crossed_strata_cut_table_one(cdm: Path, vocab: Vocabulary) -> None:
    # setting x sex: A = p1 RR male, p2 ND female, p3 RR male; B = p4 RR unknown, p5 ND
    # female, p6 RR male (PERSONS)
    spec = spec_from_text(SPEC + "crossed_strata: [[setting, sex]]\n")
    with connect(cdm) as source:
        out = summarise_baseline(source, vocab, cohort_of(spec), spec)
    sel = out[
        (out["strata_name"] == "setting &&& sex")
        & (out["variable"] == "persons")
        & (out["estimate_name"] == "count")
    ]
    got = {(g, lv): int(v) for g, lv, v in zip(sel["group"], sel["strata_level"], sel["value"],
                                                strict=True)}  # fmt: skip
    # every column holds the levels found in the cohort, a level absent from A with 0
    assert got == {
        ("A", "RR &&& male"): 2, ("A", "RR &&& unknown"): 0, ("A", "ND &&& female"): 1,
        ("B", "RR &&& male"): 1, ("B", "RR &&& unknown"): 1, ("B", "ND &&& female"): 1,
        ("overall", "RR &&& male"): 3, ("overall", "RR &&& unknown"): 1,
        ("overall", "ND &&& female"): 2,
    }  # fmt: skip
    # the crossed levels carry the variables too: mean age of A's RR men is (30 + 50) / 2
    rr_men = ("setting &&& sex", "RR &&& male")
    assert value(out, "A", "age", "overall", "mean", rr_men) == pytest.approx(40.0)
    # the single stratum is still there, and its RR row is the sum of the crossed RR rows
    assert value(out, "overall", "persons", "overall", "count", ("setting", "RR")) == 4
