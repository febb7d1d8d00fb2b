"""A folder of OMOP CSV files read directly: upper- or lower-case names, typed by the CDM spec.

The example CDM written as an ETL or Athena export gives it: upper-case file names, the
vocabulary's ``CONCEPT.csv`` tab-separated with ``YYYYMMDD`` dates, empty fields for nulls.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from allrwe.errors import UsageError
from allrwe.io import connect
from allrwe.io.check import READ_TABLES, check_cdm
from allrwe.io.example import example_cdm_path


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("csv")
    parquet = Path("/" + example_cdm_path("parquet", root / "parquet").removeprefix("parquet:///"))
    csv = root / "csv"
    csv.mkdir()
    for file in sorted(parquet.glob("*.parquet")):
        table = pq.read_table(file)
        if file.stem == "concept":
            dates = [c for c in table.column_names if c.endswith("_date")]
            for c in dates:
                text = [None if d is None else d.strftime("%Y%m%d") for d in table[c].to_pylist()]
                table = table.set_column(table.column_names.index(c), c, [text])
            options = pacsv.WriteOptions(delimiter="\t")
            pacsv.write_csv(table, csv / "CONCEPT.csv", write_options=options)
        else:
            pacsv.write_csv(table, csv / f"{file.stem.upper()}.csv")
    return parquet, csv


def test_reads_every_table_as_the_parquet_folder(folders: tuple[Path, Path]) -> None:
    parquet, csv = folders
    with connect(str(parquet)) as want, connect(str(csv)) as got:
        assert got.kind == "csv"
        assert sorted(got.tables) == sorted(want.tables)
        for name in want.tables:
            a = want.execute(want.table(name)).sort_index(axis=1)
            b = got.execute(got.table(name)).sort_index(axis=1)
            assert list(a.columns) == list(b.columns), name
            assert len(a) == len(b), name
        person = got.table("person").schema()
        assert person["year_of_birth"].is_integer()
        assert got.table("concept").schema()["valid_start_date"].is_date()
        report = check_cdm(got, read=READ_TABLES)
    assert report.ok, [f.message for f in report.errors]


def test_a_csv_scheme_url_and_a_bad_folder(folders: tuple[Path, Path], tmp_path: Path) -> None:
    _, csv = folders
    with connect(f"csv://{csv}") as source:
        assert int(source.execute(source.table("person").count())) == 20
    with pytest.raises(UsageError, match=r"holds no <table>\.csv file"):
        connect(f"csv://{tmp_path}")
