"""An isolated home for each test: no credential variable leaks in from the machine running the tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

VARIABLES = (
    "JDE_STRIPE_MASTER_KEY",
    "JDE_STRIPE_MASTER_KEY_FILE",
    "JDE_STRIPE_CREDENTIALS_FILE",
    "DAGSTER_HOME",
    "XDG_CONFIG_HOME",
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

# Distinctive values: if one shows up in a file, an output or a message, it leaked.
JDE_PASSWORD = "pw-Quokka-7731-zeta"
STRIPE_KEY = "sk_test_51QuokkaSecretKeyValue9931abcd"
OTHER_STRIPE_KEY = "sk_test_51WombatRotatedKeyValue4417wxyz"
AIS_URL = "https://ais.quokka-corp.example:9300"
JDE_USER = "QUOKKAUSR"
SECRETS = (JDE_PASSWORD, STRIPE_KEY, OTHER_STRIPE_KEY, "Quokka", "Wombat")


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


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Home]:
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    yield Home(root=tmp_path, dagster_home=tmp_path / "dagster_home", config=tmp_path / "config")


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"secret fragment {secret!r} leaked"
