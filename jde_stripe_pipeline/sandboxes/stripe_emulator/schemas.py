"""The `/v1` request schemas: what the SDK's params TypedDicts allow; what we do not model is refused
loudly."""

from __future__ import annotations

from .forms import Arr, Bool, Currency, Dec, Enum, Field, Int, IntOrRange, Metadata, Obj, Str, Unsupported
from .taxes import TAX_AMOUNTS

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
