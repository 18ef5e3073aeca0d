"""A fresh database on the PostgreSQL server at 127.0.0.1:5432 (trust auth), dropped afterwards: a test
that needs PostgreSQL fails, never skips, when the server is down."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

PG_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"


def admin_execute(statement: str) -> None:
    engine = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


@contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """The name of a new database, dropped (connections forced out) when the block ends."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    try:
        admin_execute(f'CREATE DATABASE "{name}"')
    except OperationalError as error:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is needed for this test: {error.orig}")
    try:
        yield name
    finally:
        admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
