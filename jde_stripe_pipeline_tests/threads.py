"""Run one piece of work on several threads at once, the way concurrent callers meet a shared client."""

from __future__ import annotations

import threading
from collections.abc import Callable


def in_threads(work: Callable[[int], object], count: int) -> list[BaseException]:
    """`work(0)` … `work(count - 1)`, each on its own thread, all joined; what they raised, so that a
    failure in a thread fails the test instead of being lost with the thread."""
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            work(index)
        except BaseException as error:  # reported to the test, which asserts there is none
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
