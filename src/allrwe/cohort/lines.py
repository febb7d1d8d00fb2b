"""Lines of therapy: a parameterised rule set after the published line-of-therapy algorithms.

The rules (docs/treatment-patterns.md, "Lines of therapy"; parameters in
:class:`allrwe.spec.LinesSpec`), applied to each event in order of start date:

1. Line 1 starts at the person's first anticancer event (drug exposure or procedure).
2. **Line-defining** therapies (CAR-T by default) open a new line, together with the
   lymphodepleting chemotherapy of the ``lymphodepletion_days`` before the infusion; records of
   the same infusion (a product record and a procedure) stay in that line.
3. A **transplant** (allogeneic HSCT) never opens a line; it consolidates the current one.
4. A **relapse or refractory record** dated after the current line's regimen window and on or
   before the event opens a new line (``relapse_starts_line``); TKIs and maintenance drugs
   that run on past the relapse do not, the next other event does.
5. A **gap** of more than ``gap_days`` between the event and the latest end of the line's
   earlier events opens a new line; gap-exempt drugs (TKIs) neither trigger nor bridge gaps.
6. A drug that is new to the regimen (the drugs started within ``regimen_window_days`` of the
   line start, inclusive) and starts after the window opens a new line, unless it is an
   **allowed addition** (TKIs; mercaptopurine and methotrexate, the consolidation and
   maintenance backbone of ALL) or it starts in **first remission** (a remission or MRD record
   before it and no relapse/refractory record yet; ``consolidation_keeps_line``).
7. With ``frontline_until_relapse``, rules 5 and 6 are off in line 1 until the first
   relapse/refractory record: induction, consolidation and maintenance stay one line. Use it
   only where the data record disease status (EMR).

The rules are sequential within a person; they run vectorised across persons (one pass per event
rank), so the cost is the number of events of the busiest person times a few array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from allrwe.errors import AnalysisError
from allrwe.spec import LinesSpec

__all__ = [
    "LINE_EVENT_COLUMNS",
    "LineRoles",
    "assign_lines",
    "day_numbers",
]

#: Columns :func:`assign_lines` needs in its ``events`` frame.
LINE_EVENT_COLUMNS = ("person_id", "concept_set", "start_date", "end_date")

_EPOCH = pd.Timestamp("1970-01-01")
_NONE = -(10**9)


@dataclass(frozen=True)
class LineRoles:
    """Concept-set keys (already expanded from groups) by their role in the line rules.

    Parameters
    ----------
    gap_exempt, allowed_additions, line_defining, lymphodepletion, transplant : frozenset of str
        Set keys with that role.
    line_defining_label : str
        Name the regimen shows for any line-defining set (e.g. ``"car_t"``).
    transplant_label : str
        Name the regimen shows for any transplant set (e.g. ``"allo_hsct"``).
    """

    gap_exempt: frozenset[str] = frozenset()
    allowed_additions: frozenset[str] = frozenset()
    line_defining: frozenset[str] = frozenset()
    lymphodepletion: frozenset[str] = frozenset()
    transplant: frozenset[str] = frozenset()
    line_defining_label: str = "car_t"
    transplant_label: str = "allo_hsct"


def day_numbers(values: pd.Series) -> np.ndarray:
    """Return dates as whole days since 1970-01-01."""
    return np.asarray(pd.to_datetime(values).to_numpy().astype("datetime64[D]").astype("int64"))


def _prepare(events: pd.DataFrame, roles: LineRoles) -> pd.DataFrame:
    missing = [c for c in LINE_EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise AnalysisError(f"line events lack column(s) {missing}")
    ev = pd.DataFrame(
        {
            "person_id": events["person_id"].to_numpy(dtype="int64"),
            "concept_set": events["concept_set"].astype(str).to_numpy(),
            "start": day_numbers(events["start_date"]),
            "end": day_numbers(events["end_date"]),
        }
    )
    ev["end"] = np.maximum(ev["end"], ev["start"])
    key = ev["concept_set"]
    ev["drug"] = np.where(
        key.isin(roles.line_defining),
        roles.line_defining_label,
        np.where(key.isin(roles.transplant), roles.transplant_label, key),
    )
    ev["is_ld"] = key.isin(roles.line_defining).to_numpy()
    ev["is_tx"] = key.isin(roles.transplant).to_numpy()
    ev["gap_exempt"] = key.isin(roles.gap_exempt).to_numpy()
    ev["allowed"] = key.isin(roles.allowed_additions).to_numpy()
    ev = ev.sort_values(["person_id", "start", "end", "concept_set"], kind="mergesort")
    return ev.drop_duplicates(["person_id", "concept_set", "start", "end"]).reset_index(drop=True)


def _anchor_lymphodepletion(ev: pd.DataFrame, roles: LineRoles, days: int) -> pd.DataFrame:
    """Give line-defining events and their lymphodepletion the day of the infusion (anchor)."""
    ev["anchor"] = np.where(ev["is_ld"], ev["start"], _NONE)
    ld = ev.loc[ev["is_ld"], ["person_id", "start"]].rename(columns={"start": "infusion"})
    cand = ev.index[ev["concept_set"].isin(roles.lymphodepletion) & ~ev["is_ld"]]
    if len(ld) and len(cand):
        left = ev.loc[cand, ["person_id", "start"]].reset_index().sort_values("start")
        # The next infusion on or after the chemotherapy day, no more than `days` later.
        hit = pd.merge_asof(
            left,
            ld.sort_values("infusion"),
            left_on="start",
            right_on="infusion",
            by="person_id",
            direction="forward",
            tolerance=days,
        )
        hit = hit[hit["infusion"].notna() & (hit["infusion"] > hit["start"])]
        idx = hit["index"].to_numpy()
        ev.loc[idx, "anchor"] = hit["infusion"].to_numpy(dtype="int64")
        ev.loc[idx, "is_ld"] = True
    return ev


def _status_days(ev: pd.DataFrame, status: pd.DataFrame | None) -> dict[str, np.ndarray]:
    """Day of the latest ``remission`` and ``rr`` record on or before each event (NaN: none)."""
    out = {kind: np.full(len(ev), np.nan) for kind in ("remission", "rr")}
    if status is None or status.empty or ev.empty:
        return out
    st = pd.DataFrame(
        {
            "person_id": status["person_id"].to_numpy(dtype="int64"),
            "day": day_numbers(status["date"]),
            "kind": status["kind"].astype(str).to_numpy(),
        }
    )
    left = ev[["person_id", "start"]].reset_index().sort_values("start")
    for kind in out:
        right = st.loc[st["kind"] == kind, ["person_id", "day"]].sort_values("day")
        if right.empty:
            continue
        m = pd.merge_asof(
            left, right, left_on="start", right_on="day", by="person_id", direction="backward"
        )
        out[kind] = m.set_index("index")["day"].reindex(ev.index).to_numpy(dtype="float64")
    return out


def _in_first_remission(
    ev: pd.DataFrame, found: dict[str, np.ndarray], memory: int | None
) -> np.ndarray:
    """Whether each event starts in first remission: a remission record and no relapse yet."""
    rem, rr = found["remission"], found["rr"]
    ok = ~np.isnan(rem) & np.isnan(rr)
    if memory is not None:
        ok &= ev["start"].to_numpy(dtype="float64") - rem <= memory
    return ok


def assign_lines(
    events: pd.DataFrame,
    params: LinesSpec,
    roles: LineRoles,
    *,
    status: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Assign a line of therapy to every event.

    Parameters
    ----------
    events : pandas.DataFrame
        ``person_id, concept_set, start_date, end_date`` of anticancer events (any order).
    params : LinesSpec
        Regimen window, gap and the switches of the rules.
    roles : LineRoles
        Which set keys are gap-exempt, allowed additions, line-defining, lymphodepletion or
        transplant.
    status : pandas.DataFrame, optional
        Disease-status records ``person_id, date, kind`` with ``kind`` ``"remission"``
        (remission or MRD records) or ``"rr"`` (relapse/refractory records), for the status
        rules (``relapse_starts_line``, ``consolidation_keeps_line``,
        ``frontline_until_relapse``).

    Returns
    -------
    pandas.DataFrame
        One row per distinct event: ``person_id, concept_set, drug`` (regimen name),
        ``start_date, end_date, is_transplant, line_defining`` (a line-defining record or its
        lymphodepletion), ``line`` (1-based) and ``reason`` (why this
        event's line started: ``"first"``, ``"new drug"``, ``"gap"``, ``"relapse"``,
        ``"line-defining"``; only on the line's first event, else empty), sorted by person and
        start.
    """
    ev = _prepare(events, roles)
    ev = _anchor_lymphodepletion(ev, roles, params.lymphodepletion_days)
    found = _status_days(ev, status)
    ev["rr_day"] = found["rr"]
    ev["first_remission"] = (
        _in_first_remission(ev, found, params.remission_memory_days)
        if params.consolidation_keeps_line
        else np.zeros(len(ev), dtype=bool)
    )
    line, reason = _run(ev, params)
    out = ev[["person_id", "concept_set", "drug"]].copy()
    out["start_date"] = ev["start"].to_numpy().astype("datetime64[D]").astype("datetime64[s]")
    out["end_date"] = ev["end"].to_numpy().astype("datetime64[D]").astype("datetime64[s]")
    out["is_transplant"] = ev["is_tx"].to_numpy()
    out["line_defining"] = ev["is_ld"].to_numpy()
    out["line"] = line
    out["reason"] = reason
    return out


@dataclass
class _State:
    """Per-person state of the sequential pass."""

    line: np.ndarray
    start: np.ndarray
    last_end: np.ndarray
    anchor: np.ndarray
    regimen: np.ndarray

    @classmethod
    def empty(cls, n_persons: int, n_drugs: int) -> _State:
        return cls(
            line=np.zeros(n_persons, dtype="int64"),
            start=np.full(n_persons, _NONE),
            last_end=np.full(n_persons, _NONE),
            anchor=np.full(n_persons, _NONE),
            regimen=np.zeros((n_persons, n_drugs), dtype=bool),
        )


def _triggers(
    ev: pd.DataFrame, rows: np.ndarray, p: np.ndarray, dr: np.ndarray, st: _State, params: LinesSpec
) -> np.ndarray:
    """Why each event of one rank opens a line ("" when it joins the current line)."""
    window = params.regimen_window_days
    s = ev["start"].to_numpy()[rows]
    anchor = ev["anchor"].to_numpy()[rows]
    is_ld, is_tx = ev["is_ld"].to_numpy()[rows], ev["is_tx"].to_numpy()[rows]
    exempt, allowed = ev["gap_exempt"].to_numpy()[rows], ev["allowed"].to_numpy()[rows]
    rr_day = ev["rr_day"].to_numpy()[rows]
    first = st.line[p] == 0
    same_ld = (st.anchor[p] != _NONE) & (np.abs(anchor - st.anchor[p]) <= window)
    opens_ld = is_ld & ~same_ld
    joins = is_tx | (is_ld & same_ld)
    # Status records dated inside the line's regimen window belong to its start (the relapse
    # that led to it, coded again at the first visits); only later ones end the line.
    # TKIs and maintenance drugs that run on past a relapse do not open the new line; the
    # next other event does.
    relapse = params.relapse_starts_line & ~np.isnan(rr_day) & (rr_day > st.start[p] + window)
    relapse &= ~exempt & ~allowed
    frontline = params.frontline_until_relapse & (st.line[p] == 1) & np.isnan(rr_day)
    gap = ~exempt & (st.last_end[p] != _NONE) & (s - st.last_end[p] > params.gap_days)
    gap &= ~frontline
    new_drug = ~st.regimen[p, dr] & (s > st.start[p] + window) & ~allowed
    new_drug &= ~ev["first_remission"].to_numpy()[rows] & ~frontline
    return np.select(
        [first, opens_ld, joins, relapse, gap, new_drug],
        ["first", "line-defining", "", "relapse", "gap", "new drug"],
        default="",
    )


def _run(ev: pd.DataFrame, params: LinesSpec) -> tuple[np.ndarray, np.ndarray]:
    n = len(ev)
    line = np.zeros(n, dtype="int64")
    reason = np.full(n, "", dtype=object)
    if n == 0:
        return line, reason
    persons, pidx = np.unique(ev["person_id"].to_numpy(), return_inverse=True)
    drugs, didx = np.unique(ev["drug"].to_numpy(dtype=str), return_inverse=True)
    rank = ev.groupby("person_id").cumcount().to_numpy()
    end, anchor = ev["end"].to_numpy(), ev["anchor"].to_numpy()
    start = ev["start"].to_numpy()
    is_ld, exempt = ev["is_ld"].to_numpy(), ev["gap_exempt"].to_numpy()
    st = _State.empty(len(persons), len(drugs))
    # Sequential within a person, vectorised across persons: one pass per event rank.
    for k in range(int(rank.max()) + 1):
        rows = np.flatnonzero(rank == k)
        p, dr = pidx[rows], didx[rows]
        why = _triggers(ev, rows, p, dr, st, params)
        po = p[why != ""]
        st.line[po] += 1
        st.start[po] = start[rows][why != ""]
        st.last_end[po] = _NONE
        st.anchor[po] = _NONE
        st.regimen[po, :] = False
        st.regimen[p, dr] = True
        keep = ~exempt[rows]
        st.last_end[p[keep]] = np.maximum(st.last_end[p[keep]], end[rows][keep])
        ld = is_ld[rows]
        st.anchor[p[ld]] = anchor[rows][ld]
        line[rows] = st.line[p]
        reason[rows] = why
    return line, reason
