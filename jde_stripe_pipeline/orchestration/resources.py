"""Dagster resources: thin handles on the ledger, the AIS session and the Stripe client.

No secret is a resource field. The JDE login and the Stripe key are resolved when a step runs, through
`jde_stripe_pipeline.credentials` (the environment first, then the encrypted store), so that
`dagster definitions validate` needs no environment, secrets never enter run config, and a Stripe key
rotated in the store is picked up by a running client after a 401. The ledger URL (which may carry a
database password) is likewise read at run time from `JDE_STRIPE_STATE_URL`, else SQLite under
`$DAGSTER_HOME`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from jde_stripe_pipeline.ledger import Ledger


class LedgerResource(dg.ConfigurableResource):
    """The state ledger. `state_url` overrides `JDE_STRIPE_STATE_URL` (tests, a second ledger)."""

    state_url: str | None = None

    @contextmanager
    def open(self) -> Iterator[Ledger]:
        with Ledger.open(self.state_url) as ledger:
            yield ledger
