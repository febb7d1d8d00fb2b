"""Summaries of time-to-event endpoints as tidy result records (``allrwe.results`` shape).

:func:`summarise_survival` turns :func:`~allrwe.analyses.outcomes.compute_endpoints` rows into
records per endpoint, censoring variant, group and stratum level (response rates:
:mod:`allrwe.analyses.outcomes.response_records`). Times are in days (``*_days``) and months
(``*_months`` = days / 30.4375); survival and incidence are proportions (0–1).

Analyses (the ``analysis`` column) and their cells (``variable`` = the endpoint, suffixed
``:<variant>`` for a censoring variant other than ``none``):

* ``survival_summary`` (``variable_level`` ``overall``): ``n``, ``n_event`` (counts),
  ``median_days`` and its limits (Brookmeyer–Crowley via the engine), the same in months,
  ``median_followup_days`` (reverse Kaplan–Meier), ``followup_min_days`` and
  ``followup_max_days`` (range of the observed times rounded to whole months, only for at
  least the minimum cell count of persons: :func:`followup_range`), ``available`` (1/0);
* ``survival_landmark`` (``variable_level`` ``"<m> months"``): ``n_risk`` (count),
  ``survival``, ``lower``, ``upper``; linked to ``n_risk`` for suppression;
* ``survival_landmark``: the estimates are those of the published curve point they equal,
  hidden when no published point gives them (:mod:`allrwe.analyses.outcomes.curves`); the
  first time after each landmark is an anchor of the curve's published points, so the
  landmark is shown wherever its risk set reaches the minimum cell count and the counts
  around it allow;
* ``survival_curve`` (``variable_level`` = day): only the published points
  (:func:`~allrwe.analyses.outcomes.curves.published_points`: risk set at least the minimum
  cell count, events and censorings since the previous point 0 or at least it): ``time_days``,
  ``survival``, ``lower``, ``upper`` just before the day, and in the same cell the counts
  behind them, ``n_risk``, ``n_event``, ``n_censor``, so that hiding a count hides its
  estimates;
* ``survival_risk_table`` (``variable_level`` ``"<m> months"`` every ``risk_table_months``):
  ``n_risk``, cumulative ``n_event`` and ``n_censor`` (counts;
  :mod:`allrwe.analyses.outcomes.risk_table`);
* ``survival_test``: ``logrank`` across the levels of each stratum (and across groups, with
  group ``all``): ``chisq``, ``df``, ``p``; ``cox`` for a two-level stratum: ``hr``,
  ``hr_lower``, ``hr_upper``, ``p`` (reference = first level in sorted order;
  :mod:`allrwe.analyses.outcomes.comparisons`);
* ``cumulative_incidence_summary``, ``cumulative_incidence_landmark``,
  ``cumulative_incidence_curve`` (published points as for survival, counts in the same cell),
  ``cumulative_incidence_test`` (Gray): the same for the competing-risk endpoints, one estimate
  name per cause label (e.g. ``relapse``, ``relapse_lower``, ``n_event_relapse``). A level
  without any event has no curve, but its ``cumulative_incidence_landmark`` rows are written
  all the same (``n_risk``, estimates not estimable), as ``survival_landmark`` rows always
  are: the landmark risk sets of the levels of a stratum add up to the overall row.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from allrwe.analyses.outcomes._records import (
    COUNT,
    NUMERIC,
    Records,
    TableColumn,
    label,
    labels,
    record_keys,
    table_keys,
)
from allrwe.analyses.outcomes.comparisons import stratum_tests
from allrwe.analyses.outcomes.curves import (
    landmark_anchors,
    landmark_point,
    published_points,
    value_before,
)
from allrwe.analyses.outcomes.endpoints import COMPETING_ENDPOINTS
from allrwe.analyses.outcomes.response import AVAILABLE
from allrwe.analyses.outcomes.risk_table import risk_table_records
from allrwe.analyses.outcomes.strata import (
    OVERALL,
    SEPARATOR,
    add_strata,
    level_masks,
    parse_strata,
    row_groups,
    stratum_columns,
)
from allrwe.analyses.survival import (
    DAYS_PER_MONTH,
    cumulative_incidence,
    kaplan_meier,
    median_followup,
)
from allrwe.errors import AnalysisError
from allrwe.spec import StudySpec

__all__ = ["endpoint_label", "followup_range", "summarise_survival"]

log = logging.getLogger(__name__)


def endpoint_label(endpoint: str, variant: str) -> str:
    """Return the ``variable`` of an endpoint and censoring variant (``"efs:hsct_car_t"``)."""
    return endpoint if variant == "none" else f"{endpoint}:{variant}"


def _months(days: float) -> float:
    return days / DAYS_PER_MONTH


def _arrays(part: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return part["time_days"].to_numpy(dtype="float64"), part["cause"].to_numpy(dtype="int64")


#: the estimates of a Kaplan–Meier curve point, published as their value just before it
_KM_ESTIMATES = ("survival", "lower", "upper")


def _km_cells(rec: Records, key: tuple[str, str, str, str], time: np.ndarray,
              cause: np.ndarray, spec: StudySpec, step: float) -> None:  # fmt: skip
    group, name, level, var = key
    out = spec.outcomes
    event = cause > 0
    km = kaplan_meier(time, event, conf_type=out.conf_type, conf_level=out.conf_level)
    med = km.median()
    fu = median_followup(time, event, conf_type=out.conf_type, conf_level=out.conf_level)
    rec.add(record_keys("survival_summary", group, name, level, var, OVERALL), {
        "n": (COUNT, time.size), "n_event": (COUNT, int(event.sum())),
        "median_days": (NUMERIC, med.estimate), "median_lower_days": (NUMERIC, med.lower),
        "median_upper_days": (NUMERIC, med.upper),
        "median_months": (NUMERIC, _months(med.estimate)),
        "median_lower_months": (NUMERIC, _months(med.lower)),
        "median_upper_months": (NUMERIC, _months(med.upper)),
        "median_followup_days": (NUMERIC, fu.estimate),
        **followup_range(time, spec.hides_below), "available": (NUMERIC, 1.0),
    })  # fmt: skip
    anchors = landmark_anchors(km.time, [m * DAYS_PER_MONTH for m in out.landmarks_months])
    index, counts = published_points(
        km.n_risk, {"n_event": km.n_event, "n_censor": km.n_censor}, spec.hides_below, anchors
    )
    before = {c: value_before(getattr(km, c), index, 1.0) for c in _KM_ESTIMATES}
    for m in out.landmarks_months:
        t = m * DAYS_PER_MONTH
        j = landmark_point(km.time, index, km.n_event > 0, t) if t <= time.max() else None
        rec.add(record_keys("survival_landmark", group, name, level, var, f"{label(m)} months"), {
            "n_risk": (COUNT, int((time >= t).sum())),
            **{c: (NUMERIC, None if j is None else v[j]) for c, v in before.items()},
        })  # fmt: skip
    table: list[TableColumn] = [
        ("survival_curve", "time_days", NUMERIC, km.time[index]),
        *[("survival_curve", c, NUMERIC, v) for c, v in before.items()],
        ("survival_curve", "n_risk", COUNT, km.n_risk[index]),
        *[("survival_curve", c, COUNT, v) for c, v in counts.items()],
    ]
    rec.add_table(table_keys(key), labels(km.time[index]), table)
    risk_table_records(rec, ("survival_risk_table", group, name, level, var), time, event, step)


def followup_range(time: np.ndarray, minimum: int) -> dict[str, tuple[str, float]]:
    """Return the shortest and longest follow-up, in whole months, if ``minimum`` persons or more.

    The range of the observed times (to the event or censoring) names two persons' exact
    values; it is published only coarsened to whole months (in days: months × 30.4375) and
    only for a group of at least ``minimum`` persons, the minimum cell count.

    Parameters
    ----------
    time : numpy.ndarray
        Observed times in days, one per person.
    minimum : int
        Smallest group that publishes its range (the study's minimum cell count).

    Returns
    -------
    dict
        ``followup_min_days`` and ``followup_max_days`` as ``(NUMERIC, days)``; empty for a
        group smaller than ``minimum`` (or empty).

    Examples
    --------
    >>> followup_range(np.array([20.0, 100.0, 400.0]), 3)["followup_max_days"]
    ('numeric', 395.6875)
    >>> followup_range(np.array([20.0, 100.0]), 3)
    {}
    """
    if time.size == 0 or time.size < minimum:
        return {}
    months = np.floor(np.array([time.min(), time.max()]) / DAYS_PER_MONTH + 0.5)
    low, high = (float(m * DAYS_PER_MONTH) for m in months)
    return {"followup_min_days": (NUMERIC, low), "followup_max_days": (NUMERIC, high)}


def _cif_before(col: dict[str, np.ndarray] | None, column: str, index: np.ndarray, j: int) -> float:
    """Return a cause's incidence (or a limit) just before published point ``j`` (0: no event)."""
    return 0.0 if col is None else float(value_before(col[column], index, 0.0)[j])


#: the estimate names of a cause at a landmark: ``<cause>``, ``<cause>_lower``, ``<cause>_upper``
_CIF_SUFFIXES = ("", "_lower", "_upper")


def _cif_landmark(rec: Records, key: tuple[str, str, str, str], time: np.ndarray, months: float,
                  estimates: dict[str, tuple[str, Any]]) -> None:  # fmt: skip
    """Add one landmark of a cumulative incidence: the persons at risk and ``estimates``."""
    group, name, level, var = key
    n_risk = int((time >= months * DAYS_PER_MONTH).sum())
    keys = record_keys("cumulative_incidence_landmark", group, name, level, var,
                       f"{label(months)} months")  # fmt: skip
    rec.add(keys, {"n_risk": (COUNT, n_risk), **estimates})


def _cif_cells(rec: Records, key: tuple[str, str, str, str], time: np.ndarray,
               cause: np.ndarray, spec: StudySpec, labels: tuple[str, str],
               step: float) -> None:  # fmt: skip
    group, name, level, var = key
    out = spec.outcomes
    counts = {f"n_event_{lab}": (COUNT, int((cause == k).sum())) for k, lab in enumerate(labels, 1)}
    rec.add(record_keys("cumulative_incidence_summary", group, name, level, var, OVERALL), {
        "n": (COUNT, time.size), **counts, "available": (NUMERIC, 1.0)})  # fmt: skip
    if not (cause > 0).any():
        # no curve, but the risk sets are counted as in every level, so that the levels of a
        # stratum add up to its overall row (the attacker's ``strata`` family)
        blank: dict[str, tuple[str, Any]] = {
            lab + suffix: (NUMERIC, None) for lab in labels for suffix in _CIF_SUFFIXES
        }
        for m in out.landmarks_months:
            _cif_landmark(rec, key, time, m, blank)
        risk_table_records(rec, ("cumulative_incidence_risk_table", group, name, level, var), time,
                    cause > 0, step)  # fmt: skip
        return
    cif = cumulative_incidence(time, cause, conf_type=out.conf_type, conf_level=out.conf_level)
    tables = {lab: cif.cause_table(k) for k, lab in enumerate(labels, 1) if k in cif.causes}
    # Columns as arrays once: indexing a DataFrame column per time point is slow.
    columns = {lab: {c: tab[c].to_numpy() for c in ("estimate", "lower", "upper", "n_event")}
               for lab, tab in tables.items()}  # fmt: skip
    exits = {f"n_event_{lab}": col["n_event"] for lab, col in columns.items()}
    anchors = landmark_anchors(cif.time, [m * DAYS_PER_MONTH for m in out.landmarks_months])
    index, between = published_points(
        cif.n_risk, {**exits, "n_censor": cif.n_censor}, spec.hides_below, anchors
    )
    has_event = np.sum([col["n_event"] for col in columns.values()], axis=0) > 0
    for m in out.landmarks_months:
        t = m * DAYS_PER_MONTH
        j = landmark_point(cif.time, index, has_event, t) if t <= time.max() else None
        est: dict[str, tuple[str, Any]] = {}
        for lab in labels:
            col = columns.get(lab)
            for suffix, c in zip(_CIF_SUFFIXES, ("estimate", "lower", "upper"), strict=True):
                value = None if j is None else _cif_before(col, c, index, j)
                est[lab + suffix] = (NUMERIC, value)
        _cif_landmark(rec, key, time, m, est)
    _cif_curve(rec, key, cif.time, index, cif.n_risk, between, columns)
    risk_table_records(rec, ("cumulative_incidence_risk_table", group, name, level, var), time,
                cause > 0, step)  # fmt: skip


def _cif_curve(
    rec: Records,
    key: tuple[str, str, str, str],
    times: np.ndarray,
    index: np.ndarray,
    n_risk: np.ndarray,
    counts: dict[str, np.ndarray],
    columns: dict[str, dict[str, np.ndarray]],
) -> None:
    """Add the published points of a cumulative incidence, estimates and counts together."""
    curve = "cumulative_incidence_curve"
    table: list[TableColumn] = [(curve, "time_days", NUMERIC, times[index])]
    for lab, col in columns.items():
        for name, column in ((lab, "estimate"), (f"{lab}_lower", "lower"),
                             (f"{lab}_upper", "upper")):  # fmt: skip
            table.append((curve, name, NUMERIC, value_before(col[column], index, 0.0)))
    table += [(curve, "n_risk", COUNT, n_risk[index])]
    table += [(curve, name, COUNT, values) for name, values in counts.items()]
    rec.add_table(table_keys(key), labels(times[index]), table)


def _unavailable(rec: Records, key: tuple[str, str, str, str], n: int,
                 competing: bool) -> None:  # fmt: skip
    group, name, level, var = key
    analysis = "cumulative_incidence_summary" if competing else "survival_summary"
    rec.add(record_keys(analysis, group, name, level, var, OVERALL),
            {"n": (COUNT, n), "available": (NUMERIC, 0.0)})  # fmt: skip


def _one_endpoint(rec: Records, var: str, rows: pd.DataFrame, spec: StudySpec,
                  levels: dict[tuple[str, ...], np.ndarray], step: float,
                  min_n: int) -> None:  # fmt: skip
    """Add the records of one endpoint; ``levels`` holds the stratum levels of ``rows``."""
    competing = COMPETING_ENDPOINTS.get(str(rows["endpoint"].iat[0]))
    available_rows = (rows["status"] == AVAILABLE).to_numpy()
    for (group,), at in row_groups(rows, ["group"]):
        available = bool(available_rows[at].all())
        mine = {cols: key[at] for cols, key in levels.items()}
        if not available:
            for name, level, mask in level_masks(at.size, mine):
                _unavailable(rec, (str(group), name, level, var), int(mask.sum()),
                             competing is not None)  # fmt: skip
            continue
        time, cause = _arrays(rows.iloc[at])
        for name, level, mask in level_masks(at.size, mine):
            key = (str(group), name, level, var)
            if competing:
                _cif_cells(rec, key, time[mask], cause[mask], spec, competing, step)
            else:
                _km_cells(rec, key, time[mask], cause[mask], spec, step)
        if at.size:
            for cols, column in mine.items():
                stratum_tests(rec, str(group), var, time, cause, SEPARATOR.join(cols), column,
                       competing, min_n)  # fmt: skip
    if rows["group"].nunique() > 1 and available_rows.all():
        time, cause = _arrays(rows)
        column = rows["group"].astype(str).to_numpy(dtype=object)
        stratum_tests(rec, "all", var, time, cause, OVERALL, column, competing, min_n)


def summarise_survival(
    endpoints: pd.DataFrame,
    spec: StudySpec,
    *,
    by: Sequence[str | Sequence[str]] = (),
    strata: pd.DataFrame | None = None,
    risk_table_months: float = 3.0,
    min_cell_count: int | None = None,
) -> pd.DataFrame:
    """Summarise every endpoint per group and stratum as tidy result records.

    Parameters
    ----------
    endpoints : pandas.DataFrame
        :func:`~allrwe.analyses.outcomes.compute_endpoints` output.
    spec : StudySpec
        Study specification (``outcomes.landmarks_months``, ``conf_type``, ``conf_level``,
        ``age_bands``).
    by : sequence of str or of tuples of str
        Strata (see :func:`~allrwe.analyses.outcomes.response_rates`); log-rank (Gray for
        competing risks) tests compare their levels, Cox gives the hazard ratio of a
        two-level stratum.
    strata : pandas.DataFrame, optional
        Extra per-person stratum columns (``person_id``, optionally ``group``).
    risk_table_months : float, default 3
        Spacing of the number-at-risk table, in months.
    min_cell_count : int, optional
        No log-rank, Gray or Cox test compares levels (or groups) of which one has fewer
        persons than this, since its size is suppressed; default ``spec.min_cell_count``.

    Returns
    -------
    pandas.DataFrame
        Records with the columns of ``allrwe.results.COLUMNS`` (see the module docstring);
        counts have estimate type ``count`` so that small cells are suppressed.

    Raises
    ------
    AnalysisError
        If a stratum is not a column, or ``risk_table_months`` is not positive.
    """
    if not risk_table_months > 0:
        raise AnalysisError(f"risk_table_months must be positive; got {risk_table_months!r}")
    rows = add_strata(endpoints, spec, strata).reset_index(drop=True)
    rec = Records()
    # Stratum levels once for every row, not once per endpoint and group.
    levels = stratum_columns(rows, parse_strata(by)) if len(rows) else {}
    for (endpoint, variant), at in row_groups(rows, ["endpoint", "censor_variant"]):
        var = endpoint_label(str(endpoint), str(variant))
        part = rows.iloc[at].reset_index(drop=True)
        mine = {cols: key[at] for cols, key in levels.items()}
        min_n = spec.min_cell_count if min_cell_count is None else min_cell_count
        _one_endpoint(rec, var, part, spec, mine, risk_table_months, min_n)
    return rec.frame()
