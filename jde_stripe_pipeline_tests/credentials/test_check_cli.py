"""`jde-stripe check` end to end: CliRunner with environment variables, the store, and a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from jde_stripe_pipeline.cli import main
from jde_stripe_pipeline_tests.credentials.check_support import Systems, closed_port_url, served_over_https
from jde_stripe_pipeline_tests.credentials.conftest import Home
from jde_stripe_pipeline_tests.credentials.support import JDE_PASSWORD, JDE_USER, STRIPE_KEY, assert_no_secret


def check(env: dict[str, str]) -> Result:
    result = CliRunner().invoke(main, ["check"], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def lines(result: Result) -> list[str]:
    """The systems' lines, after the zone's line that comes first (tested in test_first_steps.py)."""
    zone, *systems = result.output.splitlines()
    assert zone.startswith("JDE zone OK "), zone
    return systems


def test_ok_twice_and_exit_zero(systems: Systems) -> None:
    result = check(systems.env())

    assert result.exit_code == 0, result.output
    assert lines(result) == [
        f"JDE AIS  OK      {systems.ais_server.url} (user {JDE_USER}, environment JDV920)",
        f"Stripe   OK      {systems.stripe_server.url} (key sk_test_…abcd, test mode)",
    ]


def test_allowlist_block_prints_the_allowlist_message_and_exits_non_zero(systems: Systems) -> None:
    systems.ais.update_config(allowlist=["192.0.2.10/32"])

    result = check(systems.env())

    assert result.exit_code == 1
    jde, stripe = lines(result)
    assert jde.startswith("JDE AIS  FAILED  ")
    assert f"The AIS Server at {systems.ais_server.url} refused the connection with HTTP 403" in jde
    assert "The connector's egress IP address must be added to the AIS Server's allowlist." in jde
    assert stripe.startswith("Stripe   OK  ")


def test_revoked_stripe_key_names_the_masked_key(systems: Systems) -> None:
    systems.stripe.roll_key(STRIPE_KEY)

    result = check(systems.env())

    assert result.exit_code == 1
    jde, stripe = lines(result)
    assert jde.startswith("JDE AIS  OK  ")
    assert stripe.startswith("Stripe   FAILED  ")
    assert "refused the API key sk_test_…abcd (HTTP 401): it is invalid, revoked or expired." in stripe
    assert "-> Set a new key in STRIPE_API_KEY" in stripe


def test_bad_jde_password_points_at_the_credentials(systems: Systems) -> None:
    result = check(systems.env(JDE_AIS_PASSWORD="not-the-Quokka-password"))

    assert result.exit_code == 1
    jde = lines(result)[0]
    assert "refused the login of user 'QUOKKAUSR' (HTTP 403): Authorization Failure" in jde
    assert "-> Check JDE_AIS_USERNAME, JDE_AIS_PASSWORD and JDE_AIS_ENVIRONMENT" in jde
    assert "allowlist" not in jde


def test_self_signed_certificate_points_at_the_ca_bundle_setting(home: Home, tmp_path: Path) -> None:
    with served_over_https(tmp_path) as (systems, https_url, ca_bundle):
        untrusted = check(systems.env(JDE_AIS_URL=https_url))
        trusted = check(systems.env(JDE_AIS_URL=https_url, JDE_AIS_CA_BUNDLE=str(ca_bundle)))

    assert untrusted.exit_code == 1
    assert f"TLS verification of the AIS Server's certificate at {https_url} failed" in lines(untrusted)[0]
    assert "JDE_AIS_CA_BUNDLE" in lines(untrusted)[0]
    assert trusted.exit_code == 0, trusted.output
    assert lines(trusted)[0].startswith(f"JDE AIS  OK      {https_url} (user ")


def test_unreachable_url_points_at_the_url_and_network(systems: Systems) -> None:
    dead = closed_port_url()

    result = check(systems.env(JDE_AIS_URL=dead))

    assert result.exit_code == 1
    jde, stripe = lines(result)
    assert f"AIS at {dead} did not answer the token request after 2 attempts: ConnectionError" in jde
    assert f"-> Check JDE_AIS_URL ({dead}), that this machine can reach it" in jde
    assert stripe.startswith("Stripe   OK  ")


def test_credentials_from_the_store_when_the_environment_has_none(systems: Systems) -> None:
    runner = CliRunner()
    steps = [
        (["credentials", "init"], None),
        (
            ["credentials", "set", "jde", "--url", systems.ais_server.url, "--username", JDE_USER,
             "--environment", "JDV920"],
            f"{JDE_PASSWORD}\n{JDE_PASSWORD}\n",
        ),
        (["credentials", "set", "stripe", "--api-base", systems.stripe_server.url], f"{STRIPE_KEY}\n"),
    ]  # fmt: skip
    for args, answers in steps:
        assert runner.invoke(main, args, input=answers).exit_code == 0

    result = check({})

    assert result.exit_code == 0, result.output
    assert [line.split()[:3] for line in lines(result)] == [
        ["JDE", "AIS", "OK"],
        ["Stripe", "OK", systems.stripe_server.url],
    ]
    systems.ais.update_config(users={JDE_USER: {"password": "Changed-Elsewhere-1"}})
    stale = check({})
    assert "-> Check the JDE user, password and environment in the credential store" in lines(stale)[0]
    assert "jde-stripe credentials set jde" in lines(stale)[0]


def test_nothing_configured(home: Home) -> None:
    result = check({})

    assert result.exit_code == 1
    jde, stripe = lines(result)
    assert jde.startswith("JDE AIS  FAILED  No JDE credentials: set JDE_AIS_URL")
    assert stripe.startswith("Stripe   FAILED  No Stripe credentials: set STRIPE_API_KEY")
    assert "Traceback" not in result.output


def test_no_secret_in_any_output(systems: Systems, home: Home, tmp_path: Path) -> None:
    """Every scenario's whole output (stdout and stderr), grepped for the distinctive secrets."""
    outputs = [check(systems.env()).output]
    systems.ais.update_config(allowlist=["192.0.2.10"])
    outputs.append(check(systems.env()).output)
    systems.ais.update_config(allowlist=None)
    outputs.append(check(systems.env(JDE_AIS_PASSWORD="Quokka-wrong-" + JDE_PASSWORD)).output)
    outputs.append(
        check(systems.env(JDE_AIS_URL=closed_port_url(), STRIPE_API_BASE=closed_port_url())).output
    )
    outputs.append(check(systems.env(STRIPE_API_KEY=STRIPE_KEY + "x")).output)
    outputs.append(check({"JDE_AIS_PASSWORD": JDE_PASSWORD, "STRIPE_API_BASE": closed_port_url()}).output)
    systems.stripe.roll_key(STRIPE_KEY)
    outputs.append(check(systems.env()).output)
    verbose = CliRunner().invoke(main, ["check", "--verbose"], env=systems.env())
    outputs.append(verbose.output)

    everything = "\n".join(outputs)
    assert everything.count("FAILED") == 9, everything
    assert_no_secret(everything)
    assert JDE_PASSWORD not in everything and STRIPE_KEY[8:] not in everything
    assert "Traceback" not in everything


def test_real_subprocess(systems: Systems) -> None:
    """The installed console script, as an operator runs it: both OK, exit 0; then a failure, exit 1."""
    script = Path(sys.executable).parent / "jde-stripe"
    base_env = {**os.environ, **systems.env()}

    ok = subprocess.run([str(script), "check"], env=base_env, capture_output=True, text=True, timeout=60)
    systems.stripe.roll_key(STRIPE_KEY)
    failed = subprocess.run([str(script), "check"], env=base_env, capture_output=True, text=True, timeout=60)

    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert [line.split()[:3] for line in ok.stdout.splitlines()] == [
        ["JDE", "zone", "OK"],
        ["JDE", "AIS", "OK"],
        ["Stripe", "OK", systems.stripe_server.url],
    ]
    assert ok.stderr == ""
    assert failed.returncode == 1
    assert "Stripe   FAILED  " in failed.stdout and "sk_test_…abcd" in failed.stdout
    assert failed.stderr == ""  # no traceback, no retry warnings
    for text in (ok.stdout, ok.stderr, failed.stdout, failed.stderr):
        assert_no_secret(text)
