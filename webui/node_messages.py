"""Messages of node services that the pages show as they are (``CercleError.message``),
marked here so that the catalog extraction finds them: node/ stays free of the web UI's
i18n, and ``render`` looks each page's ``error`` up in the catalog (a plain lookup, no
formatting, so a message that is not here simply stays in English)."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here."""
    return message


MESSAGES = (
    N_("Wrong user name, e-mail address or password."),
    N_("This account is disabled: ask an administrator."),
    N_("Sign in with your company account: passwords are turned off here."),
    N_("Too many failed sign-in attempts: wait a few minutes and try again."),
    N_("Text can't be blank"),
    N_("a direct post must mention at least one account"),
    N_("the chosen circles are empty: add people to them first"),
    N_("a post cannot have both media and a poll"),
    N_("a circle needs a title"),
    N_("you cannot put yourself in your own circle"),
    N_("choose at least one circle"),
)
