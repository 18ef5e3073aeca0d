"""`JDE_INVOICE_SOURCE=ar_invoice` over loopback (AIS sandbox → engine → Stripe emulator, real SDK):
posted invoices as drafts with JDE's number, dates, lines, tax and gross; credit memos as credit
notes; voids; reruns that write nothing."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jde_stripe_pipeline.jde.records import JdeInvoice
from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline.stripe_sink import StripeRequestRejected
from jde_stripe_pipeline.sync.ar_reconcile import month_end_csv, month_end_markdown, reconcile_ar
from jde_stripe_pipeline_tests.sync.ar_support import (
    AR_CONFIG,
    CHICAGO,
    ExpectedArInvoice,
    ar_records,
    expected_ar,
    stripe_invoices_by_key,
    sync_ar,
)
from jde_stripe_pipeline_tests.sync.conftest import World, make_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """A smaller world than the order profiles' (every A/R case is still in it): seconds per test."""
    with make_world(tmp_path, customers=8, invoices=16) as built:
        yield built


def _assert_matches(world: World, invoice: dict[str, Any], want: ExpectedArInvoice) -> None:
    key = want.key
    assert invoice["status"] == "draft", key
    got = (invoice["number"], invoice["effective_at"], invoice["due_date"], invoice["currency"])
    assert got == (want.number, want.effective_at, want.due_date, want.currency), key
    assert (invoice["total"], invoice["subtotal"]) == (want.total, want.subtotal), key
    assert sum(t["amount"] for t in invoice["total_taxes"]) == want.tax, key
    lines = world.stripe_lines(invoice["id"]) if invoice["lines"]["has_more"] else invoice["lines"]["data"]
    assert sorted((ln["metadata"]["jde_lnid"], ln["amount"]) for ln in lines) == list(want.lines), key


def _posted(expected: dict[str, ExpectedArInvoice], kind: str = "invoice") -> dict[str, ExpectedArInvoice]:
    return {k: e for k, e in expected.items() if e.kind == kind and e.state == "posted"}


def test_every_posted_invoice_is_one_draft_with_jdes_number_dates_lines_tax_and_gross(world: World) -> None:
    report = sync_ar(world)
    expected = expected_ar(world.sandbox)
    posted = _posted(expected)
    in_stripe = stripe_invoices_by_key(world)
    assert sorted(in_stripe) == sorted(posted)  # no unposted, voided or credit memo among them
    assert {key: len(found) for key, found in in_stripe.items() if len(found) > 1} == {}
    for key, want in posted.items():
        _assert_matches(world, in_stripe[key][0], want)
    covered = {e.currency for e in posted.values()}
    assert {"usd", "jpy", "kwd"} <= covered
    assert any(e.foreign for e in posted.values()) and any(e.pay_items > 1 for e in posted.values())
    assert any(e.state == "unposted" for e in expected.values() if e.kind == "invoice")
    assert any(e.state == "voided" for e in expected.values())
    assert any(not e.lines[0][0].startswith("SFX") for e in posted.values())  # sales lines
    assert any(e.lines[0][0].startswith("SFX") for e in posted.values())  # A/R-only: pay items
    # Credit memos wait: their originals are drafts (the default), or they name none.
    memos = {r.record_key: r for r in report.results if r.record_key in _posted(expected, "credit_memo")}
    assert memos and {r.outcome for r in memos.values()} == {"quarantined"}
    reasons = " | ".join(r.reason or "" for r in memos.values())
    assert "still a draft" in reasons and "no original invoice" in reasons
    assert report.counts().get("failed", 0) == 0 and report.counts().get("conflict", 0) == 0

    world.emulator.clear_requests_log()
    again = sync_ar(world)
    assert world.writes() == []
    assert Counter(r.outcome for r in again.results)["unchanged"] == len(posted)


def _finalize(world: World, invoice_id: str, *, pay: bool = False) -> dict[str, Any]:
    sink = world.sink()
    client = sink.keys.current.sdk  # the sink's own SDK client: a person finalizing in the dashboard
    finalized = client.v1.invoices.finalize_invoice(invoice_id)
    if pay:
        finalized = client.v1.invoices.pay(invoice_id, params={"paid_out_of_band": True})
    return dict(finalized.to_dict())


def test_a_credit_memo_on_a_finalized_invoice_is_one_credit_note_for_its_amount(world: World) -> None:
    sync_ar(world)
    expected = expected_ar(world.sandbox)
    memos = {k: e for k, e in _posted(expected, "credit_memo").items() if e.original}
    in_stripe = stripe_invoices_by_key(world)
    originals = {}
    for index, memo in enumerate(sorted(memos.values(), key=lambda e: e.key)):
        assert memo.original is not None
        originals[memo.key] = _finalize(world, in_stripe[memo.original][0]["id"], pay=index == 1)
    assert len(originals) >= 2  # one open, one paid out of band

    plan = world.engine(invoice_config=AR_CONFIG).plan_invoices(ar_records(world))
    planned = [(op.method, op.idempotency_key) for op in plan.operations()]
    assert [method for method, _ in planned] == ["credit_notes.create"] * len(memos)
    world.emulator.clear_requests_log()
    report = sync_ar(world)
    assert sorted((w["path"], w["idempotency_key"]) for w in world.writes()) == sorted(
        ("/v1/credit_notes", key) for _, key in planned
    )
    sink = world.sink()
    for key, memo in memos.items():
        assert report.result(key).outcome == "created", report.result(key).reason
        notes = list(sink.list_credit_notes(invoice=originals[key]["id"]))
        assert len(notes) == 1, key
        note = notes[0]
        assert (note["amount"], note["total"], note["currency"]) == (-memo.total, -memo.total, memo.currency)
        assert note["total"] - note["subtotal"] == -memo.tax
        assert note["metadata"]["jde_credit_memo"] == key and note["memo"].startswith("JDE credit memo RM")
        if originals[key]["status"] == "paid":
            assert note["out_of_band_amount"] == -memo.total
        else:
            assert sink.retrieve_invoice(originals[key]["id"]).object["amount_remaining"] == (
                originals[key]["amount_remaining"] + memo.total
            )
    world.emulator.clear_requests_log()
    sync_ar(world)
    assert world.writes() == []

    with Ledger.open(world.ledger_url) as ledger:  # a lost ledger: found again by the memo's metadata
        for key in memos:
            ledger.record_outcome(_forget(key))
    world.emulator.clear_requests_log()
    relinked = sync_ar(world)
    assert world.writes() == []
    assert {relinked.result(k).action for k in memos} == {"relink"}


def _forget(key: str) -> Any:
    from jde_stripe_pipeline.ledger import RecordOutcome

    return RecordOutcome(
        run_id="forget",
        partition_key=None,
        object_type="invoice",
        record_key=key,
        action="delete",
        outcome="deleted",
    )


def test_a_memo_on_a_draft_converges_the_draft_when_configured(world: World) -> None:
    from dataclasses import replace

    config = replace(AR_CONFIG, credit_memo_on_draft="converge")
    sync_ar(world, config=config)
    expected = expected_ar(world.sandbox)
    memo = next(e for e in _posted(expected, "credit_memo").values() if e.original)
    assert memo.original is not None
    draft = stripe_invoices_by_key(world)[memo.original][0]
    lines = world.stripe_lines(draft["id"])
    added = [ln for ln in lines if ln["metadata"].get("jde_credit_memo") == memo.key]
    assert added and sum(ln["amount"] for ln in added) == memo.total - memo.tax
    assert (
        world.sink().retrieve_invoice(draft["id"]).object["total"]
        == expected[memo.original].total + memo.total
    )
    world.emulator.clear_requests_log()
    sync_ar(world, config=config)  # the original converges without touching the memo's lines
    assert world.writes() == []


def _void(world: World, key: str) -> None:
    kco, doc, dct, _ = key.split("/")
    for row in world.sandbox.rows("F03B11"):
        if (row["KCO"], str(row["DOC"]), row["DCT"]) == (kco, doc, dct):
            world.upsert(
                "F03B11",
                [
                    {
                        "DOC": row["DOC"],
                        "DCT": dct,
                        "KCO": kco,
                        "SFX": row["SFX"],
                        "AG": "0",
                        "STAM": "0",
                        "ATXA": "0",
                        "ACR": "0",
                        "CTAM": "0",
                        "PST": "P",
                        "POST": "",
                        "ISTR": "1",
                        "VOD": "V",
                        "VDGJ": 126330,
                    }
                ],
            )


def test_a_void_deletes_the_draft_and_a_finalized_one_is_a_conflict_naming_void_in_stripe(
    world: World,
) -> None:
    sync_ar(world)
    posted = sorted(_posted(expected_ar(world.sandbox)))
    drafts = stripe_invoices_by_key(world)
    deleted_key, finalized_key = posted[0], posted[1]
    _finalize(world, drafts[finalized_key][0]["id"])
    _void(world, deleted_key)
    _void(world, finalized_key)
    report = sync_ar(world)
    assert report.result(deleted_key).outcome == "deleted"
    with pytest.raises(StripeRequestRejected):
        world.sink().retrieve_invoice(drafts[deleted_key][0]["id"])
    conflict = report.result(finalized_key)
    assert conflict.outcome == "conflict" and "void in Stripe" in (conflict.reason or "")
    assert world.sink().retrieve_invoice(drafts[finalized_key][0]["id"]).object["status"] == "open"
    world.emulator.clear_requests_log()
    sync_ar(world)
    assert world.writes() == []


def test_month_end_reconciliation_has_zero_differences_and_shows_a_changed_line(world: World) -> None:
    sync_ar(world)
    expected = expected_ar(world.sandbox)
    in_stripe = stripe_invoices_by_key(world)
    memos = _posted(expected, "credit_memo")
    unlinked = next(e for e in memos.values() if e.original is None)
    target = max(
        (e for e in _posted(expected).values() if e.currency == unlinked.currency and not e.foreign),
        key=lambda e: e.total,
    )
    kco, doc, dct, _ = target.key.split("/")
    for row in world.sandbox.rows("F03B11"):
        if f"{row['KCO']}/{row['DOC']}/{row['DCT']}/000" == unlinked.key:  # a person links the memo
            world.upsert("F03B11", [{**_key_of(row), "ODOC": int(doc), "ODCT": dct, "OKCO": kco}])
    for original in {e.original for e in expected_ar(world.sandbox).values() if e.original}:
        assert original is not None
        _finalize(world, in_stripe[original][0]["id"])
    report = sync_ar(world)
    assert report.result(unlinked.key).outcome == "created"

    records = [r for r in ar_records(world) if isinstance(r, JdeInvoice)]
    with Ledger.open(world.ledger_url) as ledger:
        table = reconcile_ar(records, stripe=world.sink(), ledger=ledger, config=AR_CONFIG)
    assert [(row.jde_key, row.mismatches) for row in table.mismatched()] == []
    assert {row.kind for row in table.rows} == {"invoice", "credit_memo", "void"}
    assert len(table.rows) == len(records) and table.skipped == ()
    text = month_end_csv(table, CHICAGO)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == len(records)
    assert {row["difference"] for row in parsed} <= {"0", "0.00", "0.000"}
    preview = month_end_markdown(table, CHICAGO, limit=5)
    assert preview.splitlines()[0].startswith("| jde_document | stripe_id") and "more row(s)" in preview
    invoice_row = next(row for row in parsed if row["jde_document"] == f"{dct} {doc} {kco}")
    assert invoice_row["jde_total"] == invoice_row["stripe_total"] and invoice_row["stripe_status"] == "open"
    assert invoice_row["jde_date"] == invoice_row["stripe_date"] and len(invoice_row["jde_date"]) == 10

    finalized = {e.original for e in expected.values()} | {target.key}
    draft_key = next(k for k in sorted(in_stripe) if k not in finalized)
    draft = in_stripe[draft_key][0]
    line = draft["lines"]["data"][0]
    world.sink().update_invoice_lines(
        draft["id"],
        {"lines": [{"id": line["id"], "amount": line["amount"] + 100}]},
        idempotency_key="person-edit",
    )
    with Ledger.open(world.ledger_url) as ledger:
        table = reconcile_ar(records, stripe=world.sink(), ledger=ledger, config=AR_CONFIG)
    [changed] = table.mismatched()
    assert (changed.jde_key, changed.difference) == (draft_key, 100)
    assert set(changed.mismatches) == {"subtotal", "total"}
    assert f"| {' '.join(reversed(draft_key.split('/')[:3]))} |" in month_end_markdown(
        table, CHICAGO, limit=1
    )


def _key_of(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in ("DOC", "DCT", "KCO", "SFX")}
