"""The foundation: one Definitions object, a CLI, and the shared loopback HTTP server."""

import requests
from click.testing import CliRunner

from jde_stripe_pipeline.cli import main
from jde_stripe_pipeline.definitions import defs
from jde_stripe_pipeline.sandboxes.http_server import (
    DROP_CONNECTION,
    HttpRequest,
    HttpResponse,
    LoopbackServer,
)


def test_definitions_load() -> None:
    assert defs.resolve_all_job_defs() is not None


def test_cli_help_lists_groups() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    assert "sandbox" in result.output


def test_loopback_server_answers_and_drops() -> None:
    def handler(request: HttpRequest) -> HttpResponse | object:
        if request.path == "/drop":
            return DROP_CONNECTION
        return HttpResponse.of_json(
            201, {"path": request.path, "q": request.query.get("a"), "body": request.json()}
        )

    with LoopbackServer(handler) as server:  # type: ignore[arg-type]
        answer = requests.post(f"{server.url}/x?a=1", json={"k": "v"}, timeout=5)
        assert answer.status_code == 201
        assert answer.json() == {"path": "/x", "q": ["1"], "body": {"k": "v"}}
        try:
            requests.get(f"{server.url}/drop", timeout=5)
            raise AssertionError("a dropped connection must not produce a response")
        except requests.ConnectionError:
            pass
