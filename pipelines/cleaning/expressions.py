"""A small, whitelisted expression language over question names, compiled to polars expressions.

Logical checks in a mapping (``cleaning.logical``) and XLSForm constraints (checked on a cleaning log's new
values) are written by field teams, in R or XLSForm style. They are parsed here by a recursive-descent parser
into polars expressions; nothing is ever handed to Python's ``eval``. Grammar (loosest binding first)::

    expr    := or
    or      := and (("or" | "|" | "||") and)*
    and     := not (("and" | "&" | "&&") not)*
    not     := ("not" | "!") not | cmp
    cmp     := sum (("==" | "=" | "!=" | "<" | "<=" | ">" | ">=") sum | ("in" | "%in%") list)?
    sum     := prod (("+" | "-") prod)*
    prod    := unary (("*" | "/") unary)*
    unary   := "-" unary | atom
    atom    := number | 'text' | "text" | name | ${name} | "." | "(" expr ")" | call
    call    := selected(name, 'code') | count-selected(name) | is_blank(name) | is.na(name)
               | not(expr) | answered(name)
    list    := ("(" | "[" | "c(") value ("," value)* (")" | "]")

A name is a question (``tot_expenses``, ``grp/q``, R's ``q.choice``); ``.`` is the value being checked (XLSForm
constraints). Compared with a number, a question is read as a number (blank or unreadable: the comparison is
NULL, which a check does not flag); otherwise as trimmed text. ``selected`` reads a select_multiple's
space-separated answer. Anything else (functions such as ``regex``, unknown operators) raises
:class:`ExpressionError`, naming the expression and the position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from data_contracts.parsing import DIGIT_MAP

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<number>\d+(?:\.\d+)?)
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<ref>\$\{[A-Za-z_][\w./-]*\})
    | (?P<op>%in%|==|!=|<=|>=|&&|\|\||count-selected|[()\[\],<>=!&|+\-*/])
    | (?P<name>[A-Za-z_][\w./]*|\.)
    )""", re.VERBOSE)


class ExpressionError(ValueError):
    """An expression outside the whitelisted grammar, or naming a question the data does not have."""


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Tok]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExpressionError(f"{text!r}: cannot read {text[pos:pos + 12]!r} at position {pos}")
        kind = m.lastgroup or "op"
        value = m.group(kind)
        out.append(_Tok(kind, value, m.start(kind)))
        pos = m.end()
    return out


def as_number(expr: pl.Expr) -> pl.Expr:
    """Text → number; thousands separators and Arabic-Indic digits allowed; NULL when not a number."""
    d = expr.cast(pl.String).str.replace_many(list(DIGIT_MAP), list(DIGIT_MAP.values())).str.strip_chars()
    return d.str.replace_all(",", "").cast(pl.Float64, strict=False)


@dataclass
class _Value:
    """A compiled operand: its expression and whether it is a number literal or arithmetic (numeric)."""

    expr: pl.Expr
    numeric: bool
    is_question: bool = False
    raw: pl.Expr | None = None  # the question's text when is_question


class _Parser:
    def __init__(self, text: str, columns: dict[str, str], dot: str | None):
        self.text, self.columns, self.dot = text, columns, dot
        self.toks, self.i = _tokenize(text), 0
        self.names: list[str] = []

    # -- helpers
    def _peek(self, *texts: str) -> bool:
        return self.i < len(self.toks) and self.toks[self.i].text in texts and self.toks[self.i].kind in ("op", "name")

    def _take(self) -> _Tok:
        if self.i >= len(self.toks):
            raise ExpressionError(f"{self.text!r}: ends too early")
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def _expect(self, text: str) -> None:
        tok = self._take()
        if tok.text != text:
            raise ExpressionError(f"{self.text!r}: expected {text!r} at position {tok.pos}, found {tok.text!r}")

    def _column(self, name: str, pos: int) -> str:
        if name == ".":
            if self.dot is None:
                raise ExpressionError(f"{self.text!r}: '.' (the value itself) is only for constraints")
            name = self.dot
        col = self.columns.get(name)
        if col is None:
            raise ExpressionError(f"{self.text!r}: {name!r} at position {pos} is not a question of the data")
        if col not in self.names:
            self.names.append(col)
        return col

    def _question(self, name: str, pos: int) -> _Value:
        col = self._column(name, pos)
        text = pl.col(col).cast(pl.String).str.strip_chars()
        return _Value(text, numeric=False, is_question=True, raw=text)

    # -- grammar
    def parse(self) -> pl.Expr:
        value = self._or()
        if self.i != len(self.toks):
            tok = self.toks[self.i]
            raise ExpressionError(f"{self.text!r}: unexpected {tok.text!r} at position {tok.pos}")
        return self._bool(value)

    def _bool(self, v: _Value | pl.Expr) -> pl.Expr:
        if isinstance(v, pl.Expr):
            return v
        raise ExpressionError(f"{self.text!r}: the expression must be a comparison or a condition, not a value")

    def _or(self):
        left = self._and()
        while self._peek("or", "|", "||"):
            self._take()
            left = self._bool(left) | self._bool(self._and())
        return left

    def _and(self):
        left = self._not()
        while self._peek("and", "&", "&&"):
            self._take()
            left = self._bool(left) & self._bool(self._not())
        return left

    def _not(self):
        if self._peek("not", "!") and not (self.i + 1 < len(self.toks) and self.toks[self.i + 1].text == "("
                                           and self.toks[self.i].text == "not"):
            self._take()
            return ~self._bool(self._not())
        return self._cmp()

    def _cmp(self):
        left = self._sum()
        if self._peek("==", "=", "!=", "<", "<=", ">", ">="):
            op = self._take().text
            right = self._sum()
            return self._compare(left, op, right)
        if self._peek("in", "%in%"):
            self._take()
            values = self._list()
            v = self._as_value(left)
            if all(isinstance(x, float) for x in values):
                return as_number(v.expr).is_in(values) if not v.numeric else v.expr.is_in(values)
            return v.expr.cast(pl.String).is_in([x if isinstance(x, str) else _fmt(x) for x in values])
        return left

    def _as_value(self, v) -> _Value:
        if isinstance(v, _Value):
            return v
        raise ExpressionError(f"{self.text!r}: a condition cannot be compared")

    def _compare(self, left, op: str, right) -> pl.Expr:
        a, b = self._as_value(left), self._as_value(right)
        if a.numeric or b.numeric:
            ea = a.expr if a.numeric else as_number(a.expr)
            eb = b.expr if b.numeric else as_number(b.expr)
        else:
            ea, eb = a.expr, b.expr
        return {"==": ea == eb, "=": ea == eb, "!=": ea != eb, "<": ea < eb, "<=": ea <= eb,
                ">": ea > eb, ">=": ea >= eb}[op]

    def _sum(self):
        left = self._prod()
        while self._peek("+", "-"):
            op = self._take().text
            right = self._prod()
            a, b = self._num(left), self._num(right)
            left = _Value(a + b if op == "+" else a - b, numeric=True)
        return left

    def _prod(self):
        left = self._unary()
        while self._peek("*", "/"):
            op = self._take().text
            right = self._unary()
            a, b = self._num(left), self._num(right)
            left = _Value(a * b if op == "*" else a / b, numeric=True)
        return left

    def _num(self, v) -> pl.Expr:
        v = self._as_value(v)
        return v.expr if v.numeric else as_number(v.expr)

    def _unary(self):
        if self._peek("-"):
            self._take()
            return _Value(-self._num(self._unary()), numeric=True)
        return self._atom()

    def _atom(self):
        tok = self._take()
        if tok.kind == "number":
            return _Value(pl.lit(float(tok.text)), numeric=True)
        if tok.kind == "string":
            return _Value(pl.lit(tok.text[1:-1]), numeric=False)
        if tok.kind == "ref":
            return self._question(tok.text[2:-1], tok.pos)
        if tok.text == "(":
            inner = self._or()
            self._expect(")")
            return inner
        if tok.kind == "name" or tok.text == "count-selected":
            if self.i < len(self.toks) and self.toks[self.i].text == "(":
                return self._call(tok)
            if tok.text in ("and", "or", "not", "in"):
                raise ExpressionError(f"{self.text!r}: unexpected {tok.text!r} at position {tok.pos}")
            return self._question(tok.text, tok.pos)
        raise ExpressionError(f"{self.text!r}: unexpected {tok.text!r} at position {tok.pos}")

    def _arg_name(self) -> str:
        tok = self._take()
        if tok.kind == "ref":
            return self._column(tok.text[2:-1], tok.pos)
        if tok.kind == "name":
            return self._column(tok.text, tok.pos)
        raise ExpressionError(f"{self.text!r}: expected a question name at position {tok.pos}, found {tok.text!r}")

    def _call(self, tok: _Tok):
        name = tok.text
        self._expect("(")
        if name == "not":
            inner = self._bool(self._or())
            self._expect(")")
            return ~inner
        if name == "selected":
            col = self._arg_name()
            self._expect(",")
            code = self._take()
            if code.kind != "string":
                raise ExpressionError(f"{self.text!r}: selected() needs a quoted choice code at position {code.pos}")
            self._expect(")")
            return pl.col(col).cast(pl.String).str.strip_chars().str.split(" ").list.contains(code.text[1:-1])
        if name == "count-selected":
            col = self._arg_name()
            self._expect(")")
            tokens = pl.col(col).cast(pl.String).str.strip_chars().str.split(" ").list.eval(
                pl.element().filter(pl.element() != ""))
            return _Value(tokens.list.len().cast(pl.Float64).fill_null(0.0), numeric=True)
        if name in ("is_blank", "is.na", "isblank", "answered", "is_answered"):
            col = self._arg_name()
            self._expect(")")
            blank = pl.col(col).is_null() | (pl.col(col).cast(pl.String).str.strip_chars() == "")
            return ~blank if name in ("answered", "is_answered") else blank
        raise ExpressionError(f"{self.text!r}: function {name}() is not supported (selected, count-selected, "
                              "is_blank, answered, not)")

    def _list(self) -> list:
        if self._peek("c"):
            self._take()
        tok = self._take()
        if tok.text not in ("(", "["):
            raise ExpressionError(f"{self.text!r}: expected a list such as ('a', 'b') at position {tok.pos}")
        close = ")" if tok.text == "(" else "]"
        values: list = []
        while True:
            v = self._take()
            if v.kind == "string":
                values.append(v.text[1:-1])
            elif v.kind == "number":
                values.append(float(v.text))
            else:
                raise ExpressionError(f"{self.text!r}: list values are quoted texts or numbers (position {v.pos})")
            sep = self._take()
            if sep.text == close:
                return values
            if sep.text != ",":
                raise ExpressionError(f"{self.text!r}: expected ',' or {close!r} at position {sep.pos}")


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def compile_expression(text: str, columns: dict[str, str], dot: str | None = None) -> tuple[pl.Expr, list[str]]:
    """Compile ``text`` to a boolean polars expression over a frame's columns.

    ``columns`` maps every name an expression may use (Kobo name, R's ``make.names`` spelling, group-less
    name) to the frame's column; ``dot`` is the column ``.`` stands for (constraints). Returns the expression
    and the columns it reads, in order of first use.

    Raises:
        ExpressionError: the text is outside the grammar (module docstring) or names an unknown question.
    """
    parser = _Parser(text, columns, dot)
    return parser.parse(), parser.names
