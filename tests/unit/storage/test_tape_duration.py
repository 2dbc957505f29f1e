"""`diskLifetime` is an ISO 8601 duration (Tape REST API v1)."""

from __future__ import annotations

import pytest

from onegrid.errors import InvalidInput
from onegrid.storage.tape.stage import parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT1H", 3600),
        ("P1D", 86400),
        ("PT30M", 1800),
        ("PT0S", 0),
        ("P1DT12H", 129600),
        ("PT1.5S", 1.5),
        ("P2W", 1209600),
        ("PT1H30M10S", 5410),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "P", "PT", "1H", "PT1X", "P1H", "PT-1S", "P1DT"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_duration(text)
