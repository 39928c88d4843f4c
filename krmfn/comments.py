"""Which comments of a YAML text a rewrite of it dropped: to report them, never lose them silently.

A comment is `#` at the start of a line or after a blank, to the end of the line. Text inside
a quoted string can look like one too, but then it does in the text before and after alike, and
the two cancel out: only what the rewrite dropped remains.
"""

from __future__ import annotations

import re
from collections import Counter

_COMMENT = re.compile(r"(?:^|(?<=[ \t]))#.*?(?=[ \t]*$)", re.MULTILINE)


def lost_comments(before: str, after: str) -> list[str]:
    """The comments of `before` that `after` does not have, in order of text."""
    lost = Counter(_COMMENT.findall(before)) - Counter(_COMMENT.findall(after))
    return sorted(lost.elements())
