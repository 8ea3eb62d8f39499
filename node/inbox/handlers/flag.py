"""Flag: a peer's report about our accounts and posts, stored for our admins (Mastodon's
shape: ``object`` lists the account ids and post ids, ``content`` is the comment)."""

from __future__ import annotations

from node.inbox.registry import InboxContext, handles
from node.moderation.reports import receive_flag


@handles("Flag")
async def apply(ctx: InboxContext) -> None:
    # ``object`` is a list here: the parsed activity keeps its first id only.
    listed = ctx.activity.raw.get("object")
    uris = [listed] if isinstance(listed, str) else list(listed or [])
    ids = [u if isinstance(u, str) else u.get("id") for u in uris if isinstance(u, (str, dict))]
    content = ctx.activity.raw.get("content")
    stored = await receive_flag(
        ctx.db,
        ctx.actor,
        ctx.activity.id,
        [i for i in ids if isinstance(i, str)],
        content if isinstance(content, str) else "",
    )
    if not stored:
        ctx.notes.append("flag about no local account ignored")
