"""Promise: the Stripe key can be rotated without downtime.

The key is rolled in the Stripe emulator in the middle of a sync, the old key expiring at once, and the
new key is put where the pipeline reads it (`STRIPE_API_KEY`, or the encrypted store), as an operator
does. The run's next request with the old key gets a 401; the sink re-reads the key through the
credentials resolver and goes on: no record fails and Stripe ends up complete.
"""

from __future__ import annotations

import pytest

from jde_stripe_pipeline_tests.security.conftest import CredentialMode, Setup, failures
from jde_stripe_pipeline_tests.security.secrets_hunt import STRIPE_KEY
from jde_stripe_pipeline_tests.sync.changes import reprice_first_line

ROLL_AFTER_RECORDS = 3


@pytest.mark.parametrize("mode", ["environment", "store"])
def test_key_rolled_mid_sync_loses_no_record(setup: Setup, mode: CredentialMode) -> None:
    setup.configure(mode)
    rolled: list[str] = []
    calls_before_roll: list[int] = []
    seen_threshold = 0

    def roll_during_the_invoice_phase(done: int, total: int | None) -> None:
        nonlocal seen_threshold
        if done != ROLL_AFTER_RECORDS:
            return
        seen_threshold += 1
        if seen_threshold != 2:  # the first time is the customer phase; roll among invoices (many calls each)
            return
        with setup.stripe.pause():  # roll + deploy the new key in one step, as far as requests can tell
            new_key = setup.emulator.roll_key(STRIPE_KEY, expires_in_seconds=0)
            if mode == "environment":
                setup.monkeypatch.setenv("STRIPE_API_KEY", new_key)
            else:
                setup.store_stripe_key(new_key)
            rolled.append(new_key)
            calls_before_roll.append(len(setup.stripe.calls))

    customers, invoices = setup.run(progress=roll_during_the_invoice_phase)

    assert len(rolled) == 1, "the key was never rolled: the invoice phase had too few records"
    new_key, mark = rolled[0], calls_before_roll[0]
    assert failures([customers, invoices]) == []
    assert invoices.counts().get("created", 0) > ROLL_AFTER_RECORDS

    before, after = setup.stripe.calls[:mark], setup.stripe.calls[mark:]
    assert {call.key for call in before} == {STRIPE_KEY}
    assert all(call.status < 400 for call in before)
    old_key_after = [call for call in after if call.key == STRIPE_KEY]
    new_key_after = [call for call in after if call.key == new_key]
    assert old_key_after, "no request tried the old key after the roll"
    assert {call.status for call in old_key_after} == {401}
    assert new_key_after and all(200 <= call.status < 300 for call in new_key_after)
    assert {call.key for call in after} == {STRIPE_KEY, new_key}
    first_401 = after.index(old_key_after[0])
    assert any(200 <= call.status < 300 for call in after[first_401 + 1 :])

    # the emulator's own log: 401s, then successes
    statuses = [entry["status"] for entry in setup.emulator.requests_log(path_prefix="/v1/")]
    assert 401 in statuses
    assert any(200 <= status < 300 for status in statuses[statuses.index(401) + 1 :])
    setup.assert_stripe_matches_jde()


def test_key_saved_in_the_store_is_used_by_the_next_run(setup: Setup) -> None:
    setup.configure("store")
    _, invoices = setup.run()
    new_key = setup.emulator.roll_key(STRIPE_KEY, expires_in_seconds=0)
    setup.store_stripe_key(new_key)
    changed = next(r.record_key for r in invoices.results if r.outcome == "created")
    reprice_first_line(setup.world(), changed)
    mark = len(setup.stripe.calls)

    customers, invoices = setup.run()

    calls = setup.stripe.calls[mark:]
    assert calls and {call.key for call in calls} == {new_key}
    assert all(call.status < 400 for call in calls)
    assert failures([customers, invoices]) == []
    assert [r.record_key for r in invoices.results if r.outcome == "updated"] == [changed]
    setup.assert_stripe_matches_jde()
