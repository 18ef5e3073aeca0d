"""Field helpers shared by the customer and invoice mappings (internal).

Helpers raise `Refused(field, reason)`; each `map_*` function catches it once and returns a
`MappingFailure`, so a record is either mapped whole or refused whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

from jde_stripe_pipeline.jde.records import JdeAddress, JdeInvoice, JdeParty
from jde_stripe_pipeline.mapping.limits import (
    ADDRESS_FIELD_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    SHIPPING_NAME_MAX_LENGTH,
    length_problem,
    metadata_problem,
)
from jde_stripe_pipeline.mapping.requests import ShippingDetails, StripeAddress


class Refused(Exception):
    """Internal: the record cannot be mapped; becomes a `MappingFailure` at the `map_*` boundary."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


_COUNTRY = re.compile(r"^[A-Z]{2}$")


def clean(text: str | None) -> str | None:
    """Surrounding whitespace removed; blank → None. Inner text is left exactly as JDE has it."""
    if text is None:
        return None
    text = text.strip()
    return text or None


def checked(value: str | None, field: str, label: str, limit: int) -> str | None:
    if value is not None and (problem := length_problem(label, value, limit)):
        raise Refused(field, problem)
    return value


def phone(value: str | None, field: str) -> str | None:
    """A phone is an identifier: over Stripe's 20 characters it is refused, never cut."""
    return checked(clean(value), field, "phone", PHONE_MAX_LENGTH)


def address(jde: JdeAddress | None, *, whose: str = "") -> StripeAddress | None:
    """F0116 → Stripe address: line1 = first line, line2 = the other lines joined with ', '.

    County (COUN) is not sent: Stripe's address has no such field. `whose` names the party in errors.
    """
    if jde is None:
        return None
    suffix = f" ({whose})" if whose else ""
    lines = [line for line in (clean(raw) for raw in jde.lines) if line]
    country = clean(jde.country)
    if country is not None:
        country = country.upper()
        if not _COUNTRY.match(country):
            raise Refused(
                "F0116.CTR",
                f"country {jde.country!r}{suffix} is not an ISO 3166-1 alpha-2 code, which Stripe requires",
            )
    result = StripeAddress(
        line1=lines[0] if lines else None,
        line2=", ".join(lines[1:]) or None,
        city=clean(jde.city),
        state=clean(jde.state),
        postal_code=clean(jde.postal_code),
        country=country,
    )
    for key, alias in (
        ("line1", "ADD1"),
        ("line2", "ADD2"),
        ("city", "CTY1"),
        ("state", "ADDS"),
        ("postal_code", "ADDZ"),
    ):
        checked(getattr(result, key), f"F0116.{alias}", f"address {key}{suffix}", ADDRESS_FIELD_MAX_LENGTH)
    if not result.params():
        return None
    return result


def shipping(party: JdeParty, *, whose: str) -> ShippingDetails | None:
    """Name + address (+ phone) of a party; None when it has no address (nothing to ship to)."""
    stripe_address = address(party.address, whose=whose)
    if stripe_address is None:
        return None
    name = clean(party.name)
    if name is None:
        raise Refused("F0101.ALPH", f"{whose} has an address but no name; Stripe requires a recipient name")
    checked(name, "F0101.ALPH", f"shipping name ({whose})", SHIPPING_NAME_MAX_LENGTH)
    return ShippingDetails(name=name, address=stripe_address, phone=phone(party.phone, "F0115.PH1"))


def validated_metadata(metadata: Mapping[str, str | None], field: str = "metadata") -> Mapping[str, str]:
    """Drops None values (absent in JDE), then checks Stripe's limits; never shortens a value."""
    result = {key: value for key, value in metadata.items() if value is not None}
    if problem := metadata_problem(result):
        raise Refused(field, problem)
    return MappingProxyType(result)


def plain_decimal(value: Decimal) -> str:
    """Canonical text of a quantity: no exponent, no trailing zeros (`5.000` → `5`, `2.50` → `2.5`)."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def display_amount(value: Decimal, exponent: int) -> str:
    """A price as people read it: at least the currency's decimals, more only when JDE has them."""
    places = value.normalize().as_tuple().exponent
    decimals = max(exponent, -places if isinstance(places, int) else 0)
    return f"{value:.{decimals}f}"


def document_metadata(record: JdeInvoice, **extra: str) -> Mapping[str, str]:
    """The metadata every Stripe object of a JDE document carries: its keys (so the ledger can be
    rebuilt from Stripe), its customer, its JDE version stamp and profile."""
    return validated_metadata(
        {
            "jde_kcoo": record.key.kcoo,
            "jde_doco": str(record.key.doco),
            "jde_dcto": record.key.dcto,
            "jde_sfxo": record.key.sfxo,
            "jde_an8": str(record.an8),
            "jde_updated_at": record.updated_at.isoformat(),
            "jde_profile": record.profile,
            **extra,
        }
    )
