"""Re-encrypting the store under a new master key, without a moment where nothing opens it.

Key file (the usual case), in this order so that a crash at any step leaves a key file that opens
whatever store is on disk:
1. copy the old key file to `<key file>.retired-<UTC time>` (0600), unless told not to;
2. write the key file with the new key first and the old keys after it (MultiFernet: both open);
3. re-encrypt the store's token under the new key (`MultiFernet.rotate`) and replace the store;
4. write the key file with the new key alone.
After step 4 the old key opens only store backups taken before the rotation (hence the retired copy);
delete that copy once those backups are gone, or at once if the old key leaked.

Environment variable (`JDE_STRIPE_MASTER_KEY`): a process cannot change its parent's environment, so
the operator puts the new key first in the variable (`NEW,OLD`), runs the rotation, which re-encrypts
under the first key, and then sets the variable to `NEW` alone. Every process started with `NEW,OLD`
reads the store before and after, which is why the list form exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from jde_stripe_pipeline.credentials.errors import MasterKeyInvalid, WrongMasterKey
from jde_stripe_pipeline.credentials.master_key import (
    ENV_MASTER_KEY,
    MasterKey,
    load_master_key,
    new_key,
    write_key_file,
)
from jde_stripe_pipeline.credentials.private_file import write_private_file
from jde_stripe_pipeline.credentials.store import STORE_HEADER, store_path, token_of


@dataclass(frozen=True)
class RotationReport:
    """What the rotation did, for the CLI to tell the operator what is left to do."""

    store: Path
    store_existed: bool
    key_file: Path | None
    """The key file now holding the new key alone; None when the key is in the environment."""
    retired_key_file: Path | None
    """The copy of the old key file, when one was kept."""


def rotate_master_key(
    env: Mapping[str, str], *, keep_retired_key: bool = True, now: dt.datetime | None = None
) -> RotationReport:
    """Re-encrypt the store under a new master key (key file) or the variable's first key (env)."""
    master_key = load_master_key(env)
    path = store_path(env)
    if master_key.location.variable is not None:
        return _rotate_in_environment(master_key, path)
    key_file = master_key.location.key_file
    assert key_file is not None
    token = token_of(path.read_bytes(), path) if path.exists() else None
    if token is not None:
        _check_opens(master_key, token, path)
    retired: Path | None = None
    if keep_retired_key:
        stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
        retired = key_file.with_name(f"{key_file.name}.retired-{stamp}")
        write_key_file(retired, master_key.keys)
    fresh = new_key()
    write_key_file(key_file, (fresh, *master_key.keys))
    if token is not None:
        both = MultiFernet([Fernet(key) for key in (fresh, *master_key.keys)])
        write_private_file(path, STORE_HEADER + both.rotate(token) + b"\n")
    write_key_file(key_file, (fresh,))
    return RotationReport(
        store=path, store_existed=token is not None, key_file=key_file, retired_key_file=retired
    )


def _rotate_in_environment(master_key: MasterKey, path: Path) -> RotationReport:
    if len(master_key.keys) < 2:
        raise MasterKeyInvalid(
            f"The master key is in {ENV_MASTER_KEY}, which this command cannot change. To rotate it:"
            " (1) make a new key with `jde-stripe credentials init --key-file new.key`;"
            f" (2) set {ENV_MASTER_KEY}=NEW,OLD (the new key first, a comma, the current key);"
            " (3) run `jde-stripe credentials rotate-master-key` again;"
            f" (4) set {ENV_MASTER_KEY}=NEW alone, and delete new.key."
        )
    existed = path.exists()
    if existed:
        token = token_of(path.read_bytes(), path)
        _check_opens(master_key, token, path)
        write_private_file(path, STORE_HEADER + master_key.fernet().rotate(token) + b"\n")
    return RotationReport(store=path, store_existed=existed, key_file=None, retired_key_file=None)


def _check_opens(master_key: MasterKey, token: bytes, path: Path) -> None:
    """Refuse to rotate a store the current key cannot open: re-keying must never lose it."""
    try:
        master_key.fernet().decrypt(token)
    except InvalidToken:
        raise WrongMasterKey(
            f"The master key from the {master_key.location.describe()} does not open {path};"
            " nothing was changed. Restore the key the store was written with, then rotate."
        ) from None
