"""How every web page answers: the same security headers, the session cookie when new, and
forms refused with a readable 403 page when their CSRF token is missing or wrong."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from node.appkeys import NODE
from node.profiles import node_summary
from webui.i18n import language_links, remember_locale, translator
from webui.keys import TEMPLATES
from webui.sessions import CSRF_FIELD, WebSession, csrf_for, csrf_valid, current_session, store

#: No inline script or style anywhere: the CSS lives in /static/cercle.css.
CSP = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # The language follows the browser's Accept-Language and the cercle_lang cookie.
    "Vary": "Accept-Language, Cookie",
}
#: Pages that show a signed-in person's data are never stored by caches.
PRIVATE_HEADERS = {**PAGE_HEADERS, "Cache-Control": "no-store"}

Form = MultiDictProxy[str | bytes | Any]
FormHandler = Callable[[web.Request, WebSession, Form], Awaitable[web.StreamResponse]]


async def render(
    request: web.Request, name: str, status: int = 200, *, forms: bool = True, **context: Any
) -> web.Response:
    """Render a template with the node's summary, the session and its CSRF token.

    ``forms=False`` is for public pages read by anonymous visitors: they get no cookie
    (so shared caches may keep the page) and the sign-out form only if signed in."""
    session = await current_session(request)
    context.setdefault("summary", await node_summary(request.app[NODE]))
    with_forms = forms or session.signed_in
    language = translator(request)
    if isinstance(context.get("error"), str):
        # Node services speak English; the messages in webui/node_messages.py have French.
        context["error"] = language.translations.gettext(context["error"])
    shared: dict[str, Any] = {
        "me": session.actor,
        "admin": session.user is not None and session.user.is_admin,
        "nav": True,
        "csrf_field": CSRF_FIELD,
        "csrf": await csrf_for(request) if with_forms else "",
        "translator": language,
        "lang": language.locale,
        "languages": language_links(request),
        "path": request.path,
    }
    # A page's own values win over the shared ones (a page may set ``nav`` or ``path``).
    html = await request.app[TEMPLATES].get_template(name).render_async({**shared, **context})
    headers = PRIVATE_HEADERS if session.signed_in else PAGE_HEADERS
    response = web.Response(text=html, content_type="text/html", status=status, headers=headers)
    response.headers["Content-Language"] = language.locale
    remember_locale(request, response)
    if with_forms:
        await store(request, response)
    return response


def json_error(status: int, message: str) -> web.Response:
    """The answer to a page script's request that cannot be served: ``{"error": ...}``."""
    return web.json_response({"error": message}, status=status, headers=PRIVATE_HEADERS)


async def see_other(request: web.Request, location: str) -> web.Response:
    """The end of a successful form post (Post/Redirect/Get): a reload does not repost."""
    response = web.Response(status=303, headers={"Location": location, **PAGE_HEADERS})
    await store(request, response)
    return response


def form_field(form: Form, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def form_post(*, signed_in: bool = True) -> Callable[[FormHandler], Callable[..., Any]]:
    """Wrap a POST handler: refuse it (403, a page saying why) without a valid CSRF token,
    and send visitors who are not signed in to the sign-in page."""

    def wrap(handler: FormHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            session = await current_session(request)
            form = await request.post()
            if not await csrf_valid(request, form_field(form, CSRF_FIELD)):
                return await render(request, "forbidden.html", status=403)
            if signed_in and not session.signed_in:
                return await see_other(request, "/signin")
            return await handler(request, session, form)

        wrapped.__doc__ = handler.__doc__
        wrapped.__name__ = handler.__name__
        return wrapped

    return wrap
