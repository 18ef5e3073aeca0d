"""Syncing records into several Stripe accounts: split them by account (`routing`), then run one
`SyncEngine` per account — each with its own sink (its own key and rate budget) and its own view of the
ledger — side by side on threads; quarantine what no account takes (issue 13).

The engine itself knows nothing of accounts: an account is a sink and a ledger view. With one account
(no `JDE_STRIPE_ACCOUNTS`) every record goes to it and its engine runs exactly as before, even with
nothing to sync (it may relink an empty ledger); with several, an account with no record is not opened.
A failure that must retry the step (Stripe or the ledger unreachable) is raised after every account
has finished, so what the others did is recorded first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TypeVar

from jde_stripe_pipeline.accounts import UNROUTED, AccountRouting, StripeAccount
from jde_stripe_pipeline.jde.records import JdeCustomer, JdeInvoice, QuarantinedRecord
from jde_stripe_pipeline.ledger import Ledger, Outcome, RecordOutcome
from jde_stripe_pipeline.stripe_sink import StripeSink
from jde_stripe_pipeline.stripe_sink.metrics import MetricsSnapshot
from jde_stripe_pipeline.sync.ar_reconcile import ArReconciliation
from jde_stripe_pipeline.sync.decision import StripeState
from jde_stripe_pipeline.sync.engine import CustomerFetch, SyncEngine
from jde_stripe_pipeline.sync.results import (
    PROBLEM_OUTCOMES,
    ObjectKind,
    Plan,
    ReconciliationReport,
    RecordResult,
    SyncReport,
)
from jde_stripe_pipeline.sync.routing import Routed, route_customers, route_invoices

T = TypeVar("T")
U = TypeVar("U")
SinkOpener = Callable[[StripeAccount], AbstractContextManager[StripeSink]]
"""Opens one account's sink (its key, API base, connected account id and budget)."""
EngineFactory = Callable[[StripeSink, Ledger], SyncEngine]
"""Builds the engine of one account from its sink and its view of the ledger."""


@dataclass(frozen=True)
class AccountReport:
    """What one account's engine did."""

    account: str
    report: SyncReport
    states: Mapping[str, StripeState] = field(default_factory=dict)
    """What the account's engine got from Stripe per record (for the reconciliation of the same run)."""
    stripe: MetricsSnapshot | None = None
    """What the account's sink saw of Stripe's limits while it synced: 429s, retries, replays, places."""


@dataclass(frozen=True)
class AccountsReport:
    """A sync across accounts: each account's report, and the records no account took."""

    object_type: ObjectKind
    accounts: tuple[AccountReport, ...]
    unrouted: tuple[RecordResult, ...] = ()

    def report(self, account: str) -> SyncReport:
        return next(a.report for a in self.accounts if a.account == account)

    def states(self) -> dict[str, Mapping[str, StripeState]]:
        """Per account, what its engine got from Stripe per record."""
        return {a.account: a.states for a in self.accounts}

    def results(self) -> list[RecordResult]:
        """Every record's result (a customer synced to two accounts counts twice), unrouted last."""
        return [r for a in self.accounts for r in _with_customers(a.report)] + list(self.unrouted)

    def counts(self) -> dict[Outcome, int]:
        return dict(Counter(r.outcome for r in self.results() if r.object_type == self.object_type))

    def problems(self) -> list[RecordResult]:
        return [r for r in self.results() if r.outcome in PROBLEM_OUTCOMES]

    @property
    def requests_sent(self) -> int:
        return sum(a.report.requests_sent for a in self.accounts)

    @property
    def stripe_matches_jde(self) -> bool:
        return all(a.report.stripe_matches_jde for a in self.accounts)

    def combined(self) -> SyncReport:
        """One report over every account (the unrouted records among the results): what the Dagster
        metadata and checks show. With one account and nothing unrouted, that account's report itself."""
        if len(self.accounts) == 1 and not self.unrouted:
            return self.accounts[0].report
        reports = [a.report for a in self.accounts]
        customers = [r.customers for r in reports if r.customers is not None]
        reconciliations = [r.reconciliation for r in reports if r.reconciliation is not None]
        own = tuple(r for r in self.unrouted if r.object_type == self.object_type)
        return SyncReport(
            self.object_type,
            tuple(result for report in reports for result in report.results) + own,
            sum(r.requests_sent for r in reports),
            max((r.seconds for r in reports), default=0.0),
            customers=_merged_customers(customers),
            reconciliation=merge_reconciliations(reconciliations) if reconciliations else None,
        )


@dataclass(frozen=True)
class AccountsPlan:
    """A plan across accounts, and the records no account would take."""

    accounts: tuple[tuple[str, Plan], ...]
    """(account, its plan), in the configured order."""
    unrouted: tuple[QuarantinedRecord, ...] = ()


class AccountSyncs:
    """One run's syncs across the configured accounts (or `only` some of them)."""

    def __init__(
        self,
        *,
        routing: AccountRouting,
        ledger: Ledger,
        open_sink: SinkOpener,
        engine: EngineFactory,
        run_id: str,
        partition_key: str | None,
        only: Sequence[str] | None = None,
        record_unrouted: bool = True,
    ) -> None:
        self.routing = routing
        self.ledger = ledger
        self.accounts = routing.select(only) if only is not None else routing.accounts
        self._open_sink = open_sink
        self._engine = engine
        self.run_id = run_id
        self.partition_key = partition_key
        self.records_unrouted = record_unrouted
        """Whether this run quarantines the records no account takes (one run of several may)."""

    # ---------------------------------------------------------------------------------------- syncs

    def sync_customers(self, records: Iterable[JdeCustomer | QuarantinedRecord]) -> AccountsReport:
        routed = self.route_customers(records)
        reports = self._each(routed, lambda engine, mine: _synced(engine, engine.sync_customers(mine)))
        return AccountsReport("customer", _reports(reports), self._quarantine_unrouted(routed.unrouted))

    def sync_invoices(
        self,
        records: Iterable[JdeInvoice | QuarantinedRecord],
        *,
        fetch_customers: CustomerFetch,
        day_customers: Sequence[JdeCustomer | QuarantinedRecord] = (),
    ) -> AccountsReport:
        """Each account's invoices; its lane also writes the new customers of `day_customers` routed to
        it (`SyncEngine.sync_invoices`)."""
        routed = route_invoices(records, self.routing)
        customers = self.route_customers(day_customers) if day_customers else None
        reports = self._each(
            routed,
            lambda engine, mine: _synced(
                engine,
                engine.sync_invoices(
                    mine,
                    fetch_customers=fetch_customers,
                    day_customers=customers.of(engine.ledger.account) if customers else (),
                ),
            ),
        )
        return AccountsReport("invoice", _reports(reports), self._quarantine_unrouted(routed.unrouted))

    def plan_customers(self, records: Iterable[JdeCustomer | QuarantinedRecord]) -> AccountsPlan:
        routed = self.route_customers(records)
        return AccountsPlan(
            tuple(self._each(routed, lambda e, mine: e.plan_customers(mine))), routed.unrouted
        )

    def plan_invoices(self, records: Iterable[JdeInvoice | QuarantinedRecord]) -> AccountsPlan:
        routed = route_invoices(records, self.routing)
        return AccountsPlan(tuple(self._each(routed, lambda e, mine: e.plan_invoices(mine))), routed.unrouted)

    def reconcile_invoices(self, records: Iterable[JdeInvoice]) -> list[tuple[str, ReconciliationReport]]:
        """Each account's invoices of `records` compared with what its Stripe holds."""
        return self.for_invoices(records, lambda engine, mine: engine.reconcile_invoices(mine))

    def for_invoices(
        self, records: Iterable[JdeInvoice], work: Callable[[SyncEngine, list[JdeInvoice]], U]
    ) -> list[tuple[str, U]]:
        """`work` on each account's engine (its sink, its ledger view) with that account's invoices."""
        routed = route_invoices(records, self.routing)
        return self._each(
            routed, lambda engine, mine: work(engine, [r for r in mine if isinstance(r, JdeInvoice)])
        )

    def route_customers(
        self, records: Iterable[JdeCustomer | QuarantinedRecord]
    ) -> Routed[JdeCustomer | QuarantinedRecord]:
        """Customers by account: their company's, and those that already have them (one ledger read)."""
        records = list(records)
        if not self.routing.routed:
            return route_customers(records, self.routing, {})
        keys = [r.record_key if isinstance(r, QuarantinedRecord) else str(r.an8) for r in records]
        return route_customers(records, self.routing, self.ledger.accounts_of("customer", keys))

    # -------------------------------------------------------------------------------------- helpers

    def _each(self, routed: Routed[T], work: Callable[[SyncEngine, list[T]], U]) -> list[tuple[str, U]]:
        """`work` on each selected account's engine with its records, the accounts side by side."""
        wanted = [a for a in self.accounts if routed.of(a.name) or not self.routing.routed]

        def one(account: StripeAccount) -> U:
            with self._open_sink(account) as sink:
                engine = self._engine(sink, self.ledger.for_account(account.name))
                return work(engine, list(routed.of(account.name)))

        if len(wanted) <= 1:
            return [(account.name, one(account)) for account in wanted]
        with ThreadPoolExecutor(max_workers=len(wanted), thread_name_prefix="stripe-account") as pool:
            futures = [pool.submit(one, account) for account in wanted]
        for future in futures:
            error = future.exception()
            if error is not None:
                raise error
        return [(account.name, future.result()) for account, future in zip(wanted, futures, strict=True)]

    def _quarantine_unrouted(self, records: Sequence[QuarantinedRecord]) -> tuple[RecordResult, ...]:
        """Record each record no account takes under `UNROUTED` (its reason names company and variable)."""
        if not records or not self.records_unrouted:
            return ()
        ledger = self.ledger.for_account(UNROUTED)
        results = []
        for record in records:
            ledger.record_outcome(
                RecordOutcome.quarantined(record, run_id=self.run_id, partition_key=self.partition_key)
            )
            reason = f"{record.field}: {record.reason}"
            results.append(
                RecordResult(
                    record.kind, record.record_key, "quarantined", "quarantine", None, reason, 0, None
                )
            )
        return tuple(results)


Synced = tuple[SyncReport, Mapping[str, StripeState], MetricsSnapshot]


def _synced(engine: SyncEngine, report: SyncReport) -> Synced:
    """An account's sync report, what its engine got from Stripe, and what Stripe's limits cost its sink."""
    return report, engine.seen_states(), engine.stripe.metrics()


def _reports(pairs: Iterable[tuple[str, Synced]]) -> tuple[AccountReport, ...]:
    return tuple(AccountReport(name, report, states, stripe) for name, (report, states, stripe) in pairs)


def _with_customers(report: SyncReport) -> list[RecordResult]:
    first = list(report.customers.results) if report.customers is not None else []
    return first + list(report.results)


def merge_reconciliations(reports: Sequence[ReconciliationReport]) -> ReconciliationReport:
    """Several accounts' reconciliations as one (each invoice lives in one account)."""
    return ReconciliationReport(
        tuple(item for report in reports for item in report.invoices),
        tuple(item for report in reports for item in report.conflicts),
        tuple(skip for report in reports for skip in report.skipped),
        sum(report.requests_sent for report in reports),
    )


def _merged_customers(reports: Sequence[SyncReport]) -> SyncReport | None:
    """The customers each account's invoice sync created first, as one report."""
    if not reports:
        return None
    return SyncReport(
        "customer",
        tuple(result for report in reports for result in report.results),
        sum(report.requests_sent for report in reports),
        max((report.seconds for report in reports), default=0.0),
    )


def merge_month_ends(reports: Sequence[ArReconciliation]) -> ArReconciliation:
    """Several accounts' month-end tables (A/R profile) as one, by JDE document."""
    if len(reports) == 1:
        return reports[0]
    rows = sorted((row for report in reports for row in report.rows), key=lambda row: row.jde_key)
    return ArReconciliation(
        tuple(rows),
        tuple(skip for report in reports for skip in report.skipped),
        sum(report.requests_sent for report in reports),
    )
