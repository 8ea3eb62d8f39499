"""The admin dashboard of adoption figures (``/admin/adoption``): key figures, and
charts drawn on the server as SVG (webui/svg_charts.py) that read on a phone; the same
figures as CSV at ``/admin/adoption.csv``.

The figures are aggregates (node/adoption.py): nothing here is about one person.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.adoption import PERIODS, adoption_figures, to_csv
from node.appkeys import NODE
from webui.i18n import translator
from webui.page_access import admin_page
from webui.responses import PRIVATE_HEADERS, render
from webui.sessions import WebSession
from webui.svg_charts import daily_bars, horizontal_bars


def _period(request: web.Request) -> str:
    period = request.query.get("period", "week")
    return period if period in PERIODS else "week"


def _charts(request: web.Request, figures: dict[str, Any]) -> list[tuple[str, Any]]:
    _ = translator(request).gettext
    audience_names = {
        "public": _("Public"),
        "unlisted": _("Unlisted"),
        "followers": _("Followers"),
        "organisation": _("Whole firm"),
        "partners": _("Partners"),
        "circle": _("Circles"),
        "group": _("Groups"),
        "direct": _("Direct"),
    }
    nothing = _("Nothing in this period")
    daily = figures["daily"]
    cross = figures["cross_firm_interactions"]
    charts = [
        (
            _("People active each day"),
            daily_bars(
                "chart-active",
                _("People active each day"),
                [(d["day"], d["active_users"]) for d in daily],
            ),
        ),
        (
            _("Posts each day"),
            daily_bars("chart-posts", _("Posts each day"), [(d["day"], d["posts"]) for d in daily]),
        ),
        (
            _("Posts by audience"),
            horizontal_bars(
                "chart-audiences",
                _("Posts by audience"),
                [
                    (audience_names.get(a, a), n)
                    for a, n in figures["posts_by_audience"].items()
                    if n
                ],
                empty=nothing,
            ),
        ),
        (
            _("Replies by audience"),
            horizontal_bars(
                "chart-replies",
                _("Replies by audience"),
                [
                    (audience_names.get(a, a), n)
                    for a, n in figures["replies_by_audience"].items()
                    if n
                ],
                empty=nothing,
            ),
        ),
        (
            _("With partner firms"),
            horizontal_bars(
                "chart-cross",
                _("With partner firms"),
                [
                    (_("Replies"), cross["replies"]),
                    (_("Favourites"), cross["favourites"]),
                    (_("Group posts"), cross["group_posts"]),
                ],
                empty=nothing,
            ),
        ),
        (
            _("Most active groups"),
            horizontal_bars(
                "chart-groups",
                _("Most active groups"),
                [(g["name"], g["posts"]) for g in figures["groups"]],
                empty=nothing,
            ),
        ),
    ]
    return charts


@admin_page
async def dashboard(request: web.Request, session: WebSession) -> web.Response:
    """``GET /admin/adoption?period=week|month``."""
    period = _period(request)
    figures = await adoption_figures(request.app[NODE], period)
    return await render(
        request,
        "admin_adoption.html",
        period=period,
        figures=figures,
        charts=_charts(request, figures),
    )


@admin_page
async def dashboard_csv(request: web.Request, session: WebSession) -> web.Response:
    """``GET /admin/adoption.csv?period=week|month``: the same figures for a spreadsheet."""
    period = _period(request)
    figures = await adoption_figures(request.app[NODE], period)
    return web.Response(
        text=to_csv(figures),
        content_type="text/csv",
        headers={
            **PRIVATE_HEADERS,
            "Content-Disposition": f'attachment; filename="adoption-{period}.csv"',
        },
    )


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/admin/adoption", dashboard)
    app.router.add_get("/admin/adoption.csv", dashboard_csv)
