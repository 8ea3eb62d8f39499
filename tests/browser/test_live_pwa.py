"""The home timeline as a live, installable app, in a real Chromium: new posts arrive
without a reload, older ones load as the reader scrolls, and the service worker shows
an offline page when the node cannot be reached."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from node import audience as aud
from node.posts import create_post
from tests.browser.test_pages import PHONE, signed_in_page
from tests.harness import NodeFactory, RunningNode

#: Set on the page before waiting; a reload would lose it.
MARK = "window.__cercleNotReloaded = true"
NOT_RELOADED = "window.__cercleNotReloaded === true"


async def live(page: Any) -> None:
    """Wait until the page's WebSocket is open (the script marks the timeline)."""
    await page.locator("#timeline[data-live-state=open]").wait_for(timeout=15000)


async def test_post_by_bob_appears_live_in_alices_open_timeline(
    browser: Any, node_factory: NodeFactory
) -> None:
    """The issue's test: Bob posts from his own browser; the post appears on Alice's open
    home page, on top, without a reload; a circle post she is not in never does."""
    node = await node_factory.start("a", users=("alice", "bob", "carol"))
    alice = await signed_in_page(browser, node, "alice", PHONE)
    await live(alice)
    await alice.evaluate(MARK)
    bob = await signed_in_page(browser, node, "bob", PHONE)

    # Given a circle of Bob's without Alice, and a post to it first
    await bob.goto("/circles")
    await bob.get_by_label("New circle").fill("Bob and Carol")
    await bob.get_by_role("button", name="Create circle").click()
    await bob.get_by_label("Add a person (user@domain)").fill(node.handle("carol"))
    await bob.get_by_role("button", name="Add to Bob and Carol").click()
    await bob.get_by_text(f"@{node.handle('carol')}").wait_for()
    await bob.goto("/compose")
    await bob.get_by_label("What do you want to say?").fill("Secret for Carol only")
    await bob.get_by_label("Circle: Bob and Carol").check()
    await bob.get_by_role("button", name="Post").click()
    await bob.wait_for_url("**/home")

    # When Bob posts to the whole firm
    await bob.get_by_label("What do you want to say?").fill("Coffee in the kitchen, everyone")
    await bob.get_by_label("Organisation").check()
    await bob.get_by_role("button", name="Post").click()
    await bob.wait_for_url("**/home")

    # Then it appears on Alice's page, first in the feed, and the page was not reloaded
    first = alice.locator("#feed article.post").first
    await first.get_by_text("Coffee in the kitchen, everyone").wait_for(timeout=15000)
    assert await alice.evaluate(NOT_RELOADED)
    assert await alice.get_by_text("Secret for Carol only").count() == 0
    assert await alice.locator("#live-status").inner_text() == "1 new post"
    for page in (alice, bob):
        await page.context.close()


async def test_live_posts_keep_arriving_after_the_node_restarts(
    browser: Any, node_factory: NodeFactory
) -> None:
    """The stream drops when the node restarts; the page reconnects with a new ticket and
    catches up on what was posted meanwhile."""
    node = await node_factory.start("a", users=("alice", "carol"))
    carol = await node.actor("carol")
    alice = await signed_in_page(browser, node, "alice", PHONE)
    await live(alice)
    await alice.evaluate(MARK)
    await node_factory.restart(node)
    await create_post(node.node, carol, "Posted while you were away", audience=aud.ORGANISATION)
    await alice.get_by_text("Posted while you were away").wait_for(timeout=30000)
    assert await alice.evaluate(NOT_RELOADED)
    await alice.context.close()


async def test_infinite_scroll_loads_older_posts_in_place(
    browser: Any, node_a: RunningNode
) -> None:
    """With JavaScript the "Older posts" link becomes infinite scroll: scrolling to the end
    loads the next pages into the same page, in order, until the link goes away."""
    carol = await node_a.actor("carol")
    for number in range(45):
        await create_post(node_a.node, carol, f"Scroll note {number:02d}", audience="organisation")
    page = await signed_in_page(browser, node_a, "alice", PHONE)
    posts = page.locator("#feed article.post")
    assert await posts.count() == 20
    await page.evaluate(MARK)
    while await page.locator("#older").count():
        count = await posts.count()
        await page.locator("#older").scroll_into_view_if_needed()
        await page.wait_for_function(
            "(n) => document.querySelectorAll('#feed article.post').length > n",
            arg=count,
            timeout=15000,
        )
    assert await posts.count() == 45
    texts = await page.locator("#feed article.post .content").all_inner_texts()
    assert [t.strip() for t in texts] == [f"Scroll note {n:02d}" for n in range(44, -1, -1)]
    assert page.url.endswith("/home") and await page.evaluate(NOT_RELOADED)
    await page.context.close()


async def test_offline_page_from_the_service_worker(
    browser: Any, node_factory: NodeFactory
) -> None:
    """Once the app has been opened, the service worker keeps the shell: with the node
    unreachable, a navigation shows the offline page (styled, in the reader's language)
    instead of the browser's error."""
    node = await node_factory.start("a", users=("alice",))
    page = await signed_in_page(browser, node, "alice", PHONE)
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    # When the node goes away
    await node_factory.stop(node)
    await page.goto("/compose")
    # Then the cached offline page answers, with its stylesheet from the cache too
    await page.get_by_role("heading", name="You are offline").wait_for()
    assert (
        await page.evaluate("getComputedStyle(document.querySelector('header.top')).display")
        == "flex"
    )
    assert await page.get_by_role("link", name="Try again").get_attribute("href") == "/home"

    # When the node is back and Alice switches to French, the cached page follows
    await node_factory.restart(node)
    await page.goto("/home?lang=fr")
    await page.wait_for_function("() => localStorage.getItem('cercle-offline-lang') === 'fr'")
    await node_factory.stop(node)
    await page.goto("/circles")
    await page.get_by_role("heading", name="Vous êtes hors ligne").wait_for()
    await page.context.close()


async def test_manifest_and_service_worker_are_served(node_a: RunningNode) -> None:
    """What a browser checks before offering to install: a manifest with a start URL,
    standalone display and 192/512 px PNG icons that exist; a worker at the site root."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{node_a.base_url}/manifest.webmanifest") as response:
            assert response.status == 200
            assert response.content_type == "application/manifest+json"
            manifest = json.loads(await response.text())
        assert manifest["start_url"] == "/home" and manifest["display"] == "standalone"
        assert manifest["name"] == "Org a · Cercle"
        sizes = {icon["sizes"] for icon in manifest["icons"]}
        assert {"192x192", "512x512"} <= sizes
        for icon in manifest["icons"]:
            async with http.get(node_a.base_url + icon["src"]) as response:
                assert response.status == 200 and response.content_type == "image/png"
                body = await response.read()
            width = int.from_bytes(body[16:20], "big")
            assert f"{width}x{width}" == icon["sizes"]
        async with http.get(f"{node_a.base_url}/sw.js") as response:
            assert response.status == 200
            source = await response.text()
        assert "__VERSION__" not in source and '"/offline"' in source
        async with http.get(f"{node_a.base_url}/offline") as response:
            assert response.status == 200 and "Set-Cookie" not in response.headers
