"""Shared fixtures: keep this file small and generic."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from cdm_files import TableData, write_cdm


@pytest.fixture
def tmp_cdm(tmp_path: Path) -> Callable[..., str]:
    """Factory: ``tmp_cdm({"person": [{...}], ...}, kind="duckdb"|"parquet") -> URL``.

    Row dicts are typed by the CDM v5.4 spec (dates as ISO strings are fine); a ``pyarrow.Table``
    is written as it is, e.g. to store a column with a wrong type. Each call writes a new CDM.
    """
    counter = itertools.count()

    def make(tables: Mapping[str, TableData], *, kind: str = "duckdb") -> str:
        return write_cdm(tmp_path / f"cdm{next(counter)}", tables, kind)

    return make
