"""`jde-stripe demo --ui`: the Dagster UI's GraphQL shows the five assets, their partitions and passed
checks; Ctrl-C stops the webserver and both sandboxes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from jde_stripe_pipeline.demo.ui import free_port
from jde_stripe_pipeline_tests.demo.support import LiveCommand, is_listening

ASSETS = {"jde_customers", "jde_invoices", "stripe_customers", "stripe_invoices", "billing_reconciliation"}
CHECKS = {
    "stripe_customers": "no_quarantined_or_failed_customers",
    "stripe_invoices": "no_quarantined_or_failed_invoices",
    "billing_reconciliation": "stripe_matches_jde",
}
ASSET_NODES = """{ assetNodes { assetKey { path } partitionKeysByDimension { name partitionKeys } } }"""
CHECK_EXECUTIONS = """query($key: AssetKeyInput!, $check: String!) {
  assetCheckExecutions(assetKey: $key, checkName: $check, limit: 100) { status evaluation { success } }
}"""
MATERIALIZED = """query($key: AssetKeyInput!) {
  assetOrError(assetKey: $key) { ... on Asset { assetMaterializations(limit: 100) { partition runId } } }
}"""


def _graphql(url: str, query: str, **variables: Any) -> dict[str, Any]:
    answer = requests.post(f"{url}/graphql", json={"query": query, "variables": variables}, timeout=60)
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def test_demo_ui_serves_assets_partitions_and_check_results_then_stops_everything(tmp_path: Path) -> None:
    port = free_port("127.0.0.1")
    args = ["demo", "--ui", "--port", str(port), "--home", str(tmp_path / "demo"), "--days", "4"]
    command = LiveCommand([*args, "--customers", "12", "--invoices", "48"])
    try:
        url = command.wait_for("Dagster UI: ", timeout=400).split()[2]
        assert url == f"http://127.0.0.1:{port}"
        sandboxes = re.search(r"AIS sandbox (\S+), Stripe emulator (\S+),", command.output())
        assert sandboxes
        # two Stripe accounts: day × account partitions, keys "account|day"
        runs = {m[1] for m in re.finditer(r"partition (\w+\|\d{4}-\d\d-\d\d): ok", command.output())}
        days = {run.split("|")[1] for run in runs}
        assert len(days) == 5, command.output()  # four seeded days + the day of the JDE changes
        assert {run.split("|")[0] for run in runs} == {"us", "eu"}

        nodes = {tuple(n["assetKey"]["path"]): n for n in _graphql(url, ASSET_NODES)["assetNodes"]}
        assert {path[0] for path in nodes} == ASSETS
        for node in nodes.values():
            dimensions = {d["name"]: set(d["partitionKeys"]) for d in node["partitionKeysByDimension"]}
            assert days <= dimensions["day"] and dimensions["account"] == {"us", "eu"}

        for asset in ASSETS:
            data = _graphql(url, MATERIALIZED, key={"path": [asset]})
            assert {m["partition"] for m in data["assetOrError"]["assetMaterializations"]} == runs, asset

        for asset, check in CHECKS.items():
            executions = _graphql(url, CHECK_EXECUTIONS, key={"path": [asset]}, check=check)
            evaluated = [e for e in executions["assetCheckExecutions"] if e["evaluation"] is not None]
            assert len(evaluated) == len(runs), (asset, executions)
            assert all(e["status"] == "SUCCEEDED" and e["evaluation"]["success"] for e in evaluated)

        assert command.interrupt(timeout=90) == 0, command.output()
        assert "Stopped the Dagster UI and the sandboxes." in command.output()
        for listening in (url, sandboxes[1], sandboxes[2]):
            parts = urlsplit(listening)
            assert parts.hostname and parts.port
            assert not is_listening(parts.hostname, parts.port), f"{listening} still listening"
    finally:
        command.kill()
