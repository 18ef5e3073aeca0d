"""A faithful, stateful Stripe emulator (customers, one-off draft invoices, invoice items, balance).

Served over real HTTP on loopback and driven with the official `stripe` SDK; strict where Stripe is strict.

Departures from Stripe, on purpose or by necessity (each named so nobody mistakes it for Stripe's word):
- Products, prices, coupons, tax rates, payment methods do not exist: `price_data[product]`, `pricing[price]`
  answer `resource_missing`; parameters for features not modelled (taxes, discounts, payment settings,
  test clocks, ...) answer 400 naming the parameter instead of being silently ignored.
- Error texts follow Stripe's known messages; where Stripe's exact text or code is not published
  (metadata limits, three-decimal amounts, days_until_due with charge_automatically, the 250-item cap,
  duplicate invoice number → `resource_already_exists`), the text is ours and documented in api.py.
- All API keys belong to one account: idempotency keys are per account, rate limits per API key.
- Line amounts are `quantity × unit_amount_decimal` rounded half up to a whole minor unit.
- `send_invoice` without `days_until_due`/`due_date` falls back to 30 days (Stripe's default terms).
- Deleting a draft invoice deletes its invoice items.
- Search: the index lags writes by `search_lag_seconds`; query syntax `field:'v'`, `field~'v'`, `-field`,
  `metadata['k']:'v'`, `created>n`, AND/OR (not mixed), at most 10 clauses; pages are opaque offsets.
- A 500 injected by `fail_rate` is saved for idempotency and carries `Stripe-Should-Retry: false`, as the
  SDK expects of Stripe's 500s; `unavailable_rate` 503s happen before the idempotency layer.

- Object shapes follow Stripe's OpenAPI spec (spec3.subset.json, 2026-07-29.dahlia) where it and the older
  fixtures3.json differ (checked by test_shapes): no `invoice.subscription` (a one-off invoice's `parent`
  is null), `amount_paid_off_stripe` always present, unset `business_name`/`individual_name` absent.
  Left out because nothing here fills them: expand-only customer fields (`cash_balance`,
  `invoice_credit_balance`, `sources`, `subscriptions`, `tax`, `tax_ids`), the invoice's expandable
  `confirmation_secret` / `payments` and subscription-only `threshold_reason`, and the invoice item's
  `proration_details` (not transcribed in the spec extract).

Where localstripe (the public fake, compared in the tests) differs, we follow Stripe's documentation:
- lists: Stripe returns newest first (localstripe: oldest first) and no `total_count` unless expanded;
- customers: no `account_balance` / `business_vat_id` (removed from the API) and no embedded `sources`,
  `subscriptions`, `tax_ids` (expand-only since 2020-08-27); `balance`, `invoice_prefix`,
  `next_invoice_sequence`, `tax_exempt`, `test_clock`, ... present as in fixtures3.json; unset address
  parts are nulls; `currency` stays null until set (localstripe picks one);
- `""` unsets a field and removes a metadata key (localstripe stores the empty strings);
- localstripe has no one-off draft invoices, add_lines, idempotency, or search at all.
"""

from .server import API_VERSION, DEFAULT_API_KEY, StripeEmulator, StripeEmulatorConfig

__all__ = ["API_VERSION", "DEFAULT_API_KEY", "StripeEmulator", "StripeEmulatorConfig"]
