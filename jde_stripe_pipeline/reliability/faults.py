"""Fault knobs back to calm, and the faults a scenario really injected, counted by the servers.

Counted from the servers' own records (the emulator's request log, the sandbox's statistics) plus what
the harness did itself (kills, database outages, mangled answers, latency spikes): a scenario whose
knobs never fired shows 0 and is suspect.
"""

from __future__ import annotations

from collections import Counter

from jde_stripe_pipeline.reliability.arena import Arena

CALM_AIS = {
    "fail_rate": 0.0,
    "drop_rate": 0.0,
    "latency_ms": 0,
    "token_max_calls": None,
    "token_max_age_seconds": 3600.0,
    "page_state_max_age_seconds": 60.0,
    "allowlist": None,
}
CALM_STRIPE = {
    "profile": "default",
    "rate_limit_per_second": 1000,
    "fail_rate": 0.0,
    "unavailable_rate": 0.0,
    "commit_then_fail_rate": 0.0,
    "latency": "off",
    "latency_ms": 0,
    "latency_endpoints_ms": {},
}


def calm(arena: Arena) -> None:
    """Every fault off, every hook gone, the operator's settings back to the defaults, the database up."""
    for stop in arena.stoppers:
        stop()
    arena.stoppers.clear()
    arena.servers.ais.clear()
    arena.servers.stripe.clear()
    arena.servers.ais_config(**CALM_AIS)
    arena.servers.stripe_config(**CALM_STRIPE)
    arena.env_overrides.clear()
    if arena.cluster is not None:
        arena.cluster.start()


def count_faults(arena: Arena) -> dict[str, int]:
    found: Counter[str] = Counter(arena.faults)
    for entry in arena.servers.stripe_log():
        if entry.get("fault"):
            found[f"Stripe {entry['fault']}"] += 1
        elif entry["status"] == 429:
            found[f"Stripe 429 {entry.get('limited_by') or ''}".strip()] += 1
        elif entry["status"] in (401, 409):
            found[f"Stripe {entry['status']}"] += 1
        if (entry.get("latency_ms") or 0) >= 50:
            found["Stripe answer delayed 50 ms or more"] += 1
    stats = arena.servers.ais_stats()
    injected = int(stats.get("injected_failures", 0))
    if injected:
        found["AIS 500"] += injected
    if stats.get("dropped_connections"):
        found["AIS dropped connection"] += int(stats["dropped_connections"])
    for endpoint, statuses in stats.get("requests", {}).items():
        if "/_sandbox/" in endpoint:
            continue
        for status, count in statuses.items():
            if status == "444":
                found["AIS 444 token expired"] += count
            elif status == "403" and "tokenrequest" not in endpoint:
                found["AIS 403 allowlist"] += count
    return {name: count for name, count in sorted(found.items()) if count}
