"""Token service: login both ways, token in body or headers, device binding, expiry, logout, validate."""

from __future__ import annotations

import base64
import time

import requests

from jde_stripe_pipeline.sandboxes.ais import AisSandbox
from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline_tests.sandboxes.ais.conftest import DEVICE, browse, decode, login


def test_login_with_json_body_answers_the_reference_shape(server: LoopbackServer) -> None:
    answer = requests.post(
        f"{server.url}/jderest/v2/tokenrequest",
        json={
            "username": "jde",
            "password": "JDE",
            "deviceName": DEVICE,
            "environment": "JDV920",
            "role": "*ALL",
        },
        timeout=10,
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["environment"] == "JDV920" and body["role"] == "*ALL"
    info = body["userInfo"]
    assert info["token"]
    assert info["simpleDateFormat"] == "MM/dd/yyyy"
    assert info["dateFormat"] == "MDE" and info["dateSeperator"] == "/"
    assert info["timeZoneOffset"] in ("UTC-05:00", "UTC-06:00")  # America/Chicago, DST or not
    assert body["aisSessionCookie"] and "userAuthorized" in body
    assert body["username"] == "jde", "the user name is echoed as typed"
    assert info["username"] == "JDE" and info["appsRelease"] == "E920" and info["country"] == "US"


def test_documented_minimal_login_uses_the_server_defaults(server: LoopbackServer) -> None:
    """Oracle's documented login needs only username and password (plus, usually, deviceName)."""
    url = f"{server.url}/jderest/v2/tokenrequest"
    answer = requests.post(url, json={"username": "Jde", "password": "JDE", "deviceName": DEVICE}, timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["username"], body["environment"], body["role"]) == ("Jde", "JDV920", "*ALL")
    token = body["userInfo"]["token"]
    headers = {"jde-AIS-Auth": token, "jde-AIS-Auth-Device": DEVICE}
    data = {"targetName": "F0101", "targetType": "table", "dataServiceType": "BROWSE", "maxPageSize": "3"}
    read = requests.post(f"{server.url}/jderest/v2/dataservice", json=data, headers=headers, timeout=10)
    assert read.status_code == 200, read.text
    assert browse(server.url, token, "F0101", device="another-device").status_code == 444


def test_login_without_a_device_name_gives_an_unbound_token(server: LoopbackServer) -> None:
    answer = requests.post(
        f"{server.url}/jderest/v2/tokenrequest", json={"username": "JDE", "password": "JDE"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["userInfo"]["token"]
    no_device = requests.post(
        f"{server.url}/jderest/v2/dataservice",
        json={"token": token, "targetName": "F0101", "targetType": "table", "dataServiceType": "BROWSE"},
        timeout=10,
    )
    assert no_device.status_code == 200, no_device.text
    assert browse(server.url, token, "F0101", device="any-device").status_code == 200


def test_login_with_basic_authorization_and_auth_headers(server: LoopbackServer) -> None:
    credentials = base64.b64encode(b"JDE:JDE").decode()
    answer = requests.post(
        f"{server.url}/jderest/v2/tokenrequest",
        headers={
            "Authorization": f"Basic {credentials}",
            "jde-AIS-Auth-Environment": "JDV920",
            "jde-AIS-Auth-Role": "*ALL",
            "jde-AIS-Auth-Device": DEVICE,
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["userInfo"]["token"]
    assert browse(server.url, token, "F0101").status_code == 200


def test_bad_login_is_403_authorization_failure(server: LoopbackServer, sandbox: AisSandbox) -> None:
    url = f"{server.url}/jderest/v2/tokenrequest"
    good = {
        "username": "JDE",
        "password": "JDE",
        "deviceName": DEVICE,
        "environment": "JDV920",
        "role": "*ALL",
    }
    for change in ({"password": "nope"}, {"username": "NOBODY"}, {"environment": "JPD920"}):
        answer = requests.post(url, json={**good, **change}, timeout=10)
        assert answer.status_code == 403, change
        assert answer.json()["message"] == "Authorization Failure"
    assert sandbox.stats()["failed_logins"] == 3
    assert sandbox.stats()["tokens_issued"] == 0


def test_token_in_headers_and_v1_paths(server: LoopbackServer) -> None:
    token = login(server.url)
    answer = requests.post(
        f"{server.url}/jderest/dataservice",
        json={"targetName": "F0101", "targetType": "table", "dataServiceType": "BROWSE", "maxPageSize": "2"},
        headers={"jde-AIS-Auth": token, "jde-AIS-Auth-Device": DEVICE},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["fs_DATABROWSE_F0101"]["data"]["gridData"]["rowset"]) == 2


def test_token_with_another_device_name_is_invalid(server: LoopbackServer) -> None:
    token = login(server.url)
    answer = browse(server.url, token, "F0101", device="someone-else")
    assert answer.status_code == 444
    body = answer.json()
    assert body["message"] == "Invalid Token" and body["exception"] == "Exception" and body["timeStamp"]


def test_unknown_token_is_444(server: LoopbackServer) -> None:
    assert browse(server.url, "044-not-a-token", "F0101").status_code == 444


def test_token_dies_after_max_calls(server: LoopbackServer, sandbox: AisSandbox) -> None:
    sandbox.update_config(token_max_calls=2)
    token = login(server.url)
    assert browse(server.url, token, "F0101").status_code == 200
    assert browse(server.url, token, "F0101").status_code == 200
    assert browse(server.url, token, "F0101").status_code == 444
    assert browse(server.url, login(server.url), "F0101").status_code == 200


def test_token_dies_of_age(server: LoopbackServer, sandbox: AisSandbox) -> None:
    sandbox.update_config(token_max_age_seconds=0.3)
    token = login(server.url)
    assert browse(server.url, token, "F0101").status_code == 200
    time.sleep(0.4)
    assert browse(server.url, token, "F0101").status_code == 444


def test_validate_and_logout(server: LoopbackServer) -> None:
    token = login(server.url)
    validate = f"{server.url}/jderest/v2/tokenrequest/validate"
    assert requests.post(validate, json={"token": token, "deviceName": DEVICE}, timeout=10).json() == {
        "isValidSession": True
    }
    assert requests.post(validate, json={"token": token, "deviceName": "other"}, timeout=10).json() == {
        "isValidSession": False
    }
    logout = requests.post(f"{server.url}/jderest/v2/tokenrequest/logout", json={"token": token}, timeout=10)
    assert logout.status_code == 200
    assert requests.post(validate, json={"token": token}, timeout=10).json() == {"isValidSession": False}
    assert browse(server.url, token, "F0101").status_code == 444


def test_user_with_day_first_dates(server: LoopbackServer, sandbox: AisSandbox) -> None:
    sandbox.update_config(
        users={"JDE": {"password": "JDE"}, "EUROPA": {"password": "s3cret", "date_format": "dd/MM/yyyy"}}
    )
    answer = requests.post(
        f"{server.url}/jderest/v2/tokenrequest",
        json={"username": "europa", "password": "s3cret", "deviceName": DEVICE, "environment": "JDV920"},
        timeout=10,
    )
    info = answer.json()["userInfo"]
    assert info["dateFormat"] == "DME" and info["simpleDateFormat"] == "dd/MM/yyyy"
    token = info["token"]
    day_first = {
        "condition": [
            {
                "controlId": "F0101.UPMJ",
                "operator": "GREATER_EQUAL",
                "value": [{"content": "20/11/2026", "specialValueId": "LITERAL"}],
            }
        ]
    }
    rows = decode(browse(server.url, token, "F0101", query=day_first))["fs_DATABROWSE_F0101"]["data"][
        "gridData"
    ]
    assert rows["rowset"] and all(r["F0101_UPMJ"] >= "20261120" for r in rows["rowset"])
    month_first = {
        "condition": [
            {
                "controlId": "F0101.UPMJ",
                "operator": "GREATER_EQUAL",
                "value": [{"content": "11/20/2026", "specialValueId": "LITERAL"}],
            }
        ]
    }
    refused = browse(server.url, token, "F0101", query=month_first)
    assert refused.status_code == 400
    assert "11/20/2026" in refused.json()["message"] and "dd/MM/yyyy" in refused.json()["message"]


def test_a_client_following_oracles_documented_login_flow(server: LoopbackServer) -> None:
    """defaultconfig first, then a v1 token request with only what Oracle's examples send, then data."""
    config = requests.get(f"{server.url}/jderest/defaultconfig", timeout=10)
    assert config.status_code == 200 and config.json()["defaultEnvironment"]
    headers = {"Content-Type": "application/json;charset=UTF-8", "Accept": "application/json"}
    login_body = {
        "username": "jde",
        "password": "JDE",
        "deviceName": "E1JETClient",
        "requiredCapabilities": "grid,dataService",
    }
    answer = requests.post(f"{server.url}/jderest/tokenrequest", json=login_body, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["username"] == "jde" and body["environment"] == config.json()["defaultEnvironment"]
    token = body["userInfo"]["token"]
    request = {
        "token": token,
        "deviceName": "E1JETClient",
        "targetName": "F0101",
        "targetType": "table",
        "dataServiceType": "BROWSE",
        "returnControlIDs": "F0101.AN8|F0101.ALPH",
        "maxPageSize": "10",
    }
    data = requests.post(f"{server.url}/jderest/dataservice", json=request, headers=headers, timeout=10)
    assert data.status_code == 200, data.text
    assert len(data.json()["fs_DATABROWSE_F0101"]["data"]["gridData"]["rowset"]) == 10
    logout = requests.post(
        f"{server.url}/jderest/tokenrequest/logout", json={"token": token}, headers=headers, timeout=10
    )
    assert logout.status_code == 200
