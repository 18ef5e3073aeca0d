"""The Stripe steps across Stripe accounts (issue 13): one engine per account of the partition (its sink,
its ledger view), links to each account's objects, and each account's figures in the metadata.

With one account (no `JDE_STRIPE_ACCOUNTS`) a step's metadata is exactly what it was: the per-account
table and the unrouted count appear only when companies are routed.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from jde_stripe_pipeline import runtime
from jde_stripe_pipeline.accounts import UNROUTED, AccountRouting
from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline.orchestration.account_partitions import run_partition
from jde_stripe_pipeline.orchestration.report_metadata import Link, Metadata, outcome_counts
from jde_stripe_pipeline.orchestration.resources import MappingResource, StripeResource
from jde_stripe_pipeline.orchestration.steps import ProgressLog
from jde_stripe_pipeline.stripe_sink import StripeSink
from jde_stripe_pipeline.sync import RecordResult, SyncEngine, SyncReport
from jde_stripe_pipeline.sync.accounts import AccountsReport, AccountSyncs

ACCOUNT_COLUMNS = (
    "created",
    "updated",
    "unchanged",
    "repaired",
    "quarantined",
    "failed",
    "conflict",
    "deferred",
)


def account_syncs(
    context: dg.AssetExecutionContext,
    stripe: StripeResource,
    mapping: MappingResource,
    ledger: Ledger,
    label: str,
) -> AccountSyncs:
    """The step's syncs: each account of the run (every account of a daily run; the pair's one of a
    day × account run) through its own sink (key, budget) and ledger view, side by side."""
    routing = stripe.routing()
    day, only = run_partition(context)

    def engine(sink: StripeSink, account_ledger: Ledger) -> SyncEngine:
        named = f"{label} ({account_ledger.account})" if routing.routed else label
        return runtime.sync_engine(
            mapping.customer_config(),
            mapping.invoice_config(),
            sink,
            account_ledger,
            run_id=context.run.run_id,
            partition_key=day,
            progress=ProgressLog(context.log, named),
        )

    return AccountSyncs(
        routing=routing,
        ledger=ledger,
        open_sink=stripe.sink,
        engine=engine,
        run_id=context.run.run_id,
        partition_key=day,
        only=only,
        record_unrouted=only is None or only[0] == routing.names[0],
    )


class AccountLinks:
    """A link to any Stripe object a step touched, through the account that holds it (resolved once per
    account, without a request); an id of no known account gets the first account's link."""

    def __init__(
        self, stripe: StripeResource, owners: Iterable[tuple[str, Iterable[str | None]]] = ()
    ) -> None:
        self._stripe = stripe
        self._routing = stripe.routing()
        self._links: dict[str, Link] = {}
        self._owner = {stripe_id: account for account, ids in owners for stripe_id in ids if stripe_id}

    @classmethod
    def of(cls, stripe: StripeResource, report: AccountsReport) -> AccountLinks:
        owners = [(a.account, (r.stripe_id for r in _all_results(a.report))) for a in report.accounts]
        return cls(stripe, owners)

    def __call__(self, stripe_id: str) -> str | None:
        account = self._owner.get(stripe_id, self._routing.names[0])
        if account not in self._links:
            self._links[account] = self._stripe.account_link(self._routing.account(account))
        return self._links[account](stripe_id)


def accounts_metadata(report: AccountsReport, routing: AccountRouting) -> Metadata:
    """Each account's outcomes and requests (a table, and a JSON value per account for charts), and the
    records no account took. Empty for a site with one account."""
    if not routing.routed:
        return {}
    rows = ["| account | companies | " + " | ".join(ACCOUNT_COLUMNS) + " | requests |"]
    rows.append("|---" * (len(ACCOUNT_COLUMNS) + 3) + "|")
    metadata: Metadata = {}
    for account in report.accounts:
        counts = outcome_counts(account.report)
        companies = ", ".join(routing.account(account.account).companies)
        cells = " | ".join(str(counts[column]) for column in ACCOUNT_COLUMNS)
        rows.append(f"| {account.account} | {companies} | {cells} | {account.report.requests_sent} |")
        metadata[f"account_{account.account}"] = dg.MetadataValue.json(
            {**counts, "stripe_requests": int(account.report.requests_sent)}
        )
    metadata["accounts"] = dg.MetadataValue.md("\n".join(rows))
    metadata["unrouted"] = len([r for r in report.unrouted if r.object_type == report.object_type])
    return metadata


def stripe_limits_metadata(report: AccountsReport) -> Metadata:
    """What Stripe's limits cost the step, over its accounts: 429s (each retried, never a failed record),
    retries of any cause, idempotent replays, pace cuts after a 429, and the most requests in flight at
    once. 429s that recur from run to run mean another client shares the account (README)."""
    seen = [account.stripe for account in report.accounts if account.stripe is not None]
    return {
        "stripe_throttled": sum(s.rate_limited for s in seen),
        "stripe_retries": sum(s.retries for s in seen),
        "stripe_replays": sum(s.replays for s in seen),
        "stripe_pace_cuts": sum(sum(s.pace_cuts.values()) for s in seen),
        "stripe_peak_in_flight": max((s.peak_in_flight for s in seen), default=0),
    }


def problem_accounts(syncs: AccountSyncs) -> list[str]:
    """The ledger accounts whose open problems a step's check shows: its accounts, and the records
    routed nowhere when companies are routed (in the run that records them)."""
    names = [account.name for account in syncs.accounts]
    return [*names, UNROUTED] if syncs.routing.routed and syncs.records_unrouted else names


def _all_results(report: SyncReport) -> list[RecordResult]:
    first = list(report.customers.results) if report.customers is not None else []
    return first + list(report.results)
