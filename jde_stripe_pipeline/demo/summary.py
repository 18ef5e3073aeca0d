"""The demo's printed summary: plain data in, text out (no I/O here)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT, UNROUTED
from jde_stripe_pipeline.mapping import from_minor_units


@dataclass(frozen=True)
class CheckResult:
    """One asset check evaluation of one partition run."""

    asset: str
    name: str
    passed: bool
    severity: str
    """`ERROR` or `WARN`: a failed WARN check means a person should look, not that the sync is wrong."""


@dataclass(frozen=True)
class PartitionRun:
    """One Dagster run of the sync job for one partition."""

    partition_key: str
    run_id: str
    success: bool
    seconds: float
    checks: tuple[CheckResult, ...] = ()
    failures: tuple[str, ...] = ()
    """`step: message` of each failed step."""

    @property
    def reconciliation_passed(self) -> bool:
        """The run succeeded and every ERROR-severity check passed (WARN checks report, they do not fail)."""
        return self.success and all(c.passed for c in self.checks if c.severity == "ERROR")


@dataclass(frozen=True)
class Problem:
    """A record a person must look at: quarantined, failed or in conflict."""

    object_type: str
    record_key: str
    state: str
    reason: str
    account: str = ""
    """The Stripe account it belongs to (`-`: its JDE company is routed to none)."""


@dataclass(frozen=True)
class StripeInvoice:
    """A Stripe invoice as the demo reports it (read from the emulator)."""

    stripe_id: str
    status: str
    currency: str
    total: int
    """Minor units."""
    lines: int


@dataclass(frozen=True)
class AccountHoldings:
    """What one emulated Stripe account holds after the demo's syncs."""

    name: str
    companies: tuple[str, ...]
    emulator_account: str
    customers: int
    invoices: tuple[StripeInvoice, ...]


@dataclass(frozen=True)
class SyncRound:
    """One sync over some partitions, with what the ledger recorded per outcome."""

    title: str
    runs: tuple[PartitionRun, ...]
    customer_outcomes: Mapping[str, int]
    invoice_outcomes: Mapping[str, int]
    stripe_writes: Mapping[str, int] = field(default_factory=dict)
    """Write requests (POST/DELETE) the emulator logged during the round, per `METHOD /v1/kind[/…/verb]`."""
    account_outcomes: Mapping[str, Mapping[str, Mapping[str, int]]] = field(default_factory=dict)
    """Stripe account → object type → outcome → records (shown when there are several accounts)."""

    @property
    def seconds(self) -> float:
        return sum(run.seconds for run in self.runs)

    @property
    def reconciliation_passed(self) -> bool:
        return bool(self.runs) and all(run.reconciliation_passed for run in self.runs)


@dataclass(frozen=True)
class JdeChange:
    """One edit the demo made in JDE, and the record the pipeline should move because of it."""

    object_type: str
    record_key: str
    description: str


@dataclass(frozen=True)
class DemoReport:
    seeded: str
    first: SyncRound
    stripe_customers: int
    stripe_invoices: tuple[StripeInvoice, ...]
    problems: tuple[Problem, ...]
    ledger_location: str
    audit_example: str
    changes: tuple[JdeChange, ...] = ()
    second: SyncRound | None = None
    moved: tuple[tuple[str, str], ...] = ()
    """(object_type, record_key) of every record the second round created, updated or deleted."""
    holdings: tuple[AccountHoldings, ...] = ()
    """What each Stripe account holds (several accounts: shown one by one)."""

    @property
    def only_changes_moved(self) -> bool:
        return {(c.object_type, c.record_key) for c in self.changes} == set(self.moved)

    @property
    def passed(self) -> bool:
        rounds = [self.first] if self.second is None else [self.first, self.second]
        return all(r.reconciliation_passed for r in rounds)


MOVING_OUTCOMES = frozenset({"created", "updated", "repaired", "deleted"})


def write_request_kind(method: str, path: str) -> str:
    """`POST /v1/invoices/in_1/add_lines` -> `POST /v1/invoices/{id}/add_lines` (ids hidden: counts group)."""
    parts = path.split("?")[0].strip("/").split("/")
    shown = [part if index < 2 or index == 3 else "{id}" for index, part in enumerate(parts)]
    return f"{method} /" + "/".join(shown)


def count_writes(log: Iterable[Mapping[str, object]]) -> dict[str, int]:
    """Write requests of an emulator request log that Stripe answered (status < 400), by kind."""
    kinds = Counter(
        write_request_kind(str(entry["method"]), str(entry["path"]))
        for entry in log
        if entry["method"] in ("POST", "DELETE") and 0 < int(str(entry["status"])) < 400
    )
    return dict(sorted(kinds.items()))


def money(minor: int, currency: str) -> str:
    amount = from_minor_units(minor, currency)
    return f"{currency.upper()} {amount:,}"


def totals_per_currency(invoices: Iterable[StripeInvoice]) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for invoice in invoices:
        totals[invoice.currency] += invoice.total
    return dict(sorted(totals.items()))


def _outcomes(counts: Mapping[str, int]) -> str:
    shown = [f"{outcome} {count}" for outcome, count in sorted(counts.items()) if count]
    return ", ".join(shown) or "nothing"


def _checks_line(runs: Sequence[PartitionRun]) -> list[str]:
    tally: dict[tuple[str, str, str], list[int]] = {}
    for run in runs:
        for check in run.checks:
            passed_failed = tally.setdefault((check.asset, check.name, check.severity), [0, 0])
            passed_failed[0 if check.passed else 1] += 1
    lines = []
    for (asset, name, severity), (passed, failed) in sorted(tally.items()):
        verdict = f"passed {passed}/{passed + failed}"
        if failed:
            verdict += f", {'FAILED' if severity == 'ERROR' else 'warned'} {failed}"
        lines.append(f"    {asset}.{name}: {verdict}")
    return lines


def _round(round_: SyncRound) -> list[str]:
    runs = round_.runs
    lines = [
        f"{round_.title}: {len(runs)} run(s), {round_.seconds:.1f}s of Dagster runs",
        f"  customers: {_outcomes(round_.customer_outcomes)}",
        f"  invoices:  {_outcomes(round_.invoice_outcomes)}",
    ]
    if len(round_.account_outcomes) > 1:
        for account, kinds in round_.account_outcomes.items():
            shown = "; ".join(f"{kind}s {_outcomes(counts)}" for kind, counts in kinds.items())
            lines.append(f"    {_account_label(account)}: {shown}")
    failed_runs = [run for run in runs if not run.success]
    for run in failed_runs:
        lines.append(f"  run {run.run_id} (partition {run.partition_key}) FAILED: {'; '.join(run.failures)}")
    lines.append(f"  reconciliation: {'PASSED' if round_.reconciliation_passed else 'FAILED'}")
    lines += _checks_line(runs)
    if round_.stripe_writes:
        total = sum(round_.stripe_writes.values())
        lines.append(f"  Stripe write requests: {total}")
        lines += [f"    {count:4d}  {kind}" for kind, count in round_.stripe_writes.items()]
    return lines


def format_report(report: DemoReport) -> str:
    """The summary a person reads at the end of `jde-stripe demo`."""
    invoices = report.stripe_invoices
    lines = [f"== JDE -> Stripe demo: {report.seeded} ==", ""]
    lines += _round(report.first)
    if len(report.holdings) > 1:
        for held in report.holdings:
            title = (
                f"Stripe account {held.name} (JDE companies {', '.join(held.companies)}; emulator "
                f"{held.emulator_account}) now holds:"
            )
            lines += ["", *_holdings(title, held.customers, held.invoices)]
    else:
        lines += ["", *_holdings("Stripe now holds:", report.stripe_customers, invoices)]
    lines += ["", f"Needs a person ({len(report.problems)} record(s) quarantined, failed or in conflict):"]
    lines += [
        f"  {p.object_type} {p.record_key}{_in(p.account)} [{p.state}]: {p.reason}" for p in report.problems
    ] or ["  none"]
    lines += ["", "Audit trail:", f"  ledger: {report.ledger_location}", f"  try:    {report.audit_example}"]
    if report.changes:
        lines += ["", "Changed in JDE through the AIS sandbox admin API:"]
        lines += [f"  {c.object_type} {c.record_key}: {c.description}" for c in report.changes]
    if report.second is not None:
        lines += ["", *_round(report.second)]
        moved = ", ".join(f"{kind} {key}" for kind, key in report.moved) or "nothing"
        verdict = (
            "only the changed records moved" if report.only_changes_moved else "UNEXPECTED records moved"
        )
        lines.append(f"  moved: {moved} ({verdict})")
    lines += ["", f"Result: {'PASSED' if report.passed else 'FAILED'} (reconciliation of every run)"]
    return "\n".join(lines)


def _holdings(title: str, customers: int, invoices: Sequence[StripeInvoice]) -> list[str]:
    lines = [
        title,
        f"  customers: {customers}",
        f"  invoices:  {len(invoices)} ({_outcomes(Counter(i.status for i in invoices))}), "
        f"{sum(i.lines for i in invoices)} lines",
        "  totals per currency:",
    ]
    return lines + [
        f"    {money(total, currency)}" for currency, total in totals_per_currency(invoices).items()
    ]


def _account_label(account: str) -> str:
    return "routed nowhere" if account == UNROUTED else f"account {account}"


def _in(account: str) -> str:
    return f" ({_account_label(account)})" if account and account != DEFAULT_ACCOUNT else ""
