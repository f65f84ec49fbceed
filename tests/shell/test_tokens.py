"""The tokenizer and parser, against literal expected tokens (PowerShell 2.0 argument mode)."""

from __future__ import annotations

from typing import Any

import pytest

from labkit.shell.errors import ShellError
from labkit.shell.tokens import ScriptBlock, parse, tokenize


def kinds(line: str) -> list[tuple[str, Any]]:
    return [(t.kind, t.value) for t in tokenize(line)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('New-SendConnector -Name "Internet"', [("word", "New-SendConnector"), ("param", "Name"), ("string", "Internet")]),
        ("Get-Queue 'MAIL\\Unreachable'", [("word", "Get-Queue"), ("string", "MAIL\\Unreachable")]),
        ("x 'it''s'", [("word", "x"), ("string", "it's")]),
        ('x "say ""hi"""', [("word", "x"), ("string", 'say "hi"')]),
        ('x "a`tb"', [("word", "x"), ("string", "a\tb")]),
        ("x 'SMTP:*;1'", [("word", "x"), ("string", "SMTP:*;1")]),
        ("x -Port 25 -1", [("word", "x"), ("param", "Port"), ("number", 25), ("number", -1)]),
        ("x $true $False $null", [("word", "x"), ("variable", "true"), ("variable", "false"), ("variable", "null")]),
        ("x A,B, C", [("word", "x"), ("word", "A"), ("comma", ","), ("word", "B"), ("comma", ","), ("word", "C")]),
        ("a | b ; c", [("word", "a"), ("pipe", "|"), ("word", "b"), ("semi", ";"), ("word", "c")]),
        ("x # a comment", [("word", "x")]),
        ("x {$_.Status -eq 'R'}", [("word", "x"), ("block", "$_.Status -eq 'R'")]),
        ("x {a {b} '}'}", [("word", "x"), ("block", "a {b} '}'")]),
        ("中文 -名字 邮件", [("word", "中文"), ("param", "名字"), ("word", "邮件")]),
    ],
)
def test_tokens(line: str, expected: list[tuple[str, Any]]) -> None:
    assert kinds(line) == expected


def test_switch_with_colon_argument() -> None:
    tokens = tokenize("Set-SendConnector Internet -Enabled:$false")
    assert [(t.kind, t.value, t.colon) for t in tokens[2:]] == [("param", "Enabled", True), ("variable", "false", False)]
    assert (tokens[2].start, tokens[2].end) == (27, 36)


def test_token_offsets() -> None:
    assert [(t.start, t.end) for t in tokenize("Get-Queue -Foo x")] == [(0, 9), (10, 14), (15, 16)]


def test_parse_builds_pipelines_arrays_and_constants() -> None:
    [first, second] = parse("Get-Queue | Retry-Queue -Resubmit $true; Set-X -G A,'B',3 -N $null -E:$false")
    assert [c.name for c in first.commands] == ["Get-Queue", "Retry-Queue"]
    assert [(e.kind, e.name, e.value) for e in first.commands[1].elements] == [
        ("param", "Resubmit", None), ("value", "", True),
    ]  # fmt: skip
    values = [(e.kind, e.name, e.value) for e in second.commands[0].elements]
    assert values == [
        ("param", "G", None), ("value", "", ["A", "B", 3]), ("param", "N", None), ("value", "", None),
        ("param", "E", None), ("value", "", False),
    ]  # fmt: skip


def test_parse_lines_and_backtick_continuation() -> None:
    statements = parse("New-SendConnector -Name X `\n  -AddressSpaces *\nGet-SendConnector")
    assert [[c.name for c in s.commands] for s in statements] == [["New-SendConnector"], ["Get-SendConnector"]]
    assert [e.value for e in statements[0].commands[0].elements] == [None, "X", None, "*"]


def test_script_block_value() -> None:
    [statement] = parse("Get-Queue | Where-Object { $_.MessageCount -gt 0 }")
    block = statement.commands[1].elements[0].value
    assert block == ScriptBlock(" $_.MessageCount -gt 0 ", 26)
    assert statement.line[block.offset : block.offset + len(block.text)] == block.text


PARSE_ERRORS = [
    ("Get-Queue 'MAIL\\x", "The string starting: 'MAIL\\x is missing the terminator: '.", "TerminatorExpectedAtEndOfString"),
    ("Get-Queue | Where-Object { $_.x", "Missing closing '}' in statement block.", "MissingEndCurlyBrace"),
    ("Get-Queue |", "An empty pipe element is not allowed.", "EmptyPipeElement"),
    ("| Get-Queue", "An empty pipe element is not allowed.", "EmptyPipeElement"),
    ("x -A B,", "Missing expression after ','.", "MissingExpressionAfterToken"),
    ("New-SendConnector X -AddressSpaces SMTP:*;1",
     "Unexpected token '1' in expression or statement. (A ';' ends a statement: quote a value that contains one, "
     "e.g. 'SMTP:*;1'.)", "UnexpectedToken"),
]


@pytest.mark.parametrize(("line", "message", "error_id"), PARSE_ERRORS)
def test_parse_errors(line: str, message: str, error_id: str) -> None:
    with pytest.raises(ShellError) as caught:
        parse(line)
    assert (caught.value.message, caught.value.error_id) == (message, error_id)


def test_unset_variable_is_an_error() -> None:
    with pytest.raises(ShellError, match=r"The variable '\$cred' cannot be retrieved because it has not been set"):
        parse("New-SendConnector -AuthenticationCredential $cred")


def test_typographic_quotes_and_dashes_from_a_pasted_page() -> None:
    assert kinds("Set-ReceiveConnector \u201cMAIL\\Default MAIL\u201d \u2013PermissionGroups \u2018AnonymousUsers\u2019") == [
        ("word", "Set-ReceiveConnector"), ("string", "MAIL\\Default MAIL"), ("param", "PermissionGroups"),
        ("string", "AnonymousUsers"),
    ]  # fmt: skip
