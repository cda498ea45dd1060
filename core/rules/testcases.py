"""Checking the ``tests:`` cases of a rule file: sample accounts and expectations.

A test account may only use known or declared fields, with values of the right kind
(numbers may be typed as in a workbook, ``"180 k€"``); an expectation must be one the
test runner understands, with category letters of this file and rule ids that exist.
"""

from __future__ import annotations

from ..fields import STATUS, STATUSES
from ..i18n import _
from ..numbers import parse_number
from .files import Item
from .model import RuleTest
from .names import Scope
from .sections import did_you_mean, plain_number
from .source import LineDict

TEST_KEYS = ("name", "account", "expect")
EXPECT_KEYS = ("flags", "not_flags", "category", "category_at_most", "category_at_least",
               "score_min", "score_max", "fired", "not_fired", "profile", "subscores", "bands",
               "cross")
MAX_TESTS = 2_000


class TestCaseChecks:
    """Mixed into `Builder`: needs ``self.m``, ``self.catalogue`` and ``self.error``."""

    __test__ = False  # not a pytest test class

    def tests(self, scope: Scope, letters, rule_ids: set[str]) -> list[RuleTest]:
        if len(self.m.tests) > MAX_TESTS:
            self.error(_("{n:,} tests: at most {max_tests:,}").format(
                           n=len(self.m.tests), max_tests=MAX_TESTS), self.m.source)
            return []
        out = []
        for name, item in self.m.tests.items():
            test = self.test(name, item, scope, letters, rule_ids)
            if test is not None:
                out.append(test)
        return out

    def test(self, name, item: Item, scope: Scope, letters, rule_ids) -> RuleTest | None:
        raw: LineDict = item.value
        src = item.source
        at = lambda d, key: f"{src}:{d.line_of(key)}"  # noqa: E731
        ok = True
        for key in raw:
            if key not in TEST_KEYS:
                self.error(_('test "{name}": unknown key "{key}"{did_you_mean}; a test has '
                             "name, account and expect").format(
                               name=name, key=key, did_you_mean=did_you_mean(key, TEST_KEYS)), at(raw, key))
                ok = False
        account = raw.get("account")
        if not isinstance(account, LineDict):
            self.error(_('test "{name}": add "account:" with the fields of a sample account').format(
                           name=name),
                       item.where)
            return None
        values = {}
        for field_name, value in account.items():
            field_name = str(field_name)
            f = self.catalogue.fields.get(field_name)
            declared = self.m.fields.get(field_name)
            if f is None and declared is None:
                hint = scope.suggest(field_name)
                extra = _(" (did you mean {name}?)").format(name=hint) if hint else ""
                self.error(_('test "{name}": unknown field "{field_name}"{extra}').format(
                               name=name, field_name=field_name, extra=extra),
                           at(account, field_name))
                ok = False
                continue
            numeric = f.numeric if f is not None else declared.value not in ("text", "date")
            if value is None:
                continue
            if numeric and not (isinstance(value, (int, float)) and not isinstance(value, bool)):
                try:
                    value = parse_number(str(value))
                except ValueError:
                    self.error(_('test "{name}": {field_name} is a number, not {value!r}').format(
                                   name=name, field_name=field_name, value=value),
                               at(account, field_name))
                    ok = False
                    continue
            if f is not None and f.type == STATUS and str(value).strip().casefold() not in STATUSES:
                self.error(_('test "{name}": status is {list}, not {value!r}').format(
                               name=name, list=", ".join(STATUSES), value=value),
                           at(account, field_name))
                ok = False
                continue
            values[field_name] = value if numeric else str(value)
        expect = raw.get("expect")
        if not isinstance(expect, LineDict) or not expect:
            self.error(_('test "{name}": add "expect:" (flags, category, category_at_most, '
                         "score_min, fired…)").format(name=name), item.where)
            return None
        checked = {}
        for key, value in expect.items():
            where = at(expect, key)
            if key not in EXPECT_KEYS:
                self.error(_('test "{name}": unknown expectation "{key}"{did_you_mean}; use '
                             "{list}").format(
                               name=name, key=key, did_you_mean=did_you_mean(key, EXPECT_KEYS), list=', '.join(EXPECT_KEYS)), where)
                ok = False
                continue
            if key in ("flags", "not_flags", "fired", "not_fired"):
                items = value if isinstance(value, list) else [value]
                if not all(isinstance(v, str) for v in items):
                    self.error(_('test "{name}": {key} is a list of names').format(
                                   name=name, key=key), where)
                    ok = False
                    continue
                if key in ("fired", "not_fired"):
                    for rid in items:
                        if rid not in rule_ids:
                            self.error(_('test "{name}": no rule "{rid}"{did_you_mean}').format(
                                           name=name, rid=rid, did_you_mean=did_you_mean(rid, rule_ids)), where)
                            ok = False
                checked[key] = tuple(items)
            elif key == "profile":
                names = scope.get("profile").choices if scope.get("profile") else ()
                if not isinstance(value, str) or value.strip().lower() not in names:
                    self.error(_('test "{name}": profile is one of the profiles ({names}), not '
                                 "{value!r}").format(name=name, names=", ".join(names) or
                                                     _("this file has none"), value=value),
                               where)
                    ok = False
                    continue
                checked[key] = value.strip().lower()
            elif key in ("subscores", "bands", "cross"):
                got = self.expect_subscores(name, key, value, where)
                if got is None:
                    ok = False
                    continue
                checked[key] = got
            elif key.startswith("category"):
                if not isinstance(value, str) or value.strip().upper() not in letters:
                    self.error(_('test "{name}": {key} is a category letter ({list}), not '
                                 "{value!r}").format(
                                   name=name, key=key, list=', '.join(letters), value=value), where)
                    ok = False
                    continue
                checked[key] = value.strip().upper()
            else:
                number = plain_number(value)
                if number is None:
                    self.error(_('test "{name}": {key} is a number').format(name=name, key=key), where)
                    ok = False
                    continue
                checked[key] = number
        if not ok:
            return None
        return RuleTest(name, values, checked, src, item.line)

    def expect_subscores(self, name: str, key: str, value, where: str):
        """``subscores: {fit: 70}`` (points, exact), ``bands: {fit: A}``, ``cross: A1``:
        checked against the file's sub-scores; None (reported) when wrong."""
        subs = getattr(self, "_subscores", None) or {}
        cross = getattr(self, "_cross", None)
        if not subs:
            self.error(_('test "{name}": {key} checks sub-scores, and this file has none '
                         "(subscores:)").format(name=name, key=key), where)
            return None
        if key == "cross":
            if cross is None:
                self.error(_('test "{name}": cross checks the cell of cross:, and this file '
                             "has none").format(name=name), where)
                return None
            cells = [f"{a}{b}" for a, _x in subs[cross.rows].bands
                     for b, _y in subs[cross.columns].bands]
            text = str(value).strip() if isinstance(value, (str, int)) else None
            match = next((c for c in cells if text is not None and c.casefold() ==
                          text.casefold()), None)
            if match is None:
                self.error(_('test "{name}": cross is a cell of {rows} × {columns} ({cells}), '
                             "not {value!r}").format(name=name, rows=cross.rows,
                                                    columns=cross.columns,
                                                    cells=", ".join(cells), value=value), where)
            return match
        if not isinstance(value, LineDict) or not value:
            example = "{fit: 70}" if key == "subscores" else "{fit: A}"
            self.error(_('test "{name}": {key} lists sub-score: value pairs, e.g. {key}: '
                         "{example}").format(name=name, key=key, example=example), where)
            return None
        out = {}
        for sub, want in value.items():
            if sub not in subs:
                self.error(_('test "{name}": {key}: "{sub}" is not a sub-score of this file '
                             "({names})").format(name=name, key=key, sub=sub,
                                                 names=", ".join(subs)), where)
                return None
            if key == "subscores":
                number = plain_number(want)
                if number is None:
                    self.error(_('test "{name}": subscores: {sub} is a number (its points), '
                                 "not {value!r}").format(name=name, sub=sub, value=want), where)
                    return None
                out[str(sub)] = number
            else:
                names = [b for b, _low in subs[sub].bands]
                match = next((b for b in names if str(want).strip().casefold() ==
                              b.casefold()), None)
                if match is None or isinstance(want, bool):
                    self.error(_('test "{name}": bands: {sub} is one of its bands ({names}), '
                                 "not {value!r}").format(name=name, sub=sub,
                                                        names=", ".join(names), value=want),
                               where)
                    return None
                out[str(sub)] = match
        return out
