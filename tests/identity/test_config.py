"""Company sign-in settings from the environment and the TOML file."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.settings import ConfigError, load_settings


def test_oidc_from_environment(tmp_path: Path):
    settings = load_settings(
        {
            "CERCLE_DATA_DIR": str(tmp_path),
            "CERCLE_DOMAIN": "acme.example",
            "CERCLE_OIDC_ISSUER": "https://login.acme.example/",
            "CERCLE_OIDC_CLIENT_ID": "cercle",
            "CERCLE_OIDC_CLIENT_SECRET": "s",
            "CERCLE_OIDC_ALLOWED_DOMAINS": "Acme.example, acme.fr",
            "CERCLE_SSO_ONLY": "1",
            "CERCLE_OIDC_ROLE_CLAIM": "groups",
            "CERCLE_OIDC_ADMIN_VALUES": "cercle-admins,it",
        }
    )
    settings.validate()
    oidc = settings.oidc
    assert oidc is not None
    assert oidc.issuer == "https://login.acme.example"
    assert oidc.allowed_domains == ("acme.example", "acme.fr")
    assert oidc.sso_only and oidc.admin_values == ("cercle-admins", "it")
    assert oidc.domain_allowed("Bob@ACME.fr") and not oidc.domain_allowed("eve@evil.example")


def test_oidc_from_toml_and_errors(tmp_path: Path):
    (tmp_path / "cercle.toml").write_text(
        'domain = "acme.example"\noidc_issuer = "https://idp.example"\n'
        'oidc_client_id = "c"\noidc_allowed_domains = ["acme.example"]\nsso_only = true\n'
    )
    settings = load_settings({"CERCLE_DATA_DIR": str(tmp_path)})
    assert settings.oidc is not None and settings.oidc.sso_only
    assert settings.oidc.allowed_domains == ("acme.example",)
    assert load_settings({"CERCLE_DATA_DIR": str(tmp_path / "none")}).oidc is None
    broken = load_settings(
        {"CERCLE_DATA_DIR": str(tmp_path / "none"), "CERCLE_DOMAIN": "acme.example",
         "CERCLE_OIDC_ISSUER": "https://idp.example"}
    )  # fmt: skip
    with pytest.raises(ConfigError, match="CERCLE_OIDC_CLIENT_ID"):
        broken.validate()
