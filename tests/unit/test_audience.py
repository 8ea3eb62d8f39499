"""The visibility rules, exhaustively: every audience against every kind of reader."""

from __future__ import annotations

import pytest

from federation.vocab import PUBLIC
from node import audience as aud

AUTHOR, FOLLOWER, MENTIONED, COLLEAGUE, PARTNER, STRANGER, CIRCLE_MEMBER, MEMBER = range(1, 9)
HOME, PARTNER_DOMAIN, OTHER_DOMAIN = "acme.example", "partner.example", "other.example"
GROUP_ID = 100

VIEWERS = {
    "anonymous": aud.ANONYMOUS,
    "author": aud.Viewer(AUTHOR, local=True, domain=HOME),
    "follower (remote)": aud.Viewer(FOLLOWER, domain=OTHER_DOMAIN, following=frozenset({AUTHOR})),
    "mentioned (remote)": aud.Viewer(MENTIONED, domain=OTHER_DOMAIN),
    "colleague": aud.Viewer(COLLEAGUE, local=True, domain=HOME),
    "partner": aud.Viewer(PARTNER, domain=PARTNER_DOMAIN),
    "stranger": aud.Viewer(STRANGER, domain=OTHER_DOMAIN),
    "circle member (remote)": aud.Viewer(CIRCLE_MEMBER, domain=OTHER_DOMAIN),
    "group member (remote)": aud.Viewer(MEMBER, domain=OTHER_DOMAIN, groups=frozenset({GROUP_ID})),
}
ALWAYS = {"author", "mentioned (remote)"}
EXPECTED = {
    "public": set(VIEWERS),
    "unlisted": set(VIEWERS),
    "followers": ALWAYS | {"follower (remote)"},
    "organisation": ALWAYS | {"colleague"},
    "partners": ALWAYS | {"colleague", "partner"},
    "circle": ALWAYS | {"circle member (remote)"},
    "group": ALWAYS | {"group member (remote)"},
    "direct": ALWAYS,
}


def facts(audience: str, **extra: object) -> aud.PostFacts:
    return aud.PostFacts(
        audience=audience,
        author_id=AUTHOR,
        author_local=True,
        author_domain=HOME,
        mentioned_ids=frozenset({MENTIONED}),
        recipient_ids=frozenset({CIRCLE_MEMBER}),
        partner_domains=frozenset({PARTNER_DOMAIN}),
        group_id=GROUP_ID,
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("audience", aud.AUDIENCES)
@pytest.mark.parametrize("viewer", VIEWERS)
def test_audience_matrix(audience: str, viewer: str):
    """Each (audience, reader) pair: sees exactly when the table says so."""
    assert aud.can_see(VIEWERS[viewer], facts(audience)) == (viewer in EXPECTED[audience])


def test_deleted_posts_are_seen_by_nobody():
    for viewer in VIEWERS.values():
        assert not aud.can_see(viewer, facts("public", deleted=True))


def test_public_group_posts_are_open():
    assert aud.can_see(aud.ANONYMOUS, facts("group", group_public=True))


def test_partners_post_received_from_a_partner_is_for_our_whole_firm():
    received = aud.PostFacts(
        audience="partners", author_id=STRANGER, author_local=False, author_domain=PARTNER_DOMAIN
    )
    assert aud.can_see(aud.Viewer(COLLEAGUE, local=True, domain=HOME), received)
    assert not aud.can_see(aud.Viewer(FOLLOWER, domain=OTHER_DOMAIN), received)
    assert not aud.can_see(aud.ANONYMOUS, received)


def test_addressing_never_names_circle_members():
    to, cc = aud.addressing("circle", followers_url="F", mentioned_uris=["M"])
    assert (to, cc) == (["M"], [])
    assert aud.addressing("partners", followers_url="F", partner_org_uris=["O1", "O2"]) == (
        ["O1", "O2"],
        [],
    )
    assert aud.addressing("group", followers_url="F", group_uri="G") == (["G"], [])
    assert aud.addressing("organisation", followers_url="F") == ([], [])
    assert aud.addressing("public", followers_url="F") == ([PUBLIC], ["F"])


def test_audience_from_addressing():
    read = aud.audience_from_addressing
    assert read([PUBLIC], [], followers_url="F") == "public"
    assert read(["F"], [PUBLIC], followers_url="F") == "unlisted"
    assert read(["F"], [], followers_url="F") == "followers"
    assert read(["ORG"], [], followers_url="F", local_org_uri="ORG") == "partners"
    assert read(["G"], [], followers_url="F", group_uris=["G"]) == "group"
    assert read(["me"], [], followers_url="F") == "direct"
