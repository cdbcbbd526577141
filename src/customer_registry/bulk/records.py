"""One import row: parsed and validated exactly as the dialect's API would, mapped to a write.

The reasons of a refused row are the API's ``invalidParameters``: pydantic's errors go through
the app's own translation, so the names are the JSON paths the API would report.
"""

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from customer_registry.bulk import Dialect
from customer_registry.bulk import canonical_records as registry
from customer_registry.bulk import horizon_records as horizon
from customer_registry.bulk import subscriptions_records as subscriptions
from customer_registry.bulk.formats import Record, nested
from customer_registry.customers.model import Customer, CustomerWrite
from customer_registry.errors import InvalidParameter, RequestInvalid, invalid_request
from customer_registry.subscriptions.schemas import CustomerRequest


@dataclass(frozen=True, slots=True)
class Shape:
    """How a dialect's rows map to and from the canonical customer."""

    model: type[BaseModel]
    to_write: Callable[[object, int], CustomerWrite]
    customer_number: Callable[[object], object]
    to_row: Callable[[Customer], dict[str, Any]]
    csv_columns: tuple[str, ...]


SHAPES: dict[Dialect, Shape] = {
    "registry": Shape(registry.CustomerRecord, registry.to_write, registry.customer_number,
                      registry.to_row, registry.CSV_COLUMNS),
    "horizon": Shape(horizon.CustomerRow, horizon.to_write, horizon.customer_number,
                     horizon.to_row, horizon.CSV_COLUMNS),
    "subscriptions": Shape(CustomerRequest, subscriptions.to_write,
                           subscriptions.customer_number, subscriptions.to_row,
                           subscriptions.CSV_COLUMNS),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Row:
    """A validated input row: its write, or why there is none."""

    line: int
    customer_number: str | None
    write: CustomerWrite | None
    reasons: tuple[InvalidParameter, ...] = ()


def _api_reasons(errors: list[Any]) -> tuple[InvalidParameter, ...]:
    in_body = [{**error, "loc": ("body", *error["loc"])} for error in errors]
    return tuple(invalid_request(in_body).invalid_parameters)


def parse_json(text: str) -> object | tuple[InvalidParameter, ...]:
    """The JSON value of a line, or the API's reasons for a body that is not JSON."""
    try:
        value: object = json.loads(text)
    except json.JSONDecodeError as exc:
        error = {"type": "json_invalid", "loc": (exc.pos,), "msg": "JSON decode error"}
        return _api_reasons([{**error, "input": {}, "ctx": {"error": exc.msg}}])
    except RecursionError:
        return (InvalidParameter("body", "cannot be parsed as JSON"),)
    return value


def validate(dialect: Dialect, client_id: int, line: int, data: object) -> Row:
    shape = SHAPES[dialect]
    number = shape.customer_number(data)
    shown = number if isinstance(number, str) else None
    try:
        write = shape.to_write(data, client_id)
    except ValidationError as exc:
        return Row(line, shown, None, _api_reasons(exc.errors()))
    except RequestInvalid as exc:
        return Row(line, shown, None, tuple(exc.invalid_parameters))
    return Row(line, write.customer.customer_number, write)


def _valid_json(dialect: Dialect, client_id: int, line: int, text: str) -> Row | None:
    """The row of a valid JSON line, parsed and validated in one pass; None when refused.

    A refused line is checked again the way the API does it (``json.loads``, then the
    model), so that its reasons are the API's words: pydantic's JSON parser words them its
    own way, and only the row's write is the same either way.
    """
    shape = SHAPES[dialect]
    try:
        # to_write takes the model as is: pydantic does not validate an instance again.
        write = shape.to_write(shape.model.model_validate_json(text), client_id)
    except (ValidationError, RequestInvalid):
        return None
    return Row(line, write.customer.customer_number, write)


def from_record(record: Record, dialect: Dialect, client_id: int) -> Row:
    if record.problem is not None:
        return Row(record.line, None, None, (record.problem,))
    if record.text is not None and (
        row := _valid_json(dialect, client_id, record.line, record.text)
    ):
        return row
    data = parse_json(record.text) if record.text is not None else nested(record.cells or {})
    if isinstance(data, tuple):
        return Row(record.line, None, None, data)
    return validate(dialect, client_id, record.line, data)


def from_records(records: Iterable[Record], dialect: Dialect, client_id: int) -> Iterator[Row]:
    for record in records:
        yield from_record(record, dialect, client_id)
