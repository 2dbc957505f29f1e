"""DIRAC JDL parsing and parametric expansion."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onegrid.errors import InvalidInput
from onegrid.wms.jdl import expand_parametric, parse_jdl
from onegrid.wms.models import JobDescription
from onegrid.wms.submission import descriptions_from


def test_full_dirac_jdl_parses_to_a_job_description() -> None:
    attrs = parse_jdl("""
    [
        JobName = "belle_ana";          // a comment
        Executable = "run.sh";
        Arguments = "-n 10 --out \\"x y\\"";
        InputSandbox = {"SB:%s", "LFN:/belle/user/a/cfg.py"};
        OutputSandbox = {"std.out", "*.log"};
        InputData = {"LFN:/belle/data/f1.root", "/belle/data/f2.root"};
        OutputData = {"hist.root"}; OutputSE = "KEK-DISK";
        Site = {"LCG.KEK.jp", "LCG.DESY.de"}; BannedSites = "LCG.BNL.us";
        Platform = "EL9"; Tags = {"GPU"}; NumberOfProcessors = 4;
        CPUTime = 3600; Priority = 7; JobGroup = "ana"; JobType = "User";
    ]""" % ("a" * 64))
    d = JobDescription.model_validate(attrs)
    assert d.arguments == '-n 10 --out "x y"'
    assert d.input_data == ["/belle/data/f1.root", "/belle/data/f2.root"]
    assert d.site == ["LCG.KEK.jp", "LCG.DESY.de"] and d.banned_sites == ["LCG.BNL.us"]
    assert (d.min_processors, d.max_processors, d.priority, d.cpu_time) == (4, 4, 7, 3600)


def test_brackets_are_optional_and_numbers_and_booleans_are_typed() -> None:
    assert parse_jdl('A = 1; B = 2.5; C = true; D = bare_word') == {"A": 1, "B": 2.5, "C": True, "D": "bare_word"}


@pytest.mark.parametrize(("text", "message"), [
    ("[ Executable = ; ]", "JDL line 1: expected a value"),
    ('[ Executable "x"; ]', "expected '='"),
    ('[ A = "x" B = 1 ]', "expected ';' after attribute A"),
    ('[ A = "x"; ] extra', "unexpected 'extra'"),
    ("", "JDL is empty"),
])
def test_malformed_jdl_is_refused_with_the_place(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_jdl(text)


def test_parametric_by_count_start_step_and_by_list() -> None:
    jobs = expand_parametric({"Executable": "x", "Arguments": "%s/%n", "Parameters": 3, "ParameterStart": 1,
                              "ParameterStep": 2}, limit=10)
    assert [j["Arguments"] for j in jobs] == ["1/0", "3/1", "5/2"]
    jobs = expand_parametric({"Executable": "x", "Arguments": "f=%s", "Parameters": ["a", "b"]}, limit=10)
    assert [j["Arguments"] for j in jobs] == ["f=a", "f=b"] and "Parameters" not in jobs[0]
    with pytest.raises(InvalidInput, match="exceed the limit"):
        expand_parametric({"Executable": "x", "Parameters": 11}, limit=10)


def test_unknown_or_invalid_attributes_are_named() -> None:
    with pytest.raises(InvalidInput, match="^Colour: unknown attribute"):
        descriptions_from({"Executable": "x", "Colour": 1}, limit=10)
    with pytest.raises(InvalidInput, match="^NumberOfProcessors"):
        descriptions_from({"Executable": "x", "NumberOfProcessors": 0}, limit=10)
    with pytest.raises(InvalidInput, match="InputSandbox: .*local file"):
        descriptions_from({"Executable": "x", "InputSandbox": ["mine.py"]}, limit=10)
    with pytest.raises(InvalidInput, match="^Executable"):
        descriptions_from({"Arguments": "x"}, limit=10)


names = st.from_regex(r"[A-Z][A-Za-z0-9]{0,10}", fullmatch=True)
values = st.one_of(st.integers(-10**6, 10**6), st.text(st.characters(blacklist_characters='"\\', codec="utf-8",
                                                                     blacklist_categories=("Cs", "Cc")), max_size=20),
                   st.lists(st.text(st.characters(whitelist_categories=("L", "N")), max_size=8), max_size=4))


def render(v: object) -> str:
    if isinstance(v, list):
        return "{" + ", ".join(f'"{x}"' for x in v) + "}"
    if isinstance(v, str):
        return f'"{v}"'
    return str(v)


@given(st.dictionaries(names, values, max_size=8))
def test_rendered_attributes_parse_back_to_themselves(attrs: dict[str, object]) -> None:
    text = "[\n" + "\n".join(f"  {k} = {render(v)};" for k, v in attrs.items()) + "\n]"
    assert parse_jdl(text) == attrs if attrs else True
