"""The ledger keyed by Stripe account (schema 4): each account's rows apart, a customer billed by two
companies mapped once per account, and a version 2 ledger upgraded with its rows in the default account
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import URL

from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT, UNROUTED
from jde_stripe_pipeline.ledger import ClaimToken, Intent, Ledger, MappingConflictError, QuarantineFinding
from jde_stripe_pipeline_tests.ledger.helpers import create_deployed, outcome, raw_engine


def test_one_customer_is_mapped_once_per_account(ledger: Ledger) -> None:
    us, eu = ledger.for_account("us"), ledger.for_account("eu")
    us.record_outcome(outcome("1001", stripe_id="cus_us_1001"))
    eu.record_outcome(outcome("1001", stripe_id="cus_eu_1001"))
    assert us.get_mappings("customer", ["1001"])["1001"].stripe_id == "cus_us_1001"
    assert eu.get_mappings("customer", ["1001"])["1001"].account == "eu"
    assert ledger.get_mappings("customer", ["1001"]) == {}  # the default account has none
    assert ledger.accounts_of("customer", ["1001", "9"]) == {"1001": {"us", "eu"}}
    with pytest.raises(MappingConflictError):  # still one Stripe object per key within an account
        us.record_outcome(outcome("1001", stripe_id="cus_other"))

    assert [e.account for e in ledger.history("1001", every_account=True)] == ["us", "eu"]
    assert [e.stripe_id for e in eu.history("1001")] == ["cus_eu_1001"]
    assert eu.mapping_by_stripe_id("cus_us_1001") is None
    found = ledger.mapping_by_stripe_id("cus_us_1001", every_account=True)
    assert found is not None and found.account == "us"
    assert us.outcome_counts("run-1") == {"created": 1} and ledger.outcome_counts("run-1") == {}


def test_claims_intents_and_relinks_are_per_account(ledger: Ledger) -> None:
    us, eu = ledger.for_account("us"), ledger.for_account("eu")
    first, second = ClaimToken.new("run-us"), ClaimToken.new("run-eu")
    assert isinstance(us.intents.claim("invoice", "00001/1/OP/000", first, create_key="k-us"), Intent)
    assert isinstance(eu.intents.claim("invoice", "00001/1/OP/000", second), Intent)  # not Busy
    assert us.intents.of("invoice", ["00001/1/OP/000"])["00001/1/OP/000"].idempotency_key == "k-us"
    assert eu.intents.of("invoice", ["00001/1/OP/000"])["00001/1/OP/000"].idempotency_key is None
    us.intents.record_relink("relink-us", 0, 0, 0)
    assert not us.intents.needs_relink() and eu.intents.needs_relink()
    assert [r.account for r in us.intents.relinks()] == ["us"] and eu.intents.relinks() == []


def test_an_unrouted_quarantine_is_resolved_by_the_record_syncing_in_its_account(ledger: Ledger) -> None:
    unrouted, us = ledger.for_account(UNROUTED), ledger.for_account("us")
    finding = QuarantineFinding("KCOO", "JDE company 00300 is not routed to a Stripe account")
    unrouted.record_outcome(outcome("1001", "quarantined", action="quarantine", quarantine=finding))
    assert [q.account for q in ledger.open_quarantine(every_account=True)] == [UNROUTED]
    assert us.open_quarantine() == []
    us.record_outcome(outcome("1001", stripe_id="cus_us_1001"))
    assert ledger.open_quarantine(every_account=True) == []


def test_a_version_2_ledger_is_upgraded_into_the_default_account(ledger_url: URL) -> None:
    """Version 2 as it was deployed, with rows in every table, then opened by this program."""
    now = datetime.now(UTC)
    engine = raw_engine(ledger_url)
    try:
        with engine.begin() as conn:
            tables = create_deployed(conn, 2).tables
            mapped = {"object_type": "customer", "jde_key": "1001", "stripe_id": "cus_1", "content_hash": "h"}
            conn.execute(
                tables["jde_stripe_mapping"].insert().values(**mapped, created_at=now, updated_at=now)
            )
            conn.execute(
                tables["jde_stripe_audit"]
                .insert()
                .values(
                    at=now,
                    run_id="old-run",
                    partition_key="2026-01-02",
                    object_type="customer",
                    record_key="1001",
                    action="create",
                    outcome="created",
                    stripe_id="cus_1",
                    attempt=1,
                )
            )
            conn.execute(
                tables["jde_stripe_quarantine"]
                .insert()
                .values(
                    object_type="customer",
                    record_key="2002",
                    field="F0101.ALPH",
                    reason="blank name",
                    raw_json="{}",
                    run_id="old-run",
                    first_seen=now,
                    last_seen=now,
                    count=1,
                )
            )
            conn.execute(
                tables["jde_stripe_intent"]
                .insert()
                .values(
                    object_type="customer",
                    record_key="1001",
                    stripe_id="cus_1",
                    attempt=3,
                    updated_at=now,
                    holder_token="host/1/x",
                    expires_at=now - timedelta(minutes=5),
                )
            )
            conn.execute(
                tables["jde_stripe_relink"]
                .insert()
                .values(at=now, run_id="old-relink", customers_listed=1, invoices_listed=0, linked=1)
            )
    finally:
        engine.dispose()

    with Ledger.open(ledger_url) as ledger:
        assert ledger.account == DEFAULT_ACCOUNT
        assert ledger.get_mappings("customer", ["1001"])["1001"].stripe_id == "cus_1"
        assert [(e.account, e.run_id) for e in ledger.history("1001")] == [(DEFAULT_ACCOUNT, "old-run")]
        assert [q.record_key for q in ledger.open_quarantine()] == ["2002"]
        assert ledger.intents.of("customer", ["1001"])["1001"].attempt == 3
        assert [r.run_id for r in ledger.intents.relinks()] == ["old-relink"]
        eu = ledger.for_account("eu")
        assert eu.get_mappings("customer", ["1001"]) == {} and eu.intents.needs_relink()
        # the new unique keys are per account: the same JDE key and claim in another account
        eu.record_outcome(outcome("1001", stripe_id="cus_eu_1"))
        assert isinstance(eu.intents.claim("customer", "1001", ClaimToken.new("run-eu")), Intent)
        # and still unique within one: the default account's Stripe id cannot be mapped twice
        with pytest.raises(MappingConflictError):
            ledger.record_outcome(outcome("3003", stripe_id="cus_1"))
        ledger.record_outcome(outcome("2002", stripe_id="cus_2"))  # resolves the old quarantine
        assert ledger.open_quarantine() == []
    with Ledger.open(ledger_url) as again:  # re-opening a current ledger changes nothing
        assert again.get_mappings("customer", ["1001", "2002"]).keys() == {"1001", "2002"}
