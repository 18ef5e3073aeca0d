"""A scenario's stage: the servers, the ledger database, the runs (processes) and what was done to them.

`Arena.run()` starts a run process (`reliability.run`) with the environment an operator would set and
waits for it; `start_run()` leaves it running (two at once, or one to kill). `kill_when(...)` arms a
one-shot hook on a server: when the n-th matching request has been answered by the server — committed
— every live run is SIGKILLed before the answer is written back. `faults` counts what the harness
itself injected (kills, outages, mangled answers); the servers count the rest.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography.fernet import Fernet

from jde_stripe_pipeline.credentials.master_key import load_master_key
from jde_stripe_pipeline.credentials.models import StoredCredentials, build_stripe_credentials
from jde_stripe_pipeline.credentials.store import write_store
from jde_stripe_pipeline.reliability.run import SUMMARY_PREFIX
from jde_stripe_pipeline.reliability.servers import Answer, HttpRequest, HttpResponse, Servers
from jde_stripe_pipeline.sandboxes.ais.cli import ais_environment

Match = Callable[[HttpRequest, Answer], bool]
RUN_TIMEOUT_SECONDS = 600.0

FAST_PACING = {
    # what an operator of a loopback emulator sets; scenarios about pacing override these
    "JDE_STRIPE_RATE_PER_SECOND": "200",
    "JDE_STRIPE_BURST": "20",
    "JDE_STRIPE_MAX_RETRIES": "8",
    "JDE_STRIPE_BACKOFF_BASE_SECONDS": "0.05",
    "JDE_STRIPE_BACKOFF_MAX_SECONDS": "1",
    "JDE_STRIPE_TIMEOUT_SECONDS": "10",
    "JDE_STRIPE_WORKERS": "4",
}


@dataclass
class RunRecord:
    """One run process: how it ended and what it said."""

    run_id: str
    code: int
    """Exit code: 0 clean, 1 records failed or reconciliation mismatched, 3 a step raised, -9 killed."""
    summary: dict[str, Any] | None
    stderr_tail: str
    seconds: float

    @property
    def killed(self) -> bool:
        return self.code == -signal.SIGKILL

    def brief(self) -> str:
        if self.killed:
            return f"{self.run_id}: killed"
        summary = self.summary or {}
        error = summary.get("error") or ""
        failed = (summary.get("customers") or {}).get("failed", []) + (summary.get("invoices") or {}).get(
            "failed", []
        )
        detail = error or (f"{len(failed)} failed, first: {failed[0]}" if failed else "")
        mismatched = summary.get("mismatched") or []
        if mismatched:
            detail += f" reconciliation: {len(mismatched)} mismatched, first: {mismatched[0]}"
        if not summary or summary.get("tail"):
            detail = self.stderr_tail[-300:]
        return f"{self.run_id}: exit {self.code} {detail}".strip()


@dataclass
class Arena:
    servers: Servers
    workdir: Path
    ledger_url: str
    scenario: str
    env_overrides: dict[str, str] = field(default_factory=dict)
    key_in_store: bool = False
    cluster: Any = None
    """The ledger's own PostgreSQL cluster (`postgres.Cluster`), when the scenario uses one."""
    runs: list[RunRecord] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    stoppers: list[Callable[[], None]] = field(default_factory=list)
    """Called when the faults are healed (background fault threads, ...)."""
    notes: list[str] = field(default_factory=list)
    _live: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.servers.ais.watchers.append(self._watch_ais)

    def _watch_ais(self, request: HttpRequest, answer: Answer) -> None:
        if isinstance(answer, HttpResponse) and answer.status == 500 and b"JAS_MSG347" in answer.body:
            with self._lock:
                self.faults["AIS JAS_MSG347 result set expired"] += 1

    # -- the environment of a run ------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.workdir),
            "PYTHONUNBUFFERED": "1",
            **ais_environment(self.servers.ais_url, self.servers.sandbox.config),
            "JDE_STRIPE_STATE_URL": self.ledger_url,
            "JDE_STRIPE_PAYMENT_TERMS_DAYS": "D10=10",
            **FAST_PACING,
        }
        if self.key_in_store:
            env["JDE_STRIPE_CREDENTIALS_FILE"] = str(self.workdir / "credentials.enc")
            env["JDE_STRIPE_MASTER_KEY"] = self._master_key()
        else:
            env["STRIPE_API_KEY"] = self.servers.emulator.api_key
            env["STRIPE_API_BASE"] = self.servers.stripe_url
        env.update(self.env_overrides)
        return env

    def _master_key(self) -> str:
        path = self.workdir / "master.key"
        if not path.exists():
            path.write_text(Fernet.generate_key().decode())
        return path.read_text().strip()

    def store_stripe_key(self, key: str) -> None:
        """Write the Stripe key to the encrypted store the runs read (as `credentials set stripe`)."""
        self.key_in_store = True
        env = self.env()
        stripe = build_stripe_credentials(
            {"api_key": key, "api_base": self.servers.stripe_url}, source="store"
        )
        write_store(
            Path(env["JDE_STRIPE_CREDENTIALS_FILE"]), StoredCredentials(stripe=stripe), load_master_key(env)
        )

    # -- runs ------------------------------------------------------------------------------------------

    def start_run(
        self, label: str | None = None, command: list[str] | None = None, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """A run process: the harness's run of every JDE change (default), or `command` (e.g. Dagster's
        CLI), with the run environment plus `env`."""
        run_id = f"{self.scenario}-{len(self.runs) + len(self._live) + 1}{'-' + label if label else ''}"
        if command is None:
            command = [sys.executable, "-m", "jde_stripe_pipeline.reliability.run"]
            command += ["--run-id", run_id, "--partition", "reliability"]
        process = subprocess.Popen(
            command,
            env={**self.env(), **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=self.workdir,
        )
        process.foreign = command[1:3] != ["-m", "jde_stripe_pipeline.reliability.run"]  # type: ignore[attr-defined]
        process.run_id = run_id  # type: ignore[attr-defined]
        process.started = time.monotonic()  # type: ignore[attr-defined]
        with self._lock:
            self._live.append(process)
        return process

    def wait(self, process: subprocess.Popen[bytes], timeout: float = RUN_TIMEOUT_SECONDS) -> RunRecord:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            self.notes.append(f"{process.run_id} did not end within {timeout:.0f} s")  # type: ignore[attr-defined]
        with self._lock:
            if process in self._live:
                self._live.remove(process)
        summary = None
        for line in out.decode(errors="replace").splitlines():
            if line.startswith(SUMMARY_PREFIX):
                summary = json.loads(line[len(SUMMARY_PREFIX) :])
        if summary is None and process.foreign:  # type: ignore[attr-defined]
            summary = {"step": "a command of its own", "tail": err.decode(errors="replace")[-300:]}
        record = RunRecord(
            process.run_id,  # type: ignore[attr-defined]
            process.returncode,
            summary,
            err.decode(errors="replace")[-3000:],
            time.monotonic() - process.started,  # type: ignore[attr-defined]
        )
        self.runs.append(record)
        return record

    def run(self, label: str | None = None) -> RunRecord:
        return self.wait(self.start_run(label))

    def kill_live_runs(self, why: str) -> int:
        with self._lock:
            live = [p for p in self._live if p.poll() is None]
        for process in live:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            self.faults[f"SIGKILL {why}"] += 1
        return len(live)

    def kill_when(self, server: Literal["ais", "stripe"], match: Match, nth: int, why: str) -> None:
        """Arm a one-shot kill: after the n-th request matching `match` has been answered by `server`
        (so the server has done its work), SIGKILL every live run before the answer goes out."""
        handler = self.servers.ais if server == "ais" else self.servers.stripe
        seen = 0
        fired = False
        lock = threading.Lock()

        def hook(request: HttpRequest, answer: Answer) -> Answer:
            nonlocal seen, fired
            with lock:
                if fired or not match(request, answer):
                    return answer
                seen += 1
                if seen < nth:
                    return answer
                fired = True
            self.kill_live_runs(why)
            handler.remove(hook)
            return answer

        handler.add(hook)

    def run_until_clean(self, attempts: int, label: str = "rerun") -> RunRecord | None:
        """Rerun (as Dagster's step retries, then a person re-running the partition) until a run ends 0."""
        last = None
        for _ in range(attempts):
            last = self.run(label)
            if last.code == 0:
                return last
        return last
