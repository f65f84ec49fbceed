"""Reading a child process's pipes with a hang guard: a wedged child fails the test, it never holds CI."""

from __future__ import annotations

import subprocess
import threading
from typing import IO

#: Generous: a child that says nothing for this long is wedged, not slow.
READ_TIMEOUT = 120.0


def readline(proc: subprocess.Popen[str], timeout: float = READ_TIMEOUT) -> str:
    """The child's next stdout line; kills the child and fails if none comes within ``timeout`` seconds."""
    stream: IO[str] | None = proc.stdout
    assert stream is not None, "the child was started without stdout=PIPE"
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        proc.kill()
        proc.communicate(timeout=30)
        raise AssertionError(f"the child printed no line within {timeout:.0f} s and was killed (pid {proc.pid})")
    return box[0]


def communicate(proc: subprocess.Popen[str], timeout: float = READ_TIMEOUT) -> tuple[str, str]:
    """``proc.communicate`` with a hang guard: kills the child and fails if it does not finish in time."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate(timeout=30)
        raise AssertionError(f"the child did not finish within {timeout:.0f} s and was killed") from None
    return out or "", err or ""
