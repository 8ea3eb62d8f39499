"""Shared hypothesis strategies: arbitrary JSON, and recorded peer payloads mutated.

Random JSON alone rarely gets past a parser's first check; mutating real payloads (from
``tests/fixtures/payloads``) keeps most of a valid document and breaks one part of it,
which is where parsers crash.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

PAYLOADS = Path(__file__).resolve().parent.parent / "fixtures" / "payloads"

#: Values a peer may put anywhere: scalars of every JSON type, odd strings and nesting.
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "https://",
            "http://[::1",
            "https://example.com/x",
            "https://example.com/users/a#main-key",
            "https://www.w3.org/ns/activitystreams#Public",
            "as:Public",
            "Public",
            "2024-13-45T99:99:99Z",
            "2024-01-01T00:00:00Z",
            "\x00",
            "\ud7ff" * 3,
            "javascript:alert(1)",
            "@id",
            "@type",
            "Note",
            "Create",
            "Person",
        ]
    ),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=12), children, max_size=5),
    ),
    max_leaves=20,
)


def _load_payloads(pattern: str) -> list[dict[str, Any]]:
    docs = []
    for path in sorted(PAYLOADS.glob(f"*/{pattern}")):
        doc = json.loads(path.read_text())
        if isinstance(doc, dict):
            docs.append(doc)
    return docs


ACTIVITIES = [doc for doc in _load_payloads("*.json") if doc.get("type") not in (
    "Person", "Service", "Group", "Application", "Organization"
)]  # fmt: skip
ACTORS = [doc for doc in _load_payloads("*.json") if doc.get("type") in (
    "Person", "Service", "Group", "Application", "Organization"
)]  # fmt: skip
OBJECTS = [
    doc["object"]
    for doc in ACTIVITIES
    if doc.get("type") == "Create" and isinstance(doc.get("object"), dict)
]


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path of a JSON document (to choose where to mutate it)."""
    found: list[tuple[Any, ...]] = [prefix] if prefix else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found.extend(_paths(value, (*prefix, index)))
    return found


@st.composite
def mutated(draw: st.DrawFn, corpus: list[dict[str, Any]]) -> Any:
    """A recorded document with one to three of its values replaced, removed or wrapped."""
    doc = copy.deepcopy(draw(st.sampled_from(corpus)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = doc
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        action = draw(st.sampled_from(["replace", "delete", "wrap", "dict"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[key]
        elif action == "wrap":
            parent[key] = [parent[key], draw(json_values)]
        elif action == "dict":
            parent[key] = {"id": parent[key], "type": draw(json_scalars)}
        else:
            parent[key] = draw(json_values)
    return doc
