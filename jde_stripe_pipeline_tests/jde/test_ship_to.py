"""A customer's ship-to, read from its sales orders (F4201.SHAN) in the running AIS sandbox.

Expectations come from `support.expected_ship_tos`, a direct read of the sandbox's tables; the last
test covers the pure choice of the order on its own.
"""

from datetime import date, datetime

from jde_stripe_pipeline.jde.assemble import assemble_customer
from jde_stripe_pipeline.jde.read import extract_customers, fetch_customers
from jde_stripe_pipeline.jde.records import JdeCustomer, JdeParty, QuarantinedRecord
from jde_stripe_pipeline.jde.rows import BadRow
from jde_stripe_pipeline.jde.ship_to import ShipToOrder, latest_ship_to_orders
from jde_stripe_pipeline.jde.window import UpdateWindow
from jde_stripe_pipeline.sandboxes.ais import AisSandbox
from jde_stripe_pipeline.sandboxes.ais.store import to_julian
from jde_stripe_pipeline_tests.jde.support import AS_OF, expected_ship_tos, served, session_for, upsert_rows

EVERYTHING = UpdateWindow(datetime(2026, 10, 1), datetime(2026, 11, 27))
EXTRA_DAY = date(2026, 11, 26)
"""Rows the tests add are stamped on as_of's day, after every seeded stamp (1-28 days before)."""


def _sandbox() -> AisSandbox:
    return AisSandbox(seed=7, customers=20, invoices=40, as_of=AS_OF)


def _by_an8(records: list[JdeCustomer | QuarantinedRecord]) -> dict[int, JdeCustomer]:
    assert not [r for r in records if isinstance(r, QuarantinedRecord)]
    return {r.an8: r for r in records if isinstance(r, JdeCustomer)}


def test_ship_to_comes_from_the_latest_sales_order_that_ships_elsewhere() -> None:
    sandbox = _sandbox()
    expected = expected_ship_tos(sandbox, AS_OF)
    with served(sandbox) as server, session_for(server, page_size=500) as session:
        own = _by_an8(list(extract_customers(session, EVERYTHING, as_of=AS_OF)))
        before = session.stats.requests
        shipped = _by_an8(
            list(extract_customers(session, EVERYTHING, as_of=AS_OF, ship_to_source="ship_to", chunk_size=7))
        )
        ship_to_requests = session.stats.requests - before
        before = session.stats.requests
        list(extract_customers(session, EVERYTHING, as_of=AS_OF, chunk_size=7))
        own_requests = session.stats.requests - before
    assert 3 <= len(expected) < len(own) == len(shipped) == 20
    assert all(c.ship_to is None and c.ship_to_order is None for c in own.values())
    for an8, customer in shipped.items():
        if an8 in expected:
            order, party = expected[an8]
            assert (str(customer.ship_to_order), customer.ship_to) == (order, party), an8
            assert customer.ship_to is not None and customer.ship_to.an8 != an8
            assert customer.updated_at >= own[an8].updated_at
        else:
            assert (customer.ship_to, customer.ship_to_order) == (None, None), an8
            assert customer == own[an8]
        same = {"ship_to", "ship_to_order", "updated_at"}
        assert customer.model_dump(exclude=same) == own[an8].model_dump(exclude=same)
    # One extra read of F4201 changed in the window, then per chunk one F4201 read and, when some
    # customer of the chunk ships elsewhere, one F0101 and one F0116 read of the ship-tos.
    chunks = [sorted(own)[i : i + 7] for i in range(0, len(own), 7)]
    extra = 1 + sum(1 + (2 if any(an8 in expected for an8 in chunk) else 0) for chunk in chunks)
    assert ship_to_requests == own_requests + extra


def test_a_new_sales_order_to_a_dock_changes_the_customer_and_the_latest_order_wins() -> None:
    sandbox = _sandbox()
    customer = sandbox.rows("F03012")[0]["AN8"]
    julian = to_julian(EXTRA_DAY)
    header = {"KCOO": "00001", "DCTO": "SO", "SFXO": "000", "AN8": customer, "OTOT": "0", "CRCD": "USD"}
    with served(sandbox) as server:
        upsert_rows(server, "F0101", [{"AN8": 70001, "ALPH": "Dock 7", "UPMJ": julian, "UPMT": 80000}])
        upsert_rows(
            server,
            "F0116",
            [
                {
                    "AN8": 70001,
                    "EFTB": 0,
                    "ADD1": "7 Harbour Road",
                    "CTY1": "Chicago",
                    "ADDS": "IL",
                    "ADDZ": "60601",
                    "CTR": "US",
                    "UPMJ": julian,
                    "UPMT": 80000,
                }
            ],
        )
        orders = [
            # (DOCO, SHAN, order date): the latest order shipping elsewhere is 9002; 9003 ships home.
            (9001, 70001, date(2026, 11, 1)),
            (9002, 70001, date(2026, 11, 20)),
            (9003, customer, date(2026, 11, 25)),
        ]
        upsert_rows(
            server,
            "F4201",
            [
                {**header, "DOCO": doco, "SHAN": shan, "TRDJ": to_julian(day), "UPMJ": julian, "TDAY": 90000}
                for doco, shan, day in orders
            ],
        )
        window = UpdateWindow(datetime(2026, 11, 26, 9), datetime(2026, 11, 26, 10))
        with session_for(server) as session:
            changed = list(extract_customers(session, window, as_of=AS_OF, ship_to_source="ship_to"))
            unchanged = list(extract_customers(session, window, as_of=AS_OF))
            fetched = list(fetch_customers(session, [customer], as_of=AS_OF, ship_to_source="ship_to"))
    assert unchanged == []  # without the ship-to, a sales order is no change of its customer
    assert changed == fetched
    (record,) = changed
    assert isinstance(record, JdeCustomer) and record.an8 == customer
    assert record.ship_to == JdeParty(
        an8=70001,
        name="Dock 7",
        address={
            "lines": ("7 Harbour Road",),
            "city": "Chicago",
            "state": "IL",
            "postal_code": "60601",
            "country": "US",
        },
    )
    assert str(record.ship_to_order) == "00001/9002/SO/000"
    assert record.updated_at == datetime(2026, 11, 26, 9, 0, 0)


def test_a_ship_to_missing_from_the_address_book_quarantines_the_customer() -> None:
    sandbox = _sandbox()
    customer = sandbox.rows("F03012")[0]["AN8"]
    order = {"KCOO": "00001", "DOCO": 9100, "DCTO": "SO", "SFXO": "000", "AN8": customer, "SHAN": 77777}
    with served(sandbox) as server:
        upsert_rows(server, "F4201", [{**order, "TRDJ": to_julian(EXTRA_DAY), "OTOT": "0", "CRCD": "USD"}])
        with session_for(server) as session:
            (bad,) = list(fetch_customers(session, [customer], as_of=AS_OF, ship_to_source="ship_to"))
            (good,) = list(fetch_customers(session, [customer], as_of=AS_OF))
    assert isinstance(bad, QuarantinedRecord)
    assert (bad.kind, bad.record_key, bad.field) == ("customer", str(customer), "F4201.SHAN")
    assert "77777" in bad.reason and "00001/9100/SO/000" in bad.reason and bad.raw["SHAN"] == 77777
    assert isinstance(good, JdeCustomer)


def _order(doco: int, an8: int, shan: int, trdj: str) -> dict[str, object]:
    return {
        **{"KCOO": "00001", "DOCO": doco, "DCTO": "SO", "SFXO": "000"},
        **{"AN8": an8, "SHAN": shan, "TRDJ": trdj, "UPMJ": "20261120", "TDAY": 90000},
    }


def test_the_latest_order_shipping_elsewhere_wins_and_a_bad_row_marks_its_customer() -> None:
    found = latest_ship_to_orders(
        [
            _order(1, 1, 5, "20261101"),
            _order(2, 1, 6, "20261110"),
            _order(3, 1, 7, "20261110"),  # same day, higher DOCO: the latest
            _order(4, 1, 1, "20261125"),  # ships home: not a ship-to
            _order(5, 2, 0, "20261125"),  # blank SHAN
            _order(6, 3, 9, "2026-11-25"),
            _order(7, 3, 8, "20261125"),
        ]
    )
    assert set(found) == {1, 3}
    latest = found[1]
    assert isinstance(latest, ShipToOrder) and (latest.ship_to, str(latest.key)) == (7, "00001/3/SO/000")
    assert latest.stamp == datetime(2026, 11, 20, 9, 0, 0)
    bad = found[3]
    assert isinstance(bad, BadRow) and bad.error.field == "F4201.TRDJ" and bad.raw["DOCO"] == 6
    customer = _customer_with(bad)
    assert isinstance(customer, QuarantinedRecord) and customer.field == "F4201.TRDJ"


def _customer_with(ship_to: ShipToOrder | BadRow) -> JdeCustomer | QuarantinedRecord | None:
    """A customer assembled from the smallest rows that make one, with the given ship-to order."""
    stamp = {"UPMJ": "20261120", "UPMT": 90000}
    raw = {
        "F03012": [{"AN8": 3, "CO": "00001", "CRCD": "USD", "TRAR": "", "ACL": 0, "HDAR": "", **stamp}],
        "F0101": [{"AN8": 3, "ALPH": "Three", "ALKY": "", "TAX": "", "AT1": "C", "LNGP": "", **stamp}],
    }
    return assemble_customer(3, raw, as_of=AS_OF, ship_to=ship_to, parties={})
