"""What one app shares across its requests, typed: built once by ``create_app``.

Handlers take it as a dependency (``AppRuntime``), middleware and plain routes through
``runtime(request)``; never a module global, so
tests build apps with their own settings and database side by side.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, cast

from fastapi import Depends
from starlette.requests import HTTPConnection

from customer_registry.config import Settings
from customer_registry.db import Database, Store, Tx
from customer_registry.vault import Vault

if TYPE_CHECKING:
    from fastapi.routing import APIRoute

    from customer_registry.auth.external_tokens import ExternalIssuer
    from customer_registry.auth.signing import VerificationKeys, VerifiedTokens
    from customer_registry.http.problems import Rendering
    from customer_registry.ops.metrics import Metrics


@dataclass(slots=True)
class Runtime:
    settings: Settings
    database: Database
    vault: Vault
    metrics: "Metrics"
    verification_keys: "VerificationKeys"
    verified_tokens: "VerifiedTokens"
    external_issuer: "ExternalIssuer | None"
    # The routes FastAPI serves, for the plain routes and the 405 ``Allow`` header.
    api_routes: "list[APIRoute]" = field(default_factory=list)
    # Path prefix: how that dialect renders an error (http.problems).
    error_dialects: "dict[str, Rendering]" = field(default_factory=dict)

    def store(self, conn: Tx) -> Store:
        """A request's ``Store`` on ``conn``: change events it appends are counted."""
        return Store(conn, self.vault, self.metrics.appended)


def runtime(connection: HTTPConnection) -> Runtime:
    return cast(Runtime, connection.app.state.runtime)


AppRuntime = Annotated[Runtime, Depends(runtime)]
