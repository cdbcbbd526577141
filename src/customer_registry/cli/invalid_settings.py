"""One line per invalid setting: the variable, its value and what is allowed."""

from typing import Any, get_args

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from customer_registry.config import Settings

_PREFIX = "CUSTOMER_REGISTRY_"
# Values of these are never printed: an error line may end up in a shared log.
_SECRET_WORDS = ("password", "secret", "_token")


def describe(exc: ValidationError) -> list[str]:
    return [_line(error) for error in exc.errors()]


def _line(error: Any) -> str:
    name = str(error["loc"][0]) if error["loc"] else ""
    field = Settings.model_fields.get(name)
    value = "<hidden>" if name.endswith(_SECRET_WORDS) else repr(error.get("input"))
    allowed = _allowed(field) if field is not None else None
    reason = f"allowed: {allowed}" if allowed else str(error["msg"]).lower()
    return f"{_PREFIX}{name.upper()}={value} is invalid; {reason}"


_BOUNDS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
_KINDS: dict[object, str] = {int: "an integer", float: "a number", bool: "true or false"}


def _allowed(field: FieldInfo) -> str | None:
    """The Literal's choices, or the kind of number and its bounds."""
    choices = get_args(field.annotation)
    if choices and all(isinstance(choice, str) for choice in choices):
        return ", ".join(choices)
    bounds = [
        f"{sign} {getattr(constraint, attribute)}"
        for constraint in field.metadata
        for attribute, sign in _BOUNDS.items()
        if hasattr(constraint, attribute)
    ]
    kind = _KINDS.get(field.annotation)
    if kind is None:
        return None
    return f"{kind} {' and '.join(bounds)}".rstrip()
