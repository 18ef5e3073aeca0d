"""What every asset step shares: the extract hand-over, retries with backoff, progress and problem logs,
and the per-partition problems check.

Retries: a Stripe step with failed records (or with Stripe or the ledger unreachable) records what it
did, then asks Dagster to re-run it (`RetryRequested`) after `delay * 2**retry` seconds, up to
`step_retries` times (StripeResource fields). The engine is idempotent, so a re-run re-sends only
what is still missing: what succeeded is `unchanged` and costs no Stripe write. After the cap the
step fails with the failed records in its metadata; `jde-stripe replay --partition P` (or re-running
the partition) re-sends them later. An extract step is retried the same way when AIS is unreachable.
Other errors (a bug, bad configuration) fail at once: retrying them would only delay the message.
RetryRequested rather than a static RetryPolicy so that the backoff is configuration (tests use 0 s).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import dagster as dg

from jde_stripe_pipeline.jde.errors import AisUnavailableError
from jde_stripe_pipeline.jde.records import JdeCustomer, JdeInvoice, QuarantinedRecord
from jde_stripe_pipeline.jde.session_values import SessionStats
from jde_stripe_pipeline.jde.window import UpdateWindow
from jde_stripe_pipeline.ledger import Ledger, LedgerUnavailableError, ObjectType
from jde_stripe_pipeline.orchestration.account_partitions import run_partition
from jde_stripe_pipeline.orchestration.names import EXTRACTED_AT
from jde_stripe_pipeline.orchestration.partitions import local_window
from jde_stripe_pipeline.orchestration.report_metadata import Link, Metadata, problems_markdown, sync_metadata
from jde_stripe_pipeline.orchestration.resources import StripeResource
from jde_stripe_pipeline.stripe_sink import StripeUnavailable
from jde_stripe_pipeline.sync import RecordResult, SyncReport
from jde_stripe_pipeline.sync.accounts import AccountsReport
from jde_stripe_pipeline.sync.decision import StripeState
from jde_stripe_pipeline.sync.results import InvoiceReconciliation

JDE_RETRIES = 3
JDE_RETRY_DELAY_SECONDS = 10.0
STEP_GC_THRESHOLDS = (10_000, 20, 10)
"""`gc.set_threshold` while a step runs (Python's default: 700, 10, 10): young collections ~14 × rarer, so
fewer objects outlive enough of them to reach the full collections (`frozen_heap`)."""
LOGGED_PROBLEMS = 50
"""Problems named one by one in the run log; the rest are counted (all are in the metadata)."""

Extracted = JdeCustomer | JdeInvoice | QuarantinedRecord


@dataclass(frozen=True)
class JdeExtract:
    """What an extract asset hands on: the records, the window and when the extract began (UTC).

    `customers`: for invoices, the current JDE state of every customer they name, so the Stripe step
    can create a missing customer without opening an AIS session of its own."""

    records: tuple[Extracted, ...]
    window: UpdateWindow
    started_at: datetime
    customers: tuple[JdeCustomer | QuarantinedRecord, ...] = ()

    def customers_of(self, an8s: Iterable[int]) -> list[JdeCustomer | QuarantinedRecord]:
        """The handed-over customers with these AN8s (the engine's customer fetch)."""
        wanted = {str(an8) for an8 in an8s}
        return [c for c in self.customers if _record_key(c) in wanted]


def _record_key(record: JdeCustomer | QuarantinedRecord) -> str:
    return record.record_key if isinstance(record, QuarantinedRecord) else str(record.an8)


@dataclass(frozen=True)
class RunStates:
    """What a Stripe step's engines learned of Stripe, per Stripe account and record, handed to the
    reconciliation step of the same run so it reads only the invoices this run did not touch and
    compares only those it did not already compare (issue 10). Another run's are never used: Stripe
    may have changed since.

    An invoice the sync compared with JDE is handed over as that comparison, not as Stripe's state:
    Dagster pickles this value between the steps, and a first load's 2,000 invoices of up to 60 lines
    made a value the reconciliation step took ~3 s to load before it mapped and compared them again."""

    run_id: str
    states: Mapping[str, Mapping[str, StripeState]]
    """Stripe account → record key → state, for the records not in `compared`."""
    compared: Mapping[str, Mapping[str, InvoiceReconciliation]] = field(default_factory=dict)
    """Stripe account → record key → the sync's comparison of that invoice with JDE."""

    @classmethod
    def of(cls, run_id: str, report: AccountsReport) -> RunStates:
        compared = {a.account: {i.record_key: i for i in _compared(a.report)} for a in report.accounts}
        states = {
            a.account: {k: s for k, s in a.states.items() if k not in compared[a.account]}
            for a in report.accounts
        }
        return cls(run_id, states, compared)

    def of_run(self, run_id: str, account: str) -> Mapping[str, StripeState]:
        return self.states.get(account, {}) if run_id == self.run_id else {}

    def compared_of_run(self, run_id: str, account: str) -> Mapping[str, InvoiceReconciliation]:
        return self.compared.get(account, {}) if run_id == self.run_id else {}


def _compared(report: SyncReport) -> tuple[InvoiceReconciliation, ...]:
    return report.reconciliation.invoices if report.reconciliation is not None else ()


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


def partition_window(context: dg.AssetExecutionContext, timezone: str) -> UpdateWindow:
    bounds = local_window(context.partition_time_window, timezone)
    return UpdateWindow(bounds.start, bounds.end)


def extract_metadata(extract: JdeExtract, ais: SessionStats) -> Metadata:
    """The extract's records and window, and what reading them cost at AIS (`ais`: the step's session):
    a 444 renewed, a 5xx retried or a paged read resumed shows here, not only in the run log."""
    quarantined = [r for r in extract.records if isinstance(r, QuarantinedRecord)]
    metadata: Metadata = {
        "records": len(extract.records) - len(quarantined),
        "quarantined_at_extract": len(quarantined),
        "window": f"[{extract.window.start.isoformat()}, {extract.window.end.isoformat()}) JDE local",
        EXTRACTED_AT: dg.MetadataValue.timestamp(extract.started_at),
        "ais_requests": ais.requests,
        "ais_rows": ais.rows,
        "ais_retries": ais.retries,
        "ais_token_renewals": ais.reauthentications,
        "ais_resumed_reads": ais.resumed_reads,
        "ais_expired_result_sets": ais.expired_result_sets,
    }
    if extract.customers:
        metadata["customers_handed_over"] = len(extract.customers)
    return metadata


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the garbage collector off what is alive when a step starts (Dagster, the definitions, the
    step's inputs) and collect less often while it runs; both as they were when the step ends.

    Why: a collection stops every thread of the step, and a full one walks the whole heap. In a first
    load (live, 300 ms, 1,000 customers, 2,000 invoices) the Stripe step spent 2.9 s in collections
    (five full ones, up to 0.38 s each) while Stripe's answers waited unread and no request left;
    frozen, with `STEP_GC_THRESHOLDS`, 0.6 s. Frozen objects are still freed by reference counting;
    only cycles among them wait for the step's end. Process-wide, like any interpreter setting: the
    step owns its process while it runs (Dagster's default executor gives each step its own)."""
    thresholds = gc.get_threshold()
    frozen_before = gc.get_freeze_count() > 0  # the process froze its own heap: not ours to thaw
    gc.freeze()
    gc.set_threshold(*STEP_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if not frozen_before:
            gc.unfreeze()


@contextmanager
def jde_retries(context: dg.AssetExecutionContext) -> Iterator[None]:
    try:
        yield
    except AisUnavailableError as error:
        raise retry_or_fail(
            context, retries=JDE_RETRIES, delay_seconds=JDE_RETRY_DELAY_SECONDS, message=f"AIS: {error}"
        ) from error


@contextmanager
def stripe_retries(context: dg.AssetExecutionContext, stripe: StripeResource) -> Iterator[None]:
    try:
        yield
    except (StripeUnavailable, LedgerUnavailableError) as error:
        raise retry_or_fail(
            context,
            retries=stripe.step_retries,
            delay_seconds=stripe.step_retry_delay_seconds,
            message=f"{type(error).__name__}: {error}",
        ) from error


def log_problems(log: dg.DagsterLogManager, problems: Sequence[RecordResult]) -> None:
    """A WARNING per failed, quarantined or conflicting record, naming it and the reason (capped)."""
    for result in problems[:LOGGED_PROBLEMS]:
        log.warning(f"{result.object_type} {result.record_key} {result.outcome}: {result.reason or ''}")
    if len(problems) > LOGGED_PROBLEMS:
        log.warning(f"... and {len(problems) - LOGGED_PROBLEMS} more problem record(s): see the metadata")


def problems_check(
    ledger: Ledger,
    partition_key: str,
    object_type: ObjectType,
    check_name: str,
    report: SyncReport,
    link: Link,
    accounts: Sequence[str] | None = None,
) -> dg.AssetCheckResult:
    """The partition's open quarantine and unreplayed failures in the ledger (across runs; of these
    Stripe accounts, default the ledger's own), and this run's conflicts. Failures are ERROR; quarantine
    and conflicts WARN (a person must fix the data)."""
    views = [ledger.for_account(name) for name in accounts] if accounts is not None else [ledger]
    quarantined = [
        q for view in views for q in view.open_quarantine([partition_key], object_type=object_type)
    ]
    failed = [f for view in views for f in view.failed_for_replay([partition_key], object_type=object_type)]
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
    link: Link,
    check_name: str,
    handed: RunStates,
    *,
    accounts: Sequence[str] | None = None,
    account_metadata: Metadata | None = None,
) -> dg.MaterializeResult:
    """Metadata, a WARNING per problem record, then retry (failed records) or the problems check; the
    step's value is what the engines learned of Stripe, for the reconciliation step. `report`: every
    account's, combined; `accounts`: the ledger accounts the check looks at; `account_metadata`: each
    account's figures (a routed site) and what Stripe's limits cost."""
    metadata = sync_metadata(report, run_id=context.run.run_id, link=link) | (account_metadata or {})
    day = run_partition(context)[0]
    metadata[EXTRACTED_AT] = dg.MetadataValue.timestamp(extract.started_at)
    problems = list(report.problems())
    if report.customers is not None:
        problems = list(report.customers.problems()) + problems
    log_problems(context.log, problems)
    if report.object_type == "invoice":
        metadata["stripe_matches_jde"] = report.stripe_matches_jde
        if not report.stripe_matches_jde:
            context.log.error(
                f"after the sync of {context.partition_key}, Stripe does not equal JDE for some invoice it "
                "touched: see billing_reconciliation"
            )
    failed = sum(1 for result in problems if result.outcome == "failed")
    if failed:
        message = f"{failed} record(s) failed in the {report.object_type} sync of {context.partition_key}"
        raise retry_or_fail(
            context,
            retries=stripe.step_retries,
            delay_seconds=stripe.step_retry_delay_seconds,
            message=message,
            metadata=metadata,
        )
    check = problems_check(ledger, day, report.object_type, check_name, report, link, accounts)
    return dg.MaterializeResult(metadata=metadata, check_results=[check], value=handed)
