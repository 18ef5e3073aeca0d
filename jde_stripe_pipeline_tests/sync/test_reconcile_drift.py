"""The pure reconciliation of owned fields and JDE lines, and what is drift (no server)."""

from __future__ import annotations

from dataclasses import replace

from jde_stripe_pipeline.sync.decide import ABSENT
from jde_stripe_pipeline.sync.reconcile import compare_invoice, expected_of, report_of, with_drift
from jde_stripe_pipeline.sync.results import InvoiceReconciliation
from jde_stripe_pipeline_tests.sync.test_decide import (
    DOC,
    by_mapping,
    invoice_request,
    mapping,
    stripe_invoice,
)

REQUEST = invoice_request()
SYNCED = mapping("invoice", DOC, "in_1", REQUEST.change_hash)
"""The ledger's mapping of a record JDE did not change since it was synced."""


def _compared(lines: list[dict[str, object]] | None = None, **header: object) -> InvoiceReconciliation:
    invoice = {**stripe_invoice(REQUEST, lines), **header}
    return compare_invoice(DOC, expected_of(REQUEST), by_mapping(invoice), REQUEST)


def _line(n: int, **changes: object) -> dict[str, object]:
    return {"id": f"il_{n}", **REQUEST.lines[n - 1].params(), **changes}


def test_a_draft_as_synced_matches_with_a_persons_line_and_metadata_key() -> None:
    person = {"id": "il_9", "amount": 5, "description": "a person's", "metadata": {}}
    item = _compared([_line(1), _line(2), person], metadata={**REQUEST.metadata, "po_note": "x"})
    assert (item.matches, item.differences, item.person_added_metadata) == (True, (), ("po_note",))
    assert with_drift(item, REQUEST, SYNCED) is item


def test_owned_fields_and_lines_edited_in_a_draft_are_drift_named_one_by_one() -> None:
    edited = _line(1, description="renamed", metadata={"jde_lnid": "1.000", "jde_item": "Y"})
    item = _compared([edited], collection_method="charge_automatically")

    assert item.mismatches == ("line_count", "total")
    assert item.differences == (
        "collection_method",
        "line 2.000 missing",
        "line 1.000: description, metadata",
    )
    drifted = with_drift(item, REQUEST, SYNCED)
    assert drifted.drift == (
        "draft in_1 edited in Stripe: collection_method; line 2.000 missing; "
        "line 1.000: description, metadata"
    )
    # JDE changed since the sync (the mapping holds an older hash): the sync sends it, no drift
    assert with_drift(item, REQUEST, replace(SYNCED, content_hash="older")).drift is None
    assert with_drift(item, REQUEST, None).drift is None  # never synced: nothing to repair


def test_a_deleted_draft_is_drift_and_a_finalized_invoice_only_a_conflict() -> None:
    gone = with_drift(compare_invoice(DOC, expected_of(REQUEST), ABSENT, REQUEST), REQUEST, SYNCED)
    assert (gone.mismatches, gone.drift) == (("missing",), "draft in_1 deleted in Stripe")

    finalized = _compared([_line(1, description="renamed"), _line(2)], status="open", number="OP-1001")
    assert (finalized.mismatches, finalized.differences) == ((), ("line 1.000: description",))
    assert with_drift(finalized, REQUEST, SYNCED).drift is None
    report = report_of([finalized, gone], (), 0)
    assert [c.record_key for c in report.conflicts] == [DOC]
    assert [c.status for c in report.conflicts] == ["open"]
