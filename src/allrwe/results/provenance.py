"""Provenance of a result set: the spec hash, CDM source, versions, and the one timestamp."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import numpy as np

from allrwe import __version__
from allrwe.errors import ResultsError

__all__ = ["Provenance", "SuppressionSummary", "canonical_json", "spec_hash"]


def _json_default(obj: Any) -> Any:
    if isinstance(obj, dt.date | dt.datetime):
        return obj.isoformat()
    if isinstance(obj, PurePath):
        return obj.as_posix()
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=repr)
    if isinstance(obj, np.generic):
        return obj.item()
    raise ResultsError(f"study spec holds a {type(obj).__name__}, which has no JSON form")


def canonical_json(obj: Any) -> str:
    """Serialise ``obj`` as canonical JSON: sorted keys, no spaces, UTF-8, no NaN.

    Parameters
    ----------
    obj : Any
        JSON-able data; dates become ISO 8601 text, paths POSIX text, sets sorted lists.

    Returns
    -------
    str
        The canonical JSON text.

    Raises
    ------
    ResultsError
        If ``obj`` holds something without a JSON form, or a NaN/infinite float.
    """
    try:
        return json.dumps(
            obj,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            default=_json_default,
        )
    except ValueError as exc:
        raise ResultsError(f"study spec cannot be written as canonical JSON: {exc}") from None


def spec_hash(spec: Mapping[str, Any] | Any) -> str:
    """Return the SHA-256 (hex) of a study specification's canonical JSON.

    Parameters
    ----------
    spec : Mapping or pydantic model
        The study specification; a model is dumped with ``model_dump(mode="json")`` first.

    Returns
    -------
    str
        64 lower-case hex digits.

    Examples
    --------
    >>> spec_hash({"b": 1, "a": [1, 2]}) == spec_hash({"a": [1, 2], "b": 1})
    True
    """
    if hasattr(spec, "model_dump"):
        spec = spec.model_dump(mode="json")
    if not isinstance(spec, Mapping):
        raise ResultsError(f"study spec must be a mapping or a model, not {type(spec).__name__}")
    return hashlib.sha256(canonical_json(dict(spec)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SuppressionSummary:
    """What :func:`allrwe.results.suppress` did, for provenance.

    Primary and complementary suppressions are deliberately counted together: telling them
    apart would hint at which hidden cells are the small ones.

    Parameters
    ----------
    min_cell_count : int
        Counts from 1 to ``min_cell_count - 1`` were suppressed.
    count_cells : int
        Count records suppressed (small ones and their complements).
    linked : int
        Non-count records (percentages, statistics, estimates) suppressed with a count.
    policy : {"complementary", "per_cell", "none"}, default "complementary"
        The suppression policy of the study spec; ``none`` publishes every count.
    """

    min_cell_count: int
    count_cells: int
    linked: int
    policy: str = "complementary"

    @property
    def hides_below(self) -> int:
        """int: counts from 1 to this minus 1 are hidden (1: none are, policy ``none``)."""
        return 1 if self.policy == "none" else self.min_cell_count

    def to_dict(self) -> dict[str, int | str]:
        """Return the summary as a JSON-able dict (key names avoid count-like words)."""
        return {
            "min_cell_count": self.min_cell_count,
            "policy": self.policy,
            "suppressed_count_cells": self.count_cells,
            "suppressed_linked": self.linked,
        }


def _now_utc() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Provenance:
    """Where a result set came from.

    ``created_at`` is the only field that changes between two runs of the same study on the
    same machine; exports write it to ``provenance.json`` only.

    Parameters
    ----------
    spec_hash : str
        SHA-256 of the study spec's canonical JSON (see :func:`spec_hash`).
    cdm_source : str
        Description of the CDM source, holding no password.
    allrwe_version : str
        The allrwe version that produced the results.
    python_version : str
        ``major.minor.micro`` of the interpreter.
    platform : str
        ``platform.platform()`` of the machine.
    created_at : str
        ISO 8601 UTC timestamp of the run.
    suppression : SuppressionSummary or None
        Set once the results have been suppressed.
    concept_sets : Mapping or None
        Per concept set, what it resolved to in the CDM's vocabulary (``listed`` and
        ``resolved`` concept ids, ``present``); set by a study run.
    cdm : Mapping or None
        The CDM's ``cdm_source`` row as text (``cdm_source_name``, ``source_description``,
        ``cdm_version``, ``vocabulary_version``, ``source_release_date``) and its
        ``description``; set by a study run, shown in the report's title block.
    settings : Mapping or None
        Analysis settings that the study spec does not hold as written (the normalised
        settings of the pathway analysis under ``pathways``); set by a study run, written
        in the report's methods. With the spec and the records they are all a report needs.
    """

    spec_hash: str
    cdm_source: str
    allrwe_version: str
    python_version: str
    platform: str
    created_at: str
    suppression: SuppressionSummary | None = None
    concept_sets: Mapping[str, Any] | None = None
    cdm: Mapping[str, str] | None = None
    settings: Mapping[str, Any] | None = None

    @classmethod
    def collect(
        cls, *, spec: Mapping[str, Any] | Any, cdm_source: str, created_at: str | None = None
    ) -> Provenance:
        """Build the provenance of a run on this machine, now.

        Parameters
        ----------
        spec : Mapping or pydantic model
            The study specification (hashed, not stored).
        cdm_source : str
            Description of the CDM source.
        created_at : str, optional
            Timestamp to record instead of the current UTC time.

        Returns
        -------
        Provenance
        """
        return cls(
            spec_hash=spec_hash(spec),
            cdm_source=str(cdm_source),
            allrwe_version=__version__,
            python_version=platform.python_version(),
            platform=platform.platform(),
            created_at=created_at if created_at is not None else _now_utc(),
        )

    def to_dict(self, *, timestamp: bool = True) -> dict[str, Any]:
        """Return the provenance as a JSON-able dict.

        Parameters
        ----------
        timestamp : bool, default True
            Include ``created_at``; exports leave it out of everything but
            ``provenance.json`` so their bytes do not depend on the time of the run.

        Returns
        -------
        dict
        """
        out: dict[str, Any] = {
            "spec_hash": self.spec_hash,
            "cdm_source": self.cdm_source,
            "allrwe_version": self.allrwe_version,
            "python_version": self.python_version,
            "platform": self.platform,
            "suppression": None if self.suppression is None else self.suppression.to_dict(),
        }
        if self.concept_sets is not None:
            out["concept_sets"] = dict(self.concept_sets)
        if self.cdm is not None:
            out["cdm"] = dict(self.cdm)
        if self.settings is not None:
            out["settings"] = dict(self.settings)
        if timestamp:
            out["created_at"] = self.created_at
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Provenance:
        """Read the provenance back from what :meth:`to_dict` wrote (``provenance.json``).

        Parameters
        ----------
        data : Mapping
            The parsed ``provenance.json``.

        Returns
        -------
        Provenance

        Raises
        ------
        ResultsError
            If a field is missing or the suppression summary is malformed.
        """
        missing = [f for f in _REQUIRED if f not in data]
        if missing:
            raise ResultsError(f"provenance lacks field(s) {', '.join(missing)}")
        summary = data.get("suppression")
        try:
            suppression = (
                None
                if summary is None
                else SuppressionSummary(
                    min_cell_count=int(summary["min_cell_count"]),
                    count_cells=int(summary["suppressed_count_cells"]),
                    linked=int(summary["suppressed_linked"]),
                    policy=str(summary.get("policy", "complementary")),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultsError(f"provenance has a malformed suppression summary: {exc}") from None
        return cls(
            **{f: str(data[f]) for f in _REQUIRED},
            suppression=suppression,
            concept_sets=data.get("concept_sets"),
            cdm=data.get("cdm"),
            settings=data.get("settings"),
        )


#: the fields every ``provenance.json`` holds
_REQUIRED = (
    "spec_hash",
    "cdm_source",
    "allrwe_version",
    "python_version",
    "platform",
    "created_at",
)
