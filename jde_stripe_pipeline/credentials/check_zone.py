"""`jde-stripe check`'s first line: `JDE_TIMEZONE`, which every run needs and which has no default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jde_stripe_pipeline.credentials.check import ConnectionCheckResult, Problem, _failed
from jde_stripe_pipeline.jde.settings import ENV_TIMEZONE

TIMEZONE_CHECK_NAME = "JDE zone"


def check_timezone(env: Mapping[str, str] | None = None) -> ConnectionCheckResult:
    """`JDE_TIMEZONE`, which every run needs (partitions, stamps) and has no default: set and known?"""
    env = os.environ if env is None else env
    name = env.get(ENV_TIMEZONE, "").strip()
    example = f"e.g. {ENV_TIMEZONE}=America/Chicago"
    if not name:
        return _failed(
            TIMEZONE_CHECK_NAME,
            Problem.CONFIGURATION,
            f"{ENV_TIMEZONE} is not set",
            f"set it to the JDE server's IANA time zone, {example}",
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return _failed(
            TIMEZONE_CHECK_NAME,
            Problem.CONFIGURATION,
            f"{ENV_TIMEZONE}={name!r} is not a known IANA time zone",
            f"set it to the JDE server's zone, {example}",
        )
    return ConnectionCheckResult(
        TIMEZONE_CHECK_NAME, True, f"{name} (UPMJ/UPMT are read as local times there)"
    )
