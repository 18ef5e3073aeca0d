"""Which JDE login and which Stripe key a run uses.

Order of precedence, per group (JDE; Stripe), first match wins:
1. The environment: if any of the group's variables is set (non-empty), the whole group comes from the
   environment and its required variables must all be set.
   JDE: `JDE_AIS_URL`, `JDE_AIS_USERNAME`, `JDE_AIS_PASSWORD` (required), `JDE_AIS_ENVIRONMENT`,
   `JDE_AIS_ROLE`, `JDE_AIS_DEVICE_NAME`, `JDE_AIS_CA_BUNDLE`.
   Stripe: `STRIPE_API_KEY` (required), `STRIPE_API_BASE`. Another Stripe account NAME (issue 13):
   `STRIPE_API_KEY_<NAME>` (required), `STRIPE_API_BASE_<NAME>`, else `STRIPE_API_BASE`.
2. The encrypted store (`store.store_path`), opened with the master key (`master_key`).
3. Otherwise `CredentialsNotConfigured`, naming both ways to configure them.

Why the environment wins: it is how containers, CI and secret managers hand a process its secrets,
and it lets an operator override the store for one run without touching it. Why a group is taken
whole from one source, never merged field by field: a password from the store must never be sent to
a URL from the environment (or a live Stripe key to an API base it was not stored with). A half-set
group is an error, not a silent fallback.

No caching: every call re-reads the environment, the key file and the store, so a Stripe key rotated
in either place is used by the next run, and by a running sink that asks again after a 401.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT, base_variable, key_variable, store_command
from jde_stripe_pipeline.credentials.errors import CredentialsNotConfigured, IncompleteEnvironment
from jde_stripe_pipeline.credentials.master_key import ENV_MASTER_KEY, ENV_MASTER_KEY_FILE
from jde_stripe_pipeline.credentials.models import (
    JdeCredentials,
    StripeCredentials,
    build_jde_credentials,
    build_stripe_credentials,
)
from jde_stripe_pipeline.credentials.store import ENV_CREDENTIALS_FILE, load_store, store_path

SOURCE_ENVIRONMENT = "environment"


@dataclass(frozen=True)
class EnvironmentGroup:
    """A group's environment variables: field name -> variable name, and which are required."""

    name: str
    variables: Mapping[str, str]
    required: tuple[str, ...]
    store_command: str

    def set_variables(self, env: Mapping[str, str]) -> list[str]:
        return [variable for variable in self.variables.values() if env.get(variable, "")]


JDE_ENVIRONMENT = EnvironmentGroup(
    name="JDE",
    variables={
        "url": "JDE_AIS_URL",
        "username": "JDE_AIS_USERNAME",
        "password": "JDE_AIS_PASSWORD",
        "environment": "JDE_AIS_ENVIRONMENT",
        "role": "JDE_AIS_ROLE",
        "device_name": "JDE_AIS_DEVICE_NAME",
        "ca_bundle": "JDE_AIS_CA_BUNDLE",
    },
    required=("url", "username", "password"),
    store_command="jde-stripe credentials set jde",
)
STRIPE_ENVIRONMENT = EnvironmentGroup(
    name="Stripe",
    variables={"api_key": "STRIPE_API_KEY", "api_base": "STRIPE_API_BASE"},
    required=("api_key",),
    store_command="jde-stripe credentials set stripe",
)


def resolve_jde_credentials(env: Mapping[str, str] | None = None) -> JdeCredentials:
    """The JDE login to use now: environment, else store (see the module docstring)."""
    env = os.environ if env is None else env
    values = _environment_values(JDE_ENVIRONMENT, env)
    if values is not None:
        return build_jde_credentials(values, source=SOURCE_ENVIRONMENT, field_names=JDE_ENVIRONMENT.variables)
    stored = load_store(env).jde
    if stored is None:
        raise _not_configured(JDE_ENVIRONMENT, env)
    return stored


def stripe_environment(account: str = DEFAULT_ACCOUNT) -> EnvironmentGroup:
    """The variables of one Stripe account's key (`STRIPE_API_KEY_<NAME>`; `default`: `STRIPE_API_KEY`)."""
    if account == DEFAULT_ACCOUNT:
        return STRIPE_ENVIRONMENT
    return EnvironmentGroup(
        name=f"Stripe account {account}",
        variables={"api_key": key_variable(account), "api_base": base_variable(account)},
        required=("api_key",),
        store_command=store_command(account),
    )


def resolve_stripe_key(
    env: Mapping[str, str] | None = None, account: str = DEFAULT_ACCOUNT
) -> StripeCredentials:
    """One account's Stripe key (and API base) to use now: environment, else store (see the module
    docstring). Another account's key from the environment takes `STRIPE_API_BASE` when its own base
    is not set (both come from the environment)."""
    env = os.environ if env is None else env
    group = stripe_environment(account)
    values = _environment_values(group, env)
    if values is not None:
        if "api_base" not in values and env.get(STRIPE_ENVIRONMENT.variables["api_base"], ""):
            values["api_base"] = env[STRIPE_ENVIRONMENT.variables["api_base"]]
        return build_stripe_credentials(values, source=SOURCE_ENVIRONMENT, field_names=group.variables)
    stored = load_store(env).stripe_of(account)
    if stored is None:
        raise _not_configured(group, env)
    return stored


def _environment_values(group: EnvironmentGroup, env: Mapping[str, str]) -> dict[str, str] | None:
    """The group's values from the environment, None if none of its variables is set."""
    if not group.set_variables(env):
        return None
    missing = [group.variables[name] for name in group.required if not env.get(group.variables[name], "")]
    if missing:
        present = ", ".join(group.set_variables(env))
        absent = ", ".join(missing)
        raise IncompleteEnvironment(
            f"The {group.name} environment variables are incomplete: {present} set, {absent} missing."
            f" The {group.name} credentials come from one source whole (never a secret from the store"
            f" with a URL from the environment). Set {absent} too, or unset the {group.name} variables"
            " to use the credential store."
        )
    return {name: env[variable] for name, variable in group.variables.items() if env.get(variable, "")}


def _not_configured(group: EnvironmentGroup, env: Mapping[str, str]) -> CredentialsNotConfigured:
    required = ", ".join(group.variables[name] for name in group.required)
    return CredentialsNotConfigured(
        f"No {group.name} credentials: set {required} in the environment, or store them with"
        f" `{group.store_command}` (store: {store_path(env)})."
    )


@dataclass(frozen=True)
class CredentialSource:
    """Where a run's secrets come from, read anew on every call (so a rotated key is seen mid-run).

    The process environment first, as above — unless `use_environment` is off (the demo keeps a
    user's shell out of its own store) — then the encrypted store: at `store_file` / `master_key_file`
    when given, else where the environment says (`JDE_STRIPE_CREDENTIALS_FILE`, ...). Holds paths only,
    never a secret, so it may be shown (the Dagster resource page does)."""

    use_environment: bool = True
    store_file: Path | None = None
    master_key_file: Path | None = None

    def environment(self) -> dict[str, str]:
        env = dict(os.environ) if self.use_environment else {}
        if self.store_file is not None:
            env[ENV_CREDENTIALS_FILE] = str(self.store_file)
        if self.master_key_file is not None:
            env.pop(ENV_MASTER_KEY, None)
            env[ENV_MASTER_KEY_FILE] = str(self.master_key_file)
        return env

    def jde(self) -> JdeCredentials:
        return resolve_jde_credentials(self.environment())

    def stripe(self, account: str = DEFAULT_ACCOUNT) -> StripeCredentials:
        """The key of one Stripe account (`default`: the one of an unrouted site, or a Connect
        platform's)."""
        return resolve_stripe_key(self.environment(), account)
