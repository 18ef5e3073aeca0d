"""The IO manager the assets hand their outputs over with: Dagster's own filesystem IO manager (the same
pickles at the same paths under the instance's storage directory), with the garbage collector paused
while it pickles or unpickles.

Why: unpickling an invoice extract builds ~50,000 objects (2,000 invoices, 14,500 lines), and the
collector, triggered every 700 allocations at its default thresholds, walks the young ones again and
again and finally the whole heap — Dagster, the definitions and every module. Measured in a first load
(1,000 customers, 2,000 invoices): three full collections of 0.2-0.3 s each, all in the hand-overs
(`jde_invoices` storing its output; `stripe_invoices` and `billing_reconciliation` loading it), on the
path before the first Stripe request and after the last answer. Paused, a load takes half the time.
Nothing is lost by pausing: pickling makes no garbage cycles, and what a load built is checked by the
next young collection after it (then frozen by the step, `steps.frozen_heap`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg


@contextmanager
def paused_gc() -> Iterator[None]:
    """No automatic collection inside; the collector as it was after (a caller that paused it keeps it so)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _PausedGc(dg.IOManager):
    """Dagster's filesystem IO manager, each store and load with the collector paused."""

    def __init__(self, inner: dg.IOManager):
        self._inner = inner

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        with paused_gc():
            self._inner.handle_output(context, obj)

    def load_input(self, context: dg.InputContext) -> Any:
        with paused_gc():
            return self._inner.load_input(context)


class HandOverIOManager(dg.ConfigurableIOManagerFactory):
    """`dg.FilesystemIOManager` (pickles under `base_dir`, by default the instance's storage directory),
    pickling with the garbage collector paused."""

    base_dir: str | None = None

    def create_io_manager(self, context: dg.InitResourceContext) -> dg.IOManager:
        inner = dg.FilesystemIOManager(base_dir=self.base_dir).create_io_manager(context)
        return _PausedGc(inner)
