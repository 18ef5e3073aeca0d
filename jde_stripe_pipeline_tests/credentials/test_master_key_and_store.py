"""Master key sources and key-file checks; the store file's format and permissions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from jde_stripe_pipeline.credentials.errors import (
    InsecureKeyFile,
    MasterKeyInvalid,
    MasterKeyMissing,
    StoreUnreadable,
    WrongMasterKey,
)
from jde_stripe_pipeline.credentials.master_key import (
    load_master_key,
    locate_master_key,
    write_key_file,
)
from jde_stripe_pipeline.credentials.models import StoredCredentials
from jde_stripe_pipeline.credentials.private_file import permission_bits
from jde_stripe_pipeline.credentials.store import load_store, read_store, store_path, write_store
from jde_stripe_pipeline_tests.credentials.conftest import Home
from jde_stripe_pipeline_tests.credentials.support import (
    AIS_URL,
    JDE_PASSWORD,
    JDE_USER,
    STRIPE_KEY,
    assert_no_secret,
    stored_credentials,
)


def test_store_path_order(tmp_path: Path) -> None:
    assert store_path({"JDE_STRIPE_CREDENTIALS_FILE": "/x/c.enc", "DAGSTER_HOME": "/d"}) == Path("/x/c.enc")
    assert store_path({"DAGSTER_HOME": "/d"}) == Path("/d/credentials.enc")
    assert store_path({"XDG_CONFIG_HOME": "/cfg"}) == Path("/cfg/jde-stripe/credentials.enc")
    assert store_path({"HOME": "/h"}) == Path("/h/.config/jde-stripe/credentials.enc")


def test_default_key_file_lies_outside_dagster_home(home: Home) -> None:
    location = locate_master_key(dict(os.environ))
    assert location.key_file == home.key_file
    assert home.dagster_home not in location.key_file.parents


def test_store_written_0600_with_no_value_in_clear(home: Home) -> None:
    write_key_file(home.key_file, (Fernet.generate_key(),))
    master_key = load_master_key(dict(os.environ))
    write_store(home.store, stored_credentials(), master_key)
    assert permission_bits(home.store) == 0o600
    assert permission_bits(home.key_file) == 0o600
    data = home.store.read_bytes()
    for clear in (JDE_PASSWORD, STRIPE_KEY, AIS_URL, "quokka-corp", JDE_USER, "password", "api_key"):
        assert clear.encode() not in data
    assert read_store(home.store, master_key) == StoredCredentials(
        jde=stored_credentials().jde.model_copy(update={"source": f"store {home.store}"}),  # type: ignore[union-attr]
        stripe=stored_credentials().stripe.model_copy(update={"source": f"store {home.store}"}),  # type: ignore[union-attr]
    )


def test_rewrite_replaces_a_widened_store_with_0600(home: Home) -> None:
    write_key_file(home.key_file, (Fernet.generate_key(),))
    master_key = load_master_key(dict(os.environ))
    write_store(home.store, stored_credentials(), master_key)
    home.store.chmod(0o644)
    write_store(home.store, stored_credentials(), master_key)
    assert permission_bits(home.store) == 0o600
    assert [p.name for p in home.dagster_home.iterdir()] == ["credentials.enc"]  # no temp file left


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_file_open_to_others_is_refused(home: Home, mode: int) -> None:
    write_key_file(home.key_file, (Fernet.generate_key(),))
    home.key_file.chmod(mode)
    with pytest.raises(InsecureKeyFile) as raised:
        load_master_key(dict(os.environ))
    assert f"{mode:04o}" in str(raised.value)
    assert f"chmod 600 {home.key_file}" in str(raised.value)


def test_key_file_0400_is_accepted(home: Home) -> None:
    write_key_file(home.key_file, (Fernet.generate_key(),))
    home.key_file.chmod(0o400)
    assert len(load_master_key(dict(os.environ)).keys) == 1


def test_missing_key_file_says_how_to_create_one(home: Home) -> None:
    with pytest.raises(MasterKeyMissing, match="jde-stripe credentials init"):
        load_master_key(dict(os.environ))


def test_both_master_key_sources_refused(home: Home) -> None:
    env = {"JDE_STRIPE_MASTER_KEY": Fernet.generate_key().decode(), "JDE_STRIPE_MASTER_KEY_FILE": "/k"}
    with pytest.raises(MasterKeyInvalid, match="Both"):
        load_master_key(env)


def test_malformed_master_key_named_by_position_not_value() -> None:
    good = Fernet.generate_key().decode()
    with pytest.raises(MasterKeyInvalid) as raised:
        load_master_key({"JDE_STRIPE_MASTER_KEY": f"{good}, Quokka-not-a-key"})
    assert "Key 2" in str(raised.value)
    assert_no_secret(str(raised.value))
    assert good not in str(raised.value)


def test_master_key_never_in_repr() -> None:
    key = Fernet.generate_key().decode()
    master_key = load_master_key({"JDE_STRIPE_MASTER_KEY": key})
    assert key not in repr(master_key)


def test_wrong_master_key_is_a_clear_error(home: Home) -> None:
    right = Fernet.generate_key().decode()
    write_store(home.store, stored_credentials(), load_master_key({"JDE_STRIPE_MASTER_KEY": right}))
    wrong = Fernet.generate_key().decode()
    with pytest.raises(WrongMasterKey) as raised:
        load_store({"JDE_STRIPE_MASTER_KEY": wrong, "JDE_STRIPE_CREDENTIALS_FILE": str(home.store)})
    message = str(raised.value)
    assert "does not open" in message and str(home.store) in message
    assert wrong not in message and right not in message
    assert raised.value.__cause__ is None


def test_tampered_store_is_refused(home: Home) -> None:
    key = Fernet.generate_key().decode()
    write_store(home.store, stored_credentials(), load_master_key({"JDE_STRIPE_MASTER_KEY": key}))
    data = bytearray(home.store.read_bytes())
    data[60] = ord("A") if data[60] != ord("A") else ord("B")
    home.store.write_bytes(bytes(data))
    with pytest.raises(WrongMasterKey):
        load_store({"JDE_STRIPE_MASTER_KEY": key, "JDE_STRIPE_CREDENTIALS_FILE": str(home.store)})


def test_a_file_that_is_not_a_store_is_refused(home: Home) -> None:
    home.dagster_home.mkdir()
    home.store.write_text("api_key = whatever\n")
    with pytest.raises(StoreUnreadable, match="not a jde-stripe credential store"):
        load_store({"JDE_STRIPE_MASTER_KEY": Fernet.generate_key().decode(), **os.environ})
