"""The rows of the home-timeline data set, written with ``sqlite3`` into a node's schema.

``bench.home_timeline_data`` describes the data set and caches it; this module generates
it: actors (with the documents peers serve), follows, posts in id order with their
mentions, tags, media, polls and the home-timeline entries fan-out on write would have
made, then the counters the services keep and ``bench``'s own reactions. Rows are dicts
keyed by column name, so they read like the models and survive a column being added.
"""

from __future__ import annotations

import json
import math
import random
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: The node's name. Only a name: the server may listen on any port.
DOMAIN = "127.0.0.1:8080"
BASE = f"http://{DOMAIN}"
BENCH_USER = "bench"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@dataclass(frozen=True)
class Shape:
    """What the data set holds; part of the cache key."""

    posts: int = 1_000_000
    local_users: int = 200
    remote_actors: int = 800
    remote_domains: int = 40
    bench_follows: int = 200
    days: int = 365
    seed: int = 20261127


SHAPE = Shape()
CHUNK = 50_000

WORDS = (
    "the a of and to in is it that for on with as was at by this from we be are or an "
    "have not but they you all can our new one has more will their about people work "
    "time team meeting project release today week news data open source code review "
    "office coffee lunch plan idea question answer thanks great good small big update "
    "server federation post timeline privacy policy design draft weekend travel photo "
    "music book film garden bike train city river rain sun morning evening night"
).split()
TAGS = [f"tag{i}" for i in range(300)] + [
    "fediverse", "cercle", "opensource", "python", "photography", "news", "music",
    "caturday", "introduction", "sqlite",
]  # fmt: skip
BLURHASH = "LEHV6nWB2yk8pyo0adR*.7kCMdnj"


def _ts(ms: int) -> str:
    """A time as SQLAlchemy stores a DateTime on SQLite."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


Row = dict[str, Any]


def _insert(conn: sqlite3.Connection, table: str, rows: list[Row]) -> None:
    """executemany by column name, so the rows below read as the model does."""
    if rows:
        columns = list(rows[0])
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join(f":{c}" for c in columns)
        conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)


@dataclass
class Author:
    id: int
    uri: str
    username: str
    domain: str
    local: bool
    profile: str  # the HTML profile page; statuses' pages are under it

    @property
    def followers_url(self) -> str:
        return f"{self.uri}/followers"


class Generator:
    """Writes the data set into an initialised node's database, in one transaction."""

    def __init__(self, conn: sqlite3.Connection, shape: Shape, log: Callable[[str], None]):
        self.conn = conn
        self.shape = shape
        self.log = log
        self.rng = random.Random(shape.seed)
        self.now_ms = int(time.time() * 1000)
        self.start_ms = self.now_ms - shape.days * 86_400_000
        self.sentences = [self._sentence() for _ in range(4000)]
        self.authors: list[Author] = []
        self.local_user_ids: list[int] = []
        self.local_followers: dict[int, list[int]] = defaultdict(list)
        self.bench_id = 0
        self.stats: dict[str, Any] = {}
        self.buffers: dict[str, list[Row]] = defaultdict(list)

    def _sentence(self) -> str:
        words = self.rng.choices(WORDS, k=self.rng.randint(6, 40))
        return " ".join(words).capitalize() + "."

    def _id(self, ms: int) -> int:
        """A time-sortable id as ``node.db.ids`` makes them."""
        return (ms << 16) | self.rng.getrandbits(16)

    # --- actors and follows

    def actors(self) -> None:
        rng = self.rng
        existing = self.conn.execute(
            "SELECT id, uri, username, public_key_pem, private_key_pem, "
            "ed25519_public_multibase, ed25519_private_pem FROM actors WHERE local = 1"
        ).fetchall()
        bench = next(row for row in existing if row[2] == BENCH_USER)
        self.bench_id = bench[0]
        # Every local account gets bench's keys and password: generating 200 RSA keys and
        # argon2 hashes would cost minutes and change nothing that is read here.
        keys = dict(
            zip(
                ("public_key_pem", "private_key_pem", "ed25519_public_multibase",
                 "ed25519_private_pem"),
                bench[3:7],
                strict=True,
            )
        )  # fmt: skip
        password_hash = self.conn.execute(
            "SELECT password_hash FROM users WHERE actor_id = ?", (self.bench_id,)
        ).fetchone()[0]
        for actor_id, uri, username, *_ in existing:
            if username not in ("org", DOMAIN):
                self.authors.append(
                    Author(actor_id, uri, username, DOMAIN, True, f"{BASE}/@{username}")
                )
                self.local_user_ids.append(actor_id)
        actors: list[Row] = []
        users: list[Row] = []
        created = self.start_ms - 400 * 86_400_000
        for i in range(self.shape.local_users - len(self.authors)):
            name = f"{rng.choice(WORDS)}{rng.choice(WORDS)}{i}"
            uri = f"{BASE}/users/{name}"
            ms = created + i * 60_000
            author = Author(self._id(ms), uri, name, DOMAIN, True, f"{BASE}/@{name}")
            actors.append(
                self._actor_row(author, ms, name.capitalize(), keys, raw=None, avatar=None)
            )
            users.append(
                {"id": self._id(ms), "actor_id": author.id, "email": f"{name}@bench.example",
                 "password_hash": password_hash, "is_admin": 0, "disabled": 0,
                 "created_at": _ts(ms)}
            )  # fmt: skip
            self.authors.append(author)
            self.local_user_ids.append(author.id)
        remote_keys = {**dict.fromkeys(keys), "public_key_pem": keys["public_key_pem"]}
        domains = [f"social{d:02d}.example" for d in range(self.shape.remote_domains)]
        for i in range(self.shape.remote_actors):
            domain = domains[i % len(domains)]
            name = f"{rng.choice(WORDS)}_{rng.choice(WORDS)}{i}"
            ms = created + i * 30_000
            author = Author(
                self._id(ms), f"https://{domain}/users/{name}", name, domain, False,
                f"https://{domain}/@{name}",
            )  # fmt: skip
            doc = self._actor_document(author, ms, keys["public_key_pem"])
            actors.append(
                self._actor_row(
                    author, ms, doc["name"], remote_keys, raw=doc, avatar=doc["icon"]["url"]
                )
            )
            self.authors.append(author)
        _insert(self.conn, "actors", actors)
        _insert(self.conn, "users", users)
        self.stats["local_users"] = len(self.local_user_ids)
        self.stats["remote_actors"] = self.shape.remote_actors

    def _actor_row(
        self,
        author: Author,
        ms: int,
        display_name: str,
        keys: dict[str, Any],
        *,
        raw: dict[str, Any] | None,
        avatar: str | None,
    ) -> Row:
        uri = author.uri
        shared = f"{BASE}/inbox" if author.local else f"https://{author.domain}/inbox"
        return {
            "id": author.id, "uri": uri, "local": int(author.local), "type": "Person",
            "username": author.username, "domain": author.domain, "display_name": display_name,
            "summary": raw["summary"] if raw else f"<p>{self.rng.choice(self.sentences)}</p>",
            "inbox": f"{uri}/inbox", "outbox": f"{uri}/outbox",
            "followers_url": f"{uri}/followers", "following_url": f"{uri}/following",
            "shared_inbox": shared, "url": author.profile, "avatar_url": avatar,
            "public_key_id": f"{uri}#main-key", **keys, "manually_approves": 0,
            "discoverable": 1, "raw": json.dumps(raw) if raw else None,
            "fetched_at": None if author.local else _ts(self.now_ms), "created_at": _ts(ms),
        }  # fmt: skip

    def _actor_document(self, author: Author, ms: int, public_pem: str) -> dict[str, Any]:
        """The Person a Mastodon peer serves, as the node caches it in ``actors.raw``."""
        rng, uri, domain, name = self.rng, author.uri, author.domain, author.username
        return {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": uri, "type": "Person", "following": f"{uri}/following",
            "followers": f"{uri}/followers", "inbox": f"{uri}/inbox",
            "outbox": f"{uri}/outbox", "featured": f"{uri}/collections/featured",
            "preferredUsername": name, "name": name.replace("_", " ").title(),
            "summary": f"<p>{rng.choice(self.sentences)}</p>", "url": author.profile,
            "manuallyApprovesFollowers": False, "discoverable": True,
            "published": _ts(ms)[:10] + "T00:00:00Z",
            "followersCount": rng.randint(3, 5000), "followingCount": rng.randint(1, 900),
            "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": public_pem},
            "attachment": [{"type": "PropertyValue", "name": "Website",
                            "value": f'<a href="https://{name}.example">{name}.example</a>'}],
            "endpoints": {"sharedInbox": f"https://{domain}/inbox"},
            "icon": {"type": "Image", "mediaType": "image/png",
                     "url": f"https://{domain}/system/accounts/avatars/{author.id}.png"},
            "image": {"type": "Image", "mediaType": "image/png",
                      "url": f"https://{domain}/system/accounts/headers/{author.id}.png"},
        }  # fmt: skip

    def follows(self) -> None:
        rng = self.rng
        pairs: dict[tuple[int, int], str] = {}
        local = [a for a in self.authors if a.local]
        remote = [a for a in self.authors if not a.local]
        others_local = [a for a in local if a.id != self.bench_id]
        wanted_local = self.shape.bench_follows // 4
        wanted_remote = self.shape.bench_follows - wanted_local
        for a in rng.sample(others_local, wanted_local) + rng.sample(remote, wanted_remote):
            pairs[(self.bench_id, a.id)] = "accepted"
        for follower in others_local:
            for a in rng.sample(self.authors, rng.randint(2, 20)):
                if a.id != follower.id:
                    pairs[(follower.id, a.id)] = "accepted"
        # A node keeps remote posts only for accounts someone here follows.
        followed = {b for (_, b) in pairs}
        for a in remote:
            if a.id not in followed:
                pairs[(rng.choice(others_local).id, a.id)] = "accepted"
        for a in remote:
            for target in rng.sample(local, rng.randint(0, 8)):
                state = "accepted" if rng.random() > 0.03 else "pending"
                pairs.setdefault((a.id, target.id), state)
        by_id = {a.id: a for a in self.authors}
        rows: list[Row] = []
        ms = self.start_ms - 30 * 86_400_000
        for (follower, followee), state in pairs.items():
            ms += 1000
            who = by_id[follower]
            activity = (
                f"{BASE}/activities/{ms}"
                if who.local
                else f"https://{who.domain}/{rng.getrandbits(64):x}"
            )
            rows.append(
                {"id": self._id(ms), "follower_id": follower, "followee_id": followee,
                 "state": state, "activity_uri": activity, "created_at": _ts(ms)}
            )  # fmt: skip
            if state == "accepted" and who.local:
                self.local_followers[followee].append(follower)
        _insert(self.conn, "follows", rows)
        self.stats["follows"] = len(rows)
        self.stats["bench_follows"] = sum(1 for f, _ in pairs if f == self.bench_id)

    # --- posts

    def posts(self) -> None:
        """Posts in id order, with their mentions, tags, media, polls and home entries."""
        rng, shape, buffers = self.rng, self.shape, self.buffers
        weights = [math.exp(rng.gauss(0.0, 1.0)) for _ in self.authors]
        authors = rng.choices(self.authors, weights=weights, k=shape.posts)
        recent: list[tuple[int, str]] = []  # (id, uri) of recent public originals
        replies: dict[int, int] = defaultdict(int)
        boosts: dict[int, int] = defaultdict(int)
        step = (self.now_ms - 3_600_000 - self.start_ms) // shape.posts
        counts: dict[str, int] = defaultdict(int)
        home_sizes: dict[int, int] = defaultdict(int)
        bench_home: list[int] = []

        def flush() -> None:
            for table in ("posts", "mentions", "post_tags", "media_attachments", "polls"):
                _insert(self.conn, table, buffers[table])
                counts[table] += len(buffers[table])
                buffers[table].clear()
            self.conn.executemany(
                "INSERT INTO timeline_entries (owner_id, post_id) VALUES (?, ?)", entries
            )
            counts["timeline_entries"] += len(entries)
            entries.clear()

        entries: list[tuple[int, int]] = []
        for i, author in enumerate(authors):
            ms = self.start_ms + i * step + rng.randrange(step // 2)
            post_id = (ms << 16) | rng.getrandbits(16)
            owners = {author.id} if author.local else set()
            if recent and rng.random() < 0.06:
                original = recent[-rng.randint(1, min(len(recent), 5000))]
                boosts[original[0]] += 1
                buffers["posts"].append(self._boost_row(post_id, author, original[0], ms))
                owners.update(self.local_followers[author.id])
            else:
                audience, mentioned = self._post(post_id, author, ms, recent, replies)
                for target in mentioned:
                    # A remote post's mentions are stored for local accounts only.
                    if author.local or target.local:
                        buffers["mentions"].append({"post_id": post_id, "actor_id": target.id})
                    if target.local:
                        owners.add(target.id)
                if audience == "organisation":
                    owners.update(self.local_user_ids)
                elif audience != "direct":
                    owners.update(self.local_followers[author.id])
                if audience == "public":
                    recent.append((post_id, buffers["posts"][-1]["uri"]))
                    if len(recent) > 20_000:
                        del recent[:10_000]
            entries.extend((owner, post_id) for owner in owners)
            for owner in owners:
                home_sizes[owner] += 1
            if self.bench_id in owners:
                bench_home.append(post_id)
            if len(buffers["posts"]) >= CHUNK:
                flush()
                if (i + 1) % 200_000 == 0:
                    self.log(f"  {i + 1:,} posts")
        flush()
        self.conn.executemany(
            "UPDATE posts SET replies_count = ? WHERE id = ?", [(n, i) for i, n in replies.items()]
        )
        self.conn.executemany(
            "UPDATE posts SET reblogs_count = ? WHERE id = ?", [(n, i) for i, n in boosts.items()]
        )
        self._reactions(bench_home)
        self.stats.update(counts)
        self.stats["bench_home_entries"] = home_sizes[self.bench_id]
        self.stats["largest_other_home"] = max(
            n for owner, n in home_sizes.items() if owner != self.bench_id
        )

    def _content(self, author: Author, mentioned: list[Author], tags: list[str]) -> str:
        """Mastodon-shaped HTML: h-card mentions, sentences, hashtag links."""
        links = [
            f'<span class="h-card" translate="no"><a href="{a.profile}" class="u-url mention">'
            f"@<span>{a.username}</span></a></span>"
            for a in mentioned
        ]
        text = " ".join(self.rng.sample(self.sentences, self.rng.randint(1, 4)))
        links += [f"{text}"] + [
            f'<a href="https://{author.domain}/tags/{t}" class="mention hashtag" rel="tag">'
            f"#<span>{t}</span></a>"
            for t in tags
        ]
        return f"<p>{' '.join(links)}</p>"

    def _post(
        self,
        post_id: int,
        author: Author,
        ms: int,
        recent: list[tuple[int, str]],
        replies: dict[int, int],
    ) -> tuple[str, list[Author]]:
        """Buffer one original post (and its tags, media or poll); its audience and
        mentioned accounts decide whose homes it goes to."""
        rng, buffers = self.rng, self.buffers
        r = rng.random()
        audience = "public" if r < 0.84 else "unlisted" if r < 0.93 else "followers"
        if r >= 0.98:
            audience = "direct"
        if author.local and rng.random() < 0.01:
            audience = "organisation"
        mentioned: list[Author] = []
        if audience == "direct" or rng.random() < 0.12:
            picked = rng.sample(self.authors, rng.randint(1, 3))
            mentioned = [a for a in picked if a.id != author.id]
        if audience == "direct" and not mentioned:
            audience = "public"
        tags = rng.sample(TAGS, rng.randint(1, 3)) if rng.random() < 0.15 else []
        parent = recent[-rng.randint(1, min(len(recent), 5000))] if recent and r > 0.88 else None
        if parent is not None:
            replies[parent[0]] += 1
        content = self._content(author, mentioned, tags)
        mention_uris = [a.uri for a in mentioned]
        to, cc = {
            "public": ([PUBLIC], [author.followers_url, *mention_uris]),
            "unlisted": ([author.followers_url], [PUBLIC, *mention_uris]),
            "followers": ([author.followers_url], mention_uris),
            "direct": (mention_uris, []),
            "organisation": ([f"{BASE}/org"], mention_uris),
        }[audience]
        tag_json = [
            {"type": "Mention", "href": a.uri, "name": f"@{a.username}@{a.domain}"}
            for a in mentioned
        ] + [
            {"type": "Hashtag", "href": f"https://{author.domain}/tags/{t}", "name": f"#{t}"}
            for t in tags
        ]
        buffers["post_tags"] += [{"tag": t, "post_id": post_id} for t in tags]
        uri = f"{author.uri}/statuses/{post_id}"
        url = f"{author.profile}/{post_id}"
        attachments: list[dict[str, Any]] = []
        kind = "Note"
        if not author.local and rng.random() < 0.06:
            attachments = [
                {"type": "Document", "url": f"https://{author.domain}/system/media/{post_id}.jpg",
                 "media_type": "image/jpeg", "name": rng.choice(self.sentences),
                 "blurhash": BLURHASH, "width": 1200, "height": 800}
            ]  # fmt: skip
        elif author.local and rng.random() < 0.03:
            media = self._media_row(post_id, author, ms)
            buffers["media_attachments"].append(media)
            # What node.media.attachment_documents writes into the post.
            attachments = [
                {"type": "Document", "mediaType": media["mime_type"],
                 "url": f"{BASE}/media/{media['file_name']}", "name": media["description"],
                 "blurhash": BLURHASH, "width": media["width"], "height": media["height"]}
            ]  # fmt: skip
        elif author.local and rng.random() < 0.005:
            buffers["polls"].append(self._poll_row(post_id, ms))
            kind = "Question"
        summary = "spoiler" if rng.random() < 0.02 else ""
        published = _ts(ms)
        raw = None
        if not author.local:
            raw = {
                "id": uri, "type": "Note", "summary": summary or None,
                "inReplyTo": parent[1] if parent else None,
                "published": published[:19].replace(" ", "T") + "Z", "url": url,
                "attributedTo": author.uri, "to": to, "cc": cc, "sensitive": bool(summary),
                "atomUri": uri, "conversation": f"tag:{author.domain},2026:objectId={post_id}",
                "content": content, "contentMap": {"en": content},
                "attachment": [
                    {"type": a["type"], "mediaType": a["media_type"], "url": a["url"],
                     "name": a["name"], "blurhash": BLURHASH, "width": 1200, "height": 800}
                    for a in attachments
                ],
                "tag": tag_json,
                "replies": {"id": f"{uri}/replies", "type": "Collection",
                            "first": {"type": "CollectionPage", "partOf": f"{uri}/replies",
                                      "next": f"{uri}/replies?page=true", "items": []}},
            }  # fmt: skip
        buffers["posts"].append(
            {
                "id": post_id, "uri": uri, "url": url, "actor_id": author.id,
                "local": int(author.local),
                "type": kind,
                "audience": audience, "content": content,
                "source": " ".join(rng.sample(WORDS, 5)) if author.local else None,
                "summary": summary, "sensitive": int(bool(summary)), "language": "en",
                "in_reply_to_uri": parent[1] if parent else None,
                "in_reply_to_id": parent[0] if parent else None, "reblog_of_id": None,
                "to": json.dumps(to), "cc": json.dumps(cc), "attachments": json.dumps(attachments),
                "tags": json.dumps(tag_json), "raw": json.dumps(raw) if raw else None,
                "published": published, "edited_at": None,
                # Deleted posts stay, soft-deleted, with their timeline entries.
                "deleted_at": _ts(ms + 60_000) if rng.random() < 0.005 else None,
                "likes_count": rng.choice((0, 0, 0, 1, 2, 3, 5, 8, 20)),
                "reblogs_count": 0, "replies_count": 0,
            }
        )  # fmt: skip
        return audience, mentioned

    def _boost_row(self, post_id: int, author: Author, original_id: int, ms: int) -> Row:
        return {
            "id": post_id, "uri": f"{author.uri}/statuses/{post_id}/activity",
            "url": f"{author.profile}/{post_id}" if author.local else None,
            "actor_id": author.id, "local": int(author.local), "type": "Announce",
            "audience": "public", "content": "", "source": None, "summary": "", "sensitive": 0,
            "language": None, "in_reply_to_uri": None, "in_reply_to_id": None,
            "reblog_of_id": original_id, "to": json.dumps([PUBLIC]),
            "cc": json.dumps([author.followers_url]), "attachments": "[]", "tags": "[]",
            "raw": None, "published": _ts(ms), "edited_at": None, "deleted_at": None,
            "likes_count": 0, "reblogs_count": 0, "replies_count": 0,
        }  # fmt: skip

    def _media_row(self, post_id: int, author: Author, ms: int) -> Row:
        media_id = post_id + 1  # unique among media: one per post at most
        return {
            "id": media_id, "owner_id": author.id, "post_id": post_id, "type": "image",
            "mime_type": "image/jpeg", "file_name": f"{media_id}.jpg",
            "thumbnail_name": f"{media_id}.thumb.jpg", "width": 1280, "height": 960,
            "blurhash": BLURHASH, "description": self.rng.choice(self.sentences),
            "focus_x": None, "focus_y": None, "created_at": _ts(ms),
        }  # fmt: skip

    def _poll_row(self, post_id: int, ms: int) -> Row:
        options = [
            {"title": w, "votes_count": self.rng.randint(0, 30)} for w in ("yes", "no", "maybe")
        ]
        return {
            "post_id": post_id, "options": json.dumps(options), "multiple": 0,
            "expires_at": _ts(ms + 86_400_000),
            "voters_count": sum(o["votes_count"] for o in options),
        }  # fmt: skip

    def _reactions(self, bench_home: list[int]) -> None:
        """``bench``'s favourites, bookmarks and pins, so the viewer-state queries find some."""
        rng = self.rng
        liked = rng.sample(bench_home, len(bench_home) // 50)
        _insert(
            self.conn,
            "likes",
            [
                {"id": p + 2, "actor_id": self.bench_id, "post_id": p,
                 "uri": f"{BASE}/activities/like-{p}", "created_at": _ts((p >> 16) + 5000)}
                for p in liked
            ],
        )  # fmt: skip
        marked = rng.sample(bench_home, len(bench_home) // 200)
        _insert(
            self.conn,
            "bookmarks",
            [{"id": p + 3, "actor_id": self.bench_id, "post_id": p} for p in marked],
        )
        own = self.conn.execute(
            "SELECT id FROM posts WHERE actor_id = ? AND reblog_of_id IS NULL "
            "ORDER BY id DESC LIMIT 3",
            (self.bench_id,),
        ).fetchall()
        _insert(
            self.conn,
            "pins",
            [{"id": p + 4, "actor_id": self.bench_id, "post_id": p} for (p,) in own],
        )
        self.stats["bench_likes"] = len(liked)
        self.stats["bench_bookmarks"] = len(marked)


def fill(db_path: Path, shape: Shape, log: Callable[[str], None]) -> dict[str, Any]:
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        # Nothing to recover if the build dies: the directory is discarded and rebuilt.
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")
        conn.execute("BEGIN")
        gen = Generator(conn, shape, log)
        gen.actors()
        gen.follows()
        gen.posts()
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=WAL")  # as the node leaves its database
        stats = dict(gen.stats)
        stats["bench_actor_id"] = gen.bench_id
        stats["db_bytes"] = db_path.stat().st_size
        return stats
    finally:
        conn.close()
