"""Input checks of compute_pathways: every bad input gives a clear AnalysisError."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from allrwe.analyses.pathways import compute_pathways
from allrwe.errors import AllrweError, AnalysisError, StudyWarning


def _events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": [1, 1, 2],
            "name": ["A", "B", "A"],
            "start_date": pd.to_datetime(["2020-01-01", "2020-03-01", "2020-01-01"]),
            "end_date": pd.to_datetime(["2020-02-01", "2020-04-01", "2020-02-01"]),
        }
    )


def _targets() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": [1, 2],
            "start_date": pd.to_datetime(["2019-12-01", "2019-12-01"]),
            "end_date": pd.to_datetime(["2021-01-01", "2021-01-01"]),
        }
    )


def test_analysis_error_is_an_allrwe_error_and_a_value_error():
    with pytest.raises(AllrweError):
        compute_pathways(_events(), _targets(), filter="sometimes")
    with pytest.raises(ValueError, match="filter"):
        compute_pathways(_events(), _targets(), filter="sometimes")


def test_missing_event_column_is_named():
    with pytest.raises(AnalysisError, match=r"events: missing column\(s\) 'name'"):
        compute_pathways(_events().drop(columns="name"), _targets())


def test_missing_target_columns_are_named():
    bad = _targets().rename(columns={"start_date": "cohort_start_date"})
    with pytest.raises(AnalysisError, match=r"targets: missing column\(s\) 'start_date'"):
        compute_pathways(_events(), bad)


def test_end_before_start_reports_the_number_of_rows():
    ev = _events()
    ev.loc[[0, 2], "end_date"] = pd.Timestamp("2019-01-01")
    with pytest.raises(AnalysisError, match="events: 2 row"):
        compute_pathways(ev, _targets())


def test_target_end_before_start_reports_the_number_of_rows():
    tg = _targets()
    tg.loc[1, "end_date"] = pd.Timestamp("2019-01-01")
    with pytest.raises(AnalysisError, match=r"targets: 1 row.*end_date before start_date"):
        compute_pathways(_events(), tg)


def test_missing_values_are_reported():
    ev = _events()
    ev.loc[1, "start_date"] = pd.NaT
    with pytest.raises(AnalysisError, match=r"events: 1 row.*missing start_date"):
        compute_pathways(ev, _targets())


def test_non_dates_are_rejected():
    ev = _events().astype({"start_date": object})
    ev.loc[0, "start_date"] = "not a date"
    with pytest.raises(AnalysisError, match="column 'start_date' does not hold dates"):
        compute_pathways(ev, _targets())


def test_names_with_plus_are_rejected():
    ev = _events()
    ev.loc[0, "name"] = "BLIN+INO"
    with pytest.raises(AnalysisError, match=r"1 row\(s\) have a name containing '\+'"):
        compute_pathways(ev, _targets())


def test_empty_names_are_rejected():
    ev = _events()
    ev.loc[0, "name"] = " "
    with pytest.raises(AnalysisError, match="empty name"):
        compute_pathways(ev, _targets())


def test_not_a_table_is_rejected():
    with pytest.raises(AnalysisError, match="events: expected a pandas DataFrame or an Ibis"):
        compute_pathways([1, 2, 3], _targets())


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("filter", "sometimes", "unknown filter 'sometimes'; choose one of 'first'"),
        ("overlap", "cut", "unknown overlap 'cut'"),
        ("start_anchor", "startDate", "unknown start_anchor 'startDate'"),
        ("end_anchor", "index", "unknown end_anchor"),
        ("era_collapse_days", -1, "era_collapse_days must be 0 or more, got -1"),
        ("combination_window_days", -5, "combination_window_days must be 0 or more"),
        ("min_era_days", -1, "min_era_days must be 0 or more"),
        ("min_post_combination_days", -1, "min_post_combination_days must be 0 or more"),
        ("max_path_length", 0, "max_path_length must be 1 or more, got 0"),
        ("era_collapse_days", 2.5, "era_collapse_days must be a whole number of days"),
        ("window_start_days", True, "window_start_days must be a whole number of days"),
        ("concat_targets", "yes", "concat_targets must be True or False"),
        ("exit_names", "HSCT", "single string 'HSCT'"),
        ("exit_names", [1], "exit_names must hold str names"),
        ("exit_names", 3, "exit_names must be a sequence"),
    ],
)
def test_bad_settings_are_rejected(setting, value, message):
    with pytest.raises(AnalysisError, match=message.replace("(", r"\(").replace("+", r"\+")):
        compute_pathways(_events(), _targets(), **{setting: value})


def test_window_start_after_window_end_on_one_anchor_is_rejected():
    with pytest.raises(AnalysisError, match=r"window_start_days \(10\) is after window_end_days"):
        compute_pathways(
            _events(), _targets(), end_anchor="start_date", window_start_days=10, window_end_days=5
        )


def test_negative_windows_are_allowed():
    result = compute_pathways(_events(), _targets(), window_start_days=-30, window_end_days=-10)
    assert result.counts.to_dict("list") == {"pathway": ["A", "A-B"], "n_persons": [1, 1]}


def test_numpy_integers_are_accepted_and_stored_as_int():
    result = compute_pathways(_events(), _targets(), era_collapse_days=np.int64(14))
    assert result.settings["era_collapse_days"] == 14
    assert type(result.settings["era_collapse_days"]) is int


def test_dates_as_python_dates_and_strings_are_accepted():
    ev = _events()
    ev["start_date"] = [d.date() for d in ev["start_date"]]
    ev["end_date"] = ev["end_date"].dt.strftime("%Y-%m-%d")
    tg = _targets()
    tg["end_date"] = [dt.date(9999, 12, 31)] * 2
    result = compute_pathways(ev, tg)
    assert result.counts.to_dict("list") == {"pathway": ["A", "A-B"], "n_persons": [1, 1]}
    assert result.treatment_history["end_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2020-02-01",
        "2020-04-01",
        "2020-02-01",
    ]


def test_datetimes_with_time_of_day_count_calendar_days():
    ev = _events()
    ev["start_date"] = ev["start_date"] + pd.Timedelta(hours=23)
    result = compute_pathways(ev, _targets())
    assert result.treatment_history["duration_days"].tolist() == [31, 31, 31]


def test_empty_targets_warn_and_give_an_empty_result():
    with pytest.warns(StudyWarning, match="no target episode is left"):
        result = compute_pathways(_events(), _targets().iloc[0:0])
    assert result.patients.empty
    assert result.counts.empty
    assert result.treatment_history.empty
    assert result.sankey().links.empty
    assert result.sunburst().empty


def test_empty_events_warn_and_give_empty_pathways():
    with pytest.warns(StudyWarning, match="none of the 2 target episodes"):
        result = compute_pathways(_events().iloc[0:0], _targets())
    assert result.patients["pathway"].tolist() == ["", ""]
    assert result.count_pathways(include_none=True).to_dict("list") == {
        "pathway": ["None"],
        "n_persons": [2],
    }
