"""The credential tests' distinctive values and what is built from them.

Distinctive so that a test can grep a file, an output or a message for them: if one shows up, it leaked.
A plain module (not the conftest) so that `check_support` and the conftest's fixtures can both use it.
"""

from __future__ import annotations

from jde_stripe_pipeline.credentials.models import (
    StoredCredentials,
    build_jde_credentials,
    build_stripe_credentials,
)

JDE_PASSWORD = "pw-Quokka-7731-zeta"
STRIPE_KEY = "sk_test_51QuokkaSecretKeyValue9931abcd"
OTHER_STRIPE_KEY = "sk_test_51WombatRotatedKeyValue4417wxyz"
AIS_URL = "https://ais.quokka-corp.example:9300"
JDE_USER = "QUOKKAUSR"
SECRETS = (JDE_PASSWORD, STRIPE_KEY, OTHER_STRIPE_KEY, "Quokka", "Wombat")


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"secret fragment {secret!r} leaked"


def stored_credentials(**stripe: str | None) -> StoredCredentials:
    """Both groups from the distinctive values; `stripe` sets the Stripe group's other values
    (`api_base`) or another `api_key`."""
    return StoredCredentials(
        jde=build_jde_credentials(
            {"url": AIS_URL, "username": JDE_USER, "password": JDE_PASSWORD}, source="t"
        ),
        stripe=build_stripe_credentials({"api_key": STRIPE_KEY, **stripe}, source="t"),
    )
