"""Scenario files: the seed loads; every kind of inconsistency is refused at load time."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from labkit.errors import LabkitError, ScenarioError
from labkit.scenario import load_scenario, parse_scenario

SEED = Path(__file__).parents[1] / "labkit" / "scenarios" / "seed.toml"


def seed_data() -> dict[str, Any]:
    return tomllib.loads(SEED.read_text())


def test_seed_topology() -> None:
    s = load_scenario()
    assert [n.name for n in s.networks] == ["internet", "lan"]
    assert s.host("dns").address == "100.100.100.2"
    assert s.host("tmg").address_on("internet") == "100.100.100.254"
    assert s.host("mail.xutonglin.com").address_on("lan") == "192.168.8.10"
    assert s.firewall is not None and s.firewall.publishing_rules[0].port == 25
    assert [o.mailboxes for o in s.organisations] == [("contoso@contoso.com",), ("allen@xutonglin.com",)]


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    """Serialise a scenario dict as TOML (small writer: enough for the shapes used here)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return str(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f'"{k}" = {value(x)}' for k, x in v.items()) + " }"
        raise TypeError(v)

    lines: list[str] = []

    def table(prefix: str, d: dict[str, Any]) -> None:
        scalars = {k: v for k, v in d.items() if not (isinstance(v, dict) or (isinstance(v, list) and v and all(isinstance(x, dict) for x in v) and k not in ("interfaces", "actions")))}
        for k, v in scalars.items():
            lines.append(f'"{k}" = {value(v)}')
        for k, v in d.items():
            if k in scalars:
                continue
            name = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict):
                lines.append(f"[{name}]")
                table(name, v)
            else:
                for item in v:
                    lines.append(f"[[{name}]]")
                    table(name, item)

    table("", data)
    path = tmp_path / "lab.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_writer_roundtrip(tmp_path: Path) -> None:
    assert load_scenario(write(tmp_path, seed_data())).hosts == load_scenario().hosts


def mutate(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split("/")
    node: Any = data
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


@pytest.mark.parametrize(
    ("path", "value", "entry", "words"),
    [
        ("hosts/1/interfaces", [{"network": "internet", "address": "100.100.100.2"}], "hosts[1] (mail.contoso.com) interfaces[0]", "already used by `dns`"),
        ("hosts/1/interfaces", [{"network": "internet", "address": "192.168.8.20"}], "hosts[1] (mail.contoso.com) interfaces[0]", "outside network `internet`"),
        ("hosts/1/interfaces", [{"network": "dmz", "address": "100.100.100.10"}], "hosts[1] (mail.contoso.com) interfaces[0]", "network `dmz` is unknown"),
        ("hosts/2/router", False, "hosts[2] (tmg)", "several networks but is not a router"),
        ("hosts/1/interfaces", [{"network": "internet", "address": "100.100.100.300"}], "hosts[1] (mail.contoso.com) interfaces[0]", "not an IPv4 address"),
        ("hosts/1/role", "mainframe", "hosts[1] (mail.contoso.com)", "role `mainframe` is unknown"),
        ("dns/server", "nowhere", "[dns]", "is not a host"),
        ("networks/1/cidr", "100.100.100.0/25", "networks[1] (lan)", "overlaps"),
        ("organisations/0/mailboxes", ["contoso@fabrikam.com"], "organisations[0] (contoso)", "not in `contoso.com`"),
        ("organisations/0/server", "dns", "organisations[0] (contoso)", "not an Exchange host"),
        ("steps/0/number", 3, "steps[0]", "expected 1"),
        ("steps/0/actions", [{"do": "dns.format_disk"}], "steps[0] actions[0]", "not a known action"),
        ("firewall/publishing_rules/0/internal", "100.100.100.10", "firewall.publishing_rules[0]", "not on the internal network"),
    ],
)
def test_inconsistent_scenario_names_file_entry_and_fix(tmp_path: Path, path: str, value: Any, entry: str, words: str) -> None:
    data = seed_data()
    mutate(data, path, value)
    file = write(tmp_path, data)
    with pytest.raises(ScenarioError) as info:
        load_scenario(file)
    err = info.value
    assert isinstance(err, LabkitError) and isinstance(err, ValueError)
    assert err.source == str(file)
    assert err.entry == entry
    assert words in str(err)
    assert "Fix:" in str(err) and err.fix


def test_malformed_toml(tmp_path: Path) -> None:
    file = tmp_path / "bad.toml"
    file.write_text("[lab\ntitle = 1\n")
    with pytest.raises(ScenarioError, match=r"bad\.toml: file: is not valid TOML"):
        load_scenario(file)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot be read"):
        load_scenario(tmp_path / "nope.toml")


def test_missing_required_field() -> None:
    data = seed_data()
    del data["hosts"][0]["interfaces"]
    with pytest.raises(ScenarioError, match=r"hosts\[0\] \(dns\): has no `interfaces`"):
        parse_scenario(data, "x.toml")
