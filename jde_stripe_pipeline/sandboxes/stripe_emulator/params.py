"""Validated params into an object's fields: scalars (`""` unsets), metadata (at most 50 keys), address,
shipping, custom fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import errors
from .forms import UNSET, merge_metadata


def set_scalars(target: dict[str, Any], params: Mapping[str, Any], names: Sequence[str]) -> None:
    for name in names:
        if name in params:
            target[name] = None if params[name] is UNSET else params[name]


def _check_metadata_total(metadata: Mapping[str, str], param: str = "metadata") -> None:
    if len(metadata) > 50:
        raise errors.parameter_invalid(
            param, f"You can have at most 50 metadata keys; this object would have {len(metadata)}."
        )


def apply_metadata(target: dict[str, Any], change: Any, param: str = "metadata") -> None:
    merged = merge_metadata(target["metadata"], change)
    _check_metadata_total(merged, param)
    target["metadata"] = merged


def address_value(value: Any) -> dict[str, Any] | None:
    if value is UNSET:
        return None
    base = {"city": None, "country": None, "line1": None, "line2": None, "postal_code": None, "state": None}
    base.update({k: (None if v is UNSET else v) for k, v in value.items()})
    return base


def shipping_value(value: Any) -> dict[str, Any] | None:
    if value is UNSET:
        return None
    return {
        "address": address_value(value["address"]),
        "name": value["name"],
        "phone": None if value.get("phone") in (None, UNSET) else value["phone"],
    }


def custom_fields_value(value: Any) -> list[dict[str, str]] | None:
    if value is UNSET or not value:
        return None
    return [{"name": f["name"], "value": f["value"]} for f in value]
