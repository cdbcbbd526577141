"""The OpenAPI document: valid, grouped by dialect, every response described, seeds embedded."""

from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import schemathesis

from customer_registry.app import create_app
from customer_registry.auth.oauth import (
    OAuthClientRefused,
    OAuthErrorOut,
    TooManyFailures,
    oauth_error,
)
from customer_registry.config import Settings
from customer_registry.errors import (
    AppError,
    CustomerInformationMissing,
    Forbidden,
    InvalidParameter,
    NotAuthenticated,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
)
from customer_registry.http.problems import Problem, problem
from customer_registry.subscriptions.responses import GatewayRejection, gateway_rejection
from tests.conftest import BASE_URL, load

HORIZON_CUSTOMER = "/customer/v1/clients/{clientId}/customers/{customerNumber}"
SUBSCRIPTIONS_CUSTOMER = "/subscriptions/v1/customers/{customerNumber}"


@pytest.fixture(scope="module")
def document(database_url: str, key_file: Path) -> dict[str, Any]:
    # With a public URL, as deployed: the token URL is then absolute (see openapi.py).
    settings = Settings(database_url=database_url, key_file=key_file, public_url=BASE_URL)
    return create_app(settings).openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _dialect(path: str) -> str:
    return path.split("/")[1]


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    schemathesis.openapi.from_dict(document).validate()


def test_every_schema_is_valid_json_schema(document: dict[str, Any]) -> None:
    for schema in document["components"]["schemas"].values():
        jsonschema_rs.meta.validate(schema)


def test_operations_are_grouped_by_declared_tags(document: dict[str, Any]) -> None:
    declared = {tag["name"] for tag in document["tags"]}
    for _, _, operation in _operations(document):
        assert len(operation["tags"]) == 1
        assert operation["tags"][0] in declared


def test_each_dialect_declares_its_security_scheme(document: dict[str, Any]) -> None:
    expected: dict[str, list[dict[str, list[str]]]] = {
        "customer": [{"OAuth2ClientCredentials": []}],
        "registry": [{"OAuth2ClientCredentials": []}],
        "subscriptions": [{"SubscriptionKey": []}],
    }
    for _, path, operation in _operations(document):
        assert operation.get("security") == expected.get(_dialect(path)), path


def test_422_is_documented_only_for_reused_idempotency_keys(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert ("422" in operation["responses"]) == ("Idempotency-Key" in headers), (method, path)
        assert ("Idempotency-Key" in headers) == (method in ("POST", "PUT") and "oauth" not in path)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error_schemas(method: str, path: str, status: str) -> dict[str, Any] | None:
    """The body an error answer documents, by media type: its dialect's, none for HEAD."""
    if method == "HEAD":
        return None
    if path == "/oauth/token" and status in {"400", "401", "429"}:
        return {"application/json": _ref("OAuthErrorOut")}
    if _dialect(path) == "subscriptions" and status == "401":
        return {"application/json": _ref("GatewayRejection")}
    return {"application/problem+json": _ref("Problem")}


def test_every_error_has_its_dialects_body(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                content = response.get("content", {})
                schemas = {media: c["schema"] for media, c in content.items()} or None
                assert schemas == _error_schemas(method, path, status), (method, path, status)


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("PUT", HORIZON_CUSTOMER, ["200"]),
        ("GET", HORIZON_CUSTOMER, ["200", "304"]),
        ("HEAD", HORIZON_CUSTOMER, ["200"]),
        ("POST", "/customer/v1/clients/{clientId}/lookup/customer", ["200", "201"]),
        ("POST", "/subscriptions/v1/customers", ["200"]),
        ("PUT", SUBSCRIPTIONS_CUSTOMER, ["200"]),
        ("GET", SUBSCRIPTIONS_CUSTOMER, ["200", "304"]),
    ],
)
def test_customer_answers_document_the_etag(
    document: dict[str, Any], method: str, path: str, statuses: list[str]
) -> None:
    responses = document["paths"][path][method.lower()]["responses"]
    assert all(responses[status]["headers"]["ETag"]["required"] for status in statuses)


def test_every_response_documents_the_request_id(document: dict[str, Any]) -> None:
    for _, _, operation in _operations(document):
        for response in operation["responses"].values():
            assert "X-Request-ID" in response["headers"]


@pytest.mark.parametrize(
    ("method", "path", "where", "seed"),
    [
        ("PUT", HORIZON_CUSTOMER, "request", "horizon_put_request.json"),
        ("PUT", HORIZON_CUSTOMER, "200", "horizon_put_response.json"),
        ("POST", "/subscriptions/v1/customers", "request", "subscriptions_post_request.json"),
        ("POST", "/subscriptions/v1/customers", "200", "subscriptions_sign_up_response.json"),
        ("PUT", SUBSCRIPTIONS_CUSTOMER, "request", "subscriptions_put_request.json"),
        ("PUT", SUBSCRIPTIONS_CUSTOMER, "200", "subscriptions_sign_up_response.json"),
        ("GET", SUBSCRIPTIONS_CUSTOMER, "200", "subscriptions_get_response.json"),
    ],
)
def test_seed_examples_are_in_the_document(
    document: dict[str, Any], method: str, path: str, where: str, seed: str
) -> None:
    operation = document["paths"][path][method.lower()]
    part = operation["requestBody"] if where == "request" else operation["responses"][where]
    assert part["content"]["application/json"]["example"] == load(seed)


def _examples(document: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
    """(operation, schema, example) for every request and response example."""
    found = []
    for method, path, operation in _operations(document):
        for part in [operation.get("requestBody", {}), *operation["responses"].values()]:
            for media in part.get("content", {}).values():
                if "example" in media:
                    found.append((f"{method} {path}", media["schema"], media["example"]))
    return found


def test_every_example_matches_its_schema(document: dict[str, Any]) -> None:
    examples = _examples(document)
    for operation, schema, value in examples:
        validator = jsonschema_rs.validator_for({**schema, "components": document["components"]})
        errors = [error.message for error in validator.iter_errors(value)]
        assert not errors, operation
    assert len(examples) >= 9


@pytest.mark.parametrize(
    "error",
    [
        CustomerInformationMissing([InvalidParameter("address.postalCode", "is required")]),
        NotAuthenticated("no token"),
        Forbidden("not your client"),
        PayloadTooLarge("too large"),
        RequestTimeout("too slow"),
        UnsupportedMediaType("not JSON"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_error_bodies_fit_the_problem_schema(error: AppError) -> None:
    body = problem(error)
    assert Problem.model_validate(body).model_dump(exclude_unset=True) == body


def test_gateway_and_oauth_bodies_fit_their_schemas() -> None:
    gateway, _ = gateway_rejection(NotAuthenticated("missing key")) or ({}, "")
    assert GatewayRejection.model_validate(gateway).model_dump() == gateway
    for error in (OAuthClientRefused("invalid_client", "wrong secret"), TooManyFailures(60)):
        oauth, _ = oauth_error(error) or ({}, "")
        assert OAuthErrorOut.model_validate(oauth).model_dump() == oauth


async def test_the_document_is_byte_for_byte_the_recorded_one(client: Any) -> None:
    # Recorded before the hot reads became plain routes: clients generated from the document
    # must not see any change. Re-record (tests/data/openapi.json) only for a deliberate one.
    response = await client.get("/openapi.json")

    assert response.content == (Path(__file__).parent / "data" / "openapi.json").read_bytes()
