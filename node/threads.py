"""A post's thread: the posts it answers (ancestors) and the replies under it
(descendants), as one viewer may see them.

Both walks read rows first and decide visibility afterwards through the one visibility
function, so a hidden reply never shows and never leaks through its children's order.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from node.context import Node
from node.db.models import Actor, Post
from node.visibility import visible_posts
from node.web_sessions import actors_by_id

#: Thread sizes: enough for any real conversation, bounded for a page.
MAX_ANCESTORS = 200
MAX_DESCENDANTS = 500


@dataclass(frozen=True)
class ThreadEntry:
    """One post of a thread with its author and its depth under the focused post (0 for
    ancestors and the post itself), so a page can indent replies to replies."""

    post: Post
    author: Actor | None
    depth: int = 0


@dataclass(frozen=True)
class Thread:
    ancestors: list[ThreadEntry]
    focus: ThreadEntry
    descendants: list[ThreadEntry]


async def ancestors_of(node: Node, post: Post, limit: int) -> list[Post]:
    """The posts ``post`` answers, oldest first, up to ``limit`` (a reply cycle, which
    only broken peers make, ends the walk)."""
    found: list[Post] = []
    async with node.reads() as db:
        current = post
        while current.in_reply_to_id is not None and len(found) < limit:
            parent = await db.get(Post, current.in_reply_to_id)
            if parent is None or parent.id in {p.id for p in found}:
                break
            found.append(parent)
            current = parent
    return found[::-1]


async def replies_under(node: Node, post: Post, limit: int) -> list[tuple[Post, int]]:
    """Replies depth first, each level in the order written (Mastodon's order), with their
    depth below ``post`` (1 for a direct reply)."""
    children: dict[int, list[Post]] = {}
    frontier = [post.id]
    found = 0
    async with node.reads() as db:
        while frontier and found < limit:
            rows = list(
                await db.scalars(
                    select(Post)
                    .where(Post.in_reply_to_id.in_(frontier), Post.deleted_at.is_(None))
                    .order_by(Post.id)
                    .limit(limit - found)
                )
            )
            for reply in rows:
                children.setdefault(reply.in_reply_to_id or 0, []).append(reply)
            found += len(rows)
            frontier = [r.id for r in rows]
    ordered: list[tuple[Post, int]] = []
    stack = [(reply, 1) for reply in reversed(children.get(post.id, []))]
    while stack:
        reply, depth = stack.pop()
        ordered.append((reply, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(reply.id, [])))
    return ordered


async def thread_of(node: Node, viewer: Actor | None, post: Post) -> Thread:
    """The thread around ``post`` (which the caller already checked ``viewer`` may see).

    A reply the viewer may not see is dropped with everything under it: showing its
    children would reveal that it exists and what it answered. (The client API's context
    keeps Mastodon's rule instead: each reply shown or not on its own.)"""
    ancestors = await ancestors_of(node, post, MAX_ANCESTORS)
    descendants = await replies_under(node, post, MAX_DESCENDANTS)
    async with node.reads() as db:
        shown = {
            p.id
            for p in await visible_posts(db, viewer, [*ancestors, *(p for p, _ in descendants)])
        }
        authors = await actors_by_id(
            db,
            {
                post.actor_id,
                *(p.actor_id for p in ancestors),
                *(p.actor_id for p, _ in descendants),
            },
        )
    kept: list[ThreadEntry] = []
    hidden_below: int | None = None
    for reply, depth in descendants:
        if hidden_below is not None and depth > hidden_below:
            continue
        hidden_below = None
        if reply.id not in shown:
            hidden_below = depth
            continue
        kept.append(ThreadEntry(reply, authors.get(reply.actor_id), depth))
    return Thread(
        ancestors=[ThreadEntry(p, authors.get(p.actor_id)) for p in ancestors if p.id in shown],
        focus=ThreadEntry(post, authors.get(post.actor_id)),
        descendants=kept,
    )


async def author_of(node: Node, post: Post) -> Actor | None:
    async with node.reads() as db:
        return await db.get(Actor, post.actor_id)
