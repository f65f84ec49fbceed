"""The lab loop: one daemon thread running one asyncio loop that owns all lab state.

The notebook (or a test, or the CLI) lives on another thread — in Jupyter the
kernel's own loop runs there, so the lab must never use it (reference
jupyter-nbval-binder.md). Requests cross into the lab loop with
`run_coroutine_threadsafe` and wait with a timeout; domain code therefore needs
no locks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from labkit.errors import LabNotRunning, LabTimeout

T = TypeVar("T")

log = logging.getLogger("labkit.runtime")

DEFAULT_TIMEOUT = 30.0


class LabRuntime:
    """A daemon thread with an asyncio loop, and a synchronous door into it.

    Args:
        name: shown in thread names and errors.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        """Start the thread and its loop; return once the loop is running."""
        if self.loop is not None:
            return
        ready = threading.Event()
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            try:
                loop.run_forever()
            finally:
                self._finish(loop)

        self.loop = loop
        self._thread = threading.Thread(target=run, name=f"labkit-{self.name}", daemon=True)
        self._thread.start()
        ready.wait()

    @staticmethod
    def _finish(loop: asyncio.AbstractEventLoop) -> None:
        # Cancel what is still pending so that sockets close and nothing warns at exit.
        # Cancelling can start new tasks (a connection's close callback, say), so
        # repeat until none is left: a task destroyed while pending is logged as an
        # error later, in whichever code happens to run then.
        for _ in range(10):
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            if not pending:
                break
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    def stop(self) -> None:
        """Stop the loop and join the thread. Idempotent."""
        loop, thread = self.loop, self._thread
        if loop is None or thread is None or self._stopped.is_set():
            return
        self._stopped.set()
        if not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        if thread is not threading.current_thread():
            thread.join(timeout=10)

    @property
    def running(self) -> bool:
        """True between `start()` and `stop()`."""
        return self.loop is not None and not self._stopped.is_set()

    def in_loop(self) -> bool:
        """True when called from the lab thread itself."""
        return self._thread is threading.current_thread()

    # -- the door ----------------------------------------------------------------
    def run(self, coro: Awaitable[T], timeout: float | None = DEFAULT_TIMEOUT, what: str = "") -> T:
        """Run a coroutine on the lab loop and wait for its result.

        Raises:
            LabNotRunning: the loop has stopped.
            LabTimeout: no result within `timeout` seconds (the work is cancelled).
            Exception: whatever the coroutine raised, unchanged.
        """
        if not self.running or self.loop is None:
            if asyncio.iscoroutine(coro):
                coro.close()
            raise LabNotRunning(self.name)
        if self.in_loop():
            if asyncio.iscoroutine(coro):
                coro.close()
            raise RuntimeError("LabRuntime.run() called from the lab loop; await the coroutine instead")
        future = asyncio.run_coroutine_threadsafe(_as_coroutine(coro), self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            # On 3.11 this is the builtin TimeoutError: a timeout raised *by the
            # coroutine* (a DNS timeout, say) must pass through unchanged.
            if future.done():
                raise
            future.cancel()
            raise LabTimeout(what or getattr(coro, "__qualname__", "request"), timeout or 0) from None

    def call(self, fn: Callable[..., T], *args: Any, timeout: float | None = DEFAULT_TIMEOUT) -> T:
        """Call a plain function on the lab loop (so it may touch lab state) and return its result."""
        if self.in_loop():
            return fn(*args)

        async def invoke() -> T:
            return fn(*args)

        return self.run(invoke(), timeout, what=getattr(fn, "__qualname__", "call"))


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable
