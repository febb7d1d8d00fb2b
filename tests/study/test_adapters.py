"""The adapters that turn analysis output into result records, and the staged output folder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from study_paths import DEMO_SPEC, EXAMPLES

from allrwe.analyses.attrition import attrition_records, cohort_records, link_attrition
from allrwe.analyses.pathways import compute_pathways
from allrwe.analyses.pathways.records import pathway_records
from allrwe.analyses.records import (
    drop_single_member_margins,
    pool_rare,
    pooled_label,
    status_records,
    summary_table_records,
)
from allrwe.analyses.therapy.records import _destinations, _dose_adherence
from allrwe.errors import UsageError
from allrwe.results import ResultSet, suppress
from allrwe.spec import load_spec
from allrwe.study.output import MARKER, StagedOutput, write_manifest
from allrwe.study.runner import export_formats


def test_rare_levels_are_pooled_per_key():
    table = pd.DataFrame(
        {
            "group": ["A", "A", "A", "A", "B"],
            "level": ["x", "y", "z", "w", "x"],
            "n": [12, 3, 1, 5, 2],
        }
    )
    pooled = pool_rare(table, keys=["group"], level="level", count="n", min_cell_count=5)
    assert pooled.to_dict("records") == [
        {"group": "A", "level": "x", "n": 12},
        {"group": "A", "level": "w", "n": 5},
        {"group": "A", "level": pooled_label(5), "n": 4},
        {"group": "B", "level": pooled_label(5), "n": 2},
    ]
    assert pooled_label(5) == "other (each fewer than 5)"
    assert pool_rare(table, keys=["group"], level="level", count="n", min_cell_count=1) is table


def test_status_records_say_not_available_with_the_reason():
    records = status_records("response", ["BLIN", "INO"], "no labs | claims")
    assert records["variable_level"].tolist() == ["not available", "not available"]
    assert records["strata_level"].tolist() == ["no labs / claims"] * 2
    assert records["estimate_type"].tolist() == ["character"] * 2
    assert records["value"].isna().all()


def test_attrition_levels_keep_the_step_order():
    frame = pd.DataFrame(
        {
            "group": ["A"] * 11,
            "step": [f"s{i}" for i in range(11)],
            "reason": [f"reason {i}" for i in range(11)],
            "n_records": [100] * 11,
            "n_persons": [50] * 11,
            "n_excluded": [0] * 11,
        }
    )
    records = attrition_records(frame)
    levels = list(dict.fromkeys(records["variable_level"]))
    assert levels[:2] == ["01 reason 0", "02 reason 1"]
    assert levels[-1] == "11 reason 10"
    assert set(records["estimate_name"]) == {"n_persons", "n_records", "n_excluded"}
    assert (records["estimate_type"] == "count").all()


def test_single_member_margins_are_dropped():
    records = pd.DataFrame({"margin": ["m1", "m1", "m2", "", "m3|total:m9"]})
    assert drop_single_member_margins(records)["margin"].tolist() == ["m1", "m1", "", "", ""]


def _pathway_result(paths: dict[str, int]):
    rows, targets = [], []
    day = pd.Timestamp("2020-01-01")
    person = 0
    for path, n in paths.items():
        for _ in range(n):
            person += 1
            targets.append((person, day, day + pd.Timedelta(days=700)))
            for k, name in enumerate(path.split("-")):
                start = day + pd.Timedelta(days=100 * k)
                rows.append((person, name, start, start + pd.Timedelta(days=20)))
    events = pd.DataFrame(rows, columns=["person_id", "name", "start_date", "end_date"])
    target = pd.DataFrame(targets, columns=["person_id", "start_date", "end_date"])
    return compute_pathways(events, target)


def test_pathway_records_pool_rare_pathways_and_survive_suppression():
    result = _pathway_result({"BLIN": 20, "BLIN-HSCT": 9, "BLIN-INO": 2, "INO-BLIN": 1})
    records = pathway_records({"A": result, "B": None}, min_cell_count=5)
    counts = records[records["estimate_name"] == "count"]
    assert dict(zip(counts["variable_level"], counts["value"], strict=True)) == {
        "BLIN": 20.0,
        "BLIN-HSCT": 9.0,
        pooled_label(5): 3.0,
    }
    assert counts["margin"].nunique() == 1
    spec = load_spec(DEMO_SPEC)
    safe = suppress(ResultSet.create(records, spec=spec, cdm_source="t"), min_cell_count=5)
    shown = safe.records[safe.records["estimate_name"] == "count"]
    hidden = dict(zip(shown["variable_level"], shown["suppressed"], strict=True))
    # the pooled 3 is hidden, and so is the next smallest so that 3 = 32 - 20 - 9 cannot be done
    assert hidden == {"BLIN": False, "BLIN-HSCT": True, pooled_label(5): True}


def test_export_formats_follow_report_formats():
    assert export_formats(load_spec(DEMO_SPEC)) == ["csv", "parquet", "json"]
    assert export_formats(load_spec(EXAMPLES / "seed001_blinatumomab_emr.yaml")) == [
        "csv",
        "parquet",
    ]


def test_staged_output_replaces_an_earlier_run_only_on_commit(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    write_manifest(out, ["old.txt"])
    with StagedOutput(out) as staged:
        (staged.path / "new.txt").write_text("new")
        assert (out / "old.txt").exists()
        staged.commit()
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def _write_then_fail(out):
    with StagedOutput(out) as staged:
        (staged.path / "partial.txt").write_text("x")
        raise RuntimeError("boom")


def test_staged_output_is_discarded_on_error(tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        _write_then_fail(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_staged_output_refuses_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(UsageError, match="is not a folder"):
        StagedOutput(target)


def test_dose_adherence_records_one_per_group_set_and_estimate():
    table = pd.DataFrame(
        {
            "group": ["INO", "BLIN"],
            "concept_set": ["inotuzumab_ozogamicin", "blinatumomab"],
            "n_persons": [3, 2],
            "n_doses": [9, 4],
            "n_assessable": [8, 4],
            "n_within": [8, 3],
            "percentage": [100.0, 75.0],
        }
    )
    records = _dose_adherence(table)
    got = {
        (g, v, e): (t, val)
        for g, v, e, t, val in zip(
            records["group"],
            records["variable"],
            records["estimate_name"],
            records["estimate_type"],
            records["value"],
            strict=True,
        )
    }
    assert len(records) == 10
    assert set(records["analysis"]) == {"dose_adherence"}
    assert got[("INO", "inotuzumab_ozogamicin", "n_doses")] == ("count", 9.0)
    assert got[("INO", "inotuzumab_ozogamicin", "percentage")] == ("percentage", 100.0)
    assert got[("BLIN", "blinatumomab", "n_within")] == ("count", 3.0)
    assert got[("BLIN", "blinatumomab", "percentage")] == ("percentage", 75.0)
    assert _dose_adherence(table.iloc[0:0]).empty


def test_attrition_steps_are_linked_so_a_small_exclusion_is_not_a_difference():
    """The issue's finding: attrition published 366 -> 364 persons beside "excluded -"."""
    attrition = pd.DataFrame(
        {
            "group": ["BLIN"] * 3,
            "reason": ["index records", "study period", "prior observation"],
            "n_records": [900, 700, 364],
            "n_persons": [400, 366, 364],
            "n_excluded": [0, 34, 2],
        }
    )
    cohort = pd.DataFrame({"group": ["BLIN"] * 364, "person_id": range(364)})
    records = link_attrition(cohort_records(cohort, ["BLIN"]), attrition_records(attrition))
    out = suppress(ResultSet.create(records, spec={"name": "t"}, cdm_source="t")).records
    persons = out[out["estimate_name"].isin(["n_persons", "n_excluded"])]
    shown = persons.set_index(["variable_level", "estimate_name"])["value"]
    # the 2 is hidden with the persons before it (366), not the final size 364
    assert np.isnan(shown[("03 prior observation", "n_excluded")])
    assert np.isnan(shown[("02 study period", "n_persons")])
    assert shown[("03 prior observation", "n_persons")] == 364
    size = out[out["analysis"] == "cohort"]["value"].tolist()
    assert size == [364.0]
    # and the hidden 366 cannot be worked out from the step before: its exclusion goes too
    assert np.isnan(shown[("02 study period", "n_excluded")])


def test_destinations_within_a_stratum_are_named_by_it():
    rows = [
        # group, variable, subgroup, level, n, denominator, stratum
        ("BLIN", "destination", "all", "hsct", 6, 10, ""),
        ("BLIN", "destination", "all", "none", 4, 10, ""),
        ("BLIN", "destination_by_duration", "<=14", "hsct", 6, 6, ""),
        ("BLIN", "destination_by_duration", "<=14", "none", 0, 6, ""),
        ("BLIN", "destination_by_duration", ">28", "hsct", 0, 4, ""),
        ("BLIN", "destination_by_duration", ">28", "none", 4, 4, ""),
        ("BLIN", "destination", "ND", "hsct", 2, 3, "setting"),
        ("BLIN", "destination", "ND", "none", 1, 3, "setting"),
        ("BLIN", "destination", "RR", "hsct", 4, 7, "setting"),
        ("BLIN", "destination", "RR", "none", 3, 7, "setting"),
    ]
    cols = ["group", "variable", "subgroup", "level", "n", "denominator", "stratum"]
    table = pd.DataFrame(rows, columns=cols).assign(percentage=np.nan)
    records = _destinations(table)
    counts = records[records["estimate_name"] == "count"]
    got = {
        (sn, sl, lv): int(v)
        for sn, sl, lv, v in zip(counts["strata_name"], counts["strata_level"],
                                 counts["variable_level"], counts["value"], strict=True)
    }  # fmt: skip
    assert got == {
        ("overall", "overall", "hsct"): 6, ("overall", "overall", "none"): 4,
        ("duration", "<=14", "hsct"): 6, ("duration", "<=14", "none"): 0,
        ("duration", ">28", "hsct"): 0, ("duration", ">28", "none"): 4,
        ("setting", "ND", "hsct"): 2, ("setting", "ND", "none"): 1,
        ("setting", "RR", "hsct"): 4, ("setting", "RR", "none"): 3,
    }  # fmt: skip
    assert set(records["variable"]) == {"destination"}


def test_summary_records_withhold_min_max_and_round_mean_sd():
    # one person's own value (min, max) is never published; mean and SD to 3 digits, so
    # removing one person and running again does not give that person's value back
    table = pd.DataFrame(
        {
            "group": ["BLIN"],
            "variable": ["duration_days"],
            "n": [7],
            "mean": [27.428571428571427],
            "sd": [3.1547394],
            "q1": [26.0],
            "median": [28.0],
            "q3": [28.5],
            "min": [19.0],
            "max": [33.0],
        }
    )
    records = summary_table_records(table, "duration")
    values = dict(zip(records["estimate_name"], records["value"], strict=True))
    assert values == {
        "count": 7,
        "mean": 27.4,
        "sd": 3.15,
        "median": 28.0,
        "q25": 26.0,
        "q75": 28.5,
    }
