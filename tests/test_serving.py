"""The pods krmfn generates for TorchServe, run as a kubelet would run them (tests/kubelet.py),
with real TorchServe (0.12.0 and 0.8.2), real PyTorch and a real eager-mode model.

For each version, with the model on a PVC and in S3 (a moto server in a pod of its own;
the generated `model-downloader` init container runs its s3cmd command against it): the pod
becomes Ready, a prediction sent to the Service's targetPort equals the model's own output
computed with torch, and the pod ends within 15 s of SIGTERM to PID 1. With a handler that
cannot load, the pod never becomes Ready, while TorchServe's own /ping still says Healthy.
Also proven here: a request in flight when the pod is deleted, the management port closed on
the pod IP, the metrics port open, and the image's own config.properties not in effect.

Every pod is krmfn's real output (`krmfn render`). Probe periods run 5 times faster than
written (TIME_SCALE; KRMFN_SERVING_TIME_SCALE=1 runs them as written); grace periods,
timeouts and preStop always run as written.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import kubelet
from tests.helpers import ROOT, krmfn, need

pytestmark = pytest.mark.integration
VERSIONS = ["0.12.0", "0.8.2"]
NAMESPACE = "serving"
# Probe periods and delays, times this (KRMFN_SERVING_TIME_SCALE=1 runs them as written).
TIME_SCALE = float(os.environ.get("KRMFN_SERVING_TIME_SCALE", "0.2"))
SERVING = Path(__file__).resolve().parent / "serving"
MODEL = "tiny"
BROKEN = "broken"
INPUTS = [[0.5, -1.0, 2.0, 0.25], [1.0, 2.0, 3.0, 4.0]]
STOP_LIMIT = 15.0
# What the official TorchServe image keeps in its WORKDIR (docker/config.properties there):
# every API on all addresses, and nothing about tokens, so 0.12 would demand one.
IMAGE_CONFIG = """\
inference_address=http://0.0.0.0:8080
management_address=http://0.0.0.0:8081
metrics_address=http://0.0.0.0:8082
grpc_inference_address=0.0.0.0
grpc_management_address=0.0.0.0
number_of_netty_threads=32
job_queue_size=1000
model_store=/home/model-server/model-store
workflow_store=/home/model-server/wf-store
"""
S3_PORT = 5000


# ---------------------------------------------------------------------------------------
# What the node needs


def _venv(version: str) -> Path:
    """The TorchServe venv of `version` (scripts/install-torchserve makes it)."""
    venv = ROOT / f".venv-torchserve-{version}"
    need(str(venv / "bin" / "torchserve"))
    return venv


@pytest.fixture(scope="module")
def network() -> Iterator[kubelet.Network]:
    """The node's pod network; skips (fails in CI) without root or the tools it runs."""
    for tool in ("ip", "nsenter", "unshare", "setpriv", "mount", "java"):
        need(tool)
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the serving tests need root (namespaces, mounts, network devices)")
        pytest.skip("the serving tests need root (namespaces, mounts, network devices)")
    with kubelet.Network() as net:
        yield net


def torchserve_image(version: str) -> kubelet.Image:
    """The official TorchServe image as far as a pod can tell: its programs on PATH (here
    the venv's, with Java from the host), WORKDIR /home/model-server holding its
    config.properties, USER model-server (uid 1000)."""
    venv = _venv(version)
    return kubelet.Image(
        env={"PATH": f"{venv}/bin:{kubelet.DEFAULT_PATH}", "HOME": "/home/model-server",
             "LANG": "C.UTF-8"},
        workdir="/home/model-server", user=1000, group=1000,
        files={"/home/model-server/config.properties": IMAGE_CONFIG}, dirs=(str(venv),))


def downloader_image(version: str) -> kubelet.Image:
    """The model-downloader image as far as its container can tell: s3cmd on PATH."""
    venv = _venv(version)
    return kubelet.Image(env={"PATH": f"{venv}/bin:{kubelet.DEFAULT_PATH}"}, dirs=(str(venv),))


# ---------------------------------------------------------------------------------------
# The model, its archives and its own answers


@dataclass(frozen=True)
class Models:
    """One version's archives (under claim/<version>/) and the model's weights."""

    version: str
    claim: Path
    weights: Path


def _run(argv: list[str | Path]) -> str:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=False,
                          timeout=300)
    assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Models]:
    """Weights made with torch, and for each installed version the two archives made with
    that version's torch-model-archiver, in a claim directory holding one folder per
    version (the SimpleMLService's pvc.subPath)."""
    root = tmp_path_factory.mktemp("models")
    claim = root / "claim"
    out: dict[str, Models] = {}
    for version in VERSIONS:
        venv = ROOT / f".venv-torchserve-{version}"
        if not (venv / "bin" / "torchserve").exists():
            continue
        if not (root / "state_dict.pt").exists():
            _run([venv / "bin" / "python", SERVING / "reference.py", "weights", root])
        store = claim / version
        store.mkdir(parents=True)
        for name, handler in ((MODEL, "tiny_handler.py"), (BROKEN, "broken_handler.py")):
            _run([venv / "bin" / "torch-model-archiver", "--model-name", name,
                  "--version", "1.0", "--model-file", SERVING / "model.py",
                  "--serialized-file", root / "state_dict.pt",
                  "--handler", SERVING / handler, "--export-path", store])
        out[version] = Models(version, claim, root / "state_dict.pt")
    return out


def model_output(version: str, weights: Path, rows: list[list[float]]) -> list[list[float]]:
    """The model's own output for `rows`, computed with torch in that version's venv."""
    out: list[list[float]] = json.loads(_run([
        _venv(version) / "bin" / "python", SERVING / "reference.py", "predict", weights,
        json.dumps(rows)]))
    return out


# ---------------------------------------------------------------------------------------
# S3: a moto server in a pod of its own, holding each version's archive


@dataclass(frozen=True)
class S3:
    """The S3 endpoint pods reach, and an .s3cfg for it."""

    endpoint: str
    config: str


def s3cfg(endpoint: str) -> str:
    """An .s3cfg for the moto server at `endpoint`."""
    return (f"[default]\naccess_key = testing\nsecret_key = testing\nhost_base = {endpoint}\n"
            f"host_bucket = {endpoint}\nbucket_location = us-east-1\nuse_https = False\n"
            "signature_v2 = False\n")


@pytest.fixture(scope="module")
def s3(network: kubelet.Network, models: dict[str, Models],
       tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3]:
    """moto in a pod on the pod network, bucket `models` holding <version>/tiny.mar."""
    need("s3cmd")
    root = tmp_path_factory.mktemp("s3")
    template = {"metadata": {"labels": {"app": "s3"}}, "spec": {"containers": [{
        "name": "moto", "image": "moto",
        "command": [sys.executable, "-m", "moto.server", "-H", "0.0.0.0", "-p", str(S3_PORT)],
        "readinessProbe": {"tcpSocket": {"port": S3_PORT}, "periodSeconds": 1}}]}}
    image = kubelet.Image(env={"PATH": f"{Path(sys.executable).parent}:{kubelet.DEFAULT_PATH}"},
                          dirs=(sys.prefix,))
    with kubelet.running_pod(template, name="s3", network=network, root=root / "pod",
                             images={"moto": image}) as pod:
        pod.wait_ready(60)
        endpoint = f"{pod.info.ip}:{S3_PORT}"
        config = root / ".s3cfg"
        config.write_text(s3cfg(endpoint))
        s3cmd = ["s3cmd", "-c", str(config)]
        _run([*s3cmd, "mb", "s3://models"])
        for version, found in models.items():
            _run([*s3cmd, "put", found.claim / version / f"{MODEL}.mar",
                  f"s3://models/{version}/{MODEL}.mar"])
        yield S3(endpoint, s3cfg(endpoint))


# ---------------------------------------------------------------------------------------
# krmfn's output, and a pod made from it


def render(tmp_path: Path, version: str, storage: dict[str, Any], model: str) -> list[Any]:
    """`krmfn render` of a PyTorch SimpleMLService: every object it prints."""
    source = {"apiVersion": "tensorstack.dev/v1beta1", "kind": "SimpleMLService",
              "metadata": {"name": model, "namespace": NAMESPACE},
              "spec": {"storage": storage,
                       "pytorch": {"image": f"pytorch/torchserve:{version}-cpu",
                                   "modelsFlag": f"{model}={model}.mar"}}}
    path = tmp_path / "simplemlservice.yaml"
    path.write_text(yaml.safe_dump(source))
    run = krmfn("render", str(path))
    assert run.code == 0, run.stderr
    return [doc for doc in yaml.safe_load_all(run.stdout) if doc]


def storage_for(kind: str, version: str) -> dict[str, Any]:
    """The SimpleMLService's storage: the claim's folder for `version`, or its S3 prefix."""
    if kind == "pvc":
        return {"pvc": {"name": "models", "subPath": version}}
    return {"s3": {"secretName": "s3-models", "uri": f"s3://models/{version}/"}}


def one(objects: list[Any], kind: str) -> Any:
    """The single object of `kind` among `objects`."""
    found = [o for o in objects if o.get("kind") == kind]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


@dataclass
class Served:
    """A running pod made from krmfn's output, and the Service in front of it."""

    pod: kubelet.Pod
    service: Any
    url: str
    version: str


@pytest.fixture
def serve(network: kubelet.Network, models: dict[str, Models], tmp_path: Path,
          request: pytest.FixtureRequest) -> Iterator[Any]:
    """Render and start a pod: `serve(version, storage, model)` → Served. Every pod started
    is closed (killed if still running) at the end of the test."""
    pods: list[kubelet.Pod] = []

    def start(version: str, storage: str, model: str = MODEL,
              patch: Any = None) -> Served:
        objects = render(tmp_path, version, storage_for(storage, version), model)
        deployment, service = one(objects, "Deployment"), one(objects, "Service")
        template = deployment["spec"]["template"]
        if patch is not None:
            patch(template)
        images = {c["image"]: downloader_image(version)
                  for c in template["spec"].get("initContainers") or []}
        images.update({c["image"]: torchserve_image(version)
                       for c in template["spec"]["containers"]})
        given = [o for o in objects if o.get("kind") in ("ConfigMap", "Secret")]
        if storage == "s3":
            endpoint: S3 = request.getfixturevalue("s3")
            given.append({"apiVersion": "v1", "kind": "Secret",
                          "metadata": {"name": "s3-models", "namespace": NAMESPACE,
                                       "labels": {"tensorstack.dev/resource": "s3"}},
                          "data": {".s3cfg": base64.b64encode(endpoint.config.encode())
                                   .decode()}})
        pod = kubelet.Pod(template, name=f"{model}-{storage}-{version.replace('.', '')}",
                          namespace=NAMESPACE, network=network,
                          root=tmp_path / f"pod{len(pods)}", images=images,
                          claims={"models": models[version].claim} if version in models
                          else {}, objects=given, time_scale=TIME_SCALE)
        pods.append(pod)
        pod.start()
        return Served(pod, service, pod.url(service), version)

    yield start
    for pod in pods:
        pod.close()


def post(url: str, body: dict[str, Any], timeout: float = 30) -> tuple[int, str]:
    """POST JSON to `url`: (status, body)."""
    host, _, port = url.removeprefix("http://").partition(":")
    port, _, path = port.partition("/")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("POST", "/" + path, body=json.dumps(body),
                     headers={"Content-Type": "application/json"})
        answer = conn.getresponse()
        return answer.status, answer.read().decode()
    finally:
        conn.close()


def get(url: str, timeout: float = 5) -> tuple[int, str]:
    """GET `url`: (status, body)."""
    host, _, port = url.removeprefix("http://").partition(":")
    port, _, path = port.partition("/")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", "/" + path)
        answer = conn.getresponse()
        return answer.status, answer.read().decode()
    finally:
        conn.close()


def ping(url: str) -> int | None:
    """The status of GET /ping, or None while nothing listens."""
    try:
        return get(f"{url}/ping")[0]
    except OSError:
        return None


def worker_statuses(pod: kubelet.Pod, model: str) -> set[str]:
    """The statuses of the model's workers, asked of the management API inside the pod
    (it listens on the pod's loopback only); empty while it does not answer."""
    asked = pod.exec("user-container", [
        "python3", "-c", "import sys, urllib.request; "
        "print(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())",
        f"http://127.0.0.1:8081/models/{model}"], timeout=10)
    if asked.returncode != 0:
        return set()
    return {w["status"] for v in json.loads(asked.stdout) for w in v.get("workers", [])}


def report(pod: kubelet.Pod, text: str) -> None:
    """Print a figure the test measured, and the pod's events when it ends."""
    print(f"\n[{pod.info.name}] {text}")


def stop_and_check(served: Served) -> kubelet.Stopped:
    """Delete the pod; it must end on its own within STOP_LIMIT of SIGTERM, exit 0."""
    stopped = served.pod.delete()
    assert len(stopped) == 1, stopped
    result = stopped[0]
    report(served.pod, f"stop: preStop {result.pre_stop:.1f}s ({result.pre_stop_result}), "
                       f"SIGTERM to exit {result.after_term:.1f}s, exit {result.exit_code}")
    assert not result.killed, f"needed SIGKILL: {served.pod.events}"
    assert result.after_term <= STOP_LIMIT, result
    assert result.exit_code == 0, (result, served.pod.events)
    return result


# ---------------------------------------------------------------------------------------
# The tests


@pytest.mark.parametrize("storage", ["pvc", "s3"])
@pytest.mark.parametrize("version", VERSIONS)
def test_ready_predicts_and_stops(serve: Any, models: dict[str, Models], version: str,
                                  storage: str) -> None:
    served: Served = serve(version, storage)
    ready = served.pod.wait_ready(180)
    report(served.pod, f"Ready {ready:.1f}s after the pod was created")
    expected = model_output(version, models[version].weights, INPUTS)
    for row, want in zip(INPUTS, expected, strict=True):
        status, body = post(f"{served.url}/predictions/{MODEL}", {"inputs": row})
        assert status == 200, body
        assert json.loads(body) == want
    container = served.pod.container("user-container")
    assert container.restarts == 0 and container.ready
    check_process(served)
    check_ports_and_configuration(served)
    stop_and_check(served)


def check_process(served: Served) -> None:
    """PID 1 of the container is the generated command with its args, byte for byte, run
    as the image's non-root user."""
    spec = served.pod.container("user-container").spec
    cmdline = served.pod.exec("user-container", ["cat", "/proc/1/cmdline"]).stdout
    assert cmdline.split("\0")[:-1] == [*spec["command"], *spec["args"]]
    status = served.pod.exec("user-container", ["cat", "/proc/1/status"]).stdout
    assert "Uid:\t1000\t1000\t1000\t1000" in status


# What listens in the pod, as the kernel states it (Java's 0.0.0.0 is "::"). Before 0.11
# TorchServe cannot bind gRPC to an address (NettyServerBuilder.forPort): its inference
# (7070) and management (7071) gRPC ports are open on the pod IP whatever the configuration
# says; from 0.11 the generated grpc_*_address keeps them on loopback.
LISTENING = {
    "0.12.0": {("127.0.0.1", 7070), ("127.0.0.1", 7071), ("127.0.0.1", 8081), ("::", 8080),
               ("::", 8082)},
    "0.8.2": {("::", 7070), ("::", 7071), ("127.0.0.1", 8081), ("::", 8080), ("::", 8082)},
}


def check_ports_and_configuration(served: Served) -> None:
    """Inference and metrics on the pod IP, the management API on the pod's loopback only,
    no token needed: the generated configuration is in effect, the image's own is not."""
    ip = served.pod.info.ip
    listening = served.pod.listening()
    report(served.pod, f"listening: {listening}")
    assert set(listening) == LISTENING[served.version]
    assert kubelet.tcp_open(ip, 8080, 2) and kubelet.tcp_open(ip, 8082, 2)
    assert not kubelet.tcp_open(ip, 8081, 2), "management API reachable on the pod IP"
    grpc_open = kubelet.tcp_open(ip, 7071, 2)
    assert grpc_open == (("::", 7071) in LISTENING[served.version])
    assert get(f"http://{ip}:8082/metrics")[0] == 200
    assert get(f"{served.url}/ping") == (200, '{\n  "status": "Healthy"\n}\n')
    inside = served.pod.exec("user-container", ["ls", "-A", "/home/model-server"])
    assert "key_file.json" not in inside.stdout.split(), inside.stdout


def test_image_configuration_applies_without_the_generated_one(serve: Any) -> None:
    """The control for check_ports_and_configuration: the same pod without --ts-config and
    TS_CONFIG_FILE reads the image's WORKDIR config.properties, and 0.12 then wants a token
    for /ping and serves management on the pod IP."""

    def drop_generated_config(template: Any) -> None:
        container = template["spec"]["containers"][0]
        container["args"] = [a for a in container["args"] if not a.startswith("--ts-config")]
        container["env"] = [e for e in container.get("env") or []
                            if e["name"] != "TS_CONFIG_FILE"]
        container.pop("readinessProbe")

    served: Served = serve("0.12.0", "pvc", patch=drop_generated_config)
    served.pod.wait_ready(180)
    ip = served.pod.info.ip
    assert kubelet.wait_for(lambda: kubelet.tcp_open(ip, 8081, 1), 30)
    status, body = get(f"{served.url}/ping")
    report(served.pod, f"/ping with the image's config: {status} {body.strip()}")
    assert status == 400 and "Token Authorization failed" in body
    served.pod.close()


@dataclass
class Answer:
    """What became of one request: its HTTP status and body, or the error, and when."""

    status: int | None = None
    body: str = ""
    seconds: float = 0.0


def send_in_background(url: str, body: dict[str, Any]) -> tuple[threading.Thread, Answer]:
    """POST `body` to `url` from a thread; the Answer fills in when it ends."""
    answer = Answer()

    def send() -> None:
        began = time.monotonic()
        try:
            answer.status, answer.body = post(url, body, timeout=60)
        except (OSError, http.client.HTTPException) as err:
            answer.body = repr(err)
        answer.seconds = time.monotonic() - began

    thread = threading.Thread(target=send)
    thread.start()
    return thread, answer


@pytest.mark.parametrize("version", VERSIONS)
def test_requests_in_flight_at_deletion(serve: Any, models: dict[str, Models],
                                        version: str) -> None:
    """Two requests in the handler when the pod is deleted: one that ends within the
    preStop sleep completes; one still running at SIGTERM is cut off (the connection is
    reset), as TorchServe's stop closes its connections without draining them."""
    served: Served = serve(version, "pvc")
    served.pod.wait_ready(180)
    url = f"{served.url}/predictions/{MODEL}"
    short, short_answer = send_in_background(url, {"inputs": INPUTS[0], "sleep": 2})
    time.sleep(0.3)
    long, long_answer = send_in_background(url, {"inputs": INPUTS[1], "sleep": 9})
    time.sleep(0.7)
    result = stop_and_check(served)
    short.join(60)
    long.join(60)
    report(served.pod, f"2 s request: {short_answer}; 9 s request: {long_answer} "
                       "(both sent about 1 s before the deletion)")
    assert result.pre_stop < 9 - 1, "the long request must still be in flight at SIGTERM"
    want = model_output(version, models[version].weights, INPUTS[:1])[0]
    assert short_answer.status == 200 and json.loads(short_answer.body) == want
    assert long_answer.status is None and "Connection reset" in long_answer.body
    assert long_answer.seconds == pytest.approx(0.7 + result.pre_stop, abs=1.5)


@pytest.mark.parametrize("version", VERSIONS)
def test_never_ready_while_the_model_cannot_load(serve: Any, version: str) -> None:
    """The broken handler's workers die and are retried for TorchServe's 300 s window; the
    pod must not be Ready meanwhile, though /ping says Healthy."""
    served: Served = serve(version, "pvc", model=BROKEN)
    pings: list[int | None] = []
    statuses: set[str] = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert not served.pod.ready, served.pod.events
        pings.append(ping(served.url))
        statuses |= worker_statuses(served.pod, BROKEN)
        time.sleep(2)
    report(served.pod, f"/ping answers over 30 s: {pings}; worker statuses seen: "
                       f"{sorted(statuses)}; never Ready")
    assert 200 in pings, "TorchServe's own health check never said Healthy"
    assert statuses and "READY" not in statuses
    assert not served.pod.ready
    stop_and_check(served)


def listens(pod: kubelet.Pod, address: tuple[str, int]) -> bool:
    """Whether something listens on `address` in the pod's network namespace."""
    return address in pod.listening()


def test_pods_have_networks_of_their_own(network: kubelet.Network, tmp_path: Path) -> None:
    """The harness itself: two pods serve on the same port, each on its own IP, and a
    server bound to 127.0.0.1 inside a pod cannot be reached from outside it."""
    image = kubelet.Image(env={"PATH": kubelet.DEFAULT_PATH}, user=1000, group=1000)
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {
        "terminationGracePeriodSeconds": 5,
        "containers": [{"name": "web", "image": "python", "command": [
            "/bin/sh", "-c", "python3 -m http.server --bind 127.0.0.1 9000 & "
            "exec python3 -m http.server --bind 0.0.0.0 8080"],
            "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1}}]}}
    with kubelet.running_pod(template, name="a", network=network, root=tmp_path / "a",
                             images={"python": image}) as first, \
            kubelet.running_pod(template, name="b", network=network, root=tmp_path / "b",
                                images={"python": image}) as second:
        first.wait_ready(30)
        second.wait_ready(30)
        assert first.info.ip != second.info.ip
        for pod in (first, second):
            assert get(f"http://{pod.info.ip}:8080/")[0] == 200
            assert kubelet.wait_for(partial(listens, pod, ("127.0.0.1", 9000)), 10)
            assert not kubelet.tcp_open(pod.info.ip, 9000, 1)
            inside = pod.exec("web", ["python3", "-c", "import urllib.request; print("
                                      "urllib.request.urlopen('http://127.0.0.1:9000/').status)"])
            assert inside.stdout.strip() == "200", inside.stderr


@pytest.mark.integration
def test_torchserve_properties_read_back_by_java(tmp_path: Path) -> None:
    """Each property value given in the options is the value TorchServe's Java reads."""
    java = need("java")
    values = {"trailing_backslash": "a\\", "windows_path": "C:\\models\\x",
              "leading_blanks": "  two", "tab_first": "\tt", "non_ascii": "é中😀",
              "escape_like": "\\u0041", "inner_blanks": "a b ", "plain": "8"}
    options = {"apiVersion": "fn.krmfn.dev/v1alpha1", "kind": "SimpleMLServiceOptions",
               "torchserveProperties": values}
    service = {"apiVersion": "tensorstack.dev/v1beta1", "kind": "SimpleMLService",
               "metadata": {"name": "props"},
               "spec": {"pytorch": {"image": "pytorch/torchserve:0.12.0-cpu"}}}
    run = krmfn(stdin=yaml.safe_dump({"apiVersion": "config.kubernetes.io/v1",
                                      "kind": "ResourceList", "items": [service],
                                      "functionConfig": options}))
    assert run.code == 0, run.stderr
    items = yaml.safe_load(run.stdout)["items"]
    text = next(i for i in items if i["kind"] == "ConfigMap")["data"]["config.properties"]
    (tmp_path / "config.properties").write_text(text, encoding="latin-1")
    read = subprocess.run([java, str(ROOT / "tests" / "java" / "ReadProperties.java"),
                           str(tmp_path / "config.properties")], capture_output=True,
                          text=True, timeout=120, check=True).stdout
    got = dict(line.split(" ", 1) for line in read.splitlines())
    for key, value in values.items():
        assert got[key] == value.encode("utf-16-be").hex(), key
