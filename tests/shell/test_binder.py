"""Parameter binding as PowerShell 2.0 does it, and PowerShell's own error texts (a literal table)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from labkit.shell.binder import bind
from labkit.shell.cmdlets import CMDLETS, find
from labkit.shell.errors import ShellError
from labkit.shell.pipeline import plan
from labkit.shell.tokens import parse


def bound(line: str) -> dict[str, Any]:
    command = parse(line)[0].commands[0]
    spec = find(command.name)
    assert spec is not None
    return bind(spec, command)


def rendered(line: str) -> str:
    [statement] = parse(line)
    with pytest.raises(ShellError) as caught:
        plan(statement)
    return caught.value.render(line)


def test_documented_new_send_connector() -> None:
    assert bound('New-SendConnector -Name "Internet" -Usage Internet -AddressSpaces "*" -SourceTransportServers MAIL') == {
        "Name": "Internet", "Usage": "Internet", "AddressSpaces": ["*"], "SourceTransportServers": ["MAIL"],
    }  # fmt: skip


def test_documented_set_receive_connector() -> None:
    line = 'Set-ReceiveConnector "MAIL\\Default MAIL" -PermissionGroups AnonymousUsers,ExchangeUsers,ExchangeServers,ExchangeLegacyServers'
    assert bound(line) == {
        "Identity": "MAIL\\Default MAIL",
        "PermissionGroups": ["AnonymousUsers", "ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers"],
    }


def test_unambiguous_prefixes_and_case() -> None:
    assert bound("new-sendconnector -n X -addr 'SMTP:*;1' -dns $false") == {
        "Name": "X", "AddressSpaces": ["SMTP:*;1"], "DNSRoutingEnabled": False, "Usage": "Custom",
    }  # fmt: skip


def test_usage_defaults_to_custom_as_in_the_product() -> None:
    assert bound("New-SendConnector X -AddressSpaces *")["Usage"] == "Custom"


def test_usage_switches() -> None:
    assert bound("New-SendConnector -Internet -Name MySendConnector -AddressSpaces contoso.com,fabrikam.com") == {
        "Usage": "Internet", "Name": "MySendConnector", "AddressSpaces": ["contoso.com", "fabrikam.com"],
    }  # fmt: skip


def test_switch_forms_and_bool_values() -> None:
    assert bound("Remove-SendConnector Internet -Confirm:$false") == {"Identity": "Internet", "Confirm": False}
    assert bound("Remove-SendConnector Internet -Confirm") == {"Identity": "Internet", "Confirm": True}
    assert bound("Retry-Queue MAIL\\1 -Resubmit 1") == {"Identity": "MAIL\\1", "Resubmit": True}
    assert bound("Set-SendConnector Internet -Enabled:$false -Port 25") == {
        "Identity": "Internet", "Enabled": False, "Port": 25,
    }  # fmt: skip


def test_null_means_the_default_banner() -> None:
    assert bound('Set-ReceiveConnector "Default MAIL" -Banner $null') == {"Identity": "Default MAIL", "Banner": ""}


def test_numbers_become_text_for_string_parameters() -> None:
    assert bound("New-AcceptedDomain 2026 -DomainName x.com") == {"Name": "2026", "DomainName": "x.com"}


def test_dates_and_result_size() -> None:
    got = bound('Get-MessageTrackingLog -Start "11/28/2026 9:00AM" -End "2026-11-29T17:00:00Z" -ResultSize Unlimited')
    assert got == {
        "Start": datetime(2026, 11, 28, 9, 0, tzinfo=UTC), "End": datetime(2026, 11, 29, 17, 0, tzinfo=UTC),
        "ResultSize": None,
    }  # fmt: skip
    assert bound("Get-MessageTrackingLog")["ResultSize"] == 1000


def test_every_cmdlet_maps_to_a_facade_method() -> None:
    from labkit.transport.facade import ServerFacade

    for spec in CMDLETS:
        method = getattr(ServerFacade, spec.method)
        import inspect

        names = set(inspect.signature(method).parameters)
        for param in spec.params:
            if not param.arg.startswith("_"):
                assert param.arg in names or "changes" in names or "settings" in names, (spec.name, param.name)


# PowerShell's texts, written out literally (PowerShell 2.0, as the Exchange 2010 shell runs it).
ERRORS = [
    (
        "Get-Foo",
        "Get-Foo : The term 'Get-Foo' is not recognized as the name of a cmdlet, function, script file, or operable "
        "program. Check the spelling of the name, or if a path was included, verify that the path is correct and try "
        "again.\nAt line:1 char:8\n+ Get-Foo <<<<\n"
        "    + CategoryInfo          : ObjectNotFound: (Get-Foo:String) [], CommandNotFoundException\n"
        "    + FullyQualifiedErrorId : CommandNotFoundException",
    ),
    (
        "Get-Queue -Foo x",
        "Get-Queue : A parameter cannot be found that matches parameter name 'Foo'.\nAt line:1 char:15\n"
        "+ Get-Queue -Foo <<<< x\n"
        "    + CategoryInfo          : InvalidArgument: (:) [Get-Queue], ParameterBindingException\n"
        "    + FullyQualifiedErrorId : NamedParameterNotFound,Get-Queue",
    ),
    (
        "Set-ReceiveConnector 'Default MAIL' -P x",
        "Set-ReceiveConnector : Parameter cannot be processed because the parameter name 'P' is ambiguous. Possible "
        "matches include: -PermissionGroups -ProtocolLoggingLevel.\nAt line:1 char:39\n"
        "+ Set-ReceiveConnector 'Default MAIL' -P <<<< x\n"
        "    + CategoryInfo          : InvalidArgument: (:) [Set-ReceiveConnector], ParameterBindingException\n"
        "    + FullyQualifiedErrorId : AmbiguousParameter,Set-ReceiveConnector",
    ),
    (
        "New-SendConnector -Name X",
        "New-SendConnector : Cannot process command because of one or more missing mandatory parameters: "
        "AddressSpaces.\nAt line:1 char:18\n+ New-SendConnector <<<< -Name X\n"
        "    + CategoryInfo          : InvalidArgument: (:) [New-SendConnector], ParameterBindingException\n"
        "    + FullyQualifiedErrorId : MissingMandatoryParameter,New-SendConnector",
    ),
    (
        "Retry-Queue MAIL\\1 -Resubmit yes",
        "Retry-Queue : Cannot process argument transformation on parameter 'Resubmit'. Cannot convert value "
        '"System.String" to type "System.Boolean", parameters of this type only accept booleans or numbers, use '
        "$true, $false, 1 or 0 instead.\nAt line:1 char:33\n+ Retry-Queue MAIL\\1 -Resubmit yes <<<<\n"
        "    + CategoryInfo          : InvalidData: (:) [Retry-Queue], ParameterBindingArgumentTransformationException\n"
        "    + FullyQualifiedErrorId : ParameterArgumentTransformationError,Retry-Queue",
    ),
    (
        "Set-SendConnector Internet -Port abc",
        'Set-SendConnector : Cannot bind parameter \'Port\'. Cannot convert value "abc" to type "System.Int32". '
        'Error: "Input string was not in a correct format."\nAt line:1 char:37\n'
        "+ Set-SendConnector Internet -Port abc <<<<\n"
        "    + CategoryInfo          : InvalidArgument: (:) [Set-SendConnector], ParameterBindingException\n"
        "    + FullyQualifiedErrorId : CannotConvertArgumentNoMessage,Set-SendConnector",
    ),
    (
        "New-SendConnector -Name",
        "New-SendConnector : Missing an argument for parameter 'Name'. Specify a parameter of type 'System.String' "
        "and try again.\nAt line:1 char:24\n+ New-SendConnector -Name <<<<\n"
        "    + CategoryInfo          : InvalidArgument: (:) [New-SendConnector], ParameterBindingException\n"
        "    + FullyQualifiedErrorId : MissingArgument,New-SendConnector",
    ),
    (
        "Get-Queue a b",
        "Get-Queue : A positional parameter cannot be found that accepts argument 'b'.\nAt line:1 char:14\n"
        "+ Get-Queue a b <<<<\n"
        "    + CategoryInfo          : InvalidArgument: (:) [Get-Queue], ParameterBindingException\n"
        "    + FullyQualifiedErrorId : PositionalParameterNotFound,Get-Queue",
    ),
    (
        "Get-SendConnector -Identity a -Identity b",
        "Get-SendConnector : Cannot bind parameter because parameter 'Identity' is specified more than once. To "
        "provide multiple values to parameters that can accept multiple values, use the array syntax. For example, "
        '"-parameter value1,value2,value3".\nAt line:1 char:40\n+ Get-SendConnector -Identity a -Identity <<<< b\n'
        "    + CategoryInfo          : InvalidArgument: (:) [Get-SendConnector], ParameterBindingException\n"
        "    + FullyQualifiedErrorId : ParameterAlreadyBound,Get-SendConnector",
    ),
    (
        "Set-ReceiveConnector 'Default MAIL' -ConnectionTimeout 00:15:00",
        "Set-ReceiveConnector : A parameter cannot be found that matches parameter name 'ConnectionTimeout'. (The "
        "product's -ConnectionTimeout is not modelled by the lab: leave it out.)\nAt line:1 char:55\n"
        "+ Set-ReceiveConnector 'Default MAIL' -ConnectionTimeout <<<< 00:15:00\n"
        "    + CategoryInfo          : InvalidArgument: (:) [Set-ReceiveConnector], ParameterBindingException\n"
        "    + FullyQualifiedErrorId : NamedParameterNotFound,Set-ReceiveConnector",
    ),
    (
        "Get-Queue | Format-List -Foo",
        "Format-List : A parameter cannot be found that matches parameter name 'Foo'.\nAt line:1 char:29\n"
        "+ Get-Queue | Format-List -Foo <<<<\n"
        "    + CategoryInfo          : InvalidArgument: (:) [Format-List], ParameterBindingException\n"
        "    + FullyQualifiedErrorId : NamedParameterNotFound,Microsoft.PowerShell.Commands.FormatListCommand",
    ),
    (
        "Retry-Queue -Resubmit $true",
        "Retry-Queue : Parameter set cannot be resolved using the specified named parameters.\nAt line:1 char:12\n"
        "+ Retry-Queue <<<< -Resubmit $true\n"
        "    + CategoryInfo          : InvalidArgument: (:) [Retry-Queue], ParameterBindingException\n"
        "    + FullyQualifiedErrorId : AmbiguousParameterSet,Retry-Queue",
    ),
    (
        "Get-SendConnector | Remove-Message -WithNDR $false",
        "Remove-Message : The input object cannot be bound to any parameters for the command either because the "
        "command does not take pipeline input or the input and its properties do not match any of the parameters "
        "that take pipeline input.\nAt line:1 char:35\n+ Get-SendConnector | Remove-Message <<<< -WithNDR $false\n"
        "    + CategoryInfo          : InvalidArgument: (<piped>:PSObject) [Remove-Message], ParameterBindingException\n"
        "    + FullyQualifiedErrorId : InputObjectNotBound,Remove-Message",
    ),
]


@pytest.mark.parametrize(("line", "expected"), ERRORS, ids=[e[0] for e in ERRORS])
def test_error_texts(line: str, expected: str) -> None:
    assert rendered(line) == expected
