"""Enterprise identity and governance: company sign-in (OpenID Connect), directory
provisioning (SCIM 2.0), retention and legal hold, export and import, the audit log."""
