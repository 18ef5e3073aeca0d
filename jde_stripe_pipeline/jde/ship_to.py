"""A customer's ship-to order: which of its sales orders says where its goods go (pure).

See `profiles.CUSTOMER_SHIP_TO` for why the ship-to is read from the sales orders (F4201.SHAN).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from jde_stripe_pipeline.jde.client import Row
from jde_stripe_pipeline.jde.profiles import CUSTOMER_SHIP_TO
from jde_stripe_pipeline.jde.records import JdeDocumentKey, address_number
from jde_stripe_pipeline.jde.rows import BadRow, RowError, row_stamp, typed_row


@dataclass(frozen=True)
class ShipToOrder:
    """The sales order a customer's ship-to is read from (see `profiles.CUSTOMER_SHIP_TO`)."""

    key: JdeDocumentKey
    ship_to: int
    document_date: date | None
    stamp: datetime | None
    raw: Row


def latest_ship_to_orders(rows: Iterable[Row]) -> dict[int, ShipToOrder | BadRow]:
    """Per sold-to AN8, its most recent order shipping elsewhere (latest TRDJ, then highest DOCO).

    Folds the rows as they stream in, so memory holds one order per customer. Orders whose SHAN is
    blank or the customer itself are skipped; a row that fails its spec marks its customer bad.
    """
    spec, h = CUSTOMER_SHIP_TO.ship_to_spec, CUSTOMER_SHIP_TO.header
    found: dict[int, ShipToOrder | BadRow] = {}
    for raw in rows:
        try:
            row = typed_row(spec, raw)
        except RowError as error:
            an8 = address_number(raw.get(h.customer))
            if an8 is not None:
                found[an8] = BadRow(error, raw)
            continue
        an8, shan = row[h.customer], row[h.ship_to]
        if not shan or shan == an8 or isinstance(found.get(an8), BadRow):
            continue
        order = ShipToOrder(
            key=JdeDocumentKey(kcoo=row[h.kcoo], doco=row[h.doco], dcto=row[h.dcto], sfxo=row[h.sfxo]),
            ship_to=shan,
            document_date=row[h.document_date],
            stamp=row_stamp(spec, row),
            raw=dict(raw),
        )
        best = found.get(an8)
        if not isinstance(best, ShipToOrder) or _recency(order) > _recency(best):
            found[an8] = order
    return found


def _recency(order: ShipToOrder) -> tuple[date, int, tuple[str, int, str, str]]:
    return (order.document_date or date.min, order.key.doco, order.key.sort_key())
