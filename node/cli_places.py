"""``cercle site add|list|remove|assign``: the firm's sites, managed by the admin."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from node.context import Node, transaction
from node.places import add_site, assign, list_sites, remove_site


def cmd_site(args: argparse.Namespace) -> int:
    from node.cli import _settings, _with_node

    settings = _settings()

    async def work(node: Node) -> Any:
        verb = args.site_command
        if verb == "list":
            async with node.reads() as db:
                sites = await list_sites(db)
            for site, people in sites:
                print(
                    f"{site.id}\t{site.name}\t{site.latitude:.6f},{site.longitude:.6f}"
                    f"\t{site.radius_m:g} m\t{people} people"
                )
            if not sites:
                print("no sites yet")
            return
        async with transaction(node) as db:
            if verb == "add":
                site = await add_site(
                    db,
                    args.name,
                    args.latitude,
                    args.longitude,
                    radius_m=args.radius,
                    description=args.description,
                )
                print(f"added site {site.name} (id {site.id})")
            elif verb == "remove":
                site = await remove_site(db, args.site)
                print(f"removed site {site.name}")
            elif verb == "assign":
                found = await assign(db, args.user, None if args.none else args.site)
                print(f"{args.user}: {'no site' if found is None else f'works at {found.name}'}")

    asyncio.run(_with_node(settings, work))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    site = sub.add_parser("site", help="the firm's sites (offices, plants, regions)")
    verbs = site.add_subparsers(dest="site_command", required=True)
    p = verbs.add_parser("add", help="add a site")
    p.add_argument("name")
    p.add_argument("--latitude", required=True, help="decimal degrees, e.g. 45.764")
    p.add_argument("--longitude", required=True, help="decimal degrees, e.g. 4.8357")
    p.add_argument("--radius", default="500", help="metres from the centre (default 500)")
    p.add_argument("--description", default="")
    verbs.add_parser("list", help="list the sites and how many people work at each")
    p = verbs.add_parser("remove", help="remove a site (posts keep their place)")
    p.add_argument("site", help="the site's id or name")
    p = verbs.add_parser("assign", help="set a person's home site")
    p.add_argument("user")
    p.add_argument("site", nargs="?", help="the site's id or name")
    p.add_argument("--none", action="store_true", help="clear the person's home site")
    site.set_defaults(func=_checked)


def _checked(args: argparse.Namespace) -> int:
    from node.cli import CommandError

    if args.site_command == "assign" and not args.none and not args.site:
        raise CommandError("give the site (its id or name), or --none to clear it")
    return cmd_site(args)
