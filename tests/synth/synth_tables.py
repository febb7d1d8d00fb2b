"""Read a synthetic CDM and its truth into pandas, for the synth tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

from allrwe.io.vocabulary import load_vocabulary


@cache
def cdm(root: str, table: str) -> pd.DataFrame:
    """A CDM table of a Parquet synthetic CDM."""
    return pd.read_parquet(Path(root) / table)


@cache
def truth(root: str, table: str) -> pd.DataFrame:
    """A truth table (``patients``, ``cycles``, ``responses``, ``aes``)."""
    return pd.read_parquet(Path(root) / "truth" / f"truth_{table}")


def cid(key: str) -> int:
    """The concept id the generator writes for a set: its first standard concept, in file order."""
    s = load_vocabulary().concept_set(key)
    standard = [c.concept_id for c in s.concepts if c.standard and not c.exclude]
    return standard[0] if standard else s.concept_ids[0]


def ids(key: str) -> list[int]:
    """Concept ids of a set or group of the bundled vocabulary."""
    return load_vocabulary().concept_ids(key)


def days(series: pd.Series) -> pd.Series:
    """Dates as integer days since 1970-01-01."""
    return (pd.to_datetime(series) - pd.Timestamp("1970-01-01")).dt.days
