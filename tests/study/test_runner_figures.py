"""run_study and its figure worker: the figures drawn beside the run, which ends the worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from study_paths import DEMO_SPEC

from allrwe.errors import FigureWorkerError
from allrwe.report import worker as figure_worker
from allrwe.report.worker import FigureWorker, figure_processes
from allrwe.study import StageEvent, run_study
from allrwe.study.output import write_manifest


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[bytes]]:
    """The processes the figure workers of a run start."""
    started: list[subprocess.Popen[bytes]] = []
    start = FigureWorker.start

    def recording(self: FigureWorker) -> bool:
        ok = start(self)
        if self._proc is not None and self._proc not in started:
            started.append(self._proc)
        return ok

    monkeypatch.setattr(FigureWorker, "start", recording)
    return started


def _previous_output(out: Path) -> None:
    out.mkdir()
    (out / "report.html").write_text("previous report")
    write_manifest(out, ["report.html"])


def test_a_worker_that_dies_stops_the_run_and_keeps_the_previous_output(
    emr_cdm, workers, monkeypatch, tmp_path
):
    # a worker that reads the request, then ends without a reply
    boot = f"import pickle, sys; sys.path[:] = {sys.path!r}; pickle.load(sys.stdin.buffer)"
    boot += "; sys.exit(3)"
    dying = [sys.executable, "-c", boot]
    monkeypatch.setattr(figure_worker, "_command", lambda: dying)
    out = tmp_path / "out"
    _previous_output(out)
    with pytest.raises(FigureWorkerError, match=r"exit code 3\) before it wrote them") as info:
        run_study(DEMO_SPEC, emr_cdm, out)
    assert info.value.exit_code == 1
    assert (out / "report.html").read_text() == "previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder left
    # the demo report has more static figures than processes: each process got a share
    assert [w.returncode for w in workers] == [3] * figure_processes()


def test_ctrl_c_during_the_run_ends_the_worker(emr_cdm, workers, tmp_path):
    def interrupt(event: StageEvent) -> None:
        if event.stage == "audit" and event.status == "start":  # the figures were handed over
            raise KeyboardInterrupt

    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_study(DEMO_SPEC, emr_cdm, out, progress=interrupt)
    # the second process starts once the first is ready: an interrupt may come before
    assert 1 <= len(workers) <= figure_processes()
    assert all(w.returncode is not None for w in workers)  # ended and reaped
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_the_run_does_not_load_matplotlib(emr_cdm, tmp_path):
    code = (
        "import sys; from allrwe.study import run_study; "
        f"s = run_study({str(DEMO_SPEC)!r}, {emr_cdm!r}, {str(tmp_path / 'out')!r}); "
        "print(len([f for f in s.files if f.startswith('figures/')]) > 0, "
        "'matplotlib' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stdout.split() == ["True", "False"], done.stderr
