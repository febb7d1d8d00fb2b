"""Where persons go after the index treatment: destinations and sequences between agents.

Definitions (docs/treatment-patterns.md):

* **destination**: the class of the first subsequent record (ties broken by the order of
  ``patterns.therapy_classes``), or ``"none"``.
* **sequence A→B**: a person of group A with a subsequent record of group B's sets. Reported
  against two denominators: all persons of A, and those of A with any subsequent therapy (the
  denominator that reproduces seed 000's 20.3 % and 10.5 %).

Treatment *pathways* (TreatmentPatterns-style sequences of eras) are
:mod:`allrwe.analyses.pathways`, not this module.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from allrwe.analyses.therapy._inputs import TherapyInputs
from allrwe.analyses.therapy._tables import categorical, percent
from allrwe.analyses.therapy.index import duration_bucket, index_treatments
from allrwe.analyses.therapy.periods import therapy_by_person

__all__ = [
    "COMPLETION",
    "CROSSED",
    "DESTINATION_STRATA",
    "destination_strata",
    "destination_table",
    "sequences",
]


def _destinations(inputs: TherapyInputs, therapy: pd.DataFrame, tr: pd.DataFrame) -> pd.Series:
    order = {c: i for i, c in enumerate(inputs.spec.patterns.therapy_classes)}
    sub = therapy[therapy["period"] == "subsequent"].copy()
    sub["_order"] = sub["therapy_class"].map(order)
    sub = sub.sort_values(["person_id", "group", "start_date", "_order"], kind="mergesort")
    first = sub.drop_duplicates(["person_id", "group"])
    m = tr[["person_id", "group"]].merge(
        first[["person_id", "group", "therapy_class"]], on=["person_id", "group"], how="left"
    )
    return m["therapy_class"].fillna("none").astype(str)


def destination_table(
    inputs: TherapyInputs,
    *,
    treatments: pd.DataFrame | None = None,
    therapy: pd.DataFrame | None = None,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Destination after the index treatment, by duration bucket and by number of cycles.

    Returns
    -------
    pandas.DataFrame
        ``group, *by, variable, subgroup, level, n, denominator, percentage`` with ``variable``
        ``"destination_by_duration"`` (subgroups = duration buckets), ``"destination_by_cycles"``
        (subgroups = cycle counts) or ``"destination"`` (subgroup ``"all"``); the denominator
        is the persons of the subgroup.
    """
    tr = index_treatments(inputs) if treatments is None else treatments
    th = therapy_by_person(inputs, tr) if therapy is None else therapy
    tr = tr.assign(
        destination=_destinations(inputs, th, tr).to_numpy(),
        duration_bucket=duration_bucket(
            tr["duration_days"], inputs.spec.patterns.duration_buckets
        ).to_numpy(),
        cycles=tr["n_cycles"].astype(str),
        all="all",
    )
    classes = inputs.spec.patterns.therapy_classes
    levels = [*(c for c in classes if c not in inputs.unrecorded_classes), "none"]
    parts = []
    for variable, column in (
        ("destination", "all"),
        ("destination_by_duration", "duration_bucket"),
        ("destination_by_cycles", "cycles"),
    ):
        t = categorical(
            tr,
            variable=variable,
            column="destination",
            levels=levels,
            groups=inputs.spec.index_groups,
            by=[*by, column],
        )
        parts.append(t.rename(columns={column: "subgroup"}))
    cols = ["group", *by, "variable", "subgroup", "level", "n", "denominator", "percentage"]
    return pd.concat(parts, ignore_index=True)[cols]


#: cohort columns the destinations may also be cut by (seed 001 Fig. 1: ND and R/R apart)
DESTINATION_STRATA = ("setting", "treatment_setting")


#: the stratum of whether the index treatment was completed (``patterns.completion``)
COMPLETION = "completion"
#: joins the names and the levels of crossed strata (as every analysis writes them)
CROSSED = " &&& "


def _crossed_cuts(
    tr: pd.DataFrame, inputs: TherapyInputs, names: Sequence[str]
) -> list[tuple[str, pd.DataFrame]]:
    """Return ``setting &&& duration`` and ``setting &&& cycles`` (``patterns.destinations_by``).

    Seed 001 Fig. 1 draws ND and R/R side by side, each by duration bucket and by number of
    cycles: a three-way table (setting × cut × class). Its levels of one setting add up to the
    setting's row and those of one bucket across settings to the bucket's row, so small cells
    are protected by complementary suppression over both margins; what it hides is measured in
    docs/treatment-patterns.md.
    """
    if "setting" not in names:
        return []
    setting = tr["setting"].fillna("unknown").astype(str)
    cut_of = {
        "duration": lambda: duration_bucket(
            tr["duration_days"], inputs.spec.patterns.duration_buckets
        ).astype(str),
        "cycles": lambda: tr["n_cycles"].astype(str),
    }
    cuts = []
    for by in dict.fromkeys(inputs.spec.patterns.destinations_by):
        name = f"setting{CROSSED}{by}"
        cuts.append((name, tr.assign(**{name: setting + CROSSED + cut_of[by]()})))
    return cuts


def _cuts(tr: pd.DataFrame, strata: Sequence[str]) -> list[tuple[str, pd.DataFrame]]:
    """Return ``(stratum name, rows with that column)`` for every cut of the destinations.

    Each setting stratum in ``strata``; with a ``completion`` column (``patterns.completion``)
    also ``setting`` crossed with it (``setting &&& completion``, levels ``RR &&& completed``)
    when ``setting`` is in ``strata``, else ``completion`` alone, among the rows whose
    completion can be derived. Not both: completion alone beside the crossed cut makes a
    two-way table whose complementary suppression hid 2 more cells of the overall
    destinations and 15 of 42 more cells of the seed 001 example (20k-person emr CDM); alone,
    the crossed levels of each setting add up to its row (a 1-D margin) and no other
    destination cell is hidden.
    """
    names = [s for s in dict.fromkeys(strata) if s in DESTINATION_STRATA and s in tr]
    cuts = [(n, tr.assign(**{n: tr[n].fillna("unknown").astype(str)})) for n in names]
    if COMPLETION not in tr:
        return cuts
    done = tr[tr[COMPLETION].notna()]
    if "setting" not in names:
        cuts.append((COMPLETION, done.assign(**{COMPLETION: done[COMPLETION].astype(str)})))
    for n in [n for n in names if n == "setting"]:
        both = f"{n}{CROSSED}{COMPLETION}"
        level = done[n].fillna("unknown").astype(str) + CROSSED + done[COMPLETION].astype(str)
        cuts.append((both, done.assign(**{both: level})))
    return cuts


def destination_strata(
    inputs: TherapyInputs,
    strata: Sequence[str],
    *,
    treatments: pd.DataFrame | None = None,
    therapy: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Destinations within each level of the cohort strata ``strata`` (seed 001 Fig. 1).

    Only the ``"destination"`` table is cut; with ``patterns.destinations_by`` (and
    ``setting`` in ``strata``) also ``setting`` crossed with the duration bucket or the number
    of cycles (``setting &&& duration``, levels ``ND &&& <=14``: seed 001 Fig. 1). When
    ``treatments`` has a ``completion`` column (:func:`~allrwe.analyses.therapy.completion.
    index_completion`), the destinations are also cut by ``setting`` crossed with it, or by
    it alone without ``setting`` (seed 001: "Among 30 R/R patients completing blinatumomab,
    10 underwent direct allo-HSCT"); rows without a completion are left out of those cuts.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`destination_table` plus ``stratum`` (its name); ``subgroup`` is
        the stratum's level (``"ND"``, ``"RR &&& completed"``). Empty without strata.
    """
    tr = index_treatments(inputs) if treatments is None else treatments
    th = therapy_by_person(inputs, tr) if therapy is None else therapy
    names = [s for s in strata if s in DESTINATION_STRATA and s in tr]
    parts = []
    for name, frame in [*_cuts(tr, strata), *_crossed_cuts(tr, inputs, names)]:
        if frame.empty:
            continue
        t = destination_table(inputs, treatments=frame, therapy=th, by=[name])
        t = t[t["variable"] == "destination"].copy()
        t["subgroup"] = t[name].astype(str)
        parts.append(t.drop(columns=[name]).assign(stratum=name))
    if not parts:
        return pd.DataFrame(columns=["group", "variable", "subgroup", "level", "n", "denominator",
                                     "percentage", "stratum"])  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def sequences(inputs: TherapyInputs, *, therapy: pd.DataFrame | None = None) -> pd.DataFrame:
    """Sequences between index agents (A→B: a subsequent record of B's sets in group A).

    Returns
    -------
    pandas.DataFrame
        ``group, variable, level, n, denominator, percentage, denominator_definition``: for each
        ordered pair two rows, against the group size (``"group"``) and against the persons
        with any subsequent therapy (``"with subsequent therapy"``).
    """
    th = therapy_by_person(inputs) if therapy is None else therapy
    sub = th[th["period"] == "subsequent"]
    rows = []
    for a in inputs.spec.index_groups:
        persons = inputs.cohort.loc[inputs.cohort["group"] == a, "person_id"]
        sub_a = sub[sub["group"] == a]
        treated = sub_a["person_id"].nunique()
        for b in inputs.spec.index_groups:
            if a == b:
                continue
            b_sets = inputs.group_sets[b] - inputs.group_sets[a]
            n = sub_a.loc[sub_a["concept_set"].isin(b_sets), "person_id"].nunique()
            level = f"{a}->{b}"
            rows.append((a, "sequence", level, n, persons.nunique(), "group"))
            rows.append((a, "sequence", level, n, treated, "with subsequent therapy"))
    cols = ["group", "variable", "level", "n", "denominator", "denominator_definition"]
    out = pd.DataFrame(rows, columns=cols)
    out["percentage"] = percent(out["n"], out["denominator"])
    return out[[*cols[:5], "percentage", "denominator_definition"]]
