"""Token verification on a virtual clock: leeway, audience, version, algorithms."""

from __future__ import annotations

import pytest

from onegrid.clock import ManualClock
from onegrid.errors import Forbidden, Unauthenticated
from onegrid.iam.keys import generate_key
from onegrid.iam.tokens import WLCG_ANY_AUDIENCE, issue_token, verify_token

ISS = "https://iam.example.org"
KEY = generate_key("ES256")
RSA_KEY = generate_key("RS256")


def _verify(token: str, clock: ManualClock, audiences: tuple[str, ...] = ("https://se.example.org",)) -> object:
    keys = {KEY.kid: KEY.public, RSA_KEY.kid: RSA_KEY.public}
    return verify_token(token, resolve_key=lambda iss, kid: keys.get(kid), trusted_issuers=[ISS],
                        audiences=audiences, clock=clock, leeway=60)


def _token(clock: ManualClock, key=KEY, **kw: object) -> str:  # type: ignore[no-untyped-def]
    args = {"issuer": ISS, "subject": "alice", "audience": "https://se.example.org", "lifetime": 600,
            "clock": clock, "scopes": ["storage.read:/belle"], "groups": ["/belle"]}
    args.update(kw)
    return issue_token(key, **args)  # type: ignore[arg-type]


def test_a_token_verifies_on_the_virtual_clock_far_from_wall_time() -> None:
    clock = ManualClock()  # 2026-01-01, whatever the machine's clock says
    claims = _verify(_token(clock), clock)
    assert claims.subject == "alice" and claims.groups == ("/belle",)  # type: ignore[attr-defined]


def test_exp_has_sixty_seconds_of_leeway() -> None:
    clock = ManualClock()
    token = _token(clock)
    clock.advance(600 + 59)
    _verify(token, clock)
    clock.advance(2)
    with pytest.raises(Unauthenticated, match="expired"):
        _verify(token, clock)


def test_nbf_in_the_future_is_refused_beyond_the_leeway() -> None:
    clock = ManualClock()
    token = _token(clock, backdate=-300)  # nbf five minutes from now
    with pytest.raises(Unauthenticated, match="not valid yet"):
        _verify(token, clock)
    clock.advance(300 - 59)
    _verify(token, clock)


def test_audience_ours_or_any_and_nothing_else() -> None:
    clock = ManualClock()
    _verify(_token(clock, audience=WLCG_ANY_AUDIENCE), clock)
    _verify(_token(clock, audience=["https://other.org", "https://se.example.org/"]), clock)
    with pytest.raises(Forbidden, match="audience"):
        _verify(_token(clock, audience="https://other.org"), clock)


def test_rsa_keys_verify_and_a_header_cannot_switch_the_algorithm() -> None:
    clock = ManualClock()
    _verify(_token(clock, key=RSA_KEY), clock)
    import jwt

    forged = jwt.encode({"iss": ISS, "sub": "x"}, RSA_KEY.private, algorithm="RS256", headers={"kid": KEY.kid})
    with pytest.raises(Unauthenticated, match="does not match key"):
        _verify(forged, clock)


def test_wlcg_version_two_is_refused() -> None:
    clock = ManualClock()
    with pytest.raises(Unauthenticated, match="wlcg.ver"):
        _verify(_token(clock, extra={"wlcg.ver": "2.0"}), clock)
    _verify(_token(clock, extra={"wlcg.ver": "1.3"}), clock)
