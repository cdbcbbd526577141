"""Errors of the customer domain."""

from customer_registry.errors import (
    Conflict,
    InvalidParameter,
    NotFound,
    PreconditionFailed,
)


class CustomerNotFound(NotFound):
    code = "customer-not-found"
    title = "Customer not found"

    def __init__(self, client_id: int, customer_number: str) -> None:
        super().__init__(f"client {client_id} has no customer {customer_number!r}")


class CustomerNumberTaken(Conflict):
    code = "customer-number-taken"
    title = "Customer number already in use"

    def __init__(self, client_id: int, customer_number: str) -> None:
        super().__init__(
            f"client {client_id} already has a customer {customer_number!r}; "
            "choose another customerNumber or leave it out to have one generated"
        )


class PersonNotFound(NotFound):
    code = "person-not-found"
    title = "No person found"

    def __init__(self, field: str) -> None:
        super().__init__(f"no customer or directory entry matches the given {field}")


class CustomerChanged(PreconditionFailed):
    code = "customer-changed"
    title = "Customer changed"

    def __init__(self, client_id: int, customer_number: str) -> None:
        super().__init__(
            f"customer {customer_number!r} of client {client_id} is not in the version the "
            "request expects (If-Match / If-None-Match): read it again and retry"
        )


class IdentifierTaken(Conflict):
    """An import brought generated identifiers that another customer of the client holds."""

    code = "identifier-taken"
    title = "Identifier already in use"

    def __init__(self, taken: dict[str, str]) -> None:
        super().__init__(
            f"{self.title}: {', '.join(taken)}",
            [
                InvalidParameter(name, f"already used by customer {number!r}")
                for name, number in taken.items()
            ],
        )
