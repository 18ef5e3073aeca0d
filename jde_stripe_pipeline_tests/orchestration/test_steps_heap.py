"""`frozen_heap`: a step's garbage collection leaves the heap it started with alone, and the process is
as it was once the step ends, however it ends."""

from __future__ import annotations

import gc
import weakref

import pytest

from jde_stripe_pipeline.orchestration.steps import STEP_GC_THRESHOLDS, frozen_heap


def test_the_heap_alive_at_the_start_is_frozen_until_the_step_ends() -> None:
    before = gc.get_threshold()
    alive = [object() for _ in range(10)]  # something alive at the start of the step
    with frozen_heap():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == STEP_GC_THRESHOLDS
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before
    assert alive


def test_a_failing_step_still_gives_the_heap_back() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), frozen_heap():
        raise RuntimeError("the step failed")
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_a_heap_the_process_froze_itself_stays_frozen() -> None:
    """`gc.unfreeze` thaws everything: a process that froze its heap before the step keeps it frozen."""
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with frozen_heap():
            pass
        assert gc.get_freeze_count() >= frozen > 0
    finally:
        gc.unfreeze()


def test_cycles_made_during_the_step_are_still_collected() -> None:
    """Only what was alive at the start is frozen: a cycle the step makes and drops goes in a collection."""

    class Node:
        pass

    with frozen_heap():
        node = Node()
        node.self = node  # type: ignore[attr-defined]  # a reference cycle
        gone = weakref.ref(node)
        del node
        gc.collect()
        assert gone() is None
