"""PowerShell's error records, laid out as the Exchange Management Shell prints them.

Two layouts exist in the 2010 shell. An error found by PowerShell itself while it
parses or binds a command line (unknown cmdlet, unknown or ambiguous parameter,
missing argument) names the command, points at the token with ``<<<<`` and gives
``At line:1 char:N`` (PowerShell 2.0, which the 2010 shell runs on)::

    Get-Queue : A parameter cannot be found that matches parameter name 'Foo'.
    At line:1 char:15
    + Get-Queue -Foo <<<<
        + CategoryInfo          : InvalidArgument: (:) [Get-Queue], ParameterBindingException
        + FullyQualifiedErrorId : NamedParameterNotFound,Get-Queue

An error raised by the Exchange task on the server (bad value, unknown object)
comes back over remote PowerShell without the position lines: the message, then
the two ``+`` lines naming the task's class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from labkit.errors import DuplicateObject, InvalidValue, LabkitError, UnknownObject

NOT_RECOGNIZED = (
    "The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable program. "
    "Check the spelling of the name, or if a path was included, verify that the path is correct and try again."
)


@dataclass
class ShellError(Exception):
    """One PowerShell error record.

    Attributes:
        message: the first line's text.
        category: the CategoryInfo category, e.g. ``InvalidArgument``.
        reason: the exception type shown at the end of CategoryInfo.
        error_id: the FullyQualifiedErrorId.
        command: the cmdlet the error belongs to ("" for a term that is not a command).
        target: the CategoryInfo target, e.g. ``Get-Foo:String``.
        span: (start, end) offsets of the offending text in the line, for ``<<<<``; None for task errors.
    """

    message: str
    category: str
    reason: str
    error_id: str
    command: str = ""
    target: str = ":"
    span: tuple[int, int] | None = None

    def __str__(self) -> str:
        return self.message

    def render(self, line: str) -> str:
        """The error as the shell prints it, for a command typed as `line`."""
        bracket = f"[{self.command}]" if self.command else "[]"
        info = [
            f"    + CategoryInfo          : {self.category}: ({self.target}) {bracket}, {self.reason}",
            f"    + FullyQualifiedErrorId : {self.error_id}",
        ]
        if self.span is None:
            return "\n".join([self.message, *info])
        end = self.span[1]
        head = f"{self.command or line[self.span[0]:end]} : {self.message}"
        pointer = f"+ {line[:end]} <<<< {line[end:].strip()}".rstrip()
        return "\n".join([head, f"At line:1 char:{end + 1}", pointer, *info])


def not_recognized(name: str, span: tuple[int, int]) -> ShellError:
    """`name` is no cmdlet this shell knows."""
    return ShellError(
        NOT_RECOGNIZED.format(name=name), "ObjectNotFound", "CommandNotFoundException",
        "CommandNotFoundException", "", f"{name}:String", span,
    )  # fmt: skip


def binding(command: str, error_id: str, message: str, span: tuple[int, int] | None) -> ShellError:
    """A ParameterBindingException of `command` (PowerShell's own binder)."""
    return ShellError(message, "InvalidArgument", "ParameterBindingException", f"{error_id},{command}", command,
                      ":", span)  # fmt: skip


def parse_error(message: str, error_id: str, span: tuple[int, int]) -> ShellError:
    """A ParseException: nothing on the line runs."""
    return ShellError(message, "ParserError", "ParentContainsErrorRecordException", error_id, "", ":", span)


def _shell_words(error: LabkitError, names: Mapping[str, str]) -> str:
    # "`permission_groups` = ['Anonymous']: ..." names the Python keyword; at the shell, name the parameter.
    message = str(error)
    if isinstance(error, InvalidValue):
        prefix = f"`{error.field}` = {error.value!r}: "
        value = error.value
        shown = ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
        if message.startswith(prefix):
            message = f"{names.get(error.field, error.field)} '{shown}': {message[len(prefix):]}"
    return message


def task_error(command: str, task_class: str, error: LabkitError, names: Mapping[str, str] | None = None) -> ShellError:
    """A `LabkitError` from the lab's verb, as the Exchange task's error comes back over remote PowerShell.

    Args:
        command, task_class: the cmdlet and its task class.
        error: the verb's error.
        names: facade keyword → parameter name, so the message names ``PermissionGroups``, not ``permission_groups``.

    The product's FullyQualifiedErrorId starts with an 8-hex-digit id per error site; the lab writes the
    exception's name there instead (the ids are not documented).
    """
    if isinstance(error, UnknownObject):
        reason = "ManagementObjectNotFoundException"
    elif isinstance(error, DuplicateObject):
        reason = "ADObjectAlreadyExistsException"
    else:
        reason = "DataValidationException"
    message = _shell_words(error, names or {})
    return ShellError(message, "NotSpecified", reason, f"{reason},{task_class}", command, "0:Int32", None)
