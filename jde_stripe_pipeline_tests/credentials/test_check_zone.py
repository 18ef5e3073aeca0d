"""`jde-stripe check`'s zone line: the run's own parser, its refusal split into message and hint."""

from __future__ import annotations

import pytest

from jde_stripe_pipeline.credentials.check_zone import check_timezone


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        ("", "JDE_TIMEZONE is not set"),
        ("Mars/Base", "JDE_TIMEZONE='Mars/Base' is not a known IANA time zone"),
        ("Central: US", "JDE_TIMEZONE='Central: US' is not a known IANA time zone"),
    ],
)
def test_a_missing_or_bad_zone_is_one_message_and_one_hint(zone: str, message: str) -> None:
    result = check_timezone({"JDE_TIMEZONE": zone})
    assert not result.ok and result.message == message
    assert result.hint is not None and result.hint.startswith("set it to the JDE server's")


def test_a_known_zone_passes() -> None:
    result = check_timezone({"JDE_TIMEZONE": "Europe/Berlin"})
    assert result.ok and result.message.startswith("Europe/Berlin ")
