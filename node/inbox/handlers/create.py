"""Create of a post: stored when it concerns someone here. A Create of a poll vote (a
named Note answering one of our Questions, as Mastodon sends votes) is counted instead.

Plain posts — public, unlisted and followers-only, the bulk of inbox traffic — are
stored a whole group-commit batch at a time (``apply_many``); votes, polls, posts for
chosen readers (node/inbox/restricted.py) and anything refused or ignored go through
``apply``.
"""

from __future__ import annotations

from typing import Any

from federation.vocab import Activity, APObject
from node.batch_io import BatchIO
from node.db.models import Actor
from node.inbox.handlers._objects import authored_by, embedded_or_fetched, object_not_embedded
from node.inbox.receipts import openly_addressed
from node.inbox.registry import InboxContext, InboxRefusal, handles
from node.inbox.restricted import store_received_post
from node.polls import looks_like_vote, receive_vote, store_remote_poll
from node.remote_posts import POST_TYPES, addressees
from node.remote_posts_bulk import store_remote_posts

NOT_STORED = "post concerns nobody here: not stored"
#: Addressees that may be groups hosted here (node/inbox/group_posts.py decides): such
#: posts are relayed by the group, so they are applied one by one.
GROUP_PATH = "/groups/"


def _plain_post(_activity: Activity, actor: Actor, obj: Any) -> bool:
    """What ``apply`` would hand straight to ``store_remote_post``, and nothing more."""
    return (
        isinstance(obj, APObject)
        and obj.type in POST_TYPES
        and authored_by(obj, actor)
        and obj.poll is None
        and not looks_like_vote(obj)
        and openly_addressed(obj, actor.followers_url)
        and not any(GROUP_PATH in a for a in (*obj.audience, *addressees(obj)))
    )


async def _apply_many(contexts: list[InboxContext], io: BatchIO) -> None:
    posts = [(ctx.prepared, ctx.actor) for ctx in contexts]
    kept = await store_remote_posts(contexts[0].db, io, posts)
    for ctx, stored in zip(contexts, kept, strict=True):
        if not stored:
            ctx.notes.append(NOT_STORED)


@handles(
    "Create",
    prepare=embedded_or_fetched,
    fetches=object_not_embedded,
    batchable=_plain_post,
    apply_many=_apply_many,
)
async def apply(ctx: InboxContext) -> None:
    obj = ctx.prepared
    if obj is None:
        raise InboxRefusal(422, "the created object is missing or cannot be fetched")
    if obj.type not in POST_TYPES:
        raise InboxRefusal(422, f"objects of type {obj.type} are not supported")
    if not authored_by(obj, ctx.actor):
        ctx.notes.append("create of an object attributed to someone else ignored")
        return
    if await receive_vote(ctx.db, obj, ctx.actor):
        ctx.notes.append("poll vote")
        return
    post = await store_received_post(ctx, obj)
    if post is None:
        if not ctx.notes:
            ctx.notes.append(NOT_STORED)
    elif obj.poll is not None:
        await store_remote_poll(ctx.db, post, obj.poll)
