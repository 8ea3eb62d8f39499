"""The settings page in a real browser: profile text and lock, avatar upload (and a
too-large or broken picture refused), password change (a wrong current password
refused), and revoking an app that holds a real OAuth token. One node and one Chromium
serve the module; each test signs in as its own person."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from PIL import Image

from tests.browser.shared_fixtures import chromium, no_horizontal_scroll, signed_in
from tests.browser.test_pages import DESKTOP, PHONE
from tests.harness import PASSWORD, NodeFactory, RunningNode

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def node(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningNode]:
    factory = NodeFactory(tmp_path_factory.mktemp("settings-pages"))
    try:
        yield await factory.start("a", users=("alice", "carol", "dave", "erin", "frank"))
    finally:
        await factory.stop_all()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    async with chromium() as launched:
        yield launched


async def test_profile_text_and_lock(browser: Any, node: RunningNode, artifacts: Path) -> None:
    """Alice renames herself, writes a bio and locks her account; her profile shows it.
    A bio over the limit is refused with the reason and changes nothing."""
    async with signed_in(browser, node, "alice", PHONE) as page:
        await page.goto("/settings")
        assert await no_horizontal_scroll(page)
        await page.screenshot(path=str(artifacts / "settings-360x640.png"), full_page=True)
        await page.get_by_label("Display name").fill("Alice Martin")
        await page.get_by_label("About you").fill("Sales, EMEA. Ask me about #pricing")
        await page.get_by_label("Lock my account").check()
        await page.get_by_role("button", name="Save profile").click()
        await page.get_by_role("status").get_by_text("Your profile was saved.").wait_for()

        await page.get_by_label("Display name").fill("Someone Else")
        await page.get_by_label("About you").fill("x" * 501)
        await page.get_by_role("button", name="Save profile").click()
        assert "too long" in await page.get_by_role("alert").inner_text()
        assert await page.get_by_label("About you").input_value() == "x" * 501  # kept

        await page.goto("/@alice")
        await page.get_by_role("heading", name="Alice Martin").wait_for()
        await page.get_by_text("Sales, EMEA.").wait_for()
        await page.get_by_text("approves followers").wait_for()


def _png(side: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


async def test_avatar_upload_and_refusals(browser: Any, node: RunningNode, tmp_path: Path) -> None:
    """Carol uploads a picture and sees it on her profile; a 5 MB file and a file that is
    not an image are refused with a reason, and her picture stays the same."""
    good, big, broken = tmp_path / "me.png", tmp_path / "big.png", tmp_path / "notes.png"
    good.write_bytes(_png(600))
    big.write_bytes(b"\x89PNG" + bytes(5 * 1024 * 1024))
    broken.write_bytes(b"this is not a picture at all")
    async with signed_in(browser, node, "carol", PHONE) as page:
        await page.goto("/settings")
        await page.get_by_label("New picture").set_input_files(str(good))
        await page.get_by_role("button", name="Upload picture").click()
        await page.get_by_role("status").get_by_text("Your new picture").wait_for()
        picture = await page.get_by_role("img", name="Your current picture").get_attribute("src")
        assert picture and "/media/" in picture

        for path, reason in ((big, "too large"), (broken, "")):
            await page.get_by_label("New picture").set_input_files(str(path))
            await page.get_by_role("button", name="Upload picture").click()
            alert = await page.get_by_role("alert").inner_text()
            assert reason in alert and alert.strip()
            src = await page.get_by_role("img", name="Your current picture").get_attribute("src")
            assert src == picture

        await page.goto("/@carol")
        assert await page.locator(f'img.avatar[src="{picture}"]').count() == 1


async def test_password_change(browser: Any, node: RunningNode) -> None:
    """A wrong current password and two different new ones are refused; then the change
    works, and only the new password signs in."""
    async with signed_in(browser, node, "dave", DESKTOP) as page:
        await page.goto("/settings")
        await page.get_by_label("Current password").fill("not my password")
        await page.get_by_label("New password (at least 8 characters)").fill("new secret 123")
        await page.get_by_label("New password again").fill("new secret 123")
        await page.get_by_role("button", name="Change password").click()
        assert "current password is wrong" in await page.get_by_role("alert").inner_text()

        await page.get_by_label("Current password").fill(PASSWORD)
        await page.get_by_label("New password (at least 8 characters)").fill("new secret 123")
        await page.get_by_label("New password again").fill("new secret 456")
        await page.get_by_role("button", name="Change password").click()
        assert "differ" in await page.get_by_role("alert").inner_text()

        await page.get_by_label("Current password").fill(PASSWORD)
        await page.get_by_label("New password (at least 8 characters)").fill("new secret 123")
        await page.get_by_label("New password again").fill("new secret 123")
        await page.get_by_role("button", name="Change password").click()
        await page.get_by_role("status").get_by_text("Your password was changed.").wait_for()
        await page.get_by_role("button", name="Sign out", exact=True).click()
        await page.wait_for_url("**/signin")

        await page.get_by_label("User name or e-mail address").fill("dave")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("alert").wait_for()
        await page.get_by_label("Password").fill("new secret 123")
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url("**/home")


async def test_revoking_an_authorised_app(browser: Any, node: RunningNode) -> None:
    """An app registered through the client API holds a token for Erin (password grant);
    Erin sees it in her settings and revokes it, and the token stops working."""
    async with aiohttp.ClientSession(base_url=node.base_url) as http:
        async with http.post(
            "/api/v1/apps",
            data={
                "client_name": "Pocket Reader",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write",
            },
        ) as response:
            app = await response.json()
        async with http.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": "erin",
                "password": PASSWORD,
                "scope": "read",
            },
        ) as response:
            token = (await response.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        async with http.get("/api/v1/accounts/verify_credentials", headers=headers) as response:
            assert response.status == 200

        async with signed_in(browser, node, "erin", PHONE) as page:
            await page.goto("/settings")
            apps = page.get_by_role("region", name="Authorised apps")
            await apps.get_by_text("Pocket Reader", exact=True).wait_for()
            await page.get_by_role("button", name="Revoke Pocket Reader").click()
            await page.get_by_role("status").get_by_text("can no longer use").wait_for()
            assert await apps.get_by_text("Pocket Reader", exact=True).count() == 0
            await apps.get_by_text("No app may act for you.").wait_for()

        async with http.get("/api/v1/accounts/verify_credentials", headers=headers) as response:
            assert response.status == 401


async def test_sign_out_everywhere_else(browser: Any, node: RunningNode) -> None:
    """Alice is signed in on a laptop and a phone; from the phone she signs out every
    other browser: the laptop is sent to the sign-in form, the phone stays signed in."""
    async with (
        signed_in(browser, node, "alice", DESKTOP) as laptop,
        signed_in(browser, node, "alice", PHONE) as phone,
    ):
        await phone.goto("/settings")
        await phone.get_by_text("This browser has been signed in since").wait_for()
        await phone.get_by_role("button", name="Sign out everywhere else").click()
        await phone.get_by_role("status").get_by_text("signed out everywhere else").wait_for()
        await phone.get_by_text("All other browsers were last signed out at").wait_for()

        await laptop.goto("/home")
        assert laptop.url.endswith("/signin")
        await phone.goto("/home")
        assert phone.url.endswith("/home")


async def test_sessions_are_listed_and_ended_one_by_one(browser: Any, node: RunningNode) -> None:
    """Two browsers signed in as the same person: each lists both sessions, marks its
    own, and can sign the other one out alone; signing out ends a session for good."""
    async with (
        signed_in(browser, node, "frank", DESKTOP) as laptop,
        signed_in(browser, node, "frank", PHONE) as phone,
    ):
        await phone.goto("/settings")
        sessions = phone.locator("ul.sessions li")
        assert await sessions.count() == 2
        assert await phone.get_by_text("(this browser)").count() == 1
        await sessions.get_by_role("button", name="Sign out").click()
        await phone.get_by_role("status").get_by_text("That browser is signed out").wait_for()
        assert await phone.locator("ul.sessions li").count() == 1
        await laptop.goto("/home")
        assert laptop.url.endswith("/signin")
        await phone.goto("/home")
        assert phone.url.endswith("/home")
        # Signing out removes the session: the same cookie replayed is signed out
        cookies = await phone.context.cookies()
        await phone.get_by_role("button", name="Sign out").click()
        await phone.wait_for_url("**/signin")
        await phone.context.add_cookies(cookies)
        await phone.goto("/home")
        assert phone.url.endswith("/signin")


async def test_avatar_form_needs_its_token_first(browser: Any, node: RunningNode) -> None:
    """A picture posted without the form's token is refused with 403; one sent before the
    token is not even read (nothing is stored before the token is checked), so the form
    is refused as having no picture. Either way the picture stays as it was."""
    async with signed_in(browser, node, "erin", PHONE) as page:
        await page.goto("/settings")
        token = await page.locator('input[name="csrf_token"]').first.get_attribute("value")
        picture = {"name": "me.png", "mimeType": "image/png", "buffer": _png(64)}
        response = await page.request.post("/settings/avatar", multipart={"avatar": picture})
        assert response.status == 403
        response = await page.request.post(
            "/settings/avatar", multipart={"avatar": picture, "csrf_token": token or ""}
        )
        assert response.status == 422
        assert "choose a picture" in await response.text()
        await page.goto("/settings")
        assert await page.get_by_role("img", name="Your current picture").count() == 0
