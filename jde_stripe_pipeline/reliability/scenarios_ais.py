"""AIS faults, one kind at a time, through the sandbox's own knobs (`/_sandbox/config`) and hooks.

Every scenario reads JDE in small pages (`RELIABILITY_AIS_PAGE_SIZE`) so that paging, and losing it,
happens at every size.
"""

from __future__ import annotations

import re
import threading

from jde_stripe_pipeline.reliability.arena import Arena
from jde_stripe_pipeline.reliability.matrix import Scenario
from jde_stripe_pipeline.reliability.servers import Answer, HttpRequest

SMALL_PAGES = {"RELIABILITY_AIS_PAGE_SIZE": "25"}


def is_data_call(request: HttpRequest) -> bool:
    return re.search(r"/jderest/(v2/)?dataservice(/next)?$", request.path) is not None


def _one_run(arena: Arena, **ais: object) -> None:
    arena.env_overrides.update(SMALL_PAGES)
    arena.servers.ais_config(**ais)
    arena.run()


def token_expiry(arena: Arena) -> None:
    """Every token dies after 4 data calls: 444 mid-extract and mid-paging, renewed and resumed."""
    _one_run(arena, token_max_calls=4)


def server_errors(arena: Arena) -> None:
    _one_run(arena, fail_rate=0.15, fault_seed=11)


def dropped_connections(arena: Arena) -> None:
    _one_run(arena, drop_rate=0.1, fault_seed=12)


def latency_spikes(arena: Arena) -> None:
    """A 1.5 s delay on every AIS call for 1 s in every 2 while the run reads."""
    stop = threading.Event()

    def spikes() -> None:
        while not stop.wait(1.0):
            arena.servers.ais_config(latency_ms=1500)
            arena.faults["AIS latency spike (1.5 s)"] += 1
            if stop.wait(1.0):
                break
            arena.servers.ais_config(latency_ms=0)

    thread = threading.Thread(target=spikes, daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=10)

    arena.stoppers.append(halt)
    _one_run(arena)


def page_state_expiry(arena: Arena) -> None:
    """Result sets live 0.2 s and every call takes 60 ms: paged reads outlive them (JAS_MSG347)."""
    _one_run(arena, page_state_max_age_seconds=0.2, latency_ms=60)


def allowlist_403_mid_run(arena: Arena) -> None:
    """After the 6th data call the allowlist shuts the harness out: the run must stop plainly (403 is
    no transient fault), and once the allowlist is fixed a rerun finishes."""
    arena.env_overrides.update(SMALL_PAGES)
    seen = 0
    lock = threading.Lock()

    def hook(request: HttpRequest, answer: Answer) -> Answer:
        nonlocal seen
        with lock:
            if is_data_call(request):
                seen += 1
                if seen == 6:
                    arena.servers.sandbox.update_config(allowlist=["192.0.2.0/24"])
        return answer

    arena.servers.ais.add(hook)
    record = arena.run()
    error = (record.summary or {}).get("error", "")
    if record.code != 0 and "allowlist" not in error:
        arena.notes.append(f"the 403 did not stop the run plainly: {error[:200]}")


SCENARIOS = [
    Scenario("ais_token_expiry", "AIS token dies every 4 data calls (444), 25-row pages", token_expiry),
    Scenario("ais_5xx", "15% of AIS data calls answer 500", server_errors),
    Scenario("ais_dropped_connections", "10% of AIS calls dropped without an answer", dropped_connections),
    Scenario("ais_latency_spikes", "AIS calls delayed 1.5 s, 1 s in every 2", latency_spikes),
    Scenario(
        "ais_page_state_expiry",
        "paged result sets expire after 0.2 s (JAS_MSG347), 60 ms per call",
        page_state_expiry,
    ),
    Scenario(
        "ais_403_mid_run",
        "allowlist 403 from the 6th data call on, fixed before the rerun",
        allowlist_403_mid_run,
        survives=False,
    ),
]
