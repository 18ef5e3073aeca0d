"""The mapping: one Stripe object per JDE key and one JDE key per Stripe object, under concurrency too."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy import URL, Engine, event

from jde_stripe_pipeline.ledger import Ledger, MappingConflictError
from jde_stripe_pipeline.ledger.schema import mapping
from jde_stripe_pipeline.ledger.store import IN_CHUNK
from jde_stripe_pipeline_tests.ledger.helpers import outcome, raw_engine

T = TypeVar("T")


def race(*contenders: Callable[[], T]) -> list[T | BaseException]:
    """Start all contenders at the same instant on their own threads; their results or errors, in order."""
    barrier = threading.Barrier(len(contenders))
    results: list[T | BaseException] = [RuntimeError("did not finish")] * len(contenders)

    def run(index: int, contender: Callable[[], T]) -> None:
        barrier.wait()
        try:
            results[index] = contender()
        except BaseException as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=item) for item in enumerate(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_created_then_updated_moves_hash_version_and_run(ledger: Ledger) -> None:
    first = datetime(2025, 3, 1, 9, 30)
    ledger.record_outcome(outcome("100", "created", jde_version=first, payload_hash="h1"))
    ledger.record_outcome(
        outcome("100", "updated", jde_version=datetime(2025, 3, 2, 8), payload_hash="h2", run_id="run-2")
    )
    ledger.record_outcome(outcome("100", "unchanged", payload_hash="h2", run_id="run-3"))
    current = ledger.get_mappings("customer", ["100"])["100"]
    assert (current.stripe_id, current.content_hash, current.last_run_id) == ("cus_100", "h2", "run-3")
    assert current.jde_version == datetime(2025, 3, 2, 8)  # unchanged without a version keeps the last
    assert current.created_at <= current.updated_at
    assert current.updated_at.tzinfo == UTC


def test_a_key_never_gets_a_second_stripe_object(ledger: Ledger) -> None:
    ledger.record_outcome(outcome("100", "created"))
    with pytest.raises(MappingConflictError, match="customer 100 is already mapped to cus_100") as caught:
        ledger.record_outcome(outcome("100", "created", stripe_id="cus_duplicate", run_id="run-2"))
    assert caught.value.existing is not None and caught.value.existing.stripe_id == "cus_100"
    assert [entry.run_id for entry in ledger.history("100")] == ["run-1"]  # the refused outcome left nothing


def test_a_stripe_object_never_gets_a_second_key(ledger: Ledger) -> None:
    ledger.record_outcome(outcome("100", "created"))
    with pytest.raises(MappingConflictError, match="cus_100 is already mapped to customer 100"):
        ledger.record_outcome(outcome("200", "created", stripe_id="cus_100"))
    assert ledger.get_mappings("customer", ["100", "200"]).keys() == {"100"}
    assert ledger.history("200") == []


def test_a_new_records_mapping_costs_one_statement_and_a_changed_ones_the_checks(ledger: Ledger) -> None:
    """Most outcomes of a first load are new records: their mapping is one INSERT that only succeeds
    when neither the key nor the Stripe id is mapped (both unique), not two locked reads before it."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "jde_stripe_mapping" in statement:
            seen.append(statement.split()[0])

    event.listen(Engine, "before_cursor_execute", note)
    try:
        ledger.record_outcome(outcome("100", "created"))
        created, seen[:] = list(seen), []
        ledger.record_outcome(outcome("100", "updated", payload_hash="h2", run_id="run-2"))
    finally:
        event.remove(Engine, "before_cursor_execute", note)
    assert created == ["INSERT"]
    assert seen == ["SELECT", "SELECT", "UPDATE"]
    assert ledger.get_mappings("customer", ["100"])["100"].content_hash == "h2"


def test_replaces_stripe_id_moves_the_mapping_only_from_the_named_object(ledger: Ledger) -> None:
    ledger.record_outcome(outcome("100", "created", stripe_id="cus_old"))
    with pytest.raises(MappingConflictError):
        ledger.record_outcome(outcome("100", "created", stripe_id="cus_new", replaces_stripe_id="cus_other"))
    ledger.record_outcome(outcome("100", "created", stripe_id="cus_new", replaces_stripe_id="cus_old"))
    assert ledger.get_mappings("customer", ["100"])["100"].stripe_id == "cus_new"
    assert ledger.mapping_by_stripe_id("cus_old") is None


def test_deleted_drops_the_mapping_but_keeps_the_history(ledger: Ledger) -> None:
    ledger.record_outcome(outcome("100", "created"))
    ledger.record_outcome(outcome("100", "deleted", stripe_id="cus_100", run_id="run-2"))
    assert ledger.get_mappings("customer", ["100"]) == {}
    assert [entry.outcome for entry in ledger.history("cus_100")] == ["created", "deleted"]


def test_lookups_by_key_by_type_and_by_stripe_id(ledger: Ledger) -> None:
    ledger.record_outcome(outcome("100", "created"))
    ledger.record_outcome(outcome("200", "created"))
    ledger.record_outcome(
        outcome("00010/77/OP/000", "created", object_type="invoice", stripe_id="in_77", payload_hash="hi")
    )
    assert ledger.get_mappings("customer", ["200", "100", "missing"]).keys() == {"100", "200"}
    assert ledger.get_mappings("invoice", ["100"]) == {}
    assert [m.jde_key for m in ledger.all_mappings("customer")] == ["100", "200"]
    found = ledger.mapping_by_stripe_id("in_77")
    assert found is not None and (found.object_type, found.jde_key) == ("invoice", "00010/77/OP/000")
    assert ledger.mapping_by_stripe_id("in_unknown") is None


def test_get_mappings_answers_more_keys_than_one_in_list_holds(ledger: Ledger, ledger_url: URL) -> None:
    now = datetime.now(UTC)
    count = IN_CHUNK * 2 + 7
    engine = raw_engine(ledger_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                mapping.insert(),
                [
                    {
                        "account": ledger.account,
                        "object_type": "customer",
                        "jde_key": str(an8),
                        "stripe_id": f"cus_{an8}",
                        "content_hash": "h",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for an8 in range(count)
                ],
            )
    finally:
        engine.dispose()
    wanted = [str(an8) for an8 in range(count + 50)]
    found = ledger.get_mappings("customer", wanted)
    assert len(found) == count
    assert found[str(count - 1)].stripe_id == f"cus_{count - 1}"


def test_record_outcome_race_lets_one_creation_win_and_refuses_the_other(ledger_url: URL) -> None:
    with Ledger.open(ledger_url) as one, Ledger.open(ledger_url) as other:
        for key in ("100", "200", "300", "400"):
            results = race(
                lambda key=key: one.record_outcome(outcome(key, "created", stripe_id=f"cus_{key}_a")),  # type: ignore[misc]
                lambda key=key: other.record_outcome(outcome(key, "created", stripe_id=f"cus_{key}_b")),  # type: ignore[misc]
            )
            refused = [result for result in results if isinstance(result, MappingConflictError)]
            assert len(refused) == 1, results
            winner = one.get_mappings("customer", [key])[key]
            assert refused[0].existing == winner
            assert [entry.stripe_id for entry in one.history(key)] == [winner.stripe_id]


def test_many_writer_threads_wait_for_each_other_instead_of_failing(ledger: Ledger) -> None:
    threads_count, per_thread = 6, 15

    def write(thread: int) -> int:
        for index in range(per_thread):
            key = f"{thread}{index:03d}"
            ledger.record_outcome(outcome(key, "created", run_id="run-many"))
            ledger.get_mappings("customer", [key])
        return per_thread

    results = race(*[lambda thread=thread: write(thread) for thread in range(threads_count)])  # type: ignore[misc]
    assert results == [per_thread] * threads_count
    assert ledger.outcome_counts("run-many") == {"created": threads_count * per_thread}
    assert len(ledger.all_mappings("customer")) == threads_count * per_thread
