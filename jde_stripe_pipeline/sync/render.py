"""A `Plan` as text for a person (or JSON lines for a tool): pure, so the CLI and the tests share it.

Each record that would change gets one line (action, Stripe id, reason, detail), then one indented
line per Stripe write a sync would send, in order: verb, path and idempotency key. A path naming
`{created#1}` stands for the id Stripe gives the object the first operation creates.
"""

from __future__ import annotations

import json

from jde_stripe_pipeline.sync.operations import StripeOperation
from jde_stripe_pipeline.sync.results import Plan, PlannedChange

OPERATION_INDENT = "    "


def render_operation(number: int, operation: StripeOperation) -> str:
    return f"{OPERATION_INDENT}{number}. {operation.verb} {operation.path}  {operation.idempotency_key}"


def _change_line(change: PlannedChange) -> str:
    detail = ", ".join(f"{name}={value}" for name, value in change.detail.items() if value)
    text = f"{change.object_type:8} {change.record_key:22} {change.action:10} {change.stripe_id or '-'}"
    if change.reason:
        text += f"  {change.reason}"
    if detail:
        text += f"  [{detail}]"
    return text


def _as_json(change: PlannedChange) -> str:
    return json.dumps(
        {
            "object_type": change.object_type,
            "record_key": change.record_key,
            "action": change.action,
            "outcome": change.outcome,
            "stripe_id": change.stripe_id,
            "reason": change.reason,
            "detail": change.detail,
            "operations": [
                {
                    "method": operation.method,
                    "verb": operation.verb,
                    "path": operation.path,
                    "idempotency_key": operation.idempotency_key,
                }
                for operation in change.operations
            ],
        },
        default=str,
        sort_keys=True,
    )


def render_plan(plan: Plan, *, as_json: bool = False) -> str:
    """A plan as text: each record that would change with its operations, then the counts."""
    if as_json:
        return "\n".join(_as_json(change) for change in plan.changes)
    lines = []
    for change in plan.changes:
        if change.action == "nothing" and not change.operations:
            continue
        lines.append(_change_line(change))
        lines.extend(render_operation(n, op) for n, op in enumerate(change.operations, start=1))
    counts = ", ".join(f"{action} {count}" for action, count in sorted(plan.counts().items()))
    writes = len(plan.operations())
    lines.append(
        f"{plan.object_type}s: {counts or 'none in the window'} "
        f"({writes} Stripe writes planned, {plan.requests_sent} Stripe reads)"
    )
    return "\n".join(lines)
