"""``cercle scim ...``, ``cercle audit`` and ``cercle retention ...``: enterprise identity
and governance from the console. Every change made here is audited as ``cli:<login>``."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from node.cli import CommandError, _settings, _with_node
from node.context import Node, transaction
from node.identity.audit import acting_as, audit_entries, cli_actor, entry_json


def parse_date(value: str, name: str) -> datetime:
    """``YYYY-MM-DD`` or an ISO 8601 moment; naive values are UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _run(work: Any, *, http: bool = False) -> int:
    settings = _settings()

    async def audited(node: Node) -> Any:
        with acting_as(cli_actor()):
            return await work(node)

    asyncio.run(_with_node(settings, audited, http=http))
    return 0


def cmd_scim(args: argparse.Namespace) -> int:
    from node.identity.scim import links, tokens

    async def work(node: Node) -> None:
        if args.scim_command == "token":
            if args.token_command == "create":
                async with transaction(node) as db:
                    made = await tokens.create_token(db, args.name)
                print(made.token)
            elif args.token_command == "list":
                async with node.reads() as db:
                    rows = await tokens.list_tokens(db)
                for row in rows:
                    state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
                    used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
                    print(f"{row.id}\t{row.name}\t{row.created_at:%Y-%m-%d}\tused {used}\t{state}")
                if not rows:
                    print("no SCIM tokens yet")
            else:
                async with transaction(node) as db:
                    row = await tokens.revoke_token(db, args.token)
                print(f"revoked SCIM token {row.id} ({row.name})")
            return
        if args.scim_command == "groups":
            async with node.reads() as db:
                for group in await _groups(db):
                    print(
                        f"{group.id}\t{group.display_name}\t{await links.describe_link(db, group)}"
                    )
            return
        async with transaction(node) as db:
            group = await links.find_group(db, args.group)
            if args.scim_command == "unlink":
                await links.link_group(db, group, None, None)
                print(f"{group.display_name}: unlinked")
                return
            await links.link_group(db, group, "circle", args.circle)
            print(f"{group.display_name} → {await links.describe_link(db, group)}")

    return _run(work)


async def _groups(db: Any) -> list[Any]:
    from node.identity.scim.groups import all_groups

    return await all_groups(db)


def cmd_audit(args: argparse.Namespace) -> int:
    since = parse_date(args.since, "--since") if args.since else None

    async def work(node: Node) -> None:
        async with node.reads() as db:
            entries = await audit_entries(db, since=since, action=args.action)
        for entry in entries:
            if args.json:
                print(json.dumps(entry_json(entry), ensure_ascii=False))
            else:
                detail = json.dumps(entry.detail, ensure_ascii=False) if entry.detail else ""
                print(
                    f"{entry.at:%Y-%m-%dT%H:%M:%SZ}  {entry.actor:<20} {entry.action:<22} "
                    f"{entry.target} {detail}".rstrip()
                )

    return _run(work)


def cmd_retention(args: argparse.Namespace) -> int:
    from node.identity import retention

    async def work(node: Node) -> None:
        verb = args.retention_command
        if verb == "policy":
            days = None if args.days == "off" else _days(args.days)
            async with transaction(node) as db:
                await retention.set_policy(db, args.audience, days)
            print(f"{args.audience}: " + (f"kept {days} days" if days else "kept forever"))
        elif verb in ("hold", "release"):
            async with transaction(node) as db:
                await retention.set_hold(db, args.user, verb == "hold", getattr(args, "reason", ""))
            print(f"{args.user}: {'on legal hold' if verb == 'hold' else 'hold released'}")
        elif verb == "list":
            async with node.reads() as db:
                for policy in await retention.policies(db):
                    print(f"policy\t{policy.audience}\t{policy.days} days")
                for hold, actor in await retention.holds(db):
                    print(f"hold\t{actor.username}\t{hold.created_at:%Y-%m-%d}\t{hold.reason}")
        else:
            report = await retention.run_retention(node)
            print(f"deleted {report.deleted} expired posts")

    return _run(work, http=args.retention_command == "run")


def _days(value: str) -> int:
    if not value.isdigit():
        raise CommandError(f"days must be a number of days or off, not {value!r}")
    return int(value)


def cmd_export(args: argparse.Namespace) -> int:
    from node.identity.export import write_firm_archive, write_user_archive

    if bool(args.user) == bool(args.all):
        raise CommandError("give either --user NAME or --all --since DATE --until DATE")
    if args.all and not (args.since and args.until):
        raise CommandError("--all needs --since DATE and --until DATE")
    target = Path(args.file)
    if not target.parent.is_dir():
        raise CommandError(f"no directory {target.parent} to write {target.name} in")
    partial = target.with_name(target.name + ".partial")

    async def work(node: Node) -> None:
        try:
            with partial.open("wb") as stream:
                if args.user:
                    count = await write_user_archive(node, args.user, stream)
                else:
                    since = parse_date(args.since, "--since")
                    until = parse_date(args.until, "--until")
                    count = await write_firm_archive(node, since, until, stream)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(target)
        print(f"wrote {target} ({count} posts)")

    return _run(work)


def cmd_import(args: argparse.Namespace) -> int:
    from node.identity.imports import import_into, read_import

    data = read_import(Path(args.file))

    async def work(node: Node) -> None:
        report = await import_into(node, args.user, data)
        print(
            f"followed {report.followed}, added {report.circle_members} circle members, "
            f"created {report.circles_created} circles"
        )
        for failure in report.failures:
            print(f"skipped {failure}")

    return _run(work, http=True)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("scim", help="SCIM provisioning: tokens and directory groups")
    ssub = p.add_subparsers(dest="scim_command", required=True)
    token = ssub.add_parser("token", help="bearer tokens for the directory")
    tsub = token.add_subparsers(dest="token_command", required=True)
    tsub.add_parser("create", help="print a new token (shown once)").add_argument(
        "--name", default="directory"
    )
    tsub.add_parser("list")
    tsub.add_parser("revoke").add_argument("token", metavar="ID_OR_NAME")
    ssub.add_parser("groups", help="directory groups and what they drive")
    link = ssub.add_parser("link", help="make a circle's membership follow a directory group")
    link.add_argument("group", metavar="GROUP_ID_OR_NAME")
    link.add_argument("--circle", type=int, required=True, metavar="CIRCLE_ID")
    ssub.add_parser("unlink").add_argument("group", metavar="GROUP_ID_OR_NAME")
    p.set_defaults(func=cmd_scim)

    p = sub.add_parser("audit", help="print the audit log, oldest first")
    p.add_argument("--since", metavar="DATE")
    p.add_argument("--action", help="only actions starting with this, e.g. signin")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("retention", help="retention policies per audience and legal holds")
    rsub = p.add_subparsers(dest="retention_command", required=True)
    policy = rsub.add_parser("policy", help="keep an audience's posts DAYS days (or off)")
    policy.add_argument("audience")
    policy.add_argument("days", metavar="DAYS|off")
    hold = rsub.add_parser("hold", help="suspend deletion of a user's posts")
    hold.add_argument("user")
    hold.add_argument("--reason", default="")
    rsub.add_parser("release", help="end a legal hold").add_argument("user")
    rsub.add_parser("list", help="policies and holds")
    rsub.add_parser("run", help="delete expired posts now and federate the deletions")
    p.set_defaults(func=cmd_retention)

    p = sub.add_parser("export", help="write a user's archive, or the firm's for a date range")
    p.add_argument("--user", metavar="NAME")
    p.add_argument("--all", action="store_true", help="every local post of the date range")
    p.add_argument("--since", metavar="DATE")
    p.add_argument("--until", metavar="DATE")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import", help="follows and circles from an archive or a CSV file")
    p.add_argument("--user", required=True, metavar="NAME")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=cmd_import)
