"""An A/R document's Stripe draft-invoice header: number, dates, metadata; JDE's tax only.

Why: for `ar_invoice` the invoice *is* JDE's posted document, so its number comes from DOC/DCT/KCO
(template, default `{DCT}-{DOC}-{KCO}`; the order-profile names DOCO/DCTO/KCOO work too),
`effective_at` is the invoice date DIVJ at local midnight, and with `send_invoice` the due date is
DDJ (`due_date`, not `days_until_due`: JDE already decided it). Stripe Tax or default tax rates
would tax JDE's already taxed lines again, so they are refused (`mapping/tax.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from jde_stripe_pipeline.jde.ar_documents import ArDocument
from jde_stripe_pipeline.mapping.errors import MappingError
from jde_stripe_pipeline.mapping.invoices import local_midnight_timestamp
from jde_stripe_pipeline.mapping.limits import INVOICE_NUMBER_MAX_LENGTH
from jde_stripe_pipeline.mapping.tax import refuse_conflicting_tax

DEFAULT_AR_NUMBER_TEMPLATE = "{DCT}-{DOC}-{KCO}"


class ArInvoiceError(MappingError):
    """The document cannot become a Stripe invoice header (names the document and field)."""


def ar_invoice_header(
    document: ArDocument,
    *,
    zone: ZoneInfo,
    collection_method: str = "send_invoice",
    number_template: str | None = DEFAULT_AR_NUMBER_TEMPLATE,
    automatic_tax: bool = False,
    default_tax_rates: Sequence[str] = (),
) -> dict[str, object]:
    """Invoice-create params (without `customer`, which the engine fills in)."""
    name = str(document.key)
    refuse_conflicting_tax(name, automatic_tax=automatic_tax, default_tax_rates=default_tax_rates)
    key = document.key
    params: dict[str, object] = {
        "auto_advance": False,
        "collection_method": collection_method,
        "currency": document.currency,
        "metadata": {
            "jde_kcoo": key.kcoo,
            "jde_doco": str(key.doco),
            "jde_dcto": key.dcto,
            "jde_sfxo": key.sfxo,
            "jde_an8": str(document.customer),
            "jde_source": "F03B11",
        },
    }
    if document.invoice_date is None:
        raise ArInvoiceError(f"{name}: F03B11.RPDIVJ (invoice date) is empty")
    params["effective_at"] = local_midnight_timestamp(document.invoice_date, zone)
    if collection_method == "send_invoice":
        if document.due_date is None:
            raise ArInvoiceError(f"{name}: F03B11.RPDDJ (due date) is empty; send_invoice needs it")
        params["due_date"] = local_midnight_timestamp(document.due_date, zone)
    if number_template is not None:
        values = {"DOC": key.doco, "DCT": key.dcto, "KCO": key.kcoo}
        values |= {"DOCO": key.doco, "DCTO": key.dcto, "KCOO": key.kcoo, "AN8": document.customer}
        number = number_template.format(**values).strip()
        if not number or len(number) > INVOICE_NUMBER_MAX_LENGTH:
            raise ArInvoiceError(
                f"{name}: number {number!r} from template {number_template!r} is empty or over "
                f"{INVOICE_NUMBER_MAX_LENGTH} characters"
            )
        params["number"] = number
    return params
