"""Finalized invoices, a person's lines, cancelled documents, a 400, quarantine, the replay gap."""

from __future__ import annotations

import stripe

from jde_stripe_pipeline.jde.read import fetch_customers
from jde_stripe_pipeline.sandboxes.stripe_emulator import DEFAULT_API_KEY
from jde_stripe_pipeline.sync.stripe_state import EMBEDDED_LINES
from jde_stripe_pipeline_tests.sync.changes import add_line, cancel_every_line, reprice_first_line
from jde_stripe_pipeline_tests.sync.conftest import AS_OF, World, assert_stripe_matches_jde, expected_requests


def _sdk(world: World) -> stripe.StripeClient:
    return stripe.StripeClient(
        DEFAULT_API_KEY, base_addresses={"api": world.stripe_url}, max_network_retries=0
    )


def _created(world: World) -> dict[str, str]:
    _, invoices = world.sync()
    return {r.record_key: r.stripe_id for r in invoices.results if r.outcome == "created" and r.stripe_id}


def test_a_finalized_invoice_changed_in_jde_is_a_conflict_and_left_untouched(world: World) -> None:
    created = _created(world)
    key, invoice_id = sorted(created.items())[0]
    _sdk(world).v1.invoices.finalize_invoice(invoice_id)
    before = world.sink().retrieve_invoice(invoice_id).object
    reprice_first_line(world, key)
    world.emulator.clear_requests_log()

    _, report = world.sync()

    result = report.result(key)
    assert (result.outcome, result.action, result.stripe_id) == ("conflict", "conflict", invoice_id)
    assert result.reason is not None and "open" in result.reason and key in result.reason
    # a draft of 10 lines or more is read by its lines alone: Stripe refusing its line update (400,
    # invoice_not_editable) is how the sync learns it is no longer a draft; nothing was changed
    _, requests, _ = expected_requests(world)
    refused = [("POST", f"/v1/invoices/{invoice_id}/update_lines", 400)]
    long_draft = len(getattr(requests[key], "lines", ())) >= EMBEDDED_LINES
    assert [(w["method"], w["path"], w["status"]) for w in world.writes()] == (refused if long_draft else [])
    assert not report.stripe_matches_jde  # loud: the step or its check can fail on it
    assert report.reconciliation is not None
    assert [i.record_key for i in report.reconciliation.mismatched()] == [key]
    assert world.sink().retrieve_invoice(invoice_id).object == before
    reconciliation = world.engine().reconcile_invoices(world.good_invoices())
    assert [c.record_key for c in reconciliation.conflicts] == [key]
    assert reconciliation.conflicts[0].mismatches == ("total",)


def test_a_line_a_person_added_is_left_alone_and_reported(world: World) -> None:
    created = _created(world)
    key, invoice_id = sorted(created.items())[1]
    person_line = {"amount": 1234, "description": "Freight agreed by phone", "metadata": {"note": "x"}}
    world.sink().add_invoice_lines(invoice_id, {"lines": [person_line]}, idempotency_key="person-1")
    add_line(world, key)

    _, report = world.sync()

    result = report.result(key)
    assert result.outcome == "updated" and len(result.detail["lines_added"]) == 1
    reported = result.detail["person_added_lines"]
    assert [line["description"] for line in reported] == ["Freight agreed by phone"]
    descriptions = [line["description"] for line in world.stripe_lines(invoice_id)]
    assert "Freight agreed by phone" in descriptions
    jde = [r for r in world.good_invoices() if str(r.key) == key]
    item = world.engine().reconcile_invoices(jde).invoices[0]
    assert item.matches and [line["amount"] for line in item.person_added_lines] == [1234]


def test_an_invoice_whose_lines_are_all_cancelled_has_its_draft_deleted(world: World) -> None:
    created = _created(world)
    key, invoice_id = sorted(created.items())[2]
    cancel_every_line(world, key)

    _, report = world.sync()

    result = report.result(key)
    assert (result.outcome, result.action, result.stripe_id) == ("deleted", "delete", invoice_id)
    assert invoice_id not in {i["id"] for i in world.stripe_invoices()}
    assert_stripe_matches_jde(world)
    _, again = world.sync()
    assert (again.result(key).outcome, again.result(key).requests) == ("deleted", 0)


def test_a_rejected_request_fails_that_record_only_with_stripes_message(world: World) -> None:
    _customers, invoices, _ = expected_requests(world)
    key, request = sorted(invoices.items())[0]
    sdk = _sdk(world)
    squatter = sdk.v1.customers.create(params={"name": "Someone else"})
    sdk.v1.invoices.create(
        params={"customer": squatter.id, "number": str(request.number), "auto_advance": False}
    )

    _, report = world.sync()

    result = report.result(key)
    assert result.outcome == "failed"
    assert result.reason is not None and "already in use" in result.reason and key in result.reason
    assert report.counts()["created"] == len(invoices) - 1
    assert_stripe_matches_jde(world, ignore_invoices={key})
    assert [e.record_key for e in world.ledger().failed_for_replay(["2026-11-26"])] == [key]


def test_bad_records_are_quarantined_and_the_batch_goes_on(world: World) -> None:
    _, invoices, _ = expected_requests(world)
    bad = sorted(invoices)[3]
    kcoo, doco, dcto, sfxo = bad.split("/")
    world.upsert("F4301", [{"KCOO": kcoo, "DOCO": int(doco), "DCTO": dcto, "SFXO": sfxo, "PTC": "ZZ9"}])
    _, report = world.sync()
    result = report.result(bad)
    assert result.outcome == "quarantined" and result.requests == 0
    assert result.reason is not None and "F4301.PTC" in result.reason and "ZZ9" in result.reason
    quarantined = [r for r in report.results if r.outcome == "quarantined"]
    assert report.counts()["created"] == len(invoices) - 1
    open_items = world.ledger().open_quarantine(object_type="invoice")
    assert {q.record_key for q in open_items} == {r.record_key for r in quarantined}
    assert_stripe_matches_jde(world)


def test_the_same_content_created_again_after_a_delete_is_not_answered_by_the_old_replay(
    world: World,
) -> None:
    """Cancel every line (draft deleted), then restore the very same content within Stripe's 24 h key
    memory: the create key of the first draft would replay a deleted invoice."""
    world.sync()
    records = [r for r in world.invoices() if hasattr(r, "lines") and len(r.lines) >= 1]
    original = records[0]
    cancelled = original.model_copy(
        update={"lines": tuple(line.model_copy(update={"last_status": "980"}) for line in original.lines)}
    )
    engine = world.engine()
    with world.session() as session:
        fetch = lambda an8s: fetch_customers(session, an8s, as_of=AS_OF)  # noqa: E731
        first = engine.sync_invoices([cancelled], fetch_customers=fetch).results[0]
        again = world.engine().sync_invoices([original], fetch_customers=fetch).results[0]
    assert first.outcome == "deleted"
    assert again.outcome == "created" and again.stripe_id != first.stripe_id
    assert again.stripe_id in {i["id"] for i in world.stripe_invoices()}
    assert_stripe_matches_jde(world)


def test_plan_shows_what_a_sync_would_do_and_writes_nothing(world: World) -> None:
    engine = world.engine()
    plan = engine.plan_invoices(world.invoices())
    customers_plan = engine.plan_customers(world.customers())
    assert world.writes() == [] and world.ledger().all_mappings("customer") == []
    _, invoices, _ = expected_requests(world)
    assert plan.counts()["create"] == len(invoices)
    assert customers_plan.counts() == {"create": len(world.customers())}
    world.sync()
    key = sorted(invoices)[0]
    reprice_first_line(world, key)
    world.emulator.clear_requests_log()
    plan = world.engine().plan_invoices(world.invoices())
    assert world.writes() == []
    change = plan.change(key)
    assert change.action == "converge" and change.detail["lines_updated"]
    assert plan.counts()["nothing"] == len(invoices) - 1


def test_an_invoice_of_a_quarantined_customer_is_quarantined_not_failed(world: World) -> None:
    """A blank customer name is a data problem no retry fixes: the invoice is quarantined naming the
    customer and its field (a `failed` outcome would make the Stripe step retry and fail the run), and
    `plan` shows the same."""
    an8 = world.good_invoices()[0].an8
    world.upsert("F0101", [{"AN8": an8, "ALPH": " "}])
    _, report = world.sync()
    blocked = [r for r in report.results if r.outcome == "quarantined"]
    assert blocked and report.counts().get("failed", 0) == 0
    for result in blocked:
        assert result.reason is not None and f"customer AN8 {an8}" in result.reason
        assert "F0101.ALPH" in result.reason
    assert report.counts()["created"] == len(report.results) - len(blocked)
    assert_stripe_matches_jde(world, ignore_invoices={r.record_key for r in blocked})
    open_items = {q.record_key: q for q in world.ledger().open_quarantine(object_type="invoice")}
    assert {r.record_key for r in blocked} <= set(open_items)

    plan = world.engine().plan_invoices(world.invoices())
    for result in blocked:
        change = plan.change(result.record_key)
        assert (change.action, change.outcome, change.reason) == ("quarantine", "quarantined", result.reason)

    # Stripe is not expected to hold them: the reconciliation skips them, naming why, rather than
    # counting them missing (its check blocks the run).
    reconciliation = world.engine().reconcile_invoices(world.good_invoices())
    assert reconciliation.mismatched() == []
    skipped = {line.split(":")[0] for line in reconciliation.skipped}
    assert {r.record_key for r in blocked} <= skipped


def test_a_step_retry_of_the_same_run_is_no_new_quarantine_sighting(world: World) -> None:
    """Dagster retries a failed step under the same run id: the quarantine is seen once per run."""
    _, invoices, _ = expected_requests(world)
    bad = sorted(invoices)[3]
    kcoo, doco, dcto, sfxo = bad.split("/")
    world.upsert("F4301", [{"KCOO": kcoo, "DOCO": int(doco), "DCTO": dcto, "SFXO": sfxo, "PTC": "ZZ9"}])
    for _ in range(3):  # the step, then two retries of it
        world.sync(world.engine(run_id="dagster-run-1"))
    (entry,) = [q for q in world.ledger().open_quarantine(object_type="invoice") if q.record_key == bad]
    assert entry.count == 1
    world.sync()  # another run sees it again
    (entry,) = [q for q in world.ledger().open_quarantine(object_type="invoice") if q.record_key == bad]
    assert entry.count == 2
