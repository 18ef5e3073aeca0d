"""`AisSandbox`: the seeded store plus the AIS service, served on loopback."""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jde_stripe_pipeline.sandboxes.ais.config import AisSandboxConfig
from jde_stripe_pipeline.sandboxes.ais.seed import SeedSpec, seed_store
from jde_stripe_pipeline.sandboxes.ais.server import AisService
from jde_stripe_pipeline.sandboxes.ais.store import Store
from jde_stripe_pipeline.sandboxes.ais.tables import TABLES
from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer


class AisSandbox:
    """A fake JDE AIS server over a seeded SQLite store (re-seeded on construction and on reset)."""

    def __init__(
        self,
        seed: int = 0,
        customers: int = 50,
        invoices: int = 100,
        config: AisSandboxConfig | None = None,
        db_path: str | Path | None = None,
        as_of: dt.date | None = None,
    ) -> None:
        self._config_at_start = config or AisSandboxConfig()
        tz = ZoneInfo(self._config_at_start.timezone)
        self._temp_dir: tempfile.TemporaryDirectory[str] | None = None
        if db_path is None:
            self._temp_dir = tempfile.TemporaryDirectory(prefix="ais-sandbox-")
            db_path = Path(self._temp_dir.name) / "jde.sqlite"
        self.db_path = Path(db_path)
        self._spec = SeedSpec(seed, customers, invoices, as_of or dt.datetime.now(tz).date())
        self._reset_lock = threading.Lock()
        self.store = Store(str(self.db_path))
        seed_store(self.store, self._spec)
        self.service = AisService(self.store, self._config_at_start, self.describe, self._reseed_from_json)

    # -- facts and behaviour ----------------------------------------------------------------------

    @property
    def seed(self) -> int:
        return self._spec.seed

    @property
    def as_of(self) -> dt.date:
        return self._spec.as_of

    @property
    def config(self) -> AisSandboxConfig:
        return self.service.config

    def update_config(self, **changes: Any) -> AisSandboxConfig:
        """Partial update with the same names as POST /_sandbox/config."""
        return self.service.update_config(changes)

    def describe(self) -> dict[str, Any]:
        """The read-only facts shown beside the config: changed only by a reset."""
        return {
            "seed": self._spec.seed,
            "customers": self._spec.customers,
            "invoices": self._spec.invoices,
            "as_of": self._spec.as_of.isoformat(),
        }

    def stats(self) -> dict[str, Any]:
        return self.service.stats()

    def rows(self, table: str, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        """A direct read in key order: keys are aliases, dates Julian ints, times HHMMSS, numbers Decimal."""
        return self.store.rows(TABLES[table.upper()], limit, offset)

    def reset(
        self, seed: int | None = None, customers: int | None = None, invoices: int | None = None
    ) -> None:
        """Re-seeds every table (sessions and statistics survive, as a database restore would leave them)."""
        with self._reset_lock:
            self._spec = SeedSpec(
                self._spec.seed if seed is None else seed,
                self._spec.customers if customers is None else customers,
                self._spec.invoices if invoices is None else invoices,
                self._spec.as_of,
            )
            seed_store(self.store, self._spec)

    def _reseed_from_json(self, options: Mapping[str, Any]) -> None:
        unknown = sorted(set(options) - {"seed", "customers", "invoices"})
        if unknown:
            raise ValueError(f"reset accepts seed, customers, invoices; not {', '.join(unknown)}")
        values = {}
        for name, value in options.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"reset: {name} must be a non-negative integer, got {value!r}")
            values[name] = value
        self.reset(**values)

    # -- serving ----------------------------------------------------------------------------------

    def server(self, host: str = "127.0.0.1", port: int = 0) -> LoopbackServer:
        """An unstarted server (start() it, or serve_forever() in the foreground)."""
        return LoopbackServer(self.service.handle, host=host, port=port, name="jde-ais-sandbox")

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[LoopbackServer]:
        """A started server for the `with` block."""
        with self.server(host, port) as server:
            yield server

    def close(self) -> None:
        self.store.close()
        if self._temp_dir is not None:
            self._temp_dir.cleanup()
