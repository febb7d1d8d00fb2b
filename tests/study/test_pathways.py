"""The pathway inputs the runner builds from the pattern inputs."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from allrwe.analyses.pathways import compute_pathways
from allrwe.analyses.pathways.groups import _therapy_events, group_settings
from allrwe.analyses.pathways.records import pathway_records, pathway_strata
from allrwe.errors import StudySpecError
from allrwe.results import ResultSet, suppress
from allrwe.results.links import declare_links
from allrwe.spec import spec_from_text
from allrwe.study.stages import PathwaysOutput, pathway_settings


def test_therapy_events_give_one_row_per_class_in_event_then_class_order():
    events = pd.DataFrame(
        {
            "person_id": [1, 1, 2, 3],
            "concept_set": ["blin", "support", "combo", "blin"],
            "start_date": pd.to_datetime(["2020-01-05", "2020-01-06", "2020-02-01", "2020-03-01"]),
            "end_date": pd.to_datetime(["2020-01-10", "2020-01-06", "2020-02-03", "2020-03-02"]),
        }
    ).astype({"start_date": "datetime64[s]", "end_date": "datetime64[s]"})
    inputs = SimpleNamespace(
        events=events,
        # "combo" belongs to two classes, in this order; "support" to none.
        set_classes={"combo": ("chemo", "antibody"), "blin": ("antibody",)},
    )
    out = _therapy_events(inputs)  # type: ignore[arg-type]
    assert list(out.columns) == ["person_id", "name", "start_date", "end_date"]
    assert out[["person_id", "name"]].to_dict("records") == [
        {"person_id": 1, "name": "antibody"},
        {"person_id": 2, "name": "chemo"},
        {"person_id": 2, "name": "antibody"},
        {"person_id": 3, "name": "antibody"},
    ]
    assert out["start_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2020-01-05",
        "2020-02-01",
        "2020-02-01",
        "2020-03-01",
    ]
    assert out["end_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2020-01-10",
        "2020-02-03",
        "2020-02-03",
        "2020-03-02",
    ]
    assert str(out["start_date"].dtype) == "datetime64[s]"
    assert out.index.tolist() == [0, 1, 2, 3]


def test_therapy_events_of_sets_without_a_class_are_empty():
    events = pd.DataFrame(
        {
            "person_id": [1],
            "concept_set": ["support"],
            "start_date": pd.to_datetime(["2020-01-05"]),
            "end_date": pd.to_datetime(["2020-01-06"]),
        }
    )
    out = _therapy_events(SimpleNamespace(events=events, set_classes={}))  # type: ignore[arg-type]
    assert out.empty
    assert list(out.columns) == ["person_id", "name", "start_date", "end_date"]


# ---------------------------------------------------------------- settings per index group

SPEC = """\
name: s
index_groups:
  BLIN: [blinatumomab]
  INO: [inotuzumab_ozogamicin]
  CART: [car_t]
  BOTH: [blinatumomab, inotuzumab_ozogamicin]
  CHEMO: [chemotherapy]
study_period: {start: 2018-01-01, end: 2021-12-31}
"""


def _inputs(text: str = SPEC):

    spec = spec_from_text(text)
    keys = {k for ks in spec.index_groups.values() for k in ks}
    classes = {
        "blinatumomab": ("blinatumomab",),
        "inotuzumab_ozogamicin": ("inotuzumab",),
        "car_t": ("car_t",),
        "chemotherapy": ("chemotherapy",),
        "allo_hsct": ("hsct",),
    }
    return SimpleNamespace(
        spec=spec,
        set_classes=classes,
        group_sets={g: frozenset(ks) for g, ks in spec.index_groups.items()},
        cycle_rules={k: r for k, r in spec.patterns.cycles.items() if k in keys},
    )


def test_day_settings_default_to_the_index_drugs_course():

    inputs = _inputs()
    got = {
        g: (s["combination_window_days"], s["min_post_combination_days"], s["keep_names"])
        for g in inputs.spec.index_groups
        if (s := group_settings(inputs, g))  # type: ignore[arg-type]
    }
    assert got == {
        "BLIN": (27, 27, ["blinatumomab"]),  # 28 infused days: end − start = 27
        "INO": (14, 14, ["inotuzumab"]),  # days 1, 8, 15
        "CART": (0, 0, ["car_t"]),
        "BOTH": (14, 14, ["blinatumomab", "inotuzumab"]),  # the shortest course
        "CHEMO": (30, 30, ["chemotherapy"]),  # no cycle rule: TreatmentPatterns' 30
    }
    blin = group_settings(inputs, "BLIN")  # type: ignore[arg-type]
    assert blin["era_collapse_days"] == 30  # patterns.era_gap_days
    assert blin["exit_names"] == ["hsct"]
    assert (blin["filter"], blin["max_path_length"], blin["min_era_days"]) == ("first", 5, 0)


def test_spec_settings_override_the_index_drug_defaults():

    text = SPEC + (
        "patterns: {era_gap_days: 14}\n"
        "pathways:\n  combination_window_days: 30\n  min_post_combination_days: 7\n"
        "  keep_index: false\n  filter: changes\n  max_path_length: 3\n"
        "  split_event_cohorts: [chemotherapy]\n  split_time_days: 60\n"
    )
    s = group_settings(_inputs(text), "BLIN")  # type: ignore[arg-type]
    assert (s["combination_window_days"], s["min_post_combination_days"]) == (30, 7)
    assert (s["era_collapse_days"], s["keep_names"], s["filter"]) == (14, [], "changes")
    assert (s["max_path_length"], s["split_names"], s["split_days"]) == (3, ["chemotherapy"], 60)


def test_split_event_cohorts_must_be_therapy_classes():

    with pytest.raises(StudySpecError, match=r"'pathways'.*gene_therapy.*not among"):
        spec_from_text(SPEC + "pathways: {split_event_cohorts: [gene_therapy]}\n")


# ---------------------------------------------------------------- records by stratum


def test_pathway_records_are_counted_within_each_stratum():

    d = pd.Timestamp("2020-03-01")
    persons = [1, 2, 3, 4]
    targets = pd.DataFrame(
        {"person_id": persons, "start_date": d, "end_date": d + pd.Timedelta(days=400)}
    )
    events = pd.DataFrame(
        {
            "person_id": [1, 2, 3],
            "name": ["BLIN", "BLIN", "TKI"],
            "start_date": d,
            "end_date": d + pd.Timedelta(days=40),
        }
    )
    result = compute_pathways(events, targets)
    cohort = pd.DataFrame(
        {
            "group": "BLIN",
            "person_id": persons,
            "age_at_index": [20.0, 40.0, 60.0, 41.0],
            "gender_concept_id": [8507, 8532, 8532, 0],
            "index_date": pd.to_datetime(["2020-03-01", "2020-03-01", "2021-01-05", "2021-02-01"]),
        }
    )
    spec = spec_from_text(SPEC)
    strata = pathway_strata(cohort, spec)
    assert strata["age_band"].tolist() == ["<35", "35 to <55", ">=55", "35 to <55"]
    assert strata["sex"].tolist() == ["male", "female", "female", "unknown"]
    assert strata["index_year"].tolist() == ["2020", "2020", "2021", "2021"]
    rec = pathway_records({"BLIN": result}, strata=strata)
    counts = rec[rec["estimate_name"] == "count"]
    got = {
        (r.strata_name, r.strata_level, r.variable_level): int(float(r.value))
        for r in counts.itertuples()
    }
    assert got[("overall", "overall", "BLIN")] == 2
    assert got[("overall", "overall", "TKI")] == 1
    assert got[("overall", "overall", "None")] == 1
    assert got[("age_band", "35 to <55", "BLIN")] == 1
    assert got[("age_band", "35 to <55", "None")] == 1
    assert got[("sex", "female", "TKI")] == 1
    assert got[("index_year", "2020", "BLIN")] == 2
    assert ("index_year", "2020", "TKI") not in got
    pct = rec[(rec["estimate_name"] == "percentage") & (rec["strata_level"] == "2021")]
    assert sorted(float(v) for v in pct["value"]) == [50.0, 50.0]


def test_pathways_are_counted_within_setting_and_treatment_setting():

    # seed 001: the sequences of R/R patients apart from ND ones ("Among 30 R/R patients …")
    d = pd.Timestamp("2021-03-01")
    day = pd.Timedelta(days=1)
    persons = [1, 2, 3, 4, 5, 6]
    targets = pd.DataFrame({"person_id": persons, "start_date": d, "end_date": d + 500 * day})
    # BLIN for everyone but 6; HSCT (an exit event) after BLIN for 1, 2 and 4; chemo for 3
    events = pd.DataFrame(
        {
            "person_id": [1, 2, 3, 4, 5, 1, 2, 4, 3],
            "name": ["BLIN"] * 5 + ["HSCT"] * 3 + ["chemo"],
            "start_date": [d] * 5 + [d + 90 * day] * 3 + [d + 60 * day],
            "end_date": [d + 27 * day] * 5 + [d + 90 * day] * 3 + [d + 120 * day],
        }
    )
    result = compute_pathways(events, targets, exit_names=("HSCT",), keep_names=("BLIN",))
    cohort = pd.DataFrame(
        {
            "group": "BLIN",
            "person_id": persons,
            "age_at_index": 30.0,
            "gender_concept_id": 8507,
            "index_date": d,
            "setting": ["RR", "RR", "RR", "ND", "ND", None],
            "treatment_setting": ["re-induction"] * 2 + ["consolidation", "induction"] * 2,
        }
    )
    spec = spec_from_text(SPEC + "pathways: {by: [setting, treatment_setting]}\n")
    strata = pathway_strata(cohort, spec)
    assert list(strata.columns) == ["group", "person_id", "setting", "treatment_setting"]
    assert strata["setting"].tolist() == ["RR", "RR", "RR", "ND", "ND", "unknown"]
    rec = pathway_records({"BLIN": result}, strata=strata)
    counts = rec[rec["estimate_name"] == "count"]
    got = {
        (r.strata_name, r.strata_level, r.variable_level): int(float(r.value))
        for r in counts.itertuples()
    }
    assert got[("overall", "overall", "BLIN-HSCT")] == 3
    assert got[("setting", "RR", "BLIN-HSCT")] == 2
    assert got[("setting", "RR", "BLIN-chemo")] == 1
    assert got[("setting", "ND", "BLIN-HSCT")] == 1
    assert got[("setting", "ND", "BLIN")] == 1
    assert got[("setting", "unknown", "None")] == 1
    assert got[("treatment_setting", "re-induction", "BLIN-HSCT")] == 2
    # each level's pathways add up to its persons: RR 2 of 3 = 66.7 %
    pct = rec[(rec["estimate_name"] == "percentage") & (rec["strata_level"] == "RR")]
    assert sorted(round(float(v), 1) for v in pct["value"]) == [33.3, 66.7]
    # a level of setting below the minimum cell count is pooled, as every stratum's
    pooled = pathway_records({"BLIN": result}, strata=strata, min_cell_count=2)
    rr = pooled[(pooled["strata_level"] == "RR") & (pooled["estimate_name"] == "count")]
    assert "BLIN-chemo" not in set(rr["variable_level"])


def test_a_pathway_the_group_publishes_is_never_pooled_in_a_stratum_level():

    # 8 persons BLIN-HSCT (6 ND, 2 R/R), 6 BLIN (3 ND, 3 R/R), 2 BLIN-chemo (ND): with a
    # minimum cell count of 5, pooling R/R's 2 BLIN-HSCT would let 8 - 6 give them back
    d = pd.Timestamp("2021-03-01")
    day = pd.Timedelta(days=1)
    hsct, chemo = list(range(1, 9)), [15, 16]
    persons = list(range(1, 17))
    targets = pd.DataFrame({"person_id": persons, "start_date": d, "end_date": d + 500 * day})
    events = pd.DataFrame(
        {
            "person_id": persons + hsct + chemo,
            "name": ["BLIN"] * 16 + ["HSCT"] * 8 + ["chemo"] * 2,
            "start_date": [d] * 16 + [d + 90 * day] * 8 + [d + 60 * day] * 2,
            "end_date": [d + 27 * day] * 16 + [d + 90 * day] * 8 + [d + 120 * day] * 2,
        }
    )
    result = compute_pathways(events, targets, exit_names=("HSCT",), keep_names=("BLIN",))
    setting = ["ND"] * 6 + ["RR"] * 2 + ["ND"] * 3 + ["RR"] * 3 + ["ND"] * 2
    strata = pd.DataFrame({"group": "BLIN", "person_id": persons, "setting": setting})
    rec = pathway_records({"BLIN": result}, strata=strata, min_cell_count=5)
    counts = rec[rec["estimate_name"] == "count"]
    got = {(r.strata_level, r.variable_level): int(r.value) for r in counts.itertuples()}
    other = "other (each fewer than 5)"
    assert got[("overall", "BLIN-HSCT")] == 8
    assert (got[("ND", "BLIN-HSCT")], got[("RR", "BLIN-HSCT")]) == (6, 2)  # kept, not pooled
    assert (got[("overall", other)], got[("ND", other)]) == (2, 2)  # BLIN-chemo, pooled
    assert ("RR", other) not in got
    # suppression hides R/R's 2 and, through the link of the levels to the group's row, a
    # complement: the 2 cannot be recovered as 8 - 6
    linked = declare_links(rec)
    out = suppress(ResultSet.create(linked, spec={"name": "t"}, cdm_source="t"), 5).records
    hidden = out[(out["estimate_name"] == "count") & out["suppressed"]]
    cells = set(zip(hidden["strata_level"], hidden["variable_level"], strict=True))
    assert ("RR", "BLIN-HSCT") in cells
    assert ("ND", "BLIN-HSCT") in cells or ("overall", "BLIN-HSCT") in cells


def test_pathways_by_rejects_an_unknown_stratum():

    with pytest.raises(StudySpecError, match=r"pathways\.by.*ph_status"):
        spec_from_text(SPEC + "pathways: {by: [ph_status]}\n")


def test_methods_settings_name_each_groups_value_where_they_differ():
    d = pd.Timestamp("2020-03-01")
    targets = pd.DataFrame({"person_id": [1], "start_date": [d], "end_date": [d]})
    events = pd.DataFrame({"person_id": [1], "name": ["BLIN"], "start_date": [d], "end_date": [d]})
    blin = compute_pathways(events, targets, combination_window_days=27, exit_names=("hsct",))
    ino = compute_pathways(events, targets, combination_window_days=14, exit_names=("hsct",))
    got = pathway_settings(PathwaysOutput({"BLIN": blin, "INO": ino, "CART": None}))
    assert got["combination_window_days"] == "27 (BLIN), 14 (INO)"
    assert got["era_collapse_days"] == 30
    assert got["exit_names"] == ["hsct"]
    assert pathway_settings(PathwaysOutput({"A": None})) == {}


def test_pathways_by_completion_alone_and_not_available():
    d = pd.Timestamp("2021-03-01")
    day = pd.Timedelta(days=1)
    persons = [1, 2, 3]
    targets = pd.DataFrame({"person_id": persons, "start_date": d, "end_date": d + 500 * day})
    events = pd.DataFrame(
        {
            "person_id": [1, 2, 3, 1],
            "name": ["BLIN", "BLIN", "BLIN", "HSCT"],
            "start_date": [d, d, d, d + 90 * day],
            "end_date": [d + 27 * day, d + 13 * day, d + 27 * day, d + 90 * day],
        }
    )
    result = compute_pathways(events, targets, exit_names=("HSCT",), keep_names=("BLIN",))
    cohort = pd.DataFrame({"group": "BLIN", "person_id": persons, "index_date": d})
    spec = spec_from_text(
        SPEC + "patterns: {completion: {min_cycles: 1}}\npathways: {by: [completion]}\n"
    )
    done = pd.DataFrame(
        {
            "person_id": persons,
            "group": "BLIN",
            "completion": ["completed", "not completed", "completed"],
        }
    )
    strata = pathway_strata(cohort, spec, completion=done)
    assert list(strata.columns) == ["group", "person_id", "completion"]
    rec = pathway_records({"BLIN": result}, strata=strata)
    counts = rec[rec["estimate_name"] == "count"]
    got = {(r.strata_level, r.variable_level): int(float(r.value))
           for r in counts[counts["strata_name"] == "completion"].itertuples()}  # fmt: skip
    assert got == {("completed", "BLIN-HSCT"): 1, ("completed", "BLIN"): 1,
                   ("not completed", "BLIN"): 1}  # fmt: skip
    # no completion derivable for the group (a CAR-T index): "not available", no cut
    none = pathway_strata(cohort, spec, completion=done.assign(completion=None))
    rec = pathway_records({"BLIN": result}, strata=none)
    assert not (rec["strata_name"] == "completion").any()
    na = rec[rec["variable"] == "completion"]
    assert na["variable_level"].tolist() == ["not available"]
