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
import threading
import traceback
import warnings
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
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

#: what a worker sends once it has loaded the drawing module, before any reply
READY = ("ready",)

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
    for the replies (anything printed goes to standard error), says it is ready once it has
    loaded the drawing module (:data:`READY`), and ends, without the teardown of matplotlib,
    when its input is closed or the caller is gone.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    with contextlib.suppress(Exception):  # a failure is raised again by the first request
        importlib.import_module(_DRAWING_MODULE)
    try:
        replies.write(pickle.dumps(READY, protocol=pickle.HIGHEST_PROTOCOL))
        replies.flush()
    except OSError:  # the caller is gone
        os._exit(0)
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
        # the READY message is read once, by whichever thread needs it first
        self._ready: bool | None = None
        self._ready_lock = threading.Lock()

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
        reply = self._reply(expected)
        reply.issue_warnings()
        if reply.error is not None:
            raise reply.error
        return reply.files

    def wait_ready(self) -> bool:
        """Wait until the process has loaded the drawing module; False if it ended first.

        Also False if the process was not started or has been closed.
        """
        with self._ready_lock:
            if self._ready is None:
                proc = self._proc
                if proc is None or proc.stdout is None:
                    return False
                try:
                    self._ready = pickle.load(proc.stdout) == READY
                except (EOFError, pickle.UnpicklingError, ValueError, OSError):
                    self._ready = False
            return self._ready

    def _reply(self, expected: list[Path]) -> _Reply:
        """Read the reply to the oldest request; raise only if the process ended before it.

        Unlike :meth:`wait`, this issues no warning and raises no drawing error: both are
        kept in the reply, so that a thread other than the caller's may read it.
        """
        proc = self._proc  # close() may clear it meanwhile, from another thread
        if proc is None or proc.stdout is None:
            raise FigureWorkerError("the process drawing the static figures was closed")
        self.wait_ready()  # a process that ended before it was ready has no reply either
        try:
            status, *payload, caught = pickle.load(proc.stdout)
        except (EOFError, pickle.UnpicklingError, ValueError) as exc:
            self._pending.clear()
            # an end of input means the process closed its output: it is ending, though it
            # may not have been reaped yet; bytes that are no reply from a live process are
            # garbled, and it is killed rather than waited for
            garbled = not isinstance(exc, EOFError) and proc.poll() is None
            if garbled:
                proc.kill()
            try:
                code = proc.wait(timeout=CLOSE_TIMEOUT)
            except subprocess.TimeoutExpired:  # closed its output but lingers: end it
                proc.kill()
                code = proc.wait()
            what = "sent a reply that could not be read" if garbled else "ended"
            raise FigureWorkerError(
                f"the process drawing the static figures {what} (exit code {code}) before it "
                "wrote them"
            ) from exc
        if status == "error":
            return _Reply([], caught, _raised(*payload))
        written = [Path(p) for p in payload[0]]
        missing = [p for p in expected if p not in written or not p.is_file()]
        if missing:
            error = FigureWorkerError(f"the figure worker did not write {os.fspath(missing[0])!r}")
            return _Reply(written, caught, error)
        return _Reply(written, caught)

    def _draw_one(self, figure: Figure, folder: Path) -> _Reply | None:
        """Have the process draw ``figure`` and wait for it; None if it did not take it.

        Raises
        ------
        FigureWorkerError
            If the process ended before it replied.
        """
        if self._pending:
            raise RuntimeError("_draw_one needs a worker with no request pending")
        if not self.submit([figure], folder):
            return None
        return self._reply(self._pending.pop())

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


@dataclass(frozen=True)
class _Reply:
    """A worker's reply to one request: the files, the warnings it caught, its error."""

    files: list[Path]
    caught: list[PlainWarning]
    error: BaseException | None = None

    def issue_warnings(self) -> None:
        """Issue the warnings the process caught, here."""
        for category, message, filename, lineno in self.caught:
            warnings.warn_explicit(message, category, filename, lineno)


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


@dataclass
class _Request:
    """One :meth:`FigureWorkers.submit`: its figures, those not yet taken, and the replies."""

    figures: list[Figure]
    folder: Path
    expected: list[Path]
    #: positions of the figures no process has taken yet (processes take them from the left)
    todo: deque[int]
    #: the reply to each figure drawn, by position
    replies: dict[int, _Reply] = field(default_factory=dict)
    #: the first error of a process that ended while it drew (its figure has no reply)
    ended: list[BaseException] = field(default_factory=list)


class FigureWorkers:
    """Several :class:`FigureWorker` processes that share out the figures of each request.

    The same interface as one worker (:meth:`start`, :meth:`submit`, :meth:`wait`,
    :meth:`close`, a context manager that ends every process). A request's figures are handed
    out one at a time, in order, each to the first process that is free (a thread of the
    caller per process sends it the next figure as soon as it replied): figures that cost
    more to draw than others do not leave one process idle while another still has several
    to draw. :meth:`wait` returns the files in the order of the figures, as one worker
    would. A figure is drawn by one process only, so the files are those
    :func:`~allrwe.report.figures.write_static` writes, whichever process drew them.

    The processes start one after the other: each once the one before has loaded matplotlib
    (:meth:`FigureWorker.wait_ready`; about 0.5 s of CPU each). Started together, they would
    take both CPUs of a two-CPU machine from the caller, which goes on computing meanwhile.

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
        # one figure at a time per process: its replies come back in the order sent
        self._locks = [threading.Lock() for _ in self.workers]
        # set once a process was started, or given up (its start failed, or close())
        self._settled = [threading.Event() for _ in self.workers]
        self._requests: list[_Request] = []
        self._threads: list[threading.Thread] = []
        self._starter: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether at least one process was started and has not ended."""
        return any(w.running for w in self.workers)

    def start(self) -> bool:
        """Start the first process now, the others each once the one before is ready.

        Returns
        -------
        bool
            True if the first process is running, or the others are still to start.
        """
        if self._starter is not None or all(e.is_set() for e in self._settled):
            return self.running
        first = self.workers[0].start()
        self._settled[0].set()
        self._starter = threading.Thread(
            target=self._start_in_turn, name="allrwe-figure-start", daemon=True
        )
        self._starter.start()
        return first or len(self.workers) > 1

    def _start_in_turn(self) -> None:
        """Start each process after the first once the one before is ready (in a thread)."""
        for i in range(1, len(self.workers)):
            self.workers[i - 1].wait_ready()  # False if it did not start or has ended
            self.workers[i].start()  # a no-op once closed
            self._settled[i].set()

    def _to_start(self, i: int) -> bool:
        """Whether process ``i`` is running or may still start."""
        return self.workers[i].running or not self._settled[i].is_set()

    def submit(self, figures: Sequence[Figure], folder: Path) -> bool:
        """Hand ``figures`` out to the running processes, to be written into ``folder``.

        Returns at once: threads of the caller give each process its next figure as soon
        as it is free.

        Returns
        -------
        bool
            True if the processes take them (:meth:`wait` returns when they are written);
            False if none is running: the caller draws them itself. A figure that a process
            refuses (it ended just now) is taken by another running process; those that no
            process took are drawn here, by :meth:`wait`, so that no figure is drawn twice.

        Raises
        ------
        ValueError
            If a figure is of a kind that has no static rendering (nothing is sent).
        """
        expected = [path for figure in figures for path in static_files(figure, folder)]
        live = [i for i in range(len(self.workers)) if self._to_start(i)]
        if not live:
            return False
        request = _Request(list(figures), folder, expected, deque(range(len(figures))))
        self._requests.append(request)
        for i in live:
            thread = threading.Thread(
                target=self._feed, args=(i, request), name="allrwe-figures", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return True

    def _feed(self, i: int, request: _Request) -> None:
        """Give process ``i`` the next figure of ``request`` each time it is free.

        Runs in a thread of the caller, until no figure is left or the process has ended.
        """
        worker = self.workers[i]
        self._settled[i].wait()  # a process still to start takes figures once it has
        while True:
            try:
                position = request.todo.popleft()
            except IndexError:  # every figure is taken
                return
            try:
                with self._locks[i]:
                    reply = worker._draw_one(request.figures[position], request.folder)
            except FigureWorkerError as exc:  # the process ended while it drew
                request.ended.append(exc)
                return
            except Exception as exc:  # pragma: no cover - a bug here, raised by wait
                request.ended.append(exc)
                return
            if reply is None:  # the process ended before it took the figure
                request.todo.appendleft(position)
                return
            request.replies[position] = reply

    def wait(self) -> list[Path]:
        """Wait until every submitted figure is written; return the files in figure order.

        Every process is waited for, even after one raised, so that none is left with a
        reply of a request. The warnings the processes caught are then issued here, in the
        order of the figures, and the first error is raised (see :meth:`FigureWorker.wait`):
        a drawing error of the earliest figure, else the error of a process that ended.
        Figures that no process took (each had ended) are drawn here.
        """
        threads, self._threads = self._threads, []
        for thread in threads:
            thread.join()
        requests, self._requests = self._requests, []
        error: BaseException | None = None
        written: list[Path] = []
        for request in requests:
            for position in sorted(request.replies):
                reply = request.replies[position]
                reply.issue_warnings()
                error = error or reply.error
            error = error or next(iter(request.ended), None)
            if error is None and request.todo:
                from allrwe.report.figures import write_static

                for position in sorted(request.todo):
                    write_static(request.figures[position], request.folder)
            written += request.expected
        if error is not None:
            raise error
        return written

    def close(self, *, abort: bool = False) -> None:
        """End every process; see :meth:`FigureWorker.close`.

        The threads handing out figures end with their processes (a reply they wait for
        never comes: the process is gone).
        """
        for worker in self.workers:
            worker.close(abort=abort)  # a process not yet started no longer starts
        for settled in self._settled:
            settled.set()
        starter, self._starter = self._starter, None
        if starter is not None:
            starter.join(timeout=CLOSE_TIMEOUT)
            for worker in self.workers:  # one it started while the others were closed
                worker.close(abort=abort)
        threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(timeout=CLOSE_TIMEOUT)
        self._requests.clear()

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
