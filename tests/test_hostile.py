"""Hostile and broken input: every case ends in bounded time and memory with one clear line
on stderr, exit code 1, and no traceback. The command runs under a 1 GiB address-space
limit and a 60 s timeout, so a blow-up fails the test instead of the machine."""

from __future__ import annotations

import resource
import subprocess
import sys
import time

import pytest

HEADER = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"
LAUGHS = HEADER + "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: lol}\n" \
    "  data:\n    a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"    {chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n"
        for i in range(9))
DEEP = HEADER + "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: deep}\n" \
    "  data: " + "[" * 5000 + "]" * 5000 + "\n"
# Deep in block style: krmfn's own limit is met before any reader's.
DEEP_BLOCK = HEADER + "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: deep}\n" \
    "  data:\n" + "".join("  " * (i + 2) + "k:\n" for i in range(300)) + "  " * 302 + "v\n"
SML = ("- apiVersion: tensorstack.dev/v1beta1\n  kind: SimpleMLService\n  metadata:\n"
       "    name: ok\n  spec:\n    tensorflow:\n      image: a:1\n")


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def _run(data: bytes) -> tuple[int, str, float]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "krmfn"], input=data, capture_output=True,
                          timeout=60, preexec_fn=_limit, check=False)
    return proc.returncode, proc.stderr.decode(errors="replace"), time.perf_counter() - start


BIG = {"270 MB": lambda: HEADER.encode() + b"items:\n" + b"- {kind: ConfigMap}\n" * 14_200_000}
CASES = {
    "billion laughs": (LAUGHS.encode(), "alias"),
    "deep nesting": (DEEP.encode(), "nested deeper than"),
    "deep block nesting": (DEEP_BLOCK.encode(), "nested deeper than"),
    "270 MB": (b"", "bytes"),  # made when run (see BIG), not held for the whole suite
    "NUL byte": (HEADER.encode() + b"items: []\n\x00\n", "NUL"),
    "invalid UTF-8": (HEADER.encode() + b"items:\n- {name: \xff\xfe}\n", "UTF-8"),
    "duplicate keys": (HEADER.encode() + b"items:\n- kind: A\n  kind: B\n", "duplicate key"),
    "duplicate top-level keys": (HEADER.encode() + b"items: []\nitems: []\n", "duplicate key"),
    "several documents": (HEADER.encode() + b"items: []\n---\n" + HEADER.encode(),
                          "several YAML documents"),
    "empty stdin": (b"", "empty"),
    "only a comment": (b"# nothing here\n", "empty"),
    "not YAML": (b"kind: ResourceList\nitems: a: b\n", "not valid YAML"),
    "unclosed flow": (HEADER.encode() + b"items: [{kind: A}\n", "not valid YAML"),
    "a list": (b"- a\n- b\n", "expected a YAML mapping"),
    "a scalar": (b"hello\n", "expected a YAML mapping"),
    "wrong kind": (b"apiVersion: v1\nkind: List\nitems: []\n", "not a ResourceList"),
    "items not a list": (HEADER.encode() + b"items: 3\n", "items is not a list"),
    "items a mapping": (HEADER.encode() + b"items:\n  a: {kind: ConfigMap}\n",
                        "items is not a list"),
    "items a mapping, generator mode": (
        HEADER.encode() + b"items: {}\nfunctionConfig:\n  apiVersion: tensorstack.dev/v1beta1\n"
        b"  kind: SimpleMLService\n  metadata: {name: g}\n  spec: {tensorflow: {image: a}}\n",
        "items is not a list"),
    "item not a mapping": (HEADER.encode() + b"items:\n- just a string\n", "items[0]"),
    "tab indentation": (HEADER.encode() + b"items:\n\t- a\n", "not valid YAML"),
    "unknown alias": (HEADER.encode() + b"items:\n- *nothing\n", "unknown alias"),
    "control character": (HEADER.encode() + b'items:\n- {kind: "\x07"}\n',
                          "#x0007: control characters are not allowed at line 4, column 11"),
    "anchored items another node uses": (
        HEADER.encode() + b"items: &none []\nfunctionConfig:\n  apiVersion: v1\n"
        b"  kind: ConfigMap\n  metadata: {name: c}\n  data: {a: *none}\n",
        "items is a YAML anchor"),
    "one key to YAML 1.2 only, flow style": (
        b'{apiVersion: config.kubernetes.io/v1, kind: ResourceList, items: [{kind: A, '
        b"'on': a, on: b}]}\n", "two keys that YAML 1.2 reads as one"),
}


@pytest.mark.parametrize("name", CASES)
def test_hostile_input(name: str) -> None:
    data, expected = CASES[name]
    if name in BIG:
        data = BIG[name]()
    code, stderr, _seconds = _run(data)
    assert code == 1, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("krmfn: "), stderr
    assert expected in lines[0], lines[0]


def test_functionconfig_of_an_unknown_kind() -> None:
    data = (HEADER + "items:\n" + SML +
            "functionConfig:\n  apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: x\n")
    code, stderr, _ = _run(data.encode())
    assert code == 1 and "Traceback" not in stderr
    assert stderr.count("\n") == 1 and "functionConfig of kind 'Namespace'" in stderr


def test_harmless_aliases_pass() -> None:
    data = HEADER + ("items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n"
                     "  data: &shared {x: '1'}\n- apiVersion: v1\n  kind: ConfigMap\n"
                     "  metadata: {name: b}\n  data: *shared\n")
    proc = subprocess.run([sys.executable, "-m", "krmfn"], input=data.encode(),
                          capture_output=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == data
