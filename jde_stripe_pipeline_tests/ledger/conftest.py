"""Ledger fixtures: every ledger test runs on SQLite (a file in tmp_path) and on the real PostgreSQL.

PostgreSQL: one fresh database per test session (`jde_stripe_test_<random>`, dropped at the end) and
one fresh schema per test inside it (chosen through the connection's search_path), so tests never
see each other's rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, make_url

from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline_tests.ledger.helpers import pg_schema_url
from jde_stripe_pipeline_tests.postgres import PG_SERVER, fresh_database


@pytest.fixture(scope="session")
def pg_database() -> Iterator[URL]:
    """A fresh PostgreSQL database for this session."""
    with fresh_database("jde_stripe_test") as name:
        yield make_url(f"{PG_SERVER}/{name}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> URL:
    if request.param == "sqlite":
        return URL.create("sqlite", database=str(tmp_path / "state.sqlite"))
    return pg_schema_url(request.getfixturevalue("pg_database"))


@pytest.fixture
def ledger(ledger_url: URL) -> Iterator[Ledger]:
    with Ledger.open(ledger_url) as opened:
        yield opened
