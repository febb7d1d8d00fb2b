"""The spec's value types and bounds, and the base of every section.

A value type says what a field may hold (an integer given as an integer, a window of days
within ±200 years, a strictly increasing list of cut points); every section of the spec derives
from :class:`Section`, which forbids unknown fields and is frozen.
"""

from __future__ import annotations

import itertools
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict

#: Upper bound on every day count and window end: 200 years covers any real follow-up, and a
#: bound keeps a typo (an extra zero or thirty) from reaching date arithmetic.
MAX_DAYS = 73_050
#: Upper bound on landmark times: 100 years
MAX_MONTHS = 1_200
#: Upper bound on ages (inclusion range and age bands), in years
MAX_AGE = 120

#: An integer given as an integer literal: ``true``, ``5.0`` or ``"5"`` are refused.
Int = Annotated[int, Strict()]
#: A number given as a number: ``true`` or ``"5"`` are refused (infinity and NaN too, by the
#: ``allow_inf_nan`` setting of every section).
Float = Annotated[float, Strict()]


def _check_window(value: tuple[Int | None, Int | None]) -> tuple[Int | None, Int | None]:
    start, end = value
    for day in (start, end):
        if day is not None and abs(day) > MAX_DAYS:
            raise ValueError(f"window day {day} is beyond ±{MAX_DAYS} days")
    if start is not None and end is not None and start > end:
        raise ValueError(f"window starts on day {start}, after it ends on day {end}")
    return value


#: A window of days relative to the index date, both ends inclusive; ``null`` = unbounded.
Window = Annotated[tuple[Int | None, Int | None], AfterValidator(_check_window)]


def _check_increasing(value: list[float]) -> list[float]:
    if any(b <= a for a, b in itertools.pairwise(value)):
        raise ValueError(f"values must increase strictly, got {value}")
    return value


NonNegInt = Annotated[int, Strict(), Field(ge=0, le=MAX_DAYS)]
PosInt = Annotated[int, Strict(), Field(ge=1, le=MAX_DAYS)]
#: A strictly increasing, non-empty list of cut points, each within [low, high] (``gt`` for a
#: strict lower bound)
DayCuts = Annotated[
    list[Annotated[float, Strict(), Field(gt=0, le=MAX_DAYS)]],
    Field(min_length=1),
    AfterValidator(_check_increasing),
]
AgeCuts = Annotated[
    list[Annotated[float, Strict(), Field(gt=0, le=MAX_AGE)]],
    Field(min_length=1),
    AfterValidator(_check_increasing),
]
MonthCuts = Annotated[
    list[Annotated[float, Strict(), Field(ge=0, le=MAX_MONTHS)]],
    AfterValidator(_check_increasing),
]
Age = Annotated[float, Strict(), Field(ge=0, le=MAX_AGE)]
Percent = Annotated[float, Strict(), Field(ge=0, le=100)]
#: a blood count in 10^9/L (platelets above 10,000 x 10^9/L do not occur)
Count = Annotated[float, Strict(), Field(ge=0, le=10_000)]


class Section(BaseModel):
    """A spec section: unknown fields fail, values do not change once read."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
