"""`jde-stripe replay --partition P`: re-send just the records whose latest outcome is `failed`.

The ledger knows which records of a partition failed and were not synced since (`failed_for_replay`).
Replay re-reads exactly those records from JDE (their current state: a record changed since its failure
is sent as it is now) and runs them through the same engine the assets use, recorded under the same
partition with a `replay-…` run id. Nothing else of the partition is read or sent, so a replay of a
10 000-record day with three failures costs three records' requests. It is safe to run at any time,
also next to a run of the partition: the engine's idempotency keys and the ledger's unique mapping
keep a record from being created twice. Each Stripe account's failures are replayed through that
account's sink and ledger view (`--account` picks one).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import click

from jde_stripe_pipeline import runtime
from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT
from jde_stripe_pipeline.cli.audit import render_table
from jde_stripe_pipeline.cli.settings import (
    account_command_setup,
    account_option,
    plain_errors,
    state_url_option,
)
from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.profiles import InvoiceProfile
from jde_stripe_pipeline.jde.read import fetch_customers, fetch_invoices
from jde_stripe_pipeline.jde.records import JdeCustomer, JdeDocumentKey, QuarantinedRecord
from jde_stripe_pipeline.ledger import AuditEntry, Ledger
from jde_stripe_pipeline.mapping import CustomerMappingConfig, InvoiceMappingConfig
from jde_stripe_pipeline.stripe_sink import StripeSink
from jde_stripe_pipeline.sync import SyncReport


@dataclass(frozen=True)
class PartitionReplay:
    partition_key: str
    customers: SyncReport | None
    invoices: SyncReport | None
    account: str = DEFAULT_ACCOUNT

    def reports(self) -> list[SyncReport]:
        found = [r for r in (self.customers, self.invoices) if r is not None]
        if self.invoices is not None and self.invoices.customers is not None:
            found.append(self.invoices.customers)
        return found


def failed_by_partition(failed: Sequence[AuditEntry]) -> dict[str, dict[str, list[str]]]:
    """partition → object type → record keys, in ledger order."""
    grouped: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for entry in failed:
        grouped[entry.partition_key or ""][entry.object_type].append(entry.record_key)
    return {partition: dict(kinds) for partition, kinds in grouped.items()}


def replay_failed(
    partition_keys: Sequence[str],
    *,
    session: AisSession,
    profile: InvoiceProfile,
    stripe: StripeSink,
    ledger: Ledger,
    customer_config: CustomerMappingConfig,
    invoice_config: InvoiceMappingConfig,
    run_id: str,
) -> list[PartitionReplay]:
    """Re-extract and re-sync the failed records of these partitions, customers before invoices."""
    grouped = failed_by_partition(ledger.failed_for_replay(partition_keys))
    ship_to = customer_config.ship_to_source

    def customers_of(an8s: Sequence[int]) -> Iterable[JdeCustomer | QuarantinedRecord]:
        return fetch_customers(session, an8s, ship_to_source=ship_to)

    replays = []
    for partition_key, kinds in sorted(grouped.items()):
        engine = runtime.sync_engine(
            customer_config,
            invoice_config,
            stripe,
            ledger,
            run_id=run_id,
            partition_key=partition_key or None,
        )
        customers = invoices = None
        if an8s := kinds.get("customer"):
            customers = engine.sync_customers(customers_of([int(an8) for an8 in an8s]))
        if keys := kinds.get("invoice"):
            records = list(fetch_invoices(session, profile, [JdeDocumentKey.parse(k) for k in keys]))
            invoices = engine.sync_invoices(
                records,
                fetch_customers=customers_of,
            )
        replays.append(PartitionReplay(partition_key, customers, invoices, ledger.account))
    return replays


def format_replays(replays: Sequence[PartitionReplay]) -> str:
    if not replays:
        return "Nothing to replay: no failed record in these partitions."
    rows = []
    for replay in replays:
        for report in replay.reports():
            for result in report.results:
                rows.append(
                    (
                        replay.account,
                        replay.partition_key or "-",
                        result.object_type,
                        result.record_key,
                        result.outcome,
                        result.stripe_id or "-",
                        result.reason or "",
                    )
                )
    header = ("account", "partition", "type", "record", "outcome", "stripe id", "reason")
    return render_table(header, rows)


@click.command("replay")
@click.option(
    "--partition",
    "partitions",
    multiple=True,
    required=True,
    help="A partition (JDE update day, YYYY-MM-DD) whose failed records to re-send; repeatable.",
)
@account_option
@state_url_option
def replay(partitions: tuple[str, ...], account: str | None, state_url: str | None) -> None:
    """Re-send just the failed records of these partitions, re-read from JDE (exit 1 if any fail again)."""
    settings, accounts, credentials = account_command_setup(account)
    run_id = f"replay-{uuid.uuid4()}"
    replays: list[PartitionReplay] = []
    with (
        plain_errors(),
        runtime.open_ledger(state_url or None) as ledger,
        runtime.ais_session(settings.jde, credentials) as session,
    ):
        for stripe_account in accounts:
            account_ledger = ledger.for_account(stripe_account.name)
            if not account_ledger.failed_for_replay(list(partitions)):
                continue
            with runtime.stripe_sink(settings.stripe, credentials, stripe_account) as stripe:
                try:
                    replays += replay_failed(
                        list(partitions),
                        session=session,
                        profile=settings.jde.profile(),
                        stripe=stripe,
                        ledger=account_ledger,
                        customer_config=settings.customer_mapping,
                        invoice_config=settings.invoice_mapping,
                        run_id=run_id,
                    )
                except ValueError as error:  # a failed invoice's ledger key that is not KCOO/DOCO/DCTO/SFXO
                    raise click.ClickException(str(error)) from None
    click.echo(f"replay run {run_id}")
    click.echo(format_replays(replays))
    still_failed = sum(r.counts().get("failed", 0) for replay in replays for r in replay.reports())
    if still_failed:
        raise click.ClickException(f"{still_failed} record(s) failed again; see above")
