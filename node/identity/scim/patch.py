"""SCIM PATCH (RFC 7644 section 3.5.2) applied to a resource's JSON representation.

The service then stores the patched representation exactly as it would a PUT, so one code
path decides what an update means. Paths: ``attr``, ``attr.sub``, ``attr[filter]`` and
``attr[filter].sub``, with or without the schema URN; no path with a value object (the
form Entra ID and Okta send, including dotted keys such as ``name.givenName``).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from node.identity.scim.filters import FilterError, parse_filter
from node.identity.scim.schemas import GROUP, GROUP_ATTRIBUTES, USER, USER_ATTRIBUTES

PATH_RE = re.compile(r"^(?P<attr>[^\[\].]+)(?:\[(?P<filter>[^\]]*)\])?(?:\.(?P<sub>[^\[\].]+))?$")
OPERATIONS = ("add", "remove", "replace")


class PatchError(ValueError):
    """``scim_type`` is the RFC 7644 ``scimType`` of the 400 answer."""

    def __init__(self, scim_type: str, detail: str) -> None:
        super().__init__(detail)
        self.scim_type = scim_type
        self.detail = detail


def _canonical_names() -> dict[str, str]:
    names = {"externalid": "externalId", "id": "id", "schemas": "schemas", "meta": "meta"}
    for attribute in [*USER_ATTRIBUTES, *GROUP_ATTRIBUTES]:
        names[attribute["name"].lower()] = attribute["name"]
        for sub in attribute.get("subAttributes", []):
            names[sub["name"].lower()] = sub["name"]
    return names


CANONICAL = _canonical_names()


def canonical(name: str) -> str:
    return CANONICAL.get(name.lower(), name)


def _strip_urn(path: str) -> str:
    for urn in (USER, GROUP):
        if path.lower().startswith(urn.lower() + ":"):
            return path[len(urn) + 1 :]
    return path


def _key(resource: dict[str, Any], name: str) -> str:
    """The existing key for ``name`` (attribute names are case-insensitive), else the
    schema's spelling."""
    for key in resource:
        if key.lower() == name.lower():
            return key
    return canonical(name)


def _coerce(name: str, value: Any) -> Any:
    """Entra ID sends booleans as the strings "True"/"False"."""
    if name.lower() in ("active", "primary") and isinstance(value, str):
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
    return value


def _merge(target: dict[str, Any], value: dict[str, Any]) -> None:
    for name, item in value.items():
        target[_key(target, name)] = _coerce(name, item)


def _apply_plain(resource: dict[str, Any], op: str, name: str, value: Any) -> None:
    key = _key(resource, name)
    value = _coerce(name, value)
    if op == "remove":
        resource.pop(key, None)
        return
    current = resource.get(key)
    if op == "add" and isinstance(current, list):
        additions = value if isinstance(value, list) else [value]
        resource[key] = current + [v for v in additions if v not in current]
    elif isinstance(current, dict) and isinstance(value, dict):
        _merge(current, value)
    else:
        resource[key] = value


def _apply_path(resource: dict[str, Any], op: str, path: str, value: Any) -> None:
    path = _strip_urn(path.strip())
    if path.lower().startswith("urn:"):
        # a whole schema extension's attributes: kept as they are
        _apply_plain(resource, op, path, value)
        return
    match = PATH_RE.match(path)
    if match is None:
        raise PatchError("invalidPath", f"cannot read the path {path!r}")
    name, filter_text, sub = match.group("attr"), match.group("filter"), match.group("sub")
    if filter_text is None and sub is None:
        _apply_plain(resource, op, name, value)
        return
    key = _key(resource, name)
    current = resource.get(key)
    if filter_text is None:
        # attr.sub on a single complex attribute (or on each element of a list)
        targets = current if isinstance(current, list) else [current] if current else []
        if not targets and op != "remove":
            resource[key] = {}
            targets = [resource[key]]
        for target in targets:
            if isinstance(target, dict):
                _apply_plain(target, op, sub, value)
        return
    try:
        predicate = parse_filter(filter_text)
    except FilterError as exc:
        raise PatchError("invalidFilter", str(exc)) from exc
    items = current if isinstance(current, list) else []
    matching = [item for item in items if isinstance(item, dict) and predicate(item)]
    if op == "remove" and sub is None:
        resource[key] = [item for item in items if item not in matching]
        return
    if not matching:
        if op == "remove":
            return
        raise PatchError("noTarget", f"no value of {name} matches [{filter_text}]")
    for item in matching:
        if sub is not None:
            _apply_plain(item, op, sub, value)
        elif isinstance(value, dict):
            _merge(item, value)
        else:
            raise PatchError("invalidValue", f"{path} needs an object value")


def apply_patch(resource: dict[str, Any], operations: Any) -> dict[str, Any]:
    """A patched copy of ``resource``; PatchError on a malformed operation."""
    if not isinstance(operations, list) or not operations:
        raise PatchError("invalidSyntax", "Operations must be a non-empty list")
    patched = copy.deepcopy(resource)
    for operation in operations:
        if not isinstance(operation, dict):
            raise PatchError("invalidSyntax", "each operation must be an object")
        op = str(operation.get("op", "")).lower()
        if op not in OPERATIONS:
            raise PatchError("invalidSyntax", f"op must be one of {', '.join(OPERATIONS)}")
        path = operation.get("path")
        value = operation.get("value")
        if path is None or path == "":
            if op == "remove":
                raise PatchError("noTarget", "remove needs a path")
            if not isinstance(value, dict):
                raise PatchError("invalidValue", f"{op} without a path needs an object value")
            for name, item in value.items():
                _apply_path(patched, op, name, item)
        elif not isinstance(path, str):
            raise PatchError("invalidPath", "path must be a string")
        else:
            if op != "remove" and "value" not in operation:
                raise PatchError("invalidValue", f"{op} needs a value")
            _apply_path(patched, op, path, value)
    return patched
