"""Recovery without listing the account in normal runs: `jde-stripe relink` (the explicit listing), and
a create whose answer was lost (a run killed between Stripe's commit and the ledger's row), replayed
under its key within Stripe's memory and looked up by its customer after it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from jde_stripe_pipeline.cli import main
from jde_stripe_pipeline.jde.read import fetch_customers
from jde_stripe_pipeline.jde.records import JdeInvoice
from jde_stripe_pipeline.ledger import ClaimToken, Ledger
from jde_stripe_pipeline.sandboxes.stripe_emulator import DEFAULT_API_KEY
from jde_stripe_pipeline_tests.sync.changes import reprice_first_line
from jde_stripe_pipeline_tests.sync.conftest import AS_OF, World, assert_stripe_matches_jde

LISTINGS = {"GET /v1/customers", "GET /v1/invoices"}


def _endpoints(world: World) -> Counter[str]:
    return Counter(str(entry["endpoint"]) for entry in world.emulator.requests_log())


def test_relink_command_lets_a_replaced_ledger_relink_every_object_then_runs_list_nothing(
    world: World,
) -> None:
    _, first = world.sync()
    world.ledger_path.unlink()  # the state database replaced by an empty one
    env = {k: v for k, v in world.cli_env().items() if not k.startswith("JDE_AIS_")}  # no JDE login needed
    world.emulator.clear_requests_log()
    result = CliRunner().invoke(main, ["relink"], env=env)
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert DEFAULT_API_KEY not in result.output
    created = [r for r in first.results if r.outcome == "created"]
    assert f"{len(created)} invoices" in result.output and "linked" in result.output
    assert set(_endpoints(world)) == LISTINGS and world.writes() == []

    key = sorted(r.record_key for r in created)[0]
    reprice_first_line(world, key)
    world.emulator.clear_requests_log()
    customers, invoices = world.sync()

    assert not LISTINGS & set(_endpoints(world))  # the relink is recorded: no second listing
    assert {(r.outcome, r.action) for r in customers.results} == {("unchanged", "relink")}
    assert invoices.result(key).outcome == "updated"
    assert [w["path"].split("/")[-1] for w in world.writes()] == ["update_lines"]
    assert_stripe_matches_jde(world)
    assert len(Ledger.open(world.ledger_url).intents.relinks()) == 1


def test_an_empty_ledger_relinks_once_by_itself_and_an_empty_account_costs_one_page(world: World) -> None:
    world.emulator.clear_requests_log()
    world.sync()
    assert _endpoints(world)["GET /v1/customers"] == 1  # the first page: the account is empty
    (relinked,) = world.ledger().intents.relinks()
    assert (relinked.customers_listed, relinked.linked) == (0, 0)
    world.emulator.clear_requests_log()
    world.sync()
    assert not LISTINGS & set(_endpoints(world))


def _all_but_one_invoice(world: World) -> JdeInvoice:
    """Sync every customer and every invoice but one (returned)."""
    invoices = world.good_invoices()
    late = next(r for r in invoices if len(r.lines) > 1)
    engine = world.engine()
    engine.sync_customers(world.customers())
    with world.session() as session:
        engine.sync_invoices(
            [r for r in invoices if r.key != late.key],
            fetch_customers=lambda an8s: fetch_customers(session, an8s, as_of=AS_OF),
        )
    return late


def _crash_after_create(world: World, late: JdeInvoice) -> str:
    """What a run killed right after Stripe committed its create leaves: the intent, the draft without
    lines, no ledger row. The create is the one `plan` shows (the key a sync sends)."""
    plan = world.engine().plan_invoices([late])
    (create, _add_lines) = plan.change(str(late.key)).operations
    ledger = world.ledger()
    token = ClaimToken.new("killed-run")
    ledger.intents.claim("invoice", str(late.key), token)
    ledger.intents.note_create("invoice", str(late.key), token, create.idempotency_key)
    ledger.intents.release(token)
    draft = world.sink().create_invoice(create.params, idempotency_key=create.idempotency_key).object
    return str(draft["id"])


def _sync_one(world: World, late: JdeInvoice, ledger: Ledger | None = None) -> str:
    engine = world.engine(ledger=ledger) if ledger is not None else world.engine()
    with world.session() as session:
        report = engine.sync_invoices(
            [late], fetch_customers=lambda an8s: fetch_customers(session, an8s, as_of=AS_OF)
        )
    (result,) = report.results
    assert result.outcome in ("created", "updated"), result
    return str(result.stripe_id)


def test_a_create_whose_answer_was_lost_is_replayed_under_its_key(world: World) -> None:
    late = _all_but_one_invoice(world)
    draft_id = _crash_after_create(world, late)
    world.emulator.clear_requests_log()

    assert _sync_one(world, late) == draft_id

    log = world.emulator.requests_log()
    assert [(e["endpoint"], e["replayed"]) for e in log if e["method"] == "POST"] == [
        ("POST /v1/invoices", True),  # Stripe's replay of the create: no second draft
        ("POST /v1/invoices/{id}/add_lines", False),
    ]
    assert not LISTINGS & set(_endpoints(world))
    assert_stripe_matches_jde(world)


def test_past_stripes_key_memory_the_lost_create_is_looked_up_by_its_customer(world: World) -> None:
    late = _all_but_one_invoice(world)
    draft_id = _crash_after_create(world, late)
    world.emulator.clear_requests_log()
    tomorrow = Ledger.open(world.ledger_url, clock=lambda: datetime.now(UTC) + timedelta(hours=24))

    assert _sync_one(world, late, tomorrow) == draft_id

    endpoints = _endpoints(world)
    assert endpoints["GET /v1/invoices"] == 1  # ?customer=…&created[gte]=…: that customer's, that day
    assert [e["endpoint"] for e in world.writes()] == ["POST /v1/invoices/{id}/add_lines"]
    assert "GET /v1/customers" not in endpoints
    assert_stripe_matches_jde(world)
    tomorrow.close()


def test_a_plan_on_a_replaced_ledger_shows_relinks_and_writes_nothing_anywhere(world: World) -> None:
    world.sync()
    world.ledger_path.unlink()
    world.emulator.clear_requests_log()
    engine = world.engine()

    customers = engine.plan_customers(world.customers())
    invoices = engine.plan_invoices(world.invoices())

    assert world.writes() == []
    assert {(c.action, c.outcome) for c in customers.changes} == {("relink", "unchanged")}
    assert "create" not in invoices.counts() and invoices.counts()["relink"] >= 1
    assert _endpoints(world)["GET /v1/customers"] == 1  # one listing pass, in memory
    ledger = world.ledger()
    assert ledger.intents.relinks() == [] and ledger.intents.needs_relink()
