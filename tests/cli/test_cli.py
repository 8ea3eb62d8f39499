"""The ``cercle`` command as an operator runs it: real processes, real ports, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness import bind_loopback


def free_port() -> int:
    sock = bind_loopback()
    port = sock.getsockname()[1]
    sock.close()
    return port


@dataclass
class CliNode:
    data_dir: Path
    port: int

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CERCLE_DATA_DIR": str(self.data_dir),
            "CERCLE_DOMAIN": f"127.0.0.1:{self.port}",
            "CERCLE_DEV": "1",
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "node", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def serve(self) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "node",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/.well-known/nodeinfo", timeout=1
                ) as response:
                    if response.status == 200:
                        return process
            except OSError:
                time.sleep(0.1)
        process.kill()
        raise AssertionError(f"serve did not answer: {process.communicate()[1][-2000:]}")


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cercle: error: ")
    return lines[0]


@pytest.fixture
def cli_a(tmp_path: Path) -> CliNode:
    return CliNode(tmp_path / "a", free_port())


@pytest.fixture
def cli_b(tmp_path: Path) -> CliNode:
    return CliNode(tmp_path / "b", free_port())


@pytest.fixture
def served(cli_a: CliNode, cli_b: CliNode) -> Iterator[tuple[CliNode, CliNode]]:
    for node, user in ((cli_a, "alice"), (cli_b, "bob")):
        assert node.run("init", "--admin", "root", "--password", "rootpass1").returncode == 0
        assert node.run("user", "add", user, "--password", "password1").returncode == 0
    processes = [cli_a.serve(), cli_b.serve()]
    try:
        yield cli_a, cli_b
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            assert process.wait(timeout=30) == 0, process.communicate()[1][-2000:]


def test_init_is_idempotent_and_users_are_listed(cli_a: CliNode):
    first = cli_a.run("init", "--admin", "root", "--password", "rootpass1", "--org-name", "Acme")
    assert first.returncode == 0 and "created node" in first.stdout
    second = cli_a.run("init", "--admin", "other", "--password", "otherpass1")
    assert second.returncode == 0 and "already exists" in second.stdout
    assert (
        cli_a.run(
            "user", "add", "alice", "--password", "password1", "--email", "a@x.example"
        ).returncode
        == 0
    )
    listed = cli_a.run("user", "list").stdout.splitlines()
    assert [line.split("\t")[0] for line in listed] == ["alice", "root"]
    assert "admin" in listed[1]


def test_bad_input_exits_non_zero_with_one_line(cli_a: CliNode, tmp_path: Path):
    assert "no node in" in one_line_error(cli_a.run("timeline", "--as", "alice", "--json"))
    cli_a.run("init", "--admin", "root", "--password", "rootpass1")
    assert "unknown user" in one_line_error(cli_a.run("post", "--as", "nobody", "hi"))
    assert "already exists" in one_line_error(
        cli_a.run("user", "add", "root", "--password", "password1")
    )
    assert "too short" in one_line_error(cli_a.run("user", "add", "eve", "--password", "x"))
    assert "invalid user name" in one_line_error(
        cli_a.run("user", "add", "Bad Name!", "--password", "password1")
    )
    assert "cannot resolve" in one_line_error(
        cli_a.run("follow", "--as", "root", f"ghost@127.0.0.1:{free_port()}")
    )
    loopback_prod = CliNode(tmp_path / "prod", free_port())
    env_result = subprocess.run(
        [sys.executable, "-m", "node", "user", "list"],
        env={**loopback_prod.env, "CERCLE_DEV": "0"},
        capture_output=True,
        text=True,
    )
    assert "CERCLE_DEV" in one_line_error(env_result)


def test_follow_post_and_timeline_between_two_served_nodes(served: tuple[CliNode, CliNode]):
    """The operator scripts of the issue: follow by handle, post, read the timeline as JSON."""
    a, b = served
    followed = a.run("follow", "--as", "alice", f"bob@127.0.0.1:{b.port}")
    assert followed.returncode == 0, followed.stderr
    followers_url = f"http://127.0.0.1:{b.port}/users/bob/followers"
    poll(lambda: fetch_json(followers_url)["totalItems"] == 1)

    posted = b.run("post", "--as", "bob", "Quarterly numbers are out")
    assert posted.returncode == 0, posted.stderr
    assert posted.stdout.strip().startswith(f"http://127.0.0.1:{b.port}/@bob/")

    def timeline() -> list[dict[str, str]]:
        result = a.run("timeline", "--as", "alice", "--limit", "5", "--json")
        return [json.loads(line) for line in result.stdout.splitlines()]

    items = poll(timeline)
    assert set(items[0]) >= {"id", "url", "author", "content"}
    assert items[0]["author"] == f"http://127.0.0.1:{b.port}/users/bob"
    assert "Quarterly numbers" in items[0]["content"]


def fetch_json(url: str) -> dict:
    request = urllib.request.Request(url, headers={"Accept": "application/activity+json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def poll(probe, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


@pytest.mark.timeout(300)  # eight short processes, each importing the whole node
def test_federation_policy_and_partner_commands(cli_a: CliNode):
    """The admin's policy commands, and a partner proposal that cannot succeed: each bad
    one exits with one line and changes nothing."""
    cli_a.run("init", "--admin", "root", "--password", "rootpass1")
    assert cli_a.run("federation", "mode", "partners").returncode == 0
    assert cli_a.run("federation", "mode").stdout.strip() == "partners"
    assert "invalid choice" in one_line_error(cli_a.run("federation", "mode", "sideways"))
    result = cli_a.run("domain", "allow", "Supplier.Example")
    assert result.returncode == 0 and result.stdout.strip() == "supplier.example: allowed"
    assert "invalid domain" in one_line_error(cli_a.run("domain", "block", "http://x/y"))
    # Not an ActivityPub server (nothing listens there): a clear line, no partnership
    nobody = f"127.0.0.1:{free_port()}"
    assert "ActivityPub" in one_line_error(cli_a.run("partner", "propose", nobody))
    assert cli_a.run("partner", "list").stdout.strip() == "no partnerships yet"


def test_serve_logs_json_lines_with_the_request_id(cli_a: CliNode):
    """An operator's log collector gets one JSON object a line; the access line of a
    request carries the proxy's X-Request-Id, its method, path, status and duration."""
    assert cli_a.run("init", "--admin", "root", "--password", "rootpass1").returncode == 0
    process = cli_a.serve()
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{cli_a.port}/users/root",
            headers={"X-Request-Id": "trace-7f3a", "Accept": "application/activity+json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            assert response.headers["X-Request-Id"] == "trace-7f3a"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr[-2000:]
    entries = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    access = [e for e in entries if e.get("request_id") == "trace-7f3a"]
    assert len(access) == 1, stderr[-2000:]
    line = access[0]
    assert line["logger"] == "cercle.access" and line["level"] == "info"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/users/root", 200)
    assert line["duration_ms"] >= 0 and line["time"].endswith("+00:00")
