"""The pure routing of records to Stripe accounts (`sync/routing.py`)."""

from __future__ import annotations

from datetime import date, datetime

from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT, AccountRouting
from jde_stripe_pipeline.jde.records import JdeCustomer, JdeDocumentKey, JdeInvoice, QuarantinedRecord
from jde_stripe_pipeline.sync.routing import route_customers, route_invoices

ROUTED = AccountRouting.of({"00001": "us", "00200": "eu"})
STAMP = datetime(2026, 11, 2, 8, 0)


def _customer(an8: int, company: str) -> JdeCustomer:
    return JdeCustomer(an8=an8, company=company, name=f"Customer {an8}", updated_at=STAMP)


def _invoice(company: str, doco: int) -> JdeInvoice:
    return JdeInvoice(
        profile="purchase_order",
        header_table="F4301",
        detail_table="F4311",
        key=JdeDocumentKey(kcoo=company, doco=doco, dcto="OP"),
        an8=1001,
        document_date=date(2026, 11, 2),
        currency="USD",
        total=0,
        updated_at=STAMP,
    )


def test_invoices_go_to_their_companys_account_or_nowhere() -> None:
    bad = QuarantinedRecord(kind="invoice", record_key="00200/7/OP/000", field="F4311.AEXP", reason="x")
    garbled = QuarantinedRecord(kind="invoice", record_key="??", field="F4301.DOCO", reason="x")
    routed = route_invoices(
        [_invoice("00001", 1), _invoice("00200", 2), _invoice("00300", 3), bad, garbled], ROUTED
    )
    assert [str(r.record_key if isinstance(r, QuarantinedRecord) else r.key) for r in routed.of("us")] == [
        "00001/1/OP/000"
    ]
    assert [getattr(r, "record_key", None) or str(r.key) for r in routed.of("eu")] == [
        "00200/2/OP/000",
        bad.record_key,
    ]
    unrouted = {r.record_key: r for r in routed.unrouted}
    assert set(unrouted) == {"00300/3/OP/000", "??"}
    assert unrouted["00300/3/OP/000"].field == "F4301.KCOO"
    assert "JDE company 00300" in unrouted["00300/3/OP/000"].reason
    assert unrouted["??"] is garbled  # refused by the extract already: kept as it is


def test_customers_go_to_their_company_and_where_they_already_are() -> None:
    records = [_customer(1, "00001"), _customer(2, "00200"), _customer(3, "00300"), _customer(4, "00300")]
    routed = route_customers(records, ROUTED, {"1": {"eu"}, "4": {"us", "default"}})
    assert [c.an8 for c in routed.of("us")] == [1, 4]
    assert [c.an8 for c in routed.of("eu")] == [1, 2]
    assert [(q.record_key, q.field) for q in routed.unrouted] == [("3", "F03012.CO")]


def test_without_routing_everything_goes_to_the_one_account() -> None:
    one = AccountRouting()
    assert len(route_invoices([_invoice("00300", 3)], one).of(DEFAULT_ACCOUNT)) == 1
    refused = QuarantinedRecord(kind="customer", record_key="x", field="F0101.AN8", reason="x")
    assert route_customers([_customer(3, "00300"), refused], one, {}).of(DEFAULT_ACCOUNT) == (
        _customer(3, "00300"),
        refused,
    )
