"""`jde-stripe check`'s first line: `JDE_TIMEZONE`, which every run needs and which has no default.

Judged by the parser every run uses (`settings.timezone_from_env`), so the check cannot pass a zone a run
would refuse, or the other way round; its one-line refusal (`what: what to do`) is split into the check's
message and hint.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from jde_stripe_pipeline.credentials.check import ConnectionCheckResult, Problem, _failed
from jde_stripe_pipeline.env_values import SettingsError
from jde_stripe_pipeline.settings import timezone_from_env

TIMEZONE_CHECK_NAME = "JDE zone"


def check_timezone(env: Mapping[str, str] | None = None) -> ConnectionCheckResult:
    """`JDE_TIMEZONE`, which every run needs (partitions, stamps) and has no default: set and known?"""
    try:
        name = timezone_from_env(os.environ if env is None else env)
    except SettingsError as error:
        message, _, hint = str(error).rpartition(": ")  # the value itself may hold ": "
        return _failed(TIMEZONE_CHECK_NAME, Problem.CONFIGURATION, message, hint or None)
    return ConnectionCheckResult(
        TIMEZONE_CHECK_NAME, True, f"{name} (UPMJ/UPMT are read as local times there)"
    )
