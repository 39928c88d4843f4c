"""Hypothesis settings for the whole suite: reproducible in CI, deeper on request.

CI draws the same examples on every run (`derandomize`), so a red build is never luck and
is reproduced by re-running it. On a developer's machine examples are random, and
KRMFN_EXAMPLES_SCALE multiplies every property test's example count for a deep search, e.g.
`KRMFN_EXAMPLES_SCALE=40 pytest tests/test_emitter.py tests/test_properties.py`.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
