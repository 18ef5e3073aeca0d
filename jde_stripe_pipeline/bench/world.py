"""The bench's JDE: a seeded AIS sandbox whose update stamps say which records are new, changed or old.

Every scenario syncs ONE partition (a JDE update day, `day`), as one Dagster run does:
- `initial_world`: every row stamped on `day`, so the partition holds the whole initial load.
- `account_world`: a large account. Every row is stamped a week earlier (`old_day`: already synced),
  except the new records (stamped on `day`); `apply_changes` then edits a share of the old ones
  through the sandbox store's upsert, stamped on `day` like a JDE user's edit. The kinds of change
  cycle over: re-price a line (→ `update_lines`), add a line (→ `add_lines`), cancel a line
  (→ `remove_lines`) and re-date the order plus re-price a line (→ header update + `update_lines`).

The world also knows what each record needs at the least (`minimum_requests`, per Stripe endpoint):
the targets of issue 10, which the lower bound turns into seconds.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, NamedTuple

from jde_stripe_pipeline.sandboxes.ais import AisSandbox, AisSandboxConfig
from jde_stripe_pipeline.sandboxes.ais.seed import FIRST_AN8, FIRST_PO
from jde_stripe_pipeline.sandboxes.ais.store import from_julian, to_julian
from jde_stripe_pipeline.sandboxes.ais.tables import TABLES

TIMEZONE = "America/Chicago"
CANCELLED = "980"
EMBEDDED_LINES = 10
"""Lines an invoice object carries; past that, reading all its lines takes one more request."""
CUSTOMER_TABLES = ("F0101", "F03012", "F0116", "F0115", "F01151")
ORDER_TABLES = ("F4301", "F4311")
Category = Literal["new", "changed", "old"]
ChangeKind = Literal["reprice", "add_line", "cancel_line", "redate"]
CHANGE_KINDS: tuple[ChangeKind, ...] = ("reprice", "add_line", "cancel_line", "redate")

CREATE_CUSTOMER = "POST /v1/customers"
UPDATE_CUSTOMER = "POST /v1/customers/{id}"
CREATE_INVOICE = "POST /v1/invoices"
UPDATE_INVOICE = "POST /v1/invoices/{id}"
READ_INVOICE = "GET /v1/invoices/{id}"
READ_LINES = "GET /v1/invoices/{id}/lines"
ADD_LINES = "POST /v1/invoices/{id}/add_lines"
UPDATE_LINES = "POST /v1/invoices/{id}/update_lines"
REMOVE_LINES = "POST /v1/invoices/{id}/remove_lines"
_LINE_WRITE = {
    "reprice": UPDATE_LINES,
    "add_line": ADD_LINES,
    "cancel_line": REMOVE_LINES,
    "redate": UPDATE_LINES,
}


@dataclass
class InvoiceFacts:
    category: Category
    billable_lines: int
    """Lines Stripe gets (cancelled ones left out), after the change."""
    change: ChangeKind | None = None
    ship_to: str | None = None
    """The order's SHAN (AN8): the invoice's `shipping_details` carry that party's name."""


@dataclass
class World:
    sandbox: AisSandbox
    day: dt.date
    old_day: dt.date | None
    customers: dict[str, Category]
    """AN8 → category."""
    invoices: dict[str, InvoiceFacts] = field(default_factory=dict)
    """`KCOO/DOCO/DCTO/SFXO` → facts."""

    @property
    def partition_key(self) -> str:
        return self.day.isoformat()

    def count(self, kind: str, category: Category) -> int:
        if kind == "customer":
            return sum(1 for c in self.customers.values() if c == category)
        return sum(1 for f in self.invoices.values() if f.category == category)

    def close(self) -> None:
        self.sandbox.close()


def bench_days(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """(as_of, day): the sandbox's today in the JDE zone and yesterday, a whole past partition."""
    from zoneinfo import ZoneInfo

    as_of = today or dt.datetime.now(ZoneInfo(TIMEZONE)).date()
    return as_of, as_of - dt.timedelta(days=1)


def _seeded(seed: int, customers: int, invoices: int, as_of: dt.date) -> AisSandbox:
    return AisSandbox(
        seed=seed,
        customers=customers,
        invoices=invoices,
        config=AisSandboxConfig(timezone=TIMEZONE),
        as_of=as_of,
    )


def _restamp_all(sandbox: AisSandbox, day: dt.date) -> None:
    """Every row of every table updated on `day` (times of day kept)."""
    julian = to_julian(day)
    with sandbox.store.transaction() as connection:
        for table in TABLES.values():
            connection.execute(f'UPDATE "{table.name}" SET "UPMJ" = ?', (julian,))


def _stamp_where(
    sandbox: AisSandbox, tables: tuple[str, ...], column: str, keys: list[int], day: dt.date
) -> None:
    julian = to_julian(day)
    with sandbox.store.transaction() as connection:
        for name in tables:
            connection.executemany(
                f'UPDATE "{name}" SET "UPMJ" = ? WHERE "{column}" = ?', [(julian, key) for key in keys]
            )


def _billable_lines(sandbox: AisSandbox) -> dict[int, list[tuple[str, str]]]:
    """DOCO → [(LNID, LTTR)] of every purchase order line."""
    lines: dict[int, list[tuple[str, str]]] = {}
    for doco, lnid, lttr in sandbox.store.query('SELECT "DOCO", "LNID", "LTTR" FROM "F4311"'):
        lines.setdefault(int(doco), []).append((str(lnid), str(lttr).strip()))
    return lines


class _Order(NamedTuple):
    kcoo: str
    doco: int
    dcto: str
    sfxo: str
    an8: int
    ship_to: str | None
    """SHAN, when the order names a ship-to."""

    @property
    def key(self) -> str:
        return f"{self.kcoo}/{self.doco}/{self.dcto}/{self.sfxo}"


def _orders(sandbox: AisSandbox) -> list[_Order]:
    """Every purchase order, by DOCO (one read of F4301)."""
    found = sandbox.store.query(
        'SELECT "KCOO", "DOCO", "DCTO", "SFXO", "AN8", "SHAN" FROM "F4301" ORDER BY "DOCO"'
    )
    return [
        _Order(str(k), int(d), str(t), str(s), int(a), str(int(shan)) if shan else None)
        for k, d, t, s, a, shan in found
    ]


def _live(lines: list[tuple[str, str]]) -> int:
    return sum(1 for _, lttr in lines if lttr != CANCELLED)


def initial_world(seed: int, customers: int, invoices: int, today: dt.date | None = None) -> World:
    """`customers` and `invoices` purchase orders, all new, all in the partition `day`."""
    as_of, day = bench_days(today)
    sandbox = _seeded(seed, customers, invoices, as_of)
    _restamp_all(sandbox, day)
    lines = _billable_lines(sandbox)
    world = World(sandbox, day, None, {str(FIRST_AN8 + i): "new" for i in range(customers)})
    for order in _orders(sandbox):
        world.invoices[order.key] = InvoiceFacts("new", _live(lines.get(order.doco, [])))
    return world


def account_world(
    seed: int,
    old_customers: int,
    old_invoices: int,
    new_customers: int,
    new_invoices: int,
    today: dt.date | None = None,
) -> World:
    """An account of `old_*` records synced a week ago plus `new_*` records in the partition.

    New customers are chosen among those no old order names (so every old invoice's customer is
    old), from the highest AN8 down; new orders are the last `new_invoices` DOCOs."""
    as_of, day = bench_days(today)
    old_day = day - dt.timedelta(days=7)
    total = old_customers + new_customers
    sandbox = _seeded(seed, total, old_invoices + new_invoices, as_of)
    _restamp_all(sandbox, old_day)
    orders = _orders(sandbox)
    billed_by_old = {order.an8 for order in orders if order.doco < FIRST_PO + old_invoices}
    unbilled = [an8 for an8 in range(FIRST_AN8 + total - 1, FIRST_AN8 - 1, -1) if an8 not in billed_by_old]
    if len(unbilled) < new_customers:
        raise ValueError(f"only {len(unbilled)} customers have no old order: ask for fewer new customers")
    new_an8s = sorted(unbilled[:new_customers])
    new_docos = [order.doco for order in orders if order.doco >= FIRST_PO + old_invoices]
    _stamp_where(sandbox, CUSTOMER_TABLES, "AN8", new_an8s, day)
    _stamp_where(sandbox, ORDER_TABLES, "DOCO", new_docos, day)
    fresh = set(new_an8s)
    world = World(
        sandbox, day, old_day, {str(FIRST_AN8 + i): "old" for i in range(total) if FIRST_AN8 + i not in fresh}
    )
    world.customers.update({str(an8): "new" for an8 in new_an8s})
    lines = _billable_lines(sandbox)
    for order in orders:
        category: Category = "new" if order.doco >= FIRST_PO + old_invoices else "old"
        facts = InvoiceFacts(category, _live(lines.get(order.doco, [])), ship_to=order.ship_to)
        world.invoices[order.key] = facts
    return world


def apply_changes(world: World, share: float) -> None:
    """Edit `share` of the old customers (rename) and of the old invoices with ≥ 2 billable lines
    (the four kinds in turn), every edit stamped on the partition day."""
    stamp = _edit_stamp(world)
    old_customers = sorted((an8 for an8, c in world.customers.items() if c == "old"), key=int)
    for an8 in _every_nth(old_customers, share):
        rename_customer(world, an8)
    candidates = [k for k, f in world.invoices.items() if f.category == "old" and f.billable_lines >= 2]
    candidates.sort(key=lambda key: int(key.split("/")[1]))
    wanted = round(share * sum(1 for f in world.invoices.values() if f.category == "old"))
    for index, key in enumerate(_every_nth(candidates, wanted / max(len(candidates), 1))):
        kind = CHANGE_KINDS[index % len(CHANGE_KINDS)]
        _change_invoice(world, key, kind, stamp)
        facts = world.invoices[key]
        facts.category, facts.change = "changed", kind
        facts.billable_lines += {"add_line": 1, "cancel_line": -1}.get(kind, 0)


def rename_customer(world: World, an8: str) -> None:
    """An old customer renamed (F0101.ALPH) on the partition day."""
    store = world.sandbox.store
    (name,) = store.query('SELECT "ALPH" FROM "F0101" WHERE "AN8" = ?', (int(an8),))[0]
    store.upsert(TABLES["F0101"], {"AN8": int(an8), "ALPH": f"{str(name)[:30]} (bench)"}, _edit_stamp(world))
    world.customers[an8] = "changed"


def _edit_stamp(world: World) -> tuple[int, int]:
    """The (UPMJ, UPMT) of the bench's edits: noon of the partition day."""
    return to_julian(world.day), 120000


def _every_nth(items: list[str], share: float) -> list[str]:
    wanted = min(len(items), round(share * len(items)))
    if wanted <= 0:
        return []
    step = len(items) / wanted
    return [items[int(i * step)] for i in range(wanted)]


def _change_invoice(world: World, key: str, kind: ChangeKind, stamp: tuple[int, int]) -> None:
    store = world.sandbox.store
    kcoo, doco, dcto, sfxo = key.split("/")
    order = {"KCOO": kcoo, "DOCO": int(doco), "DCTO": dcto, "SFXO": sfxo}
    found = store.query(
        'SELECT "LNID", "UORG", "PRRC", "AEXP", "LTTR", "NXTR", "UOM", "CRCD" FROM "F4311" '
        'WHERE "KCOO" = ? AND "DOCO" = ? AND "DCTO" = ? AND "SFXO" = ?',
        (kcoo, int(doco), dcto, sfxo),
    )
    columns = ("LNID", "UORG", "PRRC", "AEXP", "LTTR", "NXTR", "UOM", "CRCD")
    every = sorted(
        (dict(zip(columns, row, strict=True)) for row in found), key=lambda r: Decimal(str(r["LNID"]))
    )
    live = [row for row in every if str(row["LTTR"]).strip() != CANCELLED]
    first, last = live[0], live[-1]
    lines = TABLES["F4311"]
    if kind in ("reprice", "redate"):
        store.upsert(lines, {**order, "LNID": first["LNID"], "AEXP": _plus_one(first["AEXP"])}, stamp)
    if kind == "redate":
        (trdj,) = store.query('SELECT "TRDJ" FROM "F4301" WHERE "DOCO" = ?', (int(doco),))[0]
        earlier = (from_julian(int(trdj)) or world.day) - dt.timedelta(days=1)
        store.upsert(TABLES["F4301"], {**order, "TRDJ": to_julian(earlier)}, stamp)
    if kind == "cancel_line":
        store.upsert(lines, {**order, "LNID": last["LNID"], "LTTR": CANCELLED}, stamp)
    if kind == "add_line":
        lnid = Decimal(str(every[-1]["LNID"])) + 1
        row = {k: last[k] for k in ("UOM", "LTTR", "NXTR", "CRCD")}
        row.update(LNID=lnid, LITM="BENCH-1", DSC1="Added by the bench", DSC2="", UORG=1)
        store.upsert(lines, {**order, **row, "PRRC": last["PRRC"], "AEXP": last["PRRC"]}, stamp)


def _plus_one(amount: object) -> Decimal:
    return Decimal(str(amount)) + 1


def minimum_requests(world: World, scenario: str) -> Counter[str]:
    """The fewest Stripe requests per endpoint the scenario needs (issue 10's targets): 1 per new or
    changed customer; create + `add_lines` per new invoice; per changed one 1 read (its line listing
    alone from 10 lines on) + 1 per kind of line change (+1 header update on a re-date, or when its
    ship-to party was renamed the same day: the shipping name is a header field); the
    reconciliation reuses what the run read or wrote and reads each untouched invoice of the partition
    once (twice past 10 lines): `resync`, the same partition synced again, costs those reads alone."""
    need: Counter[str] = Counter()
    if scenario == "resync":  # the same partition again: its invoices are the new and changed ones
        for facts in world.invoices.values():
            if facts.billable_lines and facts.category != "old":
                need[READ_INVOICE] += 1
                need[READ_LINES] += facts.billable_lines > EMBEDDED_LINES
        return +need
    need[CREATE_CUSTOMER] = world.count("customer", "new")
    need[UPDATE_CUSTOMER] = world.count("customer", "changed")
    for facts in world.invoices.values():
        if facts.category == "new" and facts.billable_lines:
            need[CREATE_INVOICE] += 1
            need[ADD_LINES] += 1
        elif facts.category == "changed" and facts.change is not None:
            need[READ_LINES if facts.billable_lines >= EMBEDDED_LINES else READ_INVOICE] += 1
            need[_LINE_WRITE[facts.change]] += 1
            need[UPDATE_INVOICE] += _header_changed(world, facts)
    return +need


def _header_changed(world: World, facts: InvoiceFacts) -> bool:
    """A changed invoice's header differs too: re-dated, or its ship-to party renamed that day."""
    return facts.change == "redate" or world.customers.get(facts.ship_to or "") == "changed"


def minimum_per_record(world: World, scenario: str) -> dict[str, float]:
    """The sync's fewest requests per record, by `kind:category` (the reconciliation apart)."""
    if scenario == "resync":
        return {"customer:old": 0.0, "invoice:old": 0.0}
    costs: dict[str, list[int]] = {}
    for category in ("new", "changed"):
        if world.count("customer", category):
            costs[f"customer:{category}"] = [1]
    for facts in world.invoices.values():
        if facts.category == "new":
            costs.setdefault("invoice:new", []).append(2 if facts.billable_lines else 0)
        elif facts.category == "changed":
            costs.setdefault("invoice:changed", []).append(3 if _header_changed(world, facts) else 2)
    return {group: sum(values) / len(values) for group, values in costs.items()}
