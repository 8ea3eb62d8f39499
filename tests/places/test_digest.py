"""The weekly digest: rendered by ``cercle digest`` as an operator runs it, and sent
through a real SMTP server (aiosmtpd) started by the test."""

from __future__ import annotations

import email
from email.message import Message
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import update

from node.context import transaction
from node.db.models import User
from node.digest import build_digest, render_html
from tests.harness import NodeFactory, bind_loopback
from tests.places.helpers import cercle, cercle_here
from tests.places.seed import seed


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


async def test_digest_renders_and_is_sent_through_smtp(
    node_factory: NodeFactory, monkeypatch: Any, capsys: Any
) -> None:
    """Given the seeded firm (carol is in alice's circle and in the Bike group), when the
    operator renders carol's digest, then it lists the circle post and the two group
    posts, and the firm's trending tag; dave (in the circle, not in the group) gets the
    circle post only. When sent with --send, a local SMTP server receives one HTML mail
    with a plain-text twin, addressed to carol."""
    world = await seed(node_factory)
    a = world.a
    async with transaction(a.node) as db:
        await db.execute(
            update(User)
            .where(User.actor_id == (await a.actor("carol")).id)
            .values(email="carol@a.example")
        )

    digest = await build_digest(a.node, "carol")
    assert (digest.circles_total, digest.groups_total) == (1, 2)
    assert [i.text for i in digest.circles] == ["Lunch?"]
    assert {i.text for i in digest.groups} == {"Ride on Friday", "I ride too"}
    assert {i.where for i in digest.groups} == {"Bike to work"}
    assert digest.trending and digest.trending[0][0] == "launch"
    dave = await build_digest(a.node, "dave")
    assert (dave.circles_total, dave.groups_total) == (1, 0)
    assert "Nothing new here this week." in render_html(dave)

    code, html, err = await cercle(a, "digest", "--user", "carol")
    assert code == 0, err
    assert html.startswith("<!doctype html>")
    for text in ("Lunch?", "Ride on Friday", "I ride too", "#launch", "In your groups"):
        assert text in html, text

    code, _, err = await cercle_here(a, monkeypatch, capsys, "digest", "--user", "nobody")
    assert code != 0 and err.count("\n") == 1 and "nobody" in err
    code, _, err = await cercle_here(a, monkeypatch, capsys, "digest", "--user", "carol", "--send")
    assert code != 0 and "e-mail is not configured" in err

    sock = bind_loopback()
    port = sock.getsockname()[1]
    sock.close()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        smtp = {
            "CERCLE_SMTP_HOST": "127.0.0.1",
            "CERCLE_SMTP_PORT": str(port),
            "CERCLE_SMTP_SECURITY": "none",
            "CERCLE_SMTP_FROM": "cercle@a.example",
        }
        code, out, err = await cercle(a, "digest", "--user", "carol", "--send", **smtp)
        assert code == 0, err
        assert "carol@a.example" in out
        for name, value in smtp.items():
            monkeypatch.setenv(name, value)
        code, _, err = await cercle_here(
            a, monkeypatch, capsys, "digest", "--user", "dave", "--send"
        )
        assert code != 0 and "dave has no e-mail address" in err
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    sender, recipients, message = inbox.messages[0]
    assert (sender, recipients) == ("cercle@a.example", ["carol@a.example"])
    assert message["Subject"].startswith("Your week on ")
    assert "3 new posts" in message["Subject"]
    html_part = message.get_body(preferencelist=("html",))
    text_part = message.get_body(preferencelist=("plain",))
    assert html_part is not None and "Ride on Friday" in html_part.get_content()
    assert text_part is not None and "In your circles: 1 new post" in text_part.get_content()
