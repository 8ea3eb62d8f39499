"""The sites and interests pages in a real Chromium on a phone: a site lists its people
and the posts placed there that the reader may see; hashtags are followed and unfollowed
with forms; trends are shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from node import audience as aud
from node.context import transaction
from node.places import add_site, assign, site_spec
from node.posts import create_post
from tests.browser.accessibility import BLOCKING, axe_violations
from tests.browser.test_pages import no_horizontal_scroll, signed_in_page
from tests.harness import NodeFactory

PHONE = {"width": 360, "height": 640}


async def test_site_and_interests_pages(
    browser: Any, node_factory: NodeFactory, artifacts: Path
) -> None:
    """Given a site where carol works, a post placed there by alice and a direct one to
    dave, when alice opens the site page, then she sees carol and her own post only;
    on the interests page she follows #safety, sees it listed and trending, unfollows it."""
    node = await node_factory.start("a", users=("alice", "carol", "dave"))
    alice, carol = await node.actor("alice"), await node.actor("carol")
    async with transaction(node.node) as db:
        site = await add_site(db, "Lyon office", 45.7578, 4.832, radius_m=300)
        await assign(db, "carol", site.id)
    at_site = site_spec(site, node.base_url)
    await create_post(node.node, alice, "Breakfast at the office", place=at_site)
    await create_post(node.node, carol, "@dave your badge", audience=aud.DIRECT, place=at_site)
    await create_post(node.node, carol, "Fire drill at 3 #safety", audience=aud.ORGANISATION)

    page = await signed_in_page(browser, node, "alice", PHONE)
    await page.goto("/sites")
    await page.get_by_role("link", name="Lyon office").click()
    await page.get_by_role("heading", name="Lyon office").wait_for()
    people = page.locator("section[aria-labelledby=site-people]")
    assert "carol" in await people.inner_text()
    posts = page.locator("section[aria-labelledby=site-posts] article.post")
    assert await posts.count() == 1
    assert "Breakfast at the office" in await posts.first.inner_text()
    assert await no_horizontal_scroll(page)
    assert [v for v in await axe_violations(page) if v["impact"] in BLOCKING] == []
    await page.screenshot(path=str(artifacts / "site-360x640.png"), full_page=True)
    missing = await page.goto("/sites/1")
    assert missing is not None and missing.status == 404

    await page.goto("/interests")
    assert "#safety" in await page.locator("#trending-tags").inner_text()
    await page.get_by_label("Follow a hashtag").fill("#Safety")
    await page.get_by_role("button", name="Follow", exact=True).click()
    await page.locator("#followed-tags").get_by_text("#safety").wait_for()
    await page.get_by_label("Follow a hashtag").fill("not a tag!")
    await page.get_by_role("button", name="Follow", exact=True).click()
    assert "is not a hashtag name" in await page.get_by_role("alert").inner_text()
    assert await no_horizontal_scroll(page)
    assert [v for v in await axe_violations(page) if v["impact"] in BLOCKING] == []
    await page.screenshot(path=str(artifacts / "interests-360x640.png"), full_page=True)
    await page.get_by_role("button", name="Unfollow #safety").click()
    await page.get_by_text("You follow no hashtags yet.").wait_for()
    await page.context.close()
