"""Request ids: 32 hex digits, unique, and the proxy's own when it is sane."""

from __future__ import annotations

import os
import re

from node.logging_setup import new_request_id


def test_fresh_ids_are_unique_hex() -> None:
    ids = {new_request_id(None) for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_a_forked_child_draws_its_own_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report one id and leave without running pytest's teardown
        os.write(write, new_request_id(None).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child_id = os.read(read, 64).decode()
    os.close(read)
    assert child_id[:20] != new_request_id(None)[:20]


def test_a_proxy_id_is_kept_only_when_sane() -> None:
    assert new_request_id("proxy-42") == "proxy-42"
    assert re.fullmatch(r"[0-9a-f]{32}", new_request_id("no spaces\tplease"))
