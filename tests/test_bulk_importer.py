"""How an import's processes share the work: the planner's statistics refreshed each time
the creates have doubled, each line read by one share, each customer's rows by the same."""

import json
import threading
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from customer_registry.bulk import Dialect
from customer_registry.bulk.importer import Doubling
from customer_registry.bulk.records import SHAPES
from customer_registry.cli import import_jobs


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


_MEMBERS = st.dictionaries(
    st.sampled_from(["customerNumber", "customer", "type", "customer\\u004eumber", "x"]),
    st.none()
    | st.integers()
    | st.text(max_size=6)
    | st.dictionaries(
        st.sampled_from(["customerNumber", "y"]), st.text(max_size=6) | st.integers(), max_size=2
    ),
    max_size=4,
)


@settings(max_examples=500)
@given(members=_MEMBERS, dialect=st.sampled_from(["registry", "horizon", "subscriptions"]),
       spaced=st.booleans())  # fmt: skip
def test_a_lines_customer_number_is_the_one_its_json_gives(
    members: dict[str, object], dialect: Dialect, spaced: bool
) -> None:
    text = json.dumps(members, separators=(", ", ": ") if spaced else (",", ":"))
    text = text.replace("\\\\u004e", "\\u004e")  # a member name written with an escape
    given_number = SHAPES[dialect].customer_number(json.loads(text))

    if isinstance(given_number, str):
        assert import_jobs._number_in(text, dialect) == given_number


def test_every_line_falls_to_exactly_one_share(tmp_path: Path) -> None:
    lines = ['{"customerNumber": "c1"}', '{"customerNumber": "c\\u0031"}', "{not json",
             '{"customerNumber": "c1", "customerNumber": "c2"}', '{"x": {"customerNumber": "c1"}}',
             "[]", '{"customerNumber": 7}']  # fmt: skip
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n")
    shares = [import_jobs.Job(path, "jsonl", "registry", 1, None, n, 3) for n in range(3)]

    for line, text in enumerate(lines, 1):
        assert sum(job.keeps(line, text) for job in shares) == 1
    c1 = [job.share for job in shares if job.keeps(1, lines[0])]
    assert c1 == [job.share for job in shares if job.keeps(2, lines[1])]
