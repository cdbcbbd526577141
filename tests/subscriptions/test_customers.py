import httpx

from tests.conftest import DATA, load
from tests.subscriptions.conftest import CUSTOMERS, seed_post

JSON = {"Content-Type": "application/json"}


async def post_seed(http: httpx.AsyncClient) -> httpx.Response:
    raw = (DATA / "subscriptions_post_request.json").read_bytes()
    return await http.post(CUSTOMERS, content=raw, headers=JSON)


def assert_sign_up_shape(response: httpx.Response) -> None:
    body = response.json()
    documented = load("subscriptions_sign_up_response.json")
    assert list(body) == list(documented)
    assert isinstance(body["signUpId"], int)
    assert body["signUpId"] > 0
    assert len(body["customerNumber"]) == 9
    assert body["customerNumber"].isdigit()
    assert body["externalCustomerReference"] == documented["externalCustomerReference"]
    assert body["contracts"] == []


async def test_seed_post_answers_200_with_a_sign_up(subscriptions: httpx.AsyncClient) -> None:
    response = await post_seed(subscriptions)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert_sign_up_shape(response)


async def test_seed_put_answers_200_with_the_same_sign_up(
    subscriptions: httpx.AsyncClient,
) -> None:
    created = await post_seed(subscriptions)
    raw = (DATA / "subscriptions_put_request.json").read_bytes()
    response = await subscriptions.put(f"{CUSTOMERS}/c1631704458", content=raw, headers=JSON)

    assert response.status_code == 200
    assert_sign_up_shape(response)
    assert response.json() == created.json()


async def test_seed_get_answers_the_documented_customer(subscriptions: httpx.AsyncClient) -> None:
    # The documented GET shows no streetNumberAdditional although the documented POST sends
    # "a": the examples describe two states of the customer. We store what was sent.
    await subscriptions.post(CUSTOMERS, json=seed_post())
    body = seed_post()
    body["customer"]["address"]["streetNumberAdditional"] = ""
    await subscriptions.post(CUSTOMERS, json=body)

    response = await subscriptions.get(f"{CUSTOMERS}/c1631704458")

    assert response.status_code == 200
    assert response.json() == load("subscriptions_get_response.json")
    assert list(response.json()) == list(load("subscriptions_get_response.json"))


async def test_get_after_the_seed_post_returns_the_additional_street_number(
    subscriptions: httpx.AsyncClient,
) -> None:
    await post_seed(subscriptions)
    response = await subscriptions.get(f"{CUSTOMERS}/c1631704458")

    expected = load("subscriptions_get_response.json")
    expected["address"]["streetNumberAdditional"] = "a"
    assert response.json() == expected


async def test_post_for_a_known_customer_updates_it_and_keeps_its_ids(
    subscriptions: httpx.AsyncClient,
) -> None:
    created = await post_seed(subscriptions)
    updated = await subscriptions.post(CUSTOMERS, json=seed_post(email="ray@new.example"))

    assert updated.status_code == 200
    assert updated.json() == created.json()
    fetched = await subscriptions.get(f"{CUSTOMERS}/c1631704458")
    assert fetched.json()["email"] == "ray@new.example"


async def test_ids_are_unique_per_customer(subscriptions: httpx.AsyncClient) -> None:
    answers = [
        (await subscriptions.post(CUSTOMERS, json=seed_post(customerNumber=f"c{i}"))).json()
        for i in range(5)
    ]

    assert len({a["signUpId"] for a in answers}) == 5
    assert len({a["customerNumber"] for a in answers}) == 5


async def test_put_unknown_customer_is_404(subscriptions: httpx.AsyncClient) -> None:
    response = await subscriptions.put(f"{CUSTOMERS}/c1631704458", json=seed_post())

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert (await subscriptions.get(f"{CUSTOMERS}/c1631704458")).status_code == 404


async def test_put_with_another_customer_number_in_the_body_is_400(
    subscriptions: httpx.AsyncClient,
) -> None:
    await post_seed(subscriptions)
    response = await subscriptions.put(
        f"{CUSTOMERS}/c1631704458", json=seed_post(customerNumber="other")
    )

    assert response.status_code == 400
    assert response.json()["invalidParameters"][0]["name"] == "customer.customerNumber"
    assert (await subscriptions.get(f"{CUSTOMERS}/other")).status_code == 404


async def test_put_changes_address_and_payment_registration(
    subscriptions: httpx.AsyncClient,
) -> None:
    await post_seed(subscriptions)
    body = seed_post()
    body["customer"]["address"].update(street="New Road", streetNumber="9", careOf="c/o Eve")
    body["paymentRegistration"] = {"id": "999", "pspCustomerId": "psp-1"}
    response = await subscriptions.put(f"{CUSTOMERS}/c1631704458", json=body)
    fetched = await subscriptions.get(f"{CUSTOMERS}/c1631704458")

    assert response.status_code == 200
    assert fetched.json()["address"] == {
        "street": "New Road", "postalCode": "97687-7791", "postalPlace": "Schadenville",
        "countryCode": "DE", "streetNumber": "9", "streetNumberAdditional": "a",
        "careOf": "c/o Eve",
    }  # fmt: skip
    assert "paymentRegistration" not in fetched.json()


async def test_get_unknown_customer_is_404(subscriptions: httpx.AsyncClient) -> None:
    response = await subscriptions.get(f"{CUSTOMERS}/nobody")

    assert response.status_code == 404
    assert response.json()["status"] == 404


async def test_other_methods_are_405(subscriptions: httpx.AsyncClient) -> None:
    assert (await subscriptions.delete(f"{CUSTOMERS}/c1")).status_code == 405
    assert (await subscriptions.get(CUSTOMERS)).status_code == 405


async def test_company_customer_maps_identification_number_to_organisation_number(
    subscriptions: httpx.AsyncClient,
) -> None:
    body = seed_post(
        customerCategory="COMPANY", companyName="Acme GmbH", identificationNumber="HRB 1234"
    )
    await subscriptions.post(CUSTOMERS, json=body)
    fetched = await subscriptions.get(f"{CUSTOMERS}/c1631704458")

    assert fetched.json()["customerCategory"] == "COMPANY"
    assert fetched.json()["companyName"] == "Acme GmbH"
    assert fetched.json()["identificationNumber"] == "HRB 1234"
