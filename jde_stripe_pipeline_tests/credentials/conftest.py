"""An isolated home for each test: no credential variable leaks in from the machine running the tests;
the served sandboxes of the `check` tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from jde_stripe_pipeline_tests.credentials.check_support import Systems, served_systems

CREDENTIAL_VARIABLES = (
    "JDE_STRIPE_MASTER_KEY",
    "JDE_STRIPE_MASTER_KEY_FILE",
    "JDE_STRIPE_CREDENTIALS_FILE",
    "JDE_STRIPE_STATE_URL",
    "JDE_AIS_URL",
    "JDE_AIS_USERNAME",
    "JDE_AIS_PASSWORD",
    "JDE_AIS_ENVIRONMENT",
    "JDE_AIS_ROLE",
    "JDE_AIS_DEVICE_NAME",
    "JDE_AIS_CA_BUNDLE",
    "STRIPE_API_KEY",
    "STRIPE_API_BASE",
)
"""Where a credential, a store or the ledger could come from the machine running the tests."""


@dataclass(frozen=True)
class Home:
    root: Path
    dagster_home: Path
    config: Path

    @property
    def store(self) -> Path:
        return self.dagster_home / "credentials.enc"

    @property
    def key_file(self) -> Path:
        return self.config / "jde-stripe" / "master.key"


def isolate_home(monkeypatch: pytest.MonkeyPatch, root: Path) -> Home:
    """No credential variable leaks in; HOME, DAGSTER_HOME and the config folder live under `root`."""
    for variable in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    home = Home(root=root, dagster_home=root / "dagster_home", config=root / "config")
    monkeypatch.setenv("HOME", str(root))
    monkeypatch.setenv("DAGSTER_HOME", str(home.dagster_home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home.config))
    return home


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Home]:
    yield isolate_home(monkeypatch, tmp_path)


@pytest.fixture
def systems(home: Home) -> Iterator[Systems]:
    """Both sandboxes served, in an isolated home."""
    with served_systems() as served:
        yield served
