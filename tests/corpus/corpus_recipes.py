"""A corpus of malformed CDMs, each a small recipe applied to the bundled example CDM.

No database file is committed: :func:`build` writes a recipe's CDM into a temporary folder at
test time, as a DuckDB file or a Parquet folder. A recipe says what ``allrwe check`` must answer:
the exit code, the findings (severity, table, column, rule, rows) and fragments of the message.

Run ``python tests/corpus/corpus_recipes.py`` to rewrite the recipe table in
``docs/reliability.md`` (``tests/corpus/test_corpus_doc.py`` fails when it is stale).
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from allrwe.io.example import example_tables

Kind = Literal["duckdb", "parquet"]
Tables = dict[str, pa.Table]
Step = Callable[[Tables], None]
Writer = Callable[[Tables, Path, Kind], str]

BOTH: tuple[Kind, ...] = ("duckdb", "parquet")
INT64_MAX = 2**63 - 1
DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
BEGIN, END = "<!-- corpus:begin -->", "<!-- corpus:end -->"


@dataclass(frozen=True)
class Expected:
    """A finding ``allrwe check --json`` must report (``rows`` None: a structural finding)."""

    severity: str
    table: str
    column: str | None
    rule: str
    rows: int | None


def err(table: str, column: str | None, rule: str, rows: int | None = None) -> Expected:
    """An expected error."""
    return Expected("error", table, column, rule, rows)


def warn(table: str, column: str | None, rule: str, rows: int | None = None) -> Expected:
    """An expected warning."""
    return Expected("warning", table, column, rule, rows)


@dataclass(frozen=True)
class Recipe:
    """One malformed CDM and the answer ``allrwe check`` owes it.

    ``steps`` change the example tables; ``writer`` (optional) lays the files out itself, for
    damage below the table level. ``clean`` means exit 0 with no finding at all. ``defect``
    names a known defect: the test is expected to fail until it is fixed. ``run_exit`` is what
    ``allrwe run`` of ``example_study.yaml`` exits with, where it has been pinned;
    ``run_defect`` names a known defect of the run on this CDM (the run is not attempted).
    """

    name: str
    what: str
    exit_code: int
    steps: tuple[Step, ...] = ()
    expect: tuple[Expected, ...] = ()
    fragments: tuple[str, ...] = ()
    kinds: tuple[Kind, ...] = ("duckdb",)
    writer: Writer | None = None
    clean: bool = False
    defect: str | None = None
    run_exit: int | None = None
    run_defect: str | None = None
    group: str = field(default="")

    @property
    def warnings_only(self) -> bool:
        """Check passes but reports something: the recipes a study must survive or refuse."""
        return self.exit_code == 0 and not self.clean


# ------------------------------------------------------------------------------ table edits


def _column(t: pa.Table, name: str, array: pa.Array | pa.ChunkedArray) -> pa.Table:
    i = t.schema.get_field_index(name)
    return t.set_column(i, pa.field(name, array.type), array)


def _where(t: pa.Table, column: str, value: Any) -> list[int]:
    return [i for i, v in enumerate(t[column].to_pylist()) if v == value]


def drop_table(name: str) -> Step:
    """Remove a table."""

    def step(tables: Tables) -> None:
        del tables[name]

    return step


def drop_column(table: str, column: str) -> Step:
    """Remove a column."""

    def step(tables: Tables) -> None:
        tables[table] = tables[table].drop_columns([column])

    return step


def cast(table: str, column: str, typ: pa.DataType) -> Step:
    """Store a column as another Arrow type (dates to text, ids to text, ...)."""

    def step(tables: Tables) -> None:
        t = tables[table]
        tables[table] = _column(t, column, t[column].cast(typ))

    return step


def set_values(
    table: str,
    column: str,
    value: Any | Callable[[Any], Any],
    rows: Sequence[int] | None = None,
    *,
    typ: pa.DataType | None = None,
) -> Step:
    """Set ``column`` at ``rows`` (all rows if None) to ``value`` or ``value(old)``."""

    def step(tables: Tables) -> None:
        t = tables[table]
        values = t[column].to_pylist()
        for i in range(len(values)) if rows is None else rows:
            values[i] = value(values[i]) if callable(value) else value
        tables[table] = _column(
            t, column, pa.array(values, type=typ or t.schema.field(column).type)
        )

    return step


def set_for_person(table: str, column: str, person_id: int, value: Any) -> Step:
    """Set ``column`` on every row of one person."""

    def step(tables: Tables) -> None:
        rows = _where(tables[table], "person_id", person_id)
        set_values(table, column, value, rows)(tables)

    return step


def append_copies(table: str, rows: Sequence[int], **changes: Any) -> Step:
    """Append copies of ``rows`` with ``changes`` applied."""

    def step(tables: Tables) -> None:
        t = tables[table]
        extra = t.take(list(rows))
        for column, value in changes.items():
            extra = _column(extra, column, pa.array([value] * extra.num_rows, t[column].type))
        tables[table] = pa.concat_tables([t, extra])

    return step


def drop_persons(table: str, *person_ids: int) -> Step:
    """Remove the rows of some persons from a table."""

    def step(tables: Tables) -> None:
        t = tables[table]
        keep = pc.invert(pc.is_in(t["person_id"], pa.array(person_ids, pa.int64())))
        tables[table] = t.filter(keep)

    return step


def empty(*names: str) -> Step:
    """Keep the tables' columns but none of their rows (all tables if no name is given)."""

    def step(tables: Tables) -> None:
        for name in names or list(tables):
            tables[name] = tables[name].slice(0, 0)

    return step


def relabel_person(old: int, new: int) -> Step:
    """Give person ``old`` the id ``new`` in every table."""

    def step(tables: Tables) -> None:
        for name, t in list(tables.items()):
            if "person_id" in t.column_names:
                set_values(name, "person_id", lambda v: new if v == old else v)(tables)

    return step


def rename_columns(table: str, rename: Callable[[int, str], str]) -> Step:
    """Rename every column of a table."""

    def step(tables: Tables) -> None:
        t = tables[table]
        tables[table] = t.rename_columns([rename(i, c) for i, c in enumerate(t.column_names)])

    return step


def rename_table(old: str, new: str) -> Step:
    """Store a table under another name."""

    def step(tables: Tables) -> None:
        tables[new] = tables.pop(old)

    return step


def add_column(table: str, column: str, value: Any) -> Step:
    """Append a column the CDM does not define."""

    def step(tables: Tables) -> None:
        t = tables[table]
        tables[table] = t.append_column(column, pa.array([value] * t.num_rows))

    return step


def add_table(name: str, table: pa.Table) -> Step:
    """Add a table the CDM does not define."""

    def step(tables: Tables) -> None:
        tables[name] = table

    return step


def invalid_utf8(table: str, column: str, *, as_blob: bool = False) -> Step:
    """Fill a text column with bytes that are not UTF-8 (Arrow does not validate on this path)."""

    def step(tables: Tables) -> None:
        t = tables[table]
        raw = pa.array([b"src\xff\xfe-%d" % i for i in range(t.num_rows)], pa.binary())
        if as_blob:
            tables[table] = _column(t, column, raw)
        else:
            text = pa.Array.from_buffers(pa.string(), len(raw), raw.buffers())
            tables[table] = _column(t, column, text)

    return step


def shift_days(days: int) -> Callable[[Any], Any]:
    """A value function moving a date by ``days``."""
    return lambda d: d + timedelta(days=days)


# --------------------------------------------------------------------------------- writing


def write_duckdb(tables: Tables, path: Path, *, schema: str | None = None) -> None:
    """Write Arrow tables into a new DuckDB file (optionally into ``schema``)."""
    con = duckdb.connect(str(path))
    try:
        prefix = ""
        if schema is not None:
            # test code with constant names, never user input
            con.execute(f"CREATE SCHEMA {schema}")
            prefix = f"{schema}."
        for name, table in tables.items():
            con.register("_recipe_source", table)
            con.execute(f'CREATE TABLE {prefix}"{name}" AS SELECT * FROM _recipe_source')
            con.unregister("_recipe_source")
    finally:
        con.close()


def write_parquet(tables: Tables, folder: Path) -> None:
    """Write one ``<table>.parquet`` file per table."""
    folder.mkdir(parents=True)
    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet")


def write_default(tables: Tables, root: Path, kind: Kind) -> str:
    """Write the tables as ``root/cdm.duckdb`` or ``root/cdm/``; return the URL."""
    if kind == "duckdb":
        write_duckdb(tables, root / "cdm.duckdb")
        return f"duckdb://{root / 'cdm.duckdb'}"
    write_parquet(tables, root / "cdm")
    return f"parquet://{root / 'cdm'}"


def _corrupt_file(table: str, keep: float) -> Writer:
    def writer(tables: Tables, root: Path, kind: Kind) -> str:
        url = write_default(tables, root, kind)
        path = root / "cdm" / f"{table}.parquet"
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)] if keep else b"this is not parquet\n")
        return url

    return writer


def _as_part_folder(tables: Tables, root: Path, table: str, parts: Sequence[pa.Table]) -> str:
    url = write_default(tables, root, "parquet")
    (root / "cdm" / f"{table}.parquet").unlink()
    folder = root / "cdm" / table
    folder.mkdir()
    for i, part in enumerate(parts):
        pq.write_table(part, folder / f"part-{i}.parquet")
    return url


def _corrupt_part(tables: Tables, root: Path, kind: Kind) -> str:
    url = _as_part_folder(tables, root, "person", [tables["person"]])
    (root / "cdm" / "person" / "part-1.parquet").write_bytes(b"PAR1 garbage")
    return url


def _parts_of_two_types(tables: Tables, root: Path, kind: Kind) -> str:
    person = tables["person"]
    second = person.slice(10)
    second = _column(second, "person_id", second["person_id"].cast(pa.string()))
    return _as_part_folder(tables, root, "person", [person.slice(0, 10), second])


def _not_duckdb(content: bytes) -> Writer:
    def writer(tables: Tables, root: Path, kind: Kind) -> str:
        path = root / "cdm.duckdb"
        path.write_bytes(content)
        return f"duckdb://{path}"

    return writer


def _folder(files: dict[str, bytes]) -> Writer:
    def writer(tables: Tables, root: Path, kind: Kind) -> str:
        folder = root / "cdm"
        folder.mkdir()
        for name, content in files.items():
            (folder / name).write_bytes(content)
        return f"parquet://{folder}"

    return writer


def _duplicate_table_files(tables: Tables, root: Path, kind: Kind) -> str:
    url = write_default(tables, root, "parquet")
    (root / "cdm" / "person").mkdir()
    pq.write_table(tables["person"].slice(0, 5), root / "cdm" / "person" / "part-0.parquet")
    return url


def _with_hidden_files(files: dict[str, bytes]) -> Writer:
    """A Parquet CDM plus hidden files (``._person.parquet`` of macOS, ``.DS_Store``, ...)."""

    def writer(tables: Tables, root: Path, kind: Kind) -> str:
        url = write_default(tables, root, "parquet")
        for name, content in files.items():
            path = root / "cdm" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        return url

    return writer


def _with_case_duplicate(table: str, column: str, value: Any) -> Writer:
    """A Parquet CDM whose ``table`` has ``column`` twice, the second spelt in title case."""

    def writer(tables: Tables, root: Path, kind: Kind) -> str:
        t = tables[table]
        twin = column.title()
        tables[table] = t.append_column(twin, pa.array([value] * t.num_rows, t[column].type))
        return write_default(tables, root, "parquet")

    return writer


def _broken_view(tables: Tables, root: Path, kind: Kind) -> str:
    url = write_default(tables, root, "duckdb")
    con = duckdb.connect(str(root / "cdm.duckdb"))
    try:
        con.execute("CREATE TABLE scratch AS SELECT 1 AS visit_detail_id")
        con.execute("CREATE VIEW visit_detail AS SELECT * FROM scratch")
        con.execute("DROP TABLE scratch")
    finally:
        con.close()
    return url


def _in_schema(schema: str) -> Writer:
    def writer(tables: Tables, root: Path, kind: Kind) -> str:
        write_duckdb(tables, root / "cdm.duckdb", schema=schema)
        return f"duckdb://{root / 'cdm.duckdb'}"

    return writer


@cache
def _example() -> tuple[tuple[str, pa.Table], ...]:
    return tuple(example_tables().items())


def build(recipe: Recipe, kind: Kind, root: Path) -> str:
    """Write ``recipe``'s CDM under ``root`` (an empty folder) as ``kind``; return its URL."""
    tables: Tables = dict(_example())
    for step in recipe.steps:
        step(tables)
    root.mkdir(parents=True, exist_ok=True)
    return (recipe.writer or write_default)(tables, root, kind)


def rebuild(recipe: Recipe, kind: Kind, root: Path) -> str:
    """Like :func:`build`, replacing whatever ``root`` holds."""
    if root.exists():
        shutil.rmtree(root)
    return build(recipe, kind, root)


# --------------------------------------------------------------------------------- recipes

D = date.fromisoformat
STRUCTURE, TYPES, NULLS, ORDER, LINKS, VALUES, EMPTY, TEXT, EXTREME, FILES, NAMES = (
    "missing tables and columns",
    "wrong types",
    "nulls in required fields",
    "end before start, dates outside observation",
    "orphans, duplicates, unknown concepts",
    "absurd values",
    "empty tables",
    "non-UTF-8 text",
    "extreme values",
    "damaged files and folders",
    "names and extra content",
)


#: recipes that pass the check but leave ``example_study.yaml`` no patient: ``allrwe run`` writes
#: the attrition and zero group sizes with a warning ("the cohort ... is empty"), exit 0, as
#: every other passing recipe
_EMPTY_COHORT = frozenset({"all_tables_empty", "empty_observation_period", "empty_drug_exposure"})


def _recipes() -> list[Recipe]:
    r: list[Recipe] = []

    def add(group: str, *recipes: Recipe) -> None:
        for x in recipes:
            run_exit = x.run_exit
            if x.exit_code == 0 and x.run_defect is None and run_exit is None:
                run_exit = 0
            r.append(dataclasses.replace(x, group=group, run_exit=run_exit))

    add(
        STRUCTURE,
        Recipe(
            "missing_person",
            "no person table",
            1,
            (drop_table("person"),),
            (err("person", None, "missing_table"),),
            ("required table 'person' is missing",),
            BOTH,
        ),
        Recipe(
            "missing_observation_period",
            "no observation_period table",
            1,
            (drop_table("observation_period"),),
            (err("observation_period", None, "missing_table"),),
            ("required table 'observation_period' is missing",),
        ),
        *(
            Recipe(
                f"missing_column_{table}_{column}",
                f"{table} without its required column {column}",
                1,
                (drop_column(table, column),),
                (err(table, column, "missing_column"),),
                (f"{table} has no required column '{column}'",),
            )
            for table, column in (
                ("person", "year_of_birth"),
                ("observation_period", "observation_period_end_date"),
                ("drug_exposure", "drug_concept_id"),
                ("condition_occurrence", "condition_start_date"),
                ("death", "death_date"),
                ("concept", "concept_name"),
            )
        ),
        Recipe(
            "missing_column_visit_occurrence_person_id",
            "visit_occurrence without person_id: no analysis reads it, a warning",
            0,
            (drop_column("visit_occurrence", "person_id"),),
            (warn("visit_occurrence", "person_id", "missing_column"),),
            ("no analysis reads visit_occurrence",),
        ),
    )
    add(
        TYPES,
        Recipe(
            "person_id_as_varchar",
            "person.person_id stored as text",
            1,
            (cast("person", "person_id", pa.string()),),
            (err("person", "person_id", "column_type"),),
            ("person.person_id is stored as string; integer expected",),
            BOTH,
        ),
        Recipe(
            "drug_dates_as_strings",
            "drug_exposure start and end dates stored as ISO text",
            1,
            (
                cast("drug_exposure", "drug_exposure_start_date", pa.string()),
                cast("drug_exposure", "drug_exposure_end_date", pa.string()),
            ),
            (
                err("drug_exposure", "drug_exposure_start_date", "column_type"),
                err("drug_exposure", "drug_exposure_end_date", "column_type"),
            ),
            ("drug_exposure.drug_exposure_end_date is stored as string; date expected",),
            BOTH,
        ),
        Recipe(
            "observation_period_dates_as_strings",
            "observation_period dates stored as ISO text",
            1,
            (cast("observation_period", "observation_period_start_date", pa.string()),),
            (err("observation_period", "observation_period_start_date", "column_type"),),
            ("observation_period_start_date is stored as string; date expected",),
        ),
        Recipe(
            "year_of_birth_as_text",
            "person.year_of_birth stored as text",
            1,
            (cast("person", "year_of_birth", pa.string()),),
            (err("person", "year_of_birth", "column_type"),),
            ("person.year_of_birth is stored as string; integer expected",),
        ),
        Recipe(
            "quantity_as_text",
            "drug_exposure.quantity (optional) stored as text",
            1,
            (cast("drug_exposure", "quantity", pa.string()),),
            (err("drug_exposure", "quantity", "column_type", 292),),
            ("drug_exposure.quantity is stored as string; float expected (292 non-null rows)",),
        ),
        Recipe(
            "lab_value_as_text",
            "measurement.value_as_number stored as text",
            1,
            (cast("measurement", "value_as_number", pa.string()),),
            (err("measurement", "value_as_number", "column_type", 221),),
            ("221 non-null rows",),
        ),
        Recipe(
            "type_concept_as_words",
            "drug_exposure.drug_type_concept_id holds words, not ids",
            1,
            (set_values("drug_exposure", "drug_type_concept_id", "EHR", typ=pa.string()),),
            (err("drug_exposure", "drug_type_concept_id", "column_type"),),
            ("drug_exposure.drug_type_concept_id is stored as string; integer expected",),
        ),
        Recipe(
            "year_of_birth_as_double",
            "person.year_of_birth stored as a float: readable, warned",
            0,
            (cast("person", "year_of_birth", pa.float64()),),
            (warn("person", "year_of_birth", "column_type"),),
            ("values compare as numbers",),
        ),
        Recipe(
            "drug_dates_as_timestamps",
            "drug_exposure dates stored as timestamps: the date part is read, warned",
            0,
            (
                cast("drug_exposure", "drug_exposure_start_date", pa.timestamp("us")),
                cast("drug_exposure", "drug_exposure_end_date", pa.timestamp("us")),
            ),
            (
                warn("drug_exposure", "drug_exposure_start_date", "column_type"),
                warn("drug_exposure", "drug_exposure_end_date", "column_type"),
            ),
            ("allrwe reads the date part",),
            BOTH,
        ),
        Recipe(
            "person_id_as_decimal",
            "person.person_id stored as DECIMAL(18,0): fine",
            0,
            (set_values("person", "person_id", lambda v: Decimal(v), typ=pa.decimal128(18, 0)),),
            clean=True,
        ),
    )
    add(
        NULLS,
        Recipe(
            "null_year_of_birth",
            "3 persons without year_of_birth",
            1,
            (set_values("person", "year_of_birth", None, [0, 1, 2]),),
            (err("person", "year_of_birth", "null_required", 3),),
            ("3 person rows have no year_of_birth",),
        ),
        Recipe(
            "null_drug_start",
            "5 drug exposures without a start date",
            1,
            (set_values("drug_exposure", "drug_exposure_start_date", None, range(5)),),
            (err("drug_exposure", "drug_exposure_start_date", "null_required", 5),),
            ("5 drug_exposure rows have no drug_exposure_start_date",),
        ),
        Recipe(
            "null_drug_end",
            "6 drug exposures without an end date (a days' supply only, as claims give)",
            0,
            (set_values("drug_exposure", "drug_exposure_end_date", None, range(6)),),
            (warn("drug_exposure", "drug_exposure_end_date", "null_required", 6),),
            ("6 drug_exposure rows have no drug_exposure_end_date", "days_supply - 1"),
        ),
        Recipe(
            "null_observation_period_end",
            "1 observation period without an end date",
            1,
            (set_values("observation_period", "observation_period_end_date", None, [4]),),
            (err("observation_period", "observation_period_end_date", "null_required", 1),),
            ("1 observation_period rows have no observation_period_end_date",),
        ),
        Recipe(
            "null_condition_concept",
            "2 conditions without a concept",
            1,
            (set_values("condition_occurrence", "condition_concept_id", None, [0, 1]),),
            (err("condition_occurrence", "condition_concept_id", "null_required", 2),),
            ("2 condition_occurrence rows have no condition_concept_id",),
        ),
        Recipe(
            "null_drug_person",
            "3 drug exposures without a person",
            1,
            (set_values("drug_exposure", "person_id", None, [0, 1, 2]),),
            (err("drug_exposure", "person_id", "null_required", 3),),
            ("3 drug_exposure rows have no person_id",),
        ),
    )
    add(
        ORDER,
        Recipe(
            "drug_end_before_start",
            "4 drug exposures ending the day before they start",
            1,
            (set_values("drug_exposure", "drug_exposure_end_date", shift_days(-2), range(4)),),
            (err("drug_exposure", "drug_exposure_end_date", "end_before_start", 4),),
            ("4 drug_exposure rows end (drug_exposure_end_date) before they start",),
        ),
        Recipe(
            "condition_end_before_start",
            "2 conditions ending before they start",
            1,
            (
                set_values(
                    "condition_occurrence",
                    "condition_end_date",
                    D("2019-01-01"),
                    [0, 1],
                ),
            ),
            (err("condition_occurrence", "condition_end_date", "end_before_start", 2),),
            ("2 condition_occurrence rows end (condition_end_date) before they start",),
        ),
        Recipe(
            "visit_end_before_start",
            "3 visits ending before they start",
            1,
            (set_values("visit_occurrence", "visit_end_date", D("2018-01-01"), [1, 2, 3]),),
            (err("visit_occurrence", "visit_end_date", "end_before_start", 3),),
            ("3 visit_occurrence rows end (visit_end_date) before they start",),
        ),
        Recipe(
            "observation_period_end_before_start",
            "person 5's observation period ends before it starts",
            1,
            (
                set_values(
                    "observation_period", "observation_period_end_date", D("2019-01-01"), [4]
                ),
            ),
            (
                err(
                    "observation_period",
                    "observation_period_end_date",
                    "end_before_start",
                    1,
                ),
            ),
            ("1 observation_period rows end (observation_period_end_date) before they start",),
        ),
        Recipe(
            "drug_before_observation",
            "a drug exposure of person 1 dated before their observation period: warned",
            0,
            (
                set_values("drug_exposure", "drug_exposure_start_date", D("2017-01-01"), [0]),
                set_values("drug_exposure", "drug_exposure_end_date", D("2017-01-01"), [0]),
            ),
            (
                warn(
                    "drug_exposure",
                    "drug_exposure_start_date",
                    "outside_observation",
                    1,
                ),
            ),
            ("1 drug_exposure rows are dated (drug_exposure_start_date) outside every",),
        ),
        Recipe(
            "measurements_after_observation",
            "2 measurements of person 1 after their observation period: warned",
            0,
            (set_values("measurement", "measurement_date", D("2023-12-01"), [0, 1]),),
            (warn("measurement", "measurement_date", "outside_observation", 2),),
            ("2 measurement rows are dated (measurement_date) outside every",),
        ),
        Recipe(
            "overlapping_observation_periods",
            "a second period of person 1 overlapping the first: warned",
            0,
            (append_copies("observation_period", [0], observation_period_id=101),),
            (
                warn(
                    "observation_period",
                    "observation_period_start_date",
                    "overlapping_observation_periods",
                    2,
                ),
            ),
            ("2 observation_period rows overlap (observation_period_start_date to",),
        ),
        Recipe(
            "persons_without_observation",
            "persons 9 and 10 lose their observation periods: warned",
            0,
            (drop_persons("observation_period", 9, 10),),
            (
                warn("person", None, "person_without_observation", 2),
                warn("drug_exposure", "drug_exposure_start_date", "outside_observation", 2),
            ),
            ("2 persons have no observation period",),
        ),
        Recipe(
            "care_after_death",
            "2 visits of person 2 sixty days after their death: warned",
            0,
            (
                set_values("visit_occurrence", "visit_start_date", D("2021-07-19"), [4, 5]),
                set_values("visit_occurrence", "visit_end_date", D("2021-07-19"), [4, 5]),
            ),
            (warn("visit_occurrence", "visit_start_date", "after_death", 2),),
            ("2 visit_occurrence rows are dated (visit_start_date) more than 30 days after",),
        ),
    )
    add(
        LINKS,
        Recipe(
            "orphan_drug_exposures",
            "3 drug exposures of person 999, who is not in person",
            1,
            (set_values("drug_exposure", "person_id", 999, [0, 1, 2]),),
            (err("drug_exposure", "person_id", "unknown_person", 3),),
            ("3 drug_exposure rows belong to a person_id that is not in person",),
        ),
        Recipe(
            "orphan_death",
            "a death of person 77, who is not in person",
            1,
            (append_copies("death", [0], person_id=77),),
            (err("death", "person_id", "unknown_person", 1),),
            ("1 death rows belong to a person_id that is not in person",),
        ),
        Recipe(
            "duplicate_person_id",
            "person 1 twice",
            1,
            (append_copies("person", [0]),),
            (err("person", "person_id", "duplicate_primary_key", 2),),
            ("2 person rows share their person_id with another row",),
        ),
        Recipe(
            "duplicate_drug_exposure_id",
            "3 drug exposures twice",
            1,
            (append_copies("drug_exposure", [0, 1, 2]),),
            (err("drug_exposure", "drug_exposure_id", "duplicate_primary_key", 6),),
            ("6 drug_exposure rows share their drug_exposure_id with another row",),
        ),
        Recipe(
            "duplicate_observation_period_id",
            "observation period 1 twice",
            1,
            (append_copies("observation_period", [0]),),
            (
                err(
                    "observation_period",
                    "observation_period_id",
                    "duplicate_primary_key",
                    2,
                ),
            ),
            ("2 observation_period rows share their observation_period_id",),
        ),
        Recipe(
            "duplicate_death",
            "person 2 dies twice: warned",
            0,
            (append_copies("death", [0]),),
            (warn("death", "person_id", "duplicate_death", 2),),
            ("2 death rows share their person_id with another death record",),
        ),
        Recipe(
            "unknown_drug_concept",
            "5 drug exposures of a concept absent from concept: warned",
            0,
            (set_values("drug_exposure", "drug_concept_id", 123456789, range(5)),),
            (warn("drug_exposure", "drug_concept_id", "concept_not_in_vocabulary", 5),),
            ("5 drug_exposure rows have a drug_concept_id that is not in concept",),
        ),
        Recipe(
            "unknown_condition_concept",
            "2 conditions of a concept absent from concept: warned",
            0,
            (set_values("condition_occurrence", "condition_concept_id", 987654, [0, 1]),),
            (
                warn(
                    "condition_occurrence",
                    "condition_concept_id",
                    "concept_not_in_vocabulary",
                    2,
                ),
            ),
            ("2 condition_occurrence rows have a condition_concept_id that is not in concept",),
        ),
    )
    add(
        VALUES,
        Recipe(
            "negative_quantity",
            "2 drug exposures with a negative quantity: warned",
            0,
            (set_values("drug_exposure", "quantity", -5.0, [0, 1]),),
            (warn("drug_exposure", "quantity", "negative_quantity", 2),),
            ("2 drug_exposure rows have a negative quantity",),
        ),
        Recipe(
            "negative_days_supply",
            "1 drug exposure with a negative days_supply: warned",
            0,
            (set_values("drug_exposure", "days_supply", -7, [0]),),
            (warn("drug_exposure", "days_supply", "negative_days_supply", 1),),
            ("1 drug_exposure rows have a negative days_supply",),
        ),
        Recipe(
            "age_over_120",
            "person 10 born in 1890, treated in 2020: warned",
            0,
            (set_values("person", "year_of_birth", 1890, [9]),),
            (
                warn("drug_exposure", "drug_exposure_start_date", "implausible_age", 2),
                warn("visit_occurrence", "visit_start_date", "implausible_age", 1),
            ),
            ("2 drug_exposure rows are dated (drug_exposure_start_date) when the person was over",),
        ),
        Recipe(
            "birth_year_in_future",
            "person 8 born in 2999: warned",
            0,
            (set_values("person", "year_of_birth", 2999, [7]),),
            (
                warn("person", "year_of_birth", "year_of_birth_future", 1),
                warn("drug_exposure", "drug_exposure_start_date", "before_birth", 3),
            ),
            ("1 persons have a year_of_birth after",),
        ),
        Recipe(
            "death_before_birth",
            "person 5 dies in 2021 but is born in 2022",
            1,
            (set_values("person", "year_of_birth", 2022, [4]),),
            (err("death", "death_date", "death_before_birth", 1),),
            ("1 death rows are dated (death_date) before the person's year_of_birth",),
        ),
        Recipe(
            "percent_over_100",
            "a marrow blast percentage of 150: warned",
            0,
            (set_values("measurement", "value_as_number", 150.0, [2]),),
            (warn("measurement", "value_as_number", "percent_over_100", 1),),
            ("1 measurement rows in percent (unit 8554) have a value_as_number over 100",),
        ),
        Recipe(
            "ae_grade_out_of_range",
            "an adverse event of grade 7: warned",
            0,
            (set_values("observation", "value_as_number", 7.0, [0]),),
            (warn("observation", "value_as_number", "ae_grade_out_of_range", 1),),
            ("1 observation rows of adverse-event concept sets have a grade",),
        ),
    )
    add(
        EMPTY,
        Recipe(
            "empty_person",
            "person has no rows (the other tables do): every record is an orphan",
            1,
            (empty("person"),),
            (
                warn("person", None, "empty_table", 1),
                err("observation_period", "person_id", "unknown_person", 20),
                err("drug_exposure", "person_id", "unknown_person", 292),
            ),
            ("person has no rows", "20 observation_period rows belong to a person_id"),
        ),
        Recipe(
            "all_tables_empty",
            "every table present, none with a row: a well-formed but empty CDM, warned",
            0,
            (empty(),),
            (
                warn("person", None, "empty_table", 1),
                warn("observation_period", None, "empty_table", 1),
            ),
            ("person has no rows", "observation_period has no rows"),
            BOTH,
        ),
        Recipe(
            "empty_observation_period",
            "observation_period has no rows: warned",
            0,
            (empty("observation_period"),),
            (
                warn("observation_period", None, "empty_table", 1),
                warn("person", None, "person_without_observation", 20),
                warn("drug_exposure", "drug_exposure_start_date", "outside_observation", 292),
            ),
            ("observation_period has no rows", "20 persons have no observation period"),
        ),
        Recipe(
            "empty_drug_exposure",
            "drug_exposure has no rows: fine",
            0,
            (empty("drug_exposure"),),
            clean=True,
        ),
    )
    add(
        TEXT,
        Recipe(
            "non_utf8_source_value",
            "person_source_value holds bytes that are not UTF-8 (Parquet): not read, fine",
            0,
            (invalid_utf8("person", "person_source_value"),),
            kinds=("parquet",),
            clean=True,
        ),
        Recipe(
            "source_value_as_blob",
            "person_source_value stored as BLOB with non-UTF-8 bytes: fine",
            0,
            (invalid_utf8("person", "person_source_value", as_blob=True),),
            kinds=BOTH,
            clean=True,
        ),
        Recipe(
            "non_utf8_required_text",
            "concept.concept_name (required) holds bytes that are not UTF-8 (Parquet)",
            1,
            (invalid_utf8("concept", "concept_name"),),
            (err("concept", "concept_name", "query_failed"),),
            ("could not run on concept", "not valid UTF8"),
            kinds=("parquet",),
        ),
    )
    add(
        EXTREME,
        Recipe(
            "drug_in_year_9999",
            "a drug exposure on 9999-12-31: warned (future, outside observation, age)",
            0,
            (
                set_values("drug_exposure", "drug_exposure_start_date", D("9999-12-31"), [0]),
                set_values("drug_exposure", "drug_exposure_end_date", D("9999-12-31"), [0]),
            ),
            (
                warn("drug_exposure", "drug_exposure_start_date", "future_date", 1),
                warn("drug_exposure", "drug_exposure_start_date", "outside_observation", 1),
                warn("drug_exposure", "drug_exposure_start_date", "implausible_age", 1),
            ),
            ("1 drug_exposure rows have a drug_exposure_start_date after",),
        ),
        Recipe(
            "observation_open_until_9999",
            "every observation period ends on 9999-12-31 (an open-period convention): fine",
            0,
            (set_values("observation_period", "observation_period_end_date", D("9999-12-31")),),
            clean=True,
        ),
        Recipe(
            "drug_in_year_1800",
            "a drug exposure on 1800-01-01: warned (before birth, outside observation)",
            0,
            (
                set_values("drug_exposure", "drug_exposure_start_date", D("1800-01-01"), [0]),
                set_values("drug_exposure", "drug_exposure_end_date", D("1800-01-01"), [0]),
            ),
            (
                warn("drug_exposure", "drug_exposure_start_date", "before_birth", 1),
                warn("drug_exposure", "drug_exposure_start_date", "outside_observation", 1),
            ),
            ("1 drug_exposure rows are dated (drug_exposure_start_date) before the person",),
        ),
        Recipe(
            "huge_quantities",
            "every quantity 1e300, lab values 1e300: absurd, errors (issue 17)",
            1,
            (
                set_values("drug_exposure", "quantity", 1e300),
                set_values("measurement", "value_as_number", 1e300),
            ),
            (
                err("drug_exposure", "quantity", "absurd_number", 292),
                err("measurement", "value_as_number", "absurd_number", 221),
                warn("measurement", "value_as_number", "percent_over_100", 46),
            ),
            ("46 measurement rows in percent (unit 8554) have a value_as_number over 100",),
        ),
        Recipe(
            "nan_and_infinite_quantities",
            "quantities NaN and +inf: errors, never averaged (issue 17)",
            1,
            (
                set_values("drug_exposure", "quantity", float("nan"), [0, 1]),
                set_values("drug_exposure", "quantity", float("inf"), [2, 3]),
            ),
            (err("drug_exposure", "quantity", "non_finite_number", 4),),
        ),
        Recipe(
            "int64_max_ids",
            "person 20 renumbered 2^63-1 everywhere, a drug_exposure_id of 2^63-1: fine",
            0,
            (
                relabel_person(20, INT64_MAX),
                set_values("drug_exposure", "drug_exposure_id", INT64_MAX, [0]),
            ),
            kinds=BOTH,
            clean=True,
        ),
    )
    add(
        FILES,
        Recipe(
            "corrupt_parquet_file",
            "person.parquet is not a Parquet file",
            2,
            fragments=("cannot read Parquet table 'person'", "person.parquet"),
            kinds=("parquet",),
            writer=_corrupt_file("person", 0),
        ),
        Recipe(
            "truncated_parquet_file",
            "drug_exposure.parquet cut in half",
            2,
            fragments=("cannot read Parquet table 'drug_exposure'",),
            kinds=("parquet",),
            writer=_corrupt_file("drug_exposure", 0.5),
        ),
        Recipe(
            "corrupt_part_file",
            "person/ holds a good part file and a damaged one",
            1,
            expect=(err("person", "person_id", "query_failed"),),
            fragments=("person/part-1.parquet",),
            kinds=("parquet",),
            writer=_corrupt_part,
        ),
        Recipe(
            "part_files_of_two_types",
            "person/ part files store person_id as int64 and as text: DuckDB unifies, fine",
            0,
            kinds=("parquet",),
            writer=_parts_of_two_types,
            clean=True,
        ),
        Recipe(
            "not_a_duckdb_file",
            "cdm.duckdb holds text",
            2,
            fragments=("cannot open DuckDB file", "not a valid DuckDB database file"),
            writer=_not_duckdb(b"person_id,year_of_birth\n1,1970\n" * 200),
        ),
        Recipe(
            "empty_duckdb_file",
            "cdm.duckdb has no byte",
            2,
            fragments=("cannot open DuckDB file",),
            writer=_not_duckdb(b""),
        ),
        Recipe(
            "folder_with_no_tables",
            "an empty Parquet folder",
            2,
            fragments=("holds no <table>.parquet file or folder",),
            kinds=("parquet",),
            writer=_folder({}),
        ),
        Recipe(
            "folder_of_csv_files",
            "a folder of CSV files given as Parquet",
            2,
            fragments=("holds no <table>.parquet file or folder",),
            kinds=("parquet",),
            writer=_folder({"person.csv": b"person_id\n1\n"}),
        ),
        Recipe(
            "duplicate_table_files",
            "both person.parquet and person/ exist: ambiguous, refused",
            2,
            fragments=("person",),
            kinds=("parquet",),
            writer=_duplicate_table_files,
        ),
        Recipe(
            "broken_view",
            "a DuckDB view visit_detail over a dropped table: no analysis reads it, a warning",
            0,
            expect=(warn("visit_detail", None, "unreadable_table"),),
            fragments=("cannot read visit_detail",),
            writer=_broken_view,
        ),
        Recipe(
            "tables_in_another_schema",
            "the CDM tables live in schema omop, the URL names none",
            1,
            expect=(
                err("person", None, "missing_table"),
                err("observation_period", None, "missing_table"),
            ),
            fragments=("required table",),
            writer=_in_schema("omop"),
        ),
    )
    add(
        NAMES,
        Recipe(
            "mixed_case_columns",
            "person's column names in upper and title case: fine",
            0,
            (rename_columns("person", lambda i, c: c.upper() if i % 2 == 0 else c.title()),),
            kinds=BOTH,
            clean=True,
        ),
        Recipe(
            "upper_case_table_name",
            "table PERSON instead of person: fine",
            0,
            (rename_table("person", "PERSON"),),
            kinds=BOTH,
            clean=True,
        ),
        Recipe(
            "extra_unknown_columns",
            "person and drug_exposure carry site-specific columns: fine",
            0,
            (
                add_column("person", "site_flag", "x"),
                add_column("drug_exposure", "local_batch_number", 7),
            ),
            kinds=("duckdb",),
            clean=True,
        ),
        Recipe(
            "extra_unknown_table",
            "a site table next to the CDM tables: fine",
            0,
            (add_table("site_notes", pa.table({"note": ["a", "b"]})),),
            kinds=BOTH,
            clean=True,
        ),
    )
    r.extend(_hostile_recipes())
    return r


#: bytes of a macOS AppleDouble file: not Parquet
_APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        "
#: float columns of the example CDM with a value on every row, and their row counts
_NUMBERS = (("drug_exposure", "quantity", 292), ("measurement", "value_as_number", 221))
_BAD_NUMBERS: tuple[tuple[str, float, str, str], ...] = (
    ("nan", float("nan"), "non_finite_number", "NaN"),
    ("inf", float("inf"), "non_finite_number", "+infinity"),
    ("neg_inf", float("-inf"), "non_finite_number", "-infinity"),
    ("1e308", 1.7e308, "absurd_number", "1.7e308"),
    ("neg_1e20", -1e20, "absurd_number", "-1e20"),
)


def _number_recipes() -> list[Recipe]:
    out = []
    for table, column, _ in _NUMBERS:
        for label, value, rule, shown in _BAD_NUMBERS:
            out.append(
                Recipe(
                    f"{column}_{label}",
                    f"3 {table}.{column} values are {shown}: an error, never averaged",
                    1,
                    (set_values(table, column, value, [0, 1, 2]),),
                    (err(table, column, rule, 3),),
                    kinds=BOTH if label == "nan" else ("duckdb",),
                )
            )
    out.append(
        Recipe(
            "observation_value_inf",
            "1 observation.value_as_number is +infinity",
            1,
            (set_values("observation", "value_as_number", float("inf"), [0]),),
            (err("observation", "value_as_number", "non_finite_number", 1),),
        )
    )
    out.append(
        Recipe(
            "range_high_nan",
            "measurement.range_high NaN on 2 rows (the column is otherwise empty)",
            1,
            (set_values("measurement", "range_high", float("nan"), [0, 1]),),
            (err("measurement", "range_high", "non_finite_number", 2),),
        )
    )
    extra = (
        ("observation_value_nan", "observation", "value_as_number", float("nan"), 2),
        ("observation_value_1e308", "observation", "value_as_number", 1.7e308, 1),
        ("range_low_neg_inf", "measurement", "range_low", float("-inf"), 3),
        ("quantity_neg_1e300", "drug_exposure", "quantity", -1e300, 1),
        ("value_as_number_1e16", "measurement", "value_as_number", 1e16, 4),
    )
    for name, table, column, value, rows in extra:
        finite = value == value and abs(value) != float("inf")
        rule = "absurd_number" if finite else "non_finite_number"
        out.append(
            Recipe(
                name,
                f"{rows} {table}.{column} values are {value!r}",
                1,
                (set_values(table, column, value, list(range(rows))),),
                (err(table, column, rule, rows),),
            )
        )
    out.append(
        Recipe(
            "empty_death",
            "no death at all (an empty death table): a valid CDM",
            0,
            (empty("death"),),
            clean=True,
            kinds=("duckdb",),
        )
    )
    out.append(
        Recipe(
            "quantity_1e15",
            "a quantity of exactly 1e15 (the bound): fine",
            0,
            (set_values("drug_exposure", "quantity", 1e15, [0]),),
            clean=True,
        )
    )
    return out


def _birth(month: int | None, day: int | None, year: int | None = None) -> tuple[Step, ...]:
    steps = [set_values("person", "month_of_birth", month, [0])]
    steps.append(set_values("person", "day_of_birth", day, [0]))
    if year is not None:
        steps.append(set_values("person", "year_of_birth", year, [0]))
    return tuple(steps)


def _birth_recipes() -> list[Recipe]:
    bad_month = (
        ("month_of_birth_13", 13, 1),
        ("month_of_birth_0", 0, 1),
        ("month_of_birth_negative", -1, 1),
        ("month_of_birth_99", 99, None),
    )
    out = [
        Recipe(
            name,
            f"a person born in month {month}",
            1,
            _birth(month, day),
            (err("person", "month_of_birth", "impossible_birth_date", 1),),
            kinds=BOTH if month == 13 else ("duckdb",),
        )
        for name, month, day in bad_month
    ]
    bad_day = (
        ("born_31_february", 2, 31, None),
        ("born_30_february", 2, 30, None),
        ("born_29_february_1975", 2, 29, None),
        ("born_29_february_1900", 2, 29, 1900),
        ("born_31_april", 4, 31, None),
        ("born_31_november", 11, 31, None),
        ("born_on_day_0", 5, 0, None),
        ("born_on_day_32", 1, 32, None),
        ("born_31_june", 6, 31, None),
        ("born_31_september", 9, 31, None),
        ("born_on_day_negative", 3, -3, None),
    )
    for name, month, day, year in bad_day:
        out.append(
            Recipe(
                name,
                f"a person born on day {day} of month {month}" + (f" {year}" if year else " 1975"),
                1,
                _birth(month, day, year),
                (err("person", "day_of_birth", "impossible_birth_date", 1),),
                kinds=BOTH if name == "born_31_february" else ("duckdb",),
            )
        )
    good = (("born_29_february_2000", 2, 29, 2000), ("born_31_december", 12, 31, None))
    for name, month, day, year in good:
        out.append(
            Recipe(
                name,
                f"a person born on {day}/{month}" + (f"/{year}" if year else "") + ": fine",
                0,
                _birth(month, day, year),
                clean=year is None,
                kinds=("duckdb",),
            )
        )
    return out


def _id_recipes() -> list[Recipe]:
    over = 2**63 + 5
    out = [
        Recipe(
            "person_id_uint64_over_int64",
            "person_id stored as UBIGINT, one extra person with id 2^63 + 5",
            1,
            (
                cast("person", "person_id", pa.uint64()),
                append_copies("person", [0], person_id=over),
            ),
            (err("person", "person_id", "integer_overflow", 1),),
            fragments=("above 2^63 - 1",),
            kinds=BOTH,
        ),
        Recipe(
            "drug_exposure_id_uint64_over_int64",
            "drug_exposure_id stored as UBIGINT, 2 ids above 2^63",
            1,
            (
                cast("drug_exposure", "drug_exposure_id", pa.uint64()),
                set_values("drug_exposure", "drug_exposure_id", over, [0]),
                set_values("drug_exposure", "drug_exposure_id", over + 1, [1]),
            ),
            (err("drug_exposure", "drug_exposure_id", "integer_overflow", 2),),
            kinds=BOTH,
        ),
        Recipe(
            "condition_id_uint64_over_int64",
            "condition_occurrence_id stored as UBIGINT, its largest value 2^64 - 1",
            1,
            (
                cast("condition_occurrence", "condition_occurrence_id", pa.uint64()),
                set_values("condition_occurrence", "condition_occurrence_id", 2**64 - 1, [3]),
            ),
            (err("condition_occurrence", "condition_occurrence_id", "integer_overflow", 1),),
        ),
        Recipe(
            "person_id_uint64_small",
            "person_id stored as UBIGINT with small values: fine",
            0,
            (cast("person", "person_id", pa.uint64()),),
            kinds=BOTH,
            clean=True,
        ),
        Recipe(
            "person_id_uint32",
            "person_id stored as UINTEGER: fine",
            0,
            (cast("person", "person_id", pa.uint32()),),
            kinds=BOTH,
            clean=True,
        ),
    ]
    return out


def _name_recipes() -> list[Recipe]:
    out = []
    twins = (
        ("year_of_birth", -50, "person"),
        ("drug_concept_id", 0, "drug_exposure"),
        ("observation_period_end_date", D("2000-01-01"), "observation_period"),
    )
    for column, value, table in twins:
        out.append(
            Recipe(
                f"case_duplicate_{column}",
                f"{table} holds {column} and {column.title()} (another value): ambiguous",
                1,
                expect=(err(table, None, "unreadable_table"),),
                fragments=("differ only in case", column.title()),
                writer=_with_case_duplicate(table, column, value),
                kinds=("parquet",),
            )
        )
    hidden = (
        ("apple_double_person", {"._person.parquet": _APPLE_DOUBLE}),
        ("ds_store_file", {".DS_Store": b"\x00\x00\x00\x01Bud1"}),
        ("hidden_table_folder", {".trash/person.parquet": b"PAR1 not really"}),
    )
    for name, files in hidden:
        listed = ", ".join(files)
        out.append(
            Recipe(
                name,
                f"a hidden file beside the tables ({listed}): ignored",
                0,
                writer=_with_hidden_files(files),
                kinds=("parquet",),
                clean=True,
            )
        )
    return out


def _hostile_recipes() -> list[Recipe]:
    """Issue 17: numbers that would reach a mean, impossible births, wide ids, names."""
    groups = (
        (VALUES, _number_recipes()),
        (VALUES, _birth_recipes()),
        (EXTREME, _id_recipes()),
        (NAMES, _name_recipes()),
    )
    out = []
    for group, recipes in groups:
        for x in recipes:
            run_exit = x.run_exit
            if x.exit_code == 0 and run_exit is None:
                run_exit = 0
            out.append(dataclasses.replace(x, group=group, run_exit=run_exit))
    return out


RECIPES: tuple[Recipe, ...] = tuple(_recipes())


def cases() -> list[tuple[Recipe, Kind]]:
    """Every (recipe, kind) pair the corpus runs."""
    return [(recipe, kind) for recipe in RECIPES for kind in recipe.kinds]


def _outcome(recipe: Recipe) -> str:
    if recipe.clean:
        return "passes, no finding"
    found = "; ".join(
        f"{e.severity} {e.table}{'.' + e.column if e.column else ''} {e.rule}"
        + (f" ({e.rows:,} rows)" if e.rows is not None else "")
        for e in recipe.expect
    )
    return found or "; ".join(f"«{f}»" for f in recipe.fragments)


def _run_outcome(recipe: Recipe) -> str:
    if recipe.exit_code != 0:
        return "stops at the check, exit 1" if recipe.exit_code == 1 else "cannot connect, exit 2"
    if recipe.run_defect:
        return f"known defect: {recipe.run_defect}"
    if recipe.run_exit is None:
        return "exit 0 or a clean exit 1"
    if recipe.name in _EMPTY_COHORT:
        return "exit 0, empty cohort: attrition and zero counts, audited"
    return "exit 0, audited" if recipe.run_exit == 0 else "exit 1, nothing written"


def markdown_table() -> str:
    """The recipe table of ``docs/reliability.md``, generated from :data:`RECIPES`."""
    lines = [
        f"{len(RECIPES)} recipes, {len(cases())} CDMs (recipe × form).",
        "",
        "| # | recipe | group | what is wrong | forms | check exit | expected findings | run |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, recipe in enumerate(RECIPES, 1):
        forms = ", ".join(recipe.kinds)
        note = f" (known defect: {recipe.defect})" if recipe.defect else ""
        lines.append(
            f"| {i} | `{recipe.name}` | {recipe.group} | {recipe.what}{note} | {forms} | "
            f"{recipe.exit_code} | {_outcome(recipe)} | {_run_outcome(recipe)} |"
        )
    return "\n".join(lines) + "\n"


def doc_with_table(text: str) -> str:
    """Return ``text`` with the part between the corpus markers replaced by the table."""
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{markdown_table()}{END}{tail}"


def main(argv: Sequence[str] = ()) -> int:
    """Rewrite the recipe table in ``docs/reliability.md``."""
    DOC.write_text(doc_with_table(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    sys.stdout.write(f"wrote {len(RECIPES)} recipes to {DOC}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
