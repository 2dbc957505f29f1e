"""One exception hierarchy for the whole of OneGrid.

Each error knows its HTTP status and its wire code; `onegrid.api` maps them to responses
once, the client maps responses back to the same classes, and the CLI prints the message
on one line and exits non-zero. `rucio_class` names the exception the stock Rucio client
raises for the same condition (it reads the `ExceptionClass` header).
"""

from __future__ import annotations

from typing import ClassVar


class OneGridError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL"
    rucio_class: ClassVar[str] = "RucioException"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_json(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}


class InvalidInput(OneGridError):
    status = 400
    code = "INVALID_INPUT"
    rucio_class = "InvalidObject"


class Unauthenticated(OneGridError):
    status = 401
    code = "UNAUTHENTICATED"
    rucio_class = "CannotAuthenticate"


class Forbidden(OneGridError):
    status = 403
    code = "FORBIDDEN"
    rucio_class = "AccessDenied"


class NotFound(OneGridError):
    status = 404
    code = "NOT_FOUND"
    rucio_class = "DataIdentifierNotFound"


class AlreadyExists(OneGridError):
    status = 409
    code = "ALREADY_EXISTS"
    rucio_class = "Duplicate"


class Conflict(OneGridError):
    status = 409
    code = "CONFLICT"
    rucio_class = "UnsupportedOperation"


class QuotaExceeded(OneGridError):
    status = 409
    code = "QUOTA_EXCEEDED"
    rucio_class = "InsufficientAccountLimit"


class Unavailable(OneGridError):
    status = 503
    code = "UNAVAILABLE"
    rucio_class = "ServiceUnavailable"


def _all_subclasses(cls: type[OneGridError]) -> list[type[OneGridError]]:
    out: list[type[OneGridError]] = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_all_subclasses(sub))
    return out


def error_for_code(code: str) -> type[OneGridError]:
    """The exception class for a wire code (the client raises what the server raised)."""
    for cls in [OneGridError, *_all_subclasses(OneGridError)]:
        if cls.code == code:
            return cls
    return OneGridError
