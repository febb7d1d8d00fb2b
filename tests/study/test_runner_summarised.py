"""The run's summarised_result.csv against omopgenerics' column specification, and read()."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from allrwe.errors import UsageError
from allrwe.results import km_curve, read, tidy
from allrwe.results.summarised import (
    CURVE_GRID_DAYS,
    SUMMARISED_COLUMNS,
    SUMMARISED_FILE,
    check_summarised_result,
)

# omopgenerics: resultColumns(), estimateTypeChoices() and the required settings
# (vignette "A summarised result", darwin-eu/omopgenerics articles/summarised_result.md)
ESTIMATE_TYPES = {"numeric", "integer", "date", "character", "proportion", "percentage", "logical"}
SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")


@pytest.fixture(scope="module")
def summarised(demo_run) -> pd.DataFrame:
    summary, _ = demo_run
    path = summary.out_dir / SUMMARISED_FILE
    assert SUMMARISED_FILE in summary.files
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=["NA"])


def test_columns_types_and_missing_values_follow_omopgenerics(summarised) -> None:
    assert tuple(summarised.columns) == SUMMARISED_COLUMNS
    assert summarised["result_id"].str.fullmatch(r"\d+").all()
    data = summarised[summarised["variable_name"] != "settings"]
    for column in SUMMARISED_COLUMNS:
        if column not in ("variable_level", "estimate_value"):  # NA allowed by omopgenerics
            assert data[column].notna().all(), column
    assert set(summarised["estimate_type"]) <= ESTIMATE_TYPES
    assert all(SNAKE.fullmatch(n) for n in summarised["estimate_name"])
    for pair in ("group", "strata", "additional"):
        names = summarised[f"{pair}_name"].str.count("&&&")
        levels = summarised[f"{pair}_level"].str.count("&&&")
        assert (names == levels).all(), pair
    key = [c for c in SUMMARISED_COLUMNS if c != "estimate_value"]
    assert not summarised.duplicated(key).any()


def test_the_file_passes_every_rule_of_omopgenerics_import(demo_run) -> None:
    summary, _ = demo_run
    assert check_summarised_result(summary.out_dir / SUMMARISED_FILE) == []


def test_not_estimable_values_are_na_and_only_suppressed_ones_a_dash(demo_run) -> None:
    summary, _ = demo_run
    records = read(summary.out_dir)
    text = pd.read_csv(summary.out_dir / SUMMARISED_FILE, dtype=str, keep_default_na=False)
    data = text[text["variable_name"] != "settings"]
    # survival summaries are neither curves nor re-sampled: one row per record
    mine = records[records["analysis"] == "survival_summary"]
    ids = text[
        (text["estimate_name"] == "result_type") & (text["estimate_value"] == "survival_summary")
    ]
    theirs = data[data["result_id"].isin(ids["result_id"])]
    assert len(theirs) == len(mine)
    assert (theirs["estimate_value"] == "-").sum() == mine["suppressed"].sum()
    not_estimable = mine["value"].isna() & ~mine["suppressed"]
    assert not_estimable.any()
    assert (theirs["estimate_value"] == "NA").sum() == not_estimable.sum()


def test_cdm_name_comes_from_cdm_source(summarised) -> None:
    data = summarised[summarised["variable_name"] != "settings"]
    assert set(data["cdm_name"]) == {"allrwe synthetic CDM (emr)"}


def test_every_result_id_has_its_settings(summarised) -> None:
    settings = summarised[summarised["variable_name"] == "settings"]
    wide = settings.pivot(index="result_id", columns="estimate_name", values="estimate_value")
    data_ids = set(summarised.loc[summarised["variable_name"] != "settings", "result_id"])
    assert set(wide.index) == data_ids
    assert {"result_type", "package_name", "package_version", "min_cell_count"} <= set(wide)
    assert (wide["package_name"] == "allrwe").all()
    assert wide["result_type"].is_unique
    assert "survival_curve" in set(wide["result_type"])
    assert (wide["min_cell_count"] == "5").all()


def test_counts_are_integers_at_or_above_the_threshold_or_suppressed(summarised) -> None:
    counts = summarised[summarised["estimate_type"] == "integer"]["estimate_value"]
    shown = pd.to_numeric(counts[counts != "-"])
    assert len(shown) > 100
    assert ((shown == 0) | (shown >= 5)).all()
    assert (counts == "-").any()


def test_km_curves_are_on_the_day_grid(summarised) -> None:
    ids = summarised[
        (summarised["variable_name"] == "settings")
        & (summarised["estimate_name"] == "result_type")
        & (summarised["estimate_value"] == "survival_curve")
    ]["result_id"]
    curve = summarised[summarised["result_id"].isin(ids) & (summarised["variable_name"] == "os")]
    assert (curve["additional_name"] == "time").all()
    times = sorted({int(t) for t in curve["additional_level"]})
    assert times[0] == 0
    assert np.all(np.diff(times) == CURVE_GRID_DAYS)
    assert {"estimate", "estimate_95ci_lower", "estimate_95ci_upper"} <= set(curve["estimate_name"])
    start = curve[(curve["additional_level"] == "0") & (curve["estimate_name"] == "estimate")]
    assert (pd.to_numeric(start["estimate_value"]) == 1.0).all()


def test_read_gives_the_records_back_with_numbers(demo_run) -> None:
    summary, _ = demo_run
    records = read(summary.out_dir)
    assert len(records) == summary.n_records
    assert records["value"].dtype == "float64"
    assert records["suppressed"].dtype == bool
    assert records.attrs["provenance"]["spec_hash"] == summary.spec_hash
    assert records.loc[records["suppressed"], "value"].isna().all()


def test_km_curve_in_one_line_has_sorted_numeric_times(demo_run) -> None:
    summary, _ = demo_run
    curve = km_curve(read(summary.out_dir), "os")
    assert {"group", "time_days", "survival", "lower", "upper"} <= set(curve.columns)
    for _, one in curve.groupby(["group", "strata_name", "strata_level"]):
        assert one["time_days"].is_monotonic_increasing
        assert one["survival"].is_monotonic_decreasing
        assert one["survival"].iloc[0] <= 1.0
    summary_table = tidy(read(summary.out_dir), "survival_summary")
    assert "n" in summary_table.columns


def test_read_refuses_a_folder_without_results(tmp_path) -> None:
    with pytest.raises(UsageError, match=r"holds no results\.csv"):
        read(tmp_path)
    with pytest.raises(UsageError, match="no analysis 'nope'"):
        tidy(pd.DataFrame({"analysis": ["cohort"]}), "nope")
