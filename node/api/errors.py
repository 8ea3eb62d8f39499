"""Mastodon-shaped API errors: an HTTP status and ``{"error": "..."}``."""

from __future__ import annotations

from typing import Any

from aiohttp import web


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra

    def response(self) -> web.Response:
        return web.json_response({"error": self.message, **self.extra}, status=self.status)


def unauthorized(message: str = "The access token is invalid") -> ApiError:
    return ApiError(401, message)


def forbidden(message: str = "This action is outside the authorized scopes") -> ApiError:
    return ApiError(403, message)


def not_found(message: str = "Record not found") -> ApiError:
    return ApiError(404, message)


def unprocessable(message: str) -> ApiError:
    return ApiError(422, f"Validation failed: {message}")
