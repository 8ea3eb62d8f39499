"""The admin reports page in a real browser: a moderator opens a report, removes the
reported post (its Delete reaches the follower's node), silences the account and
resolves the report; a plain user gets the 403 page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from node.admin_users import MODERATOR, set_role
from node.db.models import Post, User
from node.moderation.reports import file_report
from node.posts import create_post
from tests.browser.shared_fixtures import no_horizontal_scroll, signed_in
from tests.browser.test_pages import PHONE
from tests.harness import NodeFactory, RunningNode, wait_for
from tests.moderation.helpers import make_follow


async def _deleted_on(node: RunningNode, uri: str) -> bool:
    async with node.node.reads() as db:
        row = await db.scalar(select(Post).where(Post.uri == uri))
    return row is not None and row.deleted_at is not None


async def test_moderator_handles_a_report_in_the_browser(
    browser: Any, node_factory: NodeFactory
) -> None:
    a = await node_factory.start("a", users=("alice", "carol", "dave"))
    b = await node_factory.start("b", users=("bob",))
    # Given bob@B follows alice, who posts; carol reports the post; dave is a moderator
    await make_follow(b, "bob", a, "alice")
    alice = await a.actor("alice")
    post = await create_post(a.node, alice, "Something rude")
    await wait_for(lambda: _has(b, post.uri))
    carol = await a.actor("carol")
    report = await file_report(
        a.node, carol, account_id=alice.id, status_ids=[post.id], comment="Rude post"
    )
    async with a.node.reads() as db:
        admin = await db.scalar(select(User).where(User.actor_id == (await a.actor("admin")).id))
    assert admin is not None
    await set_role(a.node, admin, "dave", MODERATOR)

    # A plain user is refused
    async with signed_in(browser, a, "carol", PHONE) as page:
        response = await page.goto("/admin/reports")
        assert response is not None and response.status == 403

    async with signed_in(browser, a, "dave", PHONE) as page:
        # When the moderator opens the list and the report
        await page.goto("/admin/reports")
        assert await no_horizontal_scroll(page)
        await page.get_by_role("link", name=f"Report about {alice.handle}").click()
        await page.wait_for_url(f"**/admin/reports/{report.id}")
        assert "Rude post" in await page.locator("main").inner_text()

        # and removes the post
        await page.get_by_role("button", name="Remove post").click()
        await page.get_by_role("status").wait_for()
        assert "The post was removed." in await page.get_by_role("status").inner_text()
        # Then it is gone here and on B
        assert await _deleted_on(a, post.uri)
        await wait_for(lambda: _deleted_on(b, post.uri))

        # When the moderator silences the account, its next post stays out of public
        await page.get_by_role("button", name="Silence account").click()
        await page.wait_for_url("**done=silence")
        assert "silenced" in await page.locator("main").inner_text()
        assert await page.locator("#report-state").inner_text() == "resolved"
        later = await create_post(a.node, alice, "Still here")
        anonymous = await page.request.get("/api/v1/timelines/public")
        assert later.uri not in [s["uri"] for s in await anonymous.json()]

        # and reopens then resolves the report
        await page.get_by_role("button", name="Reopen").click()
        await page.wait_for_url("**done=reopen")
        assert await page.locator("#report-state").inner_text() == "unresolved"
        await page.get_by_role("button", name="Resolve").click()
        await page.wait_for_url("**done=resolve")
        await page.goto("/admin/reports?resolved=1")
        assert await page.locator(f"#report-{report.id}").count() == 1

        # In French too
        await page.goto(f"/admin/reports/{report.id}?lang=fr")
        assert await page.get_by_role("button", name="Rouvrir").count() == 1


async def _has(node: RunningNode, uri: str) -> bool:
    async with node.node.reads() as db:
        return await db.scalar(select(Post.id).where(Post.uri == uri)) is not None
