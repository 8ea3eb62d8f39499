"""``cercle scim token``, ``cercle scim link``, ``cercle retention`` and ``cercle audit``
as an operator runs them: real processes on a real data directory."""

from __future__ import annotations

import asyncio
import json
import zipfile
from pathlib import Path

import pytest

from node.context import open_node
from node.identity.scim.tokens import authenticate
from node.settings import load_settings
from tests.cli.test_cli import CliNode, free_port


def make_node(tmp_path: Path) -> CliNode:
    node = CliNode(tmp_path / "data", free_port())
    result = node.run("init", "--admin", "admin", "--password", "correct horse battery")
    assert result.returncode == 0, result.stderr
    return node


async def token_works(node: CliNode, token: str) -> bool:
    """What the SCIM endpoint asks of a bearer token, asked of the node's database."""
    running = open_node(load_settings(node.env))
    try:
        async with running.reads() as db:
            return await authenticate(db, token) is not None
    finally:
        await running.close()


#: Each command is a fresh Python process: on a busy two-core machine ten take minutes.
@pytest.mark.timeout(400)
def test_scim_tokens_retention_and_audit_from_the_console(tmp_path: Path):
    node = make_node(tmp_path)
    # A token is printed once, is accepted, and stops being accepted when revoked.
    created = node.run("scim", "token", "create", "--name", "entra")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("cscim_")
    listed = node.run("scim", "token", "list")
    assert "entra" in listed.stdout and token not in listed.stdout
    assert asyncio.run(token_works(node, token))
    assert node.run("scim", "token", "revoke", "entra").returncode == 0
    assert not asyncio.run(token_works(node, token))
    assert "revoked" in node.run("scim", "token", "list").stdout

    assert node.run("retention", "policy", "organisation", "730").returncode == 0
    assert node.run("retention", "hold", "admin", "--reason", "audit").returncode == 0
    listed = node.run("retention", "list")
    assert "organisation\t730 days" in listed.stdout and "admin" in listed.stdout

    # Bad input: one line, non-zero exit, nothing changed.
    bad = node.run("retention", "policy", "everyone", "10")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "unknown audience" in bad.stderr
    bad = node.run("scim", "link", "Nobody", "--circle", "1")
    assert bad.returncode == 1 and "no directory group" in bad.stderr
    assert node.run("audit", "--since", "not-a-date").returncode == 1

    # The audit log holds every change, attributed to the console user.
    audit = node.run("audit", "--json")
    assert audit.returncode == 0, audit.stderr
    entries = [json.loads(line) for line in audit.stdout.splitlines()]
    actions = [e["action"] for e in entries]
    assert actions[0] == "user.created"  # the first admin, by `cercle init`
    assert [a for a in actions if a.startswith("scim.")] == [
        "scim.token.created",
        "scim.token.revoked",
    ]
    assert "retention.policy" in actions and "retention.hold" in actions
    assert all(e["actor"].startswith("cli") for e in entries if e["action"] != "signin.refused")
    recent = node.run("audit", "--since", "2000-01-01", "--action", "retention")
    assert recent.stdout.count("retention.") == 2


@pytest.mark.timeout(400)
def test_export_and_import_from_the_console(tmp_path: Path):
    node = make_node(tmp_path)
    assert node.run("user", "add", "bob", "--password", "correct horse battery").returncode == 0
    follows = tmp_path / "following_accounts.csv"
    follows.write_text(f"Account address,Show boosts\nbob@127.0.0.1:{node.port},true\n")
    circles = tmp_path / "lists.csv"
    circles.write_text(f"Team,bob@127.0.0.1:{node.port}\nTeam,nobody@127.0.0.1:{node.port}\n")
    imported = node.run("import", "--user", "admin", str(follows))
    assert imported.returncode == 0, imported.stderr
    assert "followed 1" in imported.stdout
    imported = node.run("import", "--user", "admin", str(circles))
    assert "added 1 circle members, created 1 circles" in imported.stdout
    assert "skipped nobody@" in imported.stdout

    archive = tmp_path / "admin.zip"
    exported = node.run("export", "--user", "admin", str(archive))
    assert exported.returncode == 0, exported.stderr
    with zipfile.ZipFile(archive) as zipped:
        assert f"bob@127.0.0.1:{node.port}" in zipped.read("following_accounts.csv").decode()
        assert zipped.read("circles.csv").decode() == f"Team,bob@127.0.0.1:{node.port}\n"
    firm = tmp_path / "firm.zip"
    exported = node.run(
        "export", "--all", "--since", "2020-01-01", "--until", "2100-01-01", str(firm)
    )
    assert exported.returncode == 0 and zipfile.is_zipfile(firm)

    # Bad input: one line on stderr, non-zero exit, no file left behind.
    for args in (
        ("export", str(tmp_path / "x.zip")),
        ("export", "--all", "--since", "2020-01-01", str(tmp_path / "x.zip")),
        ("export", "--user", "nobody", str(tmp_path / "x.zip")),
        ("import", "--user", "admin", str(tmp_path / "missing.csv")),
    ):
        result = node.run(*args)
        assert result.returncode == 1 and result.stderr.count("\n") == 1, (args, result.stderr)
    assert not (tmp_path / "x.zip").exists() and not (tmp_path / "x.zip.partial").exists()
