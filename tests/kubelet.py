"""A kubelet and a container runtime in miniature: run a Pod template with local processes,
as a node would, so that tests can prove that a generated pod starts, serves and stops.

What lives here, in the order a node does it:
- `Network`: the node's pod network. A Linux bridge on the host (the node's `cni0`) and, per
  pod, a network namespace joined to it by a veth pair, with a pod IP of its own. A server
  bound to 127.0.0.1 inside a pod is unreachable from outside it; two pods never clash on
  ports. Nothing is bound on the host itself.
- `Image`: what an image would give a container that the host does not: environment (PATH
  to put the image's programs in reach), WORKDIR, USER, files of its own, ENTRYPOINT/CMD.
- `Pod`: volumes (persistentVolumeClaim → a directory the test provides per claim name;
  configMap and secret → their data written as files, items and modes as Kubernetes does;
  emptyDir → a fresh directory shared by the pod's containers), init containers in order,
  each to completion, then the containers, each started by `enter` (below); probes as
  written (startupProbe gating the others; httpGet succeeds on 200-399; tcpSocket; exec in
  the container's namespaces), readiness as a state to poll, restarts per restartPolicy,
  and `delete`: preStop, SIGTERM to the container's PID 1, SIGKILL when
  terminationGracePeriodSeconds run out, timed.
- `enter`: the container side, a shim in fresh mount, UTS and IPC namespaces inside the
  pod's network namespace. It gives the container a root of its own (an overlay over the
  host's root with a tmpfs upper layer, as an image's writable layer, read-only when
  readOnlyRootFilesystem), fresh /proc, /sys, /dev and /tmp, the kubelet's /etc/hosts, the
  image's files, every volumeMount bind-mounted at its mountPath (symlinks resolved inside
  the container's root; read-only where the mount or the volume says so; subPath
  honoured), then forks PID 1 of a new PID namespace, which drops to the container's user
  and exec()s the container's command with its args and env exactly as generated ($(VAR)
  references expanded as the kubelet expands them): nothing in between. The shim waits
  and exits as PID 1 exited (128+N for signal N), as a runtime's shim reports it.

Ignored: image pulls, resources (no cgroups), seccomp, capabilities beyond "root or not",
service environment variables. Refused with PodError: postStart hooks, grpc probes,
subPathExpr, sidecar init containers, volume kinds other than persistentVolumeClaim,
emptyDir, configMap and secret. A failed init container fails the pod at once (the kubelet
would retry it); fsGroup does not change the ownership of claims. Probe periods and initial
delays, and restart back-off, can be scaled down (`time_scale`); timeouts, grace periods
and preStop sleeps never are. Needs root (namespaces, mounts, network devices). A test
process killed outright takes its containers with it (parent-death signals); its network
namespaces and bridge are removed by the next `Network()`.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import http.client
import ipaddress
import json
import os
import random
import re
import select
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

Json = Mapping[str, Any]
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PREFIX = "kkl"  # network namespaces, bridges and veths made here: kkl<creator pid>...
NETNS_DIR = Path("/run/netns")
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWPID = 0x20000000
DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8),
           "urandom": (1, 9), "tty": (5, 0)}


class PodError(RuntimeError):
    """The pod cannot run as written (a missing object, a failed init container, ...)."""


# ---------------------------------------------------------------------------------------
# What an image gives


@dataclass(frozen=True)
class Image:
    """What a container image would give its containers beyond the host's root filesystem.

    `env` is the image's environment (give PATH here); `workdir` its WORKDIR (made, owned by
    the image's user, when the host has no such directory); `user`/`group` its USER;
    `files` maps absolute paths to text written into the container's root, owned by the
    image's user; `dirs` are host directories the image holds (a virtual environment),
    shown read-only at their own paths even where the container's fresh /tmp would hide
    them (a checkout under /tmp); `entrypoint`/`cmd` are used as Kubernetes uses them when
    the container sets no command/args.
    """

    env: Mapping[str, str] = field(default_factory=dict)
    workdir: str = "/"
    user: int = 0
    group: int = 0
    files: Mapping[str, str] = field(default_factory=dict)
    dirs: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------
# What the kubelet computes from the pod before it starts anything


def expand(text: str, env: Mapping[str, str]) -> str:
    """Expand `$(NAME)` as the kubelet does in command, args and env values.

    `$$` is an escaped `$`; a reference to a name not in `env`, an unclosed `$(`, and `$`
    before any other character are kept as written.
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] != "$" or i + 1 == len(text):
            out.append(text[i])
            i += 1
            continue
        following = text[i + 1]
        if following == "$":
            out.append("$")
            i += 2
        elif following == "(":
            close = text.find(")", i + 2)
            if close < 0:
                out.append("$(")
                i += 2
            else:
                name = text[i + 2:close]
                out.append(env.get(name, f"$({name})"))
                i = close + 1
        else:
            out.append("$" + following)
            i += 2
    return "".join(out)


def find_object(objects: Sequence[Json], kind: str, namespace: str | None, name: str) -> Json:
    """The object of `kind` called `name` in `namespace` among `objects`, or PodError."""
    for obj in objects:
        meta = obj.get("metadata", {})
        if (obj.get("kind") == kind and meta.get("name") == name
                and meta.get("namespace") in (namespace, None)):
            return obj
    raise PodError(f"{kind} {name!r} not found (the pod refers to it)")


def object_data(obj: Json) -> dict[str, bytes]:
    """A ConfigMap's or Secret's data as bytes per key (Secret `data` is base64)."""
    out: dict[str, bytes] = {}
    if obj.get("kind") == "Secret":
        out.update({k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()})
        out.update({k: str(v).encode() for k, v in (obj.get("stringData") or {}).items()})
    else:
        out.update({k: str(v).encode() for k, v in (obj.get("data") or {}).items()})
        out.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
    return out


@dataclass(frozen=True)
class PodInfo:
    """What the downward API and probes need to know of the pod."""

    name: str
    namespace: str | None
    ip: str
    labels: Mapping[str, str]


def _field_ref(path: str, pod: PodInfo) -> str:
    """The value of a downward-API fieldRef."""
    values = {"metadata.name": pod.name, "metadata.namespace": pod.namespace or "default",
              "status.podIP": pod.ip, "status.hostIP": pod.ip, "spec.nodeName": "node"}
    label = re.fullmatch(r"metadata\.labels\['(.+)'\]", path)
    if label:
        return pod.labels.get(label.group(1), "")
    if path not in values:
        raise PodError(f"fieldRef {path!r} is not supported here")
    return values[path]


def _env_source(source: Json, pod: PodInfo, objects: Sequence[Json]) -> str | None:
    """The value of one env entry's `valueFrom` (None: an optional key that is absent)."""
    if "fieldRef" in source:
        return _field_ref(source["fieldRef"]["fieldPath"], pod)
    for ref, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
        if ref in source:
            key = source[ref]
            try:
                data = object_data(find_object(objects, kind, pod.namespace, key["name"]))
            except PodError:
                if key.get("optional"):
                    return None
                raise
            if key["key"] not in data:
                if key.get("optional"):
                    return None
                raise PodError(f"{kind} {key['name']!r} has no key {key['key']!r}")
            return data[key["key"]].decode()
    raise PodError(f"env valueFrom {sorted(source)} is not supported here")


def container_env(container: Json, pod: PodInfo, objects: Sequence[Json]) -> dict[str, str]:
    """The container's env as the kubelet computes it: envFrom, then env in order, each
    value expanded against the variables defined before it."""
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for ref, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            if ref in source:
                try:
                    obj = find_object(objects, kind, pod.namespace, source[ref]["name"])
                except PodError:
                    if source[ref].get("optional"):
                        continue
                    raise
                env.update({prefix + k: v.decode() for k, v in object_data(obj).items()})
    for entry in container.get("env") or []:
        if "valueFrom" in entry:
            value = _env_source(entry["valueFrom"], pod, objects)
            if value is not None:
                env[entry["name"]] = value
        else:
            env[entry["name"]] = expand(str(entry.get("value", "")), env)
    return env


def container_argv(container: Json, image: Image, env: Mapping[str, str]) -> list[str]:
    """The process's argv: command and args as Kubernetes combines them with the image's
    ENTRYPOINT and CMD, with $(VAR) expanded against the container's env."""
    command = [expand(str(a), env) for a in container.get("command") or []]
    args = [expand(str(a), env) for a in container.get("args") or []]
    if command:
        return command + args
    if args:
        return [*image.entrypoint, *args]
    argv = [*image.entrypoint, *image.cmd]
    if not argv:
        raise PodError(f"container {container['name']!r} has no command and its image none")
    return argv


@dataclass(frozen=True)
class Identity:
    """Who a container's processes run as, from the pod's and container's securityContext
    over the image's USER."""

    uid: int
    gid: int
    groups: tuple[int, ...]
    no_new_privs: bool
    read_only_root: bool


def identity(pod_spec: Json, container: Json, image: Image) -> Identity:
    """The container's Identity; PodError when runAsNonRoot forbids what it would be."""
    pod_sc = pod_spec.get("securityContext") or {}
    sc = container.get("securityContext") or {}

    def pick(key: str) -> Any:
        return sc.get(key, pod_sc.get(key))

    uid = pick("runAsUser")
    uid = image.user if uid is None else int(uid)
    gid = pick("runAsGroup")
    gid = image.group if gid is None else int(gid)
    if pick("runAsNonRoot") and uid == 0:
        raise PodError(f"container {container['name']!r} must run as non-root but is uid 0")
    groups = [int(g) for g in pod_sc.get("supplementalGroups") or []]
    if pod_sc.get("fsGroup") is not None:
        groups.insert(0, int(pod_sc["fsGroup"]))
    return Identity(uid=uid, gid=gid, groups=tuple(groups),
                    no_new_privs=sc.get("allowPrivilegeEscalation") is False,
                    read_only_root=bool(sc.get("readOnlyRootFilesystem")))


@dataclass(frozen=True)
class Volume:
    """A pod volume on the host: where its files are, and whether it is read-only."""

    path: Path
    read_only: bool


def _write_projection(target: Path, data: Mapping[str, bytes], source: Json,
                      fs_group: int | None) -> None:
    """Write a configMap/secret volume's files: its items (key → path, mode) or every key,
    with defaultMode (0644 unless given)."""
    target.mkdir(parents=True)
    default_mode = int(source.get("defaultMode", 0o644))
    items = source.get("items")
    if items is None:
        items = [{"key": key, "path": key} for key in data]
    for item in items:
        if item["key"] not in data:
            if source.get("optional"):
                continue
            raise PodError(f"volume source has no key {item['key']!r}")
        path = target / item["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data[item["key"]])
        path.chmod(int(item.get("mode", default_mode)))
        if fs_group is not None:
            os.chown(path, 0, fs_group)


def prepare_volumes(pod_spec: Json, pod: PodInfo, root: Path, claims: Mapping[str, Path],
                    objects: Sequence[Json]) -> dict[str, Volume]:
    """Make every volume of the pod: claims from `claims`, the rest under `root`."""
    fs_group = (pod_spec.get("securityContext") or {}).get("fsGroup")
    volumes: dict[str, Volume] = {}
    for vol in pod_spec.get("volumes") or []:
        name, target = vol["name"], root / vol["name"]
        if "persistentVolumeClaim" in vol:
            claim = vol["persistentVolumeClaim"]
            if claim["claimName"] not in claims:
                raise PodError(f"no directory given for claim {claim['claimName']!r}")
            volumes[name] = Volume(claims[claim["claimName"]], bool(claim.get("readOnly")))
        elif "emptyDir" in vol:
            target.mkdir(parents=True)
            if fs_group is not None:  # the kubelet hands it to fsGroup, setgid
                os.chown(target, 0, fs_group)
            target.chmod(0o2777 if fs_group is not None else 0o777)
            volumes[name] = Volume(target, read_only=False)
        elif "configMap" in vol or "secret" in vol:
            kind, source = (("ConfigMap", vol["configMap"]) if "configMap" in vol
                            else ("Secret", vol["secret"]))
            ref = source.get("name") or source.get("secretName")
            try:
                data = object_data(find_object(objects, kind, pod.namespace, ref))
            except PodError:
                if not source.get("optional"):
                    raise
                data = {}
            _write_projection(target, data, source, fs_group)
            volumes[name] = Volume(target, read_only=True)
        else:
            raise PodError(f"volume {name!r}: only persistentVolumeClaim, emptyDir, "
                           "configMap and secret are supported here")
    return volumes


def container_mounts(container: Json, volumes: Mapping[str, Volume]) -> list[dict[str, Any]]:
    """The container's bind mounts (source, target, read_only), subPath resolved (and made,
    as the kubelet makes it, when it does not exist)."""
    mounts = []
    for mount in container.get("volumeMounts") or []:
        if "subPathExpr" in mount:
            raise PodError("subPathExpr is not supported here")
        volume = volumes.get(mount["name"])
        if volume is None:
            raise PodError(f"volumeMount {mount['name']!r} names no volume of the pod")
        source = volume.path
        if mount.get("subPath"):
            source = volume.path / mount["subPath"]
            if not source.exists():
                source.mkdir(parents=True)
        mounts.append({"source": str(source), "target": mount["mountPath"],
                       "read_only": bool(mount.get("readOnly")) or volume.read_only})
    return mounts


# ---------------------------------------------------------------------------------------
# The node's network


def _ip(*args: str) -> None:
    """Run `ip ARGS`, failing loudly."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PodError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def remove_stale_networks() -> None:
    """Remove namespaces and links that a test process, now dead, left behind."""
    names = [p.name for p in NETNS_DIR.iterdir()] if NETNS_DIR.is_dir() else []
    for name in names:
        found = re.fullmatch(PREFIX + r"(\d+)-.*", name)
        if found and not _alive(int(found.group(1))):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True,
                           check=False).stdout
    for found in re.finditer(r"^\d+: (" + PREFIX + r"(\d+)[bv]\d*)[@:]", links, re.MULTILINE):
        if not _alive(int(found.group(2))):
            subprocess.run(["ip", "link", "del", found.group(1)], capture_output=True,
                           check=False)


def _free_subnet() -> ipaddress.IPv4Network:
    """A /24 in 10.0.0.0/8 that no route on the host overlaps."""
    routes = subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True,
                            text=True, check=False).stdout
    taken = [ipaddress.ip_network(word, strict=False) for word in re.findall(
        r"\b\d+\.\d+\.\d+\.\d+(?:/\d+)?\b", routes)]
    rng = random.Random()
    for _ in range(200):
        subnet = ipaddress.IPv4Network(f"10.{rng.randrange(200, 250)}.{rng.randrange(256)}.0/24")
        if not any(subnet.overlaps(other) for other in taken):
            return subnet
    raise PodError("no free /24 for the pod network")


class Network:
    """The node's pod network: a bridge on the host and a namespace per pod (see module)."""

    def __init__(self) -> None:
        remove_stale_networks()
        self.subnet = _free_subnet()
        hosts = self.subnet.hosts()
        self.gateway = str(next(hosts))
        self._free = [str(h) for h in hosts]
        self._count = 0
        self._lock = threading.Lock()
        self.bridge = f"{PREFIX}{os.getpid()}b"
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.gateway}/{self.subnet.prefixlen}", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")

    def attach(self) -> tuple[str, str]:
        """A new pod network namespace on the bridge: (its name, the pod IP)."""
        with self._lock:
            self._count += 1
            number, address = self._count, self._free.pop(0)
        netns = f"{PREFIX}{os.getpid()}-{number}"
        veth = f"{PREFIX}{os.getpid()}v{number}"
        _ip("netns", "add", netns)
        _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns)
        _ip("link", "set", veth, "master", self.bridge)
        _ip("link", "set", veth, "up")
        _ip("-n", netns, "addr", "add", f"{address}/{self.subnet.prefixlen}", "dev", "eth0")
        _ip("-n", netns, "link", "set", "eth0", "up")
        _ip("-n", netns, "link", "set", "lo", "up")
        _ip("-n", netns, "route", "add", "default", "via", self.gateway)
        return netns, address

    def detach(self, netns: str) -> None:
        """Remove a pod's namespace (its veth goes with it)."""
        subprocess.run(["ip", "netns", "del", netns], capture_output=True, check=False)

    def close(self) -> None:
        """Remove the bridge."""
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, check=False)

    def __enter__(self) -> Network:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def listening(pid: int) -> list[tuple[str, int]]:
    """The TCP sockets listening in the network namespace of process `pid`: (address, port),
    read from /proc/PID/net/tcp and tcp6 as the kernel states them."""
    out = []
    for name in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{name}")
        lines = path.read_text().splitlines()[1:] if path.exists() else []
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            if state != "0A":
                continue
            hex_addr, hex_port = local.split(":")
            raw = bytes.fromhex(hex_addr)
            # the kernel prints each 32-bit word in host (little-endian) order
            words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            address = ipaddress.ip_address(words)
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
                address = address.ipv4_mapped
            out.append((str(address), int(hex_port, 16)))
    return sorted(set(out))


# ---------------------------------------------------------------------------------------
# A running container process


@dataclass
class Exit:
    """How one run of a container ended."""

    code: int
    at: float


class Process:
    """One run of a container: its shim (`enter`, outside the container's PID namespace,
    which exits as PID 1 exits) and the host PID of the container's PID 1."""

    def __init__(self, popen: subprocess.Popen[bytes], pid1: int) -> None:
        self.popen = popen
        self.pid1 = pid1
        self.exited = threading.Event()
        self.exit: Exit | None = None

    def wait(self) -> Exit:
        """Block until PID 1 has exited; its exit code (128+N when killed by signal N)."""
        code = self.popen.wait()
        self.exit = Exit(128 - code if code < 0 else code, time.monotonic())
        self.exited.set()
        return self.exit

    def signal(self, sig: int) -> None:
        """Send `sig` to the container's PID 1, from outside its PID namespace."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid1, sig)


def _read_status(fd: int, timeout: float) -> dict[str, str]:
    """The shim's and PID 1's words before exec(): `pid N` and `ok`, or an error."""
    data = b""
    deadline = time.monotonic() + timeout
    words: dict[str, str] = {}
    while not ({"pid", "ok"} <= words.keys() or "error" in words):
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 4096) if ready else b""
        if not chunk:
            words.setdefault("error", "no word from the container")
            break
        data += chunk
        for line in data.decode(errors="replace").splitlines():
            word, _, rest = line.partition(" ")
            if word in ("pid", "ok"):
                words[word] = rest
            elif line:
                words["error"] = line
    return words


def launch(plan: dict[str, Any], plan_path: Path, netns: str, log: Path) -> Process:
    """Start a container from its plan: the shim (`enter`) in fresh mount, UTS and IPC
    namespaces inside the pod's network namespace, stdout and stderr appended to `log`.
    Returns once PID 1 is about to exec() the container's command."""
    read_fd, write_fd = os.pipe()
    plan_path.write_text(json.dumps({**plan, "status_fd": write_fd}))
    argv = ["setpriv", "--pdeathsig", "KILL", "--",
            "nsenter", f"--net={NETNS_DIR / netns}", "--",
            "unshare", "--mount", "--uts", "--ipc", "--propagation", "private", "--",
            sys.executable, "-I", str(Path(__file__).resolve()), "enter", str(plan_path)]
    try:
        with log.open("ab") as out:
            popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                     pass_fds=(write_fd,), env={"PATH": DEFAULT_PATH})
        os.close(write_fd)
        words = _read_status(read_fd, timeout=60)
    finally:
        os.close(read_fd)
    if "error" in words:
        popen.kill()
        popen.wait()
        raise PodError(f"container did not start: {words['error']}; log: "
                       f"{log.read_text(errors='replace')[-2000:]}")
    return Process(popen, int(words["pid"]))


def exec_in(process: Process, who: Identity, env: Mapping[str, str], argv: Sequence[str],
            timeout: float) -> subprocess.CompletedProcess[str]:
    """Run `argv` inside a running container, as `kubectl exec` and exec probes do: its
    namespaces, root, working directory, user and env. Killed (exit 137) at `timeout`."""
    command = ["nsenter", f"--target={process.pid1}", "--mount", "--uts", "--ipc", "--net",
               "--pid", "--root", "--wd", f"--setuid={who.uid}", f"--setgid={who.gid}",
               "--", *argv]
    popen = subprocess.Popen(command, env=dict(env), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        out, err = popen.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(popen.pid, signal.SIGKILL)
        out, err = popen.communicate()
        return subprocess.CompletedProcess(command, 137, out, err + "\n(timed out)")
    return subprocess.CompletedProcess(command, popen.returncode, out, err)


# ---------------------------------------------------------------------------------------
# Probes and handlers


def _port(value: Any, container: Json) -> int:
    """A probe's or Service's port: a number, or the name of one of the container's ports."""
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    for port in container.get("ports") or []:
        if port.get("name") == value:
            return int(port["containerPort"])
    raise PodError(f"container {container['name']!r} has no port named {value!r}")


def http_get(spec: Json, container: Json, pod_ip: str, timeout: float) -> int:
    """The status of a probe's or handler's httpGet, sent as the kubelet sends it."""
    host = spec.get("host") or pod_ip
    port = _port(spec["port"], container)
    headers = {"User-Agent": "kube-probe/1.33", "Accept": "*/*"}
    headers.update({h["name"]: h["value"] for h in spec.get("httpHeaders") or []})
    conn: http.client.HTTPConnection
    if spec.get("scheme", "HTTP").upper() == "HTTPS":
        import ssl  # noqa: PLC0415 (only HTTPS probes need it)

        conn = http.client.HTTPSConnection(host, port, timeout=timeout,
                                           context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", spec.get("path") or "/", headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def tcp_open(host: str, port: int, timeout: float) -> bool:
    """Whether a TCP connection to host:port opens within `timeout`."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------------
# The container side: what a runtime does between fork and exec


def _mount(source: str, target: str, fstype: str | None = None, options: str = "",
           bind: bool = False) -> None:
    """Run mount(8); raise with its message on failure."""
    argv = ["mount"]
    if bind:
        argv.append("--bind")
    if fstype:
        argv += ["-t", fstype]
    if options:
        argv += ["-o", options]
    done = subprocess.run([*argv, source, target], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise OSError(f"{' '.join(argv)} {source} {target}: {done.stderr.strip()}")


def _make_dev(root: str) -> None:
    """A minimal /dev as runtimes give containers: a tmpfs with the usual nodes."""
    dev = f"{root}/dev"
    _mount("tmpfs", dev, "tmpfs", "mode=755,nosuid")
    for name, (major, minor) in DEVICES.items():
        os.mknod(f"{dev}/{name}", 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        os.chmod(f"{dev}/{name}", 0o666)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{dev}/{name}")
    for name in ("shm", "pts"):
        os.mkdir(f"{dev}/{name}")
    _mount("shm", f"{dev}/shm", "tmpfs", "mode=1777,nosuid,nodev")


def in_root(root: str, path: str) -> str:
    """`path` inside the container's `root`, as the host sees it: every symlink on the way
    is followed within `root` (an absolute target starts again at `root`, `..` stops at
    it), as runtimes resolve mount targets. Without this, a path through a symlink such as
    Debian's /var/run -> /run would land on the host's own directories."""
    done: list[str] = []
    todo = [part for part in path.split("/") if part]
    hops = 0
    while todo:
        part = todo.pop(0)
        if part == ".":
            continue
        if part == "..":
            if done:
                done.pop()
            continue
        here = os.path.join(root, *done, part)
        if os.path.islink(here):
            hops += 1
            if hops > 40:
                raise OSError(f"too many symlinks under {root} resolving {path}")
            link = os.readlink(here)
            if link.startswith("/"):
                done = []
            todo = [p for p in link.split("/") if p] + todo
            continue
        done.append(part)
    return os.path.join(root, *done)


def _bind(source: str, target: str, read_only: bool) -> None:
    """Bind `source` at `target` (made as a file or a directory), then make it read-only."""
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            Path(target).touch()
    _mount(source, target, bind=True)
    if read_only:
        _mount("none", target, options="remount,bind,ro")


def _image_files(root: str, plan: Json) -> None:
    """The image's WORKDIR and files, owned by its user, in the container's root."""
    uid, gid = plan["image_user"], plan["image_group"]
    workdir = in_root(root, plan["workdir"])
    if not os.path.isdir(workdir):
        os.makedirs(workdir)
        os.chown(workdir, uid, gid)
    os.makedirs(in_root(root, plan["cwd"]), exist_ok=True)
    for path, text in plan["files"].items():
        target = in_root(root, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        Path(target).write_text(text)
        os.chown(target, uid, gid)


def _prctl(option: int, value: int) -> None:
    """prctl(2) with one argument."""
    if ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option})")


def _container_filesystem(plan: Json) -> None:
    """The container's root, before its PID namespace exists: overlay, /sys, /dev, /tmp,
    the image's files and the volume mounts (all in this private mount namespace)."""
    root, layer = plan["root"], plan["layer"]
    _mount("tmpfs", layer, "tmpfs", "mode=0700")
    os.mkdir(f"{layer}/upper")
    os.mkdir(f"{layer}/work")
    _mount("overlay", root, "overlay", f"lowerdir=/,upperdir={layer}/upper,workdir={layer}/work")
    _mount("sysfs", f"{root}/sys", "sysfs", "ro,nosuid,nodev,noexec")
    _make_dev(root)
    _mount("tmpfs", f"{root}/tmp", "tmpfs", "mode=1777,nosuid,nodev")
    for directory in plan["image_dirs"]:
        _bind(directory, in_root(root, directory), read_only=True)
    _image_files(root, plan)
    for mount in plan["mounts"]:
        _bind(mount["source"], in_root(root, mount["target"]), mount["read_only"])
    socket.sethostname(plan["hostname"])


def _init(plan: Json, status: int) -> NoReturn:
    """PID 1 of the new PID namespace: its own /proc, the root made read-only if asked,
    chroot, the container's user, then exec() of the container's command."""
    try:
        root = plan["root"]
        _mount("proc", f"{root}/proc", "proc", "nosuid,nodev,noexec")
        if plan["read_only_root"]:
            _mount("none", f"{root}/tmp", options="remount,ro")
            _mount("none", root, options="remount,ro")
        os.chroot(root)
        os.chdir(plan["cwd"])
        os.setgroups(plan["groups"])
        os.setgid(plan["gid"])
        os.setuid(plan["uid"])
        # after the change of user, which clears it: dies with the shim, whatever kills it
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if plan["no_new_privs"]:
            _prctl(PR_SET_NO_NEW_PRIVS, 1)
        os.umask(0o022)
    except Exception as err:  # anything: reported to the kubelet, then fatal
        os.write(status, f"setup failed: {err}\n".encode())
        os._exit(128)
    os.write(status, b"ok\n")
    os.close(status)
    argv = plan["argv"]
    try:
        os.execvpe(argv[0], argv, plan["env"])
    except OSError as err:
        os.write(2, f"exec {argv[0]!r}: {err}\n".encode())
        os._exit(127)


def enter(plan_path: str) -> NoReturn:
    """The container's shim: set up its filesystem, fork its PID 1 into a new PID
    namespace, report that PID, and wait for it; exit as it exited (128+N for signal N)."""
    plan = json.loads(Path(plan_path).read_text())
    status = plan["status_fd"]
    try:
        _container_filesystem(plan)
        if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWPID) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWPID)")
    except Exception as err:  # anything: reported to the kubelet, then fatal
        os.write(status, f"setup failed: {err}\n".encode())
        sys.exit(128)
    child = os.fork()
    if child == 0:
        _init(plan, status)
    os.write(status, f"pid {child}\n".encode())
    os.close(status)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    code = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
    os._exit(128 - code if code < 0 else code)


# ---------------------------------------------------------------------------------------
# The kubelet's side of one container


@dataclass(frozen=True)
class Stopped:
    """How a container stopped: the time its preStop took, the time from SIGTERM to the end
    of its PID 1, its exit code, and whether SIGKILL was needed."""

    container: str
    pre_stop: float
    after_term: float
    exit_code: int
    killed: bool
    pre_stop_result: str


@dataclass
class ProbeCounter:
    """Consecutive results of one probe, as the kubelet counts them."""

    successes: int = 0
    failures: int = 0


class Container:
    """One container of a pod, run and watched as the kubelet does."""

    def __init__(self, pod: Pod, spec: Json, image: Image, *, env: dict[str, str],
                 who: Identity, mounts: list[dict[str, Any]]) -> None:
        self.pod, self.spec, self.name = pod, spec, spec["name"]
        if (spec.get("lifecycle") or {}).get("postStart"):
            raise PodError(f"container {self.name!r}: postStart is not supported here")
        self.image, self.who, self.mounts = image, who, mounts
        self.env = {"PATH": DEFAULT_PATH, "HOSTNAME": pod.info.name, **image.env, **env}
        self.env.setdefault("HOME", "/")
        self.argv = container_argv(spec, image, env)
        self.process: Process | None = None
        self.started = False
        self.ready = False
        self.restarts = 0
        self.exits: list[Exit] = []
        self.log = pod.root / f"{self.name}.log"
        self._supervisor: threading.Thread | None = None

    # running

    def _plan(self, run: Path) -> dict[str, Any]:
        (run / "root").mkdir(parents=True)
        (run / "layer").mkdir()
        return {"root": str(run / "root"), "layer": str(run / "layer"),
                "mounts": self.mounts, "files": dict(self.image.files),
                "image_dirs": list(self.image.dirs),
                "image_user": self.image.user, "image_group": self.image.group,
                "workdir": self.image.workdir,
                "cwd": self.spec.get("workingDir") or self.image.workdir,
                "hostname": self.pod.info.name, "uid": self.who.uid, "gid": self.who.gid,
                "groups": list(self.who.groups), "no_new_privs": self.who.no_new_privs,
                "read_only_root": self.who.read_only_root, "argv": self.argv, "env": self.env}

    def launch(self) -> Process:
        """Start one run of the container."""
        run = self.pod.root / "runs" / f"{self.name}-{self.restarts}"
        process = launch(self._plan(run), run / "plan.json", self.pod.netns, self.log)
        self.pod.event(self.name, f"started (PID 1 is host PID {process.pid1})")
        return process

    def run_to_completion(self) -> Exit:
        """Run the container once and wait for it to end (init containers)."""
        self.process = self.launch()
        done = self.process.wait()
        self.exits.append(done)
        self.pod.event(self.name, f"exited {done.code}")
        return done

    def start(self) -> None:
        """Start the container and watch it until the pod is deleted."""
        self._supervisor = threading.Thread(target=self._supervise, name=f"kubelet-{self.name}",
                                            daemon=True)
        self._supervisor.start()
        deadline = time.monotonic() + 60
        while self.process is None and time.monotonic() < deadline and self._supervisor.is_alive():
            time.sleep(0.01)
        if self.process is None:
            raise PodError(f"container {self.name!r} did not start; log: "
                           f"{self.log.read_text(errors='replace')[-2000:]}")

    def _supervise(self) -> None:
        """The supervisor thread: launch, probe, wait, restart per restartPolicy. Processes
        are started from this thread, so they die with it (their parent-death signal)."""
        policy = self.pod.spec.get("restartPolicy", "Always")
        backoff = 10.0
        while not self.pod.terminating:
            try:
                process = self.launch()
            except PodError as err:
                self.pod.event(self.name, str(err))
                return
            self.process, self.started, self.ready = process, False, False
            self._start_probes(process)
            done = process.wait()
            self.exits.append(done)
            self.ready = False
            self.pod.event(self.name, f"exited {done.code}")
            if self.pod.terminating or policy == "Never" or (policy == "OnFailure"
                                                              and done.code == 0):
                return
            if self.pod.stopping.wait(backoff * self.pod.time_scale):
                return
            backoff = min(backoff * 2, 300.0)
            self.restarts += 1

    # probes

    def _start_probes(self, process: Process) -> None:
        if "startupProbe" not in self.spec:
            self.started = True
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            if kind in self.spec:
                threading.Thread(target=self._probe_loop, args=(kind, process), daemon=True,
                                 name=f"kubelet-{self.name}-{kind}").start()
        if "readinessProbe" not in self.spec:
            threading.Thread(target=self._ready_when_started, args=(process,),
                             daemon=True).start()

    def _ready_when_started(self, process: Process) -> None:
        """Without a readiness probe, a container is Ready once started."""
        while not process.exited.is_set() and not self.pod.terminating:
            if self.started:
                self.ready = True
                self.pod.event(self.name, "ready (no readiness probe)")
                return
            process.exited.wait(0.05)

    def probe(self, probe: Json, process: Process) -> tuple[bool, str]:
        """Run one probe now: (success, what it saw)."""
        timeout = float(probe.get("timeoutSeconds", 1))
        if "httpGet" in probe:
            try:
                code = http_get(probe["httpGet"], self.spec, self.pod.info.ip, timeout)
            except (OSError, http.client.HTTPException) as err:
                return False, f"httpGet: {err}"
            return 200 <= code < 400, f"httpGet: {code}"
        if "tcpSocket" in probe:
            port = _port(probe["tcpSocket"]["port"], self.spec)
            opened = tcp_open(probe["tcpSocket"].get("host") or self.pod.info.ip, port, timeout)
            return opened, f"tcpSocket {port}: {'open' if opened else 'closed'}"
        if "exec" in probe:
            done = exec_in(process, self.who, self.env, probe["exec"]["command"], timeout)
            said = (done.stdout + done.stderr).strip().replace("\n", " | ")[-300:]
            return done.returncode == 0, f"exec: exit {done.returncode}: {said}"
        raise PodError(f"probe {sorted(probe)} is not supported here")

    def _probe_loop(self, kind: str, process: Process) -> None:
        """One probe's worker: a tick every periodSeconds, thresholds counted as the kubelet
        counts them; readiness and liveness wait for the startup probe."""
        probe = self.spec[kind]
        period = float(probe.get("periodSeconds", 10)) * self.pod.time_scale
        delay = float(probe.get("initialDelaySeconds", 0)) * self.pod.time_scale
        success_needed = int(probe.get("successThreshold", 1))
        failure_limit = int(probe.get("failureThreshold", 3))
        counter = ProbeCounter()
        started_at = time.monotonic()
        last = ""
        while not process.exited.is_set() and not self.pod.terminating:
            due = kind == "startupProbe" or self.started
            if due and time.monotonic() - started_at >= delay:
                ok, said = self.probe(probe, process)
                if process.exited.is_set() or self.pod.terminating:
                    return
                if said != last:
                    self.pod.event(self.name, f"{kind}: {said}")
                    last = said
                counter = (ProbeCounter(counter.successes + 1, 0) if ok
                           else ProbeCounter(0, counter.failures + 1))
                if self._apply(kind, counter, success_needed, failure_limit, process):
                    return
            process.exited.wait(period)

    def _apply(self, kind: str, counter: ProbeCounter, success_needed: int,
               failure_limit: int, process: Process) -> bool:
        """Act on a probe's counts; True when this probe's worker is done."""
        if kind == "startupProbe":
            if counter.successes >= 1:
                self.started = True
                self.pod.event(self.name, "started (startup probe passed)")
                return True
            if counter.failures >= failure_limit:
                self.pod.event(self.name, "startup probe failed: killing")
                self.stop(reason="startup probe failed")
                return True
        elif kind == "readinessProbe":
            ready = self.ready
            if counter.successes >= success_needed:
                ready = True
            elif counter.failures >= failure_limit:
                ready = False
            if ready != self.ready:
                self.ready = ready
                self.pod.event(self.name, "ready" if ready else "not ready")
        elif counter.failures >= failure_limit:
            self.pod.event(self.name, "liveness probe failed: killing")
            self.stop(reason="liveness probe failed")
            return True
        return False

    # stopping

    def _pre_stop(self, deadline: float) -> str:
        """Run lifecycle.preStop (exec, httpGet or sleep) within the grace period."""
        hook = (self.spec.get("lifecycle") or {}).get("preStop")
        process = self.process
        if not hook or process is None:
            return "none"
        remaining = max(0.0, deadline - time.monotonic())
        if "exec" in hook:
            done = exec_in(process, self.who, self.env, hook["exec"]["command"], remaining)
            return f"exec exit {done.returncode}"
        if "sleep" in hook:
            seconds = min(float(hook["sleep"]["seconds"]), remaining)
            process.exited.wait(seconds)
            return f"slept {seconds:g}s"
        if "httpGet" in hook:
            try:
                code = http_get(hook["httpGet"], self.spec, self.pod.info.ip, remaining)
            except (OSError, http.client.HTTPException) as err:
                return f"httpGet: {err}"
            return f"httpGet {code}"
        raise PodError(f"preStop {sorted(hook)} is not supported here")

    def stop(self, reason: str = "pod deleted", grace: float | None = None) -> Stopped:
        """The kubelet's stop: preStop, SIGTERM to PID 1, SIGKILL when the grace period
        (terminationGracePeriodSeconds, 30 by default) runs out; at least 2 s after SIGTERM
        when preStop took it all, as the kubelet allows."""
        process = self.process
        assert process is not None, "stop before start"
        self.ready = False
        if grace is None:
            grace = float(self.pod.spec.get("terminationGracePeriodSeconds", 30))
        began = time.monotonic()
        self.pod.event(self.name, f"stopping ({reason}): preStop")
        hook = self._pre_stop(began + grace)
        term = time.monotonic()
        self.pod.event(self.name, f"preStop done ({hook}): SIGTERM")
        process.signal(signal.SIGTERM)
        killed = not process.exited.wait(max(began + grace - term, 2.0))
        if killed:
            self.pod.event(self.name, "grace period over: SIGKILL")
            process.signal(signal.SIGKILL)
            process.exited.wait()
        assert process.exit is not None
        return Stopped(self.name, term - began, process.exit.at - term, process.exit.code,
                       killed, hook)

    def kill(self) -> None:
        """SIGKILL the container's PID 1 (its whole PID namespace goes with it)."""
        if self.process is not None and not self.process.exited.is_set():
            self.process.signal(signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                self.process.popen.kill()
            self.process.exited.wait(10)
        if self._supervisor is not None:
            self._supervisor.join(10)


# ---------------------------------------------------------------------------------------
# A pod


class Pod:
    """A pod template run on this node (see the module's docstring). Use as a context
    manager, or call `close`: every process and namespace goes, whatever happened."""

    def __init__(self, template: Json, *, name: str, network: Network, root: Path,
                 images: Mapping[str, Image], claims: Mapping[str, Path] | None = None,
                 objects: Sequence[Json] = (), namespace: str | None = None,
                 time_scale: float = 1.0) -> None:
        self.template, self.spec = template, template["spec"]
        self.network, self.images, self.claims = network, images, dict(claims or {})
        self.objects, self.time_scale = list(objects), time_scale
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.netns, ip = network.attach()
        labels = (template.get("metadata") or {}).get("labels") or {}
        self.info = PodInfo(name, namespace, ip, labels)
        # the kubelet-managed /etc/hosts: the pod's own name resolves without DNS
        self.hosts = root / "etc-hosts"
        self.hosts.write_text(f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n"
                              f"{ip}\t{name}\n")
        self.terminating = False
        self.stopping = threading.Event()
        self.created = time.monotonic()
        self.events: list[tuple[float, str, str]] = []
        self.init_containers: list[Container] = []
        self.containers: list[Container] = []

    def event(self, container: str, text: str) -> None:
        """Record what happened, with the seconds since the pod was created."""
        self.events.append((round(time.monotonic() - self.created, 2), container, text))

    def _container(self, spec: Json, volumes: Mapping[str, Volume]) -> Container:
        image = self.images.get(spec["image"])
        if image is None:
            raise PodError(f"no Image given for {spec['image']!r}")
        mounts = [*container_mounts(spec, volumes),
                  {"source": str(self.hosts), "target": "/etc/hosts", "read_only": False}]
        return Container(self, spec, image, env=container_env(spec, self.info, self.objects),
                         who=identity(self.spec, spec, image), mounts=mounts)

    def start(self) -> None:
        """Volumes, then init containers in order (each must exit 0), then the containers."""
        volumes = prepare_volumes(self.spec, self.info, self.root / "volumes", self.claims,
                                  self.objects)
        for spec in self.spec.get("initContainers") or []:
            if spec.get("restartPolicy") == "Always":
                raise PodError("sidecar init containers are not supported here")
            container = self._container(spec, volumes)
            self.init_containers.append(container)
            done = container.run_to_completion()
            if done.code != 0:
                raise PodError(f"init container {container.name!r} exited {done.code}: "
                               f"{container.log.read_text(errors='replace')[-2000:]}")
        self.containers = [self._container(spec, volumes) for spec in self.spec["containers"]]
        for container in self.containers:
            container.start()

    @property
    def ready(self) -> bool:
        """The pod's Ready condition: every container ready, and not terminating."""
        return (not self.terminating and bool(self.containers)
                and all(c.ready for c in self.containers))

    def wait_ready(self, timeout: float) -> float:
        """Wait until Ready; the seconds since the pod was created. PodError at `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready:
                return time.monotonic() - self.created
            time.sleep(0.1)
        raise PodError(f"pod {self.info.name} not Ready after {timeout:g}s: {self.events}")

    def container(self, name: str) -> Container:
        """The container called `name`."""
        for container in self.containers:
            if container.name == name:
                return container
        raise KeyError(name)

    def url(self, service: Json, port: str | int | None = None) -> str:
        """The address a Service's port sends traffic to on this pod (its targetPort on the
        pod IP); PodError unless the Service's selector selects the pod."""
        selector = (service.get("spec") or {}).get("selector") or {}
        if not selector or any(self.info.labels.get(k) != v for k, v in selector.items()):
            raise PodError(f"Service selector {selector} does not select the pod "
                           f"(labels {dict(self.info.labels)})")
        ports = service["spec"]["ports"]
        chosen = ports[0] if port is None else next(
            p for p in ports if port in (p.get("name"), p.get("port")))
        target = chosen.get("targetPort", chosen["port"])
        if isinstance(target, str) and not target.isdigit():
            for container in self.spec["containers"]:
                with contextlib.suppress(PodError):
                    return f"http://{self.info.ip}:{_port(target, container)}"
            raise PodError(f"no container of the pod has a port named {target!r}")
        return f"http://{self.info.ip}:{int(target)}"

    def exec(self, container: str, argv: Sequence[str],
             timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """`kubectl exec` into a running container."""
        target = self.container(container)
        assert target.process is not None
        return exec_in(target.process, target.who, target.env, argv, timeout)

    def listening(self) -> list[tuple[str, int]]:
        """The TCP sockets listening in the pod's network namespace."""
        for container in self.containers:
            if container.process is not None and not container.process.exited.is_set():
                return listening(container.process.pid1)
        return []

    def delete(self) -> list[Stopped]:
        """Delete the pod: Ready turns false at once, then every container stops in parallel
        (see `Container.stop`). Returns how each stopped."""
        self.terminating = True
        self.stopping.set()
        self.event("pod", "deleted")
        results: list[Stopped] = []
        running = [c for c in self.containers
                   if c.process is not None and not c.process.exited.is_set()]

        def stop(container: Container) -> None:
            results.append(container.stop())

        threads = [threading.Thread(target=stop, args=(c,)) for c in running]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    def close(self) -> None:
        """Kill whatever still runs and remove the pod's network namespace."""
        self.terminating = True
        self.stopping.set()
        for container in [*self.init_containers, *self.containers]:
            container.kill()
        self.network.detach(self.netns)

    def __enter__(self) -> Pod:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def running_pod(template: Json, **kwargs: Any) -> Iterator[Pod]:
    """A started Pod (see `Pod` for the arguments), closed on the way out."""
    pod = Pod(template, **kwargs)
    try:
        pod.start()
        yield pod
    finally:
        pod.close()


def wait_for(check: Callable[[], bool], timeout: float, step: float = 0.2) -> bool:
    """Poll `check` until it is true or `timeout` runs out; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()


if __name__ == "__main__":
    if sys.argv[1:2] == ["enter"] and len(sys.argv) == 3:
        enter(sys.argv[2])
    sys.exit("usage: kubelet.py enter PLAN")
