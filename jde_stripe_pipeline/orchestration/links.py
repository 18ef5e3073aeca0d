"""Where a person finds a Stripe object: a dashboard URL, test or live by the key's prefix.

Against anything but api.stripe.com (the emulator, a proxy) there is no dashboard: the link is the
object's API URL on that base instead, which the emulator serves.
"""

from __future__ import annotations

STRIPE_API_BASE = "https://api.stripe.com"
DASHBOARD = "https://dashboard.stripe.com"

_PATHS = {"cus_": "customers", "in_": "invoices"}


def object_path(stripe_id: str) -> str | None:
    """`cus_…` → `customers/cus_…`; None for ids whose kind has no page."""
    for prefix, collection in _PATHS.items():
        if stripe_id.startswith(prefix):
            return f"{collection}/{stripe_id}"
    return None


def is_live_key(masked_or_full_key: str) -> bool:
    """Live mode by prefix; works on the masked form (`sk_live_…wxyz`) too."""
    return masked_or_full_key.startswith(("sk_live_", "rk_live_"))


def stripe_object_url(stripe_id: str, *, api_base: str, live: bool) -> str | None:
    path = object_path(stripe_id)
    if path is None:
        return None
    if api_base.rstrip("/") != STRIPE_API_BASE:
        return f"{api_base.rstrip('/')}/v1/{path}"
    return f"{DASHBOARD}/{path}" if live else f"{DASHBOARD}/test/{path}"
