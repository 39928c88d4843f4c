"""kpt packages as teams grow them, run with the real kpt: nested subpackages, several
namespaces, renames, deletes, moves, hand edits and namespace changes.

Each case is a folder under `tests/kpt/`: `package/` is the tree the case starts from,
`files/` holds files that steps bring in, and `case.yaml` says what to do and what must hold.
It has a `description`, optionally `pipelines` (`all` or `root`: the Kptfiles that get a
pipeline running the function with `exec:`, for `kpt fn render`), optionally `xfail` (a
finding: the case expects the right behaviour and is marked `xfail(strict=True)` with this
reason), and `steps`, each with:

- `edit`: changes made by hand before the run, in order: `{replace: FILE, old: TEXT, new:
  TEXT}` (TEXT must occur exactly once, unless `count: all`), `{move: FILE, to: FILE}`,
  `{delete: FILE}`, `{copy: CASE-FILE, to: FILE}`, `{append: FILE, from: CASE-FILE}` (a new
  YAML document at the end), `{remove: FILE, object: ID}` (one YAML document taken out),
  `{set_namespace: [FILE, ...], namespace: NS}` (every object's `metadata.namespace` set, as
  kpt's set-namespace would).
- `run`: the command, or a list of commands run in turn: `eval DIR` (`kpt fn eval DIR --exec
  KRMFN`) or `render DIR` (`kpt fn render DIR --allow-exec`); `eval .` when left out.
- `agree`: other ways to run the same step, each from a copy of the package as the edits left
  it: `{runs: [COMMAND, ...], pipelines: all|root, within: DIR}`. Each must leave the package
  (or the subtree `within`, when given) byte-for-byte as the step's own run left it.
- `expect`: `tree` (every file but the Kptfiles, each with the objects it holds in order, as
  IDs `Kind namespace/name` or `Kind name`), `fields` (`{file, object: ID, path:
  spec.replicas, equals: VALUE}`), `contains` and `lacks` (file: texts), and `results` (every
  result the step's run reports, `{severity, message: TEXT-IN-IT, file}`; none when left
  out).

Every command is run twice and the second run must change no byte and report nothing. After
each run, no two items of the ResourceList the function returned share a file and index
(kpt would refuse to write them; under `kpt fn render` a file is a package's directory and a
path in it). After each step, every generated object must be, in text
and in place, what a fresh run writes for the package's SimpleMLServices once all generated
objects are taken out: hand edits do not last, edits of a SimpleMLService reach its outputs,
nothing stale is left and nothing lands elsewhere than beside its source.
"""

from __future__ import annotations

import difflib
import re
import shlex
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT, load, need, validate_object
from tests.tools import krmfn_exec, run

__all__ = ["krmfn_exec"]
pytestmark = pytest.mark.integration

CASES = ROOT / "tests" / "kpt"
SOURCE_ANNOTATION = "krmfn.dev/generated-from"
SLOT_ANNOTATIONS = (("config.kubernetes.io/path", "config.kubernetes.io/index"),
                    ("internal.config.kubernetes.io/path", "internal.config.kubernetes.io/index"))
# kpt fn render gives each item its package's directory, and a path within that package
PACKAGE_ANNOTATION = "internal.config.kubernetes.io/package-path"
SEPARATOR = re.compile(r"(?m)^---[ \t]*\n")
CASE_KEYS = {"description", "xfail", "pipelines", "steps"}
STEP_KEYS = {"name", "edit", "run", "agree", "expect"}
EXPECT_KEYS = {"tree", "fields", "contains", "lacks", "results"}
AGREE_KEYS = {"runs", "pipelines", "within"}

Snapshot = dict[str, bytes]


def _cases() -> Iterator[Any]:
    for folder in sorted(p for p in CASES.iterdir() if (p / "case.yaml").is_file()):
        case = yaml.safe_load((folder / "case.yaml").read_text())
        marks = []
        if case.get("xfail"):
            marks.append(pytest.mark.xfail(strict=True, reason=case["xfail"],
                                           raises=AssertionError))
        yield pytest.param(folder, id=folder.name, marks=marks)


@dataclass
class Kpt:
    """Runs kpt over packages with the function, recording what the function returned."""

    fn: Path  # the executable kpt runs: krmfn, recording each output ResourceList
    plain: Path  # krmfn itself
    records: Path
    scratch: Path

    def command(self, package: Path, command: str) -> list[dict[str, Any]]:
        """Run `command` twice on `package`; the first run's results."""
        verb, _, where = command.partition(" ")
        assert verb in {"eval", "render"}, f"unknown command {command!r}"
        first, _ = self._once(package, verb, where or ".")
        before = snapshot(package)
        second, again = self._once(package, verb, where or ".")
        differ = changed(before, snapshot(package))
        assert not differ, f"a second `{command}` changed {differ}\n{again}"
        assert second == [], f"a second `{command}` reported {second}"
        return first

    def _once(self, package: Path, verb: str, where: str) -> tuple[list[dict[str, Any]], str]:
        results = self.scratch_dir("results")
        target = package / where
        if verb == "eval":
            done = run("kpt", "fn", "eval", target, "--exec", self.fn, "--results-dir", results,
                       "--truncate-output=false")
        else:
            done = run("kpt", "fn", "render", target, "--allow-exec", "--results-dir", results,
                       "--truncate-output=false")
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"`kpt fn {verb} {where}` failed:\n{output}"
        self._check_slots(f"kpt fn {verb} {where}")
        report = load((results / "results.yaml").read_text())
        found = [r for item in report.get("items") or [] for r in item.get("results") or []]
        return found, output

    def _check_slots(self, what: str) -> None:
        recorded = sorted(self.records.iterdir())
        assert recorded, f"{what} did not run the function"
        for path in recorded:
            items = load(path.read_text())["items"]
            for path_key, index_key in SLOT_ANNOTATIONS:
                seen: dict[tuple[str, str, str], str] = {}
                for item in items:
                    notes = (item.get("metadata") or {}).get("annotations") or {}
                    if path_key in notes:
                        slot = (notes.get(PACKAGE_ANNOTATION, ""), notes[path_key],
                                notes.get(index_key, ""))
                        assert slot not in seen, (
                            f"{what}: {ident(item)} and {seen[slot]} share {slot}")
                        seen[slot] = ident(item)
            path.unlink()

    def scratch_dir(self, name: str) -> Path:
        """A new empty directory."""
        index = len(list(self.scratch.glob(f"{name}-*")))
        folder = self.scratch / f"{name}-{index}"
        folder.mkdir()
        return folder

    def fresh(self, package: Path) -> list[tuple[str, str, str]]:
        """The generated objects a fresh run writes for `package`'s SimpleMLServices."""
        copy = self.scratch_dir("fresh") / "pkg"
        shutil.copytree(package, copy)
        for path in yaml_files(copy):
            docs = split(path.read_text())
            kept = [d for d in docs if SOURCE_ANNOTATION not in notes_of(load(d))]
            if len(kept) == len(docs):
                continue
            if kept:
                path.write_text("---\n".join(kept))
            else:
                path.unlink()
        done = run("kpt", "fn", "eval", copy, "--exec", self.plain, "--truncate-output=false")
        assert done.returncode == 0, done.stdout + done.stderr
        return generated_docs(copy)


@pytest.fixture
def kpt(krmfn_exec: Path, tmp_path: Path) -> Kpt:
    """kpt with the function, recording each ResourceList the function returns."""
    records = tmp_path / "records"
    records.mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    fn = tmp_path / "krmfn-recorded"
    fn.write_text(
        "#!/bin/sh\n"
        f"out=$(mktemp {shlex.quote(str(records))}/out.XXXXXX) || exit 70\n"
        f'{shlex.quote(str(krmfn_exec))} "$@" >"$out"\n'
        "code=$?\n"
        'cat "$out"\n'
        'exit "$code"\n')
    fn.chmod(0o755)
    return Kpt(fn, krmfn_exec, records, scratch)


@pytest.mark.parametrize("folder", list(_cases()))
def test_layout(folder: Path, kpt: Kpt, tmp_path: Path) -> None:
    need("kpt")
    case = yaml.safe_load((folder / "case.yaml").read_text())
    assert set(case) <= CASE_KEYS, f"unknown keys {set(case) - CASE_KEYS}"
    package = tmp_path / "pkg"
    shutil.copytree(folder / "package", package)
    set_pipelines(package, case.get("pipelines"), kpt.fn)
    for number, step in enumerate(case["steps"], 1):
        name = f"step {number} ({step.get('name', '')})"
        assert set(step) <= STEP_KEYS, f"{name}: unknown keys {set(step) - STEP_KEYS}"
        for change in step.get("edit") or []:
            edit(package, folder, change)
        before = kpt.scratch_dir("before") / "pkg"
        shutil.copytree(package, before)
        commands = step.get("run", "eval .")
        results = []
        for command in [commands] if isinstance(commands, str) else commands:
            results += kpt.command(package, command)
        check(package, step.get("expect") or {}, results, name)
        after = snapshot(package)
        for other in step.get("agree") or []:
            agree(kpt, before, after, other, name)
        fresh = kpt.fresh(package)
        found = generated_docs(package)
        problem = difference(found, fresh)
        assert not problem, f"{name}: generated objects differ from a fresh run's: {problem}"
        for _, _, text in found:
            validate_object(load(text))


def agree(kpt: Kpt, before: Path, after: Snapshot, other: dict[str, Any], name: str) -> None:
    """Run `other`'s commands on a copy of `before`; they must leave what `after` holds."""
    assert set(other) <= AGREE_KEYS, f"{name}: unknown keys {set(other) - AGREE_KEYS}"
    copy = kpt.scratch_dir("agree") / "pkg"
    shutil.copytree(before, copy)
    set_pipelines(copy, other.get("pipelines"), kpt.fn)
    for command in other["runs"]:
        kpt.command(copy, command)
    within = other.get("within")
    differ = changed(without_kptfiles(after, within), without_kptfiles(snapshot(copy), within))
    assert not differ, f"{name}: {other['runs']} left {differ} otherwise than the step's run"


def check(package: Path, expect: dict[str, Any], results: list[dict[str, Any]],
          name: str) -> None:
    """Check the package on disk, and the run's results, against `expect`."""
    assert set(expect) <= EXPECT_KEYS, f"{name}: unknown keys {set(expect) - EXPECT_KEYS}"
    if "tree" in expect:
        tree = {str(p.relative_to(package)): [ident(o) for o in yaml.safe_load_all(p.read_text())
                                              if o is not None]
                for p in sorted(package.rglob("*")) if p.is_file() and p.name != "Kptfile"}
        assert tree == expect["tree"], f"{name}: the package holds\n{yaml.safe_dump(tree)}"
    for field in expect.get("fields") or []:
        objects = [o for o in yaml.safe_load_all((package / field["file"]).read_text())
                   if o is not None and ident(o) == field["object"]]
        assert len(objects) == 1, f"{name}: {field['file']} holds {len(objects)} {field['object']}"
        value = dig(objects[0], field["path"])
        assert value == field["equals"], (
            f"{name}: {field['object']} {field['path']} is {value!r}, not {field['equals']!r}")
    for file, texts in (expect.get("contains") or {}).items():
        text = (package / file).read_text()
        for wanted in texts:
            assert wanted in text, f"{name}: {file} lost {wanted!r}:\n{text}"
    for file, texts in (expect.get("lacks") or {}).items():
        text = (package / file).read_text()
        for unwanted in texts:
            assert unwanted not in text, f"{name}: {file} still has {unwanted!r}:\n{text}"
    check_results(expect.get("results") or [], results, name)


def check_results(expected: list[dict[str, str]], found: list[dict[str, Any]],
                  name: str) -> None:
    """Every expected result is reported, and nothing else."""
    left = list(found)
    for wanted in expected:
        match = next((r for r in left if r.get("severity") == wanted["severity"]
                      and wanted["message"] in r.get("message", "")
                      and (r.get("file") or {}).get("path") == wanted.get("file")), None)
        assert match is not None, f"{name}: no result like {wanted} among {found}"
        left.remove(match)
    assert not left, f"{name}: unexpected results {left}"


def edit(package: Path, folder: Path, change: dict[str, Any]) -> None:
    """Change the package by hand, as `change` says."""
    if "replace" in change:
        path = package / change["replace"]
        text = path.read_text()
        count = text.count(change["old"])
        assert count >= 1 and (count == 1 or change.get("count") == "all"), (
            f"{change['old']!r} occurs {count} times in {change['replace']}")
        path.write_text(text.replace(change["old"], change["new"]))
    elif "move" in change:
        target = package / change["to"]
        target.parent.mkdir(parents=True, exist_ok=True)
        (package / change["move"]).rename(target)
    elif "delete" in change:
        (package / change["delete"]).unlink()
    elif "copy" in change:
        target = package / change["to"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / change["copy"], target)
    elif "append" in change:
        path = package / change["append"]
        text = path.read_text()
        path.write_text(text + ("" if text.endswith("\n") else "\n") + "---\n"
                        + (folder / change["from"]).read_text())
    elif "remove" in change:
        path = package / change["remove"]
        docs = split(path.read_text())
        kept = [d for d in docs if ident(load(d)) != change["object"]]
        assert len(kept) == len(docs) - 1, f"{change['object']} is not once in {path}"
        path.write_text("---\n".join(kept))
    elif "set_namespace" in change:
        for file in change["set_namespace"]:
            path = package / file
            docs = [set_namespace(d, change["namespace"]) for d in split(path.read_text())]
            path.write_text("---\n".join(docs))
    else:
        raise AssertionError(f"unknown edit {change}")


def set_namespace(doc: str, namespace: str) -> str:
    """`doc` with `metadata.namespace` set (the line after `name:`, or where it was)."""
    lines = doc.splitlines(keepends=True)
    start = lines.index("metadata:\n")
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith((" ", "#"))),
               len(lines))
    block = lines[start + 1:end]
    at = next((i for i, line in enumerate(block) if line.startswith("  namespace:")), None)
    if at is None:
        at = next(i for i, line in enumerate(block) if line.startswith("  name:")) + 1
        block.insert(at, "")
    block[at] = f"  namespace: {namespace}\n"
    return "".join(lines[:start + 1] + block + lines[end:])


def set_pipelines(package: Path, which: str | None, fn: Path) -> None:
    """Give the root Kptfile (`root`) or every Kptfile (`all`) a pipeline running `fn`."""
    if which is None:
        return
    assert which in {"all", "root"}, f"pipelines must be all or root, not {which!r}"
    kptfiles = sorted(package.rglob("Kptfile")) if which == "all" else [package / "Kptfile"]
    for path in kptfiles:
        kptfile = load(path.read_text())
        kptfile["pipeline"] = {"mutators": [{"exec": str(fn)}]}
        path.write_text(yaml.safe_dump(kptfile, sort_keys=False))


def snapshot(package: Path) -> Snapshot:
    """Every file of the package, by its path in the package."""
    return {p.relative_to(package).as_posix(): p.read_bytes()
            for p in sorted(package.rglob("*")) if p.is_file()}


def without_kptfiles(files: Snapshot, within: str | None) -> Snapshot:
    """The files that are not Kptfiles (those under `within`, when given)."""
    prefix = f"{within.rstrip('/')}/" if within else ""
    return {k: v for k, v in files.items()
            if k.startswith(prefix) and k.rpartition("/")[2] != "Kptfile"}


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    """The files that differ between two snapshots."""
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def yaml_files(package: Path) -> list[Path]:
    """The package's YAML files, as kpt reads them."""
    return sorted(p for p in package.rglob("*") if p.suffix in {".yaml", ".yml"})


def split(text: str) -> list[str]:
    """The YAML documents of a file's text, each as written."""
    return [d for d in SEPARATOR.split(text) if d.strip()]


def generated_docs(package: Path) -> list[tuple[str, str, str]]:
    """Each generated object's ID, file and text, sorted."""
    found = []
    for path in yaml_files(package):
        for doc in split(path.read_text()):
            obj = load(doc)
            if SOURCE_ANNOTATION in notes_of(obj):
                found.append((ident(obj), path.relative_to(package).as_posix(), doc.strip()))
    return sorted(found)


def difference(found: list[tuple[str, str, str]], fresh: list[tuple[str, str, str]]) -> str:
    """What differs between the package's generated objects and a fresh run's."""
    mine, theirs = [d[:2] for d in found], [d[:2] for d in fresh]
    if mine != theirs:
        return f"the package has {mine},\na fresh run writes {theirs}"
    for (what, file, text), (_, _, wanted) in zip(found, fresh, strict=True):
        if text != wanted:
            lines = difflib.unified_diff(wanted.splitlines(), text.splitlines(), "fresh run",
                                         "package", lineterm="", n=1)
            return f"{what} in {file}:\n" + "\n".join(lines)
    return ""


def notes_of(obj: Any) -> dict[str, Any]:
    """An object's annotations."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    notes = meta.get("annotations") if isinstance(meta, dict) else None
    return notes if isinstance(notes, dict) else {}


def ident(obj: Any) -> str:
    """`Kind namespace/name`, or `Kind name` for an object without a namespace."""
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    return f"{obj.get('kind')} {namespace}/{meta.get('name')}" if namespace else \
        f"{obj.get('kind')} {meta.get('name')}"


def dig(obj: Any, path: str) -> Any:
    """The value at a field path such as `spec.template.spec.containers[0].image` (a dot
    inside a key written `\\.`)."""
    for part in re.findall(r"(?:\\.|[^.\[\]\\])+|\[\d+\]", path):
        obj = obj[int(part[1:-1])] if part.startswith("[") else obj[re.sub(r"\\(.)", r"\1", part)]
    return obj
