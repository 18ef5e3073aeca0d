"""The one sync job: every asset of the code location, for one partition per run.

One partition per run because the extract assets hand their records to the Stripe assets through
the default filesystem IO manager, which stores one output per partition. Backfills therefore use
Dagster's default "one run per partition"; the engine is idempotent, so overlapping runs are safe.
"""

from __future__ import annotations

import dagster as dg

SYNC_GROUPS = ("jde", "stripe", "reconciliation")

sync_job = dg.define_asset_job(
    name="jde_stripe_sync",
    selection=dg.AssetSelection.groups(*SYNC_GROUPS),
    description="Extract the partition's changed JDE customers and invoices and sync them to Stripe.",
)
