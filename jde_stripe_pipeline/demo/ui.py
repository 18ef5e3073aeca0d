"""The Dagster UI for `jde-stripe demo --ui`: dagster-webserver as a child process on the demo's instance.

The webserver runs in its own process group so that Ctrl-C reaches the demo first, which then stops the
webserver and its code server (by that group's id) before the sandboxes, leaving nothing listening.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import requests

DEFINITIONS_MODULE = "jde_stripe_pipeline.definitions"
READY_QUERY = "{ assetNodes { id } }"


class DagsterUiError(RuntimeError):
    """The webserver did not come up (its log is named in the message)."""


def free_port(host: str) -> int:
    """A port free right now on `host` (the webserver needs a number to print before it binds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Until GraphQL answers with the code location's asset nodes (loaded), the process dies, or timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DagsterUiError(f"dagster-webserver exited with code {process.returncode}; see {log}")
        with contextlib.suppress(requests.RequestException, ValueError):
            answer = requests.post(f"{url}/graphql", json={"query": READY_QUERY}, timeout=5)
            if answer.status_code == 200 and answer.json().get("data", {}).get("assetNodes"):
                return
        time.sleep(0.5)
    raise DagsterUiError(f"dagster-webserver not ready after {timeout:.0f}s; see {log}")


def stop_process_group(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """SIGINT (graceful: the webserver stops its code server), then SIGTERM, then SIGKILL, to the group."""
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(wait)
    # The group may outlive its leader (a code server being torn down): end what is left of it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def dagster_ui(
    environment: Mapping[str, str], host: str, port: int, log: Path, ready_timeout: float = 180.0
) -> Iterator[str]:
    """Run dagster-webserver on the code location with `environment`; yields its URL once it is ready."""
    port = port or free_port(host)
    url = f"http://{host}:{port}"
    command = [
        sys.executable,
        "-m",
        "dagster_webserver",
        "-m",
        DEFINITIONS_MODULE,
        "-h",
        host,
        "-p",
        str(port),
    ]
    with log.open("ab") as log_file:
        process = subprocess.Popen(
            [*command, "--suppress-warnings"],
            env=dict(environment),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        wait_until_ready(url, process, log, ready_timeout)
        yield url
    finally:
        stop_process_group(process)
