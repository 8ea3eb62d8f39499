"""Company sign-in end to end: a real OpenID Connect provider (``oidc-provider-mock``)
on a loopback port, a real node, and HTTP driven the way a browser and a phone app do."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from oidc_provider_mock import run_server_in_thread
from sqlalchemy import select

from node.db.models import Actor, AuditEntry, User
from node.identity.config import OidcSettings
from tests.harness import NodeFactory, RunningNode

CLIENT_ID = "cercle-test"


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An OpenID provider on localhost; yields its issuer URL."""
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def expired_provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A provider whose ID tokens expired an hour before they were issued."""
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    with run_server_in_thread(access_token_max_age=timedelta(hours=-1)) as server:
        yield f"http://localhost:{server.server_port}"


def oidc_settings(issuer: str, **changes: Any) -> OidcSettings:
    values: dict[str, Any] = {
        "issuer": issuer,
        "client_id": CLIENT_ID,
        "client_secret": "s3cret",
        "allowed_domains": ("acme.example",),
        "role_claim": "groups",
        "admin_values": ("cercle-admins",),
    }
    values.update(changes)
    return OidcSettings(**values)


def browser() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def set_identity(
    session: aiohttp.ClientSession, issuer: str, sub: str, **claims: Any
) -> None:
    async with session.put(f"{issuer}/users/{sub}", json=claims) as response:
        assert response.status == 204


async def provider_approves(session: aiohttp.ClientSession, authorize_url: str, sub: str) -> str:
    """The person picks their account at the provider; returns where it sends them."""
    assert authorize_url.startswith("http://localhost:")
    async with session.post(authorize_url, data={"sub": sub}, allow_redirects=False) as response:
        assert response.status == 302, await response.text()
        return response.headers["Location"]


async def company_signin(
    session: aiohttp.ClientSession, node: RunningNode, sub: str
) -> aiohttp.ClientResponse:
    """Click "Sign in with your company account", approve at the provider, and follow
    the callback (not its redirect)."""
    async with session.get(f"{node.base_url}/signin") as response:
        assert "Sign in with your company account" in await response.text()
    async with session.get(f"{node.base_url}/signin/company", allow_redirects=False) as response:
        assert response.status == 303
        authorize_url = response.headers["Location"]
    callback = await provider_approves(session, authorize_url, sub)
    assert callback.startswith(f"{node.base_url}/auth/oidc/callback?")
    response = await session.get(callback, allow_redirects=False)
    await response.read()
    return response


async def user_row(node: RunningNode, username: str) -> tuple[User, Actor] | None:
    async with node.node.reads() as db:
        row = (
            await db.execute(
                select(User, Actor)
                .join(Actor, Actor.id == User.actor_id)
                .where(Actor.username == username, Actor.local.is_(True))
            )
        ).first()
    return (row[0], row[1]) if row else None


async def test_web_signin_creates_the_account_and_maps_the_admin_role(
    node_factory: NodeFactory, provider: str
):
    """First company sign-in makes the account (name from ``preferred_username``), maps
    the directory's admin group to the admin flag, signs the browser in, and is audited."""
    node = await node_factory.start("acme", users=(), oidc=oidc_settings(provider))
    async with browser() as session:
        await set_identity(
            session,
            provider,
            "erin-sub",
            email="erin@acme.example",
            preferred_username="erin",
            name="Erin Example",
            groups=["staff", "cercle-admins"],
        )
        response = await company_signin(session, node, "erin-sub")
        assert response.status == 303
        assert response.headers["Location"] == "/home"
        async with session.get(f"{node.base_url}/home", allow_redirects=False) as home:
            assert home.status == 200
            assert "erin" in await home.text()
        # The callback cannot be replayed: its state is used up.
        async with session.get(str(response.url), allow_redirects=False) as replay:
            assert replay.status == 401
            assert "expired or was already used" in await replay.text()

    found = await user_row(node, "erin")
    assert found is not None
    user, actor = found
    assert user.is_admin and user.email == "erin@acme.example"
    assert actor.display_name == "Erin Example"
    async with node.node.reads() as db:
        actions = list(
            await db.scalars(select(AuditEntry.action).where(AuditEntry.target == "erin"))
        )
    assert "signin.oidc" in actions

    # A second sign-in finds the same account by its subject; dropping the admin group
    # in the directory drops the admin flag.
    async with browser() as session:
        await set_identity(
            session, provider, "erin-sub", email="erin@acme.example", groups=["staff"]
        )
        response = await company_signin(session, node, "erin-sub")
        assert response.status == 303
    user, _ = await user_row(node, "erin") or (None, None)
    assert user is not None and not user.is_admin


async def test_a_domain_outside_the_company_is_refused(node_factory: NodeFactory, provider: str):
    """An identity whose e-mail domain is not allowed gets a readable refusal, no account
    and no session; the refusal is audited."""
    node = await node_factory.start("acme", users=(), oidc=oidc_settings(provider))
    async with browser() as session:
        await set_identity(
            session,
            provider,
            "mallory-sub",
            email="mallory@evil.example",
            preferred_username="mallory",
        )
        response = await company_signin(session, node, "mallory-sub")
        assert response.status == 401
        assert "Accounts of evil.example cannot sign in here." in await response.text()
        async with session.get(f"{node.base_url}/home", allow_redirects=False) as home:
            assert home.status in (302, 303)
    assert await user_row(node, "mallory") is None
    async with node.node.reads() as db:
        refused = await db.scalar(select(AuditEntry).where(AuditEntry.action == "signin.refused"))
    assert refused is not None and refused.target == "mallory@evil.example"


async def test_an_expired_id_token_is_refused_and_sso_only_turns_passwords_off(
    node_factory: NodeFactory, expired_provider: str
):
    """A signature-valid ID token past its ``exp`` is refused. In SSO-only mode the
    sign-in page has no password form and the password grant is refused."""
    node = await node_factory.start(
        "acme", users=("alice",), oidc=oidc_settings(expired_provider, sso_only=True)
    )
    async with browser() as session:
        await set_identity(session, expired_provider, "erin-sub", email="erin@acme.example")
        response = await company_signin(session, node, "erin-sub")
        assert response.status == 401
        assert "The ID token has expired" in await response.text()
        async with session.get(f"{node.base_url}/signin") as page:
            assert 'type="password"' not in await page.text()
        async with session.post(
            f"{node.base_url}/api/v1/apps",
            json={"client_name": "script", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
        ) as r:
            app = await r.json()
        async with session.post(
            f"{node.base_url}/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": "alice",
                "password": "correct horse battery",
            },
        ) as r:
            assert r.status == 400
            assert (await r.json())["error"] == "invalid_grant"
    assert await user_row(node, "erin") is None


async def test_a_phone_app_signs_in_with_the_company_account(
    node_factory: NodeFactory, provider: str
):
    """The Mastodon OAuth flow: the app opens /oauth/authorize, the person chooses the
    company account, and the app receives its code and trades it (PKCE) for a token."""
    node = await node_factory.start("acme", users=(), oidc=oidc_settings(provider))
    redirect_uri = "com.example.app://oauth"
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    async with browser() as session:
        await set_identity(
            session, provider, "fay-sub", email="fay@acme.example", preferred_username="fay"
        )
        async with session.post(
            f"{node.base_url}/api/v1/apps",
            json={"client_name": "Phone", "redirect_uris": redirect_uri, "scopes": "read write"},
        ) as r:
            app = await r.json()
        query = {
            "response_type": "code",
            "client_id": app["client_id"],
            "redirect_uri": redirect_uri,
            "scope": "read",
            "state": "xyz",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        async with session.get(f"{node.base_url}/oauth/authorize", params=query) as page:
            html = await page.text()
        assert "Sign in with your company account" in html
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
        async with session.post(
            f"{node.base_url}/oauth/authorize",
            data={**fields, "decision": "sso"},
            allow_redirects=False,
        ) as r:
            assert r.status == 303, await r.text()
            authorize_url = r.headers["Location"]
        callback = await provider_approves(session, authorize_url, "fay-sub")
        async with session.get(callback, allow_redirects=False) as r:
            assert r.status == 303, await r.text()
            location = r.headers["Location"]
        assert location.startswith(redirect_uri + "?")
        answer = parse_qs(urlsplit(location).query)
        assert answer["state"] == ["xyz"]
        async with session.post(
            f"{node.base_url}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": answer["code"][0],
                "redirect_uri": redirect_uri,
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "code_verifier": verifier,
            },
        ) as r:
            assert r.status == 200, await r.text()
            token = (await r.json())["access_token"]
        async with session.get(
            f"{node.base_url}/api/v1/accounts/verify_credentials",
            headers={"Authorization": f"Bearer {token}"},
        ) as r:
            assert (await r.json())["username"] == "fay"
