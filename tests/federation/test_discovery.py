"""What peers read without an account: WebFinger, NodeInfo, actor documents, collections,
public posts (unsigned GETs welcome) — and non-public posts only for signed, allowed actors."""

from __future__ import annotations

from typing import Any

import aiohttp

from federation.fetch import Fetcher, make_client_session
from federation.media_types import AP_ACCEPT
from federation.webfinger import resolve_handle
from node.follows import follow
from node.posts import create_post
from node.remote_actors import resolve_account
from tests.harness import RunningNode, wait_for


async def get(url: str, accept: str = AP_ACCEPT) -> tuple[int, Any, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers={"Accept": accept}, allow_redirects=False) as response,
    ):
        text = await response.text()
        ctype = response.headers.get("Content-Type", "")
        try:
            return response.status, await response.json(content_type=None), ctype
        except ValueError:
            return response.status, text, ctype


async def test_webfinger_resolves_host_and_port(node_b: RunningNode):
    async with make_client_session(allow_loopback=True, user_agent="test") as session:
        fetcher = Fetcher(session, signer=None, allow_loopback=True)
        actor_url = await resolve_handle(fetcher, f"acct:{node_b.handle('bob')}", scheme="http")
    assert actor_url == node_b.actor_uri("bob")
    status, body, _ = await get(
        f"{node_b.base_url}/.well-known/webfinger?resource=acct:nobody@{node_b.domain}"
    )
    assert status == 404 and "error" in body
    status, body, _ = await get(f"{node_b.base_url}/.well-known/webfinger")
    assert status == 400 and "resource" in body["error"]


async def test_actor_document_has_what_mastodon_expects(node_b: RunningNode):
    status, doc, ctype = await get(node_b.actor_uri("bob"))
    assert status == 200 and ctype.startswith("application/activity+json")
    assert "https://www.w3.org/ns/activitystreams" in doc["@context"]
    for key in (
        "id",
        "type",
        "inbox",
        "outbox",
        "followers",
        "following",
        "preferredUsername",
        "url",
    ):
        assert isinstance(doc[key], str) and doc[key], key
    assert doc["type"] == "Person" and doc["preferredUsername"] == "bob"
    assert doc["endpoints"]["sharedInbox"] == f"{node_b.base_url}/inbox"
    key = doc["publicKey"]
    assert key["owner"] == doc["id"] and key["id"].startswith(doc["id"])
    assert key["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    multikey = doc["assertionMethod"][0]
    assert multikey["type"] == "Multikey" and multikey["publicKeyMultibase"].startswith("z6Mk")
    # The Organization and Application actors are documents too.
    for path, kind in (("/org", "Organization"), ("/actor", "Application")):
        status, org, _ = await get(node_b.base_url + path)
        assert status == 200 and org["type"] == kind and org["publicKey"]["publicKeyPem"]


async def test_browsers_get_html(node_b: RunningNode):
    status, body, ctype = await get(f"{node_b.base_url}/@bob", accept="text/html")
    assert status == 200 and ctype.startswith("text/html") and "@bob@" in body
    status, body, ctype = await get(f"{node_b.base_url}/", accept="text/html")
    assert status == 200 and "Org b" in body
    status, _, _ = await get(node_b.actor_uri("bob"), accept="text/html")
    assert status == 302


async def test_nodeinfo(node_b: RunningNode):
    status, links, _ = await get(f"{node_b.base_url}/.well-known/nodeinfo")
    assert status == 200
    href = next(link["href"] for link in links["links"] if link["rel"].endswith("/2.1"))
    status, info, _ = await get(href)
    assert status == 200 and info["software"]["name"] == "cercle"
    assert info["protocols"] == ["activitypub"] and info["usage"]["users"]["total"] == 2


async def test_outbox_and_followers_collections(node_a: RunningNode, node_b: RunningNode):
    bob = await node_b.actor("bob")
    public = await create_post(node_b.node, bob, "public words")
    await create_post(node_b.node, bob, "for followers", audience="followers")
    alice = await node_a.actor("alice")
    await follow(node_a.node, alice, await resolve_account(node_a.node, node_b.handle("bob")))

    async def followed() -> bool:
        _, col, _ = await get(f"{node_b.actor_uri('bob')}/followers")
        return col["totalItems"] == 1

    await wait_for(followed)
    status, outbox, _ = await get(f"{node_b.actor_uri('bob')}/outbox")
    assert status == 200 and outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 1
    status, page, _ = await get(outbox["first"])
    assert page["type"] == "OrderedCollectionPage" and page["partOf"] == outbox["id"]
    assert [item["object"]["id"] for item in page["orderedItems"]] == [public.uri]
    status, col, _ = await get(f"{node_b.actor_uri('bob')}/followers?page=1")
    assert col["orderedItems"] == [alice.uri]


async def test_non_public_posts_need_a_signed_allowed_requester(
    node_a: RunningNode, node_b: RunningNode
):
    """Public posts answer unsigned GETs; a followers-only post answers 404 to anonymous
    and to a signed stranger, and 200 to a signed follower."""
    bob = await node_b.actor("bob")
    public = await create_post(node_b.node, bob, "hello world")
    private = await create_post(node_b.node, bob, "followers only", audience="followers")
    status, note, _ = await get(public.uri)
    assert status == 200 and note["content"].startswith("<p>hello world")
    assert (await get(private.uri))[0] == 404

    fetcher = node_a.node.require_fetcher()  # signs as A's Application actor: a stranger
    try:
        await fetcher.get_json(private.uri)
        raise AssertionError("a stranger fetched a followers-only post")
    except Exception as exc:
        assert getattr(exc, "status", None) == 404

    alice = await node_a.actor("alice")
    await follow(node_a.node, alice, await resolve_account(node_a.node, node_b.handle("bob")))
    await wait_for(lambda: _followers(node_b))
    alice_fetcher = Fetcher(
        node_a.node.http,
        signer=node_a.node.signer(alice),
        allow_loopback=True,  # type: ignore[arg-type]
    )
    note = await alice_fetcher.get_json(private.uri)
    assert note["id"] == private.uri


async def _followers(node: RunningNode) -> bool:
    _, col, _ = await get(f"{node.actor_uri('bob')}/followers")
    return col["totalItems"] == 1
