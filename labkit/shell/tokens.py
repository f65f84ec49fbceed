"""A tokenizer and parser for the subset of PowerShell 2.0 the Exchange Management Shell lessons use.

What it reads (PowerShell's *argument mode*): a cmdlet name, then ``-Name value``,
``-Switch``, ``-Switch:$false``, bare words, ``'single'`` and ``"double"`` quoted
strings (``''`` and `````"`` escapes), numbers, ``$true`` / ``$false`` / ``$null``,
comma arrays (``A,B, C``), script blocks ``{ $_.Status -eq 'Retry' }``, pipes
``|`` and statements separated by ``;`` or new lines; a back-tick at the end of
a line continues it. Parse errors stop the whole text before anything runs, as
in PowerShell.

>>> [c.name for c in parse("Get-Queue | fl Identity")[0].commands]
['Get-Queue', 'fl']
>>> parse("Set-ReceiveConnector 'MAIL\\\\Default MAIL' -PermissionGroups A,B")[0].commands[0].elements[2].value
['A', 'B']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from labkit.shell.errors import ShellError, parse_error

TokenKind = Literal["word", "string", "number", "variable", "param", "comma", "pipe", "semi", "block"]
_DELIMITERS = set("|,;{}()")
_NUMBER = re.compile(r"-?\d+")
# PowerShell reads typographic quotes and dashes as ASCII ones, so a line pasted from a web page or Word works.
SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
DOUBLE_QUOTES = '"\u201c\u201d\u201e'
DASHES = "-\u2013\u2014\u2015"
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


@dataclass(frozen=True)
class Token:
    """One token: its kind, its value and where it is in the line.

    Attributes:
        kind: word, string, number, variable, param, comma, pipe, semi or block.
        value: the text of a word or string (escapes undone), an int, a variable's name
            (lower case, without ``$``), a parameter's name (without ``-``), or a block's inner text.
        start, end: offsets in the line (end exclusive).
        colon: a parameter written ``-Name:value``.
        member: for ``$_.Status``, the property path after the variable (``Status``).
        inner: for a block, the offset of its inner text.
    """

    kind: TokenKind
    value: Any
    start: int
    end: int
    colon: bool = False
    member: str = ""
    inner: int = 0


@dataclass(frozen=True)
class ScriptBlock:
    """A ``{ ... }`` argument: its text and the offset of that text in the line."""

    text: str
    offset: int


@dataclass(frozen=True)
class Element:
    """One parameter name or one argument value of a command.

    Attributes:
        kind: ``param`` or ``value``.
        name: the parameter's name as typed (``param``).
        colon: ``-Name:value`` form (the next element is its argument).
        value: str, int, bool, None, list of those, or `ScriptBlock` (``value``).
        span: offsets in the line.
    """

    kind: Literal["param", "value"]
    span: tuple[int, int]
    name: str = ""
    colon: bool = False
    value: Any = None


@dataclass(frozen=True)
class Command:
    """One command of a pipeline: its name and its elements in order."""

    name: str
    span: tuple[int, int]
    elements: tuple[Element, ...] = ()


@dataclass(frozen=True)
class Pipeline:
    """One statement: commands joined by ``|``, and the line they were typed on (for error pointers)."""

    line: str
    commands: tuple[Command, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        """The statement's own text."""
        return self.line[self.commands[0].span[0] : self._end()].strip() if self.commands else ""

    def _end(self) -> int:
        last = self.commands[-1]
        return max([last.span[1], *(e.span[1] for e in last.elements)])


def _read_string(line: str, i: int) -> tuple[str, int]:
    family = SINGLE_QUOTES if line[i] in SINGLE_QUOTES else DOUBLE_QUOTES
    out: list[str] = []
    j = i + 1
    while j < len(line):
        ch = line[j]
        if ch in family:
            if j + 1 < len(line) and line[j + 1] in family:  # '' or "" inside the string
                out.append(ch)
                j += 2
                continue
            return "".join(out), j + 1
        if ch == "`" and family == DOUBLE_QUOTES and j + 1 < len(line):
            out.append(_ESCAPES.get(line[j + 1], line[j + 1]))
            j += 2
            continue
        out.append(ch)
        j += 1
    raise parse_error(
        f"The string starting: {line[i:].rstrip()} is missing the terminator: {line[i]}.",
        "TerminatorExpectedAtEndOfString", (i, len(line)),
    )  # fmt: skip


def _read_block(line: str, i: int) -> int:
    depth, j = 0, i
    while j < len(line):
        ch = line[j]
        if ch in SINGLE_QUOTES + DOUBLE_QUOTES:
            _, j = _read_string(line, j)
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise parse_error("Missing closing '}' in statement block.", "MissingEndCurlyBrace", (i, len(line)))


def tokenize(line: str, offset: int = 0) -> list[Token]:
    """The tokens of one line (or of a block's inner text starting at `offset`).

    Raises:
        ShellError: an unterminated string or block, or ``( )``, which the lab does not evaluate.
    """
    tokens: list[Token] = []
    i, n = offset, len(line)
    while i < n:
        ch = line[i]
        if ch.isspace():
            i += 1
        elif ch == "#":  # a comment runs to the end of the line
            break
        elif ch in SINGLE_QUOTES + DOUBLE_QUOTES:
            text, end = _read_string(line, i)
            tokens.append(Token("string", text, i, end))
            i = end
        elif ch in ",|;":
            tokens.append(Token({",": "comma", "|": "pipe", ";": "semi"}[ch], ch, i, i + 1))  # type: ignore[arg-type]
            i += 1
        elif ch == "{":
            end = _read_block(line, i)
            tokens.append(Token("block", line[i + 1 : end - 1], i, end, inner=i + 1))
            i = end
        elif ch in "()}":
            raise parse_error(
                f"Unexpected token '{ch}'. The lab's shell does not evaluate ( ) expressions or variables: "
                "write the value itself, e.g. -Start \"11/28/2026 09:00\".", "UnexpectedToken", (i, i + 1),
            )  # fmt: skip
        elif ch in DASHES and i + 1 < n and (line[i + 1].isalpha() or line[i + 1] == "_"):
            j = i + 1
            while j < n and (line[j].isalnum() or line[j] in "_?"):
                j += 1
            colon = j < n and line[j] == ":"
            # "-Enabled:$false": the parameter ends at the colon; its argument is the next token.
            tokens.append(Token("param", line[i + 1 : j], i, j + 1 if colon else j, colon=colon))
            i = j + 1 if colon else j
        else:
            j = i
            while j < n and not line[j].isspace() and line[j] not in _DELIMITERS:
                j += 1
            tokens.append(_word(line[i:j], i, j))
            i = j
    return tokens


def _word(text: str, start: int, end: int) -> Token:
    if _NUMBER.fullmatch(text):
        return Token("number", int(text), start, end)
    if text.startswith("$") and len(text) > 1:
        name, _, member = text[1:].partition(".")
        return Token("variable", name.lower(), start, end, member=member)
    return Token("word", text, start, end)


def _value(token: Token) -> Any:
    if token.kind == "variable":
        constants: dict[str, Any] = {"true": True, "false": False, "null": None}
        if token.value in constants and not token.member:
            return constants[token.value]
        raise parse_error(
            f"The variable '${token.value}' cannot be retrieved because it has not been set. "
            "The lab's shell knows $true, $false and $null (and $_ inside Where-Object).",
            "VariableIsUndefined", (token.start, token.end),
        )  # fmt: skip
    if token.kind == "block":
        return ScriptBlock(token.value, token.inner)
    return token.value


def _elements(tokens: list[Token]) -> list[Element]:
    elements: list[Element] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == "param":
            elements.append(Element("param", (tok.start, tok.end), name=tok.value, colon=tok.colon))
            i += 1
            continue
        if tok.kind == "comma":
            raise parse_error("Missing argument in parameter list.", "MissingArgument", (tok.start, tok.end))
        values, start, end = [_value(tok)], tok.start, tok.end
        i += 1
        while i < len(tokens) and tokens[i].kind == "comma":
            if i + 1 >= len(tokens) or tokens[i + 1].kind in ("param", "comma"):
                raise parse_error(
                    "Missing expression after ','.", "MissingExpressionAfterToken", (tokens[i].start, tokens[i].end)
                )
            values.append(_value(tokens[i + 1]))
            end = tokens[i + 1].end
            i += 2
        elements.append(Element("value", (start, end), value=values if len(values) > 1 else values[0]))
    return elements


def _command(tokens: list[Token], line: str, at: int) -> Command:
    if not tokens:
        raise parse_error("An empty pipe element is not allowed.", "EmptyPipeElement", (at, at + 1))
    head = tokens[0]
    if head.kind not in ("word", "string"):
        after_semicolon = line[: head.start].rstrip().endswith(";")
        hint = (" (A ';' ends a statement: quote a value that contains one, e.g. 'SMTP:*;1'.)" if after_semicolon
                else " A statement starts with a cmdlet name.")  # fmt: skip
        raise parse_error(f"Unexpected token '{line[head.start:head.end]}' in expression or statement.{hint}",
                          "UnexpectedToken", (head.start, head.end))  # fmt: skip
    return Command(str(head.value), (head.start, head.end), tuple(_elements(tokens[1:])))


def parse_line(line: str) -> list[Pipeline]:
    """The statements of one logical line.

    Raises:
        ShellError: a parse error.
    """
    statements: list[Pipeline] = []
    current: list[Command] = []
    part: list[Token] = []
    for tok in [*tokenize(line), Token("semi", ";", len(line), len(line))]:
        if tok.kind == "pipe":
            current.append(_command(part, line, tok.start))
            part = []
        elif tok.kind == "semi":
            if part:
                current.append(_command(part, line, tok.start))
            elif current:
                raise parse_error("An empty pipe element is not allowed.", "EmptyPipeElement", (tok.start, tok.end))
            if current:
                statements.append(Pipeline(line, tuple(current)))
            current, part = [], []
        else:
            part.append(tok)
    return statements


def parse(text: str) -> list[Pipeline]:
    """Every statement of `text` (lines, ``;``, back-tick continuations), or the first parse error.

    Raises:
        ShellError: a parse error; nothing of `text` should run.
    """
    logical = re.sub(r"`[ \t]*\r?\n", " ", text)
    statements: list[Pipeline] = []
    for line in logical.splitlines():
        statements += parse_line(line)
    return statements


__all__ = ["Command", "Element", "Pipeline", "ScriptBlock", "ShellError", "Token", "parse", "parse_line", "tokenize"]
