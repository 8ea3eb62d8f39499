"""``docs/openapi.json`` checked against a running node, so that the description cannot
drift from the server:

* every client-API route the application registers is documented, and every documented
  operation is registered;
* a scenario that creates real data (two people following each other, a locked account,
  posts with media and a poll, favourites, boosts, notifications, a list, markers) calls
  every documented operation and validates each answer against the documented schema
  (JSON Schema 2020-12, the components resolved, formats checked): a field the document
  marks required that disappears or changes type fails here, and so does a status code
  the document does not list;
* error answers (401, 403, 404, 422) are the documented ``Error`` entity;
* each operation's documented security is what the server enforces: anonymous callers
  are refused exactly where a token is required, a token holding only the documented
  scope is let through, and a token holding every other scope is refused with 403.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match
from PIL import Image

from node.api.scopes import grants
from tests.api.conftest import issue_token
from tests.circles.openapi_scenario import groups_scenario
from tests.harness import PASSWORD, NodeFactory, RunningNode
from tests.identity.openapi_scenario import identity_scenario
from tests.moderation.openapi_scenario import moderation_scenario
from tests.places.openapi_scenario import places_scenario

DOC = json.loads((Path(__file__).parents[2] / "docs" / "openapi.json").read_text())
PREFIXES = ("/api/", "/oauth/", "/.well-known/oauth-authorization-server")
METHODS = ("get", "put", "post", "delete", "patch")
DENIED = (401, 403)

FORMATS = FormatChecker(formats=())
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return bool(ISO_TIME.match(value)) and bool(datetime.fromisoformat(value))


@FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    return not isinstance(value, str) or bool(date.fromisoformat(value))


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https", "ws", "wss") and bool(parts.netloc)


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in DOC["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node and len(node) == 1:
        target: Any = DOC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def registered(running: RunningNode) -> set[tuple[str, str]]:
    """The client-API routes of the live application, trailing-slash twins folded."""
    assert running.runner is not None
    found = set()
    for route in running.runner.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method in ("HEAD", "OPTIONS") or not path.startswith(PREFIXES):
            continue
        found.add((route.method, path))
    return found


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def upload(description: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", png(), filename="chart.png", content_type="image/png")
    form.add_field("description", description)
    return form


class Checked:
    """Calls documented operations on a live node and checks each answer against the
    document: the status code is one it lists, the content type one it lists, a JSON
    body valid against its schema. Mismatches are collected so that one run reports
    all of them."""

    def __init__(self, running: RunningNode, session: aiohttp.ClientSession) -> None:
        self.base = running.base_url
        self.session = session
        self.exercised: set[tuple[str, str]] = set()
        self.mismatches: list[str] = []
        self._validators: dict[int, Draft202012Validator] = {}
        self._operations = {(m, p): o for m, p, o in operations()}

    def validate(self, where: str, schema: dict[str, Any], value: Any) -> None:
        validator = self._validators.get(id(schema))
        if validator is None:
            root = {**schema, "components": DOC["components"]}
            validator = Draft202012Validator(root, format_checker=FORMATS)
            self._validators[id(schema)] = validator
        for error in sorted(validator.iter_errors(value), key=lambda e: e.json_path):
            # In an anyOf (a nullable entity), name the field that failed, not the entity.
            leaf = best_match([error])
            self.mismatches.append(f"{where}: {leaf.json_path}: {leaf.message[:300]}")

    async def __call__(
        self,
        method: str,
        template: str,
        token: str | None = None,
        *,
        expect: int = 200,
        ids: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        operation = self._operations.get((method, template))
        assert operation is not None, f"{method} {template} is not documented"
        self.exercised.add((method, template))
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        url = self.base + template.format(**(ids or {}))
        async with self.session.request(
            method, url, headers=sent, allow_redirects=False, **kwargs
        ) as response:
            where = f"{method} {template} -> {response.status}"
            # Streams and binary downloads (archives) are not read as text.
            binary = response.content_type in ("text/event-stream", "application/zip")
            text = None if binary else await response.text()
            assert response.status == expect, f"{where}, expected {expect}: {text}"
            return self._check(where, operation, response, text)

    def _check(
        self,
        where: str,
        operation: dict[str, Any],
        response: aiohttp.ClientResponse,
        text: str | None,
    ) -> Any:
        documented = operation["responses"].get(str(response.status))
        if documented is None:
            self.mismatches.append(f"{where}: status not documented")
            return None
        content = resolve(documented).get("content", {})
        if not content:
            return None
        if response.content_type not in content:
            self.mismatches.append(f"{where}: {response.content_type} is not documented")
            return None
        schema = content[response.content_type]["schema"]
        body: Any = text
        if response.content_type == "application/json":
            body = json.loads(text or "null")
        if body is not None:
            self.validate(where, schema, body)
        if "Link" in resolve(documented).get("headers", {}) and isinstance(body, list) and body:
            if "Link" not in response.headers and "limit=0" not in str(response.url):
                self.mismatches.append(f"{where}: a non-empty page without a Link header")
        return body


# --- 1. routes ------------------------------------------------------------------------


async def test_every_route_is_documented_and_every_operation_registered(
    node_factory: NodeFactory,
):
    """The document and the router describe the same operations, and every route also
    answers with a trailing slash (as the document says)."""
    running = await node_factory.start("routes", users=())
    routes = registered(running)
    twins = {(m, p.rstrip("/") or "/") for m, p in routes}
    documented = {(m, p) for m, p, _ in operations()}
    assert twins - documented == set(), "registered but not in docs/openapi.json"
    assert documented - twins == set(), "documented but not registered"
    for method, path in documented:
        assert (method, path + "/") in routes, f"{method} {path}/ is not registered"


def test_the_document_is_well_formed():
    """OpenAPI 3.1 whose schemas are valid JSON Schema, whose references resolve, with
    unique operation ids, declared path parameters and a 2xx (or 101/302) answer each."""
    assert DOC["openapi"].startswith("3.1.")
    for schema in DOC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    text = json.dumps(DOC)
    assert '"additionalProperties": false' not in text, "entities stay open to new fields"
    for pointer in set(re.findall(r'"\$ref": "#/([^"]+)"', text)):
        resolve({"$ref": f"#/{pointer}"})
    ids = [o["operationId"] for _, _, o in operations()]
    assert len(ids) == len(set(ids))
    for method, path, operation in operations():
        declared = {resolve(p)["name"] for p in operation.get("parameters", [])}
        declared = {n for n in declared if f"{{{n}}}" in path}
        assert declared == set(re.findall(r"{(\w+)}", path)), (method, path)
        assert any(c[0] == "2" or c in ("101", "302") for c in operation["responses"]), path


# --- 2 and 3. answers against schemas -------------------------------------------------


async def test_answers_match_the_documented_schemas(node_factory: NodeFactory):
    """Given two people and a locked third, when they post, follow, favourite, boost,
    vote, list and mark as read, then every operation answers as documented."""
    node = await node_factory.start("schemas", users=("alice", "bob", "carol"))
    async with aiohttp.ClientSession() as session:
        call = Checked(node, session)
        await scenario(node, call)
        await error_samples(node, call)
        await places_scenario(node, call)
        await identity_scenario(node, call)
        await groups_scenario(node, call)
        await moderation_scenario(node, call)
        ws_url = node.base_url.replace("http", "ws", 1) + "/api/v1/streaming?stream=public"
        token = await issue_token(node, "bob", "read")
        async with session.ws_connect(ws_url, headers={"Authorization": f"Bearer {token}"}):
            pass  # the 101 answer the document lists
    assert call.mismatches == [], "answers that do not match docs/openapi.json:\n" + "\n".join(
        call.mismatches
    )
    missing = {(m, p) for m, p, _ in operations()} - call.exercised
    assert missing == set(), "documented operations the scenario did not exercise"


async def scenario(node: RunningNode, call: Checked) -> None:
    # Anonymous discovery.
    metadata = await call("GET", "/.well-known/oauth-authorization-server")
    scheme = DOC["components"]["securitySchemes"]["OAuth2"]["flows"]["password"]
    assert set(scheme["scopes"]) == set(metadata["scopes_supported"])
    for path in (
        "/api/v1/instance",
        "/api/v2/instance",
        "/api/v1/instance/rules",
        "/api/v1/instance/peers",
        "/api/v1/instance/activity",
        "/api/v1/custom_emojis",
        "/api/v1/streaming/health",
    ):
        await call("GET", path)

    # OAuth: an app, the consent page, the password, client-credentials and refresh grants.
    oob = "urn:ietf:wg:oauth:2.0:oob"
    app = await call(
        "POST",
        "/api/v1/apps",
        json={"client_name": "spec", "redirect_uris": oob, "scopes": "read write follow push"},
    )
    client = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    authorize = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": oob}
    await call("GET", "/oauth/authorize", params=authorize)
    await call("POST", "/oauth/authorize", data=authorize, expect=403)
    first = await call(
        "POST",
        "/oauth/token",
        data={**client, "grant_type": "password", "username": "alice", "password": PASSWORD,
              "scope": "read write follow push"},
    )  # fmt: skip
    refreshed = await call(
        "POST",
        "/oauth/token",
        data={**client, "grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    a = refreshed["access_token"]
    app_token = (
        await call("POST", "/oauth/token", data={**client, "grant_type": "client_credentials"})
    )["access_token"]
    await call("GET", "/api/v1/apps/verify_credentials", app_token)
    await call("GET", "/api/v1/timelines/home", app_token, expect=422)
    await call("POST", "/oauth/revoke", data={**client, "token": app_token})
    await call("GET", "/api/v1/apps/verify_credentials", app_token, expect=401)
    await call("GET", "/api/v1/timelines/home", first["access_token"], expect=401)
    await call("POST", "/oauth/token", data={**client, "grant_type": "magic"}, expect=400)
    b = await issue_token(node, "bob")
    c = await issue_token(node, "carol")

    # Profiles and follows: carol is locked; alice's request is accepted, bob's refused.
    me = await call("GET", "/api/v1/accounts/verify_credentials", a)
    form = aiohttp.FormData({"display_name": "Alice A.", "note": "Hello, I am #alice"})
    form.add_field("avatar", png(), filename="me.png", content_type="image/png")
    await call("PATCH", "/api/v1/accounts/update_credentials", a, data=form)
    await call("PATCH", "/api/v1/accounts/update_credentials", c, json={"locked": True})
    lookup = "/api/v1/accounts/lookup"
    alice = me["id"]
    bob = (await call("GET", lookup, params={"acct": "bob"}))["id"]
    carol = (await call("GET", lookup, b, params={"acct": "@carol"}))["id"]
    follow = "/api/v1/accounts/{id}/follow"
    await call("POST", follow, b, ids={"id": alice}, json={"reblogs": True})
    await call("POST", follow, a, ids={"id": bob})
    await call("POST", follow, a, ids={"id": carol})
    await call("POST", follow, b, ids={"id": carol})
    await call("GET", "/api/v1/follow_requests", c)
    await call("POST", "/api/v1/follow_requests/{id}/authorize", c, ids={"id": alice})
    await call("POST", "/api/v1/follow_requests/{id}/reject", c, ids={"id": bob})

    # Media: one upload kept and described, one deleted.
    media = await call("POST", "/api/v2/media", a, data=upload("a red chart"))
    one = {"id": media["id"]}
    await call("GET", "/api/v1/media/{id}", a, ids=one)
    await call("PUT", "/api/v1/media/{id}", a, ids=one, json={"focus": "0.5,-0.25"})
    spare = await call("POST", "/api/v1/media", a, data=upload("spare"))
    await call("DELETE", "/api/v1/media/{id}", a, ids={"id": spare["id"]})

    # Posts: with media and a mention, with a poll, a reply; reactions to them.
    post = await call(
        "POST",
        "/api/v1/statuses",
        a,
        headers={"Idempotency-Key": "spec-1"},
        json={"status": "Hello @bob #cercle", "media_ids": [media["id"]], "language": "en"},
    )
    s1 = {"id": post["id"]}
    poll_post = await call(
        "POST",
        "/api/v1/statuses",
        a,
        data=[("status", "Lunch? #cercle"), ("poll[options][]", "pizza"),
              ("poll[options][]", "salad"), ("poll[expires_in]", "3600")],
    )  # fmt: skip
    s2 = {"id": poll_post["id"]}
    reply = await call(
        "POST", "/api/v1/statuses", b, json={"status": "@alice hi!", "in_reply_to_id": post["id"]}
    )
    await call("POST", "/api/v1/polls/{id}/votes", b, ids=s2, json={"choices": ["0"]})
    await call("GET", "/api/v1/polls/{id}", ids=s2)
    for action in ("favourite", "reblog", "bookmark"):
        await call("POST", f"/api/v1/statuses/{{id}}/{action}", b, ids=s1)
    await call("POST", "/api/v1/statuses/{id}/pin", a, ids=s1)
    await call(
        "PUT",
        "/api/v1/statuses/{id}",
        a,
        ids=s1,
        json={"status": "Hello again @bob #cercle", "media_ids": [media["id"]]},
    )

    # Reading statuses.
    await call("GET", "/api/v1/statuses", params=[("id[]", post["id"]), ("id[]", reply["id"])])
    await call("GET", "/api/v1/statuses/{id}", ids=s1)
    for part in ("context", "history", "favourited_by", "reblogged_by"):
        await call("GET", f"/api/v1/statuses/{{id}}/{part}", a, ids=s1)
    await call("GET", "/api/v1/statuses/{id}/source", a, ids=s1)
    await call("GET", "/api/v1/bookmarks", b)
    await call("GET", "/api/v1/favourites", b)
    home = await call("GET", "/api/v1/timelines/home", b)
    assert any(s["reblog"] for s in home), "the boost, with its nested status, is checked"
    await call("GET", "/api/v1/timelines/home", a, params={"limit": "2"})
    await call("GET", "/api/v1/timelines/public", params={"local": "true"})
    await call("GET", "/api/v1/timelines/tag/{hashtag}", ids={"hashtag": "cercle"})

    # Accounts.
    await call("GET", "/api/v1/accounts/{id}", ids={"id": alice})
    await call("GET", "/api/v1/accounts", a, params=[("id[]", alice), ("id[]", bob)])
    await call("GET", "/api/v1/accounts/search", a, params={"q": "bob"})
    await call("GET", "/api/v1/accounts/relationships", a, params=[("id[]", bob), ("id[]", carol)])
    await call("GET", "/api/v1/accounts/familiar_followers", a, params={"id[]": carol})
    statuses = "/api/v1/accounts/{id}/statuses"
    await call("GET", statuses, ids={"id": alice})
    pinned = await call("GET", statuses, a, ids={"id": alice}, params={"pinned": "true"})
    assert pinned and pinned[0]["pinned"] is True
    for part in ("followers", "following"):
        await call("GET", f"/api/v1/accounts/{{id}}/{part}", ids={"id": alice})
    await call("GET", "/api/v2/search", a, params={"q": "cercle"})
    await call("GET", "/api/v2/search", params={"q": "alice", "type": "accounts"})

    # A list of bob, its timeline, then its members removed.
    listed = await call("POST", "/api/v1/lists", a, json={"title": "Friends"})
    lid = {"id": listed["id"]}
    await call("GET", "/api/v1/lists", a)
    await call("GET", "/api/v1/lists/{id}", a, ids=lid)
    await call("PUT", "/api/v1/lists/{id}", a, ids=lid, json={"replies_policy": "followed"})
    members = "/api/v1/lists/{id}/accounts"
    await call("POST", members, a, ids=lid, json={"account_ids": [bob]})
    await call("GET", members, a, ids=lid)
    await call("GET", "/api/v1/accounts/{id}/lists", a, ids={"id": bob})
    await call("GET", "/api/v1/timelines/list/{id}", a, ids=lid)

    # A circle holding bob, a status to it, then the circle emptied and deleted.
    circle = await call("POST", "/api/v1/circles", a, json={"title": "Project X"})
    cid = {"id": circle["id"]}
    await call("PUT", "/api/v1/circles/{id}", a, ids=cid, json={"title": "Project Y"})
    await call("POST", "/api/v1/circles/{id}/accounts", a, ids=cid, json={"account_ids": [bob]})
    limited = await call(
        "POST",
        "/api/v1/statuses",
        a,
        json={"status": "for the project", "visibility": "limited", "circle_id": [cid["id"]]},
    )
    assert (limited["visibility"], limited["audience"]) == ("limited", "circle")
    await call("GET", "/api/v1/statuses/{id}", b, ids={"id": limited["id"]})
    await call("GET", "/api/v1/circles", a)
    await call("GET", "/api/v1/circles/{id}", a, ids=cid)
    await call("GET", "/api/v1/circles/{id}/accounts", a, ids=cid)
    await call("DELETE", "/api/v1/circles/{id}/accounts", a, ids=cid, params={"account_ids[]": bob})
    await call("DELETE", "/api/v1/circles/{id}", a, ids=cid)

    # Streams: opened (headers only) with real parameters.
    for path, params in (
        ("user", {}),
        ("user/notification", {}),
        ("public", {}),
        ("public/local", {}),
        ("public/remote", {}),
        ("hashtag", {"tag": "cercle"}),
        ("hashtag/local", {"tag": "cercle"}),
        ("list", {"list": listed["id"]}),
    ):
        await call("GET", f"/api/v1/streaming/{path}", a, params=params)
    await call("GET", "/api/v1/streaming", a, params={"stream": "public"})
    await call("DELETE", members, a, ids=lid, params={"account_ids[]": bob})
    await call("DELETE", "/api/v1/lists/{id}", a, ids=lid)

    # Notifications and markers.
    notes = await call("GET", "/api/v1/notifications", a)
    kinds = {n["type"] for n in notes}
    assert {"follow", "mention", "favourite", "reblog"} <= kinds, kinds
    await call("GET", "/api/v1/notifications", a, params={"types[]": "favourite"})
    await call("GET", "/api/v1/notifications/{id}", a, ids={"id": notes[0]["id"]})
    await call("GET", "/api/v1/notifications/unread_count", a)
    await call(
        "POST",
        "/api/v1/markers",
        a,
        json={"home": {"last_read_id": reply["id"]},
              "notifications": {"last_read_id": notes[0]["id"]}},
    )  # fmt: skip
    await call("GET", "/api/v1/markers", a, params=[("timeline[]", "home")])
    await call("POST", "/api/v1/notifications/{id}/dismiss", a, ids={"id": notes[-1]["id"]})
    await call("POST", "/api/v1/notifications/clear", a)

    # Undoing, muting, blocking, unfollowing, deleting.
    for action in ("unfavourite", "unreblog", "unbookmark"):
        await call("POST", f"/api/v1/statuses/{{id}}/{action}", b, ids=s1)
    await call("POST", "/api/v1/statuses/{id}/unpin", a, ids=s1)
    await call("POST", "/api/v1/accounts/{id}/mute", a, ids={"id": carol}, json={"duration": 60})
    await call("GET", "/api/v1/mutes", a)
    await call("POST", "/api/v1/accounts/{id}/unmute", a, ids={"id": carol})
    await call("POST", "/api/v1/accounts/{id}/block", a, ids={"id": carol})
    await call("GET", "/api/v1/blocks", a)
    await call("POST", "/api/v1/accounts/{id}/unblock", a, ids={"id": carol})
    await call("POST", "/api/v1/accounts/{id}/remove_from_followers", a, ids={"id": bob})
    await call("POST", "/api/v1/accounts/{id}/unfollow", a, ids={"id": bob})
    deleted = await call("DELETE", "/api/v1/statuses/{id}", a, ids=s2)
    assert deleted["text"] == "Lunch? #cercle"


async def error_samples(node: RunningNode, call: Checked) -> None:
    """401, 403, 404 and 422 answers are the documented Error entity."""
    read_only = await issue_token(node, "bob", "read")
    writer = await issue_token(node, "bob", "write")
    await call("GET", "/api/v1/timelines/home", expect=401)
    await call("GET", "/api/v1/notifications", "not-a-token", expect=401)
    await call("POST", "/api/v1/statuses", read_only, json={"status": "no"}, expect=403)
    await call("GET", "/api/v1/statuses/{id}", ids={"id": "1"}, expect=404)
    await call("GET", "/api/v1/lists/{id}", read_only, ids={"id": "1"}, expect=404)
    await call("POST", "/api/v1/statuses", writer, json={"status": ""}, expect=422)
    await call("POST", "/api/v1/lists", writer, json={}, expect=422)
    await call("GET", "/api/v1/accounts/lookup", expect=422)


# --- 4. security as enforced ----------------------------------------------------------

#: Parameters some operations need to get past their authorisation check.
PROBE_QUERY = {("/api/v1/streaming", "read:notifications"): {"stream": "user:notification"}}
#: Public on a node that federates openly (as the test node does), where no token is
#: looked at; they need ``read`` only in the other federation modes (their description).
OPEN_MODE_PUBLIC = {"/api/v1/instance/peers", "/api/v1/instance/activity"}


async def status_of(
    session: aiohttp.ClientSession, method: str, url: str, token: str | None, query: dict
) -> int:
    """The status only: streams are closed as soon as their headers arrive."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session.request(
        method, url, headers=headers, params=query, allow_redirects=False
    ) as response:
        response.close()
        return response.status


async def test_security_is_what_the_server_enforces(node_factory: NodeFactory):
    """For every operation: anonymous callers are refused (401) exactly where the
    document requires a token; a token with only a documented scope passes the
    authorisation check; a token with every scope that does not grant it gets 403."""
    node = await node_factory.start("security", users=("carol",))
    all_scopes = DOC["components"]["securitySchemes"]["OAuth2"]["flows"]["password"]["scopes"]
    tokens: dict[tuple[str, str], str] = {}

    async def token(scopes: str, user: str = "carol") -> str:
        if (user, scopes) not in tokens:
            tokens[(user, scopes)] = await issue_token(node, user, scopes)
        return tokens[(user, scopes)]

    wrong = []
    async with aiohttp.ClientSession() as session:
        for method, path, operation in operations():
            url = node.base_url + path.format(
                id="1", hashtag="cercle", account_id="1", status_id="1"
            )
            # Admin endpoints also need an admin account, whatever the token's scopes.
            user = "admin" if path.startswith("/api/v1/admin/") else "carol"
            security = operation.get("security", DOC.get("security", []))
            if any("ClientSecretBasic" in r for r in security):
                continue  # client authentication at /oauth/: the scenario covers it
            anonymous = await status_of(session, method, url, None, {})
            if not security or {} in security:
                if anonymous in DENIED:
                    wrong.append(f"{method} {path}: anonymous got {anonymous}")
            elif anonymous != 401:
                wrong.append(f"{method} {path}: anonymous got {anonymous}, not 401")
            needed = [r["OAuth2"] for r in security if "OAuth2" in r]
            if not needed:
                continue
            for scopes in needed:
                granted = " ".join(scopes) or "push"
                query = PROBE_QUERY.get((path, granted), {})
                status = await status_of(session, method, url, await token(granted, user), query)
                if status in DENIED:
                    wrong.append(f"{method} {path}: a {granted!r} token got {status}")
            if any(not scopes for scopes in needed) or path in OPEN_MODE_PUBLIC:
                continue
            others = " ".join(
                s
                for s in sorted(all_scopes)
                if not any(grants(s, need) for scopes in needed for need in scopes)
            )
            status = await status_of(session, method, url, await token(others, user), {})
            if status != 403:
                wrong.append(f"{method} {path}: a token without {needed} got {status}, not 403")
    assert wrong == [], "security that differs from docs/openapi.json:\n" + "\n".join(wrong)
