"""``cercle account alias NAME [HANDLE ...]`` and ``cercle account move NAME --to HANDLE``:
account moves from the console (Mastodon keeps them in its settings pages; the client
API has no call for them)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from node.context import Node
from node.moderation.moves import move_account, set_aliases


def cmd_account(args: argparse.Namespace) -> int:
    from node.cli import _settings, _with_node

    settings = _settings()

    async def work(node: Node) -> Any:
        if args.account_command == "alias":
            uris = await set_aliases(node, args.name, list(args.handles))
            print(f"{args.name}: also known as {', '.join(uris) if uris else 'nobody'}")
        else:
            target = await move_account(node, args.name, args.to)
            print(f"{args.name} moved to {target.uri}; followers are told")

    asyncio.run(_with_node(settings, work, http=True))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    account = sub.add_parser("account", help="account aliases and moves (migration)")
    verbs = account.add_subparsers(dest="account_command", required=True)
    p = verbs.add_parser(
        "alias", help="set the accounts this one is also known as (before a move here)"
    )
    p.add_argument("name", help="local user name")
    p.add_argument("handles", nargs="*", metavar="HANDLE", help="user@domain or actor URL")
    p = verbs.add_parser("move", help="move this account to another one, followers included")
    p.add_argument("name", help="local user name")
    p.add_argument("--to", required=True, metavar="HANDLE", help="the new account")
    account.set_defaults(func=cmd_account)
