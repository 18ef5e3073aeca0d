"""Pure assembly: raw AIS rows of one record → a typed JDE record, or the reason it is quarantined.

No I/O: `jde.read` fetches the rows and hands each record's rows here. Every row is validated
against its table spec; a record with a bad row becomes a `QuarantinedRecord` naming the record
and the `TABLE.ALIAS` that failed (an invoice with one bad line is quarantined whole).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

from pydantic import ValidationError

from jde_stripe_pipeline.jde.client import Row
from jde_stripe_pipeline.jde.profiles import CUSTOMER_SHIP_TO, InvoiceProfile, LineColumns
from jde_stripe_pipeline.jde.records import (
    JdeAddress,
    JdeCustomer,
    JdeDocumentKey,
    JdeInvoice,
    JdeInvoiceLine,
    JdeParty,
    QuarantinedRecord,
    RecordKind,
)
from jde_stripe_pipeline.jde.rows import BadRow, blank_to_none, row_stamp, typed_rows
from jde_stripe_pipeline.jde.ship_to import ShipToOrder
from jde_stripe_pipeline.jde.tables import CUSTOMER_TABLES, F0101, F0115, F01151, F0116, F03012

M = TypeVar("M", JdeCustomer, JdeInvoice, JdeInvoiceLine)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


PartyLookup = Mapping[int, "JdeParty | BadRow"]
"""Ship-to AN8 → its address-book entry, or the bad row that kept it from being read."""


# ---------------------------------------------------------------------------------- customers


_CUSTOMER_FIELDS = {
    "an8": "F03012.AN8",
    "company": "F03012.CO",
    "name": "F0101.ALPH",
    "tax_id": "F0101.TAX",
    "address": "F0116",
    "email": "F01151.EMAL",
    "phone": "F0115.PH1",
    "currency": "F03012.CRCD",
    "payment_terms": "F03012.TRAR",
    "language": "F0101.LNGP",
    "updated_at": "F03012.UPMJ",
}


def assemble_customer(
    an8: int,
    raw: Mapping[str, Sequence[Row]],
    *,
    as_of: date,
    companies: Sequence[str] | None = None,
    ship_to: ShipToOrder | BadRow | None = None,
    parties: PartyLookup | None = None,
) -> JdeCustomer | QuarantinedRecord | None:
    """Join one AN8's rows (by table name) into a customer; None when it has no F03012 row.

    `ship_to` is the customer's latest sales order shipping elsewhere (when the ship-to is read)
    and `parties` its SHAN's address-book entry; without one the record has no ship-to.
    """
    if not raw.get(F03012.name):
        return None
    key = str(an8)
    try:
        typed = {spec.name: typed_rows(spec, raw.get(spec.name, ())) for spec in CUSTOMER_TABLES}
    except BadRow as bad:
        return quarantine("customer", key, bad.error.field, bad.error.reason, bad.raw)
    master = _choose_company(typed[F03012.name], companies)
    if not typed[F0101.name]:
        return quarantine("customer", key, "F0101.AN8", "the customer has no address book (F0101) row", {})
    book = typed[F0101.name][0]
    currency = blank_to_none(master["CRCD"])
    if currency is not None and not _CURRENCY.match(currency):
        return quarantine(
            "customer",
            key,
            "F03012.CRCD",
            f"{currency!r} is not a currency code",
            _raw_of(raw[F03012.name], "CO", master["CO"]),
        )
    email, email_row = _first_email(typed[F01151.name])
    if email is not None and not _EMAIL.match(email):
        return quarantine(
            "customer", key, "F01151.EMAL", f"{email!r} is not an e-mail address", email_row or {}
        )
    ship_to_party: JdeParty | None = None
    if isinstance(ship_to, BadRow):
        return quarantine("customer", key, ship_to.error.field, ship_to.error.reason, ship_to.raw)
    if ship_to is not None:
        party = (parties or {}).get(ship_to.ship_to)
        where = f"ship-to {ship_to.ship_to} of sales order {ship_to.key}"
        if isinstance(party, BadRow):
            return quarantine("customer", key, party.error.field, f"{where}: {party.error.reason}", party.raw)
        if party is None:
            field_name = f"{CUSTOMER_SHIP_TO.header_table}.{CUSTOMER_SHIP_TO.header.ship_to}"
            reason = f"{where} is not in the address book (F0101)"
            return quarantine("customer", key, field_name, reason, ship_to.raw)
        ship_to_party = party
    stamps = [row_stamp(spec, row) for spec in CUSTOMER_TABLES for row in typed[spec.name]]
    if ship_to is not None:
        stamps.append(ship_to.stamp)
    values: dict[str, Any] = {
        "an8": an8,
        "company": master["CO"],
        "name": book["ALPH"].strip(),
        "tax_id": blank_to_none(book["TAX"]),
        "address": current_address(typed[F0116.name], as_of),
        "email": email,
        "phone": _business_phone(typed[F0115.name]),
        "currency": currency,
        "payment_terms": blank_to_none(master["TRAR"]),
        "language": blank_to_none(book["LNGP"]),
        "ship_to": ship_to_party,
        "ship_to_order": ship_to.key if ship_to is not None else None,
        "updated_at": max((s for s in stamps if s is not None), default=None),
    }
    if not values["name"]:
        return quarantine("customer", key, "F0101.ALPH", "the alpha name is blank", raw[F0101.name][0])
    return _build(JdeCustomer, values, "customer", key, _CUSTOMER_FIELDS, raw[F03012.name][0])


def assemble_party(
    an8: int, book_rows: Sequence[Row], address_rows: Sequence[Row], as_of: date
) -> JdeParty | BadRow | None:
    """An address-book entry seen from another record: F0101 name + current F0116 address; None
    when it has no F0101 row, the bad row when one fails its spec."""
    try:
        books = typed_rows(F0101, book_rows)
        addresses = typed_rows(F0116, address_rows)
    except BadRow as bad:
        return bad
    if not books:
        return None
    return JdeParty(an8=an8, name=books[0]["ALPH"].strip(), address=current_address(addresses, as_of))


def _choose_company(rows: Sequence[dict[str, Any]], companies: Sequence[str] | None) -> dict[str, Any]:
    """The F03012 row a customer is read from: first listed company, else the lowest CO."""
    if companies:
        by_company = {row["CO"]: row for row in rows}
        for company in companies:
            if company in by_company:
                return by_company[company]
    return min(rows, key=lambda row: row["CO"])


def current_address(rows: Sequence[dict[str, Any]], as_of: date) -> JdeAddress | None:
    """The F0116 row with the latest EFTB not after `as_of` (a blank EFTB is always in effect)."""
    effective = [row for row in rows if row["EFTB"] is None or row["EFTB"] <= as_of]
    if not effective:
        return None
    row = max(effective, key=lambda r: r["EFTB"] or date.min)
    return JdeAddress(
        lines=tuple(
            line.strip() for line in (row["ADD1"], row["ADD2"], row["ADD3"], row["ADD4"]) if line.strip()
        ),
        city=blank_to_none(row["CTY1"]),
        state=blank_to_none(row["ADDS"]),
        postal_code=blank_to_none(row["ADDZ"]),
        country=blank_to_none(row["CTR"]),
        county=blank_to_none(row["COUN"]),
    )


def _first_email(rows: Sequence[dict[str, Any]]) -> tuple[str | None, Row | None]:
    candidates = sorted(
        (row for row in rows if row["ETP"].strip() == "E" and row["EMAL"].strip()),
        key=lambda row: (row["IDLN"], row["RCK7"]),
    )
    if not candidates:
        return None, None
    return candidates[0]["EMAL"].strip(), candidates[0]


def _business_phone(rows: Sequence[dict[str, Any]]) -> str | None:
    candidates = sorted(
        (row for row in rows if not row["PHTP"].strip() and row["PH1"].strip()),
        key=lambda row: (row["IDLN"], row["RCK7"]),
    )
    if not candidates:
        return None
    row = candidates[0]
    return f"{row['AR1'].strip()} {row['PH1'].strip()}".strip()


# ----------------------------------------------------------------------------------- invoices


def assemble_invoice(
    profile: InvoiceProfile,
    key: JdeDocumentKey,
    header_rows: Sequence[Row],
    line_rows: Sequence[Row],
    parties: PartyLookup,
) -> JdeInvoice | QuarantinedRecord:
    """Join one order's header and lines into an invoice; any bad row quarantines the whole order."""
    h, ln = profile.header, profile.line
    header_spec, detail_spec = profile.header_spec, profile.detail_spec
    record_key = str(key)
    if len(header_rows) != 1:
        reason = (
            "the order's lines changed but it has no header row"
            if not header_rows
            else "duplicate header rows"
        )
        raw = dict(line_rows[0]) if line_rows else dict(header_rows[0])
        return quarantine("invoice", record_key, f"{profile.header_table}.{h.doco}", reason, raw)
    try:
        head = typed_rows(header_spec, header_rows)[0]
        lines = sorted(typed_rows(detail_spec, line_rows), key=lambda row: row[ln.line_number])
    except BadRow as failure:
        return quarantine("invoice", record_key, failure.error.field, failure.error.reason, failure.raw)
    raw_header = header_rows[0]

    def bad(table: str, alias: str, reason: str, raw: Row) -> QuarantinedRecord:
        return quarantine("invoice", record_key, f"{table}.{alias}", reason, raw)

    currency = head[h.currency].strip()
    if not _CURRENCY.match(currency):
        return bad(profile.header_table, h.currency, f"{currency!r} is not a currency code", raw_header)
    if head[h.document_date] is None:
        return bad(profile.header_table, h.document_date, "the order date is blank", raw_header)
    ship_to: JdeParty | None = None
    shan = head[h.ship_to]
    if shan:
        party = parties.get(shan)
        if isinstance(party, BadRow):
            reason = f"ship-to {shan}: {party.error.reason}"
            return quarantine("invoice", record_key, party.error.field, reason, party.raw)
        if party is None and shan != head[h.customer]:
            reason = f"ship-to {shan} is not in the address book (F0101)"
            return bad(profile.header_table, h.ship_to, reason, raw_header)
        ship_to = party

    def raw_line(index: int) -> Row:
        """The raw row of `lines[index]`: looked up only for a quarantine."""
        return _sorted_raw(line_rows, lines, ln.line_number)[index]

    built_lines: list[JdeInvoiceLine] = []
    for index, line in enumerate(lines):
        line_currency = line[ln.currency].strip()
        if line_currency and line_currency != currency:
            reason = f"line {line[ln.line_number]} is in {line_currency}, the order in {currency}"
            return bad(profile.detail_table, ln.currency, reason, raw_line(index))
        stamp = row_stamp(detail_spec, line)
        if stamp is None:
            reason = f"line {line[ln.line_number]} has no update date"
            return bad(profile.detail_table, ln.updated_date, reason, raw_line(index))
        values = {
            "lnid": line[ln.line_number],
            "item": blank_to_none(line[ln.item]),
            "description": line[ln.description].strip(),
            "description2": blank_to_none(line[ln.description2]),
            "quantity": line[ln.quantity],
            "unit_of_measure": blank_to_none(line[ln.unit_of_measure]),
            "unit_price": line[ln.unit_price],
            "amount": line[ln.amount],
            "last_status": blank_to_none(line[ln.last_status]),
            "next_status": blank_to_none(line[ln.next_status]),
            "currency": line_currency or None,
            "updated_at": stamp,
        }
        try:
            built_lines.append(JdeInvoiceLine.model_validate(values))
        except ValidationError as exc:
            fields = {name: f"{profile.detail_table}.{alias}" for name, alias in _line_aliases(ln).items()}
            return _invalid(exc, "invoice", record_key, fields, raw_line(index))
    head_stamp = row_stamp(header_spec, head)
    stamps = [s for s in (head_stamp, *(line.updated_at for line in built_lines)) if s is not None]
    values = {
        "profile": profile.name,
        "header_table": profile.header_table,
        "detail_table": profile.detail_table,
        "key": key,
        "an8": head[h.customer],
        "ship_to": ship_to,
        "document_date": head[h.document_date],
        "requested_date": head[h.requested_date],
        "currency": currency,
        "total": head[h.total],
        "payment_terms": blank_to_none(head[h.payment_terms]),
        "lines": tuple(built_lines),
        "updated_at": max(stamps, default=None),
    }
    header_fields = {
        "an8": h.customer,
        "document_date": h.document_date,
        "requested_date": h.requested_date,
        "currency": h.currency,
        "total": h.total,
        "payment_terms": h.payment_terms,
        "updated_at": h.updated_date,
        "ship_to": h.ship_to,
        "key": h.doco,
    }
    fields = {name: f"{profile.header_table}.{alias}" for name, alias in header_fields.items()}
    return _build(JdeInvoice, values, "invoice", record_key, fields, raw_header)


def _line_aliases(ln: LineColumns) -> dict[str, str]:
    return {
        "lnid": ln.line_number,
        "item": ln.item,
        "description": ln.description,
        "description2": ln.description2,
        "quantity": ln.quantity,
        "unit_of_measure": ln.unit_of_measure,
        "unit_price": ln.unit_price,
        "amount": ln.amount,
        "last_status": ln.last_status,
        "next_status": ln.next_status,
        "currency": ln.currency,
        "updated_at": ln.updated_date,
    }


def _sorted_raw(raw_rows: Sequence[Row], typed: Sequence[dict[str, Any]], line_alias: str) -> list[Row]:
    """The raw rows in the order of their typed twins (for the raw row of a quarantine)."""
    by_lnid: dict[Any, Row] = {}
    for raw in raw_rows:
        by_lnid.setdefault(str(raw.get(line_alias)), raw)
    return [by_lnid.get(str(row[line_alias]), {}) for row in typed]


# ------------------------------------------------------------------------------------ helpers


def _raw_of(rows: Sequence[Row], alias: str, value: object) -> Row:
    """The raw row whose `alias` is `value` (for the raw row of a quarantine)."""
    return next((row for row in rows if str(row.get(alias, "")).rstrip() == value), rows[0])


def quarantine(
    kind: RecordKind, key: str, field_name: str, reason: str, raw: Mapping[str, Any]
) -> QuarantinedRecord:
    return QuarantinedRecord(kind=kind, record_key=key, field=field_name, reason=reason, raw=dict(raw))


def _build(
    model: type[M],
    values: dict[str, Any],
    kind: RecordKind,
    key: str,
    fields: Mapping[str, str],
    raw: Mapping[str, Any],
) -> M | QuarantinedRecord:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        return _invalid(exc, kind, key, fields, raw)


def _invalid(
    exc: ValidationError, kind: RecordKind, key: str, fields: Mapping[str, str], raw: Mapping[str, Any]
) -> QuarantinedRecord:
    """The quarantine of a record the model refused: its first error, named by its JDE field."""
    error = exc.errors(include_url=False, include_input=False)[0]
    name = str(error["loc"][0]) if error["loc"] else "?"
    return quarantine(kind, key, fields.get(name, name), str(error["msg"]), raw)
