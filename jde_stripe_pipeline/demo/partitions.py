"""The demo's partitions: the seeded days the AIS change probe finds, and the runs they ask for (the days,
or with several Stripe accounts the (day, account) pairs whose companies changed, as the sensor asks)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import dagster as dg

from jde_stripe_pipeline import runtime
from jde_stripe_pipeline.credentials import CredentialSource
from jde_stripe_pipeline.settings import Settings


def seeded_days(
    settings: Settings, credentials: CredentialSource, first_day: dt.date, end_day: dt.date
) -> SeededDays:
    """The days with a changed JDE row and the companies each changed, found by the AIS change probe
    (as the sensor finds them)."""
    from jde_stripe_pipeline.jde.probe import changed_update_dates
    from jde_stripe_pipeline.jde.tables import CUSTOMER_TABLES

    since = dt.datetime.combine(first_day, dt.time())
    until = dt.datetime.combine(end_day, dt.time())
    tables = (*CUSTOMER_TABLES, *settings.jde.profile().tables)
    with runtime.ais_session(settings.jde, credentials) as session:
        probe = changed_update_dates(session, since, until, tables)
    return SeededDays([day.isoformat() for day in probe.latest], probe.companies)


@dataclass(frozen=True)
class SeededDays:
    days: list[str]
    companies: Mapping[dt.date, frozenset[str] | None]

    def run_keys(self, job: dg.JobDefinition, settings: Settings, days: Sequence[str]) -> list[str]:
        """The partitions to run for these days: the days themselves, or with several Stripe accounts
        the (day, account) pairs whose companies changed (as the sensor requests them)."""
        from jde_stripe_pipeline.orchestration.account_partitions import pair_requests

        if not isinstance(job.partitions_def, dg.MultiPartitionsDefinition):
            return list(days)
        return [str(key) for key in pair_requests(days, self.companies, settings.accounts)]
