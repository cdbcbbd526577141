"""HTTP machinery shared by every route: bodies, conditional and idempotent requests, OpenAPI."""
