"""Enterprise identity and governance: company sign-in links, directory provisioning
(SCIM tokens and groups), retention policies, legal holds and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from node.db.ids import new_id
from node.db.models.base import Base, cascade
from node.db.types import UTCDateTime, utcnow


class UserIdentity(Base):
    """What the company directory knows about a local account: the OpenID Connect
    subject it signs in as, the SCIM ``externalId`` and attributes Cercle does not model
    (kept so a SCIM GET returns what the directory sent), and the moment its sessions
    were cut (web session cookies issued before it are refused)."""

    __tablename__ = "user_identities"

    user_id: Mapped[int] = mapped_column(cascade("users.id"), primary_key=True)
    oidc_issuer: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    oidc_subject: Mapped[str | None] = mapped_column(String(255), nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    #: the directory's ``userName`` (often an e-mail address); the local user name, which
    #: is in every ActivityPub id of the account, is derived from it once and never changes
    user_name: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    #: set when the directory deleted the user: the account stays suspended and its posts
    #: stay under the retention policy (and any legal hold); SCIM no longer shows it
    deprovisioned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    scim_attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    sessions_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject"),)


class ScimToken(Base):
    """A bearer token for the directory's provisioning client, stored as a SHA-256 hash."""

    __tablename__ = "scim_tokens"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ScimGroup(Base):
    """A directory group. When ``link_kind``/``link_id`` name a circle (or, later, a
    group), that circle's membership follows the directory group's."""

    __tablename__ = "scim_groups"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    display_name: Mapped[str] = mapped_column(String(255), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    #: "circle" today; the groups feature adds "group" (see node/identity/scim/links.py)
    link_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    link_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScimGroupMember(Base):
    __tablename__ = "scim_group_members"

    group_id: Mapped[int] = mapped_column(cascade("scim_groups.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(cascade("users.id"), primary_key=True)

    __table_args__ = (Index("ix_scim_group_members_user_id", "user_id"),)


class RetentionPolicy(Base):
    """Local posts of ``audience`` older than ``days`` are deleted (and the deletion
    federated), except those of accounts under legal hold."""

    __tablename__ = "retention_policies"

    audience: Mapped[str] = mapped_column(String(32), primary_key=True)
    days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LegalHold(Base):
    """An account whose posts no retention policy may delete while the hold lasts."""

    __tablename__ = "legal_holds"

    actor_id: Mapped[int] = mapped_column(cascade("actors.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """One line of the append-only audit log. Database triggers (migration 0004) refuse
    UPDATE and DELETE, so not even a bug in Cercle can rewrite history; ``actor`` and
    ``target`` are plain text so entries outlive the accounts they name."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: who did it: a user name, ``cli``, ``scim:<token name>``, ``system``
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(2048), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (Index("ix_audit_log_at", "at"),)


class OidcLogin(Base):
    """A company sign-in in progress: what the callback must check (state, nonce, PKCE
    verifier) and where to go next. One use; rows older than ten minutes are swept."""

    __tablename__ = "oidc_logins"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    #: "web" (the sign-in page) or "oauth" (a client app's /oauth/authorize)
    purpose: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
