"""keep_names (allrwe's keep_index) and split_names (TreatmentPatterns' splitEventCohorts)."""

from __future__ import annotations

import pandas as pd
import pytest

from allrwe.analyses.pathways import compute_pathways
from allrwe.errors import AnalysisError

D0 = pd.Timestamp("2020-01-01")


def frame(*rows: tuple[int, str, int, int]) -> pd.DataFrame:
    return pd.DataFrame(
        [(p, n, D0 + pd.Timedelta(days=s), D0 + pd.Timedelta(days=e)) for p, n, s, e in rows],
        columns=["person_id", "name", "start_date", "end_date"],
    )


def targets(persons: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {"person_id": persons, "start_date": D0, "end_date": D0 + pd.Timedelta(days=2000)}
    )


# One 28-day blinatumomab cycle (end − start = 27) with a 40-day TKI overlapping it from day
# 10, and a second person whose blinatumomab ran 27 days without overlap: with the default
# minPostCombinationDuration of 30 the TKI overlap starts an iteration and every row shorter
# than 30 days is dropped, both persons' blinatumomab included.
EVENTS = frame((1, "BLIN", 0, 27), (1, "TKI", 10, 50), (2, "BLIN", 0, 27), (2, "HSCT", 60, 60))


def pathways(**settings) -> dict[int, str]:
    patients = compute_pathways(EVENTS, targets([1, 2]), exit_names=("HSCT",), **settings).patients
    return dict(zip(patients["person_id"], patients["pathway"], strict=True))


def test_treatment_patterns_defaults_drop_a_27_day_blinatumomab_cycle():
    assert pathways() == {1: "TKI", 2: "HSCT"}


def test_keep_names_keeps_the_index_drug_alone_and_in_its_combination():
    # A 17-day overlap is a switch: BLIN is cut to days 0..10 and kept although short.
    assert pathways(keep_names=("BLIN",)) == {1: "BLIN-TKI", 2: "BLIN-HSCT"}
    # As a combination: BLIN 0..10, BLIN+TKI 10..27 (both kept), TKI 27..50 (23 days, dropped).
    out = pathways(keep_names=("BLIN",), combination_window_days=10)
    assert out == {1: "BLIN-BLIN+TKI", 2: "BLIN-HSCT"}


def test_keep_names_also_exempts_from_min_era_days():
    out = pathways(keep_names=("BLIN",), min_era_days=28, min_post_combination_days=0)
    # TKI (40 days) passes min_era_days; BLIN (27) passes only because it is kept; the
    # one-day HSCT (0 days) is dropped, exit or not, as TreatmentPatterns does.
    assert out == {1: "BLIN-TKI", 2: "BLIN"}
    assert pathways(min_era_days=28, min_post_combination_days=0) == {1: "TKI", 2: ""}


def test_split_names_rename_whole_eras_by_duration():
    ev = frame((1, "CHEMO", 0, 10), (1, "CHEMO", 100, 200))
    result = compute_pathways(
        ev, targets([1]), split_names=("CHEMO",), split_days=30, min_post_combination_days=0
    )
    assert result.patients["pathway"].tolist() == ["CHEMO (acute)-CHEMO (therapy)"]
    reasons = result.attrition["reason"].tolist()
    assert "Split acute/therapy (split_time_days=30)" in reasons
    assert result.settings["split_names"] == ["CHEMO"]


def test_keep_names_cover_the_split_pieces_of_a_kept_name():
    ev = frame((1, "BLIN", 0, 10), (1, "TKI", 5, 60))
    result = compute_pathways(
        ev, targets([1]), split_names=("BLIN",), split_days=30, keep_names=("BLIN",)
    )
    assert "BLIN (acute)" in result.patients["pathway"].item()


def test_keep_names_must_be_a_sequence():
    with pytest.raises(AnalysisError, match="keep_names must be a sequence of names"):
        compute_pathways(EVENTS, targets([1, 2]), keep_names="BLIN")
