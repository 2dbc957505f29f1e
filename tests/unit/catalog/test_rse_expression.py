"""RSE expressions: Rucio's grammar, evaluated over names and attributes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onegrid.catalog.rse_expression import (
    InvalidRSEExpression,
    RSEExpressionMatchesNothing,
    RSEView,
    evaluate,
    validate,
)

RSES = [
    RSEView("KEK-DISK", {"site": "KEK", "country": "JP", "tier": 0, "istape": False, "KEK-DISK": True}),
    RSEView("KEK-TAPE", {"site": "KEK", "country": "JP", "tier": 0, "istape": True}),
    RSEView("DESY-DISK", {"site": "DESY", "country": "DE", "tier": "1", "istape": "False"}),
    RSEView("BNL_DATADISK", {"site": "BNL", "country": "US", "tier": 1.0, "raw_centre": True}),
    RSEView("CNAF.TAPE", {"site": "CNAF", "country": "IT", "tier": 1, "istape": "true", "raw_centre": "True"}),
]
NAMES = sorted(r.name for r in RSES)


@pytest.mark.parametrize(("expression", "expected"), [
    ("*", NAMES),
    ("KEK-DISK", ["KEK-DISK"]),
    ("CNAF.TAPE", ["CNAF.TAPE"]),
    ("site=KEK", ["KEK-DISK", "KEK-TAPE"]),
    ("country=jp", ["KEK-DISK", "KEK-TAPE"]),
    ("tier<1", ["KEK-DISK", "KEK-TAPE"]),
    ("tier>0", ["BNL_DATADISK", "CNAF.TAPE", "DESY-DISK"]),
    ("istape", ["CNAF.TAPE", "KEK-TAPE"]),
    ("istape=true", ["CNAF.TAPE", "KEK-TAPE"]),
    ("istape=False", ["DESY-DISK", "KEK-DISK"]),
    ("raw_centre", ["BNL_DATADISK", "CNAF.TAPE"]),
    ("*\\istape", ["BNL_DATADISK", "DESY-DISK", "KEK-DISK"]),
    ("tier=1&istape", ["CNAF.TAPE"]),
    ("site=KEK|site=DESY", ["DESY-DISK", "KEK-DISK", "KEK-TAPE"]),
    ("site=KEK|site=DESY&istape", ["KEK-TAPE"]),  # left to right, as Rucio
    ("site=KEK|(site=DESY&istape)", ["KEK-DISK", "KEK-TAPE"]),
    ("((tier<1))", ["KEK-DISK", "KEK-TAPE"]),
    (" site = KEK & istape ", ["KEK-TAPE"]),
    ("*\\(country=JP|country=US)", ["CNAF.TAPE", "DESY-DISK"]),
])
def test_expression_selects_the_rses_rucio_would(expression: str, expected: list[str]) -> None:
    assert evaluate(expression, RSES) == expected


@pytest.mark.parametrize("expression", ["", "   ", "KEK-DISK|", "&KEK-DISK", "(site=KEK", "site=KEK)", "a b",
                                        "tier<x", "tier>", "=KEK", "site==KEK", "KEK-DISK||DESY-DISK", "()", "#",
                                        "site=KEK&&istape"])
def test_malformed_expression_is_refused_with_a_clear_error(expression: str) -> None:
    with pytest.raises(InvalidRSEExpression, match="invalid RSE expression"):
        evaluate(expression, RSES)
    with pytest.raises(InvalidRSEExpression):
        validate(expression)


def test_expression_matching_nothing_says_so_unless_allowed() -> None:
    with pytest.raises(RSEExpressionMatchesNothing, match="matches no RSE"):
        evaluate("country=FR", RSES)
    assert evaluate("country=FR", RSES, allow_empty=True) == []
    assert evaluate("UNKNOWN-RSE", RSES, allow_empty=True) == []


# -- properties ----------------------------------------------------------------------

OPERATORS = ["|", "&", "\\"]
ATOMS = ["*", "KEK-DISK", "DESY-DISK", "site=KEK", "tier<1", "tier>0", "istape", "raw_centre", "country=US"]


@st.composite
def expressions(draw: st.DrawFn, depth: int = 3) -> str:
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from(ATOMS))
    left = draw(expressions(depth - 1))
    right = draw(expressions(depth - 1))
    op = draw(st.sampled_from(OPERATORS))
    return f"({left}){op}({right})"


def reference(expression: str) -> set[str]:
    """An independent evaluator: Python's set algebra on a rewritten string."""
    py = expression
    for atom in sorted(ATOMS, key=len, reverse=True):
        py = py.replace(atom, f"S[{ATOMS.index(atom)}]")
    py = py.replace("\\", "-")
    S = [set(evaluate(a, RSES, allow_empty=True)) for a in ATOMS]
    return eval(py, {"S": S})  # type: ignore[no-any-return]


@settings(max_examples=300, deadline=None)
@given(expressions())
def test_fully_parenthesised_expressions_follow_set_algebra(expression: str) -> None:
    assert set(evaluate(expression, RSES, allow_empty=True)) == reference(expression)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab=<>|&\\()* 1-_.", max_size=20))
def test_any_text_is_either_an_expression_or_a_clear_error(text: str) -> None:
    try:
        result = evaluate(text, RSES, allow_empty=True)
    except InvalidRSEExpression:
        return
    assert set(result) <= set(NAMES)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ATOMS), st.sampled_from(ATOMS))
def test_union_and_intersection_commute_and_complement_removes(a: str, b: str) -> None:
    def ev(e: str) -> set[str]:
        return set(evaluate(e, RSES, allow_empty=True))
    assert ev(f"{a}|{b}") == ev(f"{b}|{a}") == ev(a) | ev(b)
    assert ev(f"{a}&{b}") == ev(f"{b}&{a}") == ev(a) & ev(b)
    assert ev(f"{a}\\{b}") == ev(a) - ev(b)
