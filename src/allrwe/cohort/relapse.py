"""Relapse category at index (seed 003): primary refractory, early or later relapse, post-HCT.

The rule reads the records the line rules already read (:class:`~allrwe.cohort.LineRecords`):
the disease-status records (``remission``: ``setting.remission_evidence`` and
``setting.mrd_evidence``; ``rr``: ``classification.rr_evidence``) and the transplant events
(``patterns.lines.transplant``). For a cohort row classified R/R at index, in this order:

1. one allogeneic HCT before index (transplant records on days more than
   :data:`HCT_EPISODE_GAP_DAYS` apart are separate transplants): **relapse after first
   allo-HCT**; two or more: **relapse after second allo-HCT**;
2. no remission record before index: **primary refractory**;
3. otherwise the first remission (CR1) lasts from the first remission record before index to
   the first relapse/refractory record after it, on or before index: shorter than
   ``early_days`` (365, seed 003's 12 months) **relapse <12 months**, else **later relapse**;
4. a remission record but no relapse record after it (R/R by prior therapy or line only):
   **unknown**.

ND rows are **newly diagnosed**; rows of unknown classification are **unknown**.

:func:`relapse_site` (seed 003: bone-marrow relapse alone, isolated extramedullary, both) and
:func:`post_hct_relapse` (seed 004) have their own rules, in their docstrings.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = [
    "HCT_EPISODE_GAP_DAYS",
    "POST_HCT_LEVELS",
    "RELAPSE_CATEGORIES",
    "RELAPSE_SITES",
    "RELAPSE_SITE_WINDOW_DAYS",
    "cr1_days",
    "post_hct_relapse",
    "relapse_category",
    "relapse_site",
]

#: the levels, in display order
RELAPSE_CATEGORIES = (
    "newly diagnosed",
    "primary refractory",
    "relapse <12 months",
    "later relapse",
    "relapse after first allo-HCT",
    "relapse after second allo-HCT",
    "unknown",
)
#: the levels of :func:`post_hct_relapse`, in display order
POST_HCT_LEVELS = (
    "no prior allo-HCT",
    "<12 months after allo-HCT",
    ">=12 months after allo-HCT",
    "after allo-HCT (not timed)",
)
#: the levels of :func:`relapse_site`, in display order
RELAPSE_SITES = (
    "bone marrow",
    "extramedullary",
    "bone marrow + extramedullary",
    "site not recorded",
    "no relapse before index",
)
#: a site record counts for a relapse when it lies within this many days of the relapse
#: record (either side, and not after the index date)
RELAPSE_SITE_WINDOW_DAYS = 30
#: transplant records closer than this many days belong to one transplant (conditioning,
#: infusion and follow-up procedure codes of one HCT)
HCT_EPISODE_GAP_DAYS = 90


def _days(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).to_numpy().astype("datetime64[D]").astype("int64")


def _transplants_before(
    frame: pd.DataFrame, events: pd.DataFrame, sets: Iterable[str]
) -> np.ndarray:
    """Return the number of distinct transplants strictly before each row's index date."""
    tx = events[events["concept_set"].isin(list(sets))]
    out = np.zeros(len(frame), dtype="int64")
    if tx.empty:
        return out
    starts = pd.DataFrame({"person_id": tx["person_id"].to_numpy(), "day": _days(tx["start_date"])})
    index = _days(frame["index_date"])
    by_person = {p: np.sort(g["day"].unique()) for p, g in starts.groupby("person_id")}
    for i, (pid, idx) in enumerate(zip(frame["person_id"], index, strict=True)):
        days = by_person.get(pid)
        if days is None:
            continue
        days = days[days < idx]
        if days.size:
            out[i] = 1 + int((np.diff(days) > HCT_EPISODE_GAP_DAYS).sum())
    return out


def cr1_days(frame: pd.DataFrame, status: pd.DataFrame) -> np.ndarray:
    """Return each row's first-remission duration in days (NaN without one), per step 3.

    Parameters
    ----------
    frame : pandas.DataFrame
        Cohort rows (``person_id``, ``index_date``).
    status : pandas.DataFrame
        ``person_id, date, kind`` with kind ``"remission"`` or ``"rr"``.

    Returns
    -------
    numpy.ndarray
        ``first relapse − first remission`` in days; NaN where either is missing.
    """
    index = _days(frame["index_date"])
    st = pd.DataFrame(
        {
            "person_id": status["person_id"].to_numpy(),
            "day": _days(status["date"]) if len(status) else np.zeros(0, dtype="int64"),
            "kind": status["kind"].astype(str).to_numpy(),
        }
    )
    by_person = dict(iter(st.groupby("person_id")))
    out = np.full(len(frame), np.nan)
    for i, (pid, idx) in enumerate(zip(frame["person_id"], index, strict=True)):
        g = by_person.get(pid)
        if g is None:
            continue
        rem = g.loc[(g["kind"] == "remission") & (g["day"] < idx), "day"]
        if rem.empty:
            continue
        start = int(rem.min())
        rr = g.loc[(g["kind"] == "rr") & (g["day"] > start) & (g["day"] <= idx), "day"]
        if not rr.empty:
            out[i] = float(rr.min() - start)
    return out


def relapse_category(
    frame: pd.DataFrame,
    events: pd.DataFrame,
    status: pd.DataFrame,
    transplant_sets: Iterable[str],
    *,
    early_days: int = 365,
) -> pd.Series:
    """Return the relapse category of each cohort row (module docstring).

    Parameters
    ----------
    frame : pandas.DataFrame
        Cohort rows with ``person_id``, ``index_date`` and ``setting``.
    events : pandas.DataFrame
        ``person_id, concept_set, start_date, end_date`` (the line events).
    status : pandas.DataFrame
        ``person_id, date, kind`` (the disease-status records).
    transplant_sets : iterable of str
        Concept-set keys of an allogeneic HCT (``patterns.lines.transplant``, expanded).
    early_days : int, default 365
        A first remission shorter than this is an early relapse.

    Returns
    -------
    pandas.Series
        One of :data:`RELAPSE_CATEGORIES` per row, aligned with ``frame``.
    """
    setting = frame["setting"].astype(str).to_numpy()
    n_hct = _transplants_before(frame, events, transplant_sets)
    cr1 = cr1_days(frame, status)
    index = _days(frame["index_date"])
    had_remission = np.zeros(len(frame), dtype=bool)
    rem = status[status["kind"].astype(str) == "remission"]
    if len(rem):
        first = pd.DataFrame({"person_id": rem["person_id"].to_numpy(), "day": _days(rem["date"])})
        first_day = first.groupby("person_id")["day"].min()
        f = first_day.reindex(frame["person_id"]).to_numpy(dtype="float64")
        had_remission = ~np.isnan(f) & (f < index)
    rr_cat = np.select(
        [n_hct >= 2, n_hct == 1, ~had_remission, cr1 < early_days, cr1 >= early_days],
        [
            "relapse after second allo-HCT",
            "relapse after first allo-HCT",
            "primary refractory",
            "relapse <12 months",
            "later relapse",
        ],
        default="unknown",
    )
    out = np.where(setting == "RR", rr_cat, np.where(setting == "ND", "newly diagnosed", "unknown"))
    return pd.Series(out, index=frame.index, dtype="object")


def post_hct_relapse(
    frame: pd.DataFrame,
    events: pd.DataFrame,
    status: pd.DataFrame,
    transplant_sets: Iterable[str],
    *,
    early_days: int = 365,
) -> pd.Series:
    """Return how soon after the last allo-HCT before index the disease relapsed (seed 004).

    Seed 004 reports a poor response to blinatumomab when the remission after an allo-HCT
    lasted less than 12 months. The remission's start is rarely recorded, so the time is
    counted from the last transplant record before index to the first relapse/refractory
    record after it (on or before index): under ``early_days`` (365) ``<12 months after
    allo-HCT``, else ``>=12 months after allo-HCT``; a transplant without such a record is
    ``after allo-HCT (not timed)``; no transplant before index is ``no prior allo-HCT``.

    Parameters
    ----------
    frame, events, status, transplant_sets, early_days
        As in :func:`relapse_category`.

    Returns
    -------
    pandas.Series
        One of :data:`POST_HCT_LEVELS` per row, aligned with ``frame``.
    """
    index = _days(frame["index_date"])
    tx = events[events["concept_set"].isin(list(transplant_sets))]
    tx_days = (
        {p: np.sort(_days(g["start_date"])) for p, g in tx.groupby("person_id")} if len(tx) else {}
    )
    rr = status[status["kind"].astype(str) == "rr"]
    rr_days = {p: np.sort(_days(g["date"])) for p, g in rr.groupby("person_id")} if len(rr) else {}
    out = np.full(len(frame), POST_HCT_LEVELS[0], dtype=object)
    for i, (pid, idx) in enumerate(zip(frame["person_id"], index, strict=True)):
        before = tx_days.get(pid, np.zeros(0, dtype="int64"))
        before = before[before < idx]
        if not before.size:
            continue
        last = before[-1]
        after = rr_days.get(pid, np.zeros(0, dtype="int64"))
        after = after[(after > last) & (after <= idx)]
        if not after.size:
            out[i] = POST_HCT_LEVELS[3]
        else:
            out[i] = POST_HCT_LEVELS[1] if after[0] - last < early_days else POST_HCT_LEVELS[2]
    return pd.Series(out, index=frame.index, dtype="object")


def _by_person(records: pd.DataFrame, *, value: str | None = None) -> dict[object, pd.DataFrame]:
    if records.empty:
        return {}
    frame = pd.DataFrame({"person_id": records["person_id"].to_numpy(),
                          "day": _days(records["date"])})  # fmt: skip
    if value is not None:
        frame["value"] = pd.to_numeric(records[value], errors="coerce").to_numpy()
    return dict(iter(frame.groupby("person_id")))


def _any_in(found: pd.DataFrame | None, low: int, high: int) -> bool:
    return found is not None and bool(((found["day"] >= low) & (found["day"] <= high)).any())


def relapse_site(
    frame: pd.DataFrame,
    status: pd.DataFrame,
    extramedullary: pd.DataFrame,
    marrow_blasts: pd.DataFrame,
    *,
    blast_pct: float = 5.0,
    window_days: int = RELAPSE_SITE_WINDOW_DAYS,
) -> pd.Series:
    """Return the site of the relapse each cohort row was treated for (seed 003).

    The relapse is the last relapse/refractory record (``kind`` ``"rr"``) on or before the
    index date, on day R. Its window is R − ``window_days`` to the earlier of
    R + ``window_days`` and the index date. In it, a marrow-blast measurement of at least
    ``blast_pct`` % (the response rule's CR limit) makes it a **bone-marrow** relapse and a
    record of an extramedullary site (CNS; testis and other sites where the site's
    vocabulary adds them) an **extramedullary** one; both give **bone marrow +
    extramedullary**, neither **site not recorded**. A row without a relapse/refractory record
    before index is **no relapse before index**.

    Parameters
    ----------
    frame : pandas.DataFrame
        Cohort rows (``person_id``, ``index_date``).
    status : pandas.DataFrame
        ``person_id, date, kind`` (the disease-status records).
    extramedullary : pandas.DataFrame
        ``person_id, date`` of extramedullary-site records.
    marrow_blasts : pandas.DataFrame
        ``person_id, date, value`` (bone-marrow blasts, %).
    blast_pct : float, default 5.0
        Marrow blasts at or above this are marrow disease.
    window_days : int, default :data:`RELAPSE_SITE_WINDOW_DAYS`
        Half-width of the window around the relapse record.

    Returns
    -------
    pandas.Series
        One of :data:`RELAPSE_SITES` per row, aligned with ``frame``.

    Examples
    --------
    >>> rows = pd.DataFrame({"person_id": [1, 2, 3], "index_date": ["2021-03-01"] * 3})
    >>> st = pd.DataFrame({"person_id": [1, 2], "date": ["2021-02-20"] * 2, "kind": "rr"})
    >>> em = pd.DataFrame({"person_id": [2], "date": ["2021-02-25"]})
    >>> bm = pd.DataFrame({"person_id": [1, 2], "date": ["2021-02-21"] * 2, "value": [40, 3]})
    >>> relapse_site(rows, st, em, bm).tolist()
    ['bone marrow', 'extramedullary', 'no relapse before index']
    """
    index = _days(frame["index_date"])
    rr = status[status["kind"].astype(str) == "rr"]
    relapses, sites = _by_person(rr), _by_person(extramedullary)
    blasts = _by_person(marrow_blasts, value="value")
    out = np.full(len(frame), RELAPSE_SITES[4], dtype=object)
    for i, (pid, idx) in enumerate(zip(frame["person_id"], index, strict=True)):
        mine = relapses.get(pid)
        days = mine.loc[mine["day"] <= idx, "day"] if mine is not None else pd.Series([])
        if days.empty:
            continue
        day = int(days.max())
        low, high = day - window_days, min(day + window_days, int(idx))
        own = blasts.get(pid)
        marrow = own is not None and _any_in(own[own["value"] >= blast_pct], low, high)
        em = _any_in(sites.get(pid), low, high)
        out[i] = RELAPSE_SITES[2 if marrow and em else 0 if marrow else 1 if em else 3]
    return pd.Series(out, index=frame.index, dtype="object")
