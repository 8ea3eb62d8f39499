"""WebFinger (RFC 7033) and host-meta (RFC 6415): turning ``bob@host`` into an actor URL.

Both directions live here: the documents Cercle serves for its own accounts, and the lookup of
a remote handle. The lookup asks ``/.well-known/webfinger`` first; when that answers 404 it
reads host-meta's ``lrdd`` template, because some servers serve WebFinger elsewhere and
announce it there (as Mastodon's own lookup does).
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from yarl import URL

from federation.errors import FetchError
from federation.fetch import Fetcher
from federation.media_types import ACTIVITY_JSON, JRD_JSON, XRD_XML, parse_media_type

PROFILE_PAGE_REL = "http://webfinger.net/rel/profile-page"
SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"
_XRD_NS = "http://docs.oasis-open.org/ns/xri/xrd-1.0"
_JRD_ACCEPT = f"{JRD_JSON}, application/json;q=0.9"

_USER = re.compile(r"[\w.~+-]+")
_HOST = re.compile(r"(?:[\w-]+(?:\.[\w-]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


def parse_handle(handle: str) -> tuple[str, str]:
    """Split ``bob@host``, ``@bob@host:8081`` or ``acct:bob@host`` into ``(user, host)``.

    The host keeps its port (a loopback test peer lives on one) and is lower-cased; the user
    keeps its case, which the remote server may care about.
    """
    text = handle.strip()
    if text[:5].lower() == "acct:":
        text = text[5:]
    elif text.startswith("@"):
        text = text[1:]
    user, at, host = text.partition("@")
    if not at or not user or not host:
        raise ValueError(f"not a handle (expected user@host): {handle!r}")
    if not _USER.fullmatch(user):
        raise ValueError(f"invalid user name in handle {handle!r}")
    if not _HOST.fullmatch(host):
        raise ValueError(f"invalid host in handle {handle!r}")
    return user, host.lower().rstrip(".")


def _origin(url: str) -> str:
    return str(URL(url).origin())


def build_jrd(
    *,
    username: str,
    domain: str,
    actor_url: str,
    profile_url: str,
    subscribe_template: str | None = None,
) -> dict:
    """The JRD Cercle serves for one local account, shaped like Mastodon's.

    ``subscribe_template`` is the remote-follow page; by default the Mastodon path
    ``/authorize_interaction?uri={uri}`` on the actor's origin.
    """
    if subscribe_template is None:
        subscribe_template = f"{_origin(actor_url)}/authorize_interaction?uri={{uri}}"
    return {
        "subject": f"acct:{username}@{domain}",
        "aliases": [profile_url, actor_url],
        "links": [
            {"rel": PROFILE_PAGE_REL, "type": "text/html", "href": profile_url},
            {"rel": "self", "type": ACTIVITY_JSON, "href": actor_url},
            {"rel": SUBSCRIBE_REL, "template": subscribe_template},
        ],
    }


def _lrdd_template(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/.well-known/webfinger?resource={{uri}}"


def build_host_meta_xml(base_url: str) -> str:
    """``/.well-known/host-meta`` as XRD (RFC 6415), pointing at the WebFinger endpoint.

    The ``xml`` modules are imported here and below, not with the module: few requests
    need them, and they cost an idle node ≈ 0.6 MB.
    """
    from xml.sax.saxutils import quoteattr

    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<XRD xmlns="{_XRD_NS}">\n'
        f'  <Link rel="lrdd" template={quoteattr(_lrdd_template(base_url))}/>\n'
        "</XRD>\n"
    )


def build_host_meta_json(base_url: str) -> dict:
    """``/.well-known/host-meta.json``: the same as JRD (RFC 6415 appendix A)."""
    return {"links": [{"rel": "lrdd", "template": _lrdd_template(base_url)}]}


def _template_from_host_meta(body: bytes) -> str | None:
    """The ``lrdd`` template of a host-meta document in XRD or JRD form, if any.

    ElementTree never fetches external entities, and the body is already size-capped.
    """
    from xml.etree import ElementTree

    text = body.lstrip()
    if text.startswith(b"{"):
        try:
            links = json.loads(text).get("links", [])
        except (ValueError, AttributeError, RecursionError):
            return None
        if not isinstance(links, list):  # {"links": 0} (tests/fuzz/test_webfinger_fuzz.py)
            return None
        templates = [
            link.get("template")
            for link in links
            if isinstance(link, dict) and link.get("rel") == "lrdd"
        ]
    else:
        try:
            root = ElementTree.fromstring(text)
        except ElementTree.ParseError:
            return None
        templates = [
            link.get("template")
            for link in root.iter(f"{{{_XRD_NS}}}Link")
            if link.get("rel") == "lrdd"
        ]
    found = [t for t in templates if isinstance(t, str) and "{uri}" in t]
    return found[0] if found else None


def _actor_link(jrd: dict) -> str | None:
    """The ``self`` link whose type is ActivityPub JSON (activity+json or ld+json)."""
    links = jrd.get("links")
    if not isinstance(links, list):
        return None
    for link in links:
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        mime, _ = parse_media_type(str(link.get("type", "")))
        href = link.get("href")
        if mime in (ACTIVITY_JSON, "application/ld+json") and isinstance(href, str) and href:
            return href
    return None


async def resolve_handle(fetcher: Fetcher, handle: str, *, scheme: str = "https") -> str:
    """The actor URL of a handle, by WebFinger, falling back on host-meta after a 404.

    WebFinger requests are unsigned: they are public and some servers reject signed ones
    from unknown keys. ``scheme="http"`` is for loopback peers in dev mode and tests.
    """
    user, host = parse_handle(handle)
    resource = f"acct:{user}@{host}"
    url = f"{scheme}://{host}/.well-known/webfinger?resource={quote(resource, safe=':@')}"
    try:
        jrd = await fetcher.get_json(url, accept=_JRD_ACCEPT, signed=False)
    except FetchError as exc:
        if exc.status != 404:
            raise
        status, _, body = await fetcher.get(
            f"{scheme}://{host}/.well-known/host-meta", accept=f"{XRD_XML}, {JRD_JSON};q=0.9"
        )
        template = _template_from_host_meta(body) if 200 <= status < 300 else None
        if template is None:
            raise FetchError(f"WebFinger found no {user}@{host}", status=404) from exc
        lrdd_url = template.replace("{uri}", quote(resource, safe=""))
        jrd = await fetcher.get_json(lrdd_url, accept=_JRD_ACCEPT, signed=False)
    actor_url = _actor_link(jrd)
    if actor_url is None:
        raise FetchError(f"no ActivityPub actor for {user}@{host}")
    return actor_url
