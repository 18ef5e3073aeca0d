"""A proposal for the lead (issue 13): partitions of day × Stripe account, beside today's daily ones.

`build_definitions(settings, account_partitions=True)` partitions every asset by
`MultiPartitionsDefinition({"day": <the daily partitions>, "account": <the accounts' names>})`, so the
UI shows and a backfill selects (day, account) pairs, and each run syncs one account of one day:
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

Concurrency, in `dagster.yaml` (not switched on here: the daily shape is what ships):
```
concurrency:
  runs:
    tag_concurrency_limits:
      - key: dagster/partition          # one run per (day, account) pair at a time
        value: {applyLimitPerUniqueValue: true}
        limit: 1
      - key: dagster/partition/account  # one run per account at a time: its Stripe budget is its own
        value: {applyLimitPerUniqueValue: true}
        limit: 1
  pools:
    default_limit: 8                    # `stripe_api`: runs of different accounts write side by side
```
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date

import dagster as dg

from jde_stripe_pipeline.accounts import AccountRouting
from jde_stripe_pipeline.orchestration.partitions import partition_key_of

DAY = "day"
ACCOUNT = "account"


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
