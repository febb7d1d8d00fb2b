"""Summaries of endpoints and responses as tidy result records (``allrwe.results`` shape).

:func:`summarise_survival` turns :func:`~allrwe.analyses.outcomes.compute_endpoints` rows into
records per endpoint, censoring variant, group and stratum level; :func:`response_records` does
the same for :func:`~allrwe.analyses.outcomes.response_rates`. Times are in days (``*_days``)
and months (``*_months`` = days / 30.4375); survival and incidence are proportions (0–1);
response rates are percentages (0–100).

Analyses (the ``analysis`` column) and their cells (``variable`` = the endpoint, suffixed
``:<variant>`` for a censoring variant other than ``none``):

* ``survival_summary`` (``variable_level`` ``overall``): ``n``, ``n_event`` (counts),
  ``median_days`` and its limits (Brookmeyer–Crowley via the engine), the same in months,
  ``median_followup_days`` (reverse Kaplan–Meier), ``available`` (1/0);
* ``survival_landmark`` (``variable_level`` ``"<m> months"``): ``n_risk`` (count),
  ``survival``, ``lower``, ``upper``; linked to ``n_risk`` for suppression;
* ``survival_curve`` (``variable_level`` = day): ``time_days``, ``survival``, ``lower``,
  ``upper``; ``survival_curve_counts`` (same cells): ``n_risk``, ``n_event``, ``n_censor``. The
  counts are a separate analysis so that suppressing a small count of events at one time does
  not blank the published curve (as CohortSurvival publishes curves);
* ``survival_risk_table`` (``variable_level`` ``"<m> months"`` every ``risk_table_months``):
  ``n_risk``, cumulative ``n_event`` and ``n_censor`` (counts);
* ``survival_test``: ``logrank`` across the levels of each stratum (and across groups, with
  group ``all``): ``chisq``, ``df``, ``p``; ``cox`` for a two-level stratum: ``hr``,
  ``hr_lower``, ``hr_upper``, ``p`` (reference = first level in sorted order);
* ``cumulative_incidence_summary``, ``cumulative_incidence_landmark``,
  ``cumulative_incidence_curve``, ``cumulative_incidence_curve_counts``,
  ``cumulative_incidence_test`` (Gray): the same for the competing-risk endpoints, one estimate
  name per cause label (e.g. ``relapse``, ``relapse_lower``, ``n_event_relapse``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from allrwe.analyses.outcomes._records import COUNT, NUMERIC, PERCENTAGE, Records, label
from allrwe.analyses.outcomes.endpoints import COMPETING_ENDPOINTS
from allrwe.analyses.outcomes.response import AVAILABLE
from allrwe.analyses.outcomes.strata import (
    OVERALL,
    add_strata,
    parse_strata,
    strata_levels,
    stratum_keys,
)
from allrwe.analyses.survival import (
    DAYS_PER_MONTH,
    cox,
    cumulative_incidence,
    gray_test,
    kaplan_meier,
    logrank,
    median_followup,
)
from allrwe.errors import AnalysisError
from allrwe.spec import StudySpec

__all__ = ["endpoint_label", "response_records", "summarise_survival"]

log = logging.getLogger(__name__)

_Keys = dict[str, str]


def endpoint_label(endpoint: str, variant: str) -> str:
    """Return the ``variable`` of an endpoint and censoring variant (``"efs:hsct_car_t"``)."""
    return endpoint if variant == "none" else f"{endpoint}:{variant}"


def _keys(analysis: str, group: str, name: str, level: str, variable: str, var_level: str) -> _Keys:
    return {"analysis": analysis, "group": group, "strata_name": name, "strata_level": level,
            "variable": variable, "variable_level": var_level}  # fmt: skip


def _months(days: float) -> float:
    return days / DAYS_PER_MONTH


def _arrays(part: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return part["time_days"].to_numpy(dtype="float64"), part["cause"].to_numpy(dtype="int64")


def _km_cells(rec: Records, key: tuple[str, str, str, str], part: pd.DataFrame,
              spec: StudySpec, step: float) -> None:  # fmt: skip
    group, name, level, var = key
    out = spec.outcomes
    time, cause = _arrays(part)
    event = cause > 0
    km = kaplan_meier(time, event, conf_type=out.conf_type, conf_level=out.conf_level)
    med = km.median()
    fu = median_followup(time, event, conf_type=out.conf_type, conf_level=out.conf_level)
    rec.add(_keys("survival_summary", group, name, level, var, OVERALL), {
        "n": (COUNT, len(part)), "n_event": (COUNT, int(event.sum())),
        "median_days": (NUMERIC, med.estimate), "median_lower_days": (NUMERIC, med.lower),
        "median_upper_days": (NUMERIC, med.upper),
        "median_months": (NUMERIC, _months(med.estimate)),
        "median_lower_months": (NUMERIC, _months(med.lower)),
        "median_upper_months": (NUMERIC, _months(med.upper)),
        "median_followup_days": (NUMERIC, fu.estimate), "available": (NUMERIC, 1.0),
    })  # fmt: skip
    for m in out.landmarks_months:
        t = m * DAYS_PER_MONTH
        at = km.at([t])
        row = at.iloc[0] if len(at) else None
        rec.add(_keys("survival_landmark", group, name, level, var, f"{label(m)} months"), {
            "n_risk": (COUNT, int((time >= t).sum())),
            "survival": (NUMERIC, None if row is None else row["survival"]),
            "lower": (NUMERIC, None if row is None else row["lower"]),
            "upper": (NUMERIC, None if row is None else row["upper"]),
        })  # fmt: skip
    cols = ("time", "survival", "lower", "upper", "n_risk", "n_event", "n_censor")
    table = km.table  # a property that builds a new DataFrame: once, not once per column
    for t, surv, lo, hi, n_risk, n_event, n_censor in zip(
        *(table[c].to_numpy(dtype="float64") for c in cols), strict=True
    ):
        cell = label(t)
        rec.add(_keys("survival_curve", group, name, level, var, cell), {
            "time_days": (NUMERIC, t), "survival": (NUMERIC, surv), "lower": (NUMERIC, lo),
            "upper": (NUMERIC, hi),
        })  # fmt: skip
        rec.add(_keys("survival_curve_counts", group, name, level, var, cell), {
            "n_risk": (COUNT, n_risk), "n_event": (COUNT, n_event), "n_censor": (COUNT, n_censor),
        })  # fmt: skip
    _risk_table(rec, ("survival_risk_table", group, name, level, var), time, event, step)


def _risk_table(rec: Records, key: tuple[str, ...], time: np.ndarray, event: np.ndarray,
                step: float) -> None:  # fmt: skip
    analysis, group, name, level, var = key
    months: np.ndarray = (
        np.arange(0.0, _months(float(time.max())) + step, step) if time.size else np.zeros(0)
    )
    for m in months:
        t = m * DAYS_PER_MONTH
        if t > time.max():
            break
        rec.add(_keys(analysis, group, name, level, var, f"{label(m)} months"), {
            "n_risk": (COUNT, int((time >= t).sum())),
            "n_event": (COUNT, int((event & (time <= t)).sum())),
            "n_censor": (COUNT, int((~event & (time <= t)).sum())),
        })  # fmt: skip


def _cif_at(times: np.ndarray, values: np.ndarray, t: float) -> float:
    k = int(np.searchsorted(times, t, side="right")) - 1
    return 0.0 if k < 0 else float(values[k])


def _cif_cells(rec: Records, key: tuple[str, str, str, str], part: pd.DataFrame,
               spec: StudySpec, labels: tuple[str, str], step: float) -> None:  # fmt: skip
    group, name, level, var = key
    out = spec.outcomes
    time, cause = _arrays(part)
    counts = {f"n_event_{lab}": (COUNT, int((cause == k).sum())) for k, lab in enumerate(labels, 1)}
    rec.add(_keys("cumulative_incidence_summary", group, name, level, var, OVERALL), {
        "n": (COUNT, len(part)), **counts, "available": (NUMERIC, 1.0)})  # fmt: skip
    if not (cause > 0).any():
        _risk_table(rec, ("cumulative_incidence_risk_table", group, name, level, var), time,
                    cause > 0, step)  # fmt: skip
        return
    cif = cumulative_incidence(time, cause, conf_type=out.conf_type, conf_level=out.conf_level)
    tables = {lab: cif.cause_table(k) for k, lab in enumerate(labels, 1) if k in cif.causes}
    for m in out.landmarks_months:
        t = m * DAYS_PER_MONTH
        est: dict[str, tuple[str, Any]] = {"n_risk": (COUNT, int((time >= t).sum()))}
        for lab in labels:
            tab = tables.get(lab)
            for suffix, col in (("", "estimate"), ("_lower", "lower"), ("_upper", "upper")):
                value = 0.0 if tab is None else _cif_at(cif.time, tab[col].to_numpy(), t)
                est[lab + suffix] = (NUMERIC, value if t <= time.max() else None)
        rec.add(_keys("cumulative_incidence_landmark", group, name, level, var,
                      f"{label(m)} months"), est)  # fmt: skip
    _cif_curve(rec, key, cif.time, cif.n_risk, cif.n_censor, tables)
    _risk_table(rec, ("cumulative_incidence_risk_table", group, name, level, var), time,
                cause > 0, step)  # fmt: skip


def _cif_curve(
    rec: Records,
    key: tuple[str, str, str, str],
    times: np.ndarray,
    n_risk: np.ndarray,
    n_censor: np.ndarray,
    tables: dict[str, pd.DataFrame],
) -> None:
    group, name, level, var = key
    # Columns as arrays once: indexing a DataFrame column per time point is slow.
    columns = {lab: {c: tab[c].to_numpy() for c in ("estimate", "lower", "upper", "n_event")}
               for lab, tab in tables.items()}  # fmt: skip
    for i, t in enumerate(times):
        cell = label(t)
        est: dict[str, tuple[str, Any]] = {"time_days": (NUMERIC, t)}
        counts: dict[str, tuple[str, Any]] = {
            "n_risk": (COUNT, n_risk[i]), "n_censor": (COUNT, n_censor[i])}  # fmt: skip
        for lab, col in columns.items():
            est[lab] = (NUMERIC, col["estimate"][i])
            est[f"{lab}_lower"] = (NUMERIC, col["lower"][i])
            est[f"{lab}_upper"] = (NUMERIC, col["upper"][i])
            counts[f"n_event_{lab}"] = (COUNT, col["n_event"][i])
        rec.add(_keys("cumulative_incidence_curve", group, name, level, var, cell), est)
        rec.add(_keys("cumulative_incidence_curve_counts", group, name, level, var, cell), counts)


def _unavailable(rec: Records, key: tuple[str, str, str, str], part: pd.DataFrame,
                 competing: bool) -> None:  # fmt: skip
    group, name, level, var = key
    analysis = "cumulative_incidence_summary" if competing else "survival_summary"
    rec.add(_keys(analysis, group, name, level, var, OVERALL),
            {"n": (COUNT, len(part)), "available": (NUMERIC, 0.0)})  # fmt: skip


def _tests(rec: Records, group: str, var: str, frame: pd.DataFrame, name: str,
           column: pd.Series, competing: tuple[str, str] | None) -> None:  # fmt: skip
    levels = sorted(set(column.tolist()))
    if len(levels) < 2:
        return
    time, cause = _arrays(frame)
    keys: tuple[str, str, str, str] = (
        "cumulative_incidence_test" if competing else "survival_test",
        group,
        name,
        OVERALL,
    )
    try:
        if competing:
            for k, lab in enumerate(competing, 1):
                g = gray_test(time, cause, column.to_numpy(), cause_of_interest=k)
                rec.add(
                    _keys(*keys, var, f"gray {lab}"),
                    {"chisq": (NUMERIC, g.stat), "df": (NUMERIC, g.df), "p": (NUMERIC, g.p)},
                )
            return
        lr = logrank(time, cause > 0, column.to_numpy())
        rec.add(
            _keys(*keys, var, "logrank"),
            {"chisq": (NUMERIC, lr.chisq), "df": (NUMERIC, lr.df), "p": (NUMERIC, lr.p)},
        )
        # A level without events makes the hazard ratio infinite: no Cox fit then.
        events = column[cause > 0]
        if len(levels) == 2 and all((events == lv).any() for lv in levels):
            _cox(rec, keys, var, time, cause > 0, column, levels)
    except AnalysisError as exc:
        log.info("outcomes: no test of %s across %s in group %s: %s", var, name, group, exc)


def _cox(
    rec: Records,
    keys: tuple[str, str, str, str],
    var: str,
    time: np.ndarray,
    event: np.ndarray,
    column: pd.Series,
    levels: list[str],
) -> None:
    data = pd.DataFrame({"time": time, "event": event.astype("int64"),
                         "x": (column.to_numpy() == levels[1]).astype("float64")})  # fmt: skip
    fit = cox(data, time="time", event="event", covariates=["x"])
    rec.add(_keys(*keys, var, f"cox {levels[1]} vs {levels[0]}"), {
        "hr": (NUMERIC, fit.hazard_ratio[0]), "hr_lower": (NUMERIC, fit.lower[0]),
        "hr_upper": (NUMERIC, fit.upper[0]), "p": (NUMERIC, fit.p[0]),
    })  # fmt: skip


def _one_endpoint(rec: Records, var: str, rows: pd.DataFrame, spec: StudySpec,
                  strata: list[tuple[str, ...]], step: float) -> None:  # fmt: skip
    competing = COMPETING_ENDPOINTS.get(str(rows["endpoint"].iat[0]))
    for group, frame in rows.groupby("group", sort=False):
        available = bool((frame["status"] == AVAILABLE).all())
        for name, level, part in strata_levels(frame, strata):
            key = (str(group), name, level, var)
            if not available:
                _unavailable(rec, key, part, competing is not None)
            elif competing:
                _cif_cells(rec, key, part, spec, competing, step)
            else:
                _km_cells(rec, key, part, spec, step)
        if available and len(frame):
            for cols in strata:
                column = stratum_keys(frame, cols)
                _tests(rec, str(group), var, frame, " &&& ".join(cols), column, competing)
    if rows["group"].nunique() > 1 and (rows["status"] == AVAILABLE).all():
        _tests(rec, "all", var, rows, OVERALL, rows["group"].astype(str), competing)


def summarise_survival(
    endpoints: pd.DataFrame,
    spec: StudySpec,
    *,
    by: Sequence[str | Sequence[str]] = (),
    strata: pd.DataFrame | None = None,
    risk_table_months: float = 3.0,
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
    rows = add_strata(endpoints, spec, strata)
    rec = Records()
    for (endpoint, variant), part in rows.groupby(["endpoint", "censor_variant"], sort=False):
        var = endpoint_label(str(endpoint), str(variant))
        _one_endpoint(rec, var, part.reset_index(drop=True), spec, parse_strata(by),
                      risk_table_months)  # fmt: skip
    return rec.frame()


def _pct(value: Any) -> float | None:
    return None if pd.isna(value) else 100.0 * float(value)


def response_records(rates: pd.DataFrame, *, analysis: str = "response") -> pd.DataFrame:
    """Turn :func:`~allrwe.analyses.outcomes.response_rates` output into result records.

    Each rate cell (``variable`` = rate name, ``variable_level`` ``overall``; for the best
    response distribution ``variable`` ``best_response`` and the level) gets ``count`` (the
    numerator) and ``denominator`` (counts), ``percentage``, ``lower``, ``upper`` (0–100,
    Clopper–Pearson) and ``available`` (1/0). Not-available rates carry only the
    denominator, if known, and ``available`` 0: never a 0 %. The best-response levels of a
    group and stratum form a margin (they add up to the denominator).

    Parameters
    ----------
    rates : pandas.DataFrame
        Rates by group and stratum.
    analysis : str, default "response"
        The ``analysis`` of the records.

    Returns
    -------
    pandas.DataFrame
        Records with the columns of ``allrwe.results.COLUMNS``.
    """
    rec = Records()
    for r in rates.itertuples(index=False):
        variable, level = str(r.variable), OVERALL
        if variable.startswith("best_response="):
            variable, level = variable.split("=", 1)
        keys = _keys(analysis, str(r.group), str(r.strata_name), str(r.strata_level), variable,
                     level)  # fmt: skip
        margin = ""
        if variable == "best_response":
            margin = f"{analysis}/{r.group}/{r.strata_name}={r.strata_level}/{variable}"
        if r.status != AVAILABLE:
            rec.add(keys, {"denominator": (COUNT, r.denominator), "available": (NUMERIC, 0.0)})
            continue
        rec.add(keys, {"count": (COUNT, r.numerator)}, margin=margin)
        rec.add(keys, {
            "denominator": (COUNT, r.denominator), "percentage": (PERCENTAGE, _pct(r.estimate)),
            "lower": (PERCENTAGE, _pct(r.lower)), "upper": (PERCENTAGE, _pct(r.upper)),
            "available": (NUMERIC, 1.0),
        })  # fmt: skip
    return rec.frame()
