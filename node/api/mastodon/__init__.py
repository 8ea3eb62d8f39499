"""The Mastodon-compatible client API (v1/v2), one module per resource."""
