"""The ``cercle`` command. Every failure ends with one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from federation.errors import FederationError
from node import accounts
from node.app import NodeNotReady, create_app, load_node_settings
from node.bootstrap import app_actor, initialise
from node.context import Node, open_node, transaction
from node.db.migrate import is_up_to_date, upgrade
from node.errors import CercleError
from node.events_pg import start_relay
from node.identity.audit import acting_as, cli_actor
from node.settings import ConfigError, Settings, load_settings

EXIT_ERROR = 1


class CommandError(Exception):
    """A one-line failure for the operator."""


def _settings() -> Settings:
    settings = load_settings()
    settings.validate()
    return settings


def _require_database(settings: Settings) -> None:
    if settings.is_sqlite:
        path = Path(settings.database_url.split("///", 1)[1])
        if not path.exists():
            raise CommandError(
                f"no node in {settings.data_dir} (no database at {path}): run `cercle init` first"
            )


async def _with_node(
    settings: Settings, work: Callable[[Node], Awaitable[Any]], *, http: bool = False
) -> Any:
    _require_database(settings)
    node = open_node(settings)
    try:
        if not await is_up_to_date(node.engine):
            raise CommandError("the database schema is not current: run `cercle migrate`")
        await load_node_settings(node)
        if http:
            async with node.reads() as db:
                await node.start_http(await app_actor(db, node))
        # On PostgreSQL, what a command changes reaches streaming clients of `serve`.
        relay = await start_relay(settings.database_url, node.events)
        try:
            return await work(node)
        finally:
            if relay is not None:
                await relay.close()
    finally:
        await node.close()


# --- commands -------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def run() -> Any:
        node = open_node(settings)
        try:
            return await initialise(
                node,
                admin=args.admin,
                password=args.password,
                org_name=args.org_name,
                email=args.email,
            )
        finally:
            await node.close()

    result = asyncio.run(run())
    if result.created:
        print(f"created node {result.domain} with admin {args.admin}")
    else:
        print(f"node {result.domain} already exists in {settings.data_dir}: nothing changed")
    return 0


DEMO_USERS = (
    ("admin", "admin-demo-pass", True),
    ("alice", "alice-demo-pass", False),
    ("bob", "bob-demo-pass", False),
)


def cmd_demo(args: argparse.Namespace) -> int:
    """Used by ``make run``: a demo organisation with an admin and two users, idempotent."""
    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def run() -> None:
        node = open_node(settings)
        try:
            name, password, _ = DEMO_USERS[0]
            await initialise(node, admin=name, password=password, org_name=args.org_name)
            async with transaction(node) as db:
                for name, password, admin in DEMO_USERS[1:]:
                    if await accounts.local_actor_by_username(db, name) is None:
                        await accounts.create_user(
                            node, db, username=name, password=password, admin=admin
                        )
        finally:
            await node.close()

    asyncio.run(run())
    print(f"Demo organisation on {settings.base_url}/ — logins:")
    for name, password, admin in DEMO_USERS:
        print(f"  {name:<6} password {password}{'  (admin)' if admin else ''}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()
    _require_database(settings)

    async def run() -> None:
        node = open_node(settings)
        try:
            await upgrade(node.engine)
        finally:
            await node.close()

    asyncio.run(run())
    print("database schema is current")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings()
    _require_database(settings)
    from node.logging_setup import JsonAccessLogger, configure_logging

    configure_logging(args.log_format)
    app = create_app(settings, workers=not args.no_workers)
    print(f"serving {settings.base_url} on http://{args.host}:{args.port}", flush=True)
    web.run_app(
        app,
        host=args.host,
        port=args.port,
        print=None,
        access_log=None if args.no_access_log else logging.getLogger("cercle.access"),
        access_log_class=JsonAccessLogger,
        shutdown_timeout=10,
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Delivery workers alone, for nodes that run web and workers apart."""
    from datetime import timedelta

    from node.logging_setup import configure_logging
    from node.ops.worker_process import run_worker

    settings = _settings()
    if args.lease < 5 or args.concurrency < 1:
        raise CommandError("--lease must be at least 5 seconds and --concurrency at least 1")
    configure_logging(args.log_format)

    async def work(node: Node) -> None:
        await run_worker(node, lease=timedelta(seconds=args.lease), concurrency=args.concurrency)

    asyncio.run(_with_node(settings, work, http=True))
    return 0


def cmd_user(args: argparse.Namespace) -> int:
    settings = _settings()

    async def work(node: Node) -> Any:
        if args.user_command == "add":
            async with transaction(node) as db:
                await accounts.create_user(
                    node,
                    db,
                    username=args.name,
                    password=args.password,
                    email=args.email,
                    admin=args.admin,
                )
            print(f"created user {args.name.lower()}")
        elif args.user_command == "list":
            async with node.reads() as db:
                for user, actor in await accounts.list_users(db):
                    flags = [
                        f for f, on in (("admin", user.is_admin), ("disabled", user.disabled)) if on
                    ]
                    print(f"{actor.username}\t{user.email or '-'}\t{','.join(flags) or '-'}")
        else:
            async with transaction(node) as db:
                await accounts.set_disabled(db, args.name, args.user_command == "disable")
            print(f"{args.user_command}d user {args.name}")

    asyncio.run(_with_node(settings, work))
    return 0


def cmd_follow(args: argparse.Namespace) -> int:
    from node.follows import follow
    from node.remote_actors import resolve_account

    settings = _settings()

    async def work(node: Node) -> None:
        async with node.reads() as db:
            _, me = await accounts.require_user_actor(db, args.as_user)
        target = await resolve_account(node, args.target)
        row = await follow(node, me, target)
        print(f"{me.username} → {target.uri}: {row.state}")

    asyncio.run(_with_node(settings, work, http=True))
    return 0


def cmd_post(args: argparse.Namespace) -> int:
    from node.posts import create_post

    settings = _settings()

    async def work(node: Node) -> None:
        async with node.reads() as db:
            _, me = await accounts.require_user_actor(db, args.as_user)
        post = await create_post(node, me, args.text, audience=args.audience)
        print(post.url)

    asyncio.run(_with_node(settings, work, http=True))
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    from node.db.models import Actor
    from node.timelines import home_page

    settings = _settings()
    if args.limit < 1 or args.limit > 1000:
        raise CommandError("--limit must be between 1 and 1000")

    async def work(node: Node) -> None:
        async with node.reads() as db:
            _, me = await accounts.require_user_actor(db, args.as_user)
            posts = await home_page(db, me.id, limit=args.limit)
            author_ids = {p.actor_id for p in posts}
            authors = {
                a.id: a for a in await db.scalars(select(Actor).where(Actor.id.in_(author_ids)))
            }
            for post in posts:
                item = {
                    "id": str(post.id),
                    "uri": post.uri,
                    "url": post.url or post.uri,
                    "author": authors[post.actor_id].uri,
                    "content": post.content,
                    "audience": post.audience,
                    "published": post.published.isoformat(),
                    "reblog_of": str(post.reblog_of_id) if post.reblog_of_id else None,
                    "likes": post.likes_count,
                    "reblogs": post.reblogs_count,
                }
                if args.json:
                    print(json.dumps(item, ensure_ascii=False))
                else:
                    print(
                        f"{item['published']}  {item['author']}\n  {item['url']}\n  "
                        f"{post.source or post.content}"
                    )

    asyncio.run(_with_node(settings, work))
    return 0


def cmd_partner(args: argparse.Namespace) -> int:
    """Partnerships between firms: propose, list, accept, refuse, end."""
    from node import partners

    settings = _settings()

    async def work(node: Node) -> None:
        verb = args.partner_command
        if verb == "list":
            rows = await partners.partnerships(node)
            for row in rows:
                print(f"{row.domain}\t{row.state}\t{row.name or '-'}\t{row.organisation}")
            if not rows:
                print("no partnerships yet")
            return
        action = {
            "propose": partners.propose,
            "accept": partners.accept,
            "refuse": partners.refuse,
            "end": partners.end,
        }[verb]
        view = await action(node, args.target)
        print(f"{view.domain}: {view.state}")

    asyncio.run(_with_node(settings, work, http=True))
    return 0


def cmd_federation(args: argparse.Namespace) -> int:
    from node.policy import federation_mode, set_federation_mode

    settings = _settings()

    async def work(node: Node) -> None:
        if args.mode is None:
            async with node.reads() as db:
                print(await federation_mode(db, node.settings.federation_mode))
            return
        async with transaction(node) as db:
            await set_federation_mode(db, args.mode)
        print(f"federation mode: {args.mode}")

    asyncio.run(_with_node(settings, work))
    return 0


def cmd_domain(args: argparse.Namespace) -> int:
    from node.policy import set_domain_allowed, set_domain_block

    settings = _settings()
    domain = args.domain.strip().lower()
    if not domain or "/" in domain or " " in domain:
        raise CommandError(f"invalid domain {args.domain!r}: give a host name, e.g. spam.example")

    verb = args.domain_command

    async def work(node: Node) -> None:
        async with transaction(node) as db:
            if verb in ("block", "unblock"):
                await set_domain_block(db, domain, verb == "block")
            else:
                await set_domain_allowed(db, domain, verb == "allow")
        done = {"block": "blocked", "unblock": "unblocked", "allow": "allowed"}
        print(f"{domain}: {done.get(verb, 'no longer allowed')}")

    asyncio.run(_with_node(settings, work))
    return 0


# --- parser ----------------------------------------------------------------------------


#: Modules that add their own sub-commands: each has ``register(subparsers)`` that adds
#: parsers whose ``func`` takes the parsed args and returns an exit status. They keep a
#: feature's commands next to its services instead of growing this file without end.
COMMAND_MODULES: tuple[str, ...] = (
    "node.cli_ops",
    "node.cli_places",
    "node.cli_digest",
    "node.cli_identity",
    "node.moderation.cli",
)
#: The long-running commands. Their processes stay resident, so they are parsed without
#: COMMAND_MODULES, whose imports (backups, digests, SCIM export...) they never use:
#: ≈ 0.5 MB and 20 ms less per serving process (docs/performance.md, "Idle memory").
RESIDENT_COMMANDS = frozenset({"serve", "worker"})


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes end like every other failure: one line on stderr, non-zero exit
    (``--help`` still prints the whole usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"cercle: error: {self.prog.removeprefix('cercle ')}: {message}\n")


def build_parser(*, feature_commands: bool = True) -> argparse.ArgumentParser:
    """``feature_commands=False`` leaves out COMMAND_MODULES' sub-commands."""
    parser = OneLineParser(prog="cercle", description="Cercle node administration")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create the node: database, actors, first admin")
    p.add_argument("--admin", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--org-name")
    p.add_argument("--email")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("demo", help="create (or reuse) a demo organisation and print logins")
    p.add_argument("--org-name", default="Acme (demo)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("migrate", help="bring the database schema up to date")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("serve", help="serve the web, API and federation endpoints")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--no-workers", action="store_true", help="do not run delivery workers here")
    p.add_argument("--no-access-log", action="store_true", help="no log line per request")
    p.add_argument("--log-format", choices=("json", "text"), help="default: json")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run delivery workers only")
    p.add_argument(
        "--lease",
        type=float,
        default=300,
        help="seconds a claimed delivery stays this worker's before others may retry it",
    )
    p.add_argument("--concurrency", type=int, default=16, help="deliveries sent at once")
    p.add_argument("--log-format", choices=("json", "text"), help="default: json")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("user", help="manage local accounts")
    usub = p.add_subparsers(dest="user_command", required=True)
    a = usub.add_parser("add")
    a.add_argument("name")
    a.add_argument("--password", required=True)
    a.add_argument("--email")
    a.add_argument("--admin", action="store_true")
    usub.add_parser("list")
    for verb in ("disable", "enable"):
        d = usub.add_parser(verb)
        d.add_argument("name")
    p.set_defaults(func=cmd_user)

    p = sub.add_parser("follow", help="follow an account as a local user")
    p.add_argument("--as", dest="as_user", required=True)
    p.add_argument("target", metavar="HANDLE_OR_ACTOR_URL")
    p.set_defaults(func=cmd_follow)

    p = sub.add_parser("post", help="publish a post as a local user")
    p.add_argument("--as", dest="as_user", required=True)
    p.add_argument("--audience", default="public")
    p.add_argument("text")
    p.set_defaults(func=cmd_post)

    p = sub.add_parser("timeline", help="print a user's home timeline")
    p.add_argument("--as", dest="as_user", required=True)
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_timeline)

    p = sub.add_parser("partner", help="partnerships with other firms' nodes")
    psub = p.add_subparsers(dest="partner_command", required=True)
    psub.add_parser("propose").add_argument("target", metavar="DOMAIN_HANDLE_OR_URL")
    psub.add_parser("list")
    for verb in ("accept", "refuse", "end"):
        psub.add_parser(verb).add_argument("target", metavar="DOMAIN")
    p.set_defaults(func=cmd_partner)

    p = sub.add_parser("federation", help="show or set the federation mode")
    fsub = p.add_subparsers(dest="federation_command", required=True)
    mode = fsub.add_parser("mode")
    mode.add_argument("mode", nargs="?", choices=("open", "partners", "closed"))
    p.set_defaults(func=cmd_federation)

    p = sub.add_parser(
        "domain",
        help="block or unblock a remote domain; allow or disallow one in partners mode",
    )
    dsub = p.add_subparsers(dest="domain_command", required=True)
    for verb in ("block", "unblock", "allow", "disallow"):
        dsub.add_parser(verb).add_argument("domain")
    p.set_defaults(func=cmd_domain)

    if feature_commands:
        for name in COMMAND_MODULES:
            importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    resident = bool(argv) and argv[0] in RESIDENT_COMMANDS
    args = build_parser(feature_commands=not resident).parse_args(argv)
    try:
        # Changes made from the console are audited as ``cli:<login>``.
        with acting_as(cli_actor()):
            return int(args.func(args) or 0)
    except (CommandError, NodeNotReady, ConfigError) as exc:
        message = str(exc)
    except CercleError as exc:
        message = exc.message
    except FederationError as exc:
        message = exc.reason
    except OperationalError as exc:
        message = f"database error: {exc.orig}"
    except KeyboardInterrupt:
        return 130
    print(f"cercle: error: {message}", file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
