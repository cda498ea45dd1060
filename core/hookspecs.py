"""Every hook a Potentiel plugin can implement, with when it runs and what it gets.

Registration hooks receive a ``register`` callback: the plugin calls it once per thing it
provides, and the core (not the plugin) decides what to do with duplicates and errors,
and records which plugin and file each thing came from. Hooks run when a plugin manager
is built (`potentiel.plugins_manager.load_plugins`), once per run, last-registered first.
"""

from __future__ import annotations

from typing import Callable

import pluggy

hookspec = pluggy.HookspecMarker("potentiel")


@hookspec
def register_criteria(register: Callable) -> None:
    """Register criteria. Called once when plugins are loaded.

    Call ``register(criterion)`` with a `potentiel.Criterion` instance for each criterion.
    A name already taken by another plugin is reported (plugin name and file) and the
    later registration is ignored. Returns nothing.
    """


@hookspec
def register_derivations(register: Callable) -> None:
    """Register derived fields. Called once when plugins are loaded.

    Call ``register(derivation)`` with a `potentiel.Derivation`: it fills a field where the
    account leaves it blank (e.g. potential = headcount × spend per employee). Derivations
    run before the criteria; a rule file's ``derive:`` entry for the same field replaces
    the plugin's. Returns nothing.
    """


@hookspec
def register_rule_actions(register: Callable) -> None:
    """Register extra rule actions, usable in rule files' ``then:``. Called once at load.

    Call ``register(action)`` with a `potentiel.RuleAction`: its ``name`` is the key used
    in ``then:``, ``check(value)`` validates the value written in the rule file (raise
    ``ValueError`` with a plain message if it is wrong; it is reported as ``file:line``),
    ``apply(result, mask, value, rule_id)`` records its effect on the accounts where the
    rule fired (``mask``, a boolean Series) in the `RulesResult`, and the optional
    ``finish(result)`` runs once after every rule, to settle conflicts independently of
    rule order. Returns nothing.
    """


@hookspec
def register_output_sheets(register: Callable) -> None:
    """Register extra output sheets. Called once at load; the sheets are built per run.

    Call ``register(name, build)``: after scoring, ``build(result)`` receives the run's
    `potentiel.Result` and returns rows (a list of lists of plain values, first row =
    headers). Potentiel writes them as values into the sheet ``name``, which it then owns.
    Returns nothing.
    """
