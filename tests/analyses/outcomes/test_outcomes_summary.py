"""Survival summaries as result records: engine values, in shapes the results layer accepts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from outcome_fixtures import make_spec

from allrwe.analyses.outcomes import ENDPOINT_COLUMNS, summarise_survival
from allrwe.analyses.outcomes.summary import followup_range
from allrwe.analyses.survival import (
    DAYS_PER_MONTH,
    cox,
    cumulative_incidence,
    gray_test,
    kaplan_meier,
    logrank,
)
from allrwe.errors import AnalysisError
from allrwe.results import ResultSet, suppress, validate_records
from allrwe.results.attack import attack
from allrwe.results.links import declare_links

N = 40


def _rows(endpoint: str, time: np.ndarray, cause: np.ndarray, setting: np.ndarray,
          status: str = "available") -> pd.DataFrame:  # fmt: skip
    n = time.size
    return pd.DataFrame(
        {
            "person_id": np.arange(1, n + 1),
            "group": "BLIN",
            "endpoint": endpoint,
            "censor_variant": "none",
            "status": status,
            "start_date": pd.Timestamp("2020-01-01"),
            "end_date": pd.Timestamp("2020-01-01") + pd.to_timedelta(time, unit="D"),
            "time_days": pd.array(time, dtype="Int64"),
            "event": pd.array((cause > 0).astype(int), dtype="Int64"),
            "cause": pd.array(cause, dtype="Int64"),
            "reason": "x",
            "index_date": pd.Timestamp("2020-01-01"),
            "setting": setting,
            "treatment_setting": "re-induction",
            "line_at_index": 2,
            "age_at_index": 40,
            "gender_concept_id": 8507,
        }
    )[list(ENDPOINT_COLUMNS)]


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    setting = np.where(np.arange(N) % 2 == 0, "ND", "RR")
    time = rng.integers(1, 700, N)
    os_event = rng.random(N) < np.where(setting == "RR", 0.7, 0.4)
    cause = rng.integers(0, 3, N)
    return {"time": time, "event": os_event.astype(int), "cause": cause, "setting": setting}


@pytest.fixture(scope="module")
def endpoints(data: dict[str, np.ndarray]) -> pd.DataFrame:
    parts = [
        _rows("os", data["time"], data["event"], data["setting"]),
        _rows("time_to_hsct", data["time"], data["cause"], data["setting"]),
        _rows("efs", data["time"], data["event"], data["setting"], status="not available"),
    ]
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def records(endpoints: pd.DataFrame) -> pd.DataFrame:
    return summarise_survival(endpoints, make_spec(), by=["setting"])


def _cell(rec: pd.DataFrame, analysis: str, variable: str, level: str = "overall",
          strata: str = "overall") -> pd.Series:  # fmt: skip
    sel = rec[(rec["analysis"] == analysis) & (rec["variable"] == variable)
              & (rec["variable_level"] == level) & (rec["strata_level"] == strata)]  # fmt: skip
    return sel.set_index("estimate_name")["value"]


def test_records_are_valid_results(records: pd.DataFrame) -> None:
    canonical = validate_records(records)
    assert len(canonical) == len(records)
    counts = records[records["estimate_type"] == "count"]["estimate_name"].unique()
    assert {"n", "n_event", "n_risk", "n_censor", "n_event_hsct", "n_event_death"} <= set(counts)
    suppressed = suppress(ResultSet.create(records, spec={"a": 1}, cdm_source="t"))
    assert suppressed.is_suppressed


def test_summary_matches_the_engine(records: pd.DataFrame, data: dict[str, np.ndarray]) -> None:
    km = kaplan_meier(data["time"], data["event"])
    med = km.median()
    got = _cell(records, "survival_summary", "os")
    assert got["n"] == N
    assert got["n_event"] == data["event"].sum()
    np.testing.assert_allclose(
        got[["median_days", "median_lower_days", "median_upper_days"]],
        [med.estimate, med.lower, med.upper],
    )
    assert got["median_months"] == pytest.approx(med.estimate / DAYS_PER_MONTH)
    assert got["available"] == 1.0
    rr = data["setting"] == "RR"
    km_rr = kaplan_meier(data["time"][rr], data["event"][rr])
    assert _cell(records, "survival_summary", "os", strata="RR")["median_days"] == pytest.approx(
        km_rr.median().estimate, nan_ok=True
    )


def _curve(records: pd.DataFrame, analysis: str = "survival_curve") -> pd.DataFrame:
    part = records[(records["analysis"] == analysis) & (records["strata_name"] == "overall")]
    part = part[part["variable"] == ("os" if analysis == "survival_curve" else "time_to_hsct")]
    wide = part.pivot_table(index="variable_level", columns="estimate_name", values="value")
    return wide.sort_values("time_days")


def test_landmarks(records: pd.DataFrame, data: dict[str, np.ndarray]) -> None:
    got = _cell(records, "survival_landmark", "os", "12 months")
    assert got["n_risk"] == (data["time"] >= 12 * DAYS_PER_MONTH).sum()
    # Four persons are censored after day 387 (days 479, 490, 503, 583) and no later gap
    # holds a fifth: whatever point follows 12 months, the summary's censorings minus the
    # points' would show those 4. The curve ends at day 638 instead (5 deaths after it, none
    # censored), its previous point on day 335, so that the gap between holds 7 censorings;
    # and the 12-month value is withheld (the tail rule of allrwe.analyses.outcomes.curves).
    late = data["time"] >= 387
    assert ((data["event"] == 0) & late).sum() == 4
    assert ((data["event"] == 0) & (data["time"] >= 335) & (data["time"] < 638)).sum() == 7
    assert _curve(records)["time_days"].tolist() == [4.0, 335.0, 638.0]
    assert np.isnan(got["survival"])
    # With those four deaths instead, the tail is publishable. Without landmarks the points
    # would be days 4, 335 and 503, and deaths between 12 months (365 days) and 503 would
    # hide the 12-month value. The first time after 12 months (day 387) is an anchor of the
    # lattice: the points become 4, 387, 479, 558 and 611, and the 12-month value is the one
    # published at day 387 (issue 16: 1-year OS was NE).
    event = np.where(late, 1, data["event"])
    km = kaplan_meier(data["time"], event)
    died = summarise_survival(_rows("os", data["time"], event, data["setting"]), make_spec())
    assert _curve(died)["time_days"].tolist() == [4.0, 387.0, 479.0, 558.0, 611.0]
    shown = _cell(died, "survival_landmark", "os", "12 months")
    year = km.at([12 * DAYS_PER_MONTH]).iloc[0]
    np.testing.assert_allclose(
        shown[["survival", "lower", "upper"]], year[["survival", "lower", "upper"]]
    )
    assert shown["survival"] == pytest.approx(_curve(died).loc["387", "survival"])
    # 10.8 months (329 days) on the data as they are: no death from then to day 335 (the
    # last before is on day 328), so it is the value published at day 335; the curve then
    # ends at day 638, where 5 remain at risk and none is censored.
    lm = summarise_survival(
        _rows("os", data["time"], data["event"], data["setting"]),
        make_spec("outcomes: {landmarks_months: [10.8]}\n"),
    )
    assert _curve(lm)["time_days"].tolist() == [4.0, 335.0, 638.0]
    shown = _cell(lm, "survival_landmark", "os", "10.8 months")
    at = kaplan_meier(data["time"], data["event"]).at([10.8 * DAYS_PER_MONTH]).iloc[0]
    np.testing.assert_allclose(
        shown[["survival", "lower", "upper"]], at[["survival", "lower", "upper"]]
    )
    assert shown["survival"] == pytest.approx(_curve(lm).loc["335", "survival"])
    late_mark = _cell(records, "survival_landmark", "os", "24 months")
    assert data["time"].max() < 24 * DAYS_PER_MONTH
    assert late_mark["n_risk"] == 0
    assert np.isnan(late_mark["survival"])


def test_curve_publishes_points_no_subtraction_opens(
    records: pd.DataFrame, data: dict[str, np.ndarray]
) -> None:
    """CohortSurvival practice: risk sets >= 5, counts between points 0 or >= 5, one record."""
    # the fixture's curve keeps one point (see test_landmarks); with the deaths after day
    # 387 the curve has five, and both must hold the rule
    event = np.where(data["time"] >= 387, 1, data["event"])
    died = summarise_survival(_rows("os", data["time"], event, data["setting"]), make_spec())
    for rec, ev in ((records, data["event"]), (died, event)):
        _check_curve(rec, data["time"], ev.astype(bool))
    assert len(_curve(died)) == 5
    assert "survival_curve_counts" not in set(records["analysis"])
    risk = _cell(records, "survival_risk_table", "os", "6 months")
    t = 6 * DAYS_PER_MONTH
    assert risk["n_risk"] == (data["time"] >= t).sum()
    assert risk["n_event"] == ((data["time"] <= t) & (data["event"] == 1)).sum()
    assert _cell(records, "survival_risk_table", "os", "0 months")["n_risk"] == N


def _check_curve(records: pd.DataFrame, time: np.ndarray, event: np.ndarray) -> None:
    curve = _curve(records)
    days = curve["time_days"].to_numpy()
    np.testing.assert_array_equal(curve["n_risk"], [(time >= d).sum() for d in days])
    assert (curve["n_risk"] >= 5).all()
    # the persons who left between two points are exactly the published events and censorings
    left = -np.diff(curve["n_risk"].to_numpy())
    np.testing.assert_array_equal(left, (curve["n_event"] + curve["n_censor"]).to_numpy()[1:])
    for d0, d1, n_event in zip(days[:-1], days[1:], curve["n_event"].to_numpy()[1:], strict=True):
        assert n_event == (event & (time >= d0) & (time < d1)).sum()
    for kind in ("n_event", "n_censor"):
        assert ((curve[kind] == 0) | (curve[kind] >= 5)).all(), kind
    # the hidden-death attack n_risk * (1 - S(t) / S(t-)) gives no count between 1 and 4
    km = kaplan_meier(time, event)
    before = [km.at([d - 0.5]).iloc[0]["survival"] for d in days]
    np.testing.assert_allclose(curve["survival"], before)
    ratio = curve["survival"].to_numpy()[1:] / curve["survival"].to_numpy()[:-1]
    guessed = np.round(curve["n_risk"].to_numpy()[:-1] * (1 - ratio))
    assert not ((guessed >= 1) & (guessed < 5)).any()
    # the summary minus the points: who leaves after the last point, 0 or >= 5 of each kind
    summary = _cell(records, "survival_summary", "os")
    tail_events = summary["n_event"] - curve["n_event"].sum()
    tail_censor = summary["n"] - summary["n_event"] - curve["n_censor"].sum()
    assert tail_events == (event & (time >= days[-1])).sum()
    for tail in (tail_events, tail_censor):
        assert tail == 0 or tail >= 5


def test_tests_across_strata(records: pd.DataFrame, data: dict[str, np.ndarray]) -> None:
    lr = logrank(data["time"], data["event"], data["setting"])
    got = records[
        (records["analysis"] == "survival_test") & (records["variable_level"] == "logrank")
    ]
    got = got.set_index("estimate_name")["value"]
    assert got["chisq"] == pytest.approx(lr.chisq)
    assert got["p"] == pytest.approx(lr.p)
    frame = pd.DataFrame({"t": data["time"], "e": data["event"],
                          "x": (data["setting"] == "RR").astype(float)})  # fmt: skip
    fit = cox(frame, time="t", event="e", covariates=["x"])
    hr = records[records["variable_level"] == "cox RR vs ND"].set_index("estimate_name")["value"]
    assert hr["hr"] == pytest.approx(fit.hazard_ratio[0])
    g = gray_test(data["time"], data["cause"], data["setting"], cause_of_interest=1)
    gray = _cell(records, "cumulative_incidence_test", "time_to_hsct", "gray hsct")
    assert gray["chisq"] == pytest.approx(g.stat)


def test_cumulative_incidence(records: pd.DataFrame, data: dict[str, np.ndarray]) -> None:
    cif = cumulative_incidence(data["time"], data["cause"])
    # greedily the points would be days 4, 405 and 565, but only 3 transplants follow day
    # 565 (565, 628 and 661: the summary minus the points would show them); the curve ends
    # at day 479 instead, the latest time with a publishable tail that the rule reaches. An
    # event between 12 months and the next point hides the 12-month values; 13.2 months
    # (401.8 days) has none before day 405.
    assert ((data["cause"] == 1) & (data["time"] >= 565)).sum() == 3
    assert _curve(records, "cumulative_incidence_curve")["time_days"].tolist() == [4, 479]
    hidden = _cell(records, "cumulative_incidence_landmark", "time_to_hsct", "12 months")
    assert np.isnan(hidden["hsct"])
    lm = summarise_survival(
        _rows("time_to_hsct", data["time"], data["cause"], data["setting"]),
        make_spec("outcomes: {landmarks_months: [13.2]}\n"),
    )
    t = 13.2 * DAYS_PER_MONTH
    k = np.searchsorted(cif.time, t, side="right") - 1
    got = _cell(lm, "cumulative_incidence_landmark", "time_to_hsct", "13.2 months")
    assert got["hsct"] == pytest.approx(cif.estimate[k, 0])
    assert got["death_upper"] == pytest.approx(cif.upper[k, 1])
    assert got["hsct"] == pytest.approx(_curve(lm, "cumulative_incidence_curve").loc["405", "hsct"])
    summary = _cell(records, "cumulative_incidence_summary", "time_to_hsct")
    assert summary["n_event_hsct"] == (data["cause"] == 1).sum()
    assert summary["n_event_death"] == (data["cause"] == 2).sum()


def test_not_available_endpoint_has_no_estimates(records: pd.DataFrame) -> None:
    efs = records[records["variable"] == "efs"]
    assert set(efs["analysis"]) == {"survival_summary"}
    got = _cell(records, "survival_summary", "efs")
    assert got.to_dict() == {"available": 0.0, "n": float(N)}


def test_censor_variant_is_part_of_the_variable(endpoints: pd.DataFrame) -> None:
    ep = endpoints[endpoints["endpoint"] == "os"].assign(censor_variant="hsct_car_t")
    rec = summarise_survival(ep, make_spec())
    assert set(rec["variable"]) == {"os:hsct_car_t"}


def test_unknown_stratum_is_an_error(endpoints: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match="ph_status"):
        summarise_survival(endpoints, make_spec(), by=["ph_status"])
    strata = pd.DataFrame({"person_id": np.arange(1, N + 1), "ph_status": "positive"})
    rec = summarise_survival(endpoints, make_spec(), by=["ph_status"], strata=strata)
    assert "positive" in set(rec["strata_level"])


def test_no_test_against_a_level_whose_size_is_suppressed(
    endpoints: pd.DataFrame, data: dict[str, np.ndarray]
) -> None:
    # 20 ND and 20 RR persons: with a threshold of 21 both sizes are hidden, so neither the
    # log-rank, the Cox hazard ratio nor Gray's test may be published (issue 19: the demo's
    # Cox HR against an INO group of "<5").
    hidden = summarise_survival(endpoints, make_spec(), by=["setting"], min_cell_count=21)
    tests = ("survival_test", "cumulative_incidence_test")
    assert not hidden["analysis"].isin(tests).any()
    shown = summarise_survival(endpoints, make_spec(), by=["setting"], min_cell_count=20)
    got = set(shown.loc[shown["analysis"].isin(tests), "variable_level"])
    assert got == {"logrank", "cox RR vs ND", "gray hsct", "gray death"}
    # the same across groups: a second group of 3 persons gives no "all" comparison
    small = endpoints[endpoints["person_id"] <= 3].assign(group="INO")
    both = pd.concat([endpoints, small], ignore_index=True)
    rec = summarise_survival(both, make_spec(), min_cell_count=5)
    assert not (rec["group"] == "all").any()
    rec = summarise_survival(both, make_spec(), min_cell_count=3)
    assert set(rec.loc[rec["group"] == "all", "variable_level"]) == {
        "logrank",
        "cox INO vs BLIN",
        "gray hsct",
        "gray death",
    }


def test_followup_range_is_whole_months_of_the_observed_times(
    records: pd.DataFrame, data: dict[str, np.ndarray]
) -> None:
    got = _cell(records, "survival_summary", "os")
    low, high = data["time"].min(), data["time"].max()
    assert got["followup_min_days"] == pytest.approx(round(low / DAYS_PER_MONTH) * DAYS_PER_MONTH)
    assert got["followup_max_days"] == pytest.approx(round(high / DAYS_PER_MONTH) * DAYS_PER_MONTH)
    assert (got["followup_max_days"] / DAYS_PER_MONTH).is_integer()


def test_followup_range_needs_the_minimum_cell_count() -> None:
    time = np.array([3.0, 45.0, 200.0, 900.0])
    assert followup_range(time, 5) == {}
    assert followup_range(time, 4) == {
        "followup_min_days": ("numeric", 0.0),
        "followup_max_days": ("numeric", 30 * DAYS_PER_MONTH),
    }
    assert followup_range(np.array([]), 1) == {}


def test_small_strata_publish_no_range(endpoints: pd.DataFrame) -> None:
    few = endpoints[endpoints["person_id"] <= 6]  # three persons per setting
    rec = summarise_survival(few, make_spec(), by=["setting"])
    overall = _cell(rec, "survival_summary", "os")
    assert {"followup_min_days", "followup_max_days"} <= set(overall.index)
    stratum = _cell(rec, "survival_summary", "os", strata="RR")
    assert stratum["n"] == 3
    assert "followup_min_days" not in stratum.index
    assert "median_followup_days" in stratum.index


def _crossed_rows() -> pd.DataFrame:
    """Time to HSCT of 40 persons; the 2 of line 4 in consolidation have no event at all."""
    rng = np.random.default_rng(11)
    line = np.repeat([1, 4, 2, 3], [20, 2, 15, 3])
    setting = np.where(np.isin(line, [1, 4]), "consolidation", "re-induction")
    time = np.where(line >= 3, 400, rng.integers(1, 700, line.size))
    cause = np.where(line == 4, 0, rng.integers(0, 3, line.size))
    cause[line == 3] = 0
    cause[-1] = 1  # one transplant after 12 months in line 3: a curve, unlike line 4
    rows = _rows("time_to_hsct", time, cause, np.full(line.size, "RR"))
    return rows.assign(line_at_index=line, treatment_setting=setting)


def test_levels_without_events_keep_their_landmark_risk_sets() -> None:
    rows = _crossed_rows()
    by = ["treatment_setting", ("line", "treatment_setting")]
    rec = summarise_survival(rows, make_spec(), by=by)
    lm = rec[(rec["analysis"] == "cumulative_incidence_landmark")
             & (rec["estimate_name"] == "n_risk")]  # fmt: skip
    months = 6 * DAYS_PER_MONTH
    at_risk = rows["time_days"].to_numpy(dtype="int64") >= months
    six = lm[lm["variable_level"] == "6 months"]
    crossed = six[six["strata_name"] == "line &&& treatment_setting"]
    crossed = crossed.set_index("strata_level")["value"]
    # line 4 has no event, hence no curve, but its 2 persons at risk are counted as before
    assert crossed["4 &&& consolidation"] == (at_risk & (rows["line_at_index"] == 4)).sum() == 2
    got = six.groupby("strata_name")["value"].sum()
    assert got["overall"] == got["treatment_setting"] == got["line &&& treatment_setting"]
    assert got["overall"] == at_risk.sum()
    none = rec[(rec["analysis"] == "cumulative_incidence_landmark")
               & (rec["strata_level"] == "4 &&& consolidation")
               & (rec["estimate_name"] != "n_risk")]  # fmt: skip
    landmarks = len(make_spec().outcomes.landmarks_months)
    assert none["value"].isna().all()
    assert len(none) == landmarks * 2 * 3  # causes x (estimate, lower, upper)


def test_attack_bounds_a_hidden_landmark_risk_set_of_crossed_strata() -> None:
    # A hidden line-3 risk set: the crossed margin (re-induction = line 2 + line 3) and the
    # strata row (overall = every line x setting) gave two values 2 apart while line 4, with
    # no event, had no landmark row; the component was "inconsistent" and never bounded.
    by = ["treatment_setting", ("line", "treatment_setting")]
    rec = declare_links(summarise_survival(_crossed_rows(), make_spec(), by=by))
    hide = ((rec["analysis"] == "cumulative_incidence_landmark")
            & (rec["strata_level"] == "3 &&& re-induction"))  # fmt: skip
    rec = rec.assign(value=rec["value"].mask(hide), suppressed=hide)
    report = attack(rec, min_cell_count=5)
    assert report.inconsistent == ()
    found = {leak.record: (leak.low, leak.high) for leak in report.leaks}
    line3 = {
        name.split("/")[0]: (lo, hi) for name, (lo, hi) in found.items() if "3 &&& re-" in name
    }
    # the 3 persons of line 3 at risk at 6 and 12 months; 2 of them censored (no curve point)
    assert [(lo, hi) for name, (lo, hi) in found.items() if "3 &&& re-induction" in name] == [
        (2, 2),
        (3, 3),
        (3, 3),
    ]
    assert sorted(line3) == ["cumulative_incidence_curve", "cumulative_incidence_landmark"]
