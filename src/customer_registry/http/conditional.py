"""HTTP conditional requests (RFC 9110 section 13) on customers: ETag, If-Match, If-None-Match.

A customer's entity tag is its version, which grows by one with every effective change.
"""

from starlette.responses import Response

from customer_registry.customers.model import Condition

ANY = "*"
# OpenAPI: every customer representation and sign-up answer carries its version as the ETag.
ETAG_HEADER = {
    "ETag": {
        "description": 'The customer\'s version, quoted: `"3"`',
        "required": True,
        "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
    }
}
NOT_MODIFIED_RESPONSE = {
    "description": "The customer is still in the version If-None-Match names; no body",
    "headers": ETAG_HEADER,
}


def etag(version: int) -> str:
    return f'"{version}"'


def _tags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/").strip() for tag in header.split(",") if tag.strip()]


def _versions(tags: list[str]) -> frozenset[int]:
    # Tags we never issued cannot match any version.
    return frozenset(int(t.strip('"')) for t in tags if t.strip('"').isdigit())


def write_condition(if_match: str | None, if_none_match: str | None) -> Condition:
    """The condition a PUT's headers put on the stored customer."""
    if if_match is not None:
        tags = _tags(if_match)
        if ANY in tags:
            return Condition(any_version=True)
        return Condition(versions=_versions(tags))
    if if_none_match is not None and ANY in _tags(if_none_match):
        return Condition(create_only=True)
    return Condition()


def not_modified(if_none_match: str | None, version: int) -> bool:
    """Whether a GET's If-None-Match names the current version (weak comparison)."""
    if if_none_match is None:
        return False
    tags = _tags(if_none_match)
    return ANY in tags or version in _versions(tags)


def unchanged(version: int) -> Response:
    return Response(status_code=304, headers={"ETag": etag(version)})
