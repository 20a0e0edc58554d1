"""``/docs`` renders in Chromium with every request staying on the server (no CDN)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import Server, new_page

pytestmark = pytest.mark.browser


def test_docs_render_without_any_request_leaving_the_server(server: Server, browser: Any) -> None:
    page = new_page(browser, 20_000)
    try:
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        # anything not for the server is refused, so a CDN dependency shows as a blank page
        page.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith(server.url) else route.abort()
            ),
        )
        page.goto(f"{server.url}/docs")
        page.wait_for_selector(".swagger-ui .info .title")
        assert "edgevoice" in page.inner_text(".swagger-ui .info .title")
        page.wait_for_selector('[data-path="/v1/sessions"]')  # operations, from /openapi.json
        elsewhere = [u for u in requested if urlsplit(u).netloc != urlsplit(server.url).netloc]
        assert elsewhere == [], elsewhere
        assert any(u.endswith("/favicon-32x32.png") for u in requested)
    finally:
        page.context.close()
