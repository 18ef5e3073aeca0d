"""Ledger fixtures: every ledger test runs on SQLite (a file in tmp_path) and on the real PostgreSQL.

PostgreSQL: one fresh database per test session (`jde_stripe_test_<random>`, dropped at the end) and
one fresh schema per test inside it (chosen through the connection's search_path), so tests never
see each other's rows.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline_tests.ledger.helpers import pg_schema_url

PG_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def _admin_execute(statement: str) -> None:
    engine = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[URL]:
    """A fresh PostgreSQL database for this session; failing (not skipping) when the server is down."""
    name = f"jde_stripe_test_{secrets.token_hex(4)}"
    try:
        _admin_execute(f'CREATE DATABASE "{name}"')
    except OperationalError as error:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is needed for @pytest.mark.postgres tests: {error.orig}")
    try:
        yield make_url(PG_SERVER).set(database=name)
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> URL:
    if request.param == "sqlite":
        return URL.create("sqlite", database=str(tmp_path / "state.sqlite"))
    return pg_schema_url(request.getfixturevalue("pg_database"))


@pytest.fixture
def ledger(ledger_url: URL) -> Iterator[Ledger]:
    with Ledger.open(ledger_url) as opened:
        yield opened
