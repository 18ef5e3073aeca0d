"""One Stripe write as data: what `plan` prints and `sync` sends, so the two cannot drift apart.

A `StripeOperation` names the sink method (`invoices.add_lines`), its target (an id, or `Created`: the
object an earlier operation of the same decision creates, unknown until that one is answered), the
params and the idempotency key. Verb and path follow the `StripeSink`'s own calls (and Stripe's API).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Method = Literal[
    "customers.create",
    "customers.update",
    "invoices.create",
    "invoices.update",
    "invoices.delete",
    "invoices.add_lines",
    "invoices.remove_lines",
    "invoices.update_lines",
    "credit_notes.create",
]

ENDPOINTS: Mapping[Method, tuple[str, str]] = {
    "customers.create": ("POST", "/v1/customers"),
    "customers.update": ("POST", "/v1/customers/{id}"),
    "invoices.create": ("POST", "/v1/invoices"),
    "invoices.update": ("POST", "/v1/invoices/{id}"),
    "invoices.delete": ("DELETE", "/v1/invoices/{id}"),
    "invoices.add_lines": ("POST", "/v1/invoices/{id}/add_lines"),
    "invoices.remove_lines": ("POST", "/v1/invoices/{id}/remove_lines"),
    "invoices.update_lines": ("POST", "/v1/invoices/{id}/update_lines"),
    "credit_notes.create": ("POST", "/v1/credit_notes"),
}


@dataclass(frozen=True)
class Created:
    """Stands for the id of the object that operation number `index` (0-based) of the same decision
    creates: known only once Stripe answers it."""

    index: int = 0

    def __str__(self) -> str:
        return f"{{created#{self.index + 1}}}"


Target = str | Created | None


@dataclass(frozen=True)
class StripeOperation:
    method: Method
    target: Target
    """The object the call acts on (None for a create)."""
    idempotency_key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def verb(self) -> str:
        return ENDPOINTS[self.method][0]

    @property
    def path(self) -> str:
        """E.g. `/v1/invoices/in_123/add_lines`, or `/v1/invoices/{created#1}/add_lines`."""
        template = ENDPOINTS[self.method][1]
        return template.replace("{id}", str(self.target)) if self.target is not None else template

    def resolved(self, created: Mapping[int, str]) -> StripeOperation:
        """The same operation with a `Created` target replaced by the id Stripe gave that object."""
        if isinstance(self.target, Created):
            return StripeOperation(self.method, created[self.target.index], self.idempotency_key, self.params)
        return self
