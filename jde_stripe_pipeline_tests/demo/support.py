"""Running `jde-stripe` as a user does: a subprocess, read line by line, stopped with Ctrl-C (SIGINT)."""

from __future__ import annotations

import os
import queue
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

JDE_STRIPE = str(Path(sys.executable).parent / "jde-stripe")


class LiveCommand:
    """A started `jde-stripe …` whose stdout lines are collected by a reader thread."""

    def __init__(self, args: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [JDE_STRIPE, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, prefix: str, timeout: float) -> str:
        """The first line (from now on) starting with `prefix`; fails with the output so far."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"exited ({self.process.wait()}) before {prefix!r}:\n" + self.output())
            self.lines.append(line)
            if line.strip().startswith(prefix):
                return line.strip()
        raise AssertionError(f"no line starting {prefix!r} within {timeout}s:\n" + self.output())

    def interrupt(self, timeout: float = 60.0) -> int:
        """Ctrl-C, then the exit code; collects the rest of the output."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout)
        while (line := self._queue.get(timeout=10)) is not None:
            self.lines.append(line)
        return code

    def output(self) -> str:
        return "\n".join(self.lines)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def exported(lines: Sequence[str]) -> dict[str, str]:
    """The variables of `export A=1 B=2` lines."""
    env: dict[str, str] = {}
    for line in lines:
        words = shlex.split(line.strip())
        if words and words[0] == "export":
            env.update(word.split("=", 1) for word in words[1:])  # type: ignore[misc]
    return env


def is_listening(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((host, port)) == 0
