"""One reader for every way in: files, directories, stdin and kustomize builds as one ResourceList.

`krmfn render` takes YAML files, plain directories (their `*.yaml` and `*.yml` files, sorted,
hidden directories and orchestrator files skipped), a YAML stream on stdin (`-`, e.g. from
`helm template`), and kustomization directories (built by `krmfn.kustomize`). `read` turns all
of them into ONE ResourceList text whose items are the documents' own text, each re-indented
under `- ` and otherwise untouched, so that `krmfn.resourcelist.Document` reads it exactly as
it reads the function's stdin: the same size limit (over all bytes read), the same checks on
depth, aliases and duplicate keys, and every comment and quote of every document kept.

`Source` holds that text and, for each item, its `Origin`: the file as shown to the user,
the document's index in the file, the line where its text starts, and the text itself.
`Source.locate` rewrites a reader's error so that it names the file, the document and the
file's own line; `Source.document` builds the Document, errors located.

How a stream is split (YAML 1.2, section 9, as libyaml reads it): a document marker is `---`
or `...` at the start of a line followed by a blank or a line break; nowhere else, so a
`---` inside a block scalar or a quoted string never splits. Line breaks are the ones libyaml
knows (LF, CR LF, CR, NEL, LS, PS): re-indenting after each of them keeps every scalar's
value. Text after `---` on its line starts the document; directives (`%YAML`) before a `---`
are dropped, `%TAG` is refused (its handles would not reach into a ResourceList); documents
that are empty or only comments (Helm writes them) are skipped but keep their index; a UTF-8
BOM at the start of a file is dropped. A document may not use an alias whose anchor is in
another document (YAML anchors end with their document).

One change of bytes: a document that ends without a line feed gets one, in a way that keeps
every value (see `krmfn.finalbreak`).
"""

from __future__ import annotations

import bisect
import os
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import BinaryIO

from krmfn.finalbreak import with_final_break
from krmfn.loader import BREAK, line_breaks
from krmfn.resourcelist import MAX_INPUT_BYTES, Document
from krmfn.yamlscan import InputError, scan

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SKIPPED_FILES = frozenset({"Kptfile", "plugin.yaml", *KUSTOMIZATION_FILES})
STDIN = "<stdin>"
HEADER = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
FIRST_ITEM_LINE = 4  # the line of the first item's "- " in the ResourceList text

_LINE_START = r"(?:\A|(?<=[\r\n\x85\u2028\u2029]))"
_MARKER = re.compile(_LINE_START + r"(---|\.\.\.)(?=[ \t\r\n\x85\u2028\u2029]|\Z)")
_CONTENT = re.compile(_LINE_START + r"[ \t]*([^ \t#\r\n\x85\u2028\u2029])")
_INDENT = re.compile(r"(?>\r\n|[\r\n\x85\u2028\u2029])(?!\Z)")
_UNINDENT = re.compile(r"((?>\r\n|[\r\n\x85\u2028\u2029]))  ")
_LINE_REF = re.compile(r"\bline (\d+)(?:, column (\d+))?")
_SUBJECT = re.compile(r"\A(?:input|items\[\d+\]) ")


@dataclass(frozen=True, slots=True)
class Origin:
    """Where one item came from: file as shown, document index, first line and column, text."""

    file: str
    index: int
    line: int  # 1-based line of the file where `text` starts
    column: int  # 0-based column of that line where `text` starts (after `--- `)
    text: str


def indent(text: str) -> str:
    """`text` as the content of a block sequence entry: two blanks after every line break."""
    return _INDENT.sub(lambda m: m[0] + "  ", text)


def unindent(entry: str) -> str:
    """The inverse of `"- " + indent(text)`; ValueError when `entry` is not such an entry."""
    if not entry.startswith("- "):
        raise ValueError("not a block sequence entry")
    body = entry[2:]
    lines = len(_INDENT.findall(body))
    text, count = _UNINDENT.subn(lambda m: m[1], body)
    if count != lines:
        raise ValueError("a line of the entry is not indented by two blanks")
    return text


def split(text: str, file: str) -> list[Origin]:
    """The documents of a YAML stream that hold content; raise InputError for bad markers."""
    found: list[Origin] = []
    index = 0
    pos, line, column = 0, 1, 0
    opened = False  # the text at `pos` follows a `---`
    directive: int | None = None  # the line of a directive still waiting for its `---`
    markers = list(_MARKER.finditer(text))
    for number in range(len(markers) + 1):
        marker = markers[number] if number < len(markers) else None
        segment = text[pos:marker.start() if marker else len(text)]
        starts = opened
        if not opened:
            directive, starts = _prefix(segment, file, line, directive)
        if starts:
            if _CONTENT.search(segment) is not None:
                found.append(Origin(file, index, line, column, segment))
            index += 1
        if marker is None:
            break
        line += line_breaks(segment)
        after = marker.end()
        brk = BREAK.search(text, after)
        rest = text[after:brk.start() if brk else len(text)]
        content = rest.lstrip(" \t")
        if marker[1] == "---" and content:
            directive, opened = None, True
            pos = after + len(rest) - len(content)
            column = pos - marker.start()
            continue
        if marker[1] == "...":
            if content and not content.startswith("#"):
                raise InputError(f"{file}: line {line}: only a comment may follow '...' on "
                                 "its line")
            if directive is not None:
                raise _no_start(file, directive)
        # The document (after `---`) or the text that may start one (after `...`) begins
        # on the next line.
        opened, directive = marker[1] == "---", None
        pos, line, column = (brk.end() if brk else len(text)), line + 1, 0
    if directive is not None:
        raise _no_start(file, directive)
    return found


def _prefix(segment: str, file: str, line: int, directive: int | None
            ) -> tuple[int | None, bool]:
    """Read text where a document may start: (a directive's line, whether a document starts)."""
    first = _CONTENT.search(segment)
    while first is not None and first[1] == "%" and first.start(1) == first.start():
        directive = line + line_breaks(segment[:first.start()])
        if segment.startswith("%TAG", first.start(1)):
            raise InputError(f"{file}: line {directive}: %TAG directives are not supported "
                             "(their tag handles would not reach into a ResourceList)")
        first = _CONTENT.search(segment, first.end())
    if first is not None and directive is not None:
        raise _no_start(file, directive)
    return directive, first is not None


def _no_start(file: str, line: int) -> InputError:
    return InputError(f"{file}: line {line}: a directive must be followed by a '---' line")


class Source:
    """The ResourceList text of many documents, and where each of its items came from."""

    def __init__(self, origins: Sequence[Origin]) -> None:
        self.origins: tuple[Origin, ...] = tuple(origins)
        parts = [HEADER if self.origins else HEADER.replace("items:\n", "items: []\n")]
        self.starts: list[int] = []  # the line of each item's "- " in `text`
        line = FIRST_ITEM_LINE
        for origin in self.origins:
            body = _with_final_break(origin)
            self.starts.append(line)
            parts.append("- " + indent(body))
            line += line_breaks(body)
        self.end_line = line
        self.text = "".join(parts)

    def item_at(self, line: int, at_end: bool = False) -> int | None:
        """The index of the item whose text holds `line` (1-based) of `text`, if any.

        With `at_end`, a line past the last item (where a reader finds the end of the
        stream) is the last item's.
        """
        index = bisect.bisect_right(self.starts, line) - 1
        return index if index >= 0 and (line < self.end_line or at_end) else None

    def where(self, line: int) -> tuple[str, int] | None:
        """The file and its line (1-based) for `line` of `text`; None for the header."""
        index = self.item_at(line)
        if index is None:
            return None
        origin = self.origins[index]
        return origin.file, origin.line + line - self.starts[index]

    def locate(self, err: InputError) -> InputError:
        """`err` (a reader's error about `text`) naming the file, document and file lines."""
        message = str(err)
        first = _LINE_REF.search(message)
        index = self.item_at(int(first[1]), at_end=True) if first else None
        if index is None:
            return err
        origin = self.origins[index]
        message = _LINE_REF.sub(self._file_position, message)
        subject = f"{origin.file}: document {origin.index}"
        if _SUBJECT.match(message):
            return InputError(f"{subject} {_SUBJECT.sub('', message)}")
        return InputError(f"{subject}: {message}")

    def _file_position(self, match: re.Match[str]) -> str:
        line = int(match[1])
        index = self.item_at(line, at_end=True)
        if index is None:
            return match[0]
        origin = self.origins[index]
        offset = line - self.starts[index]
        where = f"line {origin.line + offset}"
        if match[2] is not None:
            column = int(match[2]) - 2 + (origin.column if offset == 0 else 0)
            where += f", column {max(column, 1)}"
        return where

    def document(self) -> Document:
        """The ResourceList, read as the function reads stdin; InputError names the file."""
        try:
            document = Document(self.text)
        except InputError as err:
            document = self._repaired(err)
        items = document.items
        if len(items) != len(self.origins) or any(
                self.item_at(item.line + 1) != item.index for item in items):
            raise self._culprit(range(len(self.origins)), None)
        borrowing = [item.index for item in items if item.borrows]
        if borrowing:
            found = self._culprit(borrowing, borrowing[0])
            raise InputError(f"{found} (an anchor ends with its YAML document)")
        return document

    def _repaired(self, err: InputError) -> Document:
        """The Document when `Document.parse`'s repairs (JSON's surrogate pairs) let it be read."""
        if "\\u" in self.text:
            try:
                return Document.parse(self.text)
            except InputError:
                pass
        raise self._explain(err) from None

    def _explain(self, err: InputError) -> InputError:
        """A reader's error, found again in the one document that causes it, when it can be."""
        first = _LINE_REF.search(str(err))
        index = self.item_at(int(first[1])) if first else None
        near = [] if index is None else [i for i in (index - 1, index) if i >= 0]
        # An unclosed quote or bracket can run on into later documents: then look at all.
        rest = [i for i in range(len(self.origins)) if i not in near]
        return self._culprit(near + rest, index, err)

    def _culprit(self, candidates: Sequence[int] | range, fallback: int | None,
                 err: InputError | None = None) -> InputError:
        """The error of the first of `candidates` that a reader refuses on its own."""
        for index in candidates:
            alone = Source([self.origins[index]])
            try:
                scan(alone.text)
            except InputError as found:
                return alone.locate(found)
        if err is not None:
            return self.locate(err)
        origin = self.origins[fallback if fallback is not None else 0]
        return InputError(f"{origin.file}: document {origin.index} cannot be read beside the "
                          "documents around it (an alias to another document?)")


def _with_final_break(origin: Origin) -> str:
    """The document's text ending with a line feed, every scalar's value kept."""
    fixed = with_final_break(origin.text)
    if fixed is None:
        raise InputError(f"{origin.file}: document {origin.index} ends without a line break "
                         "in a way that adding one would change; add a line break at its end")
    return fixed


class Budget:
    """The bytes that one run may still read: `MAX_INPUT_BYTES` over every file it reads."""

    def __init__(self, limit: int = MAX_INPUT_BYTES) -> None:
        self.limit = limit
        self.left = limit

    def spend(self, size: int, shown: str) -> None:
        """Count `size` bytes read from `shown`; InputError past the limit."""
        if size > self.left:
            raise InputError(f"input is more than {self.limit} bytes, the limit (reached "
                             f"reading {shown})")
        self.left -= size


def decode(data: bytes, shown: str) -> str:
    """`data` as text: UTF-8, no NUL, the BOM dropped; InputError naming `shown` otherwise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise InputError(f"{shown} is not UTF-8: byte 0x{data[err.start]:02x} at offset "
                         f"{err.start} (line {line})") from None
    return checked(text, shown)


def checked(text: str, shown: str) -> str:
    """`text` without its BOM; InputError naming `shown` when it holds a NUL character."""
    if "\x00" in text:
        at = text.index("\x00")
        raise InputError(f"{shown} holds a NUL character at line {line_breaks(text[:at]) + 1}")
    return text.removeprefix("\ufeff")


def read_file(path: Path, shown: str, budget: Budget) -> str:
    """A regular file's text, within `budget`; InputError naming `shown` otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise InputError(f"{shown}: cannot read it: {err.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError(f"{shown} is not a regular file")
        data = handle.read(budget.left + 1)
    budget.spend(len(data), shown)
    return decode(data, shown)


def files(root: Path) -> list[tuple[Path, str]]:
    """The YAML files under directory `root` (sorted; hidden directories, orchestrator files
    and kustomization files skipped), each with its path relative to `root`."""
    found: list[tuple[Path, str]] = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith((".yaml", ".yml")) and name not in SKIPPED_FILES:
                path = Path(directory) / name
                found.append((path, path.relative_to(root).as_posix()))
    return found


def kustomization(directory: Path) -> Path | None:
    """The kustomization file of `directory`, when it is a kustomization."""
    for name in KUSTOMIZATION_FILES:
        path = directory / name
        if path.is_file():
            return path
    return None


def stream(text: str, shown: str, budget: Budget | None = None) -> Source:
    """A YAML stream given as text (a kustomize build, an inline config) as a Source."""
    if budget is not None:
        budget.spend(len(text.encode("utf-8")), shown)
    return Source(split(checked(text, shown), shown))


def read(paths: Sequence[str], *, stdin: BinaryIO | None = None,
         kustomize: str | Sequence[str] | None = None, build: bool = True,
         timeout: float | None = None, warn: Callable[[str], None] | None = None) -> Source:
    """Everything `paths` name, as one Source; InputError (naming the file) when unreadable.

    `-` reads `stdin`; a directory holding a kustomization is built with kustomize (unless
    `build` is false; `kustomize`, `timeout` and `warn` as in `krmfn.kustomize.build`);
    another directory is searched for YAML files; anything else is read as a file.
    """
    def kustomize_build(directory: Path) -> str:
        from krmfn.kustomize import build  # noqa: PLC0415 - only kustomize apps need it

        return build(directory, kustomize, timeout=timeout, warn=warn)

    budget = Budget()
    builder = kustomize_build if build else None
    return Source([origin for given in paths
                   for origin in _read_one(given, budget, stdin, builder)])


def _read_one(given: str, budget: Budget, stdin: BinaryIO | None,
              builder: Callable[[Path], str] | None) -> list[Origin]:
    """The documents of one path given to `read`."""
    if given == "-":
        if stdin is None:
            raise InputError("-: no standard input to read")
        data = stdin.read(budget.left + 1)
        budget.spend(len(data), STDIN)
        return split(decode(data, STDIN), STDIN)
    path = Path(given)
    shown = PurePath(given).as_posix()
    if path.is_dir():
        if builder is not None and kustomization(path) is not None:
            built = f"kustomize build {shown}"
            text = builder(path)
            budget.spend(len(text.encode("utf-8")), built)
            return split(checked(text, built), built)
        return [origin for file, name in files(path)
                for origin in split(read_file(file, name, budget), name)]
    if not path.exists() and not path.is_symlink():
        raise InputError(f"{shown}: no such file or directory")
    return split(read_file(path, shown, budget), shown)
