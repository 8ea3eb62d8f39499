"""The admin pages in a real browser: only admins get them; users (invite with a
temporary password, roles, disable and enable), partners between two nodes (propose,
accept, end), federation mode and domain blocks, and the delivery queue with a failing
domain retried once it is back. Nodes and Chromium are shared by the module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from node.db.models import Delivery
from node.db.models.delivery import PENDING
from node.follows import follow
from node.posts import create_post
from tests.browser.shared_fixtures import chromium, no_horizontal_scroll, signed_in
from tests.browser.test_pages import DESKTOP, PHONE
from tests.harness import NodeFactory, RunningNode, wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def factory(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[NodeFactory]:
    made = NodeFactory(tmp_path_factory.mktemp("admin-pages"))
    try:
        yield made
    finally:
        await made.stop_all()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def nodes(factory: NodeFactory) -> tuple[RunningNode, RunningNode]:
    a = await factory.start("a", users=("alice", "carol", "dave"))
    b = await factory.start("b", users=("bob",))
    return a, b


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    async with chromium() as launched:
        yield launched


async def test_admin_pages_refuse_other_people(browser: Any, nodes: Any) -> None:
    """Alice is no admin: every admin page answers 403 with a page saying why, and a
    form posted with her valid token changes nothing."""
    node, _ = nodes
    async with signed_in(browser, node, "alice", PHONE) as page:
        for path in ("/admin/users", "/admin/partners", "/admin/federation", "/admin/delivery"):
            response = await page.goto(path)
            assert response is not None and response.status == 403, path
            assert "Administrators only" in await page.get_by_role("heading").inner_text()
        await page.goto("/settings")  # a page with a form, for a valid CSRF token
        token = await page.locator('input[name="csrf_token"]').first.get_attribute("value")
        response = await page.request.post(
            "/admin/federation/block",
            form={"csrf_token": token or "", "domain": "spam.example"},
            max_redirects=0,
        )
        assert response.status == 403
    async with signed_in(browser, node, "admin", PHONE) as page:
        await page.goto("/admin/federation")
        await page.get_by_text("No domain is blocked.").wait_for()


async def test_users_invite_roles_and_disable(browser: Any, nodes: Any) -> None:
    """The admin invites Nina as a moderator and reads her temporary password once; Nina
    signs in with it. A bad user name is refused. Carol is made an admin, then a user;
    Dave is disabled (his open session ends) and enabled again. The admin cannot disable
    themself."""
    node, _ = nodes
    async with signed_in(browser, node, "admin", PHONE) as admin:
        await admin.goto("/admin/users")
        assert await no_horizontal_scroll(admin)
        await admin.get_by_label("User name (lower-case letters, digits, _)").fill("nina")
        await admin.get_by_label("Role", exact=True).select_option("moderator")
        await admin.get_by_role("button", name="Create account").click()
        password = await admin.get_by_label("Temporary password").input_value()
        assert len(password) >= 12
        assert "· Moderator" in await admin.locator("#user-nina").inner_text()

        async with signed_in_with(browser, node, "nina", password) as nina:
            assert nina.url.endswith("/home")

        await admin.get_by_label("User name (lower-case letters, digits, _)").fill("nina")
        await admin.get_by_role("button", name="Create account").click()
        assert "already exists" in await admin.get_by_role("alert").inner_text()

        await admin.get_by_label("Role of carol").select_option("admin")
        await admin.get_by_role("button", name="Set role of carol").click()
        await admin.get_by_role("status").get_by_text("The role was changed.").wait_for()
        assert "· Administrator" in await admin.locator("#user-carol").inner_text()
        await admin.get_by_label("Role of carol").select_option("user")
        await admin.get_by_role("button", name="Set role of carol").click()
        await admin.get_by_role("status").wait_for()
        assert "· User" in await admin.locator("#user-carol").inner_text()

        async with signed_in(browser, node, "dave", PHONE) as dave:
            await admin.get_by_role("button", name="Disable dave").click()
            await admin.get_by_role("button", name="Enable dave").wait_for()
            await dave.goto("/home")
            assert dave.url.endswith("/signin")
        await admin.get_by_role("button", name="Enable dave").click()
        await admin.get_by_role("button", name="Disable dave").wait_for()

        await admin.get_by_role("button", name="Disable admin").click()
        assert "cannot disable your own" in await admin.get_by_role("alert").inner_text()
        await admin.get_by_role("button", name="Disable admin").wait_for()


class signed_in_with:
    """A browser context signed in with a given password (the harness's is PASSWORD)."""

    def __init__(self, browser: Any, node: RunningNode, username: str, password: str) -> None:
        self.browser, self.node, self.username, self.password = browser, node, username, password

    async def __aenter__(self) -> Any:
        self.context = await self.browser.new_context(viewport=PHONE, base_url=self.node.base_url)
        page = await self.context.new_page()
        await page.goto("/signin")
        await page.get_by_label("User name or e-mail address").fill(self.username)
        await page.get_by_label("Password").fill(self.password)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url("**/home")
        return page

    async def __aexit__(self, *exc: object) -> None:
        await self.context.close()


async def test_federation_mode_and_domain_blocks(browser: Any, nodes: Any) -> None:
    """The admin switches to partners-only, blocks a domain, is told why a non-domain is
    refused, and unblocks the domain again."""
    node, _ = nodes
    async with signed_in(browser, node, "admin", DESKTOP) as page:
        await page.goto("/admin/federation")
        await page.get_by_label("Partners only").check()
        await page.get_by_role("button", name="Save mode").click()
        await page.get_by_role("status").get_by_text("federation mode was changed").wait_for()
        assert await page.get_by_label("Partners only").is_checked()

        await page.get_by_label("Domain to block (e.g. spam.example)").fill("Spam.Example")
        await page.get_by_role("button", name="Block", exact=True).click()
        await page.get_by_role("button", name="Unblock spam.example").wait_for()

        await page.get_by_label("Domain to block (e.g. spam.example)").fill("not a domain")
        await page.get_by_role("button", name="Block", exact=True).click()
        assert "is not a domain name" in await page.get_by_role("alert").inner_text()
        await page.get_by_role("button", name="Unblock spam.example").click()
        await page.get_by_text("No domain is blocked.").wait_for()

        await page.get_by_label("Open").check()
        await page.get_by_role("button", name="Save mode").click()
        await page.get_by_role("status").wait_for()


async def test_partnership_proposed_accepted_and_ended(browser: Any, nodes: Any) -> None:
    """Node a's admin proposes a partnership to node b; b's admin, in another browser
    context, accepts it; both see it active; a's admin ends it. A server that does not
    answer is refused with the reason."""
    a, b = nodes
    async with (
        signed_in(browser, a, "admin", PHONE) as admin_a,
        signed_in(browser, b, "admin", PHONE) as admin_b,
    ):
        await admin_a.goto("/admin/partners")
        await admin_a.get_by_label("Their domain (e.g. partner.example)").fill("127.0.0.1:9")
        await admin_a.get_by_role("button", name="Propose").click()
        assert "127.0.0.1:9" in await admin_a.get_by_role("alert").inner_text()

        await admin_a.get_by_label("Their domain (e.g. partner.example)").fill(b.domain)
        await admin_a.get_by_role("button", name="Propose").click()
        await admin_a.get_by_text("proposed, waiting for them").wait_for()

        async def asked() -> bool:
            await a.deliver_all()
            await admin_b.goto("/admin/partners")
            return await admin_b.get_by_text("they asked, waiting for you").count() == 1

        await wait_for(asked, timeout=20)
        await admin_b.get_by_role("button", name=f"Accept {a.domain}").click()
        await admin_b.get_by_role("status").get_by_text("partnership was accepted").wait_for()

        async def active() -> bool:
            await b.deliver_all()
            await admin_a.goto("/admin/partners")
            row = admin_a.locator(f'[id="partner-{b.domain}"]')
            return "· active" in await row.inner_text()

        await wait_for(active, timeout=20)
        await admin_a.get_by_role("button", name=f"End with {b.domain}").click()
        await admin_a.get_by_role("status").get_by_text("partnership was ended").wait_for()


async def test_delivery_queue_failing_domain_and_retry(
    browser: Any, nodes: Any, factory: NodeFactory
) -> None:
    """Cleo on node c follows Alice, then node c goes down: Alice's post cannot be
    delivered, and the delivery page names c's domain as failing. Once c is back, "retry
    now" sends it at once and the domain leaves the list."""
    node, _ = nodes
    c = await factory.start("c", users=("cleo",))
    alice, cleo = await node.actor("alice"), await c.actor("cleo")
    await follow(c.node, cleo, await _remote(c, node.actor_uri("alice")))

    async def followed() -> bool:
        await c.deliver_all()  # the background worker may have been quicker: no matter
        return await node.actor_by_uri(c.actor_uri("cleo")) is not None

    await wait_for(followed, timeout=20)
    await factory.stop(c)
    await create_post(node.node, alice, "Quarterly figures are out", audience="public")

    async def failed_once() -> bool:
        await node.deliver_all()
        async with node.node.reads() as db:
            rows = list(
                await db.scalars(
                    select(Delivery).where(Delivery.domain == c.domain, Delivery.state == PENDING)
                )
            )
        return bool(rows) and all(r.attempts > 0 for r in rows)

    await wait_for(failed_once, timeout=20)
    async with signed_in(browser, node, "admin", PHONE) as page:
        await page.goto("/admin/delivery")
        failing = page.locator(f'[id="failing-{c.domain}"]')
        await failing.wait_for()
        assert "waiting" in await failing.inner_text()
        assert int(await page.locator("#pending-count").inner_text()) >= 1
        assert await no_horizontal_scroll(page)

        await factory.restart(c)
        await page.get_by_role("button", name=f"Retry {c.domain} now").click()
        await page.get_by_role("status").get_by_text("tried again now").wait_for()

        async def delivered() -> bool:
            await node.deliver_all()
            await page.goto("/admin/delivery")
            return await failing.count() == 0

        await wait_for(delivered, timeout=20)


async def _remote(node: RunningNode, uri: str) -> Any:
    from node.remote_actors import get_or_fetch_actor

    return await get_or_fetch_actor(node.node, uri)
