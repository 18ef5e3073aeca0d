"""A faithful, stateful Stripe emulator (customers, one-off draft invoices, invoice items, credit
notes, balance).

Served over real HTTP on loopback and driven with the official `stripe` SDK; strict where Stripe is strict.

Departures from Stripe, on purpose or by necessity (each named so nobody mistakes it for Stripe's word):
- Products, prices, coupons, tax rates, payment methods do not exist: `price_data[product]`, `pricing[price]`
  answer `resource_missing`; parameters for features not modelled (taxes, discounts, payment settings,
  test clocks, ...) answer 400 naming the parameter instead of being silently ignored. Exception: line
  `tax_amounts` (tax computed outside Stripe) are taken and totalled, see `taxes.py` for its departures.
- Credit notes (`credit_notes.py`, which lists its own departures): create on open/paid invoices,
  retrieve, list (by invoice or customer), list lines; no void, preview or update. An invoice is paid
  only out of band (`POST /v1/invoices/{id}/pay` with `paid_out_of_band`, `invoice_payments.py`).
- Error texts follow Stripe's known messages; where Stripe's exact text or code is not published
  (metadata limits, three-decimal amounts, days_until_due with charge_automatically, the 250-item cap,
  duplicate invoice number → `resource_already_exists`), the text is ours, written where it is raised
  (metadata in params.py, amounts in pricing.py, the rest in invoices.py).
- Accounts: `key_accounts` maps a key to an account (default: every key in `acct_emulator`; a rolled key
  stays in its account). Each account holds its own objects, idempotency keys and search index, as Stripe
  keeps them: an id of another account answers 404 `resource_missing`, and two accounts may use the same
  idempotency key. Object ids stay unique across accounts (random, as Stripe's). Connect:
  `connected_accounts` maps a connected account id to its platform's account; the platform's key with
  `Stripe-Account: acct_…` acts on that account (its objects, keys and limits). `Stripe-Account` with a
  key whose account is no platform answers 403 with Stripe's text; a platform's key naming an account
  not connected to it answers 403 with Stripe's text and the code `account_invalid` (ours: the code is
  not in the shared reference). Ours too: a Connect request counts against the connected account's
  limiters, not the platform's (Stripe does not publish which), and an account is not an object
  (no `/v1/accounts`).
- Line amounts are `quantity × unit_amount_decimal` rounded half up to a whole minor unit.
- `send_invoice` without `days_until_due`/`due_date` falls back to 30 days (Stripe's default terms).
- Deleting a draft invoice deletes its invoice items.
- Search: the index lags writes by `search_lag_seconds`; query syntax `field:'v'`, `field~'v'`, `-field`,
  `metadata['k']:'v'`, `created>n`, AND/OR (not mixed), at most 10 clauses; pages are opaque offsets.
- Limits (`limits.py`), per account. Profiles: `test` (global 25/s, each endpoint — method + path template
  — 25/s, search 20/s, 20 in flight), `live` (global 100/s, otherwise the same), `off`, and `default`:
  the emulator's old behaviour (global 25/s and search 20/s only), which is no Stripe mode; each number
  can be set alone (`rate_limit_per_second`, `endpoint_rate_limit_per_second`,
  `search_rate_limit_per_second`, `concurrency_limit`). Ours, not Stripe's word: the in-flight cap of 20
  (Stripe publishes none) and one cap per account over all endpoints (no per-endpoint concurrency);
  buckets that hold one second's worth (Stripe's burst allowance is unpublished); a refused request
  spends the tokens of the checks it passed (global before endpoint before in-flight); unknown URLs
  count against the global rate only; 401s before any limiter; the admin API is never limited.
  Every limiter answers the same 429 (`invalid_request_error`, `rate_limit`, Stripe's message, no
  `Retry-After`, no `Stripe-Should-Retry`) with `Stripe-Rate-Limited-Reason` `global-rate`,
  `endpoint-rate` (search too) or `global-concurrency`: that header is not in the shared reference
  (recalled from docs.stripe.com/rate-limits), so clients must not depend on it. Not modelled: Stripe
  lowering limits under abuse, `lock_timeout` 429s, per-object limits (Payment Intents, Files, meters).
- Latency (`latency.py`): off by default. `latency="stripe"` samples a log-normal per endpoint (reads 100
  ms, writes 300 ms median, p99 = 4 × median: our estimate; Stripe says only "a few hundred ms, long
  tail"), seeded (`latency_seed`) and capped at p99 × ratio; `latency_ms` adds a fixed delay. The delay
  is served after validation and before the endpoint runs (400s, 404s and 429s answer at once) and does
  not grow with load (no queueing).
- Admin API (no auth, not Stripe's): `GET|POST /_sandbox/config` (every knob, `profile` and `latency`
  presets; answers `limits_in_force`, `latency_in_force`, keys masked), `GET|DELETE /_sandbox/requests`
  (`?method=&path=&endpoint=&account=&clear=1`; per request `received_at`, `answered_at`, `endpoint`,
  `account`, `status`, `idempotency_key`, `latency_ms`, `limited_by`, `fault`), `GET /_sandbox/stats`
  (answers by status, `limited` by limiter, `in_flight`, `peak_in_flight` and object counts per account),
  `POST /_sandbox/reset`, `POST /_sandbox/roll_key`.
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

from .config import DEFAULT_ACCOUNT, DEFAULT_API_KEY, StripeEmulatorConfig
from .limits import PROFILES, Limits
from .server import API_VERSION, StripeEmulator

__all__ = [
    "API_VERSION",
    "DEFAULT_ACCOUNT",
    "DEFAULT_API_KEY",
    "PROFILES",
    "Limits",
    "StripeEmulator",
    "StripeEmulatorConfig",
]
