"""Every test runs in the AIS sandbox's zone unless it sets its own: `JDE_TIMEZONE` has no default
in the product (a wrong zone cuts partitions in the wrong place), and the definitions read it when
they are imported.

The `slow` tests are collected first: `make test` spreads the tests over two processes, and a
several-minute test started last would finish alone, long after the rest."""

import os

import pytest

os.environ.setdefault("JDE_TIMEZONE", "America/Chicago")


LONGEST_FIRST = ("test_volume.py", "test_demo.py", "test_faults_and_kills.py")
"""The slow files, longest first (minutes each on a 2-core machine)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> tuple[bool, int]:
        slow = item.get_closest_marker("slow") is not None
        order = next(
            (i for i, name in enumerate(LONGEST_FIRST) if item.nodeid.split("::")[0].endswith(name)), 9
        )
        return (not slow, order)

    items.sort(key=rank)
