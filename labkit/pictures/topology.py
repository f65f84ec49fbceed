"""The lab topology as a picture: networks as buses, hosts with addresses, routers between."""

from __future__ import annotations

from labkit.pictures.picture import Picture, Svg, mermaid_label
from labkit.scenario import Host, Scenario

ROLE_LABEL = {
    "dns": "public DNS",
    "exchange": "Exchange 2010",
    "firewall": "Forefront TMG",
    "client": "your machine",
    "server": "server",
}
ROLE_FILL = {"dns": "#e8f1fb", "exchange": "#eaf7ea", "firewall": "#fdf0e0", "client": "#f3f3f3", "server": "#ffffff"}
BOX_W, BOX_H, GAP = 170, 58, 20


def topology(scenario: Scenario) -> Picture:
    """Draw `scenario`: one bus per network, hosts above/below it, routers joining buses."""
    routers = [h for h in scenario.hosts if h.router]
    plain = {n.name: [h for h in scenario.hosts if not h.router and h.interfaces[0].network == n.name] for n in scenario.networks}
    return Picture("Lab topology", _text(scenario), _svg(scenario, routers, plain), _mermaid(scenario, routers, plain))


def _addresses(host: Host) -> str:
    return " | ".join(str(i.address) for i in host.interfaces)


def _text(scenario: Scenario) -> str:
    lines = [f"Lab topology: {scenario.title}"]
    for net in scenario.networks:
        lines.append(f"  network {net.name} {net.cidr}")
        for host in scenario.hosts:
            addr = host.address_on(net.name)
            if addr:
                via = " (router)" if host.router else ""
                gw = f", gateway {host.gateway}" if host.gateway else ""
                lines.append(f"    {addr:<16} {host.name:<20} {ROLE_LABEL.get(host.role, host.role)}{via}{gw}")
    return "\n".join(lines)


def _svg(scenario: Scenario, routers: list[Host], plain: dict[str, list[Host]]) -> str:
    nets = list(scenario.networks)
    per_row = max([len(v) for v in plain.values()] + [len(routers), 1])
    width: float = max(760, per_row * (BOX_W + GAP) + 2 * GAP)
    band = 2 * BOX_H + 110
    height = 40 + band * (len(nets) - 1) + BOX_H + 40 + 30 + BOX_H + 20
    svg = Svg(int(width), height, f"Lab topology: {scenario.title}")
    bus_y: dict[str, float] = {}
    for i, net in enumerate(nets):
        y = 40 + i * band + (BOX_H + 40 if i == 0 else 40)
        bus_y[net.name] = y
        svg.line(GAP, y, width - GAP, y, stroke="#2b6cb0", width=4)
        hosts = plain[net.name]
        above = i == 0  # the first network's hosts sit above its bus, the others' below
        # The label goes on the side of the bus away from its hosts, at the left (routers sit at the right).
        svg.text(GAP, y + 18 if above else y - 8, f"{net.name} {net.cidr}", size=12, anchor="start", weight="bold", fill="#2b6cb0")
        for j, host in enumerate(hosts):
            x = GAP + j * (BOX_W + GAP)
            top = y - 30 - BOX_H if above else y + 30
            svg.line(x + BOX_W / 2, y, x + BOX_W / 2, top + (BOX_H if above else 0))
            _box(svg, x, top, host, host.address)
    for k, router in enumerate(routers):
        ys = sorted(bus_y[i.network] for i in router.interfaces)
        rx = width - GAP - 120 - (k + 1) * (BOX_W + GAP) + GAP  # room on the right for the address labels
        rtop = (ys[0] + ys[-1]) / 2 - BOX_H / 2
        for iface in router.interfaces:
            by = bus_y[iface.network]
            svg.line(rx + BOX_W / 2, by, rx + BOX_W / 2, rtop if by < rtop else rtop + BOX_H)
            svg.text(rx + BOX_W / 2 + 6, (by + (rtop if by < rtop else rtop + BOX_H)) / 2 + 4, str(iface.address), size=11, anchor="start")
        _box(svg, rx, rtop, router, "NAT / publishing")
    return svg.render()


def _box(svg: Svg, x: float, y: float, host: Host, detail: str) -> None:
    svg.rect(x, y, BOX_W, BOX_H, ROLE_FILL.get(host.role, "#fff"))
    svg.text(x + BOX_W / 2, y + 18, host.name, size=12, weight="bold")
    svg.text(x + BOX_W / 2, y + 34, ROLE_LABEL.get(host.role, host.role), size=11, fill="#555")
    svg.text(x + BOX_W / 2, y + 50, detail, size=11)


def _mermaid(scenario: Scenario, routers: list[Host], plain: dict[str, list[Host]]) -> str:
    def ident(name: str) -> str:
        return "h_" + "".join(c if c.isalnum() else "_" for c in name)

    lines = ["flowchart TB"]
    for net in scenario.networks:
        lines.append(f'  subgraph {ident("net " + net.name)}["{net.name} {net.cidr}"]')
        for host in plain[net.name]:
            lines.append(f"    {ident(host.name)}[{mermaid_label(host.name, ROLE_LABEL.get(host.role, host.role), host.address)}]")
        lines.append("  end")
    for router in routers:
        lines.append(f"  {ident(router.name)}{{{{{mermaid_label(router.name, ROLE_LABEL.get(router.role, router.role), _addresses(router))}}}}}")
        for iface in router.interfaces:
            lines.append(f"  {ident('net ' + iface.network)} --- {ident(router.name)}")
    return "\n".join(lines)
