"""One rule for the base URLs a site gives (AIS's, Stripe's API base), wherever the value arrives."""

from __future__ import annotations

import pytest

from jde_stripe_pipeline.credentials.errors import InvalidCredentialValue
from jde_stripe_pipeline.credentials.models import build_jde_credentials, build_stripe_credentials
from jde_stripe_pipeline.jde.errors import AisConfigError
from jde_stripe_pipeline.jde.settings import AisSettings
from jde_stripe_pipeline.stripe_sink.settings import StripeSinkSettings

REFUSED = "must be an http:// or https:// URL with a host"
BAD = ["https://", "http:///path", "ftp://ais.example.com", "ais.example.com:9300", "https://ais example.com"]
GOOD = [
    ("https://ais.example.com:9300", "https://ais.example.com:9300"),
    (" http://127.0.0.1:8091/ ", "http://127.0.0.1:8091"),
    ("https://proxy.example.com/jde/", "https://proxy.example.com/jde"),
]


def ais_settings(url: str) -> AisSettings:
    values = {"url": url, "username": "JDE", "password": "JDE", "environment": "JDV920", "timezone": "UTC"}
    return AisSettings.from_values(**values)


def jde_credentials_url(url: str) -> str:
    return build_jde_credentials({"url": url, "username": "JDE", "password": "JDE"}, source="test").url


def stripe_credentials_base(url: str) -> str | None:
    values = {"api_key": "sk_test_Quokka1234567890123456", "api_base": url}
    return build_stripe_credentials(values, source="test").api_base


@pytest.mark.parametrize("url", BAD)
def test_every_model_refuses_a_url_without_an_http_scheme_and_a_host(url: str) -> None:
    with pytest.raises(AisConfigError, match=f"JDE_AIS_URL: .*{REFUSED}"):
        ais_settings(url)
    with pytest.raises(InvalidCredentialValue, match=f"url: {REFUSED}"):
        jde_credentials_url(url)
    with pytest.raises(InvalidCredentialValue, match=f"api_base: {REFUSED}"):
        stripe_credentials_base(url)
    with pytest.raises(ValueError, match=f"api_base {REFUSED}"):
        StripeSinkSettings(api_base=url)


@pytest.mark.parametrize(("url", "kept"), GOOD)
def test_every_model_keeps_the_same_url(url: str, kept: str) -> None:
    assert ais_settings(url).url == jde_credentials_url(url) == stripe_credentials_base(url) == kept
    assert StripeSinkSettings(api_base=url.strip()).api_base == url.strip()


def test_a_blank_api_base_means_stripes_own() -> None:
    assert stripe_credentials_base("  ") is None
