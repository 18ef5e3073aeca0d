"""Waiting in the foreground until the user stops us, whatever signal dispositions we inherited."""

from __future__ import annotations

import contextlib
import signal
import time
from types import FrameType


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def wait_until_interrupted() -> None:
    """Block until Ctrl-C or SIGTERM. Installed here, just before waiting: a process started in the
    background inherits SIGINT ignored, a parent may hand down SIGTERM ignored or blocked, and
    Dagster's in-process runs swap handlers while they run."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        # A mask survives exec too: a parent that blocked SIGTERM would leave us unstoppable (and one
        # already pending arrives here).
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
        while True:
            time.sleep(3600)
