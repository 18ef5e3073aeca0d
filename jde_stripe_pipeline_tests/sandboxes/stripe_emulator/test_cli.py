"""`jde-stripe sandbox stripe` runs the emulator in the foreground and prints the client's environment."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import stripe


def test_cli_prints_exports_and_serves(tmp_path: Path) -> None:
    executable = Path(sys.executable).parent / "jde-stripe"
    process = subprocess.Popen(
        [str(executable), "sandbox", "stripe", "--port", "0", "--db", str(tmp_path / "s.sqlite")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("export STRIPE_API_KEY=sk_test_")
        env = dict(part.split("=", 1) for part in line.removeprefix("export ").split())
        client = stripe.StripeClient(env["STRIPE_API_KEY"], base_addresses={"api": env["STRIPE_API_BASE"]})
        assert client.v1.balance.retrieve().object == "balance"
    finally:
        process.terminate()
        process.wait(timeout=60)  # a loaded 2-core CI machine: shutdown can take long
    assert (tmp_path / "s.sqlite").exists()


def test_cli_flags_choose_the_limits_and_latency() -> None:
    executable = Path(sys.executable).parent / "jde-stripe"
    args = ["sandbox", "stripe", "--port", "0", "--profile", "live", "--concurrency-limit", "7"]
    args += ["--latency", "stripe", "--latency-p99-ratio", "2", "--key-account", "sk_test_b_0001=acct_b"]
    process = subprocess.Popen(
        [str(executable), *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        base = dict(part.split("=", 1) for part in line.removeprefix("export ").split())["STRIPE_API_BASE"]
        config = requests.get(f"{base}/_sandbox/config", timeout=10).json()
        assert config["limits_in_force"] == {
            "global_rate": 100.0, "endpoint_rate": 25.0, "search_rate": 20.0, "concurrency": 7,
        }  # fmt: skip
        assert config["latency_in_force"] == {"read_ms": 100.0, "write_ms": 300.0, "p99_ratio": 2.0}
        assert config["key_accounts"] == {"sk_test_****0001": "acct_b"}
    finally:
        process.terminate()
        process.wait(timeout=60)  # a loaded 2-core CI machine: shutdown can take long


def _sigterm_ignored_and_blocked() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})


@pytest.mark.parametrize("sandbox", ["stripe", "ais"])
def test_sigterm_stops_a_sandbox_started_with_sigterm_ignored_and_blocked(sandbox: str) -> None:
    """Both dispositions survive exec: a parent (a test worker, a shell's `nohup`) can hand them down,
    and then `terminate()` left the sandbox running (the CLI tests timed out under pytest-xdist)."""
    executable = Path(sys.executable).parent / "jde-stripe"
    process = subprocess.Popen(
        [str(executable), "sandbox", sandbox, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=_sigterm_ignored_and_blocked,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("export ")
        process.terminate()
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait(timeout=10)
