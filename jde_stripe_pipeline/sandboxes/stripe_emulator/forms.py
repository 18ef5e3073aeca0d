"""Form bodies and query strings as Stripe reads them: nested `a[b][c]` / `a[0][b]` keys, typed by a schema.

Two pure steps: `decode_pairs` turns `(key, value)` pairs into a tree of dicts and strings, and
`validate` walks that tree with a schema, converting strings to typed values (int, bool, Decimal, lists)
and refusing what Stripe refuses: unknown parameters, missing ones, empty strings where a field cannot be
unset, malformed integers, metadata over its limits. An empty string on a field that can be unset comes
back as `UNSET`; a field not sent is simply absent from the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from . import errors


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()
"""A field sent as the empty string: Stripe's way of saying 'unset this'."""

_HEAD = re.compile(r"^([^\[\]]+)(.*)$", re.S)

METADATA_MAX_KEYS = 50
METADATA_KEY_MAX = 40
METADATA_VALUE_MAX = 500


def _split_key(key: str) -> list[str]:
    match = _HEAD.match(key)
    if match is None:
        raise errors.parameter_invalid(key, f"Invalid parameter name: {key}")
    segments = [match.group(1)]
    rest = match.group(2)
    while rest:
        if not rest.startswith("["):
            raise errors.parameter_invalid(key, f"Invalid parameter name: {key}")
        if segments[-1].endswith("metadata") and rest.endswith("]"):
            # A metadata key is free text: everything up to the last bracket, brackets included, so a
            # key like `metadata[a[b]]` reaches the metadata check (which refuses it) instead of nesting.
            segments.append(rest[1:-1])
            break
        end = rest.find("]")
        if end < 0:
            raise errors.parameter_invalid(key, f"Invalid parameter name: {key}")
        segments.append(rest[1:end])
        rest = rest[end + 1 :]
    return segments


def decode_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Build the nested tree; `a[]` appends. Lists stay dicts keyed by index until the schema says 'list'."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        segments = _split_key(key)
        node = root
        for depth, segment in enumerate(segments):
            last = depth == len(segments) - 1
            name = str(len(node)) if segment == "" else segment
            if last:
                if isinstance(node.get(name), dict):
                    raise errors.parameter_invalid(key, f"Invalid value for {key}: expected an object")
                node[name] = value
            else:
                child = node.setdefault(name, {})
                if not isinstance(child, dict):
                    raise errors.parameter_invalid(key, f"Invalid value for {key}: expected a string")
                node = child
    return root


def param_path(parent: str, name: str | int) -> str:
    return f"{parent}[{name}]" if parent else str(name)


# --- schema ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """Base of all schema nodes. `emptyable`: the empty string is accepted and means UNSET."""

    emptyable: bool = False

    def check(self, value: Any, path: str) -> Any:
        if value == "":
            if self.emptyable:
                return UNSET
            raise errors.parameter_invalid_empty(path)
        return self.convert(value, path)

    def convert(self, value: Any, path: str) -> Any:
        raise NotImplementedError


def _need_string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise errors.parameter_invalid(path, f"Invalid string: {_ruby_repr(value)}")
    return value


def _ruby_repr(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}"=>{_ruby_repr(v)}' for k, v in value.items()) + "}"
    return f'"{value}"' if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class Str(Field):
    max_length: int | None = None

    def convert(self, value: Any, path: str) -> str:
        text = _need_string(value, path)
        if self.max_length is not None and len(text) > self.max_length:
            raise errors.parameter_invalid(
                path,
                f"Invalid string: {text[:20]}...; must be at most {self.max_length} characters",
            )
        return text


@dataclass(frozen=True)
class Int(Field):
    minimum: int | None = None
    maximum: int | None = None

    def convert(self, value: Any, path: str) -> int:
        text = _need_string(value, path)
        if not re.fullmatch(r"-?\d+", text.strip()):
            raise errors.parameter_invalid_integer(path, text)
        number = int(text)
        if self.minimum is not None and number < self.minimum:
            raise errors.parameter_invalid_integer(
                path, text, f"; must be greater than or equal to {self.minimum}"
            )
        if self.maximum is not None and number > self.maximum:
            raise errors.parameter_invalid_integer(
                path, text, f"; must be less than or equal to {self.maximum}"
            )
        return number


@dataclass(frozen=True)
class Bool(Field):
    def convert(self, value: Any, path: str) -> bool:
        text = _need_string(value, path)
        if text not in ("true", "false"):
            raise errors.parameter_invalid(path, f"Invalid boolean: {text}")
        return text == "true"


@dataclass(frozen=True)
class Enum(Field):
    values: tuple[str, ...] = ()

    def convert(self, value: Any, path: str) -> str:
        text = _need_string(value, path)
        if text not in self.values:
            choices = ", ".join(self.values[:-1]) + (" or " if len(self.values) > 1 else "") + self.values[-1]
            raise errors.parameter_invalid(path, f"Invalid {path}: must be one of {choices}")
        return text


@dataclass(frozen=True)
class Dec(Field):
    """Stripe's decimal strings: at most 12 decimal places, kept exact as Decimal."""

    max_places: int = 12

    def convert(self, value: Any, path: str) -> Decimal:
        text = _need_string(value, path)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise errors.parameter_invalid(path, f"Invalid decimal: {text}") from None
        if not number.is_finite() or not re.fullmatch(r"-?\d+(\.\d+)?", text.strip()):
            raise errors.parameter_invalid(path, f"Invalid decimal: {text}")
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > self.max_places:
            raise errors.parameter_invalid(
                path, f"Invalid decimal: {text}; must have at most {self.max_places} decimal places"
            )
        return number


@dataclass(frozen=True)
class Currency(Field):
    def convert(self, value: Any, path: str) -> str:
        text = _need_string(value, path).lower()
        if not re.fullmatch(r"[a-z]{3}", text):
            raise errors.parameter_invalid(path, f"Invalid currency: {text}", code="parameter_invalid_string")
        return text


@dataclass(frozen=True)
class Obj(Field):
    fields: Mapping[str, Field] = field(default_factory=dict)
    required: tuple[str, ...] = ()

    def convert(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise errors.parameter_invalid(
                path, f"Invalid object: {path} must be a hash, got {_ruby_repr(value)}"
            )
        return validate(value, self.fields, self.required, path)


@dataclass(frozen=True)
class Arr(Field):
    item: Field = field(default_factory=Str)
    max_items: int | None = None

    def convert(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, dict):
            raise errors.parameter_invalid(path, f"Invalid array: {path} must be an array")
        if not all(key.isdigit() for key in value):
            raise errors.parameter_invalid(path, f"Invalid array: {path} must be an array")
        ordered = sorted(value.items(), key=lambda kv: int(kv[0]))
        if [int(k) for k, _ in ordered] != list(range(len(ordered))):
            raise errors.parameter_invalid(path, f"Invalid array: {path} has missing indexes")
        if self.max_items is not None and len(ordered) > self.max_items:
            raise errors.parameter_invalid(
                path, f"Invalid array: {path} must have at most {self.max_items} elements"
            )
        return [self.item.check(item, param_path(path, int(index))) for index, item in ordered]


@dataclass(frozen=True)
class IntOrRange(Field):
    """`created=123` or `created[gte]=…&created[lt]=…`, as list endpoints take it."""

    def convert(self, value: Any, path: str) -> dict[str, int]:
        if isinstance(value, str):
            return {"eq": Int().convert(value, path)}
        bounds = Obj(fields={name: Int() for name in ("gt", "gte", "lt", "lte")}).convert(value, path)
        return bounds


@dataclass(frozen=True)
class Metadata(Field):
    """Stripe's metadata limits: 50 keys, keys ≤ 40 characters, no brackets, values ≤ 500; `""` deletes."""

    emptyable: bool = True

    def convert(self, value: Any, path: str) -> dict[str, str | _Unset]:
        if not isinstance(value, dict):
            raise errors.parameter_invalid(path, f"Invalid object: {path} must be a hash")
        result: dict[str, str | _Unset] = {}
        for key, item in value.items():
            item_path = f"{path}[{key}]"
            if "[" in key or "]" in key:
                raise errors.parameter_invalid(item_path, f"Metadata keys cannot contain '[' or ']': {key}")
            if key == "":
                raise errors.parameter_invalid(item_path, "Metadata keys cannot be empty strings.")
            if len(key) > METADATA_KEY_MAX:
                raise errors.parameter_invalid(
                    item_path,
                    f"Metadata keys can have up to {METADATA_KEY_MAX} characters; '{key}' has {len(key)}.",
                )
            if not isinstance(item, str):
                raise errors.parameter_invalid(
                    item_path, f"Invalid value type: {_ruby_repr(item)} must be a string"
                )
            if len(item) > METADATA_VALUE_MAX:
                raise errors.parameter_invalid(
                    item_path,
                    f"Metadata values can have up to {METADATA_VALUE_MAX} characters, but you passed in a "
                    f"value that is {len(item)} characters. Invalid value: {item[:40]}...",
                )
            result[key] = UNSET if item == "" else item
        if len([v for v in result.values() if v is not UNSET]) > METADATA_MAX_KEYS:
            raise errors.parameter_invalid(
                path, f"You can have at most {METADATA_MAX_KEYS} metadata keys; you passed {len(result)}."
            )
        return result


@dataclass(frozen=True)
class Unsupported(Field):
    def check(self, value: Any, path: str) -> Any:
        raise errors.unsupported_parameter(path)


def validate(
    tree: Mapping[str, Any], schema: Mapping[str, Field], required: Iterable[str] = (), parent: str = ""
) -> dict[str, Any]:
    """Check a decoded tree against a schema; unknown keys and missing required ones are 400s as at Stripe."""
    for name in tree:
        if name not in schema:
            raise errors.parameter_unknown(param_path(parent, name))
    for name in required:
        if name not in tree:
            raise errors.parameter_missing(param_path(parent, name))
    return {name: schema[name].check(value, param_path(parent, name)) for name, value in tree.items()}


def merge_metadata(current: Mapping[str, str], change: Any) -> dict[str, str]:
    """Apply a metadata update: UNSET clears all, a key set to UNSET is removed, others are set."""
    if change is UNSET:
        return {}
    merged = dict(current)
    for key, value in change.items():
        if value is UNSET:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
