"""Errors of the JDE source, as a small hierarchy a caller can act on.

`AisError` is the root: the CLI and the Dagster layer catch it and show its message (never a
traceback). The subclasses say what to do about it: fix configuration, fix credentials, fix the
network allowlist, fix the request, or wait for AIS to come back.
"""

from __future__ import annotations

from jde_stripe_pipeline.errors import ConfigurationError


class AisError(Exception):
    """Any failure talking to the JDE AIS Server; the message is safe to show (no secrets)."""


class AisConfigError(AisError, ConfigurationError):
    """The connector's settings are missing or invalid (e.g. a required environment variable)."""


class AisAuthError(AisError):
    """AIS refused the credentials, or rejected a token it had just issued."""


class AisAllowlistError(AisError):
    """HTTP 403: an IP allowlist in front of AIS refused the connector. Retrying cannot help."""

    def __init__(self, url: str, detail: str | None = None):
        self.url = url
        message = (
            f"The AIS Server at {url} refused the connection with HTTP 403 (Forbidden). "
            "The connector's egress IP address must be added to the AIS Server's allowlist."
        )
        if detail:
            message += f" AIS said: {detail}"
        super().__init__(message)


class AisRequestError(AisError):
    """AIS rejected the request itself (HTTP 400/415/other 4xx, or errors in the form): no retry."""

    def __init__(self, message: str, *, status: int | None = None, ais_message: str | None = None):
        self.status = status
        self.ais_message = ais_message
        super().__init__(message)


class AisUnavailableError(AisError):
    """AIS kept failing (5xx, timeouts, dropped connections) after the bounded retries."""


class AisProtocolError(AisError):
    """AIS answered 200 with a body this client cannot read (not JSON, missing token or grid)."""
