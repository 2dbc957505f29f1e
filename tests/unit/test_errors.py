from __future__ import annotations

from onegrid.errors import AlreadyExists, NotFound, OneGridError, QuotaExceeded, error_for_code


def test_every_error_maps_back_from_its_code() -> None:
    for cls in (NotFound, AlreadyExists, QuotaExceeded):
        assert error_for_code(cls.code) is cls
    assert error_for_code("SOMETHING_NEW") is OneGridError


def test_error_body_shape() -> None:
    assert NotFound("dataset belle:x does not exist").to_json() == {
        "error": "NOT_FOUND",
        "message": "dataset belle:x does not exist",
    }
