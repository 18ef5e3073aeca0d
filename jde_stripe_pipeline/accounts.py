"""Which Stripe account bills which JDE company: the routing every layer shares (pure, no I/O).

A site with several JDE companies (KCOO / CO / KCO) often bills each legal entity from its own Stripe
account. `AccountRouting` says which: parsed once by the settings root from `JDE_STRIPE_ACCOUNTS`
(`00001=us,00200=eu`) and `JDE_STRIPE_CONNECT_ACCOUNTS` (`eu=acct_…` for a Connect platform), it names
each account and its companies. Unset, there is one account, `default`, billing every company: today's
behaviour. An account's key is a secret, resolved through `credentials` by the account's name
(`STRIPE_API_KEY_<NAME>` or `jde-stripe credentials set stripe --account NAME`; the account named
`default` uses `STRIPE_API_KEY` and the store's `stripe` entry, so a one-account ledger carries over).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

DEFAULT_ACCOUNT: Final = "default"
"""The one account of an unrouted site; also the account every ledger row written before routing
belongs to."""
UNROUTED: Final = "-"
"""The ledger's account for a record no account takes (its company is not routed): it is quarantined
there, with the company and the variable to set in its reason. Not a valid account name."""
ENV_ACCOUNTS: Final = "JDE_STRIPE_ACCOUNTS"
ENV_CONNECT_ACCOUNTS: Final = "JDE_STRIPE_CONNECT_ACCOUNTS"
ACCOUNT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
"""Lower-case letters, digits and `_`, starting with a letter: it names variables
(`STRIPE_API_KEY_<NAME>`), Dagster partitions and ledger rows."""
CONNECTED_ACCOUNT_ID = re.compile(r"^acct_[A-Za-z0-9]{1,64}$")
COMPANY_WIDTH: Final = 5


def company_code(text: object) -> str:
    """JDE's company as JDE stores it: a number right-justified and zero-filled to 5 (`1` → `00001`);
    other codes as written, stripped."""
    code = str(text).strip()
    return code.zfill(COMPANY_WIDTH) if code.isdigit() else code


def key_variable(account: str) -> str:
    """The environment variable holding an account's Stripe key (`STRIPE_API_KEY` for `default`)."""
    return "STRIPE_API_KEY" if account == DEFAULT_ACCOUNT else f"STRIPE_API_KEY_{account.upper()}"


def base_variable(account: str) -> str:
    """The environment variable of an account's API base (falls back to `STRIPE_API_BASE`)."""
    return "STRIPE_API_BASE" if account == DEFAULT_ACCOUNT else f"STRIPE_API_BASE_{account.upper()}"


def store_command(account: str) -> str:
    """The command that stores an account's key in the encrypted store."""
    suffix = "" if account == DEFAULT_ACCOUNT else f" --account {account}"
    return f"jde-stripe credentials set stripe{suffix}"


@dataclass(frozen=True)
class StripeAccount:
    """One Stripe account: its name, the JDE companies it bills (empty: every company, the one
    account of an unrouted site) and, on a Connect platform, the connected account id the platform's
    key acts on (`Stripe-Account`)."""

    name: str
    companies: tuple[str, ...] = ()
    connected_account: str | None = None

    def __post_init__(self) -> None:
        if not ACCOUNT_NAME.match(self.name):
            raise ValueError(
                f"account name {self.name!r} must be lower-case letters, digits or _ (starting with a "
                "letter, at most 30)"
            )


@dataclass(frozen=True)
class AccountRouting:
    """The accounts of a deployment, in the order configured, and which company each bills."""

    accounts: tuple[StripeAccount, ...] = (StripeAccount(DEFAULT_ACCOUNT),)
    _by_company: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.accounts:
            raise ValueError("at least one Stripe account")
        names = [account.name for account in self.accounts]
        if len(set(names)) != len(names):
            raise ValueError(f"account names repeat: {', '.join(names)}")
        by_company: dict[str, str] = {}
        for account in self.accounts:
            for company in account.companies:
                if by_company.setdefault(company, account.name) != account.name:
                    raise ValueError(
                        f"company {company} is routed to both {by_company[company]} and {account.name}"
                    )
        if not by_company and len(self.accounts) > 1:
            raise ValueError("several accounts need the companies each one bills")
        object.__setattr__(self, "_by_company", by_company)

    @classmethod
    def of(cls, companies: Mapping[str, str], connected: Mapping[str, str] | None = None) -> AccountRouting:
        """From company → account name (and account name → connected account id), accounts in the
        order they are first named."""
        grouped: dict[str, list[str]] = {}
        for company, name in companies.items():
            grouped.setdefault(name, []).append(company_code(company))
        connected = dict(connected or {})
        if not grouped:
            grouped[DEFAULT_ACCOUNT] = []
        unknown = sorted(set(connected) - set(grouped))
        if unknown:
            raise ValueError(f"connected account(s) for unknown account name(s): {', '.join(unknown)}")
        return cls(
            tuple(StripeAccount(name, tuple(codes), connected.get(name)) for name, codes in grouped.items())
        )

    @property
    def routed(self) -> bool:
        """True when companies are mapped to accounts (False: one account bills every company)."""
        return bool(self._by_company)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(account.name for account in self.accounts)

    def account(self, name: str) -> StripeAccount:
        for account in self.accounts:
            if account.name == name:
                return account
        raise KeyError(f"no Stripe account named {name!r} (configured: {', '.join(self.names)})")

    def account_of(self, company: str) -> str | None:
        """The account billing this JDE company; None when it is not routed anywhere."""
        if not self.routed:
            return self.accounts[0].name
        return self._by_company.get(company_code(company))

    def select(self, names: Iterable[str]) -> tuple[StripeAccount, ...]:
        """These accounts (KeyError naming an unknown one), in the configured order."""
        wanted = set(names)
        for name in wanted:
            self.account(name)
        return tuple(account for account in self.accounts if account.name in wanted)

    def unrouted_reason(self, company: str) -> str:
        """Why a record of this company goes nowhere, and what to set."""
        return (
            f"JDE company {company_code(company)} is not routed to a Stripe account: add it to "
            f"{ENV_ACCOUNTS} (e.g. {company_code(company)}=<account>; now {self.describe()})"
        )

    def describe(self) -> str:
        """`00001=us, 00200=eu` (or `every company=default`), for messages and the UI."""
        if not self.routed:
            return f"every company={self.accounts[0].name}"
        return ", ".join(f"{company}={name}" for company, name in self._by_company.items())
