"""Node configuration: a TOML file overlaid with ``CERCLE_*`` environment variables.

Scripts, tests and operators rely on the variable names, so they are a contract:
``CERCLE_DATA_DIR``, ``CERCLE_DOMAIN``, ``CERCLE_DATABASE_URL``, ``CERCLE_DEV``.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from node.identity.config import OidcSettings, check_oidc, load_oidc
from node.smtp import SmtpSettings, check_smtp, load_smtp

SOFTWARE_NAME = "cercle"
SOFTWARE_VERSION = "0.1.0"


class ConfigError(Exception):
    """The configuration cannot describe a working node; the message says why."""


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def host_is_loopback(domain: str) -> bool:
    """True for ``localhost``, ``127.x.y.z`` and ``[::1]``, with or without a port."""
    host = domain
    if host.startswith("["):
        host = host[1 : host.index("]")]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    domain: str
    database_url: str
    dev: bool = False
    org_name: str = "Cercle"
    federation_mode: str = "open"
    delivery_workers: int = 4
    max_body_bytes: int = 1_000_000
    #: client-API requests per client per 5 minutes (Mastodon's default)
    api_rate_limit: int = 300
    #: company sign-in (OpenID Connect); None when no issuer is configured
    oidc: OidcSettings | None = None
    #: outgoing e-mail (the weekly digest, node/smtp.py); None when no host is configured
    smtp: SmtpSettings | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scheme(self) -> str:
        """Dev nodes on loopback use plain http; everything else is https."""
        return "http" if self.dev and host_is_loopback(self.domain) else "https"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def validate(self) -> None:
        if not self.domain or "/" in self.domain or " " in self.domain:
            raise ConfigError(
                f"invalid domain {self.domain!r}: give a host name, e.g. acme.example"
            )
        if host_is_loopback(self.domain) and not self.dev:
            raise ConfigError(
                f"domain {self.domain} is a loopback address: set CERCLE_DEV=1 for a dev node"
            )
        if self.federation_mode not in {"open", "partners", "closed"}:
            raise ConfigError(f"unknown federation mode {self.federation_mode!r}")
        if self.oidc is not None and (problem := check_oidc(self.oidc)):
            raise ConfigError(problem)
        if self.smtp is not None and (problem := check_smtp(self.smtp)):
            raise ConfigError(problem)


def load_settings(
    environ: dict[str, str] | None = None, config_file: Path | None = None
) -> Settings:
    """Build settings from (in order of precedence) environment, TOML file, defaults."""
    env = dict(os.environ if environ is None else environ)
    data_dir = Path(env.get("CERCLE_DATA_DIR") or "./data")
    path = config_file or Path(env.get("CERCLE_CONFIG") or data_dir / "cercle.toml")
    file_values: dict[str, Any] = {}
    if path.exists():
        try:
            file_values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from exc
        if "data_dir" in file_values and "CERCLE_DATA_DIR" not in env:
            data_dir = Path(file_values["data_dir"])

    def pick(name: str, default: Any) -> Any:
        env_name = f"CERCLE_{name.upper()}"
        if env_name in env and env[env_name] != "":
            return env[env_name]
        return file_values.get(name, default)

    dev_value = pick("dev", False)
    dev = dev_value if isinstance(dev_value, bool) else _truthy(str(dev_value))
    database_url = pick("database_url", "") or f"sqlite+aiosqlite:///{data_dir / 'cercle.db'}"
    database_url = normalise_database_url(str(database_url))
    settings = Settings(
        data_dir=data_dir,
        domain=str(pick("domain", "127.0.0.1:8080" if dev else "")),
        database_url=database_url,
        dev=dev,
        org_name=str(pick("org_name", "Cercle")),
        federation_mode=str(pick("federation_mode", "open")),
        delivery_workers=int(pick("delivery_workers", 4)),
        max_body_bytes=int(pick("max_body_bytes", 1_000_000)),
        api_rate_limit=int(pick("api_rate_limit", 300)),
        oidc=load_oidc(pick),
        smtp=load_smtp(pick),
        extra={k: v for k, v in file_values.items() if not isinstance(v, str | int | bool)},
    )
    return settings


def normalise_database_url(url: str) -> str:
    """Accept the URLs operators type (``postgresql://``, ``sqlite:///``) and pick async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url
