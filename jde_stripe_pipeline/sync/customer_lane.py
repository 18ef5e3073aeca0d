"""An invoice sync's missing customers, written while its invoices are (issue 10's initial load).

Why: Stripe limits each endpoint to 25 requests/s beside the account's global limit (100/s live). An
invoice sync that first created every missing customer and only then the invoices left
`POST /v1/invoices` and `add_lines` idle while `POST /v1/customers` worked, and the other way round:
a first load took the customers' time plus the invoices'. Here the missing customers go on their own
pool (`customer lane`), in the order the invoices need them, while the invoices go on theirs; an
invoice whose customer Stripe already has goes at once, one whose customer the lane creates waits for
that customer alone. The account's budget (`stripe_sink/budget.py`) keeps both within every limit.

The lane also writes the day's other customers, new or changed, spread evenly among the ones the
invoices need (`lane_order`). An invoice naming a changed one does not wait for it: Stripe has it, and
the invoice needs only its id (`unwaited`). Written after the invoices by `stripe_customers`, alone at
their endpoint's 25/s, they left the in-flight places idle at the end of a run (a first load's ~140 new
customers of 1,000 no invoice names, ~7 s; an incremental day's changed ones). Live, 300 ms,
1,000 customers and 2,000 invoices: Stripe time 1.23 × → 1.15 × the lower bound (one run each).

The lane keeps at most `lead` customers ahead of the invoices (`admit`): ahead of the furthest customer
an invoice asked for (`reached`), or of the invoices' share started (`started`), whichever is further.
Without that it wrote every customer first at its endpoint's full pace, taking places in flight the
invoices could have used, and the invoices then ran alone, held by their own endpoints' 25/s: with a
live key at 300 ms a first load of 1,000 customers and 2,000 invoices took 1.30 × the lower bound in
wall time (1.25 × with the lead). Kept just ahead, the customers' writes spread over the whole load
beside the invoices'. Kept ahead, though, the lane ended `lead` customers before the invoices (~5 s at
300 ms, the invoices' endpoints alone with places in flight idle): so its last `lead` customers are
others no invoice needs (`lane_tail`), which the invoices' share reaches only as the last ones start.

Ordering and the waits between the lanes; no I/O: the engine runs the lanes.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence

from jde_stripe_pipeline.mapping import InvoiceRequest
from jde_stripe_pipeline.sync.results import RecordResult
from jde_stripe_pipeline.sync.work import Work


def customer_of(work: Work) -> str | None:
    """The AN8 (as a record key) of the customer an invoice bills, None for other requests."""
    return str(work.request.customer_an8) if isinstance(work.request, InvoiceRequest) else None


def lane_tail(needed: Sequence[str], others: Sequence[str], lead: int) -> int:
    """How many of the others go after every needed customer: up to `lead`, the distance the lane
    keeps ahead of the invoices, by which it would otherwise end before them (at 300 ms, live, a first
    load of 1,000 customers and 2,000 invoices: ~5 s of the invoices' endpoints alone at the end, with
    places in flight idle). 0 when no invoice needs a customer: the others are the whole lane."""
    return min(lead, len(others)) if needed else 0


def lane_order(needed: Sequence[str], others: Sequence[str], tail: int = 0) -> list[str]:
    """The customers invoices need, in order, with the others spread evenly among them (each at its
    share of the way through), so no part of the load is left writing customers alone; the last
    `tail` others after every needed one (`lane_tail`)."""
    spread = len(others) - tail
    spaced = [((index + 1) / (len(needed) + 1), 0, an8) for index, an8 in enumerate(needed)]
    spaced += [((index + 1) / (spread + 1), 1, an8) for index, an8 in enumerate(others[:spread])]
    return [an8 for _share, _other, an8 in sorted(spaced)] + list(others[spread:])


def in_order_of_need(items: Sequence[Work], missing: set[str]) -> list[str]:
    """The missing customers in the order the invoices first name them."""
    order: dict[str, None] = {}
    for work in items:
        an8 = customer_of(work)
        if an8 is not None and an8 in missing:
            order.setdefault(an8)
    return list(order)


class CustomerLane:
    """Which customers the lane creates, and a wait per customer until its outcome is known.

    Thread-safe. `close` (the lane ended, however) releases every wait: a customer the lane never
    reached (its JDE row was not handed over, or the lane failed) then has no result."""

    def __init__(
        self,
        an8s: Sequence[str],
        lead: int = 1,
        invoices: int = 0,
        tail: int = 0,
        unwaited: Collection[str] = (),
    ) -> None:
        if lead < 1:
            raise ValueError(f"lead must be >= 1, got {lead}")
        if not 0 <= tail <= min(lead, len(an8s)):
            raise ValueError(f"tail must be within 0..min(lead, customers), got {tail}")
        self.an8s = list(an8s)
        self.lead = lead
        self.invoices = invoices
        """How many invoices `started` counts towards (0: the lane follows `reached` alone)."""
        self.tail = tail
        """The last customers, which no invoice needs (`lane_order`): the invoices' share reaches them
        only as the last invoices start, so the lane ends with the invoices, not `lead` early."""
        self._unwaited = frozenset(unwaited)
        """Customers the lane updates that the invoices naming them do not wait for: Stripe has them
        already, and an invoice needs only the customer's id (a draft shows the customer as it is)."""
        self._started = 0
        self._position = {an8: index for index, an8 in enumerate(self.an8s)}
        self._done = {an8: threading.Event() for an8 in self.an8s}
        self._results: dict[str, RecordResult] = {}
        self._lock = threading.Lock()
        self._reached = threading.Condition()
        self._furthest = -1
        """The lane position of the furthest customer an invoice has asked for."""

    def __bool__(self) -> bool:
        return bool(self.an8s)

    def first_needed(self, items: Sequence[Work]) -> list[Work]:
        """Invoices that wait for no customer first (they can go at once), then in the lane's order;
        stable otherwise."""

        def position(work: Work) -> int:
            an8 = customer_of(work)
            return self._position[an8] if an8 is not None and self.waits_for(an8) else -1

        return sorted(items, key=position)

    def customer_order(self, items: Sequence[Work]) -> list[Work]:
        """Customer works in the lane's order (those it does not know last)."""
        unknown = len(self.an8s)
        return sorted(items, key=lambda work: self._position.get(work.record_key, unknown))

    def waits_for(self, an8: str | None) -> bool:
        """Whether an invoice of this customer waits for the lane: the lane creates (or re-creates) it."""
        return an8 is not None and an8 in self._done and an8 not in self._unwaited

    def done(self, result: RecordResult) -> None:
        """A customer's final outcome (after all its rounds)."""
        with self._lock:
            self._results[result.record_key] = result
        event = self._done.get(result.record_key)
        if event is not None:
            event.set()

    def reached(self, an8: str) -> None:
        """An invoice of this customer is about to wait for it: the lane may go `lead` further."""
        self._advance(self._position[an8])

    def started(self) -> None:
        """An invoice began: the lane may be as far along its customers as the invoices are."""
        if not self.invoices:
            return
        with self._lock:
            self._started += 1
            share = self._started * (len(self.an8s) - self.tail) // self.invoices
        self._advance(share - 1)

    def let_go(self) -> None:
        """Nothing holds the lane back any more: the invoices are done (or stopped), or a customer
        went to a later round (its invoices wait for it and must not hold the rest of the lane)."""
        self._advance(len(self.an8s))

    def admit(self, an8: str) -> None:
        """Block the lane until this customer is within `lead` of the furthest one asked for (or of
        the invoices' progress)."""
        position = self._position.get(an8, len(self.an8s))
        with self._reached:
            self._reached.wait_for(lambda: position <= self._furthest + self.lead)

    def _advance(self, position: int) -> None:
        with self._reached:
            if position > self._furthest:
                self._furthest = position
                self._reached.notify_all()

    def close(self) -> None:
        for event in self._done.values():
            event.set()

    def wait(self, an8: str) -> RecordResult | None:
        """Block until the lane is done with this customer; its result (None if it never had one)."""
        self._done[an8].wait()
        with self._lock:
            return self._results.get(an8)
