"""The data service: BROWSE (with next-page processing), COUNT and AGGREGATION, as `AisService` answers them.

A mixin so that the service's lock, sessions and counters stay in one object; the shapes of the
answers are in `render`, the SQL in `query` and `aggregate`.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from jde_stripe_pipeline.sandboxes.ais.aggregate import aggregate_output, plan_aggregate
from jde_stripe_pipeline.sandboxes.ais.config import AisSandboxConfig
from jde_stripe_pipeline.sandboxes.ais.query import QueryError, SelectPlan, plan_select, resolve_table
from jde_stripe_pipeline.sandboxes.ais.render import (
    GRID_ID,
    OUTPUT_TYPES,
    envelope,
    grid_data,
    invalid_token,
    json_response,
    result_set_expired,
)
from jde_stripe_pipeline.sandboxes.ais.sessions import PageState, Session
from jde_stripe_pipeline.sandboxes.ais.store import Store
from jde_stripe_pipeline.sandboxes.ais.tables import Table
from jde_stripe_pipeline.sandboxes.http_server import HttpRequest, HttpResponse


class DataServiceMixin:
    """`/jderest[/v2]/dataservice` and `/dataservice/next`; needs the service's session checks."""

    _store: Store
    _config: AisSandboxConfig
    _lock: threading.RLock
    _faults: random.Random
    _next_state: int

    def _authenticate(self, request: HttpRequest, body: Mapping[str, Any], link: bool) -> Session | None:
        raise NotImplementedError

    def _injected_failure(self) -> HttpResponse | None:
        raise NotImplementedError

    def _admit(self, request: HttpRequest, body: Mapping[str, Any], link: bool) -> Session | HttpResponse:
        """The caller's session, or the answer that turns the call away: a bad token, an injected fault."""
        session = self._authenticate(request, body, link)
        if session is None:
            return invalid_token()
        failure = self._injected_failure()
        return session if failure is None else failure

    def _data_service(self, request: HttpRequest, body: Mapping[str, Any], version: str) -> HttpResponse:
        session = self._admit(request, body, link=False)
        if not isinstance(session, Session):
            return session
        service_type = body.get("dataServiceType")
        if service_type not in ("BROWSE", "COUNT", "AGGREGATION"):
            raise QueryError(f"dataServiceType must be BROWSE, COUNT or AGGREGATION, got {service_type!r}")
        output_type = body.get("outputType") or "GRID_DATA"
        if output_type not in OUTPUT_TYPES:
            raise QueryError(f"outputType must be one of {', '.join(OUTPUT_TYPES)}, got {output_type!r}")
        table = resolve_table(body.get("targetName"), body.get("targetType"))
        if service_type == "AGGREGATION":
            return self._aggregation(body, table, session)
        plan = plan_select(body, table, session.date_format, self._config.default_max_page_size)
        if service_type == "COUNT":
            count = self._store.query(f'SELECT COUNT(*) FROM "{table.name}" WHERE {plan.where}', plan.params)[
                0
            ][0]
            return json_response(200, envelope(table, {"totalCount": int(count)}, [], self._stack()))
        sql = f'SELECT rowid FROM "{table.name}" WHERE {plan.where} ORDER BY {plan.order}'
        size = plan.max_page_size
        if not plan.next_page and size is not None:
            rowids = [r[0] for r in self._store.query(sql + " LIMIT ?", (*plan.params, size + 1))]
            return self._page(plan, rowids[:size], len(rowids) > size, None, output_type, session)
        rowids = [r[0] for r in self._store.query(sql, plan.params)]
        if size is None or len(rowids) <= size:
            return self._page(plan, rowids, False, None, output_type, session)
        with self._lock:
            self._next_state += 1
            state = PageState(
                self._next_state, secrets.token_hex(16), plan, rowids, size, time.monotonic(), output_type
            )
            session.pages[state.state_id] = state
        link = self._next_link(request, session, state, version)
        return self._page(plan, rowids[:size], True, link, output_type, session, state)

    def _aggregation(self, body: Mapping[str, Any], table: Table, session: Session) -> HttpResponse:
        """`ds_<TABLE>.output[]`; the whole answer in one response (no next page for aggregations)."""
        aggregate = plan_aggregate(body.get("aggregation"), table)
        plan = plan_select({**body, "aggregation": None}, table, session.date_format, 1)
        names = ", ".join(f'"{c.alias}"' for c in aggregate.columns)
        rows = self._store.query(f'SELECT {names} FROM "{table.name}" WHERE {plan.where}', plan.params)
        stack_id, state_id, rid = self._stack()
        return json_response(
            200,
            {
                f"ds_{table.name}": {"output": aggregate_output(aggregate, rows)},
                "stackId": stack_id,
                "stateId": state_id,
                "rid": rid,
                "timeStamp": dt.datetime.now().strftime("%Y-%m-%d:%H.%M.%S"),
                "sysErrors": [],
            },
        )

    def _stack(self) -> tuple[int, int, str]:
        """stackId/stateId/rid of an answer that keeps no next-page state."""
        with self._lock:
            self._next_state += 1
            return 1, self._next_state, secrets.token_hex(16)

    def _next_page(self, request: HttpRequest, body: Mapping[str, Any], version: str) -> HttpResponse:
        session = self._admit(request, body, link=True)
        if not isinstance(session, Session):
            return session
        try:
            state_id = int(str(body.get("stateId")))
        except ValueError:
            raise QueryError(f"stateId must be a number, got {body.get('stateId')!r}") from None
        with self._lock:
            state = session.pages.get(state_id)
            timeout = self._config.page_state_max_age_seconds
            if state is not None and time.monotonic() - state.created > timeout:
                del session.pages[state_id]
                state = None
            if state is None or state.rid != body.get("rid"):
                # Expired, finished or never there: the server cannot tell them apart any more.
                return result_set_expired(state_id, timeout)
            size = state.plan.max_page_size or len(state.rowids)
            start, state.position = state.position, state.position + size
            done = state.position >= len(state.rowids)
            if done:
                del session.pages[state_id]
        rowids = state.rowids[start : start + size]
        link = None if done else self._next_link(request, session, state, version)
        return self._page(state.plan, rowids, not done, link, state.output_type, session, state)

    def _next_link(self, request: HttpRequest, session: Session, state: PageState, version: str) -> str:
        host = request.header("Host") or "127.0.0.1"
        control_ids = "|".join(f"{state.plan.table.name}.{c.alias}" for c in state.plan.columns)
        query = urlencode(
            {
                "stackId": 1,
                "stateId": state.state_id,
                "rid": state.rid,
                "fullGridId": GRID_ID,
                "formOID": state.plan.table.name,
                "token": session.token,
                "outputType": state.output_type,
                "returnControlIDs": control_ids,
            },
            quote_via=quote,
            safe="|.",
        )
        return f"http://{host}/jderest{version}/dataservice/next?{query}"

    def _page(
        self,
        plan: SelectPlan,
        rowids: list[int],
        more: bool,
        link: str | None,
        output_type: str,
        session: Session,
        state: PageState | None = None,
    ) -> HttpResponse:
        table = plan.table
        rows: list[tuple[Any, ...]] = []
        if rowids:
            names = ", ".join(f'"{c.alias}"' for c in plan.columns)
            found = self._store.query(
                f'SELECT rowid, {names} FROM "{table.name}" WHERE rowid IN (SELECT value FROM json_each(?))',
                (json.dumps(rowids),),
            )
            by_rowid = {row[0]: row[1:] for row in found}
            rows = [by_rowid[rowid] for rowid in rowids if rowid in by_rowid]  # deleted since: skipped
        data = grid_data(table, plan.columns, rows, more, output_type, session.date_format)
        links = [{"rel": "next", "href": link}] if link else []
        stack = (1, state.state_id, state.rid) if state is not None else self._stack()
        return json_response(200, envelope(table, data, links, stack))
