"""JDE customer → Stripe customer params."""

from datetime import timedelta

import pytest

from jde_stripe_pipeline.jde.records import JdeParty, QuarantinedRecord
from jde_stripe_pipeline.mapping import CustomerMappingConfig, CustomerRequest, MappingFailure, map_customer
from jde_stripe_pipeline_tests.mapping.builders import STAMP, address, customer

CONFIG = CustomerMappingConfig()
ACME_ADDRESS = {
    "line1": "100 Main Street",
    "line2": "Suite 200, Building B",
    "city": "Chicago",
    "state": "IL",
    "postal_code": "60601",
    "country": "US",
}


def mapped(**overrides: object) -> CustomerRequest:
    result = map_customer(customer(**overrides), CONFIG)
    assert isinstance(result, CustomerRequest), result
    return result


def refused(config: CustomerMappingConfig = CONFIG, **overrides: object) -> MappingFailure:
    result = map_customer(customer(**overrides), config)
    assert isinstance(result, MappingFailure), result
    return result


def test_full_customer_params() -> None:
    assert mapped().params() == {
        "name": "Acme Industries",
        "email": "billing@acme.example",
        "phone": "312 555-0100",
        "address": ACME_ADDRESS,
        "shipping": {
            "name": "Acme Industries",
            "address": ACME_ADDRESS,
            "phone": "312 555-0100",
        },
        "preferred_locales": ["en"],
        "metadata": {"jde_an8": "10001", "jde_company": "00001", "jde_updated_at": "2026-11-20T09:30:15"},
    }


def test_sparse_customer_sends_only_what_jde_has() -> None:
    request = mapped(email=None, phone="  ", address=None, language="XX")
    assert request.params() == {
        "name": "Acme Industries",
        "metadata": {"jde_an8": "10001", "jde_company": "00001", "jde_updated_at": "2026-11-20T09:30:15"},
    }


def test_update_unsets_owned_fields_jde_dropped_and_touches_nothing_else() -> None:
    request = mapped(email=None, phone=None, address=address(lines=("1 Elm Way",), state=None))
    update = request.update_params()
    assert update["email"] == ""
    assert update["phone"] == ""
    assert update["address"] == {
        "line1": "1 Elm Way",
        "line2": "",
        "city": "Chicago",
        "state": "",
        "postal_code": "60601",
        "country": "US",
    }
    assert set(update["metadata"]) == set(CustomerRequest.OWNED_METADATA_KEYS)
    assert set(update) <= request.owned_fields
    assert "description" not in update and "tax_id_data" not in update
    assert mapped(address=None).update_params()["address"] == ""
    assert mapped(address=None).update_params()["shipping"] == ""


def test_address_lines_split_into_line1_and_line2() -> None:
    one = mapped(address=address(lines=("  1 Elm Way  ", "", "   ")))
    assert one.address is not None and one.address.line1 == "1 Elm Way" and one.address.line2 is None
    four = mapped(address=address(lines=("a", "b", "c", "d")))
    assert four.address is not None and (four.address.line1, four.address.line2) == ("a", "b, c, d")
    lower = mapped(address=address(country="gb"))
    assert lower.address is not None and lower.address.country == "GB"
    assert (
        mapped(address=address(lines=(), city=None, state=None, postal_code=None, country=None)).address
        is None
    )


@pytest.mark.parametrize("country", ["USA", "U", "1A", "Deutschland"])
def test_a_country_that_is_not_iso_alpha2_is_refused(country: str) -> None:
    failure = refused(address=address(country=country))
    assert failure.field == "F0116.CTR"
    assert country in failure.reason


SHIP_TO = JdeParty(
    an8=30003, name="Acme Dock 7", address=address(lines=("7 Harbour Road",)), phone="555-7777"
)


@pytest.mark.parametrize(
    ("source", "ship_to", "expected_name", "expected_line1"),
    [
        ("customer", SHIP_TO, "Acme Industries", "100 Main Street"),
        ("ship_to", SHIP_TO, "Acme Dock 7", "7 Harbour Road"),
        ("ship_to", None, "Acme Industries", "100 Main Street"),
    ],
)
def test_shipping_source(
    source: str, ship_to: JdeParty | None, expected_name: str, expected_line1: str
) -> None:
    config = CustomerMappingConfig(ship_to_source=source)  # type: ignore[arg-type]
    result = map_customer(customer(ship_to=ship_to), config)
    assert isinstance(result, CustomerRequest)
    assert result.shipping is not None
    assert result.shipping.name == expected_name
    assert result.shipping.address.line1 == expected_line1


def test_ship_to_without_address_sends_no_shipping() -> None:
    config = CustomerMappingConfig(ship_to_source="ship_to")
    result = map_customer(customer(ship_to=JdeParty(an8=30003, name="Dock", address=None)), config)
    assert isinstance(result, CustomerRequest) and result.shipping is None


@pytest.mark.parametrize(
    ("language", "locales"),
    [
        ("E", ("en",)),
        ("F", ("fr",)),
        ("G", ("de",)),
        ("S", ("es",)),
        ("J", ("ja",)),
        (" f ", ("fr",)),
        (None, ("en",)),
        ("ZZ", ()),
    ],
)
def test_language_to_preferred_locales(language: str | None, locales: tuple[str, ...]) -> None:
    assert mapped(language=language).preferred_locales == locales


def test_locale_table_and_blank_language_are_configurable() -> None:
    config = CustomerMappingConfig(language_locales={"F": "fr-CA"}, blank_language_locale=None)
    french = map_customer(customer(language="F"), config)
    blank = map_customer(customer(language=None), config)
    assert isinstance(french, CustomerRequest) and french.preferred_locales == ("fr-CA",)
    assert isinstance(blank, CustomerRequest) and blank.preferred_locales == ()
    assert "preferred_locales" not in blank.params()
    assert "preferred_locales" not in blank.update_params()
    assert "preferred_locales" not in blank.owned_fields


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "   "}, "F0101.ALPH"),
        ({"name": "N" * 257}, "F0101.ALPH"),
        ({"email": "not-an-address"}, "F01151.EMAL"),
        ({"email": "a@b"}, "F01151.EMAL"),
        ({"email": "x" * 510 + "@b.example"}, "F01151.EMAL"),
        ({"phone": "+1 312 555 0100 ext 1234"}, "F0115.PH1"),
    ],
)
def test_values_stripe_cannot_take_are_refused_whole(overrides: dict[str, object], field: str) -> None:
    failure = refused(**overrides)
    assert failure.kind == "customer"
    assert failure.record_key == "10001"
    assert failure.field == field
    assert failure.raw["an8"] == 10001


def test_failure_converts_to_a_quarantined_record_losing_nothing() -> None:
    failure = refused(email="nope")
    record = failure.to_quarantined_record()
    assert isinstance(record, QuarantinedRecord)
    assert (record.kind, record.record_key, record.field) == ("customer", "10001", "F01151.EMAL")
    assert record.raw["email"] == "nope"
    assert record.raw["name"] == "Acme Industries"


def test_hash_is_stable_and_follows_what_is_sent() -> None:
    first = mapped()
    assert first.content_hash == mapped().content_hash
    assert first.content_hash != mapped(email="ap@acme.example").content_hash
    assert first.content_hash != mapped(updated_at=STAMP + timedelta(seconds=1)).content_hash
    # Not sent, so not in the hash: tax id, currency, payment terms.
    assert first.content_hash == mapped(tax_id="36-1234567", currency="EUR", payment_terms="N45").content_hash
    # Mapping configuration that changes what is sent changes the hash.
    other = map_customer(customer(), CustomerMappingConfig(language_locales={"E": "en-GB"}))
    assert isinstance(other, CustomerRequest) and other.content_hash != first.content_hash


def test_change_hash_ignores_only_the_jde_version_stamp() -> None:
    first = mapped()
    touched = mapped(updated_at=STAMP + timedelta(seconds=1))
    assert touched.content_hash != first.content_hash  # a new body: a new idempotency key
    assert touched.change_hash == first.change_hash  # nothing Stripe shows changed: nothing to send
    assert mapped(email="ap@acme.example").change_hash != first.change_hash


def test_tax_id_is_never_sent() -> None:
    params = mapped(tax_id="DE123456789").params()
    assert "tax_id_data" not in params
    assert "DE123456789" not in str(params)
