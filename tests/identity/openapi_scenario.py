"""The part of tests/api/test_openapi.py's scenario that exercises the archive downloads
(docs/identity.md), each answer checked against docs/openapi.json."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta
from typing import Any

from tests.api.conftest import issue_token
from tests.harness import RunningNode


async def identity_scenario(node: RunningNode, call: Any) -> None:
    """alice downloads her archive; the admin downloads the firm's for a date range; a
    non-admin and a malformed date are refused as documented."""
    alice = await issue_token(node, "alice", "read")
    admin = await issue_token(node, "admin", "admin:read")
    body = await call("GET", "/api/v1/cercle/archive", alice)
    assert body is None  # binary: checked below through a second download
    today = date.today()
    week = {"since": str(today - timedelta(days=7)), "until": str(today + timedelta(days=1))}
    await call("GET", "/api/v1/admin/cercle/archive", admin, params=week)
    await call("GET", "/api/v1/admin/cercle/archive", admin, expect=422, params={"since": "x"})
    not_admin = await issue_token(node, "bob", "admin:read")
    await call("GET", "/api/v1/admin/cercle/archive", not_admin, expect=403, params=week)
    async with call.session.get(
        f"{node.base_url}/api/v1/cercle/archive", headers={"Authorization": f"Bearer {alice}"}
    ) as response:
        data = await response.read()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert {"actor.json", "outbox.json", "following_accounts.csv", "circles.csv"} <= set(names)
