"""The `ar_invoice` extract: A/R documents with a row changed in a window, whole, by DOC/DCT/KCO.

A document is changed when any of its rows is: an F03B11 pay item (UPMJ/UPMT: a post, a void, a
revision), a sales line linked to it in F42119 or F4211 (UPMJ/TDAY), or an F0018 row the post wrote.
As for orders, the keys come first (key columns only, the configured document types only), then the
documents are read whole in chunks (LIST on number, company and type) and assembled by
`jde.ar_assemble`. F03B11 has no index on UPMJ/UPMT, so the window read scans it on the database
side; only the three key columns of the changed rows come back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from jde_stripe_pipeline.jde.ar_assemble import assemble_ar_invoice, document_key, document_key_values
from jde_stripe_pipeline.jde.ar_records import JdeArInvoice
from jde_stripe_pipeline.jde.assemble import quarantine
from jde_stripe_pipeline.jde.client import AisSession, Row
from jde_stripe_pipeline.jde.profiles import ArInvoiceProfile
from jde_stripe_pipeline.jde.query import chunked
from jde_stripe_pipeline.jde.read import INVOICE_CHUNK, browse, document_rows, in_list
from jde_stripe_pipeline.jde.records import JdeDocumentKey, QuarantinedRecord
from jde_stripe_pipeline.jde.tables import TableSpec
from jde_stripe_pipeline.jde.window import UpdateWindow, window_query

LEDGER_KEY = ("KCO", "DOC", "DCT")
"""A row's document in F03B11 and in the sales line tables (the invoice Sales Update linked it to)."""
TAX_KEY = ("KCOO", "DOCO", "DCTO")
"""The document of an F0018 row (see `ArInvoiceProfile`)."""


def _keys_of(spec: TableSpec, profile: ArInvoiceProfile) -> tuple[str, str, str]:
    return TAX_KEY if spec.name == profile.tax_table else LEDGER_KEY


def extract_ar_invoices(
    session: AisSession, window: UpdateWindow, profile: ArInvoiceProfile, *, chunk_size: int = INVOICE_CHUNK
) -> Iterator[JdeArInvoice | QuarantinedRecord]:
    """Every posted or voided A/R document of the profile's types with a row changed in the window."""
    changed: set[JdeDocumentKey] = set()
    for spec in profile.tables:
        aliases = _keys_of(spec, profile)
        query = window_query(spec, window).and_also(in_list(spec, aliases[2], profile.document_types))
        for row in browse(session, spec, aliases, query):
            key = document_key(row, aliases)
            if key is None:
                raw_key = "/".join(str(row.get(alias)) for alias in aliases)
                yield quarantine("invoice", raw_key, f"{spec.name}.{aliases[1]}", "bad document key", row)
            elif key.doco:
                changed.add(key)
    yield from fetch_ar_invoices(session, profile, changed, chunk_size=chunk_size)


def fetch_ar_invoices(
    session: AisSession,
    profile: ArInvoiceProfile,
    keys: Iterable[JdeDocumentKey],
    *,
    chunk_size: int = INVOICE_CHUNK,
) -> Iterator[JdeArInvoice | QuarantinedRecord]:
    """The current state of these documents (a replay re-reads just the ones that failed)."""
    for chunk in chunked(sorted(set(keys), key=JdeDocumentKey.sort_key), chunk_size):
        ledger = _rows_of(session, profile.ledger_spec, LEDGER_KEY, chunk)
        lines = {spec.name: _rows_of(session, spec, LEDGER_KEY, chunk) for spec in profile.line_specs}
        taxes = _rows_of(session, profile.tax_spec, TAX_KEY, chunk)
        for key in chunk:
            record = assemble_ar_invoice(
                profile,
                key,
                ledger.get(key, []),
                {name: rows.get(key, []) for name, rows in lines.items()},
                taxes.get(key, []),
            )
            if record is not None:
                yield record


def _rows_of(
    session: AisSession, spec: TableSpec, aliases: tuple[str, str, str], keys: Sequence[JdeDocumentKey]
) -> dict[JdeDocumentKey, list[Row]]:
    return document_rows(session, spec, aliases, keys, lambda row: document_key_values(row, aliases))
