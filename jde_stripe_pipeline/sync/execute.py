"""Sending a decision's operations through the `StripeSink`, and the rounds that retry under new keys.

- Operations go in order; a `Created` target is filled with the id the create returned.
- A create answered by Stripe's replay is checked (one GET): if the replayed object has been deleted
  since (a person deleted the draft, or the engine did when every line was cancelled, within
  Stripe's 24 h key memory), the answer is a new `StripeState` to re-decide under: the create is then
  keyed under a new generation. A blind update answered 404 (the object is gone) is re-decided too.
- A saved Stripe 500 (`Stripe-Should-Retry: false`) or an `idempotency_error` poisons its key for
  24 h: the engine raises the record's attempt number in the ledger (new keys, in this run and the
  next ones) and the record goes to a next round, where a create that may have happened is looked up
  first. Rounds are bounded (`max_rounds`); attempts are not.
- Pacing and retries of 429/5xx/connection errors are the sink's; the pool is sized from it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from jde_stripe_pipeline.stripe_sink import StripeRequestRejected, StripeResult
from jde_stripe_pipeline.sync.decision import ABSENT, Decision, StripeState
from jde_stripe_pipeline.sync.operations import Created, StripeOperation
from jde_stripe_pipeline.sync.results import ObjectKind, RecordResult
from jde_stripe_pipeline.sync.stripe_state import Meter, is_missing, retrieve_live
from jde_stripe_pipeline.sync.work import Work

_T = TypeVar("_T")
_R = TypeVar("_R")

log = logging.getLogger(__name__)


class NewKeyNeeded(Exception):
    """Stripe saved a failure under this record's key: retry the record next round under a new key."""

    def __init__(self, message: str, *, requests: int, attempt: int = 1) -> None:
        super().__init__(message)
        self.requests = requests
        """Stripe requests the record has cost so far, earlier rounds included."""
        self.attempt = attempt
        """The attempt number of the keys that failed."""


@dataclass(frozen=True)
class Executed:
    """What Stripe answered to a decision's operations."""

    stripe_id: str | None
    idempotency_key: str | None
    """The first write's key (the one a person looks up in Stripe's request log)."""
    request_id: str | None
    """Stripe's request id of that write."""
    answers: tuple[dict[str, Any], ...] = ()
    """The object each operation's answer returned, in order (what the reconciliation reuses)."""


def send(meter: Meter, operation: StripeOperation) -> StripeResult:
    """One operation through the sink (counted)."""
    sink, key, params, target = meter.sink, operation.idempotency_key, operation.params, operation.target
    meter.count += 1
    if operation.method == "customers.create":
        return sink.create_customer(params, idempotency_key=key)
    if operation.method == "invoices.create":
        return sink.create_invoice(params, idempotency_key=key)
    assert isinstance(target, str), f"{operation.method} needs a resolved target, got {target!r}"
    calls: Mapping[str, Callable[[], StripeResult]] = {
        "customers.update": lambda: sink.update_customer(target, params, idempotency_key=key),
        "invoices.update": lambda: sink.update_invoice(target, params, idempotency_key=key),
        "invoices.delete": lambda: sink.delete_invoice(target, idempotency_key=key),
        "invoices.add_lines": lambda: sink.add_invoice_lines(target, params, idempotency_key=key),
        "invoices.remove_lines": lambda: sink.remove_invoice_lines(target, params, idempotency_key=key),
        "invoices.update_lines": lambda: sink.update_invoice_lines(target, params, idempotency_key=key),
    }
    return calls[operation.method]()


def execute(decision: Decision, meter: Meter) -> Executed | StripeState:
    """Send the operations in order; a new `StripeState` when Stripe's answer means: decide again."""
    created: dict[int, str] = {}
    answers: list[dict[str, Any]] = []
    first: tuple[str, StripeResult] | None = None
    for index, operation in enumerate(decision.operations):
        operation = operation.resolved(created)
        try:
            result = send(meter, operation)
        except StripeRequestRejected as error:
            if decision.blind and is_missing(error):
                return ABSENT
            raise
        if operation.method.endswith(".create"):
            object_id = str(result.object["id"])
            if result.replayed and retrieve_live(meter, decision.object_type, object_id) is None:
                return StripeState("absent", stale_replay=object_id)
            created[index] = object_id
        answers.append(result.object)
        if first is None:
            first = (operation.idempotency_key, result)
    stripe_id = decision.stripe_id
    if isinstance(stripe_id, Created):
        stripe_id = created[stripe_id.index]
    if first is None:
        return Executed(stripe_id, None, None)
    return Executed(stripe_id, first[0], first[1].request_id, tuple(answers))


def run_rounds(
    kind: ObjectKind,
    works: list[Work],
    sync: Callable[[Work], RecordResult],
    *,
    max_rounds: int,
    workers: int,
    give_up: Callable[[Work, NewKeyNeeded], RecordResult],
    progress: Callable[[int, int | None], None] | None = None,
    between_rounds: Callable[[], None] = lambda: None,
    finished_one: Callable[[RecordResult], None] = lambda result: None,
) -> list[RecordResult]:
    """Each work item through `sync`; those that need a new key go again next round (the attempt they
    carry is re-read from the ledger there).

    `workers` threads run records at once; each blocks while its request waits for the sink's pacing or
    Stripe's answer, so the pool must hold as many threads as the sink may have requests in flight
    (Little's law) and more, for the time a record spends waiting for its slot or outside Stripe: the
    engine passes `StripeSinkSettings.workers` (default 1.5 × `max_in_flight`). A pool never holds more
    threads than there are records. `finished_one` hears each record's final result as it comes."""
    total = len(works)
    finished: list[RecordResult] = []
    lock = threading.Lock()
    pending = works
    for round_number in range(1, max_rounds + 1):
        retry: list[Work] = []

        def one(work: Work, retry: list[Work] = retry) -> None:
            try:
                result = sync(work)
            except NewKeyNeeded as error:
                if work.round >= max_rounds:
                    result = give_up(work, error)
                else:
                    with lock:
                        retry.append(replace(work, round=work.round + 1, requests_before=error.requests))
                    return
            with lock:
                finished.append(result)
                count = len(finished)
            finished_one(result)
            if progress is not None:
                progress(count, total)

        on_threads(one, pending, workers)
        if not retry:
            break
        log.info("%s sync round %d: %d records retry under new keys", kind, round_number, len(retry))
        between_rounds()
        pending = retry
    return finished


def on_threads(function: Callable[[_T], _R], items: Sequence[_T], workers: int) -> list[_R]:
    """`function` over `items` on up to `workers` threads (the sink paces them), results in order; the
    first error cancels what has not started and is raised."""
    threads = min(workers, len(items))
    if threads <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="jde-stripe-sync") as pool:
        futures = [pool.submit(function, item) for item in items]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise
