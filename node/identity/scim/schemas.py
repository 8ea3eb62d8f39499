"""The discovery documents (RFC 7643 sections 5-7): what this SCIM service supports, the
resource types it serves and the attributes of each, exactly the ones it keeps."""

from __future__ import annotations

from typing import Any

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SERVICE_PROVIDER_CONFIG = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
#: Page size when the client gives no ``count``, and the most one page holds.
DEFAULT_COUNT = 100
MAX_COUNT = 200


def attr(
    name: str,
    type_: str = "string",
    *,
    multi: bool = False,
    required: bool = False,
    mutability: str = "readWrite",
    returned: str = "default",
    uniqueness: str = "none",
    case_exact: bool = False,
    sub: list[dict[str, Any]] | None = None,
    reference_types: list[str] | None = None,
    canonical: list[str] | None = None,
    description: str = "",
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "name": name,
        "type": type_,
        "multiValued": multi,
        "description": description or name,
        "required": required,
        "mutability": mutability,
        "returned": returned,
    }
    if type_ in ("string", "reference", "binary"):
        value["caseExact"] = case_exact
        value["uniqueness"] = uniqueness
    if sub is not None:
        value["subAttributes"] = sub
    if reference_types is not None:
        value["referenceTypes"] = reference_types
    if canonical is not None:
        value["canonicalValues"] = canonical
    return value


USER_ATTRIBUTES = [
    attr(
        "userName",
        required=True,
        uniqueness="server",
        description="The directory's unique name for the user; the local user name is "
        "derived from it once and never changes.",
    ),
    attr(
        "name",
        "complex",
        sub=[
            attr("formatted"),
            attr("familyName"),
            attr("givenName"),
            attr("middleName"),
            attr("honorificPrefix"),
            attr("honorificSuffix"),
        ],
    ),
    attr("displayName"),
    attr(
        "emails",
        "complex",
        multi=True,
        sub=[
            attr("value"),
            attr("display"),
            attr("type", canonical=["work", "home", "other"]),
            attr("primary", "boolean"),
        ],
    ),
    attr("active", "boolean", description="False suspends the account at once."),
    attr(
        "groups",
        "complex",
        multi=True,
        mutability="readOnly",
        sub=[
            attr("value", mutability="readOnly"),
            attr("$ref", "reference", mutability="readOnly", reference_types=["Group"]),
            attr("display", mutability="readOnly"),
            attr("type", mutability="readOnly", canonical=["direct"]),
        ],
    ),
]

GROUP_ATTRIBUTES = [
    attr("displayName", required=True, uniqueness="server"),
    attr(
        "members",
        "complex",
        multi=True,
        sub=[
            attr("value", mutability="immutable"),
            attr("$ref", "reference", mutability="immutable", reference_types=["User"]),
            attr("display", mutability="readOnly"),
            attr("type", mutability="immutable", canonical=["User"]),
        ],
    ),
]


def _meta(base: str, resource_type: str, path: str) -> dict[str, Any]:
    return {"resourceType": resource_type, "location": f"{base}{path}"}


def schemas(base: str) -> list[dict[str, Any]]:
    return [
        {
            "schemas": [SCHEMA],
            "id": USER,
            "name": "User",
            "description": "User Account",
            "attributes": USER_ATTRIBUTES,
            "meta": _meta(base, "Schema", f"/Schemas/{USER}"),
        },
        {
            "schemas": [SCHEMA],
            "id": GROUP,
            "name": "Group",
            "description": "Group",
            "attributes": GROUP_ATTRIBUTES,
            "meta": _meta(base, "Schema", f"/Schemas/{GROUP}"),
        },
    ]


def resource_types(base: str) -> list[dict[str, Any]]:
    return [
        {
            "schemas": [RESOURCE_TYPE],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": USER,
            "schemaExtensions": [],
            "meta": _meta(base, "ResourceType", "/ResourceTypes/User"),
        },
        {
            "schemas": [RESOURCE_TYPE],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Group",
            "schema": GROUP,
            "schemaExtensions": [],
            "meta": _meta(base, "ResourceType", "/ResourceTypes/Group"),
        },
    ]


def service_provider_config(base: str, documentation: str) -> dict[str, Any]:
    return {
        "schemas": [SERVICE_PROVIDER_CONFIG],
        "documentationUri": documentation,
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_COUNT},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "A token made with `cercle scim token create`.",
                "primary": True,
            }
        ],
        "meta": _meta(base, "ServiceProviderConfig", "/ServiceProviderConfig"),
    }
