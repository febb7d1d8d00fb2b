"""Names from user configuration never reach SQL text unchecked.

Schema and table names are checked by ``validate_identifier`` (letters, digits, underscores);
everything else (paths, URLs) never becomes SQL. A scan of the source tree lists every SQL
statement built from a format string, so a new one needs a reviewed reason here.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import duckdb
import pytest

from allrwe.errors import UsageError
from allrwe.io.source import connect, validate_identifier
from corpus.example_runs import cli, example_source, source_path

SRC = Path(__file__).resolve().parents[1] / "src" / "allrwe"
SQL_CALLS = {"execute", "executemany", "sql", "raw_sql", "query"}

#: every SQL text built by formatting in src/allrwe, and why its parts are safe
REVIEWED: dict[tuple[str, str, str], str] = {
    (
        "io/example.py",
        "_write_duckdb",
        'f"CREATE TABLE {name} AS SELECT * FROM _arrow_source"',
    ): "name comes from the constant EXAMPLE_TABLES",
    (
        "io/write.py",
        "_load_spark",
        'f"CREATE DATABASE IF NOT EXISTS {database}"',
    ): "database passed validate_identifier in load_cdm",
    (
        "io/write.py",
        "_save_spark_table",
        'f"DROP TABLE IF EXISTS {qualified}"',
    ): "database and table names passed validate_identifier in load_cdm",
    (
        "io/backends/spark.py",
        "list_tables",
        'f"SHOW TABLES IN {database}"',
    ): "database is the CdmSource schema, which passed validate_identifier in connect()",
    (
        "io/backends/csv.py",
        "connect_csv",
        'f"SELECT * FROM {source}"',
    ): "source is read_csv() of a file path with its single quotes doubled",
    (
        "io/backends/csv.py",
        "connect_csv",
        "f\"CREATE VIEW {name} AS SELECT {', '.join(parts)} FROM {source}\"",
    ): (
        "name and every lower-cased column passed validate_identifier; the file's own column"
        " names are double-quoted with their double quotes doubled; casts are constants"
    ),
    (
        "cohort/external.py",
        "circe_rows",
        'f"DROP TABLE IF EXISTS {target}"',
    ): "target is 'allrwe_circe_' and the absolute value of an int",
    (
        "cohort/external.py",
        "circe_rows",
        'f"SELECT subject_id, cohort_start_date, cohort_end_date FROM {target} " '
        'f"WHERE cohort_definition_id = {int(cohort_id)} ORDER BY 1, 2"',
    ): "target is 'allrwe_circe_' and the absolute value of an int; the id is an int",
    (
        "cohort/external.py",
        "circe_rows",
        'f"DROP TABLE {target}"',
    ): "target is 'allrwe_circe_' and the absolute value of an int",
    (
        "io/write.py",
        "parquet_dir_to_duckdb",
        'f"SET threads = {int(threads)}"',
    ): "an int",
    (
        "io/write.py",
        "parquet_dir_to_duckdb",
        'f"CREATE TABLE {name} AS SELECT * FROM read_parquet(?, file_row_number = false)"',
    ): "name passed validate_identifier on the line before; the path is a parameter",
    (
        "io/write.py",
        "parquet_dir_to_duckdb",
        'f"SELECT count(*) FROM {name}"',
    ): "name passed validate_identifier",
}


@pytest.mark.parametrize("name", ["cdm", "cdm_54", "_x", "A" * 63, "CDM_v5"])
def test_plain_identifiers_pass(name: str) -> None:
    assert validate_identifier(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "1cdm",
        "cdm-54",
        "x;drop table y",
        "cdm person",
        "cdm.person",
        '"cdm"',
        "cdm'--",
        "A" * 64,
        "données",
        "cdm\n",
    ],
)
def test_anything_else_is_a_usage_error(name: str) -> None:
    with pytest.raises(UsageError, match="use letters, digits and underscores only") as info:
        validate_identifier(name, what="schema name")
    assert info.value.exit_code == 2
    assert str(info.value).startswith(f"invalid schema name {name!r}")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@h/db?schema=x;drop table y",
        "postgresql://u@h/db?schema=x%3Bdrop%20table%20y",
        "postgres://u:secret@h:5433/db?schema=omop.cdm.person",  # catalog.schema at most
        "spark://?schema=a b",
    ],
)
def test_connect_refuses_a_bad_schema_before_connecting(url: str) -> None:
    # no server exists at h: the schema is refused before any connection is tried
    with pytest.raises(UsageError, match="invalid schema name"):
        connect(url)


def test_bad_schema_in_a_duckdb_url_or_argument(tmp_path_factory: pytest.TempPathFactory) -> None:
    url = example_source(tmp_path_factory, "duckdb")
    with pytest.raises(UsageError, match=r"invalid schema name 'main; drop table person'"):
        connect(url + "?schema=main; drop table person")
    with pytest.raises(UsageError, match="invalid schema name"):
        connect(url, schema="main--")


def test_cli_bad_schema_exits_2_in_one_line() -> None:
    code, out, err = cli("check", "--cdm", "postgresql://u@h/db?schema=x;drop table y")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "invalid schema name 'x;drop table y'" in err


@pytest.mark.parametrize("entry", ["person; drop.parquet", "drug-exposure.parquet", "x y"])
def test_parquet_file_or_folder_with_a_bad_table_name_exits_2(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, entry: str
) -> None:
    folder = tmp_path / "cdm"
    shutil.copytree(source_path(example_source(tmp_path_factory, "parquet")), folder)
    if entry.endswith(".parquet"):
        shutil.copy(folder / "person.parquet", folder / entry)
    else:
        (folder / entry).mkdir()
        shutil.copy(folder / "person.parquet", folder / entry / "part-0.parquet")
    code, out, err = cli("check", "--cdm", f"parquet://{folder}")
    name = entry.removesuffix(".parquet")
    assert (code, out) == (2, "")
    assert f"invalid table name {name!r}" in err
    assert err.count("\n") == 1


def test_a_duckdb_table_with_metacharacters_is_quoted_not_pasted(tmp_path: Path) -> None:
    # A table of the source database is named by the database, not by the user; allrwe reads
    # it through Ibis, which quotes, and ignores it as not a CDM table.
    path = tmp_path / "cdm.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE TABLE person (person_id BIGINT)")
        con.execute('CREATE TABLE "person; DROP TABLE person" (x INTEGER)')
    finally:
        con.close()
    with connect(f"duckdb://{path}") as cdm:
        assert cdm.tables == ["person", "person; drop table person"]
        assert cdm.table("person; DROP TABLE person").columns == ("x",)
        assert cdm.execute(cdm.table("person").count()) == 0
    code, _, err = cli("check", "--cdm", f"duckdb://{path}")
    assert code == 1
    assert "required table 'observation_period' is missing" in err
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = sorted(r[0] for r in con.execute("SHOW TABLES").fetchall())
    finally:
        con.close()
    assert tables == ["person", "person; DROP TABLE person"]


def _formatted_sql() -> dict[tuple[str, str, str], int]:
    found: dict[tuple[str, str, str], int] = {}
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for func, node in _sql_calls(ast.parse(text), "<module>"):
            if _is_formatted(node.args[0]):
                key = (path.relative_to(SRC).as_posix(), func, _segment(text, node.args[0]))
                found[key] = node.lineno
    return found


def _sql_calls(node: ast.AST, func: str) -> list[tuple[str, ast.Call]]:
    # (innermost enclosing function, call) for every call of a SQL method with an argument
    out = []
    for child in ast.iter_child_nodes(node):
        inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else func
        called = (
            child.func.attr
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
            else child.func.id  # a SQL function passed around, e.g. ``execute``
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Name)
            else None
        )
        if isinstance(child, ast.Call) and called in SQL_CALLS and child.args:
            out.append((func, child))
        out.extend(_sql_calls(child, inner))
    return out


def _is_formatted(arg: ast.expr) -> bool:
    if isinstance(arg, ast.JoinedStr | ast.BinOp):
        return True
    if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute):
        if arg.func.attr != "format":
            return False
        # psycopg's sql.SQL(...).format(sql.Identifier(...)) quotes: composition, not pasting
        receiver = arg.func.value
        return not (
            isinstance(receiver, ast.Call)
            and isinstance(receiver.func, ast.Attribute)
            and receiver.func.attr == "SQL"
        )
    return False


def _segment(text: str, node: ast.expr) -> str:
    return " ".join((ast.get_source_segment(text, node) or "").split())


def test_every_formatted_sql_statement_in_the_source_is_reviewed() -> None:
    found = _formatted_sql()
    new = {f"{k[0]}:{line} {k[1]}: {k[2]}" for k, line in found.items() if k not in REVIEWED}
    gone = set(REVIEWED) - set(found)
    assert not new, f"SQL built by formatting, not yet reviewed in this test: {sorted(new)}"
    assert not gone, f"reviewed statements no longer in the source (update REVIEWED): {gone}"


def test_the_scan_finds_pasted_sql() -> None:
    # the scanner itself: a pasted name is found, a parameter and psycopg composition are not
    code = (
        "def f(con, sql, name, schema):\n"
        "    con.execute(f'SELECT * FROM {name}')\n"
        "    con.execute('SELECT * FROM t WHERE x = ?', [name])\n"
        "    con.execute(sql.SQL('DROP TABLE {}').format(sql.Identifier(name)))\n"
        "    con.raw_sql('SET search_path = ' + schema)\n"
        "    con.sql('SELECT {}'.format(name))\n"
    )
    calls = [
        n
        for n in ast.walk(ast.parse(code))
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
        if n.func.attr in SQL_CALLS
    ]
    assert [_is_formatted(c.args[0]) for c in calls] == [True, False, False, True, True]
