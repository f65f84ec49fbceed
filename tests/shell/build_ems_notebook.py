"""Rebuild ``tests/shell/ems-magic.ipynb`` (the ``%%ems`` / ``%%cmd`` notebook nbval checks), executing it so its
stored outputs are the lab's: ``.venv/bin/python -m tests.shell.build_ems_notebook``."""

from __future__ import annotations

from pathlib import Path

CELLS = [
    'import labkit\nfrom labkit.shell.magics import register\n\nregister(get_ipython())\n'
    'lab = labkit.start(step=3, name="shell-notebook")',
    '%%ems\nNew-SendConnector -Name "Internet" -Usage Internet -AddressSpaces "*" -SourceTransportServers MAIL',
    '%%ems mail.xutonglin.com\nSet-ReceiveConnector "MAIL\\Default MAIL" -PermissionGroups AnonymousUsers,ExchangeUsers,'
    'ExchangeServers,ExchangeLegacyServers\nGet-ReceiveConnector "MAIL\\Default MAIL" | fl Identity,PermissionGroups',
    "%%ems\nGet-Queue -Foo",
    "%%cmd\nnslookup -type=MX xutonglin.com 100.100.100.2",
    "lab.stop()",
]


NOTEBOOK = Path(__file__).with_name("ems-magic.ipynb")


def build(path: Path = NOTEBOOK) -> None:
    """Write and execute the notebook."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(
        "# `%%ems` and `%%cmd` under nbval\n\nThe Exchange Management Shell and the DNS server's Command Prompt as "
        "cell magics; nbval checks their stored output (tests/shell)."
    )] + [nbformat.v4.new_code_cell(source) for source in CELLS]  # fmt: skip
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": "."}}).execute()
    nbformat.write(nb, str(path))


if __name__ == "__main__":
    build()
