"""Where the ledger lives, and that its password never shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import URL

from jde_stripe_pipeline.ledger import (
    Ledger,
    LedgerUnavailableError,
    UnsupportedDatabaseError,
    resolve_state_url,
)

SECRET = "s3cr3t-Pa55"


def test_state_url_from_the_environment_wins() -> None:
    url = resolve_state_url(
        {"JDE_STRIPE_STATE_URL": "postgresql+psycopg2://u@db:5432/state", "DAGSTER_HOME": "/dh"}
    )
    assert (url.get_backend_name(), url.host, url.database) == ("postgresql", "db", "state")


def test_state_file_under_dagster_home_else_the_documented_fallback() -> None:
    assert (
        resolve_state_url({"DAGSTER_HOME": "/srv/dagster"}).database == "/srv/dagster/jde_stripe_state.sqlite"
    )
    assert resolve_state_url({}).database == ".dagster_home/jde_stripe_state.sqlite"
    assert resolve_state_url({"JDE_STRIPE_STATE_URL": " ", "DAGSTER_HOME": ""}).database == (
        ".dagster_home/jde_stripe_state.sqlite"
    )


def test_other_databases_are_refused_without_showing_the_password() -> None:
    with pytest.raises(UnsupportedDatabaseError, match=r"not 'mysql'") as caught:
        Ledger.open(f"mysql://admin:{SECRET}@db/state")
    assert SECRET not in str(caught.value) and "***" in str(caught.value)
    with pytest.raises(UnsupportedDatabaseError) as garbled:
        Ledger.open(f"not a url {SECRET}")
    assert SECRET not in str(garbled.value)


def test_repr_names_the_database(tmp_path: Path) -> None:
    with Ledger.open(URL.create("sqlite", database=str(tmp_path / "s.sqlite"))) as ledger:
        assert repr(ledger) == f"Ledger(sqlite:///{tmp_path}/s.sqlite)"


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("where", "symptom"),
    [("127.0.0.1:5432/jde_stripe_no_such_db", "does not exist"), ("127.0.0.1:1/state", "refused")],
)
def test_connection_errors_mask_the_password(where: str, symptom: str) -> None:
    url = f"postgresql+psycopg2://postgres:{SECRET}@{where}"
    with pytest.raises(LedgerUnavailableError, match=symptom) as caught:
        Ledger.open(url)
    message = str(caught.value)
    assert SECRET not in message and "postgres:***@" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.postgres
def test_an_open_postgres_ledger_masks_its_password(pg_database: URL) -> None:
    with Ledger.open(pg_database.set(password=SECRET)) as ledger:  # trust auth ignores the password
        assert SECRET not in repr(ledger) and SECRET not in ledger.display_url
        assert "***" in repr(ledger)
