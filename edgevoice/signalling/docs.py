"""The OpenAPI docs at ``/docs``, with Swagger UI's files served by this server.

FastAPI's default page loads Swagger UI from a CDN: without internet it renders blank,
and every visit tells a third party about the server. The files come from the
``swagger-ui-py`` package instead (Swagger UI 5, which reads OpenAPI 3.1); nothing the
page loads leaves the server.
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/static/swagger"


def install_docs(app: FastAPI) -> None:
    try:
        files = resources.files("swagger_ui") / "static"
    except ModuleNotFoundError:  # the docs are optional; the API is not
        return
    app.mount(ASSETS, StaticFiles(directory=str(files)), name="swagger")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
