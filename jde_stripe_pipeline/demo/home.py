"""The demo's home on disk (`.demo/`): its Dagster instance, ledger and encrypted credential store, and
the environment a user would export to point the pipeline at the sandboxes and that home."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT
from jde_stripe_pipeline.credentials import resolve_jde_credentials, resolve_stripe_key
from jde_stripe_pipeline.credentials.models import StoredCredentials
from jde_stripe_pipeline.credentials.store import create_store
from jde_stripe_pipeline.demo.sandboxes import RunningSandboxes
from jde_stripe_pipeline.orchestration.resources import CredentialsResource

MARKER = ".jde-stripe-demo"
DAGSTER_YAML = """\
# Written by `jde-stripe demo`: Dagster's embedded SQLite storage under this directory. The event log is
# one SQLite file rather than one per run (about a quarter faster for the demo's short runs).
# Runs launched from the UI start at once (no daemon runs next to the demo's webserver).
event_log_storage:
  module: dagster.core.storage.event_log
  class: ConsolidatedSqliteEventLogStorage
  config:
    base_dir: {history}
run_coordinator:
  module: dagster.core.run_coordinator
  class: DefaultRunCoordinator
telemetry:
  enabled: false
"""
CLEARED_VARIABLES = (
    "JDE_STRIPE_STATE_URL",
    "JDE_AIS_CA_BUNDLE",
    "JDE_STRIPE_CREDENTIALS_FILE",
    "JDE_STRIPE_MASTER_KEY",
    "JDE_STRIPE_MASTER_KEY_FILE",
    "JDE_STRIPE_START_DATE",
    "JDE_STRIPE_ACCOUNTS",
    "JDE_STRIPE_CONNECT_ACCOUNTS",
)
"""Would point the demo at a real ledger or store instead of its own, start after its seeded days, or
route its companies to accounts the emulator does not have."""


class DemoError(RuntimeError):
    """The demo cannot run as asked (a home it must not wipe, definitions loaded with other settings)."""


@dataclass(frozen=True)
class DemoHome:
    root: Path

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def ledger(self) -> Path:
        return self.dagster_home / "jde_stripe_state.sqlite"

    @property
    def state_url(self) -> str:
        return f"sqlite:///{self.ledger}"

    @property
    def credentials(self) -> CredentialsResource:
        """The demo's own store (the user's shell environment is not consulted)."""
        return CredentialsResource(
            use_environment=False,
            store_file=str(self.dagster_home / "credentials.enc"),
            master_key_file=str(self.root / "master.key"),
        )


def prepare_home(root: Path) -> DemoHome:
    """A fresh demo home; an existing one is wiped only if an earlier demo made it (its marker file)."""
    root = root.absolute()
    if root.exists() and any(root.iterdir()):
        if not (root / MARKER).exists():
            raise DemoError(f"{root} exists and was not made by the demo; choose another --home")
        shutil.rmtree(root)
    home = DemoHome(root)
    home.dagster_home.mkdir(parents=True)
    (root / MARKER).write_text("made by `jde-stripe demo`; wiped by the next one\n")
    (home.dagster_home / "dagster.yaml").write_text(
        DAGSTER_YAML.format(history=json.dumps(str(home.dagster_home / "history")))
    )
    return home


def demo_environment(
    base: Mapping[str, str], sandboxes: RunningSandboxes, home: DemoHome, source: str
) -> dict[str, str]:
    """`base` pointed at the sandboxes and the demo home, as a user would export it."""
    env = {k: v for k, v in base.items() if k not in CLEARED_VARIABLES}
    env.update(sandboxes.environment())
    env["DAGSTER_HOME"] = str(home.dagster_home)
    env["JDE_INVOICE_SOURCE"] = source
    return env


def store_credentials(env: Mapping[str, str], home: DemoHome, accounts: Sequence[str] = ()) -> None:
    """The sandboxes' logins (from the variables a user would export) into the demo's encrypted store:
    the JDE login, the default Stripe key and each routed Stripe account's key."""
    store = home.credentials
    assert store.store_file and store.master_key_file
    stored = StoredCredentials(
        jde=resolve_jde_credentials(env),
        stripe=resolve_stripe_key(env),
        stripe_accounts={name: resolve_stripe_key(env, name) for name in accounts if name != DEFAULT_ACCOUNT},
    )
    create_store(Path(store.store_file), Path(store.master_key_file), stored)
