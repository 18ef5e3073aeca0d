"""Pure comparisons of a mapped request with the Stripe object as it stands. No I/O.

The engine converges from what Stripe actually holds, never from what the ledger believes: after a
crash half-way through an invoice, or an edit by a person, the diff says exactly which calls remain.
Only fields the mapping owns are compared; anything else in Stripe is a person's and is left alone.
JDE's version stamp (`metadata.jde_updated_at`) is bookkeeping, not a difference: it is written along
with a real change of the object's own fields, never alone (a JDE edit of an invoice's lines costs the
line calls, not a header update as well).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jde_stripe_pipeline.mapping import CustomerRequest, InvoiceLineRequest, InvoiceRequest
from jde_stripe_pipeline.mapping.requests import VERSION_STAMP_KEY

_ADDRESS_KEYS = ("line1", "line2", "city", "state", "postal_code", "country")
LINE_KEY = "jde_lnid"
CREDIT_MEMO_KEY = "jde_credit_memo"
"""On lines a JDE credit memo added to its original's draft (`sync/ar_events.py`)."""


def _blank(value: object) -> object:
    return None if value in ("", None) else value


def _address(value: object) -> dict[str, object] | None:
    if not isinstance(value, Mapping):
        return None
    normal = {key: _blank(value.get(key)) for key in _ADDRESS_KEYS}
    return normal if any(v is not None for v in normal.values()) else None


def _shipping(value: object) -> dict[str, object] | None:
    if not isinstance(value, Mapping) or not value.get("name"):
        return None
    return {
        "name": value.get("name"),
        "address": _address(value.get("address")),
        "phone": _blank(value.get("phone")),
    }


def _owned_metadata_differs(wanted: Mapping[str, str], actual: object, owned: Sequence[str]) -> bool:
    have = actual if isinstance(actual, Mapping) else {}
    return any(_blank(wanted.get(key)) != _blank(have.get(key)) for key in owned)


def _owned_but_the_stamp(owned: Sequence[str]) -> tuple[str, ...]:
    return tuple(key for key in owned if key != VERSION_STAMP_KEY)


def customer_differences(request: CustomerRequest, customer: Mapping[str, Any]) -> list[str]:
    """Owned customer fields whose Stripe value differs from what the request would set."""
    wanted = request.params()
    changed: list[str] = []
    for name in ("name", "email", "phone"):
        if _blank(wanted.get(name)) != _blank(customer.get(name)):
            changed.append(name)
    if _address(wanted.get("address")) != _address(customer.get("address")):
        changed.append("address")
    if _shipping(wanted.get("shipping")) != _shipping(customer.get("shipping")):
        changed.append("shipping")
    if "preferred_locales" in request.owned_fields and list(request.preferred_locales) != list(
        customer.get("preferred_locales") or []
    ):
        changed.append("preferred_locales")
    owned = _owned_but_the_stamp(request.OWNED_METADATA_KEYS)
    if _owned_metadata_differs(request.metadata, customer.get("metadata"), owned):
        changed.append("metadata")
    return changed


def _days_until_due(invoice: Mapping[str, Any]) -> int | None:
    """A draft shows no `days_until_due` (a create/update parameter only), but its `due_date` is
    `created` + that many days; unknown (None) when Stripe shows no due date."""
    due, created = invoice.get("due_date"), invoice.get("created")
    if due is None or created is None:
        return None
    return (int(due) - int(created)) // 86400


def invoice_header_differences(request: InvoiceRequest, invoice: Mapping[str, Any]) -> list[str]:
    """Owned header fields of a draft whose Stripe value differs from what `update_params` would set."""
    changed: list[str] = []
    for name in ("collection_method", "effective_at"):
        if getattr(request, name) != invoice.get(name):
            changed.append(name)
    days = _days_until_due(invoice)
    if request.days_until_due is not None and days is not None and request.days_until_due != days:
        changed.append("days_until_due")
    if request.due_date is not None and request.due_date != invoice.get("due_date"):
        changed.append("due_date")
    if request.number is not None and request.number != invoice.get("number"):
        changed.append("number")
    if request.custom_fields and [c.params() for c in request.custom_fields] != [
        {"name": c.get("name"), "value": c.get("value")} for c in invoice.get("custom_fields") or []
    ]:
        changed.append("custom_fields")
    wanted_shipping = request.shipping_details.params() if request.shipping_details is not None else None
    if _shipping(wanted_shipping) != _shipping(invoice.get("shipping_details")):
        changed.append("shipping_details")
    owned = _owned_but_the_stamp(request.OWNED_METADATA_KEYS)
    if _owned_metadata_differs(request.metadata, invoice.get("metadata"), owned):
        changed.append("metadata")
    return changed


def create_only_differences(request: InvoiceRequest, invoice: Mapping[str, Any]) -> list[str]:
    """Fields an existing draft cannot be changed in (Stripe refuses them on update)."""
    changed: list[str] = []
    if request.customer_id is not None and invoice.get("customer") != request.customer_id:
        changed.append("customer")
    if invoice.get("currency") != request.currency:
        changed.append("currency")
    return changed


def person_added_metadata(invoice: Mapping[str, Any], owned: Sequence[str]) -> list[str]:
    metadata = invoice.get("metadata") or {}
    return sorted(key for key in metadata if key not in owned)


def line_summary(line: Mapping[str, Any]) -> dict[str, object]:
    return {"id": line.get("id"), "amount": line.get("amount"), "description": line.get("description")}


@dataclass(frozen=True)
class LineDiff:
    """What it takes to make a draft's JDE lines equal the request's, by `jde_lnid`."""

    add: tuple[InvoiceLineRequest, ...]
    update: tuple[tuple[str, InvoiceLineRequest], ...]
    """(Stripe line id `il_…`, the line it must become)."""
    remove: tuple[str, ...]
    """Stripe line ids of JDE lines JDE no longer bills (and duplicates of one `jde_lnid`)."""
    person_added: tuple[Mapping[str, object], ...]
    """Lines without `jde_lnid`: a person's, left alone and reported."""
    unchanged: int

    @property
    def empty(self) -> bool:
        return not (self.add or self.update or self.remove)

    def summary(self) -> dict[str, object]:
        return {
            "lines_added": [line.lnid for line in self.add],
            "lines_updated": [line.lnid for _, line in self.update],
            "lines_removed": list(self.remove),
        }


def _tax_signature(entries: Sequence[Mapping[str, Any]]) -> list[tuple[object, object, bool]]:
    return sorted((e.get("amount"), e.get("taxable_amount"), bool(e.get("inclusive"))) for e in entries)


def _line_taxes_match(wanted: InvoiceLineRequest, line: Mapping[str, Any]) -> bool:
    """JDE's tax on the line (when the mapping owns it) as Stripe shows it: amount, base, behaviour."""
    if wanted.tax_amounts is None:
        return True
    want = [{**entry, "inclusive": entry["tax_rate_data"]["inclusive"]} for entry in wanted.tax_amounts]
    have = [{**tax, "inclusive": tax.get("tax_behavior") == "inclusive"} for tax in line.get("taxes") or []]
    return _tax_signature(want) == _tax_signature(have)


def line_differences(wanted: InvoiceLineRequest, line: Mapping[str, Any]) -> list[str]:
    """What of a JDE line the Stripe line shows otherwise: `amount`, `description`, `metadata` (owned
    keys), `tax`."""
    differs = {
        "amount": wanted.amount != line.get("amount"),
        "description": wanted.description != line.get("description"),
        "metadata": _owned_metadata_differs(
            wanted.metadata, line.get("metadata"), wanted.owned_metadata_keys
        ),
        "tax": not _line_taxes_match(wanted, line),
    }
    return [name for name, differ in differs.items() if differ]


def _line_matches(wanted: InvoiceLineRequest, line: Mapping[str, Any]) -> bool:
    return not line_differences(wanted, line)


def diff_lines(request: InvoiceRequest, stripe_lines: Sequence[Mapping[str, Any]]) -> LineDiff:
    wanted = {line.lnid: line for line in request.lines}
    seen: set[str] = set()
    update: list[tuple[str, InvoiceLineRequest]] = []
    remove: list[str] = []
    person: list[Mapping[str, object]] = []
    unchanged = 0
    for line in stripe_lines:
        metadata = line.get("metadata") or {}
        if metadata.get(CREDIT_MEMO_KEY):
            continue  # a credit memo applied to the draft: the memo's, not this invoice's JDE lines
        lnid = metadata.get(LINE_KEY)
        if not lnid:
            person.append(line_summary(line))
            continue
        target = wanted.get(lnid)
        if target is None or lnid in seen:
            remove.append(str(line["id"]))
            continue
        seen.add(lnid)
        if _line_matches(target, line):
            unchanged += 1
        else:
            update.append((str(line["id"]), target))
    add = tuple(line for line in request.lines if line.lnid not in seen)
    return LineDiff(add, tuple(update), tuple(remove), tuple(person), unchanged)
