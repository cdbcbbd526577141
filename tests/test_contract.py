"""The OpenAPI document as a contract, checked by schemathesis against a real server.

Every operation gets the document's examples, boundary cases (coverage phase) and generated
cases (fuzzing), authenticated with one credential's bearer token and subscription key; then
the document's links chain operations (stateful). No response may be a 5xx, and each must
match the document: status code, content type, headers, body schema. Every check schemathesis
has runs, except where a rule below says why not.

``CONTRACT_EXAMPLES`` sets the generated cases per operation and the stateful scenarios
(default 100: about a minute per database on two cores). The run is derandomized, so a
failure repeats until it is fixed.
"""

import json
import logging
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis import CheckContext, CheckFunction, Response
from schemathesis.config import SchemathesisConfig

from customer_registry.auth.callers import MAX_CLIENT_ID
from tests.conftest import new_client_id, running_server

pytestmark = pytest.mark.slow  # schemathesis against a real server process

logger = logging.getLogger(__name__)
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "100"))
SEED = 20240601
Case = schemathesis.Case[Any]
_OPERATION_RULES = [
    {
        # Rules JSON Schema cannot state: national-id check digits, a birth date in the past,
        # names required by the customer type, the PUT's path number equal to the body's, the
        # configured token audience. The server answers those with a 400 naming the field.
        "include-name": [
            "PUT /customer/v1/clients/{clientId}/customers/{customerNumber}",
            "POST /subscriptions/v1/customers",
            "PUT /subscriptions/v1/customers/{customerNumber}",
            "POST /oauth/token",
        ],
        "checks": {"positive_data_acceptance": {"enabled": False}},
    },
    {
        # A cursor is opaque: only the `next` of an earlier page is one. A webhook URL must
        # resolve to public addresses only, which its format cannot say.
        "include-name": [
            "GET /registry/v1/clients/{clientId}/events",
            "POST /registry/v1/clients/{clientId}/webhooks",
        ],
        "checks": {"positive_data_acceptance": {"enabled": False}},
    },
    {
        # /customers/search also matches /customers/{customerNumber}: a customer numbered
        # "search" can be read and written, so the Allow header of a refused OPTIONS lists GET,
        # HEAD and PUT, which OpenAPI cannot attach to the literal path.
        "include-name": "POST /customer/v1/clients/{clientId}/customers/search",
        "checks": {"allow_header_conformance": {"enabled": False}},
    },
]


@dataclass(frozen=True)
class Caller:
    client_id: int
    token: str
    subscription_key: str


def _create_credential(database_url: str, key_file: Path, client_id: int) -> dict[str, Any]:
    environment = {
        **os.environ,
        "CUSTOMER_REGISTRY_DATABASE_URL": database_url,
        "CUSTOMER_REGISTRY_KEY_FILE": str(key_file),
    }
    command = ["credentials", "create", "--client-id", str(client_id), "--json"]
    result = subprocess.run(
        [sys.executable, "-m", "customer_registry", *command],
        env=environment,
        capture_output=True,
        check=True,
    )
    issued: dict[str, Any] = json.loads(result.stdout)
    return issued


def _token(base_url: str, issued: dict[str, Any]) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": issued["oauthClientId"],
        "client_secret": issued["oauthClientSecret"],
    }
    response = httpx.post(f"{base_url}/oauth/token", data=form)
    response.raise_for_status()
    return str(response.json()["access_token"])


@pytest.fixture(scope="module")
def contract_server(
    database_url: str, key_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    # No deliveries: generated webhook URLs name hosts on the Internet.
    workdir = tmp_path_factory.mktemp("contract")
    with running_server(
        database_url, key_file, workdir, CUSTOMER_REGISTRY_DELIVER_WEBHOOKS="false"
    ) as base:
        yield base


@pytest.fixture(scope="module")
def caller(contract_server: str, database_url: str, key_file: Path) -> Caller:
    client_id = new_client_id()
    issued = _create_credential(database_url, key_file, client_id)
    return Caller(client_id, _token(contract_server, issued), issued["subscriptionKey"])


def _config(base_url: str, caller: Caller) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            # Generation time depends on the machine's load; the cases themselves do not.
            "suppress-health-check": ["too_slow"],
            "base-url": base_url,
            "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
            "auth": {
                "openapi": {
                    "OAuth2ClientCredentials": {"bearer": caller.token},
                    "SubscriptionKey": {"api_key": caller.subscription_key},
                }
            },
            "checks": {
                # Valid data can still meet a stale If-Match (412), a running (409) or
                # differently used (422) idempotency key: generated keys repeat.
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "412", "422"]
                }
            },
            "operations": _OPERATION_RULES,
        }
    )


@pytest.fixture(scope="module")
def api_schema(contract_server: str, caller: Caller) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(
        f"{contract_server}/openapi.json", config=_config(contract_server, caller)
    )


@dataclass
class Tally:
    """What the run sent and got, for the log: statuses per operation, own and foreign ids."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    phases: Counter[str] = field(default_factory=Counter)
    client_ids: Counter[str] = field(default_factory=Counter)

    def record(self, case: Case, response: Response, own_client: int) -> None:
        self.statuses[(case.operation.label, response.status_code)] += 1
        self.phases[case.meta.phase.name.value if case.meta else "unknown"] += 1
        if "clientId" in (case.path_parameters or {}):
            client_id = _client_id(case)
            self.client_ids["own" if client_id == own_client else "other"] += 1

    def log(self) -> None:
        for (label, status), count in sorted(self.statuses.items()):
            logger.info("%-75s %3d  x%d", label, status, count)
        total = sum(self.statuses.values())
        logger.info("%d responses: %s; clientId %s", total, dict(self.phases), self.client_ids)


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    counts = Tally()
    yield counts
    counts.log()


def _client_id(case: Case) -> int | None:
    """The path's clientId if it is one the server accepts (coverage cases send strings)."""
    value = (case.path_parameters or {}).get("clientId")
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1 <= value <= MAX_CLIENT_ID else None


def _pin_client(case: Case, own_client: int) -> None:
    """Four in five valid ids become the caller's, to reach the handlers; the rest stay foreign."""
    client_id = _client_id(case)
    if client_id is not None and client_id % 5:
        case.path_parameters["clientId"] = own_client


def _foreign_client(case: Case, own_client: int) -> bool:
    client_id = _client_id(case)
    return client_id is not None and client_id != own_client


def _unreadable_body(response: Response) -> bool:
    # FastAPI decodes a JSON body before it resolves dependencies such as authentication.
    if response.status_code != 400 or not response.content:
        return False
    return {p["name"] for p in response.json().get("invalidParameters", [])} == {"body"}


def foreign_clients_are_forbidden(caller: Caller) -> CheckFunction:
    """A check: our token on another client's path is a 403, unless the body is unreadable."""

    def foreign_client_is_forbidden(ctx: CheckContext, response: Response, case: Case) -> None:
        ours = response.request.headers.get("Authorization") == f"Bearer {caller.token}"
        as_documented = case.method.upper() == case.operation.method.upper()
        if ours and as_documented and _foreign_client(case, caller.client_id):
            status = response.status_code
            assert status == 403 or _unreadable_body(response), f"foreign client: {status}"

    return foreign_client_is_forbidden


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32.5 reads and relabels ``item._nodeid``, which pytest 9.2 dropped.
    request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_response_matches_the_document(case: Case, caller: Caller, tally: Tally) -> None:
    _pin_client(case, caller.client_id)
    response = case.call_and_validate(additional_checks=[foreign_clients_are_forbidden(caller)])
    tally.record(case, response, caller.client_id)


def test_linked_operations_match_the_document(
    api_schema: schemathesis.BaseSchema, caller: Caller, tally: Tally
) -> None:
    check = foreign_clients_are_forbidden(caller)

    class Workflow(api_schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Case) -> None:
            _pin_client(case, caller.client_id)

        def validate_response(
            self, response: Response, case: Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            checks = [*(additional_checks or []), check]
            super().validate_response(response, case, additional_checks=checks, **kwargs)
            tally.record(case, response, caller.client_id)

    settings = hypothesis.settings(
        max_examples=EXAMPLES,
        stateful_step_count=6,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[hypothesis.HealthCheck.too_slow],
    )
    Workflow.run(settings=settings)
