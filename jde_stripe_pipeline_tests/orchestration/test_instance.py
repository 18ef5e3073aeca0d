"""The production instance file loads: dagster.yaml on a fresh PostgreSQL database, from env variables."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from jde_stripe_pipeline.orchestration.account_partitions import ACCOUNT_TAG

REPO_ROOT = Path(__file__).resolve().parents[2]


@dg.asset
def probe_asset() -> int:
    return 1


@pytest.mark.postgres
def test_dagster_yaml_loads_on_postgresql(
    tmp_path: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(REPO_ROOT / "deploy" / "dagster.postgres.yaml", tmp_path / "dagster.yaml")
    for name, value in {
        "DAGSTER_HOME": str(tmp_path),
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_USERNAME": "postgres",
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_DB": pg_database,
    }.items():
        monkeypatch.setenv(name, value)

    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert not instance.run_retries_retry_on_asset_or_op_failure
        concurrency = instance.get_concurrency_config()
        assert concurrency.pool_config.default_pool_limit == 1
        limits = concurrency.run_queue_config.tag_concurrency_limits if concurrency.run_queue_config else []
        assert {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits
        # several Stripe accounts: one run per account at a time (its budget), accounts side by side
        per_account = {"key": ACCOUNT_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
        assert per_account in limits

        result = dg.materialize([probe_asset], instance=instance)
        assert result.success
        assert instance.get_latest_materialization_event(probe_asset.key) is not None
