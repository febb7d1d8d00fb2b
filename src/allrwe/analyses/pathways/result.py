"""The result of a pathway analysis: per-person pathways, counts, history, attrition, plots' data.

Everything here works one pathway position at a time (at most ``max_path_length`` passes),
vectorised over persons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "NONE_PATHWAY",
    "STOPPED",
    "PathwayResult",
    "SankeyData",
    "count_pathways",
    "pathway_steps",
]

#: label of persons treated with nothing in their window, when counted (TreatmentPatterns)
NONE_PATHWAY = "None"
#: terminal node of the Sankey diagram after a pathway's last step (TreatmentPatterns)
STOPPED = "Stopped"
_SEPARATOR = "-"


def pathway_steps(treatment_history: pd.DataFrame, episodes: pd.DataFrame) -> pd.DataFrame:
    """Return one row per episode with its step names in columns ``1 … L``.

    Parameters
    ----------
    treatment_history : pandas.DataFrame
        ``person_id, target, seq, name`` rows.
    episodes : pandas.DataFrame
        ``person_id, target``: every episode, treated or not.

    Returns
    -------
    pandas.DataFrame
        ``person_id, target`` followed by one column per step number holding the step's name
        or a missing value; ordered by person and target.
    """
    wide = treatment_history.pivot(index=["person_id", "target"], columns="seq", values="name")
    wide.columns = pd.Index([int(c) for c in wide.columns])
    wide = wide.reset_index()
    out = episodes.merge(wide, on=["person_id", "target"], how="left")
    return out.sort_values(["person_id", "target"], kind="mergesort", ignore_index=True)


def _step_columns(steps: pd.DataFrame) -> list[int]:
    return [int(c) for c in steps.columns if isinstance(c, int)]


def _joined(steps: pd.DataFrame, upto: int) -> np.ndarray:
    """Join the first ``upto`` step names of every row with "-" (missing steps are skipped)."""
    path = np.full(len(steps), "", dtype=object)
    for k in range(1, upto + 1):
        step = steps[k].to_numpy(dtype=object)
        present = pd.notna(step)
        glue = np.where(path == "", "", _SEPARATOR)
        path = np.where(present, path + glue + np.where(present, step, "").astype(object), path)
    return path


def patients_table(steps: pd.DataFrame, *, concat_targets: bool) -> pd.DataFrame:
    """Return one row per person (or per person and target episode) with its pathway.

    Parameters
    ----------
    steps : pandas.DataFrame
        Output of :func:`pathway_steps`.
    concat_targets : bool
        If False a ``target_index`` column says which episode the row belongs to.

    Returns
    -------
    pandas.DataFrame
        ``person_id, [target_index,] pathway, n_steps``; pathway ``""`` for no treatment.
    """
    columns = _step_columns(steps)
    out = pd.DataFrame({"person_id": steps["person_id"].to_numpy()})
    if not concat_targets:
        out["target_index"] = steps["target"].to_numpy()
    out["pathway"] = pd.Series(_joined(steps, len(columns)), dtype=str)
    out["n_steps"] = steps[columns].notna().sum(axis=1).astype("int64").to_numpy()
    return out


def count_pathways(patients: pd.DataFrame, *, include_none: bool = False) -> pd.DataFrame:
    """Count persons per pathway, most frequent first.

    Parameters
    ----------
    patients : pandas.DataFrame
        :attr:`PathwayResult.patients`.
    include_none : bool, default False
        If True, persons with no treatment in their window are counted under ``"None"``
        (TreatmentPatterns' ``nonePaths``); otherwise they are left out.

    Returns
    -------
    pandas.DataFrame
        ``pathway, n_persons`` sorted by ``n_persons`` descending, then pathway. With
        ``concat_targets=False`` a person counts once per target episode.
    """
    pathway = patients["pathway"].astype(str)
    treated = pathway != ""
    pathway = pathway.where(treated, NONE_PATHWAY) if include_none else pathway[treated]
    counts = pathway.value_counts().rename_axis("pathway").reset_index(name="n_persons")
    counts["n_persons"] = counts["n_persons"].astype("int64")
    counts = counts.sort_values(
        ["n_persons", "pathway"], ascending=[False, True], kind="mergesort", ignore_index=True
    )
    return counts


@dataclass(frozen=True, eq=False)
class SankeyData:
    """Nodes and links of a Sankey diagram from pathway step k to step k + 1.

    Attributes
    ----------
    nodes : pandas.DataFrame
        ``node`` (0-based id), ``step`` (1-based), ``name``, ``label`` (``"<step>.<name>"``, as
        TreatmentPatterns labels its nodes).
    links : pandas.DataFrame
        ``source``, ``target`` (node ids), ``value`` (persons), ``source_label``,
        ``target_label``.
    """

    nodes: pd.DataFrame
    links: pd.DataFrame


def sankey_data(steps: pd.DataFrame, *, max_path_length: int) -> SankeyData:
    """Build the Sankey nodes and links of treated persons.

    A pathway shorter than ``max_path_length`` gets one link from its last step to a terminal
    ``"Stopped"`` node; a pathway cut at ``max_path_length`` may have continued, so it gets
    none.

    Parameters
    ----------
    steps : pandas.DataFrame
        Output of :func:`pathway_steps`.
    max_path_length : int
        The analysis setting.

    Returns
    -------
    SankeyData
        The nodes and links; empty frames when nobody was treated.
    """
    columns = _step_columns(steps)
    pieces = [_links_from_step(steps, k, columns, max_path_length) for k in columns]
    links = pd.concat(pieces, ignore_index=True) if pieces else _empty_links()
    nodes = _sankey_nodes(links)
    node_id = dict(zip(nodes["label"], nodes["node"], strict=True))
    links = pd.DataFrame(
        {
            "source": links["source_label"].map(node_id).astype("int64"),
            "target": links["target_label"].map(node_id).astype("int64"),
            "value": links["value"].astype("int64"),
            "source_label": links["source_label"].astype(str),
            "target_label": links["target_label"].astype(str),
        }
    )
    return SankeyData(nodes=nodes, links=links.sort_values(["source", "target"], ignore_index=True))


def _links_from_step(
    steps: pd.DataFrame, k: int, columns: list[int], max_path_length: int
) -> pd.DataFrame:
    """Persons moving from step ``k`` to step ``k + 1`` (or stopping), per pair of names."""
    here = steps[k]
    after = steps[k + 1] if k + 1 in columns else pd.Series(pd.NA, index=steps.index)
    stops = after.isna() & (k < max_path_length)
    moves = here.notna() & (after.notna() | stops)
    pairs = pd.DataFrame(
        {
            "source_name": here[moves].astype(str),
            "target_name": after[moves].astype(object).where(after[moves].notna(), STOPPED),
        }
    )
    links = pairs.groupby(["source_name", "target_name"], as_index=False).size()
    return pd.DataFrame(
        {
            "source_label": f"{k}." + links["source_name"].astype(str),
            "target_label": f"{k + 1}." + links["target_name"].astype(str),
            "value": links["size"].astype("int64"),
        }
    )


def _empty_links() -> pd.DataFrame:
    return pd.DataFrame({"source_label": [], "target_label": [], "value": []})


def _sankey_nodes(links: pd.DataFrame) -> pd.DataFrame:
    labels = pd.unique(pd.concat([links["source_label"], links["target_label"]]).astype(str))
    step = [int(label.split(".", 1)[0]) for label in labels]
    name = [label.split(".", 1)[1] for label in labels]
    nodes = pd.DataFrame({"step": step, "name": name, "label": labels})
    # Within a step, "Stopped" goes last so diagrams put it at the bottom.
    nodes["is_stopped"] = nodes["name"] == STOPPED
    nodes = nodes.sort_values(["step", "is_stopped", "name"], kind="mergesort", ignore_index=True)
    nodes.insert(0, "node", np.arange(len(nodes), dtype="int64"))
    return nodes.drop(columns="is_stopped").astype({"step": "int64"})


def sunburst_data(steps: pd.DataFrame) -> pd.DataFrame:
    """Return one record per pathway prefix with the persons whose pathway starts with it.

    Parameters
    ----------
    steps : pandas.DataFrame
        Output of :func:`pathway_steps`.

    Returns
    -------
    pandas.DataFrame
        ``path`` (prefix joined by "-"), ``parent`` (``""`` at depth 1), ``name`` (last
        step), ``depth``, ``n_persons`` (pathways starting with the prefix) and ``n_ending``
        (pathways equal to it); ready for a sunburst with ``ids=path, parents=parent,
        values=n_persons`` and "total" branch values.
    """
    columns = _step_columns(steps)
    pieces = []
    previous = np.full(len(steps), "", dtype=object)
    for k in columns:
        here = steps[k].to_numpy(dtype=object)
        present = pd.notna(here)
        path = _joined(steps, k)
        after_missing = (
            pd.isna(steps[k + 1].to_numpy()) if k + 1 in columns else np.ones(len(steps), bool)
        )
        pieces.append(
            pd.DataFrame(
                {
                    "path": path[present],
                    "parent": previous[present],
                    "name": here[present],
                    "depth": k,
                    "ends": after_missing[present],
                }
            )
        )
        previous = path
    if not pieces:
        return pd.DataFrame(
            {"path": [], "parent": [], "name": [], "depth": [], "n_persons": [], "n_ending": []}
        )
    records = pd.concat(pieces, ignore_index=True)
    out = records.groupby(["depth", "path", "parent", "name"], as_index=False).agg(
        n_persons=("ends", "size"), n_ending=("ends", "sum")
    )
    out = out.astype({"depth": "int64", "n_persons": "int64", "n_ending": "int64"})
    return out[["path", "parent", "name", "depth", "n_persons", "n_ending"]]


@dataclass(frozen=True, eq=False)
class PathwayResult:
    """Treatment pathways computed with TreatmentPatterns semantics.

    Attributes
    ----------
    patients : pandas.DataFrame
        One row per person with a target (per person and target episode when
        ``concat_targets=False``): ``person_id, [target_index,] pathway, n_steps``. Steps are
        joined by ``"-"``, a combination's parts by ``"+"``; ``""`` means no treatment.
    counts : pandas.DataFrame
        ``pathway, n_persons`` for treated persons, most frequent first (see
        :meth:`count_pathways` to include the untreated).
    treatment_history : pandas.DataFrame
        The final steps: ``person_id, target, seq, name, start_date, end_date,
        duration_days``.
    attrition : pandas.DataFrame
        ``step, reason, n_records, n_persons`` after each step of the pipeline.
    settings : dict
        Every argument of the run, JSON-serialisable.
    """

    patients: pd.DataFrame
    counts: pd.DataFrame
    treatment_history: pd.DataFrame
    attrition: pd.DataFrame
    settings: dict[str, Any]
    _steps: pd.DataFrame

    def count_pathways(self, *, include_none: bool = False) -> pd.DataFrame:
        """Count persons per pathway, optionally with the untreated under ``"None"``.

        Parameters
        ----------
        include_none : bool, default False
            Count persons with no treatment in their window as pathway ``"None"``.

        Returns
        -------
        pandas.DataFrame
            ``pathway, n_persons``, most frequent first.
        """
        return count_pathways(self.patients, include_none=include_none)

    def sankey(self) -> SankeyData:
        """Return the nodes and links of a Sankey diagram (values in persons).

        Returns
        -------
        SankeyData
            Nodes ``"<step>.<name>"`` and links from step k to k + 1, with a terminal
            ``"Stopped"`` node after pathways shorter than ``max_path_length``.
        """
        return sankey_data(self._steps, max_path_length=int(self.settings["max_path_length"]))

    def sunburst(self) -> pd.DataFrame:
        """Return the hierarchical records of a sunburst plot (prefix → persons).

        Returns
        -------
        pandas.DataFrame
            See :func:`sunburst_data`.
        """
        return sunburst_data(self._steps)
