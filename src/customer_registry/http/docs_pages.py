"""The interactive API documentation at /docs (Swagger UI) and /redoc, usable offline.

FastAPI's own pages load their scripts and styles from a public CDN, so on a network without
Internet access they stay blank. These pages load them from this server instead: the files
ship in the fastapi-offline package (Swagger UI under Apache-2.0, ReDoc under MIT, their
licence notices included). They are served by a route with a path parameter rather than a
mounted directory, so metrics and access lines name one route template, not every path
asked for.
"""

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse

from customer_registry.errors import NotFound

ASSETS = "/docs/assets"
_FILES = Path(str(files("fastapi_offline").joinpath("static")))
# The only names served: nothing else of the package's directory, and no path outside it.
_SERVED = frozenset(
    path.name for path in _FILES.iterdir() if path.suffix in {".js", ".css", ".png"}
)
_CACHE = {"Cache-Control": "public, max-age=86400"}


def _root(request: Request) -> str:
    # Behind a proxy that serves the app under a path prefix (uvicorn --root-path), as
    # FastAPI's own pages do.
    return str(request.scope.get("root_path", "")).rstrip("/")


def install(app: FastAPI) -> None:
    """Add /docs, /docs/oauth2-redirect, /redoc and their assets to ``app``."""
    title = app.title
    openapi_url = str(app.openapi_url)
    redirect_url = str(app.swagger_ui_oauth2_redirect_url)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{title} - Swagger UI",
            oauth2_redirect_url=root + redirect_url,
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
            # Swagger UI would otherwise send the document's URL to an online validator.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    @app.get(ASSETS + "/{name}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        if name not in _SERVED:
            raise NotFound()
        return FileResponse(_FILES / name, headers=_CACHE)
