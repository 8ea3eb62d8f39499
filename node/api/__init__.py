"""Client APIs: the Mastodon-compatible REST API, OAuth2 and streaming."""
