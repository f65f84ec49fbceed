"""Driving JupyterLab 4 like a learner: open a notebook, run cells from the menus, read outputs.

Every wait is bounded twice: by its own timeout and by the test's overall `Deadline`. A
`step` that fails saves a screenshot named ``FAILED-<step>.png`` and says which step and why.
Selectors are roles, labels and text where JupyterLab offers them; JupyterLab's own CSS
classes (``jp-Cell``, ``jp-OutputArea-output``) where it does not.
"""

from __future__ import annotations

import contextlib
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

if TYPE_CHECKING:
    from tests.e2e.conftest import JupyterLab

#: The notebook panel in front (a hidden tab's panel carries lm-mod-hidden).
PANEL = "#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden)"
#: The pieces of the notebook in front: its cells (markdown and code, in notebook order).
CELLS = f"{PANEL} .jp-Notebook > .jp-Notebook-cell, {PANEL} .jp-Notebook .jp-WindowedPanel-viewport > .jp-Notebook-cell"


class Deadline:
    """The whole test's time budget; every wait takes the smaller of its own timeout and what is left."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = time.monotonic()
        self.end = self.start + seconds

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def ms(self, cap: float) -> float:
        """Milliseconds for the next wait: at most `cap` seconds, never past the deadline."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"the end-to-end test ran out of its {self.seconds:.0f} s budget")
        return max(1.0, min(cap, left)) * 1000


class StepFailed(AssertionError):
    """A step of the browser walk did not happen; the message names the step and the screenshot."""


class LabPage:
    """One browser tab on the JupyterLab under test, with screenshots and a deadline."""

    def __init__(self, page: Page, lab: JupyterLab, artifacts: Path, deadline: Deadline) -> None:
        self.page = page
        self.lab = lab
        self.artifacts = artifacts
        self.deadline = deadline
        self.shots: list[Path] = []
        page.set_default_timeout(15_000)
        expect.set_options(timeout=15_000)
        page.set_default_navigation_timeout(60_000)
        self.console: list[str] = []
        page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}") if msg.type == "error" else None)
        self._install_dialog_handlers()

    # -- artefacts and steps ----------------------------------------------------------------------------------
    def shot(self, name: str, locator: Locator | None = None) -> Path:
        """Save a screenshot of the page (or of `locator`) as ``<name>.png`` and return its path."""
        path = self.artifacts / f"{name}.png"
        try:
            if locator is not None:
                locator.scroll_into_view_if_needed(timeout=5_000)
                locator.screenshot(path=str(path), timeout=10_000, animations="disabled")
            else:
                self.page.screenshot(path=str(path), timeout=10_000, animations="disabled")
        except PlaywrightError as exc:  # a screenshot must never hide the real failure
            sys.stderr.write(f"[e2e] screenshot {name} failed: {exc}\n")
        self.shots.append(path)
        return path

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """A named step: on any failure, a ``FAILED-<name>.png`` screenshot and a message saying where it stopped."""
        started = time.monotonic()
        try:
            yield
        except Exception as exc:
            shot = self.shot(f"FAILED-{name}")
            errors = "\n".join(self.console[-10:])
            raise StepFailed(
                f"e2e step `{name}` failed after {time.monotonic() - started:.1f} s "
                f"({self.deadline.elapsed():.0f} s into the test): {exc}\n"
                f"screenshot: {shot}\nJupyterLab log: {self.lab.log}"
                + (f"\nbrowser console errors:\n{errors}" if errors else "")
            ) from exc
        sys.stderr.write(f"[e2e] {name}: {time.monotonic() - started:.1f} s\n")

    # -- dialogs ------------------------------------------------------------------------------------------------
    def _install_dialog_handlers(self) -> None:
        """Dismiss what JupyterLab may put over the page on a first visit (news, update toasts).

        The server runs with news and update checks off; these handlers are the belt to
        those braces. Other modal dialogs are not dismissed blindly: `fail_on_dialog`
        reports them.
        """
        news = self.page.locator(".Toastify__toast").filter(has_text=re.compile("news|update", re.I))

        def no_thanks(toast: Locator) -> None:
            for name in ("No", "Dismiss", "Close"):
                button = toast.get_by_role("button", name=name, exact=True)
                if button.count():
                    button.first.click()
                    return

        self.page.add_locator_handler(news.first, no_thanks, no_wait_after=True)

    def fail_on_dialog(self) -> None:
        """Raise if a modal dialog (kernel choice, error) is open: it would block every click."""
        dialog = self.page.locator(".jp-Dialog")
        if dialog.count() and dialog.first.is_visible():
            raise AssertionError(f"a JupyterLab dialog is open: {dialog.first.inner_text()[:500]!r}")

    # -- notebooks ---------------------------------------------------------------------------------------------
    def open(self, notebook: str, cells: int, kernel_display: str = "Python 3 (ipykernel)") -> None:
        """Open `notebook` alone (``reset`` drops any saved layout) and wait for its kernel to be idle.

        `cells` is the notebook's number of cells: all must be in the page (the served
        settings turn windowing off), so that cell ``i`` of the file is the ``i``-th in the page.
        """
        self.page.goto(self.lab.tree(notebook) + "&reset", timeout=self.deadline.ms(60))
        tab = self.page.get_by_role("tab", name=re.compile(re.escape(notebook)))
        expect(tab.first).to_be_visible(timeout=self.deadline.ms(60))
        expect(self.page.locator(PANEL)).to_have_count(1, timeout=self.deadline.ms(30))
        expect(self.cells().first).to_be_visible(timeout=self.deadline.ms(30))
        expect(self.cells()).to_have_count(cells, timeout=self.deadline.ms(10))
        self.wait_kernel_idle(60)
        self.fail_on_dialog()
        name = self.page.locator(f"{PANEL} .jp-Toolbar .jp-KernelName, {PANEL} .jp-Toolbar-kernelName").first
        expect(name).to_have_text(kernel_display, timeout=self.deadline.ms(10))

    def wait_kernel_idle(self, timeout: float = 60) -> None:
        """Wait for the kernel to be started and idle (the toolbar's execution indicator)."""
        indicator = self.page.locator(f"{PANEL} .jp-Notebook-ExecutionIndicator")
        expect(indicator.first).to_have_attribute("data-status", "idle", timeout=self.deadline.ms(timeout))

    def cells(self) -> Locator:
        """Every cell of the notebook in front, in notebook order."""
        return self.page.locator(CELLS)

    def cell(self, index: int) -> Locator:
        return self.cells().nth(index)

    def outputs(self, index: int) -> Locator:
        """The output items of cell `index` (widgets, tables, pictures render in these)."""
        return self.cell(index).locator(".jp-OutputArea-output")

    def prompts(self) -> list[str]:
        """The input prompt of every cell (``""`` for markdown): ``[ ]:`` not run, ``[*]:`` running, ``[7]:`` done."""
        texts: list[str] = self.page.evaluate(
            """(selector) => Array.from(document.querySelectorAll(selector)).map(cell => {
                   const p = cell.querySelector(':scope .jp-InputArea-prompt');
                   return cell.classList.contains('jp-CodeCell') && p ? p.textContent.trim() : '';
               })""",
            CELLS,
        )
        return texts

    def menu(self, menu: str, item: str) -> None:
        """Click ``menu > item`` in JupyterLab's menu bar."""
        self.fail_on_dialog()
        self.page.get_by_role("menubar").get_by_role("menuitem", name=menu, exact=True).click(
            timeout=self.deadline.ms(10)
        )
        entry = self.page.locator(".lm-Menu").get_by_role("menuitem", name=re.compile(rf"^{re.escape(item)}"))
        entry.first.click(timeout=self.deadline.ms(10))

    def select_cell(self, index: int) -> None:
        """Make cell `index` the active cell (a click on its prompt: command mode, no editing)."""
        cell = self.cell(index)
        cell.scroll_into_view_if_needed(timeout=self.deadline.ms(10))
        cell.locator(".jp-InputArea-prompt").first.click(timeout=self.deadline.ms(10))
        expect(cell).to_have_class(re.compile(r"\bjp-mod-active\b"), timeout=self.deadline.ms(5))

    def run_all(self, timeout: float = 120) -> list[str]:
        """Run > Run All Cells, then wait until nothing runs; return the prompts."""
        before = self.prompts()
        self.menu("Run", "Run All Cells")
        return self._wait_run(before, timeout)

    def run_from(self, index: int, timeout: float = 120) -> list[str]:
        """Select cell `index`, then Run > Run Selected Cell and All Below; wait until nothing runs."""
        self.select_cell(index)
        before = self.prompts()
        self.menu("Run", "Run Selected Cell and All Below")
        return self._wait_run(before, timeout)

    def _wait_run(self, before: list[str], timeout: float) -> list[str]:
        """Wait until a run started (a prompt changed) and ended (no ``[*]``, kernel idle)."""
        end = time.monotonic() + self.deadline.ms(timeout) / 1000
        started = False
        prompts = before
        while time.monotonic() < end:
            prompts = self.prompts()
            started = started or prompts != before
            busy = any(p.startswith("[*]") for p in prompts)
            status = self.page.locator(f"{PANEL} .jp-Notebook-ExecutionIndicator").first.get_attribute("data-status")
            if started and not busy and status == "idle":
                # idle twice in a row, 300 ms apart: Run All queues cells one after another
                time.sleep(0.3)
                again = self.prompts()
                if again == prompts and not any(p.startswith("[*]") for p in again):
                    return again
            time.sleep(0.25)
        running = [i for i, p in enumerate(prompts) if p.startswith("[*]")]
        where = "nothing ran" if not started else "the kernel did not become idle"
        if running:
            self.cell(running[0]).scroll_into_view_if_needed(timeout=5_000)  # for the failure's screenshot
            source = self.cell(running[0]).locator(".jp-InputArea-editor").first.inner_text(timeout=5_000)
            where = f"cell {running[0]} is still running ({' '.join(source.split())[:120]!r}; {len(running) - 1} more queued)"
        raise TimeoutError(f"after {timeout:.0f} s {where}")

    def error_text(self, index: int) -> str:
        """The traceback text cell `index` shows, or ``""``."""
        errors = self.cell(index).locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        return "\n".join(errors.all_inner_texts())

    def widget(self, index: int) -> Locator:
        """The labkit widget (a `LabForm`, DOM class ``labkit-widget``) in the output of cell `index`."""
        return self.outputs(index).locator(".labkit-widget").first


def ran(prompt: str) -> bool:
    """True for a prompt like ``[12]:`` (the cell ran in this kernel)."""
    return re.fullmatch(r"\[\d+\]:", prompt) is not None


def text_of(locator: Locator) -> str:
    """Visible text, whitespace collapsed (for messages and `in` assertions)."""
    return " ".join(locator.inner_text().split())


def picture_kind(output: Locator) -> dict[str, Any]:
    """What a picture output rendered as: inline ``svg`` (Mermaid), an SVG ``img``, or raw text in a ``pre``."""
    info: dict[str, Any] = output.evaluate(
        """(el) => {
            const svg = el.querySelector('svg');
            const img = el.querySelector('img');
            const box = (e) => { const r = e.getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height)]; };
            return {
                mime: el.getAttribute('data-mime-type'),
                svg: svg ? {size: box(svg), nodes: svg.querySelectorAll('g, rect, path, text').length,
                            text: svg.textContent.slice(0, 2000)} : null,
                img: img ? {size: box(img), natural: [img.naturalWidth, img.naturalHeight],
                            src: (img.getAttribute('src') || '').slice(0, 40)} : null,
                pre: el.querySelector('pre') ? el.querySelector('pre').textContent.slice(0, 200) : null,
            };
        }"""
    )
    return info
