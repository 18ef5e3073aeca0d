"""O(change) runs (issue 10): a run with a few new or changed records costs the same requests on a busy
account as on an empty one, and never lists the account. Counted by endpoint from the emulator's
own request log (`GET /_sandbox/requests`)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import requests

from jde_stripe_pipeline.jde.read import fetch_customers
from jde_stripe_pipeline.jde.records import JdeInvoice
from jde_stripe_pipeline.mapping import InvoiceRequest
from jde_stripe_pipeline.sync.stripe_state import EMBEDDED_LINES
from jde_stripe_pipeline_tests.sync.changes import reprice_first_line
from jde_stripe_pipeline_tests.sync.conftest import (
    AS_OF,
    World,
    assert_stripe_matches_jde,
    expected_requests,
    make_world,
)

LISTINGS = {"GET /v1/customers", "GET /v1/invoices"}


def _requests_by_endpoint(world: World) -> Counter[str]:
    log = requests.get(f"{world.stripe_url}/_sandbox/requests", timeout=10).json()
    return Counter(str(entry["endpoint"]) for entry in log)


def _crowd(world: World, size: int) -> None:
    """Objects the runs never see (billed by hand or by another system): `size` customers, each with
    a draft invoice."""
    sink = world.sink()
    for n in range(size):
        customer = sink.create_customer(
            {"name": f"Other {n}", "metadata": {"legacy_id": str(n)}}, idempotency_key=f"crowd-c-{n}"
        ).object
        sink.create_invoice(
            {"customer": customer["id"], "auto_advance": False, "metadata": {"legacy_id": str(n)}},
            idempotency_key=f"crowd-i-{n}",
        )


def _day(tmp_path: Path, crowd: int) -> tuple[Counter[str], int, int, int]:
    """Sync all but one customer (and its invoices) and three invoices; crowd the account; change two
    synced invoices; sync everything: the requests of that second run, by endpoint."""
    with make_world(tmp_path, customers=12, invoices=24) as world:
        customers = world.customers()
        invoices = [r for r in world.invoices() if isinstance(r, JdeInvoice)]
        late_an8 = invoices[0].an8
        late = {str(r.key) for r in invoices if r.an8 == late_an8} | {str(r.key) for r in invoices[-3:]}
        engine = world.engine()
        engine.sync_customers([c for c in customers if getattr(c, "an8", None) != late_an8])
        with world.session() as session:
            first = engine.sync_invoices(
                [r for r in invoices if str(r.key) not in late],
                fetch_customers=lambda an8s: fetch_customers(session, an8s, as_of=AS_OF),
            )
        changed = sorted(r.record_key for r in first.results if r.outcome == "created")[:2]
        for key in changed:
            reprice_first_line(world, key)
        _crowd(world, crowd)
        world.emulator.clear_requests_log()

        customers_report, invoices_report = world.sync()

        counts = _requests_by_endpoint(world)
        new_invoices = [r for r in invoices_report.results if r.outcome == "created"]
        assert sorted(r.record_key for r in new_invoices) == sorted(late & set(_billable(world)))
        assert sorted(r.record_key for r in invoices_report.results if r.outcome == "updated") == changed
        assert_stripe_matches_jde(world)
        _, expected, _ = expected_requests(world)
        long_drafts = sum(len(expected[key].lines) >= EMBEDDED_LINES for key in changed)
        reported = customers_report.requests_sent + invoices_report.requests_sent
        return counts, len(new_invoices), reported, long_drafts


def _billable(world: World) -> list[str]:
    _, invoices, _ = expected_requests(world)
    return [key for key, request in invoices.items() if isinstance(request, InvoiceRequest)]


def test_a_day_of_few_changes_costs_the_same_on_a_crowded_account_and_lists_nothing(tmp_path: Path) -> None:
    quiet, new_invoices, reported, long_drafts = _day(tmp_path / "quiet", crowd=0)
    crowded, *_ = _day(tmp_path / "crowded", crowd=150)
    assert crowded == quiet  # the account's size does not show in the count, endpoint by endpoint
    assert not LISTINGS & set(quiet)
    assert sum(quiet.values()) == reported
    # the minimum: 1 per new customer, 2 per new invoice (create + add_lines), and per changed invoice
    # one read (a retrieve, or the line listing alone for a draft of 10 lines or more) and one line
    # update: the header is not rewritten for JDE's version stamp alone
    assert quiet["POST /v1/customers"] == 1
    assert quiet["POST /v1/invoices"] == quiet["POST /v1/invoices/{id}/add_lines"] == new_invoices
    assert quiet["GET /v1/invoices/{id}"] + quiet["GET /v1/invoices/{id}/lines"] == 2
    assert quiet["POST /v1/invoices/{id}/update_lines"] == 2
    assert quiet["GET /v1/invoices/{id}/lines"] == long_drafts
    assert sum(quiet.values()) == 1 + 2 * new_invoices + 2 * 2
