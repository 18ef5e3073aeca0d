"""Day × Stripe account partitions (issue 13): what the code location ships when the settings name more
than one Stripe account (`JDE_STRIPE_ACCOUNTS`); one account keeps the plain daily partitions.

`sync_partitions(settings)` decides. With several accounts every asset is partitioned by
`MultiPartitionsDefinition({"account": <the accounts' names>, "day": <the daily partitions>})`, so the UI
shows and a backfill selects (day, account) pairs, and each run syncs one account of one day:
- the JDE extract of a pair reads the whole day (what it reads is the same for every account; the
  Stripe step syncs only its account's records) — N accounts read a day N times;
- the Stripe steps sync only the pair's account (`AccountSyncs(only=[account])`); the records of a
  company routed nowhere are quarantined by the first account's run only (no account owns them);
- the ledger still records the day as the partition (`replay --partition DAY` and the checks work as
  before); metadata and checks are per pair;
- the schedule requests every (day, account) pair not settled (each pair's own extract times);
- the sensor asks the probe which JDE companies changed on each day and requests the pairs of their
  accounts (an address-book change: every account of the day; an unrouted company: the first account,
  whose run quarantines it).

Concurrency (dagster.yaml, deploy/dagster.postgres.yaml): Dagster tags each run with its pair's
`dagster/partition/account`; a tag limit of 1 per value runs one run per account at a time, so runs of
one account share its Stripe budget (each run's sink paces itself at the account's rate) while runs of
different accounts run side by side. The Stripe steps of these assets are therefore in no pool: the
`stripe_api` pool (limit 1) serializes the Stripe steps of the daily shape, where every run writes to
the one account, and would serialize the accounts here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date

import dagster as dg

from jde_stripe_pipeline.accounts import AccountRouting
from jde_stripe_pipeline.orchestration.names import STRIPE_POOL
from jde_stripe_pipeline.orchestration.partitions import build_partitions, partition_key_of
from jde_stripe_pipeline.settings import Settings

DAY = "day"
ACCOUNT = "account"
ACCOUNT_TAG = f"dagster/partition/{ACCOUNT}"
"""The run tag Dagster sets from a pair's account: the key of the per-account run limit."""

SyncPartitions = dg.TimeWindowPartitionsDefinition | dg.MultiPartitionsDefinition
"""Daily partitions, or day × Stripe account: a key's time window is its day's."""


def sync_partitions(settings: Settings) -> SyncPartitions:
    """The partitions the code location ships: day × account with several Stripe accounts, days with
    one (a one-account site sees no change)."""
    daily = build_partitions(settings.timezone, settings.schedule.start_date)
    return build_account_partitions(daily, settings.accounts) if len(settings.accounts.names) > 1 else daily


def stripe_pool(partitions: dg.PartitionsDefinition) -> str | None:
    """The pool of the Stripe steps: `stripe_api` for daily runs (every run writes to the one account);
    none for day × account runs, which the per-account run limit keeps apart (module doc)."""
    return None if isinstance(partitions, dg.MultiPartitionsDefinition) else STRIPE_POOL


def build_account_partitions(
    daily: dg.TimeWindowPartitionsDefinition, routing: AccountRouting
) -> dg.MultiPartitionsDefinition:
    """Day × Stripe account (the accounts' names, as `JDE_STRIPE_ACCOUNTS` gives them)."""
    return dg.MultiPartitionsDefinition(
        {DAY: daily, ACCOUNT: dg.StaticPartitionsDefinition(list(routing.names))}
    )


def run_partition(context: dg.AssetExecutionContext) -> tuple[str, list[str] | None]:
    """The run's day (the ledger's partition key) and, for day × account partitions, its one account
    (None: a daily run syncs every account)."""
    key = context.partition_key
    partitions = context.assets_def.partitions_def
    if isinstance(partitions, dg.MultiPartitionsDefinition):
        parts = partitions.get_partition_key_from_str(key).keys_by_dimension
        return parts[DAY], [parts[ACCOUNT]]
    return key, None


def pair_key(day: date, account: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({DAY: partition_key_of(day), ACCOUNT: account})


def accounts_changed(
    companies: Mapping[date, frozenset[str] | None], day: date, routing: AccountRouting
) -> list[str]:
    """The accounts whose records may have changed on `day`, from the JDE companies the probe saw (None
    or no entry: a table without a company changed, every account); a company routed nowhere asks the
    first account's run, which quarantines its records."""
    seen = companies.get(day)
    if seen is None:
        return list(routing.names)
    wanted = {routing.account_of(company) or routing.names[0] for company in seen}
    return [name for name in routing.names if name in wanted]


def pair_requests(
    days: Collection[str], companies: Mapping[date, frozenset[str] | None], routing: AccountRouting
) -> list[dg.MultiPartitionKey]:
    """The (day, account) pairs of these changed days (daily partition keys)."""
    pairs = []
    for key in sorted(days):
        day = date.fromisoformat(key)
        pairs += [pair_key(day, account) for account in accounts_changed(companies, day, routing)]
    return pairs
