"""Runs of ``allrwe run`` on the example CDM, made once per test session and shared.

A run costs seconds, so the read-only, determinism and corpus tests share them: each run
records the sha256 of every source file before and after it, its exit code and its output.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from allrwe.cli.app import main
from allrwe.io.example import example_cdm_path

#: the small study the example CDM supports
SPEC = Path(__file__).resolve().with_name("example_study.yaml")
#: what ``example_study.yaml`` sets as ``min_cell_count``
MIN_CELL_COUNT = 5


def sha256_tree(path: Path) -> dict[str, str]:
    """Return the sha256 of a file, or of every file under a folder, by relative path."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    root = path.parent if path.is_file() else path
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files
    }


def source_path(url: str) -> Path:
    """The file or folder behind a ``duckdb:///abs`` or ``parquet:///abs`` URL."""
    return Path(url.split("://", 1)[1])


def cli(*args: str) -> tuple[int, str, str]:
    """Run the ``allrwe`` command line in-process; return the exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@dataclass(frozen=True)
class ExampleRun:
    """One ``allrwe run`` of ``example_study.yaml`` on the example CDM."""

    url: str
    out: Path
    code: int
    stdout: str
    stderr: str
    source_before: dict[str, str]
    source_after: dict[str, str]


_SOURCES: dict[str, str] = {}
_RUNS: dict[tuple[str, str], ExampleRun] = {}


def example_source(factory: pytest.TempPathFactory, kind: str) -> str:
    """The example CDM as ``kind`` (written once per session); its URL."""
    if kind not in _SOURCES:
        folder = factory.mktemp(f"example-{kind}")
        _SOURCES[kind] = example_cdm_path(kind, folder)  # type: ignore[arg-type]
    return _SOURCES[kind]


def example_run(factory: pytest.TempPathFactory, kind: str, label: str = "a") -> ExampleRun:
    """``allrwe run`` of the example study on the example CDM (once per kind and label)."""
    key = (kind, label)
    if key not in _RUNS:
        url = example_source(factory, kind)
        out = factory.mktemp(f"run-{kind}-{label}") / "out"
        before = sha256_tree(source_path(url))
        code, stdout, stderr = cli("run", str(SPEC), "--cdm", url, "--out", str(out))
        after = sha256_tree(source_path(url))
        _RUNS[key] = ExampleRun(url, out, code, stdout, stderr, before, after)
    return _RUNS[key]
