"""Engine reports as Dagster metadata a person can act on: counts, a preview, problems, links, the run.

Pure functions of the engine's frozen reports (no Dagster context, no I/O), so they are unit-tested
without a run. Counts are plain ints for every outcome (zero included), so charts and checks can rely
on the keys; tables are capped so a 10 000-record partition does not bloat the event log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg

from jde_stripe_pipeline.sync import ReconciliationReport, RecordResult, SyncReport

OUTCOMES = (
    "created",
    "updated",
    "unchanged",
    "repaired",
    "conflict",
    "quarantined",
    "failed",
    "deleted",
    "deferred",
)
"""A sync's outcomes (`repaired`: drift the reconciliation found, made equal to JDE again)."""
PREVIEW_ROWS = 50
URGENCY = {"failed": 0, "conflict": 1, "quarantined": 2}
PROBLEM_ROWS = 200

Link = Callable[[str], str | None]
Metadata = dict[str, Any]
"""Materialization metadata: values Dagster accepts as raw metadata (ints, strs, MetadataValue)."""

PREVIEW_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("record", "string", description="AN8, or KCOO/DOCO/DCTO/SFXO"),
        dg.TableColumn("outcome", "string"),
        dg.TableColumn("action", "string"),
        dg.TableColumn("stripe_id", "string"),
        dg.TableColumn("link", "string", description="Stripe dashboard (or emulator API) URL"),
        dg.TableColumn("requests", "int", description="Stripe requests this record cost"),
        dg.TableColumn("reason", "string"),
    ]
)


def outcome_counts(report: SyncReport) -> dict[str, int]:
    counts = report.counts()
    return {outcome: int(counts.get(outcome, 0)) for outcome in OUTCOMES}  # type: ignore[call-overload]


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _link_md(stripe_id: str | None, link: Link) -> str:
    if not stripe_id:
        return ""
    url = link(stripe_id)
    return f"[{stripe_id}]({url})" if url else stripe_id


def problems_markdown(problems: Sequence[RecordResult], link: Link, *, limit: int = PROBLEM_ROWS) -> str:
    """Quarantined / failed / conflict records with the reason naming the record and the field."""
    if not problems:
        return "No quarantined, failed or conflicting records."
    rows = [
        f"| {_cell(p.record_key)} | {p.outcome} | {_link_md(p.stripe_id, link)} | {_cell(p.reason)} |"
        for p in problems[:limit]
    ]
    more = (
        [f"\n…and {len(problems) - limit} more (see `jde-stripe audit <key>`)"]
        if len(problems) > limit
        else []
    )
    return "\n".join(["| record | outcome | stripe | reason |", "|---|---|---|---|", *rows, *more])


def _preview(results: Sequence[RecordResult], link: Link) -> dg.TableMetadataValue:
    # Problems first, the most urgent at the top: they are what a person opens the table for.
    ordered = sorted(results, key=lambda r: (URGENCY.get(r.outcome, len(URGENCY)), r.record_key))
    records = [
        dg.TableRecord(
            {
                "record": r.record_key,
                "outcome": r.outcome,
                "action": r.action,
                "stripe_id": r.stripe_id or "",
                "link": (link(r.stripe_id) or "") if r.stripe_id else "",
                "requests": int(r.requests),
                "reason": r.reason or "",
            }
        )
        for r in ordered[:PREVIEW_ROWS]
    ]
    return dg.MetadataValue.table(records, schema=PREVIEW_SCHEMA)


def sync_metadata(report: SyncReport, *, run_id: str, link: Link) -> Metadata:
    """Everything a Stripe asset's materialization (or its failure) shows."""
    results = list(report.results)
    problems = report.problems()
    if report.customers is not None:  # the customers an invoice sync wrote on its lane
        results += report.customers.results
        problems += report.customers.problems()
    metadata: Metadata = {
        **outcome_counts(report),
        "records": len(report.results),
        "stripe_requests": int(report.requests_sent),
        "seconds": round(float(report.seconds), 3),
        "preview": _preview(results, link),
        "problems": dg.MetadataValue.md(problems_markdown(problems, link)),
        "run_id": run_id,
    }
    if report.customers is not None:
        metadata["customers_written_with_invoices"] = dg.MetadataValue.json(outcome_counts(report.customers))
    touched = [r for r in results if r.stripe_id and r.outcome in ("created", "updated", "repaired")]
    if touched:
        first = link(touched[0].stripe_id or "")
        if first:
            metadata["first_changed_stripe_object"] = dg.MetadataValue.url(first)
    return metadata


def reconciliation_markdown(report: ReconciliationReport, link: Link, *, limit: int = PROBLEM_ROWS) -> str:
    differing = report.mismatched()
    if not differing and not report.skipped:
        return f"All {len(report.invoices)} invoice(s) match JDE."
    rows = []
    for item in differing[:limit]:
        figures = "; ".join(
            [
                *(
                    f"{name}: JDE {item.expected.get(name)!r} vs Stripe {item.actual.get(name)!r}"
                    for name in item.mismatches
                    if name in item.expected
                ),
                *item.differences,
            ]
        )
        differs = ", ".join([*item.mismatches, *(["drift: repaired by the next sync"] if item.drift else [])])
        rows.append(
            f"| {_cell(item.record_key)} | {_link_md(item.stripe_id, link)} | {item.status or '-'} | "
            f"{_cell(differs or 'owned fields')} | {_cell(figures)} |"
        )
    rows += [f"| {_cell(skip)} | | | skipped | |" for skip in report.skipped[:limit]]
    return "\n".join(["| record | stripe | status | differs | figures |", "|---|---|---|---|---|", *rows])


def reconciliation_metadata(report: ReconciliationReport, *, run_id: str, link: Link) -> Metadata:
    person_lines = sum(len(item.person_added_lines) for item in report.invoices)
    return {
        "invoices": len(report.invoices),
        "matching": sum(item.matches for item in report.invoices),
        "mismatches": len(report.mismatched()),
        "conflicts": len(report.conflicts),
        "drifted": len(report.drifted()),
        "skipped": len(report.skipped),
        "person_added_lines": int(person_lines),
        "stripe_requests": int(report.requests_sent),
        "differences": dg.MetadataValue.md(reconciliation_markdown(report, link)),
        "run_id": run_id,
    }
