"""What the emulator's request log (`/_sandbox/requests`) says about a run. Pure.

Every entry has `endpoint` (method + path template), `status`, `limited_by` (the limiter of a 429),
`received_at` / `answered_at` (epoch seconds), `latency_ms`, `path` and `idempotency_key`. From them:
requests by endpoint, 429s by limiter, the write phase (first write received → last write answered),
admitted requests per second, and each request attributed to the JDE record it was for — by the
engine's idempotency key (`jde-stripe:<object>:<JDE key>:…`) or by the Stripe id in the path — or to
a whole-account listing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Entry = Mapping[str, Any]
THROTTLED = 429
LISTINGS = frozenset({"GET /v1/customers", "GET /v1/invoices"})
"""Whole-account listings when sent without a `customer` filter (the log keeps no query string, so a
customer's invoice list counts here too: only the baseline sends one)."""
_ESCAPED = re.compile(r"(?:~[0-9A-F]{2})+")
_ID_IN_PATH = re.compile(r"^/v1/(?:customers|invoices|invoiceitems)/([A-Za-z0-9_]+)")


def admitted(entries: Iterable[Entry]) -> list[Entry]:
    return [e for e in entries if e.get("status") != THROTTLED and e.get("endpoint")]


def by_endpoint(entries: Iterable[Entry]) -> Counter[str]:
    """Admitted requests per endpoint."""
    return Counter(str(e["endpoint"]) for e in admitted(entries))


def throttled(entries: Iterable[Entry]) -> Counter[str]:
    """429s per limiter (`global`, `endpoint`, `search`, `concurrency`)."""
    return Counter(str(e.get("limited_by") or "?") for e in entries if e.get("status") == THROTTLED)


def latency_seconds(entries: Iterable[Entry]) -> float:
    """Time the admitted requests spent in flight at the emulator (receive to answer)."""
    return sum(max(float(e["answered_at"]) - float(e["received_at"]), 0.0) for e in admitted(entries))


def is_write(entry: Entry) -> bool:
    return str(entry.get("endpoint") or "").startswith(("POST ", "DELETE "))


def write_phase(entries: Sequence[Entry]) -> tuple[float, float] | None:
    """(first write received, last write answered), or None when the run wrote nothing."""
    writes = [e for e in admitted(entries) if is_write(e)]
    if not writes:
        return None
    return min(float(e["received_at"]) for e in writes), max(float(e["answered_at"]) for e in writes)


def within(entries: Iterable[Entry], start: float, end: float) -> list[Entry]:
    """Entries received in `[start, end]`."""
    return [e for e in entries if start <= float(e["received_at"]) <= end]


def rate_series(entries: Iterable[Entry], start: float, bucket: float = 1.0) -> list[tuple[float, int]]:
    """Admitted requests per `bucket` seconds by time received, from `start`, empty buckets included."""
    counts: Counter[int] = Counter(
        int((float(e["received_at"]) - start) // bucket) for e in admitted(entries)
    )
    if not counts:
        return []
    return [(index * bucket, counts.get(index, 0)) for index in range(max(counts) + 1)]


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: bytes.fromhex(m.group(0).replace("~", "")).decode("utf-8"), text)


def record_of(entry: Entry, ids: Mapping[str, tuple[str, str]]) -> tuple[str, str] | None:
    """(object type, JDE key) the request was for; ("listing", "") for an account listing; None if unknown.
    `ids` maps Stripe ids to (object type, JDE key) (the ledger's mappings after the run)."""
    key = str(entry.get("idempotency_key") or "")
    if key.startswith("jde-stripe:"):
        parts = key.split(":")
        if len(parts) >= 5 and not parts[2].startswith("~h"):
            return parts[1], _unescape(parts[2])
    match = _ID_IN_PATH.match(str(entry.get("path") or ""))
    if match and match.group(1) in ids:
        return ids[match.group(1)]
    if entry.get("endpoint") in LISTINGS:
        return "listing", ""
    return None


def per_record(
    entries: Iterable[Entry], ids: Mapping[str, tuple[str, str]]
) -> tuple[Counter[tuple[str, str]], int, int]:
    """(admitted requests per record, account-listing requests, requests for no known record)."""
    found: Counter[tuple[str, str]] = Counter()
    listing = unknown = 0
    for entry in admitted(entries):
        record = record_of(entry, ids)
        if record is None:
            unknown += 1
        elif record[0] == "listing":
            listing += 1
        else:
            found[record] += 1
    return found, listing, unknown
