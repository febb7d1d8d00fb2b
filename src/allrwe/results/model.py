"""The tidy results model: one long table of estimates plus the provenance of the run.

Every analysis reports into the same record shape (one row per estimate), so suppression,
export and the report need to know one layout only. See ``docs/results-model.md``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from allrwe.errors import ResultsError
from allrwe.results.provenance import Provenance

__all__ = [
    "COLUMNS",
    "ESTIMATE_TYPES",
    "KEY_COLUMNS",
    "MARGIN_SEPARATOR",
    "PAIR_SEPARATOR",
    "POOLED_PREFIX",
    "ROW_ID_COLUMNS",
    "TOTAL_PREFIX",
    "ResultSet",
    "count_rows",
    "pooled_label",
    "split_margin",
    "validate_records",
]

#: columns that identify the cell an estimate describes
KEY_COLUMNS = (
    "analysis",
    "group",
    "strata_name",
    "strata_level",
    "variable",
    "variable_level",
)
#: columns that identify one record (a cell and the name of its estimate)
ROW_ID_COLUMNS = (*KEY_COLUMNS, "estimate_name")
#: every column of a records table, in the order exports write them
COLUMNS = (*ROW_ID_COLUMNS, "estimate_type", "value", "suppressed", "margin")
#: the estimate types; only ``count`` cells are subject to small-cell suppression
ESTIMATE_TYPES = ("count", "numeric", "percentage", "date", "character")
#: separates the two groups a comparison record (an SMD) is computed from: ``"A vs B"``
PAIR_SEPARATOR = " vs "
#: separates several margin keys in the ``margin`` column
MARGIN_SEPARATOR = "|"
#: marks a margin token naming the margin a count cell is the published total of
TOTAL_PREFIX = "total:"

_STRING_COLUMNS = (*ROW_ID_COLUMNS, "estimate_type")
# A margin token that is empty, starts or ends with whitespace (``str.strip`` would change
# it; ``\s`` matches exactly the characters ``str.isspace`` accepts), or is a bare prefix.
_SEP, _END = re.escape(MARGIN_SEPARATOR), rf"(?={re.escape(MARGIN_SEPARATOR)}|\Z)"
_MALFORMED_TOKEN = re.compile(
    rf"(?:\A|{_SEP})(?:\s|{re.escape(TOTAL_PREFIX)}{_END}|{_END})|\s{_END}"
)
_OPTIONAL_DEFAULTS: dict[str, Any] = {"suppressed": False, "margin": ""}


def _fail(message: str) -> ResultsError:
    return ResultsError(message)


def _check_columns(records: pd.DataFrame) -> None:
    missing = [c for c in COLUMNS if c not in records.columns and c not in _OPTIONAL_DEFAULTS]
    if missing:
        raise _fail(f"results records lack column(s) {', '.join(map(repr, missing))}")
    extra = sorted(str(c) for c in records.columns if c not in COLUMNS)
    if extra:
        # Extra columns would reach every export unchecked (a person_id, say), so refuse them.
        raise _fail(
            f"results records have unexpected column(s) {', '.join(map(repr, extra))}; "
            f"allowed: {', '.join(COLUMNS)}"
        )


def _string_columns(records: pd.DataFrame) -> pd.DataFrame:
    """Return the columns of :data:`_STRING_COLUMNS` as strings, by position."""
    strings = records[list(_STRING_COLUMNS)]
    nulls = strings.isna().sum()
    for column in _STRING_COLUMNS:
        if nulls[column]:
            raise _fail(f"results column {column!r} is empty in {int(nulls[column])} row(s)")
    # String columns as they are (no round trip through Python objects), by position.
    return strings.astype(str).reset_index(drop=True)


def _value_column(records: pd.DataFrame) -> np.ndarray:
    raw = records["value"]
    numeric = pd.to_numeric(raw, errors="coerce")
    bad = int((numeric.isna() & raw.notna()).sum())
    if bad:
        raise _fail(f"results column 'value' holds {bad} non-numeric value(s)")
    return numeric.to_numpy(dtype="float64", na_value=np.nan)


def _check_counts(is_count: np.ndarray, values: np.ndarray) -> None:
    v = values[is_count]
    finite = v[~np.isnan(v)]
    bad = int(((finite < 0) | (finite != np.round(finite))).sum())
    if bad:
        raise _fail(f"{bad} count record(s) hold a value that is not a non-negative integer")


def _margin_column(records: pd.DataFrame, is_count: np.ndarray) -> pd.Series | list[str]:
    if "margin" not in records.columns:
        return [""] * len(records)
    series = records["margin"]
    margins = series.astype(object).where(series.notna(), "").astype(str).reset_index(drop=True)
    has_margin = (margins != "").to_numpy(dtype=bool)
    misplaced = int((has_margin & ~is_count).sum())
    if misplaced:
        raise _fail(f"{misplaced} non-count record(s) have a margin; only count cells form margins")
    malformed = _malformed_margins(margins[has_margin])
    if malformed:
        raise _fail(
            f"{malformed} record(s) have a malformed margin: use keys separated by "
            f"{MARGIN_SEPARATOR!r}, a total written as '{TOTAL_PREFIX}<key>'"
        )
    return margins


def _malformed_margins(fields: pd.Series) -> int:
    """Count the non-empty ``margin`` fields with an empty, padded or keyless token."""
    texts = fields.tolist()
    # Joining fields with the separator joins their tokens: one scan tells if any is bad.
    if not texts or not _MALFORMED_TOKEN.search(MARGIN_SEPARATOR.join(texts)):
        return 0
    return len(list(filter(_MALFORMED_TOKEN.search, texts)))


def count_rows(records: pd.DataFrame) -> dict[tuple[str, ...], int]:
    """Map the :data:`ROW_ID_COLUMNS` of each count record, as strings, to its row position.

    The attacker names the counts of its constraints by these keys; this finds their rows.
    """
    is_count = (records["estimate_type"] == "count").to_numpy()
    columns = [records[c].astype(str).tolist() for c in ROW_ID_COLUMNS]
    return {key: i for i, key in enumerate(zip(*columns, strict=True)) if is_count[i]}


def split_margin(margin: str) -> list[str]:
    """Split a ``margin`` field into its margin tokens (empty field: no tokens).

    Parameters
    ----------
    margin : str
        The field, e.g. ``"sex@BLIN|total:all@BLIN"``.

    Returns
    -------
    list of str
        The tokens in field order.
    """
    return margin.split(MARGIN_SEPARATOR) if margin else []


def _suppressed_column(records: pd.DataFrame) -> np.ndarray:
    if "suppressed" not in records.columns:
        return np.zeros(len(records), dtype=bool)
    series = records["suppressed"]
    n_null = int(series.isna().sum())
    if n_null:
        raise _fail(f"results column 'suppressed' is empty in {n_null} row(s)")
    # A bool column holds only booleans; other dtypes are checked value by value.
    if series.dtype != bool and not all(isinstance(v, bool | np.bool_) for v in series.tolist()):
        raise _fail("results column 'suppressed' must hold booleans")
    return series.to_numpy(dtype=bool)


def validate_records(records: pd.DataFrame) -> pd.DataFrame:
    """Check a records table and return it in canonical form.

    Canonical form has the columns of :data:`COLUMNS` in that order, string key columns,
    float ``value``, boolean ``suppressed``, ``margin`` as a string (``""`` for none), and
    rows sorted by :data:`KEY_COLUMNS` then ``estimate_name`` (a stable sort, so the same
    records always come out in the same order).

    Parameters
    ----------
    records : pandas.DataFrame
        Records with at least the columns of :data:`COLUMNS` except ``suppressed`` (default
        ``False``) and ``margin`` (default ``""``).

    Returns
    -------
    pandas.DataFrame
        A new, canonical records table.

    Raises
    ------
    ResultsError
        If a column is missing or unexpected, a key is empty, an estimate type is unknown, a
        value is not numeric, a count is negative or fractional, a margin is malformed or set
        on a non-count record, or two records share a cell and estimate name.
    """
    if not isinstance(records, pd.DataFrame):
        raise _fail(f"results records must be a pandas DataFrame, not {type(records).__name__}")
    _check_columns(records)
    strings = _string_columns(records)
    data: dict[str, Any] = {c: strings[c] for c in _STRING_COLUMNS}
    types: pd.Series = data["estimate_type"]
    unknown = sorted(set(types.unique().tolist()) - set(ESTIMATE_TYPES))
    if unknown:
        n_rows = int(types.isin(unknown).sum())
        raise _fail(
            f"unknown estimate_type {', '.join(map(repr, unknown))} in {n_rows} row(s); "
            f"valid: {', '.join(ESTIMATE_TYPES)}"
        )
    is_count = (types == "count").to_numpy(dtype=bool)
    data["value"] = _value_column(records)
    _check_counts(is_count, data["value"])
    data["suppressed"] = _suppressed_column(records)
    data["margin"] = _margin_column(records, is_count)
    frame = pd.DataFrame(data, columns=list(COLUMNS))
    order, dup = _row_order(strings)
    if dup:
        raise _fail(f"{dup} record(s) repeat a cell and estimate_name already present")
    if not bool((order == np.arange(len(order))).all()):
        frame = frame.take(order).reset_index(drop=True)
    return frame


def _row_order(strings: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Return the stable row order by :data:`ROW_ID_COLUMNS`, and how many rows repeat one.

    Parameters
    ----------
    strings : pandas.DataFrame
        The string columns, without missing values.

    Returns
    -------
    order : numpy.ndarray of int
        Row positions in sorted order; equal rows keep their order.
    repeats : int
        The number of rows whose :data:`ROW_ID_COLUMNS` equal those of an earlier row.
    """
    # Codes of sorted distinct values order like the values themselves.
    codes = np.stack([pd.factorize(strings[c], sort=True)[0] for c in ROW_ID_COLUMNS])
    order = np.lexsort(codes[::-1])
    ranked = codes[:, order]
    repeats = int((ranked[:, 1:] == ranked[:, :-1]).all(axis=0).sum())
    return order, repeats


def _check_suppression_state(frame: pd.DataFrame, provenance: Provenance) -> None:
    """Refuse records marked suppressed under a provenance that records no suppression."""
    if provenance.suppression is None and bool(frame["suppressed"].any()):
        raise ResultsError(
            f"{int(frame['suppressed'].sum())} record(s) are marked suppressed, but the "
            "provenance records no suppression; build results from raw estimates"
        )


class ResultSet:
    """A records table in canonical form together with its provenance.

    Parameters
    ----------
    records : pandas.DataFrame
        Records; validated and put in canonical form (see :func:`validate_records`).
    provenance : Provenance
        Where the records came from.

    Raises
    ------
    ResultsError
        If the records are malformed, or cells are marked suppressed in a result set whose
        provenance records no suppression.
    """

    def __init__(self, records: pd.DataFrame, provenance: Provenance) -> None:
        frame = validate_records(records)
        _check_suppression_state(frame, provenance)
        self._records = frame
        self._provenance = provenance

    @classmethod
    def create(
        cls,
        records: pd.DataFrame,
        *,
        spec: Mapping[str, Any] | Any,
        cdm_source: str,
        created_at: str | None = None,
    ) -> ResultSet:
        """Build an unsuppressed result set with this run's provenance.

        Parameters
        ----------
        records : pandas.DataFrame
            Raw (unsuppressed) records.
        spec : Mapping or pydantic model
            The study specification, hashed into the provenance.
        cdm_source : str
            Description of the CDM source.
        created_at : str, optional
            Timestamp to record instead of the current UTC time.

        Returns
        -------
        ResultSet
        """
        provenance = Provenance.collect(spec=spec, cdm_source=cdm_source, created_at=created_at)
        return cls(records, provenance)

    @property
    def records(self) -> pd.DataFrame:
        """pandas.DataFrame: a copy of the canonical records table."""
        return self._records.copy()

    @property
    def provenance(self) -> Provenance:
        """Provenance: where the records came from."""
        return self._provenance

    @property
    def is_suppressed(self) -> bool:
        """bool: whether small-cell suppression has been applied."""
        return self._provenance.suppression is not None

    def analyses(self) -> list[str]:
        """Return the analysis names present, sorted."""
        return sorted(set(self._records["analysis"]))

    def with_records(self, records: pd.DataFrame, provenance: Provenance) -> ResultSet:
        """Return a new result set with other records and provenance."""
        return type(self)(records, provenance)

    def _with_values(
        self, value: np.ndarray, suppressed: np.ndarray, provenance: Provenance
    ) -> ResultSet:
        """Return a new result set with new ``value`` and ``suppressed`` columns (suppression).

        The other columns and the row order are canonical already and are kept, so only the
        two new columns need checking: a float ``value`` (NaN or a count's value never breaks
        the count rule that held before, as suppression only blanks values) and booleans.

        Parameters
        ----------
        value : numpy.ndarray of float64
            The new values, aligned with the records; each is NaN or the value it replaces.
        suppressed : numpy.ndarray of bool
            The new flags, aligned with the records.
        provenance : Provenance
            The new provenance.

        Returns
        -------
        ResultSet
        """
        old = self._records["value"].to_numpy(dtype="float64")
        if (
            value.dtype != np.float64
            or suppressed.dtype != np.bool_
            or value.shape != old.shape
            or suppressed.shape != old.shape
            or bool((~np.isnan(value) & (value != old)).any())
        ):
            # Anything but blanking values goes through the full check.
            records = self._records.assign(value=value, suppressed=suppressed)
            return type(self)(records, provenance)
        frame = self._records.assign(value=value, suppressed=suppressed)
        _check_suppression_state(frame, provenance)
        result = object.__new__(type(self))
        result._records = frame
        result._provenance = provenance
        return result

    def __len__(self) -> int:
        return len(self._records)

    def __repr__(self) -> str:
        state = "suppressed" if self.is_suppressed else "not suppressed"
        return f"ResultSet({len(self)} records, {len(self.analyses())} analyses, {state})"

    @classmethod
    def concat(cls, result_sets: Iterable[ResultSet]) -> ResultSet:
        """Concatenate unsuppressed result sets from one run.

        Parameters
        ----------
        result_sets : iterable of ResultSet
            At least one; all with the same spec hash and CDM source, none suppressed
            (suppress once, after concatenating, so that margins are complete).

        Returns
        -------
        ResultSet
            The union of the records, with the first set's provenance.

        Raises
        ------
        ResultsError
            If there is nothing to concatenate, a set is already suppressed, the sets come
            from different specs or sources, or two sets hold the same record.
        """
        sets = list(result_sets)
        if not sets:
            raise ResultsError("ResultSet.concat needs at least one result set")
        if any(s.is_suppressed for s in sets):
            raise ResultsError(
                "cannot concatenate suppressed result sets; concatenate first, then suppress once"
            )
        first = sets[0].provenance
        for other in sets[1:]:
            for field in ("spec_hash", "cdm_source"):
                if getattr(other.provenance, field) != getattr(first, field):
                    raise ResultsError(
                        f"cannot concatenate result sets with different {field}: "
                        f"{getattr(first, field)!r} and {getattr(other.provenance, field)!r}"
                    )
        frame = pd.concat([s._records for s in sets], ignore_index=True)
        return cls(frame, dataclasses.replace(first, suppression=None))


#: start of the level that pools the rare levels of an open-ended list (pathways, regimens)
POOLED_PREFIX = "other (each fewer than "


def pooled_label(min_cell_count: int) -> str:
    """Level of the pooled rare levels of an open-ended list (pathways, regimens)."""
    return f"{POOLED_PREFIX}{min_cell_count})"
