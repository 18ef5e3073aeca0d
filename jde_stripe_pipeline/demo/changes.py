"""The demo's JDE edits, made as a user of the sandbox would: through the AIS sandbox's admin HTTP API.

Three edits on records the first sync put in Stripe: re-price a line of one invoice, add a line to
another, rename a customer. The admin API stamps UPMJ/UPMT (TDAY) with the sandbox clock, so the
edits land in today's partition, and the second sync should move exactly these three records.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jde_stripe_pipeline.demo.summary import JdeChange
from jde_stripe_pipeline.jde.julian import julian_to_date
from jde_stripe_pipeline.jde.records import JdeDocumentKey
from jde_stripe_pipeline.mapping.money import currency_exponent
from jde_stripe_pipeline.sandboxes.ais.admin_client import AisAdmin

CANCELLED = "980"
ALPH_LENGTH = 40
ORDER_KEY = ("KCOO", "DOCO", "DCTO", "SFXO")
"""The sandbox's order tables name their key columns as JDE does (header and lines alike)."""


class DemoChangeError(RuntimeError):
    """The sandbox holds no record the demo can change (e.g. seeded too small)."""


@dataclass(frozen=True)
class AppliedChanges:
    changes: tuple[JdeChange, ...]
    julian_day: int
    """UPMJ the sandbox stamped on the edits (CYYDDD): the partition the second sync must run."""


def document_key(row: Mapping[str, Any]) -> str:
    """The ledger's invoice key of a sandbox order row (header or line)."""
    key = JdeDocumentKey.from_row(row, ORDER_KEY)
    assert key is not None, "the sandbox's order rows carry whole keys"
    return str(key)


def julian_to_key(julian: int) -> str:
    """CYYDDD -> YYYY-MM-DD (the partition key format)."""
    day = julian_to_date(julian)
    assert day is not None, "the sandbox stamps every edit"
    return day.isoformat()


def _lines_by_document(lines: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for line in lines:
        grouped.setdefault(document_key(line), []).append(line)
    return grouped


def _billable(lines: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted((x for x in lines if str(x["LTTR"]).strip() != CANCELLED), key=lambda x: Decimal(x["LNID"]))


def make_changes(
    api: AisAdmin, synced_invoices: Collection[str], synced_customers: Collection[str]
) -> AppliedChanges:
    """Re-price a line, add a line, rename a customer; only records that are in Stripe already.

    Picks invoices with billable lines (USD first) in key order (deterministic for a given seed) and a
    customer that is neither invoice's bill-to, so each edit moves exactly one Stripe object.
    """
    headers = [h for h in api.rows("F4301") if document_key(h) in synced_invoices]
    lines = _lines_by_document(api.rows("F4311"))
    candidates = sorted(
        (h for h in headers if _billable(lines.get(document_key(h), []))), key=lambda h: h["CRCD"] != "USD"
    )
    if len(candidates) < 2:
        raise DemoChangeError("fewer than two synced invoices with billable lines: seed more invoices")
    repriced, extended = candidates[0], candidates[1]
    changes = [
        _reprice(api, repriced, lines[document_key(repriced)]),
        _add_line(api, extended, lines[document_key(extended)]),
    ]

    busy = {str(repriced["AN8"]), str(extended["AN8"])}
    names = {str(row["AN8"]): row for row in api.rows("F0101")}
    customer = next(
        (an8 for an8 in sorted(synced_customers, key=int) if an8 not in busy and an8 in names), None
    )
    if customer is None:
        raise DemoChangeError("no synced customer left to rename: seed more customers")
    changes.append(_rename(api, names[customer]))
    return AppliedChanges(tuple(change for change, _ in changes), changes[-1][1])


def _reprice(
    api: AisAdmin, header: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]
) -> tuple[JdeChange, int]:
    line = _billable(lines)[0]
    exponent = Decimal(1).scaleb(-currency_exponent(str(header["CRCD"])))
    old_price = Decimal(line["PRRC"])
    new_price = old_price + 1
    new_amount = (Decimal(line["UORG"]) * new_price).quantize(exponent)
    keys = {k: line[k] for k in ("KCOO", "DOCO", "DCTO", "SFXO", "LNID")}
    [stored] = api.upsert("F4311", [{**keys, "PRRC": new_price, "AEXP": new_amount}])
    delta = new_amount - Decimal(line["AEXP"])
    api.upsert("F4301", [{**_header_keys(header), "OTOT": Decimal(header["OTOT"]) + delta}])
    text = (
        f"line {Decimal(line['LNID']):.3f} re-priced {old_price} -> {new_price} {header['CRCD']} "
        f"(amount {line['AEXP']} -> {new_amount})"
    )
    return JdeChange("invoice", document_key(header), text), int(stored["UPMJ"])


def _add_line(
    api: AisAdmin, header: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]
) -> tuple[JdeChange, int]:
    model = _billable(lines)[-1]
    lnid = max(Decimal(x["LNID"]) for x in lines) + 1
    exponent = Decimal(1).scaleb(-currency_exponent(str(header["CRCD"])))
    quantity, price = Decimal(2), Decimal("12.50")
    amount = (quantity * price).quantize(exponent)
    row = {
        **{k: model[k] for k in ("KCOO", "DOCO", "DCTO", "SFXO", "UOM", "LTTR", "NXTR", "CRCD")},
        "LNID": lnid,
        "LITM": "DEMO-ADDED",
        "DSC1": "Added by the demo",
        "DSC2": "",
        "UORG": quantity,
        "PRRC": price,
        "AEXP": amount,
    }
    [stored] = api.upsert("F4311", [row])
    api.upsert("F4301", [{**_header_keys(header), "OTOT": Decimal(header["OTOT"]) + amount}])
    text = f"line {lnid:.3f} added: {quantity} x {price} {header['CRCD']} = {amount}"
    return JdeChange("invoice", document_key(header), text), int(stored["UPMJ"])


def _rename(api: AisAdmin, row: Mapping[str, Any]) -> tuple[JdeChange, int]:
    old = str(row["ALPH"])
    suffix = " (renamed)"
    new = old[: ALPH_LENGTH - len(suffix)] + suffix
    [stored] = api.upsert("F0101", [{"AN8": row["AN8"], "ALPH": new}])
    return JdeChange("customer", str(row["AN8"]), f"renamed {old!r} -> {new!r}"), int(stored["UPMJ"])


def _header_keys(header: Mapping[str, Any]) -> dict[str, Any]:
    return {k: header[k] for k in ("KCOO", "DOCO", "DCTO", "SFXO")}
