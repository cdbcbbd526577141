"""The benchmark scenarios: each builds a pool of realistic requests that wrk replays.

Request bodies start from the seed bodies in tests/data and take their values from the same
factory that filled the database, so updates write the kind of data that is stored.
"""

import copy
import dataclasses
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.seed import CustomerFactory, Sample, customer_number
from bench.wrk import Request
from customer_registry.customers.model import Customer

# The seed bodies live in tests/data, or in the package's examples once they move there.
_ROOT = Path(__file__).parents[1]
SEED_BODIES = next(
    (
        d
        for d in (_ROOT / "tests" / "data", _ROOT / "src" / "customer_registry" / "examples")
        if (d / "horizon_put_request.json").exists()
    ),
    _ROOT / "tests" / "data",
)
POOL_SIZE = 5000


@dataclass(frozen=True)
class Client:
    client_id: int
    token: str
    subscription_key: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Context:
    clients: list[Client]
    per_client: int
    sample: Sample
    rng: random.Random
    factory: CustomerFactory

    def existing(self) -> tuple[Client, str]:
        client = self.rng.choice(self.clients)
        return client, customer_number(self.rng.randrange(self.per_client))

    def client(self, client_id: int) -> Client:
        return next(c for c in self.clients if c.client_id == client_id)


Build = Callable[[Context], list[Request]]


@dataclass(frozen=True)
class Scenario:
    name: str
    build: Build
    writes: bool = False
    python_method: str = ""  # set: driven by bench.headload, not wrk (wrk cannot do HEAD)


def _horizon(client: Client) -> str:
    return f"/customer/v1/clients/{client.client_id}/customers"


def _json(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _seed_body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((SEED_BODIES / name).read_text())
    return body


_HORIZON_SEED = _seed_body("horizon_put_request.json")
_SUBSCRIPTIONS_SEED = _seed_body("subscriptions_post_request.json")


def horizon_body(customer: Customer) -> str:
    body = copy.deepcopy(_HORIZON_SEED)
    body.update(type=customer.type, phoneNumber=customer.phone_number, email=customer.email)
    body["address"].update(
        addressLine=" ".join(p for p in (customer.street, customer.street_number) if p),
        postalCode=customer.postal_code,
        postalPlace=customer.postal_place,
        countryCode=customer.country_code,
    )
    if customer.type == "Person":
        person = {
            "ssn": customer.ssn,
            "firstName": customer.first_name,
            "lastName": customer.last_name,
        }
        body["person"] = {key: value for key, value in person.items() if value}
    else:
        del body["person"]
        company = {
            "name": customer.company_name,
            "organizationNumber": customer.organization_number,
        }
        body["company"] = {key: value for key, value in company.items() if value}
    return _json(body)


def _street(customer: Customer) -> dict[str, str]:
    street = customer.street or ""
    if customer.street_number or " " not in street:
        return {"street": street, "streetNumber": customer.street_number or "1"}
    name, number = street.rsplit(" ", 1)  # a Horizon address line: "Storgata 12"
    return {"street": name, "streetNumber": number}


def subscriptions_body(customer: Customer, number: str) -> str:
    body = copy.deepcopy(_SUBSCRIPTIONS_SEED)
    person = customer.type == "Person"
    body["customer"].update(
        customerNumber=number,
        customerCategory="PERSON" if person else "COMPANY",
        firstName=customer.first_name or "",
        lastName=customer.last_name or "",
        companyName=customer.company_name or "",
        email=customer.email,
    )
    body["customer"]["address"].update(
        countryCode=customer.country_code,
        postalCode=customer.postal_code,
        postalPlace=customer.postal_place,
        **_street(customer),
    )
    return _json(body)


def _get(ctx: Context) -> list[Request]:
    pool = []
    for _ in range(POOL_SIZE):
        client, number = ctx.existing()
        pool.append(Request("GET", f"{_horizon(client)}/{number}", client.bearer))
    return pool


def _subscriptions_get(ctx: Context) -> list[Request]:
    pool = []
    for _ in range(POOL_SIZE):
        client, number = ctx.existing()
        headers = {"X-Subscription-Key": client.subscription_key}
        pool.append(Request("GET", f"/subscriptions/v1/customers/{number}", headers))
    return pool


def _search(client: Client, column: str, value: str, page: int = 1) -> Request:
    headers = {**client.bearer, "Content-Type": "application/json"}
    path = f"{_horizon(client)}/search?page={page}&perPage=100"
    return Request("POST", path, headers, _json({"searchColumn": column, "searchValue": value}))


def _search_number(ctx: Context) -> list[Request]:
    pool = []
    for _ in range(POOL_SIZE):
        client, number = ctx.existing()
        pool.append(_search(client, "customerNumber", number))
    return pool


def _search_sampled(column: str, values: Callable[[Sample], list[tuple[int, str]]]) -> Build:
    def build(ctx: Context) -> list[Request]:
        found = values(ctx.sample)
        if not found:
            raise RuntimeError(f"the loaded data has no {column} to search for")
        picks = [ctx.rng.choice(found) for _ in range(POOL_SIZE)]
        return [_search(ctx.client(client_id), column, value) for client_id, value in picks]

    return build


def _page(page: int) -> Build:
    def build(ctx: Context) -> list[Request]:
        return [_search(c, "clientId", str(c.client_id), page) for c in ctx.clients]

    return build


def _put_update(ctx: Context) -> list[Request]:
    """Updates that each change the e-mail address ({N}: unique per request): a replayed body
    would change nothing the second time, and an unchanged PUT writes nothing."""
    pool = []
    for _ in range(POOL_SIZE):
        client, number = ctx.existing()
        customer = ctx.factory.customer(client.client_id, number)
        body = horizon_body(dataclasses.replace(customer, email="u{N}@example.com"))
        headers = {**client.bearer, "Content-Type": "application/json"}
        pool.append(Request("PUT", f"{_horizon(client)}/{number}", headers, body))
    return pool


def _put_create(ctx: Context) -> list[Request]:
    return [
        Request(r.method, r.path.rsplit("/", 1)[0] + "/new-{N}", r.headers, r.body)
        for r in _put_update(ctx)[: POOL_SIZE // 5]
    ]


def _subscriptions_post(ctx: Context) -> list[Request]:
    pool = []
    for _ in range(POOL_SIZE):
        client, number = ctx.existing()
        body = subscriptions_body(ctx.factory.customer(client.client_id, number), number)
        headers = {
            "X-Subscription-Key": client.subscription_key,
            "Content-Type": "application/json",
        }
        pool.append(Request("POST", "/subscriptions/v1/customers", headers, body))
    return pool


SCENARIOS = (
    Scenario("horizon GET", _get),
    Scenario("horizon GET (python client)", _get, python_method="GET"),
    Scenario("horizon HEAD (python client)", _get, python_method="HEAD"),
    Scenario("subscriptions GET", _subscriptions_get),
    Scenario("search customerNumber", _search_number),
    Scenario("search name prefix", _search_sampled("name", lambda s: s.names)),
    Scenario("search ssn", _search_sampled("ssn", lambda s: s.ssns)),
    Scenario("search page 1", _page(1)),
    Scenario("search page 100", _page(100)),
    Scenario("search page 10000", _page(10_000)),
    Scenario("horizon PUT update", _put_update, writes=True),
    Scenario("subscriptions POST", _subscriptions_post, writes=True),
    Scenario("horizon PUT create", _put_create, writes=True),
)
