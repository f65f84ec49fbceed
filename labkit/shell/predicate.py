"""Where-Object script blocks and the queue cmdlets' ``-Filter``: comparisons joined by ``-and`` / ``-or``.

``{ $_.Status -eq 'Retry' }`` (Where-Object) and ``{Status -eq "Retry"}`` (an OPATH
``-Filter``) both read as property, operator, value. Operators: ``-eq -ne -like
-notlike -gt -lt -ge -le -match``, case-insensitive as in PowerShell; the left
operand's type decides how the right one is read (``MessageCount -gt '5'`` is a
number comparison). A collection on the left keeps the comparison true when any
element matches, as PowerShell filters arrays. ``-and`` and ``-or`` have equal
precedence and are read left to right, as in PowerShell.

>>> p = compile_predicate(ScriptBlock("$_.MessageCount -gt 0 -and $_.Status -like 'Re*'", 0), "{...}")
>>> p.test({"MessageCount": 2, "Status": "Retry"}), p.test({"MessageCount": 0, "Status": "Retry"})
(True, False)
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from labkit.shell.errors import ShellError, parse_error
from labkit.shell.tokens import ScriptBlock, Token, tokenize

OPERATORS = ("eq", "ne", "like", "notlike", "gt", "lt", "ge", "le", "match")


@dataclass(frozen=True)
class Comparison:
    """``property -op value``; `negate` for ``-not``."""

    prop: str
    op: str
    value: Any
    negate: bool = False

    def test(self, obj: Mapping[str, Any]) -> bool:
        """Whether `obj` passes."""
        actual = _get(obj, self.prop)
        if self.op == "":
            result = bool(actual)
        elif isinstance(actual, list | tuple):
            result = any(compare(item, self.op, self.value) for item in actual)
        else:
            result = compare(actual, self.op, self.value)
        return result != self.negate


@dataclass(frozen=True)
class Predicate:
    """Comparisons and the ``-and`` / ``-or`` between them, read left to right."""

    first: Comparison
    rest: tuple[tuple[str, Comparison], ...] = ()
    source: str = ""

    def test(self, obj: Mapping[str, Any]) -> bool:
        """Whether `obj` passes the whole expression."""
        result = self.first.test(obj)
        for joiner, comparison in self.rest:
            result = (result and comparison.test(obj)) if joiner == "and" else (result or comparison.test(obj))
        return result


def _get(obj: Mapping[str, Any], name: str) -> Any:
    for key, value in obj.items():
        if key.lower() == name.lower():
            return value
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def compare(actual: Any, op: str, expected: Any) -> bool:
    """One PowerShell comparison, the left operand's type deciding (case-insensitive for text).

    >>> compare("Retry", "eq", "retry"), compare(5, "gt", "10"), compare("MAIL\\\\1", "like", "mail\\\\*")
    (True, False, True)
    """
    if op in ("like", "notlike"):
        hit = fnmatch.fnmatchcase(_text(actual).lower(), _text(expected).lower())
        return hit if op == "like" else not hit
    if op == "match":
        return re.search(_text(expected), _text(actual), re.IGNORECASE) is not None
    if actual is None or expected is None:
        same = actual is None and expected is None
        return {"eq": same, "ne": not same}.get(op, False)
    left: Any
    right: Any
    if isinstance(actual, bool):
        left, right = actual, expected if isinstance(expected, bool) else _text(expected).lower() == "true"
    elif isinstance(actual, int | float) and _number(expected) is not None:
        left, right = float(actual), _number(expected)
    else:
        left, right = _text(actual).lower(), _text(expected).lower()
    outcome: bool = {
        "eq": left == right, "ne": left != right, "gt": left > right, "lt": left < right,
        "ge": left >= right, "le": left <= right,
    }[op]  # fmt: skip
    return outcome


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return "" if value is None else str(value)


def _operand(token: Token, source: str) -> Any:
    if token.kind == "variable":
        constants: dict[str, Any] = {"true": True, "false": False, "null": None}
        if token.value in constants and not token.member:
            return constants[token.value]
        raise parse_error(f"The lab's filters compare a property with a value; '{source}' is not one.",
                          "UnexpectedToken", (token.start, token.end))  # fmt: skip
    return token.value


def _property(token: Token, bare_allowed: bool) -> str | None:
    if token.kind == "variable" and token.value == "_" and token.member:
        return str(token.member)
    if bare_allowed and token.kind == "word":
        return str(token.value)
    return None


def compile_predicate(block: ScriptBlock, where: str, bare: bool = False) -> Predicate:
    """Parse a filter block.

    Args:
        block: the block (its text and offset in the line).
        where: how the error messages name it.
        bare: properties may be bare words (``-Filter {Status -eq 'Retry'}``); otherwise ``$_.Status``.

    Raises:
        ShellError: not a comparison the lab understands.
    """
    offset = max(block.offset, 0)
    tokens = tokenize(" " * offset + block.text, offset)
    comparisons: list[tuple[str, Comparison]] = []
    joiner = ""
    i = 0
    while i < len(tokens):
        negate = False
        if tokens[i].kind == "param" and str(tokens[i].value).lower() == "not":
            negate, i = True, i + 1
        if i >= len(tokens):
            break
        prop = _property(tokens[i], bare)
        if prop is None:
            hint = "$_.Status -eq 'Retry'" if not bare else "Status -eq 'Retry'"
            raise ShellError(
                f"The lab's shell reads {where} as comparisons like {{ {hint} }} joined by -and / -or; "
                f"'{block.text.strip()}' is not one.", "ParserError", "ParseException", "InvalidFilter",
                "", ":", (tokens[i].start, tokens[i].end) if block.offset >= 0 else None,
            )  # fmt: skip
        i += 1
        op, value = "", None
        if i < len(tokens) and tokens[i].kind == "param" and str(tokens[i].value).lower() in OPERATORS:
            op = str(tokens[i].value).lower()
            if i + 1 >= len(tokens):
                raise parse_error(f"You must provide a value expression on the right-hand side of the '-{op}' "
                                  "operator.", "ExpectedValueExpression", (tokens[i].start, tokens[i].end))  # fmt: skip
            value = _operand(tokens[i + 1], block.text)
            i += 2
        comparisons.append((joiner, Comparison(prop, op, value, negate)))
        if i < len(tokens):
            tok = tokens[i]
            if tok.kind != "param" or str(tok.value).lower() not in ("and", "or"):
                raise parse_error(f"Unexpected token '{tok.value}' in expression or statement.", "UnexpectedToken",
                                  (tok.start, tok.end))  # fmt: skip
            joiner, i = str(tok.value).lower(), i + 1
    if not comparisons:
        raise parse_error(f"{where} needs a comparison, e.g. {{ $_.Status -eq 'Retry' }}.", "EmptyFilter", (0, 0))
    first = comparisons[0][1]
    return Predicate(first, tuple(comparisons[1:]), block.text.strip())
