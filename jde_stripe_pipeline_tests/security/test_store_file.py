"""Promise: the credential store holds no secret in clear and only its owner can read it.

The credentials tests cover 0600 under the test runner's umask and clear-text absence of each value.
Added here: a permissive umask (0000) changes nothing, for the store, its folder and the key file made
by the real CLI; and a sync run only reads the store (same bytes, same mode afterwards).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from jde_stripe_pipeline.cli import main
from jde_stripe_pipeline.credentials import resolve_stripe_key
from jde_stripe_pipeline.credentials.private_file import permission_bits
from jde_stripe_pipeline_tests.security.conftest import Setup, failures, isolate_environment
from jde_stripe_pipeline_tests.security.secrets_hunt import STRIPE_KEY, find_secrets


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_cli_writes_owner_only_files_under_a_permissive_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, permissive_umask: None
) -> None:
    isolate_environment(monkeypatch, tmp_path)
    store_dir = tmp_path / "fresh" / "folder"
    monkeypatch.setenv("JDE_STRIPE_CREDENTIALS_FILE", str(store_dir / "credentials.enc"))
    runner = CliRunner()
    output = ""
    for args, given in ((["init"], None), (["set", "stripe"], f"{STRIPE_KEY}\n")):
        result = runner.invoke(main, ["credentials", *args], input=given)
        assert result.exit_code == 0, result.output
        output += result.output

    store = store_dir / "credentials.enc"
    key_file = tmp_path / "config" / "jde-stripe" / "master.key"
    assert permission_bits(store) == 0o600
    assert permission_bits(store_dir) == 0o700
    assert permission_bits(key_file) == 0o600
    assert permission_bits(key_file.parent) == 0o700
    assert sorted(p.name for p in store_dir.iterdir()) == ["credentials.enc"]
    master_key = next(
        line for line in key_file.read_text().splitlines() if line.strip() and not line.startswith("#")
    )
    secrets = {"Stripe key": STRIPE_KEY, "master key": master_key}
    assert find_secrets(store.read_bytes(), secrets) == []
    assert find_secrets(output.encode(), secrets) == [], output
    assert resolve_stripe_key().api_key.get_secret_value() == STRIPE_KEY


def test_a_sync_run_reads_the_store_and_leaves_it_as_it_was(setup: Setup) -> None:
    setup.configure("store")
    store = setup.dagster_home / "credentials.enc"
    before = store.read_bytes()
    assert permission_bits(store) == 0o600

    assert failures(setup.run()) == []

    assert store.read_bytes() == before
    assert permission_bits(store) == 0o600
    assert sorted(p.name for p in store.parent.iterdir() if p.name.startswith(".credentials")) == []
