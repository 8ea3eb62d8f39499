"""Company sign-in settings, read by ``node.settings.load_settings`` from
``CERCLE_OIDC_*`` / ``CERCLE_SSO_ONLY`` or the same keys (lower case) in the TOML file.

The variable names are a contract with operators (docs/identity.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_SCOPES = "openid email profile"


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    #: lower-case e-mail domains allowed to sign in; empty means any domain
    allowed_domains: tuple[str, ...] = ()
    #: local passwords are refused everywhere (web, OAuth page, password grant)
    sso_only: bool = False
    scopes: str = DEFAULT_SCOPES
    #: claim-to-role mapping: an ID-token claim (a string or a list of strings) and the
    #: values of it that make the account an administrator; empty leaves roles alone
    role_claim: str = ""
    admin_values: tuple[str, ...] = ()
    #: create a local account on first company sign-in (else only linked or SCIM accounts)
    auto_create: bool = True

    def domain_allowed(self, email: str) -> bool:
        domain = email.rpartition("@")[2].lower()
        return not self.allowed_domains or domain in self.allowed_domains


def _split(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else str(value or "").split(",")
    return tuple(str(item).strip().lower() for item in items if str(item).strip())


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "yes", "on"}


def load_oidc(pick: Callable[[str, Any], Any]) -> OidcSettings | None:
    """The OIDC settings when an issuer is configured, else None (no company sign-in).
    ``pick(name, default)`` reads ``CERCLE_<NAME>`` then the TOML key ``name``."""
    issuer = str(pick("oidc_issuer", "") or "").strip().rstrip("/")
    if not issuer:
        return None
    return OidcSettings(
        issuer=issuer,
        client_id=str(pick("oidc_client_id", "") or ""),
        client_secret=str(pick("oidc_client_secret", "") or ""),
        allowed_domains=_split(pick("oidc_allowed_domains", "")),
        sso_only=_flag(pick("sso_only", False)),
        scopes=str(pick("oidc_scopes", DEFAULT_SCOPES) or DEFAULT_SCOPES),
        role_claim=str(pick("oidc_role_claim", "") or ""),
        admin_values=tuple(
            v for v in (str(x).strip() for x in _raw_list(pick("oidc_admin_values", ""))) if v
        ),
        auto_create=_flag(pick("oidc_auto_create", True)),
    )


def _raw_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else str(value or "").split(",")


def check_oidc(oidc: OidcSettings) -> str | None:
    """Why these settings cannot work, or None."""
    if not oidc.issuer.startswith(("https://", "http://")):
        return f"CERCLE_OIDC_ISSUER must be an http(s) URL, not {oidc.issuer!r}"
    if not oidc.client_id:
        return "CERCLE_OIDC_CLIENT_ID is required when CERCLE_OIDC_ISSUER is set"
    if "openid" not in oidc.scopes.split():
        return "CERCLE_OIDC_SCOPES must include openid"
    return None
