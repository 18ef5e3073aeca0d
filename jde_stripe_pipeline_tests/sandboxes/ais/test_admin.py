"""Admin API: table rows CRUD with stamping, reset, stats; and the Python face."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import requests

from jde_stripe_pipeline.sandboxes.ais import AisSandbox
from jde_stripe_pipeline.sandboxes.ais.store import to_julian
from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline_tests.sandboxes.ais.conftest import AS_OF, browse, condition, decode, grid, login


def test_rows_read_with_limit_and_offset(server: LoopbackServer, sandbox: AisSandbox) -> None:
    url = f"{server.url}/_sandbox/tables/F4311/rows"
    page = decode(requests.get(url, params={"limit": 3, "offset": 2}, timeout=10))
    assert page["table"] == "F4311"
    assert page["rows"] == sandbox.rows("F4311")[2:5]
    assert isinstance(page["rows"][0]["UPMJ"], int), "admin rows carry Julian dates as stored"
    assert requests.get(f"{server.url}/_sandbox/tables/F9999/rows", timeout=10).status_code == 404


def test_insert_update_delete_with_stamps(server: LoopbackServer, sandbox: AisSandbox) -> None:
    url = f"{server.url}/_sandbox/tables/F0101/rows"
    chicago_today = to_julian(dt.datetime.now(ZoneInfo("America/Chicago")).date())
    created = requests.post(url, json={"AN8": 777, "ALPH": "Zürich Uhren AG", "AT1": "C"}, timeout=10).json()
    assert created["inserted"] == 1 and created["updated"] == 0
    row = created["rows"][0]
    assert row["UPMJ"] == chicago_today and 0 <= row["UPMT"] <= 235959
    assert row["TAX"] == ""
    updated = requests.post(
        url, json=[{"AN8": 777, "TAX": "12-345"}, {"AN8": 778, "ALPH": "Other"}], timeout=10
    )
    assert updated.json()["inserted"] == 1 and updated.json()["updated"] == 1
    stored = {r["AN8"]: r for r in sandbox.rows("F0101")}
    assert stored[777]["ALPH"] == "Zürich Uhren AG" and stored[777]["TAX"] == "12-345"
    given = requests.post(url, json={"AN8": 778, "UPMJ": 126001, "UPMT": 101500}, timeout=10).json()["rows"][
        0
    ]
    assert (given["UPMJ"], given["UPMT"]) == (126001, 101500)
    token = login(server.url)
    found = grid(
        browse(server.url, token, "F0101", query={"condition": [condition("F0101.AN8", "EQUAL", "777")]}),
        "F0101",
    )
    assert found["rowset"][0]["F0101_ALPH"] == "Zürich Uhren AG"
    assert requests.delete(url, params={"AN8": "777"}, timeout=10).json() == {"deleted": 1}
    assert requests.delete(url, json={"AN8": 778}, timeout=10).json() == {"deleted": 1}
    assert not {777, 778} & {r["AN8"] for r in sandbox.rows("F0101")}


def test_order_table_rows_stamp_tday_and_keep_exact_decimals(
    server: LoopbackServer, sandbox: AisSandbox
) -> None:
    url = f"{server.url}/_sandbox/tables/F4311/rows"
    line = {
        "KCOO": "00001",
        "DOCO": 424242,
        "DCTO": "OP",
        "SFXO": "000",
        "LNID": 1,
        "AEXP": 0.1,
        "CRCD": "KWD",
    }
    row = requests.post(url, json=line, timeout=10).json()["rows"][0]
    assert row["UPMJ"] == to_julian(dt.datetime.now(ZoneInfo("America/Chicago")).date())
    assert "UPMT" not in row and 0 <= row["TDAY"] <= 235959
    stored = next(r for r in sandbox.rows("F4311") if r["DOCO"] == 424242)
    assert stored["LNID"] == Decimal("1.000") and stored["AEXP"] == Decimal("0.1")
    again = requests.post(url, json={**line, "LNID": "1.000", "AEXP": "0.125"}, timeout=10).json()
    assert again["updated"] == 1, "LNID 1 and 1.000 are the same key"


def test_bad_admin_rows_are_400_naming_the_field(server: LoopbackServer) -> None:
    url = f"{server.url}/_sandbox/tables/F0101/rows"
    missing_key = requests.post(url, json={"ALPH": "x"}, timeout=10)
    assert missing_key.status_code == 400 and "AN8" in missing_key.json()["message"]
    unknown = requests.post(url, json={"AN8": 1, "COLOUR": "red"}, timeout=10)
    assert unknown.status_code == 400 and "COLOUR" in unknown.json()["message"]
    not_int = requests.post(url, json={"AN8": "abc"}, timeout=10)
    assert not_int.status_code == 400 and "F0101.AN8" in not_int.json()["message"]
    delete_all = requests.delete(url, timeout=10)
    assert delete_all.status_code == 400


def test_reset_reseeds(server: LoopbackServer, sandbox: AisSandbox) -> None:
    before = sandbox.rows("F4301")
    requests.delete(
        f"{server.url}/_sandbox/tables/F4301/rows", params={"DOCO": str(before[0]["DOCO"])}, timeout=10
    )
    assert len(sandbox.rows("F4301")) == len(before) - 1
    assert requests.post(f"{server.url}/_sandbox/reset", timeout=10).status_code == 200
    assert sandbox.rows("F4301") == before
    bigger = requests.post(f"{server.url}/_sandbox/reset", json={"customers": 60}, timeout=10).json()
    assert bigger["customers"] == 60 and len(sandbox.rows("F0101")) == 60


def test_stats_count_requests_tokens_and_reauthentication(
    server: LoopbackServer, sandbox: AisSandbox
) -> None:
    first = login(server.url)
    browse(server.url, first, "F0101")
    browse(server.url, "dead", "F0101")
    login(server.url)
    stats = requests.get(f"{server.url}/_sandbox/stats", timeout=10).json()
    assert stats["tokens_issued"] == 2 and stats["reauthentications"] == 1
    assert stats["requests"]["POST /jderest/v2/dataservice"] == {"200": 1, "444": 1}
    assert stats["requests"]["POST /jderest/v2/tokenrequest"] == {"200": 2}


def test_expire_tokens_endpoint(server: LoopbackServer) -> None:
    token = login(server.url)
    assert requests.post(f"{server.url}/_sandbox/tokens/expire", timeout=10).json() == {"expired": 1}
    assert browse(server.url, token, "F0101").status_code == 444


def test_python_face_serves_its_own_server() -> None:
    sandbox = AisSandbox(seed=3, customers=5, invoices=4, as_of=AS_OF)
    try:
        with sandbox.serve(port=0) as server:
            assert server.url.startswith("http://127.0.0.1:")
            token = login(server.url)
            assert len(grid(browse(server.url, token, "F03012"), "F03012")["rowset"]) == len(
                sandbox.rows("F03012")
            )
            sandbox.update_config(token_max_calls=1)
            assert sandbox.config.token_max_calls == 1
            assert browse(server.url, token, "F03012").status_code == 444
            assert sandbox.stats()["tokens_issued"] == 1
    finally:
        sandbox.close()


def test_admin_dates_must_be_julian_and_times_hhmmss(server: LoopbackServer) -> None:
    url = f"{server.url}/_sandbox/tables/F0116/rows"
    wrong_date = requests.post(url, json={"AN8": 1, "EFTB": 20261126}, timeout=10)
    assert wrong_date.status_code == 400 and "F0116.EFTB" in wrong_date.json()["message"]
    wrong_time = requests.post(url, json={"AN8": 1, "EFTB": 126330, "UPMT": 246000}, timeout=10)
    assert wrong_time.status_code == 400 and "F0116.UPMT" in wrong_time.json()["message"]
    assert requests.post(url, json={"AN8": 1, "EFTB": 126330, "UPMT": 235959}, timeout=10).status_code == 200
