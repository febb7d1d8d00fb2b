"""PathwayResult: counts, treatment history, attrition, settings, Sankey and sunburst data."""

from __future__ import annotations

import json

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from allrwe.analyses.pathways import PathwayResult, compute_pathways, count_pathways

D0 = pd.Timestamp("2020-01-01")


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        [(p, n, D0 + pd.Timedelta(days=s), D0 + pd.Timedelta(days=e)) for p, n, s, e in rows],
        columns=["person_id", "name", "start_date", "end_date"],
    )


@pytest.fixture
def cohort() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Six persons: INO-BLIN (x2), BLIN, INO-BLIN-HSCT, INO+Chemo-Chemo, and one untreated."""
    ev = _frame(
        [
            (1, "INO", 0, 60),
            (1, "BLIN", 100, 128),
            (2, "INO", 0, 60),
            (2, "BLIN", 120, 160),
            (3, "BLIN", 0, 56),
            (4, "INO", 0, 60),
            (4, "BLIN", 100, 140),
            (4, "HSCT", 200, 200),
            (5, "Chemo", 0, 200),
            (5, "INO", 0, 60),
        ]
    )
    tg = pd.DataFrame(
        {
            "person_id": [1, 2, 3, 4, 5, 6],
            "start_date": [D0 - pd.Timedelta(days=10)] * 6,
            "end_date": [D0 + pd.Timedelta(days=400)] * 6,
        }
    )
    return ev, tg


@pytest.fixture
def result(cohort) -> PathwayResult:
    ev, tg = cohort
    return compute_pathways(ev, tg, exit_names=["HSCT"], min_post_combination_days=20)


def test_patients_have_one_row_per_person_with_pathway_and_steps(result):
    assert result.patients.to_dict("list") == {
        "person_id": [1, 2, 3, 4, 5, 6],
        "pathway": ["INO-BLIN", "INO-BLIN", "BLIN", "INO-BLIN-HSCT", "Chemo+INO-Chemo", ""],
        "n_steps": [2, 2, 1, 3, 2, 0],
    }


def test_counts_are_sorted_by_count_then_pathway(result):
    assert result.counts.to_dict("list") == {
        "pathway": ["INO-BLIN", "BLIN", "Chemo+INO-Chemo", "INO-BLIN-HSCT"],
        "n_persons": [2, 1, 1, 1],
    }


def test_count_pathways_helper_matches_method(result):
    assert count_pathways(result.patients).equals(result.counts)
    with_none = result.count_pathways(include_none=True)
    assert with_none["n_persons"].sum() == 6
    assert with_none.set_index("pathway").loc["None", "n_persons"] == 1


def test_treatment_history_columns_and_values(result):
    th = result.treatment_history
    assert list(th.columns) == [
        "person_id",
        "target",
        "seq",
        "name",
        "start_date",
        "end_date",
        "duration_days",
    ]
    person5 = th[th["person_id"] == 5]
    assert person5["name"].tolist() == ["Chemo+INO", "Chemo"]
    assert person5["seq"].tolist() == [1, 2]
    assert person5["duration_days"].tolist() == [60, 140]
    assert person5["end_date"].tolist() == [D0 + pd.Timedelta(days=60), D0 + pd.Timedelta(days=200)]
    assert set(th["target"]) == {1}


def test_attrition_counts_each_step(result):
    att = result.attrition
    assert list(att.columns) == ["step", "reason", "n_records", "n_persons"]
    assert att["step"].tolist() == list(range(1, len(att) + 1))
    table = att.set_index("reason")
    assert table.loc["Target and event records of persons with a target"].tolist()[1:] == [16, 6]
    window = att[att["reason"].str.startswith("Events starting inside the window")]
    assert window[["n_records", "n_persons"]].values.tolist() == [[10, 5]]
    assert att["reason"].iloc[-1] == "Maximum path length (max_path_length=5)"
    assert att[["n_records", "n_persons"]].iloc[-1].tolist() == [10, 5]


def test_settings_are_json_serialisable_and_complete(result):
    settings = json.loads(json.dumps(result.settings))
    assert settings == {
        "era_collapse_days": 30,
        "combination_window_days": 30,
        "min_era_days": 0,
        "min_post_combination_days": 20,
        "filter": "first",
        "max_path_length": 5,
        "window_start_days": 0,
        "window_end_days": 0,
        "overlap": "truncate",
        "concat_targets": True,
        "start_anchor": "start_date",
        "end_anchor": "end_date",
        "exit_names": ["HSCT"],
        "split_names": [],
        "split_days": 30,
        "keep_names": [],
    }


def test_sankey_links_count_persons_and_end_in_stopped(result):
    sankey = result.sankey()
    links = {
        (s, t): v
        for s, t, v in zip(
            sankey.links["source_label"],
            sankey.links["target_label"],
            sankey.links["value"],
            strict=True,
        )
    }
    assert links == {
        ("1.INO", "2.BLIN"): 3,
        ("1.BLIN", "2.Stopped"): 1,
        ("1.Chemo+INO", "2.Chemo"): 1,
        ("2.BLIN", "3.Stopped"): 2,
        ("2.BLIN", "3.HSCT"): 1,
        ("2.Chemo", "3.Stopped"): 1,
        ("3.HSCT", "4.Stopped"): 1,
    }
    nodes = sankey.nodes
    assert nodes["node"].tolist() == list(range(len(nodes)))
    assert nodes[nodes["step"] == 3]["name"].tolist() == ["HSCT", "Stopped"]
    by_id = dict(zip(nodes["node"], nodes["label"], strict=True))
    assert [by_id[s] for s in sankey.links["source"]] == sankey.links["source_label"].tolist()
    assert [by_id[t] for t in sankey.links["target"]] == sankey.links["target_label"].tolist()


def test_sankey_has_no_stopped_after_a_pathway_cut_at_max_length(cohort):
    ev, tg = cohort
    sankey = compute_pathways(ev, tg, exit_names=["HSCT"], max_path_length=2).sankey()
    assert "3.Stopped" not in set(sankey.links["target_label"])
    assert "2.Stopped" in set(sankey.links["target_label"])


def test_sunburst_records_count_prefixes(result):
    sun = result.sunburst()
    table = sun.set_index("path")
    assert table.loc["INO", ["parent", "depth", "n_persons", "n_ending"]].tolist() == ["", 1, 3, 0]
    assert table.loc["INO-BLIN", ["parent", "n_persons", "n_ending"]].tolist() == ["INO", 3, 2]
    assert table.loc["INO-BLIN-HSCT", ["name", "depth", "n_persons", "n_ending"]].tolist() == [
        "HSCT",
        3,
        1,
        1,
    ]
    assert sun[sun["depth"] == 1]["n_persons"].sum() == 5
    assert sun["n_ending"].sum() == 5


def _ibis(frame: pd.DataFrame) -> ibis.Table:
    # Through Arrow: ibis 12 reads a pandas option that pandas 3 deprecates with a warning.
    return ibis.memtable(pa.Table.from_pandas(frame, preserve_index=False))


def test_ibis_tables_give_the_same_result_as_pandas(cohort):
    ev, tg = cohort
    from_pandas = compute_pathways(ev, tg, exit_names=["HSCT"])
    from_ibis = compute_pathways(_ibis(ev), _ibis(tg), exit_names=["HSCT"])
    pd.testing.assert_frame_equal(from_ibis.patients, from_pandas.patients)
    pd.testing.assert_frame_equal(from_ibis.treatment_history, from_pandas.treatment_history)
    pd.testing.assert_frame_equal(from_ibis.attrition, from_pandas.attrition)


def test_ibis_table_missing_a_column_is_named(cohort):
    from allrwe.errors import AnalysisError

    ev, tg = cohort
    with pytest.raises(AnalysisError, match=r"events: missing column\(s\) 'name'"):
        compute_pathways(_ibis(ev.drop(columns="name")), tg)


def test_same_input_gives_identical_output(cohort):
    ev, tg = cohort
    first = compute_pathways(ev, tg, filter="all")
    second = compute_pathways(ev, tg, filter="all")
    pd.testing.assert_frame_equal(first.treatment_history, second.treatment_history)
    pd.testing.assert_frame_equal(first.sunburst(), second.sunburst())
    pd.testing.assert_frame_equal(first.sankey().links, second.sankey().links)
