"""`MappingFailure`: a record the mapping refuses, as a value (returned, never raised).

A mapping is all or nothing: one field Stripe cannot take exactly makes the whole record a failure,
so Stripe never receives half of a customer or an invoice. The failure names the record, the JDE
field (`TABLE.ALIAS` where there is one) and the reason, carries the record as JSON, and converts to
the `QuarantinedRecord` the ledger stores.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from jde_stripe_pipeline.jde.records import QuarantinedRecord, RecordKind


@dataclass(frozen=True, slots=True)
class MappingFailure:
    kind: RecordKind
    record_key: str
    """AN8 for customers, `KCOO/DOCO/DCTO/SFXO` for invoices (the same keys `QuarantinedRecord` uses)."""
    field: str
    """The JDE field at fault, e.g. `F4311.AEXP`, or the Stripe parameter when no JDE field applies."""
    reason: str
    raw: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)
    """The record as JSON, so nothing is lost when it is quarantined."""

    @classmethod
    def of_record(
        cls, kind: RecordKind, record_key: str, record: BaseModel, field: str, reason: str
    ) -> MappingFailure:
        """The failure of a JDE record, which it carries as JSON."""
        return cls(kind, record_key, field, reason, record.model_dump(mode="json"))

    def __str__(self) -> str:
        return f"{self.kind} {self.record_key}: {self.field}: {self.reason}"

    def to_quarantined_record(self) -> QuarantinedRecord:
        return QuarantinedRecord(
            kind=self.kind, record_key=self.record_key, field=self.field, reason=self.reason, raw=self.raw
        )
