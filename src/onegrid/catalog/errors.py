"""The catalogue's errors, each with the exception name the stock Rucio client raises.
One module, so that the OneGrid client raises the same classes the server did."""

from __future__ import annotations

from onegrid.errors import AlreadyExists, Conflict, InvalidInput, NotFound


class InvalidRSEExpression(InvalidInput):
    code = "INVALID_RSE_EXPRESSION"
    rucio_class = "InvalidRSEExpression"


class RSEExpressionMatchesNothing(NotFound):
    code = "RSE_EXPRESSION_EMPTY"
    rucio_class = "InvalidRSEExpression"


class InvalidFilter(InvalidInput):
    code = "INVALID_DID_FILTER"
    rucio_class = "DIDFilterSyntaxError"


class ScopeNotFound(NotFound):
    code = "SCOPE_NOT_FOUND"
    rucio_class = "ScopeNotFound"


class DIDNotFound(NotFound):
    code = "DID_NOT_FOUND"
    rucio_class = "DataIdentifierNotFound"


class DIDAlreadyExists(AlreadyExists):
    code = "DID_ALREADY_EXISTS"
    rucio_class = "DataIdentifierAlreadyExists"


class FileConsistencyMismatch(Conflict):
    code = "FILE_CONSISTENCY_MISMATCH"
    rucio_class = "FileConsistencyMismatch"


class UnsupportedOperation(Conflict):
    code = "UNSUPPORTED_OPERATION"
    rucio_class = "UnsupportedOperation"


class RSENotFound(NotFound):
    code = "RSE_NOT_FOUND"
    rucio_class = "RSENotFound"


class RSEProtocolNotFound(NotFound):
    code = "RSE_PROTOCOL_NOT_FOUND"
    rucio_class = "RSEProtocolNotSupported"


class ReplicaNotFound(NotFound):
    code = "REPLICA_NOT_FOUND"
    rucio_class = "ReplicaNotFound"


class ReplicaAlreadyExists(AlreadyExists):
    code = "REPLICA_ALREADY_EXISTS"
    rucio_class = "Duplicate"


class RSEUnavailable(InvalidInput):
    code = "RSE_UNAVAILABLE"
    rucio_class = "ResourceTemporaryUnavailable"
