"""The encrypted credential store and the resolution of the JDE login and the Stripe key.

Callers need only a `CredentialSource` (or `resolve_jde_credentials` / `resolve_stripe_key`; precedence
in `resolve`), the two value types, and `CredentialsError` (base of every failure, each with a message
safe to show).
"""

from jde_stripe_pipeline.credentials.errors import CredentialsError, CredentialsNotConfigured
from jde_stripe_pipeline.credentials.models import JdeCredentials, StripeCredentials
from jde_stripe_pipeline.credentials.resolve import (
    CredentialSource,
    resolve_jde_credentials,
    resolve_stripe_key,
)

__all__ = [
    "CredentialSource",
    "CredentialsError",
    "CredentialsNotConfigured",
    "JdeCredentials",
    "StripeCredentials",
    "resolve_jde_credentials",
    "resolve_stripe_key",
]
