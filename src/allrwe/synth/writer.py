"""Parquet part files whose layout depends on person ids only, never on the chunk size.

Every table is a folder of part files ``part-00000.parquet``, ... Part ``k`` holds persons
``k * PART_PERSONS + 1`` to ``(k + 1) * PART_PERSONS``; inside it, each run of
:data:`ROW_GROUP_PERSONS` persons is one row group. Rows arrive sorted by person in chunks of
any size and are buffered until a row group is complete, so the same rows give the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["PART_PERSONS", "ROW_GROUP_PERSONS", "PartWriter"]

#: persons per Parquet row group
ROW_GROUP_PERSONS = 16_384
#: persons per part file (64 row groups)
PART_PERSONS = 64 * ROW_GROUP_PERSONS
_OPTIONS = {"compression": "zstd", "compression_level": 1, "use_dictionary": True}


class PartWriter:
    """Write one table's rows (sorted by ``person_id``) as fixed-layout part files.

    Parameters
    ----------
    folder : pathlib.Path
        The table's folder; created.
    schema : pyarrow.Schema
        The table's schema (must have ``person_id``).
    persons : int
        Number of persons of the run; fixes the number of part files.
    """

    def __init__(self, folder: Path, schema: pa.Schema, persons: int) -> None:
        self.folder = folder
        self.schema = schema
        self.persons = persons
        self.rows = 0
        self._buffer: list[pa.Table] = []
        self._group = 0
        self._part = -1
        self._writer: pq.ParquetWriter | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def n_groups(self) -> int:
        """Row groups of the run (at least one, so that an empty table still has a file)."""
        return max(1, -(-self.persons // ROW_GROUP_PERSONS))

    def _open(self, part: int) -> pq.ParquetWriter:
        if part != self._part:
            if self._writer is not None:
                self._writer.close()
            path = self.folder / f"part-{part:05d}.parquet"
            self._writer = pq.ParquetWriter(path, self.schema, **_OPTIONS)
            self._part = part
        assert self._writer is not None
        return self._writer

    def add(self, table: pa.Table, *, through_person: int) -> None:
        """Buffer rows and write every row group complete up to ``through_person``."""
        if table.num_rows:
            self._buffer.append(table)
        while self._group < self.n_groups and (self._group + 1) * ROW_GROUP_PERSONS <= max(
            through_person, 0
        ):
            self._write_group()

    def close(self) -> None:
        """Write the remaining row groups and close the last file."""
        while self._group < self.n_groups:
            self._write_group()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _write_group(self) -> None:
        last = (self._group + 1) * ROW_GROUP_PERSONS
        buffered = pa.concat_tables(self._buffer) if self._buffer else self.schema.empty_table()
        persons = buffered.column("person_id").to_numpy()
        cut = int(np.searchsorted(persons, last, side="right"))
        group = buffered.slice(0, cut).combine_chunks()
        rest = buffered.slice(cut)
        self._buffer = [rest] if rest.num_rows else []
        writer = self._open(self._group * ROW_GROUP_PERSONS // PART_PERSONS)
        if group.num_rows:
            writer.write_table(group, row_group_size=group.num_rows)
            self.rows += group.num_rows
        self._group += 1
