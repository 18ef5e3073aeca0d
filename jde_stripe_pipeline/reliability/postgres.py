"""A PostgreSQL cluster of the harness's own, on a free port, to stop and start under a running sync.

Never the shared server at 5432: `initdb` makes a fresh cluster in a temporary folder (trust auth,
loopback only, fsync off), `pg_ctl` starts and stops it. Run as root (as this machine and CI do), the
server runs as the `postgres` user, which owns the folder; PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """This machine cannot make a cluster (no PostgreSQL binaries, no `postgres` user)."""


def _bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for found in candidates:
        if (Path(found) / "initdb").exists():
            return Path(found)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    raise PostgresUnavailable("no initdb on this machine (apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    directory: Path
    port: int
    bindir: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def _as_owner(self, *command: str) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120, check=False)

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self._as_owner(str(self.bindir / "pg_ctl"), "-D", str(self.directory / "data"), *args)

    def running(self) -> bool:
        return self._pg_ctl("status").returncode == 0

    def start(self) -> None:
        if self.running():
            return
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        done = self._pg_ctl("-o", options, "-l", str(self.directory / "server.log"), "-w", "start")
        if done.returncode != 0:
            raise PostgresUnavailable(f"pg_ctl start failed: {done.stderr or done.stdout}")

    def stop(self, mode: str = "fast") -> None:
        """`fast`: connections are cut (a restart); `immediate`: as a crash."""
        if self.running():
            self._pg_ctl("-m", mode, "-w", "stop")


@contextlib.contextmanager
def throwaway_cluster(_hint: Path | None = None) -> Iterator[Cluster]:
    """A started cluster, removed afterwards. The folder is under /tmp, owned by `postgres`."""
    bindir = _bindir()
    directory = Path(tempfile.mkdtemp(prefix="rel-pg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        cluster = Cluster(directory, _free_port(), bindir)
        made = cluster._as_owner(
            str(bindir / "initdb"),
            "-D",
            str(directory / "data"),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        )
        if made.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {made.stderr or made.stdout}")
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop("immediate")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
