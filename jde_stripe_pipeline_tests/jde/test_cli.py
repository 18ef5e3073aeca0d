"""`jde-stripe extract …` against the real sandbox: what a user sees before syncing."""

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from jde_stripe_pipeline.cli import main
from jde_stripe_pipeline.sandboxes.ais import AisSandbox, AisSandboxConfig
from jde_stripe_pipeline.sandboxes.ais.cli import ais_environment
from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline_tests.jde.support import (
    AS_OF,
    all_jderest_requests,
    expected_ship_tos,
    sandbox_stats,
    served,
    upsert_rows,
)


def _env(server: LoopbackServer) -> dict[str, str]:
    """What the sandbox tells an operator to export (every sandbox here has the default login)."""
    return ais_environment(server.url, AisSandboxConfig())


def _sandbox(**config: object) -> AisSandbox:
    return AisSandbox(seed=2, customers=12, invoices=8, config=AisSandboxConfig(**config), as_of=AS_OF)  # type: ignore[arg-type]


def test_allowlist_refusal_exits_at_once_with_the_message_after_one_request() -> None:
    with served(_sandbox(allowlist=["192.0.2.0/24"])) as server:
        result = CliRunner().invoke(main, ["extract", "customers", "--from", "2026-10-01"], env=_env(server))
        stats = sandbox_stats(server)
    assert result.exit_code != 0
    assert "egress IP address must be added to the AIS Server's allowlist" in result.stderr
    assert server.url in result.stderr
    assert "Traceback" not in result.output
    assert all_jderest_requests(stats) == 1


def test_customers_table_on_stdout_and_quarantine_on_stderr() -> None:
    sandbox = _sandbox()
    with served(sandbox) as server:
        upsert_rows(server, "F01151", [{"AN8": 10005, "IDLN": 0, "RCK7": 0, "ETP": "E", "EMAL": "broken@"}])
        result = CliRunner().invoke(
            main, ["extract", "customers", "--from", "2026-10-01", "--to", "2027-01-01"], env=_env(server)
        )
    assert result.exit_code == 0, result.output
    assert "quarantined customer 10005: F01151.EMAL:" in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["an8", "company", "name"]
    shown = {int(line.split()[0]) for line in lines[1:]}
    assert shown == set(range(10001, 10013)) - {10005}
    assert "11 customers changed" in result.stderr


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_invoices_written_to_a_file(tmp_path: Path, suffix: str) -> None:
    sandbox = _sandbox()
    orders = sandbox.rows("F4301")
    line_count = len(sandbox.rows("F4311"))
    output = tmp_path / f"invoices{suffix}"
    with served(sandbox) as server:
        result = CliRunner().invoke(
            main,
            ["extract", "invoices", "--from", "2026-10-01", "--to", "2027-01-01", "--output", str(output)],
            env=_env(server),
        )
    assert result.exit_code == 0, result.output
    assert "Reading F4301, F4311, F0101, F0116 through AIS" in result.stderr
    if suffix == ".csv":
        frame = pd.read_csv(output, dtype=str)
        assert len(frame) == line_count
        assert frame["key"].nunique() == len(orders)
        assert {"lnid", "amount", "unit_price", "currency"} <= set(frame.columns)
    else:
        invoices = json.loads(output.read_text())
        keys = [(i["key"]["kcoo"], i["key"]["doco"]) for i in invoices]
        assert keys == sorted((o["KCOO"], o["DOCO"]) for o in orders)
        assert sum(len(i["lines"]) for i in invoices) == line_count
        assert all(isinstance(line["amount"], str) for i in invoices for line in i["lines"])  # exact decimals


def test_missing_setting_is_named_without_traceback() -> None:
    result = CliRunner().invoke(
        main, ["extract", "invoices", "--from", "2026-10-01"], env={"JDE_AIS_URL": "http://127.0.0.1:9"}
    )
    assert result.exit_code != 0
    assert "JDE_AIS_USERNAME" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("source", ["customer", "ship_to"])
def test_customers_show_the_ship_to_read_as_the_sync_would(tmp_path: Path, source: str) -> None:
    sandbox = _sandbox()
    expected = {an8: (order, party.an8) for an8, (order, party) in expected_ship_tos(sandbox, AS_OF).items()}
    assert expected  # sanity: some customer's sales order ships elsewhere
    output = tmp_path / "customers.csv"
    with served(sandbox) as server:
        env = {**_env(server), "JDE_STRIPE_SHIP_TO_SOURCE": source}
        result = CliRunner().invoke(
            main,
            ["extract", "customers", "--from", "2026-10-01", "--to", "2027-01-01", "--output", str(output)],
            env=env,
        )
    assert result.exit_code == 0, result.output
    read = "F03012, F0101, F0116, F01151, F0115" + (", F4201" if source == "ship_to" else "")
    assert f"Reading {read} through AIS" in result.stderr
    frame = pd.read_csv(output, dtype=str).fillna("")
    shown = {int(row.an8): (row.ship_to_order, int(row.ship_to)) for row in frame.itertuples() if row.ship_to}
    assert shown == (expected if source == "ship_to" else {})
