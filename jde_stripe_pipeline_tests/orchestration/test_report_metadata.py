"""Engine reports become metadata a person can act on: stable int counts, problems first, links."""

from __future__ import annotations

import dagster as dg

from jde_stripe_pipeline.orchestration.report_metadata import (
    PREVIEW_ROWS,
    outcome_counts,
    problems_markdown,
    sync_metadata,
)
from jde_stripe_pipeline.sync import RecordResult, SyncReport


def result(key: str, outcome: str, stripe_id: str | None = None, reason: str | None = None) -> RecordResult:
    return RecordResult("customer", key, outcome, "create", stripe_id, reason, 1, None)  # type: ignore[arg-type]


def link(stripe_id: str) -> str:
    return f"https://dashboard.example/{stripe_id}"


REPORT = SyncReport(
    "customer",
    tuple(
        [result(str(10000 + i), "created", f"cus_{i}") for i in range(PREVIEW_ROWS + 5)]
        + [result("20001", "quarantined", reason="customer 20001: F0101.ALPH: blank | name")]
        + [result("20002", "failed", reason="customer 20002: HTTP 400: bad email")]
    ),
    requests_sent=57,
    seconds=1.5,
)


def test_counts_are_ints_for_every_outcome() -> None:
    counts = outcome_counts(REPORT)
    assert counts["created"] == PREVIEW_ROWS + 5 and counts["quarantined"] == counts["failed"] == 1
    assert counts["updated"] == counts["conflict"] == 0
    assert all(type(value) is int for value in counts.values())


def test_metadata_lists_problems_first_with_reasons_links_and_the_run() -> None:
    metadata = sync_metadata(REPORT, run_id="run-42", link=link)
    assert metadata["run_id"] == "run-42" and metadata["stripe_requests"] == 57
    preview = metadata["preview"]
    assert isinstance(preview, dg.TableMetadataValue)
    assert len(preview.records) == PREVIEW_ROWS
    assert [r.data["outcome"] for r in preview.records[:2]] == ["failed", "quarantined"]
    assert preview.records[2].data["link"] == "https://dashboard.example/cus_0"
    problems = metadata["problems"]
    assert isinstance(problems, dg.MarkdownMetadataValue)
    assert "F0101.ALPH: blank \\| name" in problems.value and "HTTP 400: bad email" in problems.value


def test_no_problems_says_so() -> None:
    assert problems_markdown([], link) == "No quarantined, failed or conflicting records."
