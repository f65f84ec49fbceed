"""`Picture`: one drawing in three forms, so every frontend shows something.

JupyterLab 4 renders Mermaid (``text/vnd.mermaid``) natively; other frontends
fall back to the SVG (drawn here, no external binary — Binder has none); nbval
and terminals get the plain text. All three are deterministic for the same lab
state, so a notebook's stored picture can be compared by nbval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

MERMAID_MIME = "text/vnd.mermaid"


@dataclass(frozen=True)
class Picture:
    """A drawing: plain text, SVG and Mermaid source of the same thing."""

    title: str
    text: str
    svg: str
    mermaid: str

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.text, "image/svg+xml": self.svg, MERMAID_MIME: self.mermaid}

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


class Svg:
    """A tiny SVG writer: boxes, lines, arrows and text, in document order."""

    FONT = "font-family:DejaVu Sans Mono,Menlo,Consolas,monospace"

    def __init__(self, width: int, height: int, title: str) -> None:
        self.width, self.height = width, height
        self.parts: list[str] = [f"<title>{escape(title)}</title>"]

    def rect(self, x: float, y: float, w: float, h: float, fill: str, stroke: str = "#444", rx: int = 6, dash: bool = False) -> None:
        extra = ' stroke-dasharray="5,3"' if dash else ""
        self.parts.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" rx="{rx}" fill="{fill}" stroke="{stroke}"{extra}/>'
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = "#444", width: float = 1.5, arrow: bool = False, dash: bool = False) -> None:
        extra = ' marker-end="url(#arrow)"' if arrow else ""
        extra += ' stroke-dasharray="6,4"' if dash else ""
        self.parts.append(
            f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" stroke="{stroke}" stroke-width="{width}"{extra}/>'
        )

    def text(self, x: float, y: float, content: str, size: int = 12, anchor: str = "middle", weight: str = "normal", fill: str = "#111") -> None:
        self.parts.append(
            f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}" '
            f'fill="{fill}" style="{self.FONT}">{escape(content)}</text>'
        )

    def render(self) -> str:
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
            f'viewBox="0 0 {self.width} {self.height}">'
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#444"/></marker></defs>'
            f'<rect width="{self.width}" height="{self.height}" fill="#ffffff"/>'
        )
        return head + "".join(self.parts) + "</svg>"


def mermaid_label(*lines: str) -> str:
    """A quoted Mermaid node label with line breaks (quotes and angle brackets made safe)."""
    safe = [ln.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;") for ln in lines]
    return '"' + "<br/>".join(safe) + '"'
