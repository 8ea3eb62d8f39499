"""French and English, and accessibility, in a real Chromium: the language follows the
browser and can be switched; axe-core finds no serious or critical problem on the main
pages, in the light and the dark theme, at phone and desktop sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from node import audience as aud
from node.posts import create_post
from tests.browser.accessibility import axe_violations, blocking, describe
from tests.browser.test_pages import DESKTOP, PHONE, signed_in_page
from tests.harness import PASSWORD, NodeFactory, RunningNode

#: French typography's apostrophe, as the catalog writes it.
APOS = "\u2019"


async def test_french_browser_gets_french_pages(browser: Any, node_a: RunningNode) -> None:
    """A browser set to French (Accept-Language: fr-FR) gets the pages in French, from the
    sign-in form to the audience picker's plain words."""
    context = await browser.new_context(viewport=PHONE, base_url=node_a.base_url, locale="fr-FR")
    page = await context.new_page()
    response = await page.goto("/signin")
    assert response.headers["content-language"] == "fr"
    assert await page.get_attribute("html", "lang") == "fr"
    await page.get_by_label(f"Nom d{APOS}utilisateur ou adresse e-mail").fill("alice")
    await page.get_by_label("Mot de passe").fill("pas le bon")
    await page.get_by_role("button", name="Se connecter").click()
    await page.get_by_role("alert").wait_for()
    assert f"Nom d{APOS}utilisateur, adresse e-mail ou mot de passe incorrect" in (
        await page.get_by_role("alert").inner_text()
    )
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url("**/home")
    picker = page.get_by_role("group", name="Qui le verra")
    assert f"Tout le monde chez Org a, et personne d{APOS}autre" in await picker.inner_text()
    await page.get_by_text("Plus", exact=True).click()  # the menu of the other pages
    await page.get_by_role("link", name="Cercles").click()
    await page.get_by_role("heading", name="Cercles").wait_for()
    await context.close()


async def test_switching_to_french_and_back(browser: Any, node_a: RunningNode) -> None:
    """An English browser switches to French with the footer link; the choice sticks to
    the next pages (a cookie) until switched back."""
    page = await signed_in_page(browser, node_a, "alice", PHONE)
    assert await page.get_by_role("heading", name="Your timeline").count() == 1
    # When Alice follows the "Français" link
    await (
        page.get_by_role("navigation", name="Language").get_by_role("link", name="Français").click()
    )
    # Then this page and the next are in French
    await page.get_by_role("heading", name="Votre fil").wait_for()
    await page.goto("/compose")
    assert await page.get_by_role("heading", name="Écrire").count() == 1
    assert await page.get_by_role("button", name="Publier").count() == 1
    # And back to English
    await page.get_by_role("navigation", name="Langue").get_by_role("link", name="English").click()
    await page.get_by_role("heading", name="Compose").wait_for()
    await page.goto("/circles")
    assert await page.get_by_role("heading", name="Circles").count() == 1
    await page.context.close()


MAIN_PAGES = ("/home", "/compose", "/circles", "/@alice", "/offline")


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_main_pages_pass_axe(
    browser: Any, node_factory: NodeFactory, artifacts: Path, scheme: str
) -> None:
    """axe-core 4.14.1 (WCAG 2.x A/AA rules, contrast included) on the main pages, with
    content on them: no serious or critical violation, in either theme or language."""
    node = await node_factory.start("a", users=("alice", "carol"))
    carol = await node.actor("carol")
    await create_post(node.node, carol, "A post with a <a href='https://example.com'>link</a>")
    await create_post(node.node, carol, "Hello firm", audience=aud.ORGANISATION)
    anonymous = await browser.new_context(viewport=PHONE, base_url=node.base_url)
    stranger = await anonymous.new_page()
    await stranger.emulate_media(color_scheme=scheme)
    found: dict[str, list[dict[str, Any]]] = {}
    for path in ("/signin", "/", "/@carol"):
        await stranger.goto(path)
        found[f"anonymous {path}"] = await axe_violations(stranger)
    await anonymous.close()
    for viewport, lang in ((PHONE, "en"), (DESKTOP, "fr")):
        page = await signed_in_page(browser, node, "alice", viewport)
        await page.emulate_media(color_scheme=scheme)
        for path in MAIN_PAGES:
            await page.goto(f"{path}?lang={lang}")
            found[f"{viewport['width']} {lang} {path}"] = await axe_violations(page)
        await page.goto("/home")
        await page.locator("details.more summary").click()  # the open menu, too
        found[f"{viewport['width']} {lang} menu"] = await axe_violations(page)
        await page.context.close()
    (artifacts / f"axe-{scheme}.txt").write_text(
        describe([{"page": k, "violations": v} for k, v in found.items()])
    )
    serious = {page: blocking(v) for page, v in found.items() if blocking(v)}
    assert not serious, describe([{"page": k, "violations": v} for k, v in serious.items()])


async def test_axe_does_catch_a_violation(browser: Any, node_a: RunningNode) -> None:
    """The check above can fail: a control without a label, added to a real page, is
    reported as a critical violation."""
    page = await signed_in_page(browser, node_a, "alice", PHONE)
    await page.evaluate(
        "() => document.querySelector('main').appendChild(document.createElement('select'))"
    )
    ids = {v["id"] for v in blocking(await axe_violations(page))}
    assert "select-name" in ids
    await page.context.close()


async def focused(page: Any) -> dict[str, str]:
    return dict(
        await page.evaluate(
            """() => {
                const el = document.activeElement;
                return {tag: el.tagName.toLowerCase(), text: el.textContent.trim(),
                        id: el.id, outline: getComputedStyle(el).outlineStyle};
            }"""
        )
    )


async def test_posting_with_the_keyboard_alone(browser: Any, node_a: RunningNode) -> None:
    """Keyboard navigation: the first Tab reaches the skip link, which jumps past the
    menu to the form; Tab walks text, audience and button, each with a visible focus ring,
    and Enter posts."""
    page = await signed_in_page(browser, node_a, "alice", PHONE)
    await page.goto("/compose")
    await page.keyboard.press("Tab")
    skip = await focused(page)
    assert skip["text"] == "Skip to content" and skip["outline"] != "none"
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    assert (await focused(page))["id"] == "text"
    await page.keyboard.type("Typed without a mouse")
    await page.keyboard.press("Tab")  # into the audience group, on the chosen one
    audience = await page.evaluate("() => document.activeElement.value")
    assert audience == "organisation"
    await page.keyboard.press("Tab")
    button = await focused(page)
    assert button["tag"] == "button" and button["outline"] != "none"
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/home")
    await page.locator("#feed").get_by_text("Typed without a mouse").wait_for()

    # The "More" menu opens with Enter, is walked with Tab, and closes with Escape
    await page.locator("details.more summary").focus()
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    assert (await focused(page))["text"] == "Circles"
    await page.keyboard.press("Escape")
    assert not await page.evaluate("() => document.querySelector('details.more').open")
    assert (await focused(page))["tag"] == "summary"
    await page.context.close()


async def test_french_dark_pages_fit_a_phone(
    browser: Any, node_a: RunningNode, artifacts: Path
) -> None:
    """French runs longer than English: home, compose and circles still fit 360 px without
    sideways scrolling, in the dark theme too (screenshots kept in tests/artifacts/)."""
    page = await signed_in_page(browser, node_a, "alice", PHONE)
    await page.emulate_media(color_scheme="dark")
    await page.goto("/circles?lang=fr")
    await page.get_by_label("Nouveau cercle").fill("Un cercle au nom vraiment très long")
    await page.get_by_role("button", name="Créer le cercle").click()
    await page.get_by_role("heading", name="Un cercle au nom vraiment très long").wait_for()
    for path in ("/home", "/compose", "/circles"):
        await page.goto(path)
        assert await page.get_attribute("html", "lang") == "fr"
        await page.screenshot(
            path=str(artifacts / f"{path.strip('/')}-360x640-fr-dark.png"), full_page=True
        )
        assert await page.evaluate(
            "() => document.documentElement.scrollWidth <= window.innerWidth"
        ), f"{path} scrolls sideways at 360 px in French"
    await page.context.close()


async def test_language_headers_links_and_cookie(node_a: RunningNode) -> None:
    """Caches are told the page depends on the language; the switch keeps the rest of the
    address; the choice is remembered only when asked for (anonymous readers of public
    pages otherwise get no cookie at all)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        headers = {"Accept-Language": "en-GB,en;q=0.9"}
        async with http.get(f"{node_a.base_url}/@alice?page=2", headers=headers) as response:
            assert response.headers["Content-Language"] == "en"
            assert "Accept-Language" in response.headers["Vary"]
            assert "Set-Cookie" not in response.headers
            assert 'href="/@alice?page=2&amp;lang=fr"' in await response.text()
        async with http.get(f"{node_a.base_url}/@alice?lang=fr", headers=headers) as response:
            assert response.headers["Content-Language"] == "fr"
            assert response.cookies["cercle_lang"].value == "fr"
            assert "cercle_session" not in response.cookies
        async with http.get(f"{node_a.base_url}/@alice", headers=headers) as response:
            assert response.headers["Content-Language"] == "fr"  # remembered
            assert "publication" in await response.text()
