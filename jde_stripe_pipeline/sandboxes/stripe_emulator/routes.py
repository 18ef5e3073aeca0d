"""Every `/v1` route the emulator serves, in the order they are matched: the core endpoints, credit
notes, paying out of band."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import credit_notes, invoice_payments
from .customers import (
    create_customer,
    delete_customer,
    list_customers,
    retrieve_customer,
    search_customers,
    update_customer,
)
from .endpoint import Context, Route, make_route
from .invoice_items import create_item, delete_item, list_items, retrieve_item, update_item
from .invoice_lines import add_lines, list_lines, remove_lines, update_line, update_lines
from .invoices import (
    create_invoice,
    delete_invoice,
    finalize_invoice,
    list_invoices,
    retrieve_invoice,
    update_invoice,
    void_invoice,
)
from .objects import balance_view
from .schemas import (
    ADD_LINES,
    CUSTOMER_CREATE,
    CUSTOMER_LIST,
    CUSTOMER_SEARCH,
    CUSTOMER_UPDATE,
    INVOICE_CREATE,
    INVOICE_FINALIZE,
    INVOICE_LIST,
    INVOICE_UPDATE,
    INVOICE_VOID,
    ITEM_CREATE,
    ITEM_LIST,
    ITEM_UPDATE,
    LINE_UPDATE,
    LINES_LIST,
    REMOVE_LINES,
    RETRIEVE,
    UPDATE_LINES,
)


def retrieve_balance(
    _ctx: Context, _ids: Sequence[str], _params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    return 200, balance_view()


ROUTES: tuple[Route, ...] = (
    make_route("GET", "/v1/balance", RETRIEVE, retrieve_balance),
    make_route("POST", "/v1/customers", CUSTOMER_CREATE, create_customer),
    make_route("GET", "/v1/customers", CUSTOMER_LIST, list_customers),
    make_route(
        "GET", "/v1/customers/search", CUSTOMER_SEARCH, search_customers, required=("query",), search=True
    ),
    make_route("GET", "/v1/customers/{id}", RETRIEVE, retrieve_customer),
    make_route("POST", "/v1/customers/{id}", CUSTOMER_UPDATE, update_customer),
    make_route("DELETE", "/v1/customers/{id}", {}, delete_customer),
    make_route("POST", "/v1/invoices", INVOICE_CREATE, create_invoice),
    make_route("GET", "/v1/invoices", INVOICE_LIST, list_invoices),
    make_route("GET", "/v1/invoices/{id}", RETRIEVE, retrieve_invoice),
    make_route("POST", "/v1/invoices/{id}", INVOICE_UPDATE, update_invoice),
    make_route("DELETE", "/v1/invoices/{id}", {}, delete_invoice),
    make_route("POST", "/v1/invoices/{id}/finalize", INVOICE_FINALIZE, finalize_invoice),
    make_route("POST", "/v1/invoices/{id}/void", INVOICE_VOID, void_invoice),
    make_route("POST", "/v1/invoices/{id}/add_lines", ADD_LINES, add_lines, required=("lines",)),
    make_route("POST", "/v1/invoices/{id}/update_lines", UPDATE_LINES, update_lines, required=("lines",)),
    make_route("POST", "/v1/invoices/{id}/remove_lines", REMOVE_LINES, remove_lines, required=("lines",)),
    make_route("GET", "/v1/invoices/{id}/lines", LINES_LIST, list_lines),
    make_route("POST", "/v1/invoices/{id}/lines/{id}", LINE_UPDATE, update_line),
    make_route("POST", "/v1/invoiceitems", ITEM_CREATE, create_item),
    make_route("GET", "/v1/invoiceitems", ITEM_LIST, list_items),
    make_route("GET", "/v1/invoiceitems/{id}", RETRIEVE, retrieve_item),
    make_route("POST", "/v1/invoiceitems/{id}", ITEM_UPDATE, update_item),
    make_route("DELETE", "/v1/invoiceitems/{id}", {}, delete_item),
    *credit_notes.ROUTES,
    *invoice_payments.ROUTES,
)


def match_route(method: str, path: str) -> tuple[Route, tuple[str, ...]] | None:
    for route in ROUTES:
        if route.method == method:
            match = route.pattern.match(path)
            if match is not None:
                return route, match.groups()
    return None
