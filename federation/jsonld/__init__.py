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
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Final, NoReturn

from pyld import jsonld as _pyld

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


def _fail(operation: str, error: Exception) -> NoReturn:
    raise ValidationError(f"JSON-LD {operation} failed: {error}") from error


def expand(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Expand ``doc`` (offline). Raises ValidationError if pyld rejects it."""
    try:
        result: list[dict[str, Any]] = _pyld.expand(plain_json(doc), _options())
    except (_pyld.JsonLdError, RecursionError, TypeError, ValueError) as error:
        _fail("expansion", error)
    return result


def compact(doc: Mapping[str, Any], context: Any = AS_CONTEXT) -> dict[str, Any]:
    """Compact ``doc`` against ``context`` (offline). Raises ValidationError on failure."""
    try:
        result: dict[str, Any] = _pyld.compact(
            plain_json(doc), {"@context": plain_json(context)}, _options()
        )
    except (_pyld.JsonLdError, RecursionError, TypeError, ValueError) as error:
        _fail("compaction", error)
    return result


def canonize(doc: Mapping[str, Any]) -> str:
    """URDNA2015 canonical N-Quads of ``doc`` (offline), as Linked Data Signatures hash them."""
    try:
        result: str = _pyld.normalize(
            plain_json(doc),
            _options(algorithm="URDNA2015", format="application/n-quads"),
        )
    except (_pyld.JsonLdError, RecursionError, TypeError, ValueError) as error:
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


class _ContextScan:
    """What an @context tells the fast path: AS present? which keys would read differently?"""

    __slots__ = ("has_activitystreams", "risky_terms", "watched_prefixes")

    def __init__(self) -> None:
        self.has_activitystreams = False
        self.risky_terms: set[str] = set()
        self.watched_prefixes: set[str] = set(_DEFAULT_WATCHED_PREFIXES)

    def add_term_map(self, term_map: Mapping[str, Any]) -> None:
        as_terms = _activitystreams_terms()
        for term, definition in term_map.items():
            if term.startswith("@"):
                continue  # @vocab, @language, @version... leave defined AS terms alone
            if definition is None:
                if term in as_terms:
                    self.risky_terms.add(term)
                continue
            iri = definition if isinstance(definition, str) else None
            if isinstance(definition, Mapping):
                iri = definition.get("@id")
            if not isinstance(iri, str):
                self.risky_terms.add(term)  # @reverse or malformed: let pyld sort it out
                continue
            if iri.startswith("@"):
                if (term, iri) not in {("id", "@id"), ("type", "@type")}:
                    self.risky_terms.add(term)  # e.g. "uri": "@id"
                continue
            expanded = _expand_prefixed(iri, term_map)
            if expanded.startswith(_WATCHED_NAMESPACES) and expanded.endswith(("#", "/")):
                self.watched_prefixes.add(term)
            if term in as_terms:
                if expanded != as_terms[term]:
                    self.risky_terms.add(term)  # an AS term redefined
            elif expanded.startswith(AS_NS):
                local = expanded.removeprefix(AS_NS)
                if local != term and local in as_terms:
                    self.risky_terms.add(term)  # an alias, e.g. "expires": "as:endTime"


def _scan_context(context: Any, scan: _ContextScan) -> bool:
    """Fold ``context`` into ``scan``; False when its shape is unusual (null resets, junk)."""
    entries: Iterable[Any] = context if isinstance(context, list | tuple) else (context,)
    for entry in entries:
        if isinstance(entry, str):
            scan.has_activitystreams |= implies_activitystreams(entry)
        elif isinstance(entry, Mapping):
            scan.add_term_map(entry)
        else:
            return False
    return True


def _is_watched_key(key: str, scan: _ContextScan) -> bool:
    if "://" in key:
        return True  # a full IRI as a key
    prefix, _, _ = key.partition(":")
    return prefix in scan.watched_prefixes


def _has_unusual_keys(node: Any, scan: _ContextScan, depth: int) -> bool:
    if depth > _MAX_SCAN_DEPTH:
        return False
    if isinstance(node, list):
        return any(_has_unusual_keys(item, scan, depth + 1) for item in node)
    if not isinstance(node, Mapping):
        return False
    if depth and "@context" in node and not _scan_context(node["@context"], scan):
        return True  # an embedded object with its own, odd, context
    for key, value in node.items():
        if key == "@context":
            continue
        if key.startswith("@") or key in scan.risky_terms:
            return True
        if ":" in key and _is_watched_key(key, scan):
            return True
        if isinstance(value, Mapping | list) and _has_unusual_keys(value, scan, depth + 1):
            return True
    return False


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
    scan = _ContextScan()
    if not _scan_context(doc["@context"], scan) or not scan.has_activitystreams:
        return True
    return _has_unusual_keys(doc, scan, 0)


def normalize(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return ``doc`` itself when it can be read directly, else its compaction.

    Compaction is against :data:`NORMALIZE_CONTEXT` (ActivityStreams, security v1 and the
    extension terms the parser reads). Raises ValidationError when pyld cannot process it.
    """
    if not needs_compaction(doc):
        return doc
    return compact(doc, NORMALIZE_CONTEXT)
