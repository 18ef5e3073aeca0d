"""`plan` then `sync` over the same states: the writes the plan printed are the writes Stripe receives.

Through the real SDK and `StripeSink` against the emulator, whose request log is the witness. Per
record, in order, method + path + idempotency key (a path naming `{created#1}` is the id the
create got, read from the sync's result). The emulator, like Stripe, keeps no idempotency record for
DELETE and logs no key for it: a delete is compared by method and path.

Reads differ only as documented in `sync/engine.py`: the plan retrieves each mapped customer whose
content changed (GET /v1/customers/{id}) to show the fields; the sync updates it blind. The plan
retrieves each changed draft of 10 lines or more too (GET /v1/invoices/{id}); the sync reads its
line listing alone and learns its header from its line calls' answer (`sync/converge.py`). (A create
answered by a replay of a deleted object, the other documented difference, does not occur here.)
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections import Counter
from typing import Any
from urllib.parse import unquote

import stripe

from jde_stripe_pipeline.sandboxes.stripe_emulator import DEFAULT_API_KEY
from jde_stripe_pipeline.sync import Plan, SyncReport, render_plan
from jde_stripe_pipeline.sync.render import OPERATION_INDENT
from jde_stripe_pipeline_tests.sync.changes import add_line, cancel_every_line, reprice_first_line
from jde_stripe_pipeline_tests.sync.conftest import World, assert_stripe_matches_jde, expected_requests

Write = tuple[str, str, str | None]
Record = tuple[str, str]


def _printed_writes(text: str) -> dict[Record, list[Write]]:
    """(kind, record key) → the operations the rendered plan lists under that record's line."""
    planned: dict[Record, list[Write]] = {}
    current: Record | None = None
    for line in text.splitlines():
        if line.startswith(("customer ", "invoice ")):
            kind, key = line.split()[:2]
            current = (kind, key)
        elif line.startswith(OPERATION_INDENT) and current is not None:
            _number, verb, path, key = line.split()
            planned.setdefault(current, []).append((verb, path, key))
    return planned


def _plan(world: World) -> tuple[Plan, Plan, dict[Record, list[Write]]]:
    world.emulator.clear_requests_log()
    engine = world.engine()
    customers = engine.plan_customers(world.customers())
    invoices = engine.plan_invoices(world.invoices())
    assert world.writes() == []  # a plan never writes
    return customers, invoices, _printed_writes(render_plan(customers) + "\n" + render_plan(invoices))


def _expected(planned: dict[Record, list[Write]], synced: dict[Record, Any]) -> dict[Record, list[Write]]:
    """The printed writes with `{created#1}` filled in and DELETE's key dropped (see above)."""
    expected: dict[Record, list[Write]] = {}
    for record, operations in planned.items():
        created = str(synced[record].stripe_id)
        expected[record] = [
            (verb, path.replace("{created#1}", created), key if verb != "DELETE" else None)
            for verb, path, key in operations
        ]
    return expected


def _received(world: World, planned: dict[Record, list[Write]]) -> dict[Record, list[Write]]:
    """Each write the emulator received, by the record its idempotency key names (a DELETE by path)."""
    deletes = {path: record for record, ops in planned.items() for verb, path, _ in ops if verb == "DELETE"}
    received: dict[Record, list[Write]] = {}
    for entry in world.writes():
        key = entry["idempotency_key"]
        if entry["method"] == "DELETE":
            record = deletes[entry["path"]]
        else:
            prefix, kind, escaped, *_ = str(key).split(":")
            assert prefix == "jde-stripe", key
            record = (kind, unquote(escaped.replace("~", "%")))
        received.setdefault(record, []).append((entry["method"], entry["path"], key))
    return received


def _reads(world: World) -> Counter[tuple[str, str]]:
    return Counter((e["method"], e["path"]) for e in world.emulator.requests_log() if e["method"] == "GET")


def _plan_then_sync(world: World) -> tuple[tuple[SyncReport, SyncReport], dict[Record, list[Write]]]:
    customers_plan, invoices_plan, printed = _plan(world)
    plan_reads = _reads(world)
    world.emulator.clear_requests_log()
    reports = world.sync()
    synced = {(r.object_type, r.record_key): r for report in reports for r in report.results}
    assert _received(world, printed) == _expected(printed, synced)
    for change in (*customers_plan.changes, *invoices_plan.changes):
        result = synced[(change.object_type, change.record_key)]
        assert (change.outcome, change.action) == (result.outcome, result.action), change
        assert change.stripe_id in (None, result.stripe_id), change
    changed_customers = {
        ("GET", f"/v1/customers/{c.stripe_id}") for c in customers_plan.changes if c.action == "update"
    }
    sync_reads = _reads(world)
    by_lines = {  # drafts the sync read by their line listing alone, the plan by a retrieve
        path.removesuffix("/lines")
        for _, path in sync_reads
        if path.endswith("/lines") and ("GET", path.removesuffix("/lines")) not in sync_reads
    }
    retrieves = Counter(("GET", path) for path in by_lines)
    assert plan_reads - sync_reads == Counter(changed_customers) + retrieves  # the documented plan-only reads
    listings = Counter(("GET", f"{path}/lines") for path in by_lines)
    assert sync_reads - plan_reads == listings - plan_reads  # a listing the plan's retrieve made needless
    return reports, printed


def _sdk(world: World) -> stripe.StripeClient:
    return stripe.StripeClient(
        DEFAULT_API_KEY, base_addresses={"api": world.stripe_url}, max_network_retries=0
    )


def _forget_mapping(world: World, key: str) -> None:
    with contextlib.closing(sqlite3.connect(world.ledger_path)) as db, db:
        deleted = db.execute(
            "DELETE FROM jde_stripe_mapping WHERE object_type = 'invoice' AND jde_key = ?", (key,)
        ).rowcount
    assert deleted == 1


def test_the_writes_a_plan_prints_are_the_writes_the_sync_sends(world: World) -> None:
    # new customers and invoices: 1 write per customer, 2 per invoice
    (customers, invoices), printed = _plan_then_sync(world)
    created = sorted(r.record_key for r in invoices.results if r.outcome == "created")
    assert {len(printed[("customer", r.record_key)]) for r in customers.results} == {1}
    assert {len(printed[("invoice", key)]) for key in created} == {2}
    assert_stripe_matches_jde(world)

    # unchanged: nothing planned, nothing sent
    _, printed = _plan_then_sync(world)
    assert printed == {}

    # changed lines, a person's line, a draft deleted in Stripe (then changed in JDE), a finalized
    # invoice, a lost mapping (with and without a JDE change), every line cancelled, a renamed customer
    repriced, person, deleted, finalized, lost, lost_changed, cancelled = created[:7]
    ids = {r.record_key: str(r.stripe_id) for r in invoices.results}
    reprice_first_line(world, repriced)
    sink = world.sink()
    person_line = {"amount": 1234, "description": "Freight agreed by phone", "metadata": {"note": "x"}}
    sink.add_invoice_lines(ids[person], {"lines": [person_line]}, idempotency_key="person-line-1")
    add_line(world, person)
    sink.delete_invoice(ids[deleted], idempotency_key="person-delete-1")
    reprice_first_line(world, deleted)  # an unchanged record is not looked at in Stripe
    _sdk(world).v1.invoices.finalize_invoice(ids[finalized])
    reprice_first_line(world, finalized)
    _forget_mapping(world, lost)
    _forget_mapping(world, lost_changed)
    reprice_first_line(world, lost_changed)
    cancel_every_line(world, cancelled)
    # an invoice shipping to the renamed party carries its name (shipping_details): it changes too;
    # the renamed customer is one that none of the invoices changed above ships to
    ship_tos = {str(r.key): str(r.ship_to.an8) for r in world.good_invoices() if r.ship_to is not None}
    renamed = next(
        r.record_key for r in customers.results if r.record_key not in {ship_tos.get(k) for k in created[:7]}
    )
    ships_to_renamed = {key for key, an8 in ship_tos.items() if an8 == renamed}
    world.upsert("F0101", [{"AN8": int(renamed), "ALPH": "Renamed In JDE"}])

    (customers, invoices), printed = _plan_then_sync(world)

    def verbs(kind: str, key: str) -> list[tuple[str, str]]:
        return [(verb, path.split("/")[-1]) for verb, path, _ in printed.get((kind, key), [])]

    assert verbs("invoice", repriced) == [("POST", "update_lines")]  # no header write for the stamp
    assert verbs("invoice", person) == [("POST", "add_lines")]
    assert invoices.result(person).detail["person_added_lines"][0]["amount"] == 1234
    assert verbs("invoice", deleted) == [("POST", "invoices"), ("POST", "add_lines")]
    assert invoices.result(deleted).stripe_id != ids[deleted]
    assert verbs("invoice", finalized) == [] and invoices.result(finalized).outcome == "conflict"
    assert verbs("invoice", lost) == [] and invoices.result(lost).action == "relink"
    assert verbs("invoice", lost_changed) == [("POST", "update_lines")]
    assert verbs("invoice", cancelled) == [("DELETE", ids[cancelled])]
    assert verbs("customer", renamed) == [("POST", customers.result(renamed).stripe_id)]
    touched = {repriced, person, deleted, lost_changed, cancelled}
    others = set(printed) - {("invoice", k) for k in touched}
    renamed_ship_tos = {("invoice", k) for k in ships_to_renamed}
    assert others == {("customer", renamed)} | renamed_ship_tos
    for _, key in renamed_ship_tos:
        assert verbs("invoice", key) == [("POST", ids[key])]  # a header update, no line change
    lines = world.stripe_lines(ids[person])
    assert "Freight agreed by phone" in [line["description"] for line in lines]
    jde_lines = sorted(line["metadata"]["jde_lnid"] for line in lines if "jde_lnid" in line["metadata"])
    assert jde_lines == sorted(line.lnid for line in expected_requests(world)[1][person].lines)
    assert_stripe_matches_jde(world, ignore_invoices={finalized, person})  # (those hold a person's edits)
