"""A hashtag's page: its public posts, newest first, checked again against the reader
through the visibility rules (as every timeline read is)."""

from __future__ import annotations

from dataclasses import dataclass

from node.context import Node
from node.db.models import Actor, Post
from node.follows import Page
from node.timelines import normalise_tag, tag_page
from node.visibility import visible_posts


@dataclass(frozen=True)
class TagPage:
    tag: str
    posts: list[Post]
    #: the id to page on from (``max_id``) when the page was full, else None
    older: int | None


async def hashtag_page(node: Node, viewer: Actor | None, tag: str, page: Page) -> TagPage:
    name = normalise_tag(tag)
    async with node.reads() as db:
        found = await tag_page(db, name, page) if name else []
        shown = await visible_posts(db, viewer, found)
    older = found[-1].id if found and len(found) == page.limit else None
    return TagPage(tag=name, posts=shown, older=older)
