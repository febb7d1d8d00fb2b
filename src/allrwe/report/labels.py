"""Words for people: the display label of every key the records and the spec carry.

Records name concept sets, therapy classes, strata and analyses by keys (``kmt2a_rearranged``,
``car_t``, ``vod sos``). The report shows each as a reader of a haematology journal expects
(``KMT2A-rearranged``, ``CAR-T``, ``VOD/SOS``). Keys are the concept-set keys of the bundled
vocabulary (``src/allrwe/data/vocabulary/default.yaml``) and the names of the spec's classes,
strata and analyses; a key missing here is shown with its underscores as spaces.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import Any

from allrwe.report.model import Block, Figure, Flow, Section, Table, Text

__all__ = [
    "LABELS",
    "SIGNS",
    "journal_signs",
    "label",
    "relabel_section",
    "relabel_text",
    "row_label",
]

#: display label of each key (genes and abbreviations as written in the literature)
LABELS: dict[str, str] = {
    # genetics (WHO 2022 / ICC 2022 names of the B-ALL entities)
    "kmt2a_rearranged": "KMT2A-rearranged",
    "tcf3_pbx1": "TCF3-PBX1",
    "etv6_runx1": "ETV6-RUNX1",
    "il3_igh": "IL3-IGH",
    "ph_like": "Ph-like",
    "ph_positive": "Ph-positive",
    "ph_negative": "Ph-negative",
    "ph_status": "Ph status",
    "hyperdiploid": "hyperdiploid",
    "hypodiploid": "hypodiploid",
    "complex_karyotype": "complex karyotype",
    "ikzf1_deletion": "IKZF1 deletion",
    "pax5_alteration": "PAX5 alteration",
    "chemo_intolerance": "intolerant of intensive chemotherapy",
    "genetic_features": "genetic features",
    "cns_involvement": "CNS involvement",
    # diagnoses and exclusions
    "all_diagnosis": "ALL diagnosis",
    "t_lineage_all": "T-lineage ALL",
    # therapies and classes
    "car_t": "CAR-T",
    "car_t_infusion": "CAR-T infusion",
    "allo_hsct": "allogeneic HSCT",
    "hsct": "HSCT",
    "hsct_car_t": "HSCT or CAR-T",
    "tki": "TKI",
    "other_novel_agent": "other novel agent",
    "inotuzumab_ozogamicin": "inotuzumab ozogamicin",
    "brexucabtagene_autoleucel": "brexucabtagene autoleucel",
    "index_drugs": "index drugs",
    # adverse events (CTCAE terms and the usual abbreviations)
    "vod_sos": "VOD/SOS",
    "vod sos": "VOD/SOS",
    "crs": "CRS",
    "icans": "ICANS",
    "any ae": "any AE",
    "other_ae": "other AEs",
    "other ae": "other AEs",
    "any aesi": "any AESI",
    "liver_enzyme_increase": "liver enzyme increase",
    "liver enzyme increase": "liver enzyme increase",
    "infusion_reaction": "infusion reaction",
    "aes_of_special_interest": "AEs of special interest",
    "adverse_events": "adverse events",
    "discontinued_due_to_ae": "discontinued due to an adverse event",
    "discontinued due to ae": "discontinued due to an adverse event",
    # labs
    "anc": "ANC",
    "wbc": "WBC",
    "mrd": "MRD",
    "marrow_blasts": "marrow blasts",
    # strata and settings
    "age_band": "age band",
    "treatment_setting": "treatment setting",
    "line_at_index": "line at index",
    "prior_hsct": "prior HSCT",
    "prior_car_t": "prior CAR-T",
    "post_hct_relapse": "post-HCT relapse",
    "gvhd_at_index": "GVHD at index",
    "gvhd": "GVHD",
    "RR": "R/R",
}

#: how a journal writes the comparison signs records spell in ASCII (``>=55`` is ``≥55``)
SIGNS = {">=": "≥", "<=": "≤"}


def journal_signs(text: str) -> str:
    """Write the comparison signs of ``text`` as a journal does: ``<=14`` is ``≤14``.

    Examples
    --------
    >>> journal_signs("<=14 days; >=55")
    '≤14 days; ≥55'
    """
    for ascii_sign, sign in SIGNS.items():
        text = text.replace(ascii_sign, sign)
    return text


#: how records name crossed strata ("setting &&& treatment_setting"); shown as " × "
CROSSED = " &&& "
_KEY = r"(?<![A-Za-z0-9_\-/.]){}(?![A-Za-z0-9_\-/])"
_SNAKE = re.compile(r"(?<![A-Za-z0-9_\-/.])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![A-Za-z0-9_\-/.])")


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    keys = sorted(LABELS, key=len, reverse=True)
    return re.compile("|".join(_KEY.format(re.escape(k)) for k in keys))


def label(key: str) -> str:
    """Return the display label of a key.

    Parameters
    ----------
    key : str
        A concept-set, class, stratum or analysis key.

    Returns
    -------
    str
        Its label from :data:`LABELS`, else the key with underscores as spaces.

    Examples
    --------
    >>> label("kmt2a_rearranged"), label("car_t"), label("vod sos"), label("left_out")
    ('KMT2A-rearranged', 'CAR-T', 'VOD/SOS', 'left out')
    """
    return LABELS.get(key, key.replace("_", " "))


def relabel_text(text: str) -> str:
    """Replace every key standing as a word in ``text`` with its label.

    Keys of :data:`LABELS` are replaced wherever they stand alone (not inside a longer word,
    a file name or a hyphenated id); any other ``snake_case`` word gets spaces; ``>=`` and
    ``<=`` are written ``≥`` and ``≤`` (:data:`SIGNS`).

    Parameters
    ----------
    text : str
        A caption, a row label, a title or a paragraph.

    Returns
    -------
    str
        The text as a reader sees it.

    Examples
    --------
    >>> relabel_text("Overall survival, censored at allo_hsct or car_t")
    'Overall survival, censored at allogeneic HSCT or CAR-T'
    >>> relabel_text("age band: >=55; positive (>=0.01%)")
    'age band: ≥55; positive (≥0.01%)'
    """
    out = journal_signs(_pattern().sub(lambda m: LABELS[m.group(0)], text.replace(CROSSED, " × ")))
    return _SNAKE.sub(lambda m: m.group(0).replace("_", " "), out)


#: a first word written in lower case only (two letters or more), as keys and their labels are
_LOWER_FIRST_WORD = re.compile(r"[a-z]{2,}(?![A-Za-z0-9])")


def row_label(text: str) -> str:
    """Write a table row's label in sentence case, as a journal heads its rows.

    Labels are written for the middle of a sentence (``other novel agent``, ``discontinued
    due to an adverse event``); at the head of a row they start with a capital letter. Only a
    first word in lower case letters is capitalised: a symbol (``n``), a gene or a word with
    capitals inside (``iAMP21``, ``mRNA``), an abbreviation (``CAR-T``), a number or a sign
    (``≥55``) is left as it is.

    Parameters
    ----------
    text : str
        A row label, already relabelled (:func:`relabel_text`).

    Returns
    -------
    str
        The label as a row heads it.

    Examples
    --------
    >>> row_label("other novel agent"), row_label("allo-HSCT after index")
    ('Other novel agent', 'Allo-HSCT after index')
    >>> row_label("n"), row_label("iAMP21"), row_label("≥55"), row_label("CAR-T")
    ('n', 'iAMP21', '≥55', 'CAR-T')
    """
    if _LOWER_FIRST_WORD.match(text) is None:
        return text
    return text[0].upper() + text[1:]


def _figure_data(data: Any) -> dict[str, Any]:
    out = dict(data)
    for key in ("title", "footnote"):
        if key in out:
            out[key] = relabel_text(str(out[key]))
    for key in ("nodes", "categories", "classes"):  # lists of names
        if key in out:
            out[key] = [relabel_text(str(n)) for n in out[key]]
    if "paths" in out:
        out["paths"] = [
            {**p, "steps": [relabel_text(str(x)) for x in p["steps"]]} for p in out["paths"]
        ]
    if "colours" in out:
        out["colours"] = {relabel_text(str(k)): v for k, v in out["colours"].items()}
    if "panels" in out:
        out["panels"] = [
            {
                **p,
                "title": relabel_text(str(p["title"])),
                "bars": [{**b, "name": relabel_text(str(b["name"]))} for b in p["bars"]],
            }
            for p in out["panels"]
        ]
    if "sections" in out:
        out["sections"] = [
            {
                **s,
                "title": relabel_text(str(s["title"])),
                "lanes": [
                    {**lane, "steps": [relabel_text(str(x)) for x in lane["steps"]]}
                    for lane in s["lanes"]
                ],
            }
            for s in out["sections"]
        ]
    # forest plot rows and most frequent pathways (items), curves, bar series: named entries
    for key in ("items", "curves", "series"):
        if key in out:
            out[key] = [{**c, "name": relabel_text(str(c["name"]))} for c in out[key]]
    if out.get("risk"):
        rows = [{**r, "name": relabel_text(str(r["name"]))} for r in out["risk"]["rows"]]
        out["risk"] = {**out["risk"], "rows": rows}
    return out


def _block(b: Block) -> Block:
    if isinstance(b, Table):
        rows = tuple(
            replace(
                r,
                cells=tuple(
                    row_label(relabel_text(c)) if j == 0 else relabel_text(c)
                    for j, c in enumerate(r.cells)
                ),
            )
            for r in b.rows
        )
        return replace(
            b,
            caption=relabel_text(b.caption),
            header=tuple(relabel_text(h) for h in b.header),
            rows=rows,
            notes=tuple(relabel_text(n) for n in b.notes),
        )
    if isinstance(b, Figure):
        return replace(b, caption=relabel_text(b.caption), data=_figure_data(b.data))
    if isinstance(b, Text):
        return replace(b, paragraphs=tuple(relabel_text(p) for p in b.paragraphs))
    if isinstance(b, Flow):
        steps = tuple(replace(s, label=relabel_text(s.label)) for s in b.steps)
        return replace(b, steps=steps)
    return replace(b, summary=relabel_text(b.summary), blocks=tuple(_block(x) for x in b.blocks))


def relabel_section(section: Section) -> Section:
    """Return ``section`` with every key in its words replaced by its label.

    Titles, captions, headers, cells (numbers are left as they are), notes,
    paragraphs, flow boxes, figure titles and curve names are relabelled with
    :func:`relabel_text`; pathway names (steps joined by ``-``) are left as recorded. The
    label of each table row (its first cell) is then written in sentence case
    (:func:`row_label`).

    Parameters
    ----------
    section : Section
        A section as built from the records.

    Returns
    -------
    Section
        The same section in words for people.
    """
    return replace(
        section,
        title=relabel_text(section.title),
        blocks=tuple(_block(b) for b in section.blocks),
        children=tuple(relabel_section(c) for c in section.children),
    )
