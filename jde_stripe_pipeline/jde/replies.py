"""What an AIS error answer says: its own message, an expired result set, a refused login."""

from __future__ import annotations

import json
from decimal import Decimal

import requests

from jde_stripe_pipeline.jde.query import ais_message, is_result_set_expired


def response_message(response: requests.Response, default: str | None = "no message") -> str | None:
    """AIS's own message from an error body, without echoing anything that might be a secret."""
    try:
        payload = json.loads(response.content, parse_float=Decimal)
    except ValueError:
        text = response.text.strip()
        return text[:200] if text and not text.lstrip().startswith("<") else default
    return ais_message(payload) or default


def says_result_set_expired(response: requests.Response) -> bool:
    try:
        return is_result_set_expired(json.loads(response.content))
    except ValueError:
        return False


def is_credential_refusal(response: requests.Response) -> bool:
    """A 401, or a 403 to the token request in AIS's own words ("Authorization Failure").

    Real AIS answers a wrong password with 403 "Authorization Failure"; an allowlist in front of it
    answers 403 with anything else, and that stays an `AisAllowlistError`.
    """
    if response.status_code == 401:
        return True
    try:
        payload = json.loads(response.content)
    except ValueError:
        return False
    text = (ais_message(payload) or "").lower()
    return any(word in text for word in ("authorization failure", "password", "credential", "login"))
