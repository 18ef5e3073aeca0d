"""The quarantine: counted while open, kept verbatim, resolved by the first good sync."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from jde_stripe_pipeline.jde.records import QuarantinedRecord
from jde_stripe_pipeline.ledger import Ledger, RecordOutcome
from jde_stripe_pipeline_tests.ledger.helpers import outcome

INVOICE = "00010/5001/OP/000"


def _bad_invoice(field: str, reason: str, run_id: str, partition_key: str) -> RecordOutcome:
    record = QuarantinedRecord(
        kind="invoice",
        record_key=INVOICE,
        field=field,
        reason=reason,
        raw={"F4311_AEXP": Decimal("10.005"), "F4301_TRDJ": date(2025, 3, 1), "F4301_DOCO": 5001},
    )
    return RecordOutcome.quarantined(record, run_id=run_id, partition_key=partition_key)


def test_repeated_quarantine_updates_one_open_entry(ledger: Ledger) -> None:
    ledger.record_outcome(_bad_invoice("F4311.AEXP", "3 decimals in USD", "run-1", "2025-03-01"))
    ledger.record_outcome(_bad_invoice("F4301.CRCD", "unknown currency", "run-2", "2025-03-02"))
    (entry,) = ledger.open_quarantine()
    assert (entry.object_type, entry.record_key, entry.count) == ("invoice", INVOICE, 2)
    assert (entry.field, entry.reason) == ("F4301.CRCD", "unknown currency")
    assert (entry.run_id, entry.partition_key) == ("run-2", "2025-03-02")
    assert entry.first_seen <= entry.last_seen and entry.resolved_at is None
    assert entry.raw == {"F4311_AEXP": "10.005", "F4301_TRDJ": "2025-03-01", "F4301_DOCO": 5001}
    assert [e.outcome for e in ledger.history(INVOICE)] == ["quarantined", "quarantined"]
    assert ledger.history(INVOICE)[0].reason == "F4311.AEXP: 3 decimals in USD"


def test_open_quarantine_by_partition_and_type(ledger: Ledger) -> None:
    ledger.record_outcome(_bad_invoice("F4311.AEXP", "bad", "run-1", "2025-03-01"))
    customer = QuarantinedRecord(kind="customer", record_key="42", field="F0101.ALPH", reason="blank")
    ledger.record_outcome(RecordOutcome.quarantined(customer, run_id="run-1", partition_key="2025-03-02"))
    assert [e.record_key for e in ledger.open_quarantine(["2025-03-01"])] == [INVOICE]
    assert [e.record_key for e in ledger.open_quarantine(["2025-03-01", "2025-03-02"])] == [INVOICE, "42"]
    assert [e.record_key for e in ledger.open_quarantine(object_type="customer")] == ["42"]
    assert ledger.open_quarantine(["2025-02-28"]) == []


def test_a_record_that_later_syncs_fine_is_resolved(ledger: Ledger) -> None:
    ledger.record_outcome(_bad_invoice("F4311.AEXP", "bad", "run-1", "2025-03-01"))
    ledger.record_outcome(
        outcome(INVOICE, "failed", object_type="invoice", run_id="run-2")
    )  # a failure resolves nothing
    assert len(ledger.open_quarantine()) == 1
    ledger.record_outcome(
        outcome(INVOICE, "created", object_type="invoice", stripe_id="in_1", run_id="run-3")
    )
    assert ledger.open_quarantine() == []
    (resolved,) = ledger.quarantine_history("invoice", INVOICE)
    assert resolved.resolved_by_run_id == "run-3"
    assert resolved.resolved_at is not None and resolved.resolved_at >= resolved.last_seen


def test_quarantined_again_after_resolution_opens_a_fresh_entry(ledger: Ledger) -> None:
    ledger.record_outcome(_bad_invoice("F4311.AEXP", "bad", "run-1", "2025-03-01"))
    ledger.record_outcome(outcome(INVOICE, "created", object_type="invoice", stripe_id="in_1"))
    ledger.record_outcome(_bad_invoice("F4311.UORG", "negative", "run-4", "2025-03-05"))
    history = ledger.quarantine_history("invoice", INVOICE)
    assert [(e.field, e.count, e.resolved_at is None) for e in history] == [
        ("F4311.AEXP", 1, False),
        ("F4311.UORG", 1, True),
    ]
    assert [e.field for e in ledger.open_quarantine()] == ["F4311.UORG"]


def test_a_rerun_of_the_same_run_id_is_no_new_sighting(ledger: Ledger) -> None:
    """A Dagster step retry keeps its run id: the quarantine is seen once per run, not once per try."""
    for _ in range(4):
        ledger.record_outcome(_bad_invoice("F4311.AEXP", "bad", "run-1", "2025-03-01"))
    (entry,) = ledger.open_quarantine()
    assert entry.count == 1
    ledger.record_outcome(_bad_invoice("F4311.AEXP", "bad", "run-2", "2025-03-01"))
    ledger.record_outcome(_bad_invoice("F4311.AEXP", "bad", "run-2", "2025-03-01"))
    assert ledger.open_quarantine()[0].count == 2
    assert len(ledger.history(INVOICE)) == 6  # every try stays in the audit log
