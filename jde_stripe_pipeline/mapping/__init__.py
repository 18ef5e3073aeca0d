"""Pure functions: typed JDE records → the exact Stripe requests. No I/O.

The public face (everything the sync engine needs) is re-exported here.
"""

from jde_stripe_pipeline.mapping.config import (
    CustomerMappingConfig,
    CustomField,
    InvoiceMappingConfig,
)
from jde_stripe_pipeline.mapping.customers import map_customer
from jde_stripe_pipeline.mapping.errors import (
    AmountGranularityError,
    InexactAmountError,
    MappingConfigError,
    MappingError,
    MissingCustomerError,
    MoneyError,
    UnknownCurrencyError,
)
from jde_stripe_pipeline.mapping.failures import MappingFailure
from jde_stripe_pipeline.mapping.hashing import content_hash
from jde_stripe_pipeline.mapping.idempotency import idempotency_key
from jde_stripe_pipeline.mapping.invoices import (
    ExpectedInvoiceFigures,
    expected_invoice_figures,
    map_invoice,
)
from jde_stripe_pipeline.mapping.money import from_minor_units, to_minor_units
from jde_stripe_pipeline.mapping.requests import (
    CustomerRequest,
    DeleteDraftInvoice,
    InvoiceLineRequest,
    InvoiceRequest,
    invoice_total_minor,
)

__all__ = [
    "AmountGranularityError",
    "CustomField",
    "CustomerMappingConfig",
    "CustomerRequest",
    "DeleteDraftInvoice",
    "ExpectedInvoiceFigures",
    "InexactAmountError",
    "InvoiceLineRequest",
    "InvoiceMappingConfig",
    "InvoiceRequest",
    "MappingConfigError",
    "MappingError",
    "MappingFailure",
    "MissingCustomerError",
    "MoneyError",
    "UnknownCurrencyError",
    "content_hash",
    "expected_invoice_figures",
    "from_minor_units",
    "idempotency_key",
    "invoice_total_minor",
    "map_customer",
    "map_invoice",
    "to_minor_units",
]
