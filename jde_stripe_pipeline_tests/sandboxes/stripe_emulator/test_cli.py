"""`jde-stripe sandbox stripe` runs the emulator in the foreground and prints the client's environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
        process.wait(timeout=10)
    assert (tmp_path / "s.sqlite").exists()
