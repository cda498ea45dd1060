"""Finding and loading plugins: built-ins, installed packages and plugin folders.

`load_plugins()` builds a fresh pluggy manager (no global state), registers the built-in
modules of ``potentiel.plugins``, every installed package declaring the entry-point group
``potentiel``, and every ``.py`` file of the extra folders, then calls the registration
hooks one plugin at a time so that each thing registered is attributed to its plugin and
file. A plugin that fails to import, breaks the contract or registers a duplicate name is
reported (`Plugins.problems`) and the others still load.

Set ``POTENTIEL_BLOCK_PLUGINS`` to a comma-separated list of plugin names (``revenue``,
``my_plugin``, a package's entry-point name) to keep them from loading.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable

import pluggy

from . import hookspecs
from .criterion import Criterion, Derivation, Param
from .fields import Catalogue, Field
from .i18n import _
from .problems import Problem

BUILTIN_MODULES = ("revenue", "trend", "potential", "penetration", "solvency", "growth",
                   "prescription", "relationship", "accessibility")
ENTRY_POINT_GROUP = "potentiel"
BLOCK_ENV = "POTENTIEL_BLOCK_PLUGINS"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class Origin:
    """Where a registered thing comes from: ``kind`` is built-in, package or file."""

    kind: str
    plugin: str
    path: str = ""

    def __str__(self) -> str:
        if self.kind == "built-in":
            return _("built-in")
        if self.kind == "package":
            return _("package {name}").format(name=self.plugin)
        return _("file {path}").format(path=self.path)


@dataclass
class Plugins:
    """Everything the plugins registered, with origins, plus what went wrong."""

    manager: pluggy.PluginManager
    criteria: dict[str, Criterion] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)
    derivations: dict[str, Derivation] = field(default_factory=dict)
    derivation_origins: dict[str, Origin] = field(default_factory=dict)
    rule_actions: dict[str, Any] = field(default_factory=dict)
    output_sheets: dict[str, Callable] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def catalogue(self) -> Catalogue:
        """The built-in account fields plus every criterion's inputs."""
        extra = [i for c in self.criteria.values() for i in c.inputs]
        return Catalogue.build(extra)


def _origin_of(manager: pluggy.PluginManager, plugin: object) -> Origin:
    name = manager.get_name(plugin) or getattr(plugin, "__name__", "?")
    path = getattr(plugin, "__file__", "") or ""
    if name.startswith("potentiel.plugins."):
        return Origin("built-in", name.rsplit(".", 1)[1], path)
    if name.startswith("file:"):
        return Origin("file", Path(name[5:]).stem, name[5:])
    return Origin("package", name, path)


def _blocked() -> set[str]:
    return {p.strip() for p in os.environ.get(BLOCK_ENV, "").split(",") if p.strip()}


def _import_file(path: Path) -> ModuleType:
    # A unique module name per file content keeps two folders' "plugin.py" apart and lets
    # an edited file be loaded again in a long-running process (the server).
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    modname = f"potentiel_plugin_{re.sub(r'[^0-9a-zA-Z_]', '_', path.stem)}_{digest}"
    spec = importlib.util.spec_from_file_location(modname, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(modname, None)
        raise
    return module


def _short_error(exc: BaseException, path: str = "") -> str:
    """One line: the exception and, when inside the plugin's file, its line number."""
    line = ""
    if isinstance(exc, SyntaxError) and exc.lineno:
        line = f" (line {exc.lineno})"
    else:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if path and Path(frame.filename).resolve() == Path(path).resolve():
                line = f" (line {frame.lineno})"
                break
    msg = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {msg}{line}"


def load_plugins(plugin_dirs: Iterable[str | Path] = (), builtins: bool = True,
                 entry_points: bool = True) -> Plugins:
    """Build a plugin manager and collect what every plugin registers."""
    manager = pluggy.PluginManager("potentiel")
    manager.add_hookspecs(hookspecs)
    plugins = Plugins(manager)
    blocked = _blocked()

    def add(plugin: object, name: str, where: str) -> None:
        try:
            manager.register(plugin, name=name)
        except Exception as exc:  # pluggy.PluginValidationError: a bad hook signature
            plugins.problems.append(Problem(_("plugin {name} was not loaded: {error}").format(
                                                name=name, error=exc), where))

    if builtins:
        for mod in BUILTIN_MODULES:
            if mod in blocked:
                continue
            full = f"potentiel.plugins.{mod}"
            try:
                add(importlib.import_module(full), full, full)
            except Exception as exc:
                plugins.problems.append(Problem(_("built-in plugin {name} failed to import: "
                                                  "{error}").format(
                                                    name=mod, error=_short_error(exc)), full))
    if entry_points:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in blocked:
                continue
            try:
                add(ep.load(), ep.name, ep.value)
            except Exception as exc:
                dist = getattr(ep, "dist", None)
                where = f"{dist.name if dist else ep.value}"
                plugins.problems.append(Problem(
                    _("plugin {name} ({value}) failed to import: {error}").format(
                        name=ep.name, value=ep.value, error=_short_error(exc)), where))
    for folder in plugin_dirs:
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            plugins.problems.append(Problem(
                _("plugin folder not found; check the path in Settings or --plugins"), str(folder)))
            continue
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_") or path.stem in blocked:
                continue
            try:
                add(_import_file(path), f"file:{path}", str(path))
            except (Exception, SystemExit) as exc:  # a plugin may even call sys.exit()
                plugins.problems.append(Problem(
                    _("plugin {name} failed to import: {error}").format(
                        name=path.stem, error=_short_error(exc, str(path))),
                    str(path)))
    _check_pending(manager, plugins)
    _collect(manager, plugins)
    return plugins


def _check_pending(manager: pluggy.PluginManager, plugins: Plugins) -> None:
    """A hook implementation whose name matches no spec (a typo) is reported, then dropped."""
    for name in list(manager.hook.__dict__):
        if name.startswith("_"):
            continue
        caller = getattr(manager.hook, name)
        if caller.spec is not None:
            continue
        for impl in caller.get_hookimpls():
            origin = _origin_of(manager, impl.plugin)
            specs = [n for n in dir(hookspecs) if n.startswith("register_")]
            plugins.problems.append(Problem(
                _("plugin {plugin} implements unknown hook {name!r} (known hooks: {list})").format(
                    plugin=origin.plugin, name=name, list=', '.join(specs)), origin.path or origin.plugin))
            manager.unregister(impl.plugin)


def _call_each(manager: pluggy.PluginManager, hook: str, plugins: Plugins,
               receive: Callable[[Any, Origin], None]) -> None:
    caller = getattr(manager.hook, hook)
    for impl in caller.get_hookimpls():  # registration order: built-ins first
        origin = _origin_of(manager, impl.plugin)

        def register(*args: Any, _origin: Origin = origin) -> None:
            try:
                receive(args, _origin)
            except _ContractError as exc:
                plugins.problems.append(Problem(_("plugin {plugin}: {error}").format(
                                                    plugin=_origin.plugin, error=exc),
                                                _origin.path or _origin.plugin))

        try:
            impl.function(register=register)
        except Exception as exc:
            plugins.problems.append(Problem(
                _("plugin {plugin}: {hook} failed: {error}").format(
                    plugin=origin.plugin, hook=hook, error=_short_error(exc, origin.path)),
                origin.path or origin.plugin))


class _ContractError(Exception):
    pass


def _collect(manager: pluggy.PluginManager, plugins: Plugins) -> None:
    def criterion(args: tuple, origin: Origin) -> None:
        (crit,) = args
        _check_criterion(crit)
        name = crit.name
        if name in plugins.criteria:
            first = plugins.origins[name]
            if getattr(crit, "override", False) and first.kind == "built-in":
                plugins.criteria[name] = crit
                plugins.origins[name] = origin
                return
            raise _ContractError(
                _("criterion {name!r} is already registered by {first}; this one is ignored "
                  "(rename it, or set override = True to replace a built-in)").format(
                    name=name, first=first))
        plugins.criteria[name] = crit
        plugins.origins[name] = origin

    def derivation(args: tuple, origin: Origin) -> None:
        (der,) = args
        if not isinstance(der, Derivation) or not callable(der.compute):
            raise _ContractError(_("register_derivations must register potentiel.Derivation "
                                   "objects"))
        first = plugins.derivation_origins.get(der.field)
        if first is not None and not (der.override and first.kind == "built-in"):
            raise _ContractError(
                _("{field!r} is already derived by {first}; this derivation is ignored "
                  "(set override=True to replace a built-in one)").format(
                    field=der.field, first=first))
        plugins.derivations[der.field] = der
        plugins.derivation_origins[der.field] = origin

    def action(args: tuple, origin: Origin) -> None:
        (act,) = args
        name = getattr(act, "name", None)
        if not name or not callable(getattr(act, "apply", None)):
            raise _ContractError(_("register_rule_actions must register potentiel.RuleAction "
                                   "objects"))
        if name in plugins.rule_actions:
            raise _ContractError(_("rule action {name!r} is already registered; "
                                   "ignored").format(name=name))
        plugins.rule_actions[name] = act

    def sheet(args: tuple, origin: Origin) -> None:
        if len(args) != 2 or not isinstance(args[0], str) or not callable(args[1]):
            raise _ContractError(_("register_output_sheets expects register(name, build)"))
        name, build = args
        _check_sheet_name(name)
        if name in plugins.output_sheets:
            raise _ContractError(_("output sheet {name!r} is already registered; "
                                   "ignored").format(name=name))
        plugins.output_sheets[name] = build

    _call_each(manager, "register_criteria", plugins, criterion)
    _call_each(manager, "register_derivations", plugins, derivation)
    _call_each(manager, "register_rule_actions", plugins, action)
    _call_each(manager, "register_output_sheets", plugins, sheet)


_SHEET_NAME = re.compile(r"^[^\[\]:*?/\\']([^\[\]:*?/\\]{0,29}[^\[\]:*?/\\'])?$")


def _check_sheet_name(name: str) -> None:
    """A plugin's sheet must be a valid Excel sheet name (else Excel repairs the file) and
    must not be a sheet people type into or Potentiel writes (it would be overwritten)."""
    if not _SHEET_NAME.match(name) or name.strip().casefold() == "history":
        raise _ContractError(_("output sheet {name!r} is not a valid Excel sheet name (1 to "
                               "31 characters, none of [ ] : * ? / \\, no ' at either end); "
                               "ignored").format(name=name))
    from .fields import normalise
    from .sheetnames import ACCOUNTS_NAMES, OUTPUT_SHEETS, REPS_NAMES, SETTINGS_NAMES
    taken = {*ACCOUNTS_NAMES, *SETTINGS_NAMES, *REPS_NAMES, *(normalise(n) for n in OUTPUT_SHEETS)}
    if normalise(name) in taken:
        raise _ContractError(_("output sheet {name!r} would overwrite the workbook's own "
                               "sheet of that name; choose another name; ignored").format(
                                   name=name))


def _check_criterion(crit: object) -> None:
    if inspect.isclass(crit):
        raise _ContractError(_("register() got the class {name}; pass an instance: "
                               "register({name}())").format(name=crit.__name__))
    if not isinstance(crit, Criterion):
        raise _ContractError(_("register_criteria got {value!r}, not a "
                               "potentiel.Criterion").format(value=crit))
    if not isinstance(crit.name, str) or not _NAME.match(crit.name):
        raise _ContractError(_("criterion name {name!r} must be lower case letters, digits "
                               "and _ (it is used in weights and rules)").format(name=crit.name))
    if type(crit).score is Criterion.score:
        raise _ContractError(_("criterion {name!r} does not implement score()").format(
            name=crit.name))
    for inp in crit.inputs:
        if not isinstance(inp, Field):
            raise _ContractError(_("criterion {name!r}: inputs must be "
                                   "potentiel.Input").format(name=crit.name))
    for key, param in dict(crit.params).items():
        if not isinstance(param, Param):
            raise _ContractError(_("criterion {name!r}: param {key!r} must be a "
                                   "potentiel.Param").format(name=crit.name, key=key))
