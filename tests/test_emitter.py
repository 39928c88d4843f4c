"""The fast emitter writes what PyYAML writes, and what it writes reads back the same."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from krmfn.compiler import compile_service
from krmfn.emitter import Dumper, dump, literal_style
from krmfn.options import Options
from krmfn.validation import validate
from tests.helpers import examples
from tests.test_properties import simplemlservice

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(["0123", "yes", "no", "on", "null", "~", "1e3", ".inf", "---x", "...",
                     "-", "--port=1", "a: b", "a #b", "key:", "@x", "2001-01-01", "0x1F",
                     "1_000", "s3://b/p/", "*x", "&y", "!z", "%p", "'q'", '"d"', "", " ",
                     "tab\there", "é", "\u2028", "line\nbreak"]))
keys = st.text(max_size=10).filter(lambda k: not any(c in k for c in "\n\r\x85\u2028\u2029"))
trees = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20)


class Reference(Dumper):
    """PyYAML's own dumper, asked for the styles krmfn's emitter promises."""


def _literal_when_multiline(dumper: Reference, value: str) -> yaml.ScalarNode:
    if literal_style(value):
        style = "|"
    elif any(c in value for c in "\n\r\x85\u2028\u2029"):
        style = '"'
    else:
        style = None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


Reference.add_representer(str, _literal_when_multiline)


def pyyaml(obj: Any) -> str:
    text: str = yaml.dump(obj, Dumper=Reference, default_flow_style=False, sort_keys=False,
                          allow_unicode=True, width=2**31 - 1)
    return text


@settings(max_examples=examples(500), deadline=None)
@given(st.dictionaries(keys, trees, min_size=1, max_size=5))
def test_round_trip(data: dict[str, Any]) -> None:
    assert yaml.load(dump(data), Loader=yaml.CSafeLoader) == data


@settings(max_examples=examples(500), deadline=None)
@given(st.dictionaries(keys, trees, min_size=1, max_size=5))
@example({"zero": 0.0, "negative zero": -0.0, "again": [0.0, -0.0]})  # equal, but spelt apart
@example({"script": "a\n  b\n", "keep": "x\n\n", "lead": " y\nz", "l": ["p\nq"]})
def test_same_bytes_as_pyyaml(data: dict[str, Any]) -> None:
    assert dump(data) == pyyaml(data)


@given(st.tuples(st.text(max_size=5), st.sampled_from("\n\r\x85\u2028\u2029"),
                 st.text(max_size=5)).map("".join))
def test_multiline_keys_are_one_line(key: str) -> None:
    text = dump({key: "v"})
    assert text.count("\n") == 1 and yaml.load(text, Loader=yaml.CSafeLoader) == {key: "v"}


@pytest.mark.parametrize("word", ["y", "Y", "n", "N", "yes", "off", "1e3", "1E+3", "08", "0o17",
                                  "1_000", "0b101", "0x1F", ".5", "+1", "-2.5e-3", "~", "null",
                                  "2024-02-30", "=", "<<"])
def test_strings_any_reader_would_take_for_something_else_are_quoted(word: str) -> None:
    text = dump({word: word})
    assert text.startswith(("'", '"')) and text.split(": ", 1)[1].startswith(("'", '"'))
    assert yaml.load(text, Loader=yaml.CSafeLoader) == {word: word}


@settings(max_examples=examples(100), deadline=None)
@given(simplemlservice())
def test_generated_objects_as_pyyaml_writes_them(sml: dict[str, Any]) -> None:
    valid, errors = validate("SIMPLEMLSERVICE", sml)
    assert valid is not None, errors
    for obj in compile_service(valid, Options()):
        assert dump(obj) == pyyaml(obj)
