"""Next-page processing: links to the end with every row once; dead links after expiry; unknown state."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import requests

from jde_stripe_pipeline.sandboxes.ais import AisSandbox
from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline_tests.sandboxes.ais.conftest import DEVICE, browse, decode, login


def _first_page(url: str, token: str, size: int = 7, **fields: Any) -> dict[str, Any]:
    answer = browse(url, token, "F0116", maxPageSize=str(size), enableNextPageProcessing=True, **fields)
    assert answer.status_code == 200, answer.text
    return dict(decode(answer))


def _rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body["fs_DATABROWSE_F0116"]["data"]["gridData"]["rowset"])


def _next(body: dict[str, Any]) -> str | None:
    links = [link["href"] for link in body.get("links", []) if link["rel"] == "next"]
    return links[0] if links else None


def test_get_links_reach_every_row_once(server: LoopbackServer, sandbox: AisSandbox) -> None:
    body = _first_page(server.url, login(server.url))
    seen = _rows(body)
    assert body["fs_DATABROWSE_F0116"]["data"]["gridData"]["summary"] == {"records": 7, "moreRecords": True}
    pages = 1
    while (link := _next(body)) is not None:
        answer = requests.get(link, headers={"jde-AIS-Auth-Device": DEVICE}, timeout=10)
        assert answer.status_code == 200, answer.text
        body = decode(answer)
        seen.extend(_rows(body))
        pages += 1
    keys = [(r["F0116_AN8"], r["F0116_EFTB"]) for r in seen]
    stored = sandbox.rows("F0116")
    assert len(keys) == len(set(keys)) == len(stored)
    assert pages == -(-len(stored) // 7)
    assert body["fs_DATABROWSE_F0116"]["data"]["gridData"]["summary"]["moreRecords"] is False


def test_post_next_with_body_fields(server: LoopbackServer, sandbox: AisSandbox) -> None:
    token = login(server.url)
    body = _first_page(server.url, token, size=50, returnControlIDs="F0116.AN8|F0116.EFTB")
    seen = _rows(body)
    while (link := _next(body)) is not None:
        fields = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
        assert fields["returnControlIDs"] == "F0116.AN8|F0116.EFTB" and fields["formOID"] == "F0116"
        answer = requests.post(
            f"{server.url}/jderest/v2/dataservice/next", json={**fields, "deviceName": DEVICE}, timeout=10
        )
        body = decode(answer)
        seen.extend(_rows(body))
        assert all(list(r) == ["F0116_AN8", "F0116_EFTB"] for r in _rows(body))
    assert len({(r["F0116_AN8"], r["F0116_EFTB"]) for r in seen}) == len(sandbox.rows("F0116"))


def test_link_is_dead_after_the_token_expires(server: LoopbackServer, sandbox: AisSandbox) -> None:
    sandbox.update_config(token_max_calls=2)
    body = _first_page(server.url, login(server.url))
    link = _next(body)
    assert link is not None
    assert requests.get(link, timeout=10).status_code == 200
    dead = requests.get(link, timeout=10)
    assert dead.status_code == 444 and dead.json()["message"] == "Invalid Token"


def test_unknown_or_finished_state_is_500(server: LoopbackServer) -> None:
    token = login(server.url)
    link = _next(_first_page(server.url, token))
    assert link is not None
    fields = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    next_url = f"{server.url}/jderest/v2/dataservice/next"
    unknown = requests.post(next_url, json={**fields, "stateId": "999", "deviceName": DEVICE}, timeout=10)
    assert unknown.status_code == 500 and "message" not in unknown.json()
    [error] = unknown.json()["sysErrors"]
    assert (
        error["TITLE"].startswith("JAS_MSG347: The query results expired") and "stateId 999" in error["DESC"]
    )
    wrong_rid = requests.post(next_url, json={**fields, "rid": "0" * 32, "deviceName": DEVICE}, timeout=10)
    assert wrong_rid.status_code == 500
    another_device = requests.post(next_url, json={**fields, "deviceName": "other"}, timeout=10)
    assert another_device.status_code == 444
    body = _first_page(server.url, token, size=1000)
    assert _next(body) is None  # everything fits in one page: no state kept


def test_state_expires_with_age_answering_oracles_body(server: LoopbackServer, sandbox: AisSandbox) -> None:
    assert sandbox.config.page_state_max_age_seconds == 60  # Oracle's default resultSetTimeout
    sandbox.update_config(page_state_max_age_seconds=0.01)
    link = _next(_first_page(server.url, login(server.url)))
    assert link is not None
    time.sleep(0.05)
    expired = requests.get(link, timeout=10)
    assert expired.status_code == 500
    assert list(expired.json()) == ["sysErrors"]
    [error] = expired.json()["sysErrors"]
    assert error["TITLE"] == "JAS_MSG347: The query results expired…"
    assert "resultSetTimeout" in error["DESC"]


def test_a_young_state_survives_and_the_timeout_is_a_setting(
    server: LoopbackServer, sandbox: AisSandbox
) -> None:
    sandbox.update_config(page_state_max_age_seconds=1)
    link = _next(_first_page(server.url, login(server.url)))
    assert link is not None
    assert requests.get(link, timeout=10).status_code == 200
    answer = requests.post(
        f"{server.url}/_sandbox/config", json={"page_state_max_age_seconds": 0}, timeout=10
    )
    assert answer.status_code == 400 and "page_state_max_age_seconds" in answer.json()["message"]


def test_tokens_use_standard_base64_and_links_carry_them_url_encoded(
    server: LoopbackServer, sandbox: AisSandbox
) -> None:
    token = login(server.url)
    assert re.fullmatch(r"044[A-Za-z0-9+/]+={1,2}", token), token
    link = _next(_first_page(server.url, token))
    assert link is not None
    encoded = re.search(r"[?&]token=([^&]*)", link)
    assert encoded is not None and quote(token, safe="") == encoded[1]
    assert parse_qs(urlsplit(link).query)["token"] == [token]
    assert requests.get(link, timeout=10).status_code == 200


def test_post_to_the_href_itself(server: LoopbackServer, sandbox: AisSandbox) -> None:
    link = _next(_first_page(server.url, login(server.url), size=10))
    assert link is not None
    answer = requests.post(link, json={"deviceName": DEVICE}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert _rows(decode(answer))
