"""`/v1/customers`: create, retrieve, update, delete, list, and search (Stripe's query language, over an
index that lags behind writes)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import errors
from .common import customer_view, find_live_customer, in_range, list_page, newest_first
from .endpoint import Context
from .errors import ApiError
from .forms import UNSET
from .objects import deleted_view, list_envelope, new_customer, public, search_envelope
from .params import address_value, apply_metadata, custom_fields_value, set_scalars, shipping_value
from .store import SearchVersion


def _apply_customer_params(customer: dict[str, Any], params: Mapping[str, Any]) -> None:
    set_scalars(
        customer,
        params,
        (
            "balance",
            "business_name",
            "description",
            "email",
            "individual_name",
            "invoice_prefix",
            "name",
            "next_invoice_sequence",
            "phone",
        ),
    )
    if "invoice_prefix" in params and not re.fullmatch(r"[A-Z0-9]{3,12}", params["invoice_prefix"]):
        raise errors.parameter_invalid(
            "invoice_prefix",
            "Invoice prefix must be between 3 and 12 characters long and contain only uppercase letters "
            "and numbers.",
        )
    if "address" in params:
        customer["address"] = address_value(params["address"])
    if "shipping" in params:
        customer["shipping"] = shipping_value(params["shipping"])
    if "preferred_locales" in params:
        locales = params["preferred_locales"]
        customer["preferred_locales"] = [] if locales is UNSET else list(locales)
    if "tax_exempt" in params:
        customer["tax_exempt"] = "none" if params["tax_exempt"] is UNSET else params["tax_exempt"]
    if "invoice_settings" in params:
        settings = dict(customer["invoice_settings"])
        given = params["invoice_settings"]
        if "custom_fields" in given:
            settings["custom_fields"] = custom_fields_value(given["custom_fields"])
        if "footer" in given:
            settings["footer"] = None if given["footer"] is UNSET else given["footer"]
        if "rendering_options" in given:
            options = given["rendering_options"]
            settings["rendering_options"] = (
                None
                if options is UNSET
                else {
                    "amount_tax_display": None
                    if options.get("amount_tax_display") in (None, UNSET)
                    else options["amount_tax_display"],
                    "template": options.get("template"),
                }
            )
        customer["invoice_settings"] = settings
    if "metadata" in params:
        apply_metadata(customer, params["metadata"])


def _index_customer(ctx: Context, customer: Mapping[str, Any] | None, customer_id: str) -> None:
    versions = ctx.store.search_versions.setdefault(customer_id, [])
    snapshot = None if customer is None else json.loads(json.dumps(public(customer), default=str))
    versions.append(SearchVersion(ctx.now + ctx.search_lag_seconds, snapshot))


def create_customer(ctx: Context, _ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    customer = new_customer(ctx.timestamp, ctx.store.next_seq())
    _apply_customer_params(customer, params)
    ctx.store.put("customer", customer)
    _index_customer(ctx, customer, customer["id"])
    return 200, customer_view(customer)


def retrieve_customer(
    ctx: Context, ids: Sequence[str], _params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    customer = ctx.store.get("customer", ids[0])
    if customer is None:
        raise errors.resource_missing("customer", ids[0])
    return 200, customer_view(customer)


def update_customer(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    customer = dict(find_live_customer(ctx, ids[0]))
    _apply_customer_params(customer, params)
    ctx.store.put("customer", customer)
    _index_customer(ctx, customer, customer["id"])
    return 200, customer_view(customer)


def delete_customer(ctx: Context, ids: Sequence[str], _params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    customer = find_live_customer(ctx, ids[0])
    tombstone = {
        "id": customer["id"],
        "object": "customer",
        "deleted": True,
        "created": customer["created"],
        "_seq": customer["_seq"],
    }
    ctx.store.put("customer", tombstone)
    _index_customer(ctx, None, customer["id"])
    return 200, deleted_view("customer", customer["id"])


def list_customers(ctx: Context, _ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    customers = [c for c in ctx.store.objects["customer"].values() if not c.get("deleted")]
    if "email" in params:
        customers = [c for c in customers if c["email"] == params["email"]]
    if "created" in params:
        customers = [c for c in customers if in_range(c["created"], params["created"])]
    page, has_more = list_page(newest_first(customers), params, "customer")
    return 200, list_envelope("/v1/customers", [customer_view(c) for c in page], has_more)


# --- customer search: Stripe's query language, over an index that lags behind writes ------------------

_CLAUSE = re.compile(
    r"""\s*(?P<neg>-)?(?P<field>metadata\[(?P<q>["'])(?P<mkey>.*?)(?P=q)\]|[a-z_]+)"""
    r"""\s*(?P<op>:|~|>=|<=|>|<)\s*(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|-?\d+|null)\s*""",
)
_SEARCH_FIELDS = {"created", "email", "metadata", "name", "phone"}


@dataclass(frozen=True)
class _Clause:
    negate: bool
    field: str
    metadata_key: str | None
    op: str
    value: str | int | None


def parse_search_query(query: str) -> tuple[str, list[_Clause]]:
    """Split `a:'x' AND b:'y'` into clauses; Stripe allows AND or OR (not both), up to 10 clauses."""
    clauses: list[_Clause] = []
    joins: set[str] = set()
    position = 0
    text = query.strip()
    if not text:
        raise _bad_query(query, "the query is empty")
    while True:
        match = _CLAUSE.match(text, position)
        if match is None:
            raise _bad_query(query, f"could not parse the query at position {position}")
        field_name = "metadata" if match.group("mkey") is not None else match.group("field")
        if field_name not in _SEARCH_FIELDS:
            raise _bad_query(query, f"the field '{field_name}' is not supported for customers")
        raw = match.group("value")
        value: str | int | None
        if raw == "null":
            value = None
        elif raw[0] in "\"'":
            value = re.sub(r"\\(.)", r"\1", raw[1:-1])
        else:
            value = int(raw)
        op = match.group("op")
        if field_name == "created" and not isinstance(value, int):
            raise _bad_query(query, "created must be compared with a number")
        if field_name != "created" and op not in (":", "~"):
            raise _bad_query(query, f"the operator '{op}' is only supported for numeric fields")
        if op == "~" and (not isinstance(value, str) or len(value) < 3):
            raise _bad_query(query, "a substring match (~) needs at least 3 characters")
        clauses.append(_Clause(bool(match.group("neg")), field_name, match.group("mkey"), op, value))
        position = match.end()
        if position >= len(text):
            break
        join = re.compile(r"(AND|OR|and|or)\s+").match(text, position)
        if join is not None:
            joins.add(join.group(1).upper())
            position = join.end()
        else:
            joins.add("AND")  # a space between clauses means AND
    if len(joins) > 1:
        raise _bad_query(query, "you cannot combine AND and OR in the same query")
    if len(clauses) > 10:
        raise _bad_query(query, "a query can have at most 10 clauses")
    return (joins.pop() if joins else "AND"), clauses


def _bad_query(query: str, reason: str) -> ApiError:
    return errors.parameter_invalid("query", f"Invalid search query '{query}': {reason}.")


def _clause_matches(clause: _Clause, customer: Mapping[str, Any]) -> bool:
    if clause.field == "metadata":
        actual: Any = customer.get("metadata", {}).get(clause.metadata_key or "")
    else:
        actual = customer.get(clause.field)
    if clause.value is None:
        result = actual is None
    elif clause.field == "created":
        assert isinstance(clause.value, int)
        result = {
            ":": actual == clause.value,
            ">": actual > clause.value,
            "<": actual < clause.value,
            ">=": actual >= clause.value,
            "<=": actual <= clause.value,
        }[clause.op]
    elif actual is None:
        result = False
    elif clause.op == "~":
        result = str(clause.value).lower() in str(actual).lower()
    elif clause.field == "metadata":
        result = actual == clause.value
    else:
        result = str(actual).lower() == str(clause.value).lower()
    return result != clause.negate


def _indexed_customers(ctx: Context) -> list[dict[str, Any]]:
    """What the search index holds now: each customer as it was `search_lag_seconds` ago."""
    visible: list[dict[str, Any]] = []
    for versions in ctx.store.search_versions.values():
        ready = [v for v in versions if v.visible_at <= ctx.now]
        if ready:
            while len(versions) > 1 and versions[1].visible_at <= ctx.now:
                versions.pop(0)
            snapshot = ready[-1].snapshot
            if snapshot is not None:
                visible.append(snapshot)
    return visible


def search_customers(ctx: Context, _ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    join, clauses = parse_search_query(params["query"])
    combine = all if join == "AND" else any
    found = [c for c in _indexed_customers(ctx) if combine(_clause_matches(cl, c) for cl in clauses)]
    found.sort(key=lambda c: (c["created"], c["id"]), reverse=True)
    offset = 0
    if "page" in params:
        try:
            offset = int(json.loads(base64.urlsafe_b64decode(params["page"].encode()))["offset"])
        except (ValueError, KeyError, TypeError):
            raise errors.parameter_invalid("page", f"Invalid page: {params['page']}") from None
    limit = params.get("limit", 10)
    page = found[offset : offset + limit]
    next_page = None
    if offset + limit < len(found):
        next_page = base64.urlsafe_b64encode(json.dumps({"offset": offset + limit}).encode()).decode()
    total = len(found) if "total_count" in params.get("expand", []) else None
    # Like Stripe's, the index both decides what matches and supplies the (possibly stale) objects.
    return 200, search_envelope("/v1/customers/search", page, next_page, total)
