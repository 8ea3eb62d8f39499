"""SCIM 2.0 provisioning (RFC 7643 and 7644) at ``/scim/v2/``: the company directory
creates, updates, suspends and removes accounts and keeps circles in step with its groups."""
