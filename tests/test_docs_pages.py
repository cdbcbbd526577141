"""/docs and /redoc work without Internet access: every asset they load comes from here."""

import re

import httpx
import pytest

_ASSET = re.compile(r"""(?:src|href)="([^"]+)"|url: '([^']+)'|spec-url="([^"]+)\"""")


def _references(page: str) -> list[str]:
    return [next(group for group in match.groups() if group) for match in _ASSET.finditer(page)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_page_loads_every_asset_from_this_server(
    client: httpx.AsyncClient, page: str
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert "://" not in response.text, "the page names another server"
    references = _references(response.text)
    assert any(ref.endswith(".js") for ref in references), references
    for reference in references:
        assert reference.startswith("/"), f"{page} loads {reference} from elsewhere"
        asset = await client.get(reference)
        assert asset.status_code == 200, reference
        assert asset.content, reference


async def test_swagger_ui_gets_the_script_it_runs(client: httpx.AsyncClient) -> None:
    script = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert "javascript" in script.headers["content-type"]
    assert b"SwaggerUIBundle" in script.content


@pytest.mark.parametrize("name", ["nope.js", "..%2F__init__.py", "%2E%2E%2Fconsts.py"])
async def test_only_the_assets_are_served(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/docs/assets/{name}")
    assert response.status_code == 404
