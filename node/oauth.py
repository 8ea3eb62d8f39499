"""OAuth2 for client apps: registered apps, authorization codes with PKCE, and tokens.

Pure logic and the database, no HTTP: ``node/api/oauth.py`` turns requests into these
calls and ``OAuthError`` into RFC 6749 responses. Every secret (client secret, code, access
and refresh token) is shown once and stored only as a SHA-256 hash, so a database leak
hands out no live credential.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from node.api.auth import hash_secret, new_secret
from node.api.scopes import parse_scopes, subset
from node.context import Node, transaction
from node.db.models import Actor, NodeSetting, OAuthApp, OAuthCode, OAuthToken, User
from node.db.types import utcnow
from node.errors import CercleError, Invalid
from node.identity.audit import audit_now, record_audit
from node.passwords import verify_password

#: The redirect URI meaning "show the code to the user" (copy-paste into the app).
OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = timedelta(minutes=10)
DEFAULT_SCOPE = "read"
PKCE_METHODS = ("S256", "plain")
#: RFC 7636 section 4.1: 43 to 128 unreserved characters (the challenge has the same form).
PKCE_VALUE_RE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
#: Schemes that would run code or read files in the user's browser instead of reaching an app.
FORBIDDEN_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "about", "blob"})
MAX_NAME = 255
MAX_URI = 2048
FORM_SECRET_KEY = "oauth_form_secret"
#: Checked when the login is unknown, so that an unknown name costs as long as a wrong password.
_TIMING_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$8rza5pS/GknxT5PWjPNZrA$"
    "5UXhhanmzumslDJwUTi90738A2K8ZAyNwWUwTKlamaQ"
)


class OAuthError(Exception):
    """An RFC 6749 error: ``error`` is the code clients switch on, ``description`` the
    sentence a developer reads."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class AuthorizationError(OAuthError):
    """An authorization-request error the client's (already validated) redirect URI may
    hear about, as RFC 6749 section 4.1.2.1 asks."""

    def __init__(self, error: str, description: str, redirect_uri: str) -> None:
        super().__init__(error, description)
        self.redirect_uri = redirect_uri


class LoginRefused(CercleError):
    """Wrong user name, e-mail or password, or a disabled account."""

    status = 401


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


@dataclass(frozen=True)
class RegisteredApp:
    app: OAuthApp
    #: the only moment the plain secret exists
    client_secret: str


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    refresh_token: str | None
    scopes: str
    created_at: datetime


@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked ``/oauth/authorize`` request: the app, where to send the answer, what
    access it asks for, and the PKCE challenge to remember with the code."""

    app: OAuthApp
    redirect_uri: str
    scopes: list[str]
    code_challenge: str | None
    code_challenge_method: str | None


# --- apps -------------------------------------------------------------------------


def split_redirect_uris(value: str | list[str] | None) -> list[str]:
    """Clients send one string (newline- or space-separated, as Mastodon stores them) or an
    array."""
    items = value if isinstance(value, list) else (value or "").split()
    return list(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))


def check_redirect_uri(uri: str) -> None:
    """Absolute, no fragment (RFC 6749 section 3.1.2), and nothing a browser would execute."""
    if uri == OOB:
        return
    if len(uri) > MAX_URI:
        raise Invalid(f"redirect URI is longer than {MAX_URI} characters")
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if not scheme or (scheme in ("http", "https") and not parts.netloc):
        raise Invalid(f"redirect URI {uri!r} must be an absolute URI")
    if scheme in FORBIDDEN_SCHEMES:
        raise Invalid(f"redirect URI {uri!r} uses a forbidden scheme")
    if parts.fragment or uri.endswith("#"):
        raise Invalid(f"redirect URI {uri!r} must not contain a fragment")


def registered_redirect_uris(app: OAuthApp) -> list[str]:
    return app.redirect_uris.split()


async def register_app(
    node: Node,
    *,
    name: str | None,
    redirect_uris: str | list[str] | None,
    scopes: str | None,
    website: str | None,
) -> RegisteredApp:
    """``POST /api/v1/apps``: anyone may register a client; it gets no access by itself."""
    name = (name or "").strip()
    if not name:
        raise Invalid("client_name can't be blank")
    if len(name) > MAX_NAME:
        raise Invalid(f"client_name is longer than {MAX_NAME} characters")
    uris = split_redirect_uris(redirect_uris)
    if not uris:
        raise Invalid("redirect_uris can't be blank")
    for uri in uris:
        check_redirect_uri(uri)
    try:
        scope_list = parse_scopes(scopes, DEFAULT_SCOPE)
    except ValueError as exc:
        raise Invalid(f"scopes: {exc}") from exc
    website = (website or "").strip() or None
    if website is not None and (
        len(website) > MAX_URI or urlsplit(website).scheme not in ("http", "https")
    ):
        raise Invalid("website must be an http(s) URL")
    secret = new_secret()
    app = OAuthApp(
        client_id=new_secret(),
        client_secret_hash=hash_secret(secret),
        name=name,
        website=website,
        redirect_uris="\n".join(uris),
        scopes=" ".join(scope_list),
    )
    async with transaction(node) as db:
        db.add(app)
        await db.flush()
    return RegisteredApp(app=app, client_secret=secret)


async def find_app(db: AsyncSession, client_id: str | None) -> OAuthApp | None:
    if not client_id:
        return None
    return await db.scalar(select(OAuthApp).where(OAuthApp.client_id == client_id))


async def authenticate_client(
    db: AsyncSession, client_id: str | None, client_secret: str | None
) -> OAuthApp:
    """Every Mastodon client is confidential: the token endpoint always wants the secret."""
    app = await find_app(db, client_id)
    given = hash_secret(client_secret or "")
    if app is None or not client_secret or not hmac.compare_digest(app.client_secret_hash, given):
        raise OAuthError(
            "invalid_client",
            "Client authentication failed due to unknown client, no client authentication "
            "included, or unsupported authentication method.",
            401,
        )
    return app


# --- scopes and PKCE ----------------------------------------------------------------


def granted_scopes(
    requested: str | None, allowed: str, *, default: str = DEFAULT_SCOPE
) -> list[str]:
    """The scopes a new grant gets: known ones, each within what ``allowed`` covers."""
    try:
        scopes = parse_scopes(requested, default)
    except ValueError as exc:
        raise OAuthError("invalid_scope", f"The requested scope is invalid: {exc}") from exc
    if not subset(scopes, allowed):
        raise OAuthError(
            "invalid_scope",
            f"The requested scope {' '.join(scopes)!r} is not within {allowed!r}.",
        )
    return scopes


def check_code_challenge(
    challenge: str | None, method: str | None
) -> tuple[str | None, str | None]:
    """(challenge, method) to store with the code; ``plain`` when the method is left out,
    as RFC 7636 section 4.3 says."""
    if not challenge:
        if method:
            raise OAuthError("invalid_request", "code_challenge_method without code_challenge")
        return None, None
    method = method or "plain"
    if method not in PKCE_METHODS:
        raise OAuthError(
            "invalid_request", f"code_challenge_method must be one of {', '.join(PKCE_METHODS)}"
        )
    if not PKCE_VALUE_RE.match(challenge):
        raise OAuthError("invalid_request", "code_challenge is malformed")
    return challenge, method


def pkce_matches(challenge: str, method: str, verifier: str) -> bool:
    """RFC 7636 section 4.6, compared in constant time."""
    if not PKCE_VALUE_RE.match(verifier):
        return False
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    else:
        expected = verifier
    return hmac.compare_digest(expected, challenge)


# --- authorization requests and codes -------------------------------------------------


async def check_authorization(
    db: AsyncSession,
    *,
    client_id: str | None,
    redirect_uri: str | None,
    response_type: str | None,
    scope: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> AuthorizationRequest:
    """Validate ``/oauth/authorize`` parameters. The client and its redirect URI come first:
    until both are known good, errors must not be redirected anywhere (an open redirector
    otherwise)."""
    app = await find_app(db, client_id)
    if app is None:
        raise OAuthError("invalid_client", "Unknown client_id: register the app first.")
    registered = registered_redirect_uris(app)
    if not redirect_uri and len(registered) == 1:
        redirect_uri = registered[0]
    if not redirect_uri or redirect_uri not in registered:
        raise OAuthError("invalid_redirect_uri", "The redirect_uri is not one this app registered.")
    try:
        if response_type != "code":
            raise OAuthError("unsupported_response_type", "Only response_type=code is supported.")
        scopes = granted_scopes(scope, app.scopes)
        challenge, method = check_code_challenge(code_challenge, code_challenge_method)
    except OAuthError as exc:
        raise AuthorizationError(exc.error, exc.description, redirect_uri) from exc
    return AuthorizationRequest(
        app=app,
        redirect_uri=redirect_uri,
        scopes=scopes,
        code_challenge=challenge,
        code_challenge_method=method,
    )


async def authenticate_user(node: Node, login: str, password: str) -> tuple[User, Actor]:
    """Sign in with the user name or the e-mail address. Argon2 runs in a worker thread:
    it takes tens of milliseconds the event loop must not lose."""
    login = login.strip()
    if node.settings.oidc is not None and node.settings.oidc.sso_only:
        raise LoginRefused("Sign in with your company account: passwords are turned off here.")
    async with node.reads() as db:
        row = await _user_by_login(db, node, login)
    stored = row[0].password_hash if row else _TIMING_HASH
    valid = await asyncio.to_thread(verify_password, stored, password)
    if row is None or not valid:
        await audit_now(node, "signin.refused", target=login[:255], detail={"why": "password"})
        raise LoginRefused("Wrong user name, e-mail address or password.")
    if row[0].disabled:
        await audit_now(node, "signin.refused", target=row[1].username, detail={"why": "disabled"})
        raise LoginRefused("This account is disabled: ask an administrator.")
    await audit_now(node, "signin.password", target=row[1].username, actor=row[1].username)
    return row


async def _user_by_login(db: AsyncSession, node: Node, login: str) -> tuple[User, Actor] | None:
    query = select(User, Actor).join(Actor, Actor.id == User.actor_id)
    if "@" in login.lstrip("@"):
        found = (await db.execute(query.where(func.lower(User.email) == login.lower()))).first()
        if found is not None:
            return found[0], found[1]
        name, _, domain = login.lstrip("@").partition("@")
        if domain.lower() != node.settings.domain.lower():
            return None
        login = name
    found = (
        await db.execute(
            query.where(Actor.local.is_(True), Actor.username == login.lstrip("@").lower())
        )
    ).first()
    return (found[0], found[1]) if found is not None else None


async def issue_code(node: Node, request: AuthorizationRequest, user: User) -> str:
    """A one-time code for ``user``'s approval, valid for ten minutes. Expired codes are
    swept here, where codes are made, rather than by a background job."""
    code = new_secret()
    now = utcnow()
    async with transaction(node) as db:
        await db.execute(delete(OAuthCode).where(OAuthCode.expires_at < now))
        db.add(
            OAuthCode(
                code_hash=hash_secret(code),
                app_id=request.app.id,
                user_id=user.id,
                redirect_uri=request.redirect_uri,
                scopes=" ".join(request.scopes),
                code_challenge=request.code_challenge,
                code_challenge_method=request.code_challenge_method,
                expires_at=now + CODE_LIFETIME,
            )
        )
    return code


def _code_problem(
    row: OAuthCode | None,
    app: OAuthApp,
    redirect_uri: str | None,
    verifier: str | None,
    now: datetime,
) -> str | None:
    """Why a code cannot be exchanged, or None. Each check is its own line on purpose."""
    if row is None or row.app_id != app.id:
        return "The authorization code is unknown or was issued to another client."
    if row.used:
        return "The authorization code has already been used."
    if row.expires_at <= now:
        return "The authorization code has expired."
    if redirect_uri != row.redirect_uri:
        return "The redirect_uri does not match the one of the authorization request."
    if row.code_challenge is not None:
        if not verifier:
            return "The code_verifier is missing."
        if not pkce_matches(row.code_challenge, row.code_challenge_method or "plain", verifier):
            return "The code_verifier does not match the code_challenge."
    return None


async def exchange_code(
    node: Node,
    app: OAuthApp,
    *,
    code: str | None,
    redirect_uri: str | None,
    verifier: str | None,
) -> IssuedToken:
    """Trade a code for tokens. Any attempt by the right client uses the code up, so a
    wrong verifier cannot be retried; a second use revokes what the first one granted
    (RFC 6749 section 4.1.2: the code has probably leaked)."""
    now = utcnow()
    issued: IssuedToken | None = None
    async with transaction(node) as db:
        row = await db.get(OAuthCode, hash_secret(code or ""))
        problem = _code_problem(row, app, redirect_uri, verifier, now)
        if row is not None and row.app_id == app.id:
            if row.used:
                await _revoke_grants_of_code(db, row, now)
            else:
                claimed = await db.execute(
                    update(OAuthCode)
                    .where(OAuthCode.code_hash == row.code_hash, OAuthCode.used.is_(False))
                    .values(used=True)
                )
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    problem = problem or "The authorization code has already been used."
        if problem is None and row is not None:
            user = await db.get(User, row.user_id)
            if user is None or user.disabled:
                problem = "The account that approved this code is disabled."
            else:
                issued = await _issue(db, app_id=app.id, user_id=user.id, scopes=row.scopes)
    if issued is None:
        raise invalid_grant(problem or "The authorization code is invalid.")
    return issued


async def _revoke_grants_of_code(db: AsyncSession, row: OAuthCode, now: datetime) -> None:
    issued_at = row.expires_at - CODE_LIFETIME
    await db.execute(
        update(OAuthToken)
        .where(
            OAuthToken.app_id == row.app_id,
            OAuthToken.user_id == row.user_id,
            OAuthToken.created_at >= issued_at,
            OAuthToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


# --- tokens -----------------------------------------------------------------------


async def _issue(
    db: AsyncSession, *, app_id: int, user_id: int | None, scopes: str, refresh: bool = True
) -> IssuedToken:
    access = new_secret()
    refresh_token = new_secret() if refresh else None
    row = OAuthToken(
        token_hash=hash_secret(access),
        refresh_hash=hash_secret(refresh_token) if refresh_token else None,
        app_id=app_id,
        user_id=user_id,
        scopes=scopes,
        created_at=utcnow(),
    )
    db.add(row)
    await db.flush()
    username = (
        await db.scalar(
            select(Actor.username).join(User, User.actor_id == Actor.id).where(User.id == user_id)
        )
        if user_id is not None
        else None
    )
    record_audit(
        db,
        "token.granted",
        target=username or f"app:{app_id}",
        detail={"app_id": str(app_id), "scopes": scopes},
    )
    return IssuedToken(
        access_token=access, refresh_token=refresh_token, scopes=scopes, created_at=row.created_at
    )


async def client_credentials_token(node: Node, app: OAuthApp, scope: str | None) -> IssuedToken:
    """The app acting for itself (no user). No refresh token: the app can always ask again
    (RFC 6749 section 4.4.3)."""
    scopes = granted_scopes(scope, app.scopes)
    async with transaction(node) as db:
        return await _issue(db, app_id=app.id, user_id=None, scopes=" ".join(scopes), refresh=False)


async def password_token(
    node: Node, app: OAuthApp, *, login: str | None, password: str | None, scope: str | None
) -> IssuedToken:
    """The password grant, for scripts: the user name or e-mail address and the password."""
    scopes = granted_scopes(scope, app.scopes)
    if not login or not password:
        raise OAuthError("invalid_request", "username and password are required.")
    try:
        user, _ = await authenticate_user(node, login, password)
    except LoginRefused as exc:
        raise invalid_grant(exc.message) from exc
    async with transaction(node) as db:
        return await _issue(db, app_id=app.id, user_id=user.id, scopes=" ".join(scopes))


async def refresh_access_token(
    node: Node, app: OAuthApp, *, refresh_token: str | None, scope: str | None
) -> IssuedToken:
    """Rotate: a new access and refresh token pair, and the old pair stops working. The
    scope may narrow, never widen."""
    async with transaction(node) as db:
        row = await db.scalar(
            select(OAuthToken).where(OAuthToken.refresh_hash == hash_secret(refresh_token or ""))
        )
        if row is None or row.app_id != app.id or row.revoked_at is not None:
            raise invalid_grant("The refresh token is unknown, revoked or another client's.")
        scopes = granted_scopes(scope, row.scopes, default=row.scopes)
        if row.user_id is not None:
            user = await db.get(User, row.user_id)
            if user is None or user.disabled:
                raise invalid_grant("The account of this refresh token is disabled.")
        row.revoked_at = utcnow()
        return await _issue(db, app_id=app.id, user_id=row.user_id, scopes=" ".join(scopes))


async def revoke_token(node: Node, app: OAuthApp, token: str | None) -> None:
    """RFC 7009: revoke an access or refresh token (either revokes the pair). Unknown
    tokens are fine (idempotent); another client's token is refused."""
    if not token:
        raise OAuthError("invalid_request", "token is required.")
    digest = hash_secret(token)
    async with transaction(node) as db:
        row = await db.scalar(
            select(OAuthToken).where(
                (OAuthToken.token_hash == digest) | (OAuthToken.refresh_hash == digest)
            )
        )
        if row is None:
            return
        if row.app_id != app.id:
            raise OAuthError(
                "unauthorized_client", "You are not authorized to revoke this token", 403
            )
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            record_audit(db, "token.revoked", detail={"token_id": str(row.id)})


# --- the authorization page's signing key --------------------------------------------


async def form_secret(node: Node) -> bytes:
    """The key that signs the authorization form's CSRF cookie: random, made on first use
    and kept in the database, so it survives restarts and is shared by every process."""
    async with node.reads() as db:
        value = await db.scalar(select(NodeSetting.value).where(NodeSetting.key == FORM_SECRET_KEY))
    if value is None:
        try:
            async with transaction(node) as db:
                db.add(NodeSetting(key=FORM_SECRET_KEY, value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another request made it first; read theirs
        async with node.reads() as db:
            value = await db.scalar(
                select(NodeSetting.value).where(NodeSetting.key == FORM_SECRET_KEY)
            )
    assert value is not None
    return bytes.fromhex(value)
