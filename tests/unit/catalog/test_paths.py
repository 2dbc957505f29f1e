"""Deterministic paths (Rucio's hash and identity conventions) and PFN building."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onegrid.catalog.errors import RSEProtocolNotFound
from onegrid.catalog.paths import build_pfn, deterministic_path, hash_path, identity_path
from onegrid.client.catalog import pfn_for, protocol_for
from onegrid.errors import InvalidInput

try:  # the stock client's own translation, to check we agree with it byte for byte
    from rucio.rse.translation import RSEDeterministicTranslation

    rucio_hash = RSEDeterministicTranslation._RSEDeterministicTranslation__hash  # type: ignore[attr-defined]
    rucio_identity = RSEDeterministicTranslation._RSEDeterministicTranslation__identity  # type: ignore[attr-defined]
except (ImportError, AttributeError):  # pragma: no cover
    rucio_hash = rucio_identity = None


def test_hash_convention_is_rucios_default() -> None:
    assert hash_path("belle", "f1.root") == "/belle/b7/fa/f1.root"
    assert hash_path("user.jdoe", "x").startswith("/user/jdoe/")


def test_identity_convention_keeps_belle_lfns_as_paths() -> None:
    assert identity_path("belle", "/belle/MC/release-06/mdst.root") == "/belle/MC/release-06/mdst.root"
    assert identity_path("user.jdoe", "a.root") == "/user/jdoe/a.root"
    with pytest.raises(InvalidInput):
        deterministic_path("belle", "x", "belleii-custom")


names = st.from_regex(r"[A-Za-z0-9_.\-]{1,40}", fullmatch=True)
scopes = st.from_regex(r"(user\.|group\.)?[a-z][a-z0-9_.\-]{0,15}", fullmatch=True)


@pytest.mark.skipif(rucio_hash is None, reason="rucio-clients translation module not importable")
@settings(max_examples=300, deadline=None)
@given(scopes, names)
def test_paths_agree_with_the_stock_rucio_translation(scope: str, name: str) -> None:
    assert hash_path(scope, name).lstrip("/") == rucio_hash(scope, name, None, None, None)
    assert identity_path(scope, name).lstrip("/") == rucio_identity(scope, name, None, None, None)


@pytest.mark.parametrize(("args", "url"), [
    (("https", "se.kek.jp", 443, "/data/", "/belle/a"), "https://se.kek.jp:443/data/belle/a"),
    (("davs", "se", 2880, "", "belle/a"), "davs://se:2880/belle/a"),
    (("root", "xrd", 1094, "/p", "/belle/a"), "root://xrd:1094//p/belle/a"),
    (("file", "", 0, "/srv/rse", "/belle/a b"), "file:///srv/rse/belle/a%20b"),
    (("https", "h", None, "/", "/x"), "https://h/x"),
])
def test_pfn_is_scheme_host_port_prefix_path(args: tuple, url: str) -> None:  # type: ignore[type-arg]
    assert build_pfn(*args) == url


def test_pfn_for_uses_the_rses_convention_and_first_protocol_for_the_operation() -> None:
    info = {"rse": "X", "lfn2pfn_algorithm": "identity", "protocols": [
        {"scheme": "root", "hostname": "a", "port": 1094, "prefix": "/x",
         "domains": {"wan": {"read": 2, "write": 0}}},
        {"scheme": "https", "hostname": "b", "port": 443, "prefix": "/y",
         "domains": {"wan": {"read": 1, "write": 1}}},
    ]}
    assert pfn_for(info, "belle", "/belle/a.root") == "https://b:443/y/belle/a.root"
    assert protocol_for(info, "read")["scheme"] == "https"
    assert protocol_for(info, "read", scheme="root")["hostname"] == "a"
    with pytest.raises(RSEProtocolNotFound):
        protocol_for(info, "write", scheme="root")
