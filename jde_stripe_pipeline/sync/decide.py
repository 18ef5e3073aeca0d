"""The decision core: what to do with one record, as data. Pure: no Stripe, no ledger, no clock.

Input: the record's mapped request (in a `Work`, with its attempt number), the ledger's mapping (or
None), what the ledger's intent row knows (`Known`) and what Stripe holds (`StripeState`). Output: a
`Decision` — the outcome it leads to, the action, the Stripe id, a reason, a detail and the exact
ordered `StripeOperation`s with their idempotency keys — or `READ_STRIPE` when the decision needs
Stripe's state first. `plan` prints the decisions; `sync` executes them (and re-decides when Stripe's
answer changes the state); both go through these two functions and nothing else decides.

A record with no mapping is read in Stripe only when the ledger knows something of it (a Stripe id,
or a create sent without a recorded outcome that Stripe can no longer replay); one the ledger never
created is created without any read, so a run costs what changed, not what the account holds.

Idempotency keys are deterministic (see `stripe_key`): object + JDE key + operation + a hash of the
operation's own content, the generation and the attempt. (An invoice create's content leaves out the
Stripe customer id, so that a plan shows the key before a new customer exists; should Stripe ever
answer a key with `idempotency_error`, the engine moves the record to a new attempt.) The generation
makes one content sendable twice legitimately: the mapping's `updated_at` for updates (it moves only
when an outcome is recorded, so a rerun after a crash reuses the key and gets Stripe's replay), the id
of the object being replaced for a re-create, the id of a since-deleted object a create replayed. The
lines added to a new invoice are keyed by the key that creates it (the id is unknown before Stripe
answers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jde_stripe_pipeline.ledger import Action, ObjectMapping
from jde_stripe_pipeline.mapping import CustomerRequest, DeleteDraftInvoice, InvoiceRequest
from jde_stripe_pipeline.mapping import content_hash as hash_of
from jde_stripe_pipeline.mapping.requests import DocumentGone
from jde_stripe_pipeline.sync.converge import converge_lines_only, converge_operations
from jde_stripe_pipeline.sync.decision import (
    ABSENT,
    DRAFT,
    NOTHING_KNOWN,
    READ_STRIPE,
    UNREAD,
    BlockedCustomer,
    BusyCustomer,
    CustomerLink,
    Decision,
    Known,
    PendingCustomer,
    ReadStripe,
    StripeState,
    blocked,
    generation,
    quarantined,
    stripe_key,
)
from jde_stripe_pipeline.sync.diff import (
    create_only_differences,
    customer_differences,
    diff_lines,
    invoice_header_differences,
    person_added_metadata,
)
from jde_stripe_pipeline.sync.drift import as_repair
from jde_stripe_pipeline.sync.operations import Created, StripeOperation
from jde_stripe_pipeline.sync.work import Work

__all__ = [
    "ABSENT",
    "DRAFT",
    "NOTHING_KNOWN",
    "READ_STRIPE",
    "UNREAD",
    "BlockedCustomer",
    "BusyCustomer",
    "CustomerLink",
    "Decision",
    "Known",
    "PendingCustomer",
    "ReadStripe",
    "StripeState",
    "decide_customer",
    "decide_invoice",
    "stripe_key",
]


def _unmapped_needs_read(known: Known, create_key: str) -> bool:
    """Without a mapping: read Stripe first unless the ledger knows nothing of the record, or the only
    thing it knows is a create under this very key that Stripe still replays (re-sending it is safe)."""
    if known.stripe_id is not None:
        return True
    if known.pending_key is None:
        return False
    return not (known.replayable and known.pending_key == create_key)


# ------------------------------------------------------------------------------------ customers


def decide_customer(
    work: Work, mapping: ObjectMapping | None, state: StripeState, known: Known = NOTHING_KNOWN
) -> Decision | ReadStripe:
    """Unchanged → nothing (unless marked drifted: then as if changed, and `repaired`, see `drift.py`);
    mapped → update (blind: no read); gone → create anew; unmapped → create at once when the ledger
    knows nothing of it, else relink to the one Stripe holds (updated only where it differs) or create."""
    if work.request is None:
        return quarantined("customer", work)
    request = work.request
    assert isinstance(request, CustomerRequest)
    jde_changed = mapping is None or mapping.content_hash != request.change_hash
    if mapping is not None and not jde_changed and mapping.drift is None:
        return Decision("customer", work.record_key, "unchanged", "nothing", mapping.stripe_id)
    decided = _decide_customer(work, request, mapping, state, known)
    if isinstance(decided, ReadStripe):
        return decided
    return as_repair(decided, mapping, jde_changed=jde_changed)


def _decide_customer(
    work: Work, request: CustomerRequest, mapping: ObjectMapping | None, state: StripeState, known: Known
) -> Decision | ReadStripe:
    key = work.record_key
    if mapping is not None and state.source in ("unread", "mapping"):
        update = StripeOperation(
            "customers.update",
            mapping.stripe_id,
            stripe_key("customer", work, "update", request.content_hash, generation(mapping)),
            request.update_params(),
        )
        seen = {"fields": customer_differences(request, state.object)} if state.object is not None else {}
        blind = state.source == "unread"
        return Decision(
            "customer", key, "updated", "update", mapping.stripe_id, None, seen, (update,), blind=blind
        )
    if mapping is not None:
        return _create_customer(
            work,
            request,
            state.stale_replay or mapping.stripe_id,
            replaces=mapping.stripe_id,
            detail={"replaced": mapping.stripe_id, "reason": "the Stripe customer was deleted"},
        )
    if state.source == "unread":
        fresh = _create_customer(work, request, "new")
        create = fresh.create
        assert create is not None
        return READ_STRIPE if _unmapped_needs_read(known, create.idempotency_key) else fresh
    if state.source == "relink" and state.object is not None:
        existing = str(state.object["id"])
        detail: dict[str, object] = {}
        if state.duplicates:
            detail["duplicates_in_stripe"] = list(state.duplicates)
        fields = customer_differences(request, state.object)
        if not fields:
            return Decision("customer", key, "unchanged", "relink", existing, None, detail)
        update = StripeOperation(
            "customers.update",
            existing,
            stripe_key("customer", work, "update", request.content_hash, f"relink:{existing}"),
            request.update_params(),
        )
        detail["fields"] = fields
        return Decision("customer", key, "updated", "relink", existing, None, detail, (update,))
    return _create_customer(work, request, state.stale_replay or "new")


def _create_customer(
    work: Work,
    request: CustomerRequest,
    generation_: str,
    *,
    replaces: str | None = None,
    detail: Mapping[str, object] | None = None,
) -> Decision:
    create = StripeOperation(
        "customers.create",
        None,
        stripe_key("customer", work, "create", request.content_hash, generation_),
        request.params(),
    )
    return Decision(
        "customer",
        work.record_key,
        "created",
        "create",
        Created(0),
        None,
        dict(detail or {}),
        (create,),
        replaces,
    )


# ------------------------------------------------------------------------------------- invoices


def decide_invoice(
    work: Work,
    mapping: ObjectMapping | None,
    state: StripeState,
    known: Known = NOTHING_KNOWN,
    *,
    customer: CustomerLink = None,
    already_deleted: bool = False,
) -> Decision | ReadStripe:
    """Unchanged → nothing; no draft → create it with its lines (at once when the ledger knows nothing
    of it); a draft → converge header and lines by `jde_lnid`; not a draft any more → conflict; nothing
    left to bill → delete the draft; customer quarantined → quarantined too. A record marked drifted
    (its draft deleted or edited in Stripe, JDE unchanged) is read and re-created or converged as
    `repaired` (`drift.py`).

    `customer`: the invoice's Stripe customer (see `CustomerLink`); `already_deleted`: the ledger's
    latest outcome for the record is the deletion of this content."""
    if work.request is None:
        return quarantined("invoice", work)
    request = work.request
    if isinstance(request, DeleteDraftInvoice):
        return _decide_delete(work, request, mapping, state, known, already_deleted)
    assert isinstance(request, InvoiceRequest)
    key = work.record_key
    jde_changed = mapping is None or mapping.content_hash != request.change_hash
    if mapping is not None and not jde_changed and mapping.drift is None:
        return Decision("invoice", key, "unchanged", "nothing", mapping.stripe_id)
    if isinstance(customer, BlockedCustomer):
        return blocked(work, customer)
    if isinstance(customer, BusyCustomer):
        reason = f"invoice {key}: its customer is being synced by another run ({customer.reason})"
        return Decision("invoice", key, "deferred", "nothing", None, reason)
    if customer is None:
        return Decision(
            "invoice",
            key,
            "failed",
            "create" if mapping is None else "converge",
            mapping.stripe_id if mapping else None,
            f"invoice {key}: customer AN8 {request.customer_an8} is not in Stripe "
            "(it could not be synced: see the customer's own outcome)",
        )
    if isinstance(customer, str):
        request = request.with_customer(customer)
    if state.source == "unread":
        if mapping is not None:
            return READ_STRIPE
        fresh = _create_invoice(work, request, None, state, customer)
        create = fresh.create
        assert create is not None
        return READ_STRIPE if _unmapped_needs_read(known, create.idempotency_key) else fresh
    if state.lines_only:
        assert mapping is not None
        return converge_lines_only(work, request, mapping, state)
    if state.object is None:
        created = _create_invoice(work, request, mapping, state, customer)
        return as_repair(created, mapping, jde_changed=jde_changed)
    return as_repair(_converge(work, request, mapping, state), mapping, jde_changed=jde_changed)


def _decide_delete(
    work: Work,
    request: DeleteDraftInvoice,
    mapping: ObjectMapping | None,
    state: StripeState,
    known: Known,
    already_deleted: bool,
) -> Decision | ReadStripe:
    key = work.record_key
    if mapping is None and already_deleted:
        reason = f"{request.reason}; its Stripe draft was deleted before"
        return Decision("invoice", key, "deleted", "nothing", None, reason)
    if state.source == "unread" and (mapping is not None or known.anything):
        return READ_STRIPE
    invoice = state.object
    if invoice is None:
        return Decision(
            "invoice", key, "deleted", "nothing", None, f"{request.reason}; Stripe holds no draft for it"
        )
    invoice_id = str(invoice["id"])
    if invoice.get("status") != DRAFT:
        return Decision(
            "invoice", key, "conflict", "conflict", invoice_id, finalized_reason(key, invoice, request.reason)
        )
    return delete_draft(work, request, invoice_id, request.reason)


def delete_draft(work: Work, request: DocumentGone, invoice_id: str, reason: str) -> Decision:
    """Delete the Stripe draft of a document that has nothing left to bill (or was voided)."""
    key = stripe_key("invoice", work, "delete", request.content_hash, invoice_id)
    delete = StripeOperation("invoices.delete", invoice_id, key)
    return Decision("invoice", work.record_key, "deleted", "delete", invoice_id, reason, operations=(delete,))


def _create_invoice(
    work: Work,
    request: InvoiceRequest,
    mapping: ObjectMapping | None,
    state: StripeState,
    customer: str | PendingCustomer,
) -> Decision:
    """`invoices.create` then ONE `add_lines` (the mapping refuses more lines than Stripe's 250 per
    invoice), keyed by the create's key: the new invoice's id is unknown until Stripe answers."""
    generation_ = state.stale_replay or (mapping.stripe_id if mapping else "new")
    create_key = stripe_key("invoice", work, "create", request.content_hash, generation_)
    params = request.params() if request.customer_id else request.with_customer(str(customer)).params()
    operations = [StripeOperation("invoices.create", None, create_key, params)]
    lines = [line.params() for line in request.lines]
    if lines:
        content = hash_of({"invoice": create_key, "lines": lines})
        add_key = stripe_key("invoice", work, "add_lines", content, create_key)
        operations.append(StripeOperation("invoices.add_lines", Created(0), add_key, {"lines": lines}))
    detail: dict[str, object] = {"lines_added": len(request.lines)}
    if mapping is not None:
        detail["replaced"] = mapping.stripe_id
    if isinstance(customer, PendingCustomer):
        detail["customer"] = f"AN8 {customer.an8} is not in Stripe yet: it will be synced first"
    replaces = mapping.stripe_id if mapping else None
    return Decision(
        "invoice", work.record_key, "created", "create", Created(0), None, detail, tuple(operations), replaces
    )


def _converge(
    work: Work, request: InvoiceRequest, mapping: ObjectMapping | None, state: StripeState
) -> Decision:
    """Converge header and lines by `jde_lnid` (`converge_operations`); a conflict when the draft is
    no longer one or a create-only field differs."""
    invoice = state.object
    assert invoice is not None
    key = work.record_key
    invoice_id = str(invoice["id"])
    header = invoice_header_differences(request, invoice)
    lines = diff_lines(request, state.lines)
    detail: dict[str, object] = {"fields": header, **lines.summary()}
    if lines.person_added:
        detail["person_added_lines"] = list(lines.person_added)
    extra_metadata = person_added_metadata(invoice, request.OWNED_METADATA_KEYS)
    if extra_metadata:
        detail["person_added_metadata"] = extra_metadata
    if state.duplicates:
        detail["duplicates_in_stripe"] = list(state.duplicates)
    action: Action = "relink" if state.source == "relink" else "converge"
    blocked = create_only_differences(request, invoice)
    changed = bool(header) or not lines.empty
    if invoice.get("status") != DRAFT:
        if changed or blocked:
            reason = finalized_reason(key, invoice)
            return Decision("invoice", key, "conflict", "conflict", invoice_id, reason, detail)
        return Decision("invoice", key, "unchanged", action, invoice_id, None, detail)
    if blocked:
        return Decision(
            "invoice", key, "conflict", "conflict", invoice_id, blocked_reason(key, blocked), detail
        )
    if not changed:
        if mapping is None:
            return Decision("invoice", key, "unchanged", action, invoice_id, None, detail)
        return Decision(
            "invoice", key, "updated", action, invoice_id, None, {**detail, "already_applied": True}
        )
    gen = generation(mapping) if mapping is not None else f"relink:{invoice_id}"
    operations = converge_operations(work, request, invoice_id, header, lines, gen)
    return Decision("invoice", key, "updated", action, invoice_id, None, detail, operations)


def finalized_reason(key: str, invoice: Mapping[str, Any], extra: str | None = None) -> str:
    why = f" ({extra})" if extra else ""
    return (
        f"invoice {key}: JDE changed it{why}, but Stripe invoice {invoice.get('id')} is "
        f"{invoice.get('status')}, no longer a draft: left untouched; "
        "void it or issue a credit note in Stripe"
    )


def blocked_reason(key: str, fields: Sequence[str]) -> str:
    return (
        f"invoice {key}: JDE changed {', '.join(fields)}, which a Stripe draft cannot change; "
        "delete the draft in Stripe and the next sync creates it anew"
    )
