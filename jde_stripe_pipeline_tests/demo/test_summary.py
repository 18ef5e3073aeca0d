"""The demo's summary: pure functions over plain data."""

from jde_stripe_pipeline.demo.summary import (
    CheckResult,
    DemoReport,
    JdeChange,
    PartitionRun,
    StripeInvoice,
    SyncRound,
    count_writes,
    format_report,
    money,
    totals_per_currency,
    write_request_kind,
)


def _run(key: str, *checks: CheckResult, success: bool = True) -> PartitionRun:
    return PartitionRun(key, f"run-{key}", success, 1.0, checks)


RECONCILED = CheckResult("billing_reconciliation", "stripe_matches_jde", True, "ERROR")
MISMATCH = CheckResult("billing_reconciliation", "stripe_matches_jde", False, "ERROR")
QUARANTINE_WARNING = CheckResult("stripe_customers", "no_quarantined_or_failed_customers", False, "WARN")


def _report(second: SyncRound | None = None, moved: tuple[tuple[str, str], ...] = ()) -> DemoReport:
    first = SyncRound("First sync", (_run("2026-11-01", RECONCILED),), {"created": 3}, {"created": 2})
    return DemoReport(
        seeded="3 customers / 2 invoices",
        first=first,
        stripe_customers=3,
        stripe_invoices=(
            StripeInvoice("in_1", "draft", "usd", 123456, 2),
            StripeInvoice("in_2", "draft", "jpy", 5000, 1),
            StripeInvoice("in_3", "draft", "usd", 1, 1),
        ),
        problems=(),
        ledger_location="/x/jde_stripe_state.sqlite",
        audit_example="jde-stripe audit 00001/1/OP/000",
        changes=(JdeChange("invoice", "00001/1/OP/000", "re-priced"), JdeChange("customer", "7", "renamed")),
        second=second,
        moved=moved,
    )


def test_write_kinds_hide_ids_and_keep_verbs() -> None:
    assert write_request_kind("POST", "/v1/invoices/in_123/add_lines") == "POST /v1/invoices/{id}/add_lines"
    assert write_request_kind("POST", "/v1/customers/cus_9") == "POST /v1/customers/{id}"
    assert write_request_kind("POST", "/v1/customers") == "POST /v1/customers"
    assert write_request_kind("DELETE", "/v1/invoices/in_1?x=1") == "DELETE /v1/invoices/{id}"


def test_count_writes_ignores_reads_and_refused_requests() -> None:
    log = [
        {"method": "GET", "path": "/v1/customers", "status": 200},
        {"method": "POST", "path": "/v1/customers", "status": 200},
        {"method": "POST", "path": "/v1/customers", "status": 429},
        {"method": "POST", "path": "/v1/customers/cus_1", "status": 200},
        {"method": "POST", "path": "/v1/customers/cus_2", "status": 200},
        {"method": "POST", "path": "/v1/invoices", "status": 0},
    ]
    assert count_writes(log) == {"POST /v1/customers": 1, "POST /v1/customers/{id}": 2}


def test_money_uses_each_currency_exponent() -> None:
    assert money(123456, "usd") == "USD 1,234.56"
    assert money(5000, "jpy") == "JPY 5,000"
    assert money(1234, "kwd") == "KWD 1.234"


def test_totals_add_up_per_currency() -> None:
    assert totals_per_currency(_report().stripe_invoices) == {"jpy": 5000, "usd": 123457}


def test_a_warning_check_does_not_fail_reconciliation_but_an_error_check_or_a_failed_run_does() -> None:
    assert _run("d", RECONCILED, QUARANTINE_WARNING).reconciliation_passed
    assert not _run("d", MISMATCH).reconciliation_passed
    assert not _run("d", RECONCILED, success=False).reconciliation_passed


def test_only_changes_moved_compares_the_sets() -> None:
    second = SyncRound("Second", (_run("2026-11-26", RECONCILED),), {"updated": 1}, {"updated": 1})
    exact = _report(second, moved=(("customer", "7"), ("invoice", "00001/1/OP/000")))
    assert exact.only_changes_moved and exact.passed
    extra = _report(second, moved=(*exact.moved, ("other", "1 record(s) not changed by the demo")))
    assert not extra.only_changes_moved
    missing = _report(second, moved=(("customer", "7"),))
    assert not missing.only_changes_moved


def test_report_fails_when_any_round_fails_reconciliation() -> None:
    second = SyncRound("Second", (_run("2026-11-26", MISMATCH),), {}, {"updated": 1})
    report = _report(second)
    assert not report.passed
    assert "Result: FAILED" in format_report(report)


def test_format_report_shows_counts_totals_checks_and_moves() -> None:
    second = SyncRound(
        "Second sync",
        (_run("2026-11-26", RECONCILED),),
        {"updated": 1},
        {"updated": 1},
        {"POST /v1/customers/{id}": 1, "POST /v1/invoices/{id}/update_lines": 1},
    )
    text = format_report(_report(second, moved=(("invoice", "00001/1/OP/000"), ("customer", "7"))))
    assert "customers: created 3" in text
    assert "invoices:  3 (draft 3), 4 lines" in text
    assert "USD 1,234.57" in text and "JPY 5,000" in text
    assert "billing_reconciliation.stripe_matches_jde: passed 1/1" in text
    assert "Stripe write requests: 2" in text
    assert "(only the changed records moved)" in text
    assert "try:    jde-stripe audit 00001/1/OP/000" in text
    assert text.rstrip().endswith("Result: PASSED (reconciliation of every run)")


def test_format_report_shows_each_stripe_account_and_the_unrouted() -> None:
    import dataclasses

    from jde_stripe_pipeline.demo.summary import AccountHoldings, Problem

    report = _report()
    first = dataclasses.replace(
        report.first,
        account_outcomes={
            "us": {"customer": {"created": 3}, "invoice": {"created": 1}},
            "eu": {"customer": {"created": 1}, "invoice": {"created": 1}},
        },
    )
    report = dataclasses.replace(
        report,
        first=first,
        holdings=(
            AccountHoldings("us", ("00001",), "acct_us", 3, (StripeInvoice("in_1", "draft", "usd", 100, 1),)),
            AccountHoldings("eu", ("00200",), "acct_eu", 1, (StripeInvoice("in_2", "draft", "eur", 250, 2),)),
        ),
        problems=(Problem("invoice", "00300/5/OP/000", "quarantined", "F4301.KCOO: not routed", "-"),),
    )
    text = format_report(report)
    assert "    account us: customers created 3; invoices created 1" in text
    assert "    account eu: customers created 1; invoices created 1" in text
    assert "Stripe account us (JDE companies 00001; emulator acct_us) now holds:" in text
    assert "Stripe account eu (JDE companies 00200; emulator acct_eu) now holds:" in text
    assert "EUR 2.50" in text and "USD 1.00" in text
    assert "invoice 00300/5/OP/000 (routed nowhere) [quarantined]: F4301.KCOO: not routed" in text
    assert "Stripe now holds:" not in text
