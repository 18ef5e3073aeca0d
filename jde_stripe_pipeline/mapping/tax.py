"""JDE's own tax on Stripe invoice lines: `tax_amounts` with `tax_rate_data`, never Stripe Tax.

Why: JDE already computed the tax (per pay item in F03B11 STAM/CTAM, per authority in F0018 when the
G/L post writes it); Stripe must show that tax and a total equal to JDE's gross (AG, or ACR in
foreign mode) to the minor unit. So each line carries explicit `tax_amounts` (Stripe's per-line
shape on add_lines/update_lines: `amount`, `taxable_amount`, `tax_rate_data{display_name,
inclusive, percentage}`), exclusive, and:
- where the site has a line-level source (F0018), its amount is used as is;
- else the document's pay-item tax is allocated to the taxable lines in proportion to their
  amounts by the largest-remainder method (exact sum, deterministic ties: earlier line first),
  and the line's metadata says so (`jde_tax_source=allocated`).
Stripe computes a line's tax from `tax_amounts` only when neither automatic tax nor default tax
rates apply; combining them would double the tax, so `refuse_conflicting_tax` refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from jde_stripe_pipeline.mapping.errors import MappingError

TAX_SOURCE_F0018 = "F0018"
TAX_SOURCE_ALLOCATED = "allocated"
_PERCENT_STEP = Decimal("0.0001")
_DISPLAY_NAME_MAX = 200


class TaxMappingError(MappingError):
    """JDE's tax cannot be expressed on the Stripe lines as asked (names document and field)."""


@dataclass(frozen=True)
class TaxableLine:
    """One Stripe line to receive tax: its key, amount in minor units, and JDE's taxable flag."""

    key: str
    amount_minor: int
    taxable: bool


@dataclass(frozen=True)
class LineTax:
    """Tax of one line in minor units, where it came from, and the base it was charged on."""

    key: str
    tax_minor: int
    taxable_minor: int
    source: str


def allocate_tax(document: str, tax_minor: int, lines: Sequence[TaxableLine], step: int = 1) -> list[LineTax]:
    """Split `tax_minor` over the taxable lines by largest remainder; the shares sum exactly.

    Weights are the lines' absolute amounts (a credit memo's lines and tax are all negative; the
    sign of the tax is applied to every share). Untaxable lines get no entry. Tax with no taxable
    base is an error naming the document, never a guess. `step`: shares are multiples of it (10 for
    Stripe's three-decimal currencies, whose amounts must end in 0).
    """
    taxable = [line for line in lines if line.taxable and line.amount_minor != 0]
    if tax_minor == 0:
        return []
    base = sum(abs(line.amount_minor) for line in taxable)
    if base == 0:
        raise TaxMappingError(
            f"{document}: tax {tax_minor} (STAM/CTAM) but no taxable line (TAX1=Y with an amount)"
        )
    sign = -1 if tax_minor < 0 else 1
    if abs(tax_minor) % step:
        raise TaxMappingError(f"{document}: tax {tax_minor} is not a multiple of {step} minor units")
    total = abs(tax_minor) // step
    floors: list[int] = []
    remainders: list[tuple[int, int]] = []
    for index, line in enumerate(taxable):
        share, remainder = divmod(total * abs(line.amount_minor), base)
        floors.append(share)
        remainders.append((-remainder, index))
    left = total - sum(floors)
    for _, index in sorted(remainders)[:left]:
        floors[index] += 1
    return [
        LineTax(line.key, sign * share * step, line.amount_minor, TAX_SOURCE_ALLOCATED)
        for line, share in zip(taxable, floors, strict=True)
        if share != 0
    ]


def line_taxes_from_source(
    document: str, by_line: Mapping[str, int], lines: Sequence[TaxableLine]
) -> list[LineTax]:
    """Line tax from a line-level source (F0018 STA1..STA5 summed per line), checked to match."""
    known = {line.key: line for line in lines}
    unknown = sorted(set(by_line) - set(known))
    if unknown:
        raise TaxMappingError(f"{document}: F0018 tax for unknown line(s) {', '.join(unknown)}")
    return [
        LineTax(key, tax, known[key].amount_minor, TAX_SOURCE_F0018)
        for key, tax in by_line.items()
        if tax != 0
    ]


def implied_percentage(tax_minor: int, taxable_minor: int) -> Decimal:
    """Rate implied by tax/base, 4 decimals: Stripe requires a percentage on `tax_rate_data`."""
    if taxable_minor == 0:
        return Decimal(0)
    ratio = Decimal(abs(tax_minor)) * 100 / Decimal(abs(taxable_minor))
    return ratio.quantize(_PERCENT_STEP, rounding=ROUND_HALF_EVEN)


def tax_display_name(tax_area: str, explanation: str, description: str = "") -> str:
    """A readable name from JDE's tax area (TXA1), explanation code (EXR1) and its description."""
    area = tax_area.strip()
    code = explanation.strip()
    parts = [part for part in (description.strip(), area, code and f"EXR1 {code}") if part]
    name = " · ".join(parts) if parts else "Tax"
    return name[:_DISPLAY_NAME_MAX]


def tax_amounts_param(
    line_tax: LineTax,
    *,
    display_name: str,
    percentage: Decimal | None = None,
) -> list[dict[str, object]]:
    """Stripe's `tax_amounts` for one line: exclusive, JDE's rate where known else implied."""
    rate = (
        percentage
        if percentage is not None
        else implied_percentage(line_tax.tax_minor, line_tax.taxable_minor)
    )
    return [
        {
            "amount": line_tax.tax_minor,
            "taxable_amount": line_tax.taxable_minor,
            "tax_rate_data": {
                "display_name": display_name,
                "inclusive": False,
                "percentage": str(rate),
            },
        }
    ]


def tax_metadata(line_tax: LineTax) -> dict[str, str]:
    """Line metadata saying where the tax came from (allocated versus JDE's line-level F0018)."""
    return {"jde_tax_source": line_tax.source}


def refuse_conflicting_tax(document: str, *, automatic_tax: bool, default_tax_rates: Sequence[str]) -> None:
    """JDE's tax_amounts with Stripe Tax or default tax rates would tax twice: refuse, say why."""
    if automatic_tax:
        raise TaxMappingError(
            f"{document}: JDE's tax is sent as tax_amounts; automatic_tax (Stripe Tax) must be off"
        )
    if default_tax_rates:
        raise TaxMappingError(
            f"{document}: JDE's tax is sent as tax_amounts; default_tax_rates must be empty"
        )


def check_total(document: str, lines_minor: int, tax_minor: int, gross_minor: int) -> None:
    """Stripe's total (lines + tax) must equal JDE's gross (AG, or ACR foreign) exactly."""
    if lines_minor + tax_minor != gross_minor:
        raise TaxMappingError(
            f"{document}: lines {lines_minor} + tax {tax_minor} != JDE gross {gross_minor} "
            "(AG, or ACR in foreign mode)"
        )
