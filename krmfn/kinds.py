"""Which items are SimpleMLServices, including the ones whose apiVersion or kind is misspelt.

An item that is almost a SimpleMLService (`tensorstak.dev/v1beta1`, `kind: SimpleMLSevice`)
must not pass through as a manifest to apply, where the API server would refuse it or, worse,
a cluster without the CRD would never hear of it: it is taken as a source, and validation
reports the misspelt field. Close means: the kind itself, whatever the apiVersion; or a kind
within a letter or two of it under an apiVersion of the tensorstack.dev group (or a close
misspelling of that group, or none at all).
"""

from __future__ import annotations

from functools import cache

from krmfn.constants import API_VERSION, KIND

GROUP = API_VERSION.partition("/")[0]
_KIND = KIND.lower()


def _close(word: str, target: str, cutoff: float) -> bool:
    if abs(len(word) - len(target)) > 4:
        return False
    import difflib  # noqa: PLC0415 - only items of an unknown kind pay for it

    return difflib.SequenceMatcher(None, word.lower(), target).ratio() >= cutoff


@cache
def is_candidate(api_version: str | None, kind: str | None) -> bool:
    """True for an item to be read and checked as a SimpleMLService."""
    if not isinstance(kind, str):
        return False
    if kind == KIND:
        return True
    if kind.endswith("List"):  # a list of SimpleMLServices is not one
        return False
    if kind.lower() != _KIND and not _close(kind, _KIND, 0.85):
        return False
    if not isinstance(api_version, str):
        return True
    group = api_version.partition("/")[0]
    return group == GROUP or _close(group, GROUP, 0.85)
