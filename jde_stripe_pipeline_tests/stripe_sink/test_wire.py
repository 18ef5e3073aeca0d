"""A place in flight is held only while a request is on the wire: taken when the SDK hands the built
request to `WireClient`, given back when the answer's bytes arrive, before the SDK parses them."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest
import stripe

from jde_stripe_pipeline.sandboxes.stripe_emulator import StripeEmulator, StripeEmulatorConfig
from jde_stripe_pipeline.stripe_sink import StripeSink, StripeUnavailable
from jde_stripe_pipeline.stripe_sink.metrics import StripeMetrics
from jde_stripe_pipeline.stripe_sink.retry import BackoffPolicy
from jde_stripe_pipeline.stripe_sink.transport import Call, Transport
from jde_stripe_pipeline_tests.stripe_sink.support import loopback_sink

AFTER_ANSWER = 0.3
"""Seconds a send spends after Stripe's answer came back: what the SDK's parsing costs, made long."""


@pytest.fixture
def sink() -> Iterator[StripeSink]:
    emulator = StripeEmulator(StripeEmulatorConfig())
    try:
        with emulator.serve(port=0) as server, loopback_sink(server.url) as sink:
            yield sink
    finally:
        emulator.close()


def _transport(sink: StripeSink) -> Transport:
    return Transport(
        keys=sink.keys,
        budget=sink.budget,
        paces=sink.paces,
        burst=1,
        policy=BackoffPolicy(max_retries=1, base_seconds=0.01, max_seconds=0.01),
        rate_limited_patience=1.0,
        metrics=StripeMetrics(),
        rng=random.Random(0),
        sleep=time.sleep,
    )


def test_the_place_goes_back_when_the_answer_arrives_not_after_the_client_has_read_it(
    sink: StripeSink,
) -> None:
    at_stripe: list[int] = []

    def send(sdk: stripe.StripeClient, options: stripe.RequestOptions) -> stripe.StripeResponse:
        customer = sdk.raw_request("post", "/v1/customers", name="Payer", **options)
        at_stripe.append(sink.budget.in_flight)
        time.sleep(AFTER_ANSWER)
        return customer

    result = _transport(sink).execute(Call("customers.create", "POST", "/v1/customers", send, "wire-1"))

    assert result.object["name"] == "Payer"
    assert at_stripe == [0]
    assert sink.budget.latency is not None and sink.budget.latency < AFTER_ANSWER


def test_a_request_the_sdk_never_sent_takes_no_place(sink: StripeSink) -> None:
    def send(sdk: stripe.StripeClient, options: stripe.RequestOptions) -> stripe.StripeResponse:
        raise stripe.APIConnectionError("refused before sending", should_retry=True)

    with pytest.raises(StripeUnavailable, match="still failing after 2 attempts"):
        _transport(sink).execute(Call("customers.create", "POST", "/v1/customers", send, "wire-2"))

    assert sink.budget.in_flight == 0
    assert sink.budget.latency is None


def test_answers_are_plain_dicts_not_the_sdks_objects(sink: StripeSink) -> None:
    created = sink.create_customer({"name": "Payer", "metadata": {"jde_an8": "1"}}, idempotency_key="plain-1")

    assert type(created.object) is dict and type(created.object["metadata"]) is dict
    assert created.object["metadata"] == {"jde_an8": "1"}
    assert created.request_id and created.request_id.startswith("req_")
    assert sink.retrieve_customer(created.object["id"]).object == created.object


def test_a_parameter_the_sdk_would_take_as_a_request_option_is_refused_not_dropped(sink: StripeSink) -> None:
    with pytest.raises(ValueError, match=r"/v1/customers: parameter\(s\) \['headers'\] clash"):
        sink.create_customer({"name": "Payer", "headers": "x"}, idempotency_key="clash-1")

    assert sink.budget.in_flight == 0
    assert sink.metrics().requests == {}
