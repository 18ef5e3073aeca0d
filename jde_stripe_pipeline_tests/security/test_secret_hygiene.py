"""Promise: secrets never appear in logs, run config, metadata, exceptions or files in clear text.

A full sync runs with distinctive secrets (JDE password, Stripe key, master key of the store; the AIS
tokens the run was issued count too). Everything a person or a support bundle could see is then searched
for them in clear, JSON-escaped, URL-encoded, base64 and hex form: stdout/stderr, Python logging at
DEBUG, Dagster's event log, and every byte of every file under the home (`DAGSTER_HOME` with its SQLite
instance databases, compute logs and pickled IO-manager outputs, the ledger, the credential store).
Failing runs too: a revoked Stripe key, an AIS allowlist 403, a wrong JDE password.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import URL

from jde_stripe_pipeline.jde.errors import AisAllowlistError, AisAuthError
from jde_stripe_pipeline.jde.julian import julian_to_date
from jde_stripe_pipeline.orchestration.resources import build_resources
from jde_stripe_pipeline.settings import Settings
from jde_stripe_pipeline.stripe_sink.errors import StripeAuthError
from jde_stripe_pipeline_tests.ledger.conftest import pg_database  # noqa: F401  (the fixture)
from jde_stripe_pipeline_tests.ledger.helpers import pg_schema_url
from jde_stripe_pipeline_tests.orchestration.conftest import SYNC_ASSETS
from jde_stripe_pipeline_tests.security.conftest import CredentialMode, Setup, failures
from jde_stripe_pipeline_tests.security.secrets_hunt import (
    JDE_PASSWORD,
    SECRETS,
    STRIPE_KEY,
    exception_text,
    find_secrets,
    scan_tree,
)

TIMEZONE = "America/Chicago"
DB_PASSWORD = "DbPw-UNIQUE-e41d-ledger"
OTHER_KEY = "sk_test_UNIQUE_revoker_0a1b2c3d4e5f6a7b"


def _secrets_of_the_run(setup: Setup, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The configured secrets plus every AIS token the run was issued."""
    tokens = {
        f"AIS token {index}": exchange.response_json()["userInfo"]["token"]
        for index, exchange in enumerate(setup.ais.exchanges)
        if exchange.path == "/jderest/v2/tokenrequest" and exchange.status == 200
    }
    return {**SECRETS, **tokens, **(extra or {})}


@dataclass(frozen=True)
class Watch:
    """What a person could see of a test's run: stdout/stderr, every logger at DEBUG, the home's files."""

    setup: Setup
    caplog: pytest.LogCaptureFixture
    capfd: pytest.CaptureFixture[str]

    def assert_no_secret_seen(
        self, *, extra: dict[str, str] | None = None, texts: dict[str, str] | None = None
    ) -> None:
        """No secret of the run (nor `extra`) in what was seen, nor in `texts` (exceptions, event logs)."""
        secrets = _secrets_of_the_run(self.setup, extra)
        out, err = self.capfd.readouterr()
        records = "\n".join(
            f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in self.caplog.records
        )
        seen = {
            "stdout": out,
            "stderr": err,
            "logging": self.caplog.text + records,
            **(texts or {}),
        }
        leaks = {name: find_secrets(text.encode(), secrets) for name, text in seen.items()}
        assert {name: found for name, found in leaks.items() if found} == {}
        assert scan_tree(self.setup.home, secrets) == {}
        assert self.caplog.records, "nothing was logged: the capture is not working"


@pytest.fixture
def watch(setup: Setup, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Watch:
    """Every logger at DEBUG (urllib3, stripe, dagster, ours) and the process's output, captured."""
    caplog.set_level(logging.DEBUG)
    return Watch(setup, caplog, capfd)


@pytest.mark.parametrize("mode", ["environment", "store"])
def test_engine_sync_leaves_no_secret_anywhere(setup: Setup, mode: CredentialMode, watch: Watch) -> None:
    setup.configure(mode)
    customers, invoices = setup.run()
    assert failures([customers, invoices]) == [] and invoices.counts()["created"] > 0
    assert setup.ledger_path.exists()
    if mode == "store":
        assert (setup.dagster_home / "credentials.enc").exists()
    texts = {"reports": repr((customers, invoices))}
    watch.assert_no_secret_seen(texts=texts)


def _busiest_day(setup: Setup) -> str:
    days = Counter(julian_to_date(row["UPMJ"]) for row in setup.sandbox.rows("F4301"))
    day = max((d for d in days if d is not None), key=lambda d: (days[d], d))
    return day.isoformat()


def _materialize(setup: Setup, instance: dg.DagsterInstance, partition: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        SYNC_ASSETS,
        partition_key=partition,
        instance=instance,
        resources=build_resources(
            Settings.from_env(os.environ), step_retries=0, step_retry_delay_seconds=0.0
        ),
        raise_on_error=False,
    )


@contextlib.contextmanager
def _dagster_instance() -> Iterator[dg.DagsterInstance]:
    """The instance under DAGSTER_HOME (SQLite run and event storage), disposed of afterwards."""
    instance = dg.DagsterInstance.get()
    try:
        yield instance
    finally:
        instance.dispose()


def _event_log_text(instance: dg.DagsterInstance, run_id: str) -> str:
    return "\n".join(dg.serialize_value(entry) for entry in instance.all_logs(run_id))


@pytest.mark.parametrize("mode", ["environment", "store"])
def test_dagster_materialize_leaves_no_secret_anywhere(
    setup: Setup, mode: CredentialMode, watch: Watch
) -> None:
    setup.configure(mode)
    setup.monkeypatch.setenv("JDE_TIMEZONE", TIMEZONE)
    setup.monkeypatch.setenv("JDE_STRIPE_PAYMENT_TERMS_DAYS", "D10=10")
    with _dagster_instance() as instance:
        result = _materialize(setup, instance, _busiest_day(setup))
        assert result.success
        assert result.asset_materializations_for_node("stripe_invoices")
        run = instance.get_run_by_id(result.run_id)
        assert run is not None
        texts = {
            "event log": _event_log_text(instance, result.run_id),
            "run": dg.serialize_value(run),
        }
    stored = [path.name for path in setup.dagster_home.rglob("*") if path.is_file()]
    assert any(name.endswith(".db") for name in stored), stored
    assert "jde_invoices" in stored or any("jde_invoices" in str(p) for p in setup.dagster_home.rglob("*"))
    watch.assert_no_secret_seen(texts=texts)


@pytest.mark.postgres
def test_ledger_database_password_stays_out_of_runs_that_work_and_fail(
    setup: Setup,
    pg_database: URL,  # noqa: F811
    watch: Watch,
) -> None:
    """The ledger URL may carry a database password (PostgreSQL here, trust auth: any password is
    accepted): it must not reach metadata, the event log or a failure's message either."""
    setup.configure("environment")
    setup.monkeypatch.setenv("JDE_TIMEZONE", TIMEZONE)
    url = pg_schema_url(pg_database).set(username="postgres", password=DB_PASSWORD)
    wrong_database = url.set(database=f"{url.database}_missing")
    partition = _busiest_day(setup)
    texts: dict[str, str] = {}
    with _dagster_instance() as instance:
        for name, ledger_url in (("working", url), ("missing database", wrong_database)):
            setup.monkeypatch.setenv("JDE_STRIPE_STATE_URL", ledger_url.render_as_string(hide_password=False))
            result = _materialize(setup, instance, partition)
            assert result.success is (name == "working")
            texts[f"event log ({name})"] = _event_log_text(instance, result.run_id)
    assert "does not exist" in texts["event log (missing database)"]
    watch.assert_no_secret_seen(extra={"database password": DB_PASSWORD}, texts=texts)


# ------------------------------------------------------------------------------------ failing runs


def test_revoked_stripe_key_fails_without_showing_it(setup: Setup, watch: Watch) -> None:
    setup.configure("environment")
    setup.monkeypatch.setenv("JDE_STRIPE_KEY_GRACE_SECONDS", "0")  # revoked for good: fail at once
    revoked: list[bool] = []

    def revoke_after_four(done: int, total: int | None) -> None:
        if done == 4 and not revoked:
            setup.emulator.update_config(api_keys=(OTHER_KEY,))  # the key is revoked: 401 from now on
            revoked.append(True)

    with pytest.raises(StripeAuthError) as raised:
        setup.run(progress=revoke_after_four)
    assert raised.value.http_status == 401
    with contextlib.closing(sqlite3.connect(setup.ledger_path)) as ledger:
        audited = ledger.execute("select count(*) from jde_stripe_audit").fetchone()[0]
    assert audited >= 4, "the ledger the scan reads holds the records synced before the revocation"
    watch.assert_no_secret_seen(
        extra={"other key": OTHER_KEY}, texts={"exception": exception_text(raised.value)}
    )


def test_revoked_stripe_key_fails_the_dagster_run_without_showing_it(setup: Setup, watch: Watch) -> None:
    setup.configure("store")
    setup.monkeypatch.setenv("JDE_TIMEZONE", TIMEZONE)
    setup.monkeypatch.setenv("JDE_STRIPE_KEY_GRACE_SECONDS", "0")  # revoked for good: fail at once
    setup.emulator.update_config(api_keys=(OTHER_KEY,))
    with _dagster_instance() as instance:
        result = _materialize(setup, instance, _busiest_day(setup))
        assert not result.success
        texts = {"event log": _event_log_text(instance, result.run_id)}
    assert "401" in texts["event log"]
    watch.assert_no_secret_seen(extra={"other key": OTHER_KEY}, texts=texts)


def test_ais_allowlist_403_fails_without_showing_the_password(setup: Setup, watch: Watch) -> None:
    setup.configure("environment")
    setup.sandbox.update_config(allowlist=("10.99.0.0/16",))
    with pytest.raises(AisAllowlistError) as raised:
        setup.run()
    watch.assert_no_secret_seen(texts={"exception": exception_text(raised.value)})


def test_wrong_jde_password_fails_without_showing_it(setup: Setup, watch: Watch) -> None:
    wrong = JDE_PASSWORD + "-Wrong-42"
    setup.configure("store", password=wrong)
    with pytest.raises(AisAuthError) as raised:
        setup.run()
    assert "refused the login" in str(raised.value)
    watch.assert_no_secret_seen(
        extra={"wrong password": wrong},
        texts={"exception": exception_text(raised.value)},
    )


def test_the_stripe_key_is_distinctive_enough_to_be_found() -> None:
    """The search itself can fail: each form of a secret embedded in other bytes is found."""
    import base64
    import json
    from urllib.parse import quote

    for blob in (
        f"Authorization: Bearer {STRIPE_KEY}",
        json.dumps({"key": STRIPE_KEY}),
        "x=" + quote(STRIPE_KEY, safe=""),
        "Basic " + base64.b64encode(f"{STRIPE_KEY}:".encode()).decode(),
        "Basic " + base64.b64encode(f"HYGUSR:{JDE_PASSWORD}".encode()).decode(),
        "a" + base64.urlsafe_b64encode(f"..{STRIPE_KEY}.".encode()).decode(),
        f"{STRIPE_KEY}".encode().hex(),
    ):
        assert find_secrets(blob.encode()), blob
    assert find_secrets(b"sk_test_\xe2\x80\xa6fhyg masked, and nothing else") == []


def test_the_file_scan_finds_a_secret_inside_a_sqlite_database(tmp_path: Path) -> None:
    with contextlib.closing(sqlite3.connect(tmp_path / "some.db")) as db, db:
        db.execute("create table t (reason text)")
        db.execute("insert into t values (?)", (f"refused {STRIPE_KEY} (HTTP 401)",))
    assert scan_tree(tmp_path) == {"some.db": ["Stripe key (clear)"]}
