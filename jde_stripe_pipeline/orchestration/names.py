"""Names shared by the assets and by the schedule, sensor and checks that read their materializations."""

from __future__ import annotations

import dagster as dg

JDE_CUSTOMERS = dg.AssetKey("jde_customers")
JDE_INVOICES = dg.AssetKey("jde_invoices")
STRIPE_CUSTOMERS = dg.AssetKey("stripe_customers")
STRIPE_INVOICES = dg.AssetKey("stripe_invoices")
BILLING_RECONCILIATION = dg.AssetKey("billing_reconciliation")

SYNC_ASSETS = (STRIPE_CUSTOMERS, STRIPE_INVOICES)
"""A partition is synced when both of these materialized it."""

EXTRACTED_AT = "jde_extracted_at"
"""Metadata (a timestamp) on the Stripe assets: when the JDE extract they synced began. A partition
whose day had ended by then holds every change of that day."""

STRIPE_POOL = "stripe_api"
"""Concurrency pool of every step that writes to Stripe (limit it in dagster.yaml)."""
