"""When an import refreshes the planner's statistics: each time its creates have doubled."""

import threading

from customer_registry.bulk.importer import Doubling


def _due_after(doubling: Doubling, batches: list[int]) -> list[int]:
    """The batches (1-based) after which the statistics were due."""
    return [n for n, created in enumerate(batches, 1) if doubling.due(created)]


def test_statistics_are_due_each_time_the_created_customers_have_doubled() -> None:
    assert _due_after(Doubling(), [0, 2000, 2000, 0, 2000, 2000, 2000, 2000, 2000, 2000]) == [
        2, 3, 6, 10,
    ]  # fmt: skip


def test_processes_sharing_the_count_are_due_as_often_as_one_process() -> None:
    state, lock = [0, 1], threading.Lock()
    first, second = Doubling(state, lock), Doubling(state, lock)

    due = [doubling.due(2000) for _ in range(8) for doubling in (first, second)]

    assert [n for n, refresh in enumerate(due, 1) if refresh] == [1, 2, 4, 8, 16]
