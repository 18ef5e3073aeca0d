"""Master key rotation: key file, environment variable, and a crash half-way."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from jde_stripe_pipeline.credentials import rotation
from jde_stripe_pipeline.credentials.errors import MasterKeyInvalid, WrongMasterKey
from jde_stripe_pipeline.credentials.master_key import load_master_key, read_key_file_lines, write_key_file
from jde_stripe_pipeline.credentials.models import StoredCredentials, build_stripe_credentials
from jde_stripe_pipeline.credentials.private_file import permission_bits
from jde_stripe_pipeline.credentials.resolve import resolve_stripe_key
from jde_stripe_pipeline.credentials.rotation import rotate_master_key
from jde_stripe_pipeline.credentials.store import load_store, write_store
from jde_stripe_pipeline_tests.credentials.conftest import Home
from jde_stripe_pipeline_tests.credentials.support import STRIPE_KEY


def _stripe_only() -> StoredCredentials:
    return StoredCredentials(stripe=build_stripe_credentials({"api_key": STRIPE_KEY}, source="t"))


def _key_file_store(home: Home) -> bytes:
    old = Fernet.generate_key()
    write_key_file(home.key_file, (old,))
    write_store(home.store, _stripe_only(), load_master_key(dict(os.environ)))
    return old


def test_key_file_rotation_re_encrypts_and_retires_the_old_key(home: Home) -> None:
    old = _key_file_store(home)
    report = rotate_master_key(dict(os.environ))
    assert report.store_existed and report.key_file == home.key_file
    new_keys = read_key_file_lines(home.key_file)
    assert len(new_keys) == 1 and new_keys[0].encode() != old
    assert permission_bits(home.store) == permission_bits(home.key_file) == 0o600
    assert report.retired_key_file is not None
    assert read_key_file_lines(report.retired_key_file) == [old.decode()]
    assert permission_bits(report.retired_key_file) == 0o600
    assert resolve_stripe_key().api_key.get_secret_value() == STRIPE_KEY
    with pytest.raises(WrongMasterKey):
        load_store({**os.environ, "JDE_STRIPE_MASTER_KEY_FILE": str(report.retired_key_file)})


def test_rotation_without_a_store_just_replaces_the_key(home: Home) -> None:
    write_key_file(home.key_file, (Fernet.generate_key(),))
    report = rotate_master_key(dict(os.environ), keep_retired_key=False)
    assert not report.store_existed and report.retired_key_file is None
    assert not home.store.exists()


def test_rotation_refuses_a_store_the_key_cannot_open_and_changes_nothing(home: Home) -> None:
    _key_file_store(home)
    write_key_file(home.key_file, (Fernet.generate_key(),))  # someone replaced the key file
    store_before, key_before = home.store.read_bytes(), home.key_file.read_bytes()
    with pytest.raises(WrongMasterKey, match="nothing was changed"):
        rotate_master_key(dict(os.environ))
    assert home.store.read_bytes() == store_before and home.key_file.read_bytes() == key_before
    assert [p.name for p in home.key_file.parent.iterdir()] == ["master.key"]


def test_crash_between_key_file_and_store_leaves_everything_readable(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    _key_file_store(home)

    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    real_write = rotation.write_private_file
    monkeypatch.setattr(rotation, "write_private_file", disk_full)
    with pytest.raises(OSError):
        rotate_master_key(dict(os.environ))
    assert len(read_key_file_lines(home.key_file)) == 2  # new first, old still there
    assert resolve_stripe_key().api_key.get_secret_value() == STRIPE_KEY
    monkeypatch.setattr(rotation, "write_private_file", real_write)
    rotate_master_key(dict(os.environ), keep_retired_key=False)  # the next attempt completes
    assert len(read_key_file_lines(home.key_file)) == 1
    assert resolve_stripe_key().api_key.get_secret_value() == STRIPE_KEY


def test_environment_rotation_needs_new_key_first(home: Home) -> None:
    old = Fernet.generate_key().decode()
    env = {**os.environ, "JDE_STRIPE_MASTER_KEY": old}
    write_store(home.store, _stripe_only(), load_master_key(env))
    with pytest.raises(MasterKeyInvalid) as raised:
        rotate_master_key(env)
    assert "NEW,OLD" in str(raised.value) and old not in str(raised.value)

    new = Fernet.generate_key().decode()
    report = rotate_master_key({**env, "JDE_STRIPE_MASTER_KEY": f"{new},{old}"})
    assert report.key_file is None and report.store_existed
    assert permission_bits(home.store) == 0o600
    assert resolve_stripe_key({**env, "JDE_STRIPE_MASTER_KEY": new}).api_key.get_secret_value() == STRIPE_KEY
    with pytest.raises(WrongMasterKey):
        resolve_stripe_key(env)  # the old key alone no longer opens it
