"""Resources resolve credentials at run time, never at definition time, and never show a secret; their
fields are the settings root's, both ways."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from jde_stripe_pipeline.credentials import CredentialsError
from jde_stripe_pipeline.ledger import RecordOutcome
from jde_stripe_pipeline.orchestration.links import stripe_object_url
from jde_stripe_pipeline.orchestration.resources import (
    SINK_FIELDS,
    CredentialsResource,
    JdeAisResource,
    LedgerResource,
    MappingResource,
    StripeResource,
    build_resources,
)
from jde_stripe_pipeline.settings import Settings
from jde_stripe_pipeline.stripe_sink import StripeSinkSettings

KEY = "sk_test_51Habcdefghijklmnopqrstuvwxyz0123"


def test_stripe_resource_builds_without_env_and_fails_clearly_when_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("STRIPE_API_KEY", "STRIPE_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    resource = StripeResource(credentials=CredentialsResource())  # definition time: nothing resolved
    with pytest.raises(CredentialsError, match="STRIPE_API_KEY"), resource.sink():
        pass


def test_stripe_resource_uses_env_key_and_base_and_masks_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", KEY)
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")
    with StripeResource(credentials=CredentialsResource()).sink() as client:
        assert client.settings.api_base == "http://127.0.0.1:9"
        assert KEY not in repr(client) and client.masked_key.endswith("0123")
        assert StripeResource.object_url(client, "cus_123") == "http://127.0.0.1:9/v1/customers/cus_123"


def test_dashboard_links_follow_the_key_mode() -> None:
    base = "https://api.stripe.com"
    assert (
        stripe_object_url("cus_1", api_base=base, live=False)
        == "https://dashboard.stripe.com/test/customers/cus_1"
    )
    assert stripe_object_url("in_1", api_base=base, live=True) == "https://dashboard.stripe.com/invoices/in_1"
    assert stripe_object_url("il_1", api_base=base, live=True) is None


def test_ledger_resource_opens_the_configured_ledger(tmp_path: Path) -> None:
    resource = LedgerResource(state_url=f"sqlite:///{tmp_path / 'state.sqlite'}")
    with resource.open() as ledger:
        ledger.record_outcome(
            RecordOutcome(
                run_id="r1",
                partition_key="2026-11-26",
                object_type="customer",
                record_key="7",
                action="create",
                outcome="failed",
                reason="boom",
            )
        )
    with resource.open() as ledger:
        assert [e.record_key for e in ledger.failed_for_replay(["2026-11-26"])] == ["7"]


def test_resources_carry_every_setting_and_give_them_back() -> None:
    """The resource page shows the settings a run uses: each resource's fields come from the one
    `Settings` object and give the same typed settings back (no setting lost on the way)."""
    settings = Settings.from_env(
        {
            "JDE_TIMEZONE": "Europe/Berlin",
            "JDE_INVOICE_SOURCE": "sales_order",
            "JDE_STRIPE_SHIP_TO_SOURCE": "ship_to",
            "JDE_STRIPE_LANGUAGE_LOCALES": "X=nl",
            "JDE_STRIPE_BLANK_LANGUAGE_LOCALE": "",
            "JDE_STRIPE_COLLECTION_METHOD": "charge_automatically",
            "JDE_STRIPE_DEFAULT_DAYS_UNTIL_DUE": "14",
            "JDE_STRIPE_PAYMENT_TERMS_DAYS": "D10=10,EOM=30",
            "JDE_STRIPE_INVOICE_NUMBER_TEMPLATE": "{KCOO}-{DOCO}",
            "JDE_STRIPE_INVOICE_CUSTOM_FIELDS": "Order={DOCO};Company={KCOO}",
            "JDE_STRIPE_CANCELLED_LINE_STATUSES": "980,999",
            "JDE_STRIPE_RATE_PER_SECOND": "7.5",
            "JDE_STRIPE_WORKERS": "9",
            "JDE_AIS_READ_WORKERS": "2",
        }
    )
    resources = build_resources(settings)
    jde, stripe, mapping = resources["jde"], resources["stripe"], resources["mapping"]
    assert isinstance(jde, JdeAisResource) and jde.settings() == settings.jde
    assert isinstance(stripe, StripeResource) and stripe.settings() == settings.stripe
    assert isinstance(mapping, MappingResource)
    assert mapping.customer_config() == settings.customer_mapping
    assert mapping.invoice_config() == settings.invoice_mapping
    assert set(SINK_FIELDS) == {f.name for f in fields(StripeSinkSettings)} - {
        "key_source",
        "api_base",
        "stripe_account",
    }
    assert jde.read_workers == 2 and settings.jde.read_workers == 2
    assert stripe.workers == 9 and mapping.custom_fields == {"Order": "{DOCO}", "Company": "{KCOO}"}
