"""Treatment pathways: Sankey diagram, sunburst, swimmer plot, most frequent pathways."""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd

from allrwe.report._blocks import (
    Context,
    figure_colours,
    group_header,
    make_table,
    na_text,
    slug,
)
from allrwe.report._view import fmt_count_pct, level_sort_key
from allrwe.report.figures import group_colour, sankey_sizes
from allrwe.report.model import Block, Details, Figure, Row, Section, Text
from allrwe.report.sections.pathway_notes import missing_from_pathways
from allrwe.results.model import POOLED_PREFIX

__all__ = ["pathway_therapies", "pathways_section", "swimmer_figure"]

_O = "overall"


def _sankey_data(ctx: Context, group: str) -> tuple[dict[str, Any], list[Row]]:
    frame = ctx.view.frame("pathways")
    # the whole group only: pathway records also come by the strata of `pathways.by`
    frame = frame[
        (frame["group"] == group)
        & (frame["strata_name"] == _O)
        & (frame["estimate_name"] == "count")
    ]
    visible: list[tuple[str, int]] = []
    rows = []
    for path, value, hidden in zip(
        frame["variable_level"], frame["value"], frame["suppressed"], strict=True
    ):
        args = ("pathways", group, _O, _O, "pathway", path)
        rows.append(
            (
                path,
                fmt_count_pct(ctx.view.get(*args, "count"), ctx.view.get(*args, "percentage")),
                hidden,
                value,
            )
        )
        pooled = str(path).startswith(POOLED_PREFIX)
        if not hidden and value > 0 and path != "None" and not pooled:
            visible.append((str(path), int(value)))
    # Published pathways first, most frequent first; then the suppressed ones by name.
    rows.sort(key=lambda r: (r[2], 0.0 if r[2] else -float(r[3]), r[0]))
    links: dict[tuple[str, str], int] = {}
    for path, n in visible:
        steps = [f"{k}. {name}" for k, name in enumerate(path.split("-"), start=1)]
        steps.append(f"{len(steps) + 1}. Stopped")
        for a, b in itertools.pairwise(steps):
            links[(a, b)] = links.get((a, b), 0) + n
    nodes = sorted({n for pair in links for n in pair}, key=lambda s: (int(s.split(".")[0]), s))
    data = {
        "title": f"Treatment pathways (Sankey), {group}",
        "nodes": nodes,
        "links": [
            {"source": nodes.index(a), "target": nodes.index(b), "value": v}
            for (a, b), v in sorted(links.items())
        ],
        "top": [
            {"name": shown(p), "value": n}
            for p, n in sorted(visible, key=lambda x: (-x[1], x[0]))[:10]
        ],
        "paths": [{"steps": p.split("-"), "value": n} for p, n in sorted(visible)],
        "colours": figure_colours(ctx, [s for p, _ in visible for s in p.split("-")]),
    }
    return data, [Row((shown(r[0]), r[1])) for r in rows]


def pathway_therapies(frame: pd.DataFrame) -> list[str]:
    """Return the therapies the pathway records name (a step's class or combination), sorted.

    Each gets its own colour in every pattern figure
    (:func:`allrwe.report.figures.therapy_colours`), combinations (``blinatumomab+tki``)
    included. The pooled row and ``None`` (no therapy) name none.

    Examples
    --------
    >>> frame = pd.DataFrame({"variable_level": ["a-b+c-d", "None", "a-e+c"]})
    >>> pathway_therapies(frame)
    ['a', 'b+c', 'd', 'e+c']
    """
    if frame.empty:
        return []
    paths = (
        str(p)
        for p in dict.fromkeys(frame["variable_level"].astype(str))
        if p != "None" and not str(p).startswith(POOLED_PREFIX)
    )
    return sorted({step for path in paths for step in path.split("-")})


def sankey_nodes(ctx: Context, group: str, data: dict[str, Any]) -> Details:
    """Tabulate the nodes of a Sankey diagram: step, therapy, persons (folded under it).

    A node too small for its label to fit without overlapping another (a few persons, a long
    combination name) is drawn without one; its label is in its hover text and here.
    """
    sizes = sankey_sizes(len(data["nodes"]), data["links"])
    rows = []
    for node, persons in zip(data["nodes"], sizes, strict=True):
        step, _, therapy = str(node).partition(". ")
        rows.append(Row((step, therapy, f"{persons:g}")))
    table = make_table(
        ctx,
        f"table-sankey-{slug(group)}",
        f"Nodes of the Sankey diagram of group {group}",
        ("Step", "Therapy", "Persons"),
        rows,
        ("Nodes too small to be labelled in the figure have their label in its hover text.",),
    )
    return Details(f"Sankey nodes of group {group} (step, therapy, persons)", (table,))


def shown(path: str) -> str:
    """Return a pathway as a reader sees it: its steps joined by arrows (then relabelled).

    >>> shown("blinatumomab-blinatumomab+tki-hsct")
    'blinatumomab → blinatumomab+tki → hsct'
    """
    return " → ".join(str(path).split("-"))


def swimmer_figure(ctx: Context, group: str) -> Figure | None:
    """Draw the treatment sequences of one group as an aggregated swimmer plot.

    A lane per pathway (the sequence of therapies after the index date) and patient group:
    the whole group, then each level of each stratum the pathway records carry
    (``pathways.by``: age band, sex, index year, setting, treatment setting, completion of
    the index treatment, alone and within setting: "setting × completion: RR × completed").
    Suppression-safe: a pathway is drawn only when its count is published, not pooled and at
    least the minimum cell count; a lane never stands for fewer persons.
    """
    frame = ctx.view.frame("pathways")
    frame = frame[(frame["group"] == group) & (frame["estimate_name"] == "count")]
    keys = dict.fromkeys(zip(frame["strata_name"], frame["strata_level"], strict=True))
    ordered = sorted(keys, key=lambda k: (k[0] != _O, k[0], level_sort_key(str(k[1]))))
    sections, classes = [], []
    for sn, sl in ordered:
        part = frame[(frame["strata_name"] == sn) & (frame["strata_level"] == sl)]
        lanes = []
        for path in part["variable_level"].astype(str):
            args = ("pathways", group, sn, sl, "pathway", path)
            count = ctx.view.get(*args, "count")
            if (
                not count.visible
                or count.value < max(1, ctx.min_cell_count)
                or path == "None"
                or path.startswith(POOLED_PREFIX)
            ):
                continue
            steps = path.split("-")
            classes += [s for s in steps if s not in classes]
            text = fmt_count_pct(count, ctx.view.get(*args, "percentage"))
            lanes.append((-count.value, path, {"steps": steps, "text": text}))
        if lanes:
            title = (
                f"All persons of group {group}"
                if sn == _O
                else f"{sn}: {sl}".replace(" &&& ", " × ")
            )
            sections.append({"title": title, "lanes": [lane for *_, lane in sorted(lanes)]})
    if not sections:
        return None
    data = {
        "title": f"Treatment sequences, {group}",
        "classes": classes,
        "colours": figure_colours(ctx, classes),
        "sections": sections,
    }
    caption = (
        f"Treatment sequences of group {group} by patient group (aggregated swimmer plot): a "
        "lane per pathway, a box per step of the pathway (step 1: the therapy at the index "
        "date, the index treatment alone or in a combination), persons (%) at the right. "
        f"Pathways of fewer than {max(1, ctx.min_cell_count)} persons, suppressed or pooled "
        "are not drawn."
    )
    return Figure(f"swimmer-{slug(group)}", caption, "swimmer", data, static=False)


def no_pathway_figures(group: str, threshold: int) -> Text:
    """Say why a group has no Sankey, sunburst, bar chart or swimmer plot.

    The figures draw published pathway counts only; when every pathway of the group is hidden
    (below ``threshold`` or hidden with such a count), there is nothing to draw, and a reader
    looking for them must not think they were forgotten.
    """
    return Text(
        (
            f"No pathway of group {group} has a published count (each is fewer than "
            f"{threshold} persons, pooled, or hidden so that such a count cannot be worked "
            "out), so its Sankey diagram, sunburst, bar chart and swimmer plot are not drawn; "
            "the table below lists its pathways.",
        ),
        style="note",
    )


def _kept(keep_index: bool) -> str:
    """Say whether the pathway rules may drop the index treatment (``pathways.keep_index``)."""
    if keep_index:
        return ", kept in every pathway"
    return ", unless the pathway rules dropped it"


def pathways_section(ctx: Context, *, keep_index: bool = True) -> Section | None:
    """Pathways per group: Sankey, sunburst, most frequent pathways, swimmer plot, table.

    ``keep_index`` is the spec's ``pathways.keep_index``: whether the first step of every
    pathway is the index treatment, as the captions say.
    """
    reason = ctx.view.not_available("pathways")
    if reason is not None:
        return Section("pathways", "Treatment pathways", (na_text("Pathways", reason),), (), False)
    groups = ctx.present_groups("pathways")
    if not groups:
        return None
    blocks: list[Block] = [
        Text(
            (
                "Pathways from the index date to the end of observation (TreatmentPatterns "
                "semantics); steps are joined by “-”, combinations by “+”. The Sankey diagrams "
                "and bar charts show pathways whose count is published; suppressed and pooled "
                "pathways are left out.",
            ),
            style="note",
        )
    ]
    for g in groups:
        data, rows = _sankey_data(ctx, g)
        missing = missing_from_pathways(ctx, g)
        if missing is not None:
            blocks.append(missing)
        if data["links"]:
            blocks.append(
                Figure(
                    f"sankey-{slug(g)}",
                    f"Treatment pathways of group {g} as a Sankey diagram: column k is the k-th "
                    "step of the pathway from the index date (column 1: the index treatment, "
                    "alone or in a combination; \u201cStopped\u201d: no further therapy), "
                    "band widths are proportional to persons (published pathways only).",
                    "sankey",
                    data,
                    static=False,
                )
            )
            blocks.append(sankey_nodes(ctx, g, data))
            blocks.append(
                Figure(
                    f"sunburst-{slug(g)}",
                    f"Treatment pathways of group {g} as a sunburst: the inner ring is the "
                    "first step of each pathway, the therapy at the index date (the index "
                    f"treatment, alone or in a combination{_kept(keep_index)}); each ring "
                    "outwards is the next therapy; angles are proportional to persons "
                    "(published pathways only).",
                    "sunburst",
                    {
                        "paths": data["paths"],
                        "colours": data["colours"],
                        "title": f"Treatment pathways (sunburst), {g}",
                    },
                    static=False,
                )
            )
            blocks.append(
                Figure(
                    f"pathways-{slug(g)}",
                    f"Most frequent pathways of group {g}.",
                    "hbars",
                    {
                        "items": data["top"],
                        "colour": group_colour(ctx.groups, g),
                        "xlabel": "Persons",
                        "title": f"Most frequent pathways, {g}",
                    },
                )
            )
        swimmer = swimmer_figure(ctx, g)
        if swimmer is not None:
            blocks.append(swimmer)
        if not data["links"] and swimmer is None:
            blocks.append(no_pathway_figures(g, ctx.hides_below))
        blocks.append(
            make_table(
                ctx,
                f"table-pathways-{slug(g)}",
                f"Pathways of group {g}",
                ("Pathway", group_header(ctx, g)),
                rows,
            )
        )
    return Section("pathways", "Treatment pathways", tuple(blocks))
