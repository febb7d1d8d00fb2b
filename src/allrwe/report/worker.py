"""A separate process that draws the static figures while the caller goes on.

Drawing the PNG and SVG files with matplotlib is the longest part of writing a report, and it
needs nothing but the plain data of the figure blocks. :class:`FigureWorker` starts a Python
process early (its start-up and matplotlib import then overlap other work), takes the figures
of a report (:meth:`FigureWorker.submit`), and draws them on another core while the caller
renders the HTML and goes on; :meth:`FigureWorker.wait` returns when they are written.

The process runs ``python -c`` with the caller's ``sys.path`` and imports this module only:
unlike a :mod:`multiprocessing` spawn, it does not import the caller's ``__main__`` again (a
script that calls :func:`~allrwe.study.run_study` without a ``__main__`` guard stays safe), and
it loads matplotlib but not pandas or the analyses. Requests and replies are pickled over its
standard input and output; its standard error is the caller's. The files it writes are those
:func:`~allrwe.report.figures.write_static` writes, byte for byte.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import pickle
import signal
import subprocess
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from allrwe.errors import FigureWorkerError
from allrwe.report.figures import static_files
from allrwe.report.model import Figure

__all__ = ["FigureWorker", "FigureWorkers", "figure_processes", "serve"]

logger = logging.getLogger(__name__)

#: seconds a worker is given to end after its input is closed, before it is killed
CLOSE_TIMEOUT = 10.0

#: most processes :class:`FigureWorkers` starts (see :func:`figure_processes`)
MAX_PROCESSES = 2

#: the module the worker loads at start-up, before its first request
_DRAWING_MODULE = "allrwe.report.render.static"

#: a caught warning as sent back: category, message, file name, line number
PlainWarning = tuple[type[Warning], str, str, int]


def _command() -> list[str]:
    """Return the command line of a worker process (this interpreter, the caller's path)."""
    boot = f"import sys; sys.path[:] = {sys.path!r}; from {__name__} import serve; serve()"
    return [sys.executable, "-c", boot]


def _plain_category(category: type[Warning]) -> type[Warning]:
    """Return the first class of ``category``'s MRO that unpickles without its library.

    A warning of matplotlib (say) is sent back as its nearest built-in or allrwe base class,
    so that the caller need not import matplotlib to receive it.
    """
    for cls in category.__mro__:
        if cls.__module__ == "builtins" or cls.__module__.startswith("allrwe."):
            return cls
    return UserWarning  # pragma: no cover - every warning class derives from Warning


def _plain_warnings(caught: Sequence[warnings.WarningMessage]) -> list[PlainWarning]:
    return [
        (_plain_category(w.category), str(w.message), w.filename, w.lineno or 0) for w in caught
    ]


def _error_reply(exc: BaseException) -> tuple[Any, ...]:
    """Return the reply for a failed request: the pickled exception if it pickles, its text."""
    try:
        pickled: bytes | None = pickle.dumps(exc, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that does not pickle is sent as text only
        pickled = None
    text = "".join(traceback.format_exception(exc))
    return ("error", pickled, f"{type(exc).__name__}: {exc}", text)


def _draw(folder: str, figures: Sequence[Figure]) -> bytes:
    """Draw ``figures`` into ``folder``; return the pickled reply, with the caught warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # the error of a failed start-up import is raised here, as in the caller's process
            write_files = importlib.import_module(_DRAWING_MODULE).write_files
            written = [str(p) for figure in figures for p in write_files(figure, Path(folder))]
        except Exception as exc:
            reply = _error_reply(exc)
        else:
            reply = ("ok", written)
    return pickle.dumps((*reply, _plain_warnings(caught)), protocol=pickle.HIGHEST_PROTOCOL)


def serve() -> None:  # pragma: no cover - runs in the worker process (tests drive it there)
    """Run as the worker process: draw each request read from stdin, reply on stdout.

    The process ignores SIGINT (the caller decides when it ends), keeps its standard output
    for the replies (anything printed goes to standard error) and ends, without the teardown
    of matplotlib, when its input is closed or the caller is gone.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    with contextlib.suppress(Exception):  # a failure is raised again by the first request
        importlib.import_module(_DRAWING_MODULE)
    while True:
        try:
            folder, figures = pickle.load(requests)
        except EOFError:  # the caller closed the input: no more work
            break
        try:
            replies.write(_draw(folder, figures))
            replies.flush()
        except OSError:  # the caller is gone
            break
    sys.stderr.flush()
    os._exit(0)


class FigureWorker:
    """A worker process that draws static figures; a context manager that ends it.

    Create it, :meth:`start` it early, give it the figures of a report (``figures=`` of
    :func:`~allrwe.report.write_report`), then :meth:`wait` for them. Leaving the ``with``
    block ends the process: once it has nothing left to do, or at once if the block raised.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._pending: list[list[Path]] = []
        self._closed = False

    @property
    def running(self) -> bool:
        """Whether the process was started and has not ended."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> bool:
        """Start the process (once); return False if it cannot start or was closed.

        Figures given to a worker that did not start are drawn by the caller.
        """
        if self._proc is not None or self._closed:
            return self.running
        try:
            self._proc = subprocess.Popen(
                _command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                # out of the terminal's process group: Ctrl-C reaches the caller only
                start_new_session=True,
                creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0),  # Windows
            )
        except (OSError, ValueError):
            logger.debug("the figure worker did not start", exc_info=True)
            return False
        logger.debug("figure worker started (pid %d)", self._proc.pid)
        return True

    def submit(self, figures: Sequence[Figure], folder: Path) -> bool:
        """Hand ``figures`` to the process, to be written into ``folder``.

        Parameters
        ----------
        figures : sequence of Figure
            Figure blocks with a static rendering.
        folder : pathlib.Path
            Where to write them (created by the worker).

        Returns
        -------
        bool
            True if the process took them (:meth:`wait` returns when they are written);
            False if it is not running: the caller draws them itself.

        Raises
        ------
        ValueError
            If a figure is of a kind that has no static rendering (as the caller would).
        """
        expected = [path for figure in figures for path in static_files(figure, folder)]
        if not self.running:
            return False
        assert self._proc is not None
        assert self._proc.stdin is not None
        request = (os.fspath(folder), list(figures))
        try:
            pickle.dump(request, self._proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._proc.stdin.flush()
        except OSError:  # the process ended just now: nothing of this request was taken
            logger.debug("the figure worker ended before it took the figures", exc_info=True)
            return False
        self._pending.append(expected)
        return True

    def wait(self) -> list[Path]:
        """Wait until every submitted figure is written; return the files, in order.

        Returns
        -------
        list of pathlib.Path
            The files written, as :func:`~allrwe.report.figures.write_static` names them.

        Raises
        ------
        Exception
            The error that drawing a figure raised in the process (its traceback there is
            the ``__cause__``), after re-issuing the warnings the process caught.
        FigureWorkerError
            If the process ended before it replied, or a file it reports is missing.
        """
        written: list[Path] = []
        while self._pending:
            expected = self._pending.pop(0)
            written += self._receive(expected)
        return written

    def _receive(self, expected: list[Path]) -> list[Path]:
        assert self._proc is not None
        assert self._proc.stdout is not None
        try:
            status, *payload, caught = pickle.load(self._proc.stdout)
        except (EOFError, pickle.UnpicklingError, ValueError) as exc:
            self._pending.clear()
            code = self._proc.wait()
            raise FigureWorkerError(
                f"the process drawing the static figures ended (exit code {code}) before it "
                "wrote them"
            ) from exc
        for category, message, filename, lineno in caught:
            warnings.warn_explicit(message, category, filename, lineno)
        if status == "error":
            raise _raised(*payload)
        written = [Path(p) for p in payload[0]]
        missing = [p for p in expected if p not in written or not p.is_file()]
        if missing:
            raise FigureWorkerError(f"the figure worker did not write {os.fspath(missing[0])!r}")
        return written

    def close(self, *, abort: bool = False) -> None:
        """End the process and wait for it (a no-op if it is not running).

        Parameters
        ----------
        abort : bool, default False
            Kill it at once instead of letting it finish the figures it has (the caller
            will not use them, and may delete their folder).
        """
        proc, self._proc = self._proc, None
        self._pending.clear()
        self._closed = True
        if proc is None:
            return
        try:
            if abort:
                proc.kill()
            _close_quietly(proc.stdin)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=CLOSE_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            _close_quietly(proc.stdout)

    def __enter__(self) -> FigureWorker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(abort=exc_type is not None)


class _WorkerTraceback(Exception):
    """The traceback of an error raised in the worker process (as text)."""


def _raised(pickled: bytes | None, summary: str, text: str) -> BaseException:
    """Return the error a worker reported, with its traceback there as the cause."""
    error: BaseException | None = None
    if pickled is not None:
        with contextlib.suppress(Exception):  # an exception class that does not unpickle
            error = pickle.loads(pickled)
    if not isinstance(error, BaseException):
        error = FigureWorkerError(f"drawing the static figures failed: {summary}")
    error.__cause__ = _WorkerTraceback(f"\n\n{text}")
    return error


def figure_processes() -> int:
    """Return how many worker processes to draw with: one per CPU, at most :data:`MAX_PROCESSES`.

    With two, the figures of a report are drawn in about half the time; each process costs
    a matplotlib import and about 80 MB while it draws, so a single-CPU machine starts one.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_PROCESSES, cpus))


class FigureWorkers:
    """Several :class:`FigureWorker` processes that share out the figures of each request.

    The same interface as one worker (:meth:`start`, :meth:`submit`, :meth:`wait`,
    :meth:`close`, a context manager that ends every process). A request's figures are dealt
    out in turn to the running processes (figure 1 to the first, 2 to the second, ...;
    figures cost about the same to draw); :meth:`wait` returns the files in the order of
    the figures, as one worker would. A figure is drawn by one process only, so the files
    are those :func:`~allrwe.report.figures.write_static` writes, whichever process drew them.

    Parameters
    ----------
    processes : int, optional
        How many processes; default :func:`figure_processes`.
    """

    def __init__(self, processes: int | None = None) -> None:
        count = figure_processes() if processes is None else processes
        if count < 1:
            raise ValueError(f"processes must be at least 1, not {count}")
        self.workers = [FigureWorker() for _ in range(count)]
        self._pending: list[list[Path]] = []

    @property
    def running(self) -> bool:
        """Whether at least one process was started and has not ended."""
        return any(w.running for w in self.workers)

    def start(self) -> bool:
        """Start every process (once); return True if at least one is running."""
        started = [w.start() for w in self.workers]
        return any(started)

    def submit(self, figures: Sequence[Figure], folder: Path) -> bool:
        """Deal ``figures`` out to the running processes, to be written into ``folder``.

        Returns
        -------
        bool
            True if the processes took them (:meth:`wait` returns when they are written);
            False if none is running: the caller draws them itself. A share that its
            process refuses (it ended just now) goes to another running process, or is
            drawn here if none is left, so that no figure is drawn twice.

        Raises
        ------
        ValueError
            If a figure is of a kind that has no static rendering (nothing is sent).
        """
        expected = [path for figure in figures for path in static_files(figure, folder)]
        live = [w for w in self.workers if w.running]
        if not live:
            return False
        for i in range(len(live)):
            share = list(figures[i :: len(live)])
            if share and not any(w.submit(share, folder) for w in live[i:] + live[:i]):
                from allrwe.report.figures import write_static

                for figure in share:
                    write_static(figure, folder)
        self._pending.append(expected)
        return True

    def wait(self) -> list[Path]:
        """Wait until every submitted figure is written; return the files in figure order.

        Every process is waited for, even after one raised, so that none is left with a
        reply of this request; the first error is then raised (see :meth:`FigureWorker.wait`).
        """
        error: BaseException | None = None
        for worker in self.workers:
            try:
                worker.wait()
            except Exception as exc:  # raised once every process has replied
                error = error or exc
        expected, self._pending = self._pending, []
        if error is not None:
            raise error
        return [path for files in expected for path in files]

    def close(self, *, abort: bool = False) -> None:
        """End every process; see :meth:`FigureWorker.close`."""
        self._pending.clear()
        for worker in self.workers:
            worker.close(abort=abort)

    def __enter__(self) -> FigureWorkers:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(abort=exc_type is not None)


def _close_quietly(stream: IO[bytes] | None) -> None:
    if stream is not None:
        with contextlib.suppress(OSError):  # a pipe whose other end is gone
            stream.close()
