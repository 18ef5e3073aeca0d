"""The one Dagster `Definitions` object of this code location.

Loads with no environment at all (`dagster definitions validate`): secrets and connection settings are
resolved when a step runs, never here. What is read at load time shapes the definitions themselves:
JDE_TIMEZONE, JDE_STRIPE_START_DATE (partitions), JDE_STRIPE_BILLING_CRON (schedule) and
JDE_INVOICE_SOURCE (which JDE tables are invoices).
"""

import dagster as dg

from jde_stripe_pipeline.orchestration.assets import SYNC_ASSETS_DEFS
from jde_stripe_pipeline.orchestration.jobs import sync_job
from jde_stripe_pipeline.orchestration.resources import LedgerResource, StripeResource, jde_resource
from jde_stripe_pipeline.orchestration.schedules import billing_cycle_schedule
from jde_stripe_pipeline.orchestration.sensors import jde_change_sensor

defs = dg.Definitions(
    assets=SYNC_ASSETS_DEFS,
    jobs=[sync_job],
    schedules=[billing_cycle_schedule],
    sensors=[jde_change_sensor],
    resources={"jde": jde_resource(), "stripe": StripeResource(), "ledger": LedgerResource()},
)
