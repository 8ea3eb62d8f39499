"""NodeInfo documents: what software this node runs and how busy it is.

Served at ``/.well-known/nodeinfo`` (the discovery JRD) and ``/nodeinfo/2.1`` and
``/nodeinfo/2.0``. Both schemas forbid unknown keys (``additionalProperties: false``), so
the 2.0 document leaves out the ``repository`` and ``homepage`` that only 2.1 knows.
"""

from __future__ import annotations

import re

SCHEMA_REL = "http://nodeinfo.diaspora.software/ns/schema/{version}"
SUPPORTED_VERSIONS = ("2.1", "2.0")
_SOFTWARE_NAME = re.compile(r"[a-z0-9-]+")


def build_nodeinfo_links(base_url: str) -> dict:
    """The ``/.well-known/nodeinfo`` discovery document, newest schema first."""
    base = base_url.rstrip("/")
    return {
        "links": [
            {"rel": SCHEMA_REL.format(version=version), "href": f"{base}/nodeinfo/{version}"}
            for version in SUPPORTED_VERSIONS
        ]
    }


def build_nodeinfo(
    *,
    version: str = "2.1",
    software_name: str,
    software_version: str,
    repository: str | None,
    homepage: str | None,
    users_total: int,
    active_month: int,
    active_halfyear: int,
    local_posts: int,
    open_registrations: bool,
    metadata: dict,
) -> dict:
    """A NodeInfo 2.1 or 2.0 document that validates against its schema.

    Raises ``ValueError`` for what the schema would reject: an unknown version, a software
    name outside ``[a-z0-9-]+``, a negative count.
    """
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"unsupported NodeInfo version {version!r}")
    if not _SOFTWARE_NAME.fullmatch(software_name):
        raise ValueError(f"NodeInfo software name must match [a-z0-9-]+: {software_name!r}")
    counts = {
        "users_total": users_total,
        "active_month": active_month,
        "active_halfyear": active_halfyear,
        "local_posts": local_posts,
    }
    for name, value in counts.items():
        if value < 0:
            raise ValueError(f"{name} must not be negative: {value}")
    software: dict[str, str] = {"name": software_name, "version": software_version}
    if version == "2.1":
        if repository is not None:
            software["repository"] = repository
        if homepage is not None:
            software["homepage"] = homepage
    return {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open_registrations,
        "usage": {
            "users": {
                "total": users_total,
                "activeMonth": active_month,
                "activeHalfyear": active_halfyear,
            },
            "localPosts": local_posts,
        },
        "metadata": dict(metadata),
    }
