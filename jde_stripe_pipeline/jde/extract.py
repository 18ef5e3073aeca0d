"""Incremental extracts: the customers and invoices changed in a window of JDE update stamps.

A record is changed when any row that makes it up has its (UPMJ, UPMT/TDAY) stamp in `[start,
end)`. Each extract first collects the keys of the changed records (only key columns are read),
then fetches the full current rows for those keys in chunks (the LIST operator) and joins them in
the client — AIS has no ad-hoc joins, and business views differ per site. Memory holds the set of
changed keys plus one chunk of rows, never the whole result.

Every row is validated; a record with a bad row becomes a `QuarantinedRecord` yielded in its place
(an invoice with one bad line is quarantined whole), never raised and never dropped.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import ValidationError

from jde_stripe_pipeline.jde.client import AisSession, Row
from jde_stripe_pipeline.jde.julian import time_to_hhmmss
from jde_stripe_pipeline.jde.profiles import InvoiceProfile
from jde_stripe_pipeline.jde.query import (
    AndOr,
    BrowseRequest,
    ComplexQuery,
    Condition,
    LiteralValue,
    MatchType,
    Operator,
    Query,
    chunked,
    column_id,
)
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
from jde_stripe_pipeline.jde.rows import RowError, blank_to_none, row_stamp, typed_row
from jde_stripe_pipeline.jde.tables import (
    CUSTOMER_TABLES,
    F0101,
    F0115,
    F01151,
    F0116,
    F03012,
    ColumnType,
    TableSpec,
)

M = TypeVar("M", JdeCustomer, JdeInvoice, JdeInvoiceLine)

CUSTOMER_CHUNK = 200
INVOICE_CHUNK = 100
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


# ------------------------------------------------------------------------------------- window


@dataclass(frozen=True)
class UpdateWindow:
    """`[start, end)` of JDE update stamps: naive datetimes in the JDE server's time zone."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("an update window is naive local time in the JDE server's zone")
        if not self.start < self.end:
            raise ValueError(f"empty update window [{self.start}, {self.end})")

    @classmethod
    def days(cls, first: date, end: date) -> UpdateWindow:
        """Whole days `[first, end)` (a Dagster daily partition range)."""
        return cls(datetime.combine(first, time(0)), datetime.combine(end, time(0)))

    def contains(self, stamp: datetime | None) -> bool:
        return stamp is not None and self.start <= stamp < self.end


def _ceil_second(value: datetime) -> datetime:
    """JDE stamps are whole seconds: `stamp >= t` is `stamp >= ceil(t)`."""
    if value.microsecond:
        return value.replace(microsecond=0) + timedelta(seconds=1)
    return value


def window_query(spec: TableSpec, window: UpdateWindow) -> Query:
    """The rows of `spec` whose (UPMJ, time) stamp lies in the window, exact at both edges.

    `UPMJ >= start day AND UPMJ <= end day`, AND `(UPMJ > start day OR time >= start time)` unless
    the window starts at midnight, AND `(UPMJ < end day OR time < end time)` (or `UPMJ < end day`
    when it ends at midnight). Complex queries are only ever ANDed, so no grouping is ambiguous; a
    window of whole days is two plain conditions.
    """
    start, end = _ceil_second(window.start), _ceil_second(window.end)
    day, clock = column_id(spec.name, spec.date_column), column_id(spec.name, spec.time_column)
    conditions = [Condition(day, Operator.GREATER_EQUAL, (start.date(),))]
    complex_parts: list[ComplexQuery] = []
    if start.time() != time(0):
        start_edge = Query(
            conditions=(
                Condition(day, Operator.GREATER, (start.date(),)),
                Condition(clock, Operator.GREATER_EQUAL, (time_to_hhmmss(start.time()),)),
            ),
            match_type=MatchType.MATCH_ANY,
        )
        complex_parts.append(ComplexQuery(AndOr.AND, start_edge))
    if end.time() == time(0):
        conditions.append(Condition(day, Operator.LESS, (end.date(),)))
    else:
        conditions.append(Condition(day, Operator.LESS_EQUAL, (end.date(),)))
        end_edge = Query(
            conditions=(
                Condition(day, Operator.LESS, (end.date(),)),
                Condition(clock, Operator.LESS, (time_to_hhmmss(end.time()),)),
            ),
            match_type=MatchType.MATCH_ANY,
        )
        complex_parts.append(ComplexQuery(AndOr.AND, end_edge))
    return Query(conditions=tuple(conditions), complex=tuple(complex_parts))


def _browse(session: AisSession, spec: TableSpec, columns: Sequence[str], query: Query) -> Iterator[Row]:
    """A streamed BROWSE of `spec`, ordered (and resumable) by the table's key."""
    date_keys = {alias for alias in spec.key if spec.columns.get(alias) is ColumnType.DATE}
    return session.browse(BrowseRequest(spec.name, tuple(columns), query), spec.key, date_columns=date_keys)


def _list(spec: TableSpec, alias: str, values: Iterable[LiteralValue]) -> Condition:
    return Condition(column_id(spec.name, alias), Operator.LIST, tuple(values))


def today_in_jde(session: AisSession) -> date:
    return datetime.now(session.settings.zone).date()


# ---------------------------------------------------------------------------------- customers


def extract_customers(
    session: AisSession,
    window: UpdateWindow,
    *,
    companies: Sequence[str] | None = None,
    as_of: date | None = None,
    chunk_size: int = CUSTOMER_CHUNK,
) -> Iterator[JdeCustomer | QuarantinedRecord]:
    """Every customer with a row changed in the window, as its full current state, by AN8.

    `companies` (F03012.CO) limits the customers and, in the given order, says which company's
    F03012 row a customer with several is read from; without it the lowest CO wins. `as_of`
    (default: today in the JDE zone) picks the current F0116 address.
    """
    as_of = as_of or today_in_jde(session)
    company_filter = tuple(companies) if companies else None
    changed: set[int] = set()
    for spec in CUSTOMER_TABLES:
        query = window_query(spec, window)
        if spec is F03012 and company_filter:
            query = query.and_also(_list(F03012, "CO", company_filter))
        for row in _browse(session, spec, ("AN8",), query):
            an8 = _an8(row.get("AN8"))
            if an8 is None:
                yield _quarantine(
                    "customer", repr(row.get("AN8")), f"{spec.name}.AN8", "not an address number", row
                )
            else:
                changed.add(an8)
    for _an8_key, record in _customers_by_an8(session, changed, company_filter, as_of, chunk_size):
        if record is not None:  # an address book change of someone who is not a customer
            yield record


def fetch_customers(
    session: AisSession,
    an8s: Sequence[int],
    *,
    as_of: date | None = None,
    companies: Sequence[str] | None = None,
    chunk_size: int = CUSTOMER_CHUNK,
) -> Iterator[JdeCustomer | QuarantinedRecord]:
    """The current state of these customers (for invoices whose customer Stripe lacks); an AN8 with
    no F03012 row is quarantined, not dropped."""
    as_of = as_of or today_in_jde(session)
    company_filter = tuple(companies) if companies else None
    for an8, record in _customers_by_an8(session, an8s, company_filter, as_of, chunk_size):
        yield (
            record
            if record is not None
            else QuarantinedRecord(
                kind="customer",
                record_key=str(an8),
                field="F03012.AN8",
                reason="an invoice names this customer, but JDE has no customer master (F03012) row",
            )
        )


def _customers_by_an8(
    session: AisSession,
    an8s: Iterable[int],
    companies: Sequence[str] | None,
    as_of: date,
    chunk_size: int,
) -> Iterator[tuple[int, JdeCustomer | QuarantinedRecord | None]]:
    """Each AN8 with its assembled record (None: no F03012 row), read in chunks with LIST queries."""
    for chunk in chunked(sorted(set(an8s)), chunk_size):
        rows = _fetch_customer_rows(session, chunk, companies)
        for an8 in chunk:
            yield (
                an8,
                assemble_customer(
                    an8,
                    {name: by_an8.get(an8, []) for name, by_an8 in rows.items()},
                    as_of=as_of,
                    companies=companies,
                ),
            )


def _fetch_customer_rows(
    session: AisSession, an8s: Sequence[int], companies: Sequence[str] | None
) -> dict[str, dict[int, list[Row]]]:
    rows: dict[str, dict[int, list[Row]]] = {}
    for spec in CUSTOMER_TABLES:
        query = Query(conditions=(_list(spec, "AN8", an8s),))
        if spec is F03012 and companies:
            query = query.and_also(_list(F03012, "CO", companies))
        by_an8: dict[int, list[Row]] = defaultdict(list)
        for row in _browse(session, spec, spec.aliases, query):
            an8 = _an8(row.get("AN8"))
            if an8 is not None:
                by_an8[an8].append(row)
        rows[spec.name] = by_an8
    return rows


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
) -> JdeCustomer | QuarantinedRecord | None:
    """Join one AN8's rows (by table name) into a customer; None when it has no F03012 row."""
    if not raw.get(F03012.name):
        return None
    key = str(an8)
    try:
        typed = {spec.name: _typed_rows(spec, raw.get(spec.name, ())) for spec in CUSTOMER_TABLES}
    except _BadRow as bad:
        return _quarantine("customer", key, bad.error.field, bad.error.reason, bad.raw)
    master = _choose_company(typed[F03012.name], companies)
    if not typed[F0101.name]:
        return _quarantine("customer", key, "F0101.AN8", "the customer has no address book (F0101) row", {})
    book = typed[F0101.name][0]
    currency = blank_to_none(master["CRCD"])
    if currency is not None and not _CURRENCY.match(currency):
        return _quarantine(
            "customer",
            key,
            "F03012.CRCD",
            f"{currency!r} is not a currency code",
            _raw_of(raw[F03012.name], "CO", master["CO"]),
        )
    email, email_row = _first_email(typed[F01151.name])
    if email is not None and not _EMAIL.match(email):
        return _quarantine(
            "customer", key, "F01151.EMAL", f"{email!r} is not an e-mail address", email_row or {}
        )
    stamps = [row_stamp(spec, row) for spec in CUSTOMER_TABLES for row in typed[spec.name]]
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
        "updated_at": max((s for s in stamps if s is not None), default=None),
    }
    if not values["name"]:
        return _quarantine("customer", key, "F0101.ALPH", "the alpha name is blank", raw[F0101.name][0])
    return _build(JdeCustomer, values, "customer", key, _CUSTOMER_FIELDS, raw[F03012.name][0])


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

DocKey = tuple[str, int, str, str]


def extract_invoices(
    session: AisSession,
    window: UpdateWindow,
    profile: InvoiceProfile,
    *,
    as_of: date | None = None,
    chunk_size: int = INVOICE_CHUNK,
) -> Iterator[JdeInvoice | QuarantinedRecord]:
    """Every order whose header or any line changed in the window, whole, by document key."""
    as_of = as_of or today_in_jde(session)
    header, detail = profile.header_spec, profile.detail_spec
    changed: set[DocKey] = set()
    for spec, key_aliases in ((header, profile.header.key), (detail, profile.line.header_key)):
        query = window_query(spec, window)
        if profile.order_types:
            query = query.and_also(_list(spec, key_aliases[2], profile.order_types))
        for row in _browse(session, spec, key_aliases, query):
            doc_key = _doc_key(row, key_aliases)
            if doc_key is None:
                yield _quarantine(
                    "invoice", _raw_key(row, key_aliases), f"{spec.name}.DOCO", "bad document key", row
                )
            else:
                changed.add(doc_key)
    for chunk in chunked(sorted(changed), chunk_size):
        yield from _invoice_chunk(session, profile, chunk, as_of)


def fetch_invoices(
    session: AisSession,
    profile: InvoiceProfile,
    keys: Iterable[JdeDocumentKey],
    *,
    as_of: date | None = None,
    chunk_size: int = INVOICE_CHUNK,
) -> Iterator[JdeInvoice | QuarantinedRecord]:
    """The current state of these documents, whole (a replay re-reads just the records that failed)."""
    as_of = as_of or today_in_jde(session)
    doc_keys = sorted({(key.kcoo, key.doco, key.dcto, key.sfxo) for key in keys})
    for chunk in chunked(doc_keys, chunk_size):
        yield from _invoice_chunk(session, profile, chunk, as_of)


def _invoice_chunk(
    session: AisSession, profile: InvoiceProfile, keys: Sequence[DocKey], as_of: date
) -> Iterator[JdeInvoice | QuarantinedRecord]:
    wanted = set(keys)
    headers = _fetch_orders(session, profile.header_spec, profile.header.key, keys, wanted)
    lines = _fetch_orders(session, profile.detail_spec, profile.line.header_key, keys, wanted)
    ship_tos = sorted(
        {an8 for rows in headers.values() for row in rows if (an8 := _an8(row.get(profile.header.ship_to)))}
    )
    parties = _fetch_parties(session, ship_tos, as_of)
    for key in keys:
        yield assemble_invoice(profile, key, headers.get(key, []), lines.get(key, []), parties)


def _fetch_orders(
    session: AisSession,
    spec: TableSpec,
    key_aliases: Sequence[str],
    keys: Sequence[DocKey],
    wanted: set[DocKey],
) -> dict[DocKey, list[Row]]:
    kcoo, doco, dcto, _ = key_aliases
    query = Query(
        conditions=(
            _list(spec, doco, sorted({k[1] for k in keys})),
            _list(spec, kcoo, sorted({k[0] for k in keys})),
            _list(spec, dcto, sorted({k[2] for k in keys})),
        )
    )
    found: dict[DocKey, list[Row]] = defaultdict(list)
    for row in _browse(session, spec, spec.aliases, query):
        doc_key = _doc_key(row, key_aliases)
        if doc_key in wanted:
            found[doc_key].append(row)
    return found


PartyLookup = Mapping[int, "JdeParty | _BadRow"]


def _fetch_parties(session: AisSession, an8s: Sequence[int], as_of: date) -> dict[int, JdeParty | _BadRow]:
    """Address-book entries (F0101 name + current F0116 address) for the given AN8s."""
    parties: dict[int, JdeParty | _BadRow] = {}
    for chunk in chunked(an8s, CUSTOMER_CHUNK):
        raw: dict[str, dict[int, list[Row]]] = {}
        for spec in (F0101, F0116):
            by_an8: dict[int, list[Row]] = defaultdict(list)
            query = Query(conditions=(_list(spec, "AN8", chunk),))
            for row in _browse(session, spec, spec.aliases, query):
                if (an8 := _an8(row.get("AN8"))) is not None:
                    by_an8[an8].append(row)
            raw[spec.name] = by_an8
        for an8 in chunk:
            try:
                books = _typed_rows(F0101, raw[F0101.name].get(an8, []))
                addresses = _typed_rows(F0116, raw[F0116.name].get(an8, []))
            except _BadRow as bad:
                parties[an8] = bad
                continue
            if books:
                parties[an8] = JdeParty(
                    an8=an8, name=books[0]["ALPH"].strip(), address=current_address(addresses, as_of)
                )
    return parties


def assemble_invoice(
    profile: InvoiceProfile,
    key: DocKey,
    header_rows: Sequence[Row],
    line_rows: Sequence[Row],
    parties: PartyLookup,
) -> JdeInvoice | QuarantinedRecord:
    """Join one order's header and lines into an invoice; any bad row quarantines the whole order."""
    h, ln = profile.header, profile.line
    header_spec, detail_spec = profile.header_spec, profile.detail_spec
    record_key = str(JdeDocumentKey(kcoo=key[0], doco=key[1], dcto=key[2], sfxo=key[3]))
    if len(header_rows) != 1:
        reason = (
            "the order's lines changed but it has no header row"
            if not header_rows
            else "duplicate header rows"
        )
        return _quarantine(
            "invoice",
            record_key,
            f"{profile.header_table}.{h.doco}",
            reason,
            dict(line_rows[0]) if line_rows else dict(header_rows[0]),
        )
    try:
        head = _typed_rows(header_spec, header_rows)[0]
        lines = sorted(_typed_rows(detail_spec, line_rows), key=lambda row: row[ln.line_number])
    except _BadRow as failure:
        return _quarantine("invoice", record_key, failure.error.field, failure.error.reason, failure.raw)
    raw_header = header_rows[0]

    def bad(table: str, alias: str, reason: str, raw: Row) -> QuarantinedRecord:
        return _quarantine("invoice", record_key, f"{table}.{alias}", reason, raw)

    currency = head[h.currency].strip()
    if not _CURRENCY.match(currency):
        return bad(profile.header_table, h.currency, f"{currency!r} is not a currency code", raw_header)
    if head[h.document_date] is None:
        return bad(profile.header_table, h.document_date, "the order date is blank", raw_header)
    ship_to: JdeParty | None = None
    shan = head[h.ship_to]
    if shan:
        party = parties.get(shan)
        if isinstance(party, _BadRow):
            reason = f"ship-to {shan}: {party.error.reason}"
            return _quarantine("invoice", record_key, party.error.field, reason, party.raw)
        if party is None and shan != head[h.customer]:
            return bad(
                profile.header_table,
                h.ship_to,
                f"ship-to {shan} is not in the address book (F0101)",
                raw_header,
            )
        ship_to = party
    built_lines: list[JdeInvoiceLine] = []
    for line, raw_line in zip(lines, _sorted_raw(line_rows, lines, ln.line_number), strict=True):
        line_currency = line[ln.currency].strip()
        if line_currency and line_currency != currency:
            return bad(
                profile.detail_table,
                ln.currency,
                f"line {line[ln.line_number]} is in {line_currency}, the order in {currency}",
                raw_line,
            )
        stamp = row_stamp(detail_spec, line)
        if stamp is None:
            return bad(
                profile.detail_table,
                ln.updated_date,
                f"line {line[ln.line_number]} has no update date",
                raw_line,
            )
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
            "updated_at": stamp,
        }
        built = _build(
            JdeInvoiceLine,
            values,
            "invoice",
            record_key,
            {name: f"{profile.detail_table}.{alias}" for name, alias in _line_aliases(ln).items()},
            raw_line,
        )
        if isinstance(built, QuarantinedRecord):
            return built
        built_lines.append(built)
    head_stamp = row_stamp(header_spec, head)
    stamps = [s for s in (head_stamp, *(line.updated_at for line in built_lines)) if s is not None]
    values = {
        "profile": profile.name,
        "key": JdeDocumentKey(kcoo=key[0], doco=key[1], dcto=key[2], sfxo=key[3]),
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
    fields = {
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
    return _build(
        JdeInvoice,
        values,
        "invoice",
        record_key,
        {name: f"{profile.header_table}.{alias}" for name, alias in fields.items()},
        raw_header,
    )


def _line_aliases(ln: Any) -> dict[str, str]:
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
        "updated_at": ln.updated_date,
    }


def _sorted_raw(raw_rows: Sequence[Row], typed: Sequence[dict[str, Any]], line_alias: str) -> list[Row]:
    """The raw rows in the order of their typed twins (for the raw row of a quarantine)."""
    by_lnid: dict[Any, Row] = {}
    for raw in raw_rows:
        by_lnid.setdefault(str(raw.get(line_alias)), raw)
    return [by_lnid.get(str(row[line_alias]), {}) for row in typed]


# ------------------------------------------------------------------------------- change probe


@dataclass(frozen=True)
class ChangeProbe:
    """What changed in `[since, until)`: per UPMJ date the latest stamp, and rows per table."""

    latest: dict[date, datetime] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def changed_update_dates(
    session: AisSession, since: datetime, until: datetime, tables: Iterable[TableSpec]
) -> ChangeProbe:
    """A cheap sensor probe: read only the stamp (and key) columns of the rows changed in the window.

    `tables` is e.g. `CUSTOMER_TABLES` or `profile.tables`. The window includes `since`, so a row
    written in the same second as the last probe's latest stamp is not missed.
    """
    window = UpdateWindow(since, until)
    latest: dict[date, datetime] = {}
    counts: dict[str, int] = {}
    for spec in tables:
        count = 0
        columns = (spec.date_column, spec.time_column)
        for raw in _browse(session, spec, columns, window_query(spec, window)):
            count += 1
            try:
                typed = typed_row(_stamp_spec(spec), raw)
            except RowError:
                continue  # a bad stamp cannot be placed on a day; the extract will quarantine its record
            stamp = row_stamp(spec, typed)
            if stamp is not None and stamp > latest.get(stamp.date(), datetime.min):
                latest[stamp.date()] = stamp
        counts[spec.name] = count
    return ChangeProbe(latest=dict(sorted(latest.items())), rows=counts)


def _stamp_spec(spec: TableSpec) -> TableSpec:
    return TableSpec(
        spec.name,
        key=spec.key,
        columns={
            spec.date_column: spec.columns[spec.date_column],
            spec.time_column: spec.columns[spec.time_column],
        },
        date_column=spec.date_column,
        time_column=spec.time_column,
    )


# ------------------------------------------------------------------------------------ helpers


class _BadRow(Exception):
    def __init__(self, error: RowError, raw: Row):
        super().__init__(str(error))
        self.error = error
        self.raw = raw


def _typed_rows(spec: TableSpec, rows: Iterable[Row]) -> list[dict[str, Any]]:
    typed = []
    for raw in rows:
        try:
            typed.append(typed_row(spec, raw))
        except RowError as error:
            raise _BadRow(error, dict(raw)) from None
    return typed


def _raw_of(rows: Sequence[Row], alias: str, value: object) -> Row:
    """The raw row whose `alias` is `value` (for the raw row of a quarantine)."""
    return next((row for row in rows if str(row.get(alias, "")).rstrip() == value), rows[0])


def _an8(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return None


def _doc_key(row: Row, aliases: Sequence[str]) -> DocKey | None:
    kcoo, doco, dcto, sfxo = (row.get(alias) for alias in aliases)
    number = _an8(doco)
    if number is None or not all(isinstance(v, str) for v in (kcoo, dcto, sfxo)):
        return None
    return (str(kcoo).strip(), number, str(dcto).strip(), str(sfxo).strip())


def _raw_key(row: Row, aliases: Sequence[str]) -> str:
    return "/".join(str(row.get(alias)) for alias in aliases)


def _quarantine(
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
        error = exc.errors(include_url=False, include_input=False)[0]
        name = str(error["loc"][0]) if error["loc"] else "?"
        return _quarantine(kind, key, fields.get(name, name), str(error["msg"]), raw)
