"""Bad input on purpose: JDE rows a real site has (written through the sandbox's admin row API) and AIS
answers a real network or customisation produces (rewritten on their way out, `mangle`).

Each planted record must come out quarantined with a reason naming it and the field at fault (or, for
values Stripe may take, synced exactly), while every other record of the batch syncs; no run crashes.
JDE's truth (`truth.jde_truth`) judges the planted rows with its own rules; rows the sandbox cannot
store (a date no calendar has, one row twice) are planted in AIS's answers and their expectation set
here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jde_stripe_pipeline.reliability.arena import Arena
from jde_stripe_pipeline.reliability.mangle import (
    BODIES,
    BodyMangler,
    RowMangler,
    drop_column,
    row_of,
    set_value,
    twice,
)
from jde_stripe_pipeline.reliability.matrix import Scenario
from jde_stripe_pipeline.reliability.truth import InvoiceTruth, Truth, overridden

NEW_AN8 = 99001
NEW_DOCO = 99001
CONTROL_NAME = "Acme\x07 Tools\x1b[31m Ltd"


def customers(arena: Arena) -> list[int]:
    return sorted({row["AN8"] for row in arena.servers.admin.rows("F03012")})


def invoices(arena: Arena) -> list[dict[str, Any]]:
    return sorted(arena.servers.admin.rows("F4301"), key=lambda r: r["DOCO"])


def lines_of(arena: Arena, header: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r
        for r in arena.servers.admin.rows("F4311")
        if r["DOCO"] == header["DOCO"] and r["KCOO"] == header["KCOO"]
    ]


def key_of(row: dict[str, Any]) -> dict[str, Any]:
    return {alias: row[alias] for alias in ("KCOO", "DOCO", "DCTO", "SFXO")}


def doc(row: dict[str, Any]) -> str:
    return f"{row['KCOO']}/{row['DOCO']}/{row['DCTO']}/{row['SFXO']}"


def new_customer(arena: Arena, an8: int, name: str, **master: Any) -> None:
    arena.servers.admin.upsert("F0101", [{"AN8": an8, "ALPH": name, "AT1": "C", "LNGP": "E"}])
    arena.servers.admin.upsert(
        "F03012", [{"AN8": an8, "CO": "00001", "CRCD": "USD", "TRAR": "N30", **master}]
    )


def new_invoice(arena: Arena, doco: int, an8: int, lines: list[dict[str, Any]], **header: Any) -> str:
    key = {"KCOO": "00001", "DOCO": doco, "DCTO": "OP", "SFXO": "000"}
    if header.get("_no_header") is None:
        values = {
            "AN8": an8,
            "SHAN": an8,
            "TRDJ": 126300,
            "DRQJ": 126301,
            "OTOT": 0,
            "CRCD": "USD",
            "PTC": "N30",
        }
        arena.servers.admin.upsert("F4301", [{**key, **values, **header}])
    for number, line in enumerate(lines, start=1):
        values = {"LNID": number, "LITM": "100-200", "DSC1": "Steel bracket", "UORG": 1, "UOM": "EA"}
        values.update({"PRRC": 1, "AEXP": 1, "LTTR": "400", "NXTR": "999", "CRCD": "USD"})
        arena.servers.admin.upsert("F4311", [{**key, **values, **line}])
    return f"00001/{doco}/OP/000"


def bad_customers(arena: Arena) -> None:
    """Blank and huge names, control characters, emoji, right-to-left text, bad e-mails, a currency
    that is no code: on seeded customers and new ones (their invoices are blocked with them)."""
    an8s = customers(arena)
    arena.servers.admin.upsert("F0101", [{"AN8": an8s[0], "ALPH": "   "}])
    arena.servers.admin.upsert("F0101", [{"AN8": an8s[1], "ALPH": "Grossbetrieb " * 30}])
    arena.servers.admin.upsert(
        "F01151", [{"AN8": an8s[2], "IDLN": 0, "RCK7": 1, "ETP": "E", "EMAL": "ap at example"}]
    )
    arena.servers.admin.upsert("F03012", [{"AN8": an8s[3], "CO": "00001", "CRCD": "U$"}])
    new_customer(arena, NEW_AN8, "Café 🚀 Ünïcødé GmbH 🧾")
    new_customer(arena, NEW_AN8 + 1, "شركة الخليج للتجارة")
    new_customer(arena, NEW_AN8 + 2, "חברת בדיקה בע״מ (Israel)")
    new_customer(arena, NEW_AN8 + 3, CONTROL_NAME)
    new_customer(arena, NEW_AN8 + 4, "Blank Currency Ltd", CRCD="")
    arena.faults["bad JDE rows planted"] += 9
    arena.run()


def _either_control_name(arena: Arena, truth: Truth) -> Truth:
    return overridden(truth, {NEW_AN8 + 3: "either"}, {})


def bad_invoices(arena: Arena) -> None:
    """Unknown and blank currencies, a blank order date, credit and zero lines, amounts with too many
    decimals or beyond Stripe's maximum, a line in another currency, a header without lines, lines
    without a header, and an invoice naming a customer F03012 lacks."""
    an8 = customers(arena)[-1]
    new_invoice(arena, NEW_DOCO, an8, [{"AEXP": 10, "CRCD": "XYZ"}], CRCD="XYZ")
    new_invoice(arena, NEW_DOCO + 1, an8, [{"AEXP": 10, "CRCD": ""}], CRCD="")
    new_invoice(arena, NEW_DOCO + 2, an8, [{"AEXP": 10}], TRDJ=0)
    new_invoice(
        arena, NEW_DOCO + 3, an8, [{"AEXP": 25}, {"UORG": -2, "AEXP": "-12.50"}, {"UORG": 0, "AEXP": 0}]
    )
    new_invoice(arena, NEW_DOCO + 4, an8, [{"AEXP": "12.345"}])
    new_invoice(arena, NEW_DOCO + 5, an8, [{"AEXP": 10}, {"AEXP": "5000000.00"}])
    new_invoice(arena, NEW_DOCO + 6, an8, [{"AEXP": 10}, {"AEXP": 7, "CRCD": "EUR"}])
    new_invoice(arena, NEW_DOCO + 7, an8, [])
    new_invoice(arena, NEW_DOCO + 8, an8, [{"AEXP": 10}, {"AEXP": 20}], _no_header=True)
    arena.servers.admin.upsert("F0101", [{"AN8": NEW_AN8 + 9, "ALPH": "Not A Customer Inc", "AT1": "V"}])
    new_invoice(arena, NEW_DOCO + 9, NEW_AN8 + 9, [{"AEXP": 10}])
    new_invoice(arena, NEW_DOCO + 10, NEW_AN8 + 10, [{"AEXP": 10}])
    new_invoice(
        arena, NEW_DOCO + 11, an8, [{"AEXP": "0.105", "CRCD": "KWD"}, {"AEXP": 15, "CRCD": "KWD"}], CRCD="KWD"
    )
    arena.faults["bad JDE rows planted"] += 12
    arena.run()


def _picked(arena: Arena) -> tuple[list[int], list[dict[str, Any]]]:
    """Two customers no other customer's order ships to, and invoices of five other customers."""
    shipped_to = {h["SHAN"] for h in invoices(arena) if h["SHAN"] != h["AN8"]}
    picked = [an8 for an8 in customers(arena) if an8 not in shipped_to][:2]
    headers = [h for h in invoices(arena) if h["AN8"] not in picked and h["SHAN"] not in picked]
    chosen: list[dict[str, Any]] = []
    for header in headers:
        if all(header["AN8"] != other["AN8"] for other in chosen) and len(lines_of(arena, header)) >= 2:
            chosen.append(header)
    return picked, chosen[:5]


def malformed_rows(arena: Arena) -> None:
    """AIS answers with one record's column missing, a wrong type, a date out of range (and 0), a row
    twice (duplicate keys), on every read."""
    an8s, headers = _picked(arena)
    mangler = RowMangler()
    mangler.add(
        "F0101",
        row_of("F0101", AN8=an8s[0]),
        set_value("F0101", "ALPH", {"text": "object"}),
        "ALPH an object",
    )
    mangler.add("F0101", row_of("F0101", AN8=an8s[1]), drop_column("F0101", "ALPH"), "ALPH missing")
    first_line = {alias: lines_of(arena, h)[0]["LNID"] for alias, h in zip(range(5), headers, strict=False)}
    plans = [
        ("F4311", drop_column("F4311", "AEXP")),
        ("F4311", set_value("F4311", "AEXP", "12.50")),
        ("F4301", set_value("F4301", "TRDJ", "20261399")),
        ("F4301", set_value("F4301", "TRDJ", "00000000")),
        ("F4311", twice),
    ]
    for index, (header, (table, change)) in enumerate(zip(headers, plans, strict=False)):
        where = {"DOCO": header["DOCO"], "KCOO": header["KCOO"]}
        if table == "F4311":
            where["LNID"] = f"{Decimal(str(first_line[index])):.3f}"
        mangler.add(table, row_of(table, **where), change, f"{table} of {doc(header)}")
    arena.servers.ais.lasting.append(mangler)  # the record stays malformed after the faults heal
    arena.malformed = (an8s, [doc(h) for h in headers])  # type: ignore[attr-defined]
    arena.faults["malformed AIS rows planted"] += len(mangler.changes)
    arena.run()


BLAMED = ["F4311.AEXP", "F4311.AEXP", "F4301.TRDJ", "F4301.TRDJ", "F4311.LNID"]


def _malformed_expectations(arena: Arena, truth: Truth) -> Truth:
    an8s, keys = arena.malformed  # type: ignore[attr-defined]
    invoices_now = dict(truth.invoices)
    for key, blamed in zip(keys, BLAMED, strict=False):
        old = invoices_now[key]
        invoices_now[key] = InvoiceTruth(key, "quarantined", old.customer_an8, old.currency, blamed=blamed)
    customers_now = dict(truth.customers)
    for an8 in an8s:
        customers_now[an8] = type(customers_now[an8])(
            an8, "quarantined", customers_now[an8].name, "F0101.ALPH"
        )
        for key, invoice in list(invoices_now.items()):
            if invoice.customer_an8 == an8 and invoice.state in ("billed", "either"):
                invoices_now[key] = InvoiceTruth(
                    key, "quarantined", an8, invoice.currency, blamed="F0101.ALPH"
                )
    return Truth(customers_now, invoices_now)


def malformed_bodies(arena: Arena) -> None:
    """Each of: a truncated JSON body, an HTML error page with 200 and with 502, a grid whose rowset is
    no list, rows that are no objects — once, on the 3rd grid answer of a run, run after run."""
    arena.env_overrides.update({"RELIABILITY_AIS_PAGE_SIZE": "25"})
    for kind in BODIES:
        mangler = BodyMangler(kind, nth=3)
        arena.servers.ais.add(mangler)
        arena.run(kind.split()[0].lower())
        arena.servers.ais.remove(mangler)
        arena.faults[f"AIS {kind}"] += int(mangler.done)


SCENARIOS = [
    Scenario(
        "bad_customers",
        "blank / 390-char names, control characters, emoji, RTL, bad e-mail, bad currency code",
        bad_customers,
        expect=_either_control_name,
    ),
    Scenario(
        "bad_invoices",
        "unknown/blank currency, TRDJ 0, credit and zero lines, 3 decimals in USD, amount over Stripe's"
        " maximum, mixed currencies, header without lines, lines without header, customer not in F03012,"
        " KWD not in 10s",
        bad_invoices,
    ),
    Scenario(
        "malformed_ais_rows",
        "AIS rows with a column missing, wrong types, dates 2026-13-99 and 0, a row twice",
        malformed_rows,
        expect=_malformed_expectations,
    ),
    Scenario(
        "malformed_ais_bodies",
        "one AIS answer per run truncated, HTML (200, 502), rowset not a list, rows not objects",
        malformed_bodies,
        survives=False,
    ),
]
