"""JSON Lines and CSV files of rows: reading records with their line numbers, writing rows.

CSV columns are JSON paths with dots (``address.countryCode``); an empty cell is an absent
member. Cells are text, except the two members the models want typed: ``existingCustomer``
(``true``/``false``) and ``signUpId`` (digits).
"""

import codecs
import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

from customer_registry.bulk import Format
from customer_registry.errors import InvalidParameter


class HeaderInvalid(ValueError):
    """The CSV file cannot be read as rows: no header, or one that contradicts itself."""


@dataclass(frozen=True, slots=True)
class Record:
    """One row as read: JSON text or CSV cells, or why it cannot be read.

    ``line`` is where it starts in the file (1-based); ``offset`` how many bytes are read.
    """

    line: int
    offset: int
    text: str | None = None
    cells: dict[str, str] | None = None
    problem: InvalidParameter | None = None


Keep = Callable[[int, str], bool]


def records(file: BinaryIO, form: Format, keep: Keep | None = None) -> Iterator[Record]:
    """The file's records. ``keep(line, text)``: whether to read a JSON line any further
    (CSV records and lines that are not text are all read)."""
    return _jsonl(file, keep) if form == "jsonl" else _csv(file)


def _jsonl(file: BinaryIO, keep: Keep | None) -> Iterator[Record]:
    offset = 0
    for number, raw in enumerate(file, 1):
        offset += len(raw)
        line = raw.removeprefix(codecs.BOM_UTF8) if number == 1 else raw
        if not line.strip():
            continue  # blank lines separate nothing; they are not rows
        try:
            text = line.decode()
        except UnicodeDecodeError:
            yield Record(number, offset, problem=InvalidParameter("body", "is not UTF-8 text"))
            continue
        if keep is None or keep(number, text):
            yield Record(number, offset, text=text)


class _Lines:
    """The file's lines as text for the csv module, counting the bytes read."""

    def __init__(self, file: BinaryIO) -> None:
        self.file, self.offset, self.first = file, 0, True

    def __iter__(self) -> Iterator[str]:
        for raw in self.file:
            self.offset += len(raw)
            if self.first:
                raw, self.first = raw.removeprefix(codecs.BOM_UTF8), False
            # Undecodable bytes become lone surrogates, which every text member refuses.
            yield raw.decode(errors="surrogateescape")


def _check_header(header: list[str]) -> None:
    if not header or len(set(header)) != len(header):
        raise HeaderInvalid("the CSV header must name each column once")
    names = set(header)
    for name in header:
        parents = name.split(".")[:-1]
        if any(".".join(parents[: n + 1]) in names for n in range(len(parents))):
            raise HeaderInvalid(f"column {name!r} is inside another column")


def _csv(file: BinaryIO) -> Iterator[Record]:
    lines = _Lines(file)
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return
    _check_header(header)
    start = reader.line_num + 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if not cells:
            continue
        if len(cells) != len(header):
            reason = f"has {len(cells)} cells, the header {len(header)}"
            yield Record(line, lines.offset, problem=InvalidParameter("body", reason))
            continue
        yield Record(line, lines.offset, cells=dict(zip(header, cells, strict=True)))


def _typed(name: str, cell: str) -> object:
    if name == "existingCustomer" and cell.lower() in ("true", "false"):
        return cell.lower() == "true"
    if name == "signUpId" and cell.isascii() and cell.isdigit():
        return int(cell)
    return cell


def nested(cells: dict[str, str]) -> dict[str, Any]:
    """The JSON object of a CSV row: dotted paths become members of members."""
    data: dict[str, Any] = {}
    for path, cell in cells.items():
        if cell == "":
            continue
        *parents, name = path.split(".")
        node = data
        for parent in parents:
            node = node.setdefault(parent, {})
        node[name] = _typed(name, cell)
    return data


def _flat(data: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, value in data.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{name}.")
        else:
            yield prefix + name, value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Writer:
    """Writes rows to a text stream as JSON Lines or as CSV with the given columns."""

    def __init__(self, out: IO[str], form: Format, columns: tuple[str, ...]) -> None:
        self.out, self.form, self.columns = out, form, columns
        self.csv = csv.writer(out, lineterminator="\n") if form == "csv" else None
        if self.csv is not None:
            self.csv.writerow(columns)

    def write(self, row: dict[str, Any]) -> None:
        if self.csv is None:
            self.out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
            return
        flat = dict(_flat(row))
        self.csv.writerow([_cell(flat.get(column)) for column in self.columns])
