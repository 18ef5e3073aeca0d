"""Pure comparisons: what a draft needs to equal the request, by jde_lnid; owned customer fields."""

from __future__ import annotations

from typing import Any

from jde_stripe_pipeline.mapping import CustomerRequest, InvoiceLineRequest
from jde_stripe_pipeline.mapping.requests import StripeAddress
from jde_stripe_pipeline.sync.diff import customer_differences, diff_lines


def _line(lnid: str, amount: int) -> InvoiceLineRequest:
    return InvoiceLineRequest(
        lnid=lnid, amount=amount, description=f"line {lnid}", metadata={"jde_lnid": lnid}
    )


class _Request:
    def __init__(self, *lines: InvoiceLineRequest) -> None:
        self.lines = lines


def _stripe(line_id: str, lnid: str | None, amount: int) -> dict[str, Any]:
    return {
        "id": line_id,
        "amount": amount,
        "description": f"line {lnid}",
        "metadata": {"jde_lnid": lnid} if lnid else {"by": "a person"},
    }


def test_lines_are_added_updated_and_removed_by_jde_lnid_and_a_persons_line_is_kept() -> None:
    request = _Request(_line("1.000", 100), _line("2.000", 200), _line("3.000", 300))
    stripe_lines = [
        _stripe("il_1", "1.000", 100),
        _stripe("il_2", "2.000", 250),
        _stripe("il_9", "9.000", 900),
        _stripe("il_1b", "1.000", 100),  # a duplicate left by a crash
        _stripe("il_p", None, 42),
    ]
    diff = diff_lines(request, stripe_lines)  # type: ignore[arg-type]
    assert [line.lnid for line in diff.add] == ["3.000"]
    assert [(line_id, line.lnid) for line_id, line in diff.update] == [("il_2", "2.000")]
    assert diff.remove == ("il_9", "il_1b")
    assert [line["id"] for line in diff.person_added] == ["il_p"]
    assert diff.unchanged == 1 and not diff.empty


def test_equal_lines_need_nothing() -> None:
    request = _Request(_line("1.000", 100))
    assert diff_lines(request, [_stripe("il_1", "1.000", 100)]).empty  # type: ignore[arg-type]


def test_customer_differences_see_owned_fields_only() -> None:
    request = CustomerRequest(
        an8=4242,
        name="Acme",
        email="ap@acme.test",
        phone=None,
        address=StripeAddress(line1="1 Main St", country="US"),
        shipping=None,
        preferred_locales=("en",),
        metadata={"jde_an8": "4242", "jde_company": "00001", "jde_updated_at": "2026-11-01T10:00:00"},
    )
    stripe_customer = {
        "name": "Acme",
        "email": "ap@acme.test",
        "phone": "",
        "address": {"line1": "1 Main St", "line2": None, "city": "", "country": "US"},
        "shipping": None,
        "preferred_locales": ["en"],
        "metadata": {**request.metadata, "crm_id": "a person's key"},
        "description": "a person's note",
    }
    assert customer_differences(request, stripe_customer) == []
    moved = {**stripe_customer, "address": {"line1": "2 Main St", "country": "US"}, "email": None}
    assert customer_differences(request, moved) == ["email", "address"]
