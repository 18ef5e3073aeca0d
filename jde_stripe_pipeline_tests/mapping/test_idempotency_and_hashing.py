"""Idempotency keys and content hashes: deterministic, bounded, safe, change-sensitive."""

import re
from decimal import Decimal
from types import MappingProxyType

import pytest

from jde_stripe_pipeline.mapping.hashing import canonical_json, content_hash
from jde_stripe_pipeline.mapping.idempotency import MAX_IDEMPOTENCY_KEY_LENGTH, idempotency_key
from jde_stripe_pipeline.mapping.limits import metadata_problem, shorten

HASH_A = content_hash({"a": 1})
HASH_B = content_hash({"a": 2})
SAFE_KEY = re.compile(r"^[A-Za-z0-9\-_./:~]+$")


def test_same_change_same_key_new_change_new_key() -> None:
    key = idempotency_key("invoice", "00070/1001/OP/000", "create", HASH_A)
    assert key == idempotency_key("invoice", "00070/1001/OP/000", "create", HASH_A)
    assert key == f"jde-stripe:invoice:00070/1001/OP/000:create:{HASH_A}"
    others = {
        idempotency_key("invoice", "00070/1001/OP/000", "create", HASH_B),
        idempotency_key("invoice", "00070/1001/OP/000", "update", HASH_A),
        idempotency_key("invoice", "00070/1002/OP/000", "create", HASH_A),
        idempotency_key("customer", "00070/1001/OP/000", "create", HASH_A),
    }
    assert key not in others
    assert len(others) == 4


@pytest.mark.parametrize(
    "jde_key",
    ["10001", "00070/1001/OP/000", "a:b", "Müller & Söhne", "x" * 400, "日本" * 100, "~41", "A"],
)
def test_keys_are_bounded_and_use_safe_characters_only(jde_key: str) -> None:
    key = idempotency_key("customer", jde_key, "update", HASH_A)
    assert len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH
    assert SAFE_KEY.match(key), key
    assert key.endswith(HASH_A)


def test_escaping_keeps_distinct_jde_keys_distinct() -> None:
    # ':' is the separator and '~' the escape: neither may let two keys collide.
    pairs = [("a:b", "a~3Ab"), ("a b", "a_b"), ("~41", "A"), ("x" * 300, "x" * 301)]
    for first, second in pairs:
        assert idempotency_key("customer", first, "create", HASH_A) != idempotency_key(
            "customer", second, "create", HASH_A
        )


@pytest.mark.parametrize(
    ("object_type", "jde_key", "operation", "digest"),
    [
        ("Invoice", "1", "create", HASH_A),
        ("invoice", "1", "create now", HASH_A),
        ("invoice", "", "create", HASH_A),
        ("invoice", "1", "create", "not-a-hash"),
        ("invoice", "1", "create", HASH_A.upper()),
    ],
)
def test_bad_key_parts_are_rejected(object_type: str, jde_key: str, operation: str, digest: str) -> None:
    with pytest.raises(ValueError):
        idempotency_key(object_type, jde_key, operation, digest)


def test_canonical_json_sorts_keys_and_writes_decimals_exactly() -> None:
    assert canonical_json({"b": Decimal("1.10"), "a": (1, 2)}) == '{"a":[1,2],"b":"1.10"}'
    assert canonical_json(MappingProxyType({"k": "v"})) == '{"k":"v"}'
    assert content_hash({"x": 1, "y": 2}) == content_hash({"y": 2, "x": 1})
    assert content_hash({"amount": Decimal("1.10")}) != content_hash({"amount": Decimal("1.1")})
    with pytest.raises(TypeError):
        canonical_json({"f": object()})


def test_metadata_limits() -> None:
    assert metadata_problem({"jde_an8": "1"}) is None
    assert metadata_problem({f"k{i}": "v" for i in range(50)}) is None
    assert "51 metadata keys" in (metadata_problem({f"k{i}": "v" for i in range(51)}) or "")
    assert metadata_problem({"k" * 40: "v"}) is None
    assert "41 characters" in (metadata_problem({"k" * 41: "v"}) or "")
    assert metadata_problem({"v": "x" * 500}) is None
    assert "501 characters" in (metadata_problem({"v": "x" * 501}) or "")
    assert "'[' or ']'" in (metadata_problem({"a[0]": "v"}) or "")
    assert metadata_problem({"": "v"}) == "empty metadata key"


def test_shorten_cuts_only_when_needed_and_marks_the_cut() -> None:
    assert shorten("short", 10) == "short"
    cut = shorten("Hydraulic pump with extended warranty", 20)
    assert len(cut) <= 20
    assert cut.endswith("…")
    assert cut.startswith("Hydraulic pump")
    assert shorten("abcdefghij", 5) == "abcd…"
