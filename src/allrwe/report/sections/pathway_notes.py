"""Notes beside the pathway figures: what the pathway rules leave out of them.

A therapy can follow the index treatment and yet be in no pathway: the pathway rules
(TreatmentPatterns' minimum durations) drop short records, and a CAR-T infusion is a single
day (docs/pathways.md, "CAR-T and other one-day events"). In the seed 001 example CAR-T is
the first therapy after blinatumomab of 72 of 326 persons and in none of the pathways, so the
Sankey diagram, the sunburst and the swimmer plot would read as if no one had it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from allrwe.report._blocks import Context
from allrwe.report._view import fmt_count, fmt_count_pct
from allrwe.report.labels import label, row_label
from allrwe.report.model import Text

__all__ = ["group_setting", "missing_from_pathways"]

_O = "overall"


def group_setting(settings: Mapping[str, Any], name: str, group: str) -> int | None:
    """Return a pathway setting of one group, in days, from the run's settings.

    The run writes a setting shared by every group as its value and one that differs as text
    naming each group's (``"14 (INO), 27 (BLIN), 0 (CAR-T)"``,
    :func:`allrwe.study.stages.pathway_settings`).

    Examples
    --------
    >>> s = {"min_era_days": 0, "min_post_combination_days": "14 (INO), 27 (BLIN), 0 (CAR-T)"}
    >>> [group_setting(s, k, "BLIN") for k in ("min_era_days", "min_post_combination_days")]
    [0, 27]
    >>> group_setting(s, "combination_window_days", "BLIN") is None
    True
    """
    value = settings.get(name)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return int(value)
    found = re.search(rf"(\d+) \({re.escape(group)}\)", str(value))
    return int(found.group(1)) if found else None


def _steps_of(ctx: Context, group: str) -> set[str]:
    """Return every therapy a pathway of ``group`` names, alone or within a combination."""
    frame = ctx.view.frame("pathways")
    paths = frame.loc[frame["group"] == group, "variable_level"].astype(str)
    return {part for path in paths for step in path.split("-") for part in step.split("+")}


def _why_dropped(ctx: Context, group: str) -> str:
    """Say which pathway rule drops short records, from the settings the run applied."""
    settings = ctx.pathway_settings
    era = group_setting(settings, "min_era_days", group) or 0
    post = group_setting(settings, "min_post_combination_days", group) or 0
    rules = []
    if era > 0:
        rules.append(f"records lasting fewer than {era} days")
    if post > 0:
        rules.append(
            f"records shorter than {post} days once any person's treatments overlap (the "
            "minimum duration after a combination)"
        )
    if not rules:
        return "its records left no step in the pathways"
    return (
        f"the pathway rules drop {' and '.join(rules)}, as a one-day record (a CAR-T "
        "infusion, a single dose) always is"
    )


def missing_from_pathways(ctx: Context, group: str) -> Text | None:
    """Say which therapy follows the index treatment but is in none of the pathways drawn.

    A therapy class that is the first therapy after the index treatment of some persons
    (a published count above 0 of ``destinations``) but that no pathway of the group names,
    alone or in a combination, published or hidden, is absent from the Sankey diagram, the
    sunburst and the swimmer plot by the pathway rules, not by the data: a one-day CAR-T
    infusion is dropped by the minimum duration after a combination (docs/pathways.md, "CAR-T
    and other one-day events"). The note says so beside those figures, with the count.
    """
    frame = ctx.view.frame("destinations")
    frame = frame[
        (frame["group"] == group)
        & (frame["strata_name"] == _O)
        & (frame["estimate_name"] == "count")
    ]
    named = _steps_of(ctx, group)
    missing = []
    for therapy in frame["variable_level"].astype(str):
        args = ("destinations", group, _O, _O, "destination", therapy)
        count = ctx.view.get(*args, "count")
        if therapy in named or therapy == "none" or not count.visible or count.value <= 0:
            continue
        missing.append((label(therapy), fmt_count_pct(count, ctx.view.get(*args, "percentage"))))
    if not missing:
        return None
    size = ctx.group_size(group)
    of = f" of the {fmt_count(size)}" if size.visible else ""
    (first, persons), *others = missing
    parts = [
        f"{row_label(first)}, the first therapy after the index treatment for {persons}{of} "
        f"persons of group {group}",
        *(f"{name}, for {n}" for name, n in others),
    ]
    subject = parts[0] if not others else ", ".join(parts[:-1]) + ", and " + parts[-1]
    return Text(
        (
            f"{subject}, {'are' if others else 'is'} in none of the pathways drawn or listed "
            f"here (section “Therapy after the index treatment”): {_why_dropped(ctx, group)} "
            "(Methods).",
        ),
        style="note",
    )
