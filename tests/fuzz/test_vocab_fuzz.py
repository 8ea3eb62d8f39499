"""AS2 parsing under hostile input: activities, objects and actors either parse into typed
values or raise ValidationError with a reason. Any other exception is a crash the inbox
gate would turn into a 500."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from federation.errors import ValidationError
from federation.vocab import parse_activity, parse_actor, parse_object
from tests.fuzz.conftest import FUZZ
from tests.fuzz.strategies import ACTIVITIES, ACTORS, OBJECTS, json_values, mutated


def _parses_or_refuses(parser: Any, doc: Any) -> None:
    try:
        parser(doc)
    except ValidationError as exc:
        assert exc.reason, "a refusal must say why"


@FUZZ
@given(st.one_of(json_values, mutated(ACTIVITIES)))
@example({"type": "Create", "id": "https://a.example/1", "actor": [], "object": {}})
@example({"@context": {"@vocab": 5}, "type": "Follow"})
def test_parse_activity_never_crashes(doc: Any) -> None:
    """Given any JSON or a recorded activity with parts broken, parse_activity returns an
    Activity or raises ValidationError."""
    _parses_or_refuses(parse_activity, doc)


@FUZZ
@given(st.one_of(json_values, mutated(OBJECTS)))
@example({"type": "Note", "id": "https://a.example/n", "tag": [None, 1, {"type": "Mention"}]})
@example({"type": "Question", "id": "https://a.example/q", "oneOf": [{"replies": "x"}]})
def test_parse_object_never_crashes(doc: Any) -> None:
    _parses_or_refuses(parse_object, doc)


@FUZZ
@given(st.one_of(json_values, mutated(ACTORS)))
@example({"type": "Person", "id": "https://a.example/u", "publicKey": [1, "x", {}]})
def test_parse_actor_never_crashes(doc: Any) -> None:
    _parses_or_refuses(parse_actor, doc)


def test_recorded_payloads_still_parse() -> None:
    """The corpus the mutations start from is valid: otherwise the fuzzing proves little."""
    assert ACTIVITIES and ACTORS and OBJECTS
    for doc in ACTIVITIES:
        parse_activity(doc)
    for doc in ACTORS:
        parse_actor(doc)


def _nested(depth: int) -> dict[str, Any]:
    """A legal activity whose object nests ``depth`` levels (as json.loads would build it)."""
    inner: Any = "https://a.example/deep"
    for _ in range(depth):
        inner = {"type": "Note", "id": "https://a.example/n", "inReplyTo": inner, "tag": [inner]}
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Create",
        "id": "https://a.example/c",
        "actor": "https://a.example/u",
        "object": inner,
    }


def test_deeply_nested_documents_are_refused_or_parsed() -> None:
    """Nesting deep enough to exhaust recursion in a naive walker never escapes as
    RecursionError."""
    for depth in (50, 400, 900):
        for parser in (parse_activity, parse_object):
            _parses_or_refuses(parser, _nested(depth))
