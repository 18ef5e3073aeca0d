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

Several threads may read over one session at once (an extract fetches its chunks side by side; real
AIS servers take concurrent requests on one token): the token is renewed once per lost token — a
thread whose token another thread already renewed just retries with the new one. The thread that
renewed it sends the first call with the new token while the others wait for its answer, so "AIS
refused the token it had just issued" (an error, not a loop) means the same as with one thread.
"""

from __future__ import annotations

import json
import logging
import random
import threading
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
from jde_stripe_pipeline.jde.parallel import READ_WORKERS
from jde_stripe_pipeline.jde.query import (
    BrowseRequest,
    Direction,
    GridPage,
    OrderBy,
    browse_body,
    column_id,
    parse_grid_page,
)
from jde_stripe_pipeline.jde.replies import is_credential_refusal, response_message, says_result_set_expired
from jde_stripe_pipeline.jde.resume import resumed_after
from jde_stripe_pipeline.jde.session_values import AisUser, RetryPolicy, SessionStats
from jde_stripe_pipeline.jde.settings import AisSettings

log = logging.getLogger(__name__)

TOKEN_PATH = "/jderest/v2/tokenrequest"
LOGOUT_PATH = "/jderest/v2/tokenrequest/logout"
DATASERVICE_PATH = "/jderest/v2/dataservice"
NEXT_PAGE_PATH = "/jderest/v2/dataservice/next"
TOKEN_EXPIRED = 444

Row = dict[str, Any]


def _set_event() -> threading.Event:
    event = threading.Event()
    event.set()
    return event


class _PagingLost(Exception):
    def __init__(self, token_expired: bool, detail: str, result_set_expired: bool = False, token: str = ""):
        super().__init__(detail)
        self.token_expired = token_expired
        self.token = token
        self.result_set_expired = result_set_expired
        self.detail = detail


@dataclass
class AisSession:
    """A logged-in AIS session; use as a context manager so the token is logged out at the end."""

    settings: AisSettings
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    page_size: int = 500
    """maxPageSize of every BROWSE."""
    read_workers: int = READ_WORKERS
    """BROWSEs an extract has in flight at once on this session (`JDE_AIS_READ_WORKERS`, `parallel.py`)."""
    http: requests.Session = field(default_factory=requests.Session)
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    stats: SessionStats = field(default_factory=SessionStats)
    _token: str | None = field(default=None, repr=False)
    _user: AisUser | None = field(default=None, repr=False)
    _token_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _tried: threading.Event = field(default_factory=_set_event, repr=False)
    """Cleared while the first call with a renewed token is on its way (other calls wait for it)."""
    _stats_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

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
        if response.status_code in (401, 403) and is_credential_refusal(response):
            raise AisAuthError(
                f"AIS at {self.settings.url} refused the login of user {self.settings.username!r}"
                f" (HTTP {response.status_code}): {response_message(response)}"
            )
        payload = self._json_or_raise(response, "the token request")
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
        )
        return self._user

    def logout(self) -> None:
        """Best effort: a failed logout only leaves a token to expire on its own."""
        token, self._token = self._token, None
        if token is None:
            return
        try:
            self._count("requests")
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
            issued = ordered if last_key is None else resumed_after(ordered, key, last_key, date_columns)
            if last_key is not None:
                self._count("resumed_reads")
            page = self._browse_page(issued)
            while True:
                if page.rows:
                    failures = 0
                    self._count("rows", len(page.rows))
                    # where a lost read resumes (only ever after the whole page): the last row's key
                    last_key = tuple(page.rows[-1].get(alias) for alias in key)
                yield from page.rows
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
            self._renew(lost.token, first_call=False)
        elif lost.result_set_expired:
            self._count("expired_result_sets")
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
        auth = self._auth_fields()
        try:
            self._count("requests")
            response = self._post(NEXT_PAGE_PATH, {**params, **auth})
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _PagingLost(False, type(exc).__name__) from None
        if response.status_code == TOKEN_EXPIRED:
            raise _PagingLost(True, "HTTP 444", token=auth["token"])
        if response.status_code >= 500:
            detail = f"HTTP {response.status_code}: {response_message(response)}"
            raise _PagingLost(False, detail, result_set_expired=says_result_set_expired(response))
        return parse_grid_page(self._json_or_raise(response, f"the next page of {table}"), table)

    # -------------------------------------------------------------------------- transport

    def _auth_fields(self, *, wait: bool = True) -> dict[str, str]:
        """The token to send; unless `wait` is off (the first call with a renewed token), not before
        that first call has been answered."""
        while True:
            if wait:
                self._tried.wait()
            with self._token_lock:
                token = self._token
                if not wait or self._tried.is_set():
                    break
        if token is None:
            raise AisError("the AIS session is not logged in (use `with AisSession(...) as session:`)")
        return {"token": token, "deviceName": self.settings.device_name}

    def _count(self, name: str, n: int = 1) -> None:
        with self._stats_lock:
            setattr(self.stats, name, getattr(self.stats, name) + n)

    def _renew(self, stale: str, *, first_call: bool) -> bool:
        """A new token after a 444 on `stale`, unless another thread renewed it already. True when
        this thread renewed it and, with `first_call`, must send the first call with it."""
        with self._token_lock:
            if self._token != stale:
                return False
            self._count("reauthentications")
            self.login()
            if first_call:
                self._tried.clear()
            return first_call

    def _data_call(self, path: str, body: dict[str, Any], what: str) -> Any:
        """A token-carrying call: on 444 a new token and a retry; a 444 on a token this call just
        renewed is an error."""
        renewed = False
        while True:
            auth = self._auth_fields(wait=not renewed)
            try:
                response = self._send(path, {**body, **auth}, what)
            finally:
                if renewed:
                    self._tried.set()
            if response.status_code != TOKEN_EXPIRED:
                return self._json_or_raise(response, what)
            if renewed:
                raise AisAuthError(
                    f"AIS at {self.settings.url} rejected a token it had just issued (HTTP 444 again on"
                    f" {what}); check the AIS Server's session settings and the device name"
                )
            log.info("AIS token expired (HTTP 444) on %s; requesting a new token", what)
            renewed = self._renew(auth["token"], first_call=True)

    def _send(self, path: str, body: dict[str, Any], what: str) -> requests.Response:
        """POST with bounded retries on 5xx, timeouts and dropped connections; other answers returned."""
        last = ""
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                self._count("requests")
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
                last = f"HTTP {response.status_code}: {response_message(response)}"
            if attempt < self.retry.max_attempts:
                self._count("retries")
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
            raise AisAllowlistError(self.settings.url, response_message(response, default=None))
        if status >= 400:
            message = response_message(response)
            raise AisRequestError(
                f"AIS at {self.settings.url} refused {what} (HTTP {status}): {message}",
                status=status,
                ais_message=message,
            )
        try:
            return json.loads(response.content, parse_float=Decimal)
        except ValueError:
            raise AisProtocolError(f"AIS answered {what} with a body that is not JSON") from None
