"""`run_connection_checks` against the real AIS sandbox and Stripe emulator, through the real clients."""

from __future__ import annotations

from pathlib import Path

import pytest

from jde_stripe_pipeline.credentials.check import (
    JDE_CHECK_NAME,
    STRIPE_CHECK_NAME,
    CheckLimits,
    ConnectionCheckResult,
    Problem,
    _ais_failure,
    check_jde,
    check_stripe,
    run_connection_checks,
)
from jde_stripe_pipeline.credentials.models import build_jde_credentials
from jde_stripe_pipeline.jde.errors import AisAllowlistError
from jde_stripe_pipeline.jde.settings import AisSettings
from jde_stripe_pipeline_tests.credentials.check_support import Systems, closed_port_url, served_over_https
from jde_stripe_pipeline_tests.credentials.conftest import Home
from jde_stripe_pipeline_tests.credentials.support import JDE_PASSWORD, JDE_USER, STRIPE_KEY, assert_no_secret

FAST = CheckLimits(attempts=2, connect_timeout_seconds=2.0, read_timeout_seconds=5.0, backoff_seconds=0.01)
MASKED_STRIPE_KEY = "sk_test_…abcd"


def by_name(results: list[ConnectionCheckResult]) -> dict[str, ConnectionCheckResult]:
    return {result.name: result for result in results}


def assert_clean(result: ConnectionCheckResult) -> None:
    assert_no_secret(f"{result.message} {result.hint}")


def test_both_systems_ok_token_one_row_logout_and_one_balance_read(systems: Systems) -> None:
    results = by_name(run_connection_checks(systems.env(), FAST))

    jde, stripe = results[JDE_CHECK_NAME], results[STRIPE_CHECK_NAME]
    assert jde.ok and stripe.ok, (jde, stripe)
    assert jde.message == f"{systems.ais_server.url} (user {JDE_USER}, environment JDV920)"
    assert stripe.message == f"{systems.stripe_server.url} (key {MASKED_STRIPE_KEY}, test mode)"
    assert jde.hint is None and jde.problem is None
    calls = systems.ais.stats()["requests"]
    assert calls == {  # maxPageSize 1: one row, no next page
        "POST /jderest/v2/tokenrequest": {"200": 1},
        "POST /jderest/v2/dataservice": {"200": 1},
        "POST /jderest/v2/tokenrequest/logout": {"200": 1},
    }
    assert [(e["method"], e["path"], e["status"]) for e in systems.stripe.requests_log()] == [
        ("GET", "/v1/balance", 200)
    ]


def test_allowlist_block_names_the_url_and_the_egress_ip_and_stripe_is_still_checked(
    systems: Systems,
) -> None:
    systems.ais.update_config(allowlist=["10.20.30.40"])

    results = by_name(run_connection_checks(systems.env(), FAST))

    jde = results[JDE_CHECK_NAME]
    assert not jde.ok and jde.problem is Problem.ALLOWLIST
    assert systems.ais_server.url in jde.message
    assert "egress IP address must be added to the AIS Server's allowlist" in jde.message
    assert jde.hint is not None and "allowlist" in jde.hint
    assert results[STRIPE_CHECK_NAME].ok
    assert_clean(jde)


def test_wrong_password_is_a_login_problem_not_an_allowlist_block(systems: Systems) -> None:
    result = check_jde(systems.env(JDE_AIS_PASSWORD="Wrong-Quokka-Password"), FAST)

    assert not result.ok and result.problem is Problem.CREDENTIALS
    assert "refused the login" in result.message and "Authorization Failure" in result.message
    assert result.hint is not None and "JDE_AIS_USERNAME, JDE_AIS_PASSWORD" in result.hint
    assert "allowlist" not in result.message
    assert systems.ais.stats()["failed_logins"] == 1  # refused once: a bad login is not retried
    assert_clean(result)
    assert "Wrong-Quokka-Password" not in f"{result.message} {result.hint}"


def test_wrong_environment_is_a_login_problem(systems: Systems) -> None:
    result = check_jde(systems.env(JDE_AIS_ENVIRONMENT="JPY920"), FAST)

    assert result.problem is Problem.CREDENTIALS
    assert result.hint is not None and "JDE_AIS_ENVIRONMENT" in result.hint


def test_403_on_the_read_after_a_login_is_jde_security_not_the_allowlist() -> None:
    """Not producible by the sandbox (its allowlist guards every call): the classification alone."""
    credentials = build_jde_credentials(
        {
            "url": "https://ais.example:9300",
            "username": "JDE",
            "password": JDE_PASSWORD,
            "environment": "JDV920",
        },
        source="environment",
    )
    settings = AisSettings.from_values(**credentials.settings_values(), timezone="UTC")
    error = AisAllowlistError(settings.url)

    before_login = _ais_failure(error, False, settings, credentials)
    after_login = _ais_failure(error, True, settings, credentials)

    assert before_login.problem is Problem.ALLOWLIST
    assert after_login.problem is Problem.PERMISSION
    assert "accepted the login of user JDE but refused the read of F03012" in after_login.message
    assert after_login.hint is not None and "read access to F03012" in after_login.hint


def test_revoked_stripe_key_is_named_masked_and_jde_is_still_checked(systems: Systems) -> None:
    systems.stripe.roll_key(STRIPE_KEY, expires_in_seconds=0)

    results = by_name(run_connection_checks(systems.env(), FAST))

    stripe = results[STRIPE_CHECK_NAME]
    assert not stripe.ok and stripe.problem is Problem.CREDENTIALS
    assert f"refused the API key {MASKED_STRIPE_KEY} (HTTP 401)" in stripe.message
    assert "invalid, revoked or expired" in stripe.message
    assert stripe.hint is not None and "STRIPE_API_KEY" in stripe.hint
    assert results[JDE_CHECK_NAME].ok
    assert_clean(stripe)


def test_unknown_stripe_key_is_refused(systems: Systems) -> None:
    other = "sk_test_51SomeOtherKeyNobodyIssued7777"
    result = check_stripe(systems.env(STRIPE_API_KEY=other), FAST)

    assert result.problem is Problem.CREDENTIALS
    assert "sk_test_…7777" in result.message and other not in result.message


def test_stripe_rate_limit_on_every_attempt(systems: Systems) -> None:
    systems.stripe.update_config(rate_limit_per_second=0.5)  # the bucket starts below one request

    result = check_stripe(systems.env(), FAST)

    assert result.problem is Problem.RATE_LIMITED
    assert "HTTP 429" in result.message
    assert [e["status"] for e in systems.stripe.requests_log()] == [429, 429]  # FAST: two attempts


def test_unreachable_ais_and_stripe_are_network_problems(systems: Systems) -> None:
    dead = closed_port_url()

    results = by_name(run_connection_checks(systems.env(JDE_AIS_URL=dead, STRIPE_API_BASE=dead), FAST))

    jde, stripe = results[JDE_CHECK_NAME], results[STRIPE_CHECK_NAME]
    assert jde.problem is Problem.NETWORK and stripe.problem is Problem.NETWORK
    assert dead in jde.message and "after 2 attempts" in jde.message
    assert jde.hint is not None and "JDE_AIS_URL" in jde.hint and "firewall" in jde.hint
    assert dead in stripe.message
    assert stripe.hint is not None and "STRIPE_API_BASE" in stripe.hint


def test_self_signed_ais_certificate_fails_verification_until_the_ca_bundle_is_set(
    home: Home, tmp_path: Path
) -> None:
    with served_over_https(tmp_path) as (systems, https_url, ca_bundle):
        untrusted = check_jde(systems.env(JDE_AIS_URL=https_url), FAST)
        trusted = check_jde(systems.env(JDE_AIS_URL=https_url, JDE_AIS_CA_BUNDLE=str(ca_bundle)), FAST)

    assert not untrusted.ok and untrusted.problem is Problem.TLS
    assert https_url in untrusted.message
    assert untrusted.hint is not None and "JDE_AIS_CA_BUNDLE" in untrusted.hint
    assert trusted.ok, trusted
    assert trusted.message.startswith(f"{https_url} (user {JDE_USER}")


def test_ca_bundle_that_is_not_a_file(systems: Systems, tmp_path: Path) -> None:
    result = check_jde(systems.env(JDE_AIS_CA_BUNDLE=str(tmp_path / "missing.pem")), FAST)

    assert result.problem is Problem.CONFIGURATION
    assert "missing.pem" in result.message and "JDE_AIS_CA_BUNDLE" in result.message


def test_missing_environment_is_named(systems: Systems) -> None:
    result = check_jde(systems.env(JDE_AIS_ENVIRONMENT=None), FAST)

    assert result.problem is Problem.CONFIGURATION
    assert "JDE_AIS_ENVIRONMENT" in result.message
    assert systems.ais.stats()["requests"] == {}  # nothing was sent


def test_nothing_configured_both_fail_with_what_to_set(home: Home) -> None:
    results = by_name(run_connection_checks({}, FAST))

    jde, stripe = results[JDE_CHECK_NAME], results[STRIPE_CHECK_NAME]
    assert jde.problem is Problem.CONFIGURATION and stripe.problem is Problem.CONFIGURATION
    assert "JDE_AIS_PASSWORD" in jde.message and "jde-stripe credentials set jde" in jde.message
    assert "STRIPE_API_KEY" in stripe.message and "jde-stripe credentials set stripe" in stripe.message


def test_half_set_environment_is_reported_without_its_values(home: Home) -> None:
    result = check_jde({"JDE_AIS_PASSWORD": JDE_PASSWORD}, FAST)

    assert result.problem is Problem.CONFIGURATION
    assert "JDE_AIS_URL" in result.message
    assert_clean(result)


def test_no_secret_in_any_result_or_log(systems: Systems, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    dead = closed_port_url()
    systems.ais.update_config(allowlist=["10.20.30.40"])
    results = run_connection_checks(systems.env(), FAST)
    systems.ais.update_config(allowlist=None)
    results += run_connection_checks(systems.env(JDE_AIS_PASSWORD="Bad-" + JDE_PASSWORD), FAST)
    results += run_connection_checks(systems.env(JDE_AIS_URL=dead, STRIPE_API_BASE=dead), FAST)
    systems.stripe.roll_key(STRIPE_KEY)
    results += run_connection_checks(systems.env(), FAST)

    assert [r.problem for r in results if not r.ok] == [
        Problem.ALLOWLIST,
        Problem.CREDENTIALS,
        Problem.NETWORK,
        Problem.NETWORK,
        Problem.CREDENTIALS,
    ]
    text = "\n".join(f"{r!r}" for r in results) + caplog.text
    assert_no_secret(text)
    assert STRIPE_KEY[8:] not in text and JDE_PASSWORD not in text


def test_urls_that_are_not_ais_or_stripe_point_at_the_url_settings(systems: Systems) -> None:
    with_jderest = systems.ais_server.url + "/jderest"  # a common slip: the base URL includes /jderest

    results = by_name(
        run_connection_checks(
            systems.env(JDE_AIS_URL=with_jderest, STRIPE_API_BASE=systems.ais_server.url), FAST
        )
    )

    jde, stripe = results[JDE_CHECK_NAME], results[STRIPE_CHECK_NAME]
    assert jde.problem is Problem.CONFIGURATION and "HTTP 404" in jde.message
    assert jde.hint is not None and "without /jderest" in jde.hint
    assert stripe.problem is Problem.CONFIGURATION and "HTTP 404" in stripe.message
    assert stripe.hint is not None and "STRIPE_API_BASE" in stripe.hint


def test_a_token_rejected_again_after_renewal_is_a_session_problem_not_the_password(systems: Systems) -> None:
    systems.ais.update_config(
        token_max_age_seconds=0.01, latency_ms=30
    )  # every token dies before its first use

    result = check_jde(systems.env(), FAST)

    assert result.problem is Problem.SESSION
    assert "HTTP 444 again" in result.message
    assert (
        result.hint is not None and "session timeout" in result.hint and "JDE_AIS_PASSWORD" not in result.hint
    )
    stats = systems.ais.stats()
    assert stats["tokens_issued"] == 2 and stats["requests"]["POST /jderest/v2/dataservice"] == {"444": 2}
