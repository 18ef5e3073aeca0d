"""JDE customer → Stripe customer request.

What is sent (and, on update, owned by the mapping):
- `name` ← F0101.ALPH (a blank name is refused: a nameless customer is useless to people);
- `email` ← the first F01151 e-mail (checked for a plausible address; over 512 characters refused);
- `phone` ← the first F0115 business phone, `AR1 PH1` (over Stripe's 20 characters refused: a
  phone number cannot be shortened without becoming another number);
- `address` ← F0116: `line1` = first address line, `line2` = the other lines joined with ", ",
  `city`, `state`, `postal_code`, `country` (must be ISO 3166-1 alpha-2); COUN (county) is not sent;
- `shipping` ← name + address + phone of the customer itself, or of the record's ship-to party when
  `ship_to_source="ship_to"` (the SHAN of its latest sales order shipping elsewhere, which the extract
  reads when given the same `ship_to_source`; falling back to the customer itself when there is none);
- `preferred_locales` ← F0101.LNGP through the configured code table (`E` en, `F` fr, `G` de, `S` es,
  `J` ja, …; blank → `blank_language_locale`, default en). An unknown code sends no locale and the
  mapping does not fail: the language only picks the language of Stripe's e-mails and PDFs;
- `metadata`: `jde_an8`, `jde_company` (F03012.CO), `jde_updated_at` (the latest UPMJ/UPMT of the
  rows making up the record, ISO 8601, JDE server local time, as JDE stores it).

Left out on purpose:
- the tax id (F0101.TAX): Stripe tax ids are separate typed objects (`eu_vat`, `us_ein`, … with
  per-type validation) that JDE does not classify; guessing the type would create wrong tax data;
- currency (F03012.CRCD) and payment terms (TRAR): Stripe customers have no such settings; the
  invoice carries its own currency and terms;
- credit limit, hold code, GL accounts, vendor and PO-only fields: no Stripe meaning.
A change to any of these in JDE sends nothing to Stripe: the engine's change detector (`change_hash`)
ignores the version stamp `jde_updated_at`.
"""

from __future__ import annotations

import re

from jde_stripe_pipeline.jde.records import JdeCustomer, JdeParty
from jde_stripe_pipeline.mapping import _fields
from jde_stripe_pipeline.mapping._fields import Refused, clean
from jde_stripe_pipeline.mapping.config import CustomerMappingConfig
from jde_stripe_pipeline.mapping.failures import MappingFailure
from jde_stripe_pipeline.mapping.limits import CUSTOMER_EMAIL_MAX_LENGTH, CUSTOMER_NAME_MAX_LENGTH
from jde_stripe_pipeline.mapping.requests import CustomerRequest

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def preferred_locales(language: str | None, config: CustomerMappingConfig) -> tuple[str, ...]:
    """JDE LNGP → Stripe `preferred_locales` (empty when the code is unknown)."""
    code = (language or "").strip().upper()
    if not code:
        return (config.blank_language_locale,) if config.blank_language_locale else ()
    locale = config.language_locales.get(code)
    return (locale,) if locale else ()


def map_customer(record: JdeCustomer, config: CustomerMappingConfig) -> CustomerRequest | MappingFailure:
    try:
        return _map(record, config)
    except Refused as refused:
        return MappingFailure.of_record("customer", str(record.an8), record, refused.field, refused.reason)


def _map(record: JdeCustomer, config: CustomerMappingConfig) -> CustomerRequest:
    name = clean(record.name)
    if name is None:
        raise Refused("F0101.ALPH", "blank name (alpha name)")
    _fields.checked(name, "F0101.ALPH", "name", CUSTOMER_NAME_MAX_LENGTH)

    email = _fields.checked(clean(record.email), "F01151.EMAL", "e-mail", CUSTOMER_EMAIL_MAX_LENGTH)
    if email is not None and not _EMAIL.match(email):
        raise Refused("F01151.EMAL", f"{email!r} is not an e-mail address Stripe would accept")

    own = JdeParty(an8=record.an8, name=record.name, address=record.address, phone=record.phone)
    ship_party = record.ship_to if config.ship_to_source == "ship_to" and record.ship_to is not None else own
    whose = "customer" if ship_party is own else f"ship-to AN8 {ship_party.an8}"

    metadata = _fields.validated_metadata(
        {
            "jde_an8": str(record.an8),
            "jde_company": clean(record.company),
            "jde_updated_at": record.updated_at.isoformat(),
        }
    )
    return CustomerRequest(
        an8=record.an8,
        name=name,
        email=email,
        phone=_fields.phone(record.phone, "F0115.PH1"),
        address=_fields.address(record.address, whose="customer"),
        shipping=_fields.shipping(ship_party, whose=whose),
        preferred_locales=preferred_locales(record.language, config),
        metadata=metadata,
    )
