"""OAuth scopes as Mastodon defines them: top-level scopes grant their sub-scopes, and
the legacy ``follow`` scope grants the relationship sub-scopes."""

from __future__ import annotations

TOP_LEVEL = ("read", "write", "follow", "push", "profile", "admin:read", "admin:write")
SUB_SCOPES = {
    "read": (
        "accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists",
        "mutes", "notifications", "search", "statuses",
    ),
    "write": (
        "accounts", "blocks", "bookmarks", "conversations", "favourites", "filters",
        "follows", "lists", "media", "mutes", "notifications", "reports", "statuses",
    ),
}  # fmt: skip
FOLLOW_GRANTS = frozenset(
    {"read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes"}
)
ALL_SCOPES = frozenset(
    {*TOP_LEVEL, *(f"{top}:{sub}" for top, subs in SUB_SCOPES.items() for sub in subs)}
)


def parse_scopes(text: str | None, default: str = "read") -> list[str]:
    """Space- or plus-separated; raises ValueError naming an unknown scope."""
    scopes = [s for s in (text or default).replace("+", " ").split() if s]
    for scope in scopes:
        if scope not in ALL_SCOPES and not scope.startswith(("admin:read:", "admin:write:")):
            raise ValueError(f"unknown scope {scope!r}")
    return list(dict.fromkeys(scopes))


def grants(granted: str | list[str], required: str) -> bool:
    """Does a token with ``granted`` scopes allow an endpoint needing ``required``?"""
    have = set(granted.split() if isinstance(granted, str) else granted)
    if required in have:
        return True
    top = required.split(":", 1)[0]
    if top in have and ":" in required:
        return True
    if "follow" in have and required in FOLLOW_GRANTS:
        return True
    return required == "profile" and "read:accounts" in have


def subset(requested: list[str], allowed: str | list[str]) -> bool:
    """Each requested scope is allowed (directly or through its parent)."""
    return all(grants(allowed, scope) for scope in requested)
