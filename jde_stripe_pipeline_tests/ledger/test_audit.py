"""The audit log: one atomic transaction per outcome, history, replay selection, per-run counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import URL, text
from sqlalchemy.exc import DBAPIError

from jde_stripe_pipeline.jde.records import QuarantinedRecord
from jde_stripe_pipeline.ledger import InvalidOutcomeError, Ledger, MappingConflictError, RecordOutcome
from jde_stripe_pipeline_tests.ledger.helpers import outcome, raw_engine

FAIL_QUARANTINE_UPDATES = {
    "sqlite": [
        "CREATE TRIGGER test_break_quarantine BEFORE UPDATE ON jde_stripe_quarantine "
        "BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION test_break() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'injected fault'; END $$",
        "CREATE TRIGGER test_break_quarantine BEFORE UPDATE ON jde_stripe_quarantine "
        "FOR EACH ROW EXECUTE FUNCTION test_break()",
    ],
}


def _quarantine(key: str, run_id: str = "run-1", partition_key: str = "2025-03-01") -> RecordOutcome:
    record = QuarantinedRecord(kind="customer", record_key=key, field="F0101.ALPH", reason="blank name")
    return RecordOutcome.quarantined(record, run_id=run_id, partition_key=partition_key)


def test_a_failure_in_the_last_step_leaves_nothing_of_the_outcome(ledger: Ledger, ledger_url: URL) -> None:
    ledger.record_outcome(_quarantine("100"))
    engine = raw_engine(ledger_url)
    try:
        with engine.begin() as conn:
            for statement in FAIL_QUARANTINE_UPDATES[ledger.dialect]:
                conn.execute(text(statement))
    finally:
        engine.dispose()
    # created = audit row, then the mapping, then resolving the quarantine: the last step fails.
    with pytest.raises(DBAPIError, match="injected fault"):
        ledger.record_outcome(outcome("100", "created", run_id="run-2"))
    assert [entry.outcome for entry in ledger.history("100")] == ["quarantined"]
    assert ledger.get_mappings("customer", ["100"]) == {}
    assert [entry.record_key for entry in ledger.open_quarantine()] == ["100"]


def test_a_refused_mapping_change_leaves_no_audit_row(ledger: Ledger) -> None:
    ledger.record_outcome(outcome("100", "created"))
    with pytest.raises(MappingConflictError):
        ledger.record_outcome(outcome("200", "created", stripe_id="cus_100", run_id="run-2"))
    assert ledger.outcome_counts("run-2") == {}


def test_history_by_jde_key_and_by_any_stripe_id_the_record_had(ledger: Ledger) -> None:
    ledger.record_outcome(outcome("100", "failed", partition_key="2025-03-01", reason="timeout"))
    ledger.record_outcome(
        outcome("100", "created", run_id="run-2", idempotency_key="customer-100-create-h", attempt=2)
    )
    ledger.record_outcome(outcome("100", "created", stripe_id="cus_new", replaces_stripe_id="cus_100"))
    ledger.record_outcome(outcome("200", "created"))
    ledger.record_outcome(outcome("100", "failed", object_type="invoice", run_id="run-9"))

    by_key = ledger.history("100", object_type="customer")
    assert [(e.run_id, e.outcome, e.stripe_id) for e in by_key] == [
        ("run-1", "failed", None),
        ("run-2", "created", "cus_100"),
        ("run-1", "created", "cus_new"),
    ]
    assert by_key[0].reason == "timeout" and by_key[0].partition_key == "2025-03-01"
    assert by_key[1].idempotency_key == "customer-100-create-h" and by_key[1].attempt == 2
    assert by_key[0].at <= by_key[1].at <= by_key[2].at
    assert ledger.history("cus_100") == by_key  # the old Stripe id still finds the whole story
    assert ledger.history("cus_new") == by_key
    assert len(ledger.history("100")) == 4  # without a type: the invoice with the same key too
    assert ledger.history("nothing-like-this") == []


def test_failed_records_listed_for_replay_only_while_their_latest_outcome_is_failed(ledger: Ledger) -> None:
    day1, day2 = "2025-03-01", "2025-03-02"
    ledger.record_outcome(outcome("A", "failed", partition_key=day1))
    ledger.record_outcome(outcome("B", "failed", partition_key=day1))
    ledger.record_outcome(outcome("B", "created", partition_key=day2, run_id="run-2"))  # fixed later
    ledger.record_outcome(outcome("C", "failed", partition_key=day2))
    ledger.record_outcome(outcome("D", "failed", partition_key=day1))
    ledger.record_outcome(outcome("D", "failed", partition_key=day1, run_id="run-2", attempt=2))
    ledger.record_outcome(outcome("E", "created", partition_key=day1))
    ledger.record_outcome(outcome("E", "failed", partition_key=day1, action="update", run_id="run-2"))
    ledger.record_outcome(outcome("F", "failed", partition_key=day1, object_type="invoice"))

    replay = ledger.failed_for_replay([day1], object_type="customer")
    assert [(e.record_key, e.run_id, e.attempt) for e in replay] == [
        ("A", "run-1", 1),
        ("D", "run-2", 2),
        ("E", "run-2", 1),
    ]
    assert {e.record_key for e in ledger.failed_for_replay([day1, day2])} == {"A", "C", "D", "E", "F"}
    assert ledger.failed_for_replay(["2024-12-31"]) == []


def test_outcome_counts_count_each_record_once_by_its_latest_outcome_in_the_run(ledger: Ledger) -> None:
    ledger.record_outcome(outcome("1", "failed"))
    ledger.record_outcome(outcome("1", "created", attempt=2))  # retried in the same run
    ledger.record_outcome(outcome("2", "created"))
    ledger.record_outcome(outcome("3", "failed"))
    ledger.record_outcome(_quarantine("4"))
    ledger.record_outcome(outcome("5", "conflict", action="update"))
    ledger.record_outcome(outcome("1", "updated", run_id="run-2"))
    ledger.record_outcome(outcome("9", "created", object_type="invoice", stripe_id="in_9"))
    ledger.record_outcome(outcome("6", "created"))  # by the invoice step, then the customer step found it
    ledger.record_outcome(outcome("6", "unchanged", action="nothing"))
    ledger.record_outcome(outcome("7", "unchanged", action="nothing"))
    assert ledger.outcome_counts("run-1", object_type="customer") == {
        "created": 3,
        "unchanged": 1,
        "failed": 1,
        "quarantined": 1,
        "conflict": 1,
    }
    assert ledger.outcome_counts("run-1")["created"] == 4
    assert ledger.outcome_counts("run-2") == {"updated": 1}
    assert ledger.outcome_counts("run-unknown") == {}


def test_audit_time_is_stored_and_returned_in_utc(ledger_url: URL) -> None:
    chicago_winter = timezone(timedelta(hours=-6))
    stamp = datetime(2025, 1, 15, 18, 30, 5, 123456, tzinfo=chicago_winter)
    with Ledger.open(ledger_url, clock=lambda: stamp) as ledger:
        written = ledger.record_outcome(outcome("1", "created", jde_version=datetime(2025, 1, 15, 18, 29)))
        (read,) = ledger.history("1")
    assert read == written
    assert read.at == datetime(2025, 1, 16, 0, 30, 5, 123456, tzinfo=UTC)
    assert read.at.utcoffset() == timedelta(0)
    assert read.jde_version == datetime(2025, 1, 15, 18, 29)  # JDE local time, naive, untouched


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"stripe_id": None}, "needs stripe_id and payload_hash"),
        ({"payload_hash": None}, "needs stripe_id and payload_hash"),
        ({"outcome": "made-up"}, "outcome 'made-up' is not one of"),
        ({"object_type": "vendor"}, "object_type 'vendor' is not one of"),
        ({"run_id": ""}, "run_id is empty"),
        ({"attempt": 0}, "attempt must be >= 1"),
        ({"jde_version": datetime(2025, 1, 1, tzinfo=UTC)}, "jde_version must be naive"),
        ({"replaces_stripe_id": "cus_x", "outcome": "failed"}, "replaces_stripe_id only applies"),
    ],
)
def test_contradictory_outcomes_are_refused_before_writing(
    ledger: Ledger, changes: dict[str, object], complaint: str
) -> None:
    with pytest.raises(InvalidOutcomeError, match=complaint):
        ledger.record_outcome(outcome("100", "created", **changes))
    assert ledger.history("100") == []


def test_quarantined_outcome_needs_its_finding_and_only_it_has_one() -> None:
    assert "a quarantine finding goes with outcome 'quarantined'" in " ".join(
        outcome("1", "quarantined", action="quarantine").problems()
    )
    assert _quarantine("1").problems() == []
    assert outcome("1", "created").problems() == []
