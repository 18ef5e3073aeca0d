"""Typed Stripe requests: what the mapping produces and the sync engine sends.

Each request knows three things:
- `params()`: the exact plain dict for the SDK's create call (`client.v1.customers.create(params=…)`,
  `client.v1.invoices.create(params=…)`, one element of `add_lines`' `lines`);
- `update_params()`: the dict for the update call, touching ONLY the fields the mapping owns, with
  `""` to unset an owned field JDE no longer has, so anything a person added in Stripe (other
  metadata keys, a field the mapping does not own) is left alone;
- `content_hash`: sha256 of the canonical JSON of what is sent (the Stripe customer id of an invoice
  excluded: it is Stripe's, not JDE's): the idempotency-key input, so one key never carries two
  different bodies;
- `change_hash`: the same without the JDE version stamp (`metadata.jde_updated_at`): the engine's
  change detector, so a JDE edit Stripe cannot see (a credit limit, a GL account) costs no request.
  Stripe's stamp then tells the JDE version of the last change Stripe took.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from jde_stripe_pipeline.jde.records import InvoiceProfileName, JdeDocumentKey
from jde_stripe_pipeline.mapping.config import CollectionMethod
from jde_stripe_pipeline.mapping.errors import MissingCustomerError
from jde_stripe_pipeline.mapping.hashing import content_hash

Params = dict[str, Any]

VERSION_STAMP_KEY = "jde_updated_at"

_ADDRESS_KEYS = ("line1", "line2", "city", "state", "postal_code", "country")


@dataclass(frozen=True, slots=True)
class StripeAddress:
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    """ISO 3166-1 alpha-2, upper case."""

    def params(self) -> dict[str, str]:
        return {key: value for key in _ADDRESS_KEYS if (value := getattr(self, key)) is not None}

    def update_params(self) -> dict[str, str]:
        """Every sub-field, `""` for the absent ones, so a line JDE dropped does not linger in Stripe."""
        return {key: getattr(self, key) or "" for key in _ADDRESS_KEYS}


@dataclass(frozen=True, slots=True)
class ShippingDetails:
    """Customer `shipping` / invoice `shipping_details` (same shape: name and address required)."""

    name: str
    address: StripeAddress
    phone: str | None = None

    def params(self) -> Params:
        params: Params = {"name": self.name, "address": self.address.params()}
        if self.phone is not None:
            params["phone"] = self.phone
        return params

    def update_params(self) -> Params:
        return {"name": self.name, "address": self.address.update_params(), "phone": self.phone or ""}


@dataclass(frozen=True, slots=True)
class CustomFieldValue:
    name: str
    value: str

    def params(self) -> dict[str, str]:
        return {"name": self.name, "value": self.value}


def _owned_metadata_update(metadata: Mapping[str, str], owned_keys: tuple[str, ...]) -> dict[str, str]:
    """Owned keys only; `""` deletes an owned key the record no longer has."""
    return {key: metadata.get(key, "") for key in owned_keys}


@dataclass(frozen=True, slots=True)
class CustomerRequest:
    an8: int
    name: str
    email: str | None
    phone: str | None
    address: StripeAddress | None
    shipping: ShippingDetails | None
    preferred_locales: tuple[str, ...]
    metadata: Mapping[str, str]

    OWNED_METADATA_KEYS: ClassVar[tuple[str, ...]] = ("jde_an8", "jde_company", "jde_updated_at")
    ALWAYS_OWNED_FIELDS: ClassVar[tuple[str, ...]] = (
        "name",
        "email",
        "phone",
        "address",
        "shipping",
        "metadata",
    )

    @property
    def record_key(self) -> str:
        return str(self.an8)

    @property
    def owned_fields(self) -> frozenset[str]:
        """Top-level customer fields an update sets. `preferred_locales` only when JDE names a
        language the mapping knows (Stripe cannot unset it through the SDK, and a person's choice
        should stand when JDE has none); `metadata` means the `OWNED_METADATA_KEYS` only."""
        owned = set(self.ALWAYS_OWNED_FIELDS)
        if self.preferred_locales:
            owned.add("preferred_locales")
        return frozenset(owned)

    def params(self) -> Params:
        params: Params = {"name": self.name, "metadata": dict(self.metadata)}
        if self.email is not None:
            params["email"] = self.email
        if self.phone is not None:
            params["phone"] = self.phone
        if self.address is not None:
            params["address"] = self.address.params()
        if self.shipping is not None:
            params["shipping"] = self.shipping.params()
        if self.preferred_locales:
            params["preferred_locales"] = list(self.preferred_locales)
        return params

    def update_params(self) -> Params:
        params: Params = {
            "name": self.name,
            "email": self.email or "",
            "phone": self.phone or "",
            "address": self.address.update_params() if self.address is not None else "",
            "shipping": self.shipping.update_params() if self.shipping is not None else "",
            "metadata": _owned_metadata_update(self.metadata, self.OWNED_METADATA_KEYS),
        }
        if self.preferred_locales:
            params["preferred_locales"] = list(self.preferred_locales)
        return params

    @property
    def content_hash(self) -> str:
        return content_hash({"customer": self.params()})

    @property
    def change_hash(self) -> str:
        return content_hash({"customer": _without_version_stamp(self.params())})


@dataclass(frozen=True, slots=True)
class InvoiceLineRequest:
    """One JDE line → one Stripe invoice line (an invoice item), identified by `jde_lnid`."""

    lnid: str
    """Canonical JDE line number: three decimals, e.g. `1.000`, `12.500` (also `metadata['jde_lnid']`);
    for an A/R invoice the line's order and number (`SO 5001 00001 1.000`) or pay item (`SFX 001`)."""
    amount: int
    """AEXP in minor units; negative for a credit line."""
    description: str
    metadata: Mapping[str, str]
    tax_amounts: tuple[Mapping[str, Any], ...] | None = None
    """JDE's tax on the line (`ar_invoice`): Stripe's `tax_amounts` entries, `()` for none. None: the
    line's tax is not the mapping's (the order profiles), so it is neither sent nor compared."""

    OWNED_METADATA_KEYS: ClassVar[tuple[str, ...]] = (
        "jde_lnid",
        "jde_item",
        "jde_quantity",
        "jde_uom",
        "jde_unit_price",
    )
    TAX_METADATA_KEYS: ClassVar[tuple[str, ...]] = ("jde_tax_source",)

    @property
    def owned_metadata_keys(self) -> tuple[str, ...]:
        """The metadata keys an update sets: with JDE's tax, also where it came from."""
        if self.tax_amounts is None:
            return self.OWNED_METADATA_KEYS
        return (*self.OWNED_METADATA_KEYS, *self.TAX_METADATA_KEYS)

    def params(self) -> Params:
        """One element of `client.v1.invoices.add_lines(id, params={"lines": [...]})`."""
        params: Params = {
            "amount": self.amount,
            "description": self.description,
            "metadata": dict(self.metadata),
        }
        if self.tax_amounts:
            params["tax_amounts"] = [dict(entry) for entry in self.tax_amounts]
        return params

    def update_params(self, line_item_id: str) -> Params:
        """One element of `update_lines`' `lines`: `line_item_id` is Stripe's `il_…` id of the line."""
        params: Params = {
            "id": line_item_id,
            "amount": self.amount,
            "description": self.description,
            "metadata": _owned_metadata_update(self.metadata, self.owned_metadata_keys),
        }
        if self.tax_amounts is not None:
            params["tax_amounts"] = [dict(entry) for entry in self.tax_amounts] or ""
        return params

    @property
    def content_hash(self) -> str:
        return content_hash({"line": self.params()})


@dataclass(frozen=True, slots=True)
class DocumentRequest:
    """What every request for one JDE document (an invoice, a credit memo, a void) starts with."""

    profile: InvoiceProfileName
    document_key: JdeDocumentKey
    customer_an8: int
    """The JDE customer (AN8): the engine resolves it to the Stripe customer id."""

    @property
    def record_key(self) -> str:
        return str(self.document_key)


@dataclass(frozen=True, slots=True)
class DocumentGone(DocumentRequest):
    """A document with nothing for Stripe to hold any more: its hashes are stable for the document, so
    an unchanged 'nothing to bill' is recognised as done."""

    HASH_TAG: ClassVar[str] = "document_gone"

    @property
    def content_hash(self) -> str:
        return content_hash({self.HASH_TAG: self.record_key, "profile": self.profile})

    @property
    def change_hash(self) -> str:
        return self.content_hash


@dataclass(frozen=True, slots=True)
class InvoiceRequest(DocumentRequest):
    """A draft Stripe invoice for one JDE document: header params plus its lines keyed by `jde_lnid`.

    Create = `invoices.create(params())` then `add_lines` with each line's `params()`; an existing
    draft converges with `update_params()` and the line-level update/remove/add by `lnid`.
    """

    currency: str
    collection_method: CollectionMethod
    days_until_due: int | None
    number: str | None
    effective_at: int
    shipping_details: ShippingDetails | None
    custom_fields: tuple[CustomFieldValue, ...]
    metadata: Mapping[str, str]
    lines: tuple[InvoiceLineRequest, ...]
    customer_id: str | None = None
    """Stripe's `cus_…`: filled by the engine (`with_customer`); never part of the content hash."""
    due_date: int | None = None
    """JDE's own due date (`ar_invoice`: DDJ at local midnight), instead of `days_until_due`."""

    OWNED_METADATA_KEYS: ClassVar[tuple[str, ...]] = (
        "jde_kcoo",
        "jde_doco",
        "jde_dcto",
        "jde_sfxo",
        "jde_an8",
        "jde_updated_at",
        "jde_profile",
    )

    def with_customer(self, customer_id: str) -> InvoiceRequest:
        return replace(self, customer_id=customer_id)

    @property
    def owned_fields(self) -> frozenset[str]:
        """Header fields an update sets. Create-only (never updated): `customer`, `currency`,
        `auto_advance` (a person may decide to let Stripe advance the draft),
        `pending_invoice_items_behavior`. `number` and `custom_fields` are owned only when the
        configuration sets them; `custom_fields` is owned as a whole list (Stripe replaces it)."""
        owned = {"collection_method", "effective_at", "shipping_details", "metadata"}
        owned.update(self._terms_and_number())
        if self.custom_fields:
            owned.add("custom_fields")
        return frozenset(owned)

    def _terms_and_number(self) -> Params:
        """The optional header fields sent (and owned) only when the mapping sets them."""
        optional = {"days_until_due": self.days_until_due, "due_date": self.due_date, "number": self.number}
        return {key: value for key, value in optional.items() if value is not None}

    def _header_params(self) -> Params:
        params: Params = {
            "auto_advance": False,
            "collection_method": self.collection_method,
            "currency": self.currency,
            "effective_at": self.effective_at,
            "metadata": dict(self.metadata),
            "pending_invoice_items_behavior": "exclude",
            **self._terms_and_number(),
        }
        if self.shipping_details is not None:
            params["shipping_details"] = self.shipping_details.params()
        if self.custom_fields:
            params["custom_fields"] = [custom.params() for custom in self.custom_fields]
        return params

    def params(self) -> Params:
        """`client.v1.invoices.create(params=…)`: a draft, without lines (those go to `add_lines`)."""
        if self.customer_id is None:
            raise MissingCustomerError(
                f"invoice {self.record_key}: no Stripe customer id yet for AN8 {self.customer_an8} "
                "(use with_customer)"
            )
        return {**self._header_params(), "customer": self.customer_id}

    def update_params(self) -> Params:
        """`client.v1.invoices.update(id, params=…)` for a draft: owned header fields only."""
        params: Params = {
            "collection_method": self.collection_method,
            "effective_at": self.effective_at,
            "shipping_details": self.shipping_details.update_params()
            if self.shipping_details is not None
            else "",
            "metadata": _owned_metadata_update(self.metadata, self.OWNED_METADATA_KEYS),
            **self._terms_and_number(),
        }
        if self.custom_fields:
            params["custom_fields"] = [custom.params() for custom in self.custom_fields]
        return params

    def line(self, lnid: str) -> InvoiceLineRequest | None:
        return next((line for line in self.lines if line.lnid == lnid), None)

    @property
    def total_minor(self) -> int:
        return invoice_total_minor(self)

    @property
    def content_hash(self) -> str:
        """Header (customer id excluded) and every line, in line order."""
        return content_hash(
            {"invoice": self._header_params(), "lines": [line.params() for line in self.lines]}
        )

    @property
    def change_hash(self) -> str:
        return content_hash(
            {
                "invoice": _without_version_stamp(self._header_params()),
                "lines": [_without_version_stamp(line.params()) for line in self.lines],
            }
        )


def invoice_total_minor(request: InvoiceRequest) -> int:
    """What the Stripe draft's total must be, in minor units: the sum of the mapped lines."""
    return sum(line.amount for line in request.lines)


@dataclass(frozen=True, slots=True)
class DeleteDraftInvoice(DocumentGone):
    """The JDE document has nothing left to bill (every line cancelled, or no lines at all).

    The engine deletes the Stripe draft if one exists (`DELETE /v1/invoices/{id}`, drafts only; a
    finalized invoice is a conflict for a person) and otherwise does nothing.
    """

    reason: str

    HASH_TAG: ClassVar[str] = "delete_draft_invoice"


def _without_version_stamp(params: Params) -> Params:
    metadata = params.get("metadata")
    if not isinstance(metadata, Mapping) or VERSION_STAMP_KEY not in metadata:
        return params
    return {**params, "metadata": {k: v for k, v in metadata.items() if k != VERSION_STAMP_KEY}}
