"""The BROWSE that resumes a lost paged read: the same query, after the last key yielded.

Keyset pagination (see `jde.client`): the server both orders and compares, so no client-side
collation is assumed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from jde_stripe_pipeline.jde.errors import AisProtocolError
from jde_stripe_pipeline.jde.julian import parse_grid_date
from jde_stripe_pipeline.jde.query import BrowseRequest, LiteralValue, after_key


def resumed_after(
    request: BrowseRequest, key: Sequence[str], last_key: Sequence[Any], date_columns: Collection[str]
) -> BrowseRequest:
    """The same BROWSE, limited to the rows after `last_key` (a resumed read)."""
    values = [key_literal(value, alias in date_columns) for alias, value in zip(key, last_key, strict=True)]
    resume = after_key(request.table, key, values)
    return replace(request, query=resume if request.query is None else request.query.and_query(resume))


def key_literal(value: Any, is_date: bool) -> LiteralValue:
    """A key value as AIS wrote it, back as a condition literal (dates as dates, blank date blank)."""
    if is_date:
        try:
            day = parse_grid_date(value)
        except ValueError:
            raise AisProtocolError(f"cannot resume a paged read on date key {value!r}") from None
        return "" if day is None else day
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise AisProtocolError(f"cannot resume a paged read on key value {value!r}")
    return value
