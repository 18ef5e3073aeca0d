"""Schema creation, versioning, migration steps, and the database-level append-only guard."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import URL, Connection, MetaData, inspect, select, text
from sqlalchemy.exc import DBAPIError

from jde_stripe_pipeline.ledger import SCHEMA_VERSION, Ledger, SchemaVersionError
from jde_stripe_pipeline.ledger.migrations import ensure_schema
from jde_stripe_pipeline.ledger.schema import audit, schema_version
from jde_stripe_pipeline_tests.ledger.helpers import create_deployed, outcome, pg_schema_url, raw_engine

LEDGER_TABLES = {
    "jde_stripe_schema_version",
    "jde_stripe_mapping",
    "jde_stripe_audit",
    "jde_stripe_quarantine",
    "jde_stripe_intent",
    "jde_stripe_relink",
}


def _versions(url: URL) -> list[int]:
    engine = raw_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(schema_version.c.version)).scalars())
    finally:
        engine.dispose()


def test_first_open_creates_tables_and_stamps_the_version(ledger_url: URL) -> None:
    with Ledger.open(ledger_url):
        pass
    engine = raw_engine(ledger_url)
    try:
        assert set(inspect(engine).get_table_names()) >= LEDGER_TABLES
    finally:
        engine.dispose()
    assert _versions(ledger_url) == [SCHEMA_VERSION]
    with Ledger.open(ledger_url):  # reopening neither recreates nor re-stamps
        pass
    assert _versions(ledger_url) == [SCHEMA_VERSION]


def test_default_sqlite_file_lands_under_dagster_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = f"{tmp_path}/dagster home"
    monkeypatch.delenv("JDE_STRIPE_STATE_URL", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", home)
    with Ledger.open() as ledger:
        ledger.record_outcome(outcome("1"))
        assert ledger.dialect == "sqlite"
    with Ledger.open(f"sqlite:///{home}/jde_stripe_state.sqlite") as again:
        assert again.get_mappings("customer", ["1"])["1"].stripe_id == "cus_1"


def test_a_newer_schema_is_refused_clearly(ledger_url: URL) -> None:
    with Ledger.open(ledger_url):
        pass
    engine = raw_engine(ledger_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                schema_version.insert().values(version=SCHEMA_VERSION + 1, applied_at=datetime.now(UTC))
            )
    finally:
        engine.dispose()
    with pytest.raises(SchemaVersionError, match=rf"schema version {SCHEMA_VERSION + 1}, newer than"):
        Ledger.open(ledger_url)


def test_migration_steps_run_in_order_from_the_installed_version(ledger_url: URL) -> None:
    with Ledger.open(ledger_url):
        pass
    applied: list[int] = []

    def add_note_column(conn: Connection) -> None:
        applied.append(SCHEMA_VERSION + 1)
        conn.execute(text("ALTER TABLE jde_stripe_mapping ADD COLUMN note VARCHAR(40)"))

    def add_note_index(conn: Connection) -> None:
        applied.append(SCHEMA_VERSION + 2)
        conn.execute(text("CREATE INDEX ix_jde_stripe_mapping_note ON jde_stripe_mapping (note)"))

    steps = {SCHEMA_VERSION + 1: add_note_column, SCHEMA_VERSION + 2: add_note_index}
    engine = raw_engine(ledger_url)
    try:
        with engine.begin() as conn:
            reached = ensure_schema(conn, datetime.now(UTC), target=SCHEMA_VERSION + 2, migrations=steps)
        columns = {column["name"] for column in inspect(engine).get_columns("jde_stripe_mapping")}
    finally:
        engine.dispose()
    assert reached == SCHEMA_VERSION + 2
    assert applied == [SCHEMA_VERSION + 1, SCHEMA_VERSION + 2]
    assert "note" in columns
    assert _versions(ledger_url) == [SCHEMA_VERSION, SCHEMA_VERSION + 1, SCHEMA_VERSION + 2]


def test_two_processes_opening_a_fresh_database_at_once_both_succeed(ledger_url: URL) -> None:
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def open_once() -> None:
        barrier.wait()
        try:
            Ledger.open(ledger_url).close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_once) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert _versions(ledger_url) == [SCHEMA_VERSION]


@pytest.mark.parametrize(
    "statement",
    ["UPDATE jde_stripe_audit SET outcome = 'created'", "DELETE FROM jde_stripe_audit"],
)
def test_audit_rows_cannot_be_changed_or_deleted_even_with_raw_sql(
    ledger: Ledger, ledger_url: URL, statement: str
) -> None:
    ledger.record_outcome(outcome("7", "failed"))
    engine = raw_engine(ledger_url)
    try:
        with pytest.raises(DBAPIError, match="jde_stripe_audit is append-only"), engine.begin() as conn:
            conn.execute(text(statement))
        with engine.connect() as conn:
            rows = conn.execute(select(audit.c.record_key, audit.c.outcome)).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [("7", "failed")]


@pytest.mark.postgres
def test_audit_table_cannot_be_truncated_on_postgresql(pg_database: URL) -> None:
    url = pg_schema_url(pg_database)
    engine = raw_engine(url)
    try:
        with Ledger.open(url) as ledger:
            ledger.record_outcome(outcome("7", "failed"))
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text("TRUNCATE jde_stripe_audit"))
            assert len(ledger.history("7")) == 1
    finally:
        engine.dispose()


def _old_mapping_row(conn: Connection, old: MetaData) -> None:
    now = datetime.now(UTC)
    conn.execute(
        old.tables["jde_stripe_mapping"]
        .insert()
        .values(
            object_type="invoice",
            jde_key="00070/1/OP/000",
            stripe_id="in_1",
            content_hash="h",
            created_at=now,
            updated_at=now,
        )
    )


def test_a_version_1_ledger_is_upgraded_with_its_mappings_known_to_the_intents(ledger_url: URL) -> None:
    """Version 1 (mapping, audit, quarantine) as it was deployed, then opened by this program."""
    engine = raw_engine(ledger_url)
    try:
        with engine.begin() as conn:
            _old_mapping_row(conn, create_deployed(conn, 1))
        assert "jde_stripe_intent" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    with Ledger.open(ledger_url) as ledger:
        assert ledger.intents.of("invoice", ["00070/1/OP/000"])["00070/1/OP/000"].stripe_id == "in_1"
        assert not ledger.intents.needs_relink()
        assert ledger.get_mappings("invoice", ["00070/1/OP/000"])["00070/1/OP/000"].drift is None
    assert _versions(ledger_url) == [1, 2, 3, 4]


def test_a_version_2_ledger_gets_the_drift_mark_and_keeps_its_rows(ledger_url: URL) -> None:
    """Version 2 as deployed (no drift columns), holding a mapping: opened by this program it is at the
    current version, the mapping unmarked, and a drift mark and its repair work on it."""
    engine = raw_engine(ledger_url)
    try:
        with engine.begin() as conn:
            _old_mapping_row(conn, create_deployed(conn, 2))
        before = {column["name"] for column in inspect(engine).get_columns("jde_stripe_mapping")}
        assert "drift" not in before
    finally:
        engine.dispose()
    with Ledger.open(ledger_url) as ledger:
        [mapped] = ledger.get_mappings("invoice", ["00070/1/OP/000"]).values()
        assert (mapped.stripe_id, mapped.content_hash, mapped.drift, mapped.drift_at) == (
            "in_1",
            "h",
            None,
            None,
        )
        marked = ledger.drift.mark(
            "invoice",
            "00070/1/OP/000",
            stripe_id="in_1",
            content_hash="h",
            reason="draft in_1 deleted in Stripe",
            run_id="reconcile-1",
            partition_key="2026-11-26",
        )
        assert marked
        assert [m.drift for m in ledger.drift.marked("invoice")] == ["draft in_1 deleted in Stripe"]
        assert ledger.for_account("eu").drift.marked() == []  # a mark is its account's
    assert _versions(ledger_url) == [2, 3, 4]
    with Ledger.open(ledger_url) as again:  # reopening runs no step again
        assert again.drift.marked()[0].drift_at is not None
    assert _versions(ledger_url) == [2, 3, 4]
