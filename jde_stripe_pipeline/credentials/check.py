"""Can the connector reach JDE and Stripe with the credentials it would use? (`jde-stripe check`)

Each check goes through the real clients the sync uses, with the credentials resolved the way a run
resolves them (environment, else the encrypted store), and answers with a `ConnectionCheckResult`:
what worked, or what failed and what to do about it. Nothing here prints or raises for a failed
system, so the CLI and the Dagster layer show the same answers; both checks always run.

JDE AIS: request a token, BROWSE one row of F03012 (maxPageSize 1), log out.
Stripe: retrieve the balance, the cheapest authenticated request.

Telling a bad login from an allowlist block (both can be HTTP 403): real AIS answers a wrong user,
password or environment with 403 "Authorization Failure" to the *token request*; the AIS client turns
that (and any 401) into `AisAuthError`. A 403 with any other body on the token request comes from an
IP allowlist (on the AIS Server or a proxy in front of it) and is `AisAllowlistError`. A 403 on the
BROWSE *after* a successful login cannot be the IP allowlist (it would have refused the token
request already): it is JDE security refusing this user the table, and is reported as such.

HTTP 444 (token expired or unknown): the AIS client renews the token once, silently. Only a second
444 on a token issued a moment ago reaches the check; the password is then not the problem (AIS
just accepted it): the AIS session timeout, a load balancer spreading one client over several AIS
nodes, or the device name are. That is `Problem.SESSION`, with that hint.

Retries are kept short (two attempts, short timeouts): a check should answer in seconds, and a
system that fails twice in a row is worth reporting rather than waiting out.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT, StripeAccount, key_variable, store_command
from jde_stripe_pipeline.credentials.errors import CredentialsError
from jde_stripe_pipeline.credentials.models import JdeCredentials, StripeCredentials
from jde_stripe_pipeline.credentials.resolve import (
    JDE_ENVIRONMENT,
    SOURCE_ENVIRONMENT,
    resolve_jde_credentials,
    resolve_stripe_key,
)
from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.errors import (
    AisAllowlistError,
    AisAuthError,
    AisConfigError,
    AisError,
    AisProtocolError,
    AisRequestError,
    AisUnavailableError,
)
from jde_stripe_pipeline.jde.query import BrowseRequest
from jde_stripe_pipeline.jde.session_values import RetryPolicy
from jde_stripe_pipeline.jde.settings import ENV_TIMEZONE, AisSettings
from jde_stripe_pipeline.settings import SettingsError, accounts_from_env
from jde_stripe_pipeline.stripe_sink import (
    StaticKeySource,
    StripeAuthError,
    StripeRequestRejected,
    StripeSink,
    StripeSinkError,
    StripeSinkSettings,
    StripeUnavailable,
)
from jde_stripe_pipeline.stripe_sink.settings import STRIPE_DEFAULT_API_BASE

JDE_CHECK_NAME = "JDE AIS"
STRIPE_CHECK_NAME = "Stripe"
PROBE_TABLE = "F03012"
PROBE_KEY = ("AN8", "CO")
CHECK_TIMEZONE_DEFAULT = "UTC"
"""The check reads no stamps, so a missing `JDE_TIMEZONE` must not fail it; a bad one still does."""


class Problem(enum.StrEnum):
    """What kind of failure, for the Dagster layer's metadata and for tests; `message` is for people."""

    CONFIGURATION = "configuration"
    CREDENTIALS = "credentials"
    SESSION = "session"
    ALLOWLIST = "allowlist"
    PERMISSION = "permission"
    TLS = "tls"
    NETWORK = "network"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    UNEXPECTED = "unexpected"


@dataclass(frozen=True)
class ConnectionCheckResult:
    """One system's answer. `message` and `hint` are one line each and never hold a secret."""

    name: str
    ok: bool
    message: str
    hint: str | None = None
    """What to do; None when the check passed."""
    problem: Problem | None = None
    """None when the check passed."""


Answer = tuple[Problem, str, str | None]
"""A failed check's problem, message and hint (`ConnectionCheckResult`'s)."""


@dataclass(frozen=True)
class CheckLimits:
    """How long a check may take: few attempts and short timeouts, so `check` answers in seconds."""

    attempts: int = 2
    connect_timeout_seconds: float = 3.0
    read_timeout_seconds: float = 10.0
    backoff_seconds: float = 0.25

    def ais_retry(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.attempts,
            base_delay=self.backoff_seconds,
            max_delay=self.backoff_seconds * 2,
            connect_timeout=self.connect_timeout_seconds,
            read_timeout=self.read_timeout_seconds,
        )


def run_connection_checks(
    env: Mapping[str, str] | None = None,
    limits: CheckLimits | None = None,
    accounts: Sequence[StripeAccount] | None = None,
) -> list[ConnectionCheckResult]:
    """Check JDE AIS and each Stripe account side by side (the slower sets the time); each runs whatever
    the others say. `accounts`: default, every account `JDE_STRIPE_ACCOUNTS` configures (a bad value is
    one failed line naming the variable)."""
    env = os.environ if env is None else env
    limits = limits or CheckLimits()
    refused: list[ConnectionCheckResult] = []
    if accounts is None:
        try:
            accounts = accounts_from_env(env).accounts
        except SettingsError as error:  # JDE_STRIPE_ACCOUNTS or JDE_STRIPE_CONNECT_ACCOUNTS is bad
            accounts, refused = (), [_failed(STRIPE_CHECK_NAME, Problem.CONFIGURATION, str(error), None)]
    with ThreadPoolExecutor(max_workers=1 + len(accounts), thread_name_prefix="connection-check") as pool:
        jde = pool.submit(check_jde, env, limits)
        stripe = [pool.submit(check_stripe, env, limits, account) for account in accounts]
        return [jde.result(), *(future.result() for future in stripe), *refused]


# --------------------------------------------------------------------------------------------- JDE


def check_jde(
    env: Mapping[str, str] | None = None, limits: CheckLimits | None = None
) -> ConnectionCheckResult:
    """Token request, one row of F03012, logout; any failure becomes a result saying what to do."""
    env = os.environ if env is None else env
    limits = limits or CheckLimits()
    try:
        credentials = resolve_jde_credentials(env)
    except CredentialsError as error:
        return _failed(JDE_CHECK_NAME, Problem.CONFIGURATION, str(error), None)  # says what to do
    if credentials.ca_bundle is not None and not credentials.ca_bundle.is_file():
        return _failed(
            JDE_CHECK_NAME,
            Problem.CONFIGURATION,
            f"The CA bundle {credentials.ca_bundle} (JDE_AIS_CA_BUNDLE, {credentials.source}) is not a file.",
            "Point JDE_AIS_CA_BUNDLE (or `jde-stripe credentials set jde --ca-bundle`) at the PEM file of"
            " the CA that signed the AIS Server's certificate.",
        )
    try:
        settings = AisSettings.from_values(
            **credentials.settings_values(),
            timezone=env.get(ENV_TIMEZONE, "").strip() or CHECK_TIMEZONE_DEFAULT,
        )
    except AisConfigError as error:
        return _failed(JDE_CHECK_NAME, Problem.CONFIGURATION, str(error), _jde_credentials_hint(credentials))
    return _probe_ais(settings, credentials, limits)


def _probe_ais(
    settings: AisSettings, credentials: JdeCredentials, limits: CheckLimits
) -> ConnectionCheckResult:
    session = AisSession(settings, retry=limits.ais_retry(), page_size=1)
    logged_in = False
    try:
        session.login()
        logged_in = True
        probe = BrowseRequest(PROBE_TABLE, PROBE_KEY, max_page_size=1)
        next(session.browse(probe, key=PROBE_KEY), None)  # one row is enough; the dropped generator closes
    except AisError as error:
        return _ais_failure(error, logged_in, settings, credentials)
    except OSError as error:  # requests' own errors raised before any answer (bad URL, unreadable CA file)
        return _failed(
            JDE_CHECK_NAME,
            Problem.CONFIGURATION,
            f"Could not send a request to the AIS Server at {settings.url}: {type(error).__name__}.",
            f"Check JDE_AIS_URL and JDE_AIS_CA_BUNDLE ({credentials.source}).",
        )
    finally:
        session.close()
    return ConnectionCheckResult(
        JDE_CHECK_NAME, True, f"{settings.url} (user {settings.username}, environment {settings.environment})"
    )


def _ais_failure(
    error: AisError, logged_in: bool, settings: AisSettings, credentials: JdeCredentials
) -> ConnectionCheckResult:
    """Sort an AIS failure by what the user should do; `logged_in` says which call failed."""
    return _failed(JDE_CHECK_NAME, *_ais_answer(error, logged_in, settings, credentials))


def _ais_answer(
    error: AisError, logged_in: bool, settings: AisSettings, credentials: JdeCredentials
) -> Answer:
    url, user, message = settings.url, settings.username, str(error)
    base_url = f"Check that JDE_AIS_URL ({url}) is the AIS Server's base URL (without /jderest)."
    if _caused_by_tls(error):
        return (
            Problem.TLS,
            f"TLS verification of the AIS Server's certificate at {url} failed.",
            "Set JDE_AIS_CA_BUNDLE (or `jde-stripe credentials set jde --ca-bundle`) to the PEM file of the"
            " CA that signed the AIS Server's certificate.",
        )
    if isinstance(error, AisAllowlistError) and not logged_in:
        hint = (
            f"Ask the AIS administrator to add this connector's egress IP address to the allowlist of {url}."
        )
        return Problem.ALLOWLIST, message, hint
    if isinstance(error, AisAllowlistError):
        return (
            Problem.PERMISSION,
            f"AIS at {url} accepted the login of user {user} but refused the read of {PROBE_TABLE} with"
            " HTTP 403.",
            f"Grant user {user} (role {settings.role}) read access to {PROBE_TABLE} and the address book"
            " tables in JDE security; an IP allowlist would have refused the login already.",
        )
    if isinstance(error, AisAuthError) and logged_in:
        hint = (
            "The login works but AIS dropped the new token at once: check the AIS Server's session timeout,"
            f" that a load balancer in front of {url} keeps a client on one AIS node,"
            " and JDE_AIS_DEVICE_NAME."
        )
        return Problem.SESSION, message, hint
    if isinstance(error, AisAuthError):
        return Problem.CREDENTIALS, message, _jde_credentials_hint(credentials)
    if isinstance(error, AisUnavailableError):
        hint = (
            f"Check JDE_AIS_URL ({url}), that this machine can reach it (firewall, VPN, proxy) and that"
            " the AIS Server is running."
        )
        return Problem.NETWORK, message, hint
    if isinstance(error, AisProtocolError):
        return Problem.UNEXPECTED, message, base_url
    if isinstance(error, AisRequestError) and error.status == 404:
        return Problem.CONFIGURATION, message, base_url
    if isinstance(error, AisRequestError):
        hint = (
            "Check JDE_AIS_ENVIRONMENT, JDE_AIS_ROLE and JDE_AIS_DEVICE_NAME against the AIS Server's setup."
        )
        return Problem.UNEXPECTED, message, hint
    return Problem.UNEXPECTED, message, None


def _caused_by_tls(error: BaseException) -> bool:
    """True if a TLS failure is anywhere in the error's chain.

    The AIS client raises a plain `AisError` for a failed certificate verification (raised `from None`,
    which keeps the `SSLError` as `__context__`); this follows the chain rather than reading the text.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, requests.exceptions.SSLError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _jde_credentials_hint(credentials: JdeCredentials) -> str:
    if credentials.source == SOURCE_ENVIRONMENT:
        return (
            f"Check JDE_AIS_USERNAME, JDE_AIS_PASSWORD and JDE_AIS_ENVIRONMENT (taken from the environment),"
            f" or unset them and use `{JDE_ENVIRONMENT.store_command}`."
        )
    return (
        f"Check the JDE user, password and environment in the credential store ({credentials.source}):"
        f" store them again with `{JDE_ENVIRONMENT.store_command}`."
    )


# ------------------------------------------------------------------------------------------ Stripe


def check_stripe(
    env: Mapping[str, str] | None = None,
    limits: CheckLimits | None = None,
    account: StripeAccount | None = None,
) -> ConnectionCheckResult:
    """Retrieve one Stripe account's balance with its resolved key (a Connect account: the platform's
    key with its account id); any failure becomes a result saying what to do."""
    env = os.environ if env is None else env
    limits = limits or CheckLimits()
    account = account or StripeAccount(DEFAULT_ACCOUNT)
    name = STRIPE_CHECK_NAME if account.name == DEFAULT_ACCOUNT else f"{STRIPE_CHECK_NAME} {account.name}"
    key_account = DEFAULT_ACCOUNT if account.connected_account else account.name
    try:
        credentials = resolve_stripe_key(env, key_account)
    except CredentialsError as error:
        return _failed(name, Problem.CONFIGURATION, str(error), None)  # says what to do
    api_base = credentials.api_base or STRIPE_DEFAULT_API_BASE
    settings = StripeSinkSettings(
        stripe_account=account.connected_account,
        key_source=StaticKeySource(credentials.api_key.get_secret_value()),
        api_base=api_base,
        max_retries=limits.attempts - 1,
        rate_limited_patience_seconds=0,  # a check answers in seconds: a 429 spends an attempt too
        backoff_base_seconds=limits.backoff_seconds,
        backoff_max_seconds=limits.backoff_seconds * 2,
        timeout_seconds=limits.read_timeout_seconds,
    )
    try:
        with StripeSink(settings) as sink:
            balance = sink.retrieve_balance().object
    except StripeSinkError as error:
        return _failed(name, *_stripe_failure(error, credentials, api_base, key_account))
    mode = "live" if balance.get("livemode") else "test"
    connected = f", acting on {account.connected_account}" if account.connected_account else ""
    return ConnectionCheckResult(
        name, True, f"{api_base} (key {credentials.masked_key}, {mode} mode{connected})"
    )


def _stripe_failure(
    error: StripeSinkError, credentials: StripeCredentials, api_base: str, key_account: str = DEFAULT_ACCOUNT
) -> Answer:
    """Sort a Stripe failure by what the user should do."""
    masked = credentials.masked_key
    if isinstance(error, StripeAuthError) and error.http_status == 401:
        return (
            Problem.CREDENTIALS,
            f"Stripe at {api_base} refused the API key {masked} (HTTP 401):"
            " it is invalid, revoked or expired.",
            _stripe_new_key_hint(credentials, key_account),
        )
    if isinstance(error, StripeAuthError) and error.http_status == 403:
        return (
            Problem.PERMISSION,
            f"Stripe at {api_base} refused the API key {masked} a balance read (HTTP 403):"
            " the key lacks permission.",
            "Use a secret key, or a restricted key with read access to Balance and write access to"
            " Customers and Invoices. " + _stripe_new_key_hint(credentials, key_account),
        )
    if isinstance(error, StripeUnavailable) and error.http_status == 429:
        return (
            Problem.RATE_LIMITED,
            f"Stripe at {api_base} rate-limited the key {masked} (HTTP 429) on every attempt.",
            "Another client is using up the account's request rate; try again in a minute.",
        )
    if isinstance(error, StripeUnavailable) and error.http_status is None:
        return (
            Problem.NETWORK,
            f"Could not reach Stripe at {api_base}: no response after {error.attempts} attempts.",
            "Check STRIPE_API_BASE (unset it for Stripe itself), the network and any proxy between this"
            " machine and Stripe.",
        )
    if isinstance(error, StripeUnavailable):
        hint = "Stripe is having trouble (https://status.stripe.com); try again later."
        return Problem.UNAVAILABLE, f"Stripe at {api_base} kept failing: {error}", hint
    if isinstance(error, StripeRequestRejected):
        hint = "Check STRIPE_API_BASE: unset it for Stripe itself, or set the emulator's or proxy's base URL."
        return Problem.CONFIGURATION, f"{api_base} refused a balance read: {error}", hint
    return Problem.UNEXPECTED, str(error), None


def _stripe_new_key_hint(credentials: StripeCredentials, key_account: str = DEFAULT_ACCOUNT) -> str:
    command = store_command(key_account)
    if credentials.source == SOURCE_ENVIRONMENT:
        return (
            f"Set a new key in {key_variable(key_account)} (Dashboard > Developers > API keys),"
            f" or unset it and use `{command}`."
        )
    return f"Store a new key with `{command}` (Dashboard > Developers > API keys)."


def _failed(name: str, problem: Problem, message: str, hint: str | None) -> ConnectionCheckResult:
    return ConnectionCheckResult(name, False, message, hint, problem)
