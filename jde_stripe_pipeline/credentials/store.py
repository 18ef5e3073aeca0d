"""The encrypted credential store file.

Format: a one-line clear header naming the format, then one Fernet token holding the whole payload
(JSON of every group and field). Nothing but the header is in clear text: not the secrets, and not the
AIS URL, user name or which groups are set either, since those tell an attacker where to aim. Fernet's
own token carries the time of the last write in clear; that is all. Fernet authenticates as well as
encrypts, so a tampered or truncated file is refused, not half-read.

Path: `JDE_STRIPE_CREDENTIALS_FILE`, else `$DAGSTER_HOME/credentials.enc`, else
`$XDG_CONFIG_HOME/jde-stripe/credentials.enc` (`~/.config/jde-stripe/credentials.enc`).
Every write replaces the file atomically with a 0600 file (see `private_file`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import InvalidToken, MultiFernet
from pydantic import ValidationError

from jde_stripe_pipeline.credentials.errors import StoreUnreadable, WrongMasterKey
from jde_stripe_pipeline.credentials.master_key import (
    MasterKey,
    MasterKeyLocation,
    config_dir,
    load_master_key,
    new_key,
    write_key_file,
)
from jde_stripe_pipeline.credentials.models import (
    StoredCredentials,
    build_jde_credentials,
    build_stripe_credentials,
)
from jde_stripe_pipeline.credentials.private_file import write_private_file

ENV_CREDENTIALS_FILE = "JDE_STRIPE_CREDENTIALS_FILE"
STORE_HEADER = b"jde-stripe-credentials v1\n"
PAYLOAD_FORMAT = 1


def store_path(env: Mapping[str, str]) -> Path:
    """Where the store lives (see the module docstring for the order)."""
    explicit = env.get(ENV_CREDENTIALS_FILE, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    dagster_home = env.get("DAGSTER_HOME", "").strip()
    if dagster_home:
        return Path(dagster_home).expanduser() / "credentials.enc"
    return config_dir(env) / "credentials.enc"


def encrypt_store(credentials: StoredCredentials, fernet: MultiFernet) -> bytes:
    """The file's bytes: header + one token over the whole payload."""
    payload: dict[str, Any] = {"format": PAYLOAD_FORMAT}
    if credentials.jde is not None:
        payload["jde"] = credentials.jde.stored_values()
    if credentials.stripe is not None:
        payload["stripe"] = credentials.stripe.stored_values()
    if credentials.stripe_accounts:
        payload["stripe_accounts"] = {
            name: stripe.stored_values() for name, stripe in credentials.stripe_accounts.items()
        }
    return STORE_HEADER + fernet.encrypt(json.dumps(payload).encode("utf-8")) + b"\n"


def token_of(data: bytes, path: Path) -> bytes:
    """The Fernet token inside a store file's bytes; a file without the header is refused."""
    if not data.startswith(STORE_HEADER):
        raise StoreUnreadable(f"{path} is not a jde-stripe credential store (its first line is wrong).")
    return data[len(STORE_HEADER) :].strip()


def decrypt_store(data: bytes, fernet: MultiFernet, path: Path, key_description: str) -> StoredCredentials:
    """Open a store file's bytes; a wrong key or damaged file raises a clear error, never a value."""
    try:
        plain = fernet.decrypt(token_of(data, path))
    except InvalidToken:
        raise WrongMasterKey(
            f"The master key from the {key_description} does not open {path}: either it is not the key"
            " the store was written with (was the master key rotated? see `jde-stripe credentials"
            " rotate-master-key`), or the file is damaged. Restore the matching key file, or"
            " re-enter the credentials with `jde-stripe credentials set`."
        ) from None
    try:
        payload = json.loads(plain)
        if payload.get("format") != PAYLOAD_FORMAT:
            raise StoreUnreadable(f"{path} has an unknown payload format; upgrade jde-stripe-pipeline.")
        source = f"store {path}"
        jde = payload.get("jde")
        stripe = payload.get("stripe")
        accounts = payload.get("stripe_accounts") or {}
        return StoredCredentials(
            jde=build_jde_credentials(jde, source=source) if jde is not None else None,
            stripe=build_stripe_credentials(stripe, source=source) if stripe is not None else None,
            stripe_accounts={
                str(name): build_stripe_credentials(values, source=f"{source}, account {name}")
                for name, values in accounts.items()
            },
        )
    except (ValueError, AttributeError, TypeError, ValidationError):
        raise StoreUnreadable(
            f"{path} decrypts but its content is not valid; re-enter the credentials."
        ) from None


def read_store(path: Path, master_key: MasterKey) -> StoredCredentials:
    """The store's content; a store that does not exist yet is empty."""
    if not path.exists():
        return StoredCredentials()
    return decrypt_store(path.read_bytes(), master_key.fernet(), path, master_key.location.describe())


def write_store(path: Path, credentials: StoredCredentials, master_key: MasterKey) -> None:
    """Encrypt with the master key's first key and replace the file (0600, atomic)."""
    write_private_file(path, encrypt_store(credentials, master_key.fernet()))


def load_store(env: Mapping[str, str]) -> StoredCredentials:
    """Read the master key and the store afresh (no cache: a rotated value shows at the next call).

    A `WrongMasterKey` is retried once after re-reading both files: `rotate-master-key` writes the store
    and the key file one after the other, and a reader that read one before and one after would
    otherwise fail for nothing.
    """
    path = store_path(env)
    if not path.exists():
        return StoredCredentials()
    try:
        return read_store(path, load_master_key(env))
    except WrongMasterKey:
        return read_store(path, load_master_key(env))


def create_store(path: Path, key_file: Path, credentials: StoredCredentials) -> None:
    """A new store opened by a new master key file (both 0600): `credentials init` + `set` in one,
    for a home of its own (the demo's)."""
    key = new_key()
    write_key_file(key_file, [key])
    write_store(path, credentials, MasterKey(MasterKeyLocation(variable=None, key_file=key_file), (key,)))
