"""`JDE_STRIPE_SHIP_TO_SOURCE=ship_to` through the real Dagster assets: the resources built from the
settings root (as the code location builds them) read the customers' ship-tos from AIS rows, and the
Stripe customers carry them."""

from __future__ import annotations

import dagster as dg

from jde_stripe_pipeline.jde.julian import julian_to_date
from jde_stripe_pipeline.orchestration.names import JDE_CUSTOMERS, STRIPE_CUSTOMERS
from jde_stripe_pipeline_tests.jde.support import expected_ship_tos
from jde_stripe_pipeline_tests.orchestration.conftest import SYNC_ASSETS, Pipeline
from jde_stripe_pipeline_tests.sync.conftest import AS_OF


def test_the_assets_send_the_ship_to_read_through_ais(
    pipeline: Pipeline, instance: dg.DagsterInstance
) -> None:
    resources = pipeline.resources(pipeline.settings(JDE_STRIPE_SHIP_TO_SOURCE="ship_to"))
    assert resources["jde"].ship_to_source == resources["mapping"].ship_to_source == "ship_to"
    ship_tos = expected_ship_tos(pipeline.world.sandbox, AS_OF)
    orders = {
        f"{o['KCOO']}/{o['DOCO']}/{o['DCTO']}/{o['SFXO']}": o for o in pipeline.world.sandbox.rows("F4201")
    }
    day = julian_to_date(orders[min(key for key, _ in ship_tos.values())]["UPMJ"])
    assert day is not None
    result = dg.materialize(
        SYNC_ASSETS,
        partition_key=day.isoformat(),
        instance=instance,
        resources=resources,
        selection=[JDE_CUSTOMERS, STRIPE_CUSTOMERS],
    )
    assert result.success
    shipping = {int(c["metadata"]["jde_an8"]): c["shipping"] for c in pipeline.world.stripe_customers()}
    shipped_elsewhere = [an8 for an8 in shipping if an8 in ship_tos]
    assert shipped_elsewhere, f"the customers of {day} include one whose sales order ships elsewhere"
    for an8 in shipped_elsewhere:
        _, party = ship_tos[an8]
        assert party.an8 != an8 and shipping[an8]["name"] == party.name, an8
