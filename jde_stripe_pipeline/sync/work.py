"""Records to work items: each JDE record mapped to its Stripe request (or to why it cannot be). Pure."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from jde_stripe_pipeline.jde.records import JdeCustomer, JdeInvoice, QuarantinedRecord
from jde_stripe_pipeline.mapping import CustomerRequest, DeleteDraftInvoice, InvoiceRequest, MappingFailure
from jde_stripe_pipeline.mapping.ar_requests import ArVoid, CreditNoteRequest

Request = CustomerRequest | InvoiceRequest | DeleteDraftInvoice | CreditNoteRequest | ArVoid
"""`CreditNoteRequest` and `ArVoid` (the `ar_invoice` profile's memos and voids) are decided by
`sync/ar_events.py`, not by `decide_invoice`."""


@dataclass(frozen=True)
class Work:
    """One record to sync: its mapped request (or why it cannot be) and its attempt number."""

    record_key: str
    jde_version: datetime | None
    request: Request | None
    quarantined: QuarantinedRecord | None = None
    attempt: int = 1
    """The attempt number the record's keys carry: its intent row's (kept across runs), raised each time
    Stripe saved a failure under one of its keys."""
    round: int = 1
    """This run's round for the record (rounds are bounded; attempts are not)."""
    requests_before: int = 0
    """Stripe requests the record cost in earlier rounds (so its result counts them all)."""


_R = TypeVar("_R", JdeCustomer, JdeInvoice)


def works(
    records: Iterable[_R | QuarantinedRecord], map_record: Callable[[_R], Request | MappingFailure]
) -> Iterator[Work]:
    """Each record mapped to its request, or to the quarantine with the field and the reason."""
    for record in records:
        if isinstance(record, QuarantinedRecord):
            yield Work(record.record_key, None, None, record)
            continue
        mapped = map_record(record)
        if isinstance(mapped, MappingFailure):
            yield Work(mapped.record_key, _version(record), None, mapped.to_quarantined_record())
        else:
            yield Work(mapped.record_key, _version(record), mapped)


def _version(record: JdeCustomer | JdeInvoice) -> datetime | None:
    stamp = record.updated_at
    return stamp.replace(tzinfo=None) if stamp.tzinfo is not None else stamp


def dedupe(items: Iterable[Work]) -> list[Work]:
    """The latest version of each record key (an extract may yield a record twice across chunks)."""
    latest: dict[str, Work] = {}
    for work in items:
        current = latest.get(work.record_key)
        if current is None or (work.jde_version or datetime.min) >= (current.jde_version or datetime.min):
            latest[work.record_key] = work
    return list(latest.values())
