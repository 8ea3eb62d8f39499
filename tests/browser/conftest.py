"""A real Chromium (Debian's /usr/bin/chromium) driven by Playwright, against real nodes.

Tests using the ``browser`` fixture skip, with the reason, only when the browser or the
package is missing: .ci/run installs Chromium through apt before the tests."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """A headless Chromium; tests that need it skip, saying why, when it is missing (the
    plain-HTTP tests of this folder still run)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(
            "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)"
        )
    playwright_api = pytest.importorskip(
        "playwright.async_api", reason="browser tests need the playwright package (test extra)"
    )
    async with playwright_api.async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
