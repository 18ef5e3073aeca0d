"""`jde-stripe sandbox` with no subcommand: both sandboxes, driven through the real clients."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import stripe

from jde_stripe_pipeline import runtime
from jde_stripe_pipeline.credentials import CredentialSource
from jde_stripe_pipeline.jde.read import today_in_jde
from jde_stripe_pipeline.settings import Settings
from jde_stripe_pipeline_tests.demo.support import LiveCommand, exported, is_listening


def test_sandbox_runs_both_and_prints_the_variables_that_point_the_pipeline_at_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    command = LiveCommand(
        ["sandbox", "--ais-port", "0", "--stripe-port", "0", "--customers", "3", "--invoices", "4"]
    )
    try:
        jde_line = command.wait_for("export JDE_AIS_URL=", timeout=60)
        stripe_line = command.wait_for("export STRIPE_API_KEY=", timeout=10)
        env = exported([jde_line, stripe_line])
        assert env["JDE_TIMEZONE"] == "America/Chicago"

        for name, value in env.items():  # pasted into the shell
            monkeypatch.setenv(name, value)
        settings = Settings.from_env(env)
        with runtime.ais_session(settings.jde, CredentialSource()) as session:
            assert today_in_jde(session).year >= 2026

        client = stripe.StripeClient(env["STRIPE_API_KEY"], base_addresses={"api": env["STRIPE_API_BASE"]})
        created = client.v1.customers.create({"name": "Through the printed variables"})
        assert client.v1.customers.retrieve(created.id).name == "Through the printed variables"

        assert command.interrupt() == 0
        for url in (env["JDE_AIS_URL"], env["STRIPE_API_BASE"]):
            parts = urlsplit(url)
            assert parts.hostname and parts.port
            assert not is_listening(parts.hostname, parts.port), f"{url} still listening after Ctrl-C"
    finally:
        command.kill()
