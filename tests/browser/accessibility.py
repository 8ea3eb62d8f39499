"""axe-core in the browser tests: inject the vendored engine into a page and list what it
finds. See vendor/axe-core/README.md for its version, licence and origin."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
#: What the brief allows to remain: minor and moderate findings are reported, not fatal.
BLOCKING = frozenset({"serious", "critical"})


@cache
def axe_source() -> str:
    """The vendored engine, refused if it is not the file the README names."""
    data = AXE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert digest == AXE_SHA256, f"{AXE} is not axe-core 4.14.1 (sha256 {digest})"
    return data.decode()


async def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Every axe violation on the page as it is now (WCAG 2.0-2.2 A/AA and best practices).

    ``page.evaluate`` runs through the DevTools protocol, which the page's CSP does not
    govern, so the pages keep their strict policy while being checked."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(axe_source())
    result = await page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary})),
            }));
        }"""
    )
    return list(result)


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v.get("impact") in BLOCKING]


def describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps(violations, indent=1)
