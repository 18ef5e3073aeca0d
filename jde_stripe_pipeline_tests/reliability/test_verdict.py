"""The matrix's judge can fail: each kind of wrong Stripe or ledger state is counted where it belongs.
Pure (no server): JDE's truth, Stripe's objects and the ledger's rows are given."""

from __future__ import annotations

from typing import Any

from jde_stripe_pipeline.reliability.truth import CustomerTruth, InvoiceTruth, Truth, jde_truth, minor_units
from jde_stripe_pipeline.reliability.verdict import LedgerView, Verdict, judge

KEY = "00001/1001/OP/000"


def _truth() -> Truth:
    return Truth(
        {10001: CustomerTruth(10001, "synced", "Acme")},
        {KEY: InvoiceTruth(KEY, "billed", 10001, "USD", {"1.000": 1250, "2.000": -300})},
    )


def _stripe(
    lines: list[tuple[str, int]], invoices: int = 1, customers: int = 1
) -> dict[str, list[dict[str, Any]]]:
    meta = {"jde_kcoo": "00001", "jde_doco": "1001", "jde_dcto": "OP", "jde_sfxo": "000"}
    return {
        "customer": [
            {"id": f"cus_{n}", "name": "Acme", "metadata": {"jde_an8": "10001"}} for n in range(customers)
        ],
        "invoice": [
            {
                "id": f"in_{n}",
                "customer": "cus_0",
                "currency": "usd",
                "total": sum(a for _, a in lines),
                "metadata": meta,
            }
            for n in range(invoices)
        ],
        "invoiceitem": [
            {"invoice": "in_0", "amount": a, "metadata": {"jde_lnid": lnid}} for lnid, a in lines
        ],
    }


def _ledger(outcome: str = "created") -> LedgerView:
    final = {
        ("customer", "10001"): {"outcome": outcome, "reason": "boom"},
        ("invoice", KEY): {"outcome": outcome, "reason": "boom"},
    }
    mappings = {("customer", "10001"): "cus_0", ("invoice", KEY): "in_0"}
    return LedgerView(final, {}, mappings, {})


def _judged(**kwargs: Any) -> Verdict:
    ledger = kwargs.pop("ledger", _ledger())
    return judge(_truth(), _stripe(**kwargs), ledger)


def test_stripe_equal_to_jde_passes() -> None:
    verdict = _judged(lines=[("1.000", 1250), ("2.000", -300)])
    assert verdict.ok and verdict.records == 2, verdict.problems


def test_a_doubled_line_is_a_wrong_amount() -> None:
    verdict = _judged(lines=[("1.000", 1250), ("1.000", 1250), ("2.000", -300)])
    assert (verdict.wrong_amounts, verdict.duplicates) == (1, 0)
    assert "doubled ['1.000']" in verdict.problems[0]


def test_a_second_draft_or_customer_is_a_duplicate() -> None:
    verdict = _judged(lines=[("1.000", 1250), ("2.000", -300)], invoices=2, customers=2)
    assert verdict.duplicates == 2


def test_a_missing_draft_or_a_failed_last_outcome_is_lost() -> None:
    assert _judged(lines=[], invoices=0).lost == 1
    assert _judged(lines=[("1.000", 1250), ("2.000", -300)], ledger=_ledger("failed")).lost == 2


def test_the_oracle_reads_minor_units_exactly_and_refuses_what_stripe_cannot_take() -> None:
    assert [minor_units(v, c) for v, c in (("12.34", "USD"), ("12", "JPY"), ("1.230", "KWD"))] == [
        1234,
        12,
        1230,
    ]
    assert [
        minor_units(v, c)
        for v, c in (("12.345", "USD"), ("1.5", "JPY"), ("1.235", "KWD"), ("1000000", "USD"))
    ] == [None] * 4


def test_the_oracle_blames_the_field_at_fault() -> None:
    tables: dict[str, list[dict[str, Any]]] = {
        "F03012": [{"AN8": 1, "CO": "00001", "CRCD": "USD", "UPMJ": 126300}],
        "F0101": [{"AN8": 1, "ALPH": " ", "UPMJ": 126300}],
        "F0116": [],
        "F01151": [],
        "F0115": [],
        "F4301": [
            {
                "KCOO": "00001",
                "DOCO": 5,
                "DCTO": "OP",
                "SFXO": "000",
                "AN8": 1,
                "SHAN": 1,
                "TRDJ": 126300,
                "CRCD": "USD",
                "UPMJ": 126300,
            },
        ],
        "F4311": [
            {
                "KCOO": "00001",
                "DOCO": 6,
                "DCTO": "OP",
                "SFXO": "000",
                "LNID": 1,
                "AEXP": 1,
                "LTTR": "400",
                "CRCD": "USD",
                "UPMJ": 126300,
            },
        ],
    }
    truth = jde_truth(lambda table: tables[table])
    assert truth.customers[1].blamed == "F0101.ALPH"
    assert (truth.invoices["00001/5/OP/000"].state, truth.invoices["00001/5/OP/000"].blamed) == (
        "quarantined",
        "F0101.ALPH",
    )
    assert truth.invoices["00001/6/OP/000"].blamed == "F4301.DOCO"
