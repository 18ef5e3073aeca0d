"""What the demo reads back after its syncs: from the ledger, over every Stripe account it routes to
(and the records routed nowhere), the outcomes per run, open problems, which records moved and which
are synced; from the emulator, what each Stripe account holds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from jde_stripe_pipeline import runtime
from jde_stripe_pipeline.accounts import UNROUTED
from jde_stripe_pipeline.demo.sandboxes import RunningSandboxes
from jde_stripe_pipeline.demo.summary import (
    MOVING_OUTCOMES,
    AccountHoldings,
    PartitionRun,
    Problem,
    StripeInvoice,
)
from jde_stripe_pipeline.ledger import ObjectType
from jde_stripe_pipeline.settings import Settings

AccountOutcomes = dict[str, dict[str, dict[str, int]]]
"""account → object type → outcome → records."""


def outcomes_by_account(
    runs: Sequence[PartitionRun], accounts: Sequence[str], state_url: str
) -> AccountOutcomes:
    """Each account's records per outcome in these runs (a record counted by its latest outcome)."""
    found: AccountOutcomes = {}
    with runtime.open_ledger(state_url) as ledger:
        for account in [*accounts, UNROUTED]:
            view = ledger.for_account(account)
            for kind in ("customer", "invoice"):
                totals: Counter[str] = Counter()
                for run in runs:
                    totals.update(view.outcome_counts(run.run_id, object_type=kind))
                if totals or account != UNROUTED:
                    found.setdefault(account, {})[kind] = dict(totals)
    return found


def total_outcomes(by_account: AccountOutcomes, kind: str) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for kinds in by_account.values():
        totals.update(kinds.get(kind, {}))
    return dict(totals)


def open_problems(
    partition_keys: Sequence[str], accounts: Sequence[str], state_url: str
) -> tuple[Problem, ...]:
    """Open quarantine (every account, the unrouted too) and records still failed in these partitions."""
    with runtime.open_ledger(state_url) as ledger:
        quarantined = [
            Problem(q.object_type, q.record_key, "quarantined", f"{q.field}: {q.reason}", q.account)
            for q in ledger.open_quarantine(every_account=True)
        ]
        failed = [
            Problem(f.object_type, f.record_key, "failed", f.reason or "", account)
            for account in accounts
            for f in ledger.for_account(account).failed_for_replay(partition_keys)
        ]
    return tuple(quarantined + failed)


def synced_keys(accounts: Iterable[str], kind: ObjectType, state_url: str) -> list[str]:
    """The JDE keys mapped in any of these accounts, in key order."""
    with runtime.open_ledger(state_url) as ledger:
        return sorted({m.jde_key for name in accounts for m in ledger.for_account(name).all_mappings(kind)})


def moved_records(
    run_ids: set[str],
    candidates: Sequence[tuple[str, str]],
    moving: int,
    accounts: Sequence[str],
    state_url: str,
) -> tuple[tuple[str, str], ...]:
    """Which of `candidates` the runs created/updated/deleted in some account; `moving` (the ledger's
    count of such outcomes in the runs, one per record and account) beyond those shows up as unknown
    records, so nothing moved goes unreported."""
    moved: list[tuple[str, str]] = []
    moves = 0
    with runtime.open_ledger(state_url) as ledger:
        for object_type, key in candidates:
            history = ledger.history(key, object_type=object_type, every_account=True)  # type: ignore[arg-type]
            where = {e.account for e in history if e.run_id in run_ids and e.outcome in MOVING_OUTCOMES}
            if where & set(accounts):
                moved.append((object_type, key))
                moves += len(where & set(accounts))
    extra = moving - moves
    if extra > 0:
        moved.append(("other", f"{extra} record(s) not changed by the demo"))
    return tuple(moved)


def stripe_invoices(sandboxes: RunningSandboxes, account: str | None = None) -> tuple[StripeInvoice, ...]:
    """What Stripe (the emulator) holds now (in one emulated account, or all), as its dashboard shows it."""
    lines = Counter(item.get("invoice") for item in sandboxes.stripe.objects("invoiceitem", account))
    return tuple(
        StripeInvoice(inv["id"], inv["status"], inv["currency"], int(inv["total"]), lines[inv["id"]])
        for inv in sandboxes.stripe.objects("invoice", account)
    )


def holdings(settings: Settings, sandboxes: RunningSandboxes) -> tuple[AccountHoldings, ...]:
    """What each routed Stripe account holds, read from its emulated account."""
    found = []
    for account in settings.accounts.accounts:
        emulated = sandboxes.emulator_account(account.name)
        customers = len(sandboxes.stripe.objects("customer", emulated))
        invoices = stripe_invoices(sandboxes, emulated)
        found.append(AccountHoldings(account.name, account.companies, emulated, customers, invoices))
    return tuple(found)
