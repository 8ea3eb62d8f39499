"""``cercle digest --user NAME [--send]``: render one person's weekly digest (HTML on
stdout, or ``--text``), or send it by e-mail through the configured SMTP server."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from node.context import Node
from node.digest import build_digest, render_html, render_text, send_digest
from node.smtp import MailError


def cmd_digest(args: argparse.Namespace) -> int:
    from node.cli import CommandError, _settings, _with_node

    settings = _settings()

    async def work(node: Node) -> Any:
        digest = await build_digest(node, args.user)
        if args.send:
            try:
                address = await send_digest(node, digest)
            except MailError as exc:
                raise CommandError(str(exc)) from exc
            print(f"sent the digest of {digest.username} to {address}")
            return
        sys.stdout.write(render_text(digest) if args.text else render_html(digest))

    asyncio.run(_with_node(settings, work))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("digest", help="render or send a person's weekly digest")
    p.add_argument("--user", required=True, help="the person's username")
    p.add_argument("--send", action="store_true", help="e-mail it (needs smtp_host, smtp_from)")
    p.add_argument("--text", action="store_true", help="print the plain-text version")
    p.set_defaults(func=cmd_digest)
