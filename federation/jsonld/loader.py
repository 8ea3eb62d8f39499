"""An offline pyld document loader serving the JSON-LD contexts bundled with Cercle.

Why offline: a context URL inside a remote document is attacker-chosen. Fetching it would let any
sender make us issue requests (SSRF), stall the inbox on a slow host, or change the meaning of a
document we already verified. So pyld only ever sees the files in ``contexts/``; an unknown
context URL is answered with an *empty* context ``{}`` instead of an error. The rest of the
document is then still processed with the contexts we do know (terms that only the unknown
context defined expand under ActivityStreams' ``"@vocab": "_:"`` to blank-node properties, which
RDF canonicalisation drops), so one exotic extension never makes a valid Note unreadable.

Where each bundled file comes from: the exact text published at the URL, as vendored by pyld,
Fedify, Pleroma and Lemmy, unless said otherwise.

- ``https://www.w3.org/ns/activitystreams``: activitystreams.jsonld (current W3C text).
- ``https://w3id.org/security/v1``: security-v1.jsonld.
- ``https://w3id.org/security/data-integrity/v1`` and ``/v2``: data-integrity-v1/v2.jsonld.
- ``https://w3id.org/security/multikey/v1``: multikey-v1.jsonld.
- ``https://www.w3.org/ns/did/v1``: did-v1.jsonld.
- ``https://w3id.org/identity/v1``: identity-v1.jsonld (RsaSignature2017 options use it).
- ``https://purl.archive.org/socialweb/webfinger``: webfinger.jsonld (Litepub imports it).
- ``https://litepub.social/litepub/context.jsonld``: litepub-0.1.jsonld, Pleroma's
  ``priv/static/schemas/litepub-0.1.jsonld``; also served for any URL whose path ends in
  ``/schemas/litepub-0.1.jsonld`` (each Pleroma/Akkoma instance serves its own copy).
- ``https://join-lemmy.org/context.json``: lemmy.jsonld.
- ``https://gotosocial.org/ns``: gotosocial.jsonld, the copy Fedify preloads; newer GoToSocial
  terms simply stay undefined.
- ``https://w3id.org/fep/5711``: fep-5711.jsonld.
- ``http://joinmastodon.org/ns``: mastodon.jsonld. That URL has never served a context
  (Mastodon inlines its terms); this is Mastodon's inline term map, as Fedify ships it, for
  software that puts the bare URL in ``@context``.
- ``http://schema.org`` and ``https://schema.org``: schema-org-reduced.jsonld, a REDUCED
  context, not the 200 kB original: schema.org's ``@vocab`` plus the terms fediverse software
  uses (PropertyValue, value, identifier, inLanguage, address...).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

#: Normalised URL (see :func:`normalize_context_url`) -> file name in ``contexts/``.
_URL_TO_FILE: Mapping[str, str] = MappingProxyType(
    {
        "www.w3.org/ns/activitystreams": "activitystreams.jsonld",
        "w3id.org/security/v1": "security-v1.jsonld",
        "w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
        "w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
        "w3id.org/security/multikey/v1": "multikey-v1.jsonld",
        "www.w3.org/ns/did/v1": "did-v1.jsonld",
        "w3id.org/identity/v1": "identity-v1.jsonld",
        "purl.archive.org/socialweb/webfinger": "webfinger.jsonld",
        "litepub.social/litepub/context.jsonld": "litepub-0.1.jsonld",
        "join-lemmy.org/context.json": "lemmy.jsonld",
        "gotosocial.org/ns": "gotosocial.jsonld",
        "w3id.org/fep/5711": "fep-5711.jsonld",
        "joinmastodon.org/ns": "mastodon.jsonld",
        "schema.org": "schema-org-reduced.jsonld",
    }
)

#: Pleroma and Akkoma serve Litepub's context from every instance, under this path.
_LITEPUB_INSTANCE_PATH = "/schemas/litepub-0.1.jsonld"

#: Context URLs that bring the whole ActivityStreams vocabulary with them.
_IMPLIES_ACTIVITYSTREAMS = frozenset(
    {"www.w3.org/ns/activitystreams", "litepub.social/litepub/context.jsonld"}
)


def normalize_context_url(url: str) -> str:
    """Reduce a context URL to the key we match on.

    The scheme is dropped (``http`` and ``https`` name the same context in practice), the host
    is lower-cased, and trailing ``#`` and ``/`` are removed, so ``http://schema.org/`` and
    ``https://schema.org`` both become ``schema.org``.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. a broken IPv6 literal: match nothing, never raise
        return url.strip().lower()
    path = parts.path
    if parts.query:
        path = f"{path}?{parts.query}"
    return f"{parts.netloc.lower()}{path}".rstrip("#/")


def _file_for(url: str) -> str | None:
    key = normalize_context_url(url)
    name = _URL_TO_FILE.get(key)
    if name is None and key.endswith(_LITEPUB_INSTANCE_PATH):
        name = "litepub-0.1.jsonld"
    return name


def is_known_context(url: str) -> bool:
    """True when ``url`` is served from a bundled file rather than as an empty context."""
    return _file_for(url) is not None


def implies_activitystreams(url: str) -> bool:
    """True when the context at ``url`` defines the ActivityStreams terms (AS itself, Litepub)."""
    key = normalize_context_url(url)
    return key in _IMPLIES_ACTIVITYSTREAMS or key.endswith(_LITEPUB_INSTANCE_PATH)


@functools.cache
def _bundled_texts() -> Mapping[str, str]:
    """Read every bundled context file once; the mapping is read-only and holds only strings."""
    folder = resources.files("federation.jsonld").joinpath("contexts")
    texts = {
        name: folder.joinpath(name).read_text(encoding="utf-8") for name in _URL_TO_FILE.values()
    }
    return MappingProxyType(texts)


def context_document(url: str) -> dict[str, Any]:
    """The parsed context document for ``url``: a fresh dict the caller may keep or change.

    Unknown URLs give ``{"@context": {}}`` and are logged at debug level, never fetched.
    """
    name = _file_for(url)
    if name is None:
        log.debug("unknown JSON-LD context %s treated as empty", url)
        return {"@context": {}}
    document: dict[str, Any] = json.loads(_bundled_texts()[name])
    return document


def offline_document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld ``documentLoader``: answer from the bundle, never from the network.

    Returns pyld's RemoteDocument shape. ``options`` is accepted for pyld's calling convention
    and ignored.
    """
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": context_document(url),
    }


def bundled_context_urls() -> tuple[str, ...]:
    """One canonical URL per bundled file, for tests and diagnostics."""
    return tuple(f"https://{key}" for key in _URL_TO_FILE)
