"""Write the image's `krmfn` command: the interpreter without `site`, the venv on its path.

A container starts krmfn once per function call (kpt, kustomize), so its start-up is the
function's latency: pip's console script runs the interpreter's `site` setup (paths,
`.pth` files) first. This one starts the interpreter with `-S` and puts the environment's
site-packages, found now, on the module path itself. Run with the environment's own
interpreter: `python containers/launcher.py /opt/krmfn/bin/krmfn`.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path


def main(target: str) -> int:
    """Replace `target` with the launcher; 0 when done."""
    site_packages = sysconfig.get_paths()["purelib"]
    path = Path(target)
    path.write_text(f"#!{sys.executable} -S\n"
                    "# krmfn, started without site (see containers/launcher.py).\n"
                    "import sys\n"
                    f"sys.path.append({site_packages!r})\n"
                    "from krmfn.cli import main\n"
                    "sys.exit(main())\n", encoding="utf-8")
    path.chmod(0o755)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
