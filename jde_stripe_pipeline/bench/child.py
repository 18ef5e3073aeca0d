"""Run one system under test in a child process of its own, as a Dagster run worker would be.

The sandboxes stay in the bench's process and answer over loopback; the system runs in a spawned
child with only the environment it is given, so its peak memory and CPU time are its own and it
shares no interpreter lock with the emulator (a real Stripe is another machine).

A child never outlives its bench: it is killed when `run_in_child` leaves early (an exception, Ctrl-C,
the `SIGTERM` that `stop_on_sigterm` turns into an exit), and it ends itself when its parent is gone
(a `kill -9` of the bench), so it cannot go on writing into a later bench's output.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import resource
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

CHILD_TIMEOUT_SECONDS = 4 * 3600.0


@dataclass(frozen=True)
class RunFigures:
    """What a child reports: its wall time (from the start of the work, imports excluded), the
    epoch times of its phases, its own counts, and its peak RSS and CPU time."""

    success: bool
    started: float
    finished: float
    phases: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    counts: Mapping[str, Any] = field(default_factory=dict)
    peak_rss_mib: float = 0.0
    cpu_seconds: float = 0.0
    errors: tuple[str, ...] = ()

    @property
    def seconds(self) -> float:
        return self.finished - self.started


Work = Callable[
    [Mapping[str, str], Mapping[str, Any]],
    tuple[bool, dict[str, tuple[float, float]], dict[str, Any], list[str]],
]
"""(environment, options) → (success, phases, counts, errors); runs in the child."""


def peak_rss_mib() -> float:
    """This process's own peak RSS: `VmHWM`, which starts afresh at exec. Not `ru_maxrss`: Linux carries
    it over from the forking parent, so a child of a bench holding a 600 MiB emulator would report 600."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


ORPHAN_CHECK_SECONDS = 1.0


def stop_on_sigterm() -> None:
    """Make `SIGTERM` end the bench like Ctrl-C does: by an exception, so `run_in_child` kills its child."""
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))


def _end_when_orphaned(parent: int) -> None:
    """In the child: exit at once when the bench that started it is gone (adopted by another parent)."""
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_SECONDS)
    os._exit(1)


def _main(work: Work, env: Mapping[str, str], options: Mapping[str, Any], results: Any) -> None:
    parent = os.getppid()
    threading.Thread(target=_end_when_orphaned, args=(parent,), daemon=True, name="orphan-check").start()
    os.environ.clear()
    os.environ.update(env)
    cpu = _cpu()
    started = time.time()
    try:
        success, phases, counts, errors = work(env, options)
    except Exception:  # the bench reports it; the parent must not wait forever
        success, phases, counts, errors = False, {}, {}, [traceback.format_exc(limit=8)]
    finished = time.time()
    results.put(
        RunFigures(success, started, finished, phases, counts, peak_rss_mib(), _cpu() - cpu, tuple(errors))
    )


def run_in_child(work: Work, env: Mapping[str, str], options: Mapping[str, Any]) -> RunFigures:
    """`work(env, options)` in a spawned process; its figures, or a failure if it died."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=_main, args=(work, dict(env), dict(options), results))
    child.start()
    try:
        figures = _wait_for(child, results)
    finally:
        if child.is_alive():
            child.kill()
        child.join(timeout=60)
    return figures


def _wait_for(child: Any, results: Any) -> RunFigures:
    deadline = time.monotonic() + CHILD_TIMEOUT_SECONDS
    figures: RunFigures | None = None
    while figures is None and time.monotonic() < deadline:
        try:
            figures = results.get(timeout=2.0)
        except queue.Empty:
            if not child.is_alive():
                try:
                    figures = results.get(timeout=1.0)
                except queue.Empty:
                    break
    if figures is None:
        now = time.time()
        return RunFigures(
            False, now, now, errors=(f"the child ended without figures (exit {child.exitcode})",)
        )
    return figures
