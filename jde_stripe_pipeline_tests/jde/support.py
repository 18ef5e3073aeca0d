"""Test support: a served AIS sandbox with matching settings, and an independent reading of its tables.

`expected_customers` / `expected_invoices` read the sandbox's SQLite tables directly
(`sandbox.rows`, Julian ints) and join them with deliberately simple code that shares nothing with
the extract (no `julian`, `rows` or `extract` imports), so a test comparing the two can fail.
`pay_item_row` is one F03B11 row as `jde.ar_documents` reads it, for tests that build A/R documents.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import requests

from jde_stripe_pipeline.jde.client import AisSession, RetryPolicy
from jde_stripe_pipeline.jde.records import JdeAddress, JdeCustomer, JdeInvoice, JdeInvoiceLine, JdeParty
from jde_stripe_pipeline.jde.settings import AisSettings
from jde_stripe_pipeline.sandboxes.ais import AisSandbox
from jde_stripe_pipeline.sandboxes.ais.admin_client import AisAdmin
from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer

AS_OF = date(2026, 11, 26)
"""The day the tests' AIS sandboxes are seeded as of (and the extracts read them as of)."""
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, connect_timeout=5, read_timeout=30)


def pay_item_row(doc: int, sfx: str, **columns: object) -> dict[str, object]:
    """A posted RI pay item of customer 4242 (company 00001), invoiced 2026-11-02, due 2026-12-02;
    `columns` add the currency mode, the amounts and the rest, or replace these."""
    return {
        "DOC": doc,
        "DCT": "RI",
        "KCO": "00001",
        "SFX": sfx,
        "AN8": 4242,
        "DIVJ": date(2026, 11, 2),
        "DDJ": date(2026, 12, 2),
        "POST": "D",
        **columns,
    }


def settings_for(server: LoopbackServer, password: str = "JDE") -> AisSettings:
    return AisSettings.from_values(
        url=server.url, username="JDE", password=password, environment="JDV920", timezone="America/Chicago"
    )


@contextlib.contextmanager
def served(sandbox: AisSandbox) -> Iterator[LoopbackServer]:
    try:
        with sandbox.serve() as server:
            yield server
    finally:
        sandbox.close()


def session_for(
    server: LoopbackServer, page_size: int = 50, read_workers: int = 1, **kwargs: Any
) -> AisSession:
    return AisSession(
        settings_for(server, **kwargs), retry=FAST_RETRY, page_size=page_size, read_workers=read_workers
    )


def sandbox_stats(server: LoopbackServer) -> dict[str, Any]:
    return dict(requests.get(f"{server.url}/_sandbox/stats", timeout=10).json())


def count_requests(stats: dict[str, Any], endpoint: str, status: int | None = None) -> int:
    by_status = stats["requests"].get(endpoint, {})
    return sum(n for code, n in by_status.items() if status is None or int(code) == status)


def all_jderest_requests(stats: dict[str, Any]) -> int:
    return sum(
        sum(codes.values()) for endpoint, codes in stats["requests"].items() if "/jderest/" in endpoint
    )


def upsert_rows(server: LoopbackServer, table: str, rows: list[dict[str, Any]]) -> None:
    AisAdmin(server.url).upsert(table, rows)


# ------------------------------------------------------------------ an independent simple reading


def _day(julian: int) -> date | None:
    return date(1900 + julian // 1000, 1, 1) + timedelta(days=julian % 1000 - 1) if julian else None


def _stamp(row: dict[str, Any], time_column: str) -> datetime | None:
    day = _day(row["UPMJ"])
    if day is None:
        return None
    hhmmss = row[time_column]
    return datetime.combine(day, time(hhmmss // 10000, hhmmss // 100 % 100, hhmmss % 100))


def _none_if_blank(text: str) -> str | None:
    return text.strip() or None


def _address(rows: list[dict[str, Any]], as_of: date) -> JdeAddress | None:
    best: dict[str, Any] | None = None
    for row in rows:
        eftb = _day(row["EFTB"]) or date.min
        if eftb <= as_of and (best is None or eftb > (_day(best["EFTB"]) or date.min)):
            best = row
    if best is None:
        return None
    return JdeAddress(
        lines=tuple(best[a].strip() for a in ("ADD1", "ADD2", "ADD3", "ADD4") if best[a].strip()),
        city=_none_if_blank(best["CTY1"]),
        state=_none_if_blank(best["ADDS"]),
        postal_code=_none_if_blank(best["ADDZ"]),
        country=_none_if_blank(best["CTR"]),
        county=_none_if_blank(best["COUN"]),
    )


def _by_an8(sandbox: AisSandbox, table: str) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in sandbox.rows(table):
        grouped[row["AN8"]].append(row)
    return grouped


def expected_customers(sandbox: AisSandbox, start: datetime, end: datetime, as_of: date) -> list[JdeCustomer]:
    tables = {name: _by_an8(sandbox, name) for name in ("F03012", "F0101", "F0116", "F01151", "F0115")}
    changed = {
        an8
        for rows_by_an8 in tables.values()
        for an8, rows in rows_by_an8.items()
        for row in rows
        if (stamp := _stamp(row, "UPMT")) is not None and start <= stamp < end
    }
    customers = []
    for an8 in sorted(changed):
        masters = tables["F03012"].get(an8, [])
        if not masters:
            continue
        master = sorted(masters, key=lambda r: r["CO"])[0]
        book = tables["F0101"][an8][0]
        emails = sorted(
            (r for r in tables["F01151"].get(an8, []) if r["ETP"] == "E" and r["EMAL"].strip()),
            key=lambda r: (r["IDLN"], r["RCK7"]),
        )
        phones = sorted(
            (r for r in tables["F0115"].get(an8, []) if not r["PHTP"].strip() and r["PH1"].strip()),
            key=lambda r: (r["IDLN"], r["RCK7"]),
        )
        every_row = [row for rows_by_an8 in tables.values() for row in rows_by_an8.get(an8, [])]
        customers.append(
            JdeCustomer(
                an8=an8,
                company=master["CO"],
                name=book["ALPH"].strip(),
                tax_id=_none_if_blank(book["TAX"]),
                address=_address(tables["F0116"].get(an8, []), as_of),
                email=emails[0]["EMAL"].strip() if emails else None,
                phone=f"{phones[0]['AR1'].strip()} {phones[0]['PH1'].strip()}".strip() if phones else None,
                currency=_none_if_blank(master["CRCD"]),
                payment_terms=_none_if_blank(master["TRAR"]),
                language=_none_if_blank(book["LNGP"]),
                updated_at=max(s for row in every_row if (s := _stamp(row, "UPMT")) is not None),
            )
        )
    return customers


def expected_invoices(
    sandbox: AisSandbox, start: datetime, end: datetime, as_of: date, sales: bool = False
) -> list[JdeInvoice]:
    header_table, detail_table, price = ("F4201", "F4211", "UPRC") if sales else ("F4301", "F4311", "PRRC")
    key_of = lambda row: (row["KCOO"], row["DOCO"], row["DCTO"], row["SFXO"])  # noqa: E731
    headers = {key_of(row): row for row in sandbox.rows(header_table)}
    lines: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in sandbox.rows(detail_table):
        lines[key_of(row)].append(row)
    books = {row["AN8"]: row for row in sandbox.rows("F0101")}
    addresses = _by_an8(sandbox, "F0116")

    def changed(row: dict[str, Any]) -> bool:
        stamp = _stamp(row, "TDAY")
        return stamp is not None and start <= stamp < end

    keys = sorted(
        {k for k, h in headers.items() if changed(h)}
        | {k for k, ls in lines.items() if any(map(changed, ls))}
    )
    invoices = []
    for key in keys:
        header = headers[key]
        shan = header["SHAN"]
        ship_to = (
            JdeParty(
                an8=shan, name=books[shan]["ALPH"].strip(), address=_address(addresses.get(shan, []), as_of)
            )
            if shan and shan in books
            else None
        )
        built = tuple(
            JdeInvoiceLine(
                lnid=line["LNID"],
                item=_none_if_blank(line["LITM"]),
                description=line["DSC1"].strip(),
                description2=_none_if_blank(line["DSC2"]),
                quantity=line["UORG"],
                unit_of_measure=_none_if_blank(line["UOM"]),
                unit_price=line[price],
                amount=line["AEXP"],
                last_status=_none_if_blank(line["LTTR"]),
                next_status=_none_if_blank(line["NXTR"]),
                currency=_none_if_blank(line["CRCD"]),
                updated_at=_stamp(line, "TDAY"),
            )
            for line in sorted(lines.get(key, []), key=lambda r: Decimal(r["LNID"]))
        )
        stamps = [s for s in [_stamp(header, "TDAY"), *(line.updated_at for line in built)] if s is not None]
        invoices.append(
            JdeInvoice(
                profile="sales_order" if sales else "purchase_order",
                header_table=header_table,
                detail_table=detail_table,
                key={"kcoo": key[0], "doco": key[1], "dcto": key[2], "sfxo": key[3]},
                an8=header["AN8"],
                ship_to=ship_to,
                document_date=_day(header["TRDJ"]),
                requested_date=_day(header["DRQJ"]),
                currency=header["CRCD"].strip(),
                total=header["OTOT"],
                payment_terms=_none_if_blank(header["PTC"]),
                lines=built,
                updated_at=max(stamps),
            )
        )
    return invoices


def expected_ship_tos(sandbox: AisSandbox, as_of: date) -> dict[int, tuple[str, JdeParty]]:
    """Sold-to AN8 → (`KCOO/DOCO/DCTO/SFXO`, ship-to party) of its latest sales order (TRDJ, then
    DOCO) whose SHAN is another address number, read straight from F4201/F0101/F0116."""
    books = {row["AN8"]: row for row in sandbox.rows("F0101")}
    addresses = _by_an8(sandbox, "F0116")
    latest: dict[int, dict[str, Any]] = {}
    for order in sandbox.rows("F4201"):
        an8, shan = order["AN8"], order["SHAN"]
        if shan in (0, an8):
            continue
        best = latest.get(an8)
        if best is None or (order["TRDJ"], order["DOCO"]) > (best["TRDJ"], best["DOCO"]):
            latest[an8] = order
    return {
        an8: (
            f"{o['KCOO']}/{o['DOCO']}/{o['DCTO']}/{o['SFXO']}",
            JdeParty(
                an8=o["SHAN"],
                name=books[o["SHAN"]]["ALPH"].strip(),
                address=_address(addresses.get(o["SHAN"], []), as_of),
            ),
        )
        for an8, o in latest.items()
    }
