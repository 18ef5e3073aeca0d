"""Where the ledger lives and how to talk to it: the URL, its masked form, and a configured engine.

SQLite is the embedded default, tuned so worker threads wait for each other instead of failing
(WAL, a busy timeout, `BEGIN IMMEDIATE` for writes). PostgreSQL is chosen by URL for production.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError

from jde_stripe_pipeline.ledger.model import UnsupportedDatabaseError

STATE_URL_ENV = "JDE_STRIPE_STATE_URL"
DAGSTER_HOME_ENV = "DAGSTER_HOME"
STATE_FILE_NAME = "jde_stripe_state.sqlite"
FALLBACK_HOME = Path(".dagster_home")
"""Used (relative to the working directory) when neither JDE_STRIPE_STATE_URL nor DAGSTER_HOME is set."""

SQLITE_BUSY_TIMEOUT_S = 30.0
"""How long a SQLite writer waits for another one before giving up."""

WRITE_OPTION = "jde_stripe_write"
"""Execution option marking a connection whose transaction will write (SQLite: BEGIN IMMEDIATE)."""


def resolve_state_url(env: Mapping[str, str] | None = None) -> URL:
    """The ledger URL: `JDE_STRIPE_STATE_URL`, else `$DAGSTER_HOME/jde_stripe_state.sqlite`,
    else `./.dagster_home/jde_stripe_state.sqlite`."""
    env = os.environ if env is None else env
    explicit = env.get(STATE_URL_ENV, "").strip()
    if explicit:
        return parse_url(explicit)
    home = Path(env.get(DAGSTER_HOME_ENV, "").strip() or FALLBACK_HOME)
    return sqlite_url(home / STATE_FILE_NAME)


def sqlite_url(path: Path) -> URL:
    return URL.create("sqlite", database=str(path))


def parse_url(url: str | URL) -> URL:
    """A URL object, refusing anything but SQLite and PostgreSQL (the two backends tested)."""
    if isinstance(url, URL):
        parsed = url
    else:
        try:
            parsed = make_url(url)
        except ArgumentError:
            # make_url's message echoes the whole string, password included.
            raise UnsupportedDatabaseError(
                f"{STATE_URL_ENV} is not a database URL (expected sqlite:///path or "
                "postgresql+psycopg2://user@host:5432/db)"
            ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise UnsupportedDatabaseError(
            f"the ledger supports sqlite and postgresql, not {parsed.get_backend_name()!r} "
            f"({mask_url(parsed)})"
        )
    return parsed


def mask_url(url: URL) -> str:
    """The URL as it may appear in logs and errors: the password replaced by ***."""
    return url.render_as_string(hide_password=True)


def scrub(message: str, url: URL) -> str:
    """`message` with the URL's password removed, for driver errors that might echo a DSN."""
    if url.password:
        message = message.replace(str(url.password), "***")
    return message


def create_ledger_engine(url: URL) -> Engine:
    """An engine configured for the ledger's concurrency model on either backend."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _switch_to_wal(cursor: Any) -> None:
    """`PRAGMA journal_mode = WAL` on a fresh file can answer "database is locked" at once, without the
    busy handler, while another connection converts it: several first opens at once (two Dagster steps
    on a new DAGSTER_HOME) must wait for each other, not fail."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so BEGIN is ours (see _begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # A deferred transaction that reads and then writes can fail at once with SQLITE_BUSY when
        # another writer got in between; IMMEDIATE takes the write lock up front, waiting politely.
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
