"""Pure parts: which failures are retried, backoff bounds, paging cursors, settings, key masking."""

import random

import pytest

from jde_stripe_pipeline.stripe_sink.client import next_list_params
from jde_stripe_pipeline.stripe_sink.errors import StripeAuthError, StripeRequestRejected
from jde_stripe_pipeline.stripe_sink.keys import StaticKeySource, mask_key, redact_key
from jde_stripe_pipeline.stripe_sink.metrics import StripeMetrics
from jde_stripe_pipeline.stripe_sink.retry import (
    BackoffPolicy,
    Disposition,
    Failure,
    backoff_ceiling,
    backoff_delay,
    classify,
)
from jde_stripe_pipeline.stripe_sink.settings import StripeSinkSettings

KEY = "sk_test_51HxYzAbCdEfGhIjKlMnOpQrStUvWx1234"


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (Failure(429, "rate_limit_error", "rate_limit"), Disposition.RETRY),
        (Failure(429, "invalid_request_error", "lock_timeout"), Disposition.RETRY),
        (Failure(409, "idempotency_error", "idempotency_key_in_use"), Disposition.RETRY),
        (Failure(500, "api_error"), Disposition.RETRY),
        (Failure(503), Disposition.RETRY),
        (Failure(None), Disposition.RETRY),
        (Failure(None, connection_retryable=False), Disposition.GIVE_UP),
        (Failure(500, "api_error", should_retry_header="false"), Disposition.GIVE_UP),
        (Failure(400, "invalid_request_error", "rate_limit"), Disposition.RETRY),
        (Failure(401, "invalid_request_error"), Disposition.REFRESH_KEY),
        (Failure(403, "invalid_request_error"), Disposition.FORBIDDEN),
        (Failure(400, "idempotency_error"), Disposition.IDEMPOTENCY_CONFLICT),
        (Failure(400, "invalid_request_error", "parameter_missing"), Disposition.REJECT),
        (Failure(404, "invalid_request_error", "resource_missing"), Disposition.REJECT),
        (Failure(402, "card_error"), Disposition.REJECT),
        (Failure(400, "invalid_request_error", should_retry_header="true"), Disposition.RETRY),
        (Failure(200), Disposition.GIVE_UP),
    ],
)
def test_classify(failure: Failure, expected: Disposition) -> None:
    assert classify(failure) is expected


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = BackoffPolicy(max_retries=8, base_seconds=0.5, max_seconds=4.0)
    assert [backoff_ceiling(policy, n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    with pytest.raises(ValueError):
        backoff_ceiling(policy, 0)


def test_full_jitter_spans_zero_to_ceiling() -> None:
    policy = BackoffPolicy(base_seconds=1.0, max_seconds=8.0)
    rng = random.Random(42)
    delays = [backoff_delay(policy, 3, rng) for _ in range(2000)]
    assert all(0.0 <= d <= 4.0 for d in delays)
    assert min(delays) < 0.1 and max(delays) > 3.9  # the whole range is used, not a fixed delay
    assert 1.8 < sum(delays) / len(delays) < 2.2


def test_list_cursor_follows_the_last_id() -> None:
    params = {"limit": 2, "customer": "cus_1"}
    page = {"data": [{"id": "in_1"}, {"id": "in_2"}], "has_more": True}
    assert next_list_params(params, page) == {"limit": 2, "customer": "cus_1", "starting_after": "in_2"}
    assert next_list_params(params, {**page, "has_more": False}) is None
    assert next_list_params(params, {"data": [], "has_more": True}) is None


def test_mask_key_shows_mode_and_last_four_only() -> None:
    assert mask_key(KEY) == "sk_test_…1234"
    assert mask_key("sk_live_abcdefghijklmnop9876") == "sk_live_…9876"
    assert mask_key("rk_test_short") == "rk_test_…"
    assert mask_key("") == "<no key>"
    assert redact_key(f"Invalid API Key provided: {KEY}", KEY) == "Invalid API Key provided: sk_test_…1234"


def test_settings_defaults_follow_the_key_mode() -> None:
    settings = StripeSinkSettings()
    assert settings.api_base == "https://api.stripe.com"
    assert settings.effective_rate("sk_test_x") == settings.effective_rate("rk_test_x") == 24.0 < 25
    assert settings.effective_rate("sk_live_x") == settings.effective_rate("rk_live_x") == 96.0 < 100
    live = settings.paces("sk_live_x")
    assert (live.endpoint_rate, live.search_rate, live.max_in_flight) == (24.0, 19.2, 20)
    assert StripeSinkSettings(rate_per_second=3).effective_rate("sk_live_x") == 3
    assert (settings.burst, settings.workers, settings.key_grace_seconds) == (5, 30, 60.0)
    assert settings.budget_dir and settings.budget_name is None
    assert StripeSinkSettings(max_in_flight=40).workers == 60  # 1.5 engine threads per place in flight
    assert StripeSinkSettings(budget_dir="").budget_dir == ""  # this process only


def test_the_default_key_source_refuses_clearly() -> None:
    with pytest.raises(StripeAuthError, match="No Stripe key source"):
        StripeSinkSettings().key_source()


def test_static_key_source_repr_is_masked() -> None:
    assert repr(StaticKeySource(KEY)) == "StaticKeySource(sk_test_…1234)"


def test_rejected_error_reads_well() -> None:
    error = StripeRequestRejected(
        "Missing required param: currency.",
        request_id="req_1",
        http_status=400,
        code="parameter_missing",
        param="currency",
        operation="invoices.create",
    )
    assert str(error) == (
        "invoices.create: Stripe rejected the request with HTTP 400 (parameter_missing) [param currency]: "
        "Missing required param: currency. (request req_1)"
    )


def test_metrics_count_outcomes() -> None:
    metrics = StripeMetrics()
    metrics.attempt("post", "/v1/customers", "http_429")
    metrics.attempt("post", "/v1/customers", "replayed")
    metrics.attempt("post", "/v1/customers", "ok")
    metrics.retry(0.25)
    metrics.permit(0.5, in_flight=3)
    snap = metrics.snapshot()
    assert snap.attempts == 3
    assert (snap.rate_limited, snap.replays, snap.retries) == (1, 1, 1)
    assert snap.requests == {
        "POST /v1/customers http_429": 1,
        "POST /v1/customers ok": 1,
        "POST /v1/customers replayed": 1,
    }
    assert (snap.token_wait_seconds, snap.backoff_seconds, snap.peak_in_flight) == (0.5, 0.25, 3)


def test_a_read_is_resent_on_a_5xx_stripe_says_not_to_retry_but_a_write_is_not() -> None:
    saved = Failure(http_status=500, should_retry_header="false")
    assert classify(saved, read=True) is Disposition.RETRY
    assert classify(saved) is Disposition.GIVE_UP
    assert classify(Failure(http_status=None, connection_retryable=False), read=True) is Disposition.RETRY
    assert classify(Failure(http_status=404), read=True) is Disposition.REJECT
