"""The clinical events of a chunk's ALL patients, before they become CDM rows.

Each event kind is a list of array bundles indexed by patient (``owner``). History is built in
days relative to diagnosis and shifted once the diagnosis date is known; the whole timeline is
then censored at each patient's end of observation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from allrwe.synth.frames import AnyArray

__all__ = ["KIND_ADMIN", "KIND_DISPENSE", "Events", "Status", "Timeline"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: drug rows: an IV (or other in-hospital) administration, or an oral dispensing
KIND_ADMIN = 0
KIND_DISPENSE = 1


class Status(IntEnum):
    """What a condition event states; its concept is chosen when the row is written."""

    DIAGNOSIS = 0
    RELAPSE = 1
    REFRACTORY = 2
    REMISSION = 3
    PH = 4
    GENETICS = 5
    CNS = 6
    REPEAT_DIAGNOSIS = 7
    CHEMO_INTOLERANCE = 8


#: date columns of each event kind (shifted and censored)
_DATES = {
    "drug": ("start", "end"),
    "procedure": ("date",),
    "condition": ("date",),
    "measurement": ("date",),
    "observation": ("date",),
    "visit": ("start", "end"),
}
#: end-date columns clipped to the end of observation
_ENDS = {"drug": "end", "visit": "end"}


@dataclass
class Events:
    """Concatenated events of one kind; columns are equal-length arrays."""

    columns: dict[str, AnyArray]

    def __len__(self) -> int:
        return len(self.columns["owner"]) if self.columns else 0

    def __getitem__(self, name: str) -> AnyArray:
        return self.columns[name]

    def select(self, mask: npt.NDArray[np.bool_]) -> Events:
        """Rows where ``mask`` holds."""
        return Events({k: v[mask] for k, v in self.columns.items()})


@dataclass
class Timeline:
    """Events by kind: drug, procedure, condition, measurement, observation, visit."""

    parts: dict[str, list[dict[str, AnyArray]]] = field(
        default_factory=lambda: {k: [] for k in _DATES}
    )

    def add(self, event: str, /, **columns: npt.ArrayLike) -> None:
        """Append events of kind ``event``; scalars broadcast to the length of ``owner``."""
        owner = np.asarray(columns["owner"], dtype=np.int64)
        if owner.size == 0:
            return
        out: dict[str, AnyArray] = {}
        for k, v in columns.items():
            a = np.asarray(v)
            out[k] = np.broadcast_to(a, owner.shape).copy() if a.ndim == 0 else a
        self.parts[event].append(out)

    def extend(self, other: Timeline) -> None:
        """Append every event of ``other``."""
        for kind, parts in other.parts.items():
            self.parts[kind].extend(parts)

    def shift(self, offset: IntArray) -> None:
        """Add ``offset[owner]`` days to every date (relative history becomes absolute)."""
        for kind, parts in self.parts.items():
            for p in parts:
                for col in _DATES[kind]:
                    p[col] = p[col] + offset[p["owner"]]

    def events(self, kind: str) -> Events:
        """All events of ``kind`` concatenated (columns every part has)."""
        parts = self.parts[kind]
        if not parts:
            return Events({})
        names = [k for k in parts[0] if all(k in p for p in parts)]
        return Events({k: np.concatenate([p[k] for p in parts]) for k in names})

    def censor(self, obs_end: IntArray) -> None:
        """Drop events starting after ``obs_end[owner]`` and clip end dates to it."""
        for kind, parts in self.parts.items():
            first = _DATES[kind][0]
            kept = []
            for p in parts:
                limit = obs_end[p["owner"]]
                keep = p[first] <= limit
                q = {k: v[keep] for k, v in p.items()}
                if kind in _ENDS:
                    end = _ENDS[kind]
                    clipped = np.minimum(q[end], limit[keep])
                    if kind == "drug":
                        full = q["days_supply"]
                        new = clipped - q["start"] + 1
                        scale = np.where(full > 0, new / np.maximum(full, 1), 1.0)
                        q["quantity"] = np.round(q["quantity"] * scale, 3)
                        q["days_supply"] = np.where(full > 0, new, full)
                    q[end] = clipped
                kept.append(q)
            self.parts[kind] = kept
