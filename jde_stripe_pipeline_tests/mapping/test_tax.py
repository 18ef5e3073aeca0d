"""JDE's tax on Stripe lines: exact allocation, Stripe's tax_amounts shape, refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jde_stripe_pipeline.mapping.tax import (
    TAX_SOURCE_ALLOCATED,
    TAX_SOURCE_F0018,
    LineTax,
    TaxableLine,
    TaxMappingError,
    allocate_tax,
    check_total,
    implied_percentage,
    line_taxes_from_source,
    refuse_conflicting_tax,
    tax_amounts_param,
    tax_display_name,
    tax_metadata,
)

DOC = "RI 1001 00001"


def test_largest_remainder_sums_exactly_and_breaks_ties_by_order() -> None:
    lines = [TaxableLine("1", 100, True), TaxableLine("2", 100, True), TaxableLine("3", 100, True)]
    shares = allocate_tax(DOC, 100, lines)
    assert [s.tax_minor for s in shares] == [34, 33, 33]
    assert sum(s.tax_minor for s in shares) == 100
    assert {s.source for s in shares} == {TAX_SOURCE_ALLOCATED}


def test_allocation_is_proportional_and_skips_untaxable_lines() -> None:
    lines = [
        TaxableLine("a", 1000, True),
        TaxableLine("b", 5000, False),
        TaxableLine("c", 3000, True),
    ]
    shares = allocate_tax(DOC, 401, lines)
    assert [(s.key, s.tax_minor, s.taxable_minor) for s in shares] == [
        ("a", 100, 1000),
        ("c", 301, 3000),
    ]


def test_largest_remainder_prefers_biggest_fraction_not_first_line() -> None:
    # 10 * 1/7 = 1.43, 10 * 2/7 = 2.86, 10 * 4/7 = 5.71 -> floors 1,2,5 (8); two left go to .86, .71
    lines = [TaxableLine("x", 1, True), TaxableLine("y", 2, True), TaxableLine("z", 4, True)]
    assert [s.tax_minor for s in allocate_tax(DOC, 10, lines)] == [1, 3, 6]


def test_credit_memo_negative_tax_keeps_sign_on_every_share() -> None:
    lines = [TaxableLine("1", -300, True), TaxableLine("2", -100, True)]
    shares = allocate_tax(DOC, -41, lines)
    assert [s.tax_minor for s in shares] == [-31, -10]


def test_tax_without_taxable_base_names_the_document() -> None:
    with pytest.raises(TaxMappingError, match=r"RI 1001 00001.*STAM/CTAM"):
        allocate_tax(DOC, 5, [TaxableLine("1", 100, False)])
    assert allocate_tax(DOC, 0, [TaxableLine("1", 100, False)]) == []


def test_line_level_source_is_used_as_is_and_unknown_lines_refused() -> None:
    lines = [TaxableLine("1", 1000, True), TaxableLine("2", 500, True)]
    got = line_taxes_from_source(DOC, {"1": 83, "2": 0}, lines)
    assert got == [LineTax("1", 83, 1000, TAX_SOURCE_F0018)]
    assert tax_metadata(got[0]) == {"jde_tax_source": "F0018"}
    with pytest.raises(TaxMappingError, match="unknown line"):
        line_taxes_from_source(DOC, {"9": 1}, lines)


def test_tax_amounts_param_has_stripe_required_fields_and_exclusive_rate() -> None:
    line = LineTax("1", 825, 10000, TAX_SOURCE_ALLOCATED)
    name = tax_display_name("CO-DEN", "S", "Denver sales tax")
    assert name == "Denver sales tax · CO-DEN · EXR1 S"
    [param] = tax_amounts_param(line, display_name=name)
    assert param == {
        "amount": 825,
        "taxable_amount": 10000,
        "tax_rate_data": {"display_name": name, "inclusive": False, "percentage": "8.2500"},
    }
    [with_rate] = tax_amounts_param(line, display_name=name, percentage=Decimal("8.25"))
    assert with_rate["tax_rate_data"]["percentage"] == "8.25"  # type: ignore[index]


def test_display_name_falls_back_and_fits_stripe_limit() -> None:
    assert tax_display_name("", "  ") == "Tax"
    assert len(tax_display_name("A" * 10, "V", "x" * 300)) == 200


def test_implied_percentage_rounds_to_four_places_and_handles_zero_base() -> None:
    assert implied_percentage(1, 3) == Decimal("33.3333")
    assert implied_percentage(-50, -1000) == Decimal("5.0000")
    assert implied_percentage(5, 0) == Decimal(0)


def test_stripe_tax_or_default_rates_with_jde_tax_are_refused() -> None:
    refuse_conflicting_tax(DOC, automatic_tax=False, default_tax_rates=())
    with pytest.raises(TaxMappingError, match="automatic_tax"):
        refuse_conflicting_tax(DOC, automatic_tax=True, default_tax_rates=())
    with pytest.raises(TaxMappingError, match="default_tax_rates"):
        refuse_conflicting_tax(DOC, automatic_tax=False, default_tax_rates=("txr_1",))


def test_total_must_equal_jde_gross_to_the_minor_unit() -> None:
    check_total(DOC, 10000, 825, 10825)
    with pytest.raises(TaxMappingError, match="JDE gross 10826"):
        check_total(DOC, 10000, 825, 10826)


def test_step_keeps_shares_on_the_currency_grid_and_refuses_off_grid_tax() -> None:
    lines = [TaxableLine("1", 600, True), TaxableLine("2", 400, True)]
    assert [s.tax_minor for s in allocate_tax(DOC, 340, lines, step=10)] == [200, 140]
    with pytest.raises(TaxMappingError, match="multiple of 10"):
        allocate_tax(DOC, 345, lines, step=10)
