"""Playing one scenario: a fresh world, the faulted runs, healing, reruns, then the invariant.

1. The AIS sandbox and the Stripe emulator start empty of faults (seeded JDE, empty Stripe) with a
   fresh ledger (SQLite, or a PostgreSQL cluster of the harness's own).
2. The scenario plays: it sets fault knobs and hooks and runs the partition (one run, several, two at
   once, killed ones).
3. Healing: every fault knob back to calm, every hook removed. Unless the last faulted run ended
   clean, reruns (at most `FINAL_ATTEMPTS`) until one does: an interrupted run must leave nothing a
   rerun cannot finish.
4. The verdict (`verdict.judge`) compares Stripe's stored objects and the ledger with JDE's truth
   (`truth.jde_truth`, read from the sandbox's tables), then one more run must send no write at all.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from jde_stripe_pipeline.reliability.arena import Arena
from jde_stripe_pipeline.reliability.faults import calm, count_faults
from jde_stripe_pipeline.reliability.postgres import throwaway_cluster
from jde_stripe_pipeline.reliability.servers import Servers
from jde_stripe_pipeline.reliability.truth import Truth, jde_truth
from jde_stripe_pipeline.reliability.verdict import LedgerView, Verdict, judge
from jde_stripe_pipeline.sandboxes.stripe_emulator import StripeEmulatorConfig

FINAL_ATTEMPTS = 3
KNOWN_ERRORS = ("Ais", "Stripe", "Ledger", "Configuration", "Credentials", "IncompleteEnvironment")
"""Error classes a run may stop on plainly (the product's own); anything else is a crash."""


@dataclass(frozen=True)
class Size:
    customers: int
    invoices: int


QUICK = Size(8, 16)
FULL = Size(20, 40)


@dataclass(frozen=True)
class Scenario:
    name: str
    faults: str
    """What is done to the run, in words (the table's second column)."""
    play: Callable[[Arena], None]
    survives: bool = True
    """The faulted runs themselves must end clean (the fault is ridden out inside a run)."""
    injects: bool = True
    """The servers or the harness must count at least one fault (else the scenario tested nothing)."""
    ledger: Literal["sqlite", "postgres"] = "sqlite"
    emulator: Mapping[str, Any] = field(default_factory=dict)
    expect: Callable[[Arena, Truth], Truth] | None = None
    seed: int = 7
    scale: float = 1.0
    """Multiplies the size's customers and invoices."""


@dataclass
class Outcome:
    scenario: Scenario
    verdict: Verdict
    runs: int
    failed_runs: int
    faults: dict[str, int]
    seconds: float
    run_notes: list[str]

    @property
    def injected(self) -> int:
        return sum(self.faults.values())

    @property
    def ok(self) -> bool:
        return self.verdict.ok


@contextlib.contextmanager
def _ledger(kind: str, workdir: Path) -> Iterator[tuple[str, Any]]:
    if kind == "postgres":
        with throwaway_cluster(workdir / "pg") as cluster:
            yield cluster.url, cluster
    else:
        yield f"sqlite:///{workdir / 'state.sqlite'}", None


def play(
    scenario: Scenario, size: Size, workdir: Path | None = None, final_attempts: int = FINAL_ATTEMPTS
) -> Outcome:
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"rel-{scenario.name}-")))
        url, cluster = stack.enter_context(_ledger(scenario.ledger, workdir))
        servers = Servers.start(
            seed=scenario.seed,
            customers=max(2, round(size.customers * scenario.scale)),
            invoices=max(2, round(size.invoices * scenario.scale)),
            emulator_config=StripeEmulatorConfig.of(
                rate_limit_per_second=1000, search_lag_seconds=1.0, **scenario.emulator
            ),
        )
        stack.callback(servers.close)
        arena = Arena(servers, workdir, url, scenario.name, cluster=cluster)
        scenario.play(arena)
        faulted = list(arena.runs)
        calm(arena)
        last = arena.runs[-1] if arena.runs else None
        # a faulted run that ended clean is already the state to judge; else rerun until one does
        final = (
            last if last is not None and last.code == 0 else arena.run_until_clean(final_attempts, "final")
        )
        truth = jde_truth(servers.admin.rows)
        if scenario.expect is not None:
            truth = scenario.expect(arena, truth)
        stripe = {kind: servers.stripe_objects(kind) for kind in ("customer", "invoice", "invoiceitem")}
        verdict = judge(truth, stripe, LedgerView.read(url, final.run_id if final else None))
        faults = count_faults(arena)
        if scenario.injects and not faults:
            verdict.note("other", "no fault was injected: the scenario tested nothing")
        _after_checks(scenario, arena, faulted, verdict)
    return Outcome(
        scenario,
        verdict,
        runs=len(arena.runs),
        failed_runs=sum(1 for r in arena.runs if r.code != 0),
        faults=faults,
        seconds=time.monotonic() - started,
        run_notes=[r.brief() for r in arena.runs if r.code != 0][:8] + arena.notes,
    )


def _after_checks(scenario: Scenario, arena: Arena, faulted: list[Any], verdict: Verdict) -> None:
    """A clean rerun writes nothing; no run crashed; a fault the product should ride out did not stop it."""
    for record in arena.runs:
        error = (record.summary or {}).get("error") or ""
        if record.summary is None and not record.killed:
            verdict.note("other", f"{record.run_id} crashed without a summary: {record.stderr_tail[-200:]}")
        elif error and not error.split(":")[0].startswith(KNOWN_ERRORS):
            verdict.note("other", f"{record.run_id} crashed: {error[:200]}")
    if scenario.survives:
        for record in faulted:
            if record.code != 0 and not record.killed:
                verdict.note("other", f"the run did not ride out the fault: {record.brief()[:240]}")
    arena.servers.clear_stripe_log()
    check = arena.run("idempotent")
    writes = arena.servers.stripe_writes()
    if writes or check.code != 0:
        verdict.note("other", f"a rerun with nothing changed sent {writes} write(s), exit {check.code}")
