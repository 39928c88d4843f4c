"""What krmfn is measured against: a naive KRM function, and the floor of any YAML reader.

    python benchmarks/baseline.py roundtrip < list.yaml > out.yaml
    python benchmarks/baseline.py scan < list.yaml

``roundtrip`` is the fastest naive Python KRM function: load the whole ResourceList with
PyYAML's libyaml loader (CSafeLoader), dump it with libyaml's emitter (CSafeDumper, keys in
their order), with the cyclic garbage collector off as krmfn runs. It compiles nothing; a
function that did would only be slower.

``scan`` is the floor: a Python loop pulling every event of the input from libyaml's parser
(``yaml._yaml.CParser``), the first step of krmfn's own reading; it writes nothing.

Both read stdin as krmfn does (all of it, decoded from UTF-8). Only yaml is imported.
"""

from __future__ import annotations

import gc
import sys


def roundtrip() -> None:
    """Load stdin with CSafeLoader, dump it to stdout with CSafeDumper."""
    import yaml  # noqa: PLC0415 - each mode imports only what it runs

    data = yaml.load(sys.stdin.buffer.read().decode("utf-8"), Loader=yaml.CSafeLoader)
    yaml.dump(data, sys.stdout, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True)


def scan() -> None:
    """Pull every libyaml event of stdin."""
    from yaml import StreamEndEvent  # noqa: PLC0415
    from yaml._yaml import CParser  # noqa: PLC0415

    get = CParser(sys.stdin.buffer.read().decode("utf-8")).get_event
    while type(get()) is not StreamEndEvent:
        pass


MODES = {"roundtrip": roundtrip, "scan": scan}


def main(argv: list[str]) -> int:
    """Run the mode named in `argv` with the cyclic GC off; 2 on a usage error."""
    if len(argv) != 1 or argv[0] not in MODES:
        sys.stderr.write(f"usage: baseline.py {{{','.join(MODES)}}}\n")
        return 2
    gc.disable()
    MODES[argv[0]]()
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
