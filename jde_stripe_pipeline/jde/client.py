"""The AIS session: one token per run, renewed on HTTP 444, retried on 5xx, streamed pages.

Everything that talks to the AIS Server goes through `AisSession`. It owns the token (requested
once, reused for every call, sent in the body with the same `deviceName`, logged out on close),
turns HTTP failures into the `AisError` hierarchy, and streams BROWSE results page by page.

Paging and lost tokens. AIS keeps the next-page state in the server session, so a 444, an expired
result set (HTTP 500 with Oracle's `sysErrors` JAS_MSG347: AIS keeps a paged result `resultSetTimeout`,
60 s by default, and a slow consumer outlives it) or another 5xx on `dataservice/next` kills the read.
`browse` always orders by the table's unique key; after such a failure it issues the same query again
(same orderBy) ANDed with "key strictly after the last key yielded" (keyset pagination,
`query.after_key`): a new token first after a 444, at once after an expiry, after a backoff otherwise.
The server both orders and compares, so no client-side collation is assumed; the result is every row
exactly once, and a resumed read re-reads nothing (no row skipped by counting, no set of yielded keys
to hold).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

import requests

from jde_stripe_pipeline.jde.errors import (
    AisAllowlistError,
    AisAuthError,
    AisError,
    AisProtocolError,
    AisRequestError,
    AisUnavailableError,
)
from jde_stripe_pipeline.jde.julian import parse_grid_date
from jde_stripe_pipeline.jde.query import (
    BrowseRequest,
    Direction,
    GridPage,
    LiteralValue,
    OrderBy,
    after_key,
    ais_message,
    browse_body,
    column_id,
    is_result_set_expired,
    parse_grid_page,
)
from jde_stripe_pipeline.jde.settings import AisSettings

log = logging.getLogger(__name__)

TOKEN_PATH = "/jderest/v2/tokenrequest"
LOGOUT_PATH = "/jderest/v2/tokenrequest/logout"
DATASERVICE_PATH = "/jderest/v2/dataservice"
NEXT_PAGE_PATH = "/jderest/v2/dataservice/next"
TOKEN_EXPIRED = 444

Row = dict[str, Any]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter for 5xx, timeouts and dropped connections."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 15.0
    connect_timeout: float = 10.0
    read_timeout: float = 120.0

    def delay(self, retry_number: int, rng: random.Random) -> float:
        """Seconds to wait before retry `retry_number` (1-based): half fixed, half random."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (retry_number - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class AisUser:
    """What the token response says about the logged-in user that matters to requests."""

    username: str
    simple_date_format: str
    """Java pattern for date literals, per user (`MM/dd/yyyy`, `dd/MM/yyyy`, …)."""
    time_zone_offset: str | None = None


@dataclass
class SessionStats:
    """Counts for run metadata and tests."""

    requests: int = 0
    logins: int = 0
    reauthentications: int = 0
    retries: int = 0
    resumed_reads: int = 0
    expired_result_sets: int = 0
    """Paged reads AIS dropped after resultSetTimeout (JAS_MSG347), each resumed."""
    rows: int = 0


class _PagingLost(Exception):
    def __init__(self, token_expired: bool, detail: str, result_set_expired: bool = False):
        super().__init__(detail)
        self.token_expired = token_expired
        self.result_set_expired = result_set_expired
        self.detail = detail


@dataclass
class AisSession:
    """A logged-in AIS session; use as a context manager so the token is logged out at the end."""

    settings: AisSettings
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    page_size: int = 500
    """maxPageSize of every BROWSE."""
    http: requests.Session = field(default_factory=requests.Session)
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    stats: SessionStats = field(default_factory=SessionStats)
    _token: str | None = field(default=None, repr=False)
    _user: AisUser | None = field(default=None, repr=False)

    # ------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> Self:
        try:
            self.login()
        except BaseException:
            self.http.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.logout()
        finally:
            self.http.close()

    @property
    def user(self) -> AisUser:
        if self._user is None:
            raise AisError("the AIS session is not logged in (use `with AisSession(...) as session:`)")
        return self._user

    def login(self) -> AisUser:
        """Request a token; the password is sent here and nowhere else."""
        body = {
            "username": self.settings.username,
            "password": self.settings.password.get_secret_value(),
            "deviceName": self.settings.device_name,
            "environment": self.settings.environment,
            "role": self.settings.role,
        }
        response = self._send(TOKEN_PATH, body, "the token request")
        if response.status_code in (401, 403) and _is_credential_refusal(response):
            raise AisAuthError(
                f"AIS at {self.settings.url} refused the login of user {self.settings.username!r}"
                f" (HTTP {response.status_code}): {_response_message(response)}"
            )
        payload = self._json_or_raise(response, "the token request")
        self.stats.logins += 1
        try:
            info = payload["userInfo"]
            token = info["token"]
        except (KeyError, TypeError):
            raise AisProtocolError("AIS's token response has no userInfo.token") from None
        if not isinstance(token, str) or not token:
            raise AisProtocolError("AIS's token response has an empty token")
        self._token = token
        self._user = AisUser(
            username=str(payload.get("username") or self.settings.username),
            simple_date_format=str(info.get("simpleDateFormat") or "MM/dd/yyyy"),
            time_zone_offset=info.get("timeZoneOffset"),
        )
        return self._user

    def logout(self) -> None:
        """Best effort: a failed logout only leaves a token to expire on its own."""
        token, self._token = self._token, None
        if token is None:
            return
        try:
            self.stats.requests += 1
            self.http.post(
                self._url(LOGOUT_PATH),
                data=json.dumps({"token": token, "deviceName": self.settings.device_name}),
                headers={"Content-Type": "application/json"},
                timeout=(self.retry.connect_timeout, self.retry.read_timeout),
                verify=self.settings.verify,
            )
        except requests.RequestException as exc:
            log.warning("AIS logout failed (%s); the token will expire on its own", type(exc).__name__)

    # ------------------------------------------------------------------------------ reads

    def browse(
        self, request: BrowseRequest, key: Sequence[str], *, date_columns: Collection[str] = ()
    ) -> Iterator[Row]:
        """Stream the rows of a BROWSE ordered by `key` (the table's unique key), each exactly once.

        Rows are dicts keyed by alias with values as AIS wrote them (numbers as int/Decimal).
        `date_columns` names the key columns that are dates, so a resumed read can write them as
        date literals.
        """
        if not key:
            raise ValueError("browse needs the table's unique key to order and resume by")
        columns = request.columns + tuple(alias for alias in key if alias not in request.columns)
        ordered = replace(
            request,
            columns=columns,
            order_by=tuple(OrderBy(column_id(request.table, alias), Direction.ASC) for alias in key),
            max_page_size=self.page_size,
        )
        last_key: tuple[Any, ...] | None = None
        failures = 0
        while True:
            issued = ordered if last_key is None else _after(ordered, key, last_key, date_columns)
            if last_key is not None:
                self.stats.resumed_reads += 1
            page = self._browse_page(issued)
            while True:
                if page.rows:
                    failures = 0
                for row in page.rows:
                    last_key = tuple(row.get(alias) for alias in key)
                    self.stats.rows += 1
                    yield row
                if page.next_params is None:
                    return
                try:
                    page = self._next_page(page.next_params, request.table)
                except _PagingLost as lost:
                    failures += 1
                    self._recover(lost, failures, request.table)
                    break

    def _recover(self, lost: _PagingLost, failures: int, table: str) -> None:
        """Get ready to issue a lost paged read again: new token after a 444, else back off."""
        if failures >= self.retry.max_attempts:
            raise AisUnavailableError(
                f"AIS at {self.settings.url} kept losing the paged read of {table}"
                f" ({failures} times without progress): {lost.detail}"
            )
        if lost.token_expired:
            log.info("AIS token expired while paging %s; new token, resuming the read", table)
            self._reauthenticate()
        elif lost.result_set_expired:
            self.stats.expired_result_sets += 1
            # Not a server fault: the result set outlived resultSetTimeout. Waiting cannot help.
            log.info("AIS result set of %s expired (%s); resuming the read", table, lost.detail)
        else:
            log.warning("AIS lost the paged read of %s (%s); resuming", table, lost.detail)
            self.sleep(self.retry.delay(failures, self.rng))

    def _browse_page(self, request: BrowseRequest) -> GridPage:
        body = browse_body(request, self.user.simple_date_format)
        payload = self._data_call(DATASERVICE_PATH, body, f"a BROWSE of {request.table}")
        return parse_grid_page(payload, request.table)

    def _next_page(self, params: dict[str, str], table: str) -> GridPage:
        """One `dataservice/next` call; any 444/5xx/transport failure means the paging state is gone."""
        body = {**params, **self._auth_fields()}
        try:
            self.stats.requests += 1
            response = self._post(NEXT_PAGE_PATH, body)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _PagingLost(False, type(exc).__name__) from None
        if response.status_code == TOKEN_EXPIRED:
            raise _PagingLost(True, "HTTP 444")
        if response.status_code >= 500:
            detail = f"HTTP {response.status_code}: {_response_message(response)}"
            raise _PagingLost(False, detail, result_set_expired=_is_result_set_expired(response))
        return parse_grid_page(self._json_or_raise(response, f"the next page of {table}"), table)

    # -------------------------------------------------------------------------- transport

    def _auth_fields(self) -> dict[str, str]:
        if self._token is None:
            raise AisError("the AIS session is not logged in (use `with AisSession(...) as session:`)")
        return {"token": self._token, "deviceName": self.settings.device_name}

    def _reauthenticate(self) -> None:
        self.stats.reauthentications += 1
        self._token = None
        self.login()

    def _data_call(self, path: str, body: dict[str, Any], what: str) -> Any:
        """A token-carrying call: on 444 one new token and one retry; a second 444 is an error."""
        for fresh_token in (False, True):
            response = self._send(path, {**body, **self._auth_fields()}, what)
            if response.status_code != TOKEN_EXPIRED:
                return self._json_or_raise(response, what)
            if fresh_token:
                break
            log.info("AIS token expired (HTTP 444) on %s; requesting a new token", what)
            self._reauthenticate()
        raise AisAuthError(
            f"AIS at {self.settings.url} rejected a token it had just issued (HTTP 444 again on {what});"
            " check the AIS Server's session settings and the device name"
        )

    def _send(self, path: str, body: dict[str, Any], what: str) -> requests.Response:
        """POST with bounded retries on 5xx, timeouts and dropped connections; other answers returned."""
        last = ""
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                self.stats.requests += 1
                response = self._post(path, body)
            except requests.exceptions.SSLError as exc:
                raise AisError(
                    f"TLS verification of the AIS Server at {self.settings.url} failed; set JDE_AIS_CA_BUNDLE"
                    f" to the CA bundle that signed its certificate ({type(exc).__name__})"
                ) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = type(exc).__name__
            else:
                if response.status_code < 500:
                    return response
                last = f"HTTP {response.status_code}: {_response_message(response)}"
            if attempt < self.retry.max_attempts:
                self.stats.retries += 1
                pause = self.retry.delay(attempt, self.rng)
                log.warning("AIS %s failed (%s); retry %d in %.2fs", what, last, attempt, pause)
                self.sleep(pause)
        raise AisUnavailableError(
            f"AIS at {self.settings.url} did not answer {what}"
            f" after {self.retry.max_attempts} attempts: {last}"
        )

    def _post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.http.post(
            self._url(path),
            data=json.dumps(body),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            timeout=(self.retry.connect_timeout, self.retry.read_timeout),
            verify=self.settings.verify,
        )

    def _url(self, path: str) -> str:
        return self.settings.url + path

    def _json_or_raise(self, response: requests.Response, what: str) -> Any:
        status = response.status_code
        if status == 403:
            raise AisAllowlistError(self.settings.url, _response_message(response, default=None))
        if status >= 400:
            message = _response_message(response)
            raise AisRequestError(
                f"AIS at {self.settings.url} refused {what} (HTTP {status}): {message}",
                status=status,
                ais_message=message,
            )
        try:
            return json.loads(response.content, parse_float=Decimal)
        except ValueError:
            raise AisProtocolError(f"AIS answered {what} with a body that is not JSON") from None


def _after(
    request: BrowseRequest, key: Sequence[str], last_key: Sequence[Any], date_columns: Collection[str]
) -> BrowseRequest:
    """The same BROWSE, limited to the rows after `last_key` (a resumed read)."""
    values = [_key_literal(value, alias in date_columns) for alias, value in zip(key, last_key, strict=True)]
    resume = after_key(request.table, key, values)
    return replace(request, query=resume if request.query is None else request.query.and_query(resume))


def _key_literal(value: Any, is_date: bool) -> LiteralValue:
    """A key value as AIS wrote it, back as a condition literal (dates as dates, blank date blank)."""
    if is_date:
        try:
            day = parse_grid_date(value)
        except ValueError:
            raise AisProtocolError(f"cannot resume a paged read on date key {value!r}") from None
        return "" if day is None else day
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise AisProtocolError(f"cannot resume a paged read on key value {value!r}")
    return value


def _response_message(response: requests.Response, default: str | None = "no message") -> str | None:
    """AIS's own message from an error body, without echoing anything that might be a secret."""
    try:
        payload = json.loads(response.content, parse_float=Decimal)
    except ValueError:
        text = response.text.strip()
        return text[:200] if text and not text.lstrip().startswith("<") else default
    return ais_message(payload) or default


def _is_result_set_expired(response: requests.Response) -> bool:
    try:
        return is_result_set_expired(json.loads(response.content))
    except ValueError:
        return False


def _is_credential_refusal(response: requests.Response) -> bool:
    """A 401, or a 403 to the token request in AIS's own words ("Authorization Failure").

    Real AIS answers a wrong password with 403 "Authorization Failure"; an allowlist in front of it
    answers 403 with anything else, and that stays an `AisAllowlistError`.
    """
    if response.status_code == 401:
        return True
    try:
        payload = json.loads(response.content)
    except ValueError:
        return False
    text = (ais_message(payload) or "").lower()
    return any(word in text for word in ("authorization failure", "password", "credential", "login"))
