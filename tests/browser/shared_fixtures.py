"""Module-scoped nodes and browser for the page tests: starting a node and Chromium
costs about a second each, so a module of page tests shares them and each test uses
its own people and names (tests read what they made, never counts of everything)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from tests.browser.conftest import ARGS, CHROMIUM
from tests.browser.test_pages import signed_in_page
from tests.harness import RunningNode


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """Debian's Chromium, or a skip saying why (as the ``browser`` fixture does)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("browser tests need Debian's Chromium at /usr/bin/chromium")
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def signed_in(
    browser: Any, node: RunningNode, username: str, viewport: dict[str, int]
) -> AsyncIterator[Any]:
    """A page in its own browser context, signed in as ``username``, closed afterwards."""
    page = await signed_in_page(browser, node, username, viewport)
    try:
        yield page
    finally:
        await page.context.close()


async def no_horizontal_scroll(page: Any) -> bool:
    return bool(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))
