"""Account counters (statuses, followers, following, last status) as clients read them.

They are kept in ``actor_stats`` by database triggers rather than counted per request (a
timeline page would otherwise read every post of every author on it), so these tests drive
every way the counted rows change — posting, boosting, deleting, following, a locked
account's request being authorised, unfollowing — and read the counts back over HTTP, in
the account and inside the statuses of a home timeline.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.conftest import ApiClient, ClientFactory
from tests.harness import RunningNode


async def counts(client: ApiClient, account_id: str) -> tuple[int, int, int, str | None]:
    account = await client.get(f"/api/v1/accounts/{account_id}")
    return (
        account["statuses_count"],
        account["followers_count"],
        account["following_count"],
        account["last_status_at"],
    )


async def test_statuses_count_follows_posts_boosts_and_deletions(
    node_a: RunningNode, api: ClientFactory
):
    """Posts and boosts count, deleted ones stop counting; the last status date is today."""
    alice = await api(node_a, "alice")
    carol = await api(node_a, "carol")
    alice_id = (await alice.get("/api/v1/accounts/verify_credentials"))["id"]
    assert await counts(alice, alice_id) == (0, 0, 0, None)

    # Given three posts of alice's and one boost of carol's post
    posted = [await alice.post("/api/v1/statuses", data={"status": f"post {i}"}) for i in range(3)]
    theirs = await carol.post("/api/v1/statuses", data={"status": "boost me"})
    await alice.post(f"/api/v1/statuses/{theirs['id']}/reblog")
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert await counts(alice, alice_id) == (4, 0, 0, today)

    # When one post is deleted and the boost undone
    await alice.delete(f"/api/v1/statuses/{posted[0]['id']}")
    await alice.post(f"/api/v1/statuses/{theirs['id']}/unreblog")

    # Then only the two remaining posts count
    assert (await counts(alice, alice_id))[0] == 2


async def test_follow_counts_follow_acceptance_and_unfollows(
    node_a: RunningNode, api: ClientFactory
):
    """A follow counts once accepted, on both sides; a pending request does not; an
    unfollow takes it back. The counts in a rendered status's account agree."""
    alice = await api(node_a, "alice")
    carol = await api(node_a, "carol")
    alice_id = (await alice.get("/api/v1/accounts/verify_credentials"))["id"]
    carol_id = (await carol.get("/api/v1/accounts/verify_credentials"))["id"]

    # Given a locked alice whom carol asks to follow
    await alice.patch("/api/v1/accounts/update_credentials", data={"locked": "true"})
    await carol.post(f"/api/v1/accounts/{alice_id}/follow")
    assert (await counts(carol, alice_id))[1:3] == (0, 0)
    assert (await counts(carol, carol_id))[1:3] == (0, 0)

    # When alice authorises the request
    await alice.post(f"/api/v1/follow_requests/{carol_id}/authorize")

    # Then alice has a follower and carol follows one account, in statuses too
    assert (await counts(carol, alice_id))[1:3] == (1, 0)
    assert (await counts(carol, carol_id))[1:3] == (0, 1)
    await alice.post("/api/v1/statuses", data={"status": "for my follower"})
    home = await carol.get("/api/v1/timelines/home")
    assert home[0]["account"]["followers_count"] == 1
    assert home[0]["account"]["statuses_count"] == 1

    # When carol unfollows, both counts go back to zero
    await carol.post(f"/api/v1/accounts/{alice_id}/unfollow")
    assert (await counts(carol, alice_id))[1:3] == (0, 0)
    assert (await counts(carol, carol_id))[1:3] == (0, 0)
