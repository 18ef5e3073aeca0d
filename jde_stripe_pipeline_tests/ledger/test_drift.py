"""Drift marks: set with their audit row only on the mapping the finding was made against, kept by an
`unchanged` that read nothing, settled by an outcome whose run read Stripe."""

from __future__ import annotations

from typing import Any

from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline_tests.ledger.helpers import outcome


def _mark(ledger: Ledger, key: str, **overrides: Any) -> bool:
    values: dict[str, Any] = {
        "stripe_id": f"cus_{key}",
        "content_hash": f"hash-{key}",
        "reason": f"customer cus_{key} deleted in Stripe",
        "run_id": "reconcile-1",
        "partition_key": "2025-03-01",
        **overrides,
    }
    return ledger.drift.mark("customer", key, **values)


def test_a_mark_sets_the_mapping_and_appends_its_finding_to_the_audit(ledger: Ledger) -> None:
    ledger.record_outcome(outcome("1"))

    assert _mark(ledger, "1")

    mapped = ledger.get_mappings("customer", ["1"])["1"]
    assert mapped.drift == "customer cus_1 deleted in Stripe" and mapped.drift_at is not None
    assert (mapped.stripe_id, mapped.content_hash) == ("cus_1", "hash-1")  # the rest untouched
    history = ledger.history("1")
    assert [(e.outcome, e.action, e.run_id) for e in history] == [
        ("created", "create", "run-1"),
        ("drifted", "nothing", "reconcile-1"),
    ]
    assert history[-1].reason == "customer cus_1 deleted in Stripe" and history[-1].stripe_id == "cus_1"
    assert [m.jde_key for m in ledger.drift.marked()] == ["1"]
    first_seen = mapped.drift_at
    assert _mark(ledger, "1", reason="seen again")  # a later reconciliation: the time it began stays
    again = ledger.get_mappings("customer", ["1"])["1"]
    assert (again.drift, again.drift_at) == ("seen again", first_seen)


def test_a_mapping_that_moved_on_is_not_marked_and_nothing_is_written(ledger: Ledger) -> None:
    ledger.record_outcome(outcome("2"))

    assert not _mark(ledger, "2", stripe_id="cus_other")  # a sync re-created it meanwhile
    assert not _mark(ledger, "2", content_hash="an-older-hash")  # a sync sent JDE's change meanwhile
    assert not _mark(ledger, "3")  # never mapped

    assert ledger.get_mappings("customer", ["2"])["2"].drift is None
    assert [e.outcome for e in ledger.history("2")] == ["created"]
    assert ledger.drift.marked() == []


def test_an_outcome_that_read_stripe_settles_the_mark_an_unchanged_one_does_not(ledger: Ledger) -> None:
    ledger.record_outcome(outcome("4"))
    ledger.record_outcome(outcome("5"))
    _mark(ledger, "4")
    _mark(ledger, "5")

    # a run that decided "unchanged" from the ledger alone (it read no Stripe) keeps the mark
    ledger.record_outcome(outcome("4", "unchanged", run_id="run-2"))
    # a repair: the run read Stripe and made it equal JDE again
    ledger.record_outcome(
        outcome(
            "5",
            "repaired",
            action="create",
            stripe_id="cus_5b",
            payload_hash="hash-5",
            replaces_stripe_id="cus_5",
            run_id="run-2",
        )
    )

    assert [m.jde_key for m in ledger.drift.marked()] == ["4"]
    repaired = ledger.get_mappings("customer", ["5"])["5"]
    assert (repaired.stripe_id, repaired.drift, repaired.drift_at) == ("cus_5b", None, None)
    assert ledger.outcome_counts("run-2") == {"unchanged": 1, "repaired": 1}


def test_a_finding_after_a_failure_does_not_hide_it_from_replay(ledger: Ledger) -> None:
    ledger.record_outcome(outcome("6"))
    ledger.record_outcome(outcome("6", "failed", run_id="run-2"))
    _mark(ledger, "6")

    assert [e.record_key for e in ledger.failed_for_replay(["2025-03-01"])] == ["6"]
