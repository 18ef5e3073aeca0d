"""Resources resolve credentials at run time, never at definition time, and never show a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from jde_stripe_pipeline.credentials import CredentialsError
from jde_stripe_pipeline.ledger import RecordOutcome
from jde_stripe_pipeline.orchestration.links import stripe_object_url
from jde_stripe_pipeline.orchestration.resources import LedgerResource, StripeResource

KEY = "sk_test_51Habcdefghijklmnopqrstuvwxyz0123"


def test_stripe_resource_builds_without_env_and_fails_clearly_when_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("STRIPE_API_KEY", "STRIPE_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    resource = StripeResource()  # definition time: nothing resolved
    with pytest.raises(CredentialsError, match="STRIPE_API_KEY"), resource.sink():
        pass


def test_stripe_resource_uses_env_key_and_base_and_masks_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", KEY)
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")
    with StripeResource().sink() as client:
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
