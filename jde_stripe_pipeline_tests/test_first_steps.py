"""What a newcomer types first, run as they would: subprocesses from a copy of the repository root.

`dagster definitions validate` from the root with no DAGSTER_HOME (the root `dagster.yaml` is the
embedded SQLite default; `.env` holds the zone), and `jde-stripe` with a missing or bad
`JDE_TIMEZONE`: `--help` works, `check` says what is wrong in one line, a command that needs the
zone fails in one line (exit 2), never with a traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _env(**overrides: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DAGSTER_HOME", "JDE_TIMEZONE"}}
    env.update({k: v for k, v in overrides.items() if v is not None})
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False)


@pytest.fixture
def root_copy(tmp_path: Path) -> Path:
    for name in ("dagster.yaml", "workspace.yaml", "pyproject.toml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    return tmp_path


def test_dagster_definitions_validate_from_the_root_without_dagster_home(root_copy: Path) -> None:
    (root_copy / ".env").write_text("JDE_TIMEZONE=America/Chicago\n")
    done = _run([str(BIN / "dagster"), "definitions", "validate"], root_copy, _env())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All code locations passed validation" in done.stderr + done.stdout
    assert not any(root_copy.glob(".tmp_dagster_home_*")), "the temporary instance is cleaned up"


def test_validate_from_the_root_with_two_stripe_accounts(root_copy: Path) -> None:
    (root_copy / ".env").write_text("JDE_TIMEZONE=America/Chicago\nJDE_STRIPE_ACCOUNTS=00001=us,00200=eu\n")
    done = _run([str(BIN / "dagster"), "definitions", "validate"], root_copy, _env())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All code locations passed validation" in done.stderr + done.stdout


def test_the_root_instance_is_the_embedded_default() -> None:
    text = (REPO_ROOT / "dagster.yaml").read_text()
    assert "storage:" not in text and "postgres" not in text.replace("dagster.postgres.yaml", "")
    assert "postgres:" in (REPO_ROOT / "deploy" / "dagster.postgres.yaml").read_text()


def test_validate_without_the_zone_is_one_line_naming_it(root_copy: Path) -> None:
    done = _run([str(BIN / "dagster"), "definitions", "validate"], root_copy, _env())
    assert done.returncode != 0
    assert "JDE_TIMEZONE is not set: set it to the JDE server's IANA time zone" in done.stdout + done.stderr


@pytest.mark.parametrize("zone", [None, "Mars/Base"])
def test_the_cli_with_a_missing_or_bad_zone(tmp_path: Path, zone: str | None) -> None:
    env = _env(JDE_TIMEZONE=zone, DAGSTER_HOME=str(tmp_path))
    helped = _run([str(BIN / "jde-stripe"), "--help"], tmp_path, env)
    assert helped.returncode == 0 and "plan" in helped.stdout and "replay" in helped.stdout, helped.stderr
    checked = _run([str(BIN / "jde-stripe"), "check"], tmp_path, env)
    zone_line = checked.stdout.splitlines()[0]
    assert zone_line.startswith("JDE zone FAILED") and "JDE_TIMEZONE" in zone_line, checked.stdout
    assert "set it to the JDE server's" in zone_line
    replayed = _run([str(BIN / "jde-stripe"), "replay", "--partition", "2026-11-20"], tmp_path, env)
    assert replayed.returncode == 2, replayed.stdout + replayed.stderr
    assert "Traceback" not in replayed.stderr
    [line] = replayed.stderr.strip().splitlines()
    assert "JDE_TIMEZONE" in line and "America/Chicago" in line
