"""The run's process and its state database: SIGKILLs at chosen points, a PostgreSQL outage, two runs of
one partition at once, and everything mixed.

Kills are placed by the servers, not by a timer: the hook fires after the server has done the work the
run asked for (the draft exists in Stripe, the page was served) and before the answer reaches the run,
so the run dies exactly between Stripe's commit and its own ledger write.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from jde_stripe_pipeline.reliability.arena import Arena
from jde_stripe_pipeline.reliability.matrix import Scenario
from jde_stripe_pipeline.reliability.scenarios_ais import SMALL_PAGES, is_data_call
from jde_stripe_pipeline.reliability.scenarios_stripe import stripe_write
from jde_stripe_pipeline.reliability.servers import Answer, HttpRequest

LINE_OPERATION = r"/v1/invoices/[^/]+/(add_lines|update_lines|remove_lines)"


def kill_during_extract(arena: Arena) -> None:
    """Killed after the 9th AIS data call (reading invoices), then run again."""
    arena.env_overrides.update(SMALL_PAGES)
    arena.kill_when("ais", lambda request, answer: is_data_call(request), 9, "during the extract")
    arena.run("killed")


def kill_after_create(arena: Arena) -> None:
    """Killed when Stripe has created the 2nd customer, and again when it has created the 4th draft:
    both before the run heard of them (no ledger row), then run again."""
    arena.kill_when("stripe", stripe_write(r"/v1/customers"), 2, "after a customer create")
    arena.run("killed")
    arena.kill_when("stripe", stripe_write(r"/v1/invoices"), 4, "after a draft create, before its lines")
    arena.run("killed")


def kill_after_add_lines(arena: Arena) -> None:
    """Killed when Stripe has added the lines of the 3rd new draft, before the ledger row."""
    arena.kill_when("stripe", stripe_write(LINE_OPERATION), 3, "after add_lines, before the ledger write")
    arena.run("killed")


def _change_invoices(arena: Arena, share: int = 3) -> int:
    """Every `share`-th invoice changes in JDE: a line repriced, a line added, or the last line removed."""
    lines: dict[str, list[dict[str, Any]]] = {}
    for row in arena.servers.admin.rows("F4311"):
        lines.setdefault(f"{row['KCOO']}/{row['DOCO']}/{row['DCTO']}/{row['SFXO']}", []).append(row)
    changed = 0
    for index, (_, rows) in enumerate(sorted(lines.items())):
        if index % share:
            continue
        rows = sorted(rows, key=lambda r: Decimal(str(r["LNID"])))
        key = {alias: rows[0][alias] for alias in ("KCOO", "DOCO", "DCTO", "SFXO")}
        last = rows[-1]
        kind = changed % 3
        if kind == 0:
            arena.servers.admin.upsert(
                "F4311", [{**key, "LNID": last["LNID"], "AEXP": Decimal(str(last["AEXP"])) + 10}]
            )
        elif kind == 1:
            new = {k: v for k, v in last.items() if k not in ("UPMJ", "TDAY")}
            new.update(
                {"LNID": Decimal(str(last["LNID"])) + 1, "AEXP": Decimal(70), "DSC1": "Added", "LTTR": "400"}
            )
            arena.servers.admin.upsert("F4311", [new])
        elif len(rows) > 1:
            arena.servers.admin.delete("F4311", {**key, "LNID": last["LNID"]})
            arena.servers.admin.upsert("F4301", [key])
        changed += 1
    return changed


def kill_mid_convergence(arena: Arena) -> None:
    """A clean sync, a third of the invoices changed in JDE, then the run converging them is killed
    after Stripe took its 4th line operation, and again after its 2nd draft update."""
    arena.run("first")
    arena.notes.append(f"{_change_invoices(arena)} invoices changed in JDE after the first sync")
    arena.kill_when("stripe", stripe_write(LINE_OPERATION), 4, "mid line convergence")
    arena.run("killed")
    update = r"/v1/invoices/in_[^/]+"
    arena.kill_when("stripe", stripe_write(update), 2, "after a draft header update")
    arena.run("killed")


def kill_at_random(arena: Arena) -> None:
    """Three runs killed at random moments (seeded), then run again."""
    _kill_at_random_moments(arena, random.Random(31), 3, (1.5, 4.0))


def _kill_at_random_moments(
    arena: Arena, rng: random.Random, runs: int, seconds: tuple[float, float]
) -> None:
    """`runs` runs, each killed a random time into it (drawn from `rng` within `seconds`)."""
    for _ in range(runs):
        process = arena.start_run("killed")
        time.sleep(rng.uniform(*seconds))
        arena.kill_live_runs("at a random moment")
        arena.wait(process)


def database_outage(arena: Arena) -> None:
    """The ledger's PostgreSQL stops (connections cut) after the 12th Stripe write and starts again 4 s
    later, while the run goes on."""
    cluster = arena.cluster
    assert cluster is not None
    seen = 0
    lock = threading.Lock()
    is_write = stripe_write()

    def outage() -> None:
        cluster.stop("fast")
        arena.faults["state database down 4 s"] += 1
        time.sleep(4.0)
        cluster.start()

    def hook(request: HttpRequest, answer: Answer) -> Answer:
        nonlocal seen
        with lock:
            if is_write(request, answer):
                seen += 1
                if seen == 12:
                    thread = threading.Thread(target=outage, daemon=True)
                    thread.start()
                    arena.stoppers.append(lambda: thread.join(timeout=30))
        return answer

    arena.servers.stripe.add(hook)
    arena.run()


def _twice_at_once(arena: Arena) -> None:
    first, second = arena.start_run("a"), arena.start_run("b")
    arena.faults["two runs of one partition at once"] += 1
    for process in (first, second):
        arena.wait(process)


def two_runs_at_once(arena: Arena) -> None:
    """Two runs of the same partition started together on an empty Stripe (the CLI bypasses the
    queue's per-partition limit), then a third, sequential run."""
    _twice_at_once(arena)
    arena.run("third")


SECOND_KEY = "sk_test_emulator_second_run_key_0000000000"
HOLD_SECONDS = 6.0


def race_second_run(
    arena: Arena, start_second: Callable[[dict[str, str]], Any]
) -> tuple[list[Any], threading.Event]:
    """Make the race of issue 11 certain: when Stripe has created the first run's first draft, start
    the second run (`start_second(env)`, with an API key of its own in the same account, so the
    emulator can tell the two apart); hold every `add_lines` (at most 6 s) until the second run's
    listing of the invoices has been answered. Returns the started runs and that event."""
    arena.servers.stripe_config(api_keys=[arena.servers.emulator.api_key, SECOND_KEY])
    listed = threading.Event()
    second: list[Any] = []
    lock = threading.Lock()
    is_create = stripe_write(r"/v1/invoices")

    def gate(request: HttpRequest) -> None:
        # below the client's timeout: a second run that defers to the first run's claims never lists
        if request.method == "POST" and request.path.endswith("/add_lines") and not listed.is_set():
            listed.wait(timeout=HOLD_SECONDS)

    def hook(request: HttpRequest, answer: Answer) -> Answer:
        listing = request.method == "GET" and request.path == "/v1/invoices"
        if listing and SECOND_KEY in (request.header("authorization") or ""):
            listed.set()  # once the second run's listing is answered: it saw the bare drafts
        with lock:
            if is_create(request, answer) and not second:
                second.append(start_second({"STRIPE_API_KEY": SECOND_KEY}))
                arena.faults["second run of the partition started"] += 1
        return answer

    arena.servers.stripe.gates.append(gate)
    arena.servers.stripe.add(hook)
    return second, listed


def second_run_meets_half_done_drafts(arena: Arena) -> None:
    """Run A creates drafts; run B of the same partition starts when A's 1st draft exists, and A's
    lines wait until B has listed the invoices, so B finds drafts A has not finished (the race of
    issue 11, made certain), then a third, sequential run."""
    second, listed = race_second_run(arena, lambda env: arena.start_run("b", env=env))
    first = arena.start_run("a")
    arena.wait(first)
    for process in second:
        arena.wait(process)
    arena.servers.stripe.clear()
    if not listed.is_set():
        arena.notes.append("the second run did not list the invoices within 6 s (it may have deferred)")
    arena.run("third")


def two_runs_at_once_on_changes(arena: Arena) -> None:
    """A clean sync, a third of the invoices changed, then two runs at once converge them."""
    arena.run("first")
    arena.notes.append(f"{_change_invoices(arena)} invoices changed in JDE after the first sync")
    _twice_at_once(arena)


def mixed(arena: Arena) -> None:
    """AIS and Stripe faults together, under Stripe's test-mode limits, with two random kills."""
    arena.env_overrides.update({**SMALL_PAGES, "JDE_STRIPE_RATE_PER_SECOND": "40"})
    arena.servers.ais_config(fail_rate=0.05, drop_rate=0.05, token_max_calls=7, fault_seed=41)
    arena.servers.stripe_config(
        profile="test", fail_rate=0.04, unavailable_rate=0.04, commit_then_fail_rate=0.05, fault_seed=42
    )
    _kill_at_random_moments(arena, random.Random(43), 2, (2.0, 5.0))
    arena.run_until_clean(2, "under faults")


SCENARIOS = [
    Scenario(
        "kill_during_extract",
        "SIGKILL after the 9th AIS data call, rerun",
        kill_during_extract,
        survives=False,
    ),
    Scenario(
        "kill_after_create",
        "SIGKILL after Stripe created a customer, then a draft (no ledger row yet), rerun",
        kill_after_create,
        survives=False,
    ),
    Scenario(
        "kill_after_add_lines",
        "SIGKILL after Stripe added a new draft's lines, before the ledger write, rerun",
        kill_after_add_lines,
        survives=False,
    ),
    Scenario(
        "kill_mid_convergence",
        "a third of the invoices changed; SIGKILL mid line convergence, then after a header update",
        kill_mid_convergence,
        survives=False,
    ),
    Scenario(
        "kill_at_random", "3 SIGKILLs at random moments (seeded), rerun", kill_at_random, survives=False
    ),
    Scenario(
        "state_db_outage",
        "the ledger's PostgreSQL stopped for 4 s mid-run (own cluster), rerun",
        database_outage,
        survives=False,
        ledger="postgres",
    ),
    Scenario(
        "two_runs_at_once",
        "two runs of one partition at once on an empty Stripe, then a third",
        two_runs_at_once,
    ),
    Scenario(
        "second_run_meets_half_done_drafts",
        "run B starts at run A's first draft; A's lines wait until B has listed; then a third run",
        second_run_meets_half_done_drafts,
    ),
    Scenario(
        "two_runs_at_once_on_changes",
        "a third of the invoices changed; two runs at once converge them",
        two_runs_at_once_on_changes,
    ),
    Scenario(
        "mixed",
        "AIS 5% 500 + 5% drops + 444 every 7 calls; Stripe test limits, 4% 500, 4% 503, 5% commit-then-fail;"
        " 2 random SIGKILLs",
        mixed,
        survives=False,
    ),
]
