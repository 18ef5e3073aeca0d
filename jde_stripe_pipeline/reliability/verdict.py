"""The invariant, checked against the servers: Stripe's stored objects against JDE's truth, record by
record, and every record's final outcome in the ledger's own tables.

- **duplicates**: Stripe objects beyond the first for one JDE record (customers by `jde_an8`, drafts by
  `jde_kcoo/doco/dcto/sfxo`);
- **lost**: a JDE record Stripe should hold and does not, or whose last outcome in the ledger is
  `failed` or missing (not finished), or a record to quarantine that the ledger never quarantined;
- **wrong amounts**: a draft whose lines (by `jde_lnid`), currency or total differ from JDE's to the
  minor unit, a line twice included;
- **other**: everything else that is wrong (a draft JDE does not bill, a quarantine naming another
  field than the one at fault, a mapping pointing at another object, two outcomes in one run, a
  customer of the wrong name).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, select

from jde_stripe_pipeline.ledger.schema import audit, mapping, quarantine
from jde_stripe_pipeline.reliability.truth import CustomerTruth, InvoiceTruth, Truth, lnid_text

MAPPED = {"created", "updated", "unchanged"}
UNFINISHED = {"failed", "deferred"}
"""Outcomes that leave a record for a later run: after the healed reruns, none may be left."""
PROBLEMS_KEPT = 12


@dataclass
class Verdict:
    """What one reliability scenario left wrong in Stripe, counted by kind, with a few examples."""

    records: int = 0
    duplicates: int = 0
    lost: int = 0
    wrong_amounts: int = 0
    other: int = 0
    problems: list[str] = field(default_factory=list)
    quarantined: int = 0
    """Records rightly quarantined (each with its field): shown, not a failure."""

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.lost or self.wrong_amounts or self.other)

    def note(self, kind: str, text: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.problems) < PROBLEMS_KEPT:
            self.problems.append(f"{kind.replace('_', ' ')}: {text}")


@dataclass(frozen=True)
class LedgerView:
    """The ledger's tables as they are: latest outcome per record, mappings, open quarantine."""

    final: dict[tuple[str, str], dict[str, Any]]
    outcomes_in_run: dict[tuple[str, str], set[str]]
    mappings: dict[tuple[str, str], str]
    open_quarantine: dict[tuple[str, str], dict[str, Any]]

    @classmethod
    def read(cls, url: str, last_run_id: str | None) -> LedgerView:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                final: dict[tuple[str, str], dict[str, Any]] = {}
                in_run: dict[tuple[str, str], set[str]] = defaultdict(set)
                for row in conn.execute(select(audit).order_by(audit.c.id)).mappings():
                    key = (row["object_type"], row["record_key"])
                    final[key] = dict(row)
                    if row["run_id"] == last_run_id:
                        in_run[key].add(row["outcome"])
                mappings = {
                    (row.object_type, row.jde_key): row.stripe_id for row in conn.execute(select(mapping))
                }
                open_rows = conn.execute(select(quarantine).where(quarantine.c.resolved_at.is_(None)))
                opened = {(row["object_type"], row["record_key"]): dict(row) for row in open_rows.mappings()}
        finally:
            engine.dispose()
        return cls(final, dict(in_run), mappings, opened)


def judge(truth: Truth, stripe: dict[str, list[dict[str, Any]]], ledger: LedgerView) -> Verdict:
    """Compare Stripe's objects (`customer`, `invoice`, `invoiceitem` lists) and the ledger with JDE."""
    verdict = Verdict(records=truth.records)
    customers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for customer in stripe["customer"]:
        if not customer.get("deleted") and "jde_an8" in (customer.get("metadata") or {}):
            customers[customer["metadata"]["jde_an8"]].append(customer)
    invoices: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for invoice in stripe["invoice"]:
        meta = invoice.get("metadata") or {}
        if "jde_kcoo" in meta:
            key = f"{meta['jde_kcoo']}/{meta['jde_doco']}/{meta['jde_dcto']}/{meta['jde_sfxo']}"
            invoices[key].append(invoice)
    items: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in stripe["invoiceitem"]:
        if item.get("invoice"):
            items[item["invoice"]].append(item)
    customer_ids: dict[int, str] = {}
    for an8, expected in truth.customers.items():
        found = customers.pop(str(an8), [])
        if found:
            customer_ids[an8] = found[0]["id"]
        _customer(verdict, expected, found, ledger)
    for extra_an8, extra in customers.items():
        ids = [c["id"] for c in extra]
        verdict.note("other", f"Stripe holds customer(s) {ids} for AN8 {extra_an8} JDE lacks")
    for key, expected_invoice in truth.invoices.items():
        _invoice(verdict, expected_invoice, invoices.pop(key, []), items, customer_ids, ledger)
    for key, extra in invoices.items():
        verdict.note("other", f"Stripe holds draft(s) {[i['id'] for i in extra]} for {key} JDE lacks")
    _one_outcome_per_run(verdict, ledger)
    return verdict


def _finished(
    verdict: Verdict,
    kind: str,
    key: str,
    ledger: LedgerView,
    stripe_id: str | None,
    quarantine_of: str | None,
) -> None:
    """The record's last outcome is final and agrees with Stripe (or with the expected quarantine)."""
    last = ledger.final.get((kind, key))
    if last is None or last["outcome"] in UNFINISHED:
        reason = (
            "no outcome"
            if last is None
            else f"last outcome {last['outcome']}: {(last['reason'] or '')[:160]}"
        )
        verdict.note("lost", f"{kind} {key}: {reason}")
        return
    if quarantine_of is not None:
        entry = ledger.open_quarantine.get((kind, key))
        if last["outcome"] != "quarantined" or entry is None:
            verdict.note(
                "lost", f"{kind} {key}: expected quarantined ({quarantine_of}), ledger says {last['outcome']}"
            )
        elif quarantine_of != "?" and quarantine_of not in (entry["field"], *_named_in(entry["reason"])):
            verdict.note(
                "other",
                f"{kind} {key}: quarantined on {entry['field']} ({entry['reason'][:120]}),"
                f" expected {quarantine_of}",
            )
        else:
            verdict.quarantined += 1
        return
    if stripe_id is not None and ledger.mappings.get((kind, key)) != stripe_id:
        verdict.note(
            "other", f"{kind} {key}: ledger maps {ledger.mappings.get((kind, key))}, Stripe has {stripe_id}"
        )
    if stripe_id is not None and last["outcome"] not in MAPPED:
        verdict.note("other", f"{kind} {key}: in Stripe as {stripe_id} but last outcome {last['outcome']}")


def _named_in(reason: str) -> list[str]:
    """The `TABLE.ALIAS` fields a reason names (an invoice blocked by its customer names the
    customer's field in its reason, its own field being the link to the customer)."""
    return re.findall(r"\bF[0-9A-Z]+\.[A-Z0-9]+\b", reason or "")


def _customer(
    verdict: Verdict, expected: CustomerTruth, found: list[dict[str, Any]], ledger: LedgerView
) -> None:
    key = str(expected.an8)
    if len(found) > 1:
        for extra in found[1:]:
            verdict.note("duplicates", f"customer {key}: {found[0]['id']} and {extra['id']}")
    if expected.state == "synced":
        if not found:
            verdict.note("lost", f"customer {key} is not in Stripe")
            return
        if found[0].get("name") != expected.name:
            verdict.note(
                "other", f"customer {key}: Stripe name {found[0].get('name')!r}, JDE {expected.name!r}"
            )
        _finished(verdict, "customer", key, ledger, found[0]["id"], None)
    elif expected.state == "quarantined":
        if found:
            verdict.note(
                "other", f"customer {key} should be quarantined ({expected.blamed}) but is {found[0]['id']}"
            )
        _finished(verdict, "customer", key, ledger, None, expected.blamed or "?")
    else:
        last = ledger.final.get(("customer", key))
        if found:
            _finished(verdict, "customer", key, ledger, found[0]["id"], None)
        elif last is not None and last["outcome"] == "quarantined":
            verdict.quarantined += 1
        else:
            verdict.note("lost", f"customer {key}: neither in Stripe nor quarantined")


def _invoice(
    verdict: Verdict,
    expected: InvoiceTruth,
    found: list[dict[str, Any]],
    items: dict[str, list[dict[str, Any]]],
    customer_ids: dict[int, str],
    ledger: LedgerView,
) -> None:
    key = expected.key
    if len(found) > 1:
        for extra in found[1:]:
            verdict.note("duplicates", f"invoice {key}: {found[0]['id']} and {extra['id']}")
    if expected.state in ("absent", "quarantined"):
        if found:
            verdict.note(
                "other", f"invoice {key} should have no draft ({expected.state}) but has {found[0]['id']}"
            )
        blamed = (expected.blamed or "?") if expected.state == "quarantined" else None
        _finished(verdict, "invoice", key, ledger, None, blamed)
        return
    if not found:
        last = ledger.final.get(("invoice", key))
        if expected.state == "either" and last is not None and last["outcome"] == "quarantined":
            verdict.quarantined += 1
        else:
            said = "no outcome" if last is None else f"{last['outcome']}: {(last['reason'] or '')[:160]}"
            verdict.note("lost", f"invoice {key} is not in Stripe (ledger: {said})")
        return
    draft = found[0]
    if expected.state == "billed":
        _amounts(verdict, expected, draft, items.get(draft["id"], []))
        an8 = expected.customer_an8
        if an8 is not None and draft.get("customer") != customer_ids.get(an8):
            verdict.note(
                "other",
                f"invoice {key}: customer {draft.get('customer')}, AN8 {an8} is {customer_ids.get(an8)}",
            )
    _finished(verdict, "invoice", key, ledger, draft["id"], None)


def _amounts(
    verdict: Verdict, expected: InvoiceTruth, draft: dict[str, Any], lines: list[dict[str, Any]]
) -> None:
    got = Counter(
        (lnid_text(ln["metadata"]["jde_lnid"]), ln["amount"])
        for ln in lines
        if ln.get("metadata", {}).get("jde_lnid")
    )
    want = Counter(expected.lines.items())
    problems = []
    if got != want:
        doubled = sorted(lnid for (lnid, _), n in got.items() if n > 1)
        problems.append(
            f"lines differ (missing {sorted(want - got)[:3]}, extra {sorted(got - want)[:3]}"
            + (f", doubled {doubled[:3]}" if doubled else "")
            + ")"
        )
    if (draft.get("currency") or "").upper() != (expected.currency or "").upper():
        problems.append(f"currency {draft.get('currency')} vs {expected.currency}")
    if draft.get("total") != sum(expected.lines.values()):
        problems.append(f"total {draft.get('total')} vs {sum(expected.lines.values())}")
    if problems:
        verdict.note("wrong_amounts", f"invoice {expected.key} ({draft['id']}): {'; '.join(problems)}")


def _one_outcome_per_run(verdict: Verdict, ledger: LedgerView) -> None:
    """One outcome per record and run; an `unchanged` beside it is no second outcome: the invoice
    step creates a missing customer, then the customer step finds it as it is (`ledger.outcome_counts`
    counts it the same way)."""
    for (kind, key), outcomes in ledger.outcomes_in_run.items():
        if len(outcomes - {"unchanged"}) > 1:
            verdict.note("other", f"{kind} {key}: {sorted(outcomes)} in the same run")
