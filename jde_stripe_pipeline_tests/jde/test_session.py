"""The AIS session against the real sandbox over loopback: tokens, 444, 403, retries, paging."""

import logging
from datetime import date, timedelta

import pytest

from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.errors import (
    AisAllowlistError,
    AisAuthError,
    AisRequestError,
    AisUnavailableError,
)
from jde_stripe_pipeline.jde.query import BrowseRequest, Condition, Operator, Query
from jde_stripe_pipeline.jde.session_values import RetryPolicy
from jde_stripe_pipeline.sandboxes.ais import AisSandbox, AisSandboxConfig
from jde_stripe_pipeline_tests.jde.support import (
    AS_OF,
    FAST_RETRY,
    all_jderest_requests,
    count_requests,
    sandbox_stats,
    served,
    session_for,
    settings_for,
)

TOKEN = "POST /jderest/v2/tokenrequest"
LOGOUT = "POST /jderest/v2/tokenrequest/logout"
BROWSE = "POST /jderest/v2/dataservice"
NEXT = "POST /jderest/v2/dataservice/next"


def _sandbox(**config: object) -> AisSandbox:
    return AisSandbox(seed=3, customers=25, invoices=15, config=AisSandboxConfig(**config), as_of=AS_OF)  # type: ignore[arg-type]


def _keys(rows: list[dict[str, object]], key: tuple[str, ...]) -> list[tuple[object, ...]]:
    return [tuple(row[a] for a in key) for row in rows]


def test_login_reuses_one_token_and_logs_out() -> None:
    with served(_sandbox()) as server:
        with session_for(server) as session:
            assert session.user.simple_date_format == "MM/dd/yyyy"
            for _ in range(3):
                list(session.browse(BrowseRequest("F0101", ("ALPH",)), ("AN8",)))
        stats = sandbox_stats(server)
    assert stats["tokens_issued"] == 1
    assert count_requests(stats, TOKEN, 200) == 1
    assert count_requests(stats, LOGOUT, 200) == 1
    assert count_requests(stats, BROWSE, 200) == 3


def test_expired_token_is_renewed_transparently_and_logged_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "Pa55-w0rd-XYZ"
    config = {"token_max_calls": 3, "users": {"JDE": {"password": secret}}}
    caplog.set_level(logging.DEBUG)
    with served(_sandbox(**config)) as server:
        with session_for(server, password=secret) as session:
            sizes = [len(list(session.browse(BrowseRequest("F0101", ("ALPH",)), ("AN8",)))) for _ in range(7)]
            assert session.stats.reauthentications == 2
        stats = sandbox_stats(server)
    assert sizes == [25] * 7
    assert stats["reauthentications"] == 2
    assert count_requests(stats, BROWSE, 444) == 2
    assert "token expired" in caplog.text
    assert secret not in caplog.text


def test_444_right_after_a_fresh_token_is_an_error_not_a_loop() -> None:
    with served(_sandbox(token_max_age_seconds=1e-6)) as server:
        with (
            pytest.raises(AisAuthError, match="rejected a token it had just issued"),
            session_for(server) as session,
        ):
            list(session.browse(BrowseRequest("F0101", ("ALPH",)), ("AN8",)))
        stats = sandbox_stats(server)
    assert count_requests(stats, BROWSE, 444) == 2
    assert count_requests(stats, TOKEN, 200) == 2


@pytest.mark.parametrize(
    ("table", "key"), [("F0116", ("AN8", "EFTB")), ("F4311", ("KCOO", "DOCO", "DCTO", "SFXO", "LNID"))]
)
def test_444_mid_paging_resumes_with_every_row_exactly_once(table: str, key: tuple[str, ...]) -> None:
    sandbox = _sandbox(token_max_calls=3)
    direct = [tuple(_grid_form(alias, row[alias]) for alias in key) for row in sandbox.rows(table)]
    with served(sandbox) as server:
        with session_for(server, page_size=4) as session:
            rows = list(session.browse(BrowseRequest(table, key), key, date_columns={"EFTB"}))
            resumed = session.stats.resumed_reads
        stats = sandbox_stats(server)
    assert len(direct) > 3 * 4 * 2  # enough pages for several lost tokens
    read = _keys(rows, key)
    assert (
        len(read) == len(set(read)) == len(direct)
    )  # no row twice (the sandbox's direct read orders LNID as text)
    assert set(read) == set(direct)
    assert read == sorted(read)  # AIS order: the key, LNID numerically
    assert resumed >= 2
    assert count_requests(stats, NEXT, 444) >= 2


def _grid_form(alias: str, value: object) -> object:
    """A direct read's Julian EFTB as AIS shows it (yyyyMMdd, blank for 0)."""
    if alias != "EFTB":
        return value
    assert isinstance(value, int)
    if not value:
        return ""
    return (date(1900 + value // 1000, 1, 1) + timedelta(days=value % 1000 - 1)).strftime("%Y%m%d")


def test_paging_with_a_query_and_lost_tokens_keeps_the_filter() -> None:
    sandbox = _sandbox(token_max_calls=2)
    direct = [row["AN8"] for row in sandbox.rows("F0115") if row["PHTP"] == ""]
    query = Query(conditions=(Condition("F0115.PHTP", Operator.STR_BLANK),))
    with served(sandbox) as server, session_for(server, page_size=3) as session:
        rows = list(session.browse(BrowseRequest("F0115", ("AN8", "PHTP"), query), ("AN8", "IDLN", "RCK7")))
    assert [row["AN8"] for row in rows] == direct
    assert all(row["PHTP"] == " " for row in rows), "raw rows as AIS writes them: a blank is one space"


def test_allowlist_403_fails_at_once_with_the_allowlist_message() -> None:
    with served(_sandbox(allowlist=["10.1.2.0/24"])) as server:
        session = session_for(server)
        with pytest.raises(AisAllowlistError) as caught:
            session.login()
        session.close()
        stats = sandbox_stats(server)
    message = str(caught.value)
    assert server.url in message
    assert "egress IP address must be added to the AIS Server's allowlist" in message
    assert all_jderest_requests(stats) == 1


def test_wrong_password_is_an_auth_error_without_the_password() -> None:
    with served(_sandbox()) as server:
        with pytest.raises(AisAuthError) as caught:
            session_for(server, password="Wr0ng-Secret").login()
        stats = sandbox_stats(server)
    assert "refused the login" in str(caught.value)
    assert "Wr0ng-Secret" not in str(caught.value)
    assert all_jderest_requests(stats) == 1


def test_5xx_and_dropped_connections_are_retried_then_succeed() -> None:
    sandbox = _sandbox(fail_rate=0.3, drop_rate=0.2, fault_seed=11)
    direct = [row["AN8"] for row in sandbox.rows("F0101")]
    with served(sandbox) as server:
        session = AisSession(
            settings_for(server),
            retry=RetryPolicy(max_attempts=10, base_delay=0.001, max_delay=0.01),
            page_size=4,
        )
        with session:
            rows = list(session.browse(BrowseRequest("F0101", ("AN8",)), ("AN8",)))
            retries = session.stats.retries + session.stats.resumed_reads
        stats = sandbox_stats(server)
    assert [row["AN8"] for row in rows] == direct
    assert stats["injected_failures"] > 0 and stats["dropped_connections"] > 0
    assert retries > 0


def test_5xx_every_time_gives_up_after_the_bounded_retries() -> None:
    with served(_sandbox(fail_rate=1.0)) as server:
        with (
            pytest.raises(AisUnavailableError, match="after 4 attempts") as caught,
            session_for(server) as session,
        ):
            list(session.browse(BrowseRequest("F0101", ("AN8",)), ("AN8",)))
        stats = sandbox_stats(server)
    assert "HTTP 500" in str(caught.value)
    assert count_requests(stats, BROWSE, 500) == FAST_RETRY.max_attempts


def test_dropped_connections_every_time_give_up_after_the_bounded_retries() -> None:
    with served(_sandbox(drop_rate=1.0)) as server:
        with pytest.raises(AisUnavailableError, match="token request after 4 attempts"):
            session_for(server).login()
        stats = sandbox_stats(server)
    assert stats["dropped_connections"] == FAST_RETRY.max_attempts


def test_400_carries_ais_message_and_is_not_retried() -> None:
    with served(_sandbox()) as server:
        with session_for(server) as session:
            with pytest.raises(AisRequestError) as caught:
                list(session.browse(BrowseRequest("F0101", ("NOPE",)), ("AN8",)))
            assert caught.value.status == 400
            assert "F0101.NOPE" in str(caught.value)
        stats = sandbox_stats(server)
    assert count_requests(stats, BROWSE, 400) == 1


def test_dd_mm_yyyy_user_gets_date_literals_in_that_format() -> None:
    sandbox = _sandbox(users={"JDE": {"password": "JDE", "date_format": "dd/MM/yyyy"}})
    since = date(2026, 11, 13)  # day > 12: a month-first literal would be refused
    direct = sorted(
        row["AN8"]
        for row in sandbox.rows("F0101")
        if row["UPMJ"] >= (since.year - 1900) * 1000 + since.timetuple().tm_yday
    )
    query = Query(conditions=(Condition("F0101.UPMJ", Operator.GREATER_EQUAL, (since,)),))
    with served(sandbox) as server, session_for(server) as session:
        assert session.user.simple_date_format == "dd/MM/yyyy"
        rows = list(session.browse(BrowseRequest("F0101", ("AN8",), query), ("AN8",)))
    assert [row["AN8"] for row in rows] == direct
    assert direct
