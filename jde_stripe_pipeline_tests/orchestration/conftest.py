"""The Dagster layer over the real world: both sandboxes on loopback (the engine's `make_world`), the
definitions' own assets and resources, a real `DagsterInstance`. Settings reach the resources the way
they do in production: parsed once by the settings root from the variables an operator sets, and the
credentials and ledger URL through the environment, read when a step runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from jde_stripe_pipeline.jde.julian import julian_to_date
from jde_stripe_pipeline.mapping import InvoiceRequest, map_invoice
from jde_stripe_pipeline.orchestration.assets import build_sync_assets
from jde_stripe_pipeline.orchestration.partitions import build_partitions
from jde_stripe_pipeline.orchestration.resources import build_resources
from jde_stripe_pipeline.sandboxes.ais.cli import ais_environment
from jde_stripe_pipeline.sandboxes.stripe_emulator import DEFAULT_API_KEY
from jde_stripe_pipeline.settings import Settings
from jde_stripe_pipeline_tests.jde.support import expected_invoices
from jde_stripe_pipeline_tests.postgres import fresh_database
from jde_stripe_pipeline_tests.sync.conftest import AS_OF, INVOICE_CONFIG, World, make_world

TIMEZONE = "America/Chicago"
SYNC_ASSETS = build_sync_assets(build_partitions(TIMEZONE, date(2026, 1, 1)))
"""The definitions' assets on the partitions the tests' settings give."""


def world_env(world: World) -> dict[str, str]:
    """What an operator sets: the sandboxes' logins plus fast pacing for a loopback emulator."""
    return {
        **ais_environment(world.ais_url, world.sandbox.config),
        "JDE_TIMEZONE": TIMEZONE,
        "STRIPE_API_KEY": DEFAULT_API_KEY,
        "STRIPE_API_BASE": world.stripe_url,
        "JDE_STRIPE_STATE_URL": world.ledger_url,
        "JDE_STRIPE_RATE_PER_SECOND": "1000",
        "JDE_STRIPE_ENDPOINT_RATE_PER_SECOND": "1000",
        "JDE_STRIPE_BURST": "50",
        "JDE_STRIPE_MAX_RETRIES": "2",
        "JDE_STRIPE_BACKOFF_BASE_SECONDS": "0.01",
        "JDE_STRIPE_BACKOFF_MAX_SECONDS": "0.05",
        "JDE_STRIPE_PAYMENT_TERMS_DAYS": "D10=10",
    }


def busiest_day(world: World) -> str:
    """The partition (UPMJ day) with the most changed invoice headers in the seed."""
    days = Counter(julian_to_date(row["UPMJ"]) for row in world.sandbox.rows("F4301"))
    day = max((d for d in days if d is not None), key=lambda d: (days[d], d))
    return day.isoformat()


def partition_bounds(partition_key: str) -> tuple[datetime, datetime]:
    start = datetime.combine(date.fromisoformat(partition_key), datetime.min.time())
    return start, start + timedelta(days=1)


@dataclass
class Pipeline:
    world: World
    partition: str
    tmp_path: Path

    def settings(self, **env: str) -> Settings:
        return Settings.from_env({**world_env(self.world), **env})

    def resources(self, settings: Settings | None = None, **stripe: Any) -> dict[str, Any]:
        step = {"step_retries": 0, "step_retry_delay_seconds": 0.0, **stripe}
        return build_resources(settings or self.settings(), **step)

    def materialize(
        self,
        instance: dg.DagsterInstance,
        *,
        partition: str | None = None,
        selection: str | Sequence[str] | None = None,
        raise_on_error: bool = True,
        **stripe: Any,
    ) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            SYNC_ASSETS,
            partition_key=partition or self.partition,
            instance=instance,
            resources=self.resources(**stripe),
            selection=selection,
            raise_on_error=raise_on_error,
        )

    def expected_invoice_keys(self, partition: str | None = None) -> set[str]:
        """Billable invoice keys of the partition, from a direct read of the sandbox's tables."""
        start, end = partition_bounds(partition or self.partition)
        mapped = (
            map_invoice(i, INVOICE_CONFIG) for i in expected_invoices(self.world.sandbox, start, end, AS_OF)
        )
        return {request.record_key for request in mapped if isinstance(request, InvoiceRequest)}

    def stripe_invoices_by_key(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for invoice in self.world.stripe_invoices():
            meta = invoice["metadata"]
            if "jde_kcoo" in meta:
                key = f"{meta['jde_kcoo']}/{meta['jde_doco']}/{meta['jde_dcto']}/{meta['jde_sfxo']}"
                found.setdefault(key, []).append(invoice)
        return found

    def stripe_customer_an8s(self) -> list[str]:
        return [c["metadata"]["jde_an8"] for c in self.world.stripe_customers() if "jde_an8" in c["metadata"]]


@pytest.fixture
def pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with make_world(tmp_path) as world:
        for name, value in world_env(world).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
        yield Pipeline(world, busiest_day(world), tmp_path)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def metadata_values(result: dg.ExecuteInProcessResult, node: str) -> Mapping[str, Any]:
    [materialization] = result.asset_materializations_for_node(node)
    return {name: value.value for name, value in materialization.metadata.items()}


def check_outcomes(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {evaluation.check_name: evaluation.passed for evaluation in result.get_asset_check_evaluations()}


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh database on the PostgreSQL server at 127.0.0.1:5432, dropped afterwards."""
    with fresh_database("jde_stripe_dagster") as name:
        yield name
