"""What counts as a comment a rewrite dropped (krmfn.comments), as a table."""

from __future__ import annotations

import pytest

from krmfn.comments import lost_comments


@pytest.mark.parametrize(("before", "after", "lost"), [
    ("a: 1 # one\n", "a: 1 # one\n", []),
    ("a: 1 # one\n", "a: 1\n", ["# one"]),
    ("# head\na: 1\n", "a: 1\n", ["# head"]),
    ("a: 1   # spaced   \n", "a: 1\n# spaced\n", []),  # moved, not lost
    ("a: 'x #y'\n", "a: 'x #y'\n", []),  # inside a string, in both: cancels out
    ("a: x#y\n", "a: 1\n", []),  # no blank before '#': part of the scalar
    ("a: 1 # same\nb: 2 # same\n", "a: 1 # same\nb: 2\n", ["# same"]),  # counted, not a set
    ("\t# tab\n", "", ["# tab"]),
])
def test_lost_comments(before: str, after: str, lost: list[str]) -> None:
    assert lost_comments(before, after) == lost
