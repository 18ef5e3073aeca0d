"""The hand-over IO manager: Dagster's filesystem pickles, stored and loaded with the collector paused."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import dagster as dg

from jde_stripe_pipeline.orchestration.hand_over import HandOverIOManager, paused_gc

SEEN: list[tuple[str, bool]] = []


class Probe:
    """Records whether the collector was enabled when it was pickled and unpickled."""

    def __init__(self, value: int):
        self.value = value

    def __getstate__(self) -> dict[str, Any]:
        SEEN.append(("stored", gc.isenabled()))
        return {"value": self.value}

    def __setstate__(self, state: dict[str, Any]) -> None:
        SEEN.append(("loaded", gc.isenabled()))
        self.value = state["value"]


@dg.asset
def handed() -> Probe:
    return Probe(42)


@dg.asset
def received(handed: Probe) -> int:
    return handed.value


def test_outputs_are_stored_and_loaded_as_dagsters_pickles_with_the_collector_paused(tmp_path: Path) -> None:
    SEEN.clear()
    assert gc.isenabled()
    result = dg.materialize(
        [handed, received], resources={"io_manager": HandOverIOManager(base_dir=str(tmp_path))}
    )
    assert result.success
    assert result.output_for_node("received") == 42
    assert SEEN == [("stored", False), ("loaded", False)]
    assert gc.isenabled(), "the collector is back on after each hand-over"
    assert (tmp_path / "handed").is_file(), "the same path as dg.FilesystemIOManager's"


def test_a_pause_inside_a_pause_leaves_the_collector_off_for_the_outer_one() -> None:
    with paused_gc():
        with paused_gc():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
