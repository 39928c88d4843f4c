"""The check of a custom PodSpec (`krmfn.podspec`) and the table it reads (`krmfn._podfields`).

The cases are files: tests/podspec/*.yaml (see its README) hold pods with the problems and
warnings they must give, in order, and what kubernetes-validate says of them, so that the
table is held to Kubernetes' own schema and not only to itself. Odd input made in code (deep
nesting, huge lists, keys that are not strings) and a property test over pods drawn from the
table check that neither function raises and that every path they give exists in the input.
The table must be what `python -m krmfn.podtable` writes today.
"""

from __future__ import annotations

import math
import timeit
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krmfn import _podfields, podspec, podtable
from krmfn.podspec import part, problems, warnings
from tests.helpers import KUBERNETES_VERSION, ROOT, examples, load

CASE_DIR = ROOT / "tests" / "podspec"
FILES = sorted(CASE_DIR.glob("*.yaml"))
CASES: list[dict[str, Any]] = [case for path in FILES for case in load(path.read_text("utf-8"))]
IDS = [case["name"] for case in CASES]
TYPICAL = next(case["pod"] for case in CASES if case["name"] == "typical three-container pod")


def _pairs(found: list[tuple[tuple[str | int, ...], str]]) -> list[list[Any]]:
    return [[list(path), message] for path, message in found]


def _kubernetes_accepts(pod: Any) -> bool:
    """Whether kubernetes-validate --strict takes a Pod with this spec."""
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": pod}
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError:
        return False
    return True


def test_case_names_are_unique() -> None:
    assert len(IDS) == len(set(IDS))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_problems(case: dict[str, Any]) -> None:
    assert _pairs(problems(case["pod"])) == case.get("problems", [])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_warnings(case: dict[str, Any]) -> None:
    assert _pairs(warnings(case["pod"])) == case.get("warnings", [])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_kubernetes_agrees(case: dict[str, Any]) -> None:
    said = case.get("kubernetes", "refuses" if case.get("problems") else "accepts")
    if said == "unchecked":
        pytest.skip("kubernetes-validate takes JSON objects with string keys, not this input")
    assert said in ("accepts", "refuses")
    if said == "accepts" and case.get("problems"):
        assert case.get("why"), "a case with problems that Kubernetes' schema accepts says why"
    assert _kubernetes_accepts(case["pod"]) == (said == "accepts")


# --- the table -------------------------------------------------------------------------


def _codes(code: str) -> str:
    """The innermost code of a list or map code."""
    return code.lstrip("[{")


def test_table_is_whole() -> None:
    """Every code names a type of the table or a scalar; every type is reachable."""
    scalars = {"s", "b", "i32", "i64", "n", "ios", "q", "any"}
    reached, todo = set(), [_podfields.ROOT]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        for code in _podfields.FIELDS[name].values():
            inner = _codes(code)
            assert inner in scalars or inner in _podfields.FIELDS, (name, code)
            if inner not in scalars:
                todo.append(inner)
    assert reached == set(_podfields.FIELDS)
    assert list(_podfields.FIELDS) == sorted(_podfields.FIELDS)
    for fields in _podfields.FIELDS.values():
        assert list(fields) == sorted(fields)


def test_table_is_of_the_tests_kubernetes() -> None:
    assert _podfields.KUBERNETES == KUBERNETES_VERSION == podtable.KUBERNETES_VERSION


def test_table_is_current() -> None:
    """Regenerating the table gives the same text (with the release that wrote it)."""
    installed = str(kubernetes_validate.__version__)
    if installed != _podfields.KUBERNETES_VALIDATE:
        pytest.skip(f"krmfn/_podfields.py was written from kubernetes-validate "
                    f"{_podfields.KUBERNETES_VALIDATE}, and {installed} is installed: its copy "
                    "of the schemas may differ in ways that do not matter")
    text = Path(podtable.TARGET).read_text(encoding="utf-8")
    assert podtable.generate(kubernetes_validate) == text, (
        "krmfn/_podfields.py is stale: run python -m krmfn.podtable")


def test_table_knows_the_fields_that_matter() -> None:
    fields = _podfields.FIELDS
    assert fields["PodSpec"]["containers"] == "[Container"
    assert fields["PodSpec"]["nodeSelector"] == "{s"
    assert fields["Container"]["resources"] == "ResourceRequirements"
    assert fields["ResourceRequirements"]["limits"] == "{q"
    assert fields["ContainerPort"]["containerPort"] == "i32"
    assert fields["HTTPGetAction"]["port"] == "ios"
    assert fields["ManagedFieldsEntry"]["fieldsV1"] == "any"


# --- odd input made in code --------------------------------------------------------------


def _nested(depth: int, leaf: Any = "x") -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def _resolve(value: Any, path: tuple[Any, ...]) -> None:
    """Fail unless `path` leads somewhere in `value`."""
    for element in path:
        assert isinstance(element, str | int) and not isinstance(element, bool), path
        if isinstance(value, dict):
            value = next(v for k, v in value.items() if part(k) == element)
        else:
            assert isinstance(value, list) and isinstance(element, int), path
            assert 0 <= element < len(value), path
            value = value[element]


def _check_paths(pod: Any) -> list[tuple[tuple[str | int, ...], str]]:
    found = problems(pod)
    for path, message in [*found, *warnings(pod)]:
        assert isinstance(message, str) and message
        _resolve(pod, path)
    return found


APP = {"name": "app", "image": "app:1"}
ODD: dict[str, Any] = {
    "deep in an unknown field": {"containers": [APP], "extra": _nested(100)},
    "deep in a free-form field": {"containers": [APP], "volumes": [{"name": "v", "ephemeral": {
        "volumeClaimTemplate": {"metadata": {"managedFields": [{"fieldsV1": _nested(100)}]},
                                "spec": {}}}}]},
    "deep where a string is due": {"containers": [{**APP, "image": _nested(100)}]},
    "deeper than any reader allows": {"containers": [{**APP, "image": _nested(5000)}]},
    "deep where a container is due": {"containers": [_nested(100)]},
    "a list of lists of lists": {"containers": _nested(99, [APP])},
    "a huge list of wrong values": {"containers": [{**APP, "args": list(range(100_000))}]},
    "a huge map of unknown fields": {"containers": [{**APP, **{f"f{i}": i for i in range(5000)}}]},
    "a huge key": {"x" * 1_000_000: 1, "containers": [APP]},
    "a foreign key": {(1, 2): "tuple", frozenset(): "set", "containers": [APP]},
    "keys of every scalar type": {1: 1, 1.5: 2, None: 3, False: 4, "containers": [
        {**APP, 2: 2, True: 5}], "nodeSelector": {None: 1, 2.5: "a"}},
    "nan and infinities": {"priority": math.nan, "overhead": {"cpu": -math.inf},
                           "containers": [APP]},
    "integers too long to print": {10**5000: 1, "overhead": {"cpu": 10**5000}, "priority":
                                   -(10**5000), "containers": [{**APP, "image": 10**5000}]},
}


@pytest.mark.parametrize("pod", ODD.values(), ids=ODD.keys())
def test_odd_input(pod: Any) -> None:
    found = _check_paths(pod)
    assert len(found) <= podspec.LIMIT + 1


def test_limit() -> None:
    found = problems(ODD["a huge list of wrong values"])
    assert len(found) == podspec.LIMIT + 1
    assert found[-1] == ((), f"stopped after the first {podspec.LIMIT} problems: fix these and "
                             "look again")
    assert found[0] == (("containers", 0, "args", 0), "expected a string, found 0")
    assert len(problems(ODD["a huge list of wrong values"], limit=3)) == 4


def test_huge_valid_lists_cost_little() -> None:
    pod = {"containers": [{**APP, "args": ["--flag"] * 200_000}] * 5}
    seconds = min(timeit.repeat(lambda: problems(pod), number=1, repeat=3))
    assert problems(pod) == []
    assert seconds < 2.0, f"{seconds:.2f} s for a million list items"


def test_typical_pod_is_cheap() -> None:
    """A loose bound (the report's figure is some 50 µs): it catches a slow walk, not noise."""
    assert problems(TYPICAL) == []
    per_call = min(timeit.repeat(lambda: problems(TYPICAL), number=200, repeat=5)) / 200
    assert per_call < 0.002, f"{per_call * 1e6:.0f} µs per call"


def test_the_input_is_not_changed() -> None:
    pod = load((CASE_DIR / "wrong-types.yaml").read_text("utf-8"))[2]["pod"]
    before = repr(pod)
    problems(pod)
    warnings(pod)
    assert repr(pod) == before


# --- property tests ----------------------------------------------------------------------

NAMES = sorted({field for fields in _podfields.FIELDS.values() for field in fields})
KEYS = st.one_of(st.sampled_from(NAMES), st.text(max_size=8), st.integers(-2, 2), st.booleans(),
                 st.none(), st.floats(allow_nan=False, allow_infinity=False))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8))
ANYTHING = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(KEYS, inner, max_size=3), max_leaves=12)
QUANTITIES = st.one_of(st.sampled_from(["1", "500m", "1Gi", "+1.5", ".5", "1e3", "2Ki", "-1"]),
                       st.integers(0, 2**40), st.floats(0, 1e6))
RIGHT_SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "s": st.text(max_size=8), "b": st.booleans(), "n": st.floats(-1e9, 1e9),
    "i32": st.integers(-(2**31), 2**31 - 1) | st.integers(-1000, 1000).map(float),
    "i64": st.integers(-(2**63), 2**63 - 1), "ios": st.integers(0, 65535) | st.text(max_size=8),
    "q": QUANTITIES, "any": ANYTHING}


def _value(code: str, right: bool) -> st.SearchStrategy[Any]:
    """Values for a field of `code`: right ones, and with `right` False also anything at all."""
    if code[0] == "[":
        good: st.SearchStrategy[Any] = st.lists(_value(code[1:], right), max_size=3)
    elif code[0] == "{":
        good = st.dictionaries(st.text(max_size=6) | st.integers(0, 9), _value(code[1:], right),
                               max_size=3)
    elif code in RIGHT_SCALARS:
        good = RIGHT_SCALARS[code]
    else:
        good = st.deferred(lambda: _object(code, right))
    return st.none() | good if right else st.one_of(good, good, ANYTHING)


def _object(name: str, right: bool) -> st.SearchStrategy[dict[Any, Any]]:
    """A few fields of the type `name`, and with `right` False a few unknown keys."""
    fields = _podfields.FIELDS[name]
    chosen = st.lists(st.sampled_from(sorted(fields)), max_size=4, unique=True)
    known = chosen.flatmap(lambda names: st.fixed_dictionaries(
        {field: _value(fields[field], right) for field in names}))
    if right:
        return known
    extra = st.dictionaries(KEYS, ANYTHING, max_size=2)
    return st.tuples(known, extra).map(lambda both: {**both[1], **both[0]})


@settings(max_examples=examples(300), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.one_of(_object("PodSpec", right=False), ANYTHING))
def test_never_raises_and_paths_exist(pod: Any) -> None:
    _check_paths(pod)


@settings(max_examples=examples(200), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_object("PodSpec", right=True))
def test_right_values_give_no_problem(pod: dict[str, Any]) -> None:
    assert problems(pod) == []
