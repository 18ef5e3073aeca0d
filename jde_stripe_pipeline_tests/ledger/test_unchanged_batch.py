"""A batch of `unchanged` outcomes (`ledger/unchanged.py`) writes what recording them one by one writes:
the audit rows in order, each mapping's hash and run (a drift mark settled only by a run that read
Stripe), any open quarantine resolved; a conflicting record refuses the whole batch, as it refuses
itself alone. On SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from jde_stripe_pipeline.ledger import Ledger, MappingConflictError, RecordOutcome
from jde_stripe_pipeline_tests.ledger.helpers import outcome
from jde_stripe_pipeline_tests.ledger.test_drift import _mark
from jde_stripe_pipeline_tests.ledger.test_quarantine import _bad_invoice


def _unchanged(key: str, **overrides: Any) -> RecordOutcome:
    return outcome(key, "unchanged", run_id="run-2", payload_hash=f"new-{key}", **overrides)


def test_a_batch_writes_what_one_by_one_writes(ledger: Ledger) -> None:
    for key in ("1", "2", "3"):
        ledger.record_outcome(outcome(key))
    ledger.record_outcome(outcome("00010/5001/OP/000", object_type="invoice", stripe_id="in_1"))
    ledger.record_outcome(_bad_invoice("F4311.AEXP", "3 decimals in USD", "run-1", "2025-03-01"))
    _mark(ledger, "2")
    _mark(ledger, "3")

    entries = ledger.record_outcomes(
        [
            _unchanged("1"),
            _unchanged("2"),  # decided from the ledger alone: the drift mark stays
            _unchanged("3", action="relink"),  # read Stripe and found it equal: the mark is settled
            _unchanged("00010/5001/OP/000", object_type="invoice", stripe_id="in_1"),
        ]
    )

    assert [e.record_key for e in entries] == ["1", "2", "3", "00010/5001/OP/000"]
    assert entries == sorted(entries, key=lambda e: e.id)
    assert [ledger.history(e.record_key)[-1] for e in entries] == entries
    found = ledger.get_mappings("customer", ["1", "2", "3"])
    assert {k: (m.content_hash, m.last_run_id) for k, m in found.items()} == {
        k: (f"new-{k}", "run-2") for k in ("1", "2", "3")
    }
    assert [m.jde_key for m in ledger.drift.marked()] == ["2"]
    assert ledger.open_quarantine() == []
    assert ledger.outcome_counts("run-2") == {"unchanged": 4}


def test_a_conflict_in_a_batch_writes_nothing_of_it(ledger: Ledger) -> None:
    ledger.record_outcome(outcome("1"))
    ledger.record_outcome(outcome("2"))

    with pytest.raises(MappingConflictError):
        ledger.record_outcomes([_unchanged("1"), _unchanged("2", stripe_id="cus_1")])  # cus_1 is 1's

    assert ledger.outcome_counts("run-2") == {}
    assert ledger.get_mappings("customer", ["1"])["1"].content_hash == "hash-1"
