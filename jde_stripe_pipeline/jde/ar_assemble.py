"""Pure assembly of one A/R document: its F03B11 pay items, sales lines and F0018 rows → a record.

No I/O (`jde.ar_read` fetches). Every row is validated against its table spec; a bad row, pay items
that disagree on customer or currency, or a line in another currency quarantine the whole document,
naming the field. A document with no F03B11 row yet (the invoice number printed on F4211 before Sales
Update ran) or not yet posted (some live pay item's POST is not `D`) is not returned: nothing to bill.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from jde_stripe_pipeline.jde.ar_documents import ar_documents
from jde_stripe_pipeline.jde.ar_records import JdeArInvoice, JdeArLine, JdeArTax
from jde_stripe_pipeline.jde.assemble import quarantine
from jde_stripe_pipeline.jde.client import Row
from jde_stripe_pipeline.jde.profiles import ArInvoiceProfile
from jde_stripe_pipeline.jde.records import DocumentKeyValues, JdeDocumentKey, QuarantinedRecord
from jde_stripe_pipeline.jde.rows import BadRow, blank_to_none, row_stamp, typed_rows

LineRows = Mapping[str, Sequence[Row]]
"""Sales line rows by table name (F42119, F4211)."""


def assemble_ar_invoice(
    profile: ArInvoiceProfile,
    key: JdeDocumentKey,
    ledger_rows: Sequence[Row],
    line_rows: LineRows,
    tax_rows: Sequence[Row],
) -> JdeArInvoice | QuarantinedRecord | None:
    """One document (key with SFXO `000`) from its rows; None when there is nothing to bill yet."""
    record_key = str(key)
    if not ledger_rows:
        return None
    try:
        ledger = typed_rows(profile.ledger_spec, ledger_rows)
        lines = {spec.name: typed_rows(spec, line_rows.get(spec.name, ())) for spec in profile.line_specs}
        taxes = typed_rows(profile.tax_spec, tax_rows)
    except BadRow as bad:
        return quarantine("invoice", record_key, bad.error.field, bad.error.reason, bad.raw)
    documents, errors = ar_documents(ledger, profile.document_types)
    if errors:
        error = errors[0]
        return quarantine("invoice", record_key, error.field, error.reason, ledger_rows[0])
    if not documents:
        return None
    document = documents[0]
    if document.status == "unposted":
        return None
    first = ledger[0]
    if document.invoice_date is None:
        return quarantine("invoice", record_key, "F03B11.RPDIVJ", "the invoice date is blank", ledger_rows[0])
    built = _lines(profile, key, lines, document.currency.upper(), document.foreign)
    if isinstance(built, QuarantinedRecord):
        return built
    stamps: list[datetime | None] = [row_stamp(profile.ledger_spec, row) for row in ledger]
    stamps += [line.updated_at for line in built]
    stamps += [row_stamp(profile.tax_spec, row) for row in taxes]
    original = None
    if first["ODOC"] and first["ODCT"].strip():
        original = JdeDocumentKey(kcoo=first["OKCO"].strip(), doco=first["ODOC"], dcto=first["ODCT"].strip())
    values: dict[str, Any] = {
        "profile": profile.name,
        "header_table": profile.header_table,
        "detail_table": profile.detail_table,
        "key": key,
        "an8": document.customer,
        "document_date": document.invoice_date,
        "currency": document.currency.upper(),
        "total": document.gross,
        "lines": tuple(built),
        "updated_at": max(s for s in stamps if s is not None),
        "kind": "credit_memo" if key.dcto in profile.credit_memo_types else "invoice",
        "status": document.status,
        "document": document,
        "original": original,
        "taxes": _current_taxes(taxes),
    }
    return JdeArInvoice.model_validate(values)


def _lines(
    profile: ArInvoiceProfile,
    key: JdeDocumentKey,
    rows: Mapping[str, list[dict[str, Any]]],
    currency: str,
    foreign: bool,
) -> list[JdeArLine] | QuarantinedRecord:
    """The document's sales lines by (order, LNID), history first; amounts by the currency mode."""
    seen: dict[tuple[str, int, str, Decimal], JdeArLine] = {}
    for spec in profile.line_specs:
        for line in rows[spec.name]:
            order = JdeDocumentKey(kcoo=line["KCOO"].strip(), doco=line["DOCO"], dcto=line["DCTO"].strip())
            position = (order.kcoo, order.doco, order.dcto, line["LNID"])
            if position in seen:
                continue  # also still in F4211: the history row is the line as invoiced
            line_currency = line["CRCD"].strip()
            if line_currency and line_currency != currency:
                reason = f"line {order} {line['LNID']} is in {line_currency}, the invoice in {currency}"
                return quarantine("invoice", str(key), f"{spec.name}.CRCD", reason, line)
            stamp = row_stamp(spec, line)
            if stamp is None:
                reason = f"line {order} {line['LNID']} has no update date"
                return quarantine("invoice", str(key), f"{spec.name}.UPMJ", reason, line)
            seen[position] = JdeArLine(
                lnid=line["LNID"],
                item=blank_to_none(line["LITM"]),
                description=line["DSC1"].strip(),
                description2=blank_to_none(line["DSC2"]),
                quantity=line["UORG"],
                unit_of_measure=blank_to_none(line["UOM"]),
                unit_price=line["FUP" if foreign else "UPRC"],
                amount=line["FEA" if foreign else "AEXP"],
                last_status=blank_to_none(line["LTTR"]),
                next_status=blank_to_none(line["NXTR"]),
                currency=line_currency or None,
                updated_at=stamp,
                table=spec.name,
                order=order,
                taxable=line["TAX1"].strip().upper() == "Y",
                tax_area=blank_to_none(line["TXA1"]),
                tax_explanation=blank_to_none(line["EXR1"]),
            )
    return [seen[position] for position in sorted(seen)]


def _current_taxes(rows: Sequence[dict[str, Any]]) -> tuple[JdeArTax, ...]:
    """Per pay item the F0018 row with the highest LNID (a posted revision adds the next one)."""
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        sfx = row["SFXO"].strip()
        if sfx not in latest or row["LNID"] > latest[sfx]["LNID"]:
            latest[sfx] = row
    taxes = []
    for sfx, row in sorted(latest.items()):
        rate = sum((row[f"TXR{n}"] for n in range(1, 6)), Decimal(0))
        taxes.append(
            JdeArTax(
                sfx=sfx,
                tax=sum((row[f"STA{n}"] for n in range(1, 6)), Decimal(0)),
                rate=rate or None,
                tax_area=blank_to_none(row["TXA1"]),
                tax_explanation=blank_to_none(row["EXR1"]),
            )
        )
    return tuple(taxes)


def document_key(row: Row, aliases: tuple[str, str, str]) -> JdeDocumentKey | None:
    """The A/R document a row belongs to, from its (company, number, type) aliases; None if malformed."""
    values = document_key_values(row, aliases)
    return None if values is None else JdeDocumentKey.of(values)


def document_key_values(row: Row, aliases: tuple[str, str, str]) -> DocumentKeyValues | None:
    """`document_key`'s values as a plain tuple (`JdeDocumentKey.values_in`); SFXO is always 000."""
    return JdeDocumentKey.values_in({**row, "_SFX": "000"}, (*aliases, "_SFX"))
