"""People, posts and finding things, in a real browser: profiles (local and on another
node) with follow and circles, a post's thread with the reply form, notifications with
follow requests, the directory, search and hashtag pages. One pair of nodes and one
Chromium serve the whole module; each test uses its own people."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from node.accounts import ProfileChange, update_profile
from node.posts import create_post
from tests.browser.accessibility import axe_violations, blocking, describe
from tests.browser.shared_fixtures import chromium, no_horizontal_scroll, signed_in
from tests.browser.test_pages import DESKTOP, PHONE
from tests.harness import PASSWORD, NodeFactory, RunningNode, wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

A_USERS = ("alice", "carol", "dave", "erin", "frank", "gina", "hank")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def nodes(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[RunningNode, RunningNode]]:
    factory = NodeFactory(tmp_path_factory.mktemp("profile-pages"))
    try:
        a = await factory.start("a", users=A_USERS)
        b = await factory.start("b", users=("bob",))
        yield a, b
    finally:
        await factory.stop_all()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    async with chromium() as launched:
        yield launched


async def test_follow_and_circles_from_a_local_profile(browser: Any, nodes: Any) -> None:
    """Alice opens Carol's page, follows her, puts her in a circle and takes her out
    again, then unfollows; each button says what it does and the page shows the result."""
    node, _ = nodes
    async with signed_in(browser, node, "alice", PHONE) as page:
        await page.goto("/circles")
        await page.get_by_label("New circle").fill("Lunch club")
        await page.get_by_role("button", name="Create circle").click()
        await page.get_by_role("heading", name="Lunch club").wait_for()

        await page.goto("/@carol")
        await page.get_by_role("heading", name="Carol").wait_for()
        assert await no_horizontal_scroll(page)
        await page.get_by_role("button", name="Follow", exact=True).click()
        await page.get_by_text("You follow this person.").wait_for()
        await page.get_by_role("button", name="Add to Lunch club").click()
        await page.get_by_role("button", name="Remove from Lunch club").wait_for()

        await page.goto("/circles")
        await page.get_by_text(f"@{node.handle('carol')}").wait_for()

        await page.goto("/@carol")
        await page.get_by_role("button", name="Remove from Lunch club").click()
        await page.get_by_role("button", name="Add to Lunch club").wait_for()
        await page.get_by_role("button", name="Unfollow").click()
        await page.get_by_role("button", name="Follow", exact=True).wait_for()


async def test_remote_profile_by_handle_and_follow(browser: Any, nodes: Any) -> None:
    """Dave opens bob@<node b> (found by WebFinger), follows him across nodes, and sees
    Bob's public post listed; an unknown handle gets a readable 404 page."""
    node, other = nodes
    bob = await other.actor("bob")
    await create_post(other.node, bob, "Greetings from node b", audience="public")
    async with signed_in(browser, node, "dave", PHONE) as page:
        await page.goto(f"/@{other.handle('bob')}")
        await page.get_by_role("heading", name="Bob").wait_for()
        await page.get_by_role("button", name="Follow", exact=True).click()
        await page.wait_for_url(f"**/@{other.handle('bob')}")

        async def accepted() -> bool:
            await node.deliver_all()
            await other.deliver_all()
            await page.reload()
            return await page.get_by_text("You follow this person.").count() == 1

        await wait_for(accepted, timeout=20)

        response = await page.goto(f"/@nobody@{other.domain}")
        assert response is not None and response.status == 404
        alert = await page.get_by_role("alert").inner_text()
        assert f"We could not find @nobody@{other.domain}" in alert
        assert await no_horizontal_scroll(page)


async def test_thread_with_reply_and_hidden_branch(browser: Any, nodes: Any) -> None:
    """Erin's organisation post gets a reply from Frank through the reply form; a reply
    to a circle Gina is not in stays hidden from Gina, and so does the reply under it."""
    node, _ = nodes
    erin, frank = await node.actor("erin"), await node.actor("frank")
    root = await create_post(node.node, erin, "Who is up for the quiz?", audience="organisation")
    async with signed_in(browser, node, "frank", PHONE) as page:
        await page.goto(f"/@erin/{root.id}")
        await page.get_by_text("Who is up for the quiz?").wait_for()
        await page.get_by_label("Your reply").fill("Count me in")
        await page.get_by_label("Organisation").check()
        await page.get_by_role("button", name="Send reply").click()
        await page.get_by_role("region", name="Replies").get_by_text("Count me in").wait_for()
        assert await no_horizontal_scroll(page)

        # An empty reply is refused with a reason, nothing posted
        await page.get_by_label("Your reply").fill("   ")
        await page.get_by_role("button", name="Send reply").click()
        await page.get_by_role("alert").wait_for()
        assert "blank" in await page.get_by_role("alert").inner_text()

    # Given a reply for a circle of Erin's that holds Frank only, and a reply under it
    from node.circles import add_members, create_circle
    from node.context import transaction

    async with transaction(node.node) as db:
        circle = await create_circle(db, erin, "Quiz team")
        await add_members(db, circle, [frank])
    secret = await create_post(
        node.node,
        erin,
        "Team answers are in the drive",
        audience="circle",
        circle_ids=[circle.id],
        in_reply_to=root,
    )
    await create_post(node.node, frank, "Thanks!", audience="direct", in_reply_to=secret)
    async with signed_in(browser, node, "gina", PHONE) as page:
        await page.goto(f"/@erin/{root.id}")
        await page.get_by_text("Count me in").wait_for()
        assert await page.get_by_text("Team answers").count() == 0
        assert await page.get_by_text("Thanks!").count() == 0
        response = await page.goto(f"/@erin/{secret.id}")
        assert response is not None and response.status == 404
    async with signed_in(browser, node, "frank", DESKTOP) as page:
        await page.goto(f"/posts/{secret.id}")
        await page.get_by_text("Team answers are in the drive").wait_for()
        await page.get_by_text("Who is up for the quiz?").wait_for()  # its ancestor


async def test_notifications_and_follow_requests(browser: Any, nodes: Any) -> None:
    """Hank locks his account; Gina's follow becomes a request that Hank accepts from his
    notifications page, where Gina's mention of him shows too."""
    node, _ = nodes
    hank, gina = await node.actor("hank"), await node.actor("gina")
    await update_profile(node.node, hank.id, ProfileChange(locked=True))
    async with signed_in(browser, node, "gina", PHONE) as page:
        await page.goto("/@hank")
        await page.get_by_role("button", name="Follow", exact=True).click()
        await page.get_by_text("Follow request sent.").wait_for()
    await create_post(node.node, gina, f"@{node.handle('hank')} see you at ten", audience="direct")
    async with signed_in(browser, node, "hank", PHONE) as page:
        await page.goto("/notifications")
        await page.get_by_text("mentioned you").wait_for()
        await page.get_by_text("see you at ten").wait_for()
        await page.get_by_text("asked to follow you").wait_for()
        assert await no_horizontal_scroll(page)
        await page.get_by_role("button", name=f"Accept {node.handle('gina')}").click()
        await page.wait_for_url("**/notifications")
        assert await page.get_by_role("button", name=f"Accept {node.handle('gina')}").count() == 0
    async with signed_in(browser, node, "gina", PHONE) as page:
        await page.goto("/@hank")
        await page.get_by_text("You follow this person.").wait_for()


async def test_directory_search_and_hashtags(browser: Any, nodes: Any) -> None:
    """The directory lists the firm's people and filters them; search finds people here
    and on another node, posts and hashtags; the hashtag page lists the tagged posts."""
    node, other = nodes
    carol = await node.actor("carol")
    await create_post(node.node, carol, "Our #Offsite2027 agenda is out", audience="public")
    async with signed_in(browser, node, "alice", PHONE) as page:
        await page.goto("/directory")
        await page.get_by_role("link", name="Carol").wait_for()
        assert await no_horizontal_scroll(page)
        await page.get_by_label("Find a colleague by name").fill("hank")
        await page.get_by_role("button", name="Filter").click()
        await page.get_by_role("link", name="Hank").wait_for()
        assert await page.get_by_role("link", name="Carol").count() == 0

        await page.goto("/search")
        await page.get_by_label("People (name or name@domain), posts or #hashtags").fill(
            other.handle("bob")
        )
        await page.get_by_role("button", name="Search", exact=True).click()
        await page.get_by_role("link", name="Bob").click()
        await page.wait_for_url(f"**/@{other.handle('bob')}")

        await page.goto("/search?q=agenda")
        await page.get_by_role("region", name="Posts").get_by_text("agenda is out").wait_for()
        await page.goto("/search?q=%23offsite")
        await page.get_by_role("link", name="#offsite2027").click()
        await page.wait_for_url("**/tags/offsite2027")
        await page.get_by_text("agenda is out").wait_for()
        assert await no_horizontal_scroll(page)

        await page.goto(f"/search?q=nobody@{other.domain}")
        assert "No one was found" in await page.get_by_role("alert").inner_text()


async def test_pages_fit_a_phone_and_pass_axe(browser: Any, nodes: Any, artifacts: Path) -> None:
    """Every page of this part of the UI, at 360x640 and 1280x800: no sideways scrolling
    on the phone, no serious or critical axe-core finding, and a screenshot of each in
    tests/artifacts/ for a human to look at."""
    node, other = nodes
    alice = await node.actor("alice")
    post = await create_post(node.node, alice, "Layout check #layout", audience="public")
    await create_post(node.node, await node.actor("carol"), "Reply", in_reply_to=post)
    pages = {
        "person": "/@carol",
        "remote-person": f"/@{other.handle('bob')}",
        "thread": f"/@alice/{post.id}",
        "notifications": "/notifications",
        "directory": "/directory",
        "search": "/search?q=layout",
        "hashtag": "/tags/layout",
        "settings": "/settings",
        "admin-users": "/admin/users",
        "admin-partners": "/admin/partners",
        "admin-federation": "/admin/federation",
        "admin-delivery": "/admin/delivery",
    }
    for size, viewport in (("360x640", PHONE), ("1280x800", DESKTOP)):
        async with signed_in(browser, node, "admin", viewport) as page:
            for name, path in pages.items():
                response = await page.goto(path)
                assert response is not None and response.status == 200, path
                await page.screenshot(path=str(artifacts / f"{name}-{size}.png"), full_page=True)
                if viewport is PHONE:
                    assert await no_horizontal_scroll(page), f"{path} scrolls sideways at 360 px"
                    found = blocking(await axe_violations(page))
                    assert not found, f"{path}: {describe(found)}"


async def test_reading_and_replying_work_without_javascript(browser: Any, nodes: Any) -> None:
    """With JavaScript off, Frank still follows Erin from her page and replies to her
    post: every action is a plain form."""
    node, _ = nodes
    erin = await node.actor("erin")
    post = await create_post(node.node, erin, "Plain forms only", audience="organisation")
    context = await browser.new_context(
        viewport=PHONE, base_url=node.base_url, java_script_enabled=False
    )
    try:
        page = await context.new_page()
        await page.goto("/signin")
        await page.get_by_label("User name or e-mail address").fill("frank")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url("**/home")
        await page.goto("/@erin")
        await page.get_by_role("button", name="Follow", exact=True).click()
        await page.get_by_text("You follow this person.").wait_for()
        await page.goto(f"/@erin/{post.id}")
        await page.get_by_label("Your reply").fill("Works for me")
        await page.get_by_role("button", name="Send reply").click()
        await page.get_by_role("region", name="Replies").get_by_text("Works for me").wait_for()
    finally:
        await context.close()


async def test_anonymous_readers(nodes: Any) -> None:
    """Signed out: a public post and its page are readable and set no cookie; an
    organisation post answers 404 like a missing one; a person of another server who is
    not known here is not fetched for an anonymous visitor."""
    node, _ = nodes
    carol = await node.actor("carol")
    public = await create_post(node.node, carol, "Open to all", audience="public")
    internal = await create_post(node.node, carol, "Staff only", audience="organisation")
    async with aiohttp.ClientSession(base_url=node.base_url) as http:
        async with http.get(f"/@carol/{public.id}") as response:
            assert response.status == 200
            assert "Open to all" in await response.text()
            assert "Set-Cookie" not in response.headers
        for path in (f"/@carol/{internal.id}", f"/posts/{internal.id}", f"/@alice/{public.id}"):
            async with http.get(path) as response:
                assert response.status == 404, path
                assert "Staff only" not in await response.text()
        async with http.get("/@someone@127.0.0.1:9") as response:
            assert response.status == 404
            assert "sign in to look it up" in await response.text()
