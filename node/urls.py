"""The shape of every URL this node mints. Ids are stable: never change these paths."""

from __future__ import annotations

ORG_USERNAME = "org"
RESERVED_USERNAMES = frozenset(
    {"org", "actor", "api", "inbox", "users", "groups", "oauth", "static", "well-known"}
)


class Urls:
    """Builds absolute URLs from the node's base URL."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def user(self, username: str) -> str:
        return f"{self.base}/users/{username}"

    def profile(self, username: str) -> str:
        return f"{self.base}/@{username}"

    def org(self) -> str:
        return f"{self.base}/org"

    def app_actor(self) -> str:
        return f"{self.base}/actor"

    def group(self, name: str) -> str:
        return f"{self.base}/groups/{name}"

    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    def status(self, actor_uri: str, post_id: int) -> str:
        return f"{actor_uri}/statuses/{post_id}"

    def status_html(self, username: str, post_id: int) -> str:
        return f"{self.base}/@{username}/{post_id}"

    def activity(self, activity_id: int) -> str:
        return f"{self.base}/activities/{activity_id}"
