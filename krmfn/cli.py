"""The `krmfn` command: the only module that touches argv, stdin, stdout and the exit code.

    krmfn                 read a ResourceList on stdin, write it on stdout (kpt, kustomize)
    krmfn render PATH...  compile the YAML files or directories given, print plain manifests
    krmfn schema          print the JSON schema of SimpleMLService
    krmfn crd             print a CustomResourceDefinition for SimpleMLService

Exit codes: 0 done; 1 an error result, or input that is not a ResourceList (one line on
stderr); 2 a usage error.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from krmfn import __version__

if TYPE_CHECKING:
    import argparse

    from krmfn.processor import Output

DESCRIPTION = """\
Compile TensorStack SimpleMLService resources (tensorstack.dev/v1beta1) into Kubernetes
Deployments and Services.

With no command, krmfn is a KRM function: it reads a ResourceList on stdin and writes it on
stdout, as kpt (fn eval / fn render) and kustomize (--enable-alpha-plugins) call it. Each
SimpleMLService among the items is kept, marked config.kubernetes.io/local-config, and its
Deployment and Service are added (or updated in place on later runs). The functionConfig is
either a SimpleMLService (generator mode), or options: a ConfigMap (kpt fn eval ... --
downloaderImage=IMAGE pytorchExtraArgs=--disable-token-auth) or a SimpleMLServiceOptions
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
        "render", help="compile YAML files or directories and print plain manifests",
        description="Read the YAML files given (directories are searched for *.yaml and "
        "*.yml), compile every SimpleMLService, and print the resulting manifests as one YAML "
        "stream, without local-config objects. This is the Argo CD plugin's generate command.")
    render.add_argument("paths", nargs="+", metavar="PATH")
    render.add_argument("--config", metavar="FILE",
                        help="a functionConfig (SimpleMLServiceOptions or ConfigMap) file")
    render.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="an option, e.g. --set pytorchExtraArgs=--disable-token-auth")
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
    from krmfn.yamlscan import InputError  # noqa: PLC0415

    try:
        from krmfn.render import render  # noqa: PLC0415

        output = render(args.paths, args.config, args.set)
    except (InputError, OSError) as err:
        sys.stderr.write(f"krmfn: {err}\n")
        return 1
    return _emit(output)


def _function() -> int:
    """Read a ResourceList on stdin, write the result on stdout."""
    from krmfn.processor import process  # noqa: PLC0415
    from krmfn.resourcelist import MAX_INPUT_BYTES, Document  # noqa: PLC0415
    from krmfn.yamlscan import InputError  # noqa: PLC0415

    try:
        # One byte past the limit is enough to know the input is too large.
        output = process(Document.read(sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)))
    except InputError as err:
        sys.stderr.write(f"krmfn: {err}\n")
        return 1
    return _emit(output)


def _emit(output: Output) -> int:
    """Write the output and its results; give the exit code."""
    sys.stdout.write(output.text)
    sys.stdout.flush()
    for result in output.results:
        sys.stderr.write(f"krmfn: {result.line()}\n")
    return 1 if output.failed else 0
