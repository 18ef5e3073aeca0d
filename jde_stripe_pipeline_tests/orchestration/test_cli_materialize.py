"""`dagster asset materialize` works given only what `jde-stripe sandbox ais` / `sandbox stripe` print."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from jde_stripe_pipeline.sandboxes.ais import AisSandboxConfig
from jde_stripe_pipeline.sandboxes.ais.cli import export_line
from jde_stripe_pipeline_tests.orchestration.conftest import Pipeline


def exported(line: str) -> dict[str, str]:
    words = shlex.split(line)
    assert words[0] == "export"
    return dict(word.split("=", 1) for word in words[1:])


def test_dagster_cli_materializes_a_partition_with_only_the_sandbox_variables(pipeline: Pipeline) -> None:
    world = pipeline.world
    home = pipeline.tmp_path / "cli_home"
    home.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(home)),
        "DAGSTER_HOME": str(home),
        **exported(export_line(world.ais_url, AisSandboxConfig())),
        # as `jde-stripe sandbox stripe` prints it
        **exported(f"export STRIPE_API_KEY={world.emulator.api_key} STRIPE_API_BASE={world.stripe_url}"),
    }
    dagster = Path(sys.executable).parent / "dagster"
    command = [str(dagster), "asset", "materialize", "-m", "jde_stripe_pipeline.definitions"]
    command += ["--select", "*", "--partition", pipeline.partition]

    done = subprocess.run(command, env=env, cwd=home, capture_output=True, text=True, timeout=180)

    assert done.returncode == 0, done.stderr[-4000:]
    assert "RUN_SUCCESS" in done.stderr
    in_stripe = pipeline.stripe_invoices_by_key()
    assert set(in_stripe) >= pipeline.expected_invoice_keys()
    assert all(len(found) == 1 for found in in_stripe.values())
    assert (home / "jde_stripe_state.sqlite").exists()  # the ledger's default place
    assert world.emulator.api_key not in done.stderr + done.stdout  # the key is never logged
