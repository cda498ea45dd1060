"""Reading one rule file: safe YAML with a line number for every key and list item.

Rule files are data, never code. The loader is PyYAML's safe loader (the C one when
available) with four changes: mappings and lists remember the line of each key and item
(so every message can say ``file:line``), aliases (``*name``) are refused (they let a
small file expand into a huge structure), only ``true``/``false`` are booleans (not
``yes``/``no``/``on``/``off``, which stay text), and any YAML error becomes a `Problem` that
says the line and column instead of a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..i18n import _
from ..problems import Problem, UserError

MAX_FILE_BYTES = 4_000_000  # a 10,000-rule file is about 1 MB

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineDict(dict):
    """A YAML mapping that knows the line of each key (``lines[key]``) and its own."""

    line: int = 0
    lines: dict

    def line_of(self, key: Any) -> int:
        return self.lines.get(key, self.line)


class LineList(list):
    """A YAML list that knows the line of each item (``lines[i]``) and its own."""

    line: int = 0
    lines: list

    def line_of(self, index: int) -> int:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


class _OwnWords(yaml.MarkedYAMLError):
    """A mistake the loader words itself (already plain and translated): said as it is."""


class _Loader(_Base):  # type: ignore[misc, valid-type]
    def construct_object(self, node, deep=False):
        if node in self.constructed_objects:
            # The node was built already: the document refers to it again through an alias.
            raise _OwnWords(
                None, None, _("this value is reused through a YAML alias (*name); aliases are "
                              "not allowed in rule files: write the value out in full"),
                node.start_mark)
        if not node.tag.startswith("tag:yaml.org,2002:") or "python" in node.tag:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise _OwnWords(
                None, None, _("the YAML tag {tag} is not allowed: rule files hold plain values "
                              "only (text, numbers, lists, mappings)").format(tag=tag),
                node.start_mark)
        return super().construct_object(node, deep)

    def construct_yaml_map(self, node):
        data = LineDict()
        data.line = node.start_mark.line + 1
        data.lines = {}
        yield data
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise _OwnWords(None, None, _("a key must be a plain word"),
                                           key_node.start_mark) from None
            if key in data:
                raise _OwnWords(None, None, _('"{key}" is written twice '
                                                         "here").format(key=key),
                                           key_node.start_mark)
            data[key] = self.construct_object(value_node, deep=True)
            data.lines[key] = key_node.start_mark.line + 1

    def construct_yaml_seq(self, node):
        data = LineList()
        data.line = node.start_mark.line + 1
        data.lines = [child.start_mark.line + 1 for child in node.value]
        yield data
        data.extend(self.construct_object(child, deep=True) for child in node.value)


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_yaml_seq)

# YAML 1.1 reads yes/no/on/off as true/false, so "id: off" or a country code NO would
# silently become a boolean. As in YAML 1.2, only true and false are booleans here.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool",
                              re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


def parse_yaml(text: str, where: str) -> Any:
    """Parse YAML text; a syntax error becomes a `UserError` at ``where:line`` (with column)."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or _("not valid YAML")
        if mark is None:
            raise UserError(Problem(_("not valid YAML: {error}").format(error=what), where,
                                    "error")) from None
        words = what if isinstance(exc, _OwnWords) else _plain_words(what, text, mark)
        raise UserError(Problem(_("column {column}: {error}").format(
                                    column=mark.column + 1, error=words),
                                f"{where}:{mark.line + 1}", "error")) from None
    except yaml.reader.ReaderError as exc:  # a control character: its position, not its line
        line = text[:exc.position].count("\n") + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise UserError(Problem(_("column {column}: a control character (#x{code}) that a "
                                  "rule file cannot hold; delete it").format(
                                    column=column, code=f"{exc.character:04x}"),
                                f"{where}:{line}", "error")) from None
    except yaml.YAMLError as exc:
        raise UserError(Problem(_("not valid YAML: {error}").format(error=exc), where,
                                "error")) from None


def _plain_words(what: str, text: str, mark) -> str:
    """YAML's message for the two mistakes people make most, said in plain words."""
    lines = text.splitlines()
    line = lines[mark.line] if 0 <= mark.line < len(lines) else ""
    at = line[mark.column] if 0 <= mark.column < len(line) else ""
    # a tab where YAML wants a token ("found character '\t' that cannot start any token")
    # or an indentation ("found a tab character where an indentation space is expected")
    if "'\\t'" in what or "tab character" in what or at == "\t":
        return _("a tab character: indent with spaces only (a tab looks like spaces but the "
                 "file cannot be read with it); replace it with spaces")
    if "mapping values are not allowed" in what:
        key, _colon, value = line.strip().lstrip("- ").partition(":")
        value = value.strip()
        if key and value and not value.startswith(("'", '"')):
            quoted = value.replace('"', "'")
            return _('the text after "{key}:" holds a colon followed by a space, which the '
                     'file reads as a new key: put the whole text in quotes, {key}: '
                     '"{quoted}"').format(key=key, quoted=quoted)
        return _('a colon followed by a space inside a value: put the whole value in quotes '
                 '("…")')
    return what


def read_yaml(path: Path, where: str) -> Any:
    """Read and parse a rule file, refusing files too large to be a hand-written rule file."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UserError(Problem(_("cannot read the file: {error}").format(
                                    error=exc.strerror or exc), where, "error")) from None
    if size > MAX_FILE_BYTES:
        raise UserError(Problem(
            _("the file is {size:,} bytes; a rule file may hold at most {most:,} bytes (split "
              "it, or move shared rules into a file it extends)").format(
                size=size, most=MAX_FILE_BYTES), where, "error"))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(Problem(_("cannot read the file: {error}").format(
                                    error=exc.strerror or exc), where, "error")) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[start:exc.start].decode("utf-8", errors="replace")) + 1
        raise UserError(Problem(_("column {column}: a character that is not UTF-8 text (the "
                                  "file was probably saved as Windows or Latin-1 text, e.g. an "
                                  "é or a €); save the file as UTF-8").format(column=column),
                                f"{where}:{line}",
                                "error")) from None
    return parse_yaml(text, where)
