"""`python -m krmfn`: the same entry point as the `krmfn` command."""

from krmfn.cli import main

raise SystemExit(main())
