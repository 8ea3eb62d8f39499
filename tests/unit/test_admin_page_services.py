"""Pure rules behind the admin and settings pages: what counts as a domain to block,
and what an invitation's temporary password looks like."""

from __future__ import annotations

import pytest

from node.admin_users import ROLES, TEMPORARY_PASSWORD_LENGTH, check_role, temporary_password
from node.errors import Invalid
from node.federation_admin import check_domain


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("spam.example", "spam.example"),
        ("  Spam.Example ", "spam.example"),
        ("https://spam.example/", "spam.example"),
        ("127.0.0.1:8080", "127.0.0.1:8080"),
        ("localhost:8080", "localhost:8080"),
    ],
)
def test_domains_are_stored_in_one_spelling(typed: str, stored: str) -> None:
    assert check_domain(typed) == stored


@pytest.mark.parametrize(
    "typed", ["", "spam", "not a domain", "spam.example/path", "-spam.example", "a..b/c"]
)
def test_what_is_not_a_domain_is_refused_with_an_example(typed: str) -> None:
    with pytest.raises(Invalid, match=r"write it like spam\.example"):
        check_domain(typed)


def test_temporary_passwords_are_long_random_and_unambiguous() -> None:
    made = {temporary_password() for _ in range(50)}
    assert len(made) == 50
    for password in made:
        assert len(password) == TEMPORARY_PASSWORD_LENGTH
        assert not set(password) & set("0O1lI")


def test_roles_are_checked() -> None:
    assert [check_role(r) for r in ROLES] == list(ROLES)
    with pytest.raises(Invalid, match="unknown role"):
        check_role("owner")
