"""Independent reads side by side over one AIS session, their results in the order asked.

An extract's LIST chunks need nothing from each other, and each waits on AIS most of its time: a
few at once keep the server busy while the client assembles the last one (real AIS servers take
concurrent requests on one token; `AisSession` renews a lost token once for all threads). Results
come back in the items' order, so the records do too; at most `workers` items are read ahead.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

READ_WORKERS = 4
"""Reads in flight on one session by default: enough to overlap AIS's work with ours, few enough for
any server. The AIS reference says nothing of concurrent requests on one token; JDE's own UX One pages
send several at once on one session. A server that refuses them: `JDE_AIS_READ_WORKERS=1`."""
MAX_READ_WORKERS = 16


def in_order(work: Callable[[T], R], items: Sequence[T], workers: int = READ_WORKERS) -> Iterator[R]:
    """`work(item)` for every item, up to `workers` at once, yielded in the items' order.

    The first failure (in order) is raised where its result would have been yielded; work not yet
    started is cancelled when the caller stops early or a read fails."""
    if workers <= 1 or len(items) <= 1:
        yield from (work(item) for item in items)
        return
    with ThreadPoolExecutor(min(workers, len(items)), thread_name_prefix="ais-read") as pool:
        upcoming = iter(items)
        pending: deque[Future[R]] = deque(pool.submit(work, item) for item in islice(upcoming, workers))
        try:
            while pending:
                result = pending.popleft().result()
                for item in upcoming:
                    pending.append(pool.submit(work, item))
                    break
                yield result
        finally:
            for future in pending:
                future.cancel()
