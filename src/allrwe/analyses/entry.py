"""The analyses' entry points share one signature: the cohort, the spec, the kept rows.

Every analysis a run calls is entered as ``analyse_<name>(cohort, spec, rows, *, ...)``:

- ``cohort``: the study cohort (:class:`~allrwe.cohort.Cohort`);
- ``spec``: the resolved study spec the cohort was built with (after ``--min-cell-count``);
  each analysis reads its own section and the settings every analysis shares (index groups,
  strata, age bands, the suppression threshold);
- ``rows``: :class:`CdmRows`, the CDM with the rows the run keeps and the concept sets they
  were read with;
- keyword-only arguments: what the analysis builds on, produced by another one (the therapy
  inputs for pathways and outcomes, the variable strata).

The entry points are :func:`allrwe.analyses.baseline.analyse_baseline`,
:func:`allrwe.analyses.safety.analyse_safety`, :func:`allrwe.analyses.therapy.analyse_therapy`,
:func:`allrwe.analyses.pathways.groups.analyse_pathways` and
:func:`allrwe.analyses.outcomes.analyse_outcomes`; the run's steps
(:mod:`allrwe.study.stages`) call each the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from allrwe.io.cdm import CdmSource
from allrwe.io.vocabulary import Vocabulary

__all__ = ["CdmRows"]


@dataclass(frozen=True)
class CdmRows:
    """The rows an analysis reads: the CDM (with the kept rows) and the concept sets in force.

    Attributes
    ----------
    source : CdmSource
        The CDM; during a run the :class:`~allrwe.io.kept.KeptRows`, so the event queries read
        the rows kept once per table.
    vocab : Vocabulary
        The concept sets the rows were kept for.
    """

    source: CdmSource
    vocab: Vocabulary
