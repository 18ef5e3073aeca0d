"""The master key: where it comes from, reading it safely, and writing a key file.

Sources, first match wins:
1. `JDE_STRIPE_MASTER_KEY`: one Fernet key, or several separated by commas (rotation: the first
   encrypts, all decrypt).
2. `JDE_STRIPE_MASTER_KEY_FILE`: a file holding one key per line (`#` comments allowed), same rule.
3. The default key file `$XDG_CONFIG_HOME/jde-stripe/master.key` (`~/.config/jde-stripe/master.key`),
   if it exists. It is deliberately outside `DAGSTER_HOME`, so a copy of the Dagster home (a backup,
   a support bundle) carries the encrypted store without the key that opens it.
Setting both variables is refused: one source, never a guess.

A key file readable by group or others, or owned by someone else, is refused, as ssh refuses a private
key with such permissions: the key is what protects the Stripe key that moves money.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet

from jde_stripe_pipeline.credentials.errors import (
    InsecureKeyFile,
    MasterKeyInvalid,
    MasterKeyMissing,
)
from jde_stripe_pipeline.credentials.private_file import write_private_file

ENV_MASTER_KEY = "JDE_STRIPE_MASTER_KEY"
ENV_MASTER_KEY_FILE = "JDE_STRIPE_MASTER_KEY_FILE"
KEY_FILE_HEADER = (
    "# jde-stripe master key (Fernet). Keep this file mode 0600 and back it up apart from the store:\n"
    "# without it the credential store cannot be opened. The first key encrypts; any key decrypts.\n"
)


@dataclass(frozen=True)
class MasterKeyLocation:
    """Where the master key is to be read from (nothing read yet)."""

    variable: str | None
    """`JDE_STRIPE_MASTER_KEY` when the key is in the environment, else None."""
    key_file: Path | None
    """The key file when the key is in a file, else None."""

    def describe(self) -> str:
        if self.variable is not None:
            return f"environment variable {self.variable}"
        return f"key file {self.key_file}"


@dataclass(frozen=True)
class MasterKey:
    """The keys read from one source; the first encrypts. The keys never show in a repr."""

    location: MasterKeyLocation
    keys: tuple[bytes, ...] = field(repr=False)

    def fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(key) for key in self.keys])


def config_dir(env: Mapping[str, str]) -> Path:
    """`$XDG_CONFIG_HOME/jde-stripe`, else `~/.config/jde-stripe`."""
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base).expanduser() / "jde-stripe"


def default_key_file(env: Mapping[str, str]) -> Path:
    return config_dir(env) / "master.key"


def locate_master_key(env: Mapping[str, str]) -> MasterKeyLocation:
    """Decide which source holds the master key (see the module docstring for the order)."""
    in_variable = bool(env.get(ENV_MASTER_KEY, "").strip())
    named_file = env.get(ENV_MASTER_KEY_FILE, "").strip()
    if in_variable and named_file:
        raise MasterKeyInvalid(
            f"Both {ENV_MASTER_KEY} and {ENV_MASTER_KEY_FILE} are set; unset one of them so there is"
            " no doubt which key opens the credential store."
        )
    if in_variable:
        return MasterKeyLocation(variable=ENV_MASTER_KEY, key_file=None)
    if named_file:
        return MasterKeyLocation(variable=None, key_file=Path(named_file).expanduser())
    return MasterKeyLocation(variable=None, key_file=default_key_file(env))


def load_master_key(env: Mapping[str, str]) -> MasterKey:
    """Read and check the master key; every failure is a `MasterKeyError` saying what to do."""
    location = locate_master_key(env)
    if location.variable is not None:
        entries = [entry.strip() for entry in env[location.variable].split(",")]
        return MasterKey(location, parse_keys(entries, location.describe()))
    key_file = location.key_file
    assert key_file is not None
    if not key_file.exists():
        raise MasterKeyMissing(
            f"No master key: {key_file} does not exist and {ENV_MASTER_KEY} is not set."
            " Create a key file with `jde-stripe credentials init`"
            f" (or set {ENV_MASTER_KEY_FILE} to your key file)."
        )
    check_key_file_permissions(key_file)
    return MasterKey(location, parse_keys(read_key_file_lines(key_file), location.describe()))


def read_key_file_lines(key_file: Path) -> list[str]:
    lines = key_file.read_text(encoding="ascii", errors="replace").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def parse_keys(entries: Sequence[str], where: str) -> tuple[bytes, ...]:
    """Check each entry is a Fernet key; the message names its position, never its value."""
    keys = [entry for entry in entries if entry]
    if not keys:
        raise MasterKeyInvalid(f"The {where} holds no key.")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode("ascii", errors="replace"))
        except ValueError:
            raise MasterKeyInvalid(
                f"Key {position} in the {where} is not a Fernet key (32 bytes, url-safe base64;"
                " make one with `jde-stripe credentials init`)."
            ) from None
    return tuple(key.encode("ascii") for key in keys)


def check_key_file_permissions(key_file: Path) -> None:
    """Refuse a key file that is not a regular file, not ours, or open to group or others."""
    if os.name == "nt":  # POSIX permission bits mean nothing there; NTFS ACLs are the owner's job
        return
    status = key_file.stat()
    if not stat.S_ISREG(status.st_mode):
        raise InsecureKeyFile(f"The master key file {key_file} is not a regular file.")
    if status.st_uid != os.geteuid():
        raise InsecureKeyFile(
            f"The master key file {key_file} belongs to uid {status.st_uid}, not to you"
            f" (uid {os.geteuid()}); it must be owned by the user that runs the pipeline."
        )
    mode = stat.S_IMODE(status.st_mode)
    if mode & 0o077:
        raise InsecureKeyFile(
            f"Permissions {mode:04o} for the master key file {key_file} are too open: it must not be"
            f" accessible by group or others. Refusing to use it. Fix with: chmod 600 {key_file}"
        )


def new_key() -> bytes:
    return Fernet.generate_key()


def write_key_file(key_file: Path, keys: Sequence[bytes]) -> None:
    """Write `keys` (first = the encrypting one) to `key_file`, 0600, atomically."""
    body = KEY_FILE_HEADER + "".join(key.decode("ascii") + "\n" for key in keys)
    write_private_file(key_file, body.encode("ascii"))
