"""Outgoing e-mail settings and sending (the weekly digest), read by
``node.settings.load_settings`` from ``CERCLE_SMTP_*`` or the same keys (lower case) in
the TOML file: ``smtp_host``, ``smtp_port``, ``smtp_security`` (``starttls``, ``tls`` or
``none``), ``smtp_username``, ``smtp_password``, ``smtp_from``.

No host, no e-mail: a node without SMTP still renders digests (``cercle digest``).
Sending uses the standard library's ``smtplib`` in a worker thread: a digest run sends a
handful of messages, not a stream that would need an async client.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

SECURITY = ("starttls", "tls", "none")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: str = "starttls"
    username: str = ""
    password: str = ""
    sender: str = ""


class MailError(Exception):
    """The message could not be handed to the SMTP server; the text says why."""


def load_smtp(pick: Callable[[str, Any], Any]) -> SmtpSettings | None:
    host = str(pick("smtp_host", "") or "").strip()
    if not host:
        return None
    security = str(pick("smtp_security", "starttls")).strip().lower()
    default_port = 465 if security == "tls" else 587
    try:
        port = int(pick("smtp_port", default_port))
    except (TypeError, ValueError):
        port = -1
    return SmtpSettings(
        host=host,
        port=port,
        security=security,
        username=str(pick("smtp_username", "") or ""),
        password=str(pick("smtp_password", "") or ""),
        sender=str(pick("smtp_from", "") or ""),
    )


def check_smtp(smtp: SmtpSettings) -> str | None:
    """What is wrong with the settings, in one line, or None."""
    if smtp.security not in SECURITY:
        return f"smtp_security must be one of {', '.join(SECURITY)}, not {smtp.security!r}"
    if not 0 < smtp.port < 65536:
        return "smtp_port must be a port number"
    if "@" not in smtp.sender:
        return "smtp_from must be the sender's e-mail address when smtp_host is set"
    return None


def _send(smtp: SmtpSettings, message: EmailMessage, timeout: float) -> None:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if smtp.security == "tls":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
    with client:
        if smtp.security == "starttls":
            client.starttls(context=context)
        if smtp.username:
            client.login(smtp.username, smtp.password)
        client.send_message(message)


async def send_mail(
    smtp: SmtpSettings, *, to: str, subject: str, html: str, text: str, timeout: float = 30
) -> None:
    """Send one HTML e-mail with its plain-text alternative."""
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    try:
        await asyncio.to_thread(_send, smtp, message, timeout)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"cannot send e-mail through {smtp.host}:{smtp.port}: {exc}") from exc
