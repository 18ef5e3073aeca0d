"""Deterministic Stripe idempotency keys.

key = `jde-stripe:<object_type>:<jde_key>:<operation>:<content_hash>`. The same change always sends
the same key, so a retry (ours or the SDK's, even across process restarts) is answered from Stripe's
idempotency cache instead of creating a duplicate; a new change has a new content hash and so a new
key, so Stripe never sees one key with different parameters (`idempotency_error`).

Only `A-Z a-z 0-9 - _ . / :` appear in a key (safe in an HTTP header, a log line and a URL). The JDE
key is escaped injectively (`~` + two hex digits per UTF-8 byte of any other character, `:`
included, so the separators stay unambiguous); if the result would pass Stripe's 255-character
limit, the JDE key part is replaced by `~h` + the first 32 hex digits of its sha256.
"""

from __future__ import annotations

import hashlib
import re

MAX_IDEMPOTENCY_KEY_LENGTH = 255
KEY_PREFIX = "jde-stripe"

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_HASH = re.compile(r"^[0-9a-f]{16,64}$")
_KEY_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./")


def _escape(text: str) -> str:
    return "".join(
        char if char in _KEY_SAFE else "".join(f"~{byte:02X}" for byte in char.encode("utf-8"))
        for char in text
    )


def idempotency_key(object_type: str, jde_key: str, operation: str, content_hash: str) -> str:
    """E.g. `('invoice', '00070/1001/OP/000', 'create', 'ab12…')`
    → `jde-stripe:invoice:00070/1001/OP/000:create:ab12…`.

    `object_type` and `operation` are short snake_case names (`customer`, `invoice_lines`;
    `create`, `update`, `add_lines`…); `content_hash` is the request's lower-case hex sha256.
    """
    for label, name in (("object_type", object_type), ("operation", operation)):
        if not _NAME.match(name):
            raise ValueError(f"{label} must be a short snake_case name, got {name!r}")
    if not _HASH.match(content_hash):
        raise ValueError(f"content_hash must be lower-case hex (16-64 digits), got {content_hash!r}")
    if not jde_key:
        raise ValueError("jde_key must not be empty")
    escaped = _escape(jde_key)
    key = f"{KEY_PREFIX}:{object_type}:{escaped}:{operation}:{content_hash}"
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        digest = hashlib.sha256(jde_key.encode("utf-8")).hexdigest()[:32]
        key = f"{KEY_PREFIX}:{object_type}:~h{digest}:{operation}:{content_hash}"
    return key
