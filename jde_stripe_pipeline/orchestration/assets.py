"""The assets: extract a partition's changed JDE records, sync them to Stripe, reconcile invoices.

Records pass from `jde_*` to `stripe_*` through the default filesystem IO manager (a pickle per asset
per partition under $DAGSTER_HOME/storage): the Stripe step syncs exactly what was extracted, and a
retried Stripe step does not read AIS again. Hence one partition per run (see jobs.py).

Retries: a Stripe step with failed records (or with Stripe or the ledger unreachable) records what it
did, then asks Dagster to re-run it (`RetryRequested`) after `delay * 2**retry` seconds, up to
`step_retries` times (StripeResource fields). The engine is idempotent, so a re-run re-sends only
what is still missing: what succeeded is `unchanged` and costs no Stripe write. After the cap the
step fails with the failed records in its metadata; `jde-stripe replay --partition P` (or re-running
the partition) re-sends them later. An extract step is retried the same way when AIS is unreachable.
Other errors (a bug, bad configuration) fail at once: retrying them would only delay the message.
RetryRequested rather than a static RetryPolicy so that the backoff is configuration (tests use 0 s).
"""

import os
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg

from jde_stripe_pipeline.jde.errors import AisUnavailableError
from jde_stripe_pipeline.jde.read import extract_customers, extract_invoices, fetch_customers
from jde_stripe_pipeline.jde.records import JdeCustomer, JdeInvoice, QuarantinedRecord
from jde_stripe_pipeline.jde.window import UpdateWindow
from jde_stripe_pipeline.ledger import Ledger, LedgerUnavailableError, ObjectType
from jde_stripe_pipeline.mapping import CustomerMappingConfig, InvoiceMappingConfig
from jde_stripe_pipeline.orchestration.names import (
    BILLING_RECONCILIATION,
    EXTRACTED_AT,
    JDE_CUSTOMERS,
    JDE_INVOICES,
    STRIPE_CUSTOMERS,
    STRIPE_INVOICES,
    STRIPE_POOL,
)
from jde_stripe_pipeline.orchestration.partitions import jde_update_days, local_window
from jde_stripe_pipeline.orchestration.report_metadata import (
    Link,
    Metadata,
    problems_markdown,
    reconciliation_markdown,
    reconciliation_metadata,
    sync_metadata,
)
from jde_stripe_pipeline.orchestration.resources import JdeAisResource, LedgerResource, StripeResource
from jde_stripe_pipeline.stripe_sink import StripeSink, StripeUnavailable
from jde_stripe_pipeline.sync import SyncEngine, SyncReport

OWNERS = ["team:billing-integration"]


def _partitioned_check(name: str, asset: dg.AssetKey) -> dg.AssetCheckSpec:
    """A check evaluated per partition, so the UI shows each day's result (not one unpartitioned
    result plus a skipped one per run). Partitioned checks are a preview in dagster 1.13; the exact
    pin in pyproject.toml keeps the behaviour the tests saw."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(name, asset=asset, partitions_def=jde_update_days)


JDE_RETRIES = 3
JDE_RETRY_DELAY_SECONDS = 10.0
CUSTOMERS_CHECK = "no_quarantined_or_failed_customers"
INVOICES_CHECK = "no_quarantined_or_failed_invoices"
RECONCILIATION_CHECK = "stripe_matches_jde"

Extracted = JdeCustomer | JdeInvoice | QuarantinedRecord


@dataclass(frozen=True)
class JdeExtract:
    """What an extract asset hands on: the records, the window and when the extract began (UTC)."""

    records: tuple[Extracted, ...]
    window: UpdateWindow
    started_at: datetime


class ProgressLog:
    """The engine's progress callback: a log line about every tenth of the records, with the rate."""

    def __init__(self, log: dg.DagsterLogManager, label: str, every: int = 200) -> None:
        self._log, self._label, self._every, self._start = log, label, every, time.monotonic()

    def __call__(self, done: int, total: int | None) -> None:
        step = min(self._every, max(1, (total or self._every) // 10))
        if done % step and done != total:
            return
        rate = done / max(time.monotonic() - self._start, 1e-6)
        self._log.info(f"{self._label}: {done}/{total if total is not None else '?'} records, {rate:.1f}/s")


def retry_or_fail(
    context: dg.AssetExecutionContext,
    *,
    retries: int,
    delay_seconds: float,
    message: str,
    metadata: Metadata | None = None,
) -> dg.Failure:
    """Raise `RetryRequested` (exponential backoff) while attempts remain; else return the Failure."""
    failure = dg.Failure(message, metadata=metadata or {})
    attempt = context.retry_number
    if attempt < retries:
        wait = delay_seconds * 2**attempt
        context.log.warning(f"{message}; retry {attempt + 1}/{retries} in {wait:.0f}s")
        raise dg.RetryRequested(max_retries=retries, seconds_to_wait=wait) from failure
    return failure


def _window(context: dg.AssetExecutionContext, jde: JdeAisResource) -> UpdateWindow:
    bounds = local_window(context.partition_time_window, jde.timezone)
    return UpdateWindow(bounds.start, bounds.end)


def _extract_metadata(extract: JdeExtract) -> Metadata:
    quarantined = [r for r in extract.records if isinstance(r, QuarantinedRecord)]
    return {
        "records": len(extract.records) - len(quarantined),
        "quarantined_at_extract": len(quarantined),
        "window": f"[{extract.window.start.isoformat()}, {extract.window.end.isoformat()}) JDE local",
        EXTRACTED_AT: dg.MetadataValue.timestamp(extract.started_at),
    }


@contextmanager
def _jde_retries(context: dg.AssetExecutionContext) -> Iterator[None]:
    try:
        yield
    except AisUnavailableError as error:
        raise retry_or_fail(
            context, retries=JDE_RETRIES, delay_seconds=JDE_RETRY_DELAY_SECONDS, message=f"AIS: {error}"
        ) from error


@dg.asset(
    key=JDE_CUSTOMERS,
    partitions_def=jde_update_days,
    group_name="jde",
    kinds={"jde"},
    owners=OWNERS,
    description="JDE customers (F03012 + address book) with a row changed on the partition's UPMJ day.",
)
def jde_customers(context: dg.AssetExecutionContext, jde: JdeAisResource) -> dg.Output[JdeExtract]:
    started = datetime.now(UTC)
    window = _window(context, jde)
    with _jde_retries(context), jde.session() as session:
        records = extract_customers(session, window, ship_to_source=jde.ship_to_source)
        extract = JdeExtract(tuple(records), window, started)
    return dg.Output(extract, metadata=_extract_metadata(extract))


@dg.asset(
    key=JDE_INVOICES,
    partitions_def=jde_update_days,
    group_name="jde",
    kinds={"jde"},
    owners=OWNERS,
    description="JDE invoices (header + lines of the JDE_INVOICE_SOURCE profile) changed on the day.",
)
def jde_invoices(context: dg.AssetExecutionContext, jde: JdeAisResource) -> dg.Output[JdeExtract]:
    started = datetime.now(UTC)
    window = _window(context, jde)
    with _jde_retries(context), jde.session() as session:
        extract = JdeExtract(tuple(extract_invoices(session, window, jde.profile())), window, started)
    return dg.Output(extract, metadata=_extract_metadata(extract))


def build_engine(
    context: dg.AssetExecutionContext, client: StripeSink, ledger: Ledger, label: str
) -> SyncEngine:
    return SyncEngine(
        stripe=client,
        ledger=ledger,
        customer_config=CustomerMappingConfig.from_env(os.environ),
        invoice_config=InvoiceMappingConfig.from_env(os.environ),
        run_id=context.run.run_id,
        partition_key=context.partition_key,
        workers=client.settings.workers,
        progress=ProgressLog(context.log, label),
    )


def _link(client: StripeSink) -> Link:
    return lambda stripe_id: StripeResource.object_url(client, stripe_id)


def problems_check(
    ledger: Ledger,
    partition_key: str,
    object_type: ObjectType,
    check_name: str,
    report: SyncReport,
    link: Link,
) -> dg.AssetCheckResult:
    """The partition's open quarantine and unreplayed failures in the ledger (across runs), and this
    run's conflicts. Failures are ERROR; quarantine and conflicts WARN (a person must fix the data)."""
    quarantined = ledger.open_quarantine([partition_key], object_type=object_type)
    failed = ledger.failed_for_replay([partition_key], object_type=object_type)
    conflicts = [r for r in report.problems() if r.outcome == "conflict" and r.object_type == object_type]
    rows = [f"| {q.record_key} | quarantined | {q.field}: {q.reason} |" for q in quarantined]
    rows += [f"| {f.record_key} | failed | {f.reason or ''} |" for f in failed]
    rows += [f"| {c.record_key} | conflict | {c.reason or ''} |" for c in conflicts]
    table = "| record | state | reason |\n|---|---|---|\n" + "\n".join(rows) if rows else "Nothing open."
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=not rows,
        severity=dg.AssetCheckSeverity.ERROR if failed else dg.AssetCheckSeverity.WARN,
        metadata={
            "quarantined": len(quarantined),
            "failed": len(failed),
            "conflicts": len(conflicts),
            "records": dg.MetadataValue.md(table),
            "this_run": dg.MetadataValue.md(problems_markdown(report.problems(), link)),
        },
    )


def finish_sync(
    context: dg.AssetExecutionContext,
    stripe: StripeResource,
    ledger: Ledger,
    report: SyncReport,
    extract: JdeExtract,
    client: StripeSink,
    check_name: str,
) -> dg.MaterializeResult:
    link = _link(client)
    metadata = sync_metadata(report, run_id=context.run.run_id, link=link)
    metadata[EXTRACTED_AT] = dg.MetadataValue.timestamp(extract.started_at)
    failed = report.counts().get("failed", 0)
    if report.customers is not None:
        failed += report.customers.counts().get("failed", 0)
    if failed:
        message = f"{failed} record(s) failed in the {report.object_type} sync of {context.partition_key}"
        raise retry_or_fail(
            context,
            retries=stripe.step_retries,
            delay_seconds=stripe.step_retry_delay_seconds,
            message=message,
            metadata=metadata,
        )
    check = problems_check(ledger, context.partition_key, report.object_type, check_name, report, link)
    return dg.MaterializeResult(metadata=metadata, check_results=[check])


@contextmanager
def _stripe_retries(context: dg.AssetExecutionContext, stripe: StripeResource) -> Iterator[None]:
    try:
        yield
    except (StripeUnavailable, LedgerUnavailableError) as error:
        raise retry_or_fail(
            context,
            retries=stripe.step_retries,
            delay_seconds=stripe.step_retry_delay_seconds,
            message=f"{type(error).__name__}: {error}",
        ) from error


@dg.asset(
    key=STRIPE_CUSTOMERS,
    partitions_def=jde_update_days,
    group_name="stripe",
    kinds={"stripe"},
    owners=OWNERS,
    ins={"extract": dg.AssetIn(JDE_CUSTOMERS)},
    pool=STRIPE_POOL,
    check_specs=[_partitioned_check(CUSTOMERS_CHECK, STRIPE_CUSTOMERS)],
    description="Stripe customers created or updated from the partition's JDE customers.",
)
def stripe_customers(
    context: dg.AssetExecutionContext, extract: JdeExtract, stripe: StripeResource, ledger: LedgerResource
) -> dg.MaterializeResult:
    with _stripe_retries(context, stripe), stripe.sink() as client, ledger.open() as state:
        records = [r for r in extract.records if isinstance(r, JdeCustomer | QuarantinedRecord)]
        report = build_engine(context, client, state, "customers").sync_customers(records)
        return finish_sync(context, stripe, state, report, extract, client, CUSTOMERS_CHECK)


@dg.asset(
    key=STRIPE_INVOICES,
    partitions_def=jde_update_days,
    group_name="stripe",
    kinds={"stripe"},
    owners=OWNERS,
    ins={"extract": dg.AssetIn(JDE_INVOICES)},
    deps=[STRIPE_CUSTOMERS],
    pool=STRIPE_POOL,
    check_specs=[_partitioned_check(INVOICES_CHECK, STRIPE_INVOICES)],
    description="Draft Stripe invoices converged to the partition's JDE invoices (missing customers first).",
)
def stripe_invoices(
    context: dg.AssetExecutionContext,
    extract: JdeExtract,
    jde: JdeAisResource,
    stripe: StripeResource,
    ledger: LedgerResource,
) -> dg.MaterializeResult:
    records = [r for r in extract.records if isinstance(r, JdeInvoice | QuarantinedRecord)]
    with (
        _stripe_retries(context, stripe),
        _jde_retries(context),
        jde.session() as session,
        stripe.sink() as client,
        ledger.open() as state,
    ):
        report = build_engine(context, client, state, "invoices").sync_invoices(
            records,
            fetch_customers=lambda an8s: fetch_customers(session, an8s, ship_to_source=jde.ship_to_source),
        )
        return finish_sync(context, stripe, state, report, extract, client, INVOICES_CHECK)


@dg.asset(
    key=BILLING_RECONCILIATION,
    partitions_def=jde_update_days,
    group_name="reconciliation",
    kinds={"stripe"},
    owners=OWNERS,
    ins={"extract": dg.AssetIn(JDE_INVOICES)},
    deps=[STRIPE_INVOICES],
    check_specs=[_partitioned_check(RECONCILIATION_CHECK, BILLING_RECONCILIATION)],
    description="Per invoice of the partition: Stripe's number, date, currency, line count and total vs JDE.",
)
def billing_reconciliation(
    context: dg.AssetExecutionContext, extract: JdeExtract, stripe: StripeResource, ledger: LedgerResource
) -> dg.MaterializeResult:
    invoices: Sequence[JdeInvoice] = [r for r in extract.records if isinstance(r, JdeInvoice)]
    with _stripe_retries(context, stripe), stripe.sink() as client, ledger.open() as state:
        report = build_engine(context, client, state, "reconciliation").reconcile_invoices(invoices)
        link = _link(client)
    metadata = reconciliation_metadata(report, run_id=context.run.run_id, link=link)
    check = dg.AssetCheckResult(
        check_name=RECONCILIATION_CHECK,
        passed=not report.mismatched(),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "mismatches": len(report.mismatched()),
            "conflicts": len(report.conflicts),
            "conflicting_invoices": dg.MetadataValue.json([c.record_key for c in report.conflicts]),
            "differences": dg.MetadataValue.md(reconciliation_markdown(report, link)),
        },
    )
    return dg.MaterializeResult(metadata=metadata, check_results=[check])


SYNC_ASSETS_DEFS = [jde_customers, jde_invoices, stripe_customers, stripe_invoices, billing_reconciliation]
