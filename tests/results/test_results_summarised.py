"""Curves on a fixed grid of days, for the summarised_result export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from allrwe.results import ResultSet, suppress
from allrwe.results.summarised import (
    SUMMARISED_COLUMNS,
    _curve_records,
    _snake,
    check_summarised_result,
    curve_on_grid,
    to_summarised_result,
)


def _curve(times: list[int], survival: list[float]) -> pd.DataFrame:
    rows = []
    for t, s in zip(times, survival, strict=True):
        rows += [
            {"variable_level": str(t), "estimate_name": "survival", "value": s},
            {"variable_level": str(t), "estimate_name": "time_days", "value": float(t)},
        ]
    return pd.DataFrame(rows)


def test_grid_reads_the_step_function_at_or_before_each_time() -> None:
    # times as strings sort "106" after "1009"; the grid reads them as numbers
    wide = curve_on_grid(_curve([0, 106, 29, 1009, 61], [1.0, 0.5, 0.9, 0.2, 0.7]))
    assert wide["time_days"].tolist() == list(range(0, 1009, 30))
    by_time = dict(zip(wide["time_days"], wide["survival"], strict=True))
    assert by_time[0] == 1.0
    assert by_time[30] == 0.9  # last change at day 29
    assert by_time[60] == 0.9
    assert by_time[90] == 0.7  # day 61
    assert by_time[120] == 0.5  # day 106
    assert by_time[990] == 0.5  # day 1009 is after the last grid point
    assert "time_days" in wide.columns
    assert list(wide.columns) == ["time_days", "survival"]


def test_grid_before_the_first_time_is_missing() -> None:
    wide = curve_on_grid(_curve([40, 70], [0.8, 0.6]), grid_days=30)
    assert wide["time_days"].tolist() == [0, 30, 60]
    assert np.isnan(wide["survival"][0])
    assert np.isnan(wide["survival"][1])  # day 30 is before the first time, 40
    assert wide["survival"][2] == 0.8


def test_snake_case_names() -> None:
    assert _snake("n persons (95% CI)") == "n_persons_95_ci"
    assert _snake("estimate_95CI_lower") == "estimate_95ci_lower"


# --- the rules omopgenerics' importSummarisedResult() applies ----------------------------------


def _row(result_id: int, variable: str, estimate: str, etype: str, value: str | None, **kw: str):
    row = {
        "result_id": str(result_id),
        "cdm_name": "site_a",
        "group_name": "cohort_name",
        "group_level": "BLIN",
        "strata_name": "overall",
        "strata_level": "overall",
        "variable_name": variable,
        "variable_level": None,
        "estimate_name": estimate,
        "estimate_type": etype,
        "estimate_value": value,
        "additional_name": "overall",
        "additional_level": "overall",
    }
    row.update(kw)
    return row


def _settings(result_id: int, result_type: str, **extra: str) -> list[dict[str, object]]:
    values = {
        "result_type": result_type,
        "package_name": "allrwe",
        "package_version": "0.1.0",
        "group": "cohort_name",
        "strata": "sex",
        "additional": "",
        "min_cell_count": "5",
        **extra,
    }
    return [
        _row(
            result_id,
            "settings",
            name,
            "character",
            value,
            cdm_name=None,
            group_name="overall",
            group_level="overall",
        )
        for name, value in values.items()
    ]


def _valid() -> pd.DataFrame:
    """A small file as allrwe writes it: two result_ids, a suppressed count, an NA median."""
    rows = [
        _row(1, "sex", "count", "integer", "12", variable_level="female"),
        _row(1, "sex", "percentage", "percentage", "60", variable_level="female"),
        _row(1, "sex", "count", "integer", "-", variable_level="male"),
        _row(1, "sex", "count", "integer", "8", strata_name="sex", strata_level="female"),
        _row(2, "os", "median", "numeric", None),
        _row(2, "os", "n", "integer", "20"),
        *_settings(1, "baseline"),
        *_settings(2, "survival_summary", strata=""),
    ]
    return pd.DataFrame(rows, columns=list(SUMMARISED_COLUMNS))


def _rules(problems: list[str]) -> set[str]:
    return {p.split(":", 1)[0] for p in problems}


def test_a_file_as_allrwe_writes_it_passes_every_rule(tmp_path) -> None:
    assert check_summarised_result(_valid()) == []
    path = tmp_path / "summarised_result.csv"
    _valid().to_csv(path, index=False, na_rep="NA")
    assert check_summarised_result(path) == []


def _set(frame: pd.DataFrame, where: pd.Series, **values: object) -> pd.DataFrame:
    frame = frame.copy()
    for column, value in values.items():
        frame.loc[where, column] = value
    return frame


def _data(frame: pd.DataFrame) -> pd.Series:
    return frame["variable_name"] != "settings"


def _setting(frame: pd.DataFrame, name: str, result_id: str = "1") -> pd.Series:
    return (
        (frame["variable_name"] == "settings")
        & (frame["estimate_name"] == name)
        & (frame["result_id"] == result_id)
    )


def _first(frame: pd.DataFrame) -> pd.Series:
    return frame.index == 0


BROKEN = {
    # readr reads result_id as an integer; a column missing or extra, or out of order
    "columns": lambda f: f.drop(columns="additional_level"),
    "result_id": lambda f: _set(f, _first(f), result_id="1a"),
    # createSettings / validateResultSettings
    "settings_type": lambda f: _set(f, _setting(f, "min_cell_count"), estimate_type="integer"),
    "settings_unique": lambda f: pd.concat(
        [f, _set(f[_setting(f, "strata")], _setting(f, "strata"), estimate_value="age")]
    ),
    "settings_required": lambda f: f[~_setting(f, "package_version", "2")],
    "settings_distinct": lambda f: _set(
        f, _setting(f, "result_type", "2") | _setting(f, "strata", "2"), estimate_value="baseline"
    ).pipe(lambda g: _set(g, _setting(g, "strata", "2"), estimate_value="sex")),
    "settings_ids": lambda f: f[~((f["result_id"] == "2") & ~_data(f))],
    "settings_overlap": lambda f: _set(f, _setting(f, "additional"), estimate_value="sex"),
    # validateSummarisedResultTable
    "not_na": lambda f: _set(f, _first(f), strata_level=""),
    "estimate_type": lambda f: _set(f, _first(f), estimate_type="count"),
    "pairs": lambda f: _set(f, _first(f), strata_name="sex &&& age_group", strata_level="female"),
    "snake_case": lambda f: _set(f, _first(f), strata_name="Sex", strata_level="female"),
    "duplicates": lambda f: pd.concat(
        [f, _set(f[_first(f)], _first(f[_first(f)]), estimate_value="13")]
    ),
    "group_count": lambda f: pd.concat(
        [
            f,
            pd.DataFrame(
                [
                    _row(1, "number_subjects", "count", "integer", "20"),
                    _row(1, "number_subjects", "count_missing", "integer", "0"),
                ]
            ),
        ]
    ),
    # allrwe's own: values readable as their type, and counts omopgenerics would suppress
    "values": lambda f: _set(f, _first(f), estimate_value="12.5"),
    "suppression": lambda f: _set(f, _first(f), estimate_value="3"),
}


@pytest.mark.parametrize("rule", list(BROKEN))
def test_each_rule_finds_its_break_and_only_that(rule: str) -> None:
    broken = BROKEN[rule](_valid()).reset_index(drop=True)
    problems = check_summarised_result(broken)
    assert _rules(problems) == {rule}, problems


def test_a_literal_na_in_a_level_is_missing_as_readr_reads_it(tmp_path) -> None:
    path = tmp_path / "s.csv"
    frame = _set(_valid(), _first(_valid()), group_level="NA")
    frame.to_csv(path, index=False, na_rep="NA")
    assert _rules(check_summarised_result(path)) == {"not_na"}


def test_a_setting_missing_from_the_settings_rows_is_read_from_the_data_names() -> None:
    # no "strata" setting: addLabels takes the labels of strata_name (here "sex")
    frame = _valid()
    frame = frame[~_setting(frame, "strata")]
    assert check_summarised_result(frame) == []
    clash = _set(frame, _setting(frame, "additional"), estimate_value="sex")
    assert _rules(check_summarised_result(clash)) == {"settings_overlap"}


# --- what the export writes for suppressed and not-estimable values ------------------------------


def test_suppressed_is_a_dash_and_not_estimable_is_na() -> None:
    raw = pd.DataFrame(
        [
            {
                "analysis": "baseline",
                "group": "BLIN",
                "variable": "sex",
                "variable_level": "female",
                "estimate_name": "count",
                "estimate_type": "count",
                "value": 12,
            },
            {
                "analysis": "baseline",
                "group": "BLIN",
                "variable": "sex",
                "variable_level": "male",
                "estimate_name": "count",
                "estimate_type": "count",
                "value": 3,
            },
            {
                "analysis": "survival_summary",
                "group": "BLIN",
                "variable": "os",
                "variable_level": "",
                "estimate_name": "median",
                "estimate_type": "numeric",
                "value": np.nan,
            },
        ]
    ).assign(strata_name="overall", strata_level="overall")
    results = suppress(ResultSet.create(raw, spec={"name": "t"}, cdm_source="x"), 5)
    frame = to_summarised_result(results, cdm_name="site_a")
    data = frame[frame["variable_name"] != "settings"]
    value = dict(
        zip(
            data["variable_name"]
            + "/"
            + data["estimate_name"]
            + "/"
            + data["variable_level"].fillna(""),
            data["estimate_value"],
            strict=True,
        )
    )
    assert value["sex/count/male"] == "-"
    assert value["os/median/"] is None  # NA in the file, not "-"
    assert check_summarised_result(frame) == []


def test_a_curve_point_on_the_grid_keeps_the_suppression_of_the_point_it_reads() -> None:
    points = [(0, 1.0, False), (40, np.nan, True), (100, 0.5, False)]
    rows = []
    for t, s, hidden in points:
        for name, value in (("survival", s), ("time_days", float(t))):
            rows.append(
                {
                    "analysis": "survival_curve",
                    "group": "BLIN",
                    "strata_name": "overall",
                    "strata_level": "overall",
                    "variable": "os",
                    "variable_level": str(t),
                    "estimate_name": name,
                    "value": value,
                    "suppressed": hidden,
                }
            )
    grid = _curve_records(pd.DataFrame(rows)).set_index("time_days")
    assert grid["suppressed"].to_dict() == {0: False, 30: False, 60: True, 90: True}
    assert grid.loc[30, "value"] == 1.0


def test_a_test_across_a_crossed_stratum_pairs_each_name_with_a_level() -> None:
    # seed 004: Gray's test across the levels of "post_hct_relapse &&& gvhd_at_index"
    raw = pd.DataFrame(
        [
            {
                "analysis": "cumulative_incidence_test",
                "group": "INO",
                "strata_name": "post_hct_relapse &&& gvhd_at_index",
                "strata_level": "overall",
                "variable": "relapse_nrm",
                "variable_level": "gray relapse",
                "estimate_name": "p",
                "estimate_type": "numeric",
                "value": 0.26,
            },
            {
                "analysis": "cumulative_incidence_test",
                "group": "INO",
                "strata_name": "ph_status",
                "strata_level": "overall",
                "variable": "relapse_nrm",
                "variable_level": "gray relapse",
                "estimate_name": "p",
                "estimate_type": "numeric",
                "value": 0.5,
            },
        ]
    )
    results = suppress(ResultSet.create(raw, spec={"name": "t"}, cdm_source="x"), 5)
    frame = to_summarised_result(results, cdm_name="site_a")
    data = frame[frame["variable_name"] != "settings"]
    assert dict(zip(data["strata_name"], data["strata_level"], strict=True)) == {
        "post_hct_relapse &&& gvhd_at_index": "overall &&& overall",
        "ph_status": "overall",
    }
    assert check_summarised_result(frame) == []
