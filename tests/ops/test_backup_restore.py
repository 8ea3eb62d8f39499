"""``cercle backup`` of a running node, ``cercle restore`` into an empty data directory."""

from __future__ import annotations

import asyncio
import io
import json
import tarfile
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from node.follows import follow
from node.posts import create_post
from tests.api.conftest import issue_token
from tests.harness import (
    POSTGRES_ADMIN_URL,
    NodeFactory,
    RunningNode,
    bind_loopback,
    create_test_database,
    make_settings,
)
from tests.ops.cli_process import run_cli, settings_env

AP_JSON = {"Accept": "application/activity+json"}
#: posts written while the backup runs, at most: with the six before, one timeline page
MAX_WRITTEN_DURING = 30


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def steady(status: dict[str, object]) -> dict[str, object]:
    """A status without its author's counters, which later posts move."""
    account = {
        k: v
        for k, v in status["account"].items()  # type: ignore[attr-defined]
        if k not in ("statuses_count", "last_status_at")
    }
    return {**status, "account": account}


async def get_json(session: aiohttp.ClientSession, url: str, **kwargs: object) -> object:
    async with session.get(url, **kwargs) as response:  # type: ignore[arg-type]
        assert response.status == 200, (url, response.status, await response.text())
        return await response.json(content_type=None)


@pytest.mark.timeout(300)  # CLI processes on a shared two-core machine
async def test_backup_of_a_running_node_restores_timelines_keys_and_media(
    tmp_path: Path, node_factory: NodeFactory
) -> None:
    # Given a running node where alice follows bob, and bob posted, once with an image
    node = await node_factory.start("bk", users=("alice", "bob"))
    alice, bob = await node.actor("alice"), await node.actor("bob")
    await follow(node.node, alice, bob)
    for n in range(5):
        await create_post(node.node, bob, f"bob's post {n}")
    token = await issue_token(node, "alice")
    bob_token = await issue_token(node, "bob")
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session:
        form = aiohttp.FormData()
        form.add_field("file", png(64, 48), filename="red.png", content_type="image/png")
        async with session.post(
            node.base_url + "/api/v2/media",
            data=form,
            headers={"Authorization": f"Bearer {bob_token}"},
        ) as r:
            assert r.status in (200, 202), await r.text()
            media_id = (await r.json())["id"]
        async with session.post(
            node.base_url + "/api/v1/statuses",
            json={"status": "a red square", "media_ids": [media_id]},
            headers={"Authorization": f"Bearer {bob_token}"},
        ) as r:
            assert r.status == 200, await r.text()
        home_before = await get_json(
            session, node.base_url + "/api/v1/timelines/home", headers=headers
        )
        actor_before = await get_json(session, node.actor_uri("alice"), headers=AP_JSON)
        media_url = home_before[0]["media_attachments"][0]["url"]  # type: ignore[index]
        async with session.get(media_url) as r:
            media_bytes = await r.read()
    assert len(home_before) == 6  # type: ignore[arg-type]

    # When it is backed up while bob keeps posting
    archive = tmp_path / "node.cercle.tgz"
    writing = asyncio.Event()
    writing.set()

    async def keep_posting() -> int:
        count = 0
        while writing.is_set() and count < MAX_WRITTEN_DURING:
            await create_post(node.node, bob, f"written during the backup {count}")
            count += 1
            await asyncio.sleep(0.05)  # pacing, so the writes span the backup
        return count

    writer = asyncio.create_task(keep_posting())
    result = await asyncio.to_thread(run_cli, settings_env(node.settings), "backup", str(archive))
    writing.clear()
    written_meanwhile = await writer
    assert result.returncode == 0, result.stderr
    assert "backed up" in result.stdout and "media files" in result.stdout
    assert written_meanwhile > 0
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert names[:2] == ["manifest.json", "database.sqlite"]
    assert any(name.startswith("media/") for name in names)
    assert alice.uri in manifest["keys"]

    # And the node is stopped, and the archive restored into an empty data directory
    await node_factory.stop(node)
    database_url = None
    if POSTGRES_ADMIN_URL:
        database_url = await create_test_database()
        node_factory.databases.append(database_url)
    restored_settings = make_settings(tmp_path / "restored", node.port, database_url)
    restored = await asyncio.to_thread(
        run_cli, settings_env(restored_settings), "restore", str(archive)
    )
    assert restored.returncode == 0, restored.stderr
    assert "keys (verified)" in restored.stdout

    # Then the restored node serves the same timelines, keys and media
    again = RunningNode(name="restored", settings=restored_settings, port=node.port)
    await node_factory._serve(again, bind_loopback(node.port))
    node_factory.nodes.append(again)
    async with aiohttp.ClientSession() as session:
        home_after = await get_json(
            session, again.base_url + "/api/v1/timelines/home?limit=40", headers=headers
        )
        actor_after = await get_json(session, again.actor_uri("alice"), headers=AP_JSON)
        async with session.get(media_url) as r:
            assert r.status == 200
            assert await r.read() == media_bytes
    before_ids = [s["id"] for s in home_before]  # type: ignore[union-attr]
    after_by_id = {s["id"]: s for s in home_after}  # type: ignore[union-attr]
    # every post from before the backup, exactly as served then (bob's post count aside:
    # he kept posting)
    for i, old in zip(before_ids, home_before, strict=True):
        new = steady(after_by_id[i])
        changed = {k: (v, new.get(k)) for k, v in steady(old).items() if new.get(k) != v}
        assert not changed, changed
    # plus a consistent part of what was written during it: a prefix, no gaps
    during = [s for s in home_after if s["id"] not in set(before_ids)]  # type: ignore[union-attr]
    numbers = sorted(int(s["content"].rsplit(" ", 1)[1].split("<")[0]) for s in during)
    assert numbers == list(range(len(numbers)))
    assert actor_after["publicKey"] == actor_before["publicKey"]  # type: ignore[index]

    # And a second restore into the now used directory is refused
    refused = await asyncio.to_thread(
        run_cli, settings_env(restored_settings), "restore", str(archive)
    )
    assert refused.returncode == 1
    assert "is not empty" in refused.stderr


def test_restore_refuses_an_archive_of_another_domain_or_no_archive(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "empty", 1)
    (tmp_path / "empty").rmdir()
    bogus = tmp_path / "bogus.tgz"
    with tarfile.open(bogus, "w:gz") as tar:
        data = json.dumps({"format": "cercle-backup/1", "domain": "acme.example"}).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    result = run_cli(settings_env(settings), "restore", str(bogus))
    assert result.returncode == 1
    assert "holds the node acme.example" in result.stderr
    missing = run_cli(settings_env(settings), "restore", str(tmp_path / "nope.tgz"))
    assert missing.returncode == 1
    assert "no archive at" in missing.stderr
