"""System 2: the naive baseline — what a first script against Stripe looks like.

One thread, the official SDK, no state of its own: per customer, search it by `metadata['jde_an8']`
and update it, else create it; per invoice, list the customer's invoices to find the draft by its
`jde_*` metadata, and either create the invoice or delete every item of the draft and update its
header, then create ONE invoice item per line (`POST /v1/invoiceitems`). A 429 waits one second and
tries again (the SDK never retries one). It reads JDE with the project's extract and maps with the
project's mapping, so both systems send the same content.

A sequential loop at 1 s per write takes hours on the bench's volumes, so by default it runs on a
sample: `sample` records of each (kind, category), spread evenly, plus the customers of sampled
invoices; its Stripe time and requests are extrapolated per group by a ratio estimate weighted by
size (1 + lines for an invoice: its cost grows with its lines). The table marks those figures `≈`.
`sample=0` runs everything.
"""

from __future__ import annotations

import functools
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from jde_stripe_pipeline.bench.child import RunFigures, run_in_child

_T = TypeVar("_T")
CUSTOMERS, INVOICES, EXTRACT = "customers", "invoices", "extract"
SEARCH = "GET /v1/customers/search"


def run_baseline(env: Mapping[str, str], day: date, categories: Mapping[str, str], sample: int) -> RunFigures:
    """`categories`: `customer:<AN8>` / `invoice:<key>` → `new` | `changed` | `old` (window's records)."""
    return run_in_child(
        _naive_sync, env, {"day": day.isoformat(), "categories": dict(categories), "sample": sample}
    )


class _Naive:
    def __init__(self, env: Mapping[str, str]) -> None:
        import stripe

        self.stripe = stripe
        self.client = stripe.StripeClient(
            env["STRIPE_API_KEY"], base_addresses={"api": env["STRIPE_API_BASE"]}, max_network_retries=0
        )
        self.known: dict[int, str] = {}
        self.requests: Counter[str] = Counter()
        self.throttled = 0

    def call(self, endpoint: str, send: Callable[[], _T]) -> _T:
        while True:
            self.requests[endpoint] += 1
            try:
                return send()
            except self.stripe.RateLimitError:
                self.throttled += 1
                time.sleep(1.0)

    def customer(self, request: Any) -> None:
        an8 = request.an8
        query = f"metadata['jde_an8']:'{an8}'"
        found = self.call(SEARCH, lambda: self.client.v1.customers.search(params={"query": query})).data
        if found:
            customer_id = found[0].id
            self.call(
                "POST /v1/customers/{id}",
                lambda: self.client.v1.customers.update(customer_id, params=request.update_params()),
            )
        else:
            customer_id = self.call(
                "POST /v1/customers", lambda: self.client.v1.customers.create(params=request.params())
            ).id
        self.known[an8] = customer_id

    def customer_id(self, an8: int) -> str | None:
        if an8 not in self.known:
            query = f"metadata['jde_an8']:'{an8}'"
            found = self.call(SEARCH, lambda: self.client.v1.customers.search(params={"query": query})).data
            if not found:
                return None
            self.known[an8] = found[0].id
        return self.known[an8]

    def invoice(self, request: Any) -> bool:
        customer = self.customer_id(request.customer_an8)
        if customer is None:
            return False
        listed = self.call(
            "GET /v1/invoices",
            lambda: self.client.v1.invoices.list(params={"customer": customer, "limit": 100}),
        )
        mine: dict[str, str] = dict(request.metadata)
        keys = ("jde_kcoo", "jde_doco", "jde_dcto", "jde_sfxo")
        draft = None
        for found in listed.data:
            theirs = found.to_dict().get("metadata") or {}
            if found.status == "draft" and all(theirs.get(k) == mine.get(k) for k in keys):
                draft = found
                break
        v1 = self.client.v1
        if draft is None:
            create: dict[str, Any] = request.with_customer(customer).params()
            invoice_id = str(self.call("POST /v1/invoices", lambda: v1.invoices.create(params=create)).id)  # type: ignore[arg-type]
        else:
            invoice_id = str(draft.id)
            lines = self.call(
                "GET /v1/invoices/{id}/lines",
                lambda: v1.invoices.line_items.list(invoice_id, params={"limit": 100}),
            )
            for line in lines.data:
                item = str(line.to_dict()["parent"]["invoice_item_details"]["invoice_item"])
                self.call("DELETE /v1/invoiceitems/{id}", functools.partial(v1.invoice_items.delete, item))
            update: dict[str, Any] = request.update_params()
            self.call("POST /v1/invoices/{id}", lambda: v1.invoices.update(invoice_id, params=update))  # type: ignore[arg-type]
        for line in request.lines:
            params: dict[str, Any] = {
                "invoice": invoice_id,
                "customer": customer,
                "currency": request.currency,
            }
            params.update(line.params())
            self.call("POST /v1/invoiceitems", functools.partial(v1.invoice_items.create, params=params))  # type: ignore[arg-type]
        return True


def _sample(keys: list[str], categories: Mapping[str, str], size: int, first: set[str]) -> list[str]:
    """Of each category, the keys in `first` and `size` more spread evenly over the rest (every n-th,
    so the sample is not the first orders alone); all keys when size=0."""
    if size <= 0:
        return keys
    chosen: list[str] = []
    by_category: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        by_category[categories.get(key, "old")].append(key)
    for group in by_category.values():
        must = [k for k in group if k in first]
        rest = [k for k in group if k not in first]
        wanted = max(min(size, len(rest)) - len(must), 0) if must else min(size, len(rest))
        step = len(rest) / wanted if wanted else 0
        chosen += must + [rest[int(i * step)] for i in range(wanted)]
    return chosen


def _naive_sync(
    env: Mapping[str, str], options: Mapping[str, Any]
) -> tuple[bool, dict[str, tuple[float, float]], dict[str, Any], list[str]]:
    from jde_stripe_pipeline.credentials import resolve_jde_credentials
    from jde_stripe_pipeline.jde.client import AisSession
    from jde_stripe_pipeline.jde.profiles import invoice_profile
    from jde_stripe_pipeline.jde.read import extract_customers, extract_invoices
    from jde_stripe_pipeline.jde.records import JdeCustomer, JdeInvoice
    from jde_stripe_pipeline.jde.settings import AisSettings
    from jde_stripe_pipeline.jde.window import UpdateWindow
    from jde_stripe_pipeline.mapping import CustomerRequest, InvoiceRequest, map_customer, map_invoice
    from jde_stripe_pipeline.settings import Settings

    day = datetime.combine(date.fromisoformat(options["day"]), datetime.min.time())
    categories: Mapping[str, str] = options["categories"]
    started = time.time()
    parsed = Settings.from_env(env)
    login = resolve_jde_credentials(env)
    ais = AisSettings.from_values(**login.settings_values(), timezone=parsed.timezone)
    with AisSession(ais) as session:
        window = UpdateWindow(day, day + timedelta(days=1))
        customer_records = [r for r in extract_customers(session, window) if isinstance(r, JdeCustomer)]
        profile = invoice_profile(parsed.jde.invoice_source)
        invoice_records = [r for r in extract_invoices(session, window, profile) if isinstance(r, JdeInvoice)]
    extracted = time.time()
    customer_config, invoice_config = parsed.customer_mapping, parsed.invoice_mapping
    customers: dict[str, CustomerRequest] = {}
    for customer in customer_records:
        if isinstance(mapped := map_customer(customer, customer_config), CustomerRequest):
            customers[f"customer:{customer.an8}"] = mapped
    invoices: dict[str, InvoiceRequest] = {}
    for invoice in invoice_records:
        if isinstance(found := map_invoice(invoice, invoice_config), InvoiceRequest):
            invoices[f"invoice:{invoice.key}"] = found
    size = int(options["sample"])
    invoice_keys = _sample(sorted(invoices), categories, size, set())
    wanted = {f"customer:{invoices[k].customer_an8}" for k in invoice_keys}
    customer_keys = _sample(sorted(customers), categories, size, wanted)
    naive = _Naive(env)
    per_record: dict[str, list[Any]] = {}
    errors: list[str] = []
    phases = {EXTRACT: (started, extracted)}
    for phase, keys, send in (
        (CUSTOMERS, customer_keys, lambda key: naive.customer(customers[key])),
        (INVOICES, invoice_keys, lambda key: naive.invoice(invoices[key])),
    ):
        phase_start = time.time()
        for key in keys:
            before, clock = Counter(naive.requests), time.time()
            if send(key) is False:
                errors.append(f"{key}: its customer is not in Stripe")
            per_record[key] = [time.time() - clock, dict(naive.requests - before)]
        phases[phase] = (phase_start, time.time())
    counts = {
        "records": {k: categories.get(k, "old") for k in [*customers, *invoices]},
        "weights": {**dict.fromkeys(customers, 1), **{k: 1 + len(v.lines) for k, v in invoices.items()}},
        "per_record": per_record,
        "throttled": naive.throttled,
    }
    return not errors, phases, counts, errors


def extrapolate(figures: RunFigures) -> tuple[float, Counter[str], dict[str, tuple[int, float]]]:
    """For every record, from the sampled ones: (Stripe seconds, requests by endpoint, and per
    `kind:category` (records, requests per record)). A ratio estimate per group weighted by size (an
    invoice weighs 1 + its lines, as the baseline's cost grows with them): group total = sampled total
    × the group's weight / the sample's weight. Groups never sampled count as zero."""
    records: Mapping[str, str] = figures.counts.get("records", {})
    weights: Mapping[str, int] = figures.counts.get("weights", {})
    sampled: Mapping[str, list[Any]] = figures.counts.get("per_record", {})
    groups: dict[str, list[str]] = defaultdict(list)
    for key, category in records.items():
        groups[f"{key.split(':', 1)[0]}:{category}"].append(key)
    seconds = 0.0
    requests: Counter[str] = Counter()
    means: dict[str, tuple[int, float]] = {}
    for group, keys in groups.items():
        measured = [k for k in keys if k in sampled]
        if not measured:
            continue
        scale = sum(weights.get(k, 1) for k in keys) / sum(weights.get(k, 1) for k in measured)
        seconds += sum(float(sampled[k][0]) for k in measured) * scale
        endpoints: Counter[str] = Counter()
        for key in measured:
            endpoints.update(sampled[key][1])
        scaled = {endpoint: round(count * scale) for endpoint, count in endpoints.items()}
        requests.update(scaled)
        means[group] = (len(keys), sum(scaled.values()) / len(keys))
    return seconds, requests, means
