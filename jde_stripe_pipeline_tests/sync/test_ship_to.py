"""`JDE_STRIPE_SHIP_TO_SOURCE=ship_to` end to end: the Stripe customer's `shipping` is the ship-to of
its latest JDE sales order shipping elsewhere (read from the sandbox's tables directly to compare)."""

from __future__ import annotations

from typing import Any

from jde_stripe_pipeline.jde.read import extract_customers, fetch_customers
from jde_stripe_pipeline.jde.records import JdeAddress
from jde_stripe_pipeline.mapping import CustomerMappingConfig
from jde_stripe_pipeline.sync import SyncEngine
from jde_stripe_pipeline_tests.jde.support import expected_customers, expected_ship_tos
from jde_stripe_pipeline_tests.sync.conftest import AS_OF, EVERYTHING, INVOICE_CONFIG, World


def _engine(world: World, source: str, run: int) -> SyncEngine:
    return SyncEngine(
        stripe=world.sink(),
        ledger=world.ledger(),
        customer_config=CustomerMappingConfig(ship_to_source=source),  # type: ignore[arg-type]
        invoice_config=INVOICE_CONFIG,
        run_id=f"ship-to-{run}",
        partition_key="2026-11-26",
        workers=4,
    )


def _stripe_address(address: JdeAddress) -> dict[str, Any]:
    lines = list(address.lines)
    return {
        "line1": lines[0] if lines else None,
        "line2": ", ".join(lines[1:]) or None,
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
        "country": address.country,
    }


def _shipping_by_an8(world: World) -> dict[int, dict[str, Any]]:
    return {int(c["metadata"]["jde_an8"]): c["shipping"] for c in world.stripe_customers()}


def test_stripe_shipping_is_the_jde_ship_to_and_switching_source_updates_only_those(world: World) -> None:
    ship_tos = expected_ship_tos(world.sandbox, AS_OF)
    own = {c.an8: c for c in expected_customers(world.sandbox, EVERYTHING.start, EVERYTHING.end, AS_OF)}
    assert 3 <= len(ship_tos) < len(own)

    with world.session() as session:
        first = _engine(world, "customer", 1).sync_customers(
            extract_customers(session, EVERYTHING, as_of=AS_OF)
        )
    assert first.counts() == {"created": len(own)}
    for an8, shipping in _shipping_by_an8(world).items():
        assert shipping["name"] == own[an8].name

    with world.session() as session:
        records = extract_customers(session, EVERYTHING, as_of=AS_OF, ship_to_source="ship_to")
        second = _engine(world, "ship_to", 2).sync_customers(records)
    assert second.counts() == {"updated": len(ship_tos), "unchanged": len(own) - len(ship_tos)}
    assert {int(r.record_key) for r in second.results if r.outcome == "updated"} == set(ship_tos)
    for an8, shipping in _shipping_by_an8(world).items():
        if an8 in ship_tos:
            _, party = ship_tos[an8]
            assert party.address is not None and party.an8 != an8
            assert shipping["name"] == party.name, an8
            assert shipping["address"] == _stripe_address(party.address), an8
        else:
            assert shipping["name"] == own[an8].name, an8
            assert own[an8].address is not None
            assert shipping["address"] == _stripe_address(own[an8].address), an8


def test_customers_an_invoice_needs_are_fetched_with_their_ship_to(world: World) -> None:
    ship_tos = expected_ship_tos(world.sandbox, AS_OF)
    engine = _engine(world, "ship_to", 1)
    with world.session() as session:
        report = engine.sync_invoices(
            world.invoices(),
            fetch_customers=lambda an8s: fetch_customers(
                session, an8s, as_of=AS_OF, ship_to_source="ship_to"
            ),
        )
    assert report.customers is not None and report.customers.results
    fetched = {int(r.record_key) for r in report.customers.results if r.outcome == "created"}
    shipping = _shipping_by_an8(world)
    with_ship_to = fetched & set(ship_tos)
    assert with_ship_to  # sanity: some customer of an invoice ships elsewhere
    for an8 in with_ship_to:
        assert shipping[an8]["name"] == ship_tos[an8][1].name
