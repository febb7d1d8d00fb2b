"""URLs as Ibis reads them; the old four-slash form with a warning; two-part schemas; Spark."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import ibis
import pytest

from allrwe.errors import UsageError
from allrwe.io.backends.spark import spark_master as _spark_master
from allrwe.io.example import example_cdm_path
from allrwe.io.source import UrlFormWarning, cdm_url, connect, validate_schema
from allrwe.io.url import url_path as _url_path


@pytest.fixture(scope="module")
def duck(tmp_path_factory) -> Path:
    url = example_cdm_path("duckdb", tmp_path_factory.mktemp("cdm"))
    return Path(url.removeprefix("duckdb://"))


def test_three_slashes_give_an_absolute_path_as_in_ibis(duck: Path) -> None:
    url = f"duckdb://{duck}"
    assert url.startswith("duckdb:///")
    assert _url_path(urlparse(url)) == duck
    with connect(url) as cdm:
        assert cdm.execute(cdm.table("person").count()) == 20
    # the same rule as ibis.connect
    con = ibis.connect(url, read_only=True)
    try:
        assert "person" in con.list_tables()
    finally:
        con.disconnect()


def test_four_slashes_still_work_with_a_warning(duck: Path) -> None:
    with (
        pytest.warns(UrlFormWarning, match=r"write 'duckdb:///"),
        connect(f"duckdb:///{duck}") as cdm,
    ):
        assert cdm.execute(cdm.table("person").count()) == 20


def test_host_part_is_a_relative_path(duck: Path, monkeypatch) -> None:
    monkeypatch.chdir(duck.parent.parent)
    relative = duck.relative_to(duck.parent.parent)
    assert _url_path(urlparse(f"duckdb://{relative.as_posix()}")) == relative
    with connect(f"duckdb://{relative.as_posix()}") as cdm:
        assert cdm.has("person")


def test_old_relative_form_is_read_with_a_warning(duck: Path, monkeypatch) -> None:
    monkeypatch.chdir(duck.parent.parent)
    relative = duck.relative_to(duck.parent.parent).as_posix()
    assert not Path("/" + relative).exists()
    with pytest.warns(UrlFormWarning, match="relative path"):
        assert _url_path(urlparse(f"duckdb:///{relative}")) == Path(relative)


def test_missing_parquet_folder_names_the_absolute_path_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        connect(f"parquet://{tmp_path}/absent")
    text = str(err.value)
    assert f"'{tmp_path}/absent' does not exist" in text
    assert "parquet:///abs/path" in text


def test_cdm_url_round_trips(tmp_path: Path) -> None:
    url = cdm_url(tmp_path / "x.duckdb", "duckdb")
    assert url == f"duckdb://{tmp_path}/x.duckdb"
    assert _url_path(urlparse(url)) == tmp_path / "x.duckdb"
    rel = cdm_url("x.duckdb", "duckdb")
    assert rel == f"duckdb://{Path(os.getcwd()) / 'x.duckdb'}"


@pytest.mark.parametrize("name", ["cdm", "omop.cdm_54"])
def test_one_and_two_part_schemas_are_valid(name: str) -> None:
    assert validate_schema(name) == name


@pytest.mark.parametrize("name", ["a.b.c", "omop.cdm;drop", ".cdm", "cdm."])
def test_bad_schemas_are_refused(name: str) -> None:
    with pytest.raises(UsageError, match="schema name"):
        validate_schema(name)


def test_two_part_schema_reads_duckdb_catalog_and_schema(duck: Path) -> None:
    url = f"duckdb://{duck}?schema={duck.stem}.main"
    with connect(url) as cdm:
        assert cdm.schema == f"{duck.stem}.main"
        assert cdm.execute(cdm.table("person").count()) == 20


def test_an_ibis_backend_is_used_as_given_and_left_open(duck: Path) -> None:
    con = ibis.duckdb.connect(str(duck), read_only=True)
    source = connect(con)
    assert (source.kind, source.description) == ("duckdb", "duckdb (Ibis backend)")
    assert source.execute(source.table("person").count()) == 20
    assert connect(source.backend, schema="main").schema == "main"
    con.disconnect()


@pytest.mark.parametrize(
    ("url", "master"),
    [
        ("spark://", None),
        ("spark://?schema=cdm", None),
        (
            "spark://spark-master.example.org:7077?schema=cdm",
            "spark://spark-master.example.org:7077",
        ),
        ("sc://connect.example.org:15002", "sc://connect.example.org:15002"),
    ],
)
def test_spark_host_is_kept_never_dropped(url: str, master: str | None) -> None:
    assert _spark_master(urlparse(url)) == master


def test_spark_connect_without_host_is_refused() -> None:
    with pytest.raises(UsageError, match="needs a host"):
        connect("sc://?schema=cdm")
