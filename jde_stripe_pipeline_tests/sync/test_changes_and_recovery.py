"""Changed JDE invoices re-sync alone; a lost state database re-links; a half-done invoice converges."""

from __future__ import annotations

from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline_tests.sync.changes import change_invoices
from jde_stripe_pipeline_tests.sync.conftest import World, assert_stripe_matches_jde, expected_requests


def test_a_tenth_of_the_invoices_changed_touches_only_those(world: World) -> None:
    _, first = world.sync()
    created = sorted(r.record_key for r in first.results if r.outcome == "created")
    changed = created[:: max(1, len(created) // max(1, len(created) // 10))][: max(3, len(created) // 10)]
    change_invoices(world, changed)
    stripe_ids = {r.record_key: r.stripe_id for r in first.results}
    world.emulator.clear_requests_log()
    engine = world.engine()

    customers, invoices = world.sync(engine)

    assert customers.requests_sent == 0
    by_outcome = {r.record_key: r.outcome for r in invoices.results}
    assert sorted(k for k, outcome in by_outcome.items() if outcome == "updated") == sorted(changed)
    assert all(by_outcome[k] in ("unchanged", "quarantined") for k in by_outcome if k not in changed)
    touched = {w["path"].split("/")[3] for w in world.writes()}
    assert touched == {stripe_ids[k] for k in changed}
    for result in invoices.results:
        if result.outcome == "updated":
            # the retrieve, at most one line operation, and one line listing when the draft has more
            # lines than a retrieve embeds (10); no header update for JDE's version stamp alone
            lines = [result.detail[n] for n in ("lines_added", "lines_updated", "lines_removed")]
            assert sum(map(len, lines)) <= 1, result
            assert result.detail["fields"] == [], result
            assert result.requests - (1 + sum(map(len, lines))) in (0, 1), result
    assert invoices.stripe_matches_jde
    assert invoices.reconciliation is not None
    assert {i.record_key for i in invoices.reconciliation.invoices} == set(changed)
    assert_stripe_matches_jde(world)

    # the reconciliation step reuses what the sync read and got back: it reads only the others, once
    world.emulator.clear_requests_log()
    report = engine.reconcile_invoices(world.good_invoices())
    assert report.stripe_matches_jde
    read = {e["path"].split("/")[3] for e in world.emulator.requests_log() if e["method"] == "GET"}
    assert read.isdisjoint(stripe_ids[k] for k in changed)
    assert read == {stripe_ids[k] for k in stripe_ids if k not in changed and stripe_ids[k]}


def test_with_the_state_database_lost_every_object_is_relinked_and_none_created(world: World) -> None:
    world.sync()
    world.ledger_path.unlink()
    world.emulator.clear_requests_log()

    customers, invoices = world.sync()

    assert world.writes() == []
    assert {(r.outcome, r.action) for r in customers.results} == {("unchanged", "relink")}
    assert {(r.outcome, r.action) for r in invoices.results if r.outcome != "quarantined"} <= {
        ("unchanged", "relink"),
        ("deleted", "nothing"),
    }
    listings = [e for e in world.emulator.requests_log() if e["path"] in ("/v1/customers", "/v1/invoices")]
    assert len(listings) == 2  # one listing pass per object type, not one lookup per record
    expected_customers, expected_invoices, _ = expected_requests(world)
    ledger = Ledger.open(world.ledger_url)
    try:
        assert len(ledger.all_mappings("customer")) == len(expected_customers)
        assert len(ledger.all_mappings("invoice")) == len(expected_invoices)
    finally:
        ledger.close()
    assert_stripe_matches_jde(world)


def test_a_draft_left_half_done_by_a_crash_is_completed_from_its_actual_lines(world: World) -> None:
    """As if a run died after creating the draft and before add_lines (and before the ledger row)."""
    world.sync()
    _, invoices, _ = expected_requests(world)
    key, request = next((k, r) for k, r in invoices.items() if len(r.lines) >= 3)
    sink = world.sink()
    old = next(i for i in world.stripe_invoices() if i["number"] == request.number)
    sink.delete_invoice(old["id"], idempotency_key="test-delete-1")
    customer = next(
        c for c in world.stripe_customers() if c["metadata"]["jde_an8"] == str(request.customer_an8)
    )
    draft = sink.create_invoice(
        request.with_customer(customer["id"]).params(), idempotency_key="test-crash-create"
    ).object
    sink.add_invoice_lines(  # one right line, one wrong amount, one line JDE never had
        draft["id"],
        {
            "lines": [
                request.lines[0].params(),
                {**request.lines[1].params(), "amount": request.lines[1].amount + 5},
                {**request.lines[2].params(), "metadata": {"jde_lnid": "999.000"}},
            ]
        },
        idempotency_key="test-crash-lines",
    )
    world.ledger_path.unlink()
    world.emulator.clear_requests_log()

    _, report = world.sync()

    result = report.result(key)
    assert (result.outcome, result.action, result.stripe_id) == ("updated", "relink", draft["id"])
    assert result.detail["lines_removed"] and result.detail["lines_updated"] == [request.lines[1].lnid]
    assert set(result.detail["lines_added"]) == {line.lnid for line in request.lines[2:]}
    assert_stripe_matches_jde(world)
    assert {w["path"].split("/")[3] for w in world.writes()} == {draft["id"]}


def test_a_jde_edit_stripe_cannot_see_costs_no_request(world: World) -> None:
    """A credit limit, or a header touched without a change, moves JDE's stamp but nothing Stripe holds:
    the change detector ignores the stamp, so nothing is sent and Stripe keeps the last synced version."""
    first_customers, first_invoices = world.sync()
    created = {r.record_key for r in first_customers.results if r.outcome == "created"}
    customer_row = next(r for r in world.sandbox.rows("F03012") if str(r["AN8"]) in created)
    invoice_key = next(r.record_key for r in first_invoices.results if r.outcome == "created")
    kcoo, doco, dcto, sfxo = invoice_key.split("/")
    world.upsert("F03012", [{"AN8": customer_row["AN8"], "CO": customer_row["CO"], "ACL": 987654}])
    world.upsert("F4301", [{"KCOO": kcoo, "DOCO": int(doco), "DCTO": dcto, "SFXO": sfxo}])
    world.emulator.clear_requests_log()

    customers, invoices = world.sync()

    assert customers.result(str(customer_row["AN8"])).outcome == "unchanged"
    assert invoices.result(invoice_key).outcome == "unchanged"
    assert customers.requests_sent == 0 and invoices.requests_sent == 0
    assert world.writes() == []
