"""The web pages in a real browser: sign in, post to a circle with the audience picker, the
circle member sees it, the layout holds at 360 px, and forms without a CSRF token are refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from node.posts import create_post
from tests.harness import PASSWORD, NodeFactory, RunningNode

PHONE = {"width": 360, "height": 640}
DESKTOP = {"width": 1280, "height": 800}


async def signed_in_page(browser: Any, node: RunningNode, username: str, viewport: dict) -> Any:
    """A new browser context (its own cookies) signed in as ``username`` through the form."""
    context = await browser.new_context(viewport=viewport, base_url=node.base_url)
    page = await context.new_page()
    await page.goto("/signin")
    await page.get_by_label("User name or e-mail address").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/home")
    return page


async def no_horizontal_scroll(page: Any) -> bool:
    return bool(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


async def test_sign_in_refused_then_accepted(browser: Any, node_a: RunningNode) -> None:
    """A wrong password shows why on the page; the right one lands on the home page, and
    signing out ends the session."""
    context = await browser.new_context(viewport=PHONE, base_url=node_a.base_url)
    page = await context.new_page()
    await page.goto("/home")
    assert page.url.endswith("/signin")  # not signed in: sent to the form
    await page.get_by_label("User name or e-mail address").fill("alice")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("alert").wait_for()
    assert "Wrong user name" in await page.get_by_role("alert").inner_text()

    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/home")
    cookie = next(c for c in await context.cookies() if c["name"] == "cercle_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/signin")
    await page.goto("/home")
    assert page.url.endswith("/signin")
    await context.close()


async def test_post_to_a_circle_reaches_its_member_only(
    browser: Any, node_factory: NodeFactory, artifacts: Path
) -> None:
    """Alice makes a circle with Carol in it and posts to it with the audience picker, which
    says in words who will see it; Carol finds the post on her home page, Dave does not."""
    node = await node_factory.start("a", users=("alice", "carol", "dave"))
    alice = await signed_in_page(browser, node, "alice", PHONE)

    # Given a circle "Project X" holding Carol
    await alice.goto("/circles")
    await alice.get_by_label("New circle").fill("Project X")
    await alice.get_by_role("button", name="Create circle").click()
    await alice.get_by_role("heading", name="Project X").wait_for()
    await alice.get_by_label("Add a person (user@domain)").fill(node.handle("carol"))
    await alice.get_by_role("button", name="Add to Project X").click()
    await alice.get_by_text(f"@{node.handle('carol')}").wait_for()

    # When Alice picks the circle in the audience picker and posts
    await alice.goto("/compose")
    picker = alice.get_by_role("group", name="Who will see it")
    assert "Everyone at Org a" in await picker.inner_text()
    assert "Only the people in Project X (1 person)" in await picker.inner_text()
    await alice.get_by_label("What do you want to say?").fill("Kick-off at ten, Project X only")
    await alice.get_by_label("Circle: Project X").check()
    await alice.get_by_role("button", name="Post").click()
    await alice.wait_for_url("**/home")
    await alice.get_by_text("Kick-off at ten").wait_for()

    # Then Carol, in her own browser context, sees it; Dave does not
    carol = await signed_in_page(browser, node, "carol", PHONE)
    await carol.get_by_text("Kick-off at ten, Project X only").wait_for()
    dave = await signed_in_page(browser, node, "dave", PHONE)
    assert await dave.get_by_text("Kick-off at ten").count() == 0
    for page in (alice, carol, dave):
        await page.context.close()


async def test_circles_page_manages_local_and_remote_people(
    browser: Any, node_a: RunningNode, node_b: RunningNode
) -> None:
    """Create, rename, add a local and a remote person (found by WebFinger on another node),
    remove one, refuse an unknown handle readably, delete."""
    page = await signed_in_page(browser, node_a, "alice", PHONE)
    await page.goto("/circles")
    await page.get_by_label("New circle").fill("Lunch")
    await page.get_by_role("button", name="Create circle").click()
    await page.get_by_role("heading", name="Lunch").wait_for()

    await page.get_by_text("Rename or delete").click()
    await page.get_by_label("New name").fill("Friday lunch")
    await page.get_by_role("button", name="Rename").click()
    await page.get_by_role("heading", name="Friday lunch").wait_for()

    for handle in (node_a.handle("carol"), node_b.handle("bob")):
        await page.get_by_label("Add a person (user@domain)").fill(handle)
        await page.get_by_role("button", name="Add to Friday lunch").click()
        await page.get_by_text(f"@{handle}").wait_for()

    await page.get_by_label("Add a person (user@domain)").fill(node_a.handle("nobody"))
    await page.get_by_role("button", name="Add to Friday lunch").click()
    assert "no account nobody@" in await page.get_by_role("alert").inner_text()

    await page.goto("/circles")
    await page.get_by_role("button", name=f"Remove {node_a.handle('carol')}").click()
    await page.get_by_text(f"@{node_b.handle('bob')}").wait_for()
    assert await page.get_by_text(f"@{node_a.handle('carol')}").count() == 0

    await page.get_by_text("Rename or delete").click()
    await page.get_by_role("button", name="Delete Friday lunch").click()
    await page.get_by_text("You have no circles yet.").wait_for()
    await page.context.close()


async def test_compose_error_is_shown_and_text_kept(browser: Any, node_a: RunningNode) -> None:
    """A direct post without a mention is refused with the reason, and the text survives."""
    page = await signed_in_page(browser, node_a, "alice", PHONE)
    await page.goto("/compose")
    await page.get_by_label("What do you want to say?").fill("nobody mentioned")
    await page.get_by_label("Direct").check()
    await page.get_by_role("button", name="Post").click()
    await page.get_by_role("alert").wait_for()
    assert "mention at least one account" in await page.get_by_role("alert").inner_text()
    assert await page.get_by_label("What do you want to say?").input_value() == "nobody mentioned"
    await page.context.close()


async def test_layout_at_phone_and_desktop_sizes(
    browser: Any, node_a: RunningNode, artifacts: Path
) -> None:
    """Home, compose and circles fit a 360 px screen without horizontal scrolling; the
    screenshots at both sizes are kept in tests/artifacts/ for a human to look at."""
    for name, viewport in (("360x640", PHONE), ("1280x800", DESKTOP)):
        page = await signed_in_page(browser, node_a, "alice", viewport)
        if viewport is PHONE:  # Given a circle and a post, made once for both sizes
            await page.goto("/circles")
            await page.get_by_label("New circle").fill("A circle with a rather long name indeed")
            await page.get_by_role("button", name="Create circle").click()
            await page.goto("/compose")
            await page.get_by_label("What do you want to say?").fill("Hello everyone at Org a")
            await page.get_by_label("Organisation").check()
            await page.get_by_role("button", name="Post").click()
            await page.wait_for_url("**/home")
        for path in ("/home", "/compose", "/circles"):
            await page.goto(path)
            shot = artifacts / f"{path.strip('/')}-{name}.png"
            await page.screenshot(path=str(shot), full_page=True)
            if viewport is PHONE:
                assert await no_horizontal_scroll(page), f"{path} scrolls sideways at 360 px"
        await page.context.close()


async def test_home_pages_back_with_an_older_link(browser: Any, node_a: RunningNode) -> None:
    """Without JavaScript, the timeline pages back through an "Older posts" link (max_id)."""
    # Given 25 posts to the whole firm, more than one page of 20
    carol = await node_a.actor("carol")
    for number in range(25):
        await create_post(node_a.node, carol, f"Note number {number:02d}", audience="organisation")
    context = await browser.new_context(
        viewport=PHONE, base_url=node_a.base_url, java_script_enabled=False
    )
    page = await context.new_page()
    await page.goto("/signin")
    await page.get_by_label("User name or e-mail address").fill("alice")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/home")
    # When Alice reads the first page, then follows the link
    assert await page.locator("article.post").count() == 20
    assert await page.locator("article.post").first.get_by_text("Note number 24").count() == 1
    await page.get_by_role("link", name="Older posts").click()
    # Then the five oldest follow, and no further link
    await page.get_by_text("Note number 00").wait_for()
    assert await page.locator("article.post").count() == 5
    assert await page.get_by_role("link", name="Older posts").count() == 0
    await context.close()


async def test_public_pages_set_no_cookie(node_a: RunningNode) -> None:
    """Anonymous readers of public pages get no session cookie: nothing to forge, and the
    pages stay cacheable."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{node_a.base_url}/@alice") as response:
            assert response.status == 200
            assert "Set-Cookie" not in response.headers
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]


async def test_pages_carry_a_strict_content_security_policy(node_a: RunningNode) -> None:
    """No inline script may run on the pages: the policy allows only the node's own files."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{node_a.base_url}/signin") as response:
            policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


async def test_form_without_csrf_token_is_refused(browser: Any, node_a: RunningNode) -> None:
    """A post from a signed-in browser but without the form's token (what a forged
    cross-site form would send) gets 403 and a page saying why; nothing is posted."""
    page = await signed_in_page(browser, node_a, "alice", PHONE)
    response = await page.request.post(
        "/compose", form={"text": "forged", "audience": "public"}, max_redirects=0
    )
    assert response.status == 403
    assert "This form was refused" in await response.text()
    forged = await page.request.post(
        "/compose",
        form={"text": "forged", "audience": "public", "csrf_token": "0" * 64},
        max_redirects=0,
    )
    assert forged.status == 403
    await page.goto("/home")
    assert await page.get_by_text("forged").count() == 0
    await page.context.close()
