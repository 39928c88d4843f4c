"""Golden cases: each folder of tests/cases holds an input ResourceList and what must come out.

`input.yaml` goes to the real command on stdin; `expected.yaml` is stdout, `exitcode` the
exit code. Every case also checks that a second run over a successful output changes no
byte of its items (a successful run may warn, never err), that every generated object would
be accepted by a current Kubernetes API server, and that every item of the input comes out
(none lost). KRMFN_UPDATE_GOLDEN=1 rewrites the expected files (and fails, so that a rewrite
is never mistaken for a pass).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from krmfn.loader import Loader
from tests.helpers import ROOT, check_golden, generated, krmfn, validate_object

CASES = sorted(p for p in (ROOT / "tests" / "cases").iterdir() if p.is_dir())


def _key(obj: dict[str, object]) -> tuple[object, ...]:
    meta = obj.get("metadata") or {}
    assert isinstance(meta, dict)
    return obj.get("apiVersion"), obj.get("kind"), meta.get("namespace"), meta.get("name")


def _input(source: str) -> Any:
    """The input's data: JSON is read as JSON (YAML readers refuse its surrogate pairs), and
    YAML leniently (some cases hold values no loader takes)."""
    try:
        return json.loads(source)
    except ValueError:
        return read(source.replace("\\ud83d\\ude00", "x"))


class _Lenient(Loader):
    """krmfn's loader, reading a value its explicit tag cannot take as its text (the cases
    that test such values pass them through, and the test must read the rest)."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except Exception:
            return node.value if isinstance(node.value, str) else None


def read(text: str) -> Any:
    """Output YAML, read leniently (see `_Lenient`)."""
    return yaml.load(text, Loader=_Lenient)


def _items_text(text: str) -> str:
    """The output without its results (the last top-level entry krmfn writes)."""
    end = text.find("\nresults:\n")
    return text if end < 0 else text[:end + 1]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Path) -> None:
    source = (case / "input.yaml").read_bytes().decode("utf-8")  # line breaks as they are
    run = krmfn(stdin=source)
    assert "Traceback" not in run.stderr
    check_golden(case / "expected.yaml", run.stdout)
    code_file = case / "exitcode"
    expected_code = int(code_file.read_text()) if code_file.exists() else 0
    assert run.code == expected_code, run.stderr
    out = read(run.stdout)  # some cases hold tags of other tools, passed through
    before = _input(source).get("items") or []
    after = out.get("items") or []
    kept = {_key(i) for i in after}
    for item in before:
        if "krmfn.dev/generated-from" not in str(item):
            assert _key(item) in kept, f"{_key(item)} was lost"
    for obj in generated(after):
        validate_object(obj)
    if run.code == 0:
        results = out.get("results") or []
        assert all(r["severity"] != "error" for r in results), results
        again = krmfn(stdin=run.stdout)
        assert again.code == 0
        # Warnings are about this run's input; the items must not change at all.
        assert _items_text(again.stdout) == _items_text(run.stdout), \
            "a second run changed the output"
    else:
        results = out["results"]
        assert results and all(r["severity"] == "error" for r in results)
        for result in results:
            assert result["message"] and result["field"]["path"], result
        assert len(run.stderr.strip().splitlines()) == len(results)
