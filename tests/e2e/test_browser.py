"""The curriculum in a real browser (issue 7): what only a browser shows (STYLE.md §12).

A learner's walk through JupyterLab, in Debian's Chromium driven by Playwright:

- 03-send-connector: Run All stops at the step's check (no connector yet) with the message
  parked in the Unreachable queue; the New Send Connector wizard is walked by clicking and
  typing; the Queue Viewer, refreshed, shows Unreachable emptied and the message routed
  to xutonglin.com; the rest of the notebook then shows the next failure (530 5.7.1) and
  the path picture stopping there.
- 04-anonymous-receive: "Anonymous users" is ticked in the receive connector's Properties
  and applied; the notebook's send cell sends again; allen's mailbox view lists the message.
- 00-start-here: the topology is drawn as a picture.

The notebooks are served as student copies (see `conftest.copy_notebooks`). Cells are found
by what they call, not by position, so the notebooks can be edited freely; a missing console
fails with the cell to add. Screenshots of each state go to the artefacts folder the run
prints (``$LABKIT_ARTIFACTS`` or ``artifacts/e2e/``).
"""

from __future__ import annotations

import ast
import contextlib
import re
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat.notebooknode import NotebookNode

from tests import tools
from tests.e2e.conftest import JupyterLab, find_chromium

if find_chromium() is None:
    tools.missing("chromium", "chromium", module_level=True)
try:
    from playwright.sync_api import Browser, Locator, expect
except ImportError as exc:  # a missing test dependency is an error, not a skip
    raise ImportError(
        "playwright is in the test extra: pip install -e '.[test]' (it drives Debian's Chromium)"
    ) from exc

from tests.e2e.jlab import Deadline, LabPage, picture_kind, ran, text_of

#: The whole budget of one test (each wait inside is bounded on its own as well).
BUDGET = 180.0
NB03 = "03-send-connector.ipynb"
NB04 = "04-anonymous-receive.ipynb"
NB00 = "00-start-here.ipynb"
PICTURE_CALLS = re.compile(r"\blab\.(topology|path|conversation)\(")
NOT_AUTHENTICATED = "530 5.7.1 Client was not authenticated"


# -- finding cells in the served notebook -----------------------------------------------------------------------------
def read(lab: JupyterLab, name: str) -> NotebookNode:
    path = lab.root / name
    if not path.exists():
        pytest.fail(f"notebooks/{name} does not exist (yet): the browser test walks it")
    return nbformat.read(path, as_version=4)


def code_cells(nb: NotebookNode, pattern: str, after: int = -1) -> list[int]:
    """Indexes of the code cells after `after` whose source matches `pattern`."""
    rx = re.compile(pattern)
    return [i for i, c in enumerate(nb.cells) if i > after and c.cell_type == "code" and rx.search(c.source)]


def need(nb: NotebookNode, name: str, pattern: str, what: str, add: str, after: int = -1) -> int:
    """The first code cell matching `pattern`, or a failure saying which cell the notebook lacks."""
    found = code_cells(nb, pattern, after)
    if not found:
        pytest.fail(f"notebooks/{name} has no {what} cell for the browser to use; add a code cell {add}")
    return found[0]


def sent_mail(source: str) -> tuple[str, ...]:
    """The literal arguments of the first ``lab.send_mail(sender, recipient, subject, body)`` in a cell."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "send_mail":
            return tuple(a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str))
    return ()


def check_cell(nb: NotebookNode, name: str, check: str) -> int:
    return need(
        nb, name, rf"""lab\.check\(\s*["']{re.escape(check)}["']""", f"`lab.check({check!r})`", "for the step's check"
    )


# -- assertions on what the page shows ------------------------------------------------------------------------------------
def assert_ran(ui: LabPage, prompts: list[str], upto: int, name: str) -> None:
    """Every code cell before `upto` ran without an error."""
    for index, prompt in enumerate(prompts[:upto]):
        if prompt and not ran(prompt):
            ui.cell(index).scroll_into_view_if_needed()
            raise AssertionError(f"{name}: cell {index} did not run (prompt {prompt!r})")
        if prompt and (error := ui.error_text(index)):
            ui.cell(index).scroll_into_view_if_needed()
            raise AssertionError(f"{name}: cell {index} failed (or wrote to stderr):\n{error[-1500:]}")


def assert_picture(ui: LabPage, index: int, name: str, must_show: tuple[str, ...]) -> None:
    """Cell `index`'s output is drawn (an SVG image or inline SVG), not raw text, and shows `must_show`."""
    output = ui.outputs(index).first
    expect(output).to_be_visible(timeout=ui.deadline.ms(20))
    # Mermaid is rendered asynchronously: wait for the drawing itself.
    drawing = output.locator("svg, img[src^='data:image/svg+xml']").first
    try:
        expect(drawing).to_be_visible(timeout=ui.deadline.ms(20))
    except AssertionError:
        raise AssertionError(
            f"{name}: cell {index} ({ui.cell(index).locator('.jp-InputArea-editor').inner_text()[:60]!r}) shows no picture; "
            f"its output is: {text_of(output)[:300]!r}"
        ) from None
    info = picture_kind(output)
    classes = output.get_attribute("class") or ""
    assert "jp-mod-warning" not in classes, (
        f"{name}: the picture in cell {index} failed to render: {text_of(output)[:300]}"
    )
    assert "jp-RenderedText" not in classes, f"{name}: cell {index} shows the picture as text: {text_of(output)[:300]}"
    raw = output.locator("pre").first
    assert not (raw.count() and raw.is_visible()), f"{name}: cell {index} shows raw text next to its picture"
    if info["img"] is not None:
        width, height = info["img"]["size"]
        natural_width, _ = info["img"]["natural"]
        assert width >= 100 and height >= 50 and natural_width > 0, (
            f"{name}: picture in cell {index} is empty: {info['img']}"
        )
        src = output.locator("img").first.get_attribute("src") or ""
        svg = urllib.parse.unquote(src.split(",", 1)[1]) if "," in src else ""
    else:
        width, height = info["svg"]["size"]
        assert width >= 100 and height >= 50, f"{name}: picture in cell {index} is empty: {info['svg']}"
        svg = info["svg"]["text"]
    assert "<svg" in svg or info["svg"] is not None
    for text in must_show:
        assert text in svg, f"{name}: the picture in cell {index} does not show {text!r}"


def unreadable(field: Locator, what: str, min_width: int = 80) -> list[str]:
    """A problem when a field is too narrow to show its value (a long description can squeeze it to nothing)."""
    width = float(field.evaluate("e => e.getBoundingClientRect().width"))
    if width >= min_width:
        return []
    return [f"{what} field is {width:.0f} px wide: its value cannot be read (give it a wider layout)"]


def table_text(widget: Locator) -> str:
    """The text of a widget's rendered tables (`labkit.widgets.base.table_html`) and lists."""
    return text_of(widget.locator(".labkit-table").first)


def option_texts(select: Locator) -> list[str]:
    return [" ".join(t.split()) for t in select.locator("option").all_inner_texts()]


# -- fixtures ----------------------------------------------------------------------------------------------------------------
@pytest.fixture
def ui(browser: Browser, jupyter_lab: JupyterLab, artifacts: Path) -> Iterator[LabPage]:
    """A fresh browser context and page on the JupyterLab under test; kernels shut down afterwards."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
    page = context.new_page()
    try:
        yield LabPage(page, jupyter_lab, artifacts, Deadline(BUDGET))
    finally:
        context.close()
        with contextlib.suppress(OSError, ValueError):  # the server may be gone; its fixture reports that
            for session in jupyter_lab.api("api/sessions"):  # stop this test's labs with their kernels
                jupyter_lab.api(f"api/sessions/{session['id']}", method="DELETE", timeout=30)


# -- the tests ---------------------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_send_connector_wizard_empties_unreachable(ui: LabPage, jupyter_lab: JupyterLab) -> None:
    nb = read(jupyter_lab, NB03)
    wizard_at = need(
        nb,
        NB03,
        r"\bNewSendConnectorWizard\(|\bopen_send_connector_wizard\(",
        "New Send Connector wizard",
        '`NewSendConnectorWizard(lab, server="mail.contoso.com")`',
    )
    check_at = check_cell(nb, NB03, "send-connector")
    assert wizard_at < check_at, (
        f"{NB03}: the wizard (cell {wizard_at}) must come before the step's check (cell {check_at})"
    )
    # The Queue Viewer is walked when the notebook has one before the check; without it the
    # rest still runs and the test fails at the end saying which cell to add.
    viewers = [i for i in code_cells(nb, r"\bQueueViewer\(|\bopen_queue_viewer\(") if i < check_at]
    viewer_at = viewers[0] if viewers else None
    problems: list[str] = []  # reported at the end, so that one defect does not hide the rest of the walk

    with ui.step("03-open"):
        ui.open(NB03, len(nb.cells))
    with ui.step("03-run-all"):
        prompts = ui.run_all()
        assert_ran(ui, prompts, check_at, NB03)  # the check itself fails: there is no connector yet
        if not ran(prompts[check_at]) or "CheckFailed" not in ui.error_text(check_at):
            raise AssertionError(
                f"the check (cell {check_at}) should fail before the connector exists: "
                f"{prompts[check_at]} {ui.error_text(check_at)[:300]!r}"
            )
        ui.shot("03-0-check-fails-before-the-fix", ui.cell(check_at))

    viewer = ui.widget(viewer_at) if viewer_at is not None else None
    queues = viewer.locator(".labkit-mono select").first if viewer is not None else None  # the queue list
    if viewer is not None and queues is not None:
        with ui.step("03-queue-viewer-before"):
            expect(viewer.get_by_role("heading", name="Queue Viewer")).to_be_visible(timeout=ui.deadline.ms(20))
            expect(queues).to_contain_text("MAIL\\Unreachable", timeout=ui.deadline.ms(10))
            expect(viewer.locator(".labkit-table").first).to_contain_text("A matching connector cannot be found")
            assert any(re.search(r"Unreachable\s+\[Ready, 1 message\]", t) for t in option_texts(queues)), option_texts(
                queues
            )
            ui.shot("03-1-unreachable-before", viewer)

    wizard = ui.widget(wizard_at)
    title = wizard.locator("h4").first  # the page title (the SMTP Address Space dialog has an h4 too)
    next_button = wizard.get_by_role("button", name="Next >", exact=True)
    with ui.step("03-wizard-introduction"):
        expect(wizard.get_by_role("heading", name="New Send Connector")).to_be_visible(timeout=ui.deadline.ms(20))
        wizard.scroll_into_view_if_needed()
        expect(title).to_have_text("Introduction")
        wizard.get_by_label("Name:", exact=True).fill("Internet")
        usage = wizard.get_by_label("Select the intended use for this Send connector:")
        usage.select_option("Internet")
        expect(wizard).to_contain_text("routing by DNS MX records")
        ui.shot("03-2-wizard-introduction", wizard)
        problems += unreadable(usage, "The wizard's intended-use (Select the intended use for this Send connector:)")
        next_button.click()
        expect(title).to_have_text("Address space")
    with ui.step("03-wizard-address-space"):
        wizard.get_by_role("button", name="Add...", exact=True).click()
        expect(wizard.get_by_role("heading", name="SMTP Address Space")).to_be_visible()
        wizard.get_by_label("Address:", exact=True).fill("*")
        wizard.get_by_role("button", name="OK", exact=True).click()
        expect(wizard.get_by_role("heading", name="SMTP Address Space")).to_be_hidden()
        spaces = wizard.locator(".labkit-mono select").first
        expect(spaces.locator("option")).to_have_count(1)
        assert re.match(r"^\*\s+SMTP\s+1$", option_texts(spaces)[0]), option_texts(spaces)
        ui.shot("03-3-wizard-address-space", wizard)
        next_button.click()
        expect(title).to_have_text("Network settings")
    with ui.step("03-wizard-network-and-source"):
        expect(wizard.get_by_label(re.compile(r'Use domain name system \(DNS\) "MX" records'))).to_be_checked()
        next_button.click()
        expect(title).to_have_text("Source Server")
        sources = wizard.get_by_label("Source servers:")
        if sources.evaluate("s => Array.from(s.selectedOptions).map(o => o.value)") != ["mail.contoso.com"]:
            sources.select_option(label="mail.contoso.com")
        next_button.click()
        expect(title).to_have_text("New Connector")
        expect(wizard).to_contain_text('new_send_connector("Internet"')
        ui.shot("03-4-wizard-new-connector", wizard)
    with ui.step("03-wizard-new"):
        wizard.get_by_role("button", name="New", exact=True).click()
        expect(title).to_have_text("Completion", timeout=ui.deadline.ms(30))
        expect(wizard).to_contain_text("The wizard completed successfully")
        expect(wizard).to_contain_text("The Send connector Internet was created.")
        ui.shot("03-5-wizard-completed", wizard)
        wizard.get_by_role("button", name="Finish", exact=True).click()
        expect(title).to_have_text("Introduction")

    if viewer is not None and queues is not None:
        with ui.step("03-queue-viewer-after"):
            # The new route resubmits Unreachable: the message moves to a delivery queue for
            # xutonglin.com and, refused there with a 5xx, leaves it as an NDR (no retry).
            refresh = viewer.get_by_role("button", name="Refresh", exact=True)
            seen = ""
            stop = time.monotonic() + ui.deadline.ms(30) / 1000
            while time.monotonic() < stop:
                refresh.click()
                expect(refresh).to_be_enabled()
                seen = " | ".join(option_texts(queues))
                if "Unreachable" not in seen and re.search(r"MAIL\\\d+\s+\[\w+, 0 messages\]\s+xutonglin\.com", seen):
                    break
                time.sleep(0.5)
            else:
                raise AssertionError(f"after Refresh the Queue Viewer still shows {seen!r}")
            table = table_text(viewer)
            assert "A matching connector cannot be found" not in table and "DnsConnectorDelivery" in table, table
            ui.shot("03-6-unreachable-emptied", viewer)

    with ui.step("03-run-the-rest"):
        prompts = ui.run_from(check_at)
        assert_ran(ui, prompts, len(prompts), NB03)
        expect(ui.outputs(check_at).first).to_contain_text("✔")
        failure = ui.page.locator(".jp-OutputArea-output").filter(has_text=NOT_AUTHENTICATED)
        expect(failure.first).to_be_visible(timeout=ui.deadline.ms(10))  # the next failure, in the NDR
        failure.first.scroll_into_view_if_needed()
        ui.shot("03-7-next-failure")
    with ui.step("03-pictures"):
        pictures = code_cells(nb, PICTURE_CALLS.pattern)
        assert any("lab.path(" in nb.cells[i].source for i in pictures), f"{NB03} has no `lab.path(...)` picture"
        for i in pictures:
            shows = (NOT_AUTHENTICATED,) if "lab.path(" in nb.cells[i].source else ()
            assert_picture(ui, i, NB03, shows)
            ui.shot(f"03-8-picture-cell{i}", ui.outputs(i).first)

    if viewer_at is None:
        problems.append(
            f"notebooks/{NB03} has no Queue Viewer before its check, so the browser could not watch the Unreachable "
            'queue empty; add, in "The failure" section: `from labkit.widgets import QueueViewer` / '
            '`QueueViewer(lab, "mail.contoso.com")`'
        )
    if problems:
        pytest.fail("the walk went through, but a learner would be stuck or misled:\n- " + "\n- ".join(problems))


@pytest.mark.slow
def test_anonymous_users_let_the_message_reach_allen(ui: LabPage, jupyter_lab: JupyterLab) -> None:
    nb = read(jupyter_lab, NB04)
    props_at = need(
        nb,
        NB04,
        r"\bReceiveConnectorProperties\(|\bopen_receive_connector\(",
        "receive connector Properties",
        '`ReceiveConnectorProperties(lab, server="mail.xutonglin.com")`',
    )
    check_at = check_cell(nb, NB04, "anonymous-receive")
    mailbox_at = need(
        nb,
        NB04,
        r"\bMailboxView\(|\bopen_mailbox\(",
        "mailbox view",
        'after the resend: `MailboxView(lab, address="allen@xutonglin.com")`',
        after=check_at,
    )
    resend = code_cells(nb, r"\bsend_mail\(", after=check_at)
    assert resend and resend[0] < mailbox_at, (
        f"{NB04}: no `lab.send_mail(...)` cell between the check and the mailbox view"
    )
    sender, recipient, subject, body = (sent_mail(nb.cells[resend[0]].source) + ("",) * 4)[:4]
    assert recipient == "allen@xutonglin.com" and subject and body, (
        f"{NB04}: cell {resend[0]} should send allen a message with literal arguments: {nb.cells[resend[0]].source!r}"
    )

    with ui.step("04-open"):
        ui.open(NB04, len(nb.cells))
    with ui.step("04-run-all"):
        prompts = ui.run_all()
        assert_ran(ui, prompts, check_at, NB04)
        assert "CheckFailed" in ui.error_text(check_at), f"the check (cell {check_at}) should fail before the fix"
        ui.shot("04-0-check-fails-before-the-fix", ui.cell(check_at))

    props = ui.widget(props_at)
    with ui.step("04-tick-anonymous-users"):
        expect(props.get_by_role("heading", name="Receive connector properties")).to_be_visible(
            timeout=ui.deadline.ms(20)
        )
        props.scroll_into_view_if_needed()
        expect(props.get_by_label("Server", exact=True)).to_have_value("mail.xutonglin.com")
        expect(props.get_by_role("tab", name="Permission Groups")).to_have_attribute("aria-selected", "true")
        anonymous = props.get_by_label("Anonymous users", exact=True)
        expect(anonymous).not_to_be_checked()
        anonymous.check()
        ui.shot("04-1-anonymous-ticked", props)
        props.get_by_role("button", name="Apply", exact=True).click()
        expect(props).to_contain_text("Saved the settings of receive connector", timeout=ui.deadline.ms(20))
        expect(props.locator(".labkit-call")).to_contain_text('set_receive_connector("MAIL\\\\Default MAIL"')
        expect(anonymous).to_be_checked()  # reloaded from the server
        ui.shot("04-2-applied", props)

    with ui.step("04-resend-and-run-the-rest"):
        prompts = ui.run_from(check_at)
        assert_ran(ui, prompts, len(prompts), NB04)
        expect(ui.outputs(check_at).first).to_contain_text("✔")

    mailbox = ui.widget(mailbox_at)
    with ui.step("04-allen-mailbox"):
        expect(mailbox.get_by_role("heading", name="Outlook Web App")).to_be_visible(timeout=ui.deadline.ms(20))
        mailbox.scroll_into_view_if_needed()
        expect(mailbox.get_by_role("combobox", name="Mailbox")).to_have_value("allen@xutonglin.com")
        mailbox.get_by_role("button", name="Open", exact=True).click()  # reload the list
        expect(mailbox).to_contain_text(re.compile(r"allen@xutonglin\.com: [1-9]\d* message\(s\)\."))
        messages = mailbox.locator("select").first
        lines = option_texts(messages)  # From — Subject — date
        listed = [i for i, line in enumerate(lines) if sender in line.split(" — ")[0] and f" — {subject} — " in line]
        assert listed, f"allen's mailbox lists {lines}, not the message from {sender} with subject {subject!r}"
        messages.select_option(index=listed[-1])
        expect(mailbox).to_contain_text(body, timeout=ui.deadline.ms(20))  # the reading pane
        ui.shot("04-3-allen-reads-the-message", mailbox)
    with ui.step("04-pictures"):
        pictures = code_cells(nb, PICTURE_CALLS.pattern)
        assert pictures, f"{NB04} has no picture cell (lab.path / lab.conversation)"
        for i in pictures:
            shows = ("allen@xutonglin.com",) if "lab.path(" in nb.cells[i].source else ()
            assert_picture(ui, i, NB04, shows)
            ui.shot(f"04-4-picture-cell{i}", ui.outputs(i).first)


@pytest.mark.slow
def test_topology_is_drawn(ui: LabPage, jupyter_lab: JupyterLab) -> None:
    nb = read(jupyter_lab, NB00)
    at = need(nb, NB00, r"\blab\.topology\(\)", "`lab.topology()`", "`lab.topology()` after the lab starts")
    with ui.step("00-open-and-run-all"):
        ui.open(NB00, len(nb.cells))
        prompts = ui.run_all()
        assert_ran(ui, prompts, len(prompts), NB00)
    with ui.step("00-topology"):
        assert_picture(ui, at, NB00, ("mail.contoso.com", "mail.xutonglin.com", "Forefront TMG", "100.100.100.254"))
        ui.shot("00-topology", ui.cell(at))
