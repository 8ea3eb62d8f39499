"""Application-level errors: each maps to one clear message for the CLI and the APIs."""


class CercleError(Exception):
    """A request the node refuses; ``status`` is the HTTP status an API answers with."""

    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(CercleError):
    status = 404


class Conflict(CercleError):
    status = 409


class Forbidden(CercleError):
    status = 403


class Invalid(CercleError):
    status = 422
