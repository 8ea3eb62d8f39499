"""Which local account a validated company sign-in is, creating it on first sign-in.

An account is found by its OpenID Connect subject (stable, unlike e-mail addresses), else
by e-mail address (an account made by SCIM or by hand gets linked on its first company
sign-in), else made from the claims when the node allows it. The claim-to-role mapping
then sets the administrator flag on every sign-in, so removing someone from the admin
group in the directory takes effect at their next sign-in.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.accounts import create_user, local_actor_by_username
from node.context import Node, transaction
from node.db.models import Actor, User, UserIdentity
from node.db.types import utcnow
from node.identity.audit import audit_now, record_audit
from node.identity.config import OidcSettings
from node.identity.oidc import OidcError
from node.identity.sessions import identity_row
from node.urls import RESERVED_USERNAMES

MAX_USERNAME = 30


def username_candidates(claims: dict[str, Any]) -> list[str]:
    """User names to try, best first: ``preferred_username`` then the e-mail's local part,
    reduced to what Cercle user names allow, then numbered variants."""
    raw = [str(claims.get("preferred_username") or ""), str(claims.get("email") or "")]
    bases: list[str] = []
    for value in raw:
        local = value.partition("@")[0].lower()
        name = re.sub(r"[^a-z0-9_]", "_", local).strip("_")[:MAX_USERNAME]
        if name and name not in bases and name not in RESERVED_USERNAMES:
            bases.append(name)
    if not bases:
        bases = ["user"]
    numbered = [f"{bases[0][: MAX_USERNAME - 3]}{n}" for n in range(2, 100)]
    return bases + numbered


def is_admin_by_claims(oidc: OidcSettings, claims: dict[str, Any]) -> bool | None:
    """True/False when the mapping decides, None when no role claim is configured."""
    if not oidc.role_claim:
        return None
    value = claims.get(oidc.role_claim)
    values = value if isinstance(value, list) else [value]
    return any(str(v) in oidc.admin_values for v in values if v is not None)


def _email(oidc: OidcSettings, claims: dict[str, Any]) -> str:
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise OidcError("Your company account has no e-mail address: ask your IT team.")
    if claims.get("email_verified") is False:
        raise OidcError("Your company account's e-mail address is not verified.")
    if not oidc.domain_allowed(email):
        domain = email.rpartition("@")[2].lower()
        raise OidcError(f"Accounts of {domain} cannot sign in here.")
    return email.strip()


async def _linked(db: AsyncSession, issuer: str, subject: str) -> User | None:
    return await db.scalar(
        select(User)
        .join(UserIdentity, UserIdentity.user_id == User.id)
        .where(UserIdentity.oidc_issuer == issuer, UserIdentity.oidc_subject == subject)
    )


async def _create(node: Node, db: AsyncSession, claims: dict[str, Any], email: str) -> User:
    for name in username_candidates(claims):
        if await local_actor_by_username(db, name) is None:
            return await create_user(
                node,
                db,
                username=name,
                # Never typed by anyone: the account signs in with the company account.
                password=secrets.token_urlsafe(32),
                email=email,
                display_name=str(claims.get("name") or "")[:30],
            )
    raise OidcError("No free user name for your account: ask an administrator.")


async def account_for_claims(
    node: Node, oidc: OidcSettings, claims: dict[str, Any]
) -> tuple[User, Actor]:
    """The enabled local account for these validated claims, or OidcError (audited)."""
    subject = str(claims["sub"])
    try:
        email = _email(oidc, claims)
        async with transaction(node) as db:
            user = await _linked(db, oidc.issuer, subject)
            created = False
            if user is None:
                user = await db.scalar(select(User).where(func.lower(User.email) == email.lower()))
                if user is not None:
                    row = await identity_row(db, user.id)
                    if row.oidc_subject is not None and row.oidc_subject != subject:
                        raise OidcError("This e-mail address belongs to another company account.")
                elif oidc.auto_create:
                    user = await _create(node, db, claims, email)
                    created = True
                else:
                    raise OidcError("You have no account here yet: ask an administrator.")
                row = await identity_row(db, user.id)
                row.oidc_issuer, row.oidc_subject, row.updated_at = oidc.issuer, subject, utcnow()
            if user.disabled:
                raise OidcError("This account is disabled: ask an administrator.")
            admin = is_admin_by_claims(oidc, claims)
            if admin is not None:
                user.is_admin = admin
            actor = await db.get(Actor, user.actor_id)
            assert actor is not None
            record_audit(
                db,
                "signin.oidc",
                actor=actor.username,
                target=actor.username,
                detail={"sub": subject, "created": created, "admin": user.is_admin},
            )
    except OidcError as exc:
        await audit_now(
            node,
            "signin.refused",
            target=str(claims.get("email") or subject)[:255],
            detail={"why": exc.message, "sub": subject},
        )
        raise
    return user, actor
