"""The code location's `Definitions`, built from the settings root (`jde_stripe_pipeline.definitions`
builds it from the environment; the demo and the tests from settings of their own)."""

from __future__ import annotations

from typing import Any

import dagster as dg

from jde_stripe_pipeline.orchestration.account_partitions import sync_partitions
from jde_stripe_pipeline.orchestration.assets import build_sync_assets
from jde_stripe_pipeline.orchestration.connection_checks import connection_check
from jde_stripe_pipeline.orchestration.jobs import sync_job
from jde_stripe_pipeline.orchestration.resources import CredentialsResource, build_resources
from jde_stripe_pipeline.orchestration.schedules import build_billing_schedule
from jde_stripe_pipeline.orchestration.sensors import build_change_sensor
from jde_stripe_pipeline.settings import Settings


def build_definitions(
    settings: Settings,
    *,
    credentials: CredentialsResource | None = None,
    state_url: str | None = None,
    **stripe_step: Any,
) -> dg.Definitions:
    """Assets, checks, jobs, schedule, sensor and resources, every setting from `settings`; partitioned
    by day, or by day × Stripe account when the settings name several accounts (`account_partitions.py`)."""
    partitions = sync_partitions(settings)
    return dg.Definitions(
        assets=build_sync_assets(partitions),
        jobs=[sync_job, connection_check],
        schedules=[build_billing_schedule(settings.schedule, settings.timezone, partitions)],
        sensors=[build_change_sensor(partitions, settings.accounts)],
        resources=build_resources(settings, credentials=credentials, state_url=state_url, **stripe_step),
    )
