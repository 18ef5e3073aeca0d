"""The `connection_check` job: the `jde-stripe check` probes, visible in Dagster."""

import dagster as dg
import pytest

from jde_stripe_pipeline.definitions import defs
from jde_stripe_pipeline_tests.credentials.check_support import served_systems


def _run(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> dg.ExecuteInProcessResult:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with dg.instance_for_test() as instance:
        return defs.resolve_job_def("connection_check").execute_in_process(
            instance=instance, raise_on_error=False
        )


def test_both_systems_reachable_succeeds_with_their_lines_in_metadata(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with served_systems() as systems:
        result = _run(monkeypatch, systems.env())
    assert result.success
    [output] = [e for e in result.all_events if e.is_successful_output]
    metadata = {name: value.value for name, value in output.step_output_data.metadata.items()}
    assert str(metadata["JDE AIS"]).startswith("OK "), metadata
    assert str(metadata["Stripe"]).startswith("OK "), metadata


def test_a_revoked_stripe_key_fails_the_job_naming_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with served_systems() as systems:
        result = _run(monkeypatch, systems.env(STRIPE_API_KEY="sk_test_revokedkey0000000000abcd"))
    assert not result.success
    failure = result.failure_data_for_node("check_connections")
    assert failure is not None
    description = failure.user_failure_data.description if failure.user_failure_data else ""
    assert "Stripe" in (description or "")
    assert "sk_test_…abcd" in (description or "")
    assert "sk_test_revokedkey0000000000abcd" not in str(failure)
