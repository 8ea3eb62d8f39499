"""Client-API fixtures: a real node and authenticated HTTP clients against it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from node.api.auth import hash_secret, new_secret
from node.context import transaction
from node.db.models import OAuthApp, OAuthToken, User
from tests.harness import NodeFactory, RunningNode


@dataclass
class ApiClient:
    """An HTTP client for one user's token, as a Mastodon app would hold it."""

    node: RunningNode
    session: aiohttp.ClientSession
    token: str | None

    def url(self, path: str) -> str:
        return self.node.base_url + path

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    async def call(
        self, method: str, path: str, *, expect: int | None = 200, **kwargs: Any
    ) -> tuple[int, Any, aiohttp.typedefs.LooseHeaders]:
        headers = self.headers(kwargs.pop("headers", None))
        async with self.session.request(method, self.url(path), headers=headers, **kwargs) as r:
            body = await r.json(content_type=None) if r.content_length != 0 else None
            if expect is not None:
                assert r.status == expect, (method, path, r.status, body)
            return r.status, body, r.headers

    async def get(self, path: str, **kwargs: Any) -> Any:
        return (await self.call("GET", path, **kwargs))[1]

    async def post(self, path: str, **kwargs: Any) -> Any:
        return (await self.call("POST", path, **kwargs))[1]

    async def put(self, path: str, **kwargs: Any) -> Any:
        return (await self.call("PUT", path, **kwargs))[1]

    async def patch(self, path: str, **kwargs: Any) -> Any:
        return (await self.call("PATCH", path, **kwargs))[1]

    async def delete(self, path: str, **kwargs: Any) -> Any:
        return (await self.call("DELETE", path, **kwargs))[1]


async def issue_token(
    node: RunningNode, username: str, scopes: str = "read write follow push"
) -> str:
    """A token as the OAuth flow would grant it (the flow itself has its own tests)."""
    actor = await node.actor(username)
    token = new_secret()
    async with transaction(node.node) as db:
        user = await db.scalar(select(User).where(User.actor_id == actor.id))
        assert user is not None
        app = OAuthApp(
            client_id=new_secret(),
            client_secret_hash=hash_secret(new_secret()),
            name="test app",
            redirect_uris="urn:ietf:wg:oauth:2.0:oob",
            scopes=scopes,
        )
        db.add(app)
        await db.flush()
        db.add(
            OAuthToken(token_hash=hash_secret(token), app_id=app.id, user_id=user.id, scopes=scopes)
        )
    return token


ClientFactory = Callable[..., Awaitable[ApiClient]]


@pytest.fixture
async def api(node_factory: NodeFactory) -> AsyncIterator[ClientFactory]:
    """``await api(node, "alice")`` → a client holding a token for alice on that node."""
    session = aiohttp.ClientSession()

    async def make(
        node: RunningNode, username: str | None, scopes: str = "read write follow push"
    ) -> ApiClient:
        token = await issue_token(node, username, scopes) if username else None
        return ApiClient(node=node, session=session, token=token)

    try:
        yield make
    finally:
        await session.close()
