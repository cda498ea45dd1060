"""Finding rule files and merging a file with the files it ``extends``.

``extends: default`` names another rule file, looked for in this file's folder, then in
the nearest enclosing folder called ``rules`` (if any), then in the shipped ``rules/``
folder, with or without ``.yaml``: the shipped ``default`` is always found, wherever the
file sits. The chain is read root first; then, child over parent: weights, params,
derive, fields, outputs, tables (a whole table at a time), subscores (a whole sub-score
at a time), the plan's keys (visits a year a category at a time) and each category entry merge (the child wins; ``score`` and ``cross`` are
replaced whole), a child's ``profiles:`` replaces the parent's as a whole (their order
decides; a notice says so), rules append, and a rule
with an inherited id replaces the inherited one (a notice says so). Tests are not inherited: they state what
their own file means (a child that moves the distance threshold would fail its parent's
test of it), so each file runs its own. A cycle,
a missing target or a file extending itself is an error at the ``extends`` line. A file
with nothing in it (empty, blank, comments only, or ``{}``) is an error: it is almost
always the wrong file, or one saved before it was written.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..i18n import _
from ..problems import Problem, UserError
from .source import LineDict, LineList, read_yaml

TOP_KEYS = ("extends", "description", "fields", "derive", "tables", "score", "subscores",
            "cross", "weights", "categories", "profiles", "params", "rules", "outputs", "columns",
            "plan", "tests")
MAX_CHAIN = 10


def rules_dir() -> Path:
    """The shipped ``rules/`` folder (``default.yaml`` lives there); see `potentiel.resources`."""
    from ..resources import rules_dir as shipped
    return shipped()


def display(path: Path) -> str:
    """How a file is named in messages: relative to the working folder when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel.replace(os.sep, "/")


@dataclass
class Item:
    """A value from a file, with where it was written."""

    value: Any
    source: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"


@dataclass
class Merged:
    """A rule file with its ``extends`` chain merged in, every value still traceable."""

    path: Path
    source: str
    files: list[Path] = field(default_factory=list)
    description: str = ""
    weights: dict[str, Item] = field(default_factory=dict)
    fields: dict[str, Item] = field(default_factory=dict)
    derive: dict[str, Item] = field(default_factory=dict)
    outputs: dict[str, Item] = field(default_factory=dict)    # field → its column header
    columns: dict[str, Item] = field(default_factory=dict)    # field → the header to read it from
    tables: dict[str, Item] = field(default_factory=dict)     # name → Item(raw table)
    score: Item | None = None                                 # the score model (child wins)
    subscores: dict[str, Item] = field(default_factory=dict)  # name → Item(raw sub-score)
    cross: Item | None = None                                 # [rows, columns] (child wins)
    profiles: dict[str, Item] = field(default_factory=dict)   # name → Item(raw profile), in order
    profiles_where: str = ""                                  # the "profiles:" key
    params: dict[str, dict[str, Item]] = field(default_factory=dict)
    categories: list[tuple[str, dict[str, Item]]] = field(default_factory=list)
    categories_where: str = ""
    weights_where: str = ""                                   # the last "weights:" key
    rules: dict[str, Item] = field(default_factory=dict)      # id → Item(raw rule)
    tests: dict[str, Item] = field(default_factory=dict)      # name → Item(raw test)
    # each file's plan: section, root first: (source, section, line) (potentiel.plan.visits)
    plan: list[tuple[str, Any, int]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)     # errors
    notices: list[Problem] = field(default_factory=list)      # legal, said by rules check


def _rules_roots(path: Path) -> list[Path]:
    """The nearest enclosing folder called ``rules`` (a client's own), then the shipped one."""
    near = next((p for p in path.parents if p.name == "rules"), None)
    return [*([near] if near is not None else []), rules_dir()]


def resolve_extends(name: str, path: Path) -> list[Path]:
    """Candidate files for ``extends: name`` in ``path``, in the order they are tried."""
    stem = name if name.endswith((".yaml", ".yml")) else name + ".yaml"
    candidates = [path.parent / stem, *(root / stem for root in _rules_roots(path))]
    return list(dict.fromkeys(candidates))


def _err(problems: list[Problem], message: str, where: str) -> None:
    problems.append(Problem(message, where, "error"))


def _suggest(word: str, options) -> str:
    hit = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return _(" (did you mean {name}?)").format(name=hit[0]) if hit else ""


def read_chain(path: Path) -> list[tuple[Path, str, LineDict]]:
    """The file and its ancestors, root ancestor first. Raises `UserError`."""
    chain: list[tuple[Path, str, LineDict]] = []
    seen: list[Path] = []
    current = path.resolve()
    where_from = display(path)
    while True:
        source = display(current)
        if not current.is_file():
            raise UserError(Problem(_("no rule file {source}").format(source=source), where_from, "error"))
        data = read_yaml(current, source)
        if data is None or (isinstance(data, LineDict) and not data):
            raise UserError(Problem(
                _("the file has nothing in it (it is empty, blank or only comments): write at "
                  'least one key, e.g. "extends: default" and the weights or rules that differ'),
                f"{source}:1", "error"))
        if not isinstance(data, LineDict):
            raise UserError(Problem(_("a rule file is a set of keys (extends, weights, "
                                      "rules…), not a single value or a list"), f"{source}:1", "error"))
        seen.append(current)
        chain.append((current, source, data))
        if "extends" not in data:
            break
        target = data["extends"]
        where = f"{source}:{data.line_of('extends')}"
        if not isinstance(target, str) or not target.strip():
            raise UserError(Problem(_('extends names another rule file, e.g. "extends: default"'),
                                    where, "error"))
        candidates = resolve_extends(target.strip(), current)
        found = next((c.resolve() for c in candidates if c.is_file()), None)
        if found is None:
            tried = " or ".join(display(c) for c in dict.fromkeys(candidates))
            raise UserError(Problem(_('extends "{target}": no such rule file (looked for '
                                      "{tried})").format(target=target, tried=tried), where, "error"))
        if found == current:
            raise UserError(Problem(_('extends "{target}": a rule file cannot extend itself').format(
                                        target=target),
                                    where, "error"))
        if found in seen:
            loop = " → ".join(display(p) for p in [*seen, found])
            raise UserError(Problem(_("extends makes a loop: {loop}").format(loop=loop), where, "error"))
        if len(chain) >= MAX_CHAIN:
            raise UserError(Problem(_("extends goes more than {max_chain} files deep").format(
                                        max_chain=MAX_CHAIN), where,
                                    "error"))
        current = found
        where_from = where
    chain.reverse()
    return chain


def merge_chain(chain: list[tuple[Path, str, LineDict]]) -> Merged:
    """Merge the files of a chain (root first) into one `Merged`."""
    path, source, _parent = chain[-1]
    merged = Merged(path=path, source=source, files=[p for p, _, _ in reversed(chain)])
    for depth, (_path, src, data) in enumerate(chain):
        _merge_file(merged, src, data, own=depth == len(chain) - 1)
    return merged


def _mapping(value: Any, what: str, where: str, problems: list[Problem]) -> LineDict | None:
    if value is None:
        return None
    if not isinstance(value, LineDict):
        _err(problems, _("{what} must be a set of name: value pairs").format(what=what), where)
        return None
    return value


def _merge_file(merged: Merged, src: str, data: LineDict, own: bool) -> None:
    problems = merged.problems
    for key in data:
        if key not in TOP_KEYS:
            _err(problems, _('unknown key "{key}"{did_you_mean}: a rule file may have '
                             "{keys}").format(key=key, did_you_mean=_suggest(key, TOP_KEYS),
                                              keys=", ".join(TOP_KEYS)),
                 f"{src}:{data.line_of(key)}")

    def at(key: str, sub: LineDict | None = None, subkey: Any = None) -> str:
        if sub is not None:
            return f"{src}:{sub.line_of(subkey)}"
        return f"{src}:{data.line_of(key)}"

    if "description" in data:
        if not isinstance(data["description"], str):
            _err(problems, _("description must be text"), at("description"))
        else:
            merged.description = data["description"].strip()
    for key in ("score", "cross"):
        if key in data:
            setattr(merged, key, Item(data[key], src, data.line_of(key)))
    for key in ("weights", "fields", "derive", "outputs", "columns", "tables", "subscores"):
        section = _mapping(data.get(key), key, at(key), problems)
        if section is None:
            continue
        target = getattr(merged, key)
        if key == "weights":
            merged.weights_where = at(key)
        for name, value in section.items():
            target[str(name)] = Item(value, src, section.line_of(name))
    params = _mapping(data.get("params"), "params", at("params"), problems)
    for crit, values in (params or {}).items():
        where = at("params", params, crit)
        if not isinstance(values, LineDict):
            _err(problems, _("params: {crit} must list parameter: value pairs, e.g. "
                             "{crit}: {{far_km: 600}}").format(crit=crit), where)
            continue
        slot = merged.params.setdefault(str(crit), {})
        for name, value in values.items():
            slot[str(name)] = Item(value, src, values.line_of(name))
    cats = _mapping(data.get("categories"), "categories", at("categories"), problems)
    if cats is not None:
        _merge_categories(merged, cats, src, problems)
    profiles = _mapping(data.get("profiles"), "profiles", at("profiles"), problems)
    if profiles is not None:
        if merged.profiles:  # the order matters (first match wins): the section is replaced
            merged.notices.append(Problem(_(
                "profiles: replaces the profiles of {file} ({names}) as a whole, since their "
                "order decides which one an account takes").format(
                    file=merged.profiles_where.rsplit(":", 1)[0],
                    names=", ".join(merged.profiles)), at("profiles"), "notice"))
        merged.profiles = {str(name): Item(value, src, profiles.line_of(name))
                           for name, value in profiles.items()}
        merged.profiles_where = at("profiles")
    rules = data.get("rules")
    if rules is not None:
        replaced = _merge_list(merged.rules, rules, "rules", "id", src, at("rules"), problems)
        for ident, old in replaced:
            merged.notices.append(Problem(
                _('rule "{ident}" replaces the inherited rule "{ident}" ({where}): only this '
                  "one applies; give it another id to keep both").format(
                    ident=ident, where=old.where), merged.rules[ident].where,
                "notice"))
    if "plan" in data:
        merged.plan.append((src, data["plan"], data.line_of("plan")))
    tests = data.get("tests")
    if tests is not None and own:
        _merge_list(merged.tests, tests, "tests", "name", src, at("tests"), problems)


def _merge_categories(merged: Merged, cats: LineDict, src: str, problems: list[Problem]) -> None:
    entries: list[tuple[str, dict[str, Item]]] = []
    for letter, spec in cats.items():
        where = f"{src}:{cats.line_of(letter)}"
        if not isinstance(spec, LineDict):
            _err(problems, _("categories: {letter} must be e.g. {{min: 75, label: Strategic}} "
                             "or {{share: 10%, label: Strategic}}").format(letter=letter), where)
            continue
        entries.append((str(letter), {str(k): Item(v, src, spec.line_of(k))
                                      for k, v in spec.items()}))
    parent = dict(merged.categories)

    def mode(items) -> str:
        return "quotas" if any("share" in e for _, e in items) or (
            items and not any("min" in e for _, e in items)) else "bands"

    if parent and mode(entries) == mode(merged.categories) and {
            letter for letter, _ in entries} <= set(parent):
        # Same letters, same kind: the child adjusts entries (e.g. only A's minimum).
        for letter, entry in entries:
            parent[letter] = {**parent[letter], **entry}
        merged.categories = [(letter, parent[letter]) for letter, _ in merged.categories]
    else:
        merged.categories = entries
    merged.categories_where = f"{src}:{cats.line}"


def _merge_list(target: dict[str, Item], items: Any, what: str, key: str, src: str,
                where: str, problems: list[Problem]) -> list[tuple[str, Item]]:
    """Add the items of one file; returns the inherited items replaced (same key)."""
    replaced: list[tuple[str, Item]] = []
    if not isinstance(items, LineList):
        _err(problems, _('{what} must be a list (each item starting with "- ")').format(
            what=what), where)
        return replaced
    own: dict[str, int] = {}
    for i, item in enumerate(items):
        line = items.line_of(i)
        if not isinstance(item, LineDict):
            _err(problems, _("each of the {what} must be a set of keys ({key}: …)").format(
                what=what, key=key), f"{src}:{line}")
            continue
        ident = item.get(key)
        if ident is None or isinstance(ident, (bool, LineDict, LineList)) or not str(ident).strip():
            _err(problems, _('this item of {what} has no {key}: add "{key}: …"').format(
                what=what, key=key), f"{src}:{line}")
            continue
        ident = str(ident).strip()
        if ident in own:
            _err(problems, _('{key} "{ident}" is used twice in this file (also at line '
                             "{line}): each must be unique").format(
                               key=key, ident=ident, line=own[ident]), f"{src}:{line}")
            continue
        own[ident] = line
        old = target.pop(ident, None)  # an inherited one with the same id is replaced
        if old is not None:
            replaced.append((ident, old))
        target[ident] = Item(item, src, line)
    return replaced
