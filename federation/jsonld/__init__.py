"""JSON-LD processing with pyld, always through the offline loader, kept off the hot path.

Most fediverse software sends compacted JSON whose ``@context`` is the ActivityStreams context
plus small inline term maps; reading such a document key by key gives the same meaning as
JSON-LD processing, at a fraction of the cost (pyld manages ~200 documents a second).
:func:`needs_compaction` decides cheaply whether a document is of that common kind;
:func:`normalize` runs pyld only when it is not. Canonicalisation for Linked Data Signatures
(:func:`canonize`) always needs pyld.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, NamedTuple, NoReturn

import orjson

from federation.errors import ValidationError
from federation.jsonld.loader import (
    context_document,
    implies_activitystreams,
    offline_document_loader,
)

__all__ = [
    "ACTOR_CONTEXT",
    "AS_CONTEXT",
    "AS_NS",
    "AS_URL",
    "DATA_INTEGRITY_V1_URL",
    "IDENTITY_V1_URL",
    "MASTODON_TERMS",
    "MULTIKEY_V1_URL",
    "NORMALIZE_CONTEXT",
    "SECURITY_V1_URL",
    "ReadOnlyDict",
    "canonize",
    "compact",
    "expand",
    "needs_compaction",
    "normalize",
    "plain_json",
]


class ReadOnlyDict(dict):  # type: ignore[type-arg]
    """A dict that refuses changes, so shared @context constants cannot be altered by accident.

    It is still a ``dict``: ``json.dumps``, rfc8785 and pyld accept it. Copies
    (``copy.copy``/``copy.deepcopy``/pickling) come back as plain, mutable dicts.
    """

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("this mapping is read-only; copy it before changing it")

    __setitem__ = __delitem__ = __ior__ = _refuse  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return {key: copy.deepcopy(value, memo) for key, value in self.items()}

    def __reduce__(self) -> tuple[type[dict[str, Any]], tuple[dict[str, Any]]]:
        return (dict, (dict(self),))


AS_URL: Final = "https://www.w3.org/ns/activitystreams"
AS_NS: Final = "https://www.w3.org/ns/activitystreams#"
SECURITY_V1_URL: Final = "https://w3id.org/security/v1"
DATA_INTEGRITY_V1_URL: Final = "https://w3id.org/security/data-integrity/v1"
MULTIKEY_V1_URL: Final = "https://w3id.org/security/multikey/v1"
IDENTITY_V1_URL: Final = "https://w3id.org/identity/v1"

_SEC_NS = "https://w3id.org/security#"
_TOOT_NS = "http://joinmastodon.org/ns#"

#: The Mastodon-style extension terms every outgoing document declares inline.
MASTODON_TERMS: Final = ReadOnlyDict(
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "movedTo": ReadOnlyDict({"@id": "as:movedTo", "@type": "@id"}),
        "toot": _TOOT_NS,
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "memorial": "toot:memorial",
        "featured": ReadOnlyDict({"@id": "toot:featured", "@type": "@id"}),
        "Emoji": "toot:Emoji",
        "focalPoint": ReadOnlyDict({"@container": "@list", "@id": "toot:focalPoint"}),
        "blurhash": "toot:blurhash",
        "votersCount": "toot:votersCount",
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
    }
)

#: ``assertionMethod`` as the DID context defines it: the multikey and data-integrity contexts
#: only define it inside proofs, so an actor listing its keys must declare it itself.
_ASSERTION_METHOD_TERM: Final = ReadOnlyDict(
    {
        "assertionMethod": ReadOnlyDict(
            {"@id": f"{_SEC_NS}assertionMethod", "@type": "@id", "@container": "@set"}
        )
    }
)

#: The @context Cercle sends on activities and objects. Immutable: it is a tuple holding a
#: :class:`ReadOnlyDict`; both serialise as JSON unchanged.
AS_CONTEXT: Final = (AS_URL, SECURITY_V1_URL, MASTODON_TERMS)

#: The @context of actors, which also publish Multikeys in ``assertionMethod`` (FEP-521a) and
#: sign with integrity proofs (FEP-8b32).
ACTOR_CONTEXT: Final = (
    AS_URL,
    SECURITY_V1_URL,
    DATA_INTEGRITY_V1_URL,
    MULTIKEY_V1_URL,
    MASTODON_TERMS,
    _ASSERTION_METHOD_TERM,
)

#: What :func:`normalize` compacts against: ActivityStreams, security v1 (publicKey) and the
#: extension terms :mod:`federation.vocab` reads, so that they come out under the names the
#: parser looks for.
NORMALIZE_CONTEXT: Final = (
    AS_URL,
    SECURITY_V1_URL,
    MULTIKEY_V1_URL,
    MASTODON_TERMS,
    _ASSERTION_METHOD_TERM,
    ReadOnlyDict(
        {
            "alsoKnownAs": ReadOnlyDict({"@id": "as:alsoKnownAs", "@type": "@id"}),
            "quoteUrl": "as:quoteUrl",
            "quote": ReadOnlyDict({"@id": "https://w3id.org/fep/044f#quote", "@type": "@id"}),
            "fedibird": "http://fedibird.com/ns#",
            "quoteUri": "fedibird:quoteUri",
            "misskey": "https://misskey-hub.net/ns#",
            "_misskey_quote": "misskey:_misskey_quote",
            "_misskey_content": "misskey:_misskey_content",
        }
    ),
)


def plain_json(value: Any) -> Any:
    """A deep copy made of plain ``dict`` and ``list`` values (tuples become lists) for pyld."""
    if isinstance(value, Mapping):
        return {key: plain_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(item) for item in value]
    return value


def _options(**extra: Any) -> dict[str, Any]:
    return {"documentLoader": offline_document_loader, **extra}


def _processor() -> Any:
    """pyld, imported on first use: most nodes never need it (it costs ~5 MB resident)."""
    from pyld import jsonld

    return jsonld


#: What pyld raises besides JsonLdError on hostile documents: ``{"@vocab": null}`` in a
#: context ends in a KeyError deep inside it (found by tests/fuzz/test_jsonld_fuzz.py).
_PYLD_CRASHES: Final = (RecursionError, TypeError, ValueError, KeyError, IndexError, AttributeError)


def _fail(operation: str, error: Exception) -> NoReturn:
    raise ValidationError(f"JSON-LD {operation} failed: {error}") from error


def expand(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Expand ``doc`` (offline). Raises ValidationError if pyld rejects it."""
    _pyld = _processor()
    try:
        result: list[dict[str, Any]] = _pyld.expand(plain_json(doc), _options())
    except (_pyld.JsonLdError, *_PYLD_CRASHES) as error:
        _fail("expansion", error)
    return result


def compact(doc: Mapping[str, Any], context: Any = AS_CONTEXT) -> dict[str, Any]:
    """Compact ``doc`` against ``context`` (offline). Raises ValidationError on failure."""
    _pyld = _processor()
    try:
        result: dict[str, Any] = _pyld.compact(
            plain_json(doc), {"@context": plain_json(context)}, _options()
        )
    except (_pyld.JsonLdError, *_PYLD_CRASHES) as error:
        _fail("compaction", error)
    return result


def canonize(doc: Mapping[str, Any]) -> str:
    """URDNA2015 canonical N-Quads of ``doc`` (offline), as Linked Data Signatures hash them."""
    _pyld = _processor()
    try:
        result: str = _pyld.normalize(
            plain_json(doc),
            _options(algorithm="URDNA2015", format="application/n-quads"),
        )
    except (_pyld.JsonLdError, *_PYLD_CRASHES) as error:
        _fail("canonicalisation", error)
    return result


# --- the fast path -------------------------------------------------------------------------

#: Prefix names whose keys the parser would read after compaction (``as:content``...).
_WATCHED_NAMESPACES: Final = (
    AS_NS,
    "http://www.w3.org/ns/activitystreams#",
    _SEC_NS,
    _TOOT_NS,
    "http://schema.org",
    "https://schema.org",
    "https://misskey-hub.net/ns#",
    "http://fedibird.com/ns#",
)
_DEFAULT_WATCHED_PREFIXES: Final = frozenset({"as", "sec", "toot", "schema"})
_MAX_SCAN_DEPTH: Final = 12


@functools.cache
def _activitystreams_terms() -> Mapping[str, str]:
    """term -> full IRI (or keyword) for every term of the bundled ActivityStreams context."""
    context: dict[str, Any] = context_document(AS_URL)["@context"]
    prefixes = {k: v for k, v in context.items() if isinstance(v, str) and v.endswith(("#", "/"))}
    terms: dict[str, str] = {}
    for term, definition in context.items():
        if term.startswith("@") or term in prefixes:
            continue
        iri = definition if isinstance(definition, str) else definition.get("@id", "")
        terms[term] = _expand_prefixed(iri, prefixes)
    return MappingProxyType(terms)


def _expand_prefixed(iri: str, prefixes: Mapping[str, Any]) -> str:
    prefix, colon, suffix = iri.partition(":")
    if not colon or suffix.startswith("//"):
        return iri
    if prefix == "as":
        return AS_NS + suffix
    base = prefixes.get(prefix)
    return base + suffix if isinstance(base, str) else iri


_KEYWORD_ALIASES: Final = frozenset({("id", "@id"), ("type", "@type")})
_CONTAINERS: Final = (dict, list)


class _ContextScan(NamedTuple):
    """What an @context tells the fast path."""

    usual: bool  #: False for a null (context reset) or a value of the wrong type
    has_activitystreams: bool
    risky_terms: frozenset[str]  #: AS terms redefined or aliased: keys that read differently
    watched_prefixes: frozenset[str]  #: prefixes of namespaces whose terms the parser reads

    def merge(self, other: _ContextScan) -> _ContextScan:
        return _ContextScan(
            self.usual and other.usual,
            self.has_activitystreams or other.has_activitystreams,
            self.risky_terms | other.risky_terms,
            self.watched_prefixes | other.watched_prefixes,
        )


def _scan_term_map(term_map: Mapping[str, Any], risky: set[str], prefixes: set[str]) -> None:
    as_terms = _activitystreams_terms()
    for term, definition in term_map.items():
        if term.startswith("@"):
            continue  # @vocab, @language, @version... leave defined AS terms alone
        iri = definition.get("@id") if isinstance(definition, dict) else definition
        if not isinstance(iri, str):
            # null (a term reset), @reverse or junk: it matters only if the document then
            # uses the term as a key, which the key scan turns into a trip through pyld
            risky.add(term)
            continue
        if iri.startswith("@"):
            if (term, iri) not in _KEYWORD_ALIASES:
                risky.add(term)  # e.g. "uri": "@id"
            continue
        expanded = _expand_prefixed(iri, term_map)
        if expanded.endswith(("#", "/")) and expanded.startswith(_WATCHED_NAMESPACES):
            prefixes.add(term)
        known = as_terms.get(term)
        if known is not None:
            if expanded != known:
                risky.add(term)  # an AS term redefined
        elif expanded.startswith(AS_NS):
            local = expanded[len(AS_NS) :]
            if local != term and local in as_terms:
                risky.add(term)  # an alias, e.g. "expires": "as:endTime"


@functools.lru_cache(maxsize=256)
def _scan_context_text(context_text: bytes) -> _ContextScan:
    """Scan one @context, given as JSON text so the result can be memoised.

    Servers repeat the same @context on every activity, so the cache (bounded, holding only
    immutable results of a pure function) turns the per-document cost into one lookup.
    """
    context = json.loads(context_text)
    entries = context if isinstance(context, list) else [context]
    has_as = False
    risky: set[str] = set()
    prefixes = set(_DEFAULT_WATCHED_PREFIXES)
    for entry in entries:
        if isinstance(entry, str):
            has_as = has_as or implies_activitystreams(entry)
        elif isinstance(entry, dict):
            _scan_term_map(entry, risky, prefixes)
        else:
            return _ContextScan(False, has_as, frozenset(risky), frozenset(prefixes))
    return _ContextScan(True, has_as, frozenset(risky), frozenset(prefixes))


def _scan_context(context: Any) -> _ContextScan:
    # Every received document's @context comes through here, and Mastodon's is ≈ 1 kB:
    # orjson makes its cache key in ≈ 1 µs, the standard encoder in ≈ 8.
    try:
        text = orjson.dumps(context)
    except TypeError:
        return _ContextScan(False, False, frozenset(), _DEFAULT_WATCHED_PREFIXES)
    return _scan_context_text(text)


def _is_watched_key(key: str, scan: _ContextScan) -> bool:
    """A prefixed or full-IRI key in a namespace whose terms the parser reads."""
    if "://" in key:
        return True
    prefix, _, _ = key.partition(":")
    return prefix in scan.watched_prefixes


def _has_unusual_keys(root: Mapping[str, Any], scan: _ContextScan) -> bool:
    """Walk the document (iteratively, to a bounded depth) looking for keys pyld must read."""
    pending: list[tuple[Any, int, _ContextScan]] = [(root, 0, scan)]
    while pending:
        node, depth, scope = pending.pop()
        if depth > _MAX_SCAN_DEPTH:
            continue
        if isinstance(node, list):
            pending.extend(
                (item, depth + 1, scope) for item in node if isinstance(item, _CONTAINERS)
            )
            continue
        if depth and "@context" in node:
            scope = scope.merge(_scan_context(node["@context"]))  # an embedded document
            if not scope.usual:
                return True
        risky = scope.risky_terms
        if _may_be_unusual(node, risky):
            for key in node:
                if ":" in key or key.startswith("@") or key in risky:
                    if key == "@context":
                        continue
                    if key.startswith("@") or key in risky or _is_watched_key(key, scope):
                        return True
        pending.extend(
            (value, depth + 1, scope)
            for key, value in node.items()
            if isinstance(value, _CONTAINERS) and key != "@context"  # scanned above
        )
    return False


def _may_be_unusual(node: Mapping[str, Any], risky: frozenset[str]) -> bool:
    """Whether any key needs a closer look, decided for all keys at once: most objects of
    a document have plain keys only, and one search of their joined names costs less than
    three tests on each name."""
    try:
        joined = "\0".join(node)
    except TypeError:  # a key that is not a string: look at each
        return True
    return ":" in joined or "@" in joined or (bool(risky) and not risky.isdisjoint(node))


def needs_compaction(doc: Any) -> bool:
    """Cheaply tell whether ``doc`` must go through pyld before it can be read key by key.

    False for the common case: an ``@context`` made of known context URLs that include
    ActivityStreams (directly or through Litepub) plus inline term maps that add terms
    (``{"toot": ..., "sensitive": "as:sensitive"}``) without redefining or aliasing AS terms
    the document then uses. Unknown context URLs do not count against a document: they are
    never fetched and the loader treats them as empty anyway.

    True when the document uses unusual compaction: keyword keys (``@id``), prefixed or
    full-IRI keys in namespaces we read (``as:content``), AS terms redefined or aliased inline
    and then used, a ``null`` in @context, or an @context without ActivityStreams at all.

    A document with no ``@context`` is read as plain ActivityStreams JSON (False): pyld would
    drop every one of its properties, which helps nobody.
    """
    if not isinstance(doc, Mapping) or "@context" not in doc:
        return False
    scan = _scan_context(doc["@context"])
    if not scan.usual or not scan.has_activitystreams:
        return True
    return _has_unusual_keys(doc, scan)


def normalize(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return ``doc`` itself when it can be read directly, else its compaction.

    Compaction is against :data:`NORMALIZE_CONTEXT` (ActivityStreams, security v1 and the
    extension terms the parser reads). Raises ValidationError when pyld cannot process it.
    """
    if not needs_compaction(doc):
        return doc
    return compact(doc, NORMALIZE_CONTEXT)
