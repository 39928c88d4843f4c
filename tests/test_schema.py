"""Table tests for the rules of the API, and checks that the published schemas are current."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from typing import Any

import pydantic
import pydantic_core
import pytest
import yaml

from krmfn import _validator, crd, freeze, validation
from krmfn.compiler import compile_service
from krmfn.loader import LoadError, load
from krmfn.options import Options
from krmfn.validation import validate
from tests.helpers import ROOT, krmfn, validate_object

BASE: dict[str, Any] = {
    "apiVersion": "tensorstack.dev/v1beta1",
    "kind": "SimpleMLService",
    "metadata": {"name": "sample", "namespace": "demo"},
    "spec": {"tensorflow": {"image": "tensorflow/serving:2.16.1"}},
}


def with_spec(**spec: Any) -> dict[str, Any]:
    out = copy.deepcopy(BASE)
    out["spec"].update(spec)
    return out


@pytest.mark.parametrize(("name", "ok"), [
    ("sample", True), ("a", True), ("model-2", True), ("m" * 63, True),
    ("m" * 64, False), ("2model", False), ("Model", False), ("model-", False),
    ("mo_del", False), ("mo.del", False), ("", False),
])
def test_names(name: str, ok: bool) -> None:
    data = copy.deepcopy(BASE)
    data["metadata"]["name"] = name
    assert (validate("SIMPLEMLSERVICE", data)[0] is not None) is ok


@pytest.mark.parametrize(("uri", "ok"), [
    ("s3://models/mnist/", True), ("s3://models/mnist", True), ("s3://models", True),
    ("s3://my.bucket-1/a/b/c/", True), ("s3://models/with space/", True),
    ("s3:/models/", False), ("http://models/", False), ("s3://", False), ("s3://a/", False),
    ("s3://Models/", False), ("models/mnist", False),
])
def test_s3_uris(uri: str, ok: bool) -> None:
    data = with_spec(storage={"s3": {"secretName": "s", "uri": uri}})
    assert (validate("SIMPLEMLSERVICE", data)[0] is not None) is ok


@pytest.mark.parametrize(("sub_path", "ok"), [
    ("mnist", True), ("path/to/mnist", True), ("mnist/", True), ("a..b", True),
    ("/mnist", False), ("../mnist", False), ("a/../../b", False), ("..", False),
])
def test_sub_paths(sub_path: str, ok: bool) -> None:
    data = with_spec(storage={"pvc": {"name": "p", "subPath": sub_path}})
    assert (validate("SIMPLEMLSERVICE", data)[0] is not None) is ok


@pytest.mark.parametrize(("path", "ok"), [
    ("/var/lib/t9k/model", True), ("/models/", True), ("models", False), ("/", False),
    ("/a/../b", False), ("/a:b", False),
])
def test_container_paths(path: str, ok: bool) -> None:
    data = with_spec(storage={"pvc": {"name": "p", "containerPath": path}})
    assert (validate("SIMPLEMLSERVICE", data)[0] is not None) is ok


@pytest.mark.parametrize(("value", "ok"), [
    (1, True), (0.5, True), ("500m", True), ("1Gi", True), ("1e3", True), ("2", True),
    ("1 Gi", False), ("lots", False), (True, False), (-1, False), ([], False),
])
def test_quantities(value: Any, ok: bool) -> None:
    data = with_spec(tensorflow={"image": "x:1", "resources": {"limits": {"cpu": value}}})
    assert (validate("SIMPLEMLSERVICE", data)[0] is not None) is ok


@pytest.mark.parametrize(("replicas", "ok"), [
    (0, True), (1, True), (100, True), (-1, False), ("1", False), (1.5, False), (None, False),
])
def test_replicas(replicas: Any, ok: bool) -> None:
    assert (validate("SIMPLEMLSERVICE", with_spec(replicas=replicas))[0] is not None) is ok


def test_legacy_spellings_compile_to_the_same_objects() -> None:
    new = with_spec(storage={"s3": {"secretName": "s3", "uri": "s3://models/x/",
                                    "containerPath": "/models"}})
    old = with_spec(storage={"s3": {"secretRef": {"name": "s3"}, "uri": "s3://models/x/",
                                    "mountPath": "/models"}})
    a, b = validate("SIMPLEMLSERVICE", new)[0], validate("SIMPLEMLSERVICE", old)[0]
    assert a is not None and b is not None
    assert compile_service(a, Options()) == compile_service(b, Options())
    pvc_new = with_spec(storage={"pvc": {"name": "p", "containerPath": "/models"}})
    pvc_old = with_spec(storage={"pvc": {"name": "p", "mountPath": "/models"}})
    c, d = validate("SIMPLEMLSERVICE", pvc_new)[0], validate("SIMPLEMLSERVICE", pvc_old)[0]
    assert c is not None and d is not None
    assert compile_service(c, Options()) == compile_service(d, Options())


def test_validation_never_changes_its_input() -> None:
    data = with_spec(storage={"s3": {"secretRef": {"name": "s3"}, "uri": "s3://models/x/"}})
    before = copy.deepcopy(data)
    validate("SIMPLEMLSERVICE", data)
    assert data == before


def test_frozen_validator_is_current() -> None:
    installed = {"pydantic": pydantic.VERSION, "pydantic-core": pydantic_core.__version__}
    if installed != _validator.BUILT_WITH:
        pytest.skip(f"krmfn/_validator.py was frozen by {_validator.BUILT_WITH}; {installed} is "
                    "installed (the lock installs the former)")
    current = (ROOT / "krmfn" / "_validator.py").read_text(encoding="utf-8")
    assert current == freeze.source(), "run: python -m krmfn.freeze"


def _corpus() -> list[Any]:
    """Every SimpleMLService and options object of the golden cases, valid or not."""
    found = []
    for path in sorted((ROOT / "tests" / "cases").glob("*/input.yaml")):
        try:
            data = load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, LoadError):
            continue  # surrogate pairs, values no loader takes: other cases cover the rest
        for obj in [*(data.get("items") or []), data.get("functionConfig")]:
            if isinstance(obj, dict) and obj.get("kind") in ("SimpleMLService",
                                                            "SimpleMLServiceOptions"):
                found.append(obj)
    return found


def _answers(validators: dict[str, Any]) -> list[Any]:
    out = []
    for obj in _corpus():
        name = "OPTIONS" if obj["kind"] == "SimpleMLServiceOptions" else "SIMPLEMLSERVICE"
        try:
            out.append(("valid", validators[name].validate_python(copy.deepcopy(obj))))
        except pydantic_core.ValidationError as err:
            out.append(("invalid", [(e["type"], e["loc"], e.get("ctx"))
                                    for e in err.errors(include_url=False)]))
    return out


def test_the_frozen_and_the_pydantic_validators_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    validation.validator_for.cache_clear()
    frozen = {name: validation.validator_for(name) for name in ("SIMPLEMLSERVICE", "OPTIONS")}
    monkeypatch.setenv(validation.FORCE_ENV, "pydantic")
    validation.validator_for.cache_clear()
    built = {name: validation.validator_for(name) for name in ("SIMPLEMLSERVICE", "OPTIONS")}
    validation.validator_for.cache_clear()
    assert all(v.frozen for v in frozen.values()) or _validator.BUILT_WITH["pydantic-core"] \
        != pydantic_core.__version__, "the lock's pydantic-core refused the frozen schemas"
    assert not any(v.frozen for v in built.values())
    assert len(_corpus()) > 40
    assert _answers(frozen) == _answers(built)


def test_a_refused_frozen_schema_falls_back_to_pydantic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_validator, "SIMPLEMLSERVICE", {"type": "no-such-schema-type"})
    validation.validator_for.cache_clear()
    try:
        fallback = validation.validator_for("SIMPLEMLSERVICE")
        assert not fallback.frozen
        assert validate("SIMPLEMLSERVICE", copy.deepcopy(BASE))[0] is not None
        errors = validate("SIMPLEMLSERVICE", with_spec(pytroch={"image": "x"}))[1]
        assert ("spec", "pytroch") in [tuple(e["loc"]) for e in errors]
    finally:
        validation.validator_for.cache_clear()


def test_a_run_with_the_fallback_gives_the_same_output() -> None:
    for case in ("tensorflow-s3", "error-every-item", "options-typed"):
        source = (ROOT / "tests" / "cases" / case / "input.yaml").read_text(encoding="utf-8")
        env = {**os.environ, validation.FORCE_ENV: "pydantic"}
        run = krmfn(stdin=source, env=env)
        assert run.stdout == (ROOT / "tests" / "cases" / case / "expected.yaml").read_text(
            encoding="utf-8"), case


def test_published_schemas_are_current() -> None:
    for name, text in crd.published().items():
        path = ROOT / "schemas" / name
        assert path.read_text(encoding="utf-8") == text, f"run: python -m krmfn.crd ({name})"


def test_crd_is_a_valid_object() -> None:
    validate_object(yaml.safe_load((ROOT / "schemas" / "simplemlservice-crd.yaml").read_text()))


def test_json_schema_accepts_the_examples() -> None:
    schema = json.loads((ROOT / "schemas" / "simplemlservice.schema.json").read_text())
    assert schema["properties"]["spec"]
    assert set(schema["required"]) == {"apiVersion", "kind", "metadata", "spec"}


def test_a_run_loads_only_pydantic_cores_compiled_module() -> None:
    """The function's start-up skips pydantic-core's Python layer (see krmfn.core)."""
    probe = ("import sys\n"
             "from krmfn.cli import main\n"
             "code = main([])\n"
             "print(sorted(m for m in sys.modules if m.startswith('pydantic')), file=sys.stderr)\n")
    source = (ROOT / "tests" / "cases" / "tensorflow-s3" / "input.yaml").read_bytes()
    done = subprocess.run([sys.executable, "-c", probe], input=source, capture_output=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.decode().strip().splitlines()[-1] == "['pydantic_core._pydantic_core']"
    assert done.stdout.decode() == (ROOT / "tests" / "cases" / "tensorflow-s3" /
                                    "expected.yaml").read_text(encoding="utf-8")
