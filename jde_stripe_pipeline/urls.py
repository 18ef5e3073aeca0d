"""The one rule for a base URL the project is given (the AIS Server's, Stripe's API base).

Written once because the same value reaches several models (the credential store, `AisSettings`,
`StripeSettings`): each used to check it its own way, and one took `https://` for a URL.
"""

from __future__ import annotations

import re

_HTTP_URL = re.compile(r"https?://[^/\s]+(/\S*)?")


def http_base_url(value: str) -> str:
    """`value` without surrounding blanks or a trailing `/`; a `ValueError` (its text reads after the
    setting's name) unless it is an http:// or https:// URL with a host and no blank inside."""
    value = value.strip()
    if not _HTTP_URL.fullmatch(value):
        raise ValueError("must be an http:// or https:// URL with a host")
    return value.rstrip("/")
