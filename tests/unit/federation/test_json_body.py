"""Reading peers' JSON with orjson must give what the standard library gives."""

from __future__ import annotations

import json

import pytest

from federation import json_body


def test_common_documents_read_as_with_the_standard_library() -> None:
    body = json.dumps(
        {"id": "https://a.example/1", "content": "é ☃ 😀", "n": [1, 2.5, None, True]}
    ).encode()
    assert json_body.loads(body) == json.loads(body)


def test_lone_surrogate_escapes_are_read_as_before() -> None:
    body = b'{"content": "\\ud800 broken emoji"}'
    assert json_body.loads(body) == {"content": "\ud800 broken emoji"}


@pytest.mark.parametrize("body", [b"{", b"\xff\xfe", b"", b'{"a": 1,}', b"[" * 5000 + b"]" * 5000])
def test_malformed_bodies_raise_what_json_raises(body: bytes) -> None:
    with pytest.raises((json.JSONDecodeError, UnicodeDecodeError, RecursionError)):
        json_body.loads(body)
