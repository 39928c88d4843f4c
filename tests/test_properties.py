"""Property tests (hypothesis) over generated SimpleMLServices.

Valid ones, across every combination of framework, storage (both spellings), scheduler,
service, strategy, names and namespaces: every output object passes strict schema
validation, compiling twice gives the same bytes, a second run changes nothing, and the
other items come back byte for byte. Invalid ones, made by one mutation of a valid one:
never a traceback, error results that all name a field, and every input item intact.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krmfn.processor import Run
from krmfn.processor import resource_list as write_list
from krmfn.resourcelist import Document
from tests.helpers import examples, generated, load, validate_object

HEADER = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
NEIGHBOUR = ("- apiVersion: v1\n  kind: ConfigMap # kept as written\n  metadata:\n"
             "    name: neighbour\n  data:\n    zip: \"0123\"\n    note: 'it''s fine'\n")

label = st.from_regex(r"\A[a-z]([-a-z0-9]{0,20}[a-z0-9])?\Z")
name = st.from_regex(r"\A[a-z]([-a-z0-9]{0,61}[a-z0-9])?\Z")
path = st.lists(st.from_regex(r"\A[a-zA-Z0-9_.-]{1,12}\Z").filter(lambda p: p not in (".", "..")),
                min_size=1, max_size=4).map("/".join)
image = st.sampled_from(["tensorflow/serving:2.16.1", "pytorch/torchserve:0.12.0-cpu",
                         "registry.example.com:5000/team/server@sha256:" + "a" * 64])
quantity = st.one_of(st.integers(0, 64), st.sampled_from(["500m", "1Gi", "2", "0.5"]))
resources = st.fixed_dictionaries({}, optional={
    "requests": st.fixed_dictionaries({}, optional={"cpu": quantity, "memory": quantity}),
    "limits": st.fixed_dictionaries({}, optional={"cpu": quantity, "memory": quantity})})
bucket = st.from_regex(r"\A[a-z0-9][a-z0-9-]{1,20}[a-z0-9]\Z")


@st.composite
def storage(draw: st.DrawFn) -> dict[str, Any]:
    where = "/" + draw(path)
    dir_key = draw(st.sampled_from(["containerPath", "mountPath", None]))
    extra = {dir_key: where} if dir_key else {}
    if draw(st.booleans()):
        uri = f"s3://{draw(bucket)}/" + draw(st.one_of(st.just(""), path.map(
            lambda p: p + draw(st.sampled_from(["", "/"])))))
        secret = draw(label)
        ref = {"secretName": secret} if draw(st.booleans()) else {"secretRef": {"name": secret}}
        return {"s3": {**ref, "uri": uri, **extra}}
    pvc: dict[str, Any] = {"name": draw(label), **extra}
    if draw(st.booleans()):
        pvc["subPath"] = draw(path)
    return {"pvc": pvc}


@st.composite
def custom(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(label, min_size=1, max_size=3, unique=True))
    containers: list[dict[str, Any]] = [{"name": n, "image": draw(image),
                                         "args": draw(st.lists(st.text(min_size=1, max_size=20),
                                                               max_size=3))}
                                        for n in names]
    pod: dict[str, Any] = {"containers": containers}
    if draw(st.booleans()):
        pod["volumes"] = [{"name": "cache", "emptyDir": {}}]
        containers[0]["volumeMounts"] = [{"name": "cache", "mountPath": "/cache"}]
    return {"spec": pod}


@st.composite
def service(draw: st.DrawFn) -> dict[str, Any]:
    numbers = draw(st.lists(st.integers(1, 65535), min_size=1, max_size=3, unique=True))
    kind = draw(st.sampled_from(["ClusterIP", "NodePort", "LoadBalancer", None]))
    ports = [{"name": f"p{i}", "port": n} for i, n in enumerate(numbers)]
    if draw(st.booleans()):
        ports[0]["targetPort"] = draw(st.one_of(st.integers(1, 65535), st.just("http")))
    out: dict[str, Any] = {"ports": ports}
    if kind:
        out["type"] = kind
    return out


@st.composite
def simplemlservice(draw: st.DrawFn) -> dict[str, Any]:
    framework = draw(st.sampled_from(["tensorflow", "pytorch", "custom"]))
    spec: dict[str, Any] = {}
    if framework == "custom":
        spec["custom"] = draw(custom())
    else:
        spec[framework] = {"image": draw(image)}
        if draw(st.booleans()):
            spec[framework]["resources"] = draw(resources)
        if framework == "pytorch" and draw(st.booleans()):
            spec[framework]["modelsFlag"] = "model=model.mar"
    optional = {
        "replicas": st.integers(0, 50),
        "storage": storage(),
        "scheduler": st.builds(lambda q: {"t9kScheduler": {"queue": q}}, label),
        "service": service(),
        "strategy": st.sampled_from([{"type": "Recreate"}, {"type": "RollingUpdate",
                                     "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}]),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            spec[key] = draw(strategy)
    meta: dict[str, Any] = {"name": draw(name)}
    if draw(st.booleans()):
        meta["namespace"] = draw(label)
    if draw(st.booleans()):
        meta["labels"] = {"team": draw(label)}
    return {"apiVersion": "tensorstack.dev/v1beta1", "kind": "SimpleMLService",
            "metadata": meta, "spec": spec}


def resource_list(sml: dict[str, Any]) -> str:
    body = yaml.safe_dump(sml, sort_keys=False, width=1000)
    item = "- " + body.replace("\n", "\n  ").rstrip(" ")
    return HEADER + NEIGHBOUR + item


def run(text: str) -> tuple[str, list[Any], bool]:
    doc = Document.read(text.encode())
    run = Run(doc)
    return write_list(doc, run), run.plan.results, run.plan.failed


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(simplemlservice())
def test_valid_services_compile_to_valid_objects(sml: dict[str, Any]) -> None:
    text = resource_list(sml)
    out, results, failed = run(text)
    assert not failed, [r.to_dict() for r in results]
    assert NEIGHBOUR in out
    items = load(out)["items"]
    torchserve = ["ConfigMap"] if "pytorch" in sml["spec"] else []
    assert [i["kind"] for i in items] == ["ConfigMap", "SimpleMLService", "Deployment", "Service",
                                          *torchserve]
    for obj in generated(items):
        validate_object(obj)
    assert run(text)[0] == out, "compiling is not deterministic"
    assert run(out)[0] == out, "a second run changed the output"


MUTATIONS = ["unknown field", "wrong type", "missing field", "empty string", "out of range",
             "unicode name", "long name", "two frameworks"]


def mutate(sml: dict[str, Any], how: str, seed: int) -> dict[str, Any]:
    bad = copy.deepcopy(sml)
    spec = bad["spec"]
    framework = next(k for k in ("tensorflow", "pytorch", "custom") if k in spec)
    if how == "unknown field":
        target = [spec, spec.get("storage", spec), spec.get("service", spec)][seed % 3]
        target["replicaz" if seed % 2 else "extra"] = 1
    elif how == "wrong type":
        if seed % 2:
            spec["replicas"] = ["3", 3.5, {"n": 3}, True][seed % 4]
        else:
            bad["metadata"]["name"] = [7, None, ["x"], {"a": 1}][seed % 4]
    elif how == "missing field":
        if seed % 2 or framework == "custom":
            del bad["metadata"]["name"]
        else:
            del spec[framework]["image"]
    elif how == "empty string":
        bad["metadata"]["name"] = ""
    elif how == "out of range":
        spec["replicas"] = -1 - seed
    elif how == "unicode name":
        bad["metadata"]["name"] = "模型-" + str(seed)
    elif how == "long name":
        bad["metadata"]["name"] = "m" * (64 + seed % 200)
    else:
        spec["tensorflow" if framework != "tensorflow" else "pytorch"] = {"image": "x:1"}
    return bad


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(simplemlservice(), st.sampled_from(MUTATIONS), st.integers(0, 1000))
def test_invalid_services_get_field_errors(sml: dict[str, Any], how: str, seed: int) -> None:
    text = resource_list(mutate(sml, how, seed))
    out, results, failed = run(text)
    assert failed and results
    assert all(r.severity == "error" and r.field_path for r in results)
    assert out.startswith(text), "an input item was changed"
    assert load(out)["results"]


@settings(max_examples=examples(100), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(simplemlservice(), st.booleans())
def test_flow_style_input_gives_the_same_items(sml: dict[str, Any], json_style: bool) -> None:
    block = load(resource_list(sml))
    flow = (json.dumps(block) if json_style
            else yaml.safe_dump(block, default_flow_style=True, width=1000))
    out, results, failed = run(flow)
    assert not failed and all(r.severity == "warning" for r in results), \
        [r.to_dict() for r in results]
    assert load(out)["items"] == load(run(resource_list(sml))[0])["items"]
    assert run(out)[0] == out, "a second run changed the output"
