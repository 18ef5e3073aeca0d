"""Promise (the demo): `jde-stripe demo`, run as a user runs it, leaves no secret in its output or home.

The demo brings its own sandbox logins. The shell it starts from holds an operator's real-looking
secrets (a Stripe key, a JDE password, a master key): the demo must neither use nor show them. The
emulator's key the demo does use is searched for too: pipeline code treats it as any Stripe key.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jde_stripe_pipeline.sandboxes.stripe_emulator import DEFAULT_API_KEY
from jde_stripe_pipeline_tests.security.conftest import (
    CREDENTIAL_VARIABLES,
    JDE_PASSWORD,
    MASTER_KEY,
    SECRETS,
    STRIPE_KEY,
    find_secrets,
    scan_tree,
)

DEMO_SECRETS = {**SECRETS, "emulator key": DEFAULT_API_KEY}


@pytest.mark.slow
def test_demo_subprocess_leaves_no_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARIABLES and k != "DAGSTER_HOME"}
    env.update(
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        STRIPE_API_KEY=STRIPE_KEY,
        JDE_AIS_PASSWORD=JDE_PASSWORD,
        JDE_STRIPE_MASTER_KEY=MASTER_KEY,
    )
    command = Path(sys.executable).with_name("jde-stripe")
    demo_home = tmp_path / "demo"
    finished = subprocess.run(
        [
            str(command),
            "demo",
            "--customers",
            "8",
            "--invoices",
            "16",
            "--home",
            str(demo_home),
            "--no-changes",
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=170,
        check=False,
    )
    output = finished.stdout + finished.stderr
    assert find_secrets(output, DEMO_SECRETS) == []
    assert scan_tree(tmp_path, DEMO_SECRETS) == {}
    assert finished.returncode == 0, output.decode(errors="replace")[-3000:]
    files = [p.name for p in demo_home.rglob("*") if p.is_file()]
    assert any(name.endswith(".db") for name in files) and "jde_stripe_state.sqlite" in files, files
