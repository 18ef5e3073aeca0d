"""The `/v1` endpoints: what each call does to the state and what it answers, in Stripe's terms.

Handlers are plain functions `(ctx, path ids, validated params) -> (status, body)`; they raise `ApiError`
for every refusal. The server shell (auth, rate limit, idempotency, faults) lives in server.py and calls
them with the state lock held.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import errors
from .errors import ApiError
from .forms import (
    UNSET,
    Arr,
    Bool,
    Currency,
    Dec,
    Enum,
    Field,
    Int,
    IntOrRange,
    Metadata,
    Obj,
    Str,
    Unsupported,
    merge_metadata,
)
from .objects import (
    ACCOUNT_CURRENCY,
    THREE_DECIMAL,
    balance_view,
    decimal_text,
    deleted_view,
    line_amount,
    line_item_view,
    list_envelope,
    new_customer,
    new_id,
    new_invoice,
    new_invoice_item,
    public,
    search_envelope,
)
from .store import SearchVersion, Store
from .taxes import TAX_AMOUNTS, apply_tax_amounts, tax_totals

MAX_INVOICE_ITEMS = 250
MAX_AMOUNT = 99_999_999
EMBEDDED_LINES = 10


@dataclass
class Context:
    store: Store
    now: float
    search_lag_seconds: float

    @property
    def timestamp(self) -> int:
        return int(self.now)


Handler = Callable[[Context, Sequence[str], dict[str, Any]], tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    schema: Mapping[str, Field]
    handler: Handler
    required: tuple[str, ...] = ()
    search: bool = False
    template: str = ""
    """The path as Stripe names the operation (`/v1/invoices/{id}/add_lines`): the rate limit's endpoint."""


# --- schemas (what the SDK's params TypedDicts allow; what we do not model is refused loudly) ---------

EXPAND = Arr(item=Str())
_ADDRESS = Obj(
    fields={
        name: Str(emptyable=True, max_length=5000)
        for name in ("city", "country", "line1", "line2", "postal_code", "state")
    },
    emptyable=True,
)
_SHIPPING = Obj(
    fields={"address": _ADDRESS, "name": Str(max_length=5000), "phone": Str(emptyable=True, max_length=5000)},
    required=("address", "name"),
    emptyable=True,
)
_CUSTOM_FIELDS = Arr(
    item=Obj(fields={"name": Str(max_length=40), "value": Str(max_length=140)}, required=("name", "value")),
    emptyable=True,
    max_items=4,
)
_CUSTOMER_COMMON: dict[str, Field] = {
    "address": _ADDRESS,
    "balance": Int(),
    "business_name": Str(emptyable=True, max_length=150),
    "cash_balance": Unsupported(),
    "description": Str(emptyable=True, max_length=350),
    "email": Str(emptyable=True, max_length=512),
    "expand": EXPAND,
    "individual_name": Str(emptyable=True, max_length=150),
    "invoice_prefix": Str(max_length=12),
    "invoice_settings": Obj(
        fields={
            "custom_fields": _CUSTOM_FIELDS,
            "default_payment_method": Unsupported(),
            "footer": Str(emptyable=True, max_length=5000),
            "rendering_options": Obj(
                fields={
                    "amount_tax_display": Enum(
                        values=("exclude_tax", "include_inclusive_tax"), emptyable=True
                    ),
                    "template": Str(),
                },
                emptyable=True,
            ),
        }
    ),
    "metadata": Metadata(),
    "name": Str(emptyable=True, max_length=256),
    "next_invoice_sequence": Int(minimum=1),
    "phone": Str(emptyable=True, max_length=20),
    "preferred_locales": Arr(item=Str(), emptyable=True),
    "shipping": _SHIPPING,
    "source": Unsupported(),
    "tax": Unsupported(),
    "tax_exempt": Enum(values=("exempt", "none", "reverse"), emptyable=True),
    "validate": Bool(),
}
CUSTOMER_CREATE = {
    **_CUSTOMER_COMMON,
    "payment_method": Unsupported(),
    "tax_id_data": Unsupported(),
    "test_clock": Unsupported(),
}
CUSTOMER_UPDATE = {**_CUSTOMER_COMMON, "default_source": Unsupported()}
_LIST: dict[str, Field] = {
    "ending_before": Str(),
    "expand": EXPAND,
    "limit": Int(minimum=1, maximum=100),
    "starting_after": Str(),
}
CUSTOMER_LIST = {**_LIST, "created": IntOrRange(), "email": Str(max_length=512), "test_clock": Unsupported()}
CUSTOMER_SEARCH = {"expand": EXPAND, "limit": Int(minimum=1, maximum=100), "page": Str(), "query": Str()}
RETRIEVE = {"expand": EXPAND}

_PERIOD = Obj(fields={"end": Int(), "start": Int()}, required=("end", "start"))
_INVOICE_COMMON: dict[str, Field] = {
    "account_tax_ids": Unsupported(),
    "application_fee_amount": Unsupported(),
    "auto_advance": Bool(),
    "automatic_tax": Obj(fields={"enabled": Bool(), "liability": Unsupported()}, required=("enabled",)),
    "automatically_finalizes_at": Int(),
    "collection_method": Enum(values=("charge_automatically", "send_invoice")),
    "custom_fields": _CUSTOM_FIELDS,
    "days_until_due": Int(minimum=0, maximum=3650),
    "default_payment_method": Unsupported(),
    "default_source": Unsupported(),
    "default_tax_rates": Unsupported(),
    "description": Str(emptyable=True, max_length=1500),
    "discounts": Unsupported(),
    "due_date": Int(),
    "expand": EXPAND,
    "footer": Str(emptyable=True, max_length=5000),
    "issuer": Unsupported(),
    "metadata": Metadata(),
    "on_behalf_of": Unsupported(),
    "payment_settings": Unsupported(),
    "rendering": Unsupported(),
    "shipping_cost": Unsupported(),
    "shipping_details": _SHIPPING,
    "statement_descriptor": Str(max_length=22),
    "transfer_data": Unsupported(),
}
INVOICE_CREATE = {
    **_INVOICE_COMMON,
    "currency": Currency(),
    "customer": Str(),
    "customer_account": Unsupported(),
    "effective_at": Int(),
    "from_invoice": Unsupported(),
    "number": Str(max_length=26),
    "pending_invoice_items_behavior": Enum(values=("exclude", "include")),
    "subscription": Unsupported(),
}
INVOICE_UPDATE = {
    **_INVOICE_COMMON,
    "effective_at": Int(emptyable=True),
    "number": Str(max_length=26, emptyable=True),
}
INVOICE_LIST = {
    **_LIST,
    "collection_method": Enum(values=("charge_automatically", "send_invoice")),
    "created": IntOrRange(),
    "customer": Str(),
    "customer_account": Unsupported(),
    "due_date": IntOrRange(),
    "status": Enum(values=("draft", "open", "paid", "uncollectible", "void")),
    "subscription": Unsupported(),
}
INVOICE_FINALIZE = {"auto_advance": Bool(), "expand": EXPAND}
INVOICE_VOID = {"expand": EXPAND}
LINES_LIST = dict(_LIST)

_PRODUCT_DATA = Obj(
    fields={
        "description": Str(max_length=40000),
        "images": Unsupported(),
        "metadata": Metadata(),
        "name": Str(max_length=5000),
        "tax_code": Unsupported(),
        "tax_details": Unsupported(),
        "unit_label": Str(max_length=12),
    },
    required=("name",),
)
_PRICE_DATA: dict[str, Field] = {
    "currency": Currency(),
    "product": Str(),
    "tax_behavior": Unsupported(),
    "unit_amount": Int(minimum=0),
    "unit_amount_decimal": Dec(),
}
"""`price_data` of an invoice item; a line's may also make its product (`product_data`)."""
_LINE_COMMON: dict[str, Field] = {
    "amount": Int(),
    "description": Str(max_length=5000),
    "discountable": Bool(),
    "discounts": Unsupported(),
    "metadata": Metadata(),
    "period": _PERIOD,
    "price_data": Obj(fields={**_PRICE_DATA, "product_data": _PRODUCT_DATA}, required=("currency",)),
    "pricing": Obj(fields={"price": Str()}),
    "quantity": Int(minimum=0),
    "quantity_decimal": Dec(),
    "tax_amounts": TAX_AMOUNTS,
    "tax_rates": Unsupported(),
}
ADD_LINES = {
    "expand": EXPAND,
    "invoice_metadata": Metadata(),
    "lines": Arr(item=Obj(fields={**_LINE_COMMON, "invoice_item": Str()})),
}
UPDATE_LINES = {
    "expand": EXPAND,
    "invoice_metadata": Metadata(),
    "lines": Arr(item=Obj(fields={**_LINE_COMMON, "id": Str()}, required=("id",))),
}
REMOVE_LINES = {
    "expand": EXPAND,
    "invoice_metadata": Metadata(),
    "lines": Arr(
        item=Obj(
            fields={"behavior": Enum(values=("delete", "unassign")), "id": Str()}, required=("behavior", "id")
        )
    ),
}
LINE_UPDATE = {**_LINE_COMMON, "expand": EXPAND}

ITEM_CREATE = {
    "amount": Int(),
    "currency": Currency(),
    "customer": Str(),
    "customer_account": Unsupported(),
    "description": Str(max_length=5000),
    "discountable": Bool(),
    "discounts": Unsupported(),
    "expand": EXPAND,
    "invoice": Str(),
    "metadata": Metadata(),
    "period": _PERIOD,
    "price_data": Obj(fields=_PRICE_DATA, required=("currency", "product")),
    "pricing": Obj(fields={"price": Str()}),
    "quantity": Int(minimum=0),
    "quantity_decimal": Dec(),
    "subscription": Unsupported(),
    "tax_behavior": Unsupported(),
    "tax_code": Unsupported(),
    "tax_rates": Unsupported(),
    "unit_amount_decimal": Dec(),
}
ITEM_UPDATE = {
    name: ITEM_CREATE[name]
    for name in (
        "amount",
        "description",
        "discountable",
        "discounts",
        "expand",
        "metadata",
        "period",
        "price_data",
        "pricing",
        "quantity",
        "quantity_decimal",
        "tax_behavior",
        "tax_code",
        "tax_rates",
        "unit_amount_decimal",
    )
}
ITEM_LIST = {
    **_LIST,
    "created": IntOrRange(),
    "customer": Str(),
    "customer_account": Unsupported(),
    "invoice": Str(),
    "pending": Bool(),
}


# --- shared helpers ----------------------------------------------------------------------------------


def _set_scalars(target: dict[str, Any], params: Mapping[str, Any], names: Sequence[str]) -> None:
    for name in names:
        if name in params:
            target[name] = None if params[name] is UNSET else params[name]


def _check_metadata_total(metadata: Mapping[str, str], param: str = "metadata") -> None:
    if len(metadata) > 50:
        raise errors.parameter_invalid(
            param, f"You can have at most 50 metadata keys; this object would have {len(metadata)}."
        )


def _apply_metadata(target: dict[str, Any], change: Any, param: str = "metadata") -> None:
    merged = merge_metadata(target["metadata"], change)
    _check_metadata_total(merged, param)
    target["metadata"] = merged


def _address(value: Any) -> dict[str, Any] | None:
    if value is UNSET:
        return None
    base = {"city": None, "country": None, "line1": None, "line2": None, "postal_code": None, "state": None}
    base.update({k: (None if v is UNSET else v) for k, v in value.items()})
    return base


def _shipping(value: Any) -> dict[str, Any] | None:
    if value is UNSET:
        return None
    return {
        "address": _address(value["address"]),
        "name": value["name"],
        "phone": None if value.get("phone") in (None, UNSET) else value["phone"],
    }


def _custom_fields(value: Any) -> list[dict[str, str]] | None:
    if value is UNSET or not value:
        return None
    return [{"name": f["name"], "value": f["value"]} for f in value]


def _live_customer(ctx: Context, customer_id: str, param: str = "id", status: int = 404) -> dict[str, Any]:
    customer = ctx.store.get("customer", customer_id)
    if customer is None or customer.get("deleted"):
        raise errors.resource_missing("customer", customer_id, param=param, status=status)
    return customer


def _invoice(ctx: Context, invoice_id: str, param: str = "id", status: int = 404) -> dict[str, Any]:
    invoice = ctx.store.get("invoice", invoice_id)
    if invoice is None:
        raise errors.resource_missing("invoice", invoice_id, param=param, status=status)
    return invoice


def _item(ctx: Context, item_id: str, param: str = "id", status: int = 404) -> dict[str, Any]:
    item = ctx.store.get("invoiceitem", item_id)
    if item is None:
        raise errors.resource_missing("invoiceitem", item_id, param=param, status=status)
    return item


def _items_of(ctx: Context, invoice_id: str) -> list[dict[str, Any]]:
    return ctx.store.items_of(invoice_id)


def _newest_first(objects: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(objects, key=lambda o: (o["created"], o["_seq"]), reverse=True)


def _matches_range(value: int | None, bounds: Mapping[str, int]) -> bool:
    if value is None:
        return False
    checks = {
        "eq": value == bounds.get("eq", value),
        "gt": value > bounds.get("gt", value - 1),
        "gte": value >= bounds.get("gte", value),
        "lt": value < bounds.get("lt", value + 1),
        "lte": value <= bounds.get("lte", value),
    }
    return all(checks[name] for name in bounds)


def _page(
    ordered: Sequence[dict[str, Any]], params: Mapping[str, Any], object_name: str, key: str = "id"
) -> tuple[list[dict[str, Any]], bool]:
    """Cursor paging as Stripe does it: `starting_after` / `ending_before` name an object in the list."""
    limit = params.get("limit", 10)
    if "starting_after" in params and "ending_before" in params:
        raise errors.parameters_exclusive("starting_after", "ending_before")
    ids = [o[key] for o in ordered]
    if "starting_after" in params:
        cursor = params["starting_after"]
        if cursor not in ids:
            raise errors.resource_missing(object_name, cursor, param="starting_after", status=400)
        rest = list(ordered[ids.index(cursor) + 1 :])
        return rest[:limit], len(rest) > limit
    if "ending_before" in params:
        cursor = params["ending_before"]
        if cursor not in ids:
            raise errors.resource_missing(object_name, cursor, param="ending_before", status=400)
        before = list(ordered[: ids.index(cursor)])
        return before[-limit:], len(before) > limit
    return list(ordered[:limit]), len(ordered) > limit


# --- expansion ---------------------------------------------------------------------------------------


def _expand(ctx: Context, body: dict[str, Any], expand: Sequence[str], is_list: bool) -> dict[str, Any]:
    for path in expand:
        parts = path.split(".")
        if is_list:
            if parts[0] != "data" or len(parts) < 2:
                raise errors.parameter_invalid("expand", f"This property cannot be expanded ({path}).")
            for obj in body["data"]:
                _expand_one(ctx, obj, parts[1:], path)
        elif parts == ["total_count"]:
            continue
        else:
            _expand_one(ctx, body, parts, path)
    return body


def _expand_one(ctx: Context, obj: dict[str, Any], parts: Sequence[str], path: str) -> None:
    name = parts[0]
    expandable = {("invoice", "customer"), ("invoiceitem", "customer"), ("invoiceitem", "invoice")}
    if (obj.get("object"), name) not in expandable or len(parts) > 2:
        raise errors.parameter_invalid("expand", f"This property cannot be expanded ({path}).")
    target_id = obj.get(name)
    if target_id is None:
        return
    if name == "customer":
        customer = ctx.store.get("customer", target_id)
        obj[name] = _customer_view(customer) if customer is not None else target_id
    else:
        invoice = ctx.store.get("invoice", target_id)
        obj[name] = _invoice_view(ctx, invoice) if invoice is not None else target_id


# --- customers ---------------------------------------------------------------------------------------


def _customer_view(customer: Mapping[str, Any]) -> dict[str, Any]:
    if customer.get("deleted"):
        return deleted_view("customer", customer["id"])
    return public(customer)


def _apply_customer_params(customer: dict[str, Any], params: Mapping[str, Any]) -> None:
    _set_scalars(
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
        customer["address"] = _address(params["address"])
    if "shipping" in params:
        customer["shipping"] = _shipping(params["shipping"])
    if "preferred_locales" in params:
        locales = params["preferred_locales"]
        customer["preferred_locales"] = [] if locales is UNSET else list(locales)
    if "tax_exempt" in params:
        customer["tax_exempt"] = "none" if params["tax_exempt"] is UNSET else params["tax_exempt"]
    if "invoice_settings" in params:
        settings = dict(customer["invoice_settings"])
        given = params["invoice_settings"]
        if "custom_fields" in given:
            settings["custom_fields"] = _custom_fields(given["custom_fields"])
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
        _apply_metadata(customer, params["metadata"])


def _index_customer(ctx: Context, customer: Mapping[str, Any] | None, customer_id: str) -> None:
    versions = ctx.store.search_versions.setdefault(customer_id, [])
    snapshot = None if customer is None else json.loads(json.dumps(public(customer), default=str))
    versions.append(SearchVersion(ctx.now + ctx.search_lag_seconds, snapshot))


def create_customer(ctx: Context, _ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    customer = new_customer(ctx.timestamp, ctx.store.next_seq())
    _apply_customer_params(customer, params)
    ctx.store.put("customer", customer)
    _index_customer(ctx, customer, customer["id"])
    return 200, _customer_view(customer)


def retrieve_customer(
    ctx: Context, ids: Sequence[str], _params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    customer = ctx.store.get("customer", ids[0])
    if customer is None:
        raise errors.resource_missing("customer", ids[0])
    return 200, _customer_view(customer)


def update_customer(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    customer = dict(_live_customer(ctx, ids[0]))
    _apply_customer_params(customer, params)
    ctx.store.put("customer", customer)
    _index_customer(ctx, customer, customer["id"])
    return 200, _customer_view(customer)


def delete_customer(ctx: Context, ids: Sequence[str], _params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    customer = _live_customer(ctx, ids[0])
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
        customers = [c for c in customers if _matches_range(c["created"], params["created"])]
    page, has_more = _page(_newest_first(customers), params, "customer")
    return 200, list_envelope("/v1/customers", [_customer_view(c) for c in page], has_more)


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


# --- invoices ----------------------------------------------------------------------------------------


def _recompute_totals(ctx: Context, invoice: dict[str, Any]) -> None:
    items = _items_of(ctx, invoice["id"])
    subtotal = sum(item["amount"] for item in items)
    exclusive, inclusive, total_taxes = tax_totals(items)
    invoice["subtotal"] = subtotal
    invoice["subtotal_excluding_tax"] = subtotal - inclusive
    invoice["total"] = subtotal + exclusive
    invoice["total_excluding_tax"] = subtotal - inclusive
    invoice["total_taxes"] = total_taxes
    amount_due = max(subtotal + exclusive + invoice["starting_balance"], 0)
    invoice["amount_due"] = amount_due
    invoice["amount_remaining"] = max(amount_due - invoice["amount_paid"], 0)


def _invoice_view(ctx: Context, invoice: Mapping[str, Any]) -> dict[str, Any]:
    view = public(invoice)
    items = _items_of(ctx, invoice["id"])
    view["lines"] = list_envelope(
        f"/v1/invoices/{invoice['id']}/lines",
        [line_item_view(item) for item in items[:EMBEDDED_LINES]],
        len(items) > EMBEDDED_LINES,
    )
    return view


def _require_draft(invoice: Mapping[str, Any], what: str) -> None:
    if invoice["status"] != "draft":
        raise errors.invoice_not_editable(
            f"You can only {what} draft invoices. This invoice ({invoice['id']}) is {invoice['status']}.",
        )


def _check_number_unique(ctx: Context, number: str, invoice_id: str | None) -> None:
    for other in ctx.store.objects["invoice"].values():
        if other["number"] == number and other["id"] != invoice_id:
            raise ApiError(
                400,
                f"Invoice number '{number}' is already in use by another invoice in this account "
                f"({other['id']}). Invoice numbers must be unique.",
                code="resource_already_exists",
                param="number",
            )


def _check_collection(invoice: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    if invoice["collection_method"] == "charge_automatically":
        for name in ("days_until_due", "due_date"):
            if params.get(name) is not None and params.get(name) is not UNSET:
                raise errors.parameter_invalid(
                    name,
                    f"You can only set `{name}` on invoices with `collection_method=send_invoice`; this "
                    "invoice uses `charge_automatically`.",
                )
    if "days_until_due" in params and "due_date" in params:
        raise errors.parameters_exclusive("days_until_due", "due_date")


def _apply_invoice_params(ctx: Context, invoice: dict[str, Any], params: Mapping[str, Any]) -> None:
    _set_scalars(
        invoice,
        params,
        (
            "auto_advance",
            "automatically_finalizes_at",
            "collection_method",
            "description",
            "footer",
            "statement_descriptor",
            "effective_at",
        ),
    )
    if "automatic_tax" in params and params["automatic_tax"]["enabled"]:
        raise errors.unsupported_parameter("automatic_tax[enabled]")
    if "custom_fields" in params:
        invoice["custom_fields"] = _custom_fields(params["custom_fields"])
    if "shipping_details" in params:
        invoice["shipping_details"] = _shipping(params["shipping_details"])
    if "number" in params:
        number = None if params["number"] is UNSET else params["number"]
        if number is not None:
            _check_number_unique(ctx, number, invoice["id"])
        invoice["number"] = number
    _check_collection(invoice, params)
    if invoice["collection_method"] == "charge_automatically":
        invoice["due_date"] = None
        invoice["_days_until_due"] = None
    if "days_until_due" in params:
        invoice["_days_until_due"] = params["days_until_due"]
        invoice["due_date"] = invoice["created"] + 86400 * params["days_until_due"]
    if "due_date" in params:
        invoice["_days_until_due"] = None
        invoice["due_date"] = params["due_date"]
    if invoice["collection_method"] == "send_invoice" and invoice["due_date"] is None:
        # Stripe falls back to the account's default payment terms (30 days) for send_invoice.
        invoice["_days_until_due"] = 30
        invoice["due_date"] = invoice["created"] + 86400 * 30
    if "metadata" in params:
        _apply_metadata(invoice, params["metadata"])


def create_invoice(ctx: Context, _ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if "customer" not in params:
        raise errors.parameter_missing("customer")
    customer = _live_customer(ctx, params["customer"], param="customer", status=400)
    currency = params.get("currency") or customer.get("currency") or ACCOUNT_CURRENCY
    invoice = new_invoice(ctx.timestamp, ctx.store.next_seq(), customer, currency)
    _apply_invoice_params(ctx, invoice, params)
    ctx.store.put("invoice", invoice)
    if params.get("pending_invoice_items_behavior") == "include":
        pending = [
            i
            for i in ctx.store.objects["invoiceitem"].values()
            if i["customer"] == customer["id"] and i["invoice"] is None and i["currency"] == currency
        ]
        if len(pending) > MAX_INVOICE_ITEMS:
            raise _too_many_items(invoice["id"])
        for item in sorted(pending, key=lambda i: i["_seq"]):
            ctx.store.put("invoiceitem", {**item, "invoice": invoice["id"]})
        _recompute_totals(ctx, invoice)
    return 200, _invoice_view(ctx, invoice)


def retrieve_invoice(ctx: Context, ids: Sequence[str], _params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, _invoice_view(ctx, _invoice(ctx, ids[0]))


_EDITABLE_WHEN_OPEN = {
    "auto_advance",
    "custom_fields",
    "days_until_due",
    "description",
    "due_date",
    "expand",
    "footer",
    "metadata",
    "statement_descriptor",
    "automatically_finalizes_at",
}


def update_invoice(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = dict(_invoice(ctx, ids[0]))
    status = invoice["status"]
    if status == "open":
        locked = sorted(set(params) - _EDITABLE_WHEN_OPEN)
        if locked:
            raise errors.invoice_not_editable(
                f"Finalized invoices can't be updated in this way: '{locked[0]}' can only be changed while "
                "the invoice is a draft.",
                param=locked[0],
            )
    elif status in ("paid", "void", "uncollectible"):
        locked = sorted(set(params) - {"metadata", "expand"})
        if locked:
            raise errors.invoice_not_editable(
                f"You can only update `metadata` on an invoice that is {status}.", param=locked[0]
            )
    _apply_invoice_params(ctx, invoice, params)
    ctx.store.put("invoice", invoice)
    return 200, _invoice_view(ctx, invoice)


def delete_invoice(ctx: Context, ids: Sequence[str], _params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = _invoice(ctx, ids[0])
    if invoice["status"] != "draft":
        raise errors.invoice_not_editable(
            f"You can only delete draft invoices. This invoice ({invoice['id']}) is {invoice['status']}; "
            "void it instead."
        )
    for item in _items_of(ctx, invoice["id"]):
        ctx.store.remove("invoiceitem", item["id"])
    ctx.store.remove("invoice", invoice["id"])
    return 200, deleted_view("invoice", invoice["id"])


def list_invoices(ctx: Context, _ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoices = list(ctx.store.objects["invoice"].values())
    for name in ("customer", "status", "collection_method"):
        if name in params:
            invoices = [i for i in invoices if i[name] == params[name]]
    for name in ("created", "due_date"):
        if name in params:
            invoices = [i for i in invoices if _matches_range(i[name], params[name])]
    page, has_more = _page(_newest_first(invoices), params, "invoice")
    return 200, list_envelope("/v1/invoices", [_invoice_view(ctx, i) for i in page], has_more)


def _next_number(ctx: Context, invoice: Mapping[str, Any]) -> str:
    customer = ctx.store.get("customer", invoice["customer"])
    prefix = customer["invoice_prefix"] if customer and not customer.get("deleted") else "EMU"
    sequence = customer["next_invoice_sequence"] if customer and not customer.get("deleted") else 1
    taken = {i["number"] for i in ctx.store.objects["invoice"].values() if i["number"]}
    while f"{prefix}-{sequence:04d}" in taken:
        sequence += 1
    if customer and not customer.get("deleted"):
        ctx.store.put("customer", {**customer, "next_invoice_sequence": sequence + 1})
    return f"{prefix}-{sequence:04d}"


def finalize_invoice(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = dict(_invoice(ctx, ids[0]))
    if invoice["status"] != "draft":
        raise errors.invoice_not_editable(
            "This invoice is already finalized, you can't re-finalize a non-draft invoice."
        )
    if "auto_advance" in params:
        invoice["auto_advance"] = params["auto_advance"]
    if invoice["number"] is None:
        invoice["number"] = _next_number(ctx, invoice)
    now = ctx.timestamp
    invoice["status"] = "open"
    invoice["status_transitions"] = {**invoice["status_transitions"], "finalized_at": now}
    if invoice["effective_at"] is None:
        invoice["effective_at"] = now
    if invoice.get("_days_until_due") is not None and invoice["collection_method"] == "send_invoice":
        invoice["due_date"] = now + 86400 * int(invoice["_days_until_due"])
    invoice["hosted_invoice_url"] = f"https://invoice.stripe.com/i/emulator/{invoice['id']}"
    invoice["invoice_pdf"] = f"https://pay.stripe.com/invoice/emulator/{invoice['id']}/pdf"
    invoice["ending_balance"] = 0
    _recompute_totals(ctx, invoice)
    if invoice["amount_due"] == 0:
        # Stripe marks an invoice with nothing to pay as paid the moment it is finalized.
        invoice["status"] = "paid"
        invoice["status_transitions"]["paid_at"] = now
    ctx.store.put("invoice", invoice)
    return 200, _invoice_view(ctx, invoice)


def void_invoice(ctx: Context, ids: Sequence[str], _params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = dict(_invoice(ctx, ids[0]))
    if invoice["status"] == "draft":
        raise errors.invoice_not_editable(
            "You can only void invoices that have been finalized. Delete a draft invoice instead."
        )
    if invoice["status"] in ("paid", "void"):
        raise errors.invoice_not_editable(f"You cannot void an invoice that is {invoice['status']}.")
    invoice["status"] = "void"
    invoice["status_transitions"] = {**invoice["status_transitions"], "voided_at": ctx.timestamp}
    invoice["amount_remaining"] = 0
    ctx.store.put("invoice", invoice)
    return 200, _invoice_view(ctx, invoice)


# --- invoice items and lines -------------------------------------------------------------------------


def _too_many_items(invoice_id: str) -> ApiError:
    return errors.parameter_invalid(
        "invoice",
        f"An invoice can have at most {MAX_INVOICE_ITEMS} invoice items; {invoice_id} would have more.",
    )


def _check_amount(amount: int, currency: str, param: str) -> None:
    if abs(amount) > MAX_AMOUNT:
        raise ApiError(
            400,
            "Amount must be no more than 99,999,999 in the currency's minor unit.",
            code="amount_too_large",
            param=param,
        )
    if currency in THREE_DECIMAL and amount % 10 != 0:
        raise errors.parameter_invalid(
            param,
            f"Invalid amount for {currency.upper()}: for three-decimal currencies the last digit of the "
            f"amount in minor units must be 0 (got {amount}).",
        )


def _pricing(
    ctx: Context, given: Mapping[str, Any], line: Mapping[str, Any], currency: str, param: str
) -> tuple[Decimal, Decimal, dict[str, Any]] | None:
    """Work out (unit amount, quantity, pricing) from a create or update; None when no amount is touched."""
    has_amount = "amount" in given
    price_data = given.get("price_data")
    top_unit = given.get("unit_amount_decimal")
    if "pricing" in given and given["pricing"].get("price"):
        raise errors.resource_missing(
            "price", given["pricing"]["price"], param=_p(param, "pricing[price]"), status=400
        )
    if has_amount and price_data is not None:
        raise errors.parameters_exclusive(_p(param, "amount"), _p(param, "price_data"))
    if has_amount and top_unit is not None:
        raise errors.parameters_exclusive(_p(param, "amount"), _p(param, "unit_amount_decimal"))
    if "quantity" in given and "quantity_decimal" in given:
        raise errors.parameters_exclusive(_p(param, "quantity"), _p(param, "quantity_decimal"))
    quantity_decimal = "quantity_decimal" in given
    if "quantity" in given:
        quantity = Decimal(given["quantity"])
    elif quantity_decimal:
        quantity = given["quantity_decimal"]
    else:
        quantity = (
            Decimal(line["quantity_decimal"]) if line.get("quantity_decimal") is not None else Decimal(1)
        )
    price_details: dict[str, Any] | None = None
    if has_amount:
        if quantity != 1:
            raise errors.parameter_invalid(
                _p(param, "quantity"),
                "When `amount` is given, `quantity` must be 1 (or left out); give `unit_amount_decimal` "
                "and `quantity` instead.",
            )
        unit = Decimal(given["amount"])
    elif price_data is not None:
        if price_data["currency"] != currency:
            raise _currency_mismatch(price_data["currency"], currency, _p(param, "price_data[currency]"))
        unit = unit_amount(price_data, lambda name: _p(param, f"price_data[{name}]"))
        if "product" in price_data and "product_data" in price_data:
            raise errors.parameters_exclusive(
                _p(param, "price_data[product]"), _p(param, "price_data[product_data]")
            )
        if "product" in price_data:
            raise errors.resource_missing(
                "product", price_data["product"], param=_p(param, "price_data[product]"), status=400
            )
        if "product_data" not in price_data:
            raise errors.parameter_missing(_p(param, "price_data[product_data]"))
        price_details = {"price": new_id("price_"), "product": new_id("prod_", 14)}
    elif top_unit is not None:
        unit = top_unit
    elif "quantity" in given or quantity_decimal:
        # Only the quantity changes: keep the unit amount.
        if line.get("pricing") is None:
            return None
        unit = Decimal(line["pricing"]["unit_amount_decimal"])
        price_details = line["pricing"].get("price_details")
    else:
        return None
    pricing: dict[str, Any] = {
        "price_details": price_details,
        "type": "price_details",
        "unit_amount_decimal": decimal_text(unit),
    }
    if price_details is None:
        pricing = {"type": "price_details", "unit_amount_decimal": decimal_text(unit)}
    return unit, quantity, pricing


def unit_amount(given: Mapping[str, Any], name: Callable[[str], str]) -> Decimal:
    """A price's unit amount in minor units: `unit_amount` or `unit_amount_decimal`, exactly one
    (`name` turns a field into the parameter path an error names)."""
    if "unit_amount" in given and "unit_amount_decimal" in given:
        raise errors.parameters_exclusive(name("unit_amount"), name("unit_amount_decimal"))
    if "unit_amount" in given:
        return Decimal(given["unit_amount"])
    if "unit_amount_decimal" in given:
        return Decimal(given["unit_amount_decimal"])
    raise errors.parameter_missing(name("unit_amount"))


def _p(prefix: str, name: str) -> str:
    """A name inside a list entry: ("lines[0]", "price_data[currency]") → lines[0][price_data][currency]."""
    if not prefix:
        return name
    head, bracket, rest = name.partition("[")
    return f"{prefix}[{head}]" + (bracket + rest if bracket else "")


def _currency_mismatch(given: str, expected: str, param: str) -> ApiError:
    return errors.parameter_invalid(
        param,
        f"The currency of this invoice item ({given}) must match the currency of the invoice ({expected}).",
    )


def _apply_line(
    ctx: Context, item: dict[str, Any], given: Mapping[str, Any], param: str, creating: bool
) -> None:
    """Apply create/update params to an invoice item; amounts are recomputed, exactly, in minor units."""
    priced = _pricing(ctx, given, item, item["currency"], param)
    if priced is None and creating:
        raise errors.parameter_missing(_p(param, "amount"))
    if priced is not None:
        unit, quantity, pricing = priced
        amount = line_amount(unit, quantity)
        _check_amount(amount, item["currency"], _p(param, "amount"))
        item["amount"] = amount
        item["net_amount"] = amount
        item["pricing"] = pricing
        whole = quantity == quantity.to_integral_value()
        item["quantity"] = int(quantity) if whole else None
        item["quantity_decimal"] = decimal_text(quantity)
    if "description" in given:
        item["description"] = given["description"]
    elif creating and given.get("price_data", {}).get("product_data"):
        item["description"] = given["price_data"]["product_data"]["name"]
    if "discountable" in given:
        item["discountable"] = given["discountable"]
    if "period" in given:
        if given["period"]["end"] < given["period"]["start"]:
            raise errors.parameter_invalid(
                _p(param, "period[end]"), "The period end must be on or after its start."
            )
        item["period"] = {"end": given["period"]["end"], "start": given["period"]["start"]}
    if "metadata" in given:
        _apply_metadata(item, given["metadata"], _p(param, "metadata"))
    if "tax_amounts" in given:
        apply_tax_amounts(item, given["tax_amounts"], param)


def _attach_check(ctx: Context, invoice: Mapping[str, Any], adding: int) -> None:
    if len(_items_of(ctx, invoice["id"])) + adding > MAX_INVOICE_ITEMS:
        raise _too_many_items(invoice["id"])


def create_item(ctx: Context, _ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = None
    if "invoice" in params:
        invoice = _invoice(ctx, params["invoice"], param="invoice", status=400)
        _require_draft(invoice, "add invoice items to")
    if "customer" in params:
        customer = _live_customer(ctx, params["customer"], param="customer", status=400)
    elif invoice is not None:
        customer = _live_customer(ctx, invoice["customer"], param="invoice", status=400)
    else:
        raise errors.parameter_missing("customer")
    if invoice is not None and invoice["customer"] != customer["id"]:
        raise errors.parameter_invalid(
            "invoice", f"The invoice {invoice['id']} belongs to another customer than {customer['id']}."
        )
    currency = (
        params.get("currency") or (invoice["currency"] if invoice else None) or customer.get("currency")
    )
    if currency is None:
        currency = params.get("price_data", {}).get("currency") or ACCOUNT_CURRENCY
    if invoice is not None and currency != invoice["currency"]:
        raise _currency_mismatch(currency, invoice["currency"], "currency")
    if invoice is not None:
        _attach_check(ctx, invoice, 1)
    item = new_invoice_item(ctx.timestamp, ctx.store.next_seq(), customer["id"], currency)
    item["invoice"] = invoice["id"] if invoice else None
    _apply_line(ctx, item, params, "", creating=True)
    ctx.store.put("invoiceitem", item)
    if invoice is not None:
        updated = dict(invoice)
        _recompute_totals(ctx, updated)
        ctx.store.put("invoice", updated)
    return 200, public(item)


def retrieve_item(ctx: Context, ids: Sequence[str], _params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, public(_item(ctx, ids[0]))


def _owning_draft(ctx: Context, item: Mapping[str, Any]) -> dict[str, Any] | None:
    if item["invoice"] is None:
        return None
    invoice = _invoice(ctx, item["invoice"])
    if invoice["status"] != "draft":
        raise errors.invoice_not_editable(
            f"The invoice item {item['id']} is on invoice {invoice['id']}, which is {invoice['status']}; "
            "the items of a finalized invoice can no longer be changed."
        )
    return dict(invoice)


def update_item(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    item = dict(_item(ctx, ids[0]))
    invoice = _owning_draft(ctx, item)
    _apply_line(ctx, item, params, "", creating=False)
    ctx.store.put("invoiceitem", item)
    if invoice is not None:
        _recompute_totals(ctx, invoice)
        ctx.store.put("invoice", invoice)
    return 200, public(item)


def delete_item(ctx: Context, ids: Sequence[str], _params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    item = _item(ctx, ids[0])
    invoice = _owning_draft(ctx, item)
    ctx.store.remove("invoiceitem", item["id"])
    if invoice is not None:
        _recompute_totals(ctx, invoice)
        ctx.store.put("invoice", invoice)
    return 200, deleted_view("invoiceitem", item["id"])


def list_items(ctx: Context, _ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    items = list(ctx.store.objects["invoiceitem"].values())
    for name in ("customer", "invoice"):
        if name in params:
            items = [i for i in items if i[name] == params[name]]
    if "pending" in params:
        items = [i for i in items if (i["invoice"] is None) == params["pending"]]
    if "created" in params:
        items = [i for i in items if _matches_range(i["date"], params["created"])]
    ordered = sorted(items, key=lambda i: (i["date"], i["_seq"]), reverse=True)
    page, has_more = _page(ordered, params, "invoiceitem")
    return 200, list_envelope("/v1/invoiceitems", [public(i) for i in page], has_more)


def _item_by_line(ctx: Context, invoice: Mapping[str, Any], line_id: str, param: str) -> dict[str, Any]:
    for item in _items_of(ctx, invoice["id"]):
        if line_id in (item["_line_id"], item["id"]):
            return dict(item)
    raise errors.resource_missing("line item", line_id, param=param, status=400 if param != "id" else 404)


def _bulk_prelude(ctx: Context, ids: Sequence[str], params: Mapping[str, Any], what: str) -> dict[str, Any]:
    invoice = dict(_invoice(ctx, ids[0]))
    _require_draft(invoice, what)
    if "lines" not in params or not params["lines"]:
        raise errors.parameter_missing("lines")
    return invoice


def _bulk_finish(
    ctx: Context, invoice: dict[str, Any], params: Mapping[str, Any]
) -> tuple[int, dict[str, Any]]:
    if "invoice_metadata" in params:
        _apply_metadata(invoice, params["invoice_metadata"], "invoice_metadata")
    _recompute_totals(ctx, invoice)
    ctx.store.put("invoice", invoice)
    return 200, _invoice_view(ctx, invoice)


def add_lines(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = _bulk_prelude(ctx, ids, params, "add lines to")
    _attach_check(ctx, invoice, len(params["lines"]))
    staged: list[dict[str, Any]] = []
    for index, line in enumerate(params["lines"]):
        param = f"lines[{index}]"
        if "invoice_item" in line:
            item = dict(_item(ctx, line["invoice_item"], param=_p(param, "[invoice_item]"), status=400))
            if item["invoice"] is not None:
                raise errors.parameter_invalid(
                    _p(param, "[invoice_item]"),
                    f"The invoice item {item['id']} is already attached to invoice {item['invoice']}.",
                )
            if item["customer"] != invoice["customer"]:
                raise errors.parameter_invalid(
                    _p(param, "[invoice_item]"), f"The invoice item {item['id']} belongs to another customer."
                )
            if item["currency"] != invoice["currency"]:
                raise _currency_mismatch(item["currency"], invoice["currency"], _p(param, "[invoice_item]"))
            _apply_line(
                ctx, item, {k: v for k, v in line.items() if k != "invoice_item"}, param, creating=False
            )
        else:
            item = new_invoice_item(
                ctx.timestamp, ctx.store.next_seq(), invoice["customer"], invoice["currency"]
            )
            _apply_line(ctx, item, line, param, creating=True)
        item["invoice"] = invoice["id"]
        staged.append(item)
    for item in staged:  # all lines checked before any is stored: the call is all or nothing
        ctx.store.put("invoiceitem", item)
    return _bulk_finish(ctx, invoice, params)


def update_lines(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = _bulk_prelude(ctx, ids, params, "update lines of")
    staged = []
    for index, line in enumerate(params["lines"]):
        param = f"lines[{index}]"
        item = _item_by_line(ctx, invoice, line["id"], _p(param, "[id]"))
        _apply_line(ctx, item, {k: v for k, v in line.items() if k != "id"}, param, creating=False)
        staged.append(item)
    for item in staged:
        ctx.store.put("invoiceitem", item)
    return _bulk_finish(ctx, invoice, params)


def remove_lines(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = _bulk_prelude(ctx, ids, params, "remove lines from")
    staged = [
        (line["behavior"], _item_by_line(ctx, invoice, line["id"], f"lines[{index}][id]"))
        for index, line in enumerate(params["lines"])
    ]
    for behavior, item in staged:
        if behavior == "delete":
            ctx.store.remove("invoiceitem", item["id"])
        else:
            ctx.store.put("invoiceitem", {**item, "invoice": None})
    return _bulk_finish(ctx, invoice, params)


def list_lines(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = _invoice(ctx, ids[0])
    lines = [line_item_view(item) for item in _items_of(ctx, invoice["id"])]
    page, has_more = _page(lines, params, "line item")
    return 200, list_envelope(f"/v1/invoices/{invoice['id']}/lines", page, has_more)


def update_line(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = dict(_invoice(ctx, ids[0]))
    _require_draft(invoice, "update lines of")
    item = _item_by_line(ctx, invoice, ids[1], "id")
    _apply_line(ctx, item, {k: v for k, v in params.items() if k != "expand"}, "", creating=False)
    ctx.store.put("invoiceitem", item)
    _recompute_totals(ctx, invoice)
    ctx.store.put("invoice", invoice)
    return 200, line_item_view(item)


def retrieve_balance(
    _ctx: Context, _ids: Sequence[str], _params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    return 200, balance_view()


def expand_result(ctx: Context, body: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    expand = params.get("expand") or []
    if not expand or "error" in body or body.get("deleted"):
        return body
    return _expand(ctx, body, expand, body.get("object") in ("list", "search_result"))


_ID = r"([A-Za-z0-9_]+)"


def _route(method: str, path: str, schema: Mapping[str, Field], handler: Handler, **kw: Any) -> Route:
    pattern = re.compile("^" + path.replace("{id}", _ID) + "$")
    return Route(method, pattern, schema, handler, template=path, **kw)


ROUTES: tuple[Route, ...] = (
    _route("GET", "/v1/balance", RETRIEVE, retrieve_balance),
    _route("POST", "/v1/customers", CUSTOMER_CREATE, create_customer),
    _route("GET", "/v1/customers", CUSTOMER_LIST, list_customers),
    _route(
        "GET", "/v1/customers/search", CUSTOMER_SEARCH, search_customers, required=("query",), search=True
    ),
    _route("GET", "/v1/customers/{id}", RETRIEVE, retrieve_customer),
    _route("POST", "/v1/customers/{id}", CUSTOMER_UPDATE, update_customer),
    _route("DELETE", "/v1/customers/{id}", {}, delete_customer),
    _route("POST", "/v1/invoices", INVOICE_CREATE, create_invoice),
    _route("GET", "/v1/invoices", INVOICE_LIST, list_invoices),
    _route("GET", "/v1/invoices/{id}", RETRIEVE, retrieve_invoice),
    _route("POST", "/v1/invoices/{id}", INVOICE_UPDATE, update_invoice),
    _route("DELETE", "/v1/invoices/{id}", {}, delete_invoice),
    _route("POST", "/v1/invoices/{id}/finalize", INVOICE_FINALIZE, finalize_invoice),
    _route("POST", "/v1/invoices/{id}/void", INVOICE_VOID, void_invoice),
    _route("POST", "/v1/invoices/{id}/add_lines", ADD_LINES, add_lines, required=("lines",)),
    _route("POST", "/v1/invoices/{id}/update_lines", UPDATE_LINES, update_lines, required=("lines",)),
    _route("POST", "/v1/invoices/{id}/remove_lines", REMOVE_LINES, remove_lines, required=("lines",)),
    _route("GET", "/v1/invoices/{id}/lines", LINES_LIST, list_lines),
    _route("POST", "/v1/invoices/{id}/lines/{id}", LINE_UPDATE, update_line),
    _route("POST", "/v1/invoiceitems", ITEM_CREATE, create_item),
    _route("GET", "/v1/invoiceitems", ITEM_LIST, list_items),
    _route("GET", "/v1/invoiceitems/{id}", RETRIEVE, retrieve_item),
    _route("POST", "/v1/invoiceitems/{id}", ITEM_UPDATE, update_item),
    _route("DELETE", "/v1/invoiceitems/{id}", {}, delete_item),
)
