"""OAuth2 end to end over real HTTP against a real node: app registration, the
authorization-code flow with PKCE driven as a browser drives it, the password, client
credentials and refresh grants, revocation, scopes, and the discovery document."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select, update

from node.accounts import set_disabled
from node.api.auth import hash_secret, require_user
from node.api.oauth import LOGIN_THROTTLE, LoginThrottle
from node.api.routing import route
from node.app import create_app
from node.context import transaction
from node.db.models import OAuthApp, OAuthCode, OAuthToken, User
from node.db.types import utcnow
from node.oauth import pkce_matches
from tests.harness import PASSWORD, NodeFactory, RunningNode, bind_loopback

pytestmark = pytest.mark.timeout(60)

OOB = "urn:ietf:wg:oauth:2.0:oob"


# --- helpers ------------------------------------------------------------------------


class FormReader(HTMLParser):
    """The inputs of the page's form, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.action: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = values.get("action")
        elif tag == "input" and values.get("name") and values.get("type") != "password":
            self.fields[values["name"]] = values.get("value", "")


def read_form(html: str) -> dict[str, str]:
    reader = FormReader()
    reader.feed(html)
    assert reader.action == "/oauth/authorize", html
    return reader.fields


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Callback:
    """A stand-in for the app's redirect page on loopback: records what it was sent."""

    url: str
    received: list[dict[str, str]]


@pytest.fixture
async def callback() -> AsyncIterator[Callback]:
    received: list[dict[str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        received.append(dict(request.query))
        return web.Response(text="app got it")

    app = web.Application()
    app.router.add_get("/callback", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = bind_loopback()
    port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    try:
        yield Callback(url=f"http://127.0.0.1:{port}/callback", received=received)
    finally:
        await runner.cleanup()


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    """A cookie-keeping client; ``unsafe`` lets the jar keep cookies of an IP host."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def register(
    http: aiohttp.ClientSession,
    node: RunningNode,
    *,
    redirect_uris: Any = OOB,
    scopes: str = "read write follow push",
) -> dict[str, Any]:
    async with http.post(
        node.base_url + "/api/v1/apps",
        data={"client_name": "Test <App>", "redirect_uris": redirect_uris, "scopes": scopes},
    ) as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def token_request(
    http: aiohttp.ClientSession, node: RunningNode, **form: str
) -> tuple[int, dict[str, Any]]:
    async with http.post(node.base_url + "/oauth/token", data=form) as r:
        return r.status, await r.json()


async def password_grant(
    http: aiohttp.ClientSession, node: RunningNode, app: dict[str, Any], username: str, **kw: str
) -> tuple[int, dict[str, Any]]:
    return await token_request(
        http,
        node,
        grant_type="password",
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        username=username,
        password=kw.pop("password", PASSWORD),
        scope=kw.pop("scope", "read write"),
    )


async def api_status(
    http: aiohttp.ClientSession, node: RunningNode, token: str, path: str, method: str = "GET"
) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.request(method, node.base_url + path, headers=headers) as r:
        return r.status


async def open_page(
    browser: aiohttp.ClientSession, node: RunningNode, **query: str
) -> tuple[int, str]:
    async with browser.get(node.base_url + "/oauth/authorize", params=query) as r:
        return r.status, await r.text()


async def submit(
    browser: aiohttp.ClientSession,
    node: RunningNode,
    fields: dict[str, str],
    *,
    follow: bool = False,
    **extra: str,
) -> aiohttp.ClientResponse:
    r = await browser.post(
        node.base_url + "/oauth/authorize", data={**fields, **extra}, allow_redirects=follow
    )
    await r.read()
    return r


async def authorization_code(
    browser: aiohttp.ClientSession,
    node: RunningNode,
    app: dict[str, Any],
    redirect_uri: str,
    challenge: str,
    method: str = "S256",
) -> str:
    """Drive the page to a code: shown on a page for oob, else in the Location header
    (not followed)."""
    status, html = await open_page(
        browser,
        node,
        response_type="code",
        client_id=app["client_id"],
        redirect_uri=redirect_uri,
        scope="read write",
        code_challenge=challenge,
        code_challenge_method=method,
    )
    assert status == 200, html
    r = await submit(
        browser, node, read_form(html), username="alice", password=PASSWORD, decision="approve"
    )
    if redirect_uri == OOB:
        assert r.status == 200, r.status
        return shown_code(await r.text())
    assert r.status == 302, r.status
    return parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]


def shown_code(page: str) -> str:
    found = re.search(r'id="code" value="([A-Za-z0-9_-]{40,})"', page)
    assert found is not None, page
    return found.group(1)


async def stored_token(node: RunningNode, access_token: str) -> OAuthToken:
    async with node.node.reads() as db:
        row = await db.scalar(
            select(OAuthToken).where(OAuthToken.token_hash == hash_secret(access_token))
        )
    assert row is not None
    return row


async def user_id(node: RunningNode, username: str) -> int:
    actor = await node.actor(username)
    async with node.node.reads() as db:
        found = await db.scalar(select(User.id).where(User.actor_id == actor.id))
    assert found is not None
    return found


# --- app registration ---------------------------------------------------------------


async def test_register_app_returns_credential_application_and_keeps_only_a_hash(
    node_a: RunningNode, http: aiohttp.ClientSession
) -> None:
    """POST /api/v1/apps answers with the CredentialApplication entity; the database holds
    a hash of the secret, never the secret."""
    app = await register(http, node_a, redirect_uris="https://app.example/cb\nmyapp://oauth")
    assert app["name"] == "Test <App>"
    assert app["scopes"] == ["read", "write", "follow", "push"]
    assert app["redirect_uris"] == ["https://app.example/cb", "myapp://oauth"]
    assert app["redirect_uri"] == "https://app.example/cb\nmyapp://oauth"
    assert app["client_secret_expires_at"] == 0
    assert isinstance(app["id"], str) and "vapid_key" in app and app["website"] is None
    async with node_a.node.reads() as db:
        row = await db.scalar(select(OAuthApp).where(OAuthApp.client_id == app["client_id"]))
    assert row is not None
    assert row.client_secret_hash == hash_secret(app["client_secret"])
    assert app["client_secret"] not in (row.client_secret_hash, row.client_id)


async def test_register_app_accepts_json_arrays_and_defaults_to_read(
    node_a: RunningNode, http: aiohttp.ClientSession
) -> None:
    """Mastodon 4.3 clients send JSON with an array of redirect URIs and may omit scopes."""
    body = {
        "client_name": "Json",
        "redirect_uris": ["https://a.example/1", "https://a.example/2"],
        "website": "https://a.example",
    }
    async with http.post(node_a.base_url + "/api/v1/apps/", json=body) as r:
        assert r.status == 200
        app = await r.json()
    assert app["redirect_uris"] == body["redirect_uris"]
    assert app["scopes"] == ["read"]
    assert app["website"] == "https://a.example"


async def test_register_app_rejects_invalid_input_with_422(
    node_a: RunningNode, http: aiohttp.ClientSession
) -> None:
    """Missing name or redirect URIs, unknown scopes, and redirect URIs that are not
    absolute, run script, or carry a fragment."""
    for form in (
        {"redirect_uris": OOB},
        {"client_name": "x"},
        {"client_name": "x", "redirect_uris": OOB, "scopes": "read launch:missiles"},
        {"client_name": "x", "redirect_uris": "not-absolute"},
        {"client_name": "x", "redirect_uris": "javascript:alert(1)"},
        {"client_name": "x", "redirect_uris": "https://a.example/cb#frag"},
        {"client_name": "x", "redirect_uris": OOB, "website": "ftp://a.example"},
    ):
        async with http.post(node_a.base_url + "/api/v1/apps", data=form) as r:
            assert r.status == 422, form
            body = await r.json()
        assert body["error"].startswith("Validation failed"), body


async def test_verify_app_credentials_with_user_and_app_tokens(
    node_a: RunningNode, http: aiohttp.ClientSession
) -> None:
    """Any valid token shows its app (no scope needed since 4.3); none or a bad one is 401."""
    app = await register(http, node_a)
    _, user_token = await password_grant(http, node_a, app, "alice", scope="write")
    _, app_token = await token_request(
        http,
        node_a,
        grant_type="client_credentials",
        client_id=app["client_id"],
        client_secret=app["client_secret"],
    )
    for token in (user_token["access_token"], app_token["access_token"]):
        async with http.get(
            node_a.base_url + "/api/v1/apps/verify_credentials",
            headers={"Authorization": f"Bearer {token}"},
        ) as r:
            assert r.status == 200
            shown = await r.json()
        assert shown["name"] == "Test <App>"
        assert "client_secret" not in shown
    async with http.get(node_a.base_url + "/api/v1/apps/verify_credentials") as r:
        assert r.status == 401
    assert await api_status(http, node_a, "nope", "/api/v1/apps/verify_credentials") == 401


# --- the authorization-code flow ------------------------------------------------------


async def test_authorization_code_flow_with_pkce_as_a_browser(
    node_a: RunningNode,
    browser: aiohttp.ClientSession,
    http: aiohttp.ClientSession,
    callback: Callback,
) -> None:
    """The whole flow: the page, the signed-in approval, the redirect, the exchange."""
    # Given an app registered with a redirect page and a PKCE pair
    app = await register(http, node_a, redirect_uris=callback.url)
    verifier, challenge = pkce_pair()
    # When the browser opens the authorization page
    status, html = await open_page(
        browser,
        node_a,
        response_type="code",
        client_id=app["client_id"],
        redirect_uri=callback.url,
        scope="read write",
        state="xyz-123",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    # Then it names the app (escaped) and the scopes, and carries a CSRF token
    assert status == 200
    assert "Test &lt;App&gt;" in html and "Test <App>" not in html
    assert "read all your data" in html and "change all your data" in html
    fields = read_form(html)
    assert fields["csrf_token"] and fields["state"] == "xyz-123"
    # When alice signs in (her user name, any case) and approves, following redirects
    r = await submit(
        browser,
        node_a,
        fields,
        follow=True,
        username="Alice",
        password=PASSWORD,
        decision="approve",
    )
    # Then the app's page receives the code and the state
    assert r.status == 200 and callback.received
    received = callback.received[-1]
    assert received["state"] == "xyz-123"
    # When the app exchanges the code with the verifier
    status, body = await token_request(
        http,
        node_a,
        grant_type="authorization_code",
        code=received["code"],
        redirect_uri=callback.url,
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        code_verifier=verifier,
    )
    # Then it holds a token for alice with the approved scopes
    assert status == 200, body
    assert body["token_type"] == "Bearer" and body["scope"] == "read write"
    assert isinstance(body["created_at"], int) and body["refresh_token"]
    row = await stored_token(node_a, body["access_token"])
    assert row.user_id == await user_id(node_a, "alice")
    # And the code cannot be used a second time; that reuse revokes what it granted
    status, again = await token_request(
        http,
        node_a,
        grant_type="authorization_code",
        code=received["code"],
        redirect_uri=callback.url,
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        code_verifier=verifier,
    )
    assert (status, again["error"]) == (400, "invalid_grant")
    check = "/api/v1/apps/verify_credentials"
    assert await api_status(http, node_a, body["access_token"], check) == 401
    assert (await stored_token(node_a, body["access_token"])).revoked_at is not None


async def test_wrong_verifier_and_missing_verifier_are_invalid_grant(
    node_a: RunningNode, browser: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    """A code bound to a challenge needs the matching verifier; a failed try uses it up."""
    app = await register(http, node_a)
    verifier, challenge = pkce_pair()
    code = await authorization_code(browser, node_a, app, OOB, challenge)
    base = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": OOB,
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
    }
    status, body = await token_request(http, node_a, **base, code_verifier=pkce_pair()[0])
    assert (status, body["error"]) == (400, "invalid_grant")
    status, body = await token_request(http, node_a, **base, code_verifier=verifier)
    assert (status, body["error"]) == (400, "invalid_grant"), "the failed try used the code"

    code = await authorization_code(browser, node_a, app, OOB, challenge)
    status, body = await token_request(http, node_a, **{**base, "code": code})
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_plain_pkce_and_http_basic_client_auth(
    node_a: RunningNode, browser: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    app = await register(http, node_a)
    verifier = secrets.token_urlsafe(48)
    code = await authorization_code(browser, node_a, app, OOB, verifier, method="plain")
    # RFC 6749 section 2.3.1: each part form-encoded, then base64
    pair = f"{quote_plus(app['client_id'])}:{quote_plus(app['client_secret'])}"
    basic = "Basic " + base64.b64encode(pair.encode()).decode()
    async with http.post(
        node_a.base_url + "/oauth/token",
        headers={"Authorization": basic},
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": OOB,
            "code_verifier": verifier,
        },
    ) as r:
        assert r.status == 200, await r.text()
        assert r.headers["Cache-Control"] == "no-store"


async def test_code_for_another_redirect_uri_or_expired_is_refused(
    node_a: RunningNode, browser: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    app = await register(http, node_a, redirect_uris=f"{OOB} https://app.example/cb")
    verifier, challenge = pkce_pair()
    base = {
        "grant_type": "authorization_code",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "code_verifier": verifier,
    }
    code = await authorization_code(browser, node_a, app, OOB, challenge)
    status, body = await token_request(
        http, node_a, **base, code=code, redirect_uri="https://app.example/cb"
    )
    assert (status, body["error"]) == (400, "invalid_grant")

    code = await authorization_code(browser, node_a, app, OOB, challenge)
    async with transaction(node_a.node) as db:
        await db.execute(
            update(OAuthCode)
            .where(OAuthCode.code_hash == hash_secret(code))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    status, body = await token_request(http, node_a, **base, code=code, redirect_uri=OOB)
    assert (status, body["error"]) == (400, "invalid_grant")
    assert "expired" in body["error_description"]


async def test_codes_are_stored_hashed_with_a_ten_minute_expiry(
    node_a: RunningNode, browser: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    app = await register(http, node_a)
    code = await authorization_code(browser, node_a, app, OOB, pkce_pair()[1])
    async with node_a.node.reads() as db:
        row = await db.get(OAuthCode, hash_secret(code))
    assert row is not None and not row.used
    assert timedelta(minutes=9) < row.expires_at - utcnow() <= timedelta(minutes=10)


async def test_oob_shows_the_code_on_a_page(
    node_a: RunningNode, browser: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    app = await register(http, node_a)
    status, html = await open_page(
        browser, node_a, response_type="code", client_id=app["client_id"], redirect_uri=OOB
    )
    assert status == 200
    r = await submit(
        browser, node_a, read_form(html), username="alice", password=PASSWORD, decision="approve"
    )
    page = await r.text()
    assert r.status == 200 and r.headers["Cache-Control"] == "no-store"
    status, body = await token_request(
        http,
        node_a,
        grant_type="authorization_code",
        code=shown_code(page),
        redirect_uri=OOB,
        client_id=app["client_id"],
        client_secret=app["client_secret"],
    )
    assert status == 200 and body["scope"] == "read", body


async def test_wrong_password_rerenders_the_form_with_401(
    node_a: RunningNode, browser: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    """No redirect, a readable message, the login kept (escaped), the password not echoed."""
    app = await register(http, node_a, redirect_uris="https://app.example/cb")
    _, html = await open_page(
        browser,
        node_a,
        response_type="code",
        client_id=app["client_id"],
        redirect_uri="https://app.example/cb",
    )
    fields = read_form(html)
    r = await submit(
        browser, node_a, fields, username='al"<b>', password="wrong-horse", decision="approve"
    )
    page = await r.text()
    assert r.status == 401 and "Location" not in r.headers
    assert "Wrong user name, e-mail address or password" in page
    assert "wrong-horse" not in page
    assert 'al"<b>' not in page and "al&#34;&lt;b&gt;" in page
    assert read_form(page)["csrf_token"] == fields["csrf_token"]


async def test_disabled_user_cannot_authorize(
    node_a: RunningNode, browser: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    async with transaction(node_a.node) as db:
        await set_disabled(db, "carol")
    app = await register(http, node_a)
    _, html = await open_page(
        browser, node_a, response_type="code", client_id=app["client_id"], redirect_uri=OOB
    )
    r = await submit(
        browser, node_a, read_form(html), username="carol", password=PASSWORD, decision="approve"
    )
    assert r.status == 401 and "disabled" in await r.text()


async def test_form_without_its_csrf_cookie_or_token_is_refused(
    node_a: RunningNode, browser: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    """A form posted from another site (no cookie) or with a forged token issues no code."""
    app = await register(http, node_a, redirect_uris="https://app.example/cb")
    _, html = await open_page(
        browser,
        node_a,
        response_type="code",
        client_id=app["client_id"],
        redirect_uri="https://app.example/cb",
    )
    fields = read_form(html)
    credentials = {"username": "alice", "password": PASSWORD, "decision": "approve"}
    r = await submit(http, node_a, fields, **credentials)  # a client without the cookie
    assert r.status == 403 and "Location" not in r.headers
    r = await submit(browser, node_a, {**fields, "csrf_token": "0" * 64}, **credentials)
    assert r.status == 403 and "Location" not in r.headers
    r = await submit(browser, node_a, fields, **credentials)
    assert r.status == 302


async def test_deny_redirects_with_access_denied_and_the_state(
    node_a: RunningNode, browser: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    app = await register(http, node_a, redirect_uris="myapp://cb?keep=1")
    _, html = await open_page(
        browser,
        node_a,
        response_type="code",
        client_id=app["client_id"],
        redirect_uri="myapp://cb?keep=1",
        state="s1",
    )
    r = await submit(browser, node_a, read_form(html), decision="deny")
    assert r.status == 302
    location = urlsplit(r.headers["Location"])
    query = parse_qs(location.query)
    assert location.scheme == "myapp"
    assert query["error"] == ["access_denied"] and query["state"] == ["s1"]
    assert query["keep"] == ["1"] and "code" not in query


async def test_bad_authorization_requests(
    node_a: RunningNode, browser: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    """Unknown client or unregistered redirect URI: an error page, never a redirect (an
    open redirector otherwise). A scope beyond the app's: redirected as invalid_scope."""
    app = await register(http, node_a, redirect_uris="https://app.example/cb", scopes="read")
    async with browser.get(
        node_a.base_url + "/oauth/authorize",
        params={"response_type": "code", "client_id": "nope", "redirect_uri": "https://evil/"},
        allow_redirects=False,
    ) as r:
        assert r.status == 400 and "Location" not in r.headers
        assert r.content_type == "text/html"
    async with browser.get(
        node_a.base_url + "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": app["client_id"],
            "redirect_uri": "https://evil.example/",
        },
        allow_redirects=False,
    ) as r:
        assert r.status == 400 and "Location" not in r.headers
    for extra, error in (
        ({"scope": "write"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
    ):
        params = {
            "response_type": "code",
            "client_id": app["client_id"],
            "redirect_uri": "https://app.example/cb",
            "state": "st",
            **extra,
        }
        async with browser.get(
            node_a.base_url + "/oauth/authorize", params=params, allow_redirects=False
        ) as r:
            assert r.status == 302, extra
            query = parse_qs(urlsplit(r.headers["Location"]).query)
        assert query["error"] == [error] and query["state"] == ["st"]


async def test_authorization_page_cannot_be_framed(
    node_a: RunningNode, browser: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    app = await register(http, node_a)
    async with browser.get(
        node_a.base_url + "/oauth/authorize",
        params={"response_type": "code", "client_id": app["client_id"], "redirect_uri": OOB},
    ) as r:
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


# --- other grants -------------------------------------------------------------------


async def test_password_grant_with_user_name_or_email(
    node_a: RunningNode, http: aiohttp.ClientSession
) -> None:
    async with transaction(node_a.node) as db:
        actor = await node_a.actor("alice")
        await db.execute(
            update(User).where(User.actor_id == actor.id).values(email="Alice@Example.com")
        )
    app = await register(http, node_a)
    for login in ("alice", "alice@example.com", f"alice@{node_a.domain}"):
        status, body = await password_grant(http, node_a, app, login)
        assert status == 200, (login, body)
        assert body["scope"] == "read write"
        row = await stored_token(node_a, body["access_token"])
        assert row.user_id == await user_id(node_a, "alice")
    status, body = await password_grant(http, node_a, app, "alice", password="nope-nope")
    assert (status, body["error"]) == (400, "invalid_grant")
    status, body = await password_grant(http, node_a, app, "nobody")
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_password_grant_refuses_disabled_users_and_wider_scopes(
    node_a: RunningNode, http: aiohttp.ClientSession
) -> None:
    async with transaction(node_a.node) as db:
        await set_disabled(db, "carol")
    app = await register(http, node_a, scopes="read")
    status, body = await password_grant(http, node_a, app, "carol", scope="read")
    assert (status, body["error"]) == (400, "invalid_grant")
    status, body = await password_grant(http, node_a, app, "alice", scope="read write")
    assert (status, body["error"]) == (400, "invalid_scope")
    status, body = await password_grant(http, node_a, app, "alice", scope="read:statuses")
    assert status == 200 and body["scope"] == "read:statuses"


def test_login_throttle_counts_failures_per_login_and_per_address() -> None:
    throttle = LoginThrottle(per_login=2, per_address=3, window=60)
    throttle.failed("10.0.0.1", "Carol", now=0)
    assert throttle.retry_after("10.0.0.1", "carol", now=1) is None
    throttle.failed("10.0.0.1", "carol", now=1)
    assert throttle.retry_after("10.0.0.1", "carol", now=2) == 58
    assert throttle.retry_after("10.0.0.2", "carol", now=2) is None
    assert throttle.retry_after("10.0.0.1", "alice", now=2) is None
    throttle.failed("10.0.0.1", "alice", now=2)
    assert throttle.retry_after("10.0.0.1", "bob", now=3) == 57, "the address is spent"
    assert throttle.retry_after("10.0.0.1", "carol", now=61) is None, "the window ended"


async def test_repeated_wrong_passwords_are_throttled(
    node_a: RunningNode, http: aiohttp.ClientSession
) -> None:
    """After the allowed failures for one login from one address, 429 even with the right
    password; other logins from that address still work."""
    assert node_a.runner is not None
    node_a.runner.app[LOGIN_THROTTLE].per_login = 3
    app = await register(http, node_a)
    for _ in range(3):
        status, _body = await password_grant(http, node_a, app, "carol", password="wrong-one")
        assert status == 400
    async with http.post(
        node_a.base_url + "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": "carol",
            "password": PASSWORD,
            "scope": "read",
        },
    ) as r:
        assert r.status == 429 and int(r.headers["Retry-After"]) > 0
    status, _body = await password_grant(http, node_a, app, "alice")
    assert status == 200


def test_pkce_s256_matches_the_rfc_7636_example() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert pkce_matches(challenge, "S256", verifier)
    assert not pkce_matches(challenge, "plain", verifier)
    assert pkce_matches(verifier, "plain", verifier)
    assert not pkce_matches("short", "plain", "short"), "verifiers are 43 to 128 characters"


async def test_client_credentials_token_acts_for_no_user(
    node_a: RunningNode, http: aiohttp.ClientSession
) -> None:
    app = await register(http, node_a)
    status, body = await token_request(
        http,
        node_a,
        grant_type="client_credentials",
        client_id=app["client_id"],
        client_secret=app["client_secret"],
    )
    assert status == 200 and body["scope"] == "read" and "refresh_token" not in body
    assert (await stored_token(node_a, body["access_token"])).user_id is None


async def test_token_endpoint_errors(node_a: RunningNode, http: aiohttp.ClientSession) -> None:
    app = await register(http, node_a)
    status, body = await token_request(
        http,
        node_a,
        grant_type="client_credentials",
        client_id=app["client_id"],
        client_secret="wrong",
    )
    assert (status, body["error"]) == (401, "invalid_client")
    status, body = await token_request(http, node_a, grant_type="implicit")
    assert (status, body["error"]) == (400, "unsupported_grant_type")
    status, body = await token_request(http, node_a)
    assert (status, body["error"]) == (400, "invalid_request")
    async with http.post(
        node_a.base_url + "/oauth/token",
        json={"grant_type": "client_credentials", "client_id": app["client_id"]},
    ) as r:
        assert r.status == 401 and (await r.json())["error"] == "invalid_client"


async def test_refresh_rotates_and_revokes_the_old_pair(
    node_a: RunningNode, http: aiohttp.ClientSession
) -> None:
    app = await register(http, node_a)
    _, first = await password_grant(http, node_a, app, "alice")
    refresh = {
        "grant_type": "refresh_token",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
    }
    status, second = await token_request(
        http, node_a, **refresh, refresh_token=first["refresh_token"]
    )
    assert status == 200, second
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["scope"] == "read write"
    check = "/api/v1/apps/verify_credentials"
    assert await api_status(http, node_a, first["access_token"], check) == 401
    assert await api_status(http, node_a, second["access_token"], check) == 200
    status, body = await token_request(
        http, node_a, **refresh, refresh_token=first["refresh_token"]
    )
    assert (status, body["error"]) == (400, "invalid_grant")
    status, body = await token_request(
        http, node_a, **refresh, refresh_token=second["refresh_token"], scope="follow"
    )
    assert (status, body["error"]) == (400, "invalid_scope")
    status, third = await token_request(
        http, node_a, **refresh, refresh_token=second["refresh_token"], scope="read"
    )
    assert status == 200 and third["scope"] == "read"


async def test_revoke_then_401_and_revoke_is_idempotent(
    node_a: RunningNode, http: aiohttp.ClientSession
) -> None:
    app = await register(http, node_a)
    other = await register(http, node_a)
    _, issued = await password_grant(http, node_a, app, "alice")
    check = "/api/v1/apps/verify_credentials"
    assert await api_status(http, node_a, issued["access_token"], check) == 200

    async with http.post(
        node_a.base_url + "/oauth/revoke",
        data={
            "token": issued["access_token"],
            "client_id": other["client_id"],
            "client_secret": other["client_secret"],
        },
    ) as r:
        assert r.status == 403 and (await r.json())["error"] == "unauthorized_client"
    for _ in range(2):
        async with http.post(
            node_a.base_url + "/oauth/revoke",
            data={
                "token": issued["access_token"],
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
            },
        ) as r:
            assert r.status == 200 and await r.json() == {}
    assert await api_status(http, node_a, issued["access_token"], check) == 401
    status, body = await token_request(
        http,
        node_a,
        grant_type="refresh_token",
        refresh_token=issued["refresh_token"],
        client_id=app["client_id"],
        client_secret=app["client_secret"],
    )
    assert (status, body["error"]) == (400, "invalid_grant")


# --- scopes and discovery -------------------------------------------------------------


@pytest.fixture
async def probe_node(node_factory: NodeFactory) -> RunningNode:
    """A real node with one extra test-only route that needs ``write:statuses``."""

    async def probe(request: web.Request) -> web.Response:
        _, me = await require_user(request, "write:statuses")
        return web.json_response({"username": me.username})

    running = await node_factory.start("probe", users=("alice",))
    await node_factory.stop(running)
    app = create_app(running.settings)
    route(app, "POST", "/api/v1/test_probe", probe)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock: socket.socket = bind_loopback(running.port)
    await web.SockSite(runner, sock).start()
    running.runner = runner
    return running


async def test_scopes_are_enforced(probe_node: RunningNode, http: aiohttp.ClientSession) -> None:
    """A read token gets 403 on a write endpoint; write:statuses or write passes; a client
    token (no user) cannot act as a user; no token is 401."""
    app = await register(http, probe_node)
    results = {}
    for scope in ("read", "write:statuses", "write", "write:media"):
        _, issued = await password_grant(http, probe_node, app, "alice", scope=scope)
        results[scope] = await api_status(
            http, probe_node, issued["access_token"], "/api/v1/test_probe", "POST"
        )
    assert results == {"read": 403, "write:statuses": 200, "write": 200, "write:media": 403}
    _, client = await token_request(
        http,
        probe_node,
        grant_type="client_credentials",
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        scope="write",
    )
    assert (
        await api_status(http, probe_node, client["access_token"], "/api/v1/test_probe", "POST")
        == 422
    )
    async with http.post(probe_node.base_url + "/api/v1/test_probe") as r:
        assert r.status == 401


async def test_authorization_server_metadata(
    node_a: RunningNode, http: aiohttp.ClientSession
) -> None:
    async with http.get(node_a.base_url + "/.well-known/oauth-authorization-server") as r:
        assert r.status == 200
        meta = await r.json()
    base = node_a.base_url
    assert meta["issuer"] == base + "/"
    assert meta["authorization_endpoint"] == base + "/oauth/authorize"
    assert meta["token_endpoint"] == base + "/oauth/token"
    assert meta["revocation_endpoint"] == base + "/oauth/revoke"
    assert meta["app_registration_endpoint"] == base + "/api/v1/apps"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]
    assert {"authorization_code", "password", "client_credentials", "refresh_token"} == set(
        meta["grant_types_supported"]
    )
    assert {"read", "write", "follow", "push", "read:statuses"} <= set(meta["scopes_supported"])
    assert "client_secret_basic" in meta["token_endpoint_auth_methods_supported"]
