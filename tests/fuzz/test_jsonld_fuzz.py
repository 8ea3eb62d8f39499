"""JSON-LD normalisation under hostile contexts: unknown remote contexts are never fetched,
odd term definitions never crash pyld's callers; the only refusal is ValidationError."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from federation.errors import ValidationError
from federation.jsonld import needs_compaction, normalize
from tests.fuzz.conftest import FUZZ
from tests.fuzz.strategies import ACTIVITIES, json_scalars, json_values, mutated

AS2 = "https://www.w3.org/ns/activitystreams"

term_definitions = st.dictionaries(
    st.sampled_from(["id", "type", "actor", "object", "to", "as", "x", "@vocab", "@base", "Note"]),
    st.one_of(
        json_scalars,
        st.fixed_dictionaries(
            {"@id": st.sampled_from(["as:actor", "@type", "@id", "https://x.example/t", "x"])},
            optional={
                "@type": st.sampled_from(["@id", "@json", "@vocab", "xsd:string"]),
                "@container": st.sampled_from(["@set", "@list", "@language", "@index"]),
            },
        ),
    ),
    max_size=4,
)
contexts = st.one_of(
    json_values,
    st.lists(st.one_of(st.just(AS2), st.text(max_size=30), term_definitions), max_size=3),
    term_definitions,
    st.sampled_from(["https://unknown.example/ctx", "http://127.0.0.1:1/ctx", AS2]),
)


@st.composite
def documents_with_contexts(draw: st.DrawFn) -> dict[str, Any]:
    doc = dict(draw(mutated(ACTIVITIES)))
    doc["@context"] = draw(contexts)
    return doc


@FUZZ
@given(st.one_of(json_values, documents_with_contexts()))
def test_normalize_never_crashes(doc: Any) -> None:
    """needs_compaction answers for any JSON; normalize returns a mapping or refuses with
    ValidationError (a context it does not hold is refused, never fetched)."""
    if not isinstance(doc, dict):
        assert needs_compaction(doc) in (True, False)
        return
    needs_compaction(doc)
    try:
        result = normalize(doc)
    except ValidationError as exc:
        assert exc.reason
    else:
        assert isinstance(result, dict)


def test_remote_context_is_refused_not_fetched() -> None:
    """A document naming a context we do not bundle is refused (no network access)."""
    doc = {
        "@context": ["http://127.0.0.1:9/evil.jsonld"],
        "type": "Note",
        "id": "https://a.example/n",
    }
    try:
        normalize(doc)
    except ValidationError as exc:
        assert "JSON-LD" in exc.reason


def test_null_vocab_is_a_validation_error() -> None:
    """Regression: ``{"@vocab": null}`` made pyld raise KeyError (a 500 at the inbox)."""
    import pytest

    from federation.vocab import parse_activity

    doc = {
        "@context": {"@vocab": None},
        "id": "https://remote.example/users/alice#announce/1",
        "type": "Announce",
        "actor": "https://remote.example/users/alice",
        "object": "https://cercle.example/users/bob/statuses/1",
    }
    with pytest.raises(ValidationError):
        normalize(doc)
    with pytest.raises(ValidationError):
        parse_activity(doc)
