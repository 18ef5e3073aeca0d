"""Acceptance at the issue's size: 1,000 customers and 2,000 invoices (emulator limit raised to 1000/s).

Most of the time goes to the SDK turning listing pages into StripeObjects (~1 s per page of 100
invoices with their embedded lines) and to the emulator; the engine itself needs 2 requests per new
invoice, 1 per new customer and none per unchanged record. The lost-state-database re-link is
proven at a small size (test_changes_and_recovery): at this size its listing alone takes ~40 s here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jde_stripe_pipeline_tests.sync.changes import change_invoices
from jde_stripe_pipeline_tests.sync.conftest import (
    assert_invoices_match_jde,
    assert_stripe_matches_jde,
    make_world,
)


@pytest.mark.slow
def test_a_thousand_customers_and_two_thousand_invoices(tmp_path: Path) -> None:
    with make_world(tmp_path, customers=1000, invoices=2000) as world:
        customers, invoices = world.sync(world.engine(workers=8))
        assert customers.counts() == {"created": 1000}
        assert invoices.problems() == [r for r in invoices.results if r.outcome == "quarantined"]
        assert_stripe_matches_jde(world)

        world.emulator.clear_requests_log()
        world.sync(world.engine(workers=8))
        assert world.writes() == []

        created = sorted(r.record_key for r in invoices.results if r.outcome == "created")
        changed = created[::10]
        change_invoices(world, changed)
        ids = {r.record_key: r.stripe_id for r in invoices.results}
        world.emulator.clear_requests_log()
        _, again = world.sync(world.engine(workers=8))
        assert sorted(r.record_key for r in again.results if r.outcome == "updated") == changed
        assert {w["path"].split("/")[3] for w in world.writes()} == {ids[k] for k in changed}
        # the others were checked above and have had no write since
        assert_invoices_match_jde(world, {k: str(ids[k]) for k in changed})
