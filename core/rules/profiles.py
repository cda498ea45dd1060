"""Checking the ``profiles:`` section of a rule file (the method is `potentiel.profiles`).

```yaml
profiles:                      # in order: an account takes the first whose "when" holds
  prospect:
    when: status in ["prospect", "suspect", "former"]
    weights: {potential: 60, accessibility: 40}   # criteria not listed weigh 0 here
    categories:                # optional: else the file's own categories
      A: {share: 10%, label: Priority target}
      B: {share: 20%, label: Target}
      C: {share: 30%, label: Watch}
      D: {label: Later}
    quotas_by: salesperson     # optional, with shares: an ABC per rep
  client:
    when: otherwise            # every account left (the last profile must say it)
```

Conditions are rule conditions (same grammar, fields and scores; not ``profile`` itself).
Every profile uses the file's category names in the same order; only their bands or
shares and labels change.
"""

from __future__ import annotations

import re
from typing import Any

from ..i18n import _
from ..profiles import PROFILE_FIELD, Profile, ProfileSet
from .logic import Hidden, hidden_columns, normal_form
from .names import TEXT, Scope
from .sections import did_you_mean
from .source import LineDict
from .syntax import SyntaxProblem, names_in, parse
from .files import Item
from .typecheck import TypeProblem, check_condition

PROFILE_KEYS = ("when", "weights", "categories", "quotas_by")
OTHERWISE = "otherwise"
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


class ProfileChecks:
    """Mixed into `Builder`: needs ``self.m``, ``self.criteria``, ``self.error``,
    ``self.category_spec`` and ``self.top_categories`` (the file's own categories)."""

    def profiles(self, scope: Scope, letters: tuple[str, ...]) -> ProfileSet | None:
        if not self.m.profiles:
            return None
        out: list[Profile] = []
        self._profile_names: dict[str, set[str]] = {}
        kinds: dict[str, str] = {}
        hidden: dict[str, Hidden] = {}
        items = list(self.m.profiles.items())
        for i, (name, item) in enumerate(items):
            profile = self.profile(name, item, scope, letters, last=i == len(items) - 1)
            if profile is None:
                continue
            out.append(profile)
            for n in self._profile_names.pop(name, ()):
                kinds[n] = scope.get(n).kind
            if profile.normal is not None:
                for h in hidden_columns(profile.normal):
                    hidden.setdefault(h.name, h)
        return ProfileSet(tuple(out), kinds, tuple(hidden[k] for k in sorted(hidden)))

    def profile(self, name: str, item: Item, scope: Scope, letters, last: bool) -> Profile | None:
        raw = item.value
        where = item.where
        if not _NAME.match(name):
            self.error(_('profiles: "{name}" is not a usable name: lower-case letters, digits, '
                         '"-" and "_" (rules read it: profile == "{lower}")').format(
                             name=name, lower=name.lower()), where)
            return None
        if not isinstance(raw, LineDict):
            self.error(_("profiles: {name} must hold when: and its weights, categories or "
                         "quotas_by, e.g. {name}: {{when: status == \"prospect\", weights: "
                         "{{potential: 60, accessibility: 40}}}}").format(name=name), where)
            return None
        at = lambda key: f"{item.source}:{raw.line_of(key)}"  # noqa: E731
        ok = True
        for key in raw:
            if key not in PROFILE_KEYS:
                self.error(_('profiles: {name} has an unknown key "{key}"{hint}; a profile has '
                             "{keys}").format(name=name, key=key,
                                              hint=did_you_mean(key, PROFILE_KEYS),
                                              keys=", ".join(PROFILE_KEYS)), at(key))
                ok = False
        when = raw.get("when")
        normal = text = None
        if when is None or (isinstance(when, str) and when.strip().casefold() == OTHERWISE):
            if not last:
                self.error(_("profiles: {name} has no condition, so it takes every account "
                             "left and the profiles after it would never be chosen: give it "
                             "when: …, or move it last with when: otherwise").format(name=name),
                           at("when") if "when" in raw else where)
                ok = False
        else:
            text = str(when) if isinstance(when, (str, int, float)) else None
            if text is None or isinstance(when, bool):
                self.error(_('profiles: {name}: when is one condition written as text, e.g. '
                             'when: status == "prospect"').format(name=name), at("when"))
                return None
            try:
                condition, _hints = check_condition(parse(text), scope)
                if PROFILE_FIELD in names_in(condition):
                    self.error(_("profiles: {name}: a profile's condition cannot read profile, "
                                 "which it chooses").format(name=name), at("when"))
                    ok = False
                text_names = {n for n in names_in(condition) if scope.get(n).kind == TEXT}
                normal = normal_form(condition, text_names)
                self._profile_names[name] = names_in(condition)
            except (SyntaxProblem, TypeProblem) as exc:
                self.error(_("profiles: {name}: {problem}").format(name=name,
                                                                    problem=exc.message),
                           at("when"))
                ok = False
        if last and text is not None:
            self.error(_("profiles: the last profile, {name}, has a condition, so an account "
                         "no profile's condition holds for would have none; add a last profile "
                         "with when: otherwise (e.g. other: {{when: otherwise}})").format(
                             name=name), at("when"))
            ok = False
        weights = None
        if "weights" in raw:
            weights = self.profile_weights(name, raw["weights"], at("weights"))
            ok = ok and weights is not None
        categories = None
        if "categories" in raw:
            categories = self.profile_categories(name, raw["categories"], item.source,
                                                 at("categories"), letters)
            ok = ok and categories is not None
        quotas_by = raw.get("quotas_by")
        if quotas_by is not None:
            info = scope.get(str(quotas_by)) if isinstance(quotas_by, str) else None
            if info is None or info.kind != TEXT or info.source == "score":
                hint = scope.suggest(str(quotas_by)) if info is None else None
                self.error(_("profiles: {name}: quotas_by names a text field whose values "
                             "make the groups (e.g. quotas_by: salesperson), not {value!r}"
                             "{hint}").format(name=name, value=quotas_by,
                                              hint=_(" (did you mean {name}?)").format(
                                                  name=hint) if hint else ""),
                           at("quotas_by"))
                ok = False
            elif (categories or self.top_categories).mode != "quotas":
                self.error(_("profiles: {name}: quotas_by splits quotas per group, but its "
                             "categories are bands (min:); give them shares (share: 10%) or "
                             "remove quotas_by").format(name=name), at("quotas_by"))
                ok = False
        if not ok:
            return None
        return Profile(name, text, normal, weights, categories,
                       str(quotas_by) if quotas_by else None, where)

    def profile_weights(self, name: str, raw: Any, where: str) -> dict[str, float] | None:
        if not isinstance(raw, LineDict) or not raw:
            self.error(_("profiles: {name}: weights lists criterion: weight pairs, e.g. "
                         "weights: {{potential: 60, accessibility: 40}}").format(name=name), where)
            return None
        out: dict[str, float] = {}
        ok = True
        for crit, value in raw.items():
            at = f"{where.rsplit(':', 1)[0]}:{raw.line_of(crit)}"
            if crit not in self.criteria:
                self.error(_('profiles: {name}: unknown criterion "{crit}"{hint}').format(
                    name=name, crit=crit, hint=did_you_mean(crit, self.criteria)), at)
                ok = False
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                self.error(_("profiles: {name}: the weight of {crit} must be a number, 0 or "
                             "more (not {value!r})").format(name=name, crit=crit, value=value), at)
                ok = False
                continue
            out[str(crit)] = float(value)
        if ok and sum(out.values()) <= 0:
            self.error(_("profiles: {name}: every weight is 0, so no account of this profile "
                         "could be scored").format(name=name), where)
            return None
        return out if ok else None

    def profile_categories(self, name: str, raw: Any, src: str, where: str, letters):
        if not isinstance(raw, LineDict):
            self.error(_("profiles: {name}: categories are written as the top-level categories: "
                         "are, e.g. A: {{min: 75, label: Strategic}}").format(
                             name=name), where)
            return None
        entries = []
        for letter, spec in raw.items():
            if not isinstance(spec, LineDict):
                self.error(_("profiles: {name}: category {letter} must be e.g. {{min: 75, "
                             "label: Strategic}} or {{share: 10%, label: Strategic}}").format(
                                 name=name, letter=letter), f"{src}:{raw.line_of(letter)}")
                return None
            entries.append((str(letter), {str(k): Item(v, src, spec.line_of(k))
                                          for k, v in spec.items()}))
        spec = self.category_spec(entries, where)
        if spec is None:
            return None
        if tuple(spec.letters) != tuple(letters):
            self.error(_("profiles: {name}: the categories are {given}; every profile uses "
                         "the file's categories, in the same order ({letters}), with its own "
                         "bands or shares and labels").format(
                             name=name, given=", ".join(spec.letters),
                             letters=", ".join(letters)), where)
            return None
        return spec
