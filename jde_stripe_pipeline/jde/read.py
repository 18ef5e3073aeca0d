"""Incremental extracts: the customers and invoices changed in a window of JDE update stamps.

A record is changed when any row that makes it up has its (UPMJ, UPMT/TDAY) stamp in `[start,
end)`. Each extract first collects the keys of the changed records (only key columns are read),
then fetches the full current rows for those keys in chunks (the LIST operator) and joins them in
the client — AIS has no ad-hoc joins, and business views differ per site. The tables' key reads, and
then the chunks, are read a few at once (`jde.parallel`), their records yielded in the same order all
the same. Memory holds the set of changed keys plus the chunks in flight, never the whole result.

This module does the reading; `jde.assemble` turns each record's rows into a record or a
`QuarantinedRecord`, yielded in its place (never raised and never dropped).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from jde_stripe_pipeline.jde.assemble import assemble_customer, assemble_invoice, assemble_party, quarantine
from jde_stripe_pipeline.jde.client import AisSession, Row
from jde_stripe_pipeline.jde.parallel import in_order
from jde_stripe_pipeline.jde.profiles import CUSTOMER_SHIP_TO, ArInvoiceProfile, InvoiceProfile
from jde_stripe_pipeline.jde.query import (
    BrowseRequest,
    Condition,
    LiteralValue,
    Operator,
    Query,
    chunked,
    column_id,
)
from jde_stripe_pipeline.jde.records import (
    DocumentKeyValues,
    JdeCustomer,
    JdeDocumentKey,
    JdeInvoice,
    JdeParty,
    QuarantinedRecord,
    ShipToSource,
    address_number,
)
from jde_stripe_pipeline.jde.rows import BadRow
from jde_stripe_pipeline.jde.ship_to import ShipToOrder, latest_ship_to_orders
from jde_stripe_pipeline.jde.tables import CUSTOMER_TABLES, F0101, F0116, F03012, ColumnType, TableSpec
from jde_stripe_pipeline.jde.window import UpdateWindow, window_query

CUSTOMER_CHUNK = 200
INVOICE_CHUNK = 100
_KeyRead = tuple[TableSpec, tuple[str, ...]]
"""A table read for the keys of the records changed in a window, and the key's aliases."""


def browse(session: AisSession, spec: TableSpec, columns: Sequence[str], query: Query) -> Iterator[Row]:
    """A streamed BROWSE of `spec`, ordered (and resumable) by the table's key."""
    date_keys = {alias for alias in spec.key if spec.columns.get(alias) is ColumnType.DATE}
    return session.browse(BrowseRequest(spec.name, tuple(columns), query), spec.key, date_columns=date_keys)


def in_list(spec: TableSpec, alias: str, values: Iterable[LiteralValue]) -> Condition:
    """`alias` is one of `values` (AIS's LIST operator)."""
    return Condition(column_id(spec.name, alias), Operator.LIST, tuple(values))


def today_in_jde(session: AisSession) -> date:
    return datetime.now(session.settings.zone).date()


def customer_reads(ship_to_source: ShipToSource = "customer") -> tuple[TableSpec, ...]:
    """Every table a customer extract reads (what the AIS user must be allowed to read); with the
    ship-to, the sales order headers too (the ship-to's F0101/F0116 are customer tables already)."""
    if ship_to_source == "ship_to":
        return (*CUSTOMER_TABLES, CUSTOMER_SHIP_TO.ship_to_spec)
    return CUSTOMER_TABLES


# ---------------------------------------------------------------------------------- customers


def extract_customers(
    session: AisSession,
    window: UpdateWindow,
    *,
    companies: Sequence[str] | None = None,
    as_of: date | None = None,
    ship_to_source: ShipToSource = "customer",
    chunk_size: int = CUSTOMER_CHUNK,
) -> Iterator[JdeCustomer | QuarantinedRecord]:
    """Every customer with a row changed in the window, as its full current state, by AN8.

    `companies` (F03012.CO) limits the customers and, in the given order, says which company's
    F03012 row a customer with several is read from; without it the lowest CO wins. `as_of`
    (default: today in the JDE zone) picks the current F0116 address. With `ship_to_source=
    "ship_to"` each record also carries its ship-to (`profiles.CUSTOMER_SHIP_TO`), and a sales order
    shipping elsewhere changed in the window makes its customer changed. A change to the ship-to's
    own address-book rows does not (it is another AN8).
    """
    as_of = as_of or today_in_jde(session)
    company_filter = tuple(companies) if companies else None

    def changed_in(spec: TableSpec) -> tuple[set[int], list[QuarantinedRecord]]:
        query = window_query(spec, window)
        if spec is F03012 and company_filter:
            query = query.and_also(in_list(F03012, "CO", company_filter))
        found: set[int] = set()
        bad: list[QuarantinedRecord] = []
        for row in browse(session, spec, ("AN8",), query):
            an8 = address_number(row.get("AN8"))
            if an8 is None:
                reason = "not an address number"
                bad.append(quarantine("customer", repr(row.get("AN8")), f"{spec.name}.AN8", reason, row))
            else:
                found.add(an8)
        return found, bad

    changed: set[int] = set()
    # the tables' key reads side by side
    for found, bad in in_order(changed_in, CUSTOMER_TABLES, session.read_workers):
        yield from bad
        changed |= found
    if ship_to_source == "ship_to":
        changed |= _customers_with_changed_ship_to(session, window)
    read = _CustomerChunks(session, company_filter, as_of, ship_to_source)
    for _, record in read.by_an8(changed, chunk_size):
        if record is not None:  # an address book change of someone who is not a customer
            yield record


def fetch_customers(
    session: AisSession,
    an8s: Sequence[int],
    *,
    as_of: date | None = None,
    companies: Sequence[str] | None = None,
    ship_to_source: ShipToSource = "customer",
    chunk_size: int = CUSTOMER_CHUNK,
) -> Iterator[JdeCustomer | QuarantinedRecord]:
    """The current state of these customers (for invoices whose customer Stripe lacks); an AN8 with
    no F03012 row is quarantined, not dropped."""
    as_of = as_of or today_in_jde(session)
    company_filter = tuple(companies) if companies else None
    read = _CustomerChunks(session, company_filter, as_of, ship_to_source)
    for an8, record in read.by_an8(an8s, chunk_size):
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


@dataclass(frozen=True)
class _CustomerChunks:
    """How one extract reads its customers: the session, the companies, the day, the ship-to."""

    session: AisSession
    companies: Sequence[str] | None
    as_of: date
    ship_to_source: ShipToSource

    def by_an8(
        self, an8s: Iterable[int], chunk_size: int
    ) -> Iterator[tuple[int, JdeCustomer | QuarantinedRecord | None]]:
        """Each AN8 with its assembled record (None: no F03012 row), read in chunks with LIST queries."""
        for chunk in in_order(self.chunk, chunked(sorted(set(an8s)), chunk_size), self.session.read_workers):
            yield from chunk

    def chunk(self, an8s: Sequence[int]) -> list[tuple[int, JdeCustomer | QuarantinedRecord | None]]:
        session = self.session
        rows = _fetch_customer_rows(session, an8s, self.companies)
        ship_tos: dict[int, ShipToOrder | BadRow] = {}
        parties: dict[int, JdeParty | BadRow] = {}
        if self.ship_to_source == "ship_to":
            ship_tos = _fetch_ship_to_orders(session, an8s)
            wanted = sorted({order.ship_to for order in ship_tos.values() if isinstance(order, ShipToOrder)})
            parties = _fetch_parties(session, wanted, self.as_of)
        return [
            (
                an8,
                assemble_customer(
                    an8,
                    {name: by_an8.get(an8, []) for name, by_an8 in rows.items()},
                    as_of=self.as_of,
                    companies=self.companies,
                    ship_to=ship_tos.get(an8),
                    parties=parties,
                ),
            )
            for an8 in an8s
        ]


def _fetch_customer_rows(
    session: AisSession, an8s: Sequence[int], companies: Sequence[str] | None
) -> dict[str, dict[int, list[Row]]]:
    rows: dict[str, dict[int, list[Row]]] = {}
    for spec in CUSTOMER_TABLES:
        query = Query(conditions=(in_list(spec, "AN8", an8s),))
        if spec is F03012 and companies:
            query = query.and_also(in_list(F03012, "CO", companies))
        rows[spec.name] = _by_an8(browse(session, spec, spec.aliases, query))
    return rows


def _by_an8(rows: Iterable[Row]) -> dict[int, list[Row]]:
    grouped: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        if (an8 := address_number(row.get("AN8"))) is not None:
            grouped[an8].append(row)
    return grouped


def _ship_to_query(query: Query) -> Query:
    spec, types = CUSTOMER_SHIP_TO.ship_to_spec, CUSTOMER_SHIP_TO.order_types
    return query.and_also(in_list(spec, CUSTOMER_SHIP_TO.header.dcto, types)) if types else query


def _fetch_ship_to_orders(session: AisSession, an8s: Sequence[int]) -> dict[int, ShipToOrder | BadRow]:
    """One read of these customers' sales orders (the header columns that place a ship-to only)."""
    spec = CUSTOMER_SHIP_TO.ship_to_spec
    query = _ship_to_query(Query(conditions=(in_list(spec, CUSTOMER_SHIP_TO.header.customer, an8s),)))
    return latest_ship_to_orders(browse(session, spec, spec.aliases, query))


def _customers_with_changed_ship_to(session: AisSession, window: UpdateWindow) -> set[int]:
    """The sold-to AN8 of every sales order changed in the window that ships elsewhere."""
    spec, h = CUSTOMER_SHIP_TO.ship_to_spec, CUSTOMER_SHIP_TO.header
    found: set[int] = set()
    for row in browse(session, spec, (h.customer, h.ship_to), _ship_to_query(window_query(spec, window))):
        an8, shan = address_number(row.get(h.customer)), address_number(row.get(h.ship_to))
        if an8 is not None and shan and shan != an8:
            found.add(an8)  # a bad SHAN leaves its customer unchanged here; the fetch quarantines it
    return found


def _fetch_parties(session: AisSession, an8s: Sequence[int], as_of: date) -> dict[int, JdeParty | BadRow]:
    """Address-book entries (F0101 name + current F0116 address) for the given AN8s."""
    parties: dict[int, JdeParty | BadRow] = {}
    for chunk in chunked(an8s, CUSTOMER_CHUNK):
        books, addresses = (
            _by_an8(browse(session, spec, spec.aliases, Query(conditions=(in_list(spec, "AN8", chunk),))))
            for spec in (F0101, F0116)
        )
        for an8 in chunk:
            party = assemble_party(an8, books.get(an8, []), addresses.get(an8, []), as_of)
            if party is not None:
                parties[an8] = party
    return parties


# ----------------------------------------------------------------------------------- invoices


def extract_invoices(
    session: AisSession,
    window: UpdateWindow,
    profile: InvoiceProfile,
    *,
    as_of: date | None = None,
    chunk_size: int = INVOICE_CHUNK,
) -> Iterator[JdeInvoice | QuarantinedRecord]:
    """Every order whose header or any line changed in the window, whole, by document key (an A/R
    profile reads its documents instead: `jde.ar_read`)."""
    if isinstance(profile, ArInvoiceProfile):
        from jde_stripe_pipeline.jde.ar_read import extract_ar_invoices

        yield from extract_ar_invoices(session, window, profile, chunk_size=chunk_size)
        return
    as_of = as_of or today_in_jde(session)
    header, detail = profile.header_spec, profile.detail_spec

    def changed_in(read: _KeyRead) -> tuple[set[DocumentKeyValues], list[QuarantinedRecord]]:
        spec, key_aliases = read
        query = window_query(spec, window)
        if profile.order_types:
            query = query.and_also(in_list(spec, key_aliases[2], profile.order_types))
        found: set[DocumentKeyValues] = set()
        bad: list[QuarantinedRecord] = []
        for row in browse(session, spec, key_aliases, query):
            doc_key = JdeDocumentKey.values_in(row, key_aliases)
            if doc_key is None:
                raw_key = "/".join(str(row.get(alias)) for alias in key_aliases)
                bad.append(quarantine("invoice", raw_key, f"{spec.name}.DOCO", "bad document key", row))
            else:
                found.add(doc_key)
        return found, bad

    changed: set[DocumentKeyValues] = set()  # one key per document, not per line read
    reads = ((header, tuple(profile.header.key)), (detail, tuple(profile.line.header_key)))
    for found, bad in in_order(changed_in, reads, session.read_workers):  # header and lines side by side
        yield from bad
        changed |= found
    keys = [JdeDocumentKey.of(values) for values in changed]
    yield from _invoices_in_chunks(session, profile, keys, as_of, chunk_size)


def fetch_invoices(
    session: AisSession,
    profile: InvoiceProfile,
    keys: Iterable[JdeDocumentKey],
    *,
    as_of: date | None = None,
    chunk_size: int = INVOICE_CHUNK,
) -> Iterator[JdeInvoice | QuarantinedRecord]:
    """The current state of these documents, whole (a replay re-reads just the records that failed)."""
    if isinstance(profile, ArInvoiceProfile):
        from jde_stripe_pipeline.jde.ar_read import fetch_ar_invoices

        yield from fetch_ar_invoices(session, profile, keys, chunk_size=chunk_size)
        return
    as_of = as_of or today_in_jde(session)
    yield from _invoices_in_chunks(session, profile, set(keys), as_of, chunk_size)


def _invoices_in_chunks(
    session: AisSession,
    profile: InvoiceProfile,
    keys: Iterable[JdeDocumentKey],
    as_of: date,
    chunk_size: int,
) -> Iterator[JdeInvoice | QuarantinedRecord]:
    """The documents by key order, read in chunks a few at once."""

    def read(chunk: Sequence[JdeDocumentKey]) -> list[JdeInvoice | QuarantinedRecord]:
        return _invoice_chunk(session, profile, chunk, as_of)

    for records in in_order(
        read, chunked(sorted(keys, key=JdeDocumentKey.sort_key), chunk_size), session.read_workers
    ):
        yield from records


def _invoice_chunk(
    session: AisSession, profile: InvoiceProfile, keys: Sequence[JdeDocumentKey], as_of: date
) -> list[JdeInvoice | QuarantinedRecord]:
    headers = _fetch_orders(session, profile.header_spec, profile.header.key, keys)
    lines = _fetch_orders(session, profile.detail_spec, profile.line.header_key, keys)
    ship_tos = sorted(
        {
            an8
            for rows in headers.values()
            for row in rows
            if (an8 := address_number(row.get(profile.header.ship_to)))
        }
    )
    parties = _fetch_parties(session, ship_tos, as_of)
    return [assemble_invoice(profile, key, headers.get(key, []), lines.get(key, []), parties) for key in keys]


def _fetch_orders(
    session: AisSession, spec: TableSpec, key_aliases: Sequence[str], keys: Sequence[JdeDocumentKey]
) -> dict[JdeDocumentKey, list[Row]]:
    kcoo, doco, dcto, _ = key_aliases
    return document_rows(
        session, spec, (kcoo, doco, dcto), keys, lambda row: JdeDocumentKey.values_in(row, key_aliases)
    )


def document_rows(
    session: AisSession,
    spec: TableSpec,
    aliases: tuple[str, str, str],
    keys: Sequence[JdeDocumentKey],
    key_of: Callable[[Row], DocumentKeyValues | None],
) -> dict[JdeDocumentKey, list[Row]]:
    """The rows of these documents (`key_of` reads a row's document key values, as
    `JdeDocumentKey.values_in`): LIST on the (company, number, type) aliases, the cross product
    trimmed here."""
    company, number, kind = aliases
    query = Query(
        conditions=(
            in_list(spec, number, sorted({k.doco for k in keys})),
            in_list(spec, company, sorted({k.kcoo for k in keys})),
            in_list(spec, kind, sorted({k.dcto for k in keys})),
        )
    )
    wanted = {key.sort_key(): key for key in keys}
    found: dict[DocumentKeyValues, list[Row]] = defaultdict(list)
    for row in browse(session, spec, spec.aliases, query):
        values = key_of(row)
        if values in wanted:
            found[values].append(row)
    return {wanted[values]: rows for values, rows in found.items()}
