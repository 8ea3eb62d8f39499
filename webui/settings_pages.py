"""The settings page: profile (name, bio, locked, listed), avatar, password, and the
apps allowed to act for the account. Web sessions are in ``webui.session_pages``.

Each section is its own small form; success comes back to ``/settings?saved=…`` (a fixed
key, never text from the request) and a refusal shows the page again with the reason in
that section, having changed nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import BodyPartReader, web

from node.account_settings import (
    AVATAR_MAX_BYTES,
    authorised_apps,
    change_password,
    revoke_app,
    sessions_cut_at,
    set_avatar,
    sign_out_other_sessions,
)
from node.accounts import (
    MAX_DISPLAY_NAME,
    MAX_NOTE,
    ProfileChange,
    profile_source_note,
    update_profile,
)
from node.appkeys import NODE
from node.errors import CercleError, Invalid
from node.web_sessions import end_session, sessions_of
from webui.i18n import translator
from webui.page_access import signed_in_page
from webui.responses import Form, form_field, form_post, render, see_other
from webui.sessions import CSRF_FIELD, WebSession, csrf_valid, current_session, sign_in

#: An upload is read at most this far before the page answers: past it the browser is
#: still sending, and answering early can look like a broken connection to it.
DRAIN_LIMIT = 64 * 1024 * 1024
#: The other fields of the avatar form (its CSRF token) are short.
FIELD_LIMIT = 256


def _saved_messages(request: web.Request) -> dict[str, str]:
    _ = translator(request).gettext
    return {
        "profile": _("Your profile was saved."),
        "avatar": _("Your new picture is on your profile."),
        "password": _("Your password was changed."),
        "app": _("The app can no longer use your account."),
        "sessions": _("You are signed out everywhere else."),
        "session": _("That browser is signed out."),
    }


async def settings_view(
    request: web.Request,
    session: WebSession,
    *,
    status: int = 200,
    section: str | None = None,
    error: str | None = None,
    **kept: Any,
) -> web.Response:
    """The page; ``section`` names where ``error`` goes, ``kept`` refills a form."""
    node = request.app[NODE]
    me = session.actor
    assert me is not None and session.user is not None
    saved = _saved_messages(request).get(request.query.get("saved", "")) if status == 200 else None
    return await render(
        request,
        "settings.html",
        status=status,
        saved=saved,
        section=section,
        error=error,
        display_name=kept.get("display_name", me.display_name),
        note=kept.get("note", profile_source_note(me)),
        locked=kept.get("locked", me.manually_approves),
        discoverable=kept.get("discoverable", me.discoverable),
        max_display_name=MAX_DISPLAY_NAME,
        max_note=MAX_NOTE,
        avatar_max_mb=AVATAR_MAX_BYTES // 2**20,
        apps=await authorised_apps(node, session.user.id),
        signed_in_at=datetime.fromtimestamp(session.issued, tz=UTC),
        sessions_cut=await sessions_cut_at(node, session.user.id),
        open_sessions=await sessions_of(node, session.user.id, session.nonce),
    )


@signed_in_page
async def settings_page(request: web.Request, session: WebSession) -> web.Response:
    """``GET /settings``."""
    return await settings_view(request, session)


@form_post()
async def save_profile(request: web.Request, session: WebSession, form: Form) -> web.StreamResponse:
    """``POST /settings/profile``: name, bio, locked, listed in the directory."""
    assert session.actor is not None
    change = ProfileChange(
        display_name=form_field(form, "display_name"),
        note=form_field(form, "note"),
        locked=form_field(form, "locked") == "on",
        discoverable=form_field(form, "discoverable") == "on",
    )
    try:
        await update_profile(request.app[NODE], session.actor.id, change)
    except CercleError as exc:
        return await settings_view(
            request,
            session,
            status=exc.status,
            section="profile",
            error=exc.message,
            display_name=change.display_name,
            note=change.note,
            locked=change.locked,
            discoverable=change.discoverable,
        )
    return await see_other(request, "/settings?saved=profile#profile")


@form_post()
async def save_password(
    request: web.Request, session: WebSession, form: Form
) -> web.StreamResponse:
    """``POST /settings/password``: needs the current password."""
    assert session.user is not None
    try:
        await change_password(
            request.app[NODE],
            session.user.id,
            form_field(form, "current"),
            form_field(form, "new"),
            form_field(form, "again"),
        )
    except CercleError as exc:
        return await settings_view(
            request, session, status=exc.status, section="password", error=exc.message
        )
    return await see_other(request, "/settings?saved=password#password")


@form_post()
async def revoke(request: web.Request, session: WebSession, form: Form) -> web.StreamResponse:
    """``POST /settings/apps/{app id}/revoke``."""
    assert session.user is not None
    try:
        await revoke_app(request.app[NODE], session.user.id, int(request.match_info["app_id"]))
    except CercleError as exc:
        return await settings_view(
            request, session, status=exc.status, section="apps", error=exc.message
        )
    return await see_other(request, "/settings?saved=app#apps")


@form_post()
async def sign_out_others(
    request: web.Request, session: WebSession, form: Form
) -> web.StreamResponse:
    """``POST /settings/sessions/sign-out-others``: every other browser is signed out on
    its next page; this one gets a fresh session cookie, dated just after the cut (at
    most a second ahead), and stays signed in."""
    assert session.user is not None and session.actor is not None
    valid_from = await sign_out_other_sessions(request.app[NODE], session.user.id)
    fresh = await sign_in(request, session.user, session.actor)
    fresh.issued = max(fresh.issued, valid_from)
    return await see_other(request, "/settings?saved=sessions#sessions")


@form_post()
async def sign_out_one(request: web.Request, session: WebSession, form: Form) -> web.StreamResponse:
    """``POST /settings/sessions/{id}/sign-out``: end one of the account's sessions (the
    browser holding it is signed out on its next page)."""
    assert session.user is not None
    ended = await end_session(
        request.app[NODE], session.user.id, id=int(request.match_info["session_id"])
    )
    if not ended:
        return await settings_view(
            request, session, status=404, section="sessions", error="no such session"
        )
    return await see_other(request, "/settings?saved=session#sessions")


@dataclass
class _Part:
    """One form part as read: ``data`` is None when it was longer than its limit, and
    ``ended`` is False when even draining it stopped at ``DRAIN_LIMIT``."""

    data: bytes | None
    ended: bool = True


async def _read_part(part: BodyPartReader, limit: int) -> _Part:
    """Read a part, keeping at most ``limit`` bytes; past it the rest is drained (up to
    ``DRAIN_LIMIT``) so that the browser, still sending, gets to read the answer."""
    chunks: list[bytes] = []
    total = 0
    while chunk := await part.read_chunk(65536):
        total += len(chunk)
        if total > limit:
            while (more := await part.read_chunk(65536)) and total <= DRAIN_LIMIT:
                total += len(more)
            return _Part(None, ended=not more)
        chunks.append(chunk)
    return _Part(b"".join(chunks))


async def upload_avatar(request: web.Request) -> web.StreamResponse:
    """``POST /settings/avatar`` (multipart). Streamed part by part rather than through
    ``form_post``: the picture may be above the node's body limit for forms, and a
    too-large one must get the settings page with a reason, not a bare 413. The CSRF
    field comes first in the form, so it is checked before the file is read; any other
    part is read within a small limit, and a body that will not end stops the reading."""
    session = await current_session(request)
    _ = translator(request).gettext
    if request.content_type != "multipart/form-data":
        return await render(request, "forbidden.html", status=403)
    reader = await request.multipart()
    token = ""
    picture = _Part(b"")
    mime_type: str | None = None
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            break
        if part.name == CSRF_FIELD:
            token = ((await _read_part(part, FIELD_LIMIT)).data or b"").decode(errors="replace")
            if not await csrf_valid(request, token):
                return await render(request, "forbidden.html", status=403)
        elif part.name == "avatar" and token:
            mime_type = part.headers.get("Content-Type")
            picture = await _read_part(part, AVATAR_MAX_BYTES)
            if not picture.ended:
                break
        elif not (await _read_part(part, FIELD_LIMIT)).ended:
            break
    if not token or not await csrf_valid(request, token):
        return await render(request, "forbidden.html", status=403)
    if not session.signed_in:
        return await see_other(request, "/signin")
    assert session.actor is not None
    try:
        if picture.data is None:
            raise Invalid(
                _("The picture is too large: at most %(mb)d MB.", mb=AVATAR_MAX_BYTES // 2**20)
            )
        await set_avatar(request.app[NODE], session.actor, picture.data, mime_type)
    except CercleError as exc:
        return await settings_view(
            request, session, status=exc.status, section="avatar", error=exc.message
        )
    return await see_other(request, "/settings?saved=avatar#avatar")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/settings", settings_page)
    app.router.add_post("/settings/profile", save_profile)
    app.router.add_post("/settings/password", save_password)
    app.router.add_post("/settings/avatar", upload_avatar)
    app.router.add_post(r"/settings/apps/{app_id:\d+}/revoke", revoke)
    app.router.add_post("/settings/sessions/sign-out-others", sign_out_others)
    app.router.add_post(r"/settings/sessions/{session_id:\d+}/sign-out", sign_out_one)
