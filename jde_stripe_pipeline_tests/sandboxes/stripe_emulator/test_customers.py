"""Customers through the official SDK: create, retrieve, update (unset rules), delete, list paging, search."""

from __future__ import annotations

import time

import pytest
import stripe

from jde_stripe_pipeline.sandboxes.stripe_emulator import StripeEmulator


def test_create_and_retrieve_round_trip(client: stripe.StripeClient) -> None:
    created = client.v1.customers.create(
        params={
            "name": "Acme Corp",
            "email": "ap@acme.test",
            "phone": "+15555550100",
            "address": {"line1": "1 Main St", "city": "Austin", "country": "US", "postal_code": "78701"},
            "shipping": {"name": "Dock 4", "address": {"line1": "2 Side St", "country": "US"}},
            "metadata": {"jde_an8": "1001"},
            "preferred_locales": ["en"],
        }
    )
    assert created.id.startswith("cus_")
    fetched = client.v1.customers.retrieve(created.id).to_dict()
    assert fetched["object"] == "customer"
    assert fetched["livemode"] is False
    assert fetched["address"] == {
        "city": "Austin",
        "country": "US",
        "line1": "1 Main St",
        "line2": None,
        "postal_code": "78701",
        "state": None,
    }
    assert fetched["shipping"]["name"] == "Dock 4"
    assert fetched["shipping"]["address"]["line1"] == "2 Side St"
    assert fetched["metadata"] == {"jde_an8": "1001"}
    assert fetched["preferred_locales"] == ["en"]


def test_update_unsets_with_empty_string(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(
        params={"name": "A", "phone": "1", "address": {"line1": "x"}, "metadata": {"a": "1", "b": "2"}}
    )
    updated = client.v1.customers.update(
        customer.id, params={"phone": "", "address": "", "metadata": {"a": "", "c": "3"}}
    ).to_dict()
    assert updated["phone"] is None
    assert updated["address"] is None
    assert updated["metadata"] == {"b": "2", "c": "3"}
    cleared = client.v1.customers.update(customer.id, params={"metadata": ""}).to_dict()
    assert cleared["metadata"] == {}
    assert cleared["name"] == "A"


def test_name_cannot_be_unset_on_a_field_that_is_not_nullable(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "A"})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.update(customer.id, params={"next_invoice_sequence": ""})  # type: ignore[typeddict-item]
    assert raised.value.code == "parameter_invalid_empty"
    assert raised.value.param == "next_invoice_sequence"


def test_delete_then_retrieve_shows_tombstone_and_update_is_404(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "Gone"})
    deleted = client.v1.customers.delete(customer.id).to_dict()
    assert deleted == {"id": customer.id, "object": "customer", "deleted": True}
    assert client.v1.customers.retrieve(customer.id).to_dict()["deleted"] is True
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.update(customer.id, params={"name": "x"})
    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"


def test_unknown_customer_is_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.retrieve("cus_nope")
    assert raised.value.http_status == 404
    assert raised.value.json_body["error"] == {
        "type": "invalid_request_error",
        "code": "resource_missing",
        "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
        "message": "No such customer: 'cus_nope'",
        "param": "id",
        "request_log_url": raised.value.json_body["error"]["request_log_url"],
    }


def test_list_is_newest_first_and_pages_both_ways(client: stripe.StripeClient) -> None:
    ids = [client.v1.customers.create(params={"name": f"c{i}"}).id for i in range(5)]
    newest_first = list(reversed(ids))
    first = client.v1.customers.list(params={"limit": 2})
    assert [c.id for c in first.data] == newest_first[:2]
    assert first.has_more is True
    assert first.url == "/v1/customers"
    second = client.v1.customers.list(params={"limit": 2, "starting_after": first.data[-1].id})
    assert [c.id for c in second.data] == newest_first[2:4]
    back = client.v1.customers.list(params={"limit": 2, "ending_before": second.data[0].id})
    assert [c.id for c in back.data] == newest_first[:2]
    everything = [c.id for c in client.v1.customers.list(params={"limit": 2}).auto_paging_iter()]
    assert everything == newest_first


def test_list_filters_email_and_created(client: stripe.StripeClient) -> None:
    a = client.v1.customers.create(params={"email": "one@x.test"})
    client.v1.customers.create(params={"email": "two@x.test"})
    assert [c.id for c in client.v1.customers.list(params={"email": "one@x.test"}).data] == [a.id]
    created = client.v1.customers.retrieve(a.id).created
    assert len(client.v1.customers.list(params={"created": {"gte": created}}).data) == 2
    assert client.v1.customers.list(params={"created": {"lt": created}}).data == []


def test_list_limit_over_100_is_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.list(params={"limit": 101})
    assert raised.value.param == "limit"


def test_search_by_metadata_email_and_name(client: stripe.StripeClient) -> None:
    a = client.v1.customers.create(
        params={"name": "Acme", "email": "a@x.test", "metadata": {"jde_an8": "1001"}}
    )
    b = client.v1.customers.create(
        params={"name": "Beta", "email": "b@x.test", "metadata": {"jde_an8": "1002"}}
    )
    found = client.v1.customers.search(params={"query": "metadata['jde_an8']:'1001'"})
    assert found.object == "search_result"
    assert [c.id for c in found.data] == [a.id]
    either = client.v1.customers.search(params={"query": "email:'a@x.test' OR name:'Beta'"})
    assert {c.id for c in either.data} == {a.id, b.id}
    both = client.v1.customers.search(params={"query": "email:'a@x.test' AND name:'Beta'"})
    assert both.data == []
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.search(params={"query": "email:'a' AND name:'b' OR name:'c'"})
    assert raised.value.param == "query"


def test_search_pages_with_next_page(client: stripe.StripeClient) -> None:
    for i in range(3):
        client.v1.customers.create(params={"name": f"n{i}", "metadata": {"batch": "7"}})
    page = client.v1.customers.search(params={"query": "metadata['batch']:'7'", "limit": 2})
    assert page.has_more is True and page.next_page
    rest = client.v1.customers.search(
        params={"query": "metadata['batch']:'7'", "limit": 2, "page": page.next_page}
    )
    assert rest.has_more is False and rest.next_page is None
    assert len({c.id for c in [*page.data, *rest.data]}) == 3


def test_search_lags_behind_writes(emulator: StripeEmulator, client: stripe.StripeClient) -> None:
    emulator.update_config(search_lag_seconds=0.4)
    customer = client.v1.customers.create(params={"name": "Late", "metadata": {"k": "v1"}})
    assert client.v1.customers.search(params={"query": "metadata['k']:'v1'"}).data == []
    time.sleep(0.5)
    assert [c.id for c in client.v1.customers.search(params={"query": "metadata['k']:'v1'"}).data] == [
        customer.id
    ]
    client.v1.customers.update(customer.id, params={"metadata": {"k": "v2"}})
    # The index still holds the old version for a while.
    assert [c.id for c in client.v1.customers.search(params={"query": "metadata['k']:'v1'"}).data] == [
        customer.id
    ]
    assert client.v1.customers.search(params={"query": "metadata['k']:'v2'"}).data == []
    time.sleep(0.5)
    assert client.v1.customers.search(params={"query": "metadata['k']:'v1'"}).data == []
    assert [c.id for c in client.v1.customers.search(params={"query": "metadata['k']:'v2'"}).data] == [
        customer.id
    ]
