"""Where one account's pacing state lives: in this process only, or in a small file every process on
the host shares.

Runs against one account share its limits, whoever started them (Dagster, `jde-stripe sync`, `replay`,
`plan`, a second deployment). In one process, every sink of an account uses the same `AccountBudget`
(`budget.py`); between processes, the lanes' schedule and the list of processes pacing live in a JSON file
of a few hundred bytes under `JDE_STRIPE_BUDGET_DIR` (default: `jde-stripe-budget-<uid>` in the system's
temporary directory), read and rewritten under an exclusive `fcntl.flock` for each request. The kernel
drops the lock of a process that dies (even by SIGKILL); a dead process's entry is dropped by the next one
to look; a file that cannot be parsed (a writer killed mid-write) starts afresh. It costs one small
read and write per request, next to the HTTP round trip of hundreds of milliseconds.

One host only: processes on other hosts (a Kubernetes run launcher) do not see the file; there the
Dagster pool `stripe_api` (one Stripe step at a time per deployment, `dagster.yaml`) is the guard.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final, Protocol, TypeVar

from jde_stripe_pipeline.stripe_sink.pacing import State

log = logging.getLogger(__name__)

T = TypeVar("T")
PRUNE_AFTER_SECONDS: Final = 86400.0
"""Budget files nobody wrote for a day are removed when a sink opens its own (their schedule is long past)."""


class BudgetStore(Protocol):
    def update(self, change: Callable[[State], T]) -> T:
        """Run `change` on the state atomically (no other thread or process sees it half done)."""
        ...

    def close(self) -> None: ...


class MemoryStore:
    """The state of a budget shared by the sinks of this process only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: State = {}

    def update(self, change: Callable[[State], T]) -> T:
        with self._lock:
            return change(self._state)

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return "MemoryStore()"


class FileStore:
    """The state in a file shared by every process on the host that paces the same account."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()  # flock does not exclude threads sharing one descriptor
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def update(self, change: Callable[[State], T]) -> T:
        with self._lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                state = self._read()
                result = change(state)
                data = json.dumps(state, separators=(",", ":")).encode()
                os.pwrite(self._fd, data, 0)
                os.ftruncate(self._fd, len(data))
                return result
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _read(self) -> State:
        size = os.fstat(self._fd).st_size
        raw = os.pread(self._fd, size, 0) if size else b""
        if not raw:
            return {}
        try:
            state = json.loads(raw)
        except ValueError:
            return {}  # a writer died mid-write: start afresh (the worst case is one second's overlap)
        return state if isinstance(state, dict) else {}

    def close(self) -> None:
        with self._lock, contextlib.suppress(OSError):
            os.close(self._fd)

    def __repr__(self) -> str:
        return f"FileStore({self.path})"


def default_budget_dir() -> Path:
    """Per user (other users' processes cannot read or write it) and per host."""
    return Path(tempfile.gettempdir()) / f"jde-stripe-budget-{os.getuid()}"


def open_store(directory: Path | None, name: str) -> BudgetStore:
    """A `FileStore` for budget `name` under `directory`, or a `MemoryStore` when `directory` is None.

    A directory that cannot be used raises OSError (the settings name it)."""
    if directory is None:
        return MemoryStore()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    _prune(directory)
    return FileStore(directory / f"{name}.json")


def _prune(directory: Path) -> None:
    cutoff = time.time() - PRUNE_AFTER_SECONDS
    with contextlib.suppress(OSError):
        for path in directory.glob("*.json"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
