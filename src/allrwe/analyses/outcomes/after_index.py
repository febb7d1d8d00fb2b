"""Outcomes of a group formed after index (HSCT, CAR-T, response), without immortal-time bias.

Patients who proceed to HSCT are known only after index, so comparing them with the others
as if the group were fixed at index credits the transplanted patients with the time they had
to survive to reach HSCT. For each endpoint of ``outcomes.after_index.endpoints`` (OS, EFS,
RFS) and each index group, three analyses avoid that bias (docs/survival.md, "Groups formed
after index"):

* ``after_index_landmark``: at each landmark L (``landmarks_months``), the persons still
  followed after L (time > L) are grouped by HSCT on or before L (``strata_level`` ``hsct``)
  or not (``no_hsct``), with time counted from L. Per group: ``n`` and ``n_event`` (counts),
  ``n_risk`` at L + ``horizon_months`` (count) and ``survival``, ``lower``, ``upper`` then
  (Kaplan–Meier from L); per landmark (``strata_level`` ``overall``): the log-rank test
  ``chisq``, ``df``, ``p`` with the two group sizes ``n_hsct``, ``n_no_hsct`` (counts). The
  two levels' ``n``, ``n_event`` and ``n_risk`` (and the two test sizes) are declared as
  margins: their totals follow from the published risk table, so complementary suppression
  must protect them.
* ``after_index_simon_makuch``: Kaplan–Meier curves by current HSCT status (a person is in
  ``no_hsct`` until the HSCT and in ``hsct`` after it). ``variable_level`` ``overall``:
  ``n`` (persons contributing to the curve) and ``n_event``; ``"<h> months"``: ``n_risk``
  and ``survival``, ``lower``, ``upper`` (those of the published point they equal, hidden
  when none does, as ``survival_landmark``).
* ``after_index_simon_makuch_curve`` (``variable_level`` = day): the published points of
  those curves, chosen as for every curve (:mod:`allrwe.analyses.outcomes.curves`):
  ``time_days``, ``survival``, ``lower``, ``upper`` just before the day, with ``n_risk``,
  ``n_event``, ``n_censor`` and ``n_enter`` (persons who entered the state since the
  previous point: the "hsct" curve gains persons at each transplant) in the same record, so
  that consecutive numbers at risk differ by exactly the published counts and a suppressed
  count blanks the estimates beside it.
* ``after_index_cox``: HSCT as a time-dependent covariate, on the (start, stop] rows split at
  the HSCT day. ``variable_level`` ``hsct time-dependent``: ``hr``, ``hr_lower``,
  ``hr_upper``, ``p`` (robust variance clustered on the person, R's ``cluster(id)``) and
  ``estimable`` (0 with no HR when the likelihood is monotone, e.g. every informative event
  in one state);
  ``mantel-byar``: ``chisq``, ``df``, ``p`` (log-rank on the split rows). Both carry ``n``,
  ``n_event`` and ``n_hsct`` (counts).

The HSCT day is the event day of the ``time_to_hsct`` endpoint (first allogeneic HSCT after
index within follow-up, ``patterns.lines.transplant``), counted from each endpoint's start.
For RFS (which starts at the first CR/CRh/CRi), an HSCT before that day makes the whole
follow-up "hsct". The split follows R's ``tmerge``: an HSCT on the last day of follow-up
changes nothing, so a death on the day of the HSCT counts before it.

``outcomes.after_index.event`` may list several events (``[hsct, car_t]``): each is analysed
apart, its records named by its own strata (``hsct_status``, ``car_t_status``, …).

``outcomes.after_index.event: car_t`` forms the groups by the first CAR-T after index (the
event day of the ``time_to_car_t`` endpoint, computed only then; the ``car_t`` concept sets):
levels ``car_t``/``no_car_t`` and ``car_t time-dependent``.

``outcomes.after_index.event: response`` forms the groups by the first CR/CRh/CRi instead (the
start of the ``rfs`` endpoint; not available without labs and disease-status records): the
same records with levels ``response``/``no_response`` and ``response time-dependent``. Use it
with OS and EFS (RFS starts at the response, so everyone is "response" throughout).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

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
)
from allrwe.analyses.outcomes.curves import (
    landmark_anchors,
    landmark_point,
    published_points,
    value_before,
)
from allrwe.analyses.outcomes.response import AVAILABLE
from allrwe.analyses.survival import (
    DAYS_PER_MONTH,
    KaplanMeierResult,
    cox,
    kaplan_meier_by,
    landmark,
    logrank,
    simon_makuch,
    split_at_switch,
)
from allrwe.errors import AnalysisError, StudyWarning
from allrwe.spec import AfterIndexSpec, StudySpec

__all__ = [
    "CURVE_ANALYSIS",
    "SET_COLUMNS",
    "after_index_records",
    "after_index_sets",
    "entries_between",
    "event_recorded",
    "hsct_recorded",
]

log = logging.getLogger(__name__)

#: Columns of each :func:`after_index_sets` frame.
SET_COLUMNS = ("person_id", "time", "event", "switch")

_OVERALL = "overall"
#: the analysis of the published points of the Simon–Makuch curves
CURVE_ANALYSIS = "after_index_simon_makuch_curve"
#: the estimates of a curve point, published as their value just before it
_KM_ESTIMATES = ("survival", "lower", "upper")


def _settings(spec: StudySpec) -> AfterIndexSpec:
    cfg = spec.outcomes.after_index
    return AfterIndexSpec() if cfg is None else cfg


#: per event: the endpoint whose rows date it, and whether the date is the row's event date
#: (time to HSCT or CAR-T, cause 1) or its start (RFS starts at the first CR/CRh/CRi)
EVENT_SOURCES = {
    "hsct": ("time_to_hsct", "end_date"),
    "car_t": ("time_to_car_t", "end_date"),
    "response": ("rfs", "start_date"),
}


def event_recorded(endpoints: pd.DataFrame, event: str = "hsct") -> bool:
    """Whether the time to ``event`` (``hsct``, ``car_t``) was computed: the CDM records it at all.

    ``False`` when every ``time_to_<event>`` row is "not available" (no record of the
    therapy for anyone in the CDM): the outcomes by that event after index are then not
    available, not a comparison with an empty group. ``True`` for ``response`` (checked
    where its dates are read).
    """
    if event not in ("hsct", "car_t"):
        return True
    rows = endpoints[endpoints["endpoint"] == EVENT_SOURCES[event][0]]
    return rows.empty or bool((rows["status"] == AVAILABLE).any())


def hsct_recorded(endpoints: pd.DataFrame) -> bool:
    """Whether time to HSCT was computed (:func:`event_recorded` of ``hsct``)."""
    return event_recorded(endpoints, "hsct")


def _switch_dates(endpoints: pd.DataFrame, event: str = "hsct") -> pd.Series:
    """Return the date of ``event`` per (person_id, group), from :data:`EVENT_SOURCES`."""
    endpoint, column = EVENT_SOURCES[event]
    rows = endpoints[
        (endpoints["endpoint"] == endpoint)
        & (endpoints["censor_variant"] == "none")
        & (endpoints["status"] == AVAILABLE)
    ]
    if endpoint.startswith("time_to_"):
        rows = rows[rows["cause"] == 1]
    if rows.empty and not (endpoints["endpoint"] == endpoint).any():
        raise AnalysisError(f"after_index: the endpoints have no {endpoint} rows")
    if (
        event == "response"
        and not ((endpoints["endpoint"] == endpoint) & (endpoints["status"] == AVAILABLE)).any()
    ):
        raise AnalysisError(
            "after_index: event 'response' needs the first CR/CRh/CRi (the rfs endpoint), "
            "which is not available on this CDM"
        )
    index = pd.MultiIndex.from_frame(rows[["person_id", "group"]].astype({"group": str}))
    return pd.Series(rows[column].to_numpy(), index=index)


def after_index_sets(
    endpoints: pd.DataFrame, spec: StudySpec, event: str | None = None
) -> dict[tuple[str, str], pd.DataFrame]:
    """Return the analysis set of every endpoint and index group: time, event, HSCT day.

    Parameters
    ----------
    endpoints : pandas.DataFrame
        :func:`~allrwe.analyses.outcomes.compute_endpoints` output (with ``time_to_hsct``).
    spec : StudySpec
        Study specification (``outcomes.after_index``; its defaults when absent).
    event : str, optional
        ``hsct``, ``car_t`` or ``response``; default the first of ``outcomes.after_index.event``.

    Returns
    -------
    dict of (endpoint, group) to pandas.DataFrame
        Columns :data:`SET_COLUMNS`: ``time`` (days from the endpoint's start), ``event``
        (0/1) and ``switch`` (days from the start to the HSCT, 0 if before the start, NaN =
        none within follow-up), one row per person, in the endpoint rows' order. Endpoints
        that are not available (e.g. EFS on claims) are left out.

    Raises
    ------
    AnalysisError
        If the endpoints have no ``time_to_hsct`` rows.
    """
    cfg = _settings(spec)
    hsct = _switch_dates(endpoints, cfg.events[0] if event is None else event)
    out: dict[tuple[str, str], pd.DataFrame] = {}
    for endpoint in cfg.endpoints:
        rows = endpoints[
            (endpoints["endpoint"] == endpoint)
            & (endpoints["censor_variant"] == "none")
            & (endpoints["status"] == AVAILABLE)
        ]
        for group in spec.index_groups:
            part = rows[rows["group"].astype(str) == group]
            if part.empty:
                continue
            keys = pd.MultiIndex.from_frame(part[["person_id", "group"]].astype({"group": str}))
            when = pd.to_datetime(pd.Series(hsct.reindex(keys).to_numpy()))
            start = pd.to_datetime(part["start_date"]).reset_index(drop=True)
            switch = (when - start).dt.days.to_numpy(dtype="float64")
            out[(endpoint, group)] = pd.DataFrame({
                "person_id": part["person_id"].to_numpy(dtype="int64"),
                "time": part["time_days"].to_numpy(dtype="float64"),
                "event": part["event"].to_numpy(dtype="int64"),
                "switch": np.where(switch < 0, 0.0, switch),
            })  # fmt: skip
    return out


def _at(km: KaplanMeierResult, day: float) -> tuple[float, float, float]:
    """Survival and limits at ``day`` (NaN past the end of the curve)."""
    at = km.at([day])
    if not len(at):
        return np.nan, np.nan, np.nan
    return float(at["survival"].iloc[0]), float(at["lower"].iloc[0]), float(at["upper"].iloc[0])


def _levels(event: str) -> dict[int, str]:
    return {1: event, 0: f"no_{event}"}


def _landmarks(
    rec: Records, group: str, var: str, data: pd.DataFrame, spec: StudySpec, event: str
) -> None:
    cfg, out = _settings(spec), spec.outcomes
    levels = _levels(event)
    name = f"{event}_by_landmark"
    horizon = cfg.horizon_months * DAYS_PER_MONTH
    for months in cfg.landmarks_months:
        where = f"landmark {label(months)} months"
        day = months * DAYS_PER_MONTH
        followed = data["time"].to_numpy() > day
        lm = (
            landmark(data["time"], data["event"], data["switch"], at=day)
            if followed.any()
            else pd.DataFrame({"time": [], "event": [], "switched": []})
        )
        sizes = {k: int((lm["switched"] == k).sum()) for k in levels}
        curves = {}
        if len(lm):
            curves = kaplan_meier_by(
                lm["time"], lm["event"], lm["switched"], conf_type=out.conf_type,
                conf_level=out.conf_level,
            )  # fmt: skip
        # The two levels partition those followed after L, whose number (and events, and
        # number at L + horizon) the risk table publishes: each count is a margin member.
        margin = f"after_index_landmark/{group}/{name}/{var}/{where}"
        for k in (1, 0):
            mine = lm[lm["switched"] == k]
            keys = record_keys("after_index_landmark", group, name, levels[k], var, where)
            counts = {"n": sizes[k], "n_event": int(mine["event"].sum()),
                      "n_risk": int((mine["time"] >= horizon).sum())}  # fmt: skip
            for count, value in counts.items():
                rec.add(keys, {count: (COUNT, value)}, margin=f"{margin}/{count}")
            if sizes[k]:
                s, lo, hi = _at(curves[k], horizon)
                rec.add(keys, {"survival": (NUMERIC, s), "lower": (NUMERIC, lo),
                               "upper": (NUMERIC, hi)})  # fmt: skip
        if all(sizes.values()):
            lr = logrank(lm["time"], lm["event"], lm["switched"])
            keys = record_keys("after_index_landmark", group, name, _OVERALL, var, where)
            sized = {f"n_{levels[k]}": (COUNT, sizes[k]) for k in (1, 0)}
            rec.add(keys, sized, margin=f"{margin}/test")
            rec.add(keys, {"chisq": (NUMERIC, lr.chisq), "df": (NUMERIC, lr.df),
                           "p": (NUMERIC, lr.p)})  # fmt: skip


def entries_between(times: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Return, per curve time, the rows entering the risk set from it up to the next time.

    A row (start, stop] is at risk at ``t`` when start < t <= stop, so a row starting at or
    after ``times[k]`` and before ``times[k + 1]`` joins between those two times; rows that
    start before the first time are in its risk set and counted nowhere.

    Examples
    --------
    >>> entries_between(np.array([5.0, 9.0, 20.0]), np.array([0.0, 5.0, 7.0, 9.0])).tolist()
    [2, 1, 0]
    """
    position = np.searchsorted(times, starts, side="right") - 1
    return np.bincount(position[position >= 0], minlength=len(times)).astype(np.float64)


def _simon_makuch(
    rec: Records, group: str, var: str, data: pd.DataFrame, spec: StudySpec, event: str
) -> None:
    cfg, out = _settings(spec), spec.outcomes
    levels = _levels(event)
    name = f"{event}_status"
    analysis = "after_index_simon_makuch"
    rows = split_at_switch(data["time"], data["event"], data["switch"])
    curves = simon_makuch(data["time"], data["event"], data["switch"], conf_type=out.conf_type,
                          conf_level=out.conf_level)  # fmt: skip
    horizon = cfg.horizon_months * DAYS_PER_MONTH
    for k in (1, 0):
        mine = rows[rows["switched"] == k]
        keys = record_keys(analysis, group, name, levels[k], var, _OVERALL)
        rec.add(keys, {"n": (COUNT, len(mine)), "n_event": (COUNT, int(mine["event"].sum()))})
        if k not in curves:
            continue
        km = curves[k]
        entering = entries_between(km.time, mine["start"].to_numpy(dtype="float64"))
        # the points published as for every curve (allrwe.analyses.outcomes.curves), with
        # the persons who entered the state since the previous point as one more count
        exits = {"n_event": km.n_event, "n_censor": km.n_censor, "n_enter": entering}
        index, counts = published_points(
            km.n_risk, exits, spec.hides_below, landmark_anchors(km.time, [horizon])
        )
        before = {c: value_before(getattr(km, c), index, 1.0) for c in _KM_ESTIMATES}
        j = landmark_point(km.time, index, km.n_event > 0, horizon)
        at_risk = int(((mine["start"] < horizon) & (mine["stop"] >= horizon)).sum())
        rec.add(keys | {"variable_level": f"{label(cfg.horizon_months)} months"}, {
            "n_risk": (COUNT, at_risk),
            **{c: (NUMERIC, None if j is None else v[j]) for c, v in before.items()},
        })  # fmt: skip
        curve = CURVE_ANALYSIS
        table: list[TableColumn] = [
            (curve, "time_days", NUMERIC, km.time[index]),
            *[(curve, c, NUMERIC, v) for c, v in before.items()],
            (curve, "n_risk", COUNT, km.n_risk[index]),
            *[(curve, c, COUNT, v) for c, v in counts.items()],
        ]
        curve_keys = {"group": group, "strata_name": name, "strata_level": levels[k],
                      "variable": var}  # fmt: skip
        rec.add_table(curve_keys, labels(km.time[index]), table)


def _cox(
    rec: Records, group: str, var: str, data: pd.DataFrame, spec: StudySpec, event: str
) -> None:
    name = f"{event}_status"
    rows = split_at_switch(data["time"], data["event"], data["switch"], person=data["person_id"])
    switched = rows["switched"].to_numpy() == 1
    counts = {"n": (COUNT, len(data)), "n_event": (COUNT, int(data["event"].sum())),
              f"n_{event}": (COUNT, int(rows.loc[switched, "person"].nunique()))}  # fmt: skip
    if not switched.any() or switched.all():
        return
    lr = logrank(rows["stop"], rows["event"], rows["switched"], entry=rows["start"])
    rec.add(record_keys("after_index_cox", group, name, _OVERALL, var, "mantel-byar"), {
        **counts, "chisq": (NUMERIC, lr.chisq), "df": (NUMERIC, lr.df), "p": (NUMERIC, lr.p),
    })  # fmt: skip
    events = rows["event"].to_numpy() == 1
    # A state without events makes the hazard ratio infinite: no Cox fit then.
    if not (events & switched).any() or not (events & ~switched).any():
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StudyWarning)
        fit = cox(rows, time="stop", event="event", covariates=["switched"], entry="start",
                  cluster="person", conf_level=spec.outcomes.conf_level)  # fmt: skip
    # A monotone likelihood (e.g. every informative event in one state) has no finite HR.
    estimable = fit.converged and not fit.infinite[0]
    if not estimable:
        log.info("after_index: no finite hazard ratio of %s for %s in group %s: %s",
                 event, var, group, "; ".join(str(w.message) for w in caught))  # fmt: skip
    names = ("hr", "hr_lower", "hr_upper", "p")
    values = [fit.hazard_ratio[0], fit.lower[0], fit.upper[0], fit.p[0]]
    estimates = {k: (NUMERIC, v if estimable else None) for k, v in zip(names, values, strict=True)}
    rec.add(record_keys("after_index_cox", group, name, _OVERALL, var, f"{event} time-dependent"),
            {**counts, "estimable": (NUMERIC, float(estimable)), **estimates})  # fmt: skip


def after_index_records(
    endpoints: pd.DataFrame, spec: StudySpec, events: Sequence[str] | None = None
) -> pd.DataFrame:
    """Landmark, Simon–Makuch and time-dependent Cox records of the group formed after index.

    Parameters
    ----------
    endpoints : pandas.DataFrame
        :func:`~allrwe.analyses.outcomes.compute_endpoints` output.
    spec : StudySpec
        Study specification (``outcomes.after_index``, ``conf_type``, ``conf_level``).
    events : sequence of str, optional
        The events analysed, each apart; default those of ``outcomes.after_index.event``.

    Returns
    -------
    pandas.DataFrame
        Records with the columns of ``allrwe.results.COLUMNS`` (see the module docstring);
        ``group`` is the index group, ``variable`` the endpoint.

    Raises
    ------
    AnalysisError
        If the endpoints have no ``time_to_hsct`` rows.
    """
    rec = Records()
    for event in _settings(spec).events if events is None else events:
        for (endpoint, group), data in after_index_sets(endpoints, spec, event).items():
            for part in (_landmarks, _simon_makuch, _cox):
                try:
                    part(rec, group, endpoint, data, spec, event)
                except AnalysisError as exc:
                    log.info("after_index: %s of %s by %s in group %s: %s", part.__name__,
                             endpoint, event, group, exc)  # fmt: skip
    return rec.frame()
