"""JSON columns are written by orjson; what it refuses falls back, never altered."""

from __future__ import annotations

import json

from node.db.json_text import dumps


def test_written_text_reads_back_identical() -> None:
    value = {"content": "é ☃ 😀", "to": ["https://a.example/u"], "n": 3, "x": None}
    assert json.loads(dumps(value)) == value


def test_values_orjson_refuses_are_written_exactly() -> None:
    for value in ({"content": "\ud800"}, {"n": 2**70}, {1: "int key"}):
        assert json.loads(dumps(value)) == json.loads(json.dumps(value))
