"""Writing a file only its owner can read, atomically.

The temporary file is created 0600 in the target's own directory and renamed over the target, so a
reader sees the old file or the new one, never a half-written one, and at no moment does the data sit in
a file with wider permissions.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

OWNER_ONLY = 0o600
OWNER_ONLY_DIR = 0o700


def write_private_file(path: Path, data: bytes) -> None:
    """Replace `path` with `data`, mode 0600, atomically; create missing parent folders 0700."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=OWNER_ONLY_DIR)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(temporary, OWNER_ONLY)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


def permission_bits(path: Path) -> int:
    """The permission bits of `path` (e.g. 0o600)."""
    return stat.S_IMODE(path.stat().st_mode)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; not every platform can open a directory, which is fine."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
