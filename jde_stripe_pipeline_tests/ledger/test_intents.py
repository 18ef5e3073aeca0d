"""Intent rows: claims (busy, released with the outcome, taken over), creates in flight, attempts, relinks."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import URL

from jde_stripe_pipeline.ledger import REPLAY_WINDOW, Busy, ClaimToken, Intent, Ledger
from jde_stripe_pipeline_tests.ledger.helpers import outcome


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _claimed(answer: Intent | Busy) -> Intent:
    assert isinstance(answer, Intent), answer
    return answer


def test_a_claim_keeps_other_runs_out_until_its_outcome_is_recorded(ledger: Ledger) -> None:
    first, second = ClaimToken.new("run-a"), ClaimToken.new("run-b")
    assert _claimed(ledger.intents.claim("customer", "7", first)).attempt == 1
    busy = ledger.intents.claim("customer", "7", second)
    assert isinstance(busy, Busy) and busy.holder_run_id == "run-a"
    assert "run run-a is syncing it" in busy.reason and "customer 7" in busy.reason
    assert isinstance(ledger.intents.claim("customer", "8", second), Intent)  # other records are free
    ledger.record_outcome(outcome("7", "created", run_id="run-a", release_claim=first.holder))
    again = _claimed(ledger.intents.claim("customer", "7", second))
    assert again.stripe_id == "cus_7"  # the mapped outcome left the Stripe id in the intent row


def test_a_claim_is_taken_over_when_expired_by_the_same_run_or_from_a_dead_process(ledger_url: URL) -> None:
    clock = Clock()
    with Ledger.open(ledger_url, clock=clock) as ledger:
        holder = ClaimToken.new("run-a")
        ledger.intents.claim("invoice", "K", holder, lease=timedelta(seconds=60))
        assert isinstance(ledger.intents.claim("invoice", "K", ClaimToken.new("run-b")), Busy)
        clock.now += timedelta(seconds=50)
        assert ledger.intents.renew(holder, lease=timedelta(seconds=60)) == 1
        clock.now += timedelta(seconds=50)
        assert isinstance(ledger.intents.claim("invoice", "K", ClaimToken.new("run-b")), Busy)  # renewed
        clock.now += timedelta(seconds=11)
        assert isinstance(ledger.intents.claim("invoice", "K", ClaimToken.new("run-b")), Intent)  # expired

        ledger.intents.claim("invoice", "L", ClaimToken.new("run-c"))
        retry = ClaimToken.new("run-c")  # a Dagster step retry: the same run id in a new process
        assert isinstance(ledger.intents.claim("invoice", "L", retry), Intent)

        finished = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
        )
        dead = ClaimToken("run-d", f"{socket.gethostname()}/{int(finished.stdout)}/0")
        ledger.intents.claim("invoice", "M", dead)
        elsewhere = ClaimToken("run-e", "another-host/1/0")
        ledger.intents.claim("invoice", "N", elsewhere)
        assert isinstance(ledger.intents.claim("invoice", "M", ClaimToken.new("run-f")), Intent)
        assert isinstance(ledger.intents.claim("invoice", "N", ClaimToken.new("run-f")), Busy)
        assert ledger.intents.release(elsewhere) == 1
        assert isinstance(ledger.intents.claim("invoice", "N", ClaimToken.new("run-f")), Intent)


def test_a_create_in_flight_is_replayable_for_23_hours_then_looked_up(ledger_url: URL) -> None:
    clock = Clock()
    with Ledger.open(ledger_url, clock=clock) as ledger:
        token = ClaimToken.new("run-a")
        ledger.intents.claim("invoice", "K", token)
        ledger.intents.note_create("invoice", "K", token, "key-1")
        started = clock.now
        clock.now += timedelta(minutes=5)
        ledger.intents.note_create("invoice", "K", token, "key-1")  # the same key: the time stays
        ledger.intents.release(token)  # the run died before any outcome
        later = ClaimToken.new("run-b")
        found = _claimed(ledger.intents.claim("invoice", "K", later))
        assert (found.idempotency_key, found.intent_at, found.replayable) == ("key-1", started, True)
        ledger.intents.release(later)
        clock.now = started + REPLAY_WINDOW
        assert not _claimed(ledger.intents.claim("invoice", "K", later)).replayable
        ledger.record_outcome(
            outcome("K", "created", object_type="invoice", stripe_id="in_1", release_claim=later.holder)
        )
        settled = ledger.intents.of("invoice", ["K"])["K"]
        assert (settled.idempotency_key, settled.intent_at, settled.stripe_id) == (None, None, "in_1")


def test_the_attempt_number_survives_the_run(ledger: Ledger) -> None:
    token = ClaimToken.new("run-a")
    ledger.intents.claim("customer", "7", token)
    assert ledger.intents.next_attempt("customer", "7", token) == 2
    assert ledger.intents.next_attempt("customer", "7", token) == 3
    ledger.record_outcome(outcome("7", "failed", release_claim=token.holder))
    assert _claimed(ledger.intents.claim("customer", "7", ClaimToken.new("run-b"))).attempt == 3


def test_an_outcome_of_a_run_without_the_claim_settles_nothing(ledger: Ledger) -> None:
    holder, other = ClaimToken.new("run-a"), ClaimToken.new("run-b")
    ledger.intents.claim("customer", "7", holder)
    ledger.intents.note_create("customer", "7", holder, "key-1")
    ledger.record_outcome(outcome("7", "deferred", run_id="run-b", release_claim=other.holder))
    assert ledger.intents.of("customer", ["7"])["7"].idempotency_key == "key-1"
    assert isinstance(ledger.intents.claim("customer", "7", other), Busy)


def test_an_empty_ledger_needs_one_relink_which_links_only_unmapped_records(ledger: Ledger) -> None:
    assert ledger.intents.needs_relink()
    ledger.record_outcome(outcome("1", "created"))
    assert not ledger.intents.needs_relink()
    assert ledger.intents.link_found("customer", {"1": "cus_other", "2": "cus_2"}) == 1
    assert ledger.intents.of("customer", ["1", "2"])["2"].stripe_id == "cus_2"
    assert "1" not in ledger.intents.of("customer", ["1"])
    ledger.intents.record_relink("run-r", 2, 0, 1)
    (entry,) = ledger.intents.relinks()
    assert (entry.run_id, entry.customers_listed, entry.linked) == ("run-r", 2, 1)


def test_a_relink_with_nothing_found_is_remembered(ledger: Ledger) -> None:
    ledger.intents.record_relink("run-r", 0, 0, 0)
    assert not ledger.intents.needs_relink()


def test_a_deferred_row_does_not_hide_a_failure_from_replay(ledger: Ledger) -> None:
    ledger.record_outcome(outcome("7", "failed", run_id="run-a"))
    ledger.record_outcome(outcome("7", "deferred", run_id="run-b"))
    assert [e.record_key for e in ledger.failed_for_replay(["2025-03-01"])] == ["7"]


def test_a_claim_can_note_the_create_it_expects_unless_another_one_is_pending(ledger: Ledger) -> None:
    first = _claimed(ledger.intents.claim("invoice", "K", ClaimToken.new("run-a"), create_key="key-1"))
    assert (first.idempotency_key, first.replayable) == ("key-1", True)
    ledger.intents.release(ClaimToken("run-a", "gone"))  # nothing: the holder token differs
    later = ClaimToken.new("run-a")  # the same run again (a step retry)
    again = _claimed(ledger.intents.claim("invoice", "K", later, create_key="key-2"))
    assert again.idempotency_key == "key-1"  # the pending create is kept: the run must look it up
    assert ledger.intents.of("invoice", ["K"])["K"].intent_at == first.intent_at


def test_a_deferral_is_recorded_only_while_the_holder_still_holds_the_claim(ledger: Ledger) -> None:
    """A run that found the record busy must not write its `deferred` after the holder's outcome: the
    holder's outcome is the record's last word (the reliability matrix found a late deferral)."""
    holder = ClaimToken.new("run-a")
    ledger.intents.claim("customer", "7", holder)
    assert ledger.intents.of("customer", ["7"])["7"].held_by == "run-a"
    assert ledger.intents.record_deferral(outcome("7", "deferred", run_id="run-b", action="nothing"))
    ledger.record_outcome(outcome("7", "created", run_id="run-a", release_claim=holder.holder))
    assert not ledger.intents.record_deferral(outcome("7", "deferred", run_id="run-b", action="nothing"))
    assert [e.outcome for e in ledger.history("7")] == ["deferred", "created"]
