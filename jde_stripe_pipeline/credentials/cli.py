"""`jde-stripe credentials ...`: create the master key, store, show and rotate credentials.

Secrets are only ever prompted for, with hidden input: a value given as a command-line option would
sit in the shell history and in `ps` output for every local user to read. `show` masks them.
Every `CredentialsError` becomes a one-line message and exit status 1, never a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from jde_stripe_pipeline.accounts import ACCOUNT_NAME, DEFAULT_ACCOUNT
from jde_stripe_pipeline.credentials.errors import (
    CredentialsError,
    CredentialsNotConfigured,
    IncompleteEnvironment,
)
from jde_stripe_pipeline.credentials.master_key import (
    ENV_MASTER_KEY,
    ENV_MASTER_KEY_FILE,
    MasterKey,
    check_key_file_permissions,
    default_key_file,
    load_master_key,
    locate_master_key,
    new_key,
    write_key_file,
)
from jde_stripe_pipeline.credentials.models import (
    PASSWORD_MASK,
    JdeCredentials,
    StoredCredentials,
    StripeCredentials,
    build_jde_credentials,
    build_stripe_credentials,
)
from jde_stripe_pipeline.credentials.resolve import (
    JDE_ENVIRONMENT,
    STRIPE_ENVIRONMENT,
    EnvironmentGroup,
    resolve_jde_credentials,
    resolve_stripe_key,
    stripe_environment,
)
from jde_stripe_pipeline.credentials.rotation import rotate_master_key
from jde_stripe_pipeline.credentials.store import load_store, read_store, store_path, write_store

F = TypeVar("F", bound=Callable[..., Any])


def _plain_errors(command: F) -> F:
    """Turn a `CredentialsError` into click's `Error: <message>` and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CredentialsError as error:
            raise click.ClickException(str(error)) from None

    return wrapper  # type: ignore[return-value]


@click.group()
def credentials() -> None:
    """The encrypted credential store: the JDE login and the Stripe secret key."""


@credentials.command()
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Where to create the key file (default: ${ENV_MASTER_KEY_FILE}, else {default_key_file({})}).",
)
@_plain_errors
def init(key_file: Path | None) -> None:
    """Create a master key file (0600) if there is none."""
    env = dict(os.environ)
    if key_file is None:
        location = locate_master_key(env)
        if location.variable is not None:
            click.echo(f"The master key comes from {ENV_MASTER_KEY}; no key file needed.")
            return
        assert location.key_file is not None
        key_file = location.key_file
    if key_file.exists():
        check_key_file_permissions(key_file)
        click.echo(f"Master key file {key_file} already exists; kept as it is.")
        return
    write_key_file(key_file, (new_key(),))
    click.echo(f"Created the master key file {key_file} (mode 0600).")
    click.echo("Back it up apart from the credential store: without it the store cannot be opened.")
    if env.get(ENV_MASTER_KEY):
        click.echo(f"It is not in use: {ENV_MASTER_KEY} is set (see rotate-master-key for the procedure).")
    elif key_file != default_key_file(env) and env.get(ENV_MASTER_KEY_FILE) != str(key_file):
        click.echo(f"To use it: export {ENV_MASTER_KEY_FILE}={key_file}")


@credentials.group(name="set")
def set_group() -> None:
    """Store the JDE login or the Stripe key (secrets are prompted for, hidden)."""


@set_group.command(name="jde")
@click.option("--url", prompt="AIS Server URL", help="Base URL of the AIS Server, without /jderest.")
@click.option("--username", prompt="JDE user", help="The JDE user the connector logs in as.")
@click.option("--environment", default=None, help="JDE environment, e.g. JDV920 (default: the user's).")
@click.option("--role", default=None, help="JDE role, e.g. *ALL (default: the user's).")
@click.option("--device-name", default=None, help="AIS device name (default: the connector's).")
@click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="CA bundle to verify the AIS Server's certificate with.",
)
@_plain_errors
def set_jde(
    url: str,
    username: str,
    environment: str | None,
    role: str | None,
    device_name: str | None,
    ca_bundle: Path | None,
) -> None:
    """Store the JDE AIS login; the password is prompted for."""
    path, stored, master_key = _open_store_for_change()  # before the prompt: fail before typing a secret
    password = click.prompt("JDE password", hide_input=True, confirmation_prompt=True)
    jde = build_jde_credentials(
        {
            "url": url,
            "username": username,
            "password": password,
            "environment": environment,
            "role": role,
            "device_name": device_name,
            "ca_bundle": ca_bundle.resolve() if ca_bundle is not None else None,
        },
        source=f"store {path}",
    )
    write_store(path, stored.model_copy(update={"jde": jde}), master_key)
    click.echo(f"Stored the JDE credentials in {path}.")
    _warn_if_shadowed(JDE_ENVIRONMENT)


def _account_name(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if not ACCOUNT_NAME.match(value):
        raise click.BadParameter(
            "lower-case letters, digits or _, starting with a letter (as in JDE_STRIPE_ACCOUNTS)"
        )
    return value


account_option = click.option(
    "--account",
    default=DEFAULT_ACCOUNT,
    show_default=True,
    callback=_account_name,
    help="The Stripe account (a name of JDE_STRIPE_ACCOUNTS); `default`: the one account of a site that "
    "does not route companies, or a Connect platform's key.",
)


@set_group.command(name="stripe")
@click.option(
    "--api-base", default=None, help="Stripe API base URL (default: Stripe's; set for the emulator)."
)
@account_option
@_plain_errors
def set_stripe(api_base: str | None, account: str) -> None:
    """Store a Stripe account's secret or restricted key; the key is prompted for."""
    path, stored, master_key = _open_store_for_change()  # before the prompt: fail before pasting a secret
    label = "Stripe secret key" if account == DEFAULT_ACCOUNT else f"Stripe secret key of account {account}"
    api_key = click.prompt(label, hide_input=True)
    stripe = build_stripe_credentials({"api_key": api_key, "api_base": api_base}, source=f"store {path}")
    write_store(path, stored.with_stripe(account, stripe), master_key)
    whose = "" if account == DEFAULT_ACCOUNT else f" of account {account}"
    click.echo(f"Stored the Stripe key{whose} ({stripe.masked_key}) in {path}.")
    if stripe.is_live:
        click.echo("This is a LIVE key: it moves real money.")
    _warn_if_shadowed(stripe_environment(account))


@credentials.command()
@click.argument("group", type=click.Choice(["jde", "stripe"]))
@account_option
@_plain_errors
def remove(group: str, account: str) -> None:
    """Remove the JDE or a Stripe account's credentials from the store."""
    path, stored, master_key = _open_store_for_change()
    what = group if group == "jde" or account == DEFAULT_ACCOUNT else f"{group} (account {account})"
    present = stored.jde if group == "jde" else stored.stripe_of(account)
    if present is None:
        click.echo(f"The store {path} holds no {what} credentials; nothing to remove.")
        return
    changed = stored.model_copy(update={"jde": None}) if group == "jde" else stored.with_stripe(account, None)
    write_store(path, changed, master_key)
    click.echo(f"Removed the {what} credentials from {path}.")


@credentials.command()
@_plain_errors
def show() -> None:
    """Show the credentials a run would use now, masked, and where they come from."""
    env = dict(os.environ)
    click.echo(f"Store:      {store_path(env)}" + ("" if store_path(env).exists() else " (not created yet)"))
    click.echo(f"Master key: {locate_master_key(env).describe()}")
    click.echo("")
    _echo_resolved("JDE", lambda: _echo_jde(resolve_jde_credentials(env)))
    click.echo("")
    _echo_resolved("Stripe", lambda: _echo_stripe(resolve_stripe_key(env)))
    for account in _other_accounts(env):
        click.echo("")
        _echo_resolved(f"Stripe account {account}", functools.partial(_echo_account, env, account))


def _echo_account(env: dict[str, str], account: str) -> None:
    _echo_stripe(resolve_stripe_key(env, account), account)


def _other_accounts(env: dict[str, str]) -> list[str]:
    """The named Stripe accounts with a key in the environment or the store (not `default`)."""
    prefix = STRIPE_ENVIRONMENT.variables["api_key"] + "_"
    named = {name[len(prefix) :].lower() for name in env if name.startswith(prefix) and env[name]}
    with contextlib.suppress(CredentialsError):  # the entries above already said why it cannot be read
        named |= set(load_store(env).stripe_accounts)
    return sorted(name for name in named if ACCOUNT_NAME.match(name))


def _echo_resolved(system: str, echo: Callable[[], None]) -> None:
    """Show one system's resolved credentials, or that they are not configured and why."""
    try:
        echo()
    except CredentialsNotConfigured as missing:
        click.echo(f"{system}: not configured. {missing}")
    except IncompleteEnvironment as incomplete:  # e.g. STRIPE_API_BASE set for the named accounts only
        click.echo(f"{system}: {incomplete}")


@credentials.command(name="rotate-master-key")
@click.option(
    "--keep-retired-key/--discard-retired-key",
    default=True,
    show_default=True,
    help="Keep a 0600 copy of the old key file (it opens only store backups taken before now).",
)
@_plain_errors
def rotate_master_key_command(keep_retired_key: bool) -> None:
    """Re-encrypt the store under a new master key."""
    report = rotate_master_key(dict(os.environ), keep_retired_key=keep_retired_key)
    what = "Re-encrypted" if report.store_existed else "No store yet at"
    if report.key_file is None:
        click.echo(f"{what} {report.store} under the first key in {ENV_MASTER_KEY}.")
        click.echo(f"Now set {ENV_MASTER_KEY} to the new key alone, everywhere it is set.")
        return
    click.echo(f"{what} {report.store}; the new master key is in {report.key_file} (mode 0600).")
    if report.retired_key_file is not None:
        click.echo(
            f"The old key is kept in {report.retired_key_file} (0600): it opens only store backups taken"
            " before now. Delete it when those backups are gone, or now if the old key leaked."
        )
    click.echo("Update any backup of the key file: the old key no longer opens the store.")


def _open_store_for_change() -> tuple[Path, StoredCredentials, MasterKey]:
    env = dict(os.environ)
    path = store_path(env)
    master_key = load_master_key(env)
    return path, read_store(path, master_key), master_key


def _warn_if_shadowed(group: EnvironmentGroup) -> None:
    variables = group.set_variables(os.environ)
    if variables:
        click.echo(
            f"Note: {', '.join(variables)} set in this environment; there they take precedence over"
            " the store.",
            err=True,
        )


def _echo_jde(jde: JdeCredentials) -> None:
    click.echo(f"JDE (from {jde.source}):")
    click.echo(f"  AIS URL:      {jde.url}")
    click.echo(f"  user:         {jde.username}")
    click.echo(f"  password:     {PASSWORD_MASK}")
    click.echo(f"  environment:  {jde.environment or '(the user default)'}")
    click.echo(f"  role:         {jde.role or '(the user default)'}")
    click.echo(f"  device name:  {jde.device_name or '(the connector default)'}")
    click.echo(f"  CA bundle:    {jde.ca_bundle or '(system CAs)'}")


def _echo_stripe(stripe: StripeCredentials, account: str = DEFAULT_ACCOUNT) -> None:
    whose = "" if account == DEFAULT_ACCOUNT else f" account {account}"
    click.echo(f"Stripe{whose} (from {stripe.source}):")
    click.echo(f"  secret key:   {stripe.masked_key}" + ("  (LIVE)" if stripe.is_live else ""))
    click.echo(f"  API base:     {stripe.api_base or '(Stripe default)'}")
