"""The `krmfn` command: the only module that touches argv, stdin, stdout and the exit code.

    krmfn                 read a ResourceList on stdin, write it on stdout (kpt, kustomize)
    krmfn render PATH...  compile files, directories, kustomizations or - (stdin) into manifests
    krmfn discover [DIR]  print what makes DIR an app for krmfn (the Argo CD plugin's discovery)
    krmfn schema          print the JSON schema of SimpleMLService
    krmfn crd             print a CustomResourceDefinition for SimpleMLService

Exit codes: 0 done; 1 an error result, or input that is not a ResourceList (one line on
stderr); 2 a usage error.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from krmfn import __version__

if TYPE_CHECKING:
    import argparse

    from krmfn.results import Result

DESCRIPTION = """\
Compile TensorStack SimpleMLService resources (tensorstack.dev/v1beta1) into Kubernetes
Deployments and Services.

With no command, krmfn is a KRM function: it reads a ResourceList on stdin and writes it on
stdout, as kpt (fn eval / fn render) and kustomize (--enable-alpha-plugins) call it. Each
SimpleMLService among the items is kept, marked config.kubernetes.io/local-config, and its
Deployment and Service are added (or updated in place on later runs). The functionConfig is
either a SimpleMLService (generator mode), or options: a ConfigMap (kpt fn eval ... --
downloaderImage=IMAGE shutdownDelaySeconds=10) or a SimpleMLServiceOptions
(fn.krmfn.dev/v1alpha1). Problems are reported as results with the field they concern; any
error makes the exit code 1.
"""


def _parser() -> argparse.ArgumentParser:
    import argparse  # noqa: PLC0415 - the function itself takes no arguments

    parser = argparse.ArgumentParser(
        prog="krmfn", description=DESCRIPTION, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--version", action="version", version=f"krmfn {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="[command]")
    render = commands.add_parser(
        "render", help="compile files, directories, kustomizations or a stream into manifests",
        description="Read the YAML given (a file; a directory, searched for *.yaml and *.yml; "
        "a kustomization directory, built with kustomize first, krmfn's own functions in it "
        "run in-process; - for a stream on stdin), compile every SimpleMLService, and print "
        "the manifests to apply as one YAML stream, without local-config objects. This is the "
        "Argo CD plugin's generate command. Nothing to print is an error.")
    render.add_argument("paths", nargs="+", metavar="PATH")
    render.add_argument("--config", metavar="FILE",
                        help="a functionConfig (SimpleMLServiceOptions or ConfigMap) file")
    render.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="an option, e.g. --set shutdownDelaySeconds=10")
    render.add_argument("--env-prefix", metavar="PREFIX",
                        help="also take options from variables PREFIX<OPTION> (upper snake "
                        "case), e.g. ARGOCD_ENV_KRMFN_ for Argo CD's plugin env")
    render.add_argument("--kustomize", metavar="COMMAND",
                        help="how to build kustomizations (default: $KRMFN_KUSTOMIZE, else "
                        "`kustomize build` if kustomize is on PATH, else `kubectl kustomize`)")
    discover = commands.add_parser(
        "discover", help="Argo CD plugin discovery: print what makes DIR a krmfn app",
        description="Print the files that make DIR an application krmfn renders (a "
        "SimpleMLService among its YAML files, or reached through its kustomization), and "
        "nothing for any other directory; the exit code is 0 either way.")
    discover.add_argument("directory", nargs="?", default=".", metavar="DIR")
    commands.add_parser("schema", help="print the JSON schema of SimpleMLService")
    commands.add_parser("crd", help="print a CustomResourceDefinition for SimpleMLService")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    # A run builds acyclic trees that reference counting frees; the cyclic collector would
    # only rescan them, more often the larger the input (the peak memory is the same without).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _main(sys.argv[1:] if argv is None else list(argv))
    finally:
        if enabled:
            gc.enable()


def _main(argv: list[str]) -> int:
    if not argv:  # the KRM function itself: keep its start-up free of argparse
        return _function()
    args = _parser().parse_args(argv)
    if args.command == "schema":
        from krmfn.crd import json_schema_text  # noqa: PLC0415 - pydantic only when asked

        sys.stdout.write(json_schema_text())
        return 0
    if args.command == "crd":
        from krmfn.crd import crd_text  # noqa: PLC0415 - pydantic only when asked

        sys.stdout.write(crd_text())
        return 0
    if args.command == "discover":
        return _discover(args.directory)
    from krmfn.yamlscan import InputError  # noqa: PLC0415

    try:
        import os  # noqa: PLC0415

        from krmfn.render import from_environment, render  # noqa: PLC0415

        settings = [*from_environment(dict(os.environ), args.env_prefix), *args.set] \
            if args.env_prefix else args.set
        text, results = render(args.paths, args.config, settings, stdin=sys.stdin.buffer,
                               kustomize=args.kustomize)
    except (InputError, OSError) as err:
        sys.stderr.write(f"krmfn: {err}\n")
        return 1
    return _emit(text, results)


def _discover(directory: str) -> int:
    """Print what makes `directory` a krmfn app (nothing if it is not one); exit 0."""
    from pathlib import Path  # noqa: PLC0415

    from krmfn.discover import discover  # noqa: PLC0415
    from krmfn.yamlscan import InputError  # noqa: PLC0415

    try:
        found = discover(Path(directory))
    except (InputError, OSError) as err:
        # Unreadable YAML is for the render to report where users see it: not claimed here.
        sys.stderr.write(f"krmfn: {err}\n")
        return 0
    sys.stdout.write("".join(f"{path}\n" for path in found))
    return 0


def _function() -> int:
    """Read a ResourceList on stdin, write the result on stdout."""
    from krmfn.processor import Run, resource_list_chunks  # noqa: PLC0415
    from krmfn.resourcelist import MAX_INPUT_BYTES, Document  # noqa: PLC0415
    from krmfn.yamlscan import InputError  # noqa: PLC0415

    try:
        # One byte past the limit is enough to know the input is too large.
        doc = Document.read(sys.stdin.buffer.read(MAX_INPUT_BYTES + 1))
    except InputError as err:
        sys.stderr.write(f"krmfn: {err}\n")
        return 1
    run = Run(doc)
    return _emit(resource_list_chunks(doc, run), run.plan.results)


def _emit(text: Iterable[str], results: list[Result]) -> int:
    """Write the output (a string, or its pieces as they come) and the results; give the
    exit code."""
    sys.stdout.writelines([text] if isinstance(text, str) else text)
    sys.stdout.flush()
    for result in results:
        sys.stderr.write(f"krmfn: {result.line()}\n")
    return 1 if any(r.severity == "error" for r in results) else 0
