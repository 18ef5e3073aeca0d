"""A first sync makes Stripe equal JDE; a second one with no JDE change writes nothing."""

from __future__ import annotations

from collections import Counter

from jde_stripe_pipeline_tests.sync.conftest import World, assert_stripe_matches_jde, expected_requests


def test_first_sync_makes_stripe_equal_jde_and_a_rerun_writes_nothing(world: World) -> None:
    customers, invoices = world.sync()
    expected_customers, expected_invoices, _ = expected_requests(world)
    assert customers.counts() == {"created": len(expected_customers)}
    assert invoices.counts().get("created") == len(expected_invoices)
    assert set(invoices.counts()) <= {"created", "quarantined", "deleted"}
    assert {r.requests for r in customers.results} == {1}
    assert {r.requests for r in invoices.results if r.outcome == "created"} == {2}  # create + add_lines
    assert_stripe_matches_jde(world)
    # the sync compared what it wrote with JDE from Stripe's own answers, without a read
    assert invoices.reconciliation is not None and invoices.stripe_matches_jde
    checked = {item.record_key for item in invoices.reconciliation.invoices}
    assert checked >= {r.record_key for r in invoices.results if r.outcome == "created"}
    assert [e for e in world.emulator.requests_log() if e["endpoint"] == "GET /v1/invoices/{id}"] == []
    writes_before = len(world.writes())
    assert writes_before == customers.requests_sent - 1 + sum(
        r.requests for r in invoices.results
    )  # minus the customer listing pass

    again_customers, again_invoices = world.sync()
    assert len(world.writes()) == writes_before
    assert again_customers.counts() == {"unchanged": len(expected_customers)}
    assert again_invoices.counts()["unchanged"] == len(expected_invoices)
    assert all(r.requests == 0 for r in again_customers.results + again_invoices.results)
    assert again_customers.requests_sent == 0
    assert again_invoices.requests_sent == 0
    ledger = world.ledger()
    assert ledger.outcome_counts("run-2", object_type="customer") == {"unchanged": len(expected_customers)}


def test_invoices_sync_their_missing_customers_first(world: World) -> None:
    engine = world.engine()
    with world.session() as session:
        from jde_stripe_pipeline.jde.read import fetch_customers

        report = engine.sync_invoices(
            world.invoices(), fetch_customers=lambda an8s: fetch_customers(session, an8s)
        )
    assert report.customers is not None
    assert Counter(r.outcome for r in report.customers.results) == {"created": len(report.customers.results)}
    assert report.counts().get("failed") is None
    needed = {r.record_key.split("/")[0] for r in report.results}
    assert needed  # sanity: there were invoices
    stripe_an8s = [c["metadata"]["jde_an8"] for c in world.stripe_customers()]
    assert len(stripe_an8s) == len(set(stripe_an8s)) == len(report.customers.results)
