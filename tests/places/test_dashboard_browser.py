"""The adoption dashboard in a real Chromium at phone and desktop widths: its charts are
drawn, visible, inside the screen and legible; only admins get the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.accessibility import BLOCKING, axe_violations
from tests.browser.test_pages import no_horizontal_scroll, signed_in_page
from tests.harness import NodeFactory
from tests.places.seed import seed

PHONE = {"width": 360, "height": 640}
DESKTOP = {"width": 1280, "height": 800}
CHARTS = (
    "chart-active",
    "chart-posts",
    "chart-audiences",
    "chart-replies",
    "chart-cross",
    "chart-groups",
)


async def test_dashboard_charts_render_at_360_and_1280_px(
    browser: Any, node_factory: NodeFactory, artifacts: Path
) -> None:
    """Given the seeded firm, when its admin opens the dashboard on a phone and on a
    desktop, then every chart is on screen with bars drawn, no text smaller than 11 px,
    no sideways scrolling; the figures are those of the API; alice gets a 403 page."""
    world = await seed(node_factory)
    for viewport in (PHONE, DESKTOP):
        page = await signed_in_page(browser, world.a, "admin", viewport)
        response = await page.goto("/admin/adoption?period=week")
        assert response is not None and response.status == 200
        await page.get_by_role("heading", name="Adoption", exact=True).wait_for()
        assert await page.locator("#figure-active").inner_text() == "3 / 5"
        assert await page.locator("#figure-reply").inner_text() == "15.0 min"
        for chart_id in CHARTS:
            chart = page.locator(f"#{chart_id}")
            await chart.scroll_into_view_if_needed()
            assert await chart.is_visible(), chart_id
            box = await chart.bounding_box()
            assert box is not None
            assert box["height"] > 30, (chart_id, box)
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (chart_id, box)
            drawn = await chart.evaluate(
                "svg => [...svg.querySelectorAll('rect')]"
                ".filter(r => r.getBoundingClientRect().width > 0"
                " && r.getBoundingClientRect().height > 0).length"
            )
            assert drawn > 0, f"{chart_id} has no bar drawn"
            smallest = await chart.evaluate(
                "svg => Math.min(...[...svg.querySelectorAll('text')]"
                ".map(t => t.getBoundingClientRect().height))"
            )
            assert smallest >= 11, (chart_id, smallest)
        assert await no_horizontal_scroll(page)
        blocking = [v for v in await axe_violations(page) if v["impact"] in BLOCKING]
        assert blocking == [], blocking
        name = f"adoption-{viewport['width']}x{viewport['height']}.png"
        await page.screenshot(path=str(artifacts / name), full_page=True)
        month = await page.goto("/admin/adoption?period=month")
        assert month is not None and month.status == 200
        assert await page.locator("#figure-active").inner_text() == "4 / 5"
        csv = await page.request.get("/admin/adoption.csv?period=month")
        assert csv.status == 200 and "monthly_active_users,,4" in await csv.text()
        await page.context.close()

    alice = await signed_in_page(browser, world.a, "alice", PHONE)
    refused = await alice.goto("/admin/adoption")
    assert refused is not None and refused.status == 403
    await alice.context.close()
