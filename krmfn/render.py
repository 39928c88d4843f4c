"""`krmfn render`: compile files, directories, kustomizations or a stream into manifests.

This is the way in for tools that are not KRM orchestrators: the Argo CD plugin's generate
command, `helm template ... | krmfn render -`, and users without kpt. Whatever is given is
read by the same reader as the function's stdin (`krmfn.sources`: one ResourceList text, the
same limits and checks; a kustomization directory is built with kustomize first, krmfn's own
function configs in it run in-process), run through the same processor, and printed as one
YAML stream of what should be applied: no SimpleMLServices or other local-config objects, no
options objects. Every object krmfn did not change is printed as the very text of its
document, comments and the user's own annotations included.

Options come from SimpleMLServiceOptions objects among the files, a `--config` file (a
SimpleMLServiceOptions or a ConfigMap, checked as a functionConfig is), and `--set
key=value` pairs, later ones winning. A render that finds nothing to print is an error: an
empty success is how Argo CD would delete an application.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, BinaryIO

from krmfn.constants import OPTIONS_API_VERSION, OPTIONS_KIND
from krmfn.finalbreak import with_final_break
from krmfn.kinds import is_candidate
from krmfn.loader import LoadError
from krmfn.options import configmap_fields
from krmfn.processor import LOCAL_CONFIG, Plan, process, unreadable
from krmfn.resourcelist import Document
from krmfn.results import Result
from krmfn.sources import Origin, Source, read
from krmfn.yamlscan import Item

BUILT = "kustomize build "  # how krmfn.sources names the documents of a build


def render(paths: Sequence[str], config: str | None = None,
           settings: Sequence[str] = (), *, stdin: BinaryIO | None = None,
           kustomize: str | None = None) -> tuple[str, list[Result]]:
    """Compile what `paths` name; give the YAML stream to apply and the run's results.

    Raises InputError (one line, naming the file) when the input cannot be read at all.
    """
    results: list[Result] = []
    source = read(paths, stdin=stdin, kustomize=kustomize,
                  warn=lambda line: results.append(_forwarded(line)))
    doc = source.document()
    fields = _options_in(doc, source, results)
    if config:
        fields.update(_options_file(config, results))
    fields.update(_settings(settings, results))
    function_config = {"apiVersion": OPTIONS_API_VERSION, "kind": OPTIONS_KIND, **fields} \
        if fields else None
    files = [None if origin.file.startswith(BUILT) else {"path": origin.file,
                                                         "index": origin.index}
             for origin in source.origins]
    plan = process(doc, files, function_config, stream=True)
    plan.results[:0] = results
    text = stream(doc, plan, source.origins)
    if not text and not plan.failed:
        shown = " ".join(paths)
        plan.results.append(Result(
            f"{shown} holds nothing to apply: no object other than SimpleMLServices, "
            "options and local-config ones (an empty render would make Argo CD delete "
            "everything the application has)"))
    return text, plan.results


def stream(doc: Document, plan: Plan, origins: Sequence[Origin]) -> str:
    """The objects to apply, as one YAML stream, each document as it is or as krmfn made it;
    a SimpleMLService's outputs where it was."""
    out: list[str] = []
    for item in doc.items:
        index = item.index
        if not (index in plan.removed or index in plan.local or is_candidate(
                item.api_version, item.kind) or item.kind == OPTIONS_KIND or
                item.annotations.get(LOCAL_CONFIG) == "true"):
            text = plan.replaced.get(index)
            if text is None:
                text = origins[index].text if index < len(origins) else doc.unindented(item)
            out.append(with_final_break(text) or text + "\n")
        out.extend(plan.after.get(index, ()))
    out.extend(plan.new)
    return "".join(f"---\n{text}" for text in out)


def _forwarded(line: str) -> Result:
    """A line kustomize wrote on stderr (krmfn's own results among them) as a result."""
    text = line.removeprefix("krmfn: ")
    severity, sep, rest = text.partition(": ")
    if sep and severity in ("warning", "info"):
        return Result(rest, severity)
    return Result(text, "warning")


def _strip(data: Any) -> dict[str, Any]:
    """An options object's fields, without its identity."""
    return {k: v for k, v in data.items() if k not in ("apiVersion", "kind", "metadata")}


def _options_in(doc: Document, source: Source, results: list[Result]) -> dict[str, Any]:
    """The fields of the SimpleMLServiceOptions objects among the documents, in order."""
    fields: dict[str, Any] = {}
    for item in doc.items:
        if item.kind == OPTIONS_KIND:
            fields.update(_fields(doc, item, source.origins[item.index], results))
    return fields


def _options_file(config: str, results: list[Result]) -> dict[str, Any]:
    """The option fields of a `--config` file: SimpleMLServiceOptions or ConfigMaps."""
    source = read([config], build=False)
    doc = source.document()
    fields: dict[str, Any] = {}
    for item in doc.items:
        fields.update(_fields(doc, item, source.origins[item.index], results, config))
    return fields


def _fields(doc: Document, item: Item, origin: Origin, results: list[Result],
            config: str | None = None) -> dict[str, Any]:
    """The option fields of one document: a SimpleMLServiceOptions, or a ConfigMap in the
    `config` file. A value that cannot be built is an error at its field; the rest count."""
    where = Result("", file={"path": origin.file, "index": origin.index})
    taken: set[str] = set()
    try:
        data = doc.load(item)
    except LoadError:
        data, problems = doc.leniently(item)
        errors = unreadable(problems, where, "these options")
        results.extend(errors)
        taken = {str(error.field_path) for error in errors}
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == OPTIONS_KIND:
        return _strip(data) if isinstance(data, dict) else {}
    if kind == "ConfigMap" and config is not None and isinstance(data, dict):
        found, refused = configmap_fields(data.get("data"))
        results.extend(where.about(message, path) for message, path in (
            (message, f"data.{key}" if key else "data") for key, message in refused)
            if path not in taken)
        return found
    if config is not None:
        results.append(where.about(f"expected a {OPTIONS_KIND} ({OPTIONS_API_VERSION}) or a "
                                   f"ConfigMap in {config}, found {kind!r}", "kind"))
    return {}


def from_environment(environ: dict[str, str], prefix: str) -> list[str]:
    """`key=value` settings from variables named `<prefix><OPTION_IN_UPPER_SNAKE_CASE>`.

    Argo CD hands an Application's plugin env to the plugin as `ARGOCD_ENV_<NAME>`: with the
    prefix `ARGOCD_ENV_KRMFN_`, `KRMFN_DOWNLOADER_IMAGE` sets `downloaderImage`.
    """
    found = []
    for name, value in sorted(environ.items()):
        if name.startswith(prefix) and name != prefix:
            first, *rest = name[len(prefix):].lower().split("_")
            found.append(first + "".join(word.capitalize() for word in rest) + "=" + value)
    return found


def _settings(settings: Sequence[str], results: list[Result]) -> dict[str, Any]:
    """The option fields of `--set key=value` pairs."""
    pairs: dict[str, str] = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep:
            results.append(Result(f"expected --set KEY=VALUE, found {setting!r}",
                                  field_path=f"--set {key}"))
            continue
        pairs[key] = value
    found, problems = configmap_fields(pairs)
    results.extend(Result(message, field_path=f"--set {key}") for key, message in problems)
    return found
