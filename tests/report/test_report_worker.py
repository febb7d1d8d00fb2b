"""The figure worker: the same files as drawn in-process, errors raised here, the process ended."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from allrwe.errors import FigureWorkerError
from allrwe.report import build_report, write_report, write_static
from allrwe.report import worker as figure_worker
from allrwe.report.figures import STATIC_CHARTS, static_files
from allrwe.report.model import Figure
from allrwe.report.worker import (
    FigureWorker,
    FigureWorkers,
    _plain_category,
    _WorkerTraceback,
    figure_processes,
)

BARS = Figure(
    "bars-test",
    "test",
    "bars",
    {
        "categories": ["1", "2"],
        "series": [{"name": "A", "values": [60.0, None]}],
        "xlabel": "Cycles",
        "ylabel": "Persons (%)",
    },
)
#: drawing it fails in matplotlib's caller: the curves are missing
BROKEN = Figure("km-broken", "test", "km", {"xlabel": "Months", "ylabel": "Survival"})
#: drawing it warns: a character the bundled font lacks
NO_GLYPH = Figure(
    "bars-glyph",
    "test",
    "bars",
    {
        "categories": ["1"],
        "series": [{"name": "A", "values": [1.0]}],
        "xlabel": "\u4e2d",
        "ylabel": "%",
    },
)


class _ExitOnLoad:
    """Ends the process that unpickles it, with exit code 3 (a worker that dies)."""

    def __reduce__(self) -> tuple[object, tuple[int]]:
        return (os._exit, (3,))


@pytest.fixture
def worker() -> Iterator[FigureWorker]:
    with FigureWorker() as started:
        assert started.start()
        yield started


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_report_files_are_the_same_bytes_with_and_without_a_worker(
    results, spec, meta, worker, tmp_path
):
    serial = write_report(results, spec, tmp_path / "serial", meta=meta)
    parallel = write_report(results, spec, tmp_path / "worker", meta=meta, figures=worker)
    figures = [p for p in parallel if p.suffix in (".png", ".svg")]
    assert worker.wait() == figures
    assert [p.relative_to(tmp_path / "worker") for p in parallel] == [
        p.relative_to(tmp_path / "serial") for p in serial
    ]
    assert len(figures) >= 4
    assert figures[:2] == [figures[0].with_suffix(".png"), figures[0].with_suffix(".svg")]
    drawn = _files(tmp_path / "serial")
    assert drawn == _files(tmp_path / "worker")
    assert drawn["figures/" + figures[0].name].startswith(b"\x89PNG")


def test_figures_not_taken_by_a_worker_are_drawn_here(results, spec, meta, tmp_path):
    stopped = FigureWorker()  # never started: write_report draws the figures itself
    written = write_report(results, spec, tmp_path, meta=meta, figures=stopped)
    assert stopped.wait() == []
    assert all(p.is_file() for p in written)
    doc = build_report(results, spec, meta)
    assert len(written) == 1 + 2 * len([f for f in doc.figures() if f.static])


def test_the_worker_writes_each_figure_as_write_static_does(worker, tmp_path):
    assert worker.submit([BARS], tmp_path / "w")
    assert worker.wait() == static_files(BARS, tmp_path / "w")
    assert write_static(BARS, tmp_path / "s") == static_files(BARS, tmp_path / "s")
    assert _files(tmp_path / "w") == _files(tmp_path / "s")
    assert worker.wait() == []  # nothing left to wait for


def test_an_error_in_the_worker_is_raised_here_with_its_traceback(worker, tmp_path):
    with pytest.raises(KeyError) as serial:
        write_static(BROKEN, tmp_path / "s")
    assert worker.submit([BARS, BROKEN], tmp_path / "w")
    with pytest.raises(KeyError) as raised:
        worker.wait()
    assert raised.value.args == serial.value.args == ("curves",)
    cause = raised.value.__cause__
    assert isinstance(cause, _WorkerTraceback)
    assert "render/static.py" in str(cause)
    assert "KeyError: 'curves'" in str(cause)
    # the worker carries on with the next figures
    assert worker.submit([BARS], tmp_path / "again")
    assert worker.wait() == static_files(BARS, tmp_path / "again")


def test_warnings_of_the_worker_are_issued_here(worker, tmp_path):
    assert worker.submit([NO_GLYPH], tmp_path)
    with pytest.warns(UserWarning, match="missing from font") as caught:
        worker.wait()
    assert len(caught) >= 1
    assert (tmp_path / "bars-glyph.png").is_file()


def test_warning_classes_of_other_libraries_are_sent_as_a_builtin_base():
    class LibraryWarning(RuntimeWarning):
        pass

    LibraryWarning.__module__ = "somelibrary"
    assert _plain_category(LibraryWarning) is RuntimeWarning
    assert _plain_category(DeprecationWarning) is DeprecationWarning
    from allrwe.errors import StudyWarning

    assert _plain_category(StudyWarning) is StudyWarning


def test_a_kind_without_static_rendering_is_refused_before_it_is_sent(worker, tmp_path):
    sankey = Figure("flows", "test", "sankey", {"nodes": [], "links": []})
    with pytest.raises(ValueError, match="no static rendering for figure kind 'sankey'"):
        worker.submit([BARS, sankey], tmp_path)
    with pytest.raises(ValueError, match="no static rendering for figure kind 'sankey'"):
        write_static(sankey, tmp_path)
    assert worker.wait() == []
    assert not tmp_path.joinpath("bars-test.png").exists()


def test_static_charts_are_the_kinds_drawn():
    from allrwe.report.render import static as _static

    assert set(_static._DRAW) == set(STATIC_CHARTS)


def test_a_worker_that_dies_while_drawing_is_a_clear_error(worker, tmp_path):
    dying = Figure("km-dies", "test", "km", {"curves": _ExitOnLoad()})
    assert worker.submit([dying], tmp_path)
    with pytest.raises(FigureWorkerError, match=r"ended \(exit code 3\) before it wrote them"):
        worker.wait()
    assert not worker.running


def test_a_worker_whose_reply_cannot_be_read_is_killed_not_waited_for(monkeypatch, tmp_path):
    # the process says it is ready, then answers a request with bytes no pickle starts with
    # and stays alive: the caller must not wait for it forever
    boot = "\n".join(
        [
            "import pickle, sys, time",
            "out = sys.stdout.buffer",
            "pickle.dump(('ready',), out); out.flush()",
            "sys.stdin.buffer.read(1)",
            "out.write(b'\\xff\\xff'); out.flush()",
            "time.sleep(600)",
        ]
    )
    monkeypatch.setattr(figure_worker, "_command", lambda: [sys.executable, "-c", boot])
    with FigureWorker() as garbling:
        assert garbling.start()
        assert garbling.submit([BARS], tmp_path)
        started = time.monotonic()
        with pytest.raises(FigureWorkerError, match=r"could not be read \(exit code -9\)"):
            garbling.wait()
        assert time.monotonic() - started < 60
        assert not garbling.running


def test_a_worker_that_died_before_the_figures_leaves_them_to_the_caller(worker, tmp_path):
    proc = worker._proc
    assert proc is not None
    proc.kill()
    proc.wait()
    assert not worker.submit([BARS], tmp_path)
    assert worker.wait() == []


def test_leaving_the_block_ends_the_process(tmp_path):
    with FigureWorker() as worker:
        assert worker.start()
        proc = worker._proc
        assert proc is not None
        assert worker.submit([BARS], tmp_path)
        assert worker.wait() == static_files(BARS, tmp_path)
    assert proc.returncode == 0
    assert not worker.running
    assert not worker.start()  # a closed worker does not start again


def _submit_then_fail(worker: FigureWorker, folder: Path, error: type[BaseException]) -> None:
    with worker:
        assert worker.start()
        assert worker.submit([BARS], folder)
        raise error


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_an_error_in_the_block_kills_the_process_at_once(error, tmp_path):
    worker = FigureWorker()
    assert worker.start()
    proc = worker._proc
    with pytest.raises(error):
        _submit_then_fail(worker, tmp_path, error)
    assert proc is not None
    assert proc.returncode is not None  # ended and reaped: no orphan, no zombie
    assert proc.stdout is not None
    assert proc.stdout.closed


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_the_worker_ignores_ctrl_c_sent_to_it(worker, tmp_path):
    assert worker.submit([BARS], tmp_path / "first")  # once it has replied, it is serving
    assert worker.wait() == static_files(BARS, tmp_path / "first")
    proc = worker._proc
    assert proc is not None
    os.kill(proc.pid, signal.SIGINT)
    assert worker.submit([BARS], tmp_path / "then")
    assert worker.wait() == static_files(BARS, tmp_path / "then")
    assert worker.running


def test_the_drawing_modules_do_not_load_pandas():
    code = (
        "import sys, allrwe.report.worker, allrwe.report.render.static; "
        "print('pandas' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "False\n"


def test_a_script_without_a_main_guard_is_not_run_again_by_the_worker(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from pathlib import Path
            from allrwe.report.model import Figure
            from allrwe.report.worker import FigureWorker
            figure = Figure("b", "t", "bars", {dict(BARS.data)!r})
            with FigureWorker() as worker:
                worker.start()
                worker.submit([figure], Path({str(tmp_path)!r}))
                print(len(worker.wait()), "files")
            """
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, check=False
    )
    assert (done.returncode, done.stdout) == (0, "2 files\n"), done.stderr
    assert sorted(p.name for p in tmp_path.glob("b.*")) == ["b.png", "b.svg"]


@pytest.fixture
def pool() -> Iterator[FigureWorkers]:
    with FigureWorkers(2) as started:
        assert started.start()
        yield started


def _bars(name: str) -> Figure:
    return Figure(name, "test", "bars", dict(BARS.data))


def test_a_pool_writes_the_report_files_of_one_worker_in_figure_order(
    results, spec, meta, pool, tmp_path
):
    serial = write_report(results, spec, tmp_path / "serial", meta=meta)
    parallel = write_report(results, spec, tmp_path / "pool", meta=meta, figures=pool)
    figures = [p for p in parallel if p.suffix in (".png", ".svg")]
    assert len(figures) >= 4  # at least two figures: both processes draw
    assert pool.wait() == figures
    assert [p.relative_to(tmp_path / "pool") for p in parallel] == [
        p.relative_to(tmp_path / "serial") for p in serial
    ]
    assert _files(tmp_path / "serial") == _files(tmp_path / "pool")
    assert pool.wait() == []


def test_a_pool_hands_each_figure_to_the_first_free_process(pool, tmp_path):
    # The process given b0 is held until the other has taken every other figure: dealt out
    # in turn, it would have had b2 and b4 waiting for it instead.
    figures = [_bars(f"b{i}") for i in range(5)]
    rest_taken = threading.Event()
    shares: dict[int, list[str]] = {0: [], 1: []}
    for i, worker in enumerate(pool.workers):
        submit = worker.submit

        def recording(batch, folder, submit=submit, i=i):
            shares[i] += [f.id for f in batch]
            taken = submit(batch, folder)
            if batch[0].id == "b0":
                assert rest_taken.wait(timeout=60)
            if batch[0].id == "b4":
                rest_taken.set()
            return taken

        worker.submit = recording  # type: ignore[method-assign]
    assert pool.submit(figures, tmp_path)
    assert pool.wait() == [p for f in figures for p in static_files(f, tmp_path)]
    assert sorted(shares.values()) == [["b0"], ["b1", "b2", "b3", "b4"]]
    assert _files(tmp_path).keys() == {p.name for f in figures for p in static_files(f, tmp_path)}


def test_the_warnings_of_a_pool_are_issued_by_wait_in_the_caller(pool, tmp_path):
    figures = [_bars("b0"), NO_GLYPH, _bars("b2")]
    assert pool.submit(figures, tmp_path)
    with pytest.warns(UserWarning, match="Glyph"):
        pool.wait()


def test_a_pool_starts_each_process_once_the_one_before_is_ready(monkeypatch, tmp_path):
    # each process waits for a file to exist before it loads matplotlib and says it is ready
    gate = tmp_path / "go"
    boot = "\n".join(
        [
            f"import pathlib, sys, time; sys.path[:] = {sys.path!r}",
            f"while not pathlib.Path({str(gate)!r}).exists(): time.sleep(0.05)",
            "from allrwe.report.worker import serve; serve()",
        ]
    )
    monkeypatch.setattr(figure_worker, "_command", lambda: [sys.executable, "-c", boot])
    with FigureWorkers(2) as pool:
        assert pool.start()
        first, second = pool.workers
        time.sleep(1.0)
        assert first.running
        assert second._proc is None  # not started while the first is loading
        figures = [_bars(f"b{i}") for i in range(4)]
        assert pool.submit(figures, tmp_path / "f")  # taken by both, once they run
        gate.touch()
        assert pool.wait() == [p for f in figures for p in static_files(f, tmp_path / "f")]
        assert first.running
        assert second.running
    assert first._proc is None
    assert second._proc is None


def test_a_closed_pool_starts_no_process(tmp_path):
    pool = FigureWorkers(2)
    pool.close()
    assert not pool.start()
    assert [w._proc for w in pool.workers] == [None, None]
    assert not pool.submit([BARS], tmp_path)  # none running: the caller draws them


def test_an_error_in_one_process_of_a_pool_is_raised_once_both_replied(pool, tmp_path):
    assert pool.submit([BARS, BROKEN], tmp_path / "w")  # BARS to one, BROKEN to the other
    with pytest.raises(KeyError, match="curves"):
        pool.wait()
    assert (tmp_path / "w" / "bars-test.svg").is_file()
    # nothing of the failed request is left to read: the next one is waited for alone
    assert pool.submit([_bars("b0"), _bars("b1")], tmp_path / "again")
    assert [p.name for p in pool.wait()] == ["b0.png", "b0.svg", "b1.png", "b1.svg"]


def test_the_share_of_a_dead_process_goes_to_another(pool, tmp_path):
    dead = pool.workers[0]._proc
    assert dead is not None
    dead.kill()
    dead.wait()
    figures = [_bars(f"b{i}") for i in range(3)]
    assert pool.submit(figures, tmp_path)
    assert pool.wait() == [p for f in figures for p in static_files(f, tmp_path)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for f in figures for p in static_files(f, tmp_path)
    )
    for worker in pool.workers:
        worker.close()
    assert not pool.submit(figures, tmp_path)  # none running: the caller draws them


def test_a_pool_has_one_process_per_cpu_up_to_two():
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert figure_processes() == min(2, cpus or 1)
    assert len(FigureWorkers().workers) == figure_processes()
    with pytest.raises(ValueError, match="at least 1, not 0"):
        FigureWorkers(0)
