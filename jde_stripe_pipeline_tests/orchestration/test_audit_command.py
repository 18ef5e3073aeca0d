"""`jde-stripe audit`: the ledger's history of one record, by JDE key or Stripe id, printed readably."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from jde_stripe_pipeline.cli import main
from jde_stripe_pipeline.jde.records import QuarantinedRecord
from jde_stripe_pipeline.ledger import Ledger, RecordOutcome
from jde_stripe_pipeline_tests.ledger.helpers import outcome


def seeded_ledger(path: Path) -> str:
    url = f"sqlite:///{path}"
    with Ledger.open(url) as ledger:
        day = "2026-11-20"
        ledger.record_outcome(
            outcome("4242", "failed", run_id="run-aaa", partition_key=day, reason="Stripe answered 500")
        )
        ledger.record_outcome(
            outcome(
                "4242", run_id="run-bbb", partition_key=day, stripe_id="cus_X1", payload_hash="h1", attempt=2
            )
        )
        bad = QuarantinedRecord(
            kind="invoice", record_key="00200/77/OP/000", field="F4311.AEXP", reason="not a number"
        )
        ledger.record_outcome(RecordOutcome.quarantined(bad, run_id="run-ccc", partition_key="2026-11-21"))
    return url


def run_audit(*args: str) -> str:
    result = CliRunner().invoke(main, ["audit", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_audit_by_jde_key_and_by_stripe_id_tell_the_same_story(tmp_path: Path) -> None:
    url = seeded_ledger(tmp_path / "state.sqlite")
    by_key = run_audit("4242", "--state-url", url)
    by_id = run_audit("cus_X1", "--state-url", url)
    assert "customer 4242: 2 audit row(s)" in by_key
    for text in (by_key, by_id):
        assert "run-aaa" in text and "Stripe answered 500" in text
        assert "run-bbb" in text and "cus_X1" in text and "created" in text
    assert by_key.index("run-aaa") < by_key.index("run-bbb")  # oldest first


def test_audit_shows_an_open_quarantine_with_its_field(tmp_path: Path) -> None:
    url = seeded_ledger(tmp_path / "state.sqlite")
    text = run_audit("00200/77/OP/000", "--state-url", url)
    assert "quarantine (open): F4311.AEXP: not a number" in text
    assert "run-ccc" in text and "2026-11-21" in text


def test_audit_of_an_unknown_id_says_so(tmp_path: Path) -> None:
    url = seeded_ledger(tmp_path / "state.sqlite")
    assert "No history for 'cus_nope'" in run_audit("cus_nope", "--state-url", url)


def test_audit_reads_the_state_url_from_the_environment(tmp_path: Path) -> None:
    url = seeded_ledger(tmp_path / "state.sqlite")
    result = CliRunner().invoke(main, ["audit", "4242"], env={"JDE_STRIPE_STATE_URL": url})
    assert result.exit_code == 0 and "run-bbb" in result.output


def test_a_bad_state_url_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["audit", "4242", "--state-url", "mysql://u:secret@h/db"])
    assert result.exit_code != 0
    assert "sqlite and postgresql" in result.output and "secret" not in result.output


def test_audit_tells_each_accounts_story_or_one_with_account(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'accounts.sqlite'}"
    with Ledger.open(url) as ledger:
        for account, stripe_id in (("us", "cus_US1"), ("eu", "cus_EU1")):
            ledger.for_account(account).record_outcome(
                outcome(
                    "4242",
                    run_id=f"run-{account}",
                    partition_key="2026-11-20",
                    stripe_id=stripe_id,
                    payload_hash="h1",
                )
            )
    every = run_audit("4242", "--state-url", url)
    assert "customer 4242 (account eu): 1 audit row(s)" in every
    assert "customer 4242 (account us): 1 audit row(s)" in every and "cus_US1" in every and "cus_EU1" in every
    only_eu = run_audit("4242", "--account", "eu", "--state-url", url)
    assert "cus_EU1" in only_eu and "cus_US1" not in only_eu and "run-us" not in only_eu
    by_id = run_audit("cus_US1", "--state-url", url)
    assert "account us" in by_id and "cus_EU1" not in by_id
