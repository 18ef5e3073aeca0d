"""The assets: extract a partition's changed JDE records, sync them to Stripe, reconcile invoices.

Built by `build_sync_assets(partitions)` from the settings root's partitions. Customers and invoices
are each a pair (`jde_*` extract → `stripe_*` sync) made by one factory from a `_Kind`. Records pass
from `jde_*` to `stripe_*` through the default filesystem IO manager (a pickle per asset per partition
under $DAGSTER_HOME/storage): the Stripe step syncs exactly what was extracted — for invoices, with the
customers they name, read in the same extract — so a Stripe step (and its retries) never reads AIS.
Hence one partition per run (see jobs.py). Retries and checks: `steps.py`.

`stripe_invoices` runs before `stripe_customers`: it creates the customers Stripe lacks — those its
invoices need — and writes the day's other customers, new or changed (it reads `jde_customers` too), on
a lane of their own while the invoices go (`sync/customer_lane.py`), so Stripe's customer and invoice
endpoints are busy at once (each has its own 25/s); `stripe_customers` then finds them written unchanged
(no request) and sends only what that step did not write (e.g. when it is materialized alone).
"""

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.read import extract_customers, extract_invoices, fetch_customers
from jde_stripe_pipeline.jde.records import JdeCustomer, JdeInvoice, QuarantinedRecord
from jde_stripe_pipeline.jde.window import UpdateWindow
from jde_stripe_pipeline.orchestration.account_partitions import stripe_pool
from jde_stripe_pipeline.orchestration.account_steps import (
    AccountLinks,
    account_syncs,
    accounts_metadata,
    problem_accounts,
    stripe_limits_metadata,
)
from jde_stripe_pipeline.orchestration.names import (
    BILLING_RECONCILIATION,
    JDE_CUSTOMERS,
    JDE_INVOICES,
    STRIPE_CUSTOMERS,
    STRIPE_INVOICES,
)
from jde_stripe_pipeline.orchestration.report_metadata import (
    Metadata,
    reconciliation_markdown,
    reconciliation_metadata,
)
from jde_stripe_pipeline.orchestration.resources import (
    JdeAisResource,
    LedgerResource,
    MappingResource,
    StripeResource,
)
from jde_stripe_pipeline.orchestration.steps import (
    JdeExtract,
    RunStates,
    extract_metadata,
    finish_sync,
    frozen_heap,
    jde_retries,
    partition_window,
    stripe_retries,
)
from jde_stripe_pipeline.sync import ReconciliationReport, SyncEngine
from jde_stripe_pipeline.sync.accounts import (
    AccountsReport,
    AccountSyncs,
    merge_month_ends,
    merge_reconciliations,
)
from jde_stripe_pipeline.sync.ar_reconcile import (
    ArReconciliation,
    month_end_csv,
    month_end_markdown,
    reconcile_ar,
)

OWNERS = ["team:billing-integration"]
CUSTOMERS_CHECK = "no_quarantined_or_failed_customers"
INVOICES_CHECK = "no_quarantined_or_failed_invoices"
RECONCILIATION_CHECK = "stripe_matches_jde"


@dataclass(frozen=True)
class _Kind:
    """What differs between the customer pair and the invoice pair."""

    extract_key: dg.AssetKey
    sync_key: dg.AssetKey
    check_name: str
    label: str
    extract_description: str
    sync_description: str
    extract: Callable[[AisSession, UpdateWindow, JdeAisResource], JdeExtract]
    sync: Callable[..., AccountsReport]
    """(syncs, extract, **inputs) → report."""
    deps: tuple[dg.AssetKey, ...] = ()
    inputs: tuple[tuple[str, dg.AssetKey], ...] = ()
    """More extracts the Stripe step reads, by parameter name."""


def _extract_customers(session: AisSession, window: UpdateWindow, jde: JdeAisResource) -> JdeExtract:
    started = datetime.now(UTC)
    records = extract_customers(session, window, ship_to_source=jde.ship_to_source)
    return JdeExtract(tuple(records), window, started)


def _extract_invoices(session: AisSession, window: UpdateWindow, jde: JdeAisResource) -> JdeExtract:
    """The invoices, and the current JDE state of every customer they name (one batched read)."""
    started = datetime.now(UTC)
    records = tuple(extract_invoices(session, window, jde.profile()))
    an8s = sorted({r.an8 for r in records if isinstance(r, JdeInvoice)})
    customers = tuple(fetch_customers(session, an8s, ship_to_source=jde.ship_to_source)) if an8s else ()
    return JdeExtract(records, window, started, customers)


def _sync_customers(syncs: AccountSyncs, extract: JdeExtract) -> AccountsReport:
    return syncs.sync_customers(r for r in extract.records if isinstance(r, JdeCustomer | QuarantinedRecord))


def _sync_invoices(syncs: AccountSyncs, extract: JdeExtract, day_customers: JdeExtract) -> AccountsReport:
    """The invoices, with the day's new customers on the lane beside them (`sync/customer_lane.py`)."""
    records = [r for r in extract.records if isinstance(r, JdeInvoice | QuarantinedRecord)]
    customers = [r for r in day_customers.records if isinstance(r, JdeCustomer | QuarantinedRecord)]
    return syncs.sync_invoices(records, fetch_customers=extract.customers_of, day_customers=customers)


CUSTOMERS = _Kind(
    JDE_CUSTOMERS,
    STRIPE_CUSTOMERS,
    CUSTOMERS_CHECK,
    "customers",
    "JDE customers (F03012 + address book) with a row changed on the partition's UPMJ day.",
    "Stripe customers created or updated from the partition's JDE customers (after stripe_invoices, "
    "which creates the customers its invoices need together with the invoices).",
    _extract_customers,
    _sync_customers,
    deps=(STRIPE_INVOICES,),
)
INVOICES = _Kind(
    JDE_INVOICES,
    STRIPE_INVOICES,
    INVOICES_CHECK,
    "invoices",
    "JDE invoices (header + lines of the JDE_INVOICE_SOURCE profile) changed on the day, with the "
    "customers they name.",
    "Draft Stripe invoices converged to the partition's JDE invoices; the customers Stripe lacks (those "
    "the invoices name, and the day's other new or changed ones) are written at the same time, each "
    "invoice once its customer exists.",
    _extract_invoices,
    _sync_invoices,
    inputs=(("day_customers", JDE_CUSTOMERS),),
)


def _partitioned_check(
    name: str, asset: dg.AssetKey, partitions: dg.PartitionsDefinition, *, blocking: bool = False
) -> dg.AssetCheckSpec:
    """A check evaluated per partition, so the UI shows each day's result (not one unpartitioned
    result plus a skipped one per run). Partitioned checks are a preview in dagster 1.13; the exact
    pin in pyproject.toml keeps the behaviour the tests saw."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(name, asset=asset, partitions_def=partitions, blocking=blocking)


def _pair(kind: _Kind, partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """The extract asset and the Stripe asset of one object kind."""

    @dg.asset(
        key=kind.extract_key,
        partitions_def=partitions,
        group_name="jde",
        kinds={"jde"},
        owners=OWNERS,
        description=kind.extract_description,
    )
    def extract(context: dg.AssetExecutionContext, jde: JdeAisResource) -> dg.Output[JdeExtract]:
        window = partition_window(context, jde.timezone)
        with frozen_heap(), jde_retries(context), jde.session() as session:
            result = kind.extract(session, window, jde)
        return dg.Output(result, metadata=extract_metadata(result, session.stats))

    @dg.asset(
        key=kind.sync_key,
        partitions_def=partitions,
        group_name="stripe",
        kinds={"stripe"},
        owners=OWNERS,
        ins={"extract": dg.AssetIn(kind.extract_key), **{n: dg.AssetIn(k) for n, k in kind.inputs}},
        deps=list(kind.deps),
        dagster_type=dg.Any,  # the RunStates handed to the reconciliation step
        pool=stripe_pool(partitions),
        check_specs=[_partitioned_check(kind.check_name, kind.sync_key, partitions)],
        description=kind.sync_description,
    )
    def sync(
        context: dg.AssetExecutionContext,
        extract: JdeExtract,
        stripe: StripeResource,
        mapping: MappingResource,
        ledger: LedgerResource,
        **inputs: JdeExtract,
    ) -> dg.MaterializeResult:
        with frozen_heap(), stripe_retries(context, stripe), ledger.open() as state:
            syncs = account_syncs(context, stripe, mapping, state, kind.label)
            report = kind.sync(syncs, extract, **inputs)
            return finish_sync(
                context,
                stripe,
                state,
                report.combined(),
                extract,
                AccountLinks.of(stripe, report),
                kind.check_name,
                RunStates.of(context.run.run_id, report),
                accounts=problem_accounts(syncs),
                account_metadata=accounts_metadata(report, stripe.routing()) | stripe_limits_metadata(report),
            )

    return [extract, sync]


def _reconciliation(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=BILLING_RECONCILIATION,
        partitions_def=partitions,
        group_name="reconciliation",
        kinds={"stripe"},
        owners=OWNERS,
        ins={"extract": dg.AssetIn(JDE_INVOICES), "synced": dg.AssetIn(STRIPE_INVOICES)},
        check_specs=[
            _partitioned_check(RECONCILIATION_CHECK, BILLING_RECONCILIATION, partitions, blocking=True)
        ],
        description="Per invoice of the partition: Stripe's number, date, currency, line count, total, "
        "owned fields and lines vs JDE. A draft deleted or edited in Stripe while JDE did not change is "
        "marked drifted: the next run of the partition repairs it. Its check blocks: a draft that differs "
        "from JDE fails the run.",
    )
    def billing_reconciliation(
        context: dg.AssetExecutionContext,
        extract: JdeExtract,
        synced: RunStates,
        stripe: StripeResource,
        mapping: MappingResource,
        ledger: LedgerResource,
    ) -> dg.MaterializeResult:
        invoices: Sequence[JdeInvoice] = [r for r in extract.records if isinstance(r, JdeInvoice)]
        ar = any(r.profile == "ar_invoice" for r in invoices)

        def reconcile(
            engine: SyncEngine, mine: list[JdeInvoice]
        ) -> tuple[ReconciliationReport, ArReconciliation]:
            config = engine.invoice_config
            month = (
                reconcile_ar(mine, stripe=engine.stripe, ledger=engine.ledger, config=config) if ar else None
            )
            run, account = context.run.run_id, engine.ledger.account
            found = engine.reconcile_invoices(
                mine, known=synced.of_run(run, account), compared=synced.compared_of_run(run, account)
            )
            return found, month or ArReconciliation(())

        with frozen_heap(), stripe_retries(context, stripe), ledger.open() as state:
            syncs = account_syncs(context, stripe, mapping, state, "reconciliation")
            per_account = syncs.for_invoices(invoices, reconcile)
        report = merge_reconciliations([found for _, (found, _) in per_account])
        month_end = merge_month_ends([month for _, (_, month) in per_account]) if ar else None
        link = AccountLinks(
            stripe, [(name, (i.stripe_id for i in r.invoices)) for name, (r, _) in per_account]
        )
        for item in report.mismatched()[:50]:
            differences = ", ".join(
                [
                    *(
                        f"{name} JDE {item.expected.get(name)!r} Stripe {item.actual.get(name)!r}"
                        for name in item.mismatches
                    ),
                    *item.differences,
                ]
            )
            repair = " (drift: marked, the next run of this partition repairs it)" if item.drift else ""
            context.log.error(f"invoice {item.record_key} does not match Stripe: {differences}{repair}")
        metadata = reconciliation_metadata(report, run_id=context.run.run_id, link=link)
        month_end_differences = 0
        if month_end is not None:
            month_end_differences = len(month_end.mismatched())
            metadata |= _month_end_metadata(context, month_end, ZoneInfo(mapping.timezone))
        drafts_differ = len(report.mismatched()) > len(report.conflicts) or month_end_differences > 0
        check = dg.AssetCheckResult(
            check_name=RECONCILIATION_CHECK,
            passed=not report.mismatched() and not month_end_differences,
            # A draft that differs from JDE after a sync is a defect: ERROR, and the blocking check fails
            # the run. Finalized invoices JDE changed since (conflicts) are a person's work: WARN.
            severity=dg.AssetCheckSeverity.ERROR if drafts_differ else dg.AssetCheckSeverity.WARN,
            metadata={
                "mismatches": len(report.mismatched()),
                "month_end_differences": month_end_differences,
                "conflicts": len(report.conflicts),
                "drifted": len(report.drifted()),
                "conflicting_invoices": dg.MetadataValue.json([c.record_key for c in report.conflicts]),
                "differences": dg.MetadataValue.md(reconciliation_markdown(report, link)),
            },
        )
        return dg.MaterializeResult(metadata=metadata, check_results=[check])

    return billing_reconciliation


def _month_end_metadata(
    context: dg.AssetExecutionContext, month_end: ArReconciliation, zone: ZoneInfo
) -> Metadata:
    """The month-end table (A/R profile) as a CSV a billing team opens, beside its preview: JDE
    document, Stripe invoice or credit note, amounts, status, difference."""
    folder = Path(context.instance.storage_directory()) / "reconciliation"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"billing_{context.partition_key.replace('|', '_')}.csv"
    path.write_text(month_end_csv(month_end, zone), encoding="utf-8")
    return {
        "month_end_csv": dg.MetadataValue.path(str(path)),
        "month_end_table": dg.MetadataValue.md(month_end_markdown(month_end, zone)),
        "month_end_differences": len(month_end.mismatched()),
    }


def build_sync_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """Every asset of the code location, on these partitions."""
    return [*_pair(CUSTOMERS, partitions), *_pair(INVOICES, partitions), _reconciliation(partitions)]
