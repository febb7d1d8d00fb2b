"""A time-boxed fuzz of study specs and small CDMs (not part of ``make test``).

Usage: ``python tests/corpus/fuzz.py [--minutes 10] [--runs]``. Hypothesis draws

- specs: the demo spec with one field replaced by a random value (numbers with extremes, NaN,
  text, booleans, lists, mappings) or a raw YAML token (``011``, ``1:30``, ``.inf``, ``!!set``,
  aliases), and random vocabulary paths (``/dev/zero``, folders, missing files); each is loaded
  and checked against the vocabulary;
- CDMs: the bundled example CDM with a few cells of one column set to a random value of its
  type (or another type), written as DuckDB or Parquet and checked with ``allrwe check``; with
  ``--runs`` a CDM that passes the check is also run with ``example_study.yaml``.

Every answer must be an exit code of 0, 1 or 2, never an exception that is not an
``AllrweError``. The script prints the number of cases tried and every traceback found, and
exits 1 if it found one.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import sys
import tempfile
import time
import traceback
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from allrwe.cli.app import main  # noqa: E402
from allrwe.errors import AllrweError  # noqa: E402
from allrwe.io.vocabulary import load_vocabulary  # noqa: E402
from allrwe.spec import spec_from_text  # noqa: E402
from corpus.corpus_recipes import _example, write_default  # noqa: E402

DEMO = Path(__file__).resolve().parents[2] / "src" / "allrwe" / "data" / "studies" / "demo.yaml"
STUDY = HERE / "example_study.yaml"
TOKENS = (
    "011",
    "1:30",
    "0x1f",
    "0b11",
    "0o7",
    ".inf",
    "-.inf",
    ".nan",
    "~",
    "null",
    "yes",
    "no",
    "on",
    "1e309",
    "-0",
    "1_000",
    "2021-02-30",
    "2021-02-28",
    "'",
    '"',
    "[",
    "{",
    "!!set {a}",
    "!!binary AAAA",
    "!!python/object:os.system",
    "*a",
    "&a x",
    "- x",
    "? x",
    "|\n  x",
    "\t",
    "\x00",
    "\u202e",
    '=HYPERLINK("x")',
    "overall",
    "OVERALL",
    "BLIN",
)
PATHS = ("/dev/zero", "/tmp", "/proc/self/environ", "missing.yaml", "/etc/passwd", ".")
scalars = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.booleans(),
    st.none(),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


class Tally:
    """Cases tried and tracebacks found."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.cases = {"spec": 0, "cdm": 0, "run": 0}
        self.found: list[str] = []

    def guard(self, kind: str, what: str, call: Any) -> Any:
        self.cases[kind] += 1
        try:
            return call()
        except AllrweError:
            return None
        except Exception:  # anything else is a traceback a user would see
            self.found.append(f"[{kind}] {what}\n{traceback.format_exc(limit=6)}")
            return None


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.extend(_paths(value, (*prefix, i)))
    return out


def _set(node: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def spec_case(tally: Tally, base: dict[str, Any], vocab: Any) -> Any:
    paths = _paths(base)

    @settings(
        max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(
        path=st.sampled_from(paths),
        value=values,
        token=st.sampled_from(TOKENS) | st.none(),
        vocab_path=st.sampled_from(PATHS) | st.none(),
    )
    def one(path: tuple[Any, ...], value: Any, token: str | None, vocab_path: str | None) -> None:
        data = yaml.safe_load(yaml.safe_dump(base))
        marker = "FUZZ_TOKEN_HERE"
        _set(data, path, marker if token is not None else value)
        if vocab_path is not None:
            data["vocabulary"] = {"paths": [vocab_path]}
        try:
            text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        except yaml.YAMLError:
            return
        if token is not None:
            text = text.replace(marker, token)

        def load() -> None:
            spec = spec_from_text(text, origin="fuzz.yaml")
            extra = load_vocabulary(spec.resolved_vocabulary_paths())
            spec.validate_against(extra if spec.vocabulary.paths else vocab)

        tally.guard("spec", f"path {path!r}, token {token!r}, value {value!r}", load)

    return one


def _random_value(typ: pa.DataType, rng: random.Random) -> Any:
    if pa.types.is_integer(typ):
        return rng.choice([0, -1, 1, 13, 32, 2**31, 2**62, -(2**62), None])
    if pa.types.is_floating(typ):
        return rng.choice([float("nan"), float("inf"), -float("inf"), 1.7e308, -1e20, 0.0, None])
    if pa.types.is_date(typ):
        return rng.choice([date(1, 1, 1), date(1800, 1, 1), date(9999, 12, 31), None])
    if pa.types.is_timestamp(typ):
        return None
    return rng.choice(["", "\x00", "x" * 1000, "=1+1", None])


def cdm_case(tally: Tally, folder: Path, runs: bool) -> Any:
    tables = dict(_example())
    names = sorted(tables)

    @settings(
        max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(
        table=st.sampled_from(names),
        seed=st.integers(min_value=0, max_value=2**32),
        kind=st.sampled_from(["duckdb", "parquet"]),
    )
    def one(table: str, seed: int, kind: str) -> None:
        rng = random.Random(seed)
        edited = dict(tables)
        t = edited[table]
        if t.num_rows == 0:
            return
        column = rng.choice(t.column_names)
        typ = t.schema.field(column).type
        cells = t[column].to_pylist()
        for i in rng.sample(range(len(cells)), min(3, len(cells))):
            cells[i] = _random_value(typ, rng)
        try:
            array = pa.array(cells, type=typ)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            return
        edited[table] = t.set_column(t.schema.get_field_index(column), column, array)
        root = Path(tempfile.mkdtemp(dir=folder))
        url = write_default(edited, root, kind)  # type: ignore[arg-type]
        what = f"{kind} {table}.{column} seed {seed}"
        code = tally.guard("cdm", what, lambda: _quiet(["check", "--cdm", url]))
        if runs and code == 0:
            out = str(root / "out")
            args = ["run", str(STUDY), "--cdm", url, "--out", out]
            tally.guard("run", what, lambda: _quiet(args))

    return one


def _quiet(args: list[str]) -> int:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    if code not in (0, 1, 2) or "Traceback" in err.getvalue():
        raise RuntimeError(f"exit {code}: {err.getvalue()[-2000:]}")
    return code


def fuzz(minutes: float, runs: bool) -> Tally:
    """Alternate spec and CDM rounds until ``minutes`` have passed."""
    tally = Tally(time.monotonic() + minutes * 60)
    base = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    vocab = load_vocabulary()
    spec_round = spec_case(tally, base, vocab)
    with tempfile.TemporaryDirectory(prefix="allrwe-fuzz-") as tmp:
        cdm_round = cdm_case(tally, Path(tmp), runs)
        while time.monotonic() < tally.deadline:
            spec_round()
            cdm_round()
            # a running tally, so that a run cut short still says how far it got
            print(f"so far: {tally.cases}; tracebacks: {len(tally.found)}", flush=True)
    return tally


def main_fuzz(argv: list[str]) -> int:
    """Run the fuzz; print the cases tried and the tracebacks found."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--runs", action="store_true")
    args = parser.parse_args(argv)
    tally = fuzz(args.minutes, args.runs)
    for entry in tally.found:
        print(entry, flush=True)
    print(f"cases: {tally.cases}; tracebacks: {len(tally.found)}")
    return 1 if tally.found else 0


if __name__ == "__main__":
    sys.exit(main_fuzz(sys.argv[1:]))
