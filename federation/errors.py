"""Exceptions raised by the protocol layer.

Each carries a human-readable ``reason`` so the inbox gate and the CLI can answer
with one clear line instead of a traceback.
"""


class FederationError(Exception):
    """Base of every protocol-level failure."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignatureError(FederationError):
    """A request signature or body digest is missing, malformed or does not verify."""


class ValidationError(FederationError):
    """An ActivityStreams document is malformed or lacks a required property."""


class FetchError(FederationError):
    """A remote document could not be fetched (network, status, size, type)."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


class UnsafeURLError(FetchError):
    """The URL points at an address that remote fetches must never reach (SSRF guard)."""
