"""PowerShell's parameter binder, for one command of a pipeline.

It binds as PowerShell 2.0 does, in its order: named parameters first (a name
may be any unambiguous prefix, ``-Addr`` for ``-AddressSpaces``), then positional
arguments to the unbound positional parameters, then pipeline input; it checks
mandatory parameters and converts each value to the parameter's type. Every
error is the binder's own text; nothing has run when it is raised.

>>> from labkit.shell.cmdlets import find
>>> from labkit.shell.tokens import parse
>>> cmd = parse("Retry-Queue MAIL\\\\Unreachable -Res $true")[0].commands[0]
>>> sorted(bind(find("Retry-Queue"), cmd).items())
[('Identity', 'MAIL\\\\Unreachable'), ('Resubmit', True)]
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from labkit.shell.cmdlets import MISSING, CmdletSpec, Param
from labkit.shell.errors import ShellError, binding
from labkit.shell.tokens import Command, Element, ScriptBlock

_DATE_FORMATS = (
    "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M%p",
    "%m/%d/%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d",
)  # fmt: skip


def _error(spec: CmdletSpec, error_id: str, message: str, span: tuple[int, int] | None) -> ShellError:
    # PowerShell's own cmdlets name their class in the error id; the 2010 shell's cmdlets are proxy functions
    # of the remote session, named by the cmdlet.
    suffix = spec.name if spec.method else spec.task_class
    error = binding(spec.name, error_id, message, span)
    error.error_id = f"{error_id},{suffix}"
    return error


def resolve(spec: CmdletSpec, element: Element) -> Param:
    """The parameter `element` names: an exact name, else the only one it is a prefix of.

    Raises:
        ShellError: no parameter, or several, match.
    """
    typed = element.name.lower()
    exact = [p for p in spec.params if p.name.lower() == typed]
    if exact:
        return exact[0]
    matches = [p for p in spec.params if p.name.lower().startswith(typed)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        left_out = [n for n in spec.unmodelled if n.lower().startswith(typed)]
        if len(left_out) == 1:
            raise _error(spec, "NamedParameterNotFound",
                         f"A parameter cannot be found that matches parameter name '{element.name}'. (The product's "
                         f"-{left_out[0]} is not modelled by the lab: leave it out.)", element.span)  # fmt: skip
        raise _error(spec, "NamedParameterNotFound",
                      f"A parameter cannot be found that matches parameter name '{element.name}'.", element.span)  # fmt: skip
    listed = " ".join(f"-{p.name}" for p in matches)
    raise _error(
        spec, "AmbiguousParameter",
        f"Parameter cannot be processed because the parameter name '{element.name}' is ambiguous. "
        f"Possible matches include: {listed}.", element.span,
    )  # fmt: skip


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, list):
        return "System.Object[]"
    return str(value)


def convert(spec: CmdletSpec, param: Param, value: Any, span: tuple[int, int] | None) -> Any:
    """`value` as `param`'s type.

    Raises:
        ShellError: PowerShell's conversion error for that type.
    """
    kind = param.kind
    if value is None:
        return param.null
    if kind in ("bool", "switch", "flag"):
        if isinstance(value, bool):
            result = value
        elif isinstance(value, int):
            result = value != 0
        else:
            typed = "System.String" if not isinstance(value, list) else "System.Object[]"
            raise ShellError(
                f"Cannot process argument transformation on parameter '{param.name}'. Cannot convert value "
                f'"{typed}" to type "System.Boolean", parameters of this type only accept booleans or numbers, '
                "use $true, $false, 1 or 0 instead.", "InvalidData", "ParameterBindingArgumentTransformationException",
                f"ParameterArgumentTransformationError,{spec.name}", spec.name, ":", span,
            )  # fmt: skip
        return param.value if kind == "flag" and result else result
    if kind == "strings":
        items = value if isinstance(value, list) else [value]
        return [_shown(v) for v in items]
    if isinstance(value, list) and kind != "filter":
        raise _error(spec, "CannotConvertArgument",
                      f"Cannot convert 'System.Object[]' to the type '{param.type_name}' required by parameter "
                      f"'{param.name}'. Specified method is not supported.", span)  # fmt: skip
    if kind == "int" or (kind == "resultsize" and str(value).lower() != "unlimited"):
        try:
            return int(str(value))
        except ValueError:
            raise _cannot_convert(spec, param, value, "Input string was not in a correct format.", span) from None
    if kind == "resultsize":
        return None
    if kind == "date":
        return _date(spec, param, value, span)
    if kind == "filter":
        return value if isinstance(value, ScriptBlock) else ScriptBlock(_shown(value), -1)
    if isinstance(value, ScriptBlock):
        return "{" + value.text + "}"
    return value if kind == "size" and isinstance(value, int) else _shown(value)


def _cannot_convert(spec: CmdletSpec, param: Param, value: Any, why: str, span: tuple[int, int] | None) -> ShellError:
    return _error(spec, "CannotConvertArgumentNoMessage",
                   f"Cannot bind parameter '{param.name}'. Cannot convert value \"{_shown(value)}\" to type "
                   f"\"{param.type_name}\". Error: \"{why}\"", span)  # fmt: skip


def _date(spec: CmdletSpec, param: Param, value: Any, span: tuple[int, int] | None) -> datetime:
    text = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.upper() if "%p" in fmt else text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _cannot_convert(spec, param, value, "String was not recognized as a valid DateTime.", span) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def bind(spec: CmdletSpec, command: Command, piped: tuple[str, str] | None = None) -> dict[str, Any]:
    """Bind `command`'s elements (and the piped object's Identity) to `spec`'s parameters.

    Args:
        spec: the cmdlet.
        command: the parsed command.
        piped: (object type, Identity) of the object the pipeline hands in, if any.

    Returns:
        Parameter name → converted value, for each parameter given or defaulted.

    Raises:
        ShellError: the binder's error; nothing has run.
    """
    bound: dict[str, Any] = {}
    spans: dict[str, tuple[int, int]] = {}
    positional: list[Element] = []
    elements = list(command.elements)
    i = 0
    while i < len(elements):
        element = elements[i]
        i += 1
        if element.kind == "value":
            positional.append(element)
            continue
        param = resolve(spec, element)
        if param.name in bound:
            raise _error(
                spec, "ParameterAlreadyBound",
                f"Cannot bind parameter because parameter '{param.name}' is specified more than once. To provide "
                'multiple values to parameters that can accept multiple values, use the array syntax. For example, '
                '"-parameter value1,value2,value3".', element.span,
            )  # fmt: skip
        takes_value = param.kind not in ("switch", "flag") or element.colon
        if not takes_value:
            bound[param.name] = convert(spec, param, True, element.span)
            continue
        if i >= len(elements) or (elements[i].kind == "param" and not element.colon):
            raise _error(spec, "MissingArgument",
                          f"Missing an argument for parameter '{param.name}'. Specify a parameter of type "
                          f"'{param.type_name}' and try again.", element.span)  # fmt: skip
        argument = elements[i]
        i += 1
        value = argument.value if argument.kind == "value" else f"-{argument.name}"
        bound[param.name] = convert(spec, param, value, argument.span)
        spans[param.name] = argument.span
    free = sorted((p for p in spec.params if p.position is not None and p.name not in bound),
                  key=lambda p: p.position or 0)  # fmt: skip
    for element in positional:
        if not free:
            raise _error(spec, "PositionalParameterNotFound",
                          f"A positional parameter cannot be found that accepts argument '{_shown(element.value)}'.",
                          element.span)  # fmt: skip
        param = free.pop(0)
        bound[param.name] = convert(spec, param, element.value, element.span)
    if piped is not None:
        _bind_piped(spec, command, piped, bound)
    for flag in [p for p in spec.params if p.kind == "flag" and p.name in bound]:
        # -Internet is -Usage Internet: the value goes to the parameter the flag stands for.
        value = bound.pop(flag.name)
        target = next((p for p in spec.params if p.arg == flag.arg and p.kind != "flag"), None)
        if value and target is not None:
            bound[target.name] = value
    for param in spec.params:
        if param.name not in bound and param.default is not MISSING:
            bound[param.name] = param.default
    missing = [p.name for p in spec.params if p.mandatory and p.name not in bound]
    if missing:
        raise _error(spec, "MissingMandatoryParameter",
                      "Cannot process command because of one or more missing mandatory parameters: "
                      f"{' '.join(missing)}.", command.span)  # fmt: skip
    if spec.one_of and not any(name in bound for name in spec.one_of):
        raise _error(spec, "AmbiguousParameterSet",
                      "Parameter set cannot be resolved using the specified named parameters.", command.span)  # fmt: skip
    return bound


def _bind_piped(spec: CmdletSpec, command: Command, piped: tuple[str, str], bound: dict[str, Any]) -> None:
    kind, identity = piped
    for param in spec.params:
        if param.pipeline and (kind in param.accepts or not kind) and param.name not in bound:
            bound[param.name] = identity
            return
    raise ShellError(
        "The input object cannot be bound to any parameters for the command either because the command does not "
        "take pipeline input or the input and its properties do not match any of the parameters that take "
        "pipeline input.", "InvalidArgument", "ParameterBindingException", f"InputObjectNotBound,{spec.name}",
        spec.name, f"{identity}:PSObject", command.span,
    )  # fmt: skip
