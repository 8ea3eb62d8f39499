"""Errors and shapes shared by the SCIM Users and Groups services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from node.identity.scim.schemas import ERROR

#: What a client sends that the server decides (RFC 7643: readOnly) or never stores.
SERVER_OWNED = {"id", "meta", "schemas", "groups", "password"}


class ScimError(Exception):
    """An RFC 7644 section 3.12 error answer."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "schemas": [ERROR],
            "status": str(self.status),
            "detail": self.detail,
        }
        if self.scim_type:
            body["scimType"] = self.scim_type
        return body


def not_found(kind: str, key: str) -> ScimError:
    return ScimError(404, f"{kind} {key} not found")


def invalid(detail: str, scim_type: str = "invalidValue") -> ScimError:
    return ScimError(400, detail, scim_type)


def conflict(detail: str) -> ScimError:
    return ScimError(409, detail, "uniqueness")


def parse_id(value: str, kind: str) -> int:
    if not value.isdigit() or len(value) > 20:
        raise not_found(kind, value)
    return int(value)


def stored_attributes(data: dict[str, Any]) -> dict[str, Any]:
    """What to keep of a client's representation: all but the server's own fields."""
    return {k: v for k, v in data.items() if k.lower() not in SERVER_OWNED}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def get_ci(data: dict[str, Any], name: str) -> Any:
    """Attribute names are case-insensitive (RFC 7643 section 2.1)."""
    for key, value in data.items():
        if key.lower() == name.lower():
            return value
    return None
