"""`jde-stripe demo` as a newcomer runs it: a subprocess, read from its printed summary and exit code.

One run serves two promises (the demo is the slowest test; running it twice cost CI a minute): what it
syncs and prints, and that it leaves no secret in its output or home. The shell it starts from holds an
operator's real-looking secrets (a Stripe key, a JDE password, a master key): the demo must neither use
nor show them. The emulator's key the demo does use is searched for too: pipeline code treats it as any
Stripe key."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from jde_stripe_pipeline.demo.sandboxes import DEMO_ACCOUNTS
from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline.ledger.database import sqlite_url
from jde_stripe_pipeline.sandboxes.stripe_emulator import DEFAULT_API_KEY
from jde_stripe_pipeline_tests.credentials.conftest import CREDENTIAL_VARIABLES
from jde_stripe_pipeline_tests.demo.support import JDE_STRIPE
from jde_stripe_pipeline_tests.security.secrets_hunt import (
    JDE_PASSWORD,
    MASTER_KEY,
    SECRETS,
    STRIPE_KEY,
    find_secrets,
    scan_tree,
)

DEMO_SECRETS = {
    **SECRETS,
    "emulator key": DEFAULT_API_KEY,
    **{f"emulator key of {a.name}": a.key for a in DEMO_ACCOUNTS},
}


def hostile_shell(tmp_path: Path) -> dict[str, str]:
    """The environment of an operator's shell: real-looking secrets the demo must not use or show."""
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARIABLES and k != "DAGSTER_HOME"}
    env.update(
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        STRIPE_API_KEY=STRIPE_KEY,
        JDE_AIS_PASSWORD=JDE_PASSWORD,
        JDE_STRIPE_MASTER_KEY=MASTER_KEY,
    )
    return env


def _section(text: str, title: str) -> str:
    start = text.index(title)
    end = text.find("\n\n", start)
    return text[start : end if end >= 0 else None]


@pytest.mark.slow
def test_demo_syncs_everything_reconciles_the_second_sync_moves_only_the_changes_and_no_secret_shows(
    tmp_path: Path,
) -> None:
    home = tmp_path / "demo"
    done = subprocess.run(
        [JDE_STRIPE, "demo", "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=300,
        env=hostile_shell(tmp_path),
        cwd=tmp_path,
    )
    out = done.stdout
    assert find_secrets((out + done.stderr).encode(), DEMO_SECRETS) == []
    assert scan_tree(tmp_path, DEMO_SECRETS) == {}
    assert done.returncode == 0, out + done.stderr

    # two Stripe accounts: a run per (day, account) pair, as the sensor asks for them (both companies
    # changed on each of the 28 seeded days)
    assert re.search(r"\[56/56\] partition eu\|\d{4}-\d\d-\d\d: ok", out), "progress shows partition i/n"
    assert "28 days, 56 partitions" in out
    first = _section(out, "First sync: 56 run(s)")
    # two Stripe accounts: every customer's company is 00001 (us); eu gets those its invoices name
    assert re.search(r"account us: customers created 60\b", first)
    assert re.search(r"account eu: customers created \d+.*; invoices created \d+", first)
    assert re.search(r"invoices:  created \d+", first)
    assert "Stripe account us (JDE companies 00001; emulator acct_us) now holds:" in out
    assert "Stripe account eu (JDE companies 00200; emulator acct_eu) now holds:" in out
    assert "reconciliation: PASSED" in first
    assert "stripe_matches_jde: passed 56/56" in first

    second = _section(out, "Second sync (after the JDE changes): 2 run(s)")
    assert "customers: updated 1\n" in second
    assert "invoices:  updated 2\n" in second
    assert "reconciliation: PASSED" in second
    assert "(only the changed records moved)" in second
    writes = re.search(r"Stripe write requests: (\d+)", second)
    assert writes and 3 <= int(writes[1]) <= 6, second
    assert "POST /v1/invoices/{id}/update_lines" in second and "POST /v1/invoices/{id}/add_lines" in second
    assert "Result: PASSED" in out

    # The audit trail it names exists and holds the re-priced invoice's two syncs.
    audit = re.search(r"try:\s+DAGSTER_HOME=\S+ \S+ audit (\S+)", out)
    assert audit
    with Ledger.open(sqlite_url(home / "dagster_home" / "jde_stripe_state.sqlite")) as ledger:
        outcomes = [entry.outcome for entry in ledger.history(audit[1], every_account=True)]
    assert outcomes[0] == "created" and outcomes[-1] == "updated"


def test_demo_refuses_to_wipe_a_directory_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    done = subprocess.run(
        [JDE_STRIPE, "demo", "--home", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "was not made by the demo" in done.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me"
