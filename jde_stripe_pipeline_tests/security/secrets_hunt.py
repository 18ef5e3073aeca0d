"""Secrets distinctive enough to hunt for, and the hunt: every form a secret could leak in (plain,
URL-quoted, JSON-escaped, base64 at any alignment) searched in bytes, files and exceptions."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, quote_plus

from cryptography.fernet import Fernet

JDE_USER = "HYGUSR"
JDE_PASSWORD = "Pw-9f3c-UNIQUE-jde"
JDE_ENVIRONMENT = "JDV920"
STRIPE_KEY = "sk_test_UNIQUE_7d41c0a9e8b2f356hyg"
MASTER_KEY = Fernet.generate_key().decode()
SECRETS: dict[str, str] = {
    "JDE password": JDE_PASSWORD,
    "Stripe key": STRIPE_KEY,
    "master key": MASTER_KEY,
}


# ------------------------------------------------------------------------------- looking for secrets


def _base64_cores(data: bytes) -> set[bytes]:
    """The part of base64(data) that is the same wherever `data` sits in a longer encoded blob: one per
    alignment (0, 1 or 2 bytes before it), in the standard and the URL-safe alphabet."""
    cores: set[bytes] = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data)
        start = 4 if offset else 0
        end = len(encoded) - 4 if (offset + len(data)) % 3 else len(encoded)
        core = encoded[start:end]
        cores |= {core, core.replace(b"+", b"-").replace(b"/", b"_")}
    return cores


def secret_forms(secret: str) -> dict[str, bytes]:
    """Every spelling a secret could leak in: clear, JSON-escaped, URL-encoded, base64 (also as the
    password half of a Basic `user:password`), hex."""
    raw = secret.encode()
    forms = {
        "clear": raw,
        "json": json.dumps(secret)[1:-1].encode(),
        "url-encoded": quote(secret, safe="").encode(),
        "url-encoded (plus)": quote_plus(secret).encode(),
        "hex": binascii.hexlify(raw),
    }
    for index, core in enumerate(sorted(_base64_cores(raw) | _base64_cores(b":" + raw))):
        forms[f"base64 #{index}"] = core
    distinct: dict[str, bytes] = {}
    for form, needle in forms.items():
        if needle not in distinct.values():
            distinct[form] = needle
    return distinct


def find_secrets(data: bytes, secrets: Mapping[str, str] = SECRETS) -> list[str]:
    """`name (form)` for every secret found in `data`, in any of its forms."""
    found = []
    for name, secret in secrets.items():
        for form, needle in secret_forms(secret).items():
            if needle in data:
                found.append(f"{name} ({form})")
    return found


def scan_tree(root: Path, secrets: Mapping[str, str] = SECRETS) -> dict[str, list[str]]:
    """Every file under `root` (SQLite databases, WAL files, logs, pickles...) searched byte by byte."""
    hits: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            found = find_secrets(path.read_bytes(), secrets)
            if found:
                hits[str(path.relative_to(root))] = found
    return hits


def exception_text(error: BaseException) -> str:
    """All an exception could show: its traceback, and str/repr/attributes of every exception in its
    chain, suppressed context included (a handler may log those)."""
    import traceback

    parts = ["".join(traceback.format_exception(error))]
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        parts += [str(current), repr(current), repr(getattr(current, "__dict__", {}))]
        pending += [current.__cause__, current.__context__]
    return "\n".join(parts)
