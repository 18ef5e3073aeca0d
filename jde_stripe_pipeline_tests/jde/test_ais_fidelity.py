"""The client against the ways real AIS differs from a naive fake (reference: jde-ais.md, last section).

Expired result sets (resultSetTimeout, Oracle's sysErrors body), blank strings as " ", standard-base64
tokens in next links, and Oracle's documented minimal login.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import requests

from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.errors import AisRequestError
from jde_stripe_pipeline.jde.profiles import PURCHASE_ORDER
from jde_stripe_pipeline.jde.query import BrowseRequest, ais_message, is_result_set_expired, parse_grid_page
from jde_stripe_pipeline.jde.read import extract_customers, extract_invoices
from jde_stripe_pipeline.jde.records import JdeCustomer, QuarantinedRecord
from jde_stripe_pipeline.jde.rows import typed_row
from jde_stripe_pipeline.jde.tables import F0101, F03012
from jde_stripe_pipeline.jde.window import UpdateWindow
from jde_stripe_pipeline.sandboxes.ais import AisSandbox, AisSandboxConfig
from jde_stripe_pipeline_tests.jde.support import (
    AS_OF,
    FAST_RETRY,
    count_requests,
    sandbox_stats,
    served,
    session_for,
    settings_for,
    upsert_rows,
)

NEXT = "POST /jderest/v2/dataservice/next"
ORACLE_EXPIRED = {
    "sysErrors": [
        {"TITLE": "JAS_MSG347: The query results expired…", "DESC": "Issue the query again."},
    ]
}


def _sandbox(**config: Any) -> AisSandbox:
    return AisSandbox(seed=3, customers=25, invoices=15, config=AisSandboxConfig(**config), as_of=AS_OF)


def _direct_keys(sandbox: AisSandbox) -> list[tuple[int, str]]:
    """F0116 keys (AN8, EFTB) as AIS writes them, in key order."""
    keys = []
    for row in sandbox.rows("F0116"):
        julian = row["EFTB"]
        day = date(1900 + julian // 1000, 1, 1) + timedelta(days=julian % 1000 - 1) if julian else None
        keys.append((row["AN8"], day.strftime("%Y%m%d") if day else ""))
    return sorted(keys)


def test_oracle_error_bodies_are_read_into_messages() -> None:
    assert ais_message(ORACLE_EXPIRED) == "JAS_MSG347: The query results expired… — Issue the query again."
    assert is_result_set_expired(ORACLE_EXPIRED)
    assert not is_result_set_expired({"message": "Invalid Token", "exception": "Exception"})
    assert is_result_set_expired({"message": "Server Error", **ORACLE_EXPIRED})
    assert ais_message({"sysErrors": [{"TITLE": "A"}, {"DESC": "B"}, "junk"]}) == "A; B"
    assert ais_message({"message": "Invalid Token", "sysErrors": [{"TITLE": "x"}]}) == "Invalid Token"
    assert ais_message({"exception": "Exception", "sysErrors": []}) == "Exception"
    assert ais_message({"TITLE": "Error: Invalid Customer", "DESC": "Cause: …"}) == (
        "Error: Invalid Customer — Cause: …"
    )


def test_oracle_errors_in_a_200_answer_are_refusals_naming_oracles_text() -> None:
    form_error = {
        "fs_DATABROWSE_F0101": {
            "errors": [{"CODE": "4363", "TITLE": "Error: Invalid Column", "DESC": "F0101.XX"}]
        }
    }
    with pytest.raises(AisRequestError, match=r"Error: Invalid Column — F0101\.XX"):
        parse_grid_page(form_error, "F0101")
    with pytest.raises(AisRequestError, match="JAS_MSG347: The query results expired"):
        parse_grid_page(ORACLE_EXPIRED, "F0101")


def test_a_slow_reader_outliving_result_set_timeout_resumes_with_every_row_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox = _sandbox(page_state_max_age_seconds=1.0)
    direct = _direct_keys(sandbox)
    waits: list[float] = []
    caplog.set_level(logging.INFO)
    with served(sandbox) as server:
        with AisSession(settings_for(server), retry=FAST_RETRY, page_size=4, sleep=waits.append) as session:
            rows = session.browse(BrowseRequest("F0116", ("ADD1",)), ("AN8", "EFTB"), date_columns={"EFTB"})
            read = [(row["AN8"], row["EFTB"]) for row in (next(rows) for _ in range(4))]
            time.sleep(1.2)  # the consumer is busy: the result set expires meanwhile
            read.extend((row["AN8"], row["EFTB"]) for row in rows)
            stats = session.stats
        server_stats = sandbox_stats(server)
    assert read == direct  # every row exactly once, in key order
    assert stats.expired_result_sets >= 1 and stats.resumed_reads >= 1
    assert stats.reauthentications == 0 and waits == []  # resumed at once: no backoff, no new token
    assert count_requests(server_stats, NEXT, 500) >= 1
    assert "JAS_MSG347: The query results expired" in caplog.text  # Oracle's words reach the log


def test_every_next_page_expired_still_reads_everything_once() -> None:
    """resultSetTimeout shorter than a round trip: each page is a resumed query, counted exactly."""
    sandbox = _sandbox(page_state_max_age_seconds=1e-6)
    direct = _direct_keys(sandbox)
    with served(sandbox) as server:
        with session_for(server, page_size=4) as session:
            rows = list(
                session.browse(BrowseRequest("F0116", ("ADD1",)), ("AN8", "EFTB"), date_columns={"EFTB"})
            )
            stats = session.stats
        server_stats = sandbox_stats(server)
    pages = -(-len(direct) // 4)
    assert [(row["AN8"], row["EFTB"]) for row in rows] == direct
    assert stats.expired_result_sets == stats.resumed_reads == pages - 1
    assert count_requests(server_stats, NEXT, 500) == pages - 1
    assert count_requests(server_stats, NEXT, 200) == 0


def test_tokens_with_plus_slash_and_equals_page_through_next_links() -> None:
    sandbox = _sandbox()
    an8s = [row["AN8"] for row in sandbox.rows("F0101")]
    with served(sandbox) as server:
        with session_for(server, page_size=3) as session:
            token = session._token
            assert token is not None and "+" in token and "/" in token and token.endswith("=")
            body = {
                "token": token,
                "deviceName": session.settings.device_name,
                "targetName": "F0101",
                "targetType": "table",
                "dataServiceType": "BROWSE",
                "maxPageSize": "3",
                "enableNextPageProcessing": True,
            }
            first = requests.post(f"{server.url}/jderest/v2/dataservice", json=body, timeout=10).json()
            href = first["links"][0]["href"]
            assert "%2B" in href and "%2F" in href and "%3D" in href and "+" not in href
            rows = list(session.browse(BrowseRequest("F0101", ("ALPH",)), ("AN8",)))
        server_stats = sandbox_stats(server)
    assert [row["AN8"] for row in rows] == an8s
    assert count_requests(server_stats, NEXT, 200) == -(-len(rows) // 3) - 1
    assert count_requests(server_stats, NEXT, 444) == 0


# ------------------------------------------------------------------------------ blanks as " "


def test_row_typing_treats_one_space_as_blank() -> None:
    raw = {alias: " " for alias in F03012.columns} | {"AN8": 7, "ACL": 0, "UPMJ": "20261101", "UPMT": 93015}
    typed = typed_row(F03012, raw)
    assert all(typed[alias] == "" for alias in ("CO", "CRCD", "TRAR", "HDAR"))
    book = typed_row(F0101, {alias: " " for alias in F0101.columns} | {"AN8": 7, "UPMJ": " ", "UPMT": 0})
    assert book["ALPH"] == "" and book["UPMJ"] is None


def test_blank_names_emails_currencies_and_codes_from_ais_are_blank() -> None:
    """Blank fields come from the sandbox as " ", as from real AIS; the records see them as absent."""
    sandbox = _sandbox()
    order = sandbox.rows("F4301")[0]
    with served(sandbox) as server:
        upsert_rows(
            server, "F0101", [{"AN8": 9001, "ALPH": "Blank Fields Ltd", "TAX": "", "LNGP": "", "AT1": "C"}]
        )
        upsert_rows(server, "F03012", [{"AN8": 9001, "CO": "00001", "CRCD": "", "TRAR": "", "HDAR": ""}])
        upsert_rows(server, "F0116", [{"AN8": 9001, "EFTB": 0, "ADD1": "1 Main St", "CTY1": "Springfield"}])
        upsert_rows(
            server,
            "F01151",
            [
                {"AN8": 9001, "IDLN": 0, "RCK7": 1, "ETP": "E", "EMAL": ""},
                {"AN8": 9001, "IDLN": 0, "RCK7": 2, "ETP": "", "EMAL": "not-an-email-type@example.com"},
                {"AN8": 9001, "IDLN": 0, "RCK7": 3, "ETP": "E", "EMAL": "ap@blank.example"},
            ],
        )
        upsert_rows(
            server, "F0115", [{"AN8": 9001, "IDLN": 0, "RCK7": 1, "PHTP": "", "AR1": "", "PH1": "555-0100"}]
        )
        upsert_rows(server, "F0101", [{"AN8": 9002, "ALPH": ""}])
        upsert_rows(server, "F03012", [{"AN8": 9002, "CO": "00001"}])
        header_key = {k: order[k] for k in ("KCOO", "DOCO", "DCTO", "SFXO")}
        upsert_rows(server, "F4301", [{**header_key, "CRCD": ""}])
        window = UpdateWindow(datetime(2026, 10, 1), datetime.now() + timedelta(days=2))
        with session_for(server) as session:
            customers = list(extract_customers(session, window, as_of=AS_OF))
            invoices = list(extract_invoices(session, window, PURCHASE_ORDER, as_of=AS_OF))
    by_key = {c.an8 if isinstance(c, JdeCustomer) else int(c.record_key): c for c in customers}
    blank = by_key[9001]
    assert isinstance(blank, JdeCustomer), blank
    assert (blank.currency, blank.payment_terms, blank.tax_id, blank.language) == (None, None, None, None)
    assert blank.email == "ap@blank.example"  # the blank e-mail and the non-e-mail type are skipped
    assert blank.phone == "555-0100"  # a blank AR1 adds no stray space
    assert blank.address is not None and blank.address.lines == ("1 Main St",)
    assert (blank.address.state, blank.address.postal_code, blank.address.county) == (None, None, None)
    nameless = by_key[9002]
    assert isinstance(nameless, QuarantinedRecord) and nameless.field == "F0101.ALPH"
    key = "/".join(str(header_key[k]) for k in ("KCOO", "DOCO", "DCTO", "SFXO"))
    [no_currency] = [r for r in invoices if isinstance(r, QuarantinedRecord) and r.record_key == key]
    assert no_currency.field == "F4301.CRCD" and no_currency.raw["CRCD"] == " "
