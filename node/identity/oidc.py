"""Company sign-in with OpenID Connect: authorization code flow with PKCE, discovery,
and ID-token validation with joserfc.

One flow serves two purposes: the web sign-in page (``purpose="web"``) and a client
app's ``/oauth/authorize`` (``purpose="oauth"``, so phone apps sign in with the company
account too). What the callback must check — state, nonce, PKCE verifier — is kept in
the database (``OidcLogin``), so the flow survives a restart and works with any number
of processes; the state is also bound to the browser by a cookie (no login CSRF).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp
from sqlalchemy import delete

from node.context import Node, transaction
from node.db.models import OidcLogin
from node.db.types import utcnow
from node.errors import CercleError
from node.identity.config import OidcSettings

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

CALLBACK_PATH = "/auth/oidc/callback"
STATE_COOKIE = "cercle_oidc_state"
LOGIN_LIFETIME = timedelta(minutes=10)
#: Discovery documents and keys are re-read this often (keys also on an unknown ``kid``).
METADATA_TTL = 3600.0
#: Clock difference tolerated between the provider and this node, in seconds.
CLOCK_LEEWAY = 60
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=15)


class OidcError(CercleError):
    """A company sign-in that cannot complete; the message is shown to the person."""

    status = 401


@dataclass(frozen=True)
class Begun:
    """Where to send the browser, and the state to bind to it with a cookie."""

    url: str
    state: str


@dataclass(frozen=True)
class Completed:
    """A validated sign-in: the ID token's claims and what the login was started for."""

    claims: dict[str, Any]
    purpose: str
    params: dict[str, Any]


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class OidcClient:
    """The node's relying party. Holds the provider's discovery document and keys for
    ``METADATA_TTL`` seconds; one per node (the app factory makes it)."""

    settings: OidcSettings
    redirect_uri: str
    _metadata: dict[str, Any] | None = None
    _metadata_at: float = 0.0
    _keys: KeySet | None = None
    _keys_at: float = 0.0
    _http: aiohttp.ClientSession | None = field(default=None, repr=False)

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with self._session().get(url, headers={"Accept": "application/json"}) as r:
                if r.status != 200:
                    raise OidcError(f"the identity provider answered {r.status} for {url}")
                body = await r.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as exc:
            raise OidcError(f"the identity provider cannot be reached: {exc}") from exc
        if not isinstance(body, dict):
            raise OidcError(f"the identity provider sent no JSON object at {url}")
        return body

    async def metadata(self) -> dict[str, Any]:
        """The discovery document; its ``issuer`` must be the configured one exactly
        (OpenID Connect Discovery section 4.3)."""
        if self._metadata is not None and time.monotonic() - self._metadata_at < METADATA_TTL:
            return self._metadata
        document = await self._get_json(f"{self.settings.issuer}/.well-known/openid-configuration")
        if str(document.get("issuer", "")).rstrip("/") != self.settings.issuer:
            raise OidcError(
                f"the identity provider calls itself {document.get('issuer')!r}, "
                f"not {self.settings.issuer!r}"
            )
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(name), str):
                raise OidcError(f"the identity provider's discovery document has no {name}")
        self._metadata, self._metadata_at = document, time.monotonic()
        return document

    async def keys(self, *, refresh: bool = False) -> KeySet:
        if (
            not refresh
            and self._keys is not None
            and time.monotonic() - self._keys_at < METADATA_TTL
        ):
            return self._keys
        from joserfc.errors import JoseError  # imported on use: it costs CLI start-up time
        from joserfc.jwk import KeySet

        document = await self._get_json((await self.metadata())["jwks_uri"])
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise OidcError(f"the identity provider's keys cannot be read: {exc}") from exc
        self._keys, self._keys_at = keys, time.monotonic()
        return keys

    async def begin(self, node: Node, purpose: str, params: dict[str, Any]) -> Begun:
        """Remember a new login and build the provider's authorization URL."""
        metadata = await self.metadata()
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        now = utcnow()
        async with transaction(node) as db:
            await db.execute(delete(OidcLogin).where(OidcLogin.expires_at < now))
            db.add(
                OidcLogin(
                    state_hash=_hash(state),
                    nonce=nonce,
                    code_verifier=verifier,
                    purpose=purpose,
                    params=params,
                    expires_at=now + LOGIN_LIFETIME,
                )
            )
        query = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.settings.scopes,
            "state": state,
            "nonce": nonce,
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        }
        endpoint = metadata["authorization_endpoint"]
        separator = "&" if "?" in endpoint else "?"
        return Begun(url=f"{endpoint}{separator}{urlencode(query)}", state=state)

    async def complete(
        self,
        node: Node,
        *,
        state: str | None,
        cookie_state: str | None,
        code: str | None,
        error: str | None,
    ) -> Completed:
        """Check the callback, trade the code for tokens and validate the ID token.
        The login row is used up whatever happens: a callback cannot be replayed."""
        if not state:
            raise OidcError("The sign-in answer has no state: start again.")
        async with transaction(node) as db:
            login = await db.get(OidcLogin, _hash(state))
            if login is not None:
                await db.delete(login)
        if login is None or login.expires_at <= utcnow():
            raise OidcError("This sign-in has expired or was already used: start again.")
        if not cookie_state or not secrets.compare_digest(cookie_state, state):
            raise OidcError("This sign-in was started in another browser: start again.")
        if error:
            raise OidcError(f"The identity provider refused the sign-in ({error}).")
        if not code:
            raise OidcError("The identity provider sent no authorization code.")
        tokens = await self._exchange(code, login.code_verifier)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("The identity provider sent no ID token.")
        claims = await self.validate_id_token(id_token, nonce=login.nonce)
        return Completed(claims=claims, purpose=login.purpose, params=dict(login.params))

    async def _exchange(self, code: str, verifier: str) -> dict[str, Any]:
        metadata = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": verifier,
            "client_id": self.settings.client_id,
        }
        auth = aiohttp.BasicAuth(self.settings.client_id, self.settings.client_secret)
        try:
            async with self._session().post(
                metadata["token_endpoint"],
                data=form,
                auth=auth,
                headers={"Accept": "application/json"},
            ) as r:
                body = await r.json(content_type=None)
                status = r.status
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as exc:
            raise OidcError(f"the identity provider's token endpoint failed: {exc}") from exc
        if status != 200 or not isinstance(body, dict):
            reason = body.get("error") if isinstance(body, dict) else status
            raise OidcError(f"The identity provider refused the code ({reason}).")
        return body

    async def validate_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """Signature (keys from ``jwks_uri``, re-read once on failure for rotation),
        then ``iss``, ``aud``, ``exp``, ``iat``, ``nonce`` and ``azp`` (OIDC Core 3.1.3.7)."""
        from joserfc import jwt
        from joserfc.errors import ExpiredTokenError, JoseError

        token = None
        for refresh in (False, True):
            keys = await self.keys(refresh=refresh)
            try:
                token = jwt.decode(id_token, keys, algorithms=list(SIGNING_ALGORITHMS))
                break
            except JoseError as exc:
                if refresh:
                    raise OidcError(f"The ID token's signature is not valid ({exc}).") from exc
        assert token is not None
        registry = jwt.JWTClaimsRegistry(
            leeway=CLOCK_LEEWAY,
            iss={"essential": True, "value": self.settings.issuer},
            aud={"essential": True, "value": self.settings.client_id},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(token.claims)
        except ExpiredTokenError as exc:
            raise OidcError("The ID token has expired: sign in again.") from exc
        except JoseError as exc:
            raise OidcError(f"The ID token is not valid for this node ({exc}).") from exc
        claims = dict(token.claims)
        audience = claims.get("aud")
        if isinstance(audience, list) and len(audience) > 1:
            if claims.get("azp") != self.settings.client_id:
                raise OidcError("The ID token was issued to another client (azp).")
        return claims
