"""Promise: the JDE password goes nowhere but the token request; tokens are short-lived and logged out.

A recording proxy (a real loopback server forwarding with `requests`) sits between the pipeline and the
AIS sandbox and keeps every request as sent. The sandbox kills a token after 3 data calls, so a run
needs several tokens (renewed on HTTP 444), as a real AIS with a short session does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from jde_stripe_pipeline.jde.client import LOGOUT_PATH, TOKEN_PATH
from jde_stripe_pipeline.sandboxes.ais import AisSandboxConfig
from jde_stripe_pipeline_tests.security.conftest import RecordedExchange, failures, make_setup
from jde_stripe_pipeline_tests.security.secrets_hunt import JDE_PASSWORD, find_secrets

PASSWORD_ONLY = {"JDE password": JDE_PASSWORD}
TOKEN_MAX_CALLS = 3


def _request_bytes(exchange: RecordedExchange) -> bytes:
    headers = "\n".join(f"{name}: {value}" for name, value in exchange.headers.items())
    return f"{exchange.method} {exchange.path}\n{headers}\n\n".encode() + exchange.body


def test_password_only_in_token_requests_and_every_token_ends_dead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = AisSandboxConfig(token_max_calls=TOKEN_MAX_CALLS)
    with make_setup(tmp_path, monkeypatch, ais_config=config) as setup:
        setup.configure("environment")
        reports = setup.run()
        assert failures(reports) == []
        exchanges = [e for e in setup.ais.exchanges if e.path.startswith("/jderest/")]

        carrying = [e.path for e in exchanges if find_secrets(_request_bytes(e), PASSWORD_ONLY)]
        token_requests = [e for e in exchanges if e.path == TOKEN_PATH]
        assert len(token_requests) >= 2, "the run should have needed a renewed token"
        assert set(carrying) == {TOKEN_PATH}
        assert len(carrying) == len(token_requests), "every token request, and nothing else, has the password"
        assert not any(find_secrets(e.response_body, PASSWORD_ONLY) for e in exchanges)

        issued = [e.response_json()["userInfo"]["token"] for e in token_requests if e.status == 200]
        assert len(issued) == len(token_requests)
        assert setup.sandbox.stats()["tokens_issued"] == len(issued)

        # A token is dropped either because AIS expired it (444) or by a logout at the end of a session.
        expired = {e.json().get("token") for e in exchanges if e.status == 444}
        logged_out = [e.json()["token"] for e in exchanges if e.path == LOGOUT_PATH]
        sessions = len(logged_out)
        assert sessions >= 1
        assert set(issued) == expired | set(logged_out)
        assert len(set(logged_out)) == sessions, "each session logs out its own token once"
        last_token_of_each_session = _last_tokens(exchanges)
        assert set(logged_out) == last_token_of_each_session

        # ...and when the run is over, AIS holds no live token of it.
        for token in issued:
            answer = requests.post(
                setup.ais.target + "/jderest/v2/tokenrequest/validate",
                json={"token": token, "deviceName": "jde-stripe-pipeline"},
                timeout=10,
            )
            assert answer.json() == {"isValidSession": False}


def _last_tokens(exchanges: list[RecordedExchange]) -> set[str]:
    """The token each session used last: the one in use just before each logout."""
    last: set[str] = set()
    current: str | None = None
    for exchange in exchanges:
        if exchange.path == TOKEN_PATH and exchange.status == 200:
            current = exchange.response_json()["userInfo"]["token"]
        elif exchange.path == LOGOUT_PATH:
            assert current is not None
            last.add(current)
            current = None
    return last
