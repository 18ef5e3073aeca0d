"""`jde-stripe sandbox ais` runs a real server in the foreground and prints the export line."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import requests
from click.testing import CliRunner

from jde_stripe_pipeline.cli import main
from jde_stripe_pipeline_tests.sandboxes.ais.conftest import browse, grid, login


def test_help_lists_the_behaviour_flags() -> None:
    result = CliRunner().invoke(main, ["sandbox", "ais", "--help"])
    assert result.exit_code == 0, result.output
    for flag in ("--seed", "--customers", "--invoices", "--token-max-calls", "--allowlist", "--fail-rate"):
        assert flag in result.output


def test_foreground_server_prints_the_export_line_and_serves() -> None:
    command = [
        str(Path(sys.executable).with_name("jde-stripe")),
        "sandbox", "ais", "--port", "0", "--seed", "5", "--customers", "8", "--invoices", "3",
        "--token-max-calls", "1",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("export "), line
        values = dict(part.split("=", 1) for part in shlex.split(line)[1:])
        assert set(values) == {
            "JDE_AIS_URL", "JDE_AIS_USERNAME", "JDE_AIS_PASSWORD", "JDE_AIS_ENVIRONMENT",
            "JDE_AIS_ROLE", "JDE_AIS_DEVICE_NAME", "JDE_TIMEZONE",
        }  # fmt: skip
        url = values["JDE_AIS_URL"]
        token = login(
            url, values["JDE_AIS_USERNAME"], values["JDE_AIS_PASSWORD"], values["JDE_AIS_DEVICE_NAME"]
        )
        assert (
            len(grid(browse(url, token, "F0101", device=values["JDE_AIS_DEVICE_NAME"]), "F0101")["rowset"])
            == 8
        )
        assert browse(url, token, "F0101", device=values["JDE_AIS_DEVICE_NAME"]).status_code == 444
        assert requests.get(f"{url}/_sandbox/config", timeout=10).json()["seed"] == 5
    finally:
        process.terminate()
        process.wait(timeout=60)  # a loaded 2-core CI machine: shutdown can take long
