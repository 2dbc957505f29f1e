"""WLCG scope path semantics (common JWT profile v1.3)."""

from __future__ import annotations

import pytest

from onegrid.errors import InvalidInput
from onegrid.iam.scopes import allows, narrow, parse_scope, parse_scopes, path_covers


@pytest.mark.parametrize(
    ("granted", "wanted", "expected"),
    [
        ("/foo/bar", "/foo/bar", True),
        ("/foo/bar", "/foo/bar/x", True),
        ("/foo/bar", "/foo/bar/x/y.root", True),
        ("/foo/bar", "/foo/bargain", False),
        ("/foo/bar", "/foo", False),
        ("/", "/anything/at/all", True),
        ("/foo/bar/", "/foo/bar/x", True),
        ("/foo//bar", "/foo/bar/x", True),
    ],
)
def test_path_covers_follows_the_profile(granted: str, wanted: str, expected: bool) -> None:
    assert path_covers(granted, wanted) is expected


def test_paths_that_escape_their_root_are_refused() -> None:
    with pytest.raises(InvalidInput):
        parse_scope("storage.read:/foo/../../etc")
    with pytest.raises(InvalidInput):
        parse_scope("storage.read:relative/path")
    with pytest.raises(InvalidInput, match="needs a path"):
        parse_scope("storage.read")


def test_modify_implies_create_but_not_read() -> None:
    held = parse_scopes("storage.modify:/belle/raw")
    assert allows(held, "storage.create", "/belle/raw/run1/f.root")
    assert allows(held, "storage.modify", "/belle/raw/run1")
    assert not allows(held, "storage.read", "/belle/raw/run1")
    assert allows(held, "storage.stat", "/belle/raw/run1")
    assert not allows(held, "storage.stat", "/belle/rawdata")


def test_compute_scopes_have_no_path() -> None:
    held = parse_scopes("compute.create compute.read")
    assert allows(held, "compute.create")
    assert not allows(held, "compute.cancel")


def test_narrow_keeps_only_what_is_held() -> None:
    held = parse_scopes("storage.read:/belle storage.modify:/belle/user/alice compute.read")
    wanted = parse_scopes("storage.read:/belle/data storage.read:/ storage.create:/belle/user/alice/x "
                          "storage.modify:/belle compute.read compute.create")
    assert [str(s) for s in narrow(held, wanted)] == [
        "storage.read:/belle/data", "storage.create:/belle/user/alice/x", "compute.read"]
