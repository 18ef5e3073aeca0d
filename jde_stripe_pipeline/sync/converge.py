"""Converging a mapped draft: the ordered calls, and the decision on a draft read by its lines alone.

A draft of more lines than a retrieve embeds (10) costs a retrieve and a line listing to read whole.
From 10 JDE lines on (`stripe_state.reads_lines_first`: a draft JDE took a line from held 11), it is
read by its line listing alone instead (`StripeState.lines_only`, one request for up to 100 lines):
the line calls are decided first; Stripe refuses them on an invoice that is no longer a draft (the
engine then reads the header and decides the conflict), and otherwise answers with the invoice, whose
header the engine converges next (`then_header`). So a changed long draft costs 1 read + 1 call per
kind of line change (+1 when a header field differs), like a short one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from jde_stripe_pipeline.ledger import ObjectMapping
from jde_stripe_pipeline.mapping import InvoiceRequest
from jde_stripe_pipeline.mapping import content_hash as hash_of
from jde_stripe_pipeline.sync.decision import (
    READ_STRIPE,
    Decision,
    ReadStripe,
    StripeState,
    generation,
    stripe_key,
)
from jde_stripe_pipeline.sync.diff import LineDiff, diff_lines
from jde_stripe_pipeline.sync.operations import Method, StripeOperation
from jde_stripe_pipeline.sync.work import Work


def converge_operations(
    work: Work, request: InvoiceRequest, invoice_id: str, header: list[str], lines: LineDiff, gen: str
) -> tuple[StripeOperation, ...]:
    """Remove, update, add, then the header: at most four calls, each keyed by its own content. The
    header goes last so that a draft read by its lines alone sends the same calls in the same order."""

    def operation(method: Method, name: str, content: object, params: Mapping[str, Any]) -> StripeOperation:
        key = stripe_key("invoice", work, name, hash_of(content), gen)
        return StripeOperation(method, invoice_id, key, params)

    operations: list[StripeOperation] = []
    if lines.remove:
        removed = [{"id": line_id, "behavior": "delete"} for line_id in lines.remove]
        content: object = {"invoice": invoice_id, "remove": sorted(lines.remove)}
        operations.append(operation("invoices.remove_lines", "remove_lines", content, {"lines": removed}))
    if lines.update:
        updates = [line.update_params(line_id) for line_id, line in lines.update]
        content = {"invoice": invoice_id, "update": updates}
        operations.append(operation("invoices.update_lines", "update_lines", content, {"lines": updates}))
    if lines.add:
        added = [line.params() for line in lines.add]
        content = {"invoice": invoice_id, "lines": added}
        operations.append(operation("invoices.add_lines", "add_lines", content, {"lines": added}))
    if header:
        params = request.update_params()
        content = {"invoice": invoice_id, "header": params}
        operations.append(operation("invoices.update", "update", content, params))
    return tuple(operations)


def converge_lines_only(
    work: Work, request: InvoiceRequest, mapping: ObjectMapping, state: StripeState
) -> Decision | ReadStripe:
    """The line calls of a draft read by its lines alone; READ_STRIPE (its header) when its lines need
    none, or show what only the header settles (another currency: a conflict, decided on the header)."""
    lines = diff_lines(request, state.lines)
    currencies = {str(line["currency"]).lower() for line in state.lines if line.get("currency")}
    if lines.empty or currencies - {request.currency.lower()}:
        return READ_STRIPE
    invoice_id = mapping.stripe_id
    detail: dict[str, object] = {"fields": [], **lines.summary()}
    if lines.person_added:
        detail["person_added_lines"] = list(lines.person_added)
    operations = converge_operations(work, request, invoice_id, [], lines, generation(mapping))
    return Decision("invoice", work.record_key, "updated", "converge", invoice_id, None, detail, operations)


def then_header(lines: Decision, header: Decision) -> Decision:
    """One record's outcome from its line calls and the decision taken on their answer (the header's
    update, nothing, or a conflict a create-only field makes), with every call sent, in order."""
    detail = {**header.detail, **lines.detail, "fields": header.detail.get("fields", [])}
    detail.pop("already_applied", None)
    operations = lines.operations + header.operations
    if header.outcome != "updated":
        return replace(header, detail=detail, operations=operations)
    return replace(lines, detail=detail, operations=operations)
