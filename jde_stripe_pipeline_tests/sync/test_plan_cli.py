"""`jde-stripe plan` against both sandboxes: shows creates, then only the change; writes nothing."""

from __future__ import annotations

from click.testing import CliRunner

from jde_stripe_pipeline.cli import main
from jde_stripe_pipeline.sandboxes.stripe_emulator import DEFAULT_API_KEY
from jde_stripe_pipeline_tests.sync.changes import reprice_first_line
from jde_stripe_pipeline_tests.sync.conftest import World, expected_requests


def _plan(world: World, *args: str) -> str:
    result = CliRunner().invoke(
        main, ["plan", "--from", "2026-10-01", "--to", "2026-11-30", *args], env=world.cli_env()
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert DEFAULT_API_KEY not in result.output
    return result.output


def test_plan_lists_what_the_first_sync_would_create_then_only_a_change(world: World) -> None:
    customers, invoices, _ = expected_requests(world)
    output = _plan(world)
    assert f"customers: create {len(customers)}" in output
    assert f"create {len(invoices)}" in output
    assert world.writes() == []
    assert world.ledger().all_mappings("customer") == []

    world.sync()
    key = sorted(invoices)[0]
    reprice_first_line(world, key)
    world.emulator.clear_requests_log()
    output = _plan(world, "--kind", "invoices")
    changed = [
        line for line in output.splitlines() if line.startswith("invoice ") and "quarantine" not in line
    ]
    assert len(changed) == 1 and key in changed[0] and "converge" in changed[0]
    assert "lines_updated=['1.000']" in changed[0] and "invoices: converge 1," in output
    assert world.writes() == []
