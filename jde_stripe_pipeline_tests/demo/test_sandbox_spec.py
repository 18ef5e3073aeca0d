"""`SandboxSpec` fixes the seed's today once, in its own zone: the demo and the scale-out read it there."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from jde_stripe_pipeline.demo.sandboxes import SandboxSpec


def test_today_is_fixed_in_the_specs_zone_when_it_is_made() -> None:
    # UTC+14 and UTC-11 are 25 hours apart: their dates always differ, so the zone is really the spec's
    east, west = SandboxSpec(timezone="Pacific/Kiritimati"), SandboxSpec(timezone="Pacific/Pago_Pago")
    assert east.day != west.day
    for spec in (east, west):
        assert spec.day == dt.datetime.now(ZoneInfo(spec.timezone)).date()
        assert spec.as_of == spec.day  # resolved once: every reader of the spec gets the same day


def test_a_given_day_is_kept() -> None:
    assert SandboxSpec(as_of=dt.date(2026, 11, 20)).day == dt.date(2026, 11, 20)
