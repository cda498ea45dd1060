"""The condition language: tokenizer, recursive-descent parser and syntax tree. No eval.

Grammar (lowest precedence first)::

    condition  := or
    or         := and (("or" | "ou") and)*
    and        := not (("and" | "et") not)*
    not        := ("not" | "non") not | comparison
    comparison := sum [ (< | <= | > | >= | == | !=) sum
                      | ["not"] "in" list | "is" ["not"] "missing" ]
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := "-" unary | atom
    atom       := number | "text" | true | false | name | call | "(" condition ")"
    call       := function "(" args ")"   (min, max, sqrt, abs, if, percentile, quintile,
                                          cumulative_share, days_since, months_since)
    list       := "[" [literal ("," literal)* [","]] "]"

A comparison may also be a text test: ``sum ("contains" | "starts with" | "ends with")
"text"``. ``if(condition, a, b)`` takes a condition as its first argument. The words of
text tests and function names are not reserved: a field may still be called ``contains``.

Numbers may use ``_`` between digits (``1_000``) and end with ``%`` (``20%``). Names are
words, possibly dotted (``score.revenue``). Keywords are case-insensitive. A syntax error
raises `SyntaxProblem` with the offset of the offending character, so the loader can say
where it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterator, Union

from ..i18n import _, ngettext

MAX_CONDITION_CHARS = 2_000
MAX_DEPTH = 40

KEYWORDS = {"and": "and", "et": "and", "or": "or", "ou": "or", "not": "not", "non": "not",
            "in": "in", "is": "is", "missing": "missing", "true": "true", "false": "false"}


class SyntaxProblem(ValueError):
    """A condition that cannot be read; ``pos`` is the 0-based offset in the text."""

    def __init__(self, message: str, pos: int):
        super().__init__(message)
        self.message = message
        self.pos = pos


# ----------------------------------------------------------------------------- tree
# ``pos`` never takes part in equality: two conditions written differently but meaning
# the same thing compare equal once normalised (used by the lint).

@dataclass(frozen=True)
class Num:
    value: float
    percent: bool = False  # written with "%": its scale depends on what it is compared to
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Str:
    value: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Bool:
    value: bool
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Name:
    name: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Neg:
    operand: "Node"
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Arith:
    op: str  # + - * /
    left: "Node"
    right: "Node"
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Cmp:
    op: str  # < <= > >= == !=
    left: "Node"
    right: "Node"
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class In:
    operand: "Node"
    values: tuple  # of Num / Str
    negated: bool = False
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Missing:
    operand: "Node"
    negated: bool = False  # "is not missing"
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class And:
    items: tuple
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Or:
    items: tuple
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Not:
    item: "Node"
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Func:
    """A function call: ``name`` is one of `FUNCTIONS`; ``args`` are nodes (for ``if`` the
    first is a condition)."""

    name: str
    args: tuple
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class TextTest:
    """``operand contains / starts with / ends with "value"`` (op: contains, starts, ends)."""

    op: str
    operand: "Node"
    value: Str
    pos: int = field(default=0, compare=False)


Node = Union[Num, Str, Bool, Name, Neg, Arith, Cmp, In, Missing, And, Or, Not, Func, TextTest]

# name → (least, most) number of arguments
FUNCTIONS = {"min": (2, 16), "max": (2, 16), "sqrt": (1, 1), "abs": (1, 1), "if": (3, 3),
             "percentile": (1, 1), "quintile": (1, 1), "cumulative_share": (1, 1),
             "days_since": (1, 1), "months_since": (1, 1)}
TEXT_TESTS = {"contains": "contains", "starts": "starts with", "ends": "ends with"}
LITERALS = (Num, Str, Bool)
COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children."""
    yield node
    if isinstance(node, (Neg,)):
        yield from walk(node.operand)
    elif isinstance(node, (Arith, Cmp)):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, (In, Missing)):
        yield from walk(node.operand)
    elif isinstance(node, (And, Or)):
        for item in node.items:
            yield from walk(item)
    elif isinstance(node, Not):
        yield from walk(node.item)
    elif isinstance(node, Func):
        for arg in node.args:
            yield from walk(arg)
    elif isinstance(node, TextTest):
        yield from walk(node.operand)


def names_in(node: Node) -> set[str]:
    return {n.name for n in walk(node) if isinstance(n, Name)}


_PRECEDENCE = {Or: 1, And: 2, Not: 3, Cmp: 4, In: 4, Missing: 4, TextTest: 4}
_ARITH_PRECEDENCE = {"+": 5, "-": 5, "*": 6, "/": 6}


def _number_text(value: float) -> str:
    """Positional notation (the grammar has no exponents) that reads back as the same float."""
    text = format(Decimal(repr(float(value))), "f")
    return text[:-2] if text.endswith(".0") else text


def unparse(node: Node) -> str:
    """Write a tree back as condition text (fully parenthesised where precedence needs it)."""

    def prec(n: Node) -> int:
        if isinstance(n, Arith):
            return _ARITH_PRECEDENCE[n.op]
        if isinstance(n, Neg):
            return 7
        return _PRECEDENCE.get(type(n), 8)

    def sub(n: Node, parent: int, strict: bool = False) -> str:
        text = unparse(n)
        p = prec(n)
        return f"({text})" if p < parent or (strict and p == parent) else text

    if isinstance(node, Num):
        return _number_text(node.value) + ("%" if node.percent else "")
    if isinstance(node, Str):
        return '"' + node.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(node, Bool):
        return "true" if node.value else "false"
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Neg):
        return "-" + sub(node.operand, 7)
    if isinstance(node, Arith):
        p = _ARITH_PRECEDENCE[node.op]
        return f"{sub(node.left, p)} {node.op} {sub(node.right, p, strict=True)}"
    if isinstance(node, Cmp):
        return f"{sub(node.left, 5)} {node.op} {sub(node.right, 5)}"
    if isinstance(node, In):
        items = ", ".join(unparse(v) for v in node.values)
        return f"{sub(node.operand, 5)} {'not in' if node.negated else 'in'} [{items}]"
    if isinstance(node, Missing):
        return f"{sub(node.operand, 5)} is {'not missing' if node.negated else 'missing'}"
    if isinstance(node, And):
        return " and ".join(sub(i, 2) for i in node.items)
    if isinstance(node, Or):
        return " or ".join(sub(i, 1) for i in node.items)
    if isinstance(node, Not):
        return "not " + sub(node.item, 3)
    if isinstance(node, Func):
        return f"{node.name}({', '.join(unparse(a) for a in node.args)})"
    if isinstance(node, TextTest):
        return f"{sub(node.operand, 5)} {TEXT_TESTS[node.op]} {unparse(node.value)}"
    return getattr(node, "name", str(node))  # a hidden column of the normal form


# ----------------------------------------------------------------------------- tokens

@dataclass(frozen=True)
class Token:
    kind: str   # num, str, name, kw, op, end
    text: str
    pos: int
    value: object = None


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>\d[\d_]*(?:\.\d[\d_]*)?%?|\.\d[\d_]*%?)
  | (?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<name>[^\W\d][\w]*(?:\.[^\W\d][\w]*)*)
  | (?P<op><>|<=|>=|==|!=|=<|=>|&&|\|\||[<>=!+\-*/()\[\],])
""", re.VERBOSE)

_MISTAKES = {"=": "write == to compare (a single = is not a comparison)",
             "<>": "write != (not equal)",
             "=<": "write <= (less than or equal)", "=>": "write >= (greater than or equal)",
             "&&": 'write "and"', "||": 'write "or"', "!": 'write "not" (or != to compare)'}


_SIGNS = {"≥": ">= (greater than or equal)", "≤": "<= (less than or equal)",
          "≠": "!= (not equal)", "×": "* to multiply", "÷": "/ to divide",
          "“": 'straight quotes "…"', "”": 'straight quotes "…"', "«": 'quotes "…"',
          "»": 'quotes "…"', "‘": "straight quotes '…'", "’": "straight quotes '…'"}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            ch = text[pos]
            if ch in _SIGNS:
                raise SyntaxProblem(_('"{ch}" is not allowed here: write {signs}').format(
                                        ch=ch, signs=_SIGNS[ch]), pos)
            if ch == "%" and tokens and tokens[-1].kind == "num":
                raise SyntaxProblem(_('write {text}% with no space before "%"').format(
                                        text=tokens[-1].text), pos)
            if ch in "\"'":
                raise SyntaxProblem(_("this text is not closed: add the closing quote"), pos)
            raise SyntaxProblem(_('"{ch}" cannot be used in a condition').format(ch=ch), pos)
        kind = m.lastgroup
        raw = m.group()
        if kind == "num":
            if m.end() < len(text) and (text[m.end()].isalpha() or text[m.end()] == "_"):
                raise SyntaxProblem(_('"{raw}{text}…" is neither a number nor a name (a name '
                                      "cannot start with a digit)").format(
                                        raw=raw, text=text[m.end()]), pos)
            digits = raw.rstrip("%")
            if "__" in digits or digits.endswith("_") or "_." in digits or "._" in digits:
                raise SyntaxProblem(_('"{raw}" is not a number: put "_" only between digits').format(
                                        raw=raw),
                                    pos)
            value = float(digits.replace("_", ""))
            if value > 1e300:
                raise SyntaxProblem(_('"{raw}" is too large a number').format(raw=raw), pos)
            tokens.append(Token("num", raw, pos, value))
        elif kind == "str":
            body = raw[1:-1]
            value = re.sub(r"\\(.)", r"\1", body)
            tokens.append(Token("str", raw, pos, value))
        elif kind == "name":
            key = raw.lower()
            if key in KEYWORDS:
                tokens.append(Token("kw", raw, pos, KEYWORDS[key]))
            else:
                tokens.append(Token("name", raw, pos, raw))
        elif kind == "op":
            if raw in _MISTAKES:
                raise SyntaxProblem(_('"{raw}" is not allowed here: {mistakes}').format(
                                        raw=raw, mistakes=_MISTAKES[raw]), pos)
            tokens.append(Token("op", raw, pos, raw))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# ----------------------------------------------------------------------------- parser

class _Parser:
    def __init__(self, text: str, arithmetic_only: bool):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.arithmetic_only = arithmetic_only

    # helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at(self, kind: str, value: object = None) -> bool:
        tok = self.tok
        return tok.kind == kind and (value is None or tok.value == value)

    def describe(self, tok: Token) -> str:
        return _("the end of the condition") if tok.kind == "end" else \
            _('"{text}"').format(text=tok.text)

    def fail(self, expected: str) -> SyntaxProblem:
        tok = self.tok
        return SyntaxProblem(_("expected {expected}, found {describe}").format(
                                 expected=expected, describe=self.describe(tok)), tok.pos)

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise SyntaxProblem(_("too deeply nested (more than {max_depth} levels): split it "
                                  "into several rules").format(max_depth=MAX_DEPTH), pos)

    # grammar
    def parse(self) -> Node:
        node = self.sum_() if self.arithmetic_only else self.or_()
        if not self.at("end"):
            tok = self.tok
            self.number_mistakes(tok)
            if tok.kind in ("num", "str", "name", "kw") or tok.value in ("(", "["):
                what = ('an operator ("and", "or", a comparison)' if not self.arithmetic_only
                        else "an operator (+ - * /)")
                raise SyntaxProblem(_("expected {what} before {describe}").format(
                                        what=what, describe=self.describe(tok)), tok.pos)
            raise SyntaxProblem(_("unexpected {describe}").format(describe=self.describe(tok)), tok.pos)
        return node

    def number_mistakes(self, tok: Token) -> None:
        """``600,5`` (a decimal comma) and ``1 000 000`` (spaces between thousands)."""
        prev = self.tokens[self.i - 1] if self.i else None
        if prev is None or prev.kind != "num":
            return
        if tok.value == "," and self.tokens[self.i + 1].kind == "num" and \
                tok.pos == prev.pos + len(prev.text) and \
                self.tokens[self.i + 1].pos == tok.pos + 1:
            nxt = self.tokens[self.i + 1]
            raise SyntaxProblem(_("write {text}.{text2} with a decimal point, not a comma").format(
                                    text=prev.text, text2=nxt.text), prev.pos)
        if tok.kind == "num" and re.fullmatch(r"\d{3}%?", tok.text) and \
                re.fullmatch(r"\d{1,3}", prev.text) and \
                not self.text[prev.pos + len(prev.text):tok.pos].strip():
            j = self.i
            while self.tokens[j + 1].kind == "num" and re.fullmatch(r"\d{3}%?",
                                                                    self.tokens[j + 1].text):
                j += 1
            digits = "".join(t.text for t in self.tokens[self.i - 1:j + 1])
            raise SyntaxProblem(_("a number cannot hold spaces: write {digits} (or "
                                  "{digits2}_{list})").format(
                                    digits=digits, digits2=digits[:len(prev.text)], list='_'.join(t.text for t in self.tokens[self.i:j + 1])), prev.pos)

    def or_(self) -> Node:
        start = self.tok.pos
        items = [self.and_()]
        while self.at("kw", "or"):
            self.take()
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(items), start)

    def and_(self) -> Node:
        start = self.tok.pos
        items = [self.not_()]
        while self.at("kw", "and"):
            self.take()
            items.append(self.not_())
        return items[0] if len(items) == 1 else And(tuple(items), start)

    def not_(self) -> Node:
        if self.at("kw", "not"):
            tok = self.take()
            self.enter(tok.pos)
            item = self.not_()
            self.depth -= 1
            return Not(item, tok.pos)
        return self.comparison()

    def comparison(self) -> Node:
        left = self.sum_()
        tok = self.tok
        if tok.kind == "op" and tok.value in COMPARISONS:
            self.take()
            right = self.sum_()
            nxt = self.tok
            if nxt.kind == "op" and nxt.value in COMPARISONS:
                raise SyntaxProblem(_('comparisons cannot be chained: write "a < x and x < b"'), nxt.pos)
            return Cmp(tok.value, left, right, tok.pos)
        if self.at("kw", "in"):
            self.take()
            return In(left, self.list_(), False, tok.pos)
        if self.at("kw", "not") and self.tokens[self.i + 1].value == "in":
            self.take()
            self.take()
            return In(left, self.list_(), True, tok.pos)
        if tok.kind == "name" and tok.value.lower() in TEXT_TESTS:
            op = tok.value.lower()
            self.take()
            if op != "contains":
                if not (self.tok.kind == "name" and self.tok.value.lower() == "with"):
                    raise self.fail(_('"with" (as in "name {op} with \\"Ab\\"")').format(op=op))
                self.take()
            if self.tok.kind != "str":
                if self.tok.kind == "name":
                    raise SyntaxProblem(_('text goes in quotes: write {text_tests} "{text}"').format(
                                            text_tests=TEXT_TESTS[op], text=self.tok.text), self.tok.pos)
                raise self.fail(_('a quoted text after "{words}"').format(words=TEXT_TESTS[op]))
            value = self.take()
            return TextTest(op, left, Str(value.value, value.pos), tok.pos)
        if self.at("kw", "is"):
            self.take()
            negated = False
            if self.at("kw", "not"):
                self.take()
                negated = True
            if not self.at("kw", "missing"):
                raise self.fail(_('"missing" (as in "x is missing" or "x is not missing")'))
            self.take()
            return Missing(left, negated, tok.pos)
        return left

    def sum_(self) -> Node:
        node = self.product()
        while self.tok.kind == "op" and self.tok.value in ("+", "-"):
            tok = self.take()
            node = Arith(tok.value, node, self.product(), tok.pos)
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.tok.kind == "op" and self.tok.value in ("*", "/"):
            tok = self.take()
            node = Arith(tok.value, node, self.unary(), tok.pos)
        return node

    def unary(self) -> Node:
        if self.at("op", "-"):
            tok = self.take()
            self.enter(tok.pos)
            operand = self.unary()
            self.depth -= 1
            if isinstance(operand, Num):  # a negative number, not an operation
                return Num(-operand.value, operand.percent, tok.pos)
            return Neg(operand, tok.pos)
        return self.atom()

    def atom(self) -> Node:
        tok = self.tok
        if tok.kind == "num":
            self.take()
            return Num(tok.value, tok.text.endswith("%"), tok.pos)
        if tok.kind == "str":
            self.take()
            return Str(tok.value, tok.pos)
        if tok.kind == "kw" and tok.value in ("true", "false"):
            self.take()
            return Bool(tok.value == "true", tok.pos)
        if tok.kind == "name":
            self.take()
            if self.at("op", "(") and tok.value.lower() in FUNCTIONS:
                return self.call(tok)
            if self.at("op", "("):
                known = ", ".join(sorted(FUNCTIONS))
                raise SyntaxProblem(_('"{text}" is not a function (the functions are {known})').format(
                                        text=tok.text, known=known), tok.pos)
            return Name(tok.value, tok.pos)
        if self.at("op", "("):
            self.take()
            self.enter(tok.pos)
            node = self.sum_() if self.arithmetic_only else self.or_()
            self.depth -= 1
            if not self.at("op", ")"):
                raise self.fail(_('")" to close the "(" opened at position {position}').format(
                    position=tok.pos + 1))
            self.take()
            return node
        if tok.kind == "kw":
            raise SyntaxProblem(_('"{text}" is a keyword and cannot start a value here').format(
                                    text=tok.text),
                                tok.pos)
        raise self.fail(_("a field name, a number or a quoted text"))

    def call(self, name: Token) -> Node:
        func = name.value.lower()
        self.take()  # "("
        self.enter(name.pos)
        args = []
        while not self.at("op", ")"):
            if self.at("end"):
                raise self.fail(_('")" to close {func}(').format(func=func))
            if func == "if" and not args:
                args.append(self.or_())
            else:
                args.append(self.sum_())
            if self.at("op", ","):
                self.take()
            elif not self.at("op", ")"):
                raise self.fail(_('"," or ")" in {func}(…)').format(func=func))
        self.take()
        self.depth -= 1
        least, most = FUNCTIONS[func]
        if not least <= len(args) <= most:
            want = (f"{least}" if least == most else f"{least} to {most}")
            example = {"if": "if(distance_km > 600, 0, 10)", "min": "min(revenue, 5000)",
                       "max": "max(revenue, revenue_n1)"}.get(func, f"{func}(revenue)")
            raise SyntaxProblem(ngettext("{func} takes {want} value (e.g. {example}), not {n}",
                                         "{func} takes {want} values (e.g. {example}), not {n}",
                                         most).format(func=func, want=want, example=example,
                                                      n=len(args)), name.pos)
        return Func(func, tuple(args), name.pos)

    def list_(self) -> tuple:
        if not self.at("op", "["):
            raise self.fail(_('a list in square brackets, e.g. ["client", "prospect"]'))
        self.take()
        values = []
        while not self.at("op", "]"):
            tok = self.tok
            negative = False
            if self.at("op", "-"):
                self.take()
                negative = True
                tok = self.tok
            if tok.kind == "num":
                self.take()
                value = -tok.value if negative else tok.value
                values.append(Num(value, tok.text.endswith("%"), tok.pos))
            elif tok.kind == "str" and not negative:
                self.take()
                values.append(Str(tok.value, tok.pos))
            elif tok.kind == "name" and not negative:
                raise SyntaxProblem(_('text goes in quotes: write "{text}"').format(text=tok.text), tok.pos)
            else:
                raise self.fail(_("a number or a quoted text in the list"))
            if self.at("op", ","):
                self.take()
            elif not self.at("op", "]"):
                raise self.fail(_('"," or "]"'))
        self.take()
        return tuple(values)


def parse(text: str, arithmetic_only: bool = False) -> Node:
    """Parse a condition (or, with ``arithmetic_only``, a ``derive`` expression)."""
    if len(text) > MAX_CONDITION_CHARS:
        raise SyntaxProblem(_("too long ({n:,} characters, at most {max_condition_chars:,}): "
                              "split it into several rules").format(
                                n=len(text), max_condition_chars=MAX_CONDITION_CHARS), 0)
    if not text.strip():
        raise SyntaxProblem(_("is empty"), 0)
    return _Parser(text, arithmetic_only).parse()
