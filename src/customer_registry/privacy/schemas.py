"""The personal-data export, as documented in the OpenAPI description."""

from typing import Any

from pydantic import BaseModel


class AccessOut(BaseModel):
    at: str
    by: str
    what: list[str]
    requestId: str | None


class RepresentationsOut(BaseModel):
    horizon: dict[str, Any]
    subscriptions: dict[str, Any]


class PersonalDataOut(BaseModel):
    clientId: int
    customerNumber: str
    exportedAt: str
    customer: dict[str, Any]
    representations: RepresentationsOut
    history: list[dict[str, Any]]
    events: list[dict[str, Any]]
    accesses: list[AccessOut]
