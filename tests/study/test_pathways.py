"""The pathway inputs the runner builds from the pattern inputs."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from allrwe.study.pathways import _therapy_events


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
