"""krmfn.sources: every way in read into one ResourceList, each document's text kept.

Cases are folders of tests/sources: `input/` (a directory given to `read`) or `stdin.yaml`
(given as `-`), and beside it what must come of it: `expected.yaml` (the ResourceList text)
and `origins.yaml` (file, document index, line and column of each item), or `error.txt`
(the one-line error). KRMFN_UPDATE_GOLDEN=1 rewrites them (and fails). Byte-level inputs
(BOM, CRLF, NUL, bad UTF-8, the size limit) are a table here; property tests hold the
splitting, the re-indenting and the reading to the documents' own text and data.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krmfn.resourcelist import MAX_INPUT_BYTES, Document
from krmfn.sources import Source, indent, read, split, unindent
from krmfn.yamlscan import InputError
from tests.helpers import ROOT, UPDATE, check_golden, examples

CASES = sorted(p for p in (ROOT / "tests" / "sources").iterdir() if p.is_dir())


def _read_case(case: Path) -> Source:
    if (case / "stdin.yaml").exists():
        return read(["-"], stdin=io.BytesIO((case / "stdin.yaml").read_bytes()))
    return read([str(case / "input")], build=False)


def _golden(files: dict[Path, str]) -> None:
    """Compare with golden files; with KRMFN_UPDATE_GOLDEN=1 rewrite them all, then fail."""
    if UPDATE:
        for path, text in files.items():
            path.write_text(text, encoding="utf-8", newline="")
    for path, text in files.items():
        check_golden(path, text)


def _load(text: str) -> Any:
    return yaml.load(text, Loader=yaml.CSafeLoader)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Path) -> None:
    try:
        source = _read_case(case)
        document = source.document()
    except InputError as err:
        assert "\n" not in str(err)
        check_golden(case / "error.txt", f"{err}\n")
        return
    assert not (case / "error.txt").exists(), "expected an error"
    table = [{"file": o.file, "index": o.index, "line": o.line, "column": o.column}
             for o in source.origins]
    _golden({case / "expected.yaml": source.text,
             case / "origins.yaml": yaml.safe_dump(table, sort_keys=False)})
    assert len(document.items) == len(source.origins)
    for item, origin in zip(document.items, source.origins, strict=True):
        # Every item reads as its document read alone, and names its first line.
        assert document.load(item) == _load(origin.text)
        assert source.where(source.starts[item.index]) == (origin.file, origin.line)


def test_a_file_without_a_final_line_break_keeps_its_block_scalars() -> None:
    case = ROOT / "tests" / "sources" / "no-final-newline"
    source = _read_case(case)
    document = source.document()
    loaded = {o.file: document.load(i) for o, i in zip(source.origins, document.items,
                                                        strict=True)}
    for path in (case / "input").iterdir():
        assert loaded[path.name] == _load(path.read_text())
    assert loaded["clip.yaml"]["data"]["run.sh"] == "echo hi"


@pytest.mark.parametrize(("data", "expected"), [
    (b"\xef\xbb\xbfkind: A\n", [("kind: A\n", 1)]),
    (b"kind: A\r\n---\r\nkind: B\r\n", [("kind: A\r\n", 1), ("kind: B\r\n", 3)]),
    (b"kind: A\rdata:\r  x: |\r    y\r---\rkind: B", [
        ("kind: A\rdata:\r  x: |\r    y\r", 1), ("kind: B", 6)]),
    (b"kind: A\n---", [("kind: A\n", 1)]),
    (b"---\n---\n# only a comment\n...\n", []),
    (b"", []),
    ("a: \"x\u2028  y\"\n---\nb: 1\n".encode(), [("a: \"x\u2028  y\"\n", 1), ("b: 1\n", 4)]),
])
def test_streams(data: bytes, expected: list[tuple[str, int]]) -> None:
    source = read(["-"], stdin=io.BytesIO(data))
    assert [(o.text, o.line) for o in source.origins] == expected
    document = source.document()
    for item, origin in zip(document.items, source.origins, strict=True):
        assert document.load(item) == _load(origin.text)


@pytest.mark.parametrize(("data", "message"), [
    (b"kind: A\n\xff\n", "<stdin> is not UTF-8: byte 0xff at offset 8 (line 2)"),
    (b"kind: A\nname: a\x00b\n", "<stdin> holds a NUL character at line 2"),
    (b"kind: A\n---\n- 1\n", "<stdin>: document 1 is not a mapping (found a sequence at line 3)"),
    (b"a: 1\n---\nb: [1,\n", "<stdin>: document 1 is not valid YAML: "),
    (b"a: 1\r\n---\r\nb: 1\r\nb: 2\r\n", "<stdin>: document 1 has a duplicate key 'b' at line 4"),
])
def test_errors_name_the_file_and_its_line(data: bytes, message: str) -> None:
    with pytest.raises(InputError) as caught:
        read(["-"], stdin=io.BytesIO(data)).document()
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_the_size_limit_holds_over_all_files(tmp_path: Path) -> None:
    half = MAX_INPUT_BYTES // 2 + 1
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_bytes(b"kind: A\n" + b"#" * half + b"\n")
    with pytest.raises(InputError, match=r"more than \d+ bytes, the limit \(reached reading "
                                         r"b\.yaml\)"):
        read([str(tmp_path)])


def test_files_and_missing_paths_are_named_as_given(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("- not an object\n")
    with pytest.raises(InputError, match=r"x\.yaml: document 0 is not a mapping"):
        read([str(tmp_path / "x.yaml")]).document()
    with pytest.raises(InputError, match=r"gone\.yaml: no such file or directory"):
        read([str(tmp_path / "gone.yaml")])
    os.mkfifo(tmp_path / "fifo.yaml")
    with pytest.raises(InputError, match=r"fifo\.yaml is not a regular file"):
        read([str(tmp_path / "fifo.yaml")])


def test_json_reads_as_on_stdin() -> None:
    data = b'{"kind": "ConfigMap", "data": {"smile": "\\ud83d\\ude00"}}'
    document = read(["-"], stdin=io.BytesIO(data)).document()
    assert document.load(document.items[0]) == {"kind": "ConfigMap",
                                                "data": {"smile": "\U0001f600"}}


def test_a_kustomization_is_walked_when_not_built(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: [a.yaml]\n")
    (tmp_path / "a.yaml").write_text("kind: A\n")
    assert [o.file for o in read([str(tmp_path)], build=False).origins] == ["a.yaml"]


def test_an_empty_source_is_an_empty_resource_list() -> None:
    document = Source([]).document()
    assert document.items == []


def test_where_maps_lines_back_to_files() -> None:
    source = Source(split("a: 1\nb: 2\n", "one.yaml") + split("--- {c: 3,\nd: 4}\n", "two.yaml"))
    assert source.where(1) is None
    assert source.where(4) == ("one.yaml", 1)
    assert source.where(5) == ("one.yaml", 2)
    assert source.where(6) == ("two.yaml", 1)
    assert source.where(7) == ("two.yaml", 2)
    assert source.where(8) is None
    located = source.locate(InputError("input is not valid YAML: oops at line 7, column 5"))
    assert str(located) == "two.yaml: document 0 is not valid YAML: oops at line 2, column 3"


def test_indent_needs_its_own_entries() -> None:
    with pytest.raises(ValueError, match="not a block sequence entry"):
        unindent("a: 1\n")
    with pytest.raises(ValueError, match="not indented"):
        unindent("- a: 1\nb: 2\n")


# Property tests -------------------------------------------------------------------------

BREAKS = ["\n", "\r\n", "\r", "\x85", "\u2028", "\u2029"]
_text = st.lists(st.sampled_from([*BREAKS, " ", "a", "-", "#", "\t", "é", "|"]),
                 max_size=60).map("".join)


@given(_text)
@settings(max_examples=examples(300))
def test_unindent_undoes_indent(text: str) -> None:
    assert unindent("- " + indent(text)) == text


_keys = st.text(st.characters(codec="utf-8"), min_size=1,
                max_size=8).filter(lambda k: k != "<<")
_scalars = st.one_of(st.none(), st.booleans(), st.integers(),
                     st.floats(allow_nan=False), st.lists(st.sampled_from(
                         [*BREAKS, " ", "a", "---", "...", "#", ":", "'", '"', "\t", "é", "-",
                          "\\", "|", ">"]), max_size=30).map("".join))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=3)), max_leaves=12)
_documents = st.dictionaries(_keys, _values, min_size=1, max_size=4)
_dump_options = st.fixed_dictionaries({
    "default_flow_style": st.sampled_from([False, True, None]),
    "default_style": st.sampled_from([None, '"', "'", "|", ">"]),
    "line_break": st.sampled_from(["\n", "\r\n", "\r"]),
    "allow_unicode": st.booleans(),
    "width": st.sampled_from([20, 80]),
    "sort_keys": st.booleans(),
})
# A last value with line breaks at its end: the block scalar that may end a file.
_tails = st.one_of(st.none(), st.sampled_from(["x\n", "x\n\n", "a\nb\n", "x", " x\n"]))
# Separators between documents, and what of them starts the next document's own text.
_separators = st.sampled_from([
    ("---\n", ""), ("--- # next\n", "# next\n"), ("...\n---\n", ""), ("...\n# c\n---\n", ""),
    ("---\n# only a comment\n---\n", ""), ("---\n---\n", ""), ("---\r\n", "")])


@given(st.lists(st.tuples(_documents, _dump_options, _separators, _tails), min_size=1,
                max_size=5), st.booleans(), st.booleans())
@settings(max_examples=examples(150), suppress_health_check=[HealthCheck.too_slow],
          deadline=None)
def test_split_reindent_and_read_keep_every_document(
        parts: list[tuple[dict[Any, Any], dict[str, Any], tuple[str, str], str | None]],
        explicit_start: bool, final_break: bool) -> None:
    texts: list[str] = []
    stream = "---\n" if explicit_start else ""
    for number, (data, options, (separator, carried), tail) in enumerate(parts):
        if tail is not None:
            data.pop("tail", None)
            data["tail"] = tail
        text = yaml.safe_dump(data, **{**options, "sort_keys": options["sort_keys"]
                                       and tail is None})
        end = "..." + options["line_break"]  # PyYAML ends a document so after `|+`
        ended = end if text.endswith(end) and text[-len(end) - 1] in "".join(BREAKS) else ""
        text = text[:len(text) - len(ended)]
        if number == len(parts) - 1 and not final_break and not ended:
            text = text.rstrip("\r\n")
        if number:
            stream += separator
        stream += text + ended
        texts.append(carried + text if number else text)
    origins = split(stream, "s.yaml")
    assert [o.text for o in origins] == texts
    for origin in origins:
        assert unindent("- " + indent(origin.text)) == origin.text
    try:
        source = Source(origins)
    except InputError as err:
        # The one text a ResourceList cannot hold as it is: a block scalar that keeps its
        # line breaks, at the end of a document that ends on LS or PS, not a line feed.
        assert "ends without a line break" in str(err)
        assert any(t.endswith(("\u2028", "\u2029")) for t in texts)
        return
    document = Document(source.text)
    assert [document.load(item) for item in document.items] == [_load(t) for t in texts]
    assert source.document().items
