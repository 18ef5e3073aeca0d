"""A bench's child process never outlives the bench: killed or orphaned, it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

BENCH = """
import sys
from jde_stripe_pipeline.bench.child import run_in_child, stop_on_sigterm
from jde_stripe_pipeline_tests.bench.test_child_lifetime import sleeping_work
stop_on_sigterm()
run_in_child(sleeping_work, {{}}, {{"pid_file": sys.argv[1]}})
"""


def sleeping_work(env: Mapping[str, str], options: Mapping[str, Any]) -> Any:
    """A child's work that never ends by itself: it writes its PID and sleeps."""
    Path(options["pid_file"]).write_text(str(os.getpid()))
    time.sleep(600)
    return True, {}, {}, []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(")")[-1].split()[0] == "Z")


def _started_bench(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    pid_file = tmp_path / "child.pid"
    root = Path(__file__).resolve().parents[2]
    bench = subprocess.Popen([sys.executable, "-c", BENCH.format(), str(pid_file)], cwd=root)
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pid_file.exists(), "the child never started"
    return bench, int(pid_file.read_text())


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _alive(pid)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_the_child_ends_with_its_bench(tmp_path: Path, signum: int) -> None:
    bench, child = _started_bench(tmp_path)
    assert _alive(child)
    bench.send_signal(signum)
    bench.wait(timeout=30)
    assert _gone_within(child, 10), f"child {child} outlived its bench (signal {signum})"
