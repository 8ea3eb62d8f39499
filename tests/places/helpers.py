"""Helpers shared by the places, trends and adoption tests."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from node import partners
from tests.harness import RunningNode, wait_for


async def partnership_state(node: RunningNode, domain: str, state: str) -> bool:
    return any(
        p.domain == domain and p.state == state for p in await partners.partnerships(node.node)
    )


async def make_partners(a: RunningNode, b: RunningNode) -> None:
    """A proposes, B's admin accepts: the partnership is active on both sides."""
    await partners.propose(a.node, b.domain)
    await a.deliver_all()
    await wait_for(lambda: partnership_state(b, a.domain, "requested"))
    await partners.accept(b.node, a.domain)
    for _ in range(3):
        await b.deliver_all()
        await a.deliver_all()
    await wait_for(lambda: partnership_state(a, b.domain, "active"))
    await wait_for(lambda: partnership_state(b, a.domain, "active"))


async def cercle(node: RunningNode, *args: str, **env: str) -> tuple[int, str, str]:
    """``python -m node ARGS`` against ``node``'s data, as an operator runs it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "node",
        *args,
        env={
            **os.environ,
            "CERCLE_DATA_DIR": str(node.settings.data_dir),
            "CERCLE_DOMAIN": node.domain,
            "CERCLE_DEV": "1",
            "CERCLE_DATABASE_URL": node.settings.database_url,
            "CERCLE_ORG_NAME": node.settings.org_name,
            **env,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def cercle_here(
    node: RunningNode, monkeypatch: Any, capsys: Any, *args: str
) -> tuple[int, str, str]:
    """``cercle ARGS`` run by ``node.cli.main`` in a worker thread of this process, with
    the environment an operator would set: the same parsing, commands and one-line
    errors as the installed command, without paying a Python start-up per call."""
    from node.cli import main

    monkeypatch.setenv("CERCLE_DATA_DIR", str(node.settings.data_dir))
    monkeypatch.setenv("CERCLE_DOMAIN", node.domain)
    monkeypatch.setenv("CERCLE_DEV", "1")
    monkeypatch.setenv("CERCLE_DATABASE_URL", node.settings.database_url)
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    return code, out, err
