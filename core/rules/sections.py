"""Checking the plain sections of a rule file: weights, params, categories, fields.

Each is checked against what the run knows (the criteria and their declared parameters,
the field catalogue) and every problem is reported at its ``file:line`` with a fix.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any

from ..categories import Band, CategorySpec, Quota
from ..fields import is_output_header, normalise
from ..i18n import _
from ..numbers import parse_number
from .names import CATEGORY_NAME, DECLARABLE_TYPES

FIELD_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,59}$")
MAX_HEADER = 60
OUTPUT_SUFFIX = " (set by rules)"  # default header of a set field's column


def did_you_mean(word: Any, options) -> str:
    hit = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return _(" (did you mean {name}?)").format(name=hit[0]) if hit else ""


def plain_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _share(value: Any) -> float | None:
    """A quota share: 10% (YAML text "10%") or 0.1."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return parse_number(value.strip()[:-1]) / 100
        except ValueError:
            return None
    return plain_number(value)


class SectionChecks:
    """Mixed into `Builder`: needs ``self.m``, ``self.criteria``, ``self.catalogue``,
    ``self.error``, ``self.warn`` and ``self.notice``."""

    def weights(self) -> dict[str, float]:
        out: dict[str, float] = {}
        ok = True
        for name, item in self.m.weights.items():
            if name not in self.criteria:
                self.error(_('weights: unknown criterion "{name}"{did_you_mean}; the criteria '
                             "are {list}").format(
                               name=name, did_you_mean=did_you_mean(name, self.criteria), list=', '.join(sorted(self.criteria))), item.where)
                ok = False
                continue
            value = plain_number(item.value)
            if value is None or value < 0:
                self.error(_("weights: {name} must be a number, 0 or more (not {value!r})").format(
                               name=name, value=item.value),
                           item.where)
                ok = False
                continue
            out[name] = value
        if ok and out:
            self._weights_total(out)
        return out

    def _weights_total(self, given: dict[str, float]) -> None:
        """All weights 0 is an error; a total other than 100 is said (weights are relative).

        Criteria the file does not list keep their default weight, so they count too.
        """
        where = self.m.weights_where or self.m.source
        kept = {n: float(getattr(c, "default_weight", 0) or 0) for n, c in self.criteria.items()
                if n not in given}
        total = sum(given.values()) + sum(kept.values())
        if total <= 0:
            self.error(_("weights: every weight is 0, so no account could be scored; give at "
                         "least one criterion a weight above 0 (a weight of 0 leaves that one "
                         "criterion out)"), where)
            return
        if not math.isclose(total, 100, abs_tol=1e-9):
            largest = max({**given, **kept}.items(), key=lambda kv: kv[1])
            defaults = [f"{n} {w:g}" for n, w in sorted(kept.items()) if w > 0]
            also = _(", with the default weights of the criteria not listed ({weights})").format(
                weights=", ".join(defaults)) if defaults else ""
            self.notice(_("weights add up to {total:g}{also}, not 100: weights are relative, "
                          "each counts for its share of the total ({largest} {largest2:g} of "
                          "{total:g} = {value:.0%})").format(
                            total=total, also=also, largest=largest[0], largest2=largest[1], value=largest[1] / total), where)

    def params(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for crit, values in self.m.params.items():
            criterion = self.criteria.get(crit)
            if criterion is None:
                first = next(iter(values.values()), None)
                self.error(_('params: unknown criterion "{crit}"{did_you_mean}').format(
                               crit=crit, did_you_mean=did_you_mean(crit, self.criteria)),
                           first.where if first else self.m.source)
                continue
            declared = dict(getattr(criterion, "params", {}) or {})
            for name, item in values.items():
                if name not in declared:
                    known = ", ".join(sorted(declared)) or "none"
                    self.error(_('params: {crit} has no parameter "{name}"{did_you_mean} (its '
                                 "parameters: {known})").format(
                                   crit=crit, name=name, did_you_mean=did_you_mean(name, declared), known=known),
                               item.where)
                    continue
                problem = _param_type(declared[name].default, item.value)
                if problem:
                    self.error(_("params: {crit}.{name} {problem}").format(
                                   crit=crit, name=name, problem=problem), item.where)
                    continue
                out.setdefault(crit, {})[name] = item.value
        return out

    def categories(self) -> CategorySpec | None:
        if not self.m.categories:
            return None
        return self.category_spec(self.m.categories, self.m.categories_where)

    def category_spec(self, entries, where: str) -> CategorySpec | None:
        """Bands or quotas from ``entries`` ([(letter, {key: Item})], best first)."""
        letters = [letter for letter, _ in entries]
        for letter, entry in entries:
            for key, item in entry.items():
                if key not in ("min", "share", "label"):
                    self.error(_("categories: {letter} has an unknown key "
                                 '"{key}"{did_you_mean}: use min (bands) or share (quotas), '
                                 "and label").format(
                                   letter=letter, key=key, did_you_mean=did_you_mean(key, ('min', 'share', 'label'))), item.where)
            if not CATEGORY_NAME.match(letter):
                self.error(_('categories: "{letter}" is not a category name: a capital letter, '
                             "then up to two capitals or digits and an optional + or - (A, B, "
                             "A+, A-, A1, AX)").format(letter=letter), where)
        if len(set(letters)) != len(letters) or len(letters) < 2:
            self.error(_("categories: give at least two different letters"), where)
            return None
        uses_share = any("share" in e for _, e in entries)
        uses_min = any("min" in e for _, e in entries)
        if uses_share and uses_min:
            self.error(_("categories: use either min (score bands) or share (quotas), not both"),
                       where)
            return None
        labels = {letter: str(e["label"].value) if "label" in e else "" for letter, e in entries}
        if uses_share:
            return self._quotas(entries, labels, where)
        return self._bands(entries, labels, where)

    def _bands(self, entries, labels, where) -> CategorySpec | None:
        bands, previous = [], math.inf
        for letter, entry in entries:
            item = entry.get("min")
            value = plain_number(item.value) if item else None
            if value is None:
                self.error(_("categories: {letter} needs min: a score from 0 to 100").format(
                               letter=letter),
                           item.where if item else where)
                return None
            if value >= previous:
                self.error(_("categories: list the bands best first, each min lower than the "
                             "one before ({letter} has min {value:g})").format(
                               letter=letter, value=value), item.where)
                return None
            previous = value
            bands.append(Band(letter, value, labels[letter]))
        last = bands[-1]
        if last.min > 0:
            self.notice(_("categories: the last band, {letter}, starts at {min:g}, not 0: "
                          "accounts scoring below {min:g} get no category (their Why says "
                          '"below the lowest band"); write {letter}: {{min: 0}} if every '
                          "account should get one").format(letter=last.letter, min=last.min), entries[-1][1]["min"].where)
        return CategorySpec("bands", bands=tuple(bands))

    def _quotas(self, entries, labels, where) -> CategorySpec | None:
        quotas, total = [], 0.0
        for i, (letter, entry) in enumerate(entries):
            item = entry.get("share")
            if item is None:
                if i != len(entries) - 1:
                    self.error(_("categories: {letter} needs share: (only the last category "
                                 "takes the rest)").format(letter=letter), where)
                    return None
                quotas.append(Quota(letter, None, labels[letter]))
                continue
            share = _share(item.value)
            if share is None or not 0 < share <= 1:
                self.error(_("categories: {letter} share must be a percentage such as 10% (not "
                             "{value!r})").format(letter=letter, value=item.value), item.where)
                return None
            total += share
            quotas.append(Quota(letter, share, labels[letter]))
        if total > 1 + 1e-9:
            self.error(_("categories: the shares add up to {total:.0%}, more than 100%").format(
                           total=total), where)
            return None
        return CategorySpec("quotas", quotas=tuple(quotas))

    def outputs(self, set_by: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
        """The output column of each field a ``set`` action writes: field → header.

        ``set_by`` maps each field set by a rule to that rule's ``file:line``. The header is
        the one given under ``outputs:``, else the field's title + " (set by rules)". A header may
        not be one of Potentiel's own columns, nor one the reader would take for a field
        (the column would be read back as input next run), nor used twice.
        """
        out: dict[str, str] = {}
        wheres = dict(set_by)
        for name, item in self.m.outputs.items():
            wheres[name] = item.where
            if name not in self.catalogue and name not in extra:
                self.error(_('outputs: unknown field "{name}"{did_you_mean}').format(
                               name=name, did_you_mean=did_you_mean(name, [*self.catalogue.fields, *extra])), item.where)
                continue
            if name not in set_by:
                self.warn(_("outputs: no rule sets {name}, so its column {value!r} would stay "
                            "as the account has it; outputs names the column of a value a rule "
                            "sets").format(name=name, value=item.value), item.where)
                continue
            header = self._output_header(name, item.value, extra, item.where)
            if header is not None:
                out[name] = header
        for name, where in set_by.items():
            if name not in out and name not in self.m.outputs:
                title = self.catalogue[name].english_title if name in self.catalogue else \
                    name.replace("_", " ").capitalize()
                header = self._output_header(name, title + OUTPUT_SUFFIX, extra, where)
                if header is not None:
                    out[name] = header
                    self.notice(_('{name} set by a rule shows in the output column "{header}" '
                                  "(the account's own cell is never changed); to name the "
                                  "column: outputs: {{{name}: …}}").format(
                                    name=name, header=header), where)
        seen: dict[str, str] = {}
        for name, header in out.items():
            key = normalise(header)
            if key in seen:
                self.error(_('outputs: {name} and {seen} both get the column "{header}"; give '
                             "each its own").format(name=name, seen=seen[key], header=header), wheres[name])
            seen.setdefault(key, name)
        return out

    def _output_header(self, name: str, value: Any, extra: dict[str, str],
                       where: str) -> str | None:
        header = value.strip() if isinstance(value, str) else ""
        if not header or len(header) > MAX_HEADER or header[0] in "=+-@" or "\n" in header:
            self.error(_("outputs: {name} needs a column header: text of at most {max_header} "
                         "characters, not starting with = + - or @ (e.g. {name}: "
                         "{capitalize}{output_suffix})").format(
                           name=name, max_header=MAX_HEADER, capitalize=name.replace('_', ' ').capitalize(), output_suffix=OUTPUT_SUFFIX), where)
            return None
        if is_output_header(header):
            self.error(_('outputs: "{header}" is one of Potentiel\'s own columns; give {name} '
                         "another header").format(header=header, name=name), where)
            return None
        read_as = self.catalogue.match(header) or next(
            (f for f in extra if normalise(f) == normalise(header)), None)
        if read_as is not None:
            self.error(_('outputs: a column "{header}" would be read as the field {read_as} '
                         "next time, not kept as an output; give {name} another header, e.g. "
                         '"{header}{output_suffix}"').format(
                           header=header, read_as=read_as, name=name, output_suffix=OUTPUT_SUFFIX), where)
            return None
        close = self.catalogue.suggest(header)
        if close is not None:
            self.warn(_('outputs: the column "{header}" looks like the field {close}, so each '
                        "run will list it as an unknown column (did you mean …?); a header "
                        "less like a field's avoids it: outputs: {{{name}: …}}").format(
                          header=header, close=close, name=name), where)
        return header

    def extra_fields(self) -> dict[str, str]:
        out = {}
        for name, item in self.m.fields.items():
            if not FIELD_NAME.match(name):
                self.error(_('fields: "{name}" is not a usable name: lower-case letters, '
                             "digits and _ only").format(name=name), item.where)
                continue
            if item.value not in DECLARABLE_TYPES:
                self.error(_("fields: {name} has type {value!r}; the types are {list}").format(
                               name=name, value=item.value, list=', '.join(DECLARABLE_TYPES)), item.where)
                continue
            if name in self.catalogue:
                self.warn(_("fields: {name} is already a known field; this declaration is not "
                            "needed").format(name=name), item.where)
                continue
            out[name] = item.value
        return out


def _param_type(default: Any, value: Any) -> str:
    if default is None:
        return ""
    if isinstance(default, bool):
        return "" if isinstance(value, bool) else _("is true or false")
    if isinstance(default, (int, float)):
        return "" if plain_number(value) is not None else \
            _("is a number, not {value!r}").format(value=value)
    if isinstance(default, str):
        return "" if isinstance(value, str) else _("is a text, not {value!r}").format(value=value)
    if isinstance(default, (list, tuple)):
        return "" if isinstance(value, list) else _("is a list, not {value!r}").format(value=value)
    if isinstance(default, dict):
        return "" if isinstance(value, dict) else \
            _("is a set of name: value pairs, not {value!r}").format(value=value)
    return ""
